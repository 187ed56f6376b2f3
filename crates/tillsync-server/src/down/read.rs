//! The read step of the export: one table read from the export's read view
//! into package writers, every row (a full package) or the changes after a
//! sequence (an incremental package), one writer per subset: per store when
//! the table has a filter column (each store's tills get only their rows),
//! else one.

use tillsync_db::StoreError;
use tillsync_server_db::store::ExportSnapshot;
use tillsync_wire::layout::Layout;
use tillsync_wire::package::PackageWriter;
use tillsync_wire::value::ValueRef;

use crate::error::ServerError;

/// One table as the read step reads it.
pub struct TableRead<'a> {
    /// Table name.
    pub table: &'a str,
    /// Its layout in the read view.
    pub layout: &'a Layout,
    /// Its filter column, if any.
    pub filter: Option<&'a str>,
    /// The subsets its packages are cut into ([`subsets`]).
    pub subsets: &'a [Option<String>],
}

/// The subsets of a table's packages: one per store (of `stores`) when it
/// has a filter column, else one for every till (`None`).
pub fn subsets(filtered: bool, stores: &[String]) -> Vec<Option<String>> {
    if filtered {
        stores.iter().cloned().map(Some).collect()
    } else {
        vec![None]
    }
}

fn matches_store(filter: Option<ValueRef<'_>>, store: &str) -> bool {
    match filter {
        None | Some(ValueRef::Null) => true,
        Some(ValueRef::Text(s)) => s == store,
        Some(ValueRef::Integer(i)) => i.to_string() == store,
        Some(_) => false,
    }
}

fn writers(t: &TableRead<'_>) -> Vec<PackageWriter> {
    t.subsets
        .iter()
        .map(|_| PackageWriter::new(t.layout.clone()))
        .collect()
}

/// Every row of the table, each into the writers of the subsets it belongs
/// to; the writers (in the order of the subsets) and the rows read.
pub fn full(
    snap: &mut dyn ExportSnapshot,
    t: &TableRead<'_>,
) -> Result<(Vec<PackageWriter>, u64), ServerError> {
    let mut writers = writers(t);
    let rows = snap.read_full(t.table, t.layout, t.filter, &mut |row, fv| {
        for (w, s) in writers.iter_mut().zip(t.subsets) {
            if s.as_deref().is_none_or(|s| matches_store(fv, s)) {
                w.upsert(row)
                    .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
            }
        }
        Ok(())
    })?;
    Ok((writers, rows))
}

/// Every key changed in (`from`, `to`]: in each subset's writer an upsert
/// when the row is there and belongs to that subset, else a delete; the
/// writers (in the order of the subsets) and the changed rows.
pub fn changes(
    snap: &mut dyn ExportSnapshot,
    t: &TableRead<'_>,
    from: i64,
    to: i64,
) -> Result<(Vec<PackageWriter>, u64), ServerError> {
    let mut writers = writers(t);
    let rows = snap.read_changes(t.table, t.layout, t.filter, from, to, &mut |c| {
        for (w, s) in writers.iter_mut().zip(t.subsets) {
            let r = match c.row {
                Some(row) if s.as_deref().is_none_or(|s| matches_store(c.filter, s)) => {
                    w.upsert(row)
                }
                _ => w.delete(c.key),
            };
            r.map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        }
        Ok(())
    })?;
    Ok((writers, rows))
}

/// What a full-type table holds now: the hash of its layout hash and of
/// every writer's content (compared with the one recorded at its last
/// export).
pub fn snapshot_hash(layout_hash: &str, writers: &[PackageWriter]) -> String {
    let mut h = layout_hash.to_string();
    for w in writers {
        h.push_str(&w.content_sha256());
    }
    tillsync_wire::sha256_hex(h.as_bytes())
}
