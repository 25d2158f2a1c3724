//! The checker options keepalived accepts at three levels: in a checker, in its `real_server`
//! and in its `virtual_server`. A checker without its own value takes its real server's, which
//! takes its virtual server's, else the checker's default (keepalived's check_data.c). This is
//! the one definition of their names, value syntax and ranges; the checker tables
//! (checkers.rs) and the `real_server` and `virtual_server` tables (lvs.rs) take their
//! keywords from here, and each block says where a value goes ([`InheritsCheckOptions`]).
//!
//! The ranges are keepalived 2.2.7's (check_api.c for a checker, check_parser.c for the
//! servers; times are read by `read_timer` in microseconds):
//!
//! | keyword              | value                     |
//! |----------------------|---------------------------|
//! | `connect_timeout`    | 0.000001 .. 4294.967295 s |
//! | `retry`              | 0 .. 4294967295 in a checker, 1 .. 4294967295 in a server |
//! | `delay_before_retry` | 0 .. 2^64-2 µs            |
//! | `warmup`             | 0 .. 2^64-2 µs            |
//! | `delay_loop`         | 0.000001 s .. 2^64-2 µs   |
//! | `alpha`              | `[on\|off]` in a checker and a real server, a bare flag in a virtual server |
//!
//! keepalived itself reads two of them differently by level, and so do these tables:
//! - `retry 0` is taken by a checker (`retry_handler`, minimum 0) but refused by a real or
//!   virtual server (`rs_retry_handler`/`vs_retry_handler`, minimum 1: "retry value invalid");
//! - a virtual server's `alpha` ignores any value and turns alpha on (`vs_alpha_handler`),
//!   where a checker's or a real server's reads `on`/`off` (`alpha_handler`, `rs_alpha_handler`).
//!
//! Other keywords pass down fewer levels and stay in their tables: `inhibit_on_failure` and
//! `smtp_alert` (virtual to real server), `virtualhost` (to HTTP_GET/SSL_GET and their urls).

use std::marker::PhantomData;

use crate::config::table::{Arg, Keyword, Level, SECS_MAX, UINT};
use crate::config::values::Micros;

/// The level of a block that takes the inheritable checker options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    Checker,
    RealServer,
    VirtualServer,
}

impl At {
    /// The text for this level: in a checker, in a real server, in a virtual server.
    const fn pick(
        self,
        checker: &'static str,
        real_server: &'static str,
        virtual_server: &'static str,
    ) -> &'static str {
        match self {
            At::Checker => checker,
            At::RealServer => real_server,
            At::VirtualServer => virtual_server,
        }
    }
}

/// A value of one of the inheritable checker options, as read from its keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckOption {
    ConnectTimeout(Micros),
    Retry(u32),
    DelayBeforeRetry(Micros),
    Warmup(Micros),
    DelayLoop(Micros),
    Alpha(bool),
}

/// A block that takes the inheritable checker options: its level, and where each value goes.
pub trait InheritsCheckOptions: Sized + 'static {
    const AT: At;
    fn set_check_option(&mut self, v: CheckOption);
}

/// The inheritable checker options' keywords for the block `T`.
pub struct CheckOptions<T>(PhantomData<T>);

/// The largest `connect_timeout`: keepalived reads it as an unsigned int of microseconds.
const CONNECT_MAX: u64 = u32::MAX as u64;

impl<T: InheritsCheckOptions> CheckOptions<T> {
    pub const CONNECT_TIMEOUT: Keyword<T> = Keyword::new(
        "connect_timeout",
        Arg::Secs {
            min_us: 1,
            max_us: CONNECT_MAX,
        },
        Level::P1,
        "Connection timeout of a check.",
    )
    .default(T::AT.pick("the real server's (5)", "the virtual server's (5)", "5"))
    .set(|t, v, _| t.set_check_option(CheckOption::ConnectTimeout(Micros(v.micros()))));

    pub const RETRY: Keyword<T> = Keyword::new(
        "retry",
        Arg::Int {
            // keepalived 2.2.7: a checker takes 0 (no retry), a real or virtual server does not.
            min: match T::AT {
                At::Checker => 0,
                At::RealServer | At::VirtualServer => 1,
            },
            max: UINT,
        },
        Level::P1,
        "Retries of a failed check before the server is down.",
    )
    .default(T::AT.pick(
        "1 (MISC_CHECK 0, DNS_CHECK 3)",
        "the virtual server's, else the checker's default",
        "the checker's default: 1 (MISC_CHECK 0, DNS_CHECK 3)",
    ))
    .set(|t, v, _| t.set_check_option(CheckOption::Retry(v.int() as u32)));

    pub const DELAY_BEFORE_RETRY: Keyword<T> = Keyword::new(
        "delay_before_retry",
        Arg::Secs {
            min_us: 0,
            max_us: SECS_MAX,
        },
        Level::P1,
        "Delay between retries.",
    )
    .default(T::AT.pick(
        "1 (HTTP_GET/SSL_GET 3, DNS_CHECK delay_loop)",
        "the virtual server's, else the checker's default",
        "the checker's default: 1 (HTTP_GET/SSL_GET 3, DNS_CHECK delay_loop)",
    ))
    .set(|t, v, _| t.set_check_option(CheckOption::DelayBeforeRetry(Micros(v.micros()))));

    pub const WARMUP: Keyword<T> = Keyword::new(
        "warmup",
        Arg::Secs {
            min_us: 0,
            max_us: SECS_MAX,
        },
        Level::P1,
        "Longest random delay before the first check.",
    )
    .default(T::AT.pick(
        "delay_loop",
        "the virtual server's, else delay_loop",
        "delay_loop",
    ))
    .set(|t, v, _| t.set_check_option(CheckOption::Warmup(Micros(v.micros()))));

    pub const DELAY_LOOP: Keyword<T> = Keyword::new(
        "delay_loop",
        Arg::Secs {
            min_us: 1,
            max_us: SECS_MAX,
        },
        match T::AT {
            At::VirtualServer => Level::P0,
            At::Checker | At::RealServer => Level::P1,
        },
        "Interval between checks.",
    )
    .default(T::AT.pick("the real server's (60)", "the virtual server's (60)", "60"))
    .set(|t, v, _| t.set_check_option(CheckOption::DelayLoop(Micros(v.micros()))));

    pub const ALPHA: Keyword<T> = Keyword::new(
        "alpha",
        // keepalived 2.2.7: a virtual server's alpha takes no value (any value turns it on).
        match T::AT {
            At::VirtualServer => Arg::Flag,
            At::Checker | At::RealServer => Arg::Bool,
        },
        Level::P1,
        "Checks start failed: the server is down until they pass.",
    )
    .default(T::AT.pick(
        "the real server's (off)",
        "the virtual server's (off)",
        "off",
    ))
    .set(|t, v, _| t.set_check_option(CheckOption::Alpha(v.bool())));

    /// All of them, in the order of keepalived's man page.
    pub const ALL: [Keyword<T>; 6] = [
        Self::ALPHA,
        Self::CONNECT_TIMEOUT,
        Self::RETRY,
        Self::DELAY_BEFORE_RETRY,
        Self::WARMUP,
        Self::DELAY_LOOP,
    ];
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::blocks::checkers::{self, Checker};
    use crate::config::blocks::lvs::{REAL_SERVER, RealServer, VIRTUAL_SERVER, VirtualServer};
    use crate::config::table::{Table, TableDoc};
    use crate::config::{LoadOptions, load_text};

    /// The keywords' names, the same at every level.
    fn names() -> Vec<&'static str> {
        CheckOptions::<Checker>::ALL
            .iter()
            .map(|k| k.name)
            .collect()
    }

    #[test]
    fn the_three_tables_take_these_keywords() {
        let names = names();
        assert_eq!(
            names,
            CheckOptions::<RealServer>::ALL.map(|k| k.name).to_vec()
        );
        assert_eq!(
            names,
            CheckOptions::<VirtualServer>::ALL.map(|k| k.name).to_vec()
        );
        fn same<T: InheritsCheckOptions>(table: &Table<T>, name: &str) {
            let ours = CheckOptions::<T>::ALL.into_iter().find(|k| k.name == name);
            let theirs = table.get(name);
            let (Some(ours), Some(theirs)) = (ours, theirs) else {
                panic!("{}: {name} is missing", table.block);
            };
            assert_eq!(ours.arg.syntax(), theirs.arg.syntax(), "{name}");
            assert_eq!(ours.help, theirs.help, "{name}");
            assert!(theirs.set.is_some(), "{name}");
        }
        for name in &names {
            same(&REAL_SERVER, name);
            same(&VIRTUAL_SERVER, name);
            same(&checkers::TCP_CHECK, name);
        }
        // Every checker table that has one of them has the checker-level definition.
        let checker_tables: [&Table<Checker>; 10] = [
            &checkers::TCP_CHECK,
            &checkers::HTTP_GET,
            &checkers::SSL_GET,
            &checkers::SMTP_CHECK,
            &checkers::SMTP_HOST,
            &checkers::DNS_CHECK,
            &checkers::MISC_CHECK,
            &checkers::UDP_CHECK,
            &checkers::PING_CHECK,
            &checkers::BFD_CHECK,
        ];
        for t in checker_tables {
            for (name, _) in t.args() {
                if names.contains(&name) {
                    same(t, name);
                }
            }
        }
    }

    /// What one keyword line does at one level: the diagnostics on that line and the value the
    /// (completed) checker runs with.
    fn outcome(level: At, name: &str, value: &str) -> (Vec<&'static str>, String) {
        let line = format!("{name} {value}");
        let (vs, rs, ck) = match level {
            At::VirtualServer => (line.as_str(), "", ""),
            At::RealServer => ("", line.as_str(), ""),
            At::Checker => ("", "", line.as_str()),
        };
        let text = format!(
            "virtual_server 10.0.0.1 80 {{\n{vs}\nprotocol TCP\nreal_server 10.0.0.2 80 {{\n{rs}\n\
             TCP_CHECK {{\n{ck}\n}}\n}}\n}}\n"
        );
        let l = load_text(
            Path::new("/test/keepalived.conf"),
            text.as_bytes(),
            &LoadOptions::default(),
            None,
        );
        let at_line = match level {
            At::VirtualServer => 2,
            At::RealServer => 5,
            At::Checker => 7,
        };
        let codes = l
            .diagnostics
            .iter()
            .filter(|d| d.span.is_some_and(|s| s.line == at_line))
            .map(|d| d.code)
            .collect();
        let c = &l.config.virtual_servers[0].real_servers[0].checkers[0];
        let value = match name {
            "connect_timeout" => format!("{:?}", c.connect_timeout),
            "retry" => format!("{:?}", c.retry),
            "delay_before_retry" => format!("{:?}", c.delay_before_retry),
            "warmup" => format!("{:?}", c.warmup),
            "delay_loop" => format!("{:?}", c.delay_loop),
            "alpha" => format!("{:?}", c.alpha),
            other => panic!("{other} is not an inheritable keyword"),
        };
        (codes, value)
    }

    /// keepalived 2.2.7's own differences between the levels (see the module's comment): the
    /// keyword, the value, and the levels that refuse or misread it.
    fn keepalived_differs(name: &str, value: &str, level: At) -> bool {
        match (name, level) {
            ("retry", At::RealServer | At::VirtualServer) => value == "0",
            ("alpha", At::VirtualServer) => !value.is_empty(),
            _ => false,
        }
    }

    #[test]
    fn a_value_means_the_same_at_every_level() {
        const VALUES: &[&str] = &[
            "",
            "0",
            "1",
            "3",
            "0.5",
            "0.000001",
            "0.0000001",
            "1.2345678",
            "4294.967295",
            "4294.967296",
            "4294967295",
            "4294967296",
            "18446744073709.551614",
            "18446744073709.551615",
            "-1",
            "1e3",
            "abc",
            "on",
            "off",
            "yes",
            "no",
            "true",
            "false",
            "3 4",
        ];
        let mut differences = Vec::new();
        for name in names() {
            for value in VALUES {
                let checker = outcome(At::Checker, name, value);
                for level in [At::RealServer, At::VirtualServer] {
                    let here = outcome(level, name, value);
                    let differs = here != checker;
                    let expected = keepalived_differs(name, value, level);
                    if differs != expected {
                        differences.push(format!(
                            "{name} {value:?}: checker {checker:?}, {level:?} {here:?}{}",
                            if expected {
                                " (keepalived differs here)"
                            } else {
                                ""
                            }
                        ));
                    }
                }
            }
        }
        assert!(differences.is_empty(), "{differences:#?}");
        // The test sees acceptance and refusal: a value taken at every level, one refused at
        // every level, and keepalived's own difference.
        let ok = outcome(At::VirtualServer, "retry", "3");
        assert_eq!(ok, (vec![], "Some(3)".to_string()));
        let bad = outcome(At::RealServer, "delay_loop", "0");
        assert_eq!(bad.0, ["out-of-range"]);
        assert_eq!(outcome(At::Checker, "retry", "0").1, "Some(0)");
        assert_eq!(outcome(At::VirtualServer, "retry", "0").0, ["out-of-range"]);
    }
}
