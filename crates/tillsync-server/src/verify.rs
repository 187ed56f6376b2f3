//! Proof that a till holds what the server exported: per down sync table,
//! row count and content hash of the till's copy against the server's rows
//! for that till's store, and the versions.

use rusqlite::Connection;
use serde::Serialize;
use tillsync_core::Direction;

use crate::data::DataDir;
use crate::error::ServerError;

/// One table compared.
#[derive(Debug, Clone, Serialize)]
pub struct TableMatch {
    /// Table.
    pub table: String,
    /// Version on the server.
    pub server_version: u64,
    /// Rows on the server (all stores).
    pub server_rows: u64,
    /// Rows the till should hold (its store's subset).
    pub expected_rows: u64,
    /// Rows the till holds.
    pub till_rows: u64,
    /// Version the till holds.
    pub till_version: Option<u64>,
    /// Same rows and same version.
    pub matches: bool,
}

/// Compare the till database `till` (of store `store`) with the server.
pub fn compare_with_till(
    data: &DataDir,
    till: &Connection,
    store: &str,
) -> Result<Vec<TableMatch>, ServerError> {
    let db = data.open_store()?;
    let mut out = Vec::new();
    for t in db
        .sync_tables()?
        .into_iter()
        .filter(|t| t.direction == Direction::Down)
    {
        let layout = db.layout(&t.table)?;
        let server_version = db.table_state(&t.table)?.map(|s| s.version).unwrap_or(0);
        let all = db.table_digest(&t.table, &layout, None)?;
        let expected =
            db.table_digest(&t.table, &layout, t.filter.as_deref().map(|f| (f, store)))?;
        let till_version: Option<i64> = till
            .query_row(
                "SELECT version FROM tillsync_table_version WHERE tbl = ?1",
                [&t.table],
                |r| r.get(0),
            )
            .ok();
        let got = match till_version {
            Some(_) => Some(tillsync_db::digest::table_digest(
                till, &t.table, &layout, None,
            )?),
            None => None,
        };
        out.push(TableMatch {
            table: t.table.clone(),
            server_version,
            server_rows: all.rows,
            expected_rows: expected.rows,
            till_rows: got.as_ref().map(|g| g.rows).unwrap_or(0),
            till_version: till_version.map(|v| v as u64),
            matches: got.as_ref() == Some(&expected)
                && till_version.map(|v| v as u64) == Some(server_version),
        });
    }
    Ok(out)
}
