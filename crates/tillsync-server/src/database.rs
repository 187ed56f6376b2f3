//! The server database named by `db.url`: [`open_server_store`] picks the
//! backend (SQLite or PostgreSQL) behind [`ServerStore`].

use tillsync_db::StoreError;
use tillsync_server_db::ServerStore;
use tillsync_server_pg::PgServerDb;
use tillsync_server_sqlite::ServerDb;

/// Open the server database named by `url`: `postgres://…` or
/// `postgresql://…` opens PostgreSQL; anything else is a SQLite file path.
pub fn open_server_store(url: &str) -> Result<Box<dyn ServerStore>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(PgServerDb::open(url)?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Box::new(ServerDb::open(std::path::Path::new(path))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillsync_server_db::store::{Batch, BatchItem, Bookkeeping};
    use tillsync_wire::api::{ItemStatus, TillReport, TillTable};

    /// A group of batches of two tills, one batch twice (a resend racing the
    /// first try), stored by `ingest_batches`; then bookkeeping.
    fn group_and_bookkeeping(db: &mut dyn ServerStore) {
        db.create_demo_tables(5, 1).unwrap();
        let item = |payload: &'static str| BatchItem::Unreadable {
            key: "k1",
            payload,
            reason: "not a ticket",
            fingerprint: payload,
        };
        let (a, b) = ([item("a")], [item("b")]);
        let batches: [Batch<'_, '_>; 4] = [("T001", &a), ("T002", &b), ("T001", &a), ("T002", &[])];
        let statuses: Vec<Vec<ItemStatus>> = db
            .ingest_batches(&batches)
            .into_iter()
            .map(|r| r.unwrap().results.into_iter().map(|i| i.status).collect())
            .collect();
        assert_eq!(
            statuses,
            vec![
                vec![ItemStatus::Quarantined],
                vec![ItemStatus::Quarantined],
                vec![ItemStatus::Quarantined],
                vec![],
            ],
            "a resend gets the first answer again"
        );
        let pushes = db
            .journal_entries(None, 50)
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == "push")
            .count();
        assert_eq!(pushes, 3, "one journal line per non-empty batch");
        let quarantined: u64 = db
            .ticket_state(None)
            .unwrap()
            .iter()
            .map(|t| t.quarantined)
            .sum();
        assert_eq!(quarantined, 2, "the resend stored nothing twice");

        tillsync_server_db::enrol::enrol_test_key(&mut *db, "T001", "sha").unwrap();
        db.write_bookkeeping(&[Bookkeeping {
            till: "T001".into(),
            contact: true,
            tables: Some(vec![TillTable {
                table: "ART".into(),
                version: Some(4),
                layout_hash: None,
            }]),
            report: Some(TillReport {
                errors: 2,
                ..Default::default()
            }),
            asked: Some("up to date".into()),
        }])
        .unwrap();
        assert_eq!(db.till_tables().unwrap()[0].version, Some(4));
        assert_eq!(db.till_reports().unwrap()[0].errors, 2);
        assert!(
            db.journal_entries(Some("T001"), 10)
                .unwrap()
                .iter()
                .any(|j| j.kind == "packages-asked")
        );
        let contact = db
            .query_text("SELECT last_contact FROM tillsync_tills WHERE till_id = 'T001'")
            .unwrap();
        assert!(contact.is_some(), "last contact written");
    }

    #[test]
    fn group_commit_and_bookkeeping_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = open_server_store(dir.path().join("s.db").to_str().unwrap()).unwrap();
        group_and_bookkeeping(db.as_mut());
        assert_eq!(
            db.query_text("PRAGMA synchronous").unwrap().as_deref(),
            Some("2"),
            "synchronous back to FULL"
        );
    }

    #[test]
    fn group_commit_and_bookkeeping_on_postgresql() {
        let Some(fresh) = tillsync_server_pg::testdb::TestDb::from_env() else {
            return;
        };
        let mut db = open_server_store(&fresh.url).unwrap();
        group_and_bookkeeping(db.as_mut());
    }
}
