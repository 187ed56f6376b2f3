//! The command modules of the binary: each parses its part of the command
//! tree (clap) and calls the libraries. `bench` and `demo` are parsed and
//! run by `tillsync-bench` and `tillsync-demo` themselves.

pub mod archive;
pub mod common;
pub mod fiscal;
pub mod receipt;
pub mod server;
pub mod server_config;
pub mod status;
pub mod till;
pub mod till_keys;
pub mod till_sell;
pub mod verify;
