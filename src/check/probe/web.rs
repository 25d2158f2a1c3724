//! HTTP_GET and SSL_GET: every `url` in turn, each a fresh connection; the checker passes only
//! when all of them do (check_http.c `http_handle_response`). A URL passes when the status is
//! in its set (200-299 by default), the body's MD5 equals `digest` if one is set, and `regex`
//! matches the body (or does not, with `regex_no_match`). The regex looks at the body's first
//! 64 KiB (keepalived matches the whole body as it streams, through a 4 KiB window: pcre2's
//! partial matching, check_http.c `check_regex`; kaconsole keeps a bounded prefix instead).

use regex::bytes::Regex;

use super::fetch::fetch;
use super::tls::Tls;
use super::{Outcome, Target};
use crate::check::http::response::REGEX_WINDOW;
use crate::check::http::{self, Protocol, Request};

#[derive(Clone, Debug)]
pub struct UrlCheck {
    pub path: String,
    /// The Host header: the url's virtualhost, else the checker's, real server's, virtual
    /// server's; none: the address.
    pub vhost: Option<String>,
    pub digest: Option<[u8; 16]>,
    /// Accepted status ranges, inclusive; empty: 200-299.
    pub status: Vec<(u16, u16)>,
    pub regex: Option<Regex>,
    pub regex_no_match: bool,
}

#[derive(Clone, Debug)]
pub struct WebCheck {
    pub urls: Vec<UrlCheck>,
    pub protocol: Protocol,
    /// SSL_GET.
    pub tls: bool,
    /// enable_sni: each URL's virtual host goes in the TLS server name.
    pub sni: bool,
}

/// Why `resp` does not satisfy `url`, if it does not.
pub fn verdict(url: &UrlCheck, resp: &http::Response) -> Result<String, String> {
    let status_ok = if url.status.is_empty() {
        (200..=299).contains(&resp.status)
    } else {
        url.status
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&resp.status))
    };
    if !status_ok {
        return Err(format!("HTTP status code {} on {}", resp.status, url.path));
    }
    if let Some(want) = url.digest
        && want != resp.digest
    {
        return Err(format!(
            "MD5 digest {} on {}, expected {}",
            resp.digest_hex(),
            url.path,
            crate::hex::encode(&want)
        ));
    }
    if let Some(re) = &url.regex
        && re.is_match(&resp.prefix) == url.regex_no_match
    {
        let within = if resp.length > resp.prefix.len() {
            format!(" (in the body's first {} KiB)", REGEX_WINDOW >> 10)
        } else {
            String::new()
        };
        return Err(format!("regex match failed on {}{within}", url.path));
    }
    Ok(format!("HTTP {} on {}", resp.status, url.path))
}

pub async fn check(w: &WebCheck, target: &Target) -> Outcome {
    let mut seen = Vec::new();
    for url in &w.urls {
        let req = Request {
            path: url.path.clone(),
            vhost: url.vhost.clone(),
            protocol: w.protocol,
            keep_body: if url.regex.is_some() { REGEX_WINDOW } else { 0 },
        };
        let tls = w.tls.then(|| Tls {
            sni: url.vhost.clone().filter(|_| w.sni),
        });
        let result = fetch(target, &req, tls.as_ref())
            .await
            .map_err(|e| format!("{} on {}", e, url.path))
            .and_then(|resp| verdict(url, &resp));
        match result {
            Ok(s) => seen.push(s),
            Err(e) => return Outcome::fail(e),
        }
    }
    Outcome::pass(seen.join(", "))
}
