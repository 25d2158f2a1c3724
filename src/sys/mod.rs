//! The Linux shell: everything that touches the machine (interfaces, files, users).

pub mod env;
