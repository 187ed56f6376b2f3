//! Reads of the synced tables a sale needs: whether a table was loaded,
//! an item as the till's `ART` prices it, whether a row exists (e.g. a
//! customer in `CLI`).

use rusqlite::{Connection, OptionalExtension};
use tillsync_core::ticket::PricedItem;

use tillsync_db::StoreError;
use tillsync_db::sql::{check_ident, q};

/// True when `table` exists in the till database.
pub fn has_table(conn: &Connection, table: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The item `code` as the till's local `ART` prices it (columns `code`,
/// `label`, `price_cents`, `vat_rate_bp`); `None` if `ART` has no such item.
/// Fails when `ART` was never loaded.
pub fn priced_item(conn: &Connection, code: &str) -> Result<Option<PricedItem>, StoreError> {
    if !has_table(conn, "ART")? {
        return Err(StoreError::NoSuchTable("ART".into()));
    }
    let sql = format!(
        "SELECT {}, {}, {} FROM {} WHERE {} = ?1",
        q("label"),
        q("price_cents"),
        q("vat_rate_bp"),
        q("ART"),
        q("code")
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([code], |r| {
            Ok(PricedItem {
                code: code.to_string(),
                label: r.get(0)?,
                price_cents: r.get(1)?,
                vat_rate_bp: r.get(2)?,
            })
        })
        .optional()?)
}

/// True when `table` (e.g. `CLI`) has a row whose `column` is `value`.
/// False when the table does not exist.
pub fn row_exists(
    conn: &Connection,
    table: &str,
    column: &str,
    value: &str,
) -> Result<bool, StoreError> {
    check_ident(table)?;
    check_ident(column)?;
    if !has_table(conn, table)? {
        return Ok(false);
    }
    let sql = format!(
        "SELECT 1 FROM {} WHERE {} = ?1 LIMIT 1",
        q(table),
        q(column)
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([value], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::TillDb;

    #[test]
    fn priced_item_needs_art() {
        let dir = tempfile::tempdir().unwrap();
        let db = TillDb::open(&dir.path().join("till.db")).unwrap();
        assert!(matches!(
            priced_item(db.conn(), "A"),
            Err(StoreError::NoSuchTable(_))
        ));
        assert!(!row_exists(db.conn(), "CLI", "code", "C1").unwrap());
    }
}
