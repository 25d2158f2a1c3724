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
//! - the same for a flood: every advert from a source never heard before, every VRID, 32
//!   addresses each (the table stays at its caps, and the work per advert must not grow);
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

/// A neighbour's flood: advert k from 10.100.0.0 + k, VRID k % 255 + 1, 32 addresses.
fn generate_flood(n: usize) -> Capture {
    let mut cfg = InstanceConfig::new("VI", "eth0", 1, 100, "10.100.0.0".parse().unwrap());
    cfg.vips = (1..=32u32)
        .map(|a| IpAddr::V4(std::net::Ipv4Addr::from(0x0ac8_0000 + a)))
        .collect();
    let records = (0..n)
        .map(|k| {
            cfg.src = IpAddr::V4(std::net::Ipv4Addr::from(0x0a64_0000 + k as u32));
            let advert = Advert {
                version: Version::V2,
                vrid: (k % 255 + 1) as u8,
                priority: 100,
                interval: Duration::secs(1),
                auth: Some(kaconsole::vrrp::packet::Auth {
                    kind: kaconsole::vrrp::packet::AuthType::None,
                    data: Some([0; 8]),
                }),
                addrs: cfg.vips.clone(),
            };
            let data = ethernet(&wire::encode(&cfg, &advert, None, cfg.mcast_dst), false, 9);
            Record {
                ts_us: 1_700_000_000_000_000 + k as u64 * 50,
                orig_len: data.len() as u32,
                data,
            }
        })
        .collect();
    Capture {
        linktype: LINKTYPE_ETHERNET,
        records,
    }
}

/// Parse + decode + table over the pcap `bytes`, 3 runs (the file is in memory already): the
/// best time in seconds, and the last table.
fn in_process(bytes: &[u8]) -> (f64, Table) {
    let mut best = f64::MAX;
    let mut last = Table::default();
    for _ in 0..3 {
        let t = Instant::now();
        let c = pcap::parse(bytes).expect("parse");
        let mut table = Table::default();
        for r in &c.records {
            if let Some(s) = observe(c.linktype, r.ts_us, &r.data) {
                table.add(&s);
            }
        }
        black_box(table.findings());
        best = best.min(t.elapsed().as_secs_f64());
        last = table;
    }
    (best, last)
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
    let (best, _) = in_process(&bytes);
    println!("sniff, {n} adverts ({} MB pcap)", size / 1_000_000);
    println!(
        "  kaconsole, in process (decode + table)   {:>7.3} s   {:>6.2} M adverts/s   target >= 2 M/s",
        best,
        n as f64 / best / 1e6
    );
    let mut flood = Vec::new();
    pcap::write(&mut flood, &generate_flood(n)).expect("write");
    let (flood_s, table) = in_process(&flood);
    let d = table.snapshot().dropped;
    println!(
        "  the same, a flood of new sources         {:>7.3} s   {:>6.2} M adverts/s   \
         (holds {} routers, {} evicted)",
        flood_s,
        n as f64 / flood_s / 1e6,
        table.len(),
        d.evicted
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
