//! `till archive`: the archive of a closed period made from the till's own
//! database and signed with its key (`docs/fiscal-archive.md`), written
//! atomically, and the archiving written in the event log (`archive`).

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tillsync_archive::manifest::Role;
use tillsync_archive::write::{ArchiveMeta, write_archive};
use tillsync_core::TillConfig;
use tillsync_core::fiscal::event::EventKind;
use tillsync_core::fiscal::ledger::PeriodName;
use tillsync_core::fiscal::verify::keys::{fingerprint, key_id};
use tillsync_core::fiscal::verify::report::Run;
use tillsync_till_db::TillDb;
use tillsync_till_db::fiscal::ledger::till_period_ledger;

use crate::error::TillError;
use crate::files::DB_FILE;
use crate::fiscal::jet::{Fiscal, SOFTWARE_VERSION};

/// An archive made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Archived {
    /// The file.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of the whole file (also in the `archive` event).
    pub sha256: String,
    /// The period.
    pub period: String,
    /// Tickets held.
    pub tickets: Run,
    /// Events held.
    pub events: Run,
    /// Closings held.
    pub closings: Run,
    /// The signing key's id and fingerprint.
    pub key_id: String,
    /// The fingerprint.
    pub fingerprint: String,
    /// The number of the `archive` event written.
    pub event: u64,
}

fn file_sha256(path: &Path) -> Result<String, TillError> {
    let mut f = std::fs::File::open(path).map_err(|source| TillError::Io {
        what: "cannot read the archive",
        path: path.display().to_string(),
        source,
    })?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|source| TillError::Io {
        what: "cannot read the archive",
        path: path.display().to_string(),
        source,
    })?;
    Ok(hex::encode(h.finalize()))
}

/// Archive `period` (`2026`, `2026-12` or `2026-12-04`) of the till in
/// `dir` into `out`. Only closed periods: a period with no closing is refused.
pub fn archive(dir: &Path, period: &str, out: &Path) -> Result<Archived, TillError> {
    let period = PeriodName::parse(period)?;
    let cfg = TillConfig::load(dir)?;
    let fiscal = Fiscal::new(&cfg)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    let ledger = till_period_ledger(db.conn(), &fiscal.till, fiscal.zone.name(), &period)?;
    let now = tillsync_db::now_rfc3339();
    let software = format!("tillsync {SOFTWARE_VERSION}");
    let vk = fiscal.key.verifying_key();
    // The key history once the till is enrolled (signed by the server key
    // of its package).
    let history = crate::enrol::read_history(dir)?;
    let server = cfg.verifying_key()?;
    let meta = ArchiveMeta {
        made_by: Role::Till,
        folder: &cfg.folder.name,
        store: &cfg.till.store,
        created_at: &now,
        software: &software,
        till_key: &vk,
        key_history: history.as_ref().map(|h| (h, &server)),
    };
    let written = write_archive(&ledger, &meta, &fiscal.key, out)?;
    let sha256 = file_sha256(out)?;
    let m = &written.manifest;
    let file = out.file_name().map_or_else(
        || out.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let body = serde_json::json!({
        "period": period.as_str(), "file": file, "sha256": sha256, "bytes": written.bytes,
        "tickets": [m.tickets.after, m.tickets.to], "events": [m.events.after, m.events.to],
        "closings": [m.closings.after, m.closings.to],
    });
    let event = fiscal.log(&mut db, EventKind::Archive, body)?;
    let a = &ledger.anchors;
    Ok(Archived {
        path: out.display().to_string(),
        bytes: written.bytes,
        sha256,
        period: period.to_string(),
        tickets: Run::after(a.tickets.after, ledger.tickets.len()),
        events: Run::after(a.events.after, ledger.events.len()),
        closings: Run::after(a.closings.after, ledger.closings.len()),
        key_id: key_id(&vk),
        fingerprint: fingerprint(&vk),
        event: event.seq,
    })
}
