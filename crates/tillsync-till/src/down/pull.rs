//! The importer (`till sync`'s pull): ask the web service which packages the
//! till needs (or read the signed package index when the web service is
//! down), download them over FTP, have each checked (`down::fetch`)
//! and apply it through the till database in one transaction. Full loads
//! happen on their own when needed, and the report says why.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_till_db::TillDb;
use tillsync_till_db::db::{ApplyReport, Expect};
use tillsync_transport::{FtpStore, PackageStore};
use tillsync_wire::api::{AvailableRequest, PlanAction, TablePlan, TillTable};

use crate::client::Client;
use crate::down::fetch::{download, read_index, verify};
use crate::error::TillError;
use crate::files::DB_FILE;
use crate::up::uptables;

/// Options of one pull.
#[derive(Debug, Clone, Copy, Default)]
pub struct PullOptions {
    /// Load every table in full (the seed's "load the data").
    pub full: bool,
}

/// What one table's pull did.
#[derive(Debug, Clone, Serialize)]
pub struct TablePull {
    /// Table.
    pub table: String,
    /// `up-to-date`, `incremental`, `full`, `not-published`.
    pub action: String,
    /// Why a full load, if one was made.
    pub reason: Option<String>,
    /// Version before.
    pub version_before: Option<u64>,
    /// Version after.
    pub version_after: Option<u64>,
}

/// What one pull did.
#[derive(Debug, Clone, Serialize)]
pub struct PullReport {
    /// `web service` or `package index (web service unreachable: …)`.
    pub plan_source: String,
    /// Per table.
    pub tables: Vec<TablePull>,
    /// Every package applied, in order.
    pub applied: Vec<ApplyReport>,
    /// Bytes downloaded.
    pub downloaded_bytes: u64,
    /// Duration in milliseconds.
    pub millis: u64,
}

/// Pull once for the till in `dir`. `progress` hears a line per step.
pub fn pull(
    dir: &Path,
    opts: PullOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<PullReport, TillError> {
    let started = Instant::now();
    let cfg = TillConfig::load(dir)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    let result = pull_with(&cfg, &mut db, opts, progress);
    match &result {
        Ok(r) => {
            let n = r.applied.len();
            db.journal(
                "pull",
                "ok",
                &format!(
                    "{n} package(s) applied, {} bytes, plan from {}",
                    r.downloaded_bytes, r.plan_source
                ),
            )?;
        }
        Err(e) => {
            note_signature_failure(&cfg, &mut db, e);
            db.journal("pull", "error", &e.to_string())?;
        }
    }
    result.map(|mut r| {
        r.millis = started.elapsed().as_millis() as u64;
        r
    })
}

fn pull_with(
    cfg: &TillConfig,
    db: &mut TillDb,
    opts: PullOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<PullReport, TillError> {
    let key = cfg.verifying_key()?;
    let versions = db.table_versions()?;
    let till_tables: Vec<TillTable> = versions
        .iter()
        .map(|v| TillTable {
            table: v.table.clone(),
            version: Some(v.version),
            layout_hash: Some(v.layout_hash.clone()),
        })
        .collect();
    let mut ftp: Option<FtpStore> = None;
    let connect = |ftp: &mut Option<FtpStore>| -> Result<(), TillError> {
        if ftp.is_none() {
            *ftp = Some(FtpStore::connect(
                &cfg.ftp.address,
                &cfg.ftp.user,
                cfg.ftp.password.expose(),
                cfg.sync.ws_timeout(),
                false,
            )?);
        }
        Ok(())
    };

    progress("asking the web service which packages are available");
    // What waits in the outbox and the error list, for the till supervisor.
    // A failure to read it must not stop the load: the request goes without.
    let report = db
        .outbox_report()
        .inspect_err(|e| tracing::warn!(error = %e, "cannot read the outbox for the report"))
        .ok();
    let request = AvailableRequest {
        tables: till_tables.clone(),
        full: opts.full,
        report,
    };
    // The up-direction tables, known only when the web service answers.
    let mut up_tables = None;
    let (plans, plan_source) = match Client::new(cfg)?.available(&request) {
        Ok(resp) => {
            up_tables = Some(resp.up_tables);
            (resp.tables, "web service".to_string())
        }
        // Out of reach, or not enrolled yet (no token to ask with): the
        // signed index over FTP, as the package's FTP access allows.
        Err(e @ (TillError::Unreachable { .. } | TillError::NotEnrolled(_))) => {
            progress("web service unreachable; reading the package index");
            connect(&mut ftp)?;
            let index = read_index(ftp.as_mut().expect("connected"), &key)?;
            (
                tillsync_core::plan::plan_all(
                    &index.packages,
                    &cfg.till.store,
                    &till_tables,
                    opts.full,
                ),
                format!("package index ({e})"),
            )
        }
        Err(e) => return Err(e),
    };

    let down_tables: Vec<String> = plans.iter().map(|p| p.table.clone()).collect();
    let expect = Expect {
        folder: &cfg.folder.name,
        store: &cfg.till.store,
        force_full: opts.full,
    };
    let mut report = PullReport {
        plan_source,
        tables: Vec::new(),
        applied: Vec::new(),
        downloaded_bytes: 0,
        millis: 0,
    };
    for plan in plans {
        let before = versions
            .iter()
            .find(|v| v.table == plan.table)
            .map(|v| v.version);
        let mut table = TablePull {
            table: plan.table.clone(),
            action: action_name(plan.action).into(),
            reason: plan.reason.clone(),
            version_before: before,
            version_after: before,
        };
        if plan.packages.is_empty() {
            report.tables.push(table);
            continue;
        }
        connect(&mut ftp)?;
        let store = ftp.as_mut().expect("connected");
        match apply_plan(store, db, &plan, &key, &expect, &mut report, progress) {
            Ok(()) => {}
            Err(e) if can_heal_with_full(&e) => {
                note_signature_failure(cfg, db, &e);
                // The incrementals cannot take the till to the newest version
                // (layout or version drift, a package missing or damaged in
                // the store): load the table in full instead, and say so —
                // if a full package newer than what the till holds exists.
                let Ok(index) = read_index(store, &key) else {
                    return Err(e);
                };
                let full =
                    tillsync_core::plan::plan_all(&index.packages, &cfg.till.store, &[], true)
                        .into_iter()
                        .find(|p| p.table == plan.table);
                let held = db
                    .table_versions()?
                    .into_iter()
                    .find(|v| v.table == plan.table)
                    .map(|v| v.version);
                let newer = full.filter(|f| {
                    f.packages
                        .first()
                        .is_some_and(|p| held.is_none_or(|h| p.to_version > h))
                });
                let Some(full) = newer else {
                    return Err(e);
                };
                table.action = "full".into();
                table.reason = Some(format!("{e}; loading the table in full instead"));
                apply_plan(store, db, &full, &key, &expect, &mut report, progress)?;
            }
            Err(e) => return Err(e),
        }
        table.version_after = report
            .applied
            .iter()
            .rev()
            .find(|a| a.table == plan.table)
            .map(|a| a.to_version)
            .or(before);
        report.tables.push(table);
    }
    if let Some(f) = ftp {
        let _ = f.into_client().quit();
    }
    if !report.applied.is_empty() {
        db.checkpoint()?;
    }
    if let Some(up) = up_tables {
        // After the packages (a full load recreates a table): capture the
        // up tables. A failure here does not fail the pull; it is journaled.
        match uptables::sync(db, &up, &down_tables) {
            Ok(t) if !t.is_empty() => progress(&format!(
                "capturing changes of up table(s) {}",
                t.iter()
                    .map(|t| t.table.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Ok(_) => {}
            Err(e) => {
                progress(&format!("up tables: {e}"));
                db.journal("up-tables", "error", &e.to_string())?;
            }
        }
    }
    Ok(report)
}

/// A signature that is not the server's is written in the event log
/// (`signature_failure`), whether or not a full load gets past it.
fn note_signature_failure(cfg: &TillConfig, db: &mut TillDb, e: &TillError) {
    let TillError::BadSignature { file, reason } = e else {
        return;
    };
    let written = crate::fiscal::jet::Fiscal::new(cfg).and_then(|f| {
        f.log(
            db,
            tillsync_core::fiscal::event::EventKind::SignatureFailure,
            serde_json::json!({"file": file, "reason": reason}),
        )
    });
    if let Err(err) = written {
        tracing::error!(error = %err, "the event log could not record a failed signature check");
    }
}

/// Errors a full load can get past: the till's copy does not fit the
/// incrementals, or an incremental is missing from the store or damaged.
fn can_heal_with_full(e: &TillError) -> bool {
    match e {
        TillError::Store(s) => s.needs_full(),
        TillError::Transport(t) => t.is_not_found(),
        TillError::Download { .. } | TillError::BadSignature { .. } => true,
        _ => false,
    }
}

fn action_name(a: PlanAction) -> &'static str {
    match a {
        PlanAction::UpToDate => "up-to-date",
        PlanAction::Incremental => "incremental",
        PlanAction::Full => "full",
        PlanAction::NotPublished => "not-published",
    }
}

/// Download, check and apply the packages of `plan`, in order.
fn apply_plan(
    store: &mut dyn PackageStore,
    db: &mut TillDb,
    plan: &TablePlan,
    key: &ed25519_dalek::VerifyingKey,
    expect: &Expect<'_>,
    report: &mut PullReport,
    progress: &mut dyn FnMut(&str),
) -> Result<(), TillError> {
    for entry in &plan.packages {
        progress(&format!("downloading {}", entry.file));
        let bytes = download(store, entry)?;
        report.downloaded_bytes += bytes.len() as u64;
        let pkg = verify(&bytes, entry, key)?;
        progress(&format!("applying {}", entry.file));
        let applied = db.apply(&entry.file, &pkg, expect)?;
        report.applied.push(applied);
    }
    Ok(())
}
