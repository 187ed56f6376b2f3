//! The fiscal archive (NF525): one zip file in an open format — CSV tables
//! of a closed period's tickets, ticket lines, payments, VAT totals, events
//! and closings, a JSON manifest (each part's SHA-256 and row count, the
//! chain anchors, the keys) and its Ed25519 signature — written from a
//! [`tillsync_core::fiscal::ledger::Ledger`] and verified alone, by anyone
//! holding the file (`docs/fiscal-archive.md`).
//!
//! # Layout
//! - [`error`]: [`ArchiveError`], why an archive could not be written or read.
//! - [`manifest`]: the manifest and signature files, and the digest signed (a leaf).
//! - [`tables`]: the CSV tables: names, columns, written and read back.
//! - [`zipfile`]: the canonical stored zip: written, and read with every byte checked.
//! - [`write`]: an archive written from a ledger, atomically.
//! - [`read`]: an archive opened: manifest, signature, parts, tables into a ledger.
//! - [`verify`]: an archive verified alone: [`verify::verify_archive`].

pub mod error;
pub mod manifest;
pub mod read;
pub mod tables;
pub mod verify;
pub mod write;
pub mod zipfile;

pub use error::ArchiveError;

#[cfg(test)]
mod tests;
