//! [`DownArgs`]: the arguments of `bench down`, on SQLite and with `--db-url`.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct DownArgs {
    /// Items in the big table.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Items in the small setup the incremental apply is compared with.
    #[arg(long, default_value_t = 10_000)]
    pub small_rows: usize,
    /// Incremental rounds on each setup (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Full imports and SQLite copies of the big table, interleaved (the
    /// median is reported).
    #[arg(long, default_value_t = 3)]
    pub full_runs: usize,
    /// Folder to make the temporary bench folder in (default: the system
    /// temp folder). Put it on the disk you mean to measure: the figures
    /// include fsync.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also time local, experimental variants of the apply loop (pragmas,
    /// table shapes), for analysis. They are not the library's code path.
    #[arg(long)]
    pub experiments: bool,
    /// Run the down path on PostgreSQL, with SQLite in the same run as the
    /// baseline: a PostgreSQL server and a role that may create databases
    /// (a fresh database is made for the run and dropped at the end). Only
    /// `--rows`, `--rounds` and `--dir` apply then.
    #[arg(long, value_name = "URL")]
    pub db_url: Option<String>,
}
