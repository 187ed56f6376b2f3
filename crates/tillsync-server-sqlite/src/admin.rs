//! What the admin web pages need of the server database beyond the CLI's
//! methods: editing a sync table in place and reading the sync journal.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tillsync_core::{Direction, SyncTable, SyncType};
use tillsync_wire::layout::Layout;

use crate::capture;
use crate::db::ServerDb;
use tillsync_db::StoreError;
use tillsync_server_db::customers::ConflictPolicy;
use tillsync_server_db::journal::JournalEntry;

impl ServerDb {
    /// Change a registered sync table (`t.table`, `t.direction`): its type,
    /// filter column and, for an up table, its conflict policy. Checked as
    /// [`add_sync_table`](ServerDb::add_sync_table) checks a new one (table,
    /// key, filter column), in one transaction: on error nothing changed.
    /// An incremental down table that stays incremental keeps its pending
    /// changes; one that becomes full loses its change capture.
    pub fn edit_sync_table(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError> {
        if policy.is_some() && t.direction != Direction::Up {
            return Err(StoreError::Invalid(format!(
                "a conflict policy applies to a table that travels up; {} is registered {}",
                t.table, t.direction
            )));
        }
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old: Option<(String, String, String)> = tx
            .query_row(
                "SELECT tbl, sync_type, conflict_policy FROM tillsync_sync_tables
                 WHERE tbl = ?1 COLLATE NOCASE AND direction = ?2",
                params![t.table, t.direction.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (name, old_type, old_policy) = old.ok_or_else(|| StoreError::NotSynced {
            table: t.table.clone(),
            direction: t.direction.to_string(),
        })?;
        let old_incremental = old_type == SyncType::Incremental.to_string();
        tx.execute(
            "DELETE FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = ?2",
            params![name, t.direction.to_string()],
        )?;
        if t.direction == Direction::Down && old_incremental && t.sync_type != SyncType::Incremental
        {
            capture::remove(&tx, &name)?;
            tx.execute("DELETE FROM tillsync_changes WHERE tbl = ?1", [&name])?;
        }
        let layout = crate::sync_tables::add_sync_table_in(
            &tx,
            &SyncTable {
                table: name.clone(),
                ..t.clone()
            },
        )?;
        if t.direction == Direction::Up {
            let p = policy.map(|p| p.as_str().to_string()).unwrap_or(old_policy);
            tx.execute(
                "UPDATE tillsync_sync_tables SET conflict_policy = ?2
                 WHERE tbl = ?1 AND direction = 'up'",
                params![name, p],
            )?;
        }
        tx.commit()?;
        Ok(layout)
    }

    /// The sync journal, newest first: at most `limit` lines, only those
    /// of `till` when given.
    pub fn journal_entries(
        &self,
        till: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, at, kind, till, result, detail FROM tillsync_journal
             WHERE ?1 IS NULL OR till = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![till, limit], |r| {
            Ok(JournalEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                till: r.get(3)?,
                result: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, ServerDb) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = ServerDb::open(&dir.path().join("s.db")).unwrap();
        tillsync_db::demo::create_demo_tables(db.conn(), 20, 1).unwrap();
        db.add_sync_table(&SyncTable {
            table: "ART".into(),
            sync_type: SyncType::Incremental,
            direction: Direction::Down,
            filter: None,
        })
        .unwrap();
        db.add_sync_table_with_policy(
            &SyncTable {
                table: "CLI".into(),
                sync_type: SyncType::Incremental,
                direction: Direction::Up,
                filter: None,
            },
            Some(ConflictPolicy::TillWins),
        )
        .unwrap();
        (dir, db)
    }

    fn triggers(db: &ServerDb) -> i64 {
        db.conn()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'tillsync_cc_ART_%'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn edit_changes_type_and_filter_and_capture() {
        let (_d, mut db) = db();
        assert_eq!(triggers(&db), 3);
        db.edit_sync_table(
            &SyncTable {
                table: "art".into(),
                sync_type: SyncType::Full,
                direction: Direction::Down,
                filter: None,
            },
            None,
        )
        .unwrap();
        let t = db.sync_tables().unwrap();
        let art = t.iter().find(|t| t.table == "ART").unwrap();
        assert_eq!(art.sync_type, SyncType::Full);
        assert_eq!(triggers(&db), 0);
        db.edit_sync_table(
            &SyncTable {
                table: "ART".into(),
                sync_type: SyncType::Incremental,
                direction: Direction::Down,
                filter: None,
            },
            None,
        )
        .unwrap();
        assert_eq!(triggers(&db), 3);
    }

    #[test]
    fn edit_refusals_change_nothing() {
        let (_d, mut db) = db();
        let before = db.sync_tables().unwrap();
        let bad_filter = db.edit_sync_table(
            &SyncTable {
                table: "ART".into(),
                sync_type: SyncType::Full,
                direction: Direction::Down,
                filter: Some("no_such_column".into()),
            },
            None,
        );
        assert!(
            matches!(bad_filter, Err(StoreError::NoSuchColumn { .. })),
            "{bad_filter:?}"
        );
        let not_synced = db.edit_sync_table(
            &SyncTable {
                table: "T012".into(),
                sync_type: SyncType::Full,
                direction: Direction::Down,
                filter: None,
            },
            None,
        );
        assert!(matches!(not_synced, Err(StoreError::NotSynced { .. })));
        let policy_down = db.edit_sync_table(
            &SyncTable {
                table: "ART".into(),
                sync_type: SyncType::Incremental,
                direction: Direction::Down,
                filter: None,
            },
            Some(ConflictPolicy::TillWins),
        );
        assert!(matches!(policy_down, Err(StoreError::Invalid(_))));
        assert_eq!(db.sync_tables().unwrap(), before);
        assert_eq!(triggers(&db), 3);
    }

    #[test]
    fn edit_keeps_or_sets_the_conflict_policy() {
        let (_d, mut db) = db();
        let cli_up = SyncTable {
            table: "CLI".into(),
            sync_type: SyncType::Incremental,
            direction: Direction::Up,
            filter: None,
        };
        db.edit_sync_table(&cli_up, None).unwrap();
        let policy = |db: &ServerDb| {
            db.conflict_policies()
                .unwrap()
                .into_iter()
                .find(|p| p.0 == "CLI" && p.1 == Direction::Up)
                .unwrap()
                .2
        };
        assert_eq!(policy(&db), ConflictPolicy::TillWins);
        db.edit_sync_table(&cli_up, Some(ConflictPolicy::NewestWins))
            .unwrap();
        assert_eq!(policy(&db), ConflictPolicy::NewestWins);
    }

    #[test]
    fn journal_newest_first_and_per_till() {
        let (_d, db) = db();
        db.journal("outbox", Some("T001"), "ok", "one").unwrap();
        db.journal("outbox", Some("T002"), "ok", "two").unwrap();
        db.journal("export", None, "error", "three").unwrap();
        let all = db.journal_entries(None, 10).unwrap();
        assert_eq!(
            all.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>(),
            ["three", "two", "one"]
        );
        let t1 = db.journal_entries(Some("T001"), 10).unwrap();
        assert_eq!(t1.len(), 1);
        assert_eq!(t1[0].till.as_deref(), Some("T001"));
        assert_eq!(db.journal_entries(None, 2).unwrap().len(), 2);
    }
}
