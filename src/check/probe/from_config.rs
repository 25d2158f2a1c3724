//! Each checker's probe and target from the checked configuration, every option resolved as
//! keepalived resolves it (check_data.c): connect_ip/port default to the real server's, the
//! connect_timeout and virtualhost come from the checker, else the real server, else the
//! virtual server.

use std::net::SocketAddr;
use std::time::Duration;

use super::file::FileCheck;
use super::misc::MiscCheck;
use super::udp::{ReplyPattern, UdpCheck};
use super::web::{UrlCheck, WebCheck};
use super::{Probe, Target, dns};
use crate::check::http::Protocol;
use crate::config::blocks::Config;
use crate::config::blocks::checkers::{CheckKind, Checker};
use crate::config::blocks::lvs::{RealServer, VirtualServer};
use crate::config::values::Micros;
use crate::sys::script::ScriptUsers;

fn dur(m: Micros) -> Duration {
    Duration::from_micros(m.0)
}

fn target(c: &Checker, rs: &RealServer, vs: &VirtualServer) -> Target {
    let port = c.connect_port.or(rs.port).unwrap_or(0);
    Target {
        addr: SocketAddr::new(c.connect_ip.unwrap_or(rs.addr), port),
        bind: c.bindto,
        bind_port: c.bind_port,
        bind_if: c.bind_if.clone(),
        fwmark: c.fwmark,
        timeout: dur(c
            .connect_timeout
            .or(rs.connect_timeout)
            .unwrap_or(vs.connect_timeout)),
    }
}

fn web(c: &Checker, rs: &RealServer, vs: &VirtualServer) -> Result<WebCheck, String> {
    let http = c.http.clone().unwrap_or_default();
    let vhost = http
        .virtualhost
        .clone()
        .or_else(|| rs.virtualhost.clone())
        .or_else(|| vs.virtualhost.clone());
    let urls = http
        .urls
        .iter()
        .map(|u| {
            let digest = match &u.digest {
                Some(d) => Some(
                    crate::hex::decode(d)
                        .ok()
                        .and_then(|b| <[u8; 16]>::try_from(b).ok())
                        .ok_or_else(|| format!("digest {d} is not an MD5"))?,
                ),
                None => None,
            };
            let regex = match &u.regex {
                Some(r) => {
                    Some(regex::bytes::Regex::new(r).map_err(|e| format!("regex {r:?}: {e}"))?)
                }
                None => None,
            };
            Ok(UrlCheck {
                path: u.path.clone(),
                vhost: u.virtualhost.clone().or_else(|| vhost.clone()),
                digest,
                status: u.status_code.clone(),
                regex,
                regex_no_match: u.regex_no_match,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if urls.is_empty() {
        return Err("no url".into());
    }
    Ok(WebCheck {
        urls,
        protocol: Protocol::parse(http.http_protocol).unwrap_or(Protocol::Http10),
        tls: c.kind == CheckKind::SslGet,
        sni: http.enable_sni,
    })
}

fn probe(
    cfg: &Config,
    users: &ScriptUsers,
    c: &Checker,
    rs: &RealServer,
    vs: &VirtualServer,
) -> Result<Probe, String> {
    Ok(match c.kind {
        CheckKind::Tcp => Probe::Tcp,
        CheckKind::HttpGet | CheckKind::SslGet => Probe::Web(web(c, rs, vs)?),
        CheckKind::Smtp => Probe::Smtp {
            helo: c.smtp.clone().unwrap_or_default().helo_name,
        },
        CheckKind::Dns => {
            let d = c.dns.clone().unwrap_or_default();
            Probe::Dns {
                qtype: dns::qtype(d.qtype).ok_or_else(|| format!("DNS type {}", d.qtype))?,
                name: d.name,
            }
        }
        CheckKind::Misc => {
            let m = c.misc.clone().unwrap_or_default();
            let cmd = m.misc_path.ok_or("no misc_path")?;
            let delay_loop = c.delay_loop.or(rs.delay_loop).unwrap_or(vs.delay_loop);
            // The checker's `user`, else the command's, else script_user.
            let (user, group) = match &m.user {
                Some(u) => (Some(u.user.as_str()), u.group.as_deref()),
                None => (cmd.user.as_deref(), cmd.group.as_deref()),
            };
            Probe::Misc(MiscCheck {
                run_as: users.run_as(user, group),
                argv: cmd.argv,
                timeout: dur(m.misc_timeout.unwrap_or(delay_loop)),
                dynamic: m.misc_dynamic,
            })
        }
        CheckKind::Udp => {
            let u = c.udp.clone().unwrap_or_default();
            Probe::Udp(UdpCheck {
                payload: u.payload,
                require_reply: u
                    .require_reply
                    .as_deref()
                    .map(ReplyPattern::parse)
                    .transpose()?,
                min_reply_length: u.min_reply_length,
                max_reply_length: u.max_reply_length,
            })
        }
        CheckKind::Ping => Probe::Ping,
        CheckKind::File => {
            let f = c.file.clone().unwrap_or_default();
            let tf = cfg
                .track_files
                .iter()
                .find(|t| t.name == f.track_file)
                .ok_or_else(|| format!("no track_file {:?}", f.track_file))?;
            let (weight, reverse) = match f.weight {
                Some(w) => (w, f.reverse),
                None => (i64::from(tf.weight), tf.weight_reverse),
            };
            Probe::File(FileCheck {
                path: tf.file.clone().into(),
                weight,
                reverse,
            })
        }
        CheckKind::Bfd => return Err("BFD_CHECK is not implemented".into()),
    })
}

/// One checker: its probe (or why it cannot run) and where it goes.
pub struct Planned {
    pub probe: Result<Probe, String>,
    pub target: Target,
}

/// Every checker, indexed as the engine's [`CheckerId`](crate::check::engine::CheckerId)s are
/// (virtual server, real server, checker).
/// `users`: who MISC_CHECK scripts run as, resolved with `cfg`.
pub fn plan(cfg: &Config, users: &ScriptUsers) -> Vec<Vec<Vec<Planned>>> {
    cfg.virtual_servers
        .iter()
        .map(|vs| {
            vs.real_servers
                .iter()
                .map(|rs| {
                    rs.checkers
                        .iter()
                        .map(|c| Planned {
                            probe: probe(cfg, users, c, rs, vs),
                            target: target(c, rs, vs),
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}
