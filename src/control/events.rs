//! The daemon's event stream: every event line goes to the subscribed consoles and into a
//! backlog of the most recent ones, which a new subscriber gets first - a console attached
//! just after a failover still sees it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// Event lines kept for new subscribers.
pub const BACKLOG: usize = 200;

#[derive(Clone, Debug)]
pub struct EventHub {
    tx: broadcast::Sender<String>,
    recent: Arc<Mutex<VecDeque<String>>>,
}

impl EventHub {
    /// `capacity`: the lines one subscriber may lag behind before it is dropped.
    pub fn new(capacity: usize) -> EventHub {
        EventHub {
            tx: broadcast::channel(capacity).0,
            recent: Arc::new(Mutex::new(VecDeque::with_capacity(BACKLOG))),
        }
    }

    /// Sends a line (JSON with its newline) to the subscribers and keeps it in the backlog.
    pub fn publish(&self, line: String) {
        // One lock around both, so that a subscriber gets each line once: from the backlog
        // or from the channel.
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == BACKLOG {
            recent.pop_front();
        }
        recent.push_back(line.clone());
        let _ = self.tx.send(line);
    }

    /// The backlog, and a receiver of every line after it.
    pub fn subscribe(&self) -> (Vec<String>, broadcast::Receiver<String>) {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        (recent.iter().cloned().collect(), self.tx.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscriber_gets_the_backlog_then_the_new_lines_once() {
        let hub = EventHub::new(16);
        for k in 0..BACKLOG + 5 {
            hub.publish(format!("{k}\n"));
        }
        let (backlog, mut rx) = hub.subscribe();
        assert_eq!(backlog.len(), BACKLOG);
        assert_eq!(backlog[0], "5\n", "the oldest go first");
        hub.publish("new\n".into());
        assert_eq!(rx.try_recv().unwrap(), "new\n");
        assert!(rx.try_recv().is_err());
    }
}
