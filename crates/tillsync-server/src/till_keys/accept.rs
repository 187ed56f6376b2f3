//! An enrolment or a key rotation accepted or refused: the request checked
//! without the database (the public key, the time the key was made, the
//! proof that the till holds the key), then the key change decided and
//! written in one transaction, the new records signed with the server's
//! key, the till's bearer token made (only its SHA-256 is stored).

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::SigningKey;
use tillsync_core::key_history::{ProofPurpose, key_id, sign_record, utc_seconds, verify_proof};
use tillsync_db::StoreError;
use tillsync_server_db::keys::{KeyChange, KeyClaim, KeyOutcome, KeyRefusal};
use tillsync_server_db::store::ServerStore;
use tillsync_wire::keys::{EnrolRequest, EnrolResponse, KeyHistoryResponse, KeyRotation};

use crate::data::DataDir;
use crate::error::ServerError;

/// Why an enrolment or a rotation was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeyCallError {
    /// The request itself is wrong (400): a malformed key, time or proof.
    #[error("{0}")]
    Bad(String),
    /// The server refused the key change (403 or 409, nothing written).
    #[error(transparent)]
    Refused(#[from] KeyRefusal),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The checked parts of a request: the key's hex, id and creation time.
struct Checked {
    public_key: String,
    key_id: String,
    created_at: String,
}

fn check(
    purpose: ProofPurpose,
    till: &str,
    public_key: &str,
    key_created_at: &str,
    proof: &str,
) -> Result<Checked, KeyCallError> {
    if till.trim().is_empty() {
        return Err(KeyCallError::Bad("the request names no till".into()));
    }
    let created_at = utc_seconds(key_created_at)
        .map_err(|e| KeyCallError::Bad(format!("key_created_at: {e}")))?;
    let key = verify_proof(purpose, till, public_key, key_created_at, proof)
        .map_err(|e| KeyCallError::Bad(e.to_string()))?;
    Ok(Checked {
        public_key: hex::encode(key.to_bytes()),
        key_id: key_id(&key),
        created_at,
    })
}

/// A new bearer token: 32 random bytes as hex.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

fn now_text(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn decide(
    db: &mut dyn ServerStore,
    server: &SigningKey,
    claim: &KeyClaim<'_>,
) -> Result<KeyOutcome, KeyCallError> {
    let sign = |r: &mut tillsync_wire::keys::KeyRecord| sign_record(r, server);
    Ok(db.change_key(claim, &sign)??)
}

/// `POST /api/v1/till/enrol` at `now`: the till's token and key history.
pub fn enrol(
    db: &mut dyn ServerStore,
    server: &SigningKey,
    req: &EnrolRequest,
    now: DateTime<Utc>,
) -> Result<EnrolResponse, KeyCallError> {
    let c = check(
        ProofPurpose::Enrol,
        &req.till,
        &req.public_key,
        &req.key_created_at,
        &req.proof,
    )?;
    let token = new_token();
    let (secret_sha256, token_sha256) = (
        tillsync_wire::sha256_hex(req.secret.trim().as_bytes()),
        tillsync_wire::sha256_hex(token.as_bytes()),
    );
    let now = now_text(now);
    let claim = KeyClaim {
        till: &req.till,
        public_key: &c.public_key,
        key_id: &c.key_id,
        key_created_at: &c.created_at,
        now: &now,
        change: KeyChange::Enrol {
            secret_sha256: &secret_sha256,
            token_sha256: &token_sha256,
        },
    };
    let out = decide(db, server, &claim)?;
    Ok(EnrolResponse {
        till: req.till.clone(),
        token,
        key_id: out.key_id,
        key_history: out.history,
    })
}

/// `POST /api/v1/till/key` of the authenticated `till` at `now`.
pub fn rotate(
    db: &mut dyn ServerStore,
    server: &SigningKey,
    till: &str,
    req: &KeyRotation,
    now: DateTime<Utc>,
) -> Result<KeyHistoryResponse, KeyCallError> {
    let c = check(
        ProofPurpose::Rotate,
        till,
        &req.public_key,
        &req.key_created_at,
        &req.proof,
    )?;
    let now = now_text(now);
    let claim = KeyClaim {
        till,
        public_key: &c.public_key,
        key_id: &c.key_id,
        key_created_at: &c.created_at,
        now: &now,
        change: KeyChange::Rotate,
    };
    let out = decide(db, server, &claim)?;
    Ok(KeyHistoryResponse {
        till: till.to_string(),
        key_id: out.key_id,
        key_history: out.history,
    })
}

/// [`enrol`] on the database and key of the data folder `data`, now (for
/// callers without a web service: the benchmarks).
pub fn enrol_in(data: &DataDir, req: &EnrolRequest) -> Result<EnrolResponse, ServerError> {
    let mut db = data.open_store()?;
    let key = data.signing_key()?;
    enrol(db.as_mut(), &key, req, Utc::now()).map_err(|e| match e {
        KeyCallError::Store(s) => ServerError::Store(s),
        other => ServerError::Invalid(other.to_string()),
    })
}
