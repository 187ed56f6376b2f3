//! [`FleetArgs`]: the arguments of `bench fleet`.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct FleetArgs {
    /// Simulated tills, each on its own schedule and connection.
    #[arg(long, default_value_t = 1_000)]
    pub tills: usize,
    /// Each till's sync interval (± 10 % jitter), in ms.
    #[arg(long, default_value_t = 5_000)]
    pub interval_ms: u64,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 60.0)]
    pub duration_s: f64,
    /// Seconds of warm-up (connections, first contacts), not in the latency figures.
    #[arg(long, default_value_t = 10.0)]
    pub warmup_s: f64,
    /// A till pushes a ticket batch every this many cycles.
    #[arg(long, default_value_t = 3)]
    pub push_every: u32,
    /// Tickets per pushed batch.
    #[arg(long, default_value_t = 5)]
    pub batch: usize,
    /// Lines per ticket.
    #[arg(long, default_value_t = 3)]
    pub lines: usize,
    /// Items in the demo `ART`.
    #[arg(long, default_value_t = 10_000)]
    pub items: usize,
    /// A PostgreSQL server to run on, `postgres://user:password@host:port/db`
    /// of a role that may create databases (default: the embedded SQLite
    /// database of the data folder). The bench creates a fresh database
    /// there for the run (`server init --db-url` into it) and drops it at
    /// the end.
    #[arg(long)]
    pub db_url: Option<String>,
    /// Folder to make the temporary bench folder in (default: the system
    /// temp folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the temp folder (server data folder and log) for analysis.
    #[arg(long)]
    pub keep: bool,
}
