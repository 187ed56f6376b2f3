//! `tillsync bench …`: measured runs, figures as ratios against a baseline
//! measured in the same run. The binary parses [`BenchCmd`] and calls
//! [`run`]; each bench prints its report as text, or as JSON with `--json`.
//!
//! # Layout
//! - [`command`]: the `bench` subcommand tree ([`BenchCmd`]) and its dispatch.
//! - [`down`]: `bench down`, the down path (export, package, apply on a till),
//!   on SQLite or with `--db-url` on PostgreSQL; its setup, baselines,
//!   experiments, report and run, one file each.
//! - [`up`]: `bench up`, tickets pushed by many simulated tills to a server in
//!   this process, against a no-op endpoint; its tickets made beforehand, load
//!   generator, check of the server, report and run.
//! - [`fleet`]: `bench fleet`, a fleet of light tills polling a `tillsync
//!   server run` child process; the tills, the server process, the data
//!   folder, report and run.
//! - [`fiscal`]: `bench fiscal`, a day of tickets closed on a till database and
//!   an archive of a million tickets verified against the raw Ed25519 batch
//!   rate; its arguments, records, report and run.
//! - [`ticket_chain`]: a till's chain of signed tickets and the demo items it
//!   prices them from (`bench up`, `bench fleet`).
//! - [`enrol`]: a bench till's own key enrolled as `till init` would (`bench up`).
//! - [`scratch`]: the temp folder of a run and a fresh PostgreSQL database.
//! - [`procfs`]: readings of `/proc` (CPU time, memory, threads, load, limits).
//! - [`measure`]: milliseconds, medians, ratios, percentiles, rates.
//! - [`targets`]: a target met or not and the verdict line of every report.
//! - [`rng`]: the small reproducible generator (SplitMix64).
//!
//! Shared modules (`ticket_chain` and below) import none of the benches.

pub mod command;
pub mod down;
pub mod enrol;
pub mod fiscal;
pub mod fleet;
pub mod measure;
pub mod procfs;
pub mod rng;
pub mod scratch;
pub mod targets;
pub mod ticket_chain;
pub mod up;

pub use command::{BenchCmd, run};
