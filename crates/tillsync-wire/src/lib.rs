//! Formats that cross a boundary between the server and the tills: the
//! package file, the package index, the deployment package and the bodies of
//! the HTTP API. Serde types and their codecs, no I/O.
//!
//! # Layout
//! - [`value`]: the values a row carries (SQLite's five storage classes).
//! - [`layout`]: a table's columns and key, and its layout hash.
//! - [`package`]: the package file: encode, sign, verify, decode.
//! - [`index`]: the signed list of published packages.
//! - [`deploy`]: the deployment package that installs a till.
//! - [`keys`]: the till's key-history records and the enrolment and key rotation bodies.
//! - [`api`]: request and response bodies of the web service (`/api/v1`).
//!
//! # Example
//! ```
//! use tillsync_wire::layout::{Column, Layout};
//! use tillsync_wire::package::{PackageKind, PackageMeta, PackageWriter, Package, Op};
//! use tillsync_wire::value::ValueRef;
//!
//! let layout = Layout {
//!     columns: vec![Column::new("code", "TEXT", true), Column::new("price_cents", "INTEGER", true)],
//!     key: vec!["code".into()],
//! };
//! let mut w = PackageWriter::new(layout.clone());
//! w.upsert(&[ValueRef::Text("A1"), ValueRef::Integer(199)]).unwrap();
//! let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
//! let meta = PackageMeta { folder: "DEMO".into(), table: "ART".into(), subset: None,
//!     kind: PackageKind::Full, from_version: 0, to_version: 1, created_at: "2026-11-28T12:00:00Z".into() };
//! let bytes = w.finish(meta, &key).unwrap();
//! let pkg = Package::verify(&bytes, &key.verifying_key()).unwrap();
//! let payload = pkg.decompress().unwrap();
//! let mut rows = payload.records();
//! let mut vals = Vec::new();
//! assert_eq!(rows.next_into(&mut vals).unwrap(), Some(Op::Upsert));
//! assert_eq!(vals[1], ValueRef::Integer(199));
//! ```

pub mod api;
pub mod deploy;
pub mod index;
pub mod keys;
pub mod layout;
pub mod package;
pub mod value;

/// Hex of the SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
