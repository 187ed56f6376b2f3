//! The till's ticket-signing keys as they cross a boundary: a key-history
//! record (signed by the server, kept by the server, the till and its
//! archives), the key-history file a till keeps, and the bodies of the
//! enrolment (`POST /api/v1/till/enrol`) and key rotation
//! (`POST /api/v1/till/key`) calls. Serde types only: the canonical
//! encoding, the signatures and the checks are `tillsync_core::key_history`
//! (see `docs/till-keys.md`).

use serde::{Deserialize, Serialize};

/// Version of the key-history record layout (the `version` field, also in
/// the canonical encoding).
pub const KEY_RECORD_VERSION: u32 = 1;

/// Value of the `format` field of a [`KeyHistoryFile`].
pub const KEY_HISTORY_FORMAT: &str = "tillsync-key-history";

/// Why a key entered a till's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyReason {
    /// The till's first key, registered with the one-time secret of its
    /// deployment package.
    Enrolment,
    /// A key registered with a newer deployment package of a till that
    /// already had one (a reinstall).
    ReEnrolment,
    /// A key the till changed to over its authenticated channel.
    Rotation,
    /// A key the server generated itself in a version-2 deployment package
    /// (before enrolment existed), recorded when the till first enrolled.
    PackageV2,
}

impl KeyReason {
    /// The name used in JSON and in the canonical encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyReason::Enrolment => "enrolment",
            KeyReason::ReEnrolment => "re-enrolment",
            KeyReason::Rotation => "rotation",
            KeyReason::PackageV2 => "package-v2",
        }
    }

    /// The reason named `s` (as [`KeyReason::as_str`] writes it).
    pub fn parse(s: &str) -> Option<KeyReason> {
        [
            KeyReason::Enrolment,
            KeyReason::ReEnrolment,
            KeyReason::Rotation,
            KeyReason::PackageV2,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// One key the server accepted for a till, signed by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    /// Always [`KEY_RECORD_VERSION`] for this layout.
    pub version: u32,
    /// The till.
    pub till: String,
    /// Position in the till's history, from 1, without gaps.
    pub seq: u64,
    /// The key id: the first 16 hex digits of the SHA-256 of the 32 bytes
    /// of the public key.
    pub key_id: String,
    /// The Ed25519 public key (64 hex digits).
    pub public_key: String,
    /// From when the key signs the till's tickets (RFC 3339 UTC, seconds):
    /// the time the till made the key (its clock, as it said at enrolment),
    /// never before the previous record's `valid_from` nor after
    /// `recorded_at`.
    pub valid_from: String,
    /// When the server accepted the key (RFC 3339 UTC, seconds).
    pub recorded_at: String,
    /// `key_id` of the previous record; `null` for the first.
    pub previous_key_id: Option<String>,
    /// Why the key entered the history.
    pub reason: KeyReason,
    /// The server's Ed25519 signature (128 hex digits) of the SHA-256 of
    /// the record's canonical encoding.
    pub signature: String,
}

/// The key history a till keeps in its folder (`key-history.json`), and
/// that `tillsync server tills keys --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyHistoryFile {
    /// Always [`KEY_HISTORY_FORMAT`].
    pub format: String,
    /// The till.
    pub till: String,
    /// The server's public key the records are signed with (64 hex
    /// digits), for information: a verifier compares it with the key it
    /// trusts.
    pub server_public_key: String,
    /// The records, oldest first.
    pub records: Vec<KeyRecord>,
}

/// `POST /api/v1/till/enrol`: a till registers the public key it made,
/// with the one-time secret of its deployment package.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The till (from the deployment package).
    pub till: String,
    /// The one-time enrolment secret of the deployment package (64 hex
    /// digits; secret).
    pub secret: String,
    /// The till's new Ed25519 public key (64 hex digits).
    pub public_key: String,
    /// When the till made the key (RFC 3339, its clock).
    pub key_created_at: String,
    /// Proof that the till holds the key: the key's Ed25519 signature (128
    /// hex digits) of the proof message (`docs/till-keys.md`).
    pub proof: String,
}

impl std::fmt::Debug for EnrolRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolRequest")
            .field("till", &self.till)
            .field("secret", &"********")
            .field("public_key", &self.public_key)
            .field("key_created_at", &self.key_created_at)
            .finish_non_exhaustive()
    }
}

/// The answer to an enrolment: the till's bearer token and its key history.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolResponse {
    /// The till.
    pub till: String,
    /// The till's bearer token on the web service (64 hex digits; secret:
    /// the server keeps only its SHA-256).
    pub token: String,
    /// The key id of the key just registered.
    pub key_id: String,
    /// The till's whole key history, oldest first, the new key last.
    pub key_history: Vec<KeyRecord>,
}

impl std::fmt::Debug for EnrolResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolResponse")
            .field("till", &self.till)
            .field("token", &"********")
            .field("key_id", &self.key_id)
            .field("key_history", &self.key_history)
            .finish()
    }
}

/// `POST /api/v1/till/key`: an enrolled till changes to a new key (its
/// credentials authenticate it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    /// The new Ed25519 public key (64 hex digits).
    pub public_key: String,
    /// When the till made the key (RFC 3339, its clock).
    pub key_created_at: String,
    /// The new key's signature of the proof message (`docs/till-keys.md`).
    pub proof: String,
}

/// The answer to a key rotation: the till's key history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyHistoryResponse {
    /// The till.
    pub till: String,
    /// The key id of the key just registered.
    pub key_id: String,
    /// The till's whole key history, oldest first.
    pub key_history: Vec<KeyRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_and_debug_hides_secrets() {
        for r in [
            KeyReason::Enrolment,
            KeyReason::ReEnrolment,
            KeyReason::Rotation,
            KeyReason::PackageV2,
        ] {
            assert_eq!(KeyReason::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert_eq!(KeyReason::parse("other"), None);
        let req = EnrolRequest {
            till: "T001".into(),
            secret: "s3cr3t-value".into(),
            public_key: "ab".into(),
            key_created_at: "now".into(),
            proof: "cd".into(),
        };
        let resp = EnrolResponse {
            till: "T001".into(),
            token: "t0ken-value".into(),
            key_id: "k".into(),
            key_history: Vec::new(),
        };
        let shown = format!("{req:?} {resp:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0ken"),
            "{shown}"
        );
    }
}
