//! Integration tests of tillsync, one binary: real SQLite files, the real web
//! service and FTP servers on 127.0.0.1:0, the real `tillsync` binary; and
//! `house`, the house rules of issue 9 checked on the workspace's own files.

mod util;

mod admin;
mod archive;
mod browser;
mod cashier;
mod cli;
mod customers;
mod down;
mod faults;
mod fiscal;
mod fleet;
mod house;
mod metrics;
mod postgres;
mod receipts;
mod tickets_v2;
mod till_keys;
mod tls;
mod up_faults;
mod up_server;
mod up_till;
mod upgrade;
