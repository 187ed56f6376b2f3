//! An archive file verified alone: opened ([`crate::read::open`]), its
//! signing key compared with the one the auditor holds, then every record
//! checked ([`tillsync_core::fiscal::verify::verify`]).

use std::path::Path;

use serde::Serialize;
use tillsync_core::fiscal::verify::keys::ExpectedKey;
use tillsync_core::fiscal::verify::report::{Break, Subject, Summary};
use tillsync_core::fiscal::verify::verify;

use crate::error::ArchiveError;
use crate::manifest::Manifest;
use crate::read::open;

/// An intact archive.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveVerified {
    /// What the records hold.
    pub summary: Summary,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Verify the archive `bytes`; `expected`: the key (or fingerprint) the
/// signer or the till key must be. `Err`: the first break.
pub fn verify_archive(
    bytes: &[u8],
    expected: Option<&ExpectedKey>,
) -> Result<ArchiveVerified, Break> {
    let opened = open(bytes)?;
    let server = opened.manifest.server_key.as_ref().and_then(|k| {
        let mut b = [0u8; 32];
        hex::decode_to_slice(&k.public_key, &mut b).ok()?;
        ed25519_dalek::VerifyingKey::from_bytes(&b).ok()
    });
    if let Some(e) = expected
        && !e.matches(&opened.signer)
        && !e.matches(&opened.till_key)
        && !opened.keys.all().any(|k| e.matches(k))
        && !server.is_some_and(|k| e.matches(&k))
    {
        return Err(Break::whole(
            Subject::Key,
            format!(
                "the archive is signed by key {} (till key {}), not by the {} given",
                opened.manifest.signer.fingerprint,
                opened.manifest.till_key.fingerprint,
                e.describe()
            ),
        ));
    }
    let summary = verify(&opened.ledger, &opened.keys)?;
    Ok(ArchiveVerified {
        summary,
        manifest: opened.manifest,
    })
}

/// [`verify_archive`] of the file at `path` (`Err` only when it cannot be read).
pub fn verify_archive_file(
    path: &Path,
    expected: Option<&ExpectedKey>,
) -> Result<Result<ArchiveVerified, Break>, ArchiveError> {
    let bytes = std::fs::read(path).map_err(|source| ArchiveError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(verify_archive(&bytes, expected))
}
