//! The server database on PostgreSQL ([`PgServerDb`]): tillsync's own
//! tables, sync-table introspection from `pg_catalog`, change capture by
//! PL/pgSQL triggers, export views, the export lock shared by every server
//! process on the database, credentials and the journal; the up path comes
//! from [`crate::up::pg_up`].
//!
//! # Change capture and commit order
//! A trigger writes every insert, update (old key too when the key changes)
//! and delete of an incremental down table into `tillsync_changes`, with a
//! `seq` from a sequence, and `export_seq` NULL. PostgreSQL hands out
//! sequence values at insert time, not in commit order: a transaction may
//! commit a change with `seq` 10 after another one committed `seq` 11. So
//! the export does not trust `seq` to cut between exports: inside its
//! REPEATABLE READ view it stamps every change row it can see whose
//! `export_seq` is NULL with one new value `S` taken from the same sequence
//! (above every `seq` handed out so far), and exports the changes with
//! `export_seq` in (last export, `S`]. A change committed after the view
//! started is invisible to the stamping `UPDATE`, keeps NULL, and is stamped
//! by the next export: never skipped, never sent twice.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::time::Duration;

use postgres::{Client, Config, NoTls, Statement};

use crate::migrations::migrate;
use tillsync_db::StoreError;
use tillsync_server_db::store::{Backend, ServerStore};

/// Connect to `url`, naming the problem plainly when it fails: connection
/// refused, password refused, missing database, unreachable host.
pub fn connect(url: &str) -> Result<Client, StoreError> {
    let mut cfg: Config = url.parse().map_err(|e: postgres::Error| {
        StoreError::Connect(format!("db.url is not a valid PostgreSQL URL: {e}"))
    })?;
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(Duration::from_secs(10));
    }
    cfg.keepalives_idle(Duration::from_secs(30));
    cfg.application_name("tillsync");
    let (at, user, db) = describe(&cfg);
    cfg.connect(NoTls).map_err(|e| {
        if let Some(d) = e.as_db_error() {
            let msg = match d.code().code() {
                "28P01" => format!(
                    "PostgreSQL at {at}: password authentication failed for user {user:?} \
                     (check the user and password of db.url)"
                ),
                "3D000" => format!(
                    "PostgreSQL at {at}: database {db:?} does not exist (create it, or fix db.url)"
                ),
                "28000" => format!("PostgreSQL at {at} refused user {user:?}: {}", d.message()),
                _ => format!("PostgreSQL at {at}: {}", d.message()),
            };
            return StoreError::Connect(msg);
        }
        let text = e.to_string();
        let io = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(|io| io.kind());
        StoreError::Connect(match io {
            Some(std::io::ErrorKind::ConnectionRefused) => format!(
                "cannot connect to PostgreSQL: connection refused at {at} (is PostgreSQL running there?)"
            ),
            Some(std::io::ErrorKind::TimedOut) => {
                format!("cannot connect to PostgreSQL at {at}: no answer (timed out)")
            }
            _ if text.contains("timed out") => {
                format!("cannot connect to PostgreSQL at {at}: no answer (timed out)")
            }
            _ => format!("cannot connect to PostgreSQL at {at}: {text}"),
        })
    })
}

/// `url` with its database replaced by `db` (tests, tools).
pub fn url_with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = &base[..path.unwrap_or(base.len())];
    format!("{host}/{db}{query}")
}

// ---------------------------------------------------------------------------
// Introspection.

// ---------------------------------------------------------------------------
// Change capture.

// ---------------------------------------------------------------------------
// Reads shared by the export view and the digest.

// ---------------------------------------------------------------------------
// The export view.

// ---------------------------------------------------------------------------
// The batch steps of the up path.

// ---------------------------------------------------------------------------
// The store.

/// The server database on PostgreSQL. One connection; it is opened again
/// when PostgreSQL closed it (a restart), at the next call.
pub struct PgServerDb {
    pub(crate) url: String,
    /// Always `Some` but in `drop`.
    pub(crate) client: RefCell<Option<Client>>,
    /// Whether this connection holds the export lock (lost with it).
    pub(crate) export_locked: std::cell::Cell<bool>,
    /// Statements of the hot paths prepared on this connection, by text
    /// (parsed and planned once, then one round trip per call).
    pub(crate) statements: RefCell<HashMap<&'static str, Statement>>,
}

impl Drop for PgServerDb {
    fn drop(&mut self) {
        // Closing the connection blocks on its own runtime, which must not
        // happen on a thread that drives another one (the web service
        // drops its state there): close it on a thread of its own.
        if let Some(c) = self.client.get_mut().take() {
            let _ = std::thread::spawn(move || drop(c)).join();
        }
    }
}

impl PgServerDb {
    /// Connect and migrate.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut client = connect(url)?;
        migrate(&mut client)?;
        Ok(PgServerDb {
            url: url.to_string(),
            client: RefCell::new(Some(client)),
            export_locked: std::cell::Cell::new(false),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// The connection, opened again if it was closed (PostgreSQL restarted
    /// or ended it: the call that met the closed connection failed, and the
    /// caller, a till, retries).
    pub(crate) fn c(&self) -> Result<RefMut<'_, Client>, StoreError> {
        let mut slot = self.client.borrow_mut();
        let alive = slot.as_mut().is_some_and(|c| !c.is_closed());
        if !alive && self.export_locked.replace(false) {
            // A new connection would not hold the lock: the export stops.
            return Err(StoreError::Connect(
                "the connection to PostgreSQL was lost during the export (the export lock went \
                 with it); nothing was recorded, run the export again"
                    .into(),
            ));
        }
        if !alive {
            // Prepared statements die with their connection.
            self.statements.borrow_mut().clear();
            let old = slot.replace(connect(&self.url)?);
            if let Some(old) = old {
                let _ = std::thread::spawn(move || drop(old)).join();
            }
        }
        Ok(RefMut::map(slot, |c| {
            c.as_mut().expect("connection present")
        }))
    }

    /// `sql` prepared on connection `c` (this store's), once.
    pub(crate) fn prepared(
        &self,
        c: &mut Client,
        sql: &'static str,
    ) -> Result<Statement, postgres::Error> {
        prepare_cached(&self.statements, c, sql)
    }

    pub(crate) fn cm(&mut self) -> Result<&mut Client, StoreError> {
        drop(self.c()?);
        Ok(self.client.get_mut().as_mut().expect("connection present"))
    }
}

/// `sql` prepared on `c` once, kept in `cache` (the statements of `c`).
pub(crate) fn prepare_cached(
    cache: &RefCell<HashMap<&'static str, Statement>>,
    c: &mut Client,
    sql: &'static str,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = cache.borrow().get(sql) {
        return Ok(s.clone());
    }
    let s = c.prepare(sql)?;
    cache.borrow_mut().insert(sql, s.clone());
    Ok(s)
}

impl ServerStore for PgServerDb {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn engine_version(&self) -> Result<String, StoreError> {
        let v: String = self.c()?.query_one("SHOW server_version", &[])?.get(0);
        Ok(v.split_whitespace().next().unwrap_or("").to_string())
    }
}

/// Where a URL points, for messages (never the password).
pub(crate) fn describe(cfg: &Config) -> (String, String, String) {
    let host = match cfg.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let user = cfg.get_user().unwrap_or("").to_string();
    let db = cfg.get_dbname().unwrap_or(&user).to_string();
    (format!("{host}:{port}"), user, db)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use postgres::{Client, Config};
    use std::time::Duration;
    use tillsync_core::sync_table::{Direction, SyncTable, SyncType};

    use crate::up as pg_up;
    use tillsync_db::StoreError;
    use tillsync_wire::value::ValueRef;

    use tillsync_server_db::export::TableExport;
    use tillsync_server_db::export::TableState;

    use tillsync_server_db::store::Batch;
    use tillsync_server_db::store::BatchItem;
    use tillsync_server_db::store::Bookkeeping;

    use tillsync_server_db::store::PollIdentity;

    use tillsync_server_db::store::ServerStore;
    use tillsync_server_db::store::{ErpStore, ExportStore, SyncTableStore, TillStore};

    use tillsync_server_db::tills::AuthFailure;

    use crate::migrations::*;

    use std::collections::BTreeMap;
    use std::sync::{Arc, Barrier};
    use tillsync_core::ticket::Ticket;

    pub use crate::testdb::TestDb as FreshDb;

    use super::url_with_database as with_db;

    fn art() -> SyncTable {
        SyncTable {
            table: "ART".into(),
            sync_type: SyncType::Incremental,
            direction: Direction::Down,
            filter: None,
        }
    }

    /// One export of `ART`'s changes: the keys it carries (true: present).
    fn export_once(db: &mut PgServerDb) -> Vec<(String, bool)> {
        let last = db
            .table_state("ART")
            .unwrap()
            .map(|s| s.last_seq)
            .unwrap_or(0);
        let mut snap = db.snapshot().unwrap();
        let max = snap.max_seq();
        let layout = snap.layout("ART").unwrap();
        let mut keys = Vec::new();
        snap.read_changes("ART", &layout, None, last, max, &mut |c| {
            let ValueRef::Text(k) = c.key[0] else {
                panic!("text key")
            };
            keys.push((k.to_string(), c.row.is_some()));
            Ok(())
        })
        .unwrap();
        snap.finish().unwrap();
        let v = db
            .table_state("ART")
            .unwrap()
            .map(|s| s.version)
            .unwrap_or(0)
            + 1;
        db.record_export(
            &[TableExport {
                state: TableState {
                    table: "ART".into(),
                    version: v,
                    last_seq: max,
                    layout_hash: layout.hash(),
                    snapshot_hash: None,
                    full_version: Some(1),
                },
                packages: vec![],
            }],
            10,
        )
        .unwrap();
        keys
    }

    fn setup(url: &str) -> PgServerDb {
        let mut db = PgServerDb::open(url).unwrap();
        db.execute_batch(
            r#"CREATE TABLE "ART"(code TEXT PRIMARY KEY, label TEXT NOT NULL, price BIGINT);
               CREATE TABLE "NOKEY"(x TEXT);"#,
        )
        .unwrap();
        db.add_sync_table(&art()).unwrap();
        db
    }

    /// The schema of a database made before the two backends shared one
    /// numbering of their steps, at its own step `old` (1 to 4): the same
    /// tables, and `schema_version` counted the old way, no
    /// `schema_numbering` row.
    fn old_numbered(url: &str, old: usize) {
        let mut c = connect(url).unwrap();
        c.batch_execute("CREATE TABLE tillsync_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        for m in &MIGRATIONS[..OLD_STEPS[old]] {
            c.batch_execute(m).unwrap();
        }
        c.execute(
            "INSERT INTO tillsync_meta(key, value) VALUES ('schema_version', $1)",
            &[&old.to_string()],
        )
        .unwrap();
    }

    fn meta(url: &str, key: &str) -> Option<String> {
        connect(url)
            .unwrap()
            .query_opt("SELECT value FROM tillsync_meta WHERE key = $1", &[&key])
            .unwrap()
            .map(|r| r.get(0))
    }

    /// A database at each step of the former PostgreSQL numbering opens,
    /// takes the steps it lacks (none twice: a step run again would fail on
    /// its `CREATE TABLE`) and then counts as SQLite does.
    #[test]
    fn databases_of_the_former_numbering_upgrade_to_the_common_one() {
        for old in 1..=4 {
            let Some(fresh) = FreshDb::from_env() else {
                return;
            };
            old_numbered(&fresh.url, old);
            let db =
                PgServerDb::open(&fresh.url).unwrap_or_else(|e| panic!("former step {old}: {e}"));
            drop(db);
            let latest = crate::migrations::MIGRATIONS.len().to_string();
            assert_eq!(
                meta(&fresh.url, "schema_version").as_deref(),
                Some(latest.as_str())
            );
            assert_eq!(
                meta(&fresh.url, "schema_numbering").as_deref(),
                Some("common")
            );
            // Opened again: nothing to do.
            let db = PgServerDb::open(&fresh.url).unwrap();
            assert!(db.catalog_generation().unwrap().is_some());
            assert!(db.sync_tables().unwrap().is_empty());
        }
    }

    #[test]
    fn an_unknown_numbering_or_a_newer_step_is_refused() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        drop(PgServerDb::open(&fresh.url).unwrap());
        let mut c = connect(&fresh.url).unwrap();
        let newer = (crate::migrations::MIGRATIONS.len() + 1).to_string();
        c.execute(
            "UPDATE tillsync_meta SET value = $1 WHERE key = 'schema_version'",
            &[&newer],
        )
        .unwrap();
        let e = PgServerDb::open(&fresh.url)
            .err()
            .expect("a newer schema is refused");
        assert!(e.to_string().contains("newer than this tillsync"), "{e}");
        c.execute(
            "UPDATE tillsync_meta SET value = 'roman' WHERE key = 'schema_numbering'",
            &[],
        )
        .unwrap();
        let e = PgServerDb::open(&fresh.url)
            .err()
            .expect("an unknown numbering is refused");
        assert!(e.to_string().contains("unknown to this tillsync"), "{e}");
    }

    #[test]
    fn introspects_and_captures_any_writer_including_key_changes() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        let l = db.layout("art").unwrap();
        assert_eq!(l.key, ["code"]);
        assert_eq!(l.columns[2].decl_type, "bigint");
        assert!(l.columns[1].not_null);
        assert!(matches!(
            db.add_sync_table(&SyncTable {
                table: "NOKEY".into(),
                ..art()
            }),
            Err(StoreError::NoPrimaryKey(_))
        ));
        assert!(matches!(
            db.add_sync_table(&art()),
            Err(StoreError::AlreadySynced { .. })
        ));
        // psql, the ERP: another connection.
        let mut erp = connect(&fresh.url).unwrap();
        erp.batch_execute(
            r#"INSERT INTO "ART" VALUES ('A', 'a', 1), ('B', 'b', 2), ('C', 'c', 3);
               UPDATE "ART" SET code = 'B2' WHERE code = 'B';
               DELETE FROM "ART" WHERE code = 'C';
               UPDATE "ART" SET price = 9 WHERE code = 'A';"#,
        )
        .unwrap();
        let mut got = export_once(&mut db);
        got.sort();
        let want: Vec<(String, bool)> = [("A", true), ("B", false), ("B2", true), ("C", false)]
            .iter()
            .map(|(k, p)| (k.to_string(), *p))
            .collect();
        assert_eq!(got, want);
        assert!(export_once(&mut db).is_empty(), "nothing twice");
        db.remove_sync_table("art", Direction::Down).unwrap();
        erp.batch_execute(r#"INSERT INTO "ART" VALUES ('Z', 'z', 1)"#)
            .unwrap();
        let n: i64 = erp
            .query_one("SELECT COUNT(*) FROM tillsync_changes", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "no capture after removal");
    }

    /// Part 2 of the issue: sequence values are not handed out in commit
    /// order; a change committed late with a lower sequence is not skipped.
    #[test]
    fn no_change_lost_when_commits_come_out_of_sequence_order() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        // A writer takes a low sequence and holds its transaction open.
        let mut held = connect(&fresh.url).unwrap();
        let mut tx = held.transaction().unwrap();
        tx.batch_execute(r#"INSERT INTO "ART" VALUES ('HELD', 'h', 1)"#)
            .unwrap();
        // Others take higher sequences and commit.
        let mut erp = connect(&fresh.url).unwrap();
        for i in 0..5 {
            erp.execute(
                r#"INSERT INTO "ART" VALUES ($1, 'x', 1)"#,
                &[&format!("K{i}")],
            )
            .unwrap();
        }
        let first = export_once(&mut db);
        assert_eq!(first.len(), 5, "{first:?}");
        assert!(!first.iter().any(|(k, _)| k == "HELD"));
        tx.commit().unwrap();
        assert_eq!(export_once(&mut db), [("HELD".to_string(), true)]);
        assert!(export_once(&mut db).is_empty());
    }

    /// Many concurrent writers, some holding their transaction open across
    /// exports: every change reaches an export, once.
    #[test]
    fn concurrent_writers_and_exports_every_change_once() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        const WRITERS: usize = 8;
        const ROWS: usize = 40;
        let start = Arc::new(Barrier::new(WRITERS + 1));
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let url = fresh.url.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    let mut c = connect(&url).unwrap();
                    start.wait();
                    for i in 0..ROWS {
                        let mut tx = c.transaction().unwrap();
                        tx.execute(
                            r#"INSERT INTO "ART" VALUES ($1, 'x', 1)"#,
                            &[&format!("W{w}-{i}")],
                        )
                        .unwrap();
                        // Every third transaction of odd writers stays
                        // open a while: across one or more exports.
                        if w % 2 == 1 && i % 3 == 0 {
                            std::thread::sleep(Duration::from_millis(30));
                        }
                        tx.commit().unwrap();
                    }
                })
            })
            .collect();
        start.wait();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut exports = 0;
        while handles.iter().any(|h| !h.is_finished()) {
            for (k, present) in export_once(&mut db) {
                assert!(present);
                *seen.entry(k).or_default() += 1;
            }
            exports += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        for h in handles {
            h.join().unwrap();
        }
        for (k, _) in export_once(&mut db) {
            *seen.entry(k).or_default() += 1;
        }
        assert!(exports > 2, "the exports ran during the writes");
        assert_eq!(seen.len(), WRITERS * ROWS, "every change exported");
        assert!(seen.values().all(|&n| n == 1), "each exactly once");
    }

    #[test]
    fn one_export_lock_across_connections() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut a = PgServerDb::open(&fresh.url).unwrap();
        let mut b = PgServerDb::open(&fresh.url).unwrap();
        assert!(a.try_lock_export().unwrap());
        assert!(!b.try_lock_export().unwrap(), "held by the other process");
        a.unlock_export().unwrap();
        assert!(b.try_lock_export().unwrap());
        drop(b); // the connection ends: the lock goes with it (once the
        // server has seen the connection close)
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !a.try_lock_export().unwrap() {
            assert!(std::time::Instant::now() < deadline, "lock not released");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// PostgreSQL restarted: the store reconnects at the next call, except
    /// while it holds the export lock (a new connection would not hold it).
    #[test]
    fn reconnects_after_the_connection_ends_but_not_inside_an_export() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        let mut admin = connect(&fresh.url).unwrap();
        let end_others = |admin: &mut Client| {
            admin
                .batch_execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .unwrap();
            // The backends end right after the signal.
            std::thread::sleep(Duration::from_millis(200));
        };
        end_others(&mut admin);
        // The call that meets the ended connection fails; the next reconnects.
        assert!(db.sync_tables().is_err());
        assert_eq!(db.sync_tables().unwrap().len(), 1);
        assert!(db.try_lock_export().unwrap());
        end_others(&mut admin);
        let _ = db.table_state("ART");
        let e = db.snapshot().err().expect("no export without its lock");
        assert!(e.to_string().contains("run the export again"), "{e}");
        // The next export takes the lock again on a new connection.
        assert!(db.try_lock_export().unwrap());
        assert!(db.snapshot().is_ok());
    }

    #[test]
    fn connection_problems_are_named() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let cfg: Config = fresh.url.parse().unwrap();
        let (at, user, _) = describe(&cfg);
        // Missing database.
        let e = PgServerDb::open(&with_db(&fresh.url, "no_such_db_here"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("database \"no_such_db_here\" does not exist"),
            "{e}"
        );
        // Wrong password (the test cluster checks passwords).
        let host_part = at.clone();
        let bad = format!("postgres://{user}:wrong-password@{host_part}/postgres");
        let e = PgServerDb::open(&bad).err().unwrap().to_string();
        assert!(
            e.contains(&format!(
                "password authentication failed for user \"{user}\""
            )),
            "{e}"
        );
        assert!(!e.contains("wrong-password"), "no secret in messages: {e}");
        // Nobody listening.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let e = PgServerDb::open(&format!("postgres://{user}:x@127.0.0.1:{port}/postgres"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(&format!("connection refused at 127.0.0.1:{port}")),
            "{e}"
        );
    }

    /// The catalog generation moves with the sync tables and the published
    /// packages, at their commit, and not with the polling path's own
    /// writes; `poll_identity` answers as `authenticate` and `till_store`.
    #[test]
    fn catalog_generation_follows_sync_tables_and_packages_at_commit() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = PgServerDb::open(&fresh.url).unwrap();
        db.create_demo_tables(20, 3).unwrap();
        let g = |db: &PgServerDb| db.catalog_generation().unwrap().unwrap();
        let g0 = g(&db);
        db.add_sync_table(&art()).unwrap();
        let g1 = g(&db);
        assert!(g1 > g0);
        // A publish held open elsewhere is not seen until it commits.
        let mut other = connect(&fresh.url).unwrap();
        let mut tx = other.transaction().unwrap();
        tx.batch_execute(
            "INSERT INTO tillsync_packages(file, tbl, subset, kind, from_version, to_version,
               layout_hash, size, sha256, upserts, deletes, created_at)
             VALUES ('ART-1.pkg', 'ART', NULL, 'full', 0, 1, 'h', 1, 's', 1, 0, 'now')",
        )
        .unwrap();
        assert_eq!(g(&db), g1, "uncommitted");
        tx.commit().unwrap();
        let g2 = g(&db);
        assert!(g2 > g1);
        // Credentials, contacts and bookkeeping leave it alone.
        let till = db.tills().unwrap()[0].till_id.clone();
        tillsync_server_db::enrol::enrol_test_key(&mut db, &till, "sha").unwrap();
        db.write_bookkeeping(&[Bookkeeping {
            till: till.clone(),
            contact: true,
            asked: Some("up to date".into()),
            ..Default::default()
        }])
        .unwrap();
        assert_eq!(g(&db), g2);

        let who = db.poll_identity(&till, "sha").unwrap();
        let store = db.till_store(&till).unwrap();
        assert_eq!(
            who,
            PollIdentity {
                auth: Ok(()),
                store: Some(store),
                generation: Some(g2),
            }
        );
        let bad = db.poll_identity(&till, "other").unwrap();
        assert_eq!(bad.auth, Err(AuthFailure::BadCredentials));
        assert_eq!(bad.store, None);
        let unknown = db.poll_identity("NOPE", "sha").unwrap();
        assert_eq!(unknown.auth, Err(AuthFailure::BadCredentials));
        db.revoke_till(&till).unwrap();
        assert_eq!(
            db.poll_identity(&till, "sha").unwrap().auth,
            Err(AuthFailure::Revoked)
        );
        // Credentials for a till that STORE_TILL does not list.
        tillsync_server_db::enrol::enrol_test_key(&mut db, "GHOST", "sha").unwrap();
        assert!(matches!(
            db.poll_identity("GHOST", "sha"),
            Err(StoreError::UnknownTill(t)) if t == "GHOST"
        ));

        // In one statement, each call answered as alone, in order, a
        // missing store failing only its own call.
        let other = db.tills().unwrap()[1].till_id.clone();
        tillsync_server_db::enrol::enrol_test_key(&mut db, &other, "sha2").unwrap();
        let calls: Vec<(String, String)> = [
            (other.as_str(), "sha2"),
            (till.as_str(), "sha"),
            ("GHOST", "sha"),
            ("NOPE", "sha"),
            (other.as_str(), "wrong"),
            (other.as_str(), "sha2"),
        ]
        .iter()
        .map(|(t, s)| (t.to_string(), s.to_string()))
        .collect();
        let together = db.poll_identities(&calls).unwrap();
        assert_eq!(together.len(), calls.len());
        for ((t, s), got) in calls.iter().zip(&together) {
            let alone = db.poll_identity(t, s);
            assert_eq!(format!("{got:?}"), format!("{alone:?}"), "{t} {s}");
        }
        assert_eq!(together[0].as_ref().unwrap().auth, Ok(()));
        assert!(matches!(&together[2], Err(StoreError::UnknownTill(t)) if t == "GHOST"));
        assert!(db.poll_identities(&[]).unwrap().is_empty());
    }

    /// The tickets numbered `from..=to` of the test chain, made `till`'s,
    /// with their idempotency keys.
    fn tickets_of(till: &str, chain: &[Ticket], from: u64, to: u64) -> Vec<(String, Ticket)> {
        chain[from as usize - 1..to as usize]
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.till = till.to_string();
                (format!("ticket:{}", t.number), t)
            })
            .collect()
    }

    /// Set-wise filing (`pg_up::fast`) and item-by-item filing give the same
    /// answers and the same rows as SQLite, for groups mixing batches that
    /// qualify and batches that do not: a resend, a till twice in a group,
    /// a gap then the ticket that closes it, a wrong link to the genesis, a
    /// failed signature check.
    #[test]
    fn grouped_batches_are_answered_and_stored_as_on_sqlite() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut lite =
            tillsync_server_sqlite::ServerDb::open(&dir.path().join("server.db")).unwrap();
        let mut pg = PgServerDb::open(&fresh.url).unwrap();
        let chain = pg_up::tickets::tests::chain(8);
        let mut broken = tickets_of("T004", &chain, 1, 2);
        broken[0].1.prev_hash = "f".repeat(64);
        // Per batch: the till, its tickets with their keys, the number
        // whose check fails.
        type Group<'a> = Vec<(&'a str, Vec<(String, Ticket)>, Option<u64>)>;
        let groups: Vec<Group<'_>> = vec![
            vec![
                ("T001", tickets_of("T001", &chain, 1, 3), None),
                ("T002", tickets_of("T002", &chain, 1, 2), None),
                ("T003", tickets_of("T003", &chain, 2, 3), None),
                ("T004", broken.clone(), None),
            ],
            vec![
                ("T001", tickets_of("T001", &chain, 3, 5), None),
                ("T002", tickets_of("T002", &chain, 3, 3), None),
                ("T002", tickets_of("T002", &chain, 3, 4), None),
                ("T003", tickets_of("T003", &chain, 1, 1), None),
                ("T004", broken, None),
            ],
            vec![
                ("T001", tickets_of("T001", &chain, 6, 7), Some(7)),
                ("T003", tickets_of("T003", &chain, 4, 6), None),
                ("T005", vec![], None),
            ],
        ];
        for (g, group) in groups.iter().enumerate() {
            let payloads: Vec<Vec<String>> = group
                .iter()
                .map(|(_, ts, _)| {
                    ts.iter()
                        .map(|(_, t)| serde_json::to_string(t).unwrap())
                        .collect()
                })
                .collect();
            let items: Vec<Vec<BatchItem<'_>>> = group
                .iter()
                .zip(&payloads)
                .map(|((_, ts, bad), ps)| {
                    ts.iter()
                        .zip(ps)
                        .map(|((key, t), p)| BatchItem::Ticket {
                            key,
                            ticket: t,
                            payload: p,
                            check: if Some(t.number) == *bad {
                                Err(format!("ticket {}: bad signature", t.number))
                            } else {
                                Ok(())
                            },
                        })
                        .collect()
                })
                .collect();
            let batches: Vec<Batch<'_, '_>> = group
                .iter()
                .zip(&items)
                .map(|((till, _, _), items)| (*till, items.as_slice()))
                .collect();
            let answer = |db: &mut dyn ServerStore| -> Vec<Vec<(String, String, Option<String>)>> {
                db.ingest_batches(&batches)
                    .into_iter()
                    .map(|r| {
                        r.unwrap()
                            .results
                            .into_iter()
                            .map(|i| (i.key, format!("{:?}", i.status), i.reason))
                            .collect()
                    })
                    .collect()
            };
            assert_eq!(answer(&mut pg), answer(&mut lite), "group {g}");
        }
        let rows = |db: &mut dyn ServerStore, sql: &str| -> Vec<String> {
            let mut v: Vec<String> = db
                .query_rows(sql)
                .unwrap()
                .into_iter()
                .map(|r| format!("{r:?}"))
                .collect();
            v.sort();
            v
        };
        for sql in [
            r#"SELECT "till_id", "number", "hash", "prev_hash", "total_cents" FROM "TICKET""#,
            r#"SELECT "till_id", "number", "line_no", "item", "quantity" FROM "TICKET_LINE""#,
            r#"SELECT "till_id", "number", "seq", "method" FROM "TICKET_PAYMENT""#,
            r#"SELECT "till_id", "number", "rate_bp", "vat_cents" FROM "TICKET_VAT""#,
            "SELECT till_id, number, item_key, reason FROM tillsync_ticket_quarantine",
            "SELECT till_id, key, status, reason, fingerprint FROM tillsync_received",
            "SELECT till_id, number, prev_hash FROM tillsync_ticket_link_pending",
            "SELECT till, result, detail FROM tillsync_journal WHERE kind = 'push'",
        ] {
            let (p, l) = (rows(&mut pg, sql), rows(&mut lite, sql));
            assert!(!l.is_empty() || sql.contains("pending"), "{sql}: no rows");
            assert_eq!(p, l, "{sql}");
        }
    }

    #[test]
    fn digest_matches_sqlite_for_the_same_rows() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = PgServerDb::open(&fresh.url).unwrap();
        db.create_demo_tables(50, 7).unwrap();
        let lite = rusqlite::Connection::open_in_memory().unwrap();
        tillsync_db::demo::create_demo_tables(&lite, 50, 7).unwrap();
        for t in tillsync_db::demo::DEMO_TABLES {
            let pl = db.layout(t).unwrap();
            let ll = tillsync_db::introspect::layout(&lite, t).unwrap();
            assert_eq!(pl.key, ll.key);
            let pd = db.table_digest(t, &pl, None).unwrap();
            let ld = tillsync_db::digest::table_digest(&lite, t, &ll, None).unwrap();
            assert_eq!(pd, ld, "{t}");
        }
        let pl = db.layout("CLI").unwrap();
        let ll = tillsync_db::introspect::layout(&lite, "CLI").unwrap();
        let store = db.stores().unwrap()[0].clone();
        assert_eq!(
            db.table_digest("CLI", &pl, Some(("store", &store)))
                .unwrap(),
            tillsync_db::digest::table_digest(&lite, "CLI", &ll, Some(("store", &store))).unwrap()
        );
    }
}
