//! [`UpArgs`]: the arguments of `bench up`.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct UpArgs {
    /// Simulated tills, all sending at the same time.
    #[arg(long, default_value_t = 100)]
    pub tills: usize,
    /// Tickets each till sends.
    #[arg(long, default_value_t = 1_000)]
    pub tickets: usize,
    /// Lines per ticket.
    #[arg(long, default_value_t = 5)]
    pub lines: usize,
    /// Tickets per outbox batch (one POST).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Items in the demo `ART` the tickets are priced from.
    #[arg(long, default_value_t = 10_000)]
    pub items: usize,
    /// Seconds of each no-op baseline run (one before, one after the tickets).
    #[arg(long, default_value_t = 3.0)]
    pub baseline_secs: f64,
    /// Folder to make the temporary bench folder in (default: the system
    /// temp folder). Put it on the disk you mean to measure: the figures
    /// include fsync.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the temp folder (server database, tills' packages) for analysis.
    #[arg(long)]
    pub keep: bool,
    /// A PostgreSQL server to run on, `postgres://user:password@host:port/db`
    /// of a role that may create databases (default: the embedded SQLite
    /// database). A fresh database is created there for the run and dropped
    /// at the end.
    #[arg(long)]
    pub db_url: Option<String>,
}
