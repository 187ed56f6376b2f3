//! The export job (the seed's extraction function): for every down sync
//! table, a full package at version V and/or an incremental package (A, B],
//! published atomically (temporary name, rename, index last), then packages
//! beyond retention purged.

use std::collections::BTreeMap;
use std::fs::File;
use std::time::Instant;

use serde::Serialize;
use tillsync_core::{Direction, SyncTable, SyncType};
use tillsync_server_db::export::TableExport;
use tillsync_server_db::export::TableState;
use tillsync_server_db::store::ExportSnapshot;
use tillsync_transport::PackageStore;
use tillsync_wire::index::{INDEX_FILE, IndexBody, IndexEntry};
use tillsync_wire::package::{PackageKind, PackageMeta, PackageWriter};
use tillsync_wire::value::ValueRef;

use crate::{DataDir, ServerError};

/// Options of one export run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Publish a full package of every table, whatever changed.
    pub full: bool,
}

/// What happened to one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// Table.
    pub table: String,
    /// Version before the export (0: never exported).
    pub version_before: u64,
    /// Version after.
    pub version_after: u64,
    /// Rows in the table (full packages) or changed rows (incremental).
    pub rows: u64,
    /// Files published.
    pub published: Vec<String>,
    /// `unchanged`, `incremental`, `full`, `incremental+full`.
    pub outcome: String,
    /// Why a full package was built, if one was.
    pub full_reason: Option<String>,
}

/// What one export did.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Package files removed by retention.
    pub purged: Vec<String>,
    /// Bytes published.
    pub bytes: u64,
    /// Where.
    pub store: String,
    /// Duration in milliseconds.
    pub millis: u64,
}

impl ExportReport {
    /// The lines `tillsync server export` prints, and the admin page's
    /// "Export now" shows: one wording for both.
    pub fn lines(&self) -> Vec<String> {
        let report = self;
        let mut lines = Vec::new();
        for t in &report.tables {
            let files = if t.published.is_empty() {
                String::new()
            } else {
                format!(" [{}]", t.published.join(", "))
            };
            let why = t
                .full_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            lines.push(format!(
                "{:<12} v{} → v{}  {}{}  {} rows{}",
                t.table, t.version_before, t.version_after, t.outcome, why, t.rows, files
            ));
        }
        if !report.purged.is_empty() {
            lines.push(format!("purged (retention): {}", report.purged.join(", ")));
        }
        lines.push(format!(
            "published {} bytes to {} in {} ms",
            report.bytes, report.store, report.millis
        ));
        lines
    }
}

struct Pending {
    meta: PackageMeta,
    writer: PackageWriter,
}

fn matches_store(filter: Option<ValueRef<'_>>, store: &str) -> bool {
    match filter {
        None | Some(ValueRef::Null) => true,
        Some(ValueRef::Text(s)) => s == store,
        Some(ValueRef::Integer(i)) => i.to_string() == store,
        Some(_) => false,
    }
}

/// Run one export into `store`. `progress` hears a line per step.
pub fn export(
    data: &DataDir,
    store: &mut dyn PackageStore,
    opts: ExportOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<ExportReport, ServerError> {
    let started = Instant::now();
    let lock_path = data.export_lock_path();
    let lock =
        File::create(&lock_path).map_err(|e| ServerError::io("cannot create", &lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(ServerError::ExportBusy),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(ServerError::io("cannot lock", &lock_path, e));
        }
    }
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
    let mut pending: Vec<(usize, Pending)> = Vec::new();
    let mut exports: Vec<TableExport> = Vec::new();
    let mut reports: Vec<TableReport> = Vec::new();
    {
        let mut snap = db.snapshot()?;
        let max_seq = snap.max_seq();
        for (ti, t) in tables.iter().enumerate() {
            progress(&format!("reading {}", t.table));
            let layout = snap.layout(&t.table)?;
            let layout_hash = layout.hash();
            let (state, since_full) = states.remove(&t.table).unwrap_or((None, 0));
            let v = state.as_ref().map(|s| s.version).unwrap_or(0);
            let layout_changed = state.as_ref().is_some_and(|s| s.layout_hash != layout_hash);
            let subsets: Vec<Option<String>> = match &t.filter {
                Some(_) => stores.iter().cloned().map(Some).collect(),
                None => vec![None],
            };
            let filter = t.filter.as_deref();
            let meta = |kind, from, to, subset: &Option<String>| PackageMeta {
                folder: cfg.folder.name.clone(),
                table: t.table.clone(),
                subset: subset.clone(),
                kind,
                from_version: from,
                to_version: to,
                created_at: now.clone(),
            };
            let read_full_into = |snap: &mut dyn ExportSnapshot,
                                  writers: &mut Vec<PackageWriter>|
             -> Result<u64, ServerError> {
                Ok(snap.read_full(&t.table, &layout, filter, &mut |row, fv| {
                    for (w, s) in writers.iter_mut().zip(&subsets) {
                        if s.as_deref().is_none_or(|s| matches_store(fv, s)) {
                            w.upsert(row).map_err(|e| {
                                tillsync_db::StoreError::Inconsistent(e.to_string())
                            })?;
                        }
                    }
                    Ok(())
                })?)
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
            match t.sync_type {
                SyncType::Incremental => {
                    let last_seq = state.as_ref().map(|s| s.last_seq).unwrap_or(0);
                    let changed = snap.has_changes(&t.table, last_seq, max_seq)?;
                    let full_reason = if state.is_none() {
                        Some("first export of this table")
                    } else if layout_changed {
                        Some("the table's layout changed")
                    } else if opts.full {
                        Some("full export requested")
                    } else if state.as_ref().is_some_and(|s| s.full_version.is_none()) {
                        Some("no full package yet")
                    } else if changed && since_full + 1 > u64::from(retention) {
                        Some("the incrementals since the last full package reach the retention")
                    } else {
                        None
                    };
                    if !changed && full_reason.is_none() {
                        reports.push(report);
                        continue;
                    }
                    let new_v = if changed || state.is_none() || layout_changed {
                        v + 1
                    } else {
                        v
                    };
                    let mut outcome = Vec::new();
                    if changed && state.is_some() && !layout_changed {
                        let mut writers: Vec<PackageWriter> = subsets
                            .iter()
                            .map(|_| PackageWriter::new(layout.clone()))
                            .collect();
                        report.rows = snap.read_changes(
                            &t.table,
                            &layout,
                            filter,
                            last_seq,
                            max_seq,
                            &mut |c| {
                                for (w, s) in writers.iter_mut().zip(&subsets) {
                                    let r = match c.row {
                                        Some(row)
                                            if s.as_deref()
                                                .is_none_or(|s| matches_store(c.filter, s)) =>
                                        {
                                            w.upsert(row)
                                        }
                                        _ => w.delete(c.key),
                                    };
                                    r.map_err(|e| {
                                        tillsync_db::StoreError::Inconsistent(e.to_string())
                                    })?;
                                }
                                Ok(())
                            },
                        )?;
                        for (w, s) in writers.into_iter().zip(&subsets) {
                            pending.push((
                                ti,
                                Pending {
                                    meta: meta(PackageKind::Incremental, v, new_v, s),
                                    writer: w,
                                },
                            ));
                        }
                        outcome.push("incremental");
                    }
                    if let Some(reason) = full_reason {
                        let mut writers: Vec<PackageWriter> = subsets
                            .iter()
                            .map(|_| PackageWriter::new(layout.clone()))
                            .collect();
                        report.rows = read_full_into(snap.as_mut(), &mut writers)?;
                        for (w, s) in writers.into_iter().zip(&subsets) {
                            pending.push((
                                ti,
                                Pending {
                                    meta: meta(PackageKind::Full, 0, new_v, s),
                                    writer: w,
                                },
                            ));
                        }
                        outcome.push("full");
                        report.full_reason = Some(reason.to_string());
                    }
                    report.outcome = outcome.join("+");
                    report.version_after = new_v;
                    exports.push(TableExport {
                        state: TableState {
                            table: t.table.clone(),
                            version: new_v,
                            last_seq: max_seq,
                            layout_hash: layout_hash.clone(),
                            snapshot_hash: None,
                            full_version: if full_reason.is_some() {
                                Some(new_v)
                            } else {
                                state.as_ref().and_then(|s| s.full_version)
                            },
                        },
                        packages: Vec::new(),
                    });
                }
                SyncType::Full => {
                    let mut writers: Vec<PackageWriter> = subsets
                        .iter()
                        .map(|_| PackageWriter::new(layout.clone()))
                        .collect();
                    report.rows = read_full_into(snap.as_mut(), &mut writers)?;
                    let mut h = layout_hash.clone();
                    for w in &writers {
                        h.push_str(&w.content_sha256());
                    }
                    let content = tillsync_wire::sha256_hex(h.as_bytes());
                    let same = state
                        .as_ref()
                        .is_some_and(|s| s.snapshot_hash.as_deref() == Some(content.as_str()));
                    if same && !opts.full {
                        reports.push(report);
                        continue;
                    }
                    let new_v = if same { v.max(1) } else { v + 1 };
                    for (w, s) in writers.into_iter().zip(&subsets) {
                        pending.push((
                            ti,
                            Pending {
                                meta: meta(PackageKind::Full, 0, new_v, s),
                                writer: w,
                            },
                        ));
                    }
                    report.outcome = "full".into();
                    report.full_reason = Some(if same {
                        "full export requested".into()
                    } else if state.is_none() {
                        "first export of this table".into()
                    } else {
                        "snapshot table changed".into()
                    });
                    report.version_after = new_v;
                    exports.push(TableExport {
                        state: TableState {
                            table: t.table.clone(),
                            version: new_v,
                            last_seq: max_seq,
                            layout_hash: layout_hash.clone(),
                            snapshot_hash: Some(content),
                            full_version: Some(new_v),
                        },
                        packages: Vec::new(),
                    });
                }
            }
            reports.push(report);
        }
        // The read view ends here; a change committed from now on (or
        // committed late, out of sequence order, on PostgreSQL) is not
        // covered by `max_seq` and goes into the next export.
        snap.finish()?;
    }

    // Build, sign and publish every package (temporary name, then rename).
    let mut bytes_total = 0u64;
    for (ti, p) in pending {
        let file = p.meta.file_name();
        progress(&format!("publishing {file}"));
        let meta = p.meta.clone();
        let bytes = p.writer.finish(p.meta, &key)?;
        let header = tillsync_wire::package::peek_header(&bytes)?;
        store.put(&file, &bytes)?;
        bytes_total += bytes.len() as u64;
        let entry = IndexEntry {
            file: file.clone(),
            table: meta.table.clone(),
            subset: meta.subset.clone(),
            kind: meta.kind,
            from_version: meta.from_version,
            to_version: meta.to_version,
            layout_hash: header.layout_hash,
            size: bytes.len() as u64,
            sha256: tillsync_wire::sha256_hex(&bytes),
            upserts: header.upserts,
            deletes: header.deletes,
        };
        let table = &tables[ti].table;
        if let Some(e) = exports.iter_mut().find(|e| &e.state.table == table) {
            e.packages.push(entry);
        }
        if let Some(r) = reports.iter_mut().find(|r| &r.table == table) {
            r.published.push(file);
        }
    }

    // Record, then write the index (last), then purge old files.
    let purged = db.record_export(&exports, retention)?;
    let index = IndexBody {
        folder: cfg.folder.name.clone(),
        generated_at: tillsync_db::now_rfc3339(),
        packages: db.published()?,
    };
    progress("writing the package index");
    store.put(INDEX_FILE, &index.encode(&key))?;
    for f in &purged {
        if let Err(e) = store.delete(f) {
            tracing::warn!(file = %f, error = %e, "could not delete a purged package");
        }
    }
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
