//! The package file (format 1): one table's full snapshot or changes,
//! compressed, checksummed and signed. Documented in `docs/package-format.md`.
//!
//! ```text
//! magic      8 bytes  "TSPKG\r\n\x1a"   (a CR/LF or ^Z mangled in transit breaks it)
//! hlen       u32 LE   length of the header
//! header     hlen bytes of UTF-8 JSON (PackageHeader)
//! signature  64 bytes Ed25519 over magic || hlen || header
//! payload    header.payload_len bytes: one zstd frame of records
//! ```
//! The header carries the payload's SHA-256, so the signature covers the rows.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::layout::Layout;
use crate::value::ValueRef;

/// The eight bytes every package starts with.
pub const MAGIC: &[u8; 8] = b"TSPKG\r\n\x1a";
/// The package format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Largest header accepted (a corrupt length must not allocate gigabytes).
const MAX_HEADER: usize = 1 << 20;
/// Largest decompressed payload accepted.
const MAX_RAW_PAYLOAD: u64 = 8 << 30;
/// zstd level: 3 is zstd's default, a good balance of speed and size.
const ZSTD_LEVEL: i32 = 3;

const TAG_NULL: u8 = 0;
const TAG_INT: u8 = 1;
const TAG_REAL: u8 = 2;
const TAG_TEXT: u8 = 3;
const TAG_BLOB: u8 = 4;
const OP_UPSERT: u8 = b'U';
const OP_DELETE: u8 = b'D';
const OP_END: u8 = b'E';

/// A full snapshot or the changes between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// Every row of the table (or of the subset) at `to_version`.
    Full,
    /// The rows changed in (`from_version`, `to_version`].
    Incremental,
}

impl fmt::Display for PackageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PackageKind::Full => "full",
            PackageKind::Incremental => "incremental",
        })
    }
}

/// What a record does on the till.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Insert the row, or replace the row with the same key.
    Upsert,
    /// Delete the row with this key (no error if absent).
    Delete,
}

/// The self-describing header of a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageHeader {
    /// Package format version ([`FORMAT_VERSION`]).
    pub format: u32,
    /// POS folder the package belongs to.
    pub folder: String,
    /// Table name, as on the server.
    pub table: String,
    /// Store the rows are subset for (filtered tables), or null for all.
    pub subset: Option<String>,
    /// Full snapshot or incremental.
    pub kind: PackageKind,
    /// Version the changes start after (0 for a full package).
    pub from_version: u64,
    /// Version of the table once the package is applied.
    pub to_version: u64,
    /// Columns and key.
    pub layout: Layout,
    /// [`Layout::hash`] of `layout`.
    pub layout_hash: String,
    /// Number of upsert records.
    pub upserts: u64,
    /// Number of delete records.
    pub deletes: u64,
    /// When the server built it (RFC 3339, UTC).
    pub created_at: String,
    /// Compression of the payload: always `zstd` in format 1.
    pub compression: String,
    /// Length of the compressed payload in bytes.
    pub payload_len: u64,
    /// Length of the payload once decompressed.
    pub payload_raw_len: u64,
    /// SHA-256 (hex) of the compressed payload.
    pub payload_sha256: String,
}

/// What identifies a package, given by the exporter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageMeta {
    /// POS folder name.
    pub folder: String,
    /// Table name.
    pub table: String,
    /// Store subset, if the table is filtered.
    pub subset: Option<String>,
    /// Full or incremental.
    pub kind: PackageKind,
    /// Start version (exclusive); 0 for full.
    pub from_version: u64,
    /// End version (inclusive).
    pub to_version: u64,
    /// RFC 3339 creation time.
    pub created_at: String,
}

impl PackageMeta {
    /// The file name this package is published under.
    pub fn file_name(&self) -> String {
        package_file_name(
            &self.table,
            self.subset.as_deref(),
            self.kind,
            self.from_version,
            self.to_version,
        )
    }
}

/// `ART.full.0000000007.tspkg`, `CLI@S01.inc.0000000006-0000000007.tspkg`.
pub fn package_file_name(
    table: &str,
    subset: Option<&str>,
    kind: PackageKind,
    from: u64,
    to: u64,
) -> String {
    let base = match subset {
        Some(s) => format!("{table}@{s}"),
        None => table.to_string(),
    };
    match kind {
        PackageKind::Full => format!("{base}.full.{to:010}.tspkg"),
        PackageKind::Incremental => format!("{base}.inc.{from:010}-{to:010}.tspkg"),
    }
}

/// Why a package was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Not a tillsync package, or its first bytes were mangled in transit.
    #[error("not a tillsync package (bad magic bytes; was it transferred in ASCII mode?)")]
    BadMagic,
    /// The file ends before its declared parts.
    #[error("package is truncated: {0}")]
    Truncated(&'static str),
    /// The header is not valid JSON for this format.
    #[error("package header is unreadable: {0}")]
    BadHeader(String),
    /// Written by a newer tillsync.
    #[error("package format {0} is not supported (this tillsync reads format {FORMAT_VERSION})")]
    UnsupportedFormat(u32),
    /// The signature does not match the server's public key.
    #[error("package signature is invalid: not signed by this server's key, or altered")]
    BadSignature,
    /// The payload's checksum does not match the header.
    #[error("package payload checksum mismatch (expected {expected}, got {actual})")]
    BadChecksum {
        /// From the header.
        expected: String,
        /// Computed.
        actual: String,
    },
    /// The payload does not decode.
    #[error("package payload is corrupt: {0}")]
    Corrupt(String),
    /// A row does not match the layout (writer side).
    #[error("row has {got} values, the layout needs {want}")]
    Arity {
        /// Values given.
        got: usize,
        /// Values expected.
        want: usize,
    },
    /// Compression failed (writer side).
    #[error("compression failed: {0}")]
    Compress(String),
}

/// Builds a package: rows go in, a signed file comes out.
pub struct PackageWriter {
    layout: Layout,
    raw: Vec<u8>,
    upserts: u64,
    deletes: u64,
}

impl PackageWriter {
    /// A writer for rows of `layout`.
    pub fn new(layout: Layout) -> Self {
        PackageWriter {
            layout,
            raw: Vec::with_capacity(1 << 16),
            upserts: 0,
            deletes: 0,
        }
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.upserts + self.deletes
    }

    /// SHA-256 (hex) of the records written so far: tells whether a snapshot
    /// changed since the last export without comparing rows.
    pub fn content_sha256(&self) -> String {
        crate::sha256_hex(&self.raw)
    }

    /// Add a whole row (every column, in layout order).
    pub fn upsert(&mut self, values: &[ValueRef<'_>]) -> Result<(), PackageError> {
        if values.len() != self.layout.columns.len() {
            return Err(PackageError::Arity {
                got: values.len(),
                want: self.layout.columns.len(),
            });
        }
        self.raw.push(OP_UPSERT);
        for v in values {
            put_value(&mut self.raw, v);
        }
        self.upserts += 1;
        Ok(())
    }

    /// Add a deletion (the key's values, in key order).
    pub fn delete(&mut self, key: &[ValueRef<'_>]) -> Result<(), PackageError> {
        if key.len() != self.layout.key.len() {
            return Err(PackageError::Arity {
                got: key.len(),
                want: self.layout.key.len(),
            });
        }
        self.raw.push(OP_DELETE);
        for v in key {
            put_value(&mut self.raw, v);
        }
        self.deletes += 1;
        Ok(())
    }

    /// Compress, checksum and sign: the bytes of the package file.
    pub fn finish(mut self, meta: PackageMeta, key: &SigningKey) -> Result<Vec<u8>, PackageError> {
        self.raw.push(OP_END);
        let payload = zstd::bulk::compress(&self.raw, ZSTD_LEVEL)
            .map_err(|e| PackageError::Compress(e.to_string()))?;
        let header = PackageHeader {
            format: FORMAT_VERSION,
            folder: meta.folder,
            table: meta.table,
            subset: meta.subset,
            kind: meta.kind,
            from_version: meta.from_version,
            to_version: meta.to_version,
            layout_hash: self.layout.hash(),
            layout: self.layout,
            upserts: self.upserts,
            deletes: self.deletes,
            created_at: meta.created_at,
            compression: "zstd".into(),
            payload_len: payload.len() as u64,
            payload_raw_len: self.raw.len() as u64,
            payload_sha256: crate::sha256_hex(&payload),
        };
        let header_json =
            serde_json::to_vec(&header).map_err(|e| PackageError::BadHeader(e.to_string()))?;
        let mut out = Vec::with_capacity(8 + 4 + header_json.len() + 64 + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
        out.extend_from_slice(&header_json);
        let signature = key.sign(&out);
        out.extend_from_slice(&signature.to_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_value(out: &mut Vec<u8>, v: &ValueRef<'_>) {
    match *v {
        ValueRef::Null => out.push(TAG_NULL),
        ValueRef::Integer(i) => {
            out.push(TAG_INT);
            put_varint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        ValueRef::Real(f) => {
            out.push(TAG_REAL);
            out.extend_from_slice(&f.to_le_bytes());
        }
        ValueRef::Text(s) => {
            out.push(TAG_TEXT);
            put_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        ValueRef::Blob(b) => {
            out.push(TAG_BLOB);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    }
}

/// A package whose signature and checksum were verified.
#[derive(Debug)]
pub struct Package<'a> {
    /// The verified header.
    pub header: PackageHeader,
    payload: &'a [u8],
}

/// Reads only the header, without verifying anything: for listings and
/// error messages. Never apply rows from an unverified package.
pub fn peek_header(bytes: &[u8]) -> Result<PackageHeader, PackageError> {
    split(bytes).map(|(h, _, _, _)| h)
}

#[allow(clippy::type_complexity)]
fn split(bytes: &[u8]) -> Result<(PackageHeader, &[u8], &[u8], &[u8]), PackageError> {
    if bytes.len() < 12 {
        return Err(if bytes.len() >= 8 && &bytes[..8] != MAGIC {
            PackageError::BadMagic
        } else {
            PackageError::Truncated("shorter than the fixed prefix")
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(PackageError::BadMagic);
    }
    let hlen = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    if hlen > MAX_HEADER {
        return Err(PackageError::BadHeader(format!(
            "declared header length {hlen} is implausible"
        )));
    }
    let header_end = 12 + hlen;
    if bytes.len() < header_end + 64 {
        return Err(PackageError::Truncated("header or signature cut short"));
    }
    let header_bytes = &bytes[12..header_end];
    // Read the format first, so a newer format gets the right message.
    let probe: serde_json::Value =
        serde_json::from_slice(header_bytes).map_err(|e| PackageError::BadHeader(e.to_string()))?;
    match probe.get("format").and_then(|f| f.as_u64()) {
        Some(f) if f == u64::from(FORMAT_VERSION) => {}
        Some(f) => return Err(PackageError::UnsupportedFormat(f as u32)),
        None => return Err(PackageError::BadHeader("no format field".into())),
    }
    let header: PackageHeader =
        serde_json::from_value(probe).map_err(|e| PackageError::BadHeader(e.to_string()))?;
    let signed = &bytes[..header_end];
    let signature = &bytes[header_end..header_end + 64];
    let payload = &bytes[header_end + 64..];
    Ok((header, signed, signature, payload))
}

impl<'a> Package<'a> {
    /// Check magic, format, signature (with the server's public key) and
    /// payload checksum. Nothing is decompressed yet.
    pub fn verify(bytes: &'a [u8], key: &VerifyingKey) -> Result<Package<'a>, PackageError> {
        let (header, signed, signature, payload) = split(bytes)?;
        let signature = Signature::from_slice(signature).map_err(|_| PackageError::BadSignature)?;
        key.verify(signed, &signature)
            .map_err(|_| PackageError::BadSignature)?;
        if (payload.len() as u64) < header.payload_len {
            return Err(PackageError::Truncated("payload cut short"));
        }
        if payload.len() as u64 != header.payload_len {
            return Err(PackageError::Corrupt(format!(
                "{} bytes after the payload",
                payload.len() as u64 - header.payload_len
            )));
        }
        let actual = crate::sha256_hex(payload);
        if actual != header.payload_sha256 {
            return Err(PackageError::BadChecksum {
                expected: header.payload_sha256.clone(),
                actual,
            });
        }
        if header.compression != "zstd" {
            return Err(PackageError::BadHeader(format!(
                "unknown compression {:?}",
                header.compression
            )));
        }
        if header.payload_raw_len > MAX_RAW_PAYLOAD {
            return Err(PackageError::BadHeader("payload too large".into()));
        }
        if header.layout.hash() != header.layout_hash {
            return Err(PackageError::BadHeader(
                "layout hash does not match layout".into(),
            ));
        }
        header
            .layout
            .key_positions()
            .map_err(|k| PackageError::BadHeader(format!("key column {k} is not a column")))?;
        Ok(Package { header, payload })
    }

    /// Decompress the payload; read its records with [`Payload::records`].
    pub fn decompress(&self) -> Result<Payload, PackageError> {
        let raw = zstd::bulk::decompress(self.payload, self.header.payload_raw_len as usize)
            .map_err(|e| PackageError::Corrupt(format!("zstd: {e}")))?;
        if raw.len() as u64 != self.header.payload_raw_len {
            return Err(PackageError::Corrupt("decompressed length differs".into()));
        }
        Ok(Payload {
            raw,
            columns: self.header.layout.columns.len(),
            keys: self.header.layout.key.len(),
            expect_upserts: self.header.upserts,
            expect_deletes: self.header.deletes,
        })
    }
}

/// The decompressed records of a package.
pub struct Payload {
    raw: Vec<u8>,
    columns: usize,
    keys: usize,
    expect_upserts: u64,
    expect_deletes: u64,
}

impl Payload {
    /// A cursor over the records; values borrow from the payload, no copy.
    pub fn records(&self) -> RowReader<'_> {
        RowReader {
            raw: &self.raw,
            pos: 0,
            columns: self.columns,
            keys: self.keys,
            upserts: 0,
            deletes: 0,
            expect_upserts: self.expect_upserts,
            expect_deletes: self.expect_deletes,
            done: false,
        }
    }
}

/// Reads records one at a time.
pub struct RowReader<'a> {
    raw: &'a [u8],
    pos: usize,
    columns: usize,
    keys: usize,
    upserts: u64,
    deletes: u64,
    expect_upserts: u64,
    expect_deletes: u64,
    done: bool,
}

impl<'a> RowReader<'a> {
    /// Read the next record into `out` (cleared first): all columns for an
    /// upsert, the key columns for a delete. `None` at the end, after the
    /// record counts were checked against the header.
    pub fn next_into(&mut self, out: &mut Vec<ValueRef<'a>>) -> Result<Option<Op>, PackageError> {
        out.clear();
        if self.done {
            return Ok(None);
        }
        let raw = self.raw;
        let mut pos = self.pos;
        let op = *raw
            .get(pos)
            .ok_or_else(|| PackageError::Corrupt("records end without end marker".into()))?;
        pos += 1;
        let (op, n) = match op {
            OP_UPSERT => (Op::Upsert, self.columns),
            OP_DELETE => (Op::Delete, self.keys),
            OP_END => {
                if pos != raw.len() {
                    return Err(PackageError::Corrupt("data after end marker".into()));
                }
                if self.upserts != self.expect_upserts || self.deletes != self.expect_deletes {
                    return Err(PackageError::Corrupt(format!(
                        "record counts {}+{} differ from header {}+{}",
                        self.upserts, self.deletes, self.expect_upserts, self.expect_deletes
                    )));
                }
                self.done = true;
                self.pos = pos;
                return Ok(None);
            }
            other => {
                return Err(PackageError::Corrupt(format!(
                    "unknown record type {other:#04x} at byte {}",
                    pos - 1
                )));
            }
        };
        for _ in 0..n {
            let (v, next) = read_value(raw, pos)?;
            out.push(v);
            pos = next;
        }
        match op {
            Op::Upsert => self.upserts += 1,
            Op::Delete => self.deletes += 1,
        }
        self.pos = pos;
        Ok(Some(op))
    }
}

fn read_varint(raw: &[u8], mut pos: usize) -> Result<(u64, usize), PackageError> {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *raw
            .get(pos)
            .ok_or_else(|| PackageError::Corrupt("varint cut short".into()))?;
        pos += 1;
        if shift >= 64 {
            return Err(PackageError::Corrupt("varint too long".into()));
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((v, pos));
        }
        shift += 7;
    }
}

fn read_value(raw: &[u8], pos: usize) -> Result<(ValueRef<'_>, usize), PackageError> {
    let tag = *raw
        .get(pos)
        .ok_or_else(|| PackageError::Corrupt("value cut short".into()))?;
    let pos = pos + 1;
    match tag {
        TAG_NULL => Ok((ValueRef::Null, pos)),
        TAG_INT => {
            let (z, pos) = read_varint(raw, pos)?;
            Ok((
                ValueRef::Integer(((z >> 1) as i64) ^ -((z & 1) as i64)),
                pos,
            ))
        }
        TAG_REAL => {
            let b = raw
                .get(pos..pos + 8)
                .ok_or_else(|| PackageError::Corrupt("real cut short".into()))?;
            Ok((
                ValueRef::Real(f64::from_le_bytes(b.try_into().expect("8 bytes"))),
                pos + 8,
            ))
        }
        TAG_TEXT | TAG_BLOB => {
            let (len, pos) = read_varint(raw, pos)?;
            let end = pos
                .checked_add(len as usize)
                .filter(|&e| e <= raw.len())
                .ok_or_else(|| PackageError::Corrupt("text or blob cut short".into()))?;
            let bytes = &raw[pos..end];
            if tag == TAG_TEXT {
                let s = std::str::from_utf8(bytes)
                    .map_err(|_| PackageError::Corrupt("text is not UTF-8".into()))?;
                Ok((ValueRef::Text(s), end))
            } else {
                Ok((ValueRef::Blob(bytes), end))
            }
        }
        other => Err(PackageError::Corrupt(format!(
            "unknown value tag {other} at byte {}",
            pos - 1
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Column;
    use crate::value::Value;

    fn layout() -> Layout {
        Layout {
            columns: vec![
                Column::new("code", "TEXT", true),
                Column::new("price", "INTEGER", true),
                Column::new("w", "REAL", false),
                Column::new("img", "BLOB", false),
            ],
            key: vec!["code".into()],
        }
    }

    fn meta() -> PackageMeta {
        PackageMeta {
            folder: "DEMO".into(),
            table: "ART".into(),
            subset: None,
            kind: PackageKind::Incremental,
            from_version: 3,
            to_version: 4,
            created_at: "2026-11-28T12:00:00Z".into(),
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[42u8; 32])
    }

    fn sample() -> Vec<u8> {
        let mut w = PackageWriter::new(layout());
        w.upsert(&[
            ValueRef::Text("A\r\n1"),
            ValueRef::Integer(-5),
            ValueRef::Real(1.5),
            ValueRef::Blob(&[0, 10, 13, 26]),
        ])
        .unwrap();
        w.upsert(&[
            ValueRef::Text("é"),
            ValueRef::Integer(i64::MAX),
            ValueRef::Null,
            ValueRef::Null,
        ])
        .unwrap();
        w.delete(&[ValueRef::Text("gone")]).unwrap();
        w.finish(meta(), &key()).unwrap()
    }

    fn read_all(bytes: &[u8], vk: &VerifyingKey) -> Result<Vec<(Op, Vec<Value>)>, PackageError> {
        let p = Package::verify(bytes, vk)?;
        let payload = p.decompress()?;
        let mut r = payload.records();
        let mut out = Vec::new();
        let mut vals = Vec::new();
        loop {
            let op = r.next_into(&mut vals)?;
            match op {
                Some(op) => out.push((op, vals.iter().map(|v| v.to_owned()).collect())),
                None => break,
            }
        }
        Ok(out)
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let rows = read_all(&bytes, &key().verifying_key()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].1[0], Value::Text("A\r\n1".into()));
        assert_eq!(rows[0].1[1], Value::Integer(-5));
        assert_eq!(rows[0].1[3], Value::Blob(vec![0, 10, 13, 26]));
        assert_eq!(rows[1].1[1], Value::Integer(i64::MAX));
        assert_eq!(rows[2], (Op::Delete, vec![Value::Text("gone".into())]));
        let h = peek_header(&bytes).unwrap();
        assert_eq!((h.upserts, h.deletes, h.to_version), (2, 1, 4));
        assert_eq!(meta().file_name(), "ART.inc.0000000003-0000000004.tspkg");
    }

    #[test]
    fn other_key_is_refused() {
        let other = SigningKey::from_bytes(&[1u8; 32]);
        let e = read_all(&sample(), &other.verifying_key()).unwrap_err();
        assert!(matches!(e, PackageError::BadSignature), "{e}");
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let bytes = sample();
        let vk = key().verifying_key();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(
                read_all(&b, &vk).is_err(),
                "flip at byte {i} went unnoticed"
            );
        }
    }

    #[test]
    fn every_truncation_is_caught() {
        let bytes = sample();
        let vk = key().verifying_key();
        for n in 0..bytes.len() {
            let e = read_all(&bytes[..n], &vk).unwrap_err();
            let msg = e.to_string();
            assert!(!msg.is_empty());
        }
    }

    #[test]
    fn ascii_mode_mangling_is_named() {
        let mut bytes = sample();
        bytes.splice(5..7, [b'\n']);
        let e = read_all(&bytes, &key().verifying_key()).unwrap_err();
        assert!(e.to_string().contains("ASCII"), "{e}");
    }

    #[test]
    fn arity_is_checked() {
        let mut w = PackageWriter::new(layout());
        assert!(w.upsert(&[ValueRef::Null]).is_err());
        assert!(w.delete(&[]).is_err());
    }
}
