//! The server database: tillsync's own tables beside the business tables,
//! sync table registration with change capture, consistent export reads and
//! the record of what was published.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tillsync_core::sync_table::{Direction, SyncTable, SyncType};
use tillsync_wire::index::IndexEntry;
use tillsync_wire::layout::Layout;
use tillsync_wire::package::PackageKind;
use tillsync_wire::value::ValueRef;

use crate::capture;
use tillsync_core::secret::constant_time_eq;
use tillsync_db::StoreError;
use tillsync_db::introspect;
use tillsync_db::sql::check_ident;
use tillsync_db::sql::from_sql;
use tillsync_db::sql::q;
use tillsync_db::sql::q_list;
use tillsync_db::sql::recycle;
use tillsync_db::sqlite::migrate;
use tillsync_db::sqlite::open_sqlite;
use tillsync_server_db::export::Change;
use tillsync_server_db::export::TableExport;
use tillsync_server_db::export::TableState;
use tillsync_server_db::tills::AuthFailure;
use tillsync_server_db::tills::TillRow;

/// Schema of tillsync's own server tables, by version. Applied in order, in
/// one transaction, recorded in `tillsync_meta`.
const MIGRATIONS: &[&str] = &[
    // 1: sync tables, change log, table versions, published packages, journal.
    "CREATE TABLE tillsync_sync_tables(
        tbl TEXT NOT NULL, direction TEXT NOT NULL, sync_type TEXT NOT NULL,
        filter_column TEXT, created_at TEXT NOT NULL,
        PRIMARY KEY (tbl, direction));
     CREATE TABLE tillsync_changes(
        seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL,
        k1, k2, k3, k4,
        at INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER)));
     CREATE INDEX tillsync_changes_by_table ON tillsync_changes(tbl, seq);
     CREATE TABLE tillsync_table_state(
        tbl TEXT PRIMARY KEY, version INTEGER NOT NULL, last_seq INTEGER NOT NULL,
        layout_hash TEXT NOT NULL, snapshot_hash TEXT, full_version INTEGER,
        exported_at TEXT NOT NULL);
     CREATE TABLE tillsync_packages(
        file TEXT PRIMARY KEY, tbl TEXT NOT NULL, subset TEXT, kind TEXT NOT NULL,
        from_version INTEGER NOT NULL, to_version INTEGER NOT NULL, layout_hash TEXT NOT NULL,
        size INTEGER NOT NULL, sha256 TEXT NOT NULL, upserts INTEGER NOT NULL,
        deletes INTEGER NOT NULL, created_at TEXT NOT NULL);
     CREATE INDEX tillsync_packages_by_table ON tillsync_packages(tbl, subset, kind, to_version);
     CREATE TABLE tillsync_journal(
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, till TEXT,
        result TEXT NOT NULL, detail TEXT NOT NULL);",
    // 2: till credentials (only what verifies them) and ticket keys.
    "CREATE TABLE tillsync_tills(
        till_id TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, issued_at TEXT NOT NULL,
        revoked_at TEXT, last_contact TEXT);
     CREATE TABLE tillsync_till_keys(
        till_id TEXT NOT NULL, public_key TEXT NOT NULL, issued_at TEXT NOT NULL,
        PRIMARY KEY (till_id, public_key));
     CREATE INDEX tillsync_journal_by_till ON tillsync_journal(till, id);",
    // 3: the up path (tickets, quarantine, received items).
    crate::up::tickets::SCHEMA,
    // 4: customers created from tills, conflicts, audit.
    crate::up::customers::SCHEMA,
    // 5: what tills report of their outbox and error list.
    crate::reports::SCHEMA,
    // 6: the catalog generation (`TillStore::catalog_generation`): one
    // row, bumped in the same transaction as every change of the sync
    // tables or the published packages.
    "CREATE TABLE tillsync_catalog_generation(
        id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
     INSERT INTO tillsync_catalog_generation(id, n) VALUES (1, 1);
     CREATE TRIGGER tillsync_catalog_packages_i AFTER INSERT ON tillsync_packages
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_packages_u AFTER UPDATE ON tillsync_packages
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_packages_d AFTER DELETE ON tillsync_packages
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_sync_tables_i AFTER INSERT ON tillsync_sync_tables
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_sync_tables_u AFTER UPDATE ON tillsync_sync_tables
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_sync_tables_d AFTER DELETE ON tillsync_sync_tables
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;",
];

/// The server database.
pub struct ServerDb {
    conn: Connection,
}

impl ServerDb {
    /// Open (creating if needed) and migrate.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = open_sqlite(path)?;
        migrate(&mut conn, MIGRATIONS)?;
        Ok(ServerDb { conn })
    }

    /// The connection, for business-table work (demo data, tests).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutably (transactions).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// SQLite library version.
    pub fn engine_version(&self) -> String {
        rusqlite::version().to_string()
    }

    /// Every registered sync table.
    pub fn sync_tables(&self) -> Result<Vec<SyncTable>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tbl, direction, sync_type, filter_column FROM tillsync_sync_tables
             ORDER BY tbl, direction",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (table, direction, sync_type, filter) = row?;
            out.push(SyncTable {
                table,
                direction: direction
                    .parse()
                    .map_err(|e| StoreError::Inconsistent(format!("{e}")))?,
                sync_type: sync_type
                    .parse()
                    .map_err(|e| StoreError::Inconsistent(format!("{e}")))?,
                filter,
            });
        }
        Ok(out)
    }

    /// Register a sync table: checks the name, the table, its key and the
    /// filter column, and installs change capture for an incremental down
    /// table, all in one transaction. Returns the table's layout.
    pub fn add_sync_table(&mut self, t: &SyncTable) -> Result<Layout, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let layout = add_sync_table_in(&tx, t)?;
        tx.commit()?;
        Ok(layout)
    }

    /// Unregister a sync table and drop its change capture.
    pub fn remove_sync_table(
        &mut self,
        table: &str,
        direction: Direction,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let name: Option<String> = tx
            .query_row(
                "SELECT tbl FROM tillsync_sync_tables WHERE tbl = ?1 COLLATE NOCASE AND direction = ?2",
                params![table, direction.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let name = name.ok_or_else(|| StoreError::NotSynced {
            table: table.into(),
            direction: direction.to_string(),
        })?;
        tx.execute(
            "DELETE FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = ?2",
            params![name, direction.to_string()],
        )?;
        if direction == Direction::Down {
            capture::remove(&tx, &name)?;
            tx.execute("DELETE FROM tillsync_changes WHERE tbl = ?1", [&name])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The store a till belongs to, from `STORE_TILL`.
    pub fn till_store(&self, till_id: &str) -> Result<String, StoreError> {
        let r = self
            .conn
            .query_row(
                "SELECT store FROM STORE_TILL WHERE till_id = ?1",
                [till_id],
                |r| r.get::<_, String>(0),
            )
            .optional();
        match r {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(StoreError::UnknownTill(till_id.into())),
            Err(e) => Err(StoreError::NoStoreTill(e.to_string())),
        }
    }

    /// Every store that has a till, from `STORE_TILL`.
    pub fn stores(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT store FROM STORE_TILL WHERE store IS NOT NULL ORDER BY store")
            .map_err(|e| StoreError::NoStoreTill(e.to_string()))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The export state of `table`, if it was ever exported.
    pub fn table_state(&self, table: &str) -> Result<Option<TableState>, StoreError> {
        Ok(self
            .conn
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
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(DISTINCT to_version) FROM tillsync_packages
             WHERE tbl = ?1 AND kind = 'incremental' AND to_version > ?2",
            params![table, full_version as i64],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Every package currently published.
    pub fn published(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
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

    /// A consistent read view for one export: every read sees the database
    /// as of the moment the snapshot started, and `max_seq` is the newest
    /// change it contains. A change committed later has a higher sequence and
    /// goes into the next export.
    pub fn snapshot(&mut self) -> Result<Snapshot<'_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)?;
        let max_seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM tillsync_changes",
            [],
            |r| r.get(0),
        )?;
        Ok(Snapshot { tx, max_seq })
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
            .conn
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
            crate::up::customers::record_row_versions(&tx, &s.table, s.version, s.last_seq)?;
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

    /// Issue (or rotate) a till's credentials: the SHA-256 of its token and
    /// the public key of its ticket key. Clears a revocation.
    pub fn issue_credentials(
        &mut self,
        till_id: &str,
        token_sha256: &str,
        ticket_public_key: &str,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = tillsync_db::now_rfc3339();
        tx.execute(
            "INSERT INTO tillsync_tills(till_id, token_sha256, issued_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(till_id) DO UPDATE SET token_sha256 = excluded.token_sha256,
               issued_at = excluded.issued_at, revoked_at = NULL",
            params![till_id, token_sha256, now],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO tillsync_till_keys(till_id, public_key, issued_at) VALUES (?1, ?2, ?3)",
            params![till_id, ticket_public_key, now],
        )?;
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES (?1, 'credentials', ?2, 'ok', 'credentials issued (deployment package generated)')",
            params![now, till_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Check a till's token (given as its SHA-256). Records the contact.
    pub fn authenticate(
        &self,
        till_id: &str,
        token_sha256: &str,
    ) -> Result<Result<(), AuthFailure>, StoreError> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT token_sha256, revoked_at FROM tillsync_tills WHERE till_id = ?1",
            )?
            .query_row([till_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match row {
            None => Err(AuthFailure::BadCredentials),
            Some((stored, _)) if !constant_time_eq(stored.as_bytes(), token_sha256.as_bytes()) => {
                Err(AuthFailure::BadCredentials)
            }
            Some((_, Some(_))) => Err(AuthFailure::Revoked),
            Some((_, None)) => Ok(()),
        })
    }

    /// Record that a till called (last contact).
    pub fn touch_till(&self, till_id: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE tillsync_tills SET last_contact = ?2 WHERE till_id = ?1")?
            .execute(params![till_id, tillsync_db::now_rfc3339()])?;
        Ok(())
    }

    /// Revoke a till: its calls get 403 until a new deployment package is generated.
    pub fn revoke_till(&mut self, till_id: &str) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE tillsync_tills SET revoked_at = ?2 WHERE till_id = ?1",
            params![till_id, tillsync_db::now_rfc3339()],
        )?;
        if n == 0 {
            return Err(StoreError::Inconsistent(format!(
                "till {till_id} has no credentials (no deployment package was generated for it)"
            )));
        }
        self.journal("credentials", Some(till_id), "ok", "till revoked")?;
        Ok(())
    }

    /// Public keys (hex) that may have signed this till's tickets, newest first.
    pub fn till_ticket_keys(&self, till_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT public_key FROM tillsync_till_keys WHERE till_id = ?1 ORDER BY issued_at DESC",
        )?;
        let rows = stmt.query_map([till_id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every till of `STORE_TILL` with its credential state.
    pub fn tills(&self) -> Result<Vec<TillRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.till_id, s.store, t.issued_at, t.revoked_at, t.last_contact
                 FROM STORE_TILL s LEFT JOIN tillsync_tills t ON t.till_id = s.till_id
                 ORDER BY s.till_id",
            )
            .map_err(|e| StoreError::NoStoreTill(e.to_string()))?;
        let rows = stmt.query_map([], |r| {
            Ok(TillRow {
                till_id: r.get(0)?,
                store: r.get(1)?,
                issued_at: r.get(2)?,
                revoked_at: r.get(3)?,
                last_contact: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Add a line to the sync journal.
    pub fn journal(
        &self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![tillsync_db::now_rfc3339(), kind, till, result, detail],
        )?;
        Ok(())
    }
}

/// Register a sync table inside the caller's transaction (see
/// [`ServerDb::add_sync_table`]).
pub(crate) fn add_sync_table_in(tx: &Connection, t: &SyncTable) -> Result<Layout, StoreError> {
    check_ident(&t.table)?;
    if let Some(f) = &t.filter {
        check_ident(f)?;
    }
    let name = introspect::table_name(tx, &t.table)?
        .ok_or_else(|| StoreError::NoSuchTable(t.table.clone()))?;
    if name.to_ascii_lowercase().starts_with("tillsync_") {
        return Err(StoreError::Ident(format!(
            "{name} is one of tillsync's own tables and cannot be synced"
        )));
    }
    if t.direction == Direction::Down && tillsync_db::tables::is_ticket_table(&name) {
        return Err(StoreError::Ident(format!(
            "{name} holds the tills' sales (fiscal records): it travels up only, never down \
             (a full package would replace the tills' own tickets)"
        )));
    }
    let layout = introspect::layout(tx, &name)?;
    if layout.key.len() > tillsync_server_db::export::MAX_KEY {
        return Err(StoreError::KeyTooWide {
            table: name,
            n: layout.key.len(),
        });
    }
    let filter = match &t.filter {
        Some(f) => Some(
            layout
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(f))
                .map(|c| c.name.clone())
                .ok_or_else(|| StoreError::NoSuchColumn {
                    table: name.clone(),
                    column: f.clone(),
                })?,
        ),
        None => None,
    };
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = ?2)",
        params![name, t.direction.to_string()],
        |r| r.get(0),
    )?;
    if exists {
        return Err(StoreError::AlreadySynced {
            table: name,
            direction: t.direction.to_string(),
        });
    }
    tx.execute(
        "INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, filter_column, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            name,
            t.direction.to_string(),
            t.sync_type.to_string(),
            filter,
            tillsync_db::now_rfc3339()
        ],
    )?;
    if t.direction == Direction::Down && t.sync_type == SyncType::Incremental {
        capture::install(tx, &name, &layout)?;
    }
    Ok(layout)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tillsync_server_db::store::TillStore;

    fn db() -> (tempfile::TempDir, ServerDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = ServerDb::open(&dir.path().join("server.db")).unwrap();
        db.conn()
            .execute_batch(
                "CREATE TABLE ART(code TEXT PRIMARY KEY, label TEXT NOT NULL, price INTEGER);
                 CREATE TABLE NOKEY(x);",
            )
            .unwrap();
        (dir, db)
    }

    /// The catalog generation moves with the sync tables and the published
    /// packages, seen by another connection only once committed.
    #[test]
    fn catalog_generation_follows_sync_tables_and_packages() {
        let (dir, mut db) = db();
        let other = ServerDb::open(&dir.path().join("server.db")).unwrap();
        let g = |d: &ServerDb| d.catalog_generation().unwrap().unwrap();
        let g0 = g(&other);
        db.add_sync_table(&art(SyncType::Full)).unwrap();
        let g1 = g(&other);
        assert!(g1 > g0);
        db.conn().execute_batch("BEGIN").unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO tillsync_packages VALUES
                   ('ART-1.pkg', 'ART', NULL, 'full', 0, 1, 'h', 1, 's', 1, 0, 'now')",
            )
            .unwrap();
        assert_eq!(g(&other), g1, "not committed yet");
        db.conn().execute_batch("COMMIT").unwrap();
        let g2 = g(&other);
        assert!(g2 > g1);
        db.conn()
            .execute_batch("DELETE FROM tillsync_packages")
            .unwrap();
        assert!(g(&other) > g2);
        db.touch_till("T001").unwrap();
        assert_eq!(g(&db), g(&other));
    }

    fn art(sync_type: SyncType) -> SyncTable {
        SyncTable {
            table: "ART".into(),
            sync_type,
            direction: Direction::Down,
            filter: None,
        }
    }

    fn changes(db: &mut ServerDb) -> Vec<(String, bool)> {
        let snap = db.snapshot().unwrap();
        let layout = snap.layout("ART").unwrap();
        let mut out = Vec::new();
        snap.read_changes("ART", &layout, None, 0, snap.max_seq, |c| {
            let k = match c.key[0] {
                ValueRef::Text(s) => s.to_string(),
                _ => panic!(),
            };
            out.push((k, c.row.is_some()));
            Ok(())
        })
        .unwrap();
        out.sort();
        out
    }

    #[test]
    fn captures_any_writer_including_key_changes() {
        let (_d, mut db) = db();
        db.add_sync_table(&art(SyncType::Incremental)).unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO ART VALUES ('A', 'a', 1), ('B', 'b', 2), ('C', 'c', 3);
                 UPDATE ART SET code = 'B2' WHERE code = 'B';
                 DELETE FROM ART WHERE code = 'C';
                 UPDATE ART SET price = 9 WHERE code = 'A';",
            )
            .unwrap();
        assert_eq!(
            changes(&mut db),
            [
                ("A".into(), true),
                ("B".into(), false),
                ("B2".into(), true),
                ("C".into(), false)
            ]
        );
    }

    #[test]
    fn refusals() {
        let (_d, mut db) = db();
        let mut t = art(SyncType::Full);
        t.table = "MISSING".into();
        assert!(matches!(
            db.add_sync_table(&t),
            Err(StoreError::NoSuchTable(_))
        ));
        t.table = "NOKEY".into();
        assert!(matches!(
            db.add_sync_table(&t),
            Err(StoreError::NoPrimaryKey(_))
        ));
        t.table = "ART; DROP TABLE ART".into();
        assert!(matches!(db.add_sync_table(&t), Err(StoreError::Ident(_))));
        // The tills' sales never travel down (regression: a full package
        // would have replaced the tills' own tickets). TICKET is one of the
        // server's tables (the up path).
        t.table = "TICKET".into();
        let e = db.add_sync_table(&t).unwrap_err();
        assert!(e.to_string().contains("travels up only"), "{e}");
        let mut t = art(SyncType::Full);
        t.filter = Some("nope".into());
        assert!(matches!(
            db.add_sync_table(&t),
            Err(StoreError::NoSuchColumn { .. })
        ));
        db.add_sync_table(&art(SyncType::Full)).unwrap();
        assert!(matches!(
            db.add_sync_table(&art(SyncType::Full)),
            Err(StoreError::AlreadySynced { .. })
        ));
    }

    #[test]
    fn remove_drops_triggers() {
        let (_d, mut db) = db();
        db.add_sync_table(&art(SyncType::Incremental)).unwrap();
        db.remove_sync_table("ART", Direction::Down).unwrap();
        db.conn()
            .execute("INSERT INTO ART VALUES ('Z', 'z', 1)", [])
            .unwrap();
        let n: i64 = db
            .conn()
            .query_row("SELECT COUNT(*) FROM tillsync_changes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        let triggers: i64 = db
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema
                 WHERE type = 'trigger' AND name NOT LIKE 'tillsync_catalog_%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(triggers, 0);
        assert!(matches!(
            db.remove_sync_table("ART", Direction::Down),
            Err(StoreError::NotSynced { .. })
        ));
    }
}
