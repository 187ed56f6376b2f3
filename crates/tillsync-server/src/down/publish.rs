//! The publish step of the export: every package built, signed and put in
//! the package store (a temporary name, then a rename: a till never sees a
//! half-written package), the export recorded, the index written last (a
//! till that reads it finds every package it names), then the packages
//! beyond retention deleted.

use ed25519_dalek::SigningKey;
use tillsync_server_db::export::TableExport;
use tillsync_server_db::store::ServerStore;
use tillsync_transport::PackageStore;
use tillsync_wire::index::{INDEX_FILE, IndexBody, IndexEntry};
use tillsync_wire::package::{PackageMeta, PackageWriter};

use crate::down::report::TableReport;
use crate::error::ServerError;

/// A package read and not yet published.
pub struct Pending {
    /// What it is.
    pub meta: PackageMeta,
    /// Its rows.
    pub writer: PackageWriter,
}

/// Build, sign and publish every package; each joins the packages of its
/// table's export record and the files of its table's report. The bytes
/// published.
pub fn publish_packages(
    store: &mut dyn PackageStore,
    key: &SigningKey,
    pending: Vec<Pending>,
    exports: &mut [TableExport],
    reports: &mut [TableReport],
    progress: &mut dyn FnMut(&str),
) -> Result<u64, ServerError> {
    let mut bytes_total = 0u64;
    for p in pending {
        let file = p.meta.file_name();
        progress(&format!("publishing {file}"));
        let meta = p.meta.clone();
        let bytes = p.writer.finish(p.meta, key)?;
        let header = tillsync_wire::package::peek_header(&bytes)?;
        store.put(&file, &bytes)?;
        bytes_total += bytes.len() as u64;
        let entry = IndexEntry {
            file: file.clone(),
            table: meta.table.clone(),
            subset: meta.subset.clone(),
            kind: meta.kind,
            from_version: meta.from_version,
            to_version: meta.to_version,
            layout_hash: header.layout_hash,
            size: bytes.len() as u64,
            sha256: tillsync_wire::sha256_hex(&bytes),
            upserts: header.upserts,
            deletes: header.deletes,
        };
        let table = &meta.table;
        if let Some(e) = exports.iter_mut().find(|e| &e.state.table == table) {
            e.packages.push(entry);
        }
        if let Some(r) = reports.iter_mut().find(|r| &r.table == table) {
            r.published.push(file);
        }
    }
    Ok(bytes_total)
}

/// Record the export (keeping `retention` packages per table), then write
/// the index of `folder` (last), then delete the packages retention
/// purged; the files purged.
pub fn publish_index(
    db: &mut dyn ServerStore,
    store: &mut dyn PackageStore,
    key: &SigningKey,
    folder: &str,
    exports: &[TableExport],
    retention: u32,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<String>, ServerError> {
    let purged = db.record_export(exports, retention)?;
    let index = IndexBody {
        folder: folder.to_string(),
        generated_at: tillsync_db::now_rfc3339(),
        packages: db.published()?,
    };
    progress("writing the package index");
    store.put(INDEX_FILE, &index.encode(key))?;
    for f in &purged {
        if let Err(e) = store.delete(f) {
            tracing::warn!(file = %f, error = %e, "could not delete a purged package");
        }
    }
    Ok(purged)
}
