//! SQLite files opened with the settings every tillsync connection uses,
//! and migrations: an ordered list, a version row, all in one transaction.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::StoreError;

/// Open a SQLite file with the settings every tillsync connection uses.
pub fn open_sqlite(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Apply pending migrations in one transaction.
pub fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS tillsync_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )?;
    let current: usize = tx
        .query_row(
            "SELECT value FROM tillsync_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .map(|v| v.parse().unwrap_or(0))
        .unwrap_or(0);
    if current > migrations.len() {
        return Err(StoreError::Inconsistent(format!(
            "database schema version {current} is newer than this tillsync ({}); upgrade tillsync",
            migrations.len()
        )));
    }
    for m in &migrations[current..] {
        tx.execute_batch(m)?;
    }
    tx.execute(
        "INSERT INTO tillsync_meta(key, value) VALUES ('schema_version', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [migrations.len().to_string()],
    )?;
    tx.commit()?;
    Ok(())
}
