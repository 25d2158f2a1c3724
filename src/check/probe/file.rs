//! FILE_CHECK (check_file.c, trackers/track_file.c): the number in a track_file. With weight 0
//! a non-zero value is down (zero is down instead with `reverse`); otherwise value x weight
//! (negated by `reverse`) is added to the real server's weight, and a result at or below
//! -65536 (IPVS_WEIGHT_FAULT) is down. keepalived watches the file with inotify; kaconsole
//! reads it on every probe, without blocking (sys::regular_file): a FIFO or a device where
//! the file should be fails the check and says so.

use std::path::PathBuf;

use super::Outcome;
use crate::check::engine::Dynamic;
use crate::sys::regular_file;

/// The most of the file read: keepalived reads 127 bytes for its number.
pub const MAX_READ: usize = 128;

/// The lowest weight IPVS takes is 0, the highest 65535 (IPVS_WEIGHT_MAX); one below -65535
/// is keepalived's FAULT.
const WEIGHT_FAULT: i64 = -65536;
const WEIGHT_MAX: i64 = 65535;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCheck {
    pub path: PathBuf,
    pub weight: i64,
    pub reverse: bool,
}

/// keepalived's reading of the file: the leading number, 0 when the file is missing, empty or
/// not a number.
pub fn value(text: Option<&str>) -> i64 {
    let Some(t) = text else { return 0 };
    let t = t.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().unwrap_or(0)
}

pub fn verdict(f: &FileCheck, value: i64) -> Outcome {
    if f.weight == 0 {
        return if (value != 0) != f.reverse {
            Outcome::fail(format!("value {value}"))
        } else {
            Outcome {
                dynamic: Some(Dynamic::Offset(0)),
                ..Outcome::pass(format!("value {value}"))
            }
        };
    }
    let sign = if f.reverse { -1 } else { 1 };
    let status = value
        .saturating_mul(f.weight)
        .saturating_mul(sign)
        .clamp(WEIGHT_FAULT, WEIGHT_MAX);
    if status == WEIGHT_FAULT {
        return Outcome::fail(format!("value {value} x weight {} is FAULT", f.weight));
    }
    Outcome {
        dynamic: Some(Dynamic::Offset(status)),
        ..Outcome::pass(format!("value {value}: weight {status:+}"))
    }
}

pub fn check(f: &FileCheck) -> Outcome {
    match regular_file::read(&f.path, MAX_READ) {
        Ok(text) => verdict(f, value(text.as_deref())),
        Err(e) => Outcome::fail(format!("{}: {e}", f.path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(weight: i64, reverse: bool) -> FileCheck {
        FileCheck {
            path: "/x".into(),
            weight,
            reverse,
        }
    }

    #[test]
    fn values_are_read_as_keepalived_reads_them() {
        assert_eq!(value(Some(" 42\n")), 42);
        assert_eq!(value(Some("-7 apples")), -7);
        assert_eq!(value(Some("x")), 0);
        assert_eq!(value(None), 0);
    }

    #[test]
    fn weight_zero_is_up_or_down_and_a_weight_adds() {
        assert!(verdict(&file(0, false), 0).ok);
        assert!(!verdict(&file(0, false), 3).ok);
        assert!(!verdict(&file(0, true), 0).ok, "reverse: zero is down");
        assert_eq!(
            verdict(&file(2, false), 5).dynamic,
            Some(Dynamic::Offset(10))
        );
        assert_eq!(
            verdict(&file(2, true), 5).dynamic,
            Some(Dynamic::Offset(-10))
        );
        assert!(!verdict(&file(1, false), -65536).ok, "IPVS_WEIGHT_FAULT");
        assert!(verdict(&file(1, false), -65535).ok);
        assert_eq!(
            verdict(&file(1000, false), 1000).dynamic,
            Some(Dynamic::Offset(65535)),
            "clamped to IPVS's largest weight"
        );
    }
}
