//! The archive's manifest (`manifest.json`): what the archive is (format,
//! version, folder, till, store, time zone, period, when and by which
//! software it was made), each part's file name, row count and SHA-256,
//! where each chain begins and ends, the till's key and the signer's key;
//! and the digest its signature (`signature.json`) is made over. A leaf.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tillsync_core::fiscal::ledger::DayBefore;
use tillsync_core::fiscal::verify::keys::{fingerprint, key_id};

/// `format` of every manifest.
pub const FORMAT: &str = "tillsync-fiscal-archive";
/// The version of the format this code writes and reads.
pub const VERSION: u32 = 1;
/// The manifest's file name in the zip.
pub const MANIFEST: &str = "manifest.json";
/// The signature's file name in the zip.
pub const SIGNATURE: &str = "signature.json";
/// The till's key history's file name in the zip, when the till has one.
pub const KEY_HISTORY: &str = "key_history.json";
/// The bytes before the manifest's bytes in the signed digest.
pub const DIGEST_MAGIC: &[u8] = b"tillsync-archive-manifest";

/// Who made and signed an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The till, from its own database, with its own key.
    Till,
    /// The server, from its copy, with the server's key.
    Server,
}

impl Role {
    /// `till` or `server`.
    pub fn code(self) -> &'static str {
        match self {
            Role::Till => "till",
            Role::Server => "server",
        }
    }
}

/// One CSV table of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// File name in the zip.
    pub name: String,
    /// Data rows (the header not counted).
    pub rows: u64,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// Where a chain of the archive begins and ends: records `(after, to]`,
/// the first linking to `prev_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRange {
    /// The number of the record before the first one held.
    pub after: u64,
    /// Its hash ("000…0" when `after` is 0).
    pub prev_hash: String,
    /// The last record held (`after` when none).
    pub to: u64,
}

/// A public key with its key id and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// Ed25519 public key, 64 hex digits.
    pub public_key: String,
    /// The first 16 hex digits of the fingerprint.
    pub key_id: String,
    /// SHA-256 of the key's 32 bytes, hex.
    pub fingerprint: String,
}

impl KeyInfo {
    /// The info of `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        KeyInfo {
            public_key: hex::encode(key.to_bytes()),
            key_id: key_id(key),
            fingerprint: fingerprint(key),
        }
    }
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// Who made and signed it.
    pub made_by: Role,
    /// The POS folder.
    pub folder: String,
    /// The till.
    pub till: String,
    /// Its store.
    pub store: String,
    /// The IANA time zone that names its business days.
    pub time_zone: String,
    /// The period archived: `2026`, `2026-12` or `2026-12-04`.
    pub period: String,
    /// When it was made (RFC 3339 UTC).
    pub created_at: String,
    /// The software that made it (`tillsync 0.1.0`).
    pub software: String,
    /// The CSV tables, in the order of the docs.
    pub parts: Vec<Part>,
    /// Tickets held.
    pub tickets: ChainRange,
    /// Events held.
    pub events: ChainRange,
    /// Closings held.
    pub closings: ChainRange,
    /// The day closing before the first closing held.
    pub day_before: DayBefore,
    /// The till's key (tickets, events and closings are signed with it).
    pub till_key: KeyInfo,
    /// The key that signs the manifest: the till's for a till archive, the
    /// server's for a server archive.
    pub signer: KeyInfo,
    /// The till's key history (`key_history.json`: every key the server
    /// accepted for the till, each record signed by the server), when the
    /// till has one: its row count is the number of records.
    pub key_history: Option<Part>,
    /// The server key that signs the key history's records.
    pub server_key: Option<KeyInfo>,
}

impl Manifest {
    /// The part named `name`.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }
}

/// The content of `signature.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSignature {
    /// `ed25519`.
    pub algorithm: String,
    /// The Ed25519 signature (128 hex digits) of [`manifest_digest`].
    pub signature: String,
}

/// What is signed: the SHA-256 of [`DIGEST_MAGIC`], the byte 0x01 and the
/// bytes of `manifest.json` exactly as stored.
pub fn manifest_digest(manifest_bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DIGEST_MAGIC);
    h.update([VERSION as u8]);
    h.update(manifest_bytes);
    h.finalize().into()
}
