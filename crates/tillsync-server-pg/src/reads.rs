//! Reads shared by the export's view and the table digest: a table's rows
//! in key order (optionally one store's), and the content hash of a value.

use postgres::GenericClient;
use sha2::{Digest, Sha256};
use tillsync_wire::layout::Layout;
use tillsync_wire::value::ValueRef;

use crate::values::*;
use tillsync_db::StoreError;
use tillsync_db::sql::q;
use tillsync_server_db::store::RowFn;

pub(crate) fn read_full_in(
    c: &mut impl GenericClient,
    table: &str,
    layout: &Layout,
    filter: Option<&str>,
    where_store: Option<(&str, &str)>,
    f: &mut RowFn<'_>,
) -> Result<u64, StoreError> {
    let cols = layout
        .columns
        .iter()
        .map(|c| read_expr(&q(&c.name), &c.decl_type))
        .collect::<Vec<_>>()
        .join(", ");
    let order = layout
        .key
        .iter()
        .map(|k| column(layout, k).map(|c| order_expr("", c)))
        .collect::<Result<Vec<_>, _>>()?
        .join(", ");
    let filter_pos = filter_position(layout, filter)?;
    let mut sql = format!("SELECT {cols} FROM {}", q(table));
    let store_param: Vec<String> = where_store.iter().map(|(_, s)| s.to_string()).collect();
    if let Some((col, _)) = where_store {
        sql.push_str(&format!(
            " WHERE {c} IS NULL OR ({c})::text = $1",
            c = q(col)
        ));
    }
    sql.push_str(&format!(" ORDER BY {order}"));
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = store_param
        .iter()
        .map(|s| s as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let mut it = c.query_raw(sql.as_str(), params)?;
    let mut vals: Vec<ValueRef<'_>> = Vec::with_capacity(layout.columns.len());
    let mut count = 0;
    use postgres::fallible_iterator::FallibleIterator;
    while let Some(row) = it.next()? {
        vals.clear();
        for (i, col) in layout.columns.iter().enumerate() {
            vals.push(value(&row, i, &col.decl_type)?);
        }
        let fv = filter_pos.map(|p| vals[p]);
        f(&vals, fv)?;
        vals = tillsync_db::sql::recycle(vals);
        count += 1;
    }
    Ok(count)
}

/// Hash one value as [`tillsync_db::digest::table_digest`] does.
pub(crate) fn hash_value(h: &mut Sha256, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => h.update([0u8]),
        ValueRef::Integer(v) => {
            h.update([1u8]);
            h.update(v.to_le_bytes());
        }
        ValueRef::Real(v) => {
            h.update([2u8]);
            h.update(v.to_le_bytes());
        }
        ValueRef::Text(t) => {
            h.update([3u8]);
            h.update((t.len() as u64).to_le_bytes());
            h.update(t.as_bytes());
        }
        ValueRef::Blob(b) => {
            h.update([4u8]);
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    }
}
