//! The till's key history, free of I/O: the key id, the canonical encoding
//! of a key-history record and the server's signature over it, the check of
//! a whole history against the server's public key ([`KeyHistory::verify`]),
//! and what a verifier asks of it (which key was valid at a ticket's time,
//! is this key in the history, which key signed this). Also the proof a
//! till gives that it holds a key, and the rule for a new key's
//! `valid_from`. Documented in `docs/till-keys.md`.
//!
//! ```
//! use tillsync_core::key_history::{KeyHistory, key_id, sign_record};
//! use tillsync_wire::keys::{KeyReason, KeyRecord, KEY_RECORD_VERSION};
//!
//! let server = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
//! let till_key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]).verifying_key();
//! let mut record = KeyRecord {
//!     version: KEY_RECORD_VERSION,
//!     till: "T001".into(),
//!     seq: 1,
//!     key_id: key_id(&till_key),
//!     public_key: hex::encode(till_key.to_bytes()),
//!     valid_from: "2026-12-04T09:00:00Z".into(),
//!     recorded_at: "2026-12-04T09:00:03Z".into(),
//!     previous_key_id: None,
//!     reason: KeyReason::Enrolment,
//!     signature: String::new(),
//! };
//! sign_record(&mut record, &server);
//! let history = KeyHistory::verify(&[record], &server.verifying_key(), Some("T001")).unwrap();
//! let valid = history.key_at("2026-12-05T10:00:00Z").unwrap().expect("a key");
//! assert_eq!(valid.key_id, key_id(&till_key));
//! assert!(history.find_key(&till_key).is_some());
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use tillsync_wire::keys::{KEY_RECORD_VERSION, KeyRecord};

use crate::keys::parse_verifying_key;

/// The first bytes of a record's canonical encoding.
pub const RECORD_MAGIC: &[u8] = b"tillsync-key-record";
/// The first bytes of a proof message.
pub const PROOF_MAGIC: &[u8] = b"tillsync-key-proof";

/// Why a key history, a record or a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyHistoryError {
    /// No record at all.
    #[error("the key history is empty: a till's history holds at least its first key")]
    Empty,
    /// A record's field is wrong; `reason` says how.
    #[error("key history of till {till}, record {position}: {field} {reason}")]
    Field {
        /// The till the history is for (as the first record says).
        till: String,
        /// The record's position in the history, from 1.
        position: usize,
        /// The field at fault (`seq`, `key_id`, `signature`…).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A time given to [`KeyHistory::key_at`] (or as a key's creation time)
    /// is not RFC 3339.
    #[error("{value:?} is not an RFC 3339 date-time (e.g. 2026-12-04T09:00:00Z)")]
    Time {
        /// The text given.
        value: String,
    },
    /// A proof of possession does not verify.
    #[error("the proof does not verify with public key {public_key}: {reason}")]
    Proof {
        /// The key it should verify with.
        public_key: String,
        /// Why.
        reason: String,
    },
}

/// The key id of `key`: the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    let mut id = hex::encode(Sha256::digest(key.to_bytes()));
    id.truncate(16);
    id
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The canonical encoding of a record (every field but `signature`):
/// `"tillsync-key-record"`, the version byte, then `str` till, `u64` seq,
/// `str` key_id, `str` public_key, `str` valid_from, `str` recorded_at,
/// `opt str` previous_key_id, `str` reason (`str`: u64 big-endian byte
/// length then UTF-8; `opt`: one byte 0, or 1 then the value).
pub fn canonical(record: &KeyRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(RECORD_MAGIC);
    out.push(record.version as u8);
    put_str(&mut out, &record.till);
    out.extend_from_slice(&record.seq.to_be_bytes());
    put_str(&mut out, &record.key_id);
    put_str(&mut out, &record.public_key);
    put_str(&mut out, &record.valid_from);
    put_str(&mut out, &record.recorded_at);
    match &record.previous_key_id {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            put_str(&mut out, p);
        }
    }
    put_str(&mut out, record.reason.as_str());
    out
}

/// SHA-256 of the record's canonical encoding: what the server signs.
pub fn record_digest(record: &KeyRecord) -> [u8; 32] {
    Sha256::digest(canonical(record)).into()
}

/// Sign `record` with the server's key (sets `signature`).
pub fn sign_record(record: &mut KeyRecord, server: &SigningKey) {
    record.signature = hex::encode(server.sign(&record_digest(record)).to_bytes());
}

/// What a proof of possession is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofPurpose {
    /// `POST /api/v1/till/enrol`.
    Enrol,
    /// `POST /api/v1/till/key`.
    Rotate,
}

impl ProofPurpose {
    fn as_str(self) -> &'static str {
        match self {
            ProofPurpose::Enrol => "enrol",
            ProofPurpose::Rotate => "rotate",
        }
    }
}

/// The message a till signs with its new key to show it holds it:
/// `"tillsync-key-proof"`, byte 1, then `str` purpose (`enrol` or
/// `rotate`), `str` till, `str` public_key, `str` key_created_at.
pub fn proof_message(
    purpose: ProofPurpose,
    till: &str,
    public_key: &str,
    key_created_at: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(PROOF_MAGIC);
    out.push(1);
    put_str(&mut out, purpose.as_str());
    put_str(&mut out, till);
    put_str(&mut out, public_key);
    put_str(&mut out, key_created_at);
    out
}

/// The proof (hex signature) that the holder of `key` enrols or rotates to it.
pub fn sign_proof(purpose: ProofPurpose, till: &str, key: &SigningKey, created_at: &str) -> String {
    let public = hex::encode(key.verifying_key().to_bytes());
    let msg = proof_message(purpose, till, &public, created_at);
    hex::encode(key.sign(&msg).to_bytes())
}

/// Check a proof given with `public_key` (hex); returns the parsed key.
pub fn verify_proof(
    purpose: ProofPurpose,
    till: &str,
    public_key: &str,
    created_at: &str,
    proof: &str,
) -> Result<VerifyingKey, KeyHistoryError> {
    let bad = |reason: String| KeyHistoryError::Proof {
        public_key: public_key.to_string(),
        reason,
    };
    let key = parse_verifying_key(public_key).map_err(|e| bad(e.to_string()))?;
    let sig = hex::decode(proof)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| bad("the proof is not 128 hexadecimal digits".into()))?;
    key.verify(&proof_message(purpose, till, public_key, created_at), &sig)
        .map_err(|_| bad("it is not this key's signature of the proof message".into()))?;
    Ok(key)
}

/// `value` (RFC 3339) in UTC to the second, as key records hold times:
/// `2026-12-04T09:00:00Z`.
pub fn utc_seconds(value: &str) -> Result<String, KeyHistoryError> {
    Ok(parse_time(value)?.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn parse_time(value: &str) -> Result<DateTime<Utc>, KeyHistoryError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| KeyHistoryError::Time {
            value: value.to_string(),
        })
}

/// The `valid_from` of a new key: the time the till says it made the key,
/// but not after `now` (the server's time, when it records the key) and not
/// before the previous record's `valid_from` (periods follow one another).
/// Every argument is in the form [`utc_seconds`] writes.
pub fn valid_from(stated: &str, previous: Option<&str>, now: &str) -> String {
    let t = stated.min(now);
    match previous {
        Some(p) if p > t => p.to_string(),
        _ => t.to_string(),
    }
}

/// A till's key history whose every record checked out: signed by the
/// server, in order, each key once, each linked to the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHistory {
    records: Vec<KeyRecord>,
    keys: Vec<VerifyingKey>,
}

impl KeyHistory {
    /// Check `records` (oldest first) against the server's public key and,
    /// when given, the till they must be for. Every record: version 1, the
    /// same till, `seq` 1, 2, 3…, a valid public key whose key id is
    /// `key_id`, a key not seen earlier in the history, `previous_key_id`
    /// the previous record's key id (none for the first), times in the
    /// form [`utc_seconds`] writes with `valid_from` ≤ `recorded_at` and
    /// both not before the previous record's, and the server's signature.
    /// The first record at fault is named, with its field.
    pub fn verify(
        records: &[KeyRecord],
        server: &VerifyingKey,
        till: Option<&str>,
    ) -> Result<KeyHistory, KeyHistoryError> {
        let first = records.first().ok_or(KeyHistoryError::Empty)?;
        let owner = till.unwrap_or(&first.till);
        let mut keys: Vec<VerifyingKey> = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let bad = |field: &'static str, reason: String| KeyHistoryError::Field {
                till: owner.to_string(),
                position: i + 1,
                field,
                reason,
            };
            if r.version != KEY_RECORD_VERSION {
                return Err(bad(
                    "version",
                    format!("is {}, expected {KEY_RECORD_VERSION}", r.version),
                ));
            }
            if r.till != owner {
                return Err(bad("till", format!("is {:?}, expected {owner:?}", r.till)));
            }
            if r.seq != i as u64 + 1 {
                return Err(bad(
                    "seq",
                    format!(
                        "is {}, expected {} (a record is missing or out of order)",
                        r.seq,
                        i + 1
                    ),
                ));
            }
            if r.public_key.len() != 64 || r.public_key.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(bad(
                    "public_key",
                    "must be 64 lowercase hexadecimal digits".into(),
                ));
            }
            let key = parse_verifying_key(&r.public_key)
                .map_err(|e| bad("public_key", format!("is not valid: {e}")))?;
            let id = key_id(&key);
            if r.key_id != id {
                return Err(bad(
                    "key_id",
                    format!("is {:?}, but the public key's id is {id:?}", r.key_id),
                ));
            }
            if let Some(j) = keys.iter().position(|k| *k == key) {
                return Err(bad(
                    "public_key",
                    format!("is already record {}'s key", j + 1),
                ));
            }
            let previous = i.checked_sub(1).map(|j| &records[j]);
            let expected = previous.map(|p| p.key_id.clone());
            if r.previous_key_id != expected {
                return Err(bad(
                    "previous_key_id",
                    format!(
                        "is {:?}, expected {:?} (the key id of the record before)",
                        r.previous_key_id, expected
                    ),
                ));
            }
            for (field, value) in [
                ("valid_from", &r.valid_from),
                ("recorded_at", &r.recorded_at),
            ] {
                match utc_seconds(value) {
                    Ok(n) if n == *value => {}
                    _ => {
                        return Err(bad(
                            field,
                            format!(
                                "{value:?} is not a UTC time to the second (2026-12-04T09:00:00Z)"
                            ),
                        ));
                    }
                }
            }
            if r.valid_from > r.recorded_at {
                return Err(bad(
                    "valid_from",
                    format!("{} is after recorded_at {}", r.valid_from, r.recorded_at),
                ));
            }
            if let Some(p) = previous {
                if r.valid_from < p.valid_from {
                    return Err(bad(
                        "valid_from",
                        format!(
                            "{} is before the previous record's {}",
                            r.valid_from, p.valid_from
                        ),
                    ));
                }
                if r.recorded_at < p.recorded_at {
                    return Err(bad(
                        "recorded_at",
                        format!(
                            "{} is before the previous record's {}",
                            r.recorded_at, p.recorded_at
                        ),
                    ));
                }
            }
            let sig = hex::decode(&r.signature)
                .ok()
                .and_then(|b| Signature::from_slice(&b).ok())
                .ok_or_else(|| bad("signature", "is not 128 hexadecimal digits".into()))?;
            server.verify(&record_digest(r), &sig).map_err(|_| {
                bad(
                    "signature",
                    "does not verify with the server's public key (the record was altered, or another server signed it)"
                        .into(),
                )
            })?;
            keys.push(key);
        }
        Ok(KeyHistory {
            records: records.to_vec(),
            keys,
        })
    }

    /// The till.
    pub fn till(&self) -> &str {
        &self.records[0].till
    }

    /// The records, oldest first.
    pub fn records(&self) -> &[KeyRecord] {
        &self.records
    }

    /// The newest record: the key the till signs with now.
    pub fn current(&self) -> &KeyRecord {
        self.records
            .last()
            .expect("a verified history is not empty")
    }

    /// The record of the key valid at `time` (RFC 3339, any offset): the
    /// newest whose `valid_from` is not after it. `None` when `time` is
    /// before the first key's `valid_from`.
    pub fn key_at(&self, time: &str) -> Result<Option<&KeyRecord>, KeyHistoryError> {
        let t = parse_time(time)?;
        Ok(self
            .records
            .iter()
            .rev()
            .find(|r| parse_time(&r.valid_from).is_ok_and(|from| from <= t)))
    }

    /// Until when `record`'s key was the valid one: the next record's
    /// `valid_from`; `None` for the current key (or a record not of this history).
    pub fn valid_until(&self, record: &KeyRecord) -> Option<&str> {
        let i = self.records.iter().position(|r| r == record)?;
        self.records.get(i + 1).map(|r| r.valid_from.as_str())
    }

    /// The record of `key`, if the key is in the history.
    pub fn find_key(&self, key: &VerifyingKey) -> Option<&KeyRecord> {
        self.keys
            .iter()
            .position(|k| k == key)
            .map(|i| &self.records[i])
    }

    /// The record whose key id is `key_id`.
    pub fn find_key_id(&self, key_id: &str) -> Option<&KeyRecord> {
        self.records.iter().find(|r| r.key_id == key_id)
    }

    /// Every key with its record, oldest first.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = (&KeyRecord, &VerifyingKey)> {
        self.records.iter().zip(&self.keys)
    }

    /// The record of the key whose signature `signature` is of `message`
    /// (newest key tried first); `None` when no key of the history made it.
    pub fn signer_of(&self, message: &[u8], signature: &Signature) -> Option<&KeyRecord> {
        self.keys()
            .rev()
            .find(|(_, k)| k.verify(message, signature).is_ok())
            .map(|(r, _)| r)
    }
}

#[cfg(test)]
mod tests;
