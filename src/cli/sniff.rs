//! `kaconsole sniff`: capture (or read) VRRP, print each advert, then the table and conflicts.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::pcap::{self, Capture, LINKTYPE_ETHERNET, Record};
use crate::sniff::observe::{Observed, observe};
use crate::sniff::table::Table;
use crate::sniff::{filter, report};

#[derive(Args, Debug)]
pub struct SniffArgs {
    /// Interface to capture on (`any` for all); not with -r.
    #[arg(value_name = "IFACE", required_unless_present = "read")]
    pub iface: Option<String>,
    /// Read a capture file instead of capturing: pcap (tcpdump -w) or pcapng (tshark,
    /// dumpcap), Ethernet or Linux cooked.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,
    /// Also write what was captured to a pcap file (tcpdump and tshark read it).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// One line per advert even on a terminal (where the default is the live table); the
    /// summary follows at the end.
    #[arg(long)]
    pub lines: bool,
    /// JSON: one flat object per advert, then one with the table and the findings.
    /// Intervals are in centiseconds (`interval_cs`), times in microseconds since the epoch.
    #[arg(long)]
    pub json: bool,
    /// Stop after this many seconds.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Stop after this many VRRP packets.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

/// What the run does with each packet and at the end.
struct Sink {
    json: bool,
    table: Table,
    written: Vec<Record>,
    keep: bool,
    /// Buffered: a capture file prints a million lines; a live capture flushes each one.
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    /// The line being printed, reused.
    line: String,
}

impl Sink {
    fn seen(&mut self, s: &Observed, frame: &[u8]) {
        self.table.add(s);
        if self.keep {
            self.written.push(Record {
                ts_us: s.ts_us,
                orig_len: frame.len() as u32,
                data: frame.to_vec(),
            });
        }
        self.line.clear();
        if self.json {
            self.line = report::json_line(s);
        } else {
            report::write_line(&mut self.line, s);
        }
        self.line.push('\n');
        let _ = self.out.write_all(self.line.as_bytes());
    }
}

pub fn run(args: &SniffArgs) -> ExitCode {
    let mut sink = Sink {
        json: args.json,
        table: Table::default(),
        written: Vec::new(),
        keep: args.write.is_some(),
        out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        line: String::new(),
    };
    let result = match &args.read {
        Some(path) => read_file(path, args, &mut sink),
        None => {
            let iface = args.iface.as_deref().unwrap_or("any");
            if std::io::stdout().is_terminal() && !args.lines && !args.json {
                capture_live(iface, args, &mut sink)
            } else {
                capture(iface, args, &mut sink)
            }
        }
    };
    if let Err(e) = result {
        eprintln!("kaconsole sniff: {e}");
        return ExitCode::from(2);
    }
    if let Some(path) = &args.write {
        let capture = Capture {
            linktype: LINKTYPE_ETHERNET,
            records: std::mem::take(&mut sink.written),
        };
        let written = std::fs::File::create(path)
            .and_then(|f| pcap::write(std::io::BufWriter::new(f), &capture));
        if let Err(e) = written {
            eprintln!("kaconsole sniff: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    let findings = sink.table.findings();
    if args.json {
        let end = serde_json::to_string(&sink.table.snapshot()).unwrap_or_default();
        let _ = writeln!(sink.out, "{end}");
    } else {
        let _ = writeln!(sink.out);
        let _ = write!(sink.out, "{}", report::summary(&sink.table));
    }
    let _ = sink.out.flush();
    if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn read_file(path: &PathBuf, args: &SniffArgs, sink: &mut Sink) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let c = pcap::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    if c.linktype != LINKTYPE_ETHERNET && c.linktype != pcap::LINKTYPE_LINUX_SLL {
        return Err(format!(
            "{}: link type {} (kaconsole reads Ethernet and Linux cooked captures)",
            path.display(),
            c.linktype
        ));
    }
    let mut n = 0;
    for r in &c.records {
        if args.count.is_some_and(|max| n >= max) {
            break;
        }
        if let Some(s) = observe(c.linktype, r.ts_us, &r.data) {
            sink.seen(&s, &r.data);
            n += 1;
        }
    }
    Ok(())
}

fn open(iface: &str) -> Result<crate::sys::capture::Capture, String> {
    crate::sys::capture::Capture::open(iface, &filter::program()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            format!("capturing on {iface} needs root (CAP_NET_RAW): {e}")
        } else {
            format!("capturing on {iface}: {e}")
        }
    })
}

/// Reads VRRP frames from `cap` until `stop`, --duration or --count; `each` gets every one.
fn capture_loop(
    cap: &crate::sys::capture::Capture,
    args: &SniffArgs,
    stop: &AtomicBool,
    mut each: impl FnMut(&Observed, &[u8]),
) -> Result<(), String> {
    let start = Instant::now();
    let mut buf = vec![0u8; 65_536];
    let mut n = 0;
    let limit = args.duration.map(Duration::from_secs_f64);
    while !stop.load(Ordering::Relaxed)
        && limit.is_none_or(|d| start.elapsed() < d)
        && args.count.is_none_or(|max| n < max)
    {
        let Some(len) = cap.next(&mut buf).map_err(|e| e.to_string())? else {
            continue;
        };
        let ts_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        if let Some(s) = observe(LINKTYPE_ETHERNET, ts_us, &buf[..len]) {
            each(&s, &buf[..len]);
            n += 1;
        }
    }
    Ok(())
}

/// Printing each advert as it comes.
fn capture(iface: &str, args: &SniffArgs, sink: &mut Sink) -> Result<(), String> {
    let cap = open(iface)?;
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signal(stop.clone());
    if !sink.json && std::io::stderr().is_terminal() {
        eprintln!("kaconsole sniff: capturing VRRP on {iface} (Ctrl-C stops)");
    }
    capture_loop(&cap, args, &stop, |s, frame| {
        sink.seen(s, frame);
        let _ = sink.out.flush();
    })
}

/// The live table on the terminal; the capture runs on a thread of its own.
fn capture_live(iface: &str, args: &SniffArgs, sink: &mut Sink) -> Result<(), String> {
    use crossterm::event::{Event, KeyEventKind, poll, read};
    let cap = open(iface)?;
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signal(stop.clone());
    let (tx, rx) = std::sync::mpsc::channel::<(Observed, Vec<u8>)>();
    let keep = sink.keep;
    let thread = {
        let stop = stop.clone();
        let args = SniffArgs {
            iface: None,
            read: None,
            write: None,
            lines: false,
            json: false,
            duration: args.duration,
            count: args.count,
        };
        std::thread::spawn(move || {
            let r = capture_loop(&cap, &args, &stop, |s, frame| {
                let frame = if keep { frame.to_vec() } else { Vec::new() };
                let _ = tx.send((s.clone(), frame));
            });
            // The capture ended by itself (--duration, --count): the screen ends too.
            stop.store(true, Ordering::Relaxed);
            r
        })
    };
    let mut live = crate::tui::sniff_live::Live::new(iface);
    let mut table = std::mem::take(&mut sink.table);
    let start = Instant::now();
    let mut terminal = ratatui::init();
    let shown = loop {
        while let Ok((s, frame)) = rx.try_recv() {
            table.add(&s);
            if keep {
                sink.written.push(Record {
                    ts_us: s.ts_us,
                    orig_len: frame.len() as u32,
                    data: frame,
                });
            }
        }
        live.elapsed_s = start.elapsed().as_secs_f64();
        live.snapshot = table.snapshot().into();
        if let Err(e) = terminal.draw(|f| live.draw(f)) {
            break Err(e.to_string());
        }
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        if poll(Duration::from_millis(200)).unwrap_or(false)
            && let Ok(Event::Key(k)) = read()
            && k.kind == KeyEventKind::Press
            && live.key(k)
        {
            break Ok(());
        }
    };
    ratatui::restore();
    stop.store(true, Ordering::Relaxed);
    let captured = thread.join().unwrap_or(Ok(()));
    // What arrived after the last draw still counts.
    while let Ok((s, _)) = rx.try_recv() {
        table.add(&s);
    }
    sink.table = table;
    shown.and(captured)
}

/// Sets `stop` on SIGINT or SIGTERM (a thread waits for them), so that the summary and the
/// pcap file are still written.
fn stop_on_signal(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        stop.store(true, Ordering::Relaxed);
    });
}
