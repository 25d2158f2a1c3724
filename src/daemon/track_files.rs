//! `track_file`: a number in a file changes an instance's priority (value x weight) or puts it
//! in FAULT (trackers/track_file.c). keepalived watches the file with inotify; kaconsole reads
//! it every 100 ms, which also follows a file replaced by a rename.

use std::time::Duration as StdDuration;

use tokio::sync::mpsc;

use super::log::Log;
use super::scripts::TrackerReport;
use crate::config::blocks::Config;
use crate::vrrp::track::TrackStatus;

pub use crate::check::probe::file::value;

/// Creates the `init_file`s, then starts one watcher per tracked file.
pub fn start(
    cfg: &Config,
    tx: mpsc::UnboundedSender<TrackerReport>,
    log: &Log,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for f in &cfg.track_files {
        if let Some(v) = f.init_file {
            let exists = std::path::Path::new(&f.file).exists();
            if (!exists || f.init_overwrite)
                && let Err(e) = std::fs::write(&f.file, format!("{v}\n"))
            {
                log.warn(&format!(
                    "track_file {}: cannot write {}: {e}",
                    f.name, f.file
                ));
            }
        }
        let tracked = cfg
            .vrrp_instances
            .iter()
            .any(|i| i.track_file.iter().any(|t| t.name == f.name));
        if !tracked {
            continue;
        }
        let (name, path, tx) = (f.name.clone(), f.file.clone(), tx.clone());
        tasks.push(tokio::spawn(async move {
            let mut last = None;
            loop {
                let v = value(std::fs::read_to_string(&path).ok().as_deref());
                if last != Some(v) {
                    last = Some(v);
                    let report = TrackerReport {
                        id: format!("file:{name}"),
                        status: TrackStatus::Value(v),
                    };
                    if tx.send(report).is_err() {
                        return;
                    }
                }
                tokio::time::sleep(StdDuration::from_millis(100)).await;
            }
        }));
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn numbers_as_keepalived_reads_them() {
        assert_eq!(value(Some("42\n")), 42);
        assert_eq!(value(Some("  -7 apples")), -7);
        assert_eq!(value(Some("x")), 0);
        assert_eq!(value(Some("")), 0);
        assert_eq!(value(None), 0, "a missing file is 0");
    }
}
