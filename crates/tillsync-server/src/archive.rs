//! The server's copy of a till's fiscal records as an archive and under the
//! verifier: `server archive` (a closed period, signed by the server's key,
//! `docs/fiscal-archive.md`) and `verify --server` (everything the server
//! holds of a till, checked with the keys it knows for it).

use std::path::Path;

use serde::Serialize;
use tillsync_archive::manifest::Role;
use tillsync_archive::write::{ArchiveMeta, write_archive};
use tillsync_core::fiscal::ledger::{PeriodName, period_ledger, whole_ledger};
use tillsync_core::fiscal::verify::keys::{fingerprint, key_id};
use tillsync_core::fiscal::verify::report::{Run, Verdict};
use tillsync_core::fiscal::verify::verify;
use tillsync_server_db::ledger_source::{ServerSource, server_till_keys};
use tillsync_wire::keys::{KEY_HISTORY_FORMAT, KeyHistoryFile};

use crate::data::DataDir;
use crate::error::ServerError;

/// An archive made by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerArchived {
    /// The file.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The till.
    pub till: String,
    /// The period.
    pub period: String,
    /// Tickets held.
    pub tickets: Run,
    /// Events held.
    pub events: Run,
    /// Closings held.
    pub closings: Run,
    /// The server key's id (the signer).
    pub key_id: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// Archive `period` of `till` from the server's copy into `out`, signed by
/// the server's key. A period in which the server holds no closing of the
/// till is refused.
pub fn archive(
    data: &DataDir,
    till: &str,
    period: &str,
    out: &Path,
) -> Result<ServerArchived, ServerError> {
    let period = PeriodName::parse(period).map_err(|e| ServerError::Invalid(e.to_string()))?;
    let cfg = data.config()?;
    let key = data.signing_key()?;
    let db = data.open_store_with(&cfg)?;
    let store = db.till_store(till)?;
    let server = key.verifying_key();
    let records = db.key_history(till)?;
    let history = (!records.is_empty()).then(|| KeyHistoryFile {
        format: KEY_HISTORY_FORMAT.into(),
        till: till.to_string(),
        server_public_key: hex::encode(server.to_bytes()),
        records,
    });
    let till_key = *server_till_keys(db.as_ref(), till, &server)?
        .all()
        .last()
        .expect("a till's key list is never empty");
    let src = ServerSource {
        db: db.as_ref(),
        till,
    };
    let ledger = period_ledger(&src, till, &cfg.folder.timezone, &period)?;
    let now = tillsync_db::now_rfc3339();
    let software = format!("tillsync {}", env!("CARGO_PKG_VERSION"));
    let meta = ArchiveMeta {
        made_by: Role::Server,
        folder: &cfg.folder.name,
        store: &store,
        created_at: &now,
        software: &software,
        till_key: &till_key,
        key_history: history.as_ref().map(|h| (h, &server)),
    };
    let written = write_archive(&ledger, &meta, &key, out)?;
    let a = &ledger.anchors;
    let vk = key.verifying_key();
    Ok(ServerArchived {
        path: out.display().to_string(),
        bytes: written.bytes,
        till: till.to_string(),
        period: period.to_string(),
        tickets: Run::after(a.tickets.after, ledger.tickets.len()),
        events: Run::after(a.events.after, ledger.events.len()),
        closings: Run::after(a.closings.after, ledger.closings.len()),
        key_id: key_id(&vk),
        fingerprint: fingerprint(&vk),
    })
}

/// Verify everything the server holds of `till` (or of every till that
/// sent fiscal records): per till, the first break or the counts.
pub fn verify_server(
    data: &DataDir,
    till: Option<&str>,
) -> Result<Vec<(String, Verdict)>, ServerError> {
    let cfg = data.config()?;
    let server = data.signing_key()?.verifying_key();
    let db = data.open_store_with(&cfg)?;
    let tills = match till {
        Some(t) => vec![t.to_string()],
        None => db.fiscal_tills()?,
    };
    let mut out = Vec::with_capacity(tills.len());
    for t in tills {
        let keys = server_till_keys(db.as_ref(), &t, &server)?;
        let ledger = whole_ledger(
            &ServerSource {
                db: db.as_ref(),
                till: &t,
            },
            &t,
            &cfg.folder.timezone,
        )?;
        let verdict = verify(&ledger, &keys);
        out.push((t, verdict));
    }
    Ok(out)
}
