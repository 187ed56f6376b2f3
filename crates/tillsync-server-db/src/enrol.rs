//! A key enrolled in one go, as a deployment package and its till's
//! enrolment would do it, for callers that hold the till's public key
//! already: the fleet benchmark, which sets up thousands of simulated
//! tills, and tests (with a key made from the till's name). The key enters
//! the history as any other.

use tillsync_core::key_history::{key_id, utc_seconds};
use tillsync_core::keys::parse_verifying_key;
use tillsync_db::StoreError;

use crate::keys::{KeyChange, KeyClaim, KeyOutcome, SignFn};
use crate::store::KeyStore;

/// Issue an enrolment secret (given as its SHA-256, unique) for `till` and
/// enrol `public_key` (64 hex digits) with it at `now` (RFC 3339): the till
/// gets the token whose SHA-256 is `token_sha256`. A refusal (the key is
/// another till's…) is [`StoreError::Invalid`].
pub fn enrol_key(
    db: &mut (impl KeyStore + ?Sized),
    till: &str,
    secret_sha256: &str,
    token_sha256: &str,
    public_key: &str,
    now: &str,
    sign: &SignFn<'_>,
) -> Result<KeyOutcome, StoreError> {
    let key = parse_verifying_key(public_key).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let now = utc_seconds(now).map_err(|e| StoreError::Invalid(e.to_string()))?;
    db.issue_enrolment(till, secret_sha256, &now, &now)?;
    let id = key_id(&key);
    let public = hex::encode(key.to_bytes());
    let claim = KeyClaim {
        till,
        public_key: &public,
        key_id: &id,
        key_created_at: &now,
        now: &now,
        change: KeyChange::Enrol {
            secret_sha256,
            token_sha256,
        },
    };
    db.change_key(&claim, sign)?
        .map_err(|refusal| StoreError::Invalid(refusal.to_string()))
}

/// Enrol a key made from `till`'s name for `till`, its token hashing to
/// `token_sha256`, at a fixed time, the record signed by a fixed key: for
/// the tests of other parts (credentials, bookkeeping, tickets) that need
/// an enrolled till, not a history to check. Returns the till's key.
pub fn enrol_test_key(
    db: &mut (impl KeyStore + ?Sized),
    till: &str,
    token_sha256: &str,
) -> Result<ed25519_dalek::SigningKey, StoreError> {
    use sha2::Digest;
    let seed: [u8; 32] = sha2::Sha256::digest(format!("tillsync test key of {till}")).into();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let server = ed25519_dalek::SigningKey::from_bytes(&[0x55; 32]);
    let secret = hex::encode(sha2::Sha256::digest(format!(
        "test secret {till} {token_sha256}"
    )));
    enrol_key(
        db,
        till,
        &secret,
        token_sha256,
        &hex::encode(key.verifying_key().to_bytes()),
        "2026-12-04T09:00:00Z",
        &|r| tillsync_core::key_history::sign_record(r, &server),
    )?;
    Ok(key)
}
