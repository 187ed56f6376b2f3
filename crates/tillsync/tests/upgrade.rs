//! Databases made by an earlier tillsync open and migrate: the server's
//! SQLite and PostgreSQL databases and a till's database, as the release of
//! commit 52034af (3 Dec 2026, before the house refactor and the common
//! numbering of the schema's steps) left them after `server init --demo
//! --demo-rows 5`, `server export`, `server package --till T001` and `till
//! init`. The fixtures are their dumps (`sqlite3 FILE .dump`; `pg_dump
//! --inserts --no-owner --no-privileges`, psql's `\restrict` lines removed).

use tillsync_server_db::store::{ExportStore, KeyStore, SyncTableStore, TillStore};
use tillsync_wire::keys::KeyReason;

const SQLITE_SERVER: &str = include_str!("fixtures/server-52034af.sqlite.sql");
const SQLITE_TILL: &str = include_str!("fixtures/till-52034af.sqlite.sql");
const POSTGRES_SERVER: &str = include_str!("fixtures/server-52034af.postgres.sql");

/// A SQLite file at `path` made from `dump`.
fn restore_sqlite(path: &std::path::Path, dump: &str) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(dump)
        .unwrap();
}

/// What the demo server of the fixtures holds, through the store traits.
fn check_demo_server<S>(db: &mut S)
where
    S: SyncTableStore + ExportStore + TillStore + KeyStore + ?Sized,
{
    let tables: Vec<String> = db
        .sync_tables()
        .unwrap()
        .into_iter()
        .map(|t| format!("{} {:?}", t.table, t.direction))
        .collect();
    assert_eq!(tables.len(), 5, "{tables:?}");
    assert_eq!(db.table_states().unwrap().len(), 4);
    assert!(!db.published().unwrap().is_empty());
    assert_eq!(db.tills().unwrap().len(), 3);
    // The credentials issued by the old release still check.
    assert_eq!(db.till_ticket_keys("T001").unwrap().len(), 1);
    // And the migrated database takes new writes: an enrolment.
    tillsync_server_db::enrol::enrol_test_key(db, "T002", &"ab".repeat(32)).unwrap();
    assert_eq!(db.authenticate("T002", &"ab".repeat(32)).unwrap(), Ok(()));
    // The key the old release put in T001's package is recorded, signed,
    // before T001's first enrolled key.
    assert_eq!(db.unrecorded_keys("T001").unwrap().len(), 1);
    tillsync_server_db::enrol::enrol_test_key(db, "T001", &"ef".repeat(32)).unwrap();
    let reasons: Vec<KeyReason> = db
        .key_history("T001")
        .unwrap()
        .iter()
        .map(|r| r.reason)
        .collect();
    assert_eq!(reasons, [KeyReason::PackageV2, KeyReason::ReEnrolment]);
    assert!(db.unrecorded_keys("T001").unwrap().is_empty());
    assert_eq!(db.till_ticket_keys("T001").unwrap().len(), 2);
}

#[test]
fn a_sqlite_server_database_of_52034af_opens_and_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    restore_sqlite(&path, SQLITE_SERVER);
    let mut db = tillsync_server_sqlite::ServerDb::open(&path).unwrap();
    check_demo_server(&mut db);
    let version: String = db
        .conn()
        .query_row(
            "SELECT value FROM tillsync_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        version,
        tillsync_server_sqlite::migrations::SCHEMA_VERSION.to_string()
    );
}

#[test]
fn a_till_database_of_52034af_opens_and_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    restore_sqlite(&path, SQLITE_TILL);
    let db = tillsync_till_db::TillDb::open(&path).unwrap();
    // Installed, nothing loaded yet.
    assert!(db.table_versions().unwrap().is_empty());
    db.journal("sync", "ok", "after the upgrade").unwrap();
    assert!(db.last_ok("sync").unwrap().is_some());
}

/// The PostgreSQL database of 52034af counted its own four steps
/// (`schema_version` 4, no `schema_numbering`): it is read at its step
/// (the common step 6), nothing runs twice, it then counts as SQLite does and
/// goes on to the last step.
#[test]
fn a_postgresql_server_database_of_52034af_opens_and_migrates() {
    let Some(fresh) = tillsync_server_pg::testdb::TestDb::from_env() else {
        return;
    };
    fresh.client().batch_execute(POSTGRES_SERVER).unwrap();
    let mut db = tillsync_server_pg::PgServerDb::open(&fresh.url).unwrap();
    check_demo_server(&mut db);
    let meta: Vec<(String, String)> = fresh
        .client()
        .query("SELECT key, value FROM tillsync_meta ORDER BY key", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        meta,
        [
            ("schema_numbering".to_string(), "common".to_string()),
            (
                "schema_version".to_string(),
                tillsync_server_pg::migrations::SCHEMA_VERSION.to_string()
            )
        ]
    );
}
