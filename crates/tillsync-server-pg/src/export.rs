//! The export (down) on PostgreSQL: the consistent read view of an export
//! (rows and changes stamped with the export's sequence value), the export
//! lock, and [`ExportStore`] for [`PgServerDb`].

use postgres::{IsolationLevel, Transaction};
use tillsync_wire::index::IndexEntry;
use tillsync_wire::layout::Layout;
use tillsync_wire::package::PackageKind;
use tillsync_wire::value::ValueRef;

use crate::db::PgServerDb;
use crate::introspect::layout;
use crate::reads::read_full_in;
use crate::values::{Kind, column, filter_position, kind_of, read_expr, value};
use tillsync_db::StoreError;
use tillsync_db::error::pg_message;
use tillsync_db::sql::q;
use tillsync_server_db::export::{Change, TableExport, TableState};
use tillsync_server_db::store::{ChangeFn, ExportSnapshot, ExportStore, RowFn};

/// The advisory lock key of the export (ASCII "tillsync").
pub(crate) const EXPORT_LOCK: i64 = 0x7469_6c6c_7379_6e63;

/// A REPEATABLE READ transaction that stamped the changes it covers.
pub(crate) struct PgSnapshot<'c> {
    tx: Transaction<'c>,
    max_seq: i64,
}

impl ExportSnapshot for PgSnapshot<'_> {
    fn max_seq(&self) -> i64 {
        self.max_seq
    }
    fn layout(&mut self, table: &str) -> Result<Layout, StoreError> {
        layout(&mut self.tx, table)
    }
    fn has_changes(&mut self, table: &str, from: i64, to: i64) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM tillsync_changes
                 WHERE tbl = $1 AND export_seq > $2 AND export_seq <= $3)",
                &[&table, &from, &to],
            )?
            .get(0))
    }
    fn read_full(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        f: &mut RowFn<'_>,
    ) -> Result<u64, StoreError> {
        read_full_in(&mut self.tx, table, layout, filter, None, f)
    }
    fn read_changes(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        from: i64,
        to: i64,
        f: &mut ChangeFn<'_>,
    ) -> Result<u64, StoreError> {
        let nk = layout.key.len();
        let keys = layout
            .key
            .iter()
            .map(|k| column(layout, k))
            .collect::<Result<Vec<_>, _>>()?;
        // The logged key text, back in the column's type.
        let ck: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, c)| format!("k{}::{} AS ck{}", i + 1, c.decl_type, i + 1))
            .collect();
        let ck_read: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, c)| read_expr(&format!("c.ck{}", i + 1), &c.decl_type))
            .collect();
        let join = keys
            .iter()
            .enumerate()
            .map(|(i, c)| format!("t.{} = c.ck{}", q(&c.name), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let ck_order = keys
            .iter()
            .enumerate()
            .map(|(i, c)| match kind_of(&c.decl_type) {
                Kind::Text => format!("c.ck{} COLLATE \"C\"", i + 1),
                _ => format!("c.ck{}", i + 1),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let present = format!("(t.{} IS NOT NULL)", q(&layout.key[0]));
        let cols = layout
            .columns
            .iter()
            .map(|c| read_expr(&format!("t.{}", q(&c.name)), &c.decl_type))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {ckr}, {present}, {cols}
             FROM (SELECT DISTINCT {ck} FROM tillsync_changes
                   WHERE tbl = $1 AND export_seq > $2 AND export_seq <= $3) c
             LEFT JOIN {t} t ON {join}
             ORDER BY {present}, {ck_order}",
            ckr = ck_read.join(", "),
            ck = ck.join(", "),
            t = q(table),
        );
        let filter_pos = filter_position(layout, filter)?;
        let mut it = self.tx.query_raw(
            sql.as_str(),
            [&table as &(dyn postgres::types::ToSql + Sync), &from, &to],
        )?;
        use postgres::fallible_iterator::FallibleIterator;
        let mut count = 0;
        while let Some(row) = it.next()? {
            let mut key: Vec<ValueRef<'_>> = Vec::with_capacity(nk);
            for (i, c) in keys.iter().enumerate() {
                key.push(value(&row, i, &c.decl_type)?);
            }
            let is_present: bool = row.try_get(nk)?;
            let mut vals: Vec<ValueRef<'_>> = Vec::new();
            if is_present {
                for (i, c) in layout.columns.iter().enumerate() {
                    vals.push(value(&row, nk + 1 + i, &c.decl_type)?);
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
            count += 1;
        }
        Ok(count)
    }
    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}

pub(crate) fn table_state_row(r: &postgres::Row) -> TableState {
    TableState {
        table: r.get(0),
        version: r.get::<_, i64>(1) as u64,
        last_seq: r.get(2),
        layout_hash: r.get(3),
        snapshot_hash: r.get(4),
        full_version: r.get::<_, Option<i64>>(5).map(|v| v as u64),
    }
}

impl ExportStore for PgServerDb {
    fn stores(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .c()?
            .query(
                r#"SELECT s FROM (SELECT DISTINCT "store"::text AS s FROM "STORE_TILL"
                                 WHERE "store" IS NOT NULL) x
                   ORDER BY s COLLATE "C""#,
                &[],
            )
            .map_err(|e| StoreError::NoStoreTill(pg_message(&e)))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
    fn table_state(&self, table: &str) -> Result<Option<TableState>, StoreError> {
        Ok(self
            .c()?
            .query_opt(
                "SELECT tbl, version, last_seq, layout_hash, snapshot_hash, full_version
                 FROM tillsync_table_state WHERE tbl = $1",
                &[&table],
            )?
            .as_ref()
            .map(table_state_row))
    }
    fn table_states(&self) -> Result<Vec<TableState>, StoreError> {
        Ok(self
            .c()?
            .query(
                "SELECT tbl, version, last_seq, layout_hash, snapshot_hash, full_version
                 FROM tillsync_table_state ORDER BY tbl COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(table_state_row)
            .collect())
    }
    fn incrementals_since_full(&self, table: &str, full_version: u64) -> Result<u64, StoreError> {
        let n: i64 = self
            .c()?
            .query_one(
                "SELECT COUNT(DISTINCT to_version) FROM tillsync_packages
                 WHERE tbl = $1 AND kind = 'incremental' AND to_version > $2",
                &[&table, &(full_version as i64)],
            )?
            .get(0);
        Ok(n as u64)
    }
    fn published(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let rows = self.c()?.query(
            "SELECT file, tbl, subset, kind, from_version, to_version, layout_hash, size, sha256,
                    upserts, deletes
             FROM tillsync_packages
             ORDER BY tbl COLLATE \"C\", subset COLLATE \"C\" NULLS FIRST, to_version, kind COLLATE \"C\"",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| IndexEntry {
                file: r.get(0),
                table: r.get(1),
                subset: r.get(2),
                kind: if r.get::<_, String>(3) == "full" {
                    PackageKind::Full
                } else {
                    PackageKind::Incremental
                },
                from_version: r.get::<_, i64>(4) as u64,
                to_version: r.get::<_, i64>(5) as u64,
                layout_hash: r.get(6),
                size: r.get::<_, i64>(7) as u64,
                sha256: r.get(8),
                upserts: r.get::<_, i64>(9) as u64,
                deletes: r.get::<_, i64>(10) as u64,
            })
            .collect())
    }
    fn try_lock_export(&mut self) -> Result<bool, StoreError> {
        let locked: bool = self
            .cm()?
            .query_one("SELECT pg_try_advisory_lock($1)", &[&EXPORT_LOCK])?
            .get(0);
        self.export_locked.set(locked);
        Ok(locked)
    }
    fn unlock_export(&mut self) -> Result<(), StoreError> {
        self.cm()?
            .execute("SELECT pg_advisory_unlock($1)", &[&EXPORT_LOCK])?;
        self.export_locked.set(false);
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Box<dyn ExportSnapshot + '_>, StoreError> {
        let mut tx = self
            .cm()?
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()?;
        // The first statement takes the view: from the same sequence as
        // `seq`, so above every change handed out until now.
        let stamp: i64 = tx
            .query_one(
                "SELECT nextval(pg_get_serial_sequence('tillsync_changes', 'seq'))",
                &[],
            )?
            .get(0);
        // Every change this view sees and no export covered yet.
        tx.execute(
            "UPDATE tillsync_changes SET export_seq = $1 WHERE export_seq IS NULL",
            &[&stamp],
        )?;
        Ok(Box::new(PgSnapshot { tx, max_seq: stamp }))
    }
    fn record_export(
        &mut self,
        tables: &[TableExport],
        retention: u32,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.cm()?.transaction()?;
        let now = tillsync_db::now_rfc3339();
        for t in tables {
            let s = &t.state;
            tx.execute(
                "INSERT INTO tillsync_table_state(tbl, version, last_seq, layout_hash, snapshot_hash,
                   full_version, exported_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tbl) DO UPDATE SET version = excluded.version,
                   last_seq = excluded.last_seq, layout_hash = excluded.layout_hash,
                   snapshot_hash = excluded.snapshot_hash, full_version = excluded.full_version,
                   exported_at = excluded.exported_at",
                &[
                    &s.table,
                    &(s.version as i64),
                    &s.last_seq,
                    &s.layout_hash,
                    &s.snapshot_hash,
                    &s.full_version.map(|v| v as i64),
                    &now,
                ],
            )?;
            for p in &t.packages {
                tx.execute(
                    "INSERT INTO tillsync_packages(file, tbl, subset, kind, from_version,
                       to_version, layout_hash, size, sha256, upserts, deletes, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (file) DO UPDATE SET tbl = excluded.tbl, subset = excluded.subset,
                       kind = excluded.kind, from_version = excluded.from_version,
                       to_version = excluded.to_version, layout_hash = excluded.layout_hash,
                       size = excluded.size, sha256 = excluded.sha256, upserts = excluded.upserts,
                       deletes = excluded.deletes, created_at = excluded.created_at",
                    &[
                        &p.file,
                        &p.table,
                        &p.subset,
                        &p.kind.to_string(),
                        &(p.from_version as i64),
                        &(p.to_version as i64),
                        &p.layout_hash,
                        &(p.size as i64),
                        &p.sha256,
                        &(p.upserts as i64),
                        &(p.deletes as i64),
                        &now,
                    ],
                )?;
            }
            // Per-row versions of a table that also travels up (conflict
            // policies need to know what each till could have seen).
            tx.execute(
                "INSERT INTO tillsync_row_versions(tbl, key, version, last_seq, changed_at)
                 SELECT $1, json_build_array(k1, k2, k3, k4)::text, $2, MAX(seq), MAX(at)
                 FROM tillsync_changes
                 WHERE tbl = $1 AND export_seq <= $3
                   AND EXISTS (SELECT 1 FROM tillsync_sync_tables
                               WHERE tbl = $1 AND direction = 'up')
                 GROUP BY k1, k2, k3, k4
                 ON CONFLICT (tbl, key) DO UPDATE SET version = excluded.version,
                   last_seq = excluded.last_seq, changed_at = excluded.changed_at",
                &[&s.table, &(s.version as i64), &s.last_seq],
            )?;
            tx.execute(
                "DELETE FROM tillsync_changes WHERE tbl = $1 AND export_seq <= $2",
                &[&s.table, &s.last_seq],
            )?;
        }
        let mut purge: Vec<String> = tx
            .query(
                "SELECT file FROM (
                   SELECT file, kind, ROW_NUMBER() OVER (
                     PARTITION BY tbl, subset, kind ORDER BY to_version DESC) AS rank
                   FROM tillsync_packages) p
                 WHERE (kind = 'incremental' AND rank > $1) OR (kind = 'full' AND rank > 2)",
                &[&i64::from(retention)],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        purge.extend(
            tx.query(
                "SELECT file FROM tillsync_packages p WHERE NOT EXISTS (
                   SELECT 1 FROM tillsync_sync_tables s WHERE s.tbl = p.tbl AND s.direction = 'down')",
                &[],
            )?
            .into_iter()
            .map(|r| r.get::<_, String>(0)),
        );
        purge.sort();
        purge.dedup();
        for f in &purge {
            tx.execute("DELETE FROM tillsync_packages WHERE file = $1", &[f])?;
        }
        tx.commit()?;
        Ok(purge)
    }
}
