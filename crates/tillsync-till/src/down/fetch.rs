//! Getting what the server published from the package store, checked before
//! anything is applied: the signed package index; a package's bytes (size
//! and SHA-256 against the listing); the package itself (signature, then the
//! table and version the listing announced).

use ed25519_dalek::VerifyingKey;
use tillsync_transport::PackageStore;
use tillsync_wire::index::{INDEX_FILE, IndexBody, IndexEntry};
use tillsync_wire::package::Package;

use crate::error::TillError;

/// The package index, its signature checked with `key`.
pub(crate) fn read_index(
    store: &mut dyn PackageStore,
    key: &VerifyingKey,
) -> Result<IndexBody, TillError> {
    let bytes = store.get(INDEX_FILE)?;
    IndexBody::decode(&bytes, key).map_err(|e| match e {
        tillsync_wire::index::IndexError::BadSignature => TillError::BadSignature {
            file: INDEX_FILE.into(),
            reason: e.to_string(),
        },
        e => TillError::Download {
            file: INDEX_FILE.into(),
            reason: e.to_string(),
        },
    })
}

/// The bytes of `entry`'s package, refused unless they have the size and
/// the SHA-256 the listing published.
pub(crate) fn download(
    store: &mut dyn PackageStore,
    entry: &IndexEntry,
) -> Result<Vec<u8>, TillError> {
    let bytes = store.get(&entry.file)?;
    if bytes.len() as u64 != entry.size {
        return Err(TillError::Download {
            file: entry.file.clone(),
            reason: format!(
                "{} bytes received, {} published (truncated or replaced)",
                bytes.len(),
                entry.size
            ),
        });
    }
    let sum = tillsync_wire::sha256_hex(&bytes);
    if sum != entry.sha256 {
        return Err(TillError::Download {
            file: entry.file.clone(),
            reason: "its SHA-256 differs from the published checksum (corrupted or replaced)"
                .into(),
        });
    }
    Ok(bytes)
}

/// The package in `bytes`, refused unless `key` signed it and it holds the
/// table and version `entry` announced.
pub(crate) fn verify<'a>(
    bytes: &'a [u8],
    entry: &IndexEntry,
    key: &VerifyingKey,
) -> Result<Package<'a>, TillError> {
    let pkg = Package::verify(bytes, key).map_err(|e| match e {
        tillsync_wire::package::PackageError::BadSignature => TillError::BadSignature {
            file: entry.file.clone(),
            reason: e.to_string(),
        },
        e => TillError::Download {
            file: entry.file.clone(),
            reason: e.to_string(),
        },
    })?;
    if pkg.header.table != entry.table || pkg.header.to_version != entry.to_version {
        return Err(TillError::Download {
            file: entry.file.clone(),
            reason: format!(
                "it holds {} version {}, the listing announced {} version {}",
                pkg.header.table, pkg.header.to_version, entry.table, entry.to_version
            ),
        });
    }
    Ok(pkg)
}
