//! Bad input and faults of the down path: damaged, truncated, foreign and
//! replayed packages, missing and purged incrementals, the FTP server down or
//! refusing the login, a till killed mid-import, writers racing an export, a
//! column added on the server, rows moving from one store to another.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tillsync_core::{Secret, TillConfig};
use tillsync_testkit::{TestServer, pull, pull_full, till_snapshot, till_versions};
use tillsync_till::TillError;
use tillsync_till::down::pull::{PullReport, TablePull};
use tillsync_till_db::TillDb;
use tillsync_till_db::db::Expect;
use tillsync_wire::index::INDEX_FILE;
use tillsync_wire::package::{Package, PackageKind, package_file_name};

use crate::util::{Run, tillsync};

// ---- helpers ----

/// `ART.full.000000000V.tspkg`.
fn art_full(v: u64) -> String {
    package_file_name("ART", None, PackageKind::Full, 0, v)
}

/// `ART.inc.000000000A-000000000B.tspkg`.
fn art_inc(from: u64, to: u64) -> String {
    package_file_name("ART", None, PackageKind::Incremental, from, to)
}

/// One table's line of a pull report.
#[track_caller]
fn table<'a>(r: &'a PullReport, name: &str) -> &'a TablePull {
    r.tables
        .iter()
        .find(|t| t.table == name)
        .unwrap_or_else(|| panic!("no {name} in the report: {r:#?}"))
}

/// The version the till holds of `table`.
fn version(tdir: &Path, table: &str) -> Option<u64> {
    till_versions(tdir)
        .into_iter()
        .find(|(t, _)| t == table)
        .map(|(_, v)| v)
}

/// An ERP change of a few items (round `n` gives different values).
fn change_items(server: &TestServer, n: u32) {
    server.erp(&format!(
        "UPDATE ART SET price_cents = price_cents + {n} WHERE code <= 'ART0000020';
         INSERT INTO ART(code, label, price_cents, vat_rate_bp)
           VALUES ('ZZ{n:05}', 'Nouveauté {n}', {}, 2000);",
        100 + n
    ));
}

/// The error of a pull that must fail.
#[track_caller]
fn pull_err(tdir: &Path) -> TillError {
    match pull(tdir) {
        Ok(r) => panic!("the pull should have failed, it did: {r:#?}"),
        Err(e) => e,
    }
}

/// Edit the till's `till.toml`.
fn edit_till(tdir: &Path, f: impl FnOnce(&mut TillConfig)) {
    let mut cfg = TillConfig::load(tdir).expect("till config");
    f(&mut cfg);
    cfg.save(tdir).expect("save till config");
}

/// Make the till's web service unreachable, so it reads the package index.
fn web_service_down(tdir: &Path) {
    edit_till(tdir, |c| {
        c.server.webservice_url = "http://127.0.0.1:1/".parse().expect("url")
    });
}

/// Flip one byte in the middle of a file.
fn flip_middle_byte(path: &Path) {
    let mut bytes = fs::read(path).expect("read package");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    fs::write(path, bytes).expect("write package");
}

/// Cut a file in half.
fn cut_in_half(path: &Path) {
    let bytes = fs::read(path).expect("read package");
    fs::write(path, &bytes[..bytes.len() / 2]).expect("write package");
}

/// The newest line of the till's sync journal.
fn last_journal(tdir: &Path) -> (String, String, String) {
    let db = TillDb::open(&tdir.join(tillsync_till::DB_FILE)).expect("till db");
    let j = db.recent_journal(1).expect("journal").remove(0);
    (j.kind, j.result, j.detail)
}

/// A path as a command-line argument.
fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `tillsync till sync --data TDIR`, the real binary.
fn cli_sync(root: &Path, tdir: &Path) -> Run {
    tillsync(root, &["till", "sync", "--data", s(tdir)])
}

/// Failed with exit code 1 and every one of `needles` on stderr.
#[track_caller]
fn fails_with_all(run: Run, needles: &[&str]) -> Run {
    let run = needles.iter().fold(run, |run, n| run.fails_with(n));
    assert_eq!(run.out.status.code(), Some(1), "{}", run.stderr());
    run
}

/// A server at ART v1 and till T001 loaded at v1, then a change exported as
/// ART v2 (incremental) that the till has not pulled yet.
fn till_one_behind(rows: usize) -> (TestServer, PathBuf) {
    let server = TestServer::start(rows);
    server.export();
    let t = server.install_till("T001");
    pull(&t).expect("first pull");
    change_items(&server, 1);
    let r = server.export();
    let art = r.tables.iter().find(|t| t.table == "ART").expect("ART");
    assert_eq!(art.published, [art_inc(1, 2)], "{r:#?}");
    (server, t)
}

// ---- 1. corrupted and truncated packages ----

#[test]
fn corrupted_full_package_is_refused_and_a_full_re_export_repairs_it() {
    let server = TestServer::start(500);
    server.export();
    flip_middle_byte(&server.share_dir().join(art_full(1)));
    let t = server.install_till("T001");

    let e = pull_err(&t).to_string();
    assert!(
        e.contains(&art_full(1)) && e.contains("checksum") && e.contains("corrupted"),
        "{e}"
    );
    assert!(till_versions(&t).is_empty(), "nothing may be applied");
    let (kind, result, detail) = last_journal(&t);
    assert_eq!((kind.as_str(), result.as_str()), ("pull", "error"));
    assert!(detail.contains(&art_full(1)), "{detail}");

    // A full export rewrites every full package under its name.
    server.try_export(true).expect("full export");
    let r = pull(&t).expect("pull after the re-export");
    assert_eq!(table(&r, "ART").action, "full", "{r:#?}");
    server.assert_till_matches(&t);
}

#[test]
fn corrupted_incremental_is_refused_till_unchanged_then_restored_bytes_load() {
    let (server, t) = till_one_behind(500);
    let before = till_snapshot(&t);
    let file = server.share_dir().join(art_inc(1, 2));
    let original = fs::read(&file).unwrap();
    flip_middle_byte(&file);

    let e = pull_err(&t);
    let msg = e.to_string();
    assert!(
        msg.contains(&art_inc(1, 2)) && msg.contains("checksum") && msg.contains("corrupted"),
        "{msg}"
    );
    assert!(
        !e.is_unavailable(),
        "a damaged package is not a network fault"
    );
    assert_eq!(till_snapshot(&t), before, "the till must be unchanged");

    fs::write(&file, original).unwrap();
    let r = pull(&t).expect("pull once the package is sound");
    assert_eq!(table(&r, "ART").action, "incremental", "{r:#?}");
    assert_eq!(version(&t, "ART"), Some(2));
    server.assert_till_matches(&t);
}

#[test]
fn truncated_incremental_is_refused_by_the_cli_till_unchanged_then_loads() {
    let (server, t) = till_one_behind(500);
    let before = till_snapshot(&t);
    let file = server.share_dir().join(art_inc(1, 2));
    let original = fs::read(&file).unwrap();
    cut_in_half(&file);

    fails_with_all(
        cli_sync(server.root.path(), &t),
        &[&art_inc(1, 2), "truncated"],
    );
    assert_eq!(till_snapshot(&t), before, "the till must be unchanged");

    fs::write(&file, original).unwrap();
    cli_sync(server.root.path(), &t).ok();
    assert_eq!(version(&t, "ART"), Some(2));
    server.assert_till_matches(&t);
}

/// A corrupted incremental stays listed after a full re-export, and the plan
/// prefers the incremental chain: the till must not stay stuck when a sound
/// full package of a newer version is published (regression test).
#[test]
fn corrupted_incremental_is_healed_by_a_full_re_export() {
    let (server, t) = till_one_behind(500);
    flip_middle_byte(&server.share_dir().join(art_inc(1, 2)));
    pull_err(&t);
    server.try_export(true).expect("full export");
    let r = pull(&t).expect("pull after the full re-export");
    assert_eq!(table(&r, "ART").action, "full", "{r:#?}");
    server.assert_till_matches(&t);
}

// ---- 2. packages and index signed by another server ----

#[test]
fn foreign_package_and_foreign_index_are_refused() {
    let (a, t) = till_one_behind(300);
    // Another server (another key) with the same data and versions.
    let b = TestServer::start(300);
    b.export();
    change_items(&b, 1);
    b.export();

    let (a_share, b_share) = (a.share_dir(), b.share_dir());
    let saved: Vec<(String, Vec<u8>)> = [art_full(1), art_inc(1, 2), INDEX_FILE.to_string()]
        .into_iter()
        .map(|f| {
            let bytes = fs::read(a_share.join(&f)).unwrap();
            fs::copy(b_share.join(&f), a_share.join(&f)).unwrap();
            (f, bytes)
        })
        .collect();
    let before = till_snapshot(&t);

    // Web service path: the web service lists A's checksums.
    let msg = pull_err(&t).to_string();
    assert!(
        msg.contains(&art_inc(1, 2)) && (msg.contains("checksum") || msg.contains("signature")),
        "{msg}"
    );
    assert_eq!(till_snapshot(&t), before);
    // A new till's first load meets the foreign full package.
    let t2 = a.install_till("T002");
    let msg = pull_err(&t2).to_string();
    assert!(
        msg.contains(&art_full(1)) && (msg.contains("checksum") || msg.contains("signature")),
        "{msg}"
    );
    assert!(till_versions(&t2).is_empty(), "nothing may be applied");

    // Index path: the foreign index itself is refused.
    web_service_down(&t);
    let msg = pull_err(&t).to_string();
    assert!(
        msg.contains(INDEX_FILE) && msg.contains("index signature is invalid"),
        "{msg}"
    );
    assert_eq!(till_snapshot(&t), before);
    // The failed signature check is in the till's event log.
    let events = tillsync_till::fiscal::jet::events(&t, 0).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "signature_failure" && e.body["file"] == INDEX_FILE),
        "{events:?}"
    );

    // Even a package that reached the till whole fails A's signature.
    let key = TillConfig::load(&t).unwrap().verifying_key().unwrap();
    let foreign = fs::read(b_share.join(art_inc(1, 2))).unwrap();
    let e = Package::verify(&foreign, &key).unwrap_err().to_string();
    assert!(e.contains("signature is invalid"), "{e}");

    // A's own files back: the index path loads them.
    for (f, bytes) in saved {
        fs::write(a_share.join(f), bytes).unwrap();
    }
    let r = pull(&t).expect("pull from A's own index");
    assert!(r.plan_source.starts_with("package index"), "{r:#?}");
    assert_eq!(table(&r, "ART").action, "incremental", "{r:#?}");
    a.assert_till_matches(&t);
    pull(&t2).expect("first load from A's own files");
    a.assert_till_matches(&t2);
}

// ---- 3. FTP server down ----

#[test]
fn server_down_during_cli_sync_fails_cleanly_then_recovers_after_restart() {
    let (mut server, t) = till_one_behind(500);
    let before = till_snapshot(&t);
    let port = server.ftp_addr.port().to_string();
    server.stop();

    fails_with_all(
        cli_sync(server.root.path(), &t),
        &["refused the connection", &port],
    );
    assert_eq!(till_snapshot(&t), before, "the till must be unchanged");

    server.restart();
    cli_sync(server.root.path(), &t).ok();
    assert_eq!(version(&t, "ART"), Some(2));
    server.assert_till_matches(&t);
}

#[test]
fn ftp_port_closed_while_web_service_answers_is_unavailable_then_recovers() {
    let (server, t) = till_one_behind(500);
    let before = till_snapshot(&t);
    let good = TillConfig::load(&t).unwrap().ftp.address;
    edit_till(&t, |c| {
        c.ftp.address = "ftp://127.0.0.1:1".parse().expect("address")
    });

    let e = pull_err(&t);
    let msg = e.to_string();
    assert!(
        msg.contains("127.0.0.1:1") && msg.contains("refused the connection"),
        "{msg}"
    );
    assert!(e.is_unavailable(), "{e:?}");
    assert_eq!(till_snapshot(&t), before);

    edit_till(&t, |c| c.ftp.address = good);
    pull(&t).expect("pull with the right address");
    server.assert_till_matches(&t);
}

// ---- 4. FTP login refused ----

#[test]
fn ftp_login_refused_names_the_user_never_the_password_then_recovers() {
    let (server, t) = till_one_behind(500);
    let before = till_snapshot(&t);
    let cfg = TillConfig::load(&t).unwrap();
    let (user, good) = (cfg.ftp.user.clone(), cfg.ftp.password.clone());
    const WRONG: &str = "WrongPassw0rd-xyz";
    edit_till(&t, |c| c.ftp.password = Secret::new(WRONG));

    let run = fails_with_all(
        cli_sync(server.root.path(), &t),
        &["refused the login", &format!("{user:?}"), "password"],
    );
    for text in [run.stdout(), run.stderr()] {
        assert!(!text.contains(WRONG), "the password leaked: {text}");
    }
    let e = pull_err(&t);
    assert!(!e.is_unavailable(), "a refused login is not worth a retry");
    assert_eq!(till_snapshot(&t), before);

    edit_till(&t, |c| c.ftp.password = good);
    cli_sync(server.root.path(), &t).ok();
    server.assert_till_matches(&t);
}

// ---- 5. kill -9 of the till mid-import ----

/// When the killer strikes.
#[derive(Debug, Clone, Copy)]
enum Strike {
    /// Once the till's WAL holds this many bytes (the load is under way).
    Wal(u64),
    /// This long after the start.
    After(Duration),
}

/// What one killed `till sync --full` left.
#[derive(Debug)]
struct Landing {
    strike: Strike,
    /// Milliseconds from spawn to kill (or to exit).
    at_ms: u128,
    /// WAL size when the kill was sent.
    wal_at_kill: u64,
    /// The process ended on its own before the kill.
    exited: Option<ExitStatus>,
    /// ART held the new version afterwards.
    art_new: bool,
}

impl Landing {
    /// Killed while the ART transaction was open: its pages were being
    /// written, yet the new version was not committed.
    fn mid_import(&self) -> bool {
        self.exited.is_none() && !self.art_new && self.wal_at_kill >= 1 << 20
    }
}

/// Size of the till database's write-ahead log (0 when absent).
fn wal_len(tdir: &Path) -> u64 {
    fs::metadata(tdir.join("till.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Spawn `tillsync till sync --data TDIR --full` and SIGKILL it at `strike`.
fn kill_sync(root: &Path, tdir: &Path, strike: Strike) -> Landing {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
        .args(["till", "sync", "--full", "--data", s(tdir)])
        .current_dir(root)
        .env_remove("TILLSYNC_DATA")
        .env_remove("TILLSYNC_TILL_DATA")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tillsync");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Landing {
                strike,
                at_ms: started.elapsed().as_millis(),
                wal_at_kill: wal_len(tdir),
                exited: Some(status),
                art_new: false,
            };
        }
        let wal = wal_len(tdir);
        let now = match strike {
            Strike::Wal(n) => wal >= n,
            Strike::After(d) => started.elapsed() >= d,
        };
        if now {
            child.kill().expect("SIGKILL");
            child.wait().expect("wait");
            return Landing {
                strike,
                at_ms: started.elapsed().as_millis(),
                wal_at_kill: wal,
                exited: None,
                art_new: false,
            };
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "till sync neither finished nor reached {strike:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn kill_9_during_a_large_import_leaves_old_or_new_data_never_a_mix() {
    const NEW_ITEMS: u64 = 200_000;
    let server = TestServer::start(2_000);
    if server.is_postgres() {
        // The till is killed, not the server: nothing depends on the
        // server's backend, and the SQL below is SQLite's.
        eprintln!("SKIPPED on PostgreSQL: a till-side fault (SQLite run covers it)");
        return;
    }
    server.export();
    let t = server.install_till("T001");
    pull(&t).expect("first pull");
    let old = till_snapshot(&t);
    let old_art = old.iter().find(|x| x.0 == "ART").cloned().expect("ART");
    assert_eq!(old_art.1, 1);

    // Version 2: every item changed and 200,000 new ones.
    server
        .db()
        .conn()
        .execute_batch(&format!(
            "UPDATE ART SET price_cents = price_cents + 1;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {NEW_ITEMS})
             INSERT INTO ART(code, label, price_cents, vat_rate_bp, barcode, family, unit)
             SELECT printf('BIG%07d', i), printf('Article de masse numéro %d', i),
                    100 + i % 5000, 2000, printf('3%012d', i), 'MASSE', 'U' FROM n;"
        ))
        .unwrap();
    let r = server.try_export(true).expect("full export");
    let art = r.tables.iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.version_after, 2, "{r:#?}");

    // Each attempt starts from the same till database at version 1.
    let db = t.join(tillsync_till::DB_FILE);
    let backup = t.join("till.db.v1");
    fs::copy(&db, &backup).unwrap();
    assert_eq!(wal_len(&t), 0, "no connection may be left open");
    let restore = || {
        for f in ["till.db-wal", "till.db-shm"] {
            let _ = fs::remove_file(t.join(f));
        }
        fs::copy(&backup, &db).unwrap();
    };

    let strikes = [
        Strike::Wal(1 << 20),
        Strike::Wal(4 << 20),
        Strike::Wal(12 << 20),
        Strike::After(Duration::from_millis(30)),
        Strike::After(Duration::from_millis(250)),
        Strike::After(Duration::from_millis(400)),
        Strike::After(Duration::from_millis(800)),
    ];
    let mut landings = Vec::new();
    for strike in strikes {
        restore();
        let mut l = kill_sync(server.root.path(), &t, strike);
        let till = TillDb::open(&db).expect("till db opens after the kill");
        let check: String = till
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "{l:?}");
        let staging: i64 = till
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'tillsync_load_%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(staging, 0, "a staging table survived: {l:?}");
        drop(till);
        let now = till_snapshot(&t);
        let now_art = now.iter().find(|x| x.0 == "ART").cloned().expect("ART");
        if now_art == old_art {
            // Old ART: nothing at all was applied (ART is applied first).
            assert_eq!(now, old, "old ART but other tables changed: {l:?}");
        } else {
            let m = server.compare(&t);
            let m = m.iter().find(|m| m.table == "ART").unwrap();
            assert!(
                m.matches,
                "ART is neither version 1 nor the server's version 2: {m:?} {l:?}"
            );
            l.art_new = true;
        }
        if let Some(status) = l.exited {
            assert!(status.success(), "till sync failed on its own: {l:?}");
            assert!(l.art_new);
        }
        landings.push(l);
    }
    for l in &landings {
        eprintln!(
            "kill -9 at {:?}: {} ms after spawn, WAL {} bytes, {}",
            l.strike,
            l.at_ms,
            l.wal_at_kill,
            match (l.exited, l.art_new, l.mid_import()) {
                (Some(_), _, _) => "the sync had finished",
                (None, true, _) => "after the ART commit: new data",
                (None, false, true) => "MID-IMPORT: old data kept",
                (None, false, false) => "before the ART load: old data",
            }
        );
    }
    let mid = landings.iter().filter(|l| l.mid_import()).count();
    assert!(
        mid >= 1,
        "no kill landed mid-import, the test proved nothing: {landings:#?}"
    );

    // A normal sync then brings the till in line.
    restore();
    let r = tillsync(
        server.root.path(),
        &["--json", "till", "sync", "--data", s(&t)],
    )
    .ok()
    .json();
    eprintln!("the uninterrupted load: {}", r["applied"]);
    server.assert_till_matches(&t);
    let _ = fs::remove_file(&backup);
}

// ---- 6. missing and purged incrementals ----

/// Export v2 (incremental) and v3 (incremental + full) with the till at v1.
fn till_two_behind_with_full_v3() -> (TestServer, PathBuf) {
    let (server, t) = till_one_behind(500);
    change_items(&server, 2);
    let r = server.try_export(true).expect("full export");
    let art = r.tables.iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.outcome, "incremental+full", "{r:#?}");
    assert_eq!(art.version_after, 3);
    (server, t)
}

/// A package file deleted by hand from the share: the till gets the newest
/// full package instead, and says why.
#[test]
fn missing_first_incremental_gives_a_full_load_with_a_reason() {
    let (server, t) = till_two_behind_with_full_v3();
    fs::remove_file(server.share_dir().join(art_inc(1, 2))).unwrap();
    let r = pull(&t).expect("pull must converge on the full package");
    let art = table(&r, "ART");
    assert_eq!(art.action, "full", "{r:#?}");
    assert!(
        art.reason
            .as_deref()
            .is_some_and(|r| r.contains(&art_inc(1, 2))),
        "{r:#?}"
    );
    assert_eq!(art.version_after, Some(3));
    server.assert_till_matches(&t);
}

#[test]
fn missing_second_incremental_gives_a_full_load_with_a_reason() {
    let (server, t) = till_two_behind_with_full_v3();
    fs::remove_file(server.share_dir().join(art_inc(2, 3))).unwrap();
    let r = pull(&t).expect("pull must converge on the full package");
    let art = table(&r, "ART");
    assert_eq!(art.action, "full", "{r:#?}");
    assert!(art.reason.is_some(), "{r:#?}");
    server.assert_till_matches(&t);
}

/// A missing incremental with no newer full package to fall back on: no
/// pull can converge, so the till says which file is missing and keeps its
/// data; a full export then a full pull bring it in line.
#[test]
fn missing_incremental_without_a_newer_full_is_a_clear_error_then_a_full_pull_recovers() {
    let (server, t) = till_one_behind(500);
    change_items(&server, 2);
    let r = server.export();
    let art = r.tables.iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.published, [art_inc(2, 3)], "{r:#?}");
    fs::remove_file(server.share_dir().join(art_inc(1, 2))).unwrap();
    let before = till_snapshot(&t);

    let e = pull_err(&t).to_string();
    assert!(e.contains(&art_inc(1, 2)) && e.contains("not found"), "{e}");
    assert_eq!(till_snapshot(&t), before);
    let e = pull_full(&t).unwrap_err().to_string();
    assert!(e.contains(&art_inc(1, 2)), "{e}");
    assert_eq!(till_snapshot(&t), before);

    server.try_export(true).expect("full export");
    let r = pull_full(&t).expect("full pull");
    let art = table(&r, "ART");
    assert_eq!(
        (art.action.as_str(), art.version_after),
        ("full", Some(3)),
        "{r:#?}"
    );
    server.assert_till_matches(&t);
}

#[test]
fn incrementals_purged_by_retention_give_a_full_load_with_a_reason() {
    let server = TestServer::start(500);
    let mut cfg = server.config();
    cfg.set("export.retention", "2").unwrap();
    cfg.save(server.dir()).unwrap();
    server.export();
    let t = server.install_till("T001");
    pull(&t).unwrap();

    let mut purged = Vec::new();
    for n in 1..=4 {
        change_items(&server, n);
        purged.extend(server.export().purged);
    }
    assert!(
        purged.contains(&art_inc(1, 2)) && purged.contains(&art_inc(2, 3)),
        "{purged:?}"
    );
    for f in &purged {
        assert!(
            !server.share_dir().join(f).exists(),
            "{f} was purged but is still in the share folder"
        );
    }

    let r = pull(&t).unwrap();
    let art = table(&r, "ART");
    assert_eq!(art.action, "full", "{r:#?}");
    let reason = art.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("version 1") && reason.contains("no longer kept"),
        "{r:#?}"
    );
    assert_eq!(art.version_after, Some(5), "{r:#?}");
    server.assert_till_matches(&t);
}

// ---- 7. replayed packages and index ----

#[test]
fn replayed_old_packages_and_an_old_index_never_take_the_till_back() {
    let server = TestServer::start(500);
    server.export();
    let share = server.share_dir();
    let full1 = fs::read(share.join(art_full(1))).unwrap();
    let index1 = fs::read(share.join(INDEX_FILE)).unwrap();
    let t = server.install_till("T001");
    pull(&t).unwrap();
    change_items(&server, 1);
    server.export();
    let inc12 = fs::read(share.join(art_inc(1, 2))).unwrap();
    pull(&t).unwrap();
    assert_eq!(version(&t, "ART"), Some(2));

    let key = TillConfig::load(&t).unwrap().verifying_key().unwrap();
    let db_path = t.join(tillsync_till::DB_FILE);
    let expect = |force_full| Expect {
        folder: "DEMO",
        store: "S01",
        force_full,
    };

    // The old full package, validly signed, applied to a till at v2.
    let before = till_snapshot(&t);
    let pkg = Package::verify(&full1, &key).expect("validly signed");
    for force in [false, true] {
        let mut db = TillDb::open(&db_path).unwrap();
        let e = db
            .apply(&art_full(1), &pkg, &expect(force))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&art_full(1)) && e.contains("never goes back to an older version"),
            "{e}"
        );
    }
    assert_eq!(till_snapshot(&t), before);

    // The old incremental v1→v2 applied to a till at v3, and v2→v3 again.
    change_items(&server, 2);
    server.export();
    let inc23 = fs::read(share.join(art_inc(2, 3))).unwrap();
    pull(&t).unwrap();
    assert_eq!(version(&t, "ART"), Some(3));
    let before = till_snapshot(&t);
    for (file, bytes) in [(art_inc(1, 2), &inc12), (art_inc(2, 3), &inc23)] {
        let pkg = Package::verify(bytes, &key).expect("validly signed");
        let mut db = TillDb::open(&db_path).unwrap();
        let e = db.apply(&file, &pkg, &expect(false)).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&file) && msg.contains("never goes back to an older version"),
            "{msg}"
        );
        assert!(
            !e.needs_full(),
            "a replay must not trigger a full load: {msg}"
        );
    }
    assert_eq!(till_snapshot(&t), before);

    // A hostile FTP server serves the old (validly signed) index, the web
    // service being unreachable: the till keeps its data.
    fs::write(share.join(INDEX_FILE), &index1).unwrap();
    web_service_down(&t);
    let r = pull(&t).expect("an old index is not an error");
    assert!(r.plan_source.starts_with("package index"), "{r:#?}");
    assert!(r.applied.is_empty(), "{r:#?}");
    let art = table(&r, "ART");
    assert_eq!(art.action, "up-to-date", "{r:#?}");
    assert!(
        art.reason
            .as_deref()
            .is_some_and(|r| r.contains("never goes back")),
        "{r:#?}"
    );
    assert_eq!(till_snapshot(&t), before);

    // Asked for a full load, it refuses the old full package.
    let e = pull_full(&t).unwrap_err().to_string();
    assert!(
        e.contains(&art_full(1)) && e.contains("never goes back to an older version"),
        "{e}"
    );
    assert_eq!(till_snapshot(&t), before);

    // Back on the web service: the old full package put in place of the
    // next incremental is refused (size or checksum), the till unchanged.
    let web = format!("http://{}/", server.web_addr);
    edit_till(&t, |c| c.server.webservice_url = web.parse().expect("url"));
    change_items(&server, 3);
    server.export();
    fs::write(share.join(art_inc(3, 4)), &full1).unwrap();
    let e = pull_err(&t).to_string();
    assert!(e.contains(&art_inc(3, 4)) && e.contains("replaced"), "{e}");
    assert_eq!(till_snapshot(&t), before);
}

// ---- 8. writers racing the exports ----

#[test]
fn writers_racing_exports_lose_no_change() {
    const ITEMS: i64 = 1_000;
    let server = TestServer::start(ITEMS as usize);
    server.export();
    let t = server.install_till("T001");
    pull(&t).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, done) = (stop.clone(), done.clone());
        // The ERP: another connection of its own, on either backend.
        let mut c = server.store();
        let pg = server.is_postgres();
        std::thread::spawn(move || {
            let begin = if pg { "BEGIN" } else { "BEGIN IMMEDIATE" };
            let mut i: i64 = 0;
            while !stop.load(Ordering::SeqCst) {
                let mut sql = format!(
                    "{begin};
                     INSERT INTO ART(code, label, price_cents, vat_rate_bp)
                       VALUES ('W{i:07}', 'Ajout {i}', {i}, 2000);
                     UPDATE ART SET price_cents = price_cents + 1, label = 'Modifié {i}'
                       WHERE code = 'ART{:07}';",
                    i % ITEMS + 1
                );
                if i % 5 == 4 {
                    sql.push_str(&format!("DELETE FROM ART WHERE code = 'W{:07}';", i - 2));
                }
                sql.push_str("COMMIT;");
                let sql = if pg {
                    tillsync_testkit::pg::quote_demo_tables(&sql)
                } else {
                    sql
                };
                c.execute_batch(&sql).unwrap();
                i += 1;
                done.store(i as u64, Ordering::SeqCst);
                // An ERP pauses between its transactions; a writer that
                // never lets go of the lock starves the export's writes
                // (SQLite's busy handler polls, it does not queue).
                std::thread::sleep(Duration::from_millis(1));
            }
            i
        })
    };

    for round in 1..=5u64 {
        while done.load(Ordering::SeqCst) < round * 40 {
            std::thread::sleep(Duration::from_millis(1));
        }
        server.export();
        pull(&t).unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let n = writer.join().expect("writer");
    assert!(n >= 200, "{n} writes");
    eprintln!("{n} writer transactions raced 5 exports");

    server.export();
    pull(&t).unwrap();
    server.assert_till_matches(&t);
    let deletes = (0..n).filter(|i| i % 5 == 4).count() as i64;
    let want = ITEMS + n - deletes;
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT COUNT(*) FROM ART", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(server.count("SELECT COUNT(*) FROM ART"), want);
    let till = TillDb::open(&t.join(tillsync_till::DB_FILE)).unwrap();
    assert_eq!(count(till.conn()), want);
    let last: i64 = till
        .conn()
        .query_row(
            "SELECT price_cents FROM ART WHERE code = printf('W%07d', ?1)",
            [n - 1],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(last, n - 1, "the last write reached the till");
}

// ---- 9. a column added on the server ----

#[test]
fn column_added_on_the_server_gives_a_full_load_with_the_new_column() {
    let server = TestServer::start(500);
    server.export();
    let t = server.install_till("T001");
    pull(&t).unwrap();

    server.erp(
        "ALTER TABLE ART ADD COLUMN origin TEXT;
         UPDATE ART SET origin = 'FR' WHERE code <= 'ART0000100';",
    );
    let r = server.export();
    let art = r.tables.iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.outcome, "full", "{r:#?}");

    let r = pull(&t).unwrap();
    let art = table(&r, "ART");
    assert_eq!(art.action, "full", "{r:#?}");
    assert!(
        art.reason
            .as_deref()
            .is_some_and(|r| r.contains("layout changed")),
        "{r:#?}"
    );
    let till = TillDb::open(&t.join(tillsync_till::DB_FILE)).unwrap();
    let fr: i64 = till
        .conn()
        .query_row("SELECT COUNT(*) FROM ART WHERE origin = 'FR'", [], |r| {
            r.get(0)
        })
        .expect("the till's ART has the new column");
    assert_eq!(fr, 100);
    drop(till);
    server.assert_till_matches(&t);
}

// ---- 10. rows moving between stores ----

#[test]
fn customer_moving_store_leaves_one_till_and_reaches_the_other() {
    let server = TestServer::start(300);
    server.export();
    let t1 = server.install_till("T001"); // store S01
    let t3 = server.install_till("T003"); // store S02
    pull(&t1).unwrap();
    pull(&t3).unwrap();

    let one = |sql: &str| -> String { server.query(sql).unwrap() };
    let moved = one("SELECT code FROM CLI WHERE store = 'S01' ORDER BY code LIMIT 1");
    let shared = one("SELECT code FROM CLI WHERE store IS NULL AND code <> 'CLI000000' LIMIT 1");
    let has = |tdir: &Path, code: &str| -> Option<Option<String>> {
        let db = TillDb::open(&tdir.join(tillsync_till::DB_FILE)).unwrap();
        db.conn()
            .query_row("SELECT store FROM CLI WHERE code = ?1", [code], |r| {
                r.get(0)
            })
            .ok()
    };
    assert_eq!(has(&t1, &moved), Some(Some("S01".into())));
    assert_eq!(has(&t3, &moved), None);
    for tdir in [&t1, &t3] {
        assert_eq!(has(tdir, &shared), Some(None));
        assert_eq!(has(tdir, "CLI000000"), Some(None), "template customer");
    }

    server.erp(&format!(
        "UPDATE CLI SET store = 'S02', city = 'Grenoble' WHERE code = '{moved}'"
    ));
    server.erp(&format!(
        "UPDATE CLI SET loyalty_points = loyalty_points + 7 WHERE code = '{shared}'"
    ));
    server.export();
    for tdir in [&t1, &t3] {
        let r = pull(tdir).unwrap();
        assert_eq!(table(&r, "CLI").action, "incremental", "{r:#?}");
    }
    assert_eq!(has(&t1, &moved), None, "T001 (S01) loses the customer");
    assert_eq!(has(&t3, &moved), Some(Some("S02".into())), "T003 gains it");
    let points = |tdir: &Path| -> i64 {
        let db = TillDb::open(&tdir.join(tillsync_till::DB_FILE)).unwrap();
        db.conn()
            .query_row(
                "SELECT loyalty_points FROM CLI WHERE code = ?1",
                [&shared],
                |r| r.get(0),
            )
            .unwrap()
    };
    let want: i64 = server.count(&format!(
        "SELECT loyalty_points FROM CLI WHERE code = '{shared}'"
    ));
    assert_eq!(points(&t1), want);
    assert_eq!(points(&t3), want);
    server.assert_till_matches(&t1);
    server.assert_till_matches(&t3);
}
