//! `kaconsole sniff` throughput: decoding a capture and keeping the table, beside tshark on
//! the same file.
//!
//! ```sh
//! cargo bench --bench sniff                                # 1,000,000 adverts
//! KACONSOLE_BENCH_ADVERTS=200000 cargo bench --bench sniff
//! ```
//!
//! It writes a pcap of generated adverts (100 VRIDs, two routers each, VRRPv2 and v3, IPv4
//! and IPv6, one in a hundred a priority-0 advert) to target/, then measures:
//! - in process: frame decode (link, IP, VRRP, checksum) + table update, adverts per second;
//! - the command: `kaconsole sniff -r FILE > /dev/null` (a line printed per advert);
//! - `tshark -r FILE -Y vrrp -T fields -e vrrp.virt_rtr_id > /dev/null`, when installed.
//!
//! Targets: at least 2 M adverts/s in process, and 10x tshark.

use std::hint::black_box;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use kaconsole::pcap::{self, Capture, LINKTYPE_ETHERNET, Record};
use kaconsole::sim::wire;
use kaconsole::sniff::observe::observe;
use kaconsole::sniff::table::Table;
use kaconsole::time::Duration;
use kaconsole::vrrp::instance_config::InstanceConfig;
use kaconsole::vrrp::packet::{Advert, Version};

/// An Ethernet frame around IP packet `ip`.
fn ethernet(ip: &[u8], v6: bool, src_mac: u8) -> Vec<u8> {
    let mut f = vec![0x01, 0x00, 0x5e, 0x00, 0x00, 0x12];
    f.extend([0x02, 0x77, 0, 0, 0, src_mac]);
    f.extend(if v6 { [0x86, 0xdd] } else { [0x08, 0x00] });
    f.extend_from_slice(ip);
    f
}

fn generate(n: usize) -> Capture {
    let mut frames = Vec::new();
    for vrid in 1..=100u8 {
        for router in 1..=2u8 {
            let v6 = vrid % 4 == 0;
            let src: IpAddr = if v6 {
                format!("fe80::{router}").parse().unwrap()
            } else {
                format!("10.0.0.{router}").parse().unwrap()
            };
            let mut cfg = InstanceConfig::new("VI", "eth0", vrid, 100 + router, src);
            if vrid % 2 == 0 || v6 {
                cfg.version = Version::V3;
            }
            cfg.vips = vec![if v6 {
                format!("2001:db8::{vrid}").parse().unwrap()
            } else {
                format!("10.0.1.{vrid}").parse().unwrap()
            }];
            for prio in [100 + router, 0] {
                let advert = Advert {
                    version: cfg.version,
                    vrid,
                    priority: prio,
                    interval: Duration::secs(1),
                    auth: None,
                    addrs: cfg.vips.clone(),
                };
                let advert = if cfg.version == Version::V2 {
                    Advert {
                        auth: Some(kaconsole::vrrp::packet::Auth {
                            kind: kaconsole::vrrp::packet::AuthType::None,
                            data: Some([0; 8]),
                        }),
                        ..advert
                    }
                } else {
                    advert
                };
                let ip = wire::encode(&cfg, &advert, None, cfg.mcast_dst);
                frames.push((prio == 0, ethernet(&ip, v6, router)));
            }
        }
    }
    let normal: Vec<&Vec<u8>> = frames.iter().filter(|f| !f.0).map(|f| &f.1).collect();
    let zero: Vec<&Vec<u8>> = frames.iter().filter(|f| f.0).map(|f| &f.1).collect();
    let records = (0..n)
        .map(|k| {
            let data = if k % 100 == 99 {
                zero[k / 100 % zero.len()]
            } else {
                normal[k % normal.len()]
            };
            Record {
                ts_us: 1_700_000_000_000_000 + k as u64 * 50,
                orig_len: data.len() as u32,
                data: data.clone(),
            }
        })
        .collect();
    Capture {
        linktype: LINKTYPE_ETHERNET,
        records,
    }
}

/// Seconds the command took (output to /dev/null), or why it did not run.
fn time_command(program: &str, args: &[&str]) -> Result<f64, String> {
    let t = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    status
        .code()
        .filter(|c| *c <= 1)
        .map(|_| secs)
        .ok_or(format!("{program}: {status}"))
}

fn main() {
    let n: usize = std::env::var("KACONSOLE_BENCH_ADVERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let file = dir.join("sniff-bench.pcap");
    eprintln!("generating {n} adverts into {}", file.display());
    let capture = generate(n);
    pcap::write(
        std::io::BufWriter::new(std::fs::File::create(&file).expect("create")),
        &capture,
    )
    .expect("write");
    let size = std::fs::metadata(&file).map_or(0, |m| m.len());

    // In process, 3 runs, the best (the file is in memory already).
    let bytes = std::fs::read(&file).expect("read");
    let best = (0..3)
        .map(|_| {
            let t = Instant::now();
            let c = pcap::parse(&bytes).expect("parse");
            let mut table = Table::default();
            for r in &c.records {
                if let Some(s) = observe(c.linktype, r.ts_us, &r.data) {
                    table.add(&s);
                }
            }
            black_box(table.findings());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min);
    println!("sniff, {n} adverts ({} MB pcap)", size / 1_000_000);
    println!(
        "  kaconsole, in process (decode + table)   {:>7.3} s   {:>6.2} M adverts/s   target >= 2 M/s",
        best,
        n as f64 / best / 1e6
    );
    let exe = dir.join("release").join("kaconsole");
    let f = file.to_str().unwrap();
    let ours = if exe.exists() {
        time_command(exe.to_str().unwrap(), &["sniff", "-r", f])
    } else {
        Err("build it first: cargo build --release".into())
    };
    match &ours {
        Ok(s) => println!(
            "  kaconsole sniff -r (a line per advert)   {s:>7.3} s   {:>6.2} M adverts/s",
            n as f64 / s / 1e6
        ),
        Err(e) => println!("  kaconsole sniff -r: {e}"),
    }
    match time_command(
        "tshark",
        &[
            "-r",
            f,
            "-Y",
            "vrrp",
            "-T",
            "fields",
            "-e",
            "vrrp.virt_rtr_id",
        ],
    ) {
        Ok(s) => {
            println!(
                "  tshark -Y vrrp -e vrrp.virt_rtr_id       {s:>7.3} s   {:>6.2} M adverts/s",
                n as f64 / s / 1e6
            );
            if let Ok(o) = ours {
                println!("  kaconsole sniff -r is {:.1}x tshark (target 10x)", s / o);
            }
        }
        Err(e) => println!("  tshark: {e}"),
    }
}
