//! Skew_Time and Master_Down_Interval, in keepalived's exact integer arithmetic
//! (include/vrrp.h SKEW_CALC / MS_DOWN), so that takeover times match to the microsecond.

use super::packet::Version;
use crate::time::Duration;

/// Skew_Time for `priority`.
///
/// - v2, RFC 3768 §6.1: `Skew_Time = (256 - Priority) / 256` seconds; it ignores the interval.
/// - v3, RFC 5798 §6.1: `Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256`, with the
///   interval in centiseconds. keepalived computes `((256 - p) * cs * 625) / 16` µs, truncating;
///   for 0.10 s and priority 100 that is 60 937 µs (the RFC's 60 937.5 µs, truncated).
pub fn skew(version: Version, priority: u8, master_adver_int: Duration) -> Duration {
    let p = 256 - u64::from(priority);
    Duration::micros(match version {
        Version::V2 => p * 1_000_000 / 256,
        Version::V3 => p * master_adver_int.as_centis() * 625 / 16,
    })
}

/// Master_Down_Interval (RFC 3768 §6.1, RFC 5798 §6.1): `3 * Master_Adver_Interval +
/// Skew_Time`; keepalived makes the 3 configurable (`vrrp_down_timer_adverts`).
pub fn master_down_interval(
    version: Version,
    priority: u8,
    master_adver_int: Duration,
    down_timer_adverts: u32,
) -> Duration {
    master_adver_int.saturating_mul(u64::from(down_timer_adverts))
        + skew(version, priority, master_adver_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_priority_100_one_second_is_3_609375() {
        // RFC 3768 §6.1 with priority 100: 3 * 1 s + 156/256 s.
        let mdi = master_down_interval(Version::V2, 100, Duration::secs(1), 3);
        assert_eq!(
            mdi,
            Duration::micros(3_609_375),
            "RFC 3768 §6.1 Master_Down_Interval"
        );
        assert_eq!(
            skew(Version::V2, 255, Duration::secs(1)),
            Duration::micros(3_906)
        );
    }

    #[test]
    fn v2_skew_ignores_the_interval() {
        // RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256, whatever Advertisement_Interval is.
        assert_eq!(
            skew(Version::V2, 100, Duration::secs(5)),
            skew(Version::V2, 100, Duration::secs(1)),
            "RFC 3768 §6.1: the v2 skew does not depend on the interval"
        );
    }

    #[test]
    fn v3_hundred_centiseconds_truncates_like_keepalived() {
        // RFC 5798 §6.1: 3 * 0.10 s + (156 * 10 cs / 256) = 0.3609375 s; keepalived's integer
        // arithmetic gives 360 937 µs.
        let mdi = master_down_interval(Version::V3, 100, Duration::centis(10), 3);
        assert_eq!(
            mdi,
            Duration::micros(360_937),
            "RFC 5798 §6.1 Master_Down_Interval"
        );
        // The v3 skew scales with the master's interval.
        assert_eq!(
            skew(Version::V3, 100, Duration::secs(1)),
            Duration::micros(609_375)
        );
    }
}
