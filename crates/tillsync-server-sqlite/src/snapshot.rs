//! The export's consistent read view: [`ServerDb::snapshot`] and
//! [`Snapshot`], which reads a table whole or the keys changed between two
//! change-log sequences, as of the moment the view started.

use rusqlite::{Transaction, TransactionBehavior, params};
use tillsync_wire::layout::Layout;
use tillsync_wire::value::ValueRef;

use crate::db::ServerDb;
use tillsync_db::StoreError;
use tillsync_db::introspect;
use tillsync_db::sql::from_sql;
use tillsync_db::sql::q;
use tillsync_db::sql::q_list;
use tillsync_db::sql::recycle;
use tillsync_server_db::export::Change;

impl ServerDb {
    /// A consistent read view for one export: every read sees the database
    /// as of the moment the snapshot started, and `max_seq` is the newest
    /// change it contains. A change committed later has a higher sequence and
    /// goes into the next export.
    pub fn snapshot(&mut self) -> Result<Snapshot<'_>, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Deferred)?;
        let max_seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM tillsync_changes",
            [],
            |r| r.get(0),
        )?;
        Ok(Snapshot { tx, max_seq })
    }
}

/// A consistent read view for an export (see [`ServerDb::snapshot`]).
pub struct Snapshot<'c> {
    tx: Transaction<'c>,
    /// Newest change-log sequence visible in this view.
    pub max_seq: i64,
}

impl Snapshot<'_> {
    /// The layout of `table` as seen by this view.
    pub fn layout(&self, table: &str) -> Result<Layout, StoreError> {
        introspect::layout(&self.tx, table)
    }

    /// Whether `table` has logged changes in (`from`, `to`].
    pub fn has_changes(&self, table: &str, from: i64, to: i64) -> Result<bool, StoreError> {
        Ok(self.tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM tillsync_changes WHERE tbl = ?1 AND seq > ?2 AND seq <= ?3)",
            params![table, from, to],
            |r| r.get(0),
        )?)
    }

    /// Every row of `table` in key order; `f` gets the row and the value of
    /// the filter column (if any).
    pub fn read_full(
        &self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        mut f: impl FnMut(&[ValueRef<'_>], Option<ValueRef<'_>>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let cols = q_list(layout.columns.iter().map(|c| c.name.as_str()));
        let order = q_list(layout.key.iter().map(String::as_str));
        let filter_pos = filter_position(layout, filter)?;
        let sql = format!("SELECT {cols} FROM {} ORDER BY {order}", q(table));
        let mut stmt = self.tx.prepare(&sql)?;
        let n = layout.columns.len();
        let mut rows = stmt.query([])?;
        let mut buf: Vec<ValueRef<'static>> = Vec::with_capacity(n);
        let mut count = 0;
        while let Some(r) = rows.next()? {
            let mut vals = recycle(std::mem::take(&mut buf));
            for i in 0..n {
                vals.push(from_sql(r.get_ref(i)?));
            }
            let fv = filter_pos.map(|p| vals[p]);
            f(&vals, fv)?;
            buf = recycle(vals);
            count += 1;
        }
        Ok(count)
    }

    /// Every key changed in (`from`, `to`], once, with the row as it is in
    /// this view (or `None` when deleted).
    pub fn read_changes(
        &self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        from: i64,
        to: i64,
        mut f: impl FnMut(Change<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let nk = layout.key.len();
        let n = layout.columns.len();
        let kcols: Vec<String> = (1..=nk).map(|i| format!("k{i}")).collect();
        let cols = layout
            .columns
            .iter()
            .map(|c| format!("t.{}", q(&c.name)))
            .collect::<Vec<_>>()
            .join(", ");
        let join = layout
            .key
            .iter()
            .zip(&kcols)
            .map(|(k, c)| format!("t.{} = c.{c}", q(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        // The first key column is never NULL in a present row (keys are NOT NULL in practice).
        let present = format!("t.{} IS NOT NULL", q(&layout.key[0]));
        let kc = kcols.join(", ");
        let ckc = kcols
            .iter()
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {ckc}, {present}, {cols}
             FROM (SELECT {kc} FROM tillsync_changes WHERE tbl = ?1 AND seq > ?2 AND seq <= ?3
                   GROUP BY {kc}) c
             LEFT JOIN {t} t ON {join}
             ORDER BY {present}, {ckc}",
            t = q(table)
        );
        let filter_pos = filter_position(layout, filter)?;
        let mut stmt = self.tx.prepare(&sql)?;
        let mut rows = stmt.query(params![table, from, to])?;
        let mut kbuf: Vec<ValueRef<'static>> = Vec::with_capacity(nk);
        let mut vbuf: Vec<ValueRef<'static>> = Vec::with_capacity(n);
        let mut count = 0;
        while let Some(r) = rows.next()? {
            let mut key = recycle(std::mem::take(&mut kbuf));
            let mut vals = recycle(std::mem::take(&mut vbuf));
            for i in 0..nk {
                key.push(from_sql(r.get_ref(i)?));
            }
            let is_present: bool = r.get(nk)?;
            if is_present {
                for i in 0..n {
                    vals.push(from_sql(r.get_ref(nk + 1 + i)?));
                }
            }
            let fv = if is_present {
                filter_pos.map(|p| vals[p])
            } else {
                None
            };
            f(Change {
                key: &key,
                row: is_present.then_some(&vals[..]),
                filter: fv,
            })?;
            kbuf = recycle(key);
            vbuf = recycle(vals);
            count += 1;
        }
        Ok(count)
    }
}

fn filter_position(layout: &Layout, filter: Option<&str>) -> Result<Option<usize>, StoreError> {
    filter
        .map(|f| {
            layout
                .columns
                .iter()
                .position(|c| c.name == f)
                .ok_or_else(|| StoreError::Inconsistent(format!("filter column {f} disappeared")))
        })
        .transpose()
}
