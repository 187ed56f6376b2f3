//! What `tillsync demo` reports: the steps and their times, every table on
//! the server and on each till, the tickets and customer changes of the up
//! path (JSON with `--json`); the tills' tables compared with the server's;
//! the text form.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_server::DataDir;
use tillsync_server::verify::compare_with_till;
use tillsync_till::DB_FILE;
use tillsync_till_db::TillDb;

use crate::scenario::TILLS;

#[derive(Serialize)]
pub(crate) struct Step {
    pub(crate) step: String,
    pub(crate) millis: u64,
}

#[derive(Serialize)]
pub(crate) struct TableLine {
    pub(crate) table: String,
    pub(crate) server_version: u64,
    pub(crate) server_rows: u64,
    pub(crate) tills: Vec<TillTable>,
}

#[derive(Serialize)]
pub(crate) struct TillTable {
    pub(crate) till: String,
    pub(crate) rows: u64,
    pub(crate) version: Option<u64>,
    pub(crate) matches: bool,
}

#[derive(Serialize)]
pub(crate) struct Summary {
    pub(crate) dir: PathBuf,
    pub(crate) web_service: String,
    pub(crate) ftp: String,
    pub(crate) steps: Vec<Step>,
    pub(crate) tables: Vec<TableLine>,
    pub(crate) all_match: bool,
    pub(crate) up: UpSummary,
    pub(crate) fiscal: crate::fiscal::FiscalSummary,
    pub(crate) total_millis: u64,
}

#[derive(Serialize)]
pub(crate) struct TillTickets {
    pub(crate) till: String,
    pub(crate) sold: u64,
    pub(crate) sold_offline: u64,
    pub(crate) on_server: u64,
    pub(crate) verified: u64,
    pub(crate) quarantined: u64,
    pub(crate) highest_contiguous: u64,
    pub(crate) missing: Vec<String>,
    pub(crate) exactly_once: bool,
}

#[derive(Serialize)]
pub(crate) struct UpSummary {
    pub(crate) tickets: Vec<TillTickets>,
    pub(crate) offline_creation_refused: bool,
    pub(crate) created_customer: String,
    pub(crate) edited_offline: String,
    pub(crate) edit_applied_on_server: bool,
    pub(crate) abandoned: String,
    pub(crate) abandon_applied_on_server: bool,
    pub(crate) ok: bool,
}

/// Every table of every till against the server's, one line per table.
pub(crate) fn compare(data: &DataDir, dir: &Path) -> Result<Vec<TableLine>> {
    let mut lines: Vec<TableLine> = Vec::new();
    for till in TILLS {
        let tdir = dir.join(till);
        let tcfg = TillConfig::load(&tdir)?;
        let tdb = TillDb::open(&tdir.join(DB_FILE))?;
        for m in compare_with_till(data, tdb.conn(), &tcfg.till.store)? {
            let line = match lines.iter_mut().find(|l| l.table == m.table) {
                Some(l) => l,
                None => {
                    lines.push(TableLine {
                        table: m.table.clone(),
                        server_version: m.server_version,
                        server_rows: m.server_rows,
                        tills: Vec::new(),
                    });
                    lines.last_mut().expect("just pushed")
                }
            };
            line.tills.push(TillTable {
                till: till.to_string(),
                rows: m.till_rows,
                version: m.till_version,
                matches: m.matches,
            });
        }
    }
    Ok(lines)
}

pub(crate) fn print_summary(s: &Summary) {
    println!("tillsync demo — folder DEMO in {}", s.dir.display());
    println!("web service {}  ·  embedded FTP {}", s.web_service, s.ftp);
    println!();
    println!("{:<62} {:>8}", "step", "ms");
    for st in &s.steps {
        println!("{:<62} {:>8}", st.step, st.millis);
    }
    println!();
    print!("{:<12} {:>8} {:>10}", "table", "version", "server");
    for t in TILLS {
        print!(" {:>16}", t);
    }
    println!();
    for l in &s.tables {
        print!(
            "{:<12} {:>8} {:>10}",
            l.table, l.server_version, l.server_rows
        );
        for t in &l.tills {
            let mark = if t.matches { "ok" } else { "DIFFERS" };
            print!(" {:>8} v{:<2} {:>3}", t.rows, t.version.unwrap_or(0), mark);
        }
        println!();
    }
    println!();
    println!(
        "(CLI is filtered by store: each till holds its store's customers and the all-store ones)"
    );
    if s.all_match {
        println!("every till matches the server at the exported versions");
    } else {
        println!("MISMATCH: a till differs from the server");
    }
    println!();
    println!(
        "{:<6} {:>6} {:>8} {:>10} {:>9} {:>12} {:>11}  exactly once",
        "till", "sold", "offline", "on server", "verified", "quarantined", "contiguous"
    );
    for t in &s.up.tickets {
        println!(
            "{:<6} {:>6} {:>8} {:>10} {:>9} {:>12} {:>11}  {}{}",
            t.till,
            t.sold,
            t.sold_offline,
            t.on_server,
            t.verified,
            t.quarantined,
            t.highest_contiguous,
            if t.exactly_once { "yes" } else { "NO" },
            if t.missing.is_empty() {
                String::new()
            } else {
                format!(" missing {}", t.missing.join(", "))
            }
        );
    }
    let yes = |b: bool| if b { "yes" } else { "NO" };
    println!(
        "customer creation with the server stopped refused: {}",
        yes(s.up.offline_creation_refused)
    );
    println!(
        "customer created from the template: {}",
        s.up.created_customer
    );
    println!(
        "customer {} edited offline, applied on the server: {}",
        s.up.edited_offline,
        yes(s.up.edit_applied_on_server)
    );
    println!(
        "customer {} abandoned, deleted on the server: {}",
        s.up.abandoned,
        yes(s.up.abandon_applied_on_server)
    );
    crate::fiscal::print_fiscal(&s.fiscal);
    println!(
        "{} ({} ms in all)",
        if s.all_match && s.up.ok && s.fiscal.ok {
            "every ticket is on the server exactly once, chains verified; the tills match the server; every archive verifies and the altered copy is caught"
        } else {
            "FAILED: see above"
        },
        s.total_millis
    );
}
