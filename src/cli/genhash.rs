//! `kaconsole genhash`: the MD5 digest of a page's body, for HTTP_GET's `digest` - what
//! keepalived's genhash (`keepalived --genhash`) prints, with the same options.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

use crate::check::http::{Protocol, Request};
use crate::check::probe::Target;
use crate::check::probe::fetch;
use crate::check::probe::tls::Tls;

#[derive(Args, Debug)]
pub struct GenhashArgs {
    /// The server (an address or a host name).
    #[arg(short = 's', long = "server", value_name = "HOST")]
    pub server: String,
    /// Its port.
    #[arg(short = 'p', long = "port", value_name = "PORT", default_value_t = 80)]
    pub port: u16,
    /// The path to GET.
    #[arg(short = 'u', long = "url", value_name = "URL")]
    pub url: String,
    /// Use TLS (SSL_GET).
    #[arg(short = 'S', long = "use-ssl")]
    pub ssl: bool,
    /// The Host header (`virtualhost`).
    #[arg(short = 'V', long = "use-virtualhost", value_name = "VHOST")]
    pub vhost: Option<String>,
    /// HTTP protocol: 1.0, 1.0c (1.0 with Connection: close) or 1.1.
    #[arg(
        short = 'P',
        long = "protocol",
        value_name = "VERSION",
        default_value = "1.0"
    )]
    pub protocol: String,
    /// Seconds to wait for the whole exchange.
    #[arg(short = 't', long = "timeout", value_name = "S", default_value_t = 5.0)]
    pub timeout: f64,
    /// Also print the status, the headers and the response time.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Print a JSON object (digest, status, length, milliseconds).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &GenhashArgs) -> ExitCode {
    match fetch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // keepalived's genhash prints "Connection failed" and exits 0; a script cannot
            // tell that from a digest, so kaconsole fails.
            eprintln!("kaconsole genhash: {e}");
            ExitCode::from(1)
        }
    }
}

fn fetch(args: &GenhashArgs) -> Result<(), String> {
    let protocol = Protocol::parse(&args.protocol)
        .ok_or_else(|| format!("-P {}: use 1.0, 1.0c or 1.1", args.protocol))?;
    let server: SocketAddr = (args.server.as_str(), args.port)
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", args.server))?
        .next()
        .ok_or_else(|| format!("{}: no address", args.server))?;
    let req = Request {
        path: args.url.clone(),
        vhost: args.vhost.clone(),
        protocol,
        keep_body: 0,
    };
    let target = Target::new(server, Duration::from_secs_f64(args.timeout.max(0.001)));
    // With -S and -V the virtual host also goes in SNI, as SSL_GET with enable_sni sends it.
    let tls = args.ssl.then(|| Tls {
        sni: args.vhost.clone(),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let resp = rt
        .block_on(fetch::fetch(&target, &req, tls.as_ref()))
        .map_err(|e| format!("{server}{}: {e}", args.url))?;
    let took = start.elapsed();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "digest": resp.digest_hex(), "status": resp.status,
                "length": resp.length, "ms": took.as_secs_f64() * 1e3,
            })
        );
        return Ok(());
    }
    if args.verbose {
        println!("status {}", resp.status);
        for h in &resp.headers {
            println!("{h}");
        }
        println!(
            "\nbody {} bytes, response time for [{}] = {} usecs",
            resp.length,
            args.url,
            took.as_micros()
        );
    }
    println!("{}", resp.digest_hex());
    Ok(())
}
