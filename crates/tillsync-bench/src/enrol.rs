//! Tills of a benchmark with their own keys, enrolled as `till init` would
//! enrol them (the one-time secret of a deployment package), without the
//! web service; and bytes to hex and back.

use anyhow::Result;
use ed25519_dalek::SigningKey;
use tillsync_core::key_history::{ProofPurpose, sign_proof};
use tillsync_server::till_keys::accept::enrol_in;
use tillsync_server::{DataDir, deploy};
use tillsync_wire::keys::EnrolRequest;

/// Generate `till`'s deployment package and enrol `key` with its secret;
/// the till's bearer token.
pub(crate) fn enrol_till(data: &DataDir, till: &str, key: &SigningKey) -> Result<String> {
    let p = deploy::build(data, till)?;
    let at = tillsync_db::now_rfc3339();
    let enrolled = enrol_in(
        data,
        &EnrolRequest {
            till: till.to_string(),
            secret: p.enrolment_secret,
            public_key: hex(&key.verifying_key().to_bytes()),
            key_created_at: at.clone(),
            proof: sign_proof(ProofPurpose::Enrol, till, key, &at),
        },
    )?;
    Ok(enrolled.token)
}

/// Lowercase hex of `b`.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The bytes of a hex string (`None` if it is not hex).
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
