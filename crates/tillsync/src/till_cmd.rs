//! `tillsync till …`: install a till, load its data, show its state.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use tillsync_core::TillConfig;
use tillsync_store::TillDb;
use tillsync_till::import::{PullOptions, pull};
use tillsync_till::{DB_FILE, install};

use crate::ui::Out;

#[derive(Args)]
pub struct TillDataArg {
    /// The till data folder.
    #[arg(long, env = "TILLSYNC_TILL_DATA")]
    pub data: PathBuf,
}

#[derive(Subcommand)]
pub enum TillCmd {
    /// Install a till from a deployment package.
    Init {
        #[command(flatten)]
        data: TillDataArg,
        /// The deployment package (from `tillsync server package`).
        #[arg(long)]
        package: PathBuf,
    },
    /// Load the data: the modifications since the till's versions, or everything with --full.
    Sync {
        #[command(flatten)]
        data: TillDataArg,
        /// Load every table in full (the seed's "load the data").
        #[arg(long)]
        full: bool,
    },
    /// Show the till's identity, table versions and recent journal.
    Status(TillDataArg),
}

pub fn run(cmd: TillCmd, out: &Out) -> Result<ExitCode> {
    run_cmd(cmd, out).map_err(crate::server_cmd::said_once)
}

fn run_cmd(cmd: TillCmd, out: &Out) -> Result<ExitCode> {
    match cmd {
        TillCmd::Init { data, package } => {
            let cfg = install::init(&data.data, &package)?;
            let json = serde_json::json!({
                "till": cfg.till.id, "store": cfg.till.store, "folder": cfg.folder.name,
                "data": data.data,
            });
            out.emit(&json, || {
                println!(
                    "till {} (store {}, folder {}) installed in {}; run `tillsync till sync --data {}` to load its data",
                    cfg.till.id,
                    cfg.till.store,
                    cfg.folder.name,
                    data.data.display(),
                    data.data.display()
                )
            });
        }
        TillCmd::Sync { data, full } => {
            let pb = out.spinner("synchronising");
            let result = pull(&data.data, PullOptions { full }, &mut |m| {
                pb.set_message(m.to_string())
            });
            pb.finish_and_clear();
            let report = result?;
            out.emit(&report, || {
                println!("plan from {}", report.plan_source);
                for t in &report.tables {
                    let v = |v: Option<u64>| v.map(|v| format!("v{v}")).unwrap_or("-".into());
                    let why = t
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    println!(
                        "{:<12} {} → {}  {}{}",
                        t.table,
                        v(t.version_before),
                        v(t.version_after),
                        t.action,
                        why
                    );
                }
                for a in &report.applied {
                    println!(
                        "  applied {}: {} upserts, {} deletes in {} ms",
                        a.file, a.upserts, a.deletes, a.millis
                    );
                }
                println!(
                    "{} package(s), {} bytes in {} ms",
                    report.applied.len(),
                    report.downloaded_bytes,
                    report.millis
                );
            });
        }
        TillCmd::Status(data) => {
            let cfg = TillConfig::load(&data.data)?;
            let db = TillDb::open(&data.data.join(DB_FILE))?;
            let versions = db.table_versions()?;
            let journal = db.recent_journal(10)?;
            let json = serde_json::json!({
                "till": cfg.till.id, "store": cfg.till.store, "folder": cfg.folder.name,
                "tables": versions, "journal": journal,
            });
            out.emit(&json, || {
                println!(
                    "till {} of store {} (folder {})",
                    cfg.till.id, cfg.till.store, cfg.folder.name
                );
                for v in &versions {
                    println!(
                        "  {:<12} v{:<6} loaded {} ({})",
                        v.table, v.version, v.loaded_at, v.kind
                    );
                }
                println!("journal (newest first):");
                for j in &journal {
                    println!("  {} {:<8} {:<6} {}", j.at, j.kind, j.result, j.detail);
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
