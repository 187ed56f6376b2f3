//! A table's layout read from SQLite: columns, declared types, primary key.

use rusqlite::Connection;
use tillsync_wire::layout::{Column, Layout};

use crate::error::StoreError;

/// The real name of `table` (SQLite names are case-insensitive), if it is a table.
pub fn table_name(conn: &Connection, table: &str) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
    )?;
    let mut rows = stmt.query([table])?;
    Ok(match rows.next()? {
        Some(r) => Some(r.get(0)?),
        None => None,
    })
}

/// The layout of `table`: its columns in order and its primary key.
pub fn layout(conn: &Connection, table: &str) -> Result<Layout, StoreError> {
    let name = table_name(conn, table)?.ok_or_else(|| StoreError::NoSuchTable(table.into()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
    )?;
    let mut columns = Vec::new();
    let mut key: Vec<(i64, String)> = Vec::new();
    let mut rows = stmt.query([&name])?;
    while let Some(r) = rows.next()? {
        let col: String = r.get(0)?;
        let decl: String = r.get(1)?;
        let not_null: bool = r.get::<_, i64>(2)? != 0;
        let pk: i64 = r.get(3)?;
        if pk > 0 {
            key.push((pk, col.clone()));
        }
        columns.push(Column {
            name: col,
            decl_type: decl,
            not_null: not_null || pk > 0,
        });
    }
    if key.is_empty() {
        return Err(StoreError::NoPrimaryKey(name));
    }
    key.sort();
    Ok(Layout {
        columns,
        key: key.into_iter().map(|(_, c)| c).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_and_composite_key() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t(b TEXT, a INTEGER NOT NULL, v REAL, PRIMARY KEY(a, b));
             CREATE TABLE nokey(x);",
        )
        .unwrap();
        let l = layout(&c, "T").unwrap();
        assert_eq!(l.key, ["a", "b"]);
        assert_eq!(l.columns.len(), 3);
        assert_eq!(l.columns[2].decl_type, "REAL");
        assert!(matches!(
            layout(&c, "nokey"),
            Err(StoreError::NoPrimaryKey(_))
        ));
        assert!(matches!(layout(&c, "zz"), Err(StoreError::NoSuchTable(_))));
    }
}
