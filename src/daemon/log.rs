//! The daemon's log: one line per event, with keepalived's wording, prefixed by the UTC time
//! on the console and in a file; syslog, the journal, the console and a file as the command
//! line says (log_sinks.rs). A message of several lines is logged line by line, each with its
//! own timestamp.

use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::events::{Event, EventSink};
use super::log_sinks::{Ident, Level, Record, Sinks};
use crate::vrrp::event::Output;

/// Where log lines go: the sinks (stderr when there are none), and whoever watches the daemon
/// (the control socket's subscribers).
#[derive(Clone, Default)]
pub struct Log {
    pub detail: bool,
    pub events: Option<Arc<dyn EventSink>>,
    pub sinks: Option<Arc<Sinks>>,
    /// The sinks are `tracing`'s global subscriber ([`super::log_sinks::install`]): lines go
    /// out as `tracing` events.
    pub via_tracing: bool,
    /// The syslog identifier of this part of the daemon.
    pub ident: Ident,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("detail", &self.detail)
            .field("events", &self.events.is_some())
            .field("ident", &self.ident)
            .finish()
    }
}

impl Log {
    /// Publishes an engine output of `source` (named only when someone wants it).
    pub fn vrrp_event<'a>(&self, output: &Output, source: impl FnOnce() -> &'a str) {
        if let Some(sink) = self.events.as_ref().filter(|s| s.wants(output)) {
            sink.publish(Event::Vrrp {
                source: source(),
                output,
            });
        }
    }

    pub fn info(&self, message: &str) {
        self.record(Level::Info, message, &[]);
    }

    pub fn warn(&self, message: &str) {
        self.record(Level::Warn, message, &[]);
    }

    pub fn error(&self, message: &str) {
        self.record(Level::Error, message, &[]);
    }

    /// A line keepalived logs only with `-D`.
    pub fn detail(&self, message: &str) {
        if self.detail {
            self.record(Level::Info, message, &[]);
        }
    }

    /// This log under another syslog identifier (the checkers', the parent's).
    pub fn as_ident(&self, ident: Ident) -> Log {
        Log {
            ident,
            ..self.clone()
        }
    }

    /// A line with structured fields for the journal (`INSTANCE`, `STATE`, `VRID`...).
    pub fn record(&self, level: Level, message: &str, fields: &[(&str, String)]) {
        for part in message.lines() {
            self.line(level, part, fields);
        }
    }

    fn line(&self, level: Level, message: &str, fields: &[(&str, String)]) {
        let line = console_line(level, message);
        match &self.sinks {
            Some(_) if self.via_tracing => emit(level, self.ident, message, fields),
            Some(sinks) => sinks.write(
                &Record {
                    level,
                    ident: self.ident,
                    message,
                    fields,
                },
                &line,
            ),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
        if let Some(sink) = &self.events {
            sink.publish(Event::Log { line: &line });
        }
    }
}

/// A line as a `tracing` event, with the journal's fields.
fn emit(level: Level, ident: Ident, message: &str, fields: &[(&str, String)]) {
    let field = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
    };
    let (instance, vrid, state) = (field("INSTANCE"), field("VRID"), field("STATE"));
    let ident = ident.name();
    macro_rules! at {
        ($level:expr) => {
            tracing::event!(target: "kaconsole", $level, ident, instance, vrid, state, "{message}")
        };
    }
    match level {
        Level::Error => at!(tracing::Level::ERROR),
        Level::Warn => at!(tracing::Level::WARN),
        Level::Info => at!(tracing::Level::INFO),
        Level::Debug => at!(tracing::Level::DEBUG),
    }
}

/// The console's and the log file's form: the UTC time, warnings and errors marked.
pub(crate) fn console_line(level: Level, message: &str) -> String {
    let mark = match level {
        Level::Error => "ERROR: ",
        Level::Warn => "WARNING: ",
        Level::Info | Level::Debug => "",
    };
    format!("{}: {mark}{message}", timestamp(SystemTime::now()))
}

/// `2026-11-22 07:00:00.123` in UTC.
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        let t = UNIX_EPOCH + Duration::from_millis(1_763_794_800_250);
        assert_eq!(timestamp(t), "2025-11-22 07:00:00.250");
    }
}
