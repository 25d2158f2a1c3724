//! The Linux shell: everything that touches the machine (interfaces, files, users).

pub mod capture;
pub mod env;
pub mod host;
pub mod iface;
pub mod ipvs_socket;
pub mod links;
pub mod memory;
pub mod netlink;
pub mod packet_socket;
pub mod priority;
pub mod regular_file;
pub mod safe_file;
pub mod script;
pub mod vrrp_socket;
