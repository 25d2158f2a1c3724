//! `track_file`: a number in a file changes an instance's priority (value x weight) or puts it
//! in FAULT (trackers/track_file.c). keepalived watches the file with inotify; kaconsole reads
//! it every 100 ms, which also follows a file replaced by a rename. The reads never block
//! (sys::regular_file): what is not a regular file reads 0, as keepalived reads a file it
//! cannot read, and the log says why.

use std::time::Duration as StdDuration;

use tokio::sync::mpsc;

use super::log::Log;
use super::scripts::TrackerReport;
use crate::check::probe::file::MAX_READ;
use crate::config::blocks::Config;
use crate::sys::regular_file;
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
                && let Err(e) = regular_file::write(f.file.as_ref(), &format!("{v}\n"))
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
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let (mut last, mut last_error) = (None, None);
            loop {
                let text = match regular_file::read(path.as_ref(), MAX_READ) {
                    Ok(text) => {
                        last_error = None;
                        text
                    }
                    Err(e) => {
                        let e = e.to_string();
                        if last_error.as_ref() != Some(&e) {
                            log.warn(&format!("track_file {name}: {path} {e}: read as 0"));
                            last_error = Some(e);
                        }
                        None
                    }
                };
                let v = value(text.as_deref());
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
