//! Who may connect: at most [`MAX_CLIENTS`] at once, [`PER_USER`] per user other than root and
//! the daemon's own, and the last [`ADMIN_SLOTS`] for those two only, so that a reader holding
//! connections open never keeps root out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::net::UnixStream;

use super::{ADMIN_SLOTS, MAX_CLIENTS, PER_USER};

/// A client as the kernel names it (SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    /// Root and the daemon's own user may apply and reload; others may only read.
    pub admin: bool,
}

impl Peer {
    pub fn of(stream: &UnixStream) -> Peer {
        let me = nix::unistd::geteuid().as_raw();
        let uid = stream.peer_cred().map_or(u32::MAX, |c| c.uid());
        Peer {
            uid,
            admin: uid == 0 || uid == me,
        }
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_user: HashMap<u32, usize>,
}

/// The connections held now.
#[derive(Clone, Default)]
pub struct Admission(Arc<Mutex<Counts>>);

/// A connection's place; it is given back when dropped.
pub struct Ticket {
    admission: Admission,
    uid: u32,
}

impl Admission {
    /// A place for `peer`, if the limits leave one.
    pub fn admit(&self, peer: Peer) -> Option<Ticket> {
        let mut c = self.counts();
        let allowed = if peer.admin {
            c.total < MAX_CLIENTS
        } else {
            c.total < MAX_CLIENTS - ADMIN_SLOTS
                && c.per_user.get(&peer.uid).copied().unwrap_or(0) < PER_USER
        };
        if !allowed {
            return None;
        }
        c.total += 1;
        *c.per_user.entry(peer.uid).or_insert(0) += 1;
        Some(Ticket {
            admission: self.clone(),
            uid: peer.uid,
        })
    }

    /// Connections held now.
    pub fn clients(&self) -> usize {
        self.counts().total
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A poisoned lock only means a client task panicked while counting; the counts stay
        // usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut c = self.admission.counts();
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_user.get_mut(&self.uid) {
            *n -= 1;
            if *n == 0 {
                c.per_user.remove(&self.uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READER: Peer = Peer {
        uid: 65534,
        admin: false,
    };
    const ROOT: Peer = Peer {
        uid: 0,
        admin: true,
    };

    #[test]
    fn a_reader_gets_its_share_and_root_its_slots() {
        let a = Admission::default();
        let mine: Vec<Ticket> = (0..PER_USER).map_while(|_| a.admit(READER)).collect();
        assert_eq!(mine.len(), PER_USER);
        assert!(a.admit(READER).is_none(), "one user's share is full");
        // Other readers fill the rest of the readers' places.
        let mut others = Vec::new();
        for uid in 1000.. {
            let p = Peer { uid, admin: false };
            match a.admit(p) {
                Some(t) => others.push(t),
                None if a.clients() == MAX_CLIENTS - ADMIN_SLOTS => break,
                None => {}
            }
        }
        assert_eq!(a.clients(), MAX_CLIENTS - ADMIN_SLOTS);
        let root: Vec<Ticket> = (0..ADMIN_SLOTS).map_while(|_| a.admit(ROOT)).collect();
        assert_eq!(root.len(), ADMIN_SLOTS, "root still gets in");
        assert!(a.admit(ROOT).is_none(), "the total holds for everyone");
        drop(root);
        drop(mine);
        assert_eq!(a.clients(), MAX_CLIENTS - ADMIN_SLOTS - PER_USER);
        assert!(a.admit(READER).is_some(), "places are given back");
    }
}
