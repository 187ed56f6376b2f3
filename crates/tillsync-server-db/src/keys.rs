//! The tills' keys on the server, written once for every backend: the
//! enrolment secrets of deployment packages, and a key change (enrolment,
//! re-enrolment, rotation) decided by [`change_key`] over a backend's
//! [`KeySteps`] inside its transaction: the secret checked, the key checked,
//! the till's history extended with a record signed by the server, the
//! secret marked used and the till's token issued. See `docs/till-keys.md`.

use tillsync_core::key_history::valid_from;
use tillsync_db::StoreError;
use tillsync_wire::keys::{KEY_RECORD_VERSION, KeyReason, KeyRecord};

/// One enrolment secret as the server keeps it (only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enrolment {
    /// SHA-256 (hex) of the secret.
    #[serde(skip)]
    pub secret_sha256: String,
    /// The till the package was made for.
    pub till_id: String,
    /// When the package was generated.
    pub issued_at: String,
    /// Until when the secret is accepted.
    pub expires_at: String,
    /// When a newer package (or a revocation) made it void.
    pub superseded_at: Option<String>,
    /// When a till enrolled with it.
    pub used_at: Option<String>,
    /// The key id enrolled with it.
    pub used_key_id: Option<String>,
}

/// What a key change asks beyond the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange<'a> {
    /// The till enrols with the secret of a deployment package, and gets a
    /// new bearer token (given as its SHA-256).
    Enrol {
        /// SHA-256 (hex) of the secret the till sent.
        secret_sha256: &'a str,
        /// SHA-256 (hex) of the token the till will get.
        token_sha256: &'a str,
    },
    /// An authenticated till changes to a new key.
    Rotate,
}

/// A key a till asks the server to accept. The caller checked the key and
/// the till's proof that it holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyClaim<'a> {
    /// The till.
    pub till: &'a str,
    /// The public key, 64 lowercase hex digits.
    pub public_key: &'a str,
    /// Its key id.
    pub key_id: &'a str,
    /// When the till made it (UTC to the second).
    pub key_created_at: &'a str,
    /// The server's time (UTC to the second).
    pub now: &'a str,
    /// Enrolment or rotation.
    pub change: KeyChange<'a>,
}

/// Why a key change was refused (nothing was written). Each says what the
/// till will see and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// No package of this till holds that secret.
    #[error(
        "this deployment package is not one the server issued for till {till} (unknown enrolment secret); generate a new package with `tillsync server package --till {till}`"
    )]
    UnknownSecret {
        /// The till named by the caller.
        till: String,
    },
    /// The secret was used already, by another key (a copy of the package).
    #[error(
        "this deployment package was already used at {at} to enrol key {key_id} for till {till}; a copy of a package cannot enrol another till folder: generate a new package with `tillsync server package --till {till}`"
    )]
    Used {
        /// The till.
        till: String,
        /// When it was used.
        at: String,
        /// The key enrolled with it.
        key_id: String,
    },
    /// A newer package (or a revocation) made the secret void.
    #[error(
        "this deployment package of till {till} was superseded at {at} (a newer package was generated, or the till was revoked); install the till from its newest package"
    )]
    Superseded {
        /// The till.
        till: String,
        /// When.
        at: String,
    },
    /// The secret expired before the till enrolled.
    #[error(
        "this deployment package of till {till} expired at {at} before the till enrolled; generate a new package with `tillsync server package --till {till}`"
    )]
    Expired {
        /// The till.
        till: String,
        /// When it expired.
        at: String,
    },
    /// The key is another till's.
    #[error("key {key_id} is already a key of till {other}: each till makes its own")]
    KeyOfAnotherTill {
        /// The key id.
        key_id: String,
        /// The till that has it.
        other: String,
    },
    /// The key is an earlier key of this till's history (a key is used once).
    #[error(
        "key {key_id} is already record {seq} of till {till}'s key history, and not its current key: make a new key"
    )]
    KeyInHistory {
        /// The till.
        till: String,
        /// The key id.
        key_id: String,
        /// Its record.
        seq: u64,
    },
}

impl KeyRefusal {
    /// The error code of the HTTP answer.
    pub fn code(&self) -> &'static str {
        match self {
            KeyRefusal::UnknownSecret { .. } => "enrolment-unknown",
            KeyRefusal::Used { .. } => "enrolment-used",
            KeyRefusal::Superseded { .. } => "enrolment-superseded",
            KeyRefusal::Expired { .. } => "enrolment-expired",
            KeyRefusal::KeyOfAnotherTill { .. } | KeyRefusal::KeyInHistory { .. } => "key-in-use",
        }
    }
}

/// What an accepted key change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOutcome {
    /// The key id of the key asked for.
    pub key_id: String,
    /// The till's whole history, oldest first.
    pub history: Vec<KeyRecord>,
    /// Whether a record was added (false: the key was already the till's
    /// current key, e.g. a retry after a lost answer).
    pub added: bool,
}

/// Signs a record (sets its `signature`) with the server's key.
pub type SignFn<'f> = dyn Fn(&mut KeyRecord) + 'f;

/// The SQL of a key change, one method per step, inside the backend's
/// transaction (each backend's `keys.rs`).
pub trait KeySteps {
    /// The enrolment secret whose SHA-256 is `secret_sha256`.
    fn enrolment(&mut self, secret_sha256: &str) -> Result<Option<Enrolment>, StoreError>;
    /// The till's key history, oldest first.
    fn history(&mut self, till: &str) -> Result<Vec<KeyRecord>, StoreError>;
    /// Ticket keys of the till without a record (issued in version-2
    /// packages): (public key, when issued), oldest first.
    fn unrecorded_keys(&mut self, till: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// The till that has `public_key` as a ticket key, if any.
    fn key_owner(&mut self, public_key: &str) -> Result<Option<String>, StoreError>;
    /// Store a signed record, and its key as a ticket key of the till.
    fn insert_record(&mut self, record: &KeyRecord) -> Result<(), StoreError>;
    /// Mark the secret used at `at` by `key_id`.
    fn mark_used(&mut self, secret_sha256: &str, at: &str, key_id: &str) -> Result<(), StoreError>;
    /// Set the till's token (its SHA-256), clearing a revocation.
    fn set_token(&mut self, till: &str, token_sha256: &str, at: &str) -> Result<(), StoreError>;
    /// A `keys` line of the sync journal.
    fn journal(&mut self, till: &str, at: &str, detail: &str) -> Result<(), StoreError>;
}

/// `record` with the reason named `reason` (as stored); a name this
/// tillsync does not know is an error naming the record.
pub fn with_reason(mut record: KeyRecord, reason: &str) -> Result<KeyRecord, StoreError> {
    record.reason = KeyReason::parse(reason).ok_or_else(|| {
        StoreError::Inconsistent(format!(
            "key history of till {}, record {}: unknown reason {reason:?}",
            record.till, record.seq
        ))
    })?;
    Ok(record)
}

/// The journal line of a new deployment package (its secret valid until
/// `expires_at`; `superseded` unused older ones voided).
pub fn enrolment_line(expires_at: &str, superseded: u64) -> String {
    let mut line =
        format!("deployment package generated: enrolment secret valid until {expires_at}");
    if superseded > 0 {
        line.push_str(&format!(
            "; {superseded} unused older package(s) superseded"
        ));
    }
    line
}

/// Decide and write a key change over a backend's steps (its caller commits
/// on `Ok(Ok(_))`; a refusal wrote nothing). An enrolment needs a secret
/// issued for this till, neither superseded nor expired, and not used —
/// except by this same key while it is still the till's current key (a
/// retry after a lost answer: a new token, no new record). The key must not
/// be another till's, nor an earlier key of this till. Keys of version-2
/// packages not yet recorded are recorded first (`package-v2`).
pub fn change_key(
    steps: &mut dyn KeySteps,
    claim: &KeyClaim<'_>,
    sign: &SignFn<'_>,
) -> Result<Result<KeyOutcome, KeyRefusal>, StoreError> {
    let till = claim.till.to_string();
    if let KeyChange::Enrol { secret_sha256, .. } = claim.change {
        let found = steps
            .enrolment(secret_sha256)?
            .filter(|e| e.till_id == claim.till);
        let Some(e) = found else {
            return Ok(Err(KeyRefusal::UnknownSecret { till }));
        };
        if let Some(at) = e.used_at {
            let current = steps.history(claim.till)?.last().map(|r| r.key_id.clone());
            let same = e.used_key_id.as_deref() == Some(claim.key_id);
            if !(same && current.as_deref() == Some(claim.key_id)) {
                return Ok(Err(KeyRefusal::Used {
                    till,
                    at,
                    key_id: e.used_key_id.unwrap_or_default(),
                }));
            }
        } else if let Some(at) = e.superseded_at {
            return Ok(Err(KeyRefusal::Superseded { till, at }));
        } else if claim.now > e.expires_at.as_str() {
            return Ok(Err(KeyRefusal::Expired {
                till,
                at: e.expires_at,
            }));
        }
    }
    if let Some(other) = steps.key_owner(claim.public_key)?
        && other != claim.till
    {
        return Ok(Err(KeyRefusal::KeyOfAnotherTill {
            key_id: claim.key_id.to_string(),
            other,
        }));
    }
    let mut history = steps.history(claim.till)?;
    for (public_key, issued_at) in steps.unrecorded_keys(claim.till)? {
        if public_key == claim.public_key {
            continue;
        }
        let key = tillsync_core::keys::parse_verifying_key(&public_key)
            .map_err(|e| StoreError::Inconsistent(format!("ticket key of till {till}: {e}")))?;
        let record = next_record(
            &history,
            claim,
            &public_key,
            &tillsync_core::key_history::key_id(&key),
            &issued_at,
            KeyReason::PackageV2,
            sign,
        );
        steps.insert_record(&record)?;
        history.push(record);
    }
    let had_keys = !history.is_empty();
    let added = match history.iter().find(|r| r.key_id == claim.key_id) {
        Some(r) if history.last() == Some(r) => false,
        Some(r) => {
            return Ok(Err(KeyRefusal::KeyInHistory {
                till,
                key_id: claim.key_id.to_string(),
                seq: r.seq,
            }));
        }
        None => {
            let reason = match claim.change {
                KeyChange::Rotate => KeyReason::Rotation,
                KeyChange::Enrol { .. } if had_keys => KeyReason::ReEnrolment,
                KeyChange::Enrol { .. } => KeyReason::Enrolment,
            };
            let record = next_record(
                &history,
                claim,
                claim.public_key,
                claim.key_id,
                claim.key_created_at,
                reason,
                sign,
            );
            steps.insert_record(&record)?;
            history.push(record);
            true
        }
    };
    let seq = history.len();
    let detail = match claim.change {
        KeyChange::Enrol {
            secret_sha256,
            token_sha256,
        } => {
            steps.mark_used(secret_sha256, claim.now, claim.key_id)?;
            steps.set_token(claim.till, token_sha256, claim.now)?;
            if added {
                format!(
                    "key {} enrolled (key history record {seq}); new token issued",
                    claim.key_id
                )
            } else {
                format!(
                    "enrolment of key {} answered again (record {seq}); new token issued",
                    claim.key_id
                )
            }
        }
        KeyChange::Rotate if added => {
            format!("key rotated to {} (key history record {seq})", claim.key_id)
        }
        KeyChange::Rotate => format!("rotation to key {} answered again", claim.key_id),
    };
    steps.journal(claim.till, claim.now, &detail)?;
    Ok(Ok(KeyOutcome {
        key_id: claim.key_id.to_string(),
        history,
        added,
    }))
}

/// The record after `history`'s last, signed.
fn next_record(
    history: &[KeyRecord],
    claim: &KeyClaim<'_>,
    public_key: &str,
    key_id: &str,
    stated_from: &str,
    reason: KeyReason,
    sign: &SignFn<'_>,
) -> KeyRecord {
    let last = history.last();
    // Never before the previous record (a server clock set back).
    let recorded_at = match last {
        Some(l) if l.recorded_at.as_str() > claim.now => l.recorded_at.clone(),
        _ => claim.now.to_string(),
    };
    let mut record = KeyRecord {
        version: KEY_RECORD_VERSION,
        till: claim.till.to_string(),
        seq: history.len() as u64 + 1,
        key_id: key_id.to_string(),
        public_key: public_key.to_string(),
        valid_from: valid_from(
            stated_from,
            last.map(|l| l.valid_from.as_str()),
            &recorded_at,
        ),
        recorded_at,
        previous_key_id: last.map(|l| l.key_id.clone()),
        reason,
        signature: String::new(),
    };
    sign(&mut record);
    record
}

#[cfg(test)]
mod tests;
