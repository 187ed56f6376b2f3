//! What `bench down` measures beside the library's path: SQLite's own copy
//! of ART (the baseline of the full import), table sizes from `dbstat`, and
//! the decompress and decode sub-steps of a full apply.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tillsync_core::TillConfig;
use tillsync_till_db::TillDb;
use tillsync_till_db::db::create_table_sql;
use tillsync_wire::layout::Layout;
use tillsync_wire::package::Package;

use crate::down::setup::TABLE;

/// Bytes of a table: its b-tree and every index on it (`dbstat`).
pub(crate) const TABLE_BYTES_SQL: &str = "SELECT SUM(pgsize) FROM dbstat
     WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = ?1)";

/// Logical size of the main database of a connection.
const DB_BYTES_SQL: &str =
    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";

/// SQLite copying ART by itself.
pub(crate) struct Copy {
    pub(crate) elapsed: Duration,
    pub(crate) rows: i64,
    /// How much the copy's file grew.
    pub(crate) bytes: u64,
}

/// Remove a SQLite file and its WAL and shared-memory files.
pub(crate) fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// SQLite's own copy of `src`'s ART into an empty table of a fresh file
/// opened like a till database (WAL, synchronous FULL), in one transaction
/// that also creates the table (as the import creates its staging table).
/// `transfer: false` adds `WHERE 1`, which turns off SQLite's transfer
/// optimisation (raw record copy) and makes it insert row by row. The file
/// is removed afterwards.
pub(crate) fn sqlite_copy(
    path: &Path,
    src: &Path,
    layout: &Layout,
    transfer: bool,
) -> Result<Copy> {
    let db = TillDb::open(path)?;
    let c = db.conn();
    let before: i64 = c.query_row(DB_BYTES_SQL, [], |r| r.get(0))?;
    let src = src
        .to_str()
        .context("the server database path is not UTF-8")?;
    c.execute("ATTACH DATABASE ?1 AS src", [src])?;
    let create = create_table_sql("main.\"ART_copy\"", layout);
    let filter = if transfer { "" } else { " WHERE 1" };
    let t = Instant::now();
    c.execute_batch(&format!(
        "BEGIN IMMEDIATE; {create}
         INSERT INTO main.\"ART_copy\" SELECT * FROM src.\"{TABLE}\"{filter};
         COMMIT;"
    ))?;
    let elapsed = t.elapsed();
    let rows: i64 = c.query_row("SELECT COUNT(*) FROM main.\"ART_copy\"", [], |r| r.get(0))?;
    c.execute_batch("DETACH DATABASE src")?;
    let after: i64 = c.query_row(DB_BYTES_SQL, [], |r| r.get(0))?;
    drop(db);
    remove_db(path);
    Ok(Copy {
        elapsed,
        rows,
        bytes: (after - before).max(0) as u64,
    })
}

/// Sub-steps of a full apply, measured apart with the library's own reader:
/// zstd decompression, then decoding every record.
pub(crate) fn decode_breakdown(
    bytes: &[u8],
    till_cfg: &TillConfig,
) -> Result<(Duration, Duration)> {
    let pkg = Package::verify(bytes, &till_cfg.verifying_key()?)?;
    let t = Instant::now();
    let payload = pkg.decompress()?;
    let decompress = t.elapsed();
    let t = Instant::now();
    let mut vals = Vec::new();
    let mut records = payload.records();
    let mut n = 0u64;
    while records.next_into(&mut vals)?.is_some() {
        n += std::hint::black_box(vals.len()) as u64;
    }
    let decode = t.elapsed();
    std::hint::black_box(n);
    Ok((decompress, decode))
}
