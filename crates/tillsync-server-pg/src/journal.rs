//! The sync journal on PostgreSQL: [`JournalStore`] for [`PgServerDb`].

use crate::db::PgServerDb;
use tillsync_db::StoreError;
use tillsync_server_db::store::JournalStore;

impl JournalStore for PgServerDb {
    fn journal_entries(
        &self,
        till: Option<&str>,
        limit: u32,
    ) -> Result<Vec<tillsync_server_db::journal::JournalEntry>, StoreError> {
        let rows = self.c()?.query(
            "SELECT id, at, kind, till, result, detail FROM tillsync_journal
             WHERE $1::TEXT IS NULL OR till = $1 ORDER BY id DESC LIMIT $2",
            &[&till, &i64::from(limit)],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| tillsync_server_db::journal::JournalEntry {
                id: r.get(0),
                at: r.get(1),
                kind: r.get(2),
                till: r.get(3),
                result: r.get(4),
                detail: r.get(5),
            })
            .collect())
    }
    fn journal(
        &self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.c()?.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail) VALUES ($1, $2, $3, $4, $5)",
            &[&tillsync_db::now_rfc3339(), &kind, &till, &result, &detail],
        )?;
        Ok(())
    }
}
