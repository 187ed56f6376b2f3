//! Table digests: the row count and a SHA-256 over every row in key order,
//! to prove that a till's copy equals the server's (demo, tests, support).

use rusqlite::Connection;
use rusqlite::types::ValueRef as SqlRef;
use sha2::{Digest, Sha256};
use tillsync_wire::layout::Layout;

use crate::error::StoreError;
use crate::sql::{q, q_list};

/// Rows and content hash of a table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableDigest {
    /// Number of rows.
    pub rows: u64,
    /// SHA-256 (hex) of the rows in key order.
    pub sha256: String,
}

/// Digest of `table`'s columns of `layout`, optionally only the rows whose
/// `filter` column is NULL or equals the given store (what a till of that
/// store receives).
pub fn table_digest(
    conn: &Connection,
    table: &str,
    layout: &Layout,
    filter: Option<(&str, &str)>,
) -> Result<TableDigest, StoreError> {
    let cols = q_list(layout.columns.iter().map(|c| c.name.as_str()));
    let keys = q_list(layout.key.iter().map(String::as_str));
    let mut sql = format!("SELECT {cols} FROM {}", q(table));
    if let Some((col, _)) = filter {
        sql.push_str(&format!(" WHERE {c} IS NULL OR {c} = ?1", c = q(col)));
    }
    sql.push_str(&format!(" ORDER BY {keys}"));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = match filter {
        Some((_, store)) => stmt.query([store])?,
        None => stmt.query([])?,
    };
    let n = layout.columns.len();
    let mut h = Sha256::new();
    let mut count = 0u64;
    while let Some(r) = rows.next()? {
        for i in 0..n {
            match r.get_ref(i)? {
                SqlRef::Null => h.update([0u8]),
                SqlRef::Integer(v) => {
                    h.update([1u8]);
                    h.update(v.to_le_bytes());
                }
                SqlRef::Real(v) => {
                    h.update([2u8]);
                    h.update(v.to_le_bytes());
                }
                SqlRef::Text(t) => {
                    h.update([3u8]);
                    h.update((t.len() as u64).to_le_bytes());
                    h.update(t);
                }
                SqlRef::Blob(b) => {
                    h.update([4u8]);
                    h.update((b.len() as u64).to_le_bytes());
                    h.update(b);
                }
            }
        }
        count += 1;
    }
    Ok(TableDigest {
        rows: count,
        sha256: hex::encode(h.finalize()),
    })
}
