//! `vrrp_garp_interval` / `vrrp_gna_interval`: gratuitous ARPs (and unsolicited NAs) leave an
//! interface at least that far apart, so that hundreds of VIPs do not hit the switches and
//! neighbours in one burst (keepalived's vrrp_arp.c / vrrp_ndisc.c queue them per interface
//! behind `garp_delay`). One queue per interface and kind, each a task that sends a frame,
//! then waits the interval: the VRRP loop only hands frames over and never waits.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::log::Log;
use crate::sys::packet_socket::PacketSocket;

/// The paced queues: (interface index, NA rather than ARP, the interval) -> its task.
#[derive(Default)]
pub struct Pacer {
    queues: HashMap<(u32, bool, Duration), mpsc::UnboundedSender<Vec<u8>>>,
}

impl Pacer {
    /// Queues `frame` for interface `ifindex`, sent `gap` after the previous one of its kind.
    pub fn send(&mut self, ifindex: u32, na: bool, gap: Duration, frame: Vec<u8>, log: &Log) {
        let key = (ifindex, na, gap);
        let frame = match self.queues.get(&key) {
            Some(tx) => match tx.send(frame) {
                Ok(()) => return,
                Err(e) => e.0, // its task ended: start another
            },
            None => frame,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(frame);
        tokio::spawn(paced(ifindex, gap, rx, log.clone()));
        self.queues.insert(key, tx);
    }
}

/// One interface's queue: each frame `gap` after the one before.
async fn paced(ifindex: u32, gap: Duration, mut rx: mpsc::UnboundedReceiver<Vec<u8>>, log: Log) {
    let socket = match PacketSocket::open(ifindex) {
        Ok(s) => s,
        Err(e) => {
            log.warn(&format!(
                "gratuitous ARP/NA on interface {ifindex}: packet socket: {e}"
            ));
            return;
        }
    };
    let mut last: Option<Instant> = None;
    while let Some(frame) = rx.recv().await {
        if let Some(at) = last {
            tokio::time::sleep_until(at + gap).await;
        }
        if let Err(e) = socket.send(&frame) {
            log.warn(&format!("gratuitous ARP/NA on interface {ifindex}: {e}"));
        }
        last = Some(Instant::now());
    }
}

/// Whether an Ethernet frame carries IPv6 (an NA) rather than ARP.
pub fn is_na(frame: &[u8]) -> bool {
    frame.get(12..14) == Some(&[0x86, 0xdd][..])
}
