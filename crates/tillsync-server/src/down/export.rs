//! The export job (the seed's extraction function): for every down sync
//! table, a full package at version V and/or an incremental package (A, B],
//! published atomically (temporary name, rename, index last), then packages
//! beyond retention purged. This file runs the steps in order: take the
//! export locks, then per table read ([`crate::down::read`]) what
//! [`crate::down::decide`] asks for in one read view, then publish
//! ([`crate::down::publish`]) and journal.

use std::collections::BTreeMap;
use std::fs::File;
use std::time::Instant;

use tillsync_core::{Direction, SyncTable, SyncType};
use tillsync_server_db::export::{TableExport, TableState};
use tillsync_server_db::store::ExportSnapshot;
use tillsync_transport::PackageStore;
use tillsync_wire::package::{PackageKind, PackageMeta};

use crate::data::DataDir;
use crate::down::decide::{Facts, Found, decide};
use crate::down::publish::{Pending, publish_index, publish_packages};
use crate::down::read::{self, TableRead};
use crate::down::report::{ExportReport, TableReport};
use crate::error::ServerError;

/// Options of one export run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Publish a full package of every table, whatever changed.
    pub full: bool,
}

/// Run one export into `store`. `progress` hears a line per step.
pub fn export(
    data: &DataDir,
    store: &mut dyn PackageStore,
    opts: ExportOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<ExportReport, ServerError> {
    let started = Instant::now();
    let lock = lock_data_folder(data)?;
    let cfg = data.config()?;
    let key = data.signing_key()?;
    let mut db = data.open_store_with(&cfg)?;
    // Several server processes may share one database: its own lock keeps
    // their exports apart (the lock file above covers one data folder).
    if !db.try_lock_export()? {
        return Err(ServerError::ExportBusy);
    }
    let retention = cfg.export.retention.max(1);

    let tables: Vec<SyncTable> = db
        .sync_tables()?
        .into_iter()
        .filter(|t| t.direction == Direction::Down)
        .collect();
    let needs_stores = tables.iter().any(|t| t.filter.is_some());
    let stores = if needs_stores {
        db.stores()?
    } else {
        Vec::new()
    };
    let mut states: BTreeMap<String, (Option<TableState>, u64)> = BTreeMap::new();
    for t in &tables {
        let state = db.table_state(&t.table)?;
        let since_full = match state.as_ref().and_then(|s| s.full_version) {
            Some(v) => db.incrementals_since_full(&t.table, v)?,
            None => 0,
        };
        states.insert(t.table.clone(), (state, since_full));
    }

    let now = tillsync_db::now_rfc3339();
    let mut out = Collected::default();
    {
        let mut snap = db.snapshot()?;
        let run = Run {
            folder: &cfg.folder.name,
            now: &now,
            stores: &stores,
            full_requested: opts.full,
            retention,
            max_seq: snap.max_seq(),
        };
        for t in &tables {
            progress(&format!("reading {}", t.table));
            let (state, since_full) = states.remove(&t.table).unwrap_or((None, 0));
            export_table(snap.as_mut(), &run, t, state, since_full, &mut out)?;
        }
        // The read view ends here; a change committed from now on (or
        // committed late, out of sequence order, on PostgreSQL) is not
        // covered by `max_seq` and goes into the next export.
        snap.finish()?;
    }
    let Collected {
        pending,
        mut exports,
        mut reports,
    } = out;

    // Build, sign and publish every package (temporary name, then rename).
    let bytes_total = publish_packages(store, &key, pending, &mut exports, &mut reports, progress)?;

    // Record, then write the index (last), then purge old files.
    let purged = publish_index(
        db.as_mut(),
        store,
        &key,
        &cfg.folder.name,
        &exports,
        retention,
        progress,
    )?;
    let report = ExportReport {
        tables: reports,
        purged,
        bytes: bytes_total,
        store: store.describe(),
        millis: started.elapsed().as_millis() as u64,
    };
    let summary = report
        .tables
        .iter()
        .filter(|t| t.outcome != "unchanged")
        .map(|t| {
            format!(
                "{} v{}→v{} {}",
                t.table, t.version_before, t.version_after, t.outcome
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    db.journal(
        "export",
        None,
        "ok",
        &if summary.is_empty() {
            "nothing changed".to_string()
        } else {
            summary
        },
    )?;
    db.unlock_export()?;
    drop(lock);
    Ok(report)
}

/// The data folder's export lock file, locked (held until dropped);
/// [`ServerError::ExportBusy`] while another export holds it.
fn lock_data_folder(data: &DataDir) -> Result<File, ServerError> {
    let lock_path = data.export_lock_path();
    let lock =
        File::create(&lock_path).map_err(|e| ServerError::io("cannot create", &lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServerError::ExportBusy),
        Err(std::fs::TryLockError::Error(e)) => Err(ServerError::io("cannot lock", &lock_path, e)),
    }
}

/// What holds for every table of one export.
struct Run<'a> {
    /// The POS folder's name (in every package).
    folder: &'a str,
    /// When the export started (every package's `created_at`).
    now: &'a str,
    /// The stores, for the tables with a filter column.
    stores: &'a [String],
    /// `--full`.
    full_requested: bool,
    /// Packages kept per table.
    retention: u32,
    /// The read view's newest change-log sequence.
    max_seq: i64,
}

/// What the tables read so far make: packages to publish, the new state of
/// each table that changed, a report per table.
#[derive(Default)]
struct Collected {
    pending: Vec<Pending>,
    exports: Vec<TableExport>,
    reports: Vec<TableReport>,
}

/// One table: what the read view finds, the decision, the packages it
/// asks for read into `out`.
fn export_table(
    snap: &mut dyn ExportSnapshot,
    run: &Run<'_>,
    t: &SyncTable,
    state: Option<TableState>,
    since_full: u64,
    out: &mut Collected,
) -> Result<(), ServerError> {
    let layout = snap.layout(&t.table)?;
    let layout_hash = layout.hash();
    let v = state.as_ref().map(|s| s.version).unwrap_or(0);
    let subsets = read::subsets(t.filter.is_some(), run.stores);
    let table = TableRead {
        table: &t.table,
        layout: &layout,
        filter: t.filter.as_deref(),
        subsets: &subsets,
    };
    let facts = |found| Facts {
        state: state.as_ref(),
        since_full,
        layout_hash: &layout_hash,
        found,
        full_requested: run.full_requested,
        retention: run.retention,
    };
    let mut report = TableReport {
        table: t.table.clone(),
        version_before: v,
        version_after: v,
        rows: 0,
        published: Vec::new(),
        outcome: "unchanged".into(),
        full_reason: None,
    };
    // (kind, from version, one writer per subset)
    let mut packages = Vec::new();
    let (decision, snapshot_hash) = match t.sync_type {
        SyncType::Incremental => {
            let last_seq = state.as_ref().map(|s| s.last_seq).unwrap_or(0);
            let changed = snap.has_changes(&t.table, last_seq, run.max_seq)?;
            let Some(d) = decide(&facts(Found::Changes(changed))) else {
                out.reports.push(report);
                return Ok(());
            };
            if d.incremental {
                let (writers, rows) = read::changes(snap, &table, last_seq, run.max_seq)?;
                report.rows = rows;
                packages.push((PackageKind::Incremental, v, writers));
            }
            if d.full.is_some() {
                let (writers, rows) = read::full(snap, &table)?;
                report.rows = rows;
                packages.push((PackageKind::Full, 0, writers));
            }
            (d, None)
        }
        SyncType::Full => {
            let (writers, rows) = read::full(snap, &table)?;
            report.rows = rows;
            let content = read::snapshot_hash(&layout_hash, &writers);
            let Some(d) = decide(&facts(Found::Snapshot(&content))) else {
                out.reports.push(report);
                return Ok(());
            };
            packages.push((PackageKind::Full, 0, writers));
            (d, Some(content))
        }
    };
    for (kind, from, writers) in packages {
        for (w, s) in writers.into_iter().zip(&subsets) {
            out.pending.push(Pending {
                meta: PackageMeta {
                    folder: run.folder.to_string(),
                    table: t.table.clone(),
                    subset: s.clone(),
                    kind,
                    from_version: from,
                    to_version: decision.version,
                    created_at: run.now.to_string(),
                },
                writer: w,
            });
        }
    }
    report.outcome = decision.outcome();
    report.full_reason = decision.full.map(String::from);
    report.version_after = decision.version;
    out.exports.push(TableExport {
        state: TableState {
            table: t.table.clone(),
            version: decision.version,
            last_seq: run.max_seq,
            layout_hash: layout_hash.clone(),
            snapshot_hash,
            full_version: decision.full_version,
        },
        packages: Vec::new(),
    });
    out.reports.push(report);
    Ok(())
}
