//! `verify --till-db`: everything a till's database holds, checked by the
//! standalone verifier, the database opened read-only (nothing written).
//! The till, its time zone and its keys come from the `till.toml` and the
//! key history (`key-history.json`) beside the database, or are given.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_core::fiscal::local::DEFAULT_TIMEZONE;
use tillsync_core::fiscal::verify::keys::TillKeys;
use tillsync_core::fiscal::verify::report::Verdict;
use tillsync_core::fiscal::verify::verify;
use tillsync_core::key_history::KeyHistory;
use tillsync_db::StoreError;
use tillsync_till_db::fiscal::ledger::till_whole_ledger;

use crate::error::TillError;

/// What `verify --till-db` found.
#[derive(Debug, Clone, Serialize)]
pub struct DbVerdict {
    /// The till checked.
    pub till: String,
    /// The time zone its days are named in.
    pub zone: String,
    /// The counts, or the first break.
    pub verdict: Verdict,
}

/// The one till whose records the database holds.
fn only_till(conn: &Connection) -> Result<String, TillError> {
    let mut stmt = conn
        .prepare(
            r#"SELECT "till_id" FROM "TICKET" UNION SELECT "till_id" FROM "EVENT_LOG"
               UNION SELECT "till_id" FROM "CLOSING" ORDER BY 1"#,
        )
        .map_err(StoreError::from)?;
    let tills = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .map_err(StoreError::from)?;
    match tills.as_slice() {
        [t] => Ok(t.clone()),
        [] => Err(TillError::Store(StoreError::Invalid(
            "the database holds no ticket, event or closing".into(),
        ))),
        _ => Err(TillError::Store(StoreError::Invalid(format!(
            "the database holds the records of several tills ({}): name one with --till",
            tills.join(", ")
        )))),
    }
}

/// Verify the till database at `path`; `till` and `key` override what the
/// `till.toml` beside it says (and are needed without one).
pub fn verify_till_db(
    path: &Path,
    till: Option<&str>,
    key: Option<VerifyingKey>,
) -> Result<DbVerdict, TillError> {
    if !path.is_file() {
        return Err(TillError::Io {
            what: "no till database at",
            path: path.display().to_string(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
            StoreError::Open {
                path: path.display().to_string(),
                source,
            }
        })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let cfg = if TillConfig::path(dir).is_file() {
        Some(TillConfig::load(dir)?)
    } else {
        None
    };
    let till = match (till, &cfg) {
        (Some(t), _) => t.to_string(),
        (None, Some(c)) => c.till.id.clone(),
        (None, None) => only_till(&conn)?,
    };
    let zone = cfg
        .as_ref()
        .map_or(DEFAULT_TIMEZONE.to_string(), |c| c.folder.timezone.clone());
    let keys = match (key, &cfg) {
        (Some(k), _) => TillKeys::one(k),
        (None, Some(c)) => match crate::enrol::read_history(dir)? {
            // Every key of the till's history, checked with the server key
            // of its package: tickets signed before a rotation verify.
            Some(file) => {
                let history = KeyHistory::verify(&file.records, &c.verifying_key()?, Some(&till))?;
                TillKeys::of_history(&history)
            }
            None => TillKeys::one(c.auth.signing_key()?.verifying_key()),
        },
        (None, None) => {
            return Err(TillError::Store(StoreError::Invalid(format!(
                "no till.toml beside {}: give the till's public key with --key FILE",
                path.display()
            ))));
        }
    };
    let ledger = till_whole_ledger(&conn, &till, &zone)?;
    let verdict = verify(&ledger, &keys);
    Ok(DbVerdict {
        till,
        zone,
        verdict,
    })
}
