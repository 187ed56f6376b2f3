//! The down path: the export job that turns the down sync tables into
//! packages in the package store, for the tills to fetch.
//!
//! # Layout
//! - [`export`]: the job, step by step (locks, one read view, publication, journal).
//! - [`decide`]: per table, nothing, an incremental and/or a full package, and why (pure).
//! - [`read`]: a table's rows or changes from the read view into package writers.
//! - [`publish`]: packages signed and put, the export recorded, the index last, retention.
//! - [`report`]: what an export did, and the lines it prints.

pub mod decide;
pub mod export;
pub mod publish;
pub mod read;
pub mod report;
