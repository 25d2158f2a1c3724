//! Health checker blocks of a `real_server` (keepalived's check/check_*.c).

use std::net::IpAddr;

use serde::Serialize;

use crate::config::ast::Node;
use crate::config::build::{Cx, Seen};
use crate::config::table::{Arg, Command, Keyword, Level::*, Table, UINT};
use crate::config::values::Micros;

use super::global::UserGroup;
use super::inherit::{At, CheckOption, CheckOptions, InheritsCheckOptions};
use super::lvs::RealServer;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum CheckKind {
    #[default]
    #[serde(rename = "TCP_CHECK")]
    Tcp,
    #[serde(rename = "HTTP_GET")]
    HttpGet,
    #[serde(rename = "SSL_GET")]
    SslGet,
    #[serde(rename = "SMTP_CHECK")]
    Smtp,
    #[serde(rename = "DNS_CHECK")]
    Dns,
    #[serde(rename = "MISC_CHECK")]
    Misc,
    #[serde(rename = "UDP_CHECK")]
    Udp,
    #[serde(rename = "PING_CHECK")]
    Ping,
    #[serde(rename = "FILE_CHECK")]
    File,
    #[serde(rename = "BFD_CHECK")]
    Bfd,
}

impl CheckKind {
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::HttpGet => "HTTP_GET",
            CheckKind::SslGet => "SSL_GET",
            CheckKind::Smtp => "SMTP_CHECK",
            CheckKind::Dns => "DNS_CHECK",
            CheckKind::Misc => "MISC_CHECK",
            CheckKind::Udp => "UDP_CHECK",
            CheckKind::Ping => "PING_CHECK",
            CheckKind::File => "FILE_CHECK",
            CheckKind::Bfd => "BFD_CHECK",
        }
    }
}

/// A `url { }` of HTTP_GET / SSL_GET.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Url {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Accepted status code ranges (inclusive); none given means 200-299.
    pub status_code: Vec<(u16, u16)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub regex_no_match: bool,
    #[serde(skip)]
    pub seen: Seen,
}

#[derive(Clone, Debug, Serialize)]
pub struct HttpCheck {
    pub http_protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
    pub enable_sni: bool,
    pub fast_recovery: bool,
    pub urls: Vec<Url>,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            http_protocol: "1.0",
            virtualhost: None,
            enable_sni: false,
            fast_recovery: false,
            urls: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SmtpCheck {
    pub helo_name: String,
    /// Deprecated `host { }` blocks: each becomes an SMTP_CHECK of its own.
    #[serde(skip)]
    pub hosts: Vec<Checker>,
}

impl Default for SmtpCheck {
    fn default() -> Self {
        SmtpCheck {
            helo_name: "smtpchecker.keepalived.org".into(),
            hosts: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DnsCheck {
    #[serde(rename = "type")]
    pub qtype: &'static str,
    pub name: String,
}

impl Default for DnsCheck {
    fn default() -> Self {
        DnsCheck {
            qtype: "SOA",
            name: ".".into(),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MiscCheck {
    pub misc_path: Option<Command>,
    pub misc_timeout: Option<Micros>,
    pub misc_dynamic: bool,
    pub user: Option<UserGroup>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UdpCheck {
    /// Bytes to send; none: random.
    pub payload: Option<Vec<u8>>,
    /// Expected reply prefix; `x` nibbles match anything.
    pub require_reply: Option<String>,
    pub min_reply_length: u16,
    pub max_reply_length: u16,
}

impl Default for UdpCheck {
    fn default() -> Self {
        UdpCheck {
            payload: None,
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: 255,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FileCheck {
    pub track_file: String,
    pub weight: Option<i64>,
    pub reverse: bool,
}

/// One checker of a real server. Unset options are inherited (checker, real server, virtual
/// server, checker default) when the configuration is completed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Checker {
    #[serde(rename = "type")]
    pub kind: CheckKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bindto: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_if: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Micros>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_before_retry: Option<Micros>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Micros>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_loop: Option<Micros>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<bool>,
    pub log_all_failures: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misc: Option<MiscCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<UdpCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bfd: Option<String>,
    #[serde(skip)]
    pub seen: Seen,
}

impl Checker {
    fn http(&mut self) -> &mut HttpCheck {
        self.http.get_or_insert_with(HttpCheck::default)
    }
    fn udp(&mut self) -> &mut UdpCheck {
        self.udp.get_or_insert_with(UdpCheck::default)
    }
    fn misc(&mut self) -> &mut MiscCheck {
        self.misc.get_or_insert_with(MiscCheck::default)
    }
    fn dns(&mut self) -> &mut DnsCheck {
        self.dns.get_or_insert_with(DnsCheck::default)
    }
    fn file(&mut self) -> &mut FileCheck {
        self.file.get_or_insert_with(FileCheck::default)
    }
}

type K = Keyword<Checker>;
type UK = Keyword<Url>;
type CO = CheckOptions<Checker>;

impl InheritsCheckOptions for Checker {
    const AT: At = At::Checker;
    fn set_check_option(&mut self, v: CheckOption) {
        match v {
            CheckOption::ConnectTimeout(t) => self.connect_timeout = Some(t),
            CheckOption::Retry(n) => self.retry = Some(n),
            CheckOption::DelayBeforeRetry(t) => self.delay_before_retry = Some(t),
            CheckOption::Warmup(t) => self.warmup = Some(t),
            CheckOption::DelayLoop(t) => self.delay_loop = Some(t),
            CheckOption::Alpha(b) => self.alpha = Some(b),
        }
    }
}

// Connection keywords (all checkers but MISC, FILE and BFD).
const CONNECT_IP: K = K::new("connect_ip", Arg::Ip, P1, "Address to check.")
    .default("the real server's")
    .set(|c, v, _| c.connect_ip = Some(v.ip()));
const CONNECT_PORT: K = K::new(
    "connect_port",
    Arg::Int { min: 1, max: 65535 },
    P1,
    "Port to check.",
)
.default("the real server's")
.set(|c, v, _| c.connect_port = Some(v.int() as u16));
const BINDTO: K = K::new("bindto", Arg::Ip, P1, "Source address of the check.")
    .set(|c, v, _| c.bindto = Some(v.ip()));
const BIND_PORT: K = K::new(
    "bind_port",
    Arg::Int { min: 1, max: 65535 },
    P1,
    "Source port of the check.",
)
.set(|c, v, _| c.bind_port = Some(v.int() as u16));
const BIND_IF: K = K::new(
    "bind_if",
    Arg::Word,
    P1,
    "Source interface (needed for link-local IPv6).",
)
.set(|c, v, cx| {
    let (w, here) = (v.word(), cx.here);
    if cx.ifname_ok(here, "bind_if", w) {
        c.bind_if = Some(w.to_string());
    }
});
const CONNECT_TIMEOUT: K = CO::CONNECT_TIMEOUT;
const FWMARK: K = K::new(
    "fwmark",
    Arg::Int { min: 0, max: UINT },
    P1,
    "Firewall mark (SO_MARK) of the check's packets.",
)
.set(|c, v, _| c.fwmark = Some(v.int() as u32));
// Timing keywords (all checkers but FILE and BFD; BFD has alpha).
const RETRY: K = CO::RETRY;
const DELAY_BEFORE_RETRY: K = CO::DELAY_BEFORE_RETRY;
const WARMUP: K = CO::WARMUP;
const DELAY_LOOP: K = CO::DELAY_LOOP;
const ALPHA: K = CO::ALPHA;
const LOG_ALL_FAILURES: K = K::new("log_all_failures", Arg::Bool, P1, "Log every failed check.")
    .set(|c, v, _| c.log_all_failures = v.bool());

/// A checker's keyword list: the connection keywords (where it opens connections), the timing
/// keywords with its own `retry` (HTTP_GET's default differs), then its own keywords.
macro_rules! checker_keywords {
    (connection, timing($retry:expr) $(, $own:expr)* $(,)?) => {
        &[
            CONNECT_IP, CONNECT_PORT, BINDTO, BIND_PORT, BIND_IF, CONNECT_TIMEOUT, FWMARK,
            $retry, DELAY_BEFORE_RETRY, WARMUP, DELAY_LOOP, ALPHA, LOG_ALL_FAILURES, $($own),*
        ]
    };
    (timing($retry:expr) $(, $own:expr)* $(,)?) => {
        &[$retry, DELAY_BEFORE_RETRY, WARMUP, DELAY_LOOP, ALPHA, LOG_ALL_FAILURES, $($own),*]
    };
}

pub static TCP_CHECK: Table<Checker> = Table::new(
    "TCP_CHECK",
    "Up while a TCP connection to the server succeeds.",
    checker_keywords!(connection, timing(RETRY)),
);

pub static PING_CHECK: Table<Checker> = Table::new(
    "PING_CHECK",
    "Up while the server answers ICMP echo requests.",
    checker_keywords!(connection, timing(RETRY)),
);

pub static URL: Table<Url> = Table::new(
    "url",
    "One URL an HTTP_GET/SSL_GET fetches; every URL must pass.",
    &[
        UK::new("path", Arg::Word, P0, "Path requested.").set(|u, v, _| u.path = v.word().to_string()),
        UK::new("digest", Arg::Word, P0, "MD5 of the body expected (genhash prints it).")
            .set(|u, v, cx| {
                let d = v.word();
                if d.len() == 32 && d.bytes().all(|b| b.is_ascii_hexdigit()) {
                    u.digest = Some(d.to_ascii_lowercase());
                } else {
                    let here = cx.here;
                    cx.error("invalid-value", here, format!("'digest': '{d}' is not 32 hexadecimal digits (an MD5)"))
                        .help("keepalived's genhash -s HOST -p PORT -u PATH prints the digest");
                }
            }),
        UK::new("status_code", Arg::Custom("CODE|FIRST-LAST ..."), P0, "Status codes accepted.")
            .default("200-299")
            .repeat()
            .set(|u, v, cx| {
                if let Some(n) = v.node() {
                    let line = &n.line;
                    for i in 1..=line.argc() {
                        let w = line.word(i).unwrap_or("");
                        let range = match w.split_once('-') {
                            Some((a, b)) => a.parse::<u16>().ok().zip(b.parse::<u16>().ok()),
                            None => w.parse::<u16>().ok().map(|c| (c, c)),
                        };
                        match range {
                            Some((a, b)) if (100..=599).contains(&a) && (a..=599).contains(&b) => u.status_code.push((a, b)),
                            _ => {
                                cx.error("invalid-value", line.span_of(i), format!("'status_code': '{w}' is not a status code 100..599 or a range of them"));
                            }
                        }
                    }
                }
            }),
        UK::new("virtualhost", Arg::Word, P1, "Host header for this URL.")
            .set(|u, v, _| u.virtualhost = Some(v.word().into())),
        UK::new("regex", Arg::Word, P1, "Regular expression the body must match.")
            .set(|u, v, _| u.regex = Some(v.word().into())),
        UK::new("regex_no_match", Arg::Flag, P1, "The check fails when the regex matches.")
            .set(|u, _, _| u.regex_no_match = true),
        UK::new("regex_options", Arg::Custom("OPTION..."), P2, "PCRE2 options of the regex."),
        UK::new("regex_min_offset", Arg::Int { min: 0, max: UINT }, P2, "Offset where matching starts."),
        UK::new("regex_max_offset", Arg::Int { min: 0, max: UINT }, P2, "Last offset where a match may start."),
        UK::new("regex_stack", Arg::Custom("START MAX"), P2, "PCRE2 JIT stack sizes."),
        UK::new("tls_compliant", Arg::Flag, P2, "Wait for the TLS close_notify.").since("2.2.8"),
    ],
);

const HTTP_RETRY: K = RETRY.deprecated(&["nb_get_retry"]);
const HTTP_PROTOCOL: K = K::new(
    "http_protocol",
    Arg::Choice(&["1.0", "1.0C", "1.0c", "1.1"]),
    P1,
    "HTTP version; 1.0C adds 'Connection: close'.",
)
.default("1.0")
.set(|c, v, _| {
    c.http().http_protocol = match v.word() {
        "1.1" => "1.1",
        "1.0C" | "1.0c" => "1.0C",
        _ => "1.0",
    }
});
const HTTP_VIRTUALHOST: K = K::new("virtualhost", Arg::Word, P1, "Host header for every URL.")
    .set(|c, v, _| c.http().virtualhost = Some(v.word().into()));
const ENABLE_SNI: K = K::new(
    "enable_sni",
    Arg::Bool,
    P1,
    "Send the virtualhost as TLS SNI.",
)
.set(|c, v, _| c.http().enable_sni = v.bool());
const FAST_RECOVERY: K = K::new(
    "fast_recovery",
    Arg::Bool,
    P1,
    "After a failure, check all URLs without waiting between them.",
)
.set(|c, v, _| c.http().fast_recovery = v.bool());
const URL_BLOCK: K = K::new("url", Arg::Block(&URL), P0, "A URL to fetch.").set(|c, v, cx| {
    if let Some(n) = v.node() {
        let (mut u, seen) = URL.read(n, cx);
        u.seen = seen;
        if u.path.is_empty() {
            u.seen
                .lacks(
                    cx.diags,
                    "url block ends without a path; keepalived ignores it".into(),
                )
                .help("add: path /");
        } else {
            c.http().urls.push(u);
        }
    }
});

pub static HTTP_GET: Table<Checker> = Table::new(
    "HTTP_GET",
    "Up while every url answers with an accepted status (and digest/regex when given).",
    checker_keywords!(
        connection,
        timing(HTTP_RETRY),
        HTTP_PROTOCOL,
        HTTP_VIRTUALHOST,
        ENABLE_SNI,
        FAST_RECOVERY,
        URL_BLOCK,
    ),
);

pub static SSL_GET: Table<Checker> = Table::new(
    "SSL_GET",
    "HTTP_GET over TLS (certificates are not verified, as in keepalived).",
    checker_keywords!(
        connection,
        timing(HTTP_RETRY),
        HTTP_PROTOCOL,
        HTTP_VIRTUALHOST,
        ENABLE_SNI,
        FAST_RECOVERY,
        K::new(
            "tls_compliant",
            Arg::Flag,
            P2,
            "Wait for the TLS close_notify (for every url)."
        )
        .since("2.2.8"),
        URL_BLOCK,
    ),
);

pub static SMTP_HOST: Table<Checker> = Table::new(
    "host",
    "An additional server for SMTP_CHECK (deprecated: write another SMTP_CHECK).",
    &[
        CONNECT_IP,
        CONNECT_PORT,
        BINDTO,
        BIND_PORT,
        BIND_IF,
        CONNECT_TIMEOUT,
        FWMARK,
        // keepalived registers the timing keywords in a host block too; kaconsole's host
        // checkers take the SMTP_CHECK's (reported as not implemented here).
        RETRY.inert(),
        DELAY_BEFORE_RETRY.inert(),
        WARMUP.inert(),
        DELAY_LOOP.inert(),
        ALPHA.inert(),
        LOG_ALL_FAILURES.inert(),
    ],
);

pub static SMTP_CHECK: Table<Checker> = Table::new(
    "SMTP_CHECK",
    "Up while the server greets with 220 and answers HELO with 250.",
    checker_keywords!(
        connection,
        timing(RETRY),
        K::new("helo_name", Arg::Word, P2, "Name sent with HELO.")
            .default("smtpchecker.keepalived.org")
            .set(|c, v, _| {
                c.smtp.get_or_insert_with(SmtpCheck::default).helo_name = v.word().to_string()
            }),
        K::new(
            "host",
            Arg::Block(&SMTP_HOST),
            P2,
            "Deprecated: another server to check (write another SMTP_CHECK).",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                cx.warning(
                    "deprecated",
                    n.line.span_of(0),
                    "the SMTP_CHECK host block is deprecated; it becomes an SMTP_CHECK of its own",
                )
                .help("write one SMTP_CHECK per server");
                let (mut h, seen) = SMTP_HOST.read(n, cx);
                h.seen = seen;
                c.smtp.get_or_insert_with(SmtpCheck::default).hosts.push(h);
            }
        }),
    ),
);

pub static DNS_CHECK: Table<Checker> = Table::new(
    "DNS_CHECK",
    "Up while the server answers a query with RCODE 0.",
    checker_keywords!(
        connection,
        timing(RETRY),
        K::new(
            "type",
            Arg::Custom("A|NS|CNAME|SOA|MX|TXT|AAAA|RRSIG|DNSKEY"),
            P2,
            "Query type.",
        )
        .default("SOA")
        .set(|c, v, cx| {
            const TYPES: &[&str] = &[
                "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY",
            ];
            if let Some(n) = v.node()
                && let Some(w) = cx.word(&n.line, 1, "a query type")
            {
                match TYPES.iter().find(|t| t.eq_ignore_ascii_case(w)) {
                    Some(t) => c.dns().qtype = t,
                    None => {
                        cx.error(
                            "invalid-value",
                            n.line.span_of(1),
                            format!("'type': '{w}' is not one of {}", TYPES.join(", ")),
                        );
                    }
                }
                cx.extra(&n.line, 1);
            }
        }),
        K::new("name", Arg::Word, P2, "Name queried.")
            .default(".")
            .set(|c, v, cx| {
                let w = v.word();
                if w != "." && w.trim_end_matches('.').split('.').any(str::is_empty) {
                    let here = cx.here;
                    cx.error(
                        "invalid-value",
                        here,
                        format!("'name': '{w}' has an empty label"),
                    );
                } else {
                    c.dns().name = w.to_string();
                }
            }),
    ),
);

pub static MISC_CHECK: Table<Checker> = Table::new(
    "MISC_CHECK",
    "Up while a script exits 0 (with misc_dynamic, 2..255 also sets the weight).",
    checker_keywords!(
        timing(RETRY),
        K::new(
            "misc_path",
            Arg::Command,
            P1,
            "The script and its arguments (quote them together).",
        )
        .set(|c, v, _| c.misc().misc_path = Some(v.command())),
        K::new(
            "misc_timeout",
            Arg::Int { min: 0, max: 4294 },
            P1,
            "Seconds the script may run (0: delay_loop).",
        )
        .set(|c, v, _| c.misc().misc_timeout = Some(Micros::secs(v.int() as u64))),
        K::new(
            "misc_dynamic",
            Arg::Flag,
            P1,
            "Exit codes 2..255 set the weight to code - 2.",
        )
        .set(|c, _, _| c.misc().misc_dynamic = true),
        K::new(
            "user",
            Arg::Custom("USER [GROUP]"),
            P1,
            "User (and group) the script runs as.",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node()
                && let Some(u) = cx.word(&n.line, 1, "a user name")
            {
                c.misc().user = Some(UserGroup {
                    user: u.to_string(),
                    group: n.line.word(2).map(str::to_string),
                });
                cx.extra(&n.line, 2);
            }
        }),
    ),
);

/// `payload 01 02 ab` / `require_reply 01xx`: hex digits, blanks ignored.
fn hex_bytes(s: &str, wildcard: bool) -> Option<String> {
    let h: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let ok = !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_hexdigit() || (wildcard && (c == 'x' || c == 'X')));
    ok.then_some(h)
}

pub static UDP_CHECK: Table<Checker> = Table::new(
    "UDP_CHECK",
    "Up while a datagram draws no ICMP error (or the required reply).",
    checker_keywords!(
        connection,
        timing(RETRY),
        K::new(
            "payload",
            Arg::Custom("HEX..."),
            P2,
            "Bytes to send (random if not given).",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                match hex_bytes(n.line.rest(), false) {
                    Some(h) if h.len() % 2 == 0 => {
                        c.udp().payload = (0..h.len())
                            .step_by(2)
                            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
                            .collect();
                    }
                    _ => {
                        cx.error(
                            "invalid-value",
                            n.line.span_from(1),
                            "'payload' needs an even number of hexadecimal digits",
                        );
                    }
                }
            }
        }),
        K::new(
            "require_reply",
            Arg::Custom("[HEX...]"),
            P2,
            "A reply is required; its start must match (x matches any digit).",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node() {
                let rest = n.line.rest();
                if rest.is_empty() {
                    c.udp().require_reply = Some(String::new());
                } else if let Some(h) = hex_bytes(rest, true) {
                    c.udp().require_reply = Some(h);
                } else {
                    cx.error(
                        "invalid-value",
                        n.line.span_from(1),
                        "'require_reply' needs hexadecimal digits (x for any)",
                    );
                }
            }
        }),
        K::new(
            "min_reply_length",
            Arg::Int { min: 0, max: 65535 },
            P2,
            "Shortest acceptable reply.",
        )
        .set(|c, v, _| c.udp().min_reply_length = v.int() as u16),
        K::new(
            "max_reply_length",
            Arg::Int { min: 0, max: 65535 },
            P2,
            "Longest acceptable reply.",
        )
        .default("255")
        .set(|c, v, _| c.udp().max_reply_length = v.int() as u16),
    ),
);

pub static FILE_CHECK: Table<Checker> = Table::new(
    "FILE_CHECK",
    "Weight (or down state) from a track_file.",
    &[
        K::new(
            "track_file",
            Arg::Word,
            P2,
            "The track_file block to follow.",
        )
        .set(|c, v, _| c.file().track_file = v.word().to_string()),
        K::new(
            "weight",
            Arg::Custom("WEIGHT [reverse|noreverse]"),
            P2,
            "Multiplier of the file's value.",
        )
        .set(|c, v, cx| {
            if let Some(n) = v.node()
                && let Some(w) = cx.int(&n.line, 1, -2147483647, 2147483647)
            {
                c.file().weight = Some(w);
                match n.line.word(2) {
                    None | Some("noreverse") => {}
                    Some("reverse") => c.file().reverse = true,
                    Some(o) => {
                        cx.error(
                            "invalid-value",
                            n.line.span_of(2),
                            format!("'weight': unknown option '{o}'"),
                        );
                    }
                }
                cx.extra(&n.line, 2);
            }
        }),
    ],
);

pub static BFD_CHECK: Table<Checker> = Table::new(
    "BFD_CHECK",
    "Up while a bfd_instance session is up.",
    &[
        K::new("name", Arg::Word, P2, "The bfd_instance to follow.")
            .set(|c, v, _| c.bfd = Some(v.word().into())),
        ALPHA,
    ],
);

/// keepalived: each `host` of an SMTP_CHECK is a checker of its own, sharing the timing options;
/// when the SMTP_CHECK gives no connection option itself, the first host replaces its target.
fn expand_smtp_hosts(c: Checker, hosts: Vec<Checker>, rs: &mut RealServer) {
    let own_target = c.connect_ip.is_some() || c.connect_port.is_some() || c.bindto.is_some();
    let with_host = |h: &Checker| Checker {
        connect_ip: h.connect_ip,
        connect_port: h.connect_port,
        bindto: h.bindto,
        bind_port: h.bind_port,
        bind_if: h.bind_if.clone(),
        connect_timeout: h.connect_timeout.or(c.connect_timeout),
        fwmark: h.fwmark,
        seen: h.seen.clone(),
        ..c.clone()
    };
    let mut hosts = hosts.into_iter();
    match hosts.next() {
        None => rs.checkers.push(c.clone()),
        Some(first) if !own_target => rs.checkers.push(with_host(&first)),
        Some(first) => {
            rs.checkers.push(c.clone());
            rs.checkers.push(with_host(&first));
        }
    }
    for h in hosts {
        rs.checkers.push(with_host(&h));
    }
}

/// Reads a checker block of `kind` into the real server.
pub fn read_checker(
    table: &Table<Checker>,
    kind: CheckKind,
    rs: &mut RealServer,
    n: &Node,
    cx: &mut Cx<'_>,
) {
    if n.line.argc() > 0 {
        cx.extra(&n.line, 0);
    }
    let (mut c, seen) = table.read(n, cx);
    c.kind = kind;
    c.seen = seen;
    let missing = match kind {
        CheckKind::HttpGet | CheckKind::SslGet => c
            .http
            .as_ref()
            .is_none_or(|h| h.urls.is_empty())
            .then_some("block ends without a url; keepalived ignores it"),
        CheckKind::Misc => c
            .misc
            .as_ref()
            .is_none_or(|m| m.misc_path.is_none())
            .then_some("block ends without a misc_path; keepalived ignores it"),
        CheckKind::File => c
            .file
            .as_ref()
            .is_none_or(|f| f.track_file.is_empty())
            .then_some("block ends without a track_file; keepalived ignores it"),
        CheckKind::Bfd => c
            .bfd
            .is_none()
            .then_some("block ends without a name; keepalived ignores it"),
        _ => None,
    };
    if let Some(why) = missing {
        c.seen.lacks(cx.diags, format!("{} {why}", kind.name()));
        return;
    }
    match kind {
        CheckKind::HttpGet | CheckKind::SslGet => {
            c.http();
        }
        CheckKind::Smtp => {
            let hosts = std::mem::take(&mut c.smtp.get_or_insert_with(SmtpCheck::default).hosts);
            expand_smtp_hosts(c, hosts, rs);
            return;
        }
        CheckKind::Dns => {
            c.dns();
        }
        CheckKind::Udp => {
            if let Some(u) = &c.udp
                && u.min_reply_length > u.max_reply_length
            {
                cx.warning(
                    "inconsistent",
                    c.seen.or_header("min_reply_length"),
                    format!(
                        "min_reply_length {} > max_reply_length {}: the check always fails",
                        u.min_reply_length, u.max_reply_length
                    ),
                );
            }
            c.udp();
        }
        _ => {}
    }
    rs.checkers.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex() {
        assert_eq!(hex_bytes("01 ab", false).as_deref(), Some("01ab"));
        assert_eq!(hex_bytes("01xX", true).as_deref(), Some("01xX"));
        assert_eq!(hex_bytes("01xX", false), None);
        assert_eq!(hex_bytes("", false), None);
    }
}
