//! PostgreSQL as the server database, beyond what the shared tests cover:
//! `server check db` and `server run` naming a connection problem; two
//! server processes on one database serving one till that switches between
//! them (tickets exactly once, unique customer codes, one export at a time);
//! PostgreSQL ending the server's connections during ingest and during an
//! export; a private cluster really restarted and stopped during ingest and
//! during exports. Tests that need a PostgreSQL skip (with a notice) unless
//! `TILLSYNC_TEST_PG_URL` is set (the private cluster: unless root and
//! PostgreSQL's binaries are there); CI sets it.

use std::collections::BTreeSet;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tillsync_core::ServerConfig;
use tillsync_server_db::store::ServerStore;
use tillsync_testkit::pg::PrivateCluster;
use tillsync_testkit::proxy::FaultProxy;
use tillsync_testkit::{TestServer, pull};
use tillsync_till::up::push::{PushOptions, push};

use crate::up_faults::{free_port, point_till_at, sell};
use crate::util::tillsync;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A test server on PostgreSQL, or `None` (test skipped) without one.
fn pg_server(rows: usize) -> Option<TestServer> {
    if tillsync_testkit::pg::test_url().is_none() {
        eprintln!("SKIPPED: set TILLSYNC_TEST_PG_URL to run the PostgreSQL tests");
        return None;
    }
    Some(TestServer::start(rows))
}

/// `url` with `user:password` replaced.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth, host) = rest.rsplit_once('@').unwrap();
    let user = auth.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

fn set(dir: &Path, key: &str, value: &str) {
    let mut c = ServerConfig::load(dir).unwrap();
    c.set(key, value).unwrap();
    c.save(dir).unwrap();
}

/// `server check db` and `server run` on a bad `db.url`: both exit non-zero
/// and name the problem; the password is never printed.
#[track_caller]
fn both_refuse(root: &Path, dir: &Path, needle: &str, secret: Option<&str>) {
    for args in [
        &["server", "check", "db", "--data", s(dir)][..],
        &["server", "run", "--data", s(dir)][..],
    ] {
        let run = tillsync(root, args).fails_with(needle);
        if let Some(secret) = secret {
            assert!(
                !run.stderr().contains(secret) && !run.stdout().contains(secret),
                "{args:?} printed the password: {}",
                run.stderr()
            );
        }
    }
}

#[test]
fn check_db_and_run_name_an_unreachable_postgresql() {
    // Needs no PostgreSQL: nobody listens on the port.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    tillsync(tmp.path(), &["server", "init", "--data", s(&dir)]).ok();
    let port = free_port();
    set(
        &dir,
        "db.url",
        &format!("postgres://tillsync:s3cret-pw@127.0.0.1:{port}/pos"),
    );
    both_refuse(
        tmp.path(),
        &dir,
        &format!("connection refused at 127.0.0.1:{port}"),
        Some("s3cret-pw"),
    );
}

#[test]
fn check_db_reports_the_version_or_names_bad_password_and_missing_database() {
    let Some(server) = pg_server(50) else { return };
    let dir = server.dir().to_path_buf();
    let root = server.root.path();
    let url = server.pg.as_ref().unwrap().url.clone();
    let out = tillsync(root, &["server", "check", "db", "--data", s(&dir)])
        .ok()
        .stdout();
    assert!(out.contains("database OK: PostgreSQL 1"), "{out}");
    assert!(out.contains("sync table ART (down, incremental)"), "{out}");
    let json = tillsync(
        root,
        &["server", "check", "db", "--data", s(&dir), "--json"],
    )
    .ok()
    .json();
    assert_eq!(json["kind"], "postgres", "{json}");
    let password = url.rsplit_once('@').unwrap().0.rsplit_once(':').unwrap().1;
    let location = json["location"].as_str().unwrap();
    assert!(
        location.contains(":********@") && !location.contains(&format!(":{password}@")),
        "the password is masked: {location}"
    );

    set(&dir, "db.url", &with_password(&url, "not-the-password"));
    both_refuse(
        root,
        &dir,
        "password authentication failed for user \"postgres\"",
        Some("not-the-password"),
    );
    set(
        &dir,
        "db.url",
        &tillsync_server_pg::db::url_with_database(&url, "no_such_database"),
    );
    both_refuse(
        root,
        &dir,
        "database \"no_such_database\" does not exist",
        None,
    );
    set(&dir, "db.url", &url);
}

/// A second server: `tillsync server run` in its own process, on a copy of
/// the data folder (same key, same database, same package store), another
/// port, no FTP server of its own.
struct OtherServer {
    dir: PathBuf,
    web: SocketAddr,
    child: Child,
}

impl OtherServer {
    fn start(server: &TestServer) -> OtherServer {
        let dir = server.root.path().join("server-b");
        fs::create_dir_all(&dir).unwrap();
        for f in ["tillsync.toml", "server.key"] {
            fs::copy(server.dir().join(f), dir.join(f)).unwrap();
        }
        let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        set(&dir, "server.listen", &web.to_string());
        set(&dir, "ftp.embedded", "false");
        // One package store for every process of the folder (in production:
        // the same FTP server or shared folder).
        set(&dir, "ftp.share_dir", s(&server.share_dir()));
        let log = server.root.path().join("server-b.log");
        let out = fs::File::create(&log).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
            .args(["server", "run", "--data", s(&dir)])
            .env_remove("TILLSYNC_DATA")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("spawn tillsync server run");
        let t = Instant::now();
        while TcpStream::connect_timeout(&web, Duration::from_millis(200)).is_err() {
            if let Some(st) = child.try_wait().unwrap() {
                panic!(
                    "server run exited ({st}): {}",
                    fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "server B does not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        OtherServer { dir, web, child }
    }
}

impl Drop for OtherServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tickets_on_server(server: &TestServer, till: &str) -> Vec<(u64, String)> {
    server
        .rows(&format!(
            r#"SELECT "number", "hash" FROM "TICKET" WHERE "till_id" = '{till}' ORDER BY "number""#
        ))
        .into_iter()
        .map(|r| {
            (
                r[0].as_deref().unwrap().parse().unwrap(),
                r[1].clone().unwrap(),
            )
        })
        .collect()
}

fn push_all(tdir: &Path, batch: usize) -> tillsync_till::up::push::PushReport {
    push(
        tdir,
        PushOptions {
            batch_items: batch,
            ..PushOptions::default()
        },
    )
    .expect("push")
}

/// Part 3 of the issue: two server processes on one PostgreSQL.
#[test]
fn two_server_processes_one_database_a_till_switching_between_them() {
    let Some(server) = pg_server(300) else { return };
    server.export();
    let t1 = server.install_till("T001");
    let t2 = server.install_till("T002");
    pull(&t1).unwrap();
    pull(&t2).unwrap();
    let b = OtherServer::start(&server);
    let url_a = format!("http://{}/", server.web_addr);
    let url_b = format!("http://{}/", b.web);

    // Tickets: the till switches servers mid-stream, and resends to B a
    // batch that A committed but whose answer never arrived.
    let proxy = FaultProxy::start(server.web_addr);
    proxy.only_when_request_contains(b"POST /api/v1/outbox");
    let mut sold = 0;
    for round in 0..4 {
        sell(&t1, 30);
        sold += 30;
        // To A through the proxy, which cuts A's answer after the commit.
        point_till_at(&t1, &proxy.url(), 5_000);
        proxy.cut_after_response_bytes_once(0);
        let r = push_all(&t1, 10);
        assert!(r.unavailable.is_some(), "round {round}: no cut: {r:?}");
        // The same items, resent to B: what A stored is a duplicate there.
        point_till_at(&t1, if round % 2 == 0 { &url_b } else { &url_a }, 5_000);
        let r = push_all(&t1, 10);
        assert!(r.unavailable.is_none(), "round {round}: {r:?}");
        assert_eq!(r.pending, 0, "round {round}: {r:?}");
        assert!(
            r.duplicate >= 10,
            "round {round}: A's batch is a duplicate: {r:?}"
        );
    }
    let on_server = tickets_on_server(&server, "T001");
    assert_eq!(
        on_server.iter().map(|t| t.0).collect::<Vec<_>>(),
        (1..=sold as u64).collect::<Vec<_>>(),
        "every ticket once"
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_ticket_quarantine"),
        0
    );

    // Customers: two tills create at once, one on each server.
    point_till_at(&t1, &url_a, 5_000);
    point_till_at(&t2, &url_b, 5_000);
    let before = server.count("SELECT COUNT(*) FROM CLI");
    let codes: Vec<String> = std::thread::scope(|sc| {
        let hs: Vec<_> = [&t1, &t2]
            .into_iter()
            .map(|t| {
                sc.spawn(move || {
                    (0..8)
                        .map(|i| {
                            tillsync_till::up::customers::create(t, &format!("Client {i}"), &[])
                                .expect("create")["code"]
                                .as_str()
                                .unwrap()
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let unique: BTreeSet<&String> = codes.iter().collect();
    assert_eq!(unique.len(), 16, "unique codes: {codes:?}");
    assert_eq!(server.count("SELECT COUNT(*) FROM CLI"), before + 16);

    // Exports: one at a time across processes. While another process holds
    // the database's export lock, B's export is refused; then it runs.
    let mut holder = server.store();
    assert!(holder.try_lock_export().unwrap());
    tillsync(
        server.root.path(),
        &["server", "export", "--data", s(&b.dir)],
    )
    .fails_with("another export is running");
    holder.unlock_export().unwrap();
    drop(holder);
    tillsync(
        server.root.path(),
        &["server", "export", "--data", s(&b.dir)],
    )
    .ok();
    // A's next export continues from what B recorded (one sequence of
    // versions), and the till loads it.
    server.export();
    pull(&t1).unwrap();
    server.assert_till_matches(&t1);
}

/// End every connection of the server's database but the caller's, as a
/// PostgreSQL restart does. Returns how many were ended.
fn end_connections(admin: &mut Box<dyn ServerStore>) -> u64 {
    admin
        .query_text(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}

/// Faults: PostgreSQL ends the server's connections again and again while
/// a till pushes: the push fails, the till retries, and every ticket is on
/// the server exactly once.
#[test]
fn postgresql_restarted_during_ingest_loses_and_duplicates_nothing() {
    let Some(server) = pg_server(300) else { return };
    server.export();
    let t1 = server.install_till("T001");
    pull(&t1).unwrap();
    let mut admin = server.store();
    let stop = Arc::new(AtomicBool::new(false));
    let ended = std::thread::scope(|sc| {
        let killer = {
            let stop = stop.clone();
            let admin = &mut admin;
            sc.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += end_connections(admin);
                    std::thread::sleep(Duration::from_millis(15));
                }
                n
            })
        };
        let mut sold = 0;
        let mut failures = 0;
        for _ in 0..6 {
            sell(&t1, 40);
            sold += 40;
            // The till's synchroniser: push until nothing is pending.
            let t = Instant::now();
            loop {
                let r = push_all(&t1, 5);
                if r.unavailable.is_some() {
                    failures += 1;
                }
                if r.pending == 0 {
                    break;
                }
                assert!(
                    t.elapsed() < Duration::from_secs(60),
                    "never drained: {r:?}"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        stop.store(true, Ordering::SeqCst);
        let ended = killer.join().unwrap();
        assert!(
            failures > 0,
            "no push met an ended connection ({ended} ended)"
        );
        (sold, ended)
    });
    let (sold, ended) = ended;
    assert!(ended > 0);
    let on_server = tickets_on_server(&server, "T001");
    assert_eq!(
        on_server.iter().map(|t| t.0).collect::<Vec<_>>(),
        (1..=sold as u64).collect::<Vec<_>>(),
        "every ticket exactly once"
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_ticket_quarantine"),
        0
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_ticket_link_pending"),
        0
    );
}

/// Faults: PostgreSQL ends the export's connection while it runs: the
/// export fails cleanly, a rerun publishes, and the till loads every change
/// once.
#[test]
fn postgresql_restarted_during_an_export_then_the_export_reruns_cleanly() {
    let Some(server) = pg_server(3_000) else {
        return;
    };
    server.export();
    let t1 = server.install_till("T001");
    pull(&t1).unwrap();
    let mut admin = server.store();
    let mut failed = 0;
    for round in 0..6 {
        server.erp(&format!(
            "UPDATE ART SET price_cents = price_cents + 1;
             INSERT INTO ART(code, label, price_cents, vat_rate_bp)
               VALUES ('PGF{round}', 'Après coupure {round}', 100, 2000);"
        ));
        // End the connections a little later each round: before, during
        // or after the export's reads.
        let delay = Duration::from_millis(2 + 8 * round);
        let result = std::thread::scope(|sc| {
            let admin = &mut admin;
            let killer = sc.spawn(move || {
                std::thread::sleep(delay);
                end_connections(admin)
            });
            let r = server.try_export(round % 3 == 2);
            killer.join().unwrap();
            r
        });
        if let Err(e) = &result {
            failed += 1;
            eprintln!("round {round}: export failed as PostgreSQL went away: {e}");
        }
        // The rerun (or the next export) is clean.
        server.export();
        pull(&t1).unwrap();
        server.assert_till_matches(&t1);
    }
    assert!(failed > 0, "no export met an ended connection");
    // No change left behind, nothing stamped twice.
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_changes WHERE export_seq IS NULL"),
        0
    );
}

#[test]
fn server_init_with_a_postgresql_url_creates_the_demo_there() {
    let Some(admin) = tillsync_testkit::pg::test_url() else {
        eprintln!("SKIPPED: set TILLSYNC_TEST_PG_URL to run the PostgreSQL tests");
        return;
    };
    let db = tillsync_testkit::pg::TestDb::create(&admin);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    tillsync(
        tmp.path(),
        &[
            "server",
            "init",
            "--data",
            s(&dir),
            "--demo",
            "--demo-rows",
            "40",
            "--db-url",
            &db.url,
        ],
    )
    .ok();
    let out = tillsync(tmp.path(), &["server", "check", "db", "--data", s(&dir)])
        .ok()
        .stdout();
    assert!(out.contains("database OK: PostgreSQL"), "{out}");
    assert!(out.contains("sync table CLI (up, incremental)"), "{out}");
    let mut store = tillsync_server::database::open_server_store(&db.url).unwrap();
    assert_eq!(
        store.query_text(r#"SELECT COUNT(*) FROM "ART""#).unwrap(),
        Some("40".into())
    );
    assert!(
        !fs::exists(dir.join("server.db")).unwrap(),
        "no SQLite file"
    );
}

/// Part 2 of the issue, end to end: many concurrent writer transactions,
/// some held open across exports (their sequence numbers are lower than
/// changes committed before them); exports and pulls run all along; in the
/// end the till holds exactly the server's rows.
#[test]
fn writers_holding_transactions_across_exports_lose_no_change_at_the_till() {
    let Some(server) = pg_server(500) else { return };
    server.export();
    let t1 = server.install_till("T001");
    pull(&t1).unwrap();
    let url = server.pg.as_ref().unwrap().url.clone();
    const WRITERS: usize = 6;
    const TXS: usize = 25;
    let exports = std::thread::scope(|sc| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let url = url.clone();
                sc.spawn(move || {
                    let mut c = tillsync_server_pg::db::connect(&url).unwrap();
                    for i in 0..TXS {
                        c.batch_execute(&format!(
                            r#"BEGIN;
                               INSERT INTO "ART"(code, label, price_cents, vat_rate_bp)
                                 VALUES ('C{w}-{i:03}', 'Concurrent {w} {i}', {i}, 2000);
                               UPDATE "ART" SET price_cents = price_cents + 1
                                 WHERE code = 'ART{:07}';"#,
                            w * TXS + i + 1
                        ))
                        .unwrap();
                        // Odd writers hold every other transaction open
                        // while others commit and exports run.
                        if w % 2 == 1 && i % 2 == 0 {
                            std::thread::sleep(Duration::from_millis(40));
                        }
                        c.batch_execute("COMMIT").unwrap();
                    }
                })
            })
            .collect();
        let mut exports = 0;
        while writers.iter().any(|h| !h.is_finished()) {
            server.export();
            pull(&t1).unwrap();
            exports += 1;
        }
        for h in writers {
            h.join().unwrap();
        }
        exports
    });
    assert!(exports >= 2, "exports ran during the writes ({exports})");
    server.export();
    pull(&t1).unwrap();
    server.assert_till_matches(&t1);
    assert_eq!(
        server.count(r#"SELECT COUNT(*) FROM "ART" WHERE code LIKE 'C%'"#),
        (WRITERS * TXS) as i64
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_changes WHERE export_seq IS NULL"),
        0
    );
}

/// A private PostgreSQL cluster for a test that restarts it, or `None`
/// (skipped with a notice) without root and PostgreSQL's binaries; with
/// `TILLSYNC_REQUIRE_PG=1` a missing requirement fails the test.
fn private_cluster() -> Option<PrivateCluster> {
    if let Err(missing) = PrivateCluster::requirements() {
        assert!(
            std::env::var("TILLSYNC_REQUIRE_PG").as_deref() != Ok("1"),
            "TILLSYNC_REQUIRE_PG=1 but no private PostgreSQL cluster can run: {missing}"
        );
        eprintln!("SKIPPED: {missing}");
        return None;
    }
    Some(PrivateCluster::start().unwrap_or_else(|e| panic!("private PostgreSQL cluster: {e}")))
}

/// `(number, hash)` of every ticket of `till` on the till in `tdir`.
fn tickets_on_till(tdir: &Path, till: &str) -> Vec<(u64, String)> {
    let c = rusqlite::Connection::open(tdir.join(tillsync_till::DB_FILE)).unwrap();
    let mut st = c
        .prepare(r#"SELECT "number", "hash" FROM "TICKET" WHERE "till_id" = ?1 ORDER BY "number""#)
        .unwrap();
    st.query_map([till], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every ticket sold on the till is on the server exactly once, the same
/// hashes, verified and chained without a gap; nothing in quarantine,
/// no link pending, the till's outbox empty and nothing set aside.
#[track_caller]
fn assert_every_ticket_once_and_chained(server: &TestServer, tdir: &Path, till: &str, sold: u64) {
    let on_till = tickets_on_till(tdir, till);
    assert_eq!(
        on_till.iter().map(|t| t.0).collect::<Vec<_>>(),
        (1..=sold).collect::<Vec<_>>(),
        "tickets sold on the till"
    );
    let on_server = tickets_on_server(server, till);
    assert_eq!(
        on_server.iter().map(|t| t.0).collect::<Vec<_>>(),
        (1..=sold).collect::<Vec<_>>(),
        "every ticket exactly once on the server"
    );
    assert!(
        on_server == on_till,
        "the server's hashes differ from the till's"
    );
    let db = server.store();
    let st = &db.ticket_state(Some(till)).unwrap()[0];
    assert_eq!(
        (
            st.verified,
            st.quarantined,
            st.rejected,
            st.links_pending,
            st.highest_contiguous
        ),
        (sold, 0, 0, 0, sold),
        "{st:?}"
    );
    assert!(st.missing.is_empty(), "{st:?}");
    let list = db.ticket_list(Some(till)).unwrap();
    assert!(
        list.iter()
            .all(|t| t.status == "verified" && t.link == Some("verified")),
        "a ticket is not verified and chained: {:?}",
        list.iter()
            .find(|t| t.status != "verified" || t.link != Some("verified"))
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_ticket_quarantine"),
        0
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_ticket_link_pending"),
        0
    );
    let c = rusqlite::Connection::open(tdir.join(tillsync_till::DB_FILE)).unwrap();
    let left: i64 = c
        .query_row(
            "SELECT (SELECT COUNT(*) FROM tillsync_outbox) + (SELECT COUNT(*) FROM tillsync_outbox_errors)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        left, 0,
        "the till's outbox is not empty or items were set aside"
    );
}

/// What the cluster goes through while the till pushes.
#[derive(Debug, Clone, Copy)]
enum Outage {
    /// `pg_ctl restart -m fast`.
    Restart,
    /// `pg_ctl stop -m fast`, this long refusing connections, `pg_ctl start`.
    Stopped(Duration),
}

/// Faults, with a real PostgreSQL: a private cluster restarted
/// (`pg_ctl restart -m fast`) and stopped for 2 s while a till sells and
/// pushes through `server run`'s web service: the pushes that meet the
/// outage fail, the till retries, and every ticket is on the server exactly
/// once, chained. Then exports started during restarts fail cleanly (or
/// complete), the rerun publishes, and the till loads every change.
#[test]
fn postgresql_really_restarted_and_stopped_during_ingest_and_export() {
    let Some(cluster) = private_cluster() else {
        return;
    };
    // Dropped before the cluster (declared after it), even on panic.
    let server = TestServer::start_on_postgres(2_000, &cluster.admin_url);
    server.export();
    let t1 = server.install_till("T001");
    pull(&t1).unwrap();

    // Part 1: ingest. One thread restarts and stops the cluster; the till
    // sells and pushes all along.
    let outages = [
        Outage::Restart,
        Outage::Stopped(Duration::from_secs(2)),
        Outage::Restart,
        Outage::Restart,
    ];
    let cluster = &cluster;
    let (sold, pushes, back, stopped) = std::thread::scope(|sc| {
        let disturber = sc.spawn(move || {
            let mut back = Vec::new();
            // From `pg_ctl stop` returning to `pg_ctl start` being called.
            let mut stopped_window = None;
            for outage in outages {
                std::thread::sleep(Duration::from_millis(400));
                let down = Instant::now();
                match outage {
                    Outage::Restart => cluster.restart_fast().unwrap(),
                    Outage::Stopped(d) => {
                        cluster.stop_fast().unwrap();
                        let stopped = Instant::now();
                        std::thread::sleep(d);
                        stopped_window = Some((stopped, Instant::now()));
                        cluster.start_again().unwrap();
                    }
                }
                back.push((outage, down, Instant::now()));
            }
            std::thread::sleep(Duration::from_millis(300));
            (back, stopped_window.unwrap())
        });
        let mut sold = 0;
        // (started, ended, delivered) of every push.
        let mut pushes = Vec::new();
        while !disturber.is_finished() {
            sell(&t1, 2);
            sold += 2;
            let started = Instant::now();
            let r = push_all(&t1, 5);
            pushes.push((started, Instant::now(), r.unavailable.is_none()));
            std::thread::sleep(Duration::from_millis(20));
        }
        let (back, stopped) = disturber.join().unwrap();
        // The till's synchroniser goes on until nothing is pending.
        let t = Instant::now();
        loop {
            let r = push_all(&t1, 5);
            if r.pending == 0 && r.unavailable.is_none() {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the outbox never drained after PostgreSQL came back: {r:?}\n{}",
                cluster.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        (sold, pushes, back, stopped)
    });
    let failed = pushes.iter().filter(|p| !p.2).count();
    eprintln!(
        "{} pushes during the outages, {failed} failed; {sold} tickets",
        pushes.len()
    );
    // Each outage (from the pg_ctl call to its return, when PostgreSQL
    // accepts connections again): the pushes that failed, the first one
    // delivered after (its end, from the return: pg_ctl may return a little
    // after PostgreSQL is ready), and the failed pushes that started after
    // the return (0: the store reconnects at the first call).
    for (i, (outage, down, at)) in back.iter().enumerate() {
        let next_down = back.get(i + 1).map(|b| b.1);
        let failed = pushes
            .iter()
            .filter(|p| !p.2 && p.1 > *down && p.0 < *at)
            .count();
        let late_failures = pushes
            .iter()
            .filter(|p| !p.2 && p.0 >= *at && next_down.is_none_or(|n| p.0 < n))
            .count();
        let first_ok = pushes.iter().find(|p| p.2 && p.1 > *at).map(|p| p.1 - *at);
        eprintln!(
            "{outage:?}: {:?} from pg_ctl to back, {failed} push(es) failed, first delivered \
             push ended {first_ok:?} after; {late_failures} failed after, before the next outage",
            *at - *down
        );
    }
    assert!(
        pushes
            .iter()
            .any(|p| !p.2 && p.0 > stopped.0 && p.1 < stopped.1),
        "no push failed while PostgreSQL was stopped"
    );
    assert!(
        pushes.iter().any(|p| p.2),
        "no push was delivered between the outages"
    );
    assert_every_ticket_once_and_chained(&server, &t1, "T001", sold);

    // Part 2: exports during a restart. Round 0 starts once the cluster is
    // seen going down; the others start first and the restart follows a
    // little later each round, meeting them at different points of their
    // run (or after it).
    let mut export_failures = 0;
    for round in 0..4u64 {
        server.erp(&format!(
            "UPDATE ART SET price_cents = price_cents + 1;
             INSERT INTO ART(code, label, price_cents, vat_rate_bp)
               VALUES ('PGR{round}', 'Après redémarrage {round}', 100, 2000);"
        ));
        let started = Instant::now();
        let result = std::thread::scope(|sc| {
            let delay = Duration::from_millis([0, 0, 60, 150][round as usize]);
            let restart = sc.spawn(move || {
                std::thread::sleep(delay);
                cluster.restart_fast().unwrap()
            });
            if round == 0 {
                let t = Instant::now();
                while tillsync_server_pg::db::connect(&cluster.admin_url).is_ok() {
                    assert!(
                        t.elapsed() < Duration::from_secs(10),
                        "the cluster never went down"
                    );
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            let r = server.try_export(round == 3);
            restart.join().unwrap();
            r
        });
        let took = started.elapsed();
        match &result {
            Ok(_) => eprintln!("round {round}: the export completed ({took:?})"),
            Err(e) => {
                export_failures += 1;
                eprintln!(
                    "round {round}: the export failed as PostgreSQL restarted ({took:?}): {e}"
                );
            }
        }
        // After the restart: the rerun publishes and the till loads it.
        let t = Instant::now();
        server.export();
        eprintln!("round {round}: the rerun took {:?}", t.elapsed());
        pull(&t1).unwrap();
        server.assert_till_matches(&t1);
    }
    assert!(export_failures > 0, "no export met the restart");
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tillsync_changes WHERE export_seq IS NULL"),
        0,
        "changes left behind"
    );
    assert_every_ticket_once_and_chained(&server, &t1, "T001", sold);
}
