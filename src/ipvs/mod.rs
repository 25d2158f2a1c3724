//! IPVS over generic netlink: the family's messages (our own codec, tested on bytes), the
//! table kaconsole wants from the configuration and the checkers, and the pure reconcile that
//! turns "what the kernel has" into "what it should have" with the fewest operations. The
//! socket that carries the messages is `sys::ipvs_socket`.
//!
//! The codec is written by hand (nla.rs) rather than on netlink-packet-core's buffers: the
//! IPVS family needs a dozen attributes of four kinds, and 100 lines with a byte test for
//! every message are easier to check against ip_vs.h than a generic framework.

pub mod desired;
pub mod message;
pub mod nla;
pub mod reconcile;
