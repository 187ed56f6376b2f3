//! Sync tables on the server: the registered list, registration (checks
//! of the name, the table, its key and filter column, change capture for
//! an incremental down table) and removal.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tillsync_core::sync_table::{Direction, SyncTable, SyncType};
use tillsync_wire::layout::Layout;

use crate::capture;
use crate::db::ServerDb;
use tillsync_db::StoreError;
use tillsync_db::introspect;
use tillsync_db::sql::check_ident;

impl ServerDb {
    /// Every registered sync table.
    pub fn sync_tables(&self) -> Result<Vec<SyncTable>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
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
            .conn_mut()
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
            .conn_mut()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ServerDb;
    use tillsync_wire::value::ValueRef;

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
        use tillsync_server_db::store::TillStore;
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
                 WHERE type = 'trigger' AND name NOT LIKE 'tillsync_catalog_%'
                   AND name NOT LIKE 'tillsync_fiscal_%'",
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
