//! An archive written from a ledger of a closed period: each CSV table
//! streamed into the zip (stored, [`crate::zipfile`]) while its SHA-256 is taken, then the
//! manifest and its signature; written under a temporary name, synced and
//! renamed, so that `--out` holds a whole archive or nothing new.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use tillsync_core::fiscal::ledger::Ledger;
use tillsync_core::fsio::{sync_parent, tmp_path};

use crate::error::ArchiveError;
use crate::manifest::{
    ChainRange, FORMAT, KEY_HISTORY, KeyInfo, MANIFEST, Manifest, ManifestSignature, Part, Role,
    SIGNATURE, VERSION, manifest_digest,
};
use crate::tables::{CLOSINGS, EVENTS, PARTS, write_records, write_tickets};
use crate::zipfile::ZipOut;
use tillsync_wire::keys::KeyHistoryFile;

/// What the manifest says besides the ledger.
#[derive(Debug, Clone)]
pub struct ArchiveMeta<'a> {
    /// Who makes it (and signs it with `signer`).
    pub made_by: Role,
    /// The POS folder.
    pub folder: &'a str,
    /// The till's store.
    pub store: &'a str,
    /// Now (RFC 3339 UTC).
    pub created_at: &'a str,
    /// `tillsync 0.1.0`.
    pub software: &'a str,
    /// The till's public key.
    pub till_key: &'a VerifyingKey,
    /// The till's key history and the server key that signs it, when it has one.
    pub key_history: Option<(&'a KeyHistoryFile, &'a VerifyingKey)>,
}

/// An archive written.
#[derive(Debug, Clone)]
pub struct Written {
    /// Where.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A writer that hashes what goes through it.
struct Hashing<'a, W: Write + ?Sized> {
    inner: &'a mut W,
    hash: Sha256,
}

impl<W: Write + ?Sized> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn range(after: u64, prev_hash: &str, held: usize) -> ChainRange {
    ChainRange {
        after,
        prev_hash: prev_hash.to_string(),
        to: after + held as u64,
    }
}

fn zip_err(e: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Zip(e.to_string())
}

fn write_zip(
    ledger: &Ledger,
    meta: &ArchiveMeta<'_>,
    signer: &SigningKey,
    file: File,
) -> Result<Manifest, ArchiveError> {
    let period = ledger
        .period
        .as_ref()
        .ok_or_else(|| ArchiveError::Invalid("an archive is of one period".into()))?;
    let mut zip = ZipOut::new(BufWriter::new(file));
    let mut parts = Vec::new();
    for name in PARTS {
        let (rows, sha) = zip
            .entry(name, |w| {
                let mut h = Hashing {
                    inner: w,
                    hash: Sha256::new(),
                };
                let rows = match name {
                    EVENTS => write_records(name, &ledger.events, &mut h),
                    CLOSINGS => write_records(name, &ledger.closings, &mut h),
                    _ => write_tickets(name, &ledger.tickets, &mut h),
                }
                .map_err(std::io::Error::other)?;
                Ok((rows, hex::encode(h.hash.finalize())))
            })
            .map_err(|e| ArchiveError::Csv {
                part: name.into(),
                reason: e.to_string(),
            })?;
        parts.push(Part {
            name: name.to_string(),
            rows,
            sha256: sha,
        });
    }
    let history = match meta.key_history {
        Some((file, server)) => {
            let mut bytes = serde_json::to_vec_pretty(file).expect("a key history serialises");
            bytes.push(b'\n');
            zip.entry(KEY_HISTORY, |w| w.write_all(&bytes))
                .map_err(zip_err)?;
            let part = Part {
                name: KEY_HISTORY.to_string(),
                rows: file.records.len() as u64,
                sha256: hex::encode(Sha256::digest(&bytes)),
            };
            Some((part, KeyInfo::of(server)))
        }
        None => None,
    };
    let a = &ledger.anchors;
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: VERSION,
        made_by: meta.made_by,
        folder: meta.folder.to_string(),
        till: ledger.till.clone(),
        store: meta.store.to_string(),
        time_zone: ledger.zone.clone(),
        period: period.to_string(),
        created_at: meta.created_at.to_string(),
        software: meta.software.to_string(),
        parts,
        tickets: range(a.tickets.after, &a.tickets.hash, ledger.tickets.len()),
        events: range(a.events.after, &a.events.hash, ledger.events.len()),
        closings: range(a.closings.after, &a.closings.hash, ledger.closings.len()),
        day_before: a.day_before.clone(),
        till_key: KeyInfo::of(meta.till_key),
        signer: KeyInfo::of(&signer.verifying_key()),
        server_key: history.as_ref().map(|(_, k)| k.clone()),
        key_history: history.map(|(p, _)| p),
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    bytes.push(b'\n');
    let sig = ManifestSignature {
        algorithm: "ed25519".into(),
        signature: hex::encode(signer.sign(&manifest_digest(&bytes)).to_bytes()),
    };
    let mut sig_bytes = serde_json::to_vec_pretty(&sig).expect("a signature serialises");
    sig_bytes.push(b'\n');
    for (name, content) in [(MANIFEST, &bytes), (SIGNATURE, &sig_bytes)] {
        zip.entry(name, |w| w.write_all(content)).map_err(zip_err)?;
    }
    let out = zip.finish().map_err(zip_err)?;
    let file = out.into_inner().map_err(|e| zip_err(e.error()))?;
    file.sync_all().map_err(zip_err)?;
    Ok(manifest)
}

/// Write the archive of `ledger` (a closed period's records) to `out`,
/// signed by `signer`: the till's key for a till archive, the server's for
/// a server archive.
pub fn write_archive(
    ledger: &Ledger,
    meta: &ArchiveMeta<'_>,
    signer: &SigningKey,
    out: &Path,
) -> Result<Written, ArchiveError> {
    if out.is_dir() {
        return Err(ArchiveError::OutIsFolder(out.to_path_buf()));
    }
    if let Some(t) = ledger
        .tickets
        .iter()
        .find(|t| t.customer.as_deref() == Some(""))
    {
        return Err(ArchiveError::Invalid(format!(
            "ticket {} names an empty customer code, which the CSV tables cannot tell from none",
            t.number
        )));
    }
    let tmp = tmp_path(out);
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Io {
            action,
            path,
            source,
        }
    };
    let file = File::create(&tmp).map_err(io("create", &tmp))?;
    let written = write_zip(ledger, meta, signer, file).and_then(|m| {
        std::fs::rename(&tmp, out).map_err(io("rename the archive to", out))?;
        sync_parent(out).map_err(io("sync the folder of", out))?;
        Ok(m)
    });
    match written {
        Ok(manifest) => {
            let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
            Ok(Written {
                path: out.to_path_buf(),
                manifest,
                bytes,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
