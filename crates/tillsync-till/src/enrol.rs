//! The till's own key on the server (`docs/till-keys.md`): the enrolment
//! of the key it made at install, with the one-time secret of its
//! deployment package (at `till init`, retried by `till sync` and the
//! synchroniser until it succeeds), a key rotation (`till rotate-key`), and
//! the till's copy of its key history (`key-history.json`), verified with
//! the server's public key before it is kept.

use std::path::Path;

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_core::key_history::{KeyHistory, ProofPurpose, key_id, sign_proof};
use tillsync_core::secret::Secret;
use tillsync_till_db::TillDb;
use tillsync_wire::keys::{
    EnrolRequest, KEY_HISTORY_FORMAT, KeyHistoryFile, KeyRecord, KeyRotation,
};

use crate::client::Client;
use crate::error::TillError;
use crate::files::{DB_FILE, KEY_HISTORY_FILE};

/// `tillsync_state` key: why the last enrolment attempt failed ("" once enrolled).
pub const STATE_ENROLMENT_ERROR: &str = "enrolment_error";

/// The time as the till writes it in its key calls.
fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What a successful enrolment or rotation registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    /// The till.
    pub till: String,
    /// The key id the server registered.
    pub key_id: String,
    /// Records in the till's key history now.
    pub records: usize,
    /// Whether this call asked the server (false: the till was enrolled
    /// already, nothing was asked).
    pub registered_now: bool,
}

/// Check the history the server answered (signed by the server key the
/// till trusts, for this till, ending with `expected`'s key) and keep it in
/// `dir/key-history.json`.
fn keep_history(
    dir: &Path,
    cfg: &TillConfig,
    records: &[KeyRecord],
    expected: &ed25519_dalek::VerifyingKey,
) -> Result<KeyHistory, TillError> {
    let server = cfg.verifying_key()?;
    let history = KeyHistory::verify(records, &server, Some(&cfg.till.id))?;
    if history.current().key_id != key_id(expected) {
        return Err(TillError::Refused(format!(
            "the server's key history of till {} ends with key {}, not this till's key {}",
            cfg.till.id,
            history.current().key_id,
            key_id(expected)
        )));
    }
    let file = KeyHistoryFile {
        format: KEY_HISTORY_FORMAT.into(),
        till: cfg.till.id.clone(),
        server_public_key: cfg.server.public_key.clone(),
        records: records.to_vec(),
    };
    let path = dir.join(KEY_HISTORY_FILE);
    let json = serde_json::to_vec_pretty(&file).expect("a key history serialises");
    tillsync_core::fsio::write_atomic_private(&path, &json).map_err(|source| TillError::Io {
        what: "cannot write",
        path: path.display().to_string(),
        source,
    })?;
    Ok(history)
}

/// Enrol the till of `dir` if it is not yet (its configuration in `cfg`,
/// updated and saved on success): the attempt is journaled and its error
/// kept for `till status`. An enrolled till is left as it is.
pub fn ensure_enrolled(
    dir: &Path,
    cfg: &mut TillConfig,
    db: &TillDb,
) -> Result<KeyReport, TillError> {
    let key = cfg.auth.signing_key()?;
    if cfg.auth.is_enrolled() {
        return Ok(KeyReport {
            till: cfg.till.id.clone(),
            key_id: key_id(&key.verifying_key()),
            records: read_history(dir)?.map_or(0, |h| h.records.len()),
            registered_now: false,
        });
    }
    let result = enrol_once(dir, cfg, &key);
    match &result {
        Ok(r) => {
            db.set_state(STATE_ENROLMENT_ERROR, "")?;
            db.journal(
                "enrol",
                "ok",
                &format!(
                    "key {} enrolled (key history of {} record(s))",
                    r.key_id, r.records
                ),
            )?;
        }
        Err(e) => {
            let msg = e.to_string();
            if db.state(STATE_ENROLMENT_ERROR)?.as_deref() != Some(msg.as_str()) {
                db.journal("enrol", "error", &msg)?;
            }
            db.set_state(STATE_ENROLMENT_ERROR, &msg)?;
        }
    }
    result
}

fn enrol_once(
    dir: &Path,
    cfg: &mut TillConfig,
    key: &ed25519_dalek::SigningKey,
) -> Result<KeyReport, TillError> {
    let secret = cfg
        .auth
        .enrolment_secret
        .as_ref()
        .ok_or_else(|| {
            TillError::Refused(format!(
                "till {} has neither a token nor an enrolment secret",
                cfg.till.id
            ))
        })?
        .expose()
        .to_string();
    let created_at = match &cfg.auth.key_created_at {
        Some(t) => t.clone(),
        None => {
            let t = now();
            cfg.auth.key_created_at = Some(t.clone());
            t
        }
    };
    let req = EnrolRequest {
        till: cfg.till.id.clone(),
        secret,
        public_key: hex::encode(key.verifying_key().to_bytes()),
        key_created_at: created_at.clone(),
        proof: sign_proof(ProofPurpose::Enrol, &cfg.till.id, key, &created_at),
    };
    let resp = Client::new(cfg)?.enrol(&req)?;
    let history = keep_history(dir, cfg, &resp.key_history, &key.verifying_key())?;
    cfg.auth.token = Some(Secret::new(resp.token));
    cfg.auth.enrolment_secret = None;
    cfg.save(dir)?;
    Ok(KeyReport {
        till: cfg.till.id.clone(),
        key_id: resp.key_id,
        records: history.records().len(),
        registered_now: true,
    })
}

/// `till sync`'s and `till enrol`'s entry: enrol the till in `dir` if it is not yet.
pub fn enrol(dir: &Path) -> Result<KeyReport, TillError> {
    let mut cfg = TillConfig::load(dir)?;
    let db = TillDb::open(&dir.join(DB_FILE))?;
    ensure_enrolled(dir, &mut cfg, &db)
}

/// `till rotate-key`: make a new key and register it over the till's
/// credentials; the till signs with it once the server answered. The new
/// key waits in `auth.next_signing_key` meanwhile, so that a failed call
/// is retried with the same key.
pub fn rotate_key(dir: &Path) -> Result<KeyReport, TillError> {
    let mut cfg = TillConfig::load(dir)?;
    let db = TillDb::open(&dir.join(DB_FILE))?;
    if !cfg.auth.is_enrolled() {
        return Err(TillError::NotEnrolled(cfg.till.id.clone()));
    }
    let next = match cfg.auth.next_signing_key()? {
        Some(k) => k,
        None => {
            let k = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
            cfg.auth.next_signing_key = Some(Secret::new(hex::encode(k.to_bytes())));
            cfg.auth.next_key_created_at = Some(now());
            cfg.save(dir)?;
            k
        }
    };
    let created_at = cfg.auth.next_key_created_at.clone().unwrap_or_else(now);
    let req = KeyRotation {
        public_key: hex::encode(next.verifying_key().to_bytes()),
        key_created_at: created_at.clone(),
        proof: sign_proof(ProofPurpose::Rotate, &cfg.till.id, &next, &created_at),
    };
    let result = Client::new(&cfg)?.rotate_key(&req).and_then(|resp| {
        let history = keep_history(dir, &cfg, &resp.key_history, &next.verifying_key())?;
        cfg.auth.signing_key = Secret::new(hex::encode(next.to_bytes()));
        cfg.auth.key_created_at = Some(created_at.clone());
        cfg.auth.next_signing_key = None;
        cfg.auth.next_key_created_at = None;
        cfg.save(dir)?;
        Ok(KeyReport {
            till: cfg.till.id.clone(),
            key_id: resp.key_id,
            records: history.records().len(),
            registered_now: true,
        })
    });
    match &result {
        Ok(r) => db.journal(
            "rotate-key",
            "ok",
            &format!("tickets now signed with key {}", r.key_id),
        )?,
        Err(e) => db.journal("rotate-key", "error", &e.to_string())?,
    }
    result
}

/// The key history kept in `dir` (`None` before the enrolment, or for a
/// till installed from a version-2 package).
pub fn read_history(dir: &Path) -> Result<Option<KeyHistoryFile>, TillError> {
    let path = dir.join(KEY_HISTORY_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(TillError::Io {
                what: "cannot read",
                path: path.display().to_string(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| TillError::Refused(format!("{} is not a key history: {e}", path.display())))
}

/// The enrolment as `till status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrolmentStatus {
    /// Whether the till has its token.
    pub enrolled: bool,
    /// The key id of the key the till signs with.
    pub key_id: String,
    /// When the server recorded that key (from the till's key history).
    pub recorded_at: Option<String>,
    /// Records of the till's key history (0: none kept, e.g. a till of a
    /// version-2 package).
    pub key_history_records: usize,
    /// Why the last enrolment attempt failed, while not enrolled.
    pub error: Option<String>,
}

/// The enrolment of the till in `dir`.
pub fn enrolment_status(
    dir: &Path,
    cfg: &TillConfig,
    db: &TillDb,
) -> Result<EnrolmentStatus, TillError> {
    let id = key_id(&cfg.auth.signing_key()?.verifying_key());
    let history = read_history(dir)?;
    let recorded_at = history
        .as_ref()
        .and_then(|h| h.records.iter().find(|r| r.key_id == id))
        .map(|r| r.recorded_at.clone());
    let error = match cfg.auth.is_enrolled() {
        true => None,
        false => db.state(STATE_ENROLMENT_ERROR)?.filter(|e| !e.is_empty()),
    };
    Ok(EnrolmentStatus {
        enrolled: cfg.auth.is_enrolled(),
        key_id: id,
        recorded_at,
        key_history_records: history.map_or(0, |h| h.records.len()),
        error,
    })
}

#[cfg(test)]
mod tests;
