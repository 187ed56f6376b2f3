//! A business table as PostgreSQL's catalog describes it: its real name
//! (folded or quoted) and its layout (columns, declared types, key).

use postgres::GenericClient;
use tillsync_wire::layout::{Column, Layout};

use tillsync_db::StoreError;
use tillsync_db::sql::q;

/// The real name of `table` in the current schema (names match without
/// regard to case; an exact match wins), if it is a table.
pub fn table_name(c: &mut impl GenericClient, table: &str) -> Result<Option<String>, StoreError> {
    Ok(c.query_opt(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
           AND lower(c.relname) = lower($1)
         ORDER BY (c.relname = $1) DESC LIMIT 1",
        &[&table],
    )?
    .map(|r| r.get(0)))
}

/// The layout of `table`: columns in order with their declared types
/// (`format_type`), NOT NULL, and the primary key in key order.
pub fn layout(c: &mut impl GenericClient, table: &str) -> Result<Layout, StoreError> {
    let name = table_name(c, table)?.ok_or_else(|| StoreError::NoSuchTable(table.into()))?;
    let rel = q(&name);
    let rows = c.query(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull
         FROM pg_attribute a
         WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
        &[&rel],
    )?;
    let key: Vec<String> = c
        .query(
            "SELECT a.attname::text FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary
             ORDER BY k.ord",
            &[&rel],
        )?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    if key.is_empty() {
        return Err(StoreError::NoPrimaryKey(name));
    }
    let columns = rows
        .into_iter()
        .map(|r| {
            let name: String = r.get(0);
            let not_null: bool = r.get(2);
            Column {
                not_null: not_null || key.contains(&name),
                name,
                decl_type: r.get(1),
            }
        })
        .collect();
    Ok(Layout { columns, key })
}
