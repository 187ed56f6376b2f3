//! `bench down`: the down path (export, package, apply on a till) measured
//! against SQLite's own copy and a small setup, on SQLite or, with
//! `--db-url`, on PostgreSQL with SQLite as the baseline.
//!
//! `bench down` runs the down path on real SQLite files in a temp folder,
//! without the network: the export publishes into the share folder (copy
//! mode), and the till's packages are read from there, verified and applied
//! with `TillDb::apply`, so only the library's own work is timed. With
//! `--experiments` it also times local, experimental copies of the apply
//! loop (other pragmas, other table shapes) for analysis; those never feed
//! the main figures.

pub mod args;
pub mod baseline;
pub mod experiments;
pub mod pg;
pub mod report;
pub mod run;
pub mod setup;
