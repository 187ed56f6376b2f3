//! The package index: the signed list of packages available in a package
//! store, written last at every publication so a till never sees a package
//! listed before it is complete.
//!
//! ```text
//! tillsync-index 1 <128 hex digits: Ed25519 signature of the body>\n
//! <body: JSON IndexBody>
//! ```

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::package::PackageKind;

/// Name of the index file in the package store.
pub const INDEX_FILE: &str = "tillsync-index.v1";
const INDEX_MAGIC: &str = "tillsync-index 1 ";

/// One published package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// File name in the package store.
    pub file: String,
    /// Table name.
    pub table: String,
    /// Store subset (filtered tables), or null.
    pub subset: Option<String>,
    /// Full or incremental.
    pub kind: PackageKind,
    /// Start version (exclusive); 0 for full packages.
    pub from_version: u64,
    /// Version once applied.
    pub to_version: u64,
    /// Layout hash of the rows inside.
    pub layout_hash: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// SHA-256 (hex) of the whole file.
    pub sha256: String,
    /// Upsert records.
    pub upserts: u64,
    /// Delete records.
    pub deletes: u64,
}

/// The signed part of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexBody {
    /// POS folder name.
    pub folder: String,
    /// When it was written (RFC 3339, UTC).
    pub generated_at: String,
    /// Every package available in the store.
    pub packages: Vec<IndexEntry>,
}

/// Why an index was refused.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Not an index file, or its first line is damaged.
    #[error("package index is not in tillsync-index format 1")]
    BadFormat,
    /// Signature mismatch.
    #[error("package index signature is invalid: not signed by this server's key, or altered")]
    BadSignature,
    /// Body is not valid JSON.
    #[error("package index body is unreadable: {0}")]
    BadBody(String),
}

impl IndexBody {
    /// Serialize and sign.
    pub fn encode(&self, key: &SigningKey) -> Vec<u8> {
        let body = serde_json::to_vec_pretty(self).expect("index serializes");
        let sig = key.sign(&body);
        let mut out = format!("{INDEX_MAGIC}{}\n", hex::encode(sig.to_bytes())).into_bytes();
        out.extend_from_slice(&body);
        out
    }

    /// Verify with the server's public key and parse.
    pub fn decode(bytes: &[u8], key: &VerifyingKey) -> Result<IndexBody, IndexError> {
        let nl = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(IndexError::BadFormat)?;
        let first = std::str::from_utf8(&bytes[..nl]).map_err(|_| IndexError::BadFormat)?;
        let sig_hex = first
            .strip_prefix(INDEX_MAGIC)
            .ok_or(IndexError::BadFormat)?;
        let sig_bytes = hex::decode(sig_hex.trim()).map_err(|_| IndexError::BadFormat)?;
        let sig = Signature::from_slice(&sig_bytes).map_err(|_| IndexError::BadFormat)?;
        let body = &bytes[nl + 1..];
        key.verify(body, &sig)
            .map_err(|_| IndexError::BadSignature)?;
        serde_json::from_slice(body).map_err(|e| IndexError::BadBody(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_round_trip_and_tamper() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let body = IndexBody {
            folder: "DEMO".into(),
            generated_at: "2026-11-28T12:00:00Z".into(),
            packages: vec![IndexEntry {
                file: "ART.full.0000000001.tspkg".into(),
                table: "ART".into(),
                subset: None,
                kind: PackageKind::Full,
                from_version: 0,
                to_version: 1,
                layout_hash: "0123456789abcdef".into(),
                size: 10,
                sha256: "00".into(),
                upserts: 1,
                deletes: 0,
            }],
        };
        let bytes = body.encode(&key);
        assert_eq!(
            IndexBody::decode(&bytes, &key.verifying_key()).unwrap(),
            body
        );
        let mut bad = bytes.clone();
        let n = bad.len() - 5;
        bad[n] ^= 1;
        assert!(matches!(
            IndexBody::decode(&bad, &key.verifying_key()),
            Err(IndexError::BadSignature | IndexError::BadBody(_))
        ));
        let other = SigningKey::from_bytes(&[4u8; 32]);
        assert!(matches!(
            IndexBody::decode(&bytes, &other.verifying_key()),
            Err(IndexError::BadSignature)
        ));
    }
}
