//! `tillsync bench …`: measured runs, figures as ratios against a baseline
//! measured in the same run.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::ui::Out;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// The down path: export, package size, full import against SQLite's own copy, incrementals.
    Down(DownArgs),
}

#[derive(Args)]
pub struct DownArgs {
    /// Items in the big table.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
}

pub fn run(cmd: BenchCmd, _out: &Out) -> Result<ExitCode> {
    match cmd {
        BenchCmd::Down(_) => anyhow::bail!("bench down is not built yet"),
    }
}
