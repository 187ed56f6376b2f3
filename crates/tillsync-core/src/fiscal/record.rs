//! Chained and signed fiscal records other than tickets: each event of the
//! event log (JET) and each closing is a [`Record`] of its own chain, hashed
//! over a canonical encoding and signed by the till's key at the moment it
//! is written, offline included (see `docs/fiscal-archive.md`).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of the records' canonical encoding, part of every hash.
pub const RECORD_VERSION: u8 = 1;

/// Chain of the event log.
pub const EVENT_CHAIN: &str = "event";
/// Chain of the closings.
pub const CLOSING_CHAIN: &str = "closing";

/// One record of a chain: numbered from 1 without gaps, linked to the
/// previous record's hash ([`crate::ticket::GENESIS_HASH`] for the first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Till id.
    pub till: String,
    /// Chain: [`EVENT_CHAIN`] or [`CLOSING_CHAIN`].
    pub chain: String,
    /// Gap-free number in its chain, from 1.
    pub seq: u64,
    /// When it was written (RFC 3339, UTC, the till's clock).
    pub time: String,
    /// What it records (an event kind, or the closing's period).
    pub kind: String,
    /// Its content: compact JSON text, hashed as it is.
    pub body: String,
    /// Hash of the previous record of this chain.
    pub prev_hash: String,
    /// SHA-256 (hex) of the canonical encoding.
    pub hash: String,
    /// Ed25519 signature (hex) of the hash's 32 bytes, by the till's key.
    pub signature: String,
}

/// Which check a record fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The content does not hash to `hash`: altered.
    #[error("{chain} {seq} of till {till}: its content does not match its hash (altered)")]
    Hash {
        /// Till.
        till: String,
        /// Chain.
        chain: String,
        /// Number.
        seq: u64,
    },
    /// The signature is not the till's.
    #[error("{chain} {seq} of till {till}: the signature is not this till's")]
    Signature {
        /// Till.
        till: String,
        /// Chain.
        chain: String,
        /// Number.
        seq: u64,
    },
    /// `prev_hash` is not the previous record's hash.
    #[error(
        "{chain} {seq} of till {till}: chain broken (previous hash {got}, expected {expected})"
    )]
    Link {
        /// Till.
        till: String,
        /// Chain.
        chain: String,
        /// Number.
        seq: u64,
        /// `prev_hash` found.
        got: String,
        /// Hash of the previous record.
        expected: String,
    },
}

/// SHA-256 of the canonical encoding of a record's fields.
#[allow(clippy::too_many_arguments)]
fn digest_of(
    till: &str,
    chain: &str,
    seq: u64,
    time: &str,
    kind: &str,
    body: &str,
    prev_hash: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tillsync-record");
    h.update([RECORD_VERSION]);
    let s = |h: &mut Sha256, v: &str| {
        h.update((v.len() as u64).to_be_bytes());
        h.update(v.as_bytes());
    };
    s(&mut h, till);
    s(&mut h, chain);
    h.update(seq.to_be_bytes());
    s(&mut h, time);
    s(&mut h, kind);
    s(&mut h, body);
    s(&mut h, prev_hash);
    h.finalize().into()
}

/// What a record holds before it is numbered, chained and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft<'a> {
    /// Till id.
    pub till: &'a str,
    /// Chain.
    pub chain: &'a str,
    /// Time (RFC 3339 UTC).
    pub time: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Body (compact JSON).
    pub body: String,
}

impl Draft<'_> {
    /// Number it `seq`, chain it to `prev_hash` and sign it with `key`.
    pub fn seal(self, seq: u64, prev_hash: &str, key: &SigningKey) -> Record {
        let digest = digest_of(
            self.till, self.chain, seq, self.time, self.kind, &self.body, prev_hash,
        );
        Record {
            till: self.till.to_string(),
            chain: self.chain.to_string(),
            seq,
            time: self.time.to_string(),
            kind: self.kind.to_string(),
            body: self.body,
            prev_hash: prev_hash.to_string(),
            hash: hex::encode(digest),
            signature: hex::encode(key.sign(&digest).to_bytes()),
        }
    }
}

impl Record {
    /// SHA-256 of the canonical encoding (every field but `hash` and `signature`).
    pub fn digest(&self) -> [u8; 32] {
        digest_of(
            &self.till,
            &self.chain,
            self.seq,
            &self.time,
            &self.kind,
            &self.body,
            &self.prev_hash,
        )
    }

    /// The record's digest and signature, once its content is checked against
    /// its hash and its signature is readable.
    pub fn sealed(&self) -> Result<([u8; 32], Signature), RecordError> {
        let digest = self.digest();
        if hex::encode(digest) != self.hash {
            return Err(RecordError::Hash {
                till: self.till.clone(),
                chain: self.chain.clone(),
                seq: self.seq,
            });
        }
        let sig = hex::decode(&self.signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or_else(|| self.bad_signature())?;
        Ok((digest, sig))
    }

    fn bad_signature(&self) -> RecordError {
        RecordError::Signature {
            till: self.till.clone(),
            chain: self.chain.clone(),
            seq: self.seq,
        }
    }

    /// Check hash and signature with the till's public key, and the link to
    /// the previous record's hash.
    pub fn verify(&self, key: &VerifyingKey, expected_prev: &str) -> Result<(), RecordError> {
        let (digest, sig) = self.sealed()?;
        key.verify(&digest, &sig)
            .map_err(|_| self.bad_signature())?;
        if self.prev_hash != expected_prev {
            return Err(RecordError::Link {
                till: self.till.clone(),
                chain: self.chain.clone(),
                seq: self.seq,
                got: self.prev_hash.clone(),
                expected: expected_prev.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::GENESIS_HASH;

    fn draft(body: &str) -> Draft<'static> {
        Draft {
            till: "T001",
            chain: EVENT_CHAIN,
            time: "2026-12-04T08:00:00Z",
            kind: "agent_start",
            body: body.to_string(),
        }
    }

    #[test]
    fn the_literal_example_of_the_archive_docs() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let r = draft(r#"{"version":"0.1.0"}"#).seal(1, GENESIS_HASH, &key);
        assert_eq!(
            r.hash,
            "bcdb70246a988b660f84d4edb9d5cc7856e43a7d0ff37adcab825d7467400295"
        );
    }

    #[test]
    fn records_chain_and_every_field_counts() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let pk = key.verifying_key();
        let r1 = draft("{}").seal(1, GENESIS_HASH, &key);
        let r2 = draft(r#"{"a":1}"#).seal(2, &r1.hash, &key);
        r1.verify(&pk, GENESIS_HASH).unwrap();
        r2.verify(&pk, &r1.hash).unwrap();
        let mut bad = r2.clone();
        bad.body = r#"{"a":2}"#.into();
        assert!(matches!(
            bad.verify(&pk, &r1.hash),
            Err(RecordError::Hash { .. })
        ));
        let mut bad = r2.clone();
        bad.kind = "agent_stop".into();
        assert!(matches!(
            bad.verify(&pk, &r1.hash),
            Err(RecordError::Hash { .. })
        ));
        assert!(matches!(
            r2.verify(&pk, GENESIS_HASH),
            Err(RecordError::Link { .. })
        ));
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(matches!(
            r2.verify(&other, &r1.hash),
            Err(RecordError::Signature { .. })
        ));
    }
}
