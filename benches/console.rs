//! The console's two costs per refresh (every 500 ms):
//! - decoding a status reply with 1000 instances (target < 10 ms);
//! - taking it into the model (history for the sparklines);
//! - drawing the overview of 1000 instances at 120x40 (target < 5 ms);
//! - drawing the cluster overview of 3 nodes x 1000 instances at 120x40, the findings between
//!   them computed (target < 10 ms).
//!
//! `cargo bench --bench console` prints the median of 50 runs of each, and the reply's size.
//! keepalived has no console, so there is no counterpart to compare with.

use std::hint::black_box;
use std::time::Instant;

use kaconsole::control::protocol::fixture;
use kaconsole::control::protocol::{Answer, Reply};
use kaconsole::tui::model::{Model, Msg};
use kaconsole::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Median milliseconds of `runs` calls of `f`.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[runs / 2]
}

fn main() {
    let status = fixture::many(1000);
    let line = serde_json::to_string(&Reply::ok(7, Answer::Status(Box::new(status.clone()))))
        .expect("serializes");
    let decode = median_ms(50, || {
        let r: Reply = serde_json::from_str(black_box(&line)).expect("decodes");
        black_box(r);
    });
    let mut model = Model::new("/run/kaconsole/kaconsole.sock");
    model.update(Msg::Connected { admin: true });
    // Taking a snapshot in: the sparkline history of every instance is updated.
    let update = median_ms(50, || {
        model.update(Msg::Status(Box::new(status.clone())));
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let render = median_ms(50, || {
        terminal
            .draw(|f| view::draw(f, black_box(&model)))
            .expect("draws");
    });
    // Three nodes of 1000 instances each: the overview by virtual router, with the findings.
    let labels: Vec<String> = (1..=3).map(|k| format!("lb{k}")).collect();
    let mut cluster = Model::cluster(&labels);
    for (k, label) in labels.iter().enumerate() {
        let mut s = status.clone();
        s.host = label.clone();
        for i in &mut s.instances {
            i.base_priority = i.base_priority.wrapping_add(k as u8 * 50);
            i.effective_priority = i.base_priority;
        }
        cluster.update(Msg::From(k, Box::new(Msg::Connected { admin: true })));
        cluster.update(Msg::From(k, Box::new(Msg::Status(Box::new(s)))));
    }
    // One node's status in: the findings over the three nodes are computed again.
    let mut s1 = status.clone();
    s1.host = labels[0].clone();
    let cluster_update = median_ms(50, || {
        cluster.update(Msg::From(0, Box::new(Msg::Status(Box::new(s1.clone())))));
    });
    let cluster_render = median_ms(50, || {
        terminal
            .draw(|f| view::draw(f, black_box(&cluster)))
            .expect("draws");
    });
    println!("console, 1000 instances (median of 50 runs)");
    println!(
        "  decode status reply ({} KB)   {decode:>7.2} ms   target < 10 ms",
        line.len() / 1024
    );
    println!("  model update (history)          {update:>7.2} ms");
    println!("  render overview 120x40          {render:>7.2} ms   target < 5 ms");
    println!("  cluster: one node's status in, findings over 3 nodes x 1000");
    println!("                                  {cluster_update:>7.2} ms");
    println!("  render cluster overview, 3 nodes x 1000, 120x40, with findings");
    println!("                                  {cluster_render:>7.2} ms   target < 10 ms");
}
