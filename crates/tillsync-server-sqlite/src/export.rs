//! What the export records on the server: each table's export state, the
//! packages published, and [`ServerDb::record_export`], which records an
//! export (states, packages, the per-row versions of up tables, the change
//! log trimmed) and purges the packages beyond retention.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tillsync_wire::index::IndexEntry;
use tillsync_wire::package::PackageKind;

use crate::db::ServerDb;
use crate::up::customers::record_row_versions;
use tillsync_db::StoreError;
use tillsync_server_db::export::TableExport;
use tillsync_server_db::export::TableState;

impl ServerDb {
    /// The export state of `table`, if it was ever exported.
    pub fn table_state(&self, table: &str) -> Result<Option<TableState>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT tbl, version, last_seq, layout_hash, snapshot_hash, full_version
                 FROM tillsync_table_state WHERE tbl = ?1",
                [table],
                |r| {
                    Ok(TableState {
                        table: r.get(0)?,
                        version: r.get::<_, i64>(1)? as u64,
                        last_seq: r.get(2)?,
                        layout_hash: r.get(3)?,
                        snapshot_hash: r.get(4)?,
                        full_version: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                    })
                },
            )
            .optional()?)
    }

    /// Incremental versions published since the newest full package of `table`.
    pub fn incrementals_since_full(
        &self,
        table: &str,
        full_version: u64,
    ) -> Result<u64, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(DISTINCT to_version) FROM tillsync_packages
             WHERE tbl = ?1 AND kind = 'incremental' AND to_version > ?2",
            params![table, full_version as i64],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Every package currently published.
    pub fn published(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT file, tbl, subset, kind, from_version, to_version, layout_hash, size, sha256,
                    upserts, deletes
             FROM tillsync_packages ORDER BY tbl, subset, to_version, kind",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(3)?;
            Ok(IndexEntry {
                file: r.get(0)?,
                table: r.get(1)?,
                subset: r.get(2)?,
                kind: if kind == "full" {
                    PackageKind::Full
                } else {
                    PackageKind::Incremental
                },
                from_version: r.get::<_, i64>(4)? as u64,
                to_version: r.get::<_, i64>(5)? as u64,
                layout_hash: r.get(6)?,
                size: r.get::<_, i64>(7)? as u64,
                sha256: r.get(8)?,
                upserts: r.get::<_, i64>(9)? as u64,
                deletes: r.get::<_, i64>(10)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record an export in one transaction: new table states, the packages
    /// published, the change-log entries now covered; then purge from the
    /// record the packages beyond retention. Returns the files to delete from
    /// the package store (after the new index is written).
    pub fn record_export(
        &mut self,
        tables: &[TableExport],
        retention: u32,
    ) -> Result<Vec<String>, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = tillsync_db::now_rfc3339();
        for t in tables {
            let s = &t.state;
            tx.execute(
                "INSERT INTO tillsync_table_state(tbl, version, last_seq, layout_hash, snapshot_hash, full_version, exported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(tbl) DO UPDATE SET version = excluded.version, last_seq = excluded.last_seq,
                   layout_hash = excluded.layout_hash, snapshot_hash = excluded.snapshot_hash,
                   full_version = excluded.full_version, exported_at = excluded.exported_at",
                params![
                    s.table,
                    s.version as i64,
                    s.last_seq,
                    s.layout_hash,
                    s.snapshot_hash,
                    s.full_version.map(|v| v as i64),
                    now
                ],
            )?;
            for p in &t.packages {
                tx.execute(
                    "INSERT OR REPLACE INTO tillsync_packages(file, tbl, subset, kind, from_version,
                       to_version, layout_hash, size, sha256, upserts, deletes, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        p.file,
                        p.table,
                        p.subset,
                        p.kind.to_string(),
                        p.from_version as i64,
                        p.to_version as i64,
                        p.layout_hash,
                        p.size as i64,
                        p.sha256,
                        p.upserts as i64,
                        p.deletes as i64,
                        now
                    ],
                )?;
            }
            record_row_versions(&tx, &s.table, s.version, s.last_seq)?;
            tx.execute(
                "DELETE FROM tillsync_changes WHERE tbl = ?1 AND seq <= ?2",
                params![s.table, s.last_seq],
            )?;
        }
        // Retention: per table and subset, the newest `retention` incrementals
        // and the newest two full packages (a till may be downloading the older).
        let mut purge = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT file FROM (
                   SELECT file, kind, ROW_NUMBER() OVER (
                     PARTITION BY tbl, subset, kind ORDER BY to_version DESC) AS rank
                   FROM tillsync_packages)
                 WHERE (kind = 'incremental' AND rank > ?1) OR (kind = 'full' AND rank > 2)",
            )?;
            let rows = stmt.query_map([retention as i64], |r| r.get::<_, String>(0))?;
            for f in rows {
                purge.push(f?);
            }
        }
        // Packages of tables no longer synced down leave the store too.
        {
            let mut stmt = tx.prepare(
                "SELECT file FROM tillsync_packages p WHERE NOT EXISTS (
                   SELECT 1 FROM tillsync_sync_tables s WHERE s.tbl = p.tbl AND s.direction = 'down')",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for f in rows {
                purge.push(f?);
            }
        }
        for f in &purge {
            tx.execute("DELETE FROM tillsync_packages WHERE file = ?1", [f])?;
        }
        tx.commit()?;
        Ok(purge)
    }
}
