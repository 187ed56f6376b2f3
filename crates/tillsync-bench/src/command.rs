//! `tillsync bench …`: the subcommand tree and its dispatch to each bench.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use tillsync_output::Out;

use crate::down::args::DownArgs;
use crate::fiscal::args::FiscalArgs;
use crate::fleet::args::FleetArgs;
use crate::up::args::UpArgs;

/// The benches (`tillsync bench …`).
#[derive(Subcommand)]
pub enum BenchCmd {
    /// The down path: export, package size, full import against SQLite's own copy, incrementals.
    Down(DownArgs),
    /// The up path: tickets/s pushed by many tills, against a no-op endpoint.
    Up(UpArgs),
    /// A fleet of light tills polling a server process: latency, errors, server RSS and CPU.
    Fleet(FleetArgs),
    /// Fiscal records: closing a day of 20,000 tickets, and verifying an
    /// archive of 1,000,000 tickets against the raw Ed25519 batch rate.
    Fiscal(FiscalArgs),
}

/// Run the bench `cmd` names; its report goes to `out`.
pub fn run(cmd: BenchCmd, out: &Out) -> Result<ExitCode> {
    match cmd {
        BenchCmd::Down(args) => match args.db_url.clone() {
            Some(url) => crate::down::pg::run(args, &url, out),
            None => crate::down::run::run(args, out),
        },
        BenchCmd::Up(args) => crate::up::run::run(args, out),
        BenchCmd::Fleet(args) => crate::fleet::run::run(args, out),
        BenchCmd::Fiscal(args) => crate::fiscal::run::run(args, out),
    }
}
