//! [`FiscalArgs`]: the arguments of `bench fiscal`.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct FiscalArgs {
    /// Tickets of the business day closed on the till.
    #[arg(long, default_value_t = 20_000)]
    pub day_tickets: u64,
    /// Tickets of the archive verified.
    #[arg(long, default_value_t = 1_000_000)]
    pub archive_tickets: u64,
    /// Tickets per business day of the archive (each day closed, each month rolled up).
    #[arg(long, default_value_t = 20_000)]
    pub tickets_per_day: u64,
    /// Folder to make the temporary bench folder in (default: the system temp folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the temp folder (till database, archive) for analysis.
    #[arg(long)]
    pub keep: bool,
}
