//! CLI: configuration, sync tables, checks, deployment packages.
//!
//! Every test drives the real `tillsync` binary in its own temp folder; where
//! a running server is needed it is a `TestServer` on 127.0.0.1:0 or, for
//! `server run`, a child process on free ports.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tillsync_testkit::TestServer;

use crate::util::{Run, tillsync};

// ---- helpers ----

/// A path as a command-line argument.
fn arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Permission bits of a file.
fn mode(p: &Path) -> u32 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Panics unless the file has mode 0600.
#[track_caller]
fn assert_private(p: &Path) {
    let m = mode(p);
    assert!(m == 0o600, "{} has mode {m:o}, expected 600", p.display());
}

/// `tillsync server init --data DIR [--demo --demo-rows N]`, expected to succeed.
fn server_init(cwd: &Path, dir: &Path, demo_rows: Option<usize>) -> Run {
    let rows = demo_rows.map(|n| n.to_string());
    let mut args = vec!["server", "init", "--data", arg(dir)];
    if let Some(rows) = &rows {
        args.extend(["--demo", "--demo-rows", rows]);
    }
    tillsync(cwd, &args).ok()
}

/// `tillsync server config set KEY VALUE --data DIR`, expected to succeed.
fn config_set(dir: &Path, key: &str, value: &str) -> Run {
    tillsync(
        dir,
        &["server", "config", "set", key, value, "--data", arg(dir)],
    )
    .ok()
}

/// `tillsync server config get KEY --data DIR`, trimmed stdout.
fn config_get(dir: &Path, key: &str) -> String {
    tillsync(dir, &["server", "config", "get", key, "--data", arg(dir)])
        .ok()
        .stdout()
        .trim()
        .to_string()
}

/// `server tables list --json` as `(table, direction, sync_type, filter)`, sorted.
fn sync_tables(dir: &Path) -> Vec<(String, String, String, Option<String>)> {
    let run = tillsync(
        dir,
        &["server", "tables", "list", "--data", arg(dir), "--json"],
    )
    .ok();
    let json = run.json();
    let mut out: Vec<_> = json
        .as_array()
        .unwrap_or_else(|| panic!("tables list is not an array: {json}"))
        .iter()
        .map(|t| {
            (
                t["table"].as_str().expect("table").to_string(),
                t["direction"].as_str().expect("direction").to_string(),
                t["sync_type"].as_str().expect("sync_type").to_string(),
                t["filter"].as_str().map(str::to_string),
            )
        })
        .collect();
    out.sort();
    out
}

fn demo_sync_tables() -> Vec<(String, String, String, Option<String>)> {
    let t = |table: &str, ty: &str, filter: Option<&str>| {
        (
            table.to_string(),
            "down".to_string(),
            ty.to_string(),
            filter.map(str::to_string),
        )
    };
    vec![
        t("ART", "incremental", None),
        t("CASHIER", "full", Some("store")),
        t("CLI", "incremental", Some("store")),
        // Customers also travel up (till edits).
        (
            "CLI".to_string(),
            "up".to_string(),
            "incremental".to_string(),
            None,
        ),
        t("STORE", "full", Some("code")),
        t("STORE_TILL", "full", None),
        t("T012", "full", None),
    ]
}

/// A connection to the server database, as another writer (the ERP) would open it.
fn erp(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("server.db")).expect("open server.db");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Write the deployment package of `till` and install it in `tdir`, through the CLI.
fn install_till(cwd: &Path, server_dir: &Path, till: &str, tdir: &Path) -> PathBuf {
    let pkg = cwd.join(format!("{till}.deploy.json"));
    tillsync(
        cwd,
        &[
            "server",
            "package",
            "--data",
            arg(server_dir),
            "--till",
            till,
            "--out",
            arg(&pkg),
        ],
    )
    .ok();
    tillsync(
        cwd,
        &["till", "init", "--data", arg(tdir), "--package", arg(&pkg)],
    )
    .ok();
    pkg
}

/// `till sync --json`, expected to succeed.
fn till_sync(tdir: &Path) -> Value {
    tillsync(tdir, &["till", "sync", "--data", arg(tdir), "--json"])
        .ok()
        .json()
}

/// `till status --json` table versions, by table.
fn till_versions(tdir: &Path) -> Vec<(String, u64)> {
    let status = tillsync(tdir, &["till", "status", "--data", arg(tdir), "--json"])
        .ok()
        .json();
    let mut v: Vec<(String, u64)> = status["tables"]
        .as_array()
        .unwrap_or_else(|| panic!("status has no tables: {status}"))
        .iter()
        .map(|t| {
            (
                t["table"].as_str().expect("table").to_string(),
                t["version"].as_u64().expect("version"),
            )
        })
        .collect();
    v.sort();
    v
}

/// Compare a till with the server data folder (no `TestServer` needed).
fn assert_till_matches_dir(server_dir: &Path, tdir: &Path, store: &str) {
    let data = tillsync_server::DataDir::open(server_dir).expect("server data folder");
    let till = rusqlite::Connection::open(tdir.join("till.db")).expect("till.db");
    let m = tillsync_server::verify::compare_with_till(&data, &till, store).expect("compare");
    assert!(!m.is_empty());
    assert!(
        m.iter().all(|t| t.matches),
        "till differs from the server: {m:#?}"
    );
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A raw HTTP/1.1 GET; `(status line, whole response)`, `None` when nobody answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<(String, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.lines().next()?.to_string();
    Some((status, buf))
}

// ---- 1. server init ----

#[test]
fn server_init_creates_the_folder_and_registers_the_demo_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    let run = tillsync(
        tmp.path(),
        &[
            "server",
            "init",
            "--data",
            arg(&dir),
            "--demo",
            "--demo-rows",
            "500",
            "--json",
        ],
    )
    .ok();
    let json = run.json();
    assert_eq!(json["demo"]["items"], 500, "{json}");
    assert_eq!(json["demo"]["tills"], 3, "{json}");
    assert_eq!(
        json["public_key"].as_str().map(str::len),
        Some(64),
        "{json}"
    );

    for f in ["tillsync.toml", "server.key", "server.db"] {
        assert!(dir.join(f).is_file(), "{f} missing after init");
    }
    assert_private(&dir.join("server.key"));
    assert_private(&dir.join("tillsync.toml"));
    assert_eq!(
        count(&erp(&dir), "SELECT COUNT(*) FROM ART"),
        500,
        "demo ART rows"
    );
    assert_eq!(sync_tables(&dir), demo_sync_tables());

    // Text output of `tables list` says the same.
    let text = tillsync(
        tmp.path(),
        &["server", "tables", "list", "--data", arg(&dir)],
    )
    .ok()
    .stdout();
    assert!(
        text.contains("CLI") && text.contains("filter store"),
        "{text}"
    );

    // A second init on the same folder fails clearly and changes nothing.
    let key = fs::read(dir.join("server.key")).unwrap();
    let toml = fs::read(dir.join("tillsync.toml")).unwrap();
    tillsync(tmp.path(), &["server", "init", "--data", arg(&dir)])
        .fails_with("already holds a tillsync server");
    tillsync(
        tmp.path(),
        &["server", "init", "--data", arg(&dir), "--demo"],
    )
    .fails_with(arg(&dir));
    assert_eq!(fs::read(dir.join("server.key")).unwrap(), key);
    assert_eq!(fs::read(dir.join("tillsync.toml")).unwrap(), toml);
    assert_eq!(sync_tables(&dir), demo_sync_tables());

    // A folder that is not a server is named as such.
    let other = tmp.path().join("nothing-here");
    tillsync(
        tmp.path(),
        &["server", "tables", "list", "--data", arg(&other)],
    )
    .fails_with("is not a tillsync server data folder");
}

// ---- 2. server config ----

#[test]
fn config_masks_the_password_and_refuses_bad_values_without_touching_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, None);
    let cfg_path = dir.join("tillsync.toml");
    let password = tillsync_core::ServerConfig::load(&dir)
        .unwrap()
        .ftp
        .password
        .expose()
        .to_string();
    assert!(password.len() >= 16, "generated password too short");
    assert!(
        fs::read_to_string(&cfg_path).unwrap().contains(&password),
        "the password is in tillsync.toml"
    );

    let no_leak = |run: &Run, secret: &str| {
        assert!(
            !run.stdout().contains(secret) && !run.stderr().contains(secret),
            "{} shows the password:\n{}\n{}",
            run.cmd,
            run.stdout(),
            run.stderr()
        );
    };

    // get / list never show the password.
    let get = tillsync(
        &dir,
        &[
            "server",
            "config",
            "get",
            "ftp.password",
            "--data",
            arg(&dir),
        ],
    )
    .ok();
    assert_eq!(get.stdout().trim(), "********");
    no_leak(&get, &password);
    let get = tillsync(
        &dir,
        &[
            "server",
            "config",
            "get",
            "ftp.password",
            "--data",
            arg(&dir),
            "--json",
        ],
    )
    .ok();
    assert_eq!(get.json()["value"], "********");
    no_leak(&get, &password);
    let list = tillsync(&dir, &["server", "config", "list", "--data", arg(&dir)]).ok();
    no_leak(&list, &password);
    assert!(list.stdout().contains("ftp.password"), "{}", list.stdout());
    assert!(list.stdout().contains("********"), "{}", list.stdout());
    let list = tillsync(
        &dir,
        &["server", "config", "list", "--data", arg(&dir), "--json"],
    )
    .ok();
    no_leak(&list, &password);
    let map = list.json();
    assert_eq!(map["ftp.password"], "********", "{map}");
    assert_eq!(map["ftp.mode"], "copy", "{map}");
    assert_eq!(
        map.as_object().unwrap().len(),
        tillsync_core::config::KEYS.len(),
        "{map}"
    );

    // Refused values: the message names the key, the file keeps its bytes.
    let before = fs::read(&cfg_path).unwrap();
    for (key, value, needles) in [
        (
            "ftp.pasword",
            "x",
            &["ftp.pasword", "unknown configuration key"][..],
        ),
        ("colour", "red", &["colour", "valid keys are"][..]),
        (
            "till.webservice_url",
            "not a url",
            &["till.webservice_url", "not a valid URL"][..],
        ),
        (
            "till.webservice_url",
            "ftp://pos.example.com",
            &["till.webservice_url", "http://"][..],
        ),
        (
            "till.sync_interval_ms",
            "soon",
            &["till.sync_interval_ms", "whole number"][..],
        ),
        (
            "export.retention",
            "0",
            &["export.retention", "at least 1"][..],
        ),
        (
            "ftp.mode",
            "fetch",
            &["ftp.mode", "\"fetch\"", "copy", "put"][..],
        ),
        (
            "db.url",
            "postgres://erp:dbsecret@db.example.com",
            &["db.url", "names no database"][..],
        ),
        (
            "ftp.address",
            "http://files.example.com/x",
            &["ftp.address", "ftp://"][..],
        ),
        (
            "ftp.address",
            "files.example.com:99999",
            &["ftp.address", "65535"][..],
        ),
        (
            "server.listen",
            "localhost",
            &["server.listen", "IP address and port"][..],
        ),
        (
            "ftp.embedded",
            "maybe",
            &["ftp.embedded", "true or false"][..],
        ),
    ] {
        let run = tillsync(
            &dir,
            &["server", "config", "set", key, value, "--data", arg(&dir)],
        )
        .fails_with(needles[0]);
        for n in needles {
            assert!(
                run.stderr().contains(n),
                "{key}={value}: stderr lacks {n:?}: {}",
                run.stderr()
            );
        }
        assert_eq!(
            fs::read(&cfg_path).unwrap(),
            before,
            "{key}={value} changed tillsync.toml"
        );
        if key == "db.url" {
            no_leak(&run, "dbsecret");
        }
    }
    // With --json the refusal is also a JSON object on stdout.
    let run = tillsync(
        &dir,
        &[
            "server",
            "config",
            "set",
            "ftp.mode",
            "fetch",
            "--data",
            arg(&dir),
            "--json",
        ],
    )
    .fails_with("ftp.mode");
    let err = run.json();
    assert!(
        err["error"].as_str().unwrap_or("").contains("ftp.mode"),
        "{err}"
    );
    assert_eq!(fs::read(&cfg_path).unwrap(), before);
    // A refused password is not echoed either.
    let run = tillsync(
        &dir,
        &[
            "server",
            "config",
            "set",
            "ftp.password",
            "",
            "--data",
            arg(&dir),
        ],
    )
    .fails_with("ftp.password");
    assert!(run.stderr().contains("empty"), "{}", run.stderr());
    assert_eq!(fs::read(&cfg_path).unwrap(), before);

    // The seed's notation for the FTP address.
    let set = config_set(&dir, "ftp.address", "host:2121{}recette");
    assert!(
        set.stdout().contains("ftp://host:2121/recette"),
        "{}",
        set.stdout()
    );
    assert_eq!(config_get(&dir, "ftp.address"), "ftp://host:2121/recette");

    // Good values are saved and read back.
    for (key, value, shown) in [
        ("till.sync_interval_ms", "2500", "2500"),
        ("export.retention", "3", "3"),
        ("export.interval_ms", "15000", "15000"),
        ("ftp.mode", "put", "put"),
        ("ftp.embedded", "no", "false"),
        ("ftp.user", "caisse", "caisse"),
        ("server.listen", "0.0.0.0:9090", "0.0.0.0:9090"),
        (
            "till.webservice_url",
            "https://pos.example.com/tillsync",
            "https://pos.example.com/tillsync/",
        ),
        ("db.url", "sqlite://server.db", "sqlite://server.db"),
    ] {
        config_set(&dir, key, value);
        assert_eq!(config_get(&dir, key), shown, "{key}");
    }
    let new_password = "N3w-Secret-Passw0rd";
    let set = config_set(&dir, "ftp.password", new_password);
    no_leak(&set, new_password);
    assert!(set.stdout().contains("********"), "{}", set.stdout());
    assert_eq!(config_get(&dir, "ftp.password"), "********");
    let cfg = tillsync_core::ServerConfig::load(&dir).unwrap();
    assert_eq!(cfg.ftp.password.expose(), new_password);
    assert_eq!(cfg.till.sync_interval_ms, 2500);
    assert_eq!(cfg.export.retention, 3);
    assert_eq!(cfg.ftp.address.path, "recette");
    assert_private(&cfg_path);
    let list = tillsync(&dir, &["server", "config", "list", "--data", arg(&dir)]).ok();
    no_leak(&list, new_password);
    no_leak(&list, &password);
}

// ---- 3. server tables ----

#[test]
fn tables_add_refuses_bad_tables_and_remove_drops_change_capture() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, Some(50));
    let conn = erp(&dir);
    conn.execute_batch(
        "CREATE TABLE NOKEY(a TEXT, b INTEGER);
         CREATE TABLE PROMO(code TEXT PRIMARY KEY, pct INTEGER);",
    )
    .unwrap();
    let triggers = |table: &str| {
        count(
            &conn,
            &format!(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = '{table}'"
            ),
        )
    };
    let changes = |table: &str| {
        count(
            &conn,
            &format!("SELECT COUNT(*) FROM tillsync_changes WHERE tbl = '{table}'"),
        )
    };
    let add = |table: &str, ty: &str, direction: &str, filter: Option<&str>| {
        let mut args = vec![
            "server",
            "tables",
            "add",
            "--data",
            arg(&dir),
            "--table",
            table,
            "--type",
            ty,
            "--direction",
            direction,
        ];
        if let Some(f) = filter {
            args.extend(["--filter", f]);
        }
        tillsync(&dir, &args)
    };

    for (table, ty, direction, filter, needles) in [
        (
            "MISSING",
            "full",
            "down",
            None,
            &["MISSING", "does not exist"][..],
        ),
        (
            "NOKEY",
            "incremental",
            "down",
            None,
            &["NOKEY", "no primary key"][..],
        ),
        ("ART;DROP", "full", "down", None, &["ART;DROP", "';'"][..]),
        (
            "1ART",
            "full",
            "down",
            None,
            &["1ART", "must start with a letter"][..],
        ),
        (
            "tillsync_changes",
            "full",
            "down",
            None,
            &["tillsync_changes", "reserved"][..],
        ),
        (
            "PROMO",
            "incremental",
            "down",
            Some("shop"),
            &["PROMO", "no column shop"][..],
        ),
        (
            "PROMO",
            "full",
            "down",
            Some("shop;x"),
            &["shop;x", "';'"][..],
        ),
        (
            "PROMO",
            "sometimes",
            "down",
            None,
            &["sometimes", "full, incremental"][..],
        ),
        (
            "PROMO",
            "full",
            "sideways",
            None,
            &["sideways", "down, up"][..],
        ),
        (
            "ART",
            "incremental",
            "down",
            None,
            &["ART", "already a sync table"][..],
        ),
    ] {
        let run = add(table, ty, direction, filter).fails_with(needles[0]);
        for n in needles {
            assert!(
                run.stderr().contains(n),
                "{table} {ty} {direction} {filter:?}: stderr lacks {n:?}: {}",
                run.stderr()
            );
        }
        assert_eq!(
            sync_tables(&dir),
            demo_sync_tables(),
            "{table}: something was registered"
        );
    }
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM ART"), 50, "ART survived");
    assert_eq!(triggers("PROMO"), 0);
    assert_eq!(triggers("NOKEY"), 0);

    // A valid new table: change capture sees another writer's changes.
    let run = add("PROMO", "incremental", "down", None).ok();
    assert!(
        run.stdout().contains("change capture installed"),
        "{}",
        run.stdout()
    );
    let mut expected = demo_sync_tables();
    expected.push(("PROMO".into(), "down".into(), "incremental".into(), None));
    expected.sort();
    assert_eq!(sync_tables(&dir), expected);
    assert_eq!(triggers("PROMO"), 3);
    conn.execute_batch(
        "INSERT INTO PROMO VALUES ('P1', 10), ('P2', 20);
         UPDATE PROMO SET pct = 15 WHERE code = 'P1';
         UPDATE PROMO SET code = 'P3' WHERE code = 'P2';
         DELETE FROM PROMO WHERE code = 'P1';",
    )
    .unwrap();
    let ops: Vec<(String, String)> = conn
        .prepare("SELECT op, k1 FROM tillsync_changes WHERE tbl = 'PROMO' ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ops: Vec<(&str, &str)> = ops.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        ops,
        [
            ("I", "P1"),
            ("I", "P2"),
            ("U", "P1"),
            ("D", "P2"),
            ("U", "P3"),
            ("D", "P1")
        ]
    );

    // Remove: triggers gone, later writes not captured.
    tillsync(
        &dir,
        &[
            "server",
            "tables",
            "remove",
            "--data",
            arg(&dir),
            "--table",
            "PROMO",
            "--direction",
            "down",
        ],
    )
    .ok();
    assert_eq!(sync_tables(&dir), demo_sync_tables());
    assert_eq!(triggers("PROMO"), 0, "PROMO triggers left after remove");
    let before = changes("PROMO");
    conn.execute_batch(
        "INSERT INTO PROMO VALUES ('P9', 90);
         UPDATE PROMO SET pct = 1;
         DELETE FROM PROMO WHERE code = 'P3';",
    )
    .unwrap();
    assert_eq!(changes("PROMO"), before, "writes captured after remove");
    assert_eq!(before, 0, "the change log of a removed table is dropped");
    // Other tables keep their capture.
    assert_eq!(triggers("ART"), 3);

    // Removing it again, or a table never registered, fails clearly.
    for table in ["PROMO", "NOKEY"] {
        tillsync(
            &dir,
            &[
                "server",
                "tables",
                "remove",
                "--data",
                arg(&dir),
                "--table",
                table,
                "--direction",
                "down",
            ],
        )
        .fails_with(&format!("table {table} is not a sync table"));
    }
    // A full table gets no triggers.
    add("PROMO", "full", "down", None).ok();
    assert_eq!(triggers("PROMO"), 0);
}

// ---- 4. server check ----

#[test]
fn check_db_reports_engine_and_sync_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, Some(20));
    let run = tillsync(&dir, &["server", "check", "db", "--data", arg(&dir)]).ok();
    let out = run.stdout();
    assert!(out.contains("SQLite 3."), "kind and version: {out}");
    for t in [
        "ART (down, incremental)",
        "CLI (down, incremental, filter store)",
        "T012 (down, full)",
        "STORE_TILL (down, full)",
        "STORE (down, full, filter code)",
        "CASHIER (down, full, filter store)",
    ] {
        assert!(out.contains(t), "lacks {t}: {out}");
    }
    let json = tillsync(
        &dir,
        &["server", "check", "db", "--data", arg(&dir), "--json"],
    )
    .ok()
    .json();
    assert_eq!(json["kind"], "sqlite", "{json}");
    assert!(
        json["version"].as_str().unwrap_or("").starts_with("3."),
        "{json}"
    );
    assert_eq!(
        json["sync_tables"].as_array().map(Vec::len),
        Some(7),
        "{json}"
    );

    // A data folder whose database cannot be opened fails.
    let empty = tmp.path().join("empty");
    server_init(tmp.path(), &empty, None);
    let run = tillsync(&empty, &["server", "check", "db", "--data", arg(&empty)]).ok();
    assert!(
        run.stdout().contains("no sync tables yet"),
        "{}",
        run.stdout()
    );
    config_set(&empty, "db.url", "sqlite://no/such/dir/x.db");
    tillsync(&empty, &["server", "check", "db", "--data", arg(&empty)]).fails_with("x.db");
}

#[test]
fn check_ftp_closed_port_is_connection_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, None);
    let port = free_port();
    config_set(&dir, "ftp.address", &format!("ftp://127.0.0.1:{port}/pkgs"));
    let run = tillsync(&dir, &["server", "check", "ftp", "--data", arg(&dir)])
        .fails_with("refused the connection");
    assert!(
        run.stderr().contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr()
    );
    let run = tillsync(
        &dir,
        &["server", "check", "ftp", "--data", arg(&dir), "--json"],
    );
    assert!(!run.out.status.success());
    let json = run.json();
    assert_eq!(json["ok"], false, "{json}");
    assert!(
        json["error"]
            .as_str()
            .unwrap_or("")
            .contains("refused the connection"),
        "{json}"
    );
}

#[test]
fn check_ftp_against_the_embedded_server() {
    let server = TestServer::start(20);
    let dir = server.dir();
    let check = || tillsync(dir, &["server", "check", "ftp", "--data", arg(dir)]);

    // (b) no test.txt in the share folder.
    assert!(!server.share_dir().join("test.txt").exists());
    check().fails_with("test.txt");

    // (c) with test.txt.
    fs::write(server.share_dir().join("test.txt"), "hello tills\n").unwrap();
    let run = check().ok();
    assert!(run.stdout().contains("FTP OK"), "{}", run.stdout());
    assert!(
        run.stdout().contains("test.txt (12 bytes)"),
        "{}",
        run.stdout()
    );
    let json = tillsync(
        dir,
        &["server", "check", "ftp", "--data", arg(dir), "--json"],
    )
    .ok()
    .json();
    assert_eq!(json["ok"], true, "{json}");

    // (d) wrong password: the running server keeps the real one.
    config_set(dir, "ftp.password", "definitely-wrong");
    let run = check().fails_with("refused the login");
    assert!(
        !run.stderr().contains("definitely-wrong"),
        "{}",
        run.stderr()
    );
}

// ---- 5. deployment packages and till init ----

#[test]
fn package_and_till_init() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, Some(20));
    let pkg = tmp.path().join("T001.deploy.json");
    let package = |till: &str| {
        tillsync(
            tmp.path(),
            &[
                "server",
                "package",
                "--data",
                arg(&dir),
                "--till",
                till,
                "--out",
                arg(&pkg),
            ],
        )
    };

    let run = package("T999").fails_with("T999");
    assert!(run.stderr().contains("STORE_TILL"), "{}", run.stderr());
    assert!(!pkg.exists(), "a package was written for an unknown till");

    package("T001").ok();
    assert_private(&pkg);
    let json: Value = serde_json::from_slice(&fs::read(&pkg).unwrap()).unwrap();
    assert_eq!(json["till_id"], "T001", "{json}");
    assert_eq!(json["store"], "S01", "{json}");
    assert_eq!(json["folder"], "DEMO", "{json}");
    let cfg = tillsync_core::ServerConfig::load(&dir).unwrap();
    assert_eq!(json["ftp_password"], cfg.ftp.password.expose());
    assert_eq!(json["ftp_address"], cfg.ftp.address.to_string());

    let tdir = tmp.path().join("till1");
    let init = |tdir: &Path, pkg: &Path| {
        tillsync(
            tmp.path(),
            &["till", "init", "--data", arg(tdir), "--package", arg(pkg)],
        )
    };
    let run = init(&tdir, &pkg).ok();
    assert!(
        run.stdout().contains("till T001 (store S01"),
        "{}",
        run.stdout()
    );
    assert!(tdir.join("till.toml").is_file());
    assert!(tdir.join("till.db").is_file());
    assert_private(&tdir.join("till.toml"));
    let toml = fs::read(tdir.join("till.toml")).unwrap();

    // A second init into the same folder fails and keeps the first till.
    package("T002").ok();
    init(&tdir, &pkg).fails_with("already holds a till");
    assert_eq!(fs::read(tdir.join("till.toml")).unwrap(), toml);
    let status = tillsync(
        tmp.path(),
        &["till", "status", "--data", arg(&tdir), "--json"],
    )
    .ok()
    .json();
    assert_eq!(status["till"], "T001", "{status}");
    assert_eq!(status["store"], "S01", "{status}");

    // Garbage, a JSON file that is not a package, a missing file.
    let garbage = tmp.path().join("garbage.json");
    fs::write(&garbage, b"\x00\x01 this is not JSON").unwrap();
    let other = tmp.path().join("till2");
    init(&other, &garbage).fails_with("not a deployment package");
    fs::write(&garbage, br#"{"format": "something-else", "version": 1}"#).unwrap();
    init(&other, &garbage).fails_with("not a tillsync deployment package");
    init(&other, &tmp.path().join("missing.json")).fails_with("cannot read it");
    assert!(!other.join("till.toml").exists());
}

// ---- 6. export and till sync, JSON ----

#[test]
fn export_and_till_sync_json() {
    let server = TestServer::start(300);
    let dir = server.dir();
    let export = || {
        tillsync(dir, &["server", "export", "--data", arg(dir), "--json"])
            .ok()
            .json()
    };
    let outcomes = |report: &Value| -> Vec<(String, String, u64)> {
        let mut v: Vec<_> = report["tables"]
            .as_array()
            .unwrap_or_else(|| panic!("no tables: {report}"))
            .iter()
            .map(|t| {
                (
                    t["table"].as_str().unwrap().to_string(),
                    t["outcome"].as_str().unwrap().to_string(),
                    t["version_after"].as_u64().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };

    let first = export();
    let o = outcomes(&first);
    assert_eq!(
        o.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["ART", "CASHIER", "CLI", "STORE", "STORE_TILL", "T012"],
        "{first}"
    );
    assert!(o.iter().all(|t| t.1 == "full" && t.2 >= 1), "{first}");
    assert!(first["bytes"].as_u64().unwrap() > 0, "{first}");
    for t in first["tables"].as_array().unwrap() {
        assert!(!t["published"].as_array().unwrap().is_empty(), "{t}");
        for f in t["published"].as_array().unwrap() {
            let f = f.as_str().unwrap();
            assert!(server.share_dir().join(f).is_file(), "{f} not published");
        }
    }
    assert!(server.share_dir().join("tillsync-index.v1").is_file());

    let tdir = server.root.path().join("till-T001");
    install_till(server.root.path(), dir, "T001", &tdir);
    let sync = till_sync(&tdir);
    assert_eq!(sync["plan_source"], "web service", "{sync}");
    let applied = sync["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 6, "{sync}");
    assert!(applied.iter().all(|a| a["kind"] == "full"), "{sync}");
    assert!(
        sync["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["action"] == "full"),
        "{sync}"
    );
    assert!(sync["downloaded_bytes"].as_u64().unwrap() > 0, "{sync}");
    server.assert_till_matches(&tdir);
    let versions: Vec<(String, u64)> = o.iter().map(|t| (t.0.clone(), t.2)).collect();
    assert_eq!(till_versions(&tdir), versions);

    // ERP changes, incremental export and load.
    server.erp(
        "UPDATE ART SET price_cents = price_cents + 1 WHERE code <= 'ART0000010';
         DELETE FROM ART WHERE code = 'ART0000020';",
    );
    let second = export();
    let o2 = outcomes(&second);
    let art = o2.iter().find(|t| t.0 == "ART").unwrap();
    assert_eq!(art.1, "incremental", "{second}");
    assert!(art.2 > versions[0].1, "{second}");
    assert!(
        o2.iter()
            .filter(|t| t.0 != "ART")
            .all(|t| t.1 == "unchanged"),
        "{second}"
    );
    let sync = till_sync(&tdir);
    let applied = sync["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 1, "{sync}");
    assert_eq!(applied[0]["table"], "ART", "{sync}");
    assert_eq!(applied[0]["kind"], "incremental", "{sync}");
    assert_eq!(applied[0]["upserts"], 10, "{sync}");
    assert_eq!(applied[0]["deletes"], 1, "{sync}");
    server.assert_till_matches(&tdir);
    let status = tillsync(&tdir, &["till", "status", "--data", arg(&tdir), "--json"])
        .ok()
        .json();
    assert_eq!(status["till"], "T001", "{status}");
    let art_v = status["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "ART")
        .unwrap()["version"]
        .as_u64();
    assert_eq!(art_v, Some(art.2), "{status}");
    assert!(
        !status["journal"].as_array().unwrap().is_empty(),
        "{status}"
    );

    // Nothing changed: nothing exported, nothing applied.
    let third = export();
    assert!(
        outcomes(&third).iter().all(|t| t.1 == "unchanged"),
        "{third}"
    );
    let sync = till_sync(&tdir);
    assert!(sync["applied"].as_array().unwrap().is_empty(), "{sync}");
}

// ---- 7. server run as a child process ----

/// Kills the child (which this test started) if the test ends early.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn server_run_serves_exports_on_schedule_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, Some(200));
    let (web_port, ftp_port) = {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = TcpListener::bind("127.0.0.1:0").unwrap();
        (
            a.local_addr().unwrap().port(),
            b.local_addr().unwrap().port(),
        )
    };
    let web: SocketAddr = format!("127.0.0.1:{web_port}").parse().unwrap();
    config_set(&dir, "server.listen", &web.to_string());
    config_set(&dir, "ftp.listen", &format!("127.0.0.1:{ftp_port}"));
    config_set(&dir, "ftp.address", &format!("ftp://127.0.0.1:{ftp_port}"));
    config_set(&dir, "till.webservice_url", &format!("http://{web}"));
    config_set(&dir, "till.ws_timeout_ms", "5000");
    config_set(&dir, "export.interval_ms", "500");

    let log = tmp.path().join("server-run.log");
    let child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
        .args(["server", "run", "--data", arg(&dir)])
        .current_dir(tmp.path())
        .env_remove("TILLSYNC_DATA")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(fs::File::create(tmp.path().join("server-run.out")).unwrap())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .expect("start tillsync server run");
    let pid = child.id();
    let mut guard = ChildGuard(Some(child));
    let show_log = || fs::read_to_string(&log).unwrap_or_default();
    let alive = |guard: &mut ChildGuard| {
        let c = guard.0.as_mut().unwrap();
        if let Some(status) = c.try_wait().unwrap() {
            panic!("server run exited early ({status}):\n{}", show_log());
        }
    };

    let start = Instant::now();
    loop {
        alive(&mut guard);
        if let Some((status, body)) = http_get(web, "/api/v1/ping") {
            assert!(status.contains(" 200 "), "{body}");
            assert!(body.contains("\"status\":\"ok\""), "{body}");
            assert!(body.contains("\"folder\":\"DEMO\""), "{body}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no ping answer:\n{}",
            show_log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = http_get(web, "/api/v1/nope").expect("answer");
    assert!(status.contains(" 404 "), "{status}");

    let index = dir.join("share").join("tillsync-index.v1");
    let start = Instant::now();
    while !index.is_file() {
        alive(&mut guard);
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the scheduled export did not publish the index:\n{}",
            show_log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A till installed from a deployment package loads from this process.
    let tdir = tmp.path().join("till-T002");
    install_till(tmp.path(), &dir, "T002", &tdir);
    let sync = till_sync(&tdir);
    assert_eq!(sync["plan_source"], "web service", "{sync}");
    assert_eq!(sync["applied"].as_array().map(Vec::len), Some(6), "{sync}");
    assert_till_matches_dir(&dir, &tdir, "S01");

    // An ERP change reaches the till through the next scheduled export.
    erp(&dir)
        .execute(
            "UPDATE ART SET label = 'Changed' WHERE code = 'ART0000001'",
            [],
        )
        .unwrap();
    let art_version = |tdir: &Path| {
        till_versions(tdir)
            .into_iter()
            .find(|t| t.0 == "ART")
            .unwrap()
            .1
    };
    let v1 = art_version(&tdir);
    wait_until("the incremental package", Duration::from_secs(20), || {
        alive(&mut guard);
        till_sync(&tdir);
        art_version(&tdir) > v1
    });
    assert_till_matches_dir(&dir, &tdir, "S01");

    // SIGTERM: a clean, quick stop.
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let stopped_at = Instant::now();
    let status = loop {
        if let Some(s) = guard.0.as_mut().unwrap().try_wait().unwrap() {
            break s;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(5),
            "server run still running 5 s after SIGTERM:\n{}",
            show_log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    guard.0 = None;
    assert!(status.success(), "exit status {status}:\n{}", show_log());
    let text = show_log();
    assert!(text.contains("stopping"), "{text}");
    assert!(text.contains("export done"), "{text}");
    let password = tillsync_core::ServerConfig::load(&dir)
        .unwrap()
        .ftp
        .password;
    assert!(
        !text.contains(password.expose()),
        "the log shows the FTP password"
    );
    // The bug: every FTP command of a till wrote an INFO line of about 5 KB
    // of libunftp's internal structures.
    assert!(
        text.lines()
            .all(|l| l.len() < 1_000 && !l.contains("libunftp")),
        "FTP commands flood the log:\n{}",
        text.lines()
            .filter(|l| l.len() >= 1_000 || l.contains("libunftp"))
            .map(|l| l.chars().take(300).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(http_get(web, "/api/v1/ping").is_none(), "still answering");
}

#[test]
fn server_run_names_a_busy_port() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, None);
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let run_server = || tillsync(tmp.path(), &["server", "run", "--data", arg(&dir)]);

    config_set(&dir, "server.listen", &busy_addr);
    let run = run_server().fails_with("server.listen");
    assert!(run.stderr().contains(&busy_addr), "{}", run.stderr());

    config_set(&dir, "server.listen", "127.0.0.1:0");
    config_set(&dir, "ftp.listen", &busy_addr);
    let run = run_server().fails_with("embedded FTP server could not start");
    assert!(run.stderr().contains(&busy_addr), "{}", run.stderr());
}

/// The library errors carry their cause in their own message; the CLI must
/// not print that cause again (it did: "X: Y: Y").
#[test]
fn errors_name_their_cause_once() {
    let server = TestServer::start(20);
    server.export();
    let dir = server.dir();
    let once = |run: &Run, needle: &str| {
        let n = run.stderr().matches(needle).count();
        assert_eq!(n, 1, "{needle:?} said {n} times: {}", run.stderr());
    };

    let out = server.root.path().join("no-such-dir").join("T001.json");
    let run = tillsync(
        dir,
        &[
            "server",
            "package",
            "--data",
            arg(dir),
            "--till",
            "T001",
            "--out",
            arg(&out),
        ],
    )
    .fails_with("no-such-dir");
    once(&run, "No such file or directory");
    let json = tillsync(
        dir,
        &[
            "server",
            "package",
            "--data",
            arg(dir),
            "--till",
            "T001",
            "--out",
            arg(&out),
            "--json",
        ],
    )
    .fails_with("no-such-dir")
    .json();
    let msg = json["error"].as_str().unwrap_or("").to_string();
    assert_eq!(msg.matches("No such file or directory").count(), 1, "{msg}");

    // A till whose FTP server refuses the connection.
    let port = free_port();
    config_set(dir, "ftp.address", &format!("ftp://127.0.0.1:{port}"));
    let tdir = server.root.path().join("till-T001");
    install_till(server.root.path(), dir, "T001", &tdir);
    let run = tillsync(&tdir, &["till", "sync", "--data", arg(&tdir)])
        .fails_with("refused the connection");
    once(&run, "refused the connection");
    once(&run, &format!("127.0.0.1:{port}"));
}

// ---- known bugs (outside this file's reach; see the report) ----

/// `server init` that fails half-way (here: the demo tables clash with an
/// existing `ART` table) leaves `server.key` behind; every later `server
/// init` of that folder then fails with "key file … already exists", while
/// every other command says the folder is not initialised.
#[test]
fn a_failed_init_can_be_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    fs::create_dir(&dir).unwrap();
    erp(&dir)
        .execute_batch("CREATE TABLE ART(code TEXT PRIMARY KEY)")
        .unwrap();
    tillsync(
        tmp.path(),
        &[
            "server",
            "init",
            "--data",
            arg(&dir),
            "--demo",
            "--demo-rows",
            "10",
        ],
    )
    .fails_with("ART");
    assert!(!dir.join("tillsync.toml").exists());
    tillsync(tmp.path(), &["server", "init", "--data", arg(&dir)]).ok();
}

/// `deploy::write` opens `OUT.tmp` with `create(true).mode(0o600)`: the mode
/// only applies to a new file, so a leftover `OUT.tmp` with mode 0644 makes
/// the deployment package (which holds the FTP password) world-readable,
/// while the CLI prints "mode 0600".
#[test]
fn package_is_private_even_over_a_leftover_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("srv");
    server_init(tmp.path(), &dir, Some(10));
    let pkg = tmp.path().join("T001.deploy.json");
    let leftover = tmp.path().join("T001.deploy.tmp");
    fs::write(&leftover, b"old").unwrap();
    fs::set_permissions(&leftover, fs::Permissions::from_mode(0o644)).unwrap();
    tillsync(
        tmp.path(),
        &[
            "server",
            "package",
            "--data",
            arg(&dir),
            "--till",
            "T001",
            "--out",
            arg(&pkg),
        ],
    )
    .ok();
    assert_private(&pkg);
}

// ---- 8. vsftpd interop (put mode) ----

#[test]
fn vsftpd_put_mode_export_and_till_sync() {
    let (Ok(url), Ok(user), Ok(password)) = (
        std::env::var("TILLSYNC_VSFTPD_URL"),
        std::env::var("TILLSYNC_VSFTPD_USER"),
        std::env::var("TILLSYNC_VSFTPD_PASSWORD"),
    ) else {
        if std::env::var("TILLSYNC_REQUIRE_VSFTPD").as_deref() == Ok("1") {
            panic!(
                "TILLSYNC_REQUIRE_VSFTPD=1 but vsftpd is not configured: \
                 run `eval \"$(.ci/start-vsftpd.sh)\"` first"
            );
        }
        eprintln!("SKIPPED: vsftpd not configured (cli::vsftpd_put_mode_export_and_till_sync)");
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let folder = format!("ci-cli-{}-{nanos}", std::process::id());
    let address = format!("{}/{folder}", url.trim_end_matches('/'));
    let addr: tillsync_core::FtpAddress = address.parse().expect("vsftpd address");
    let timeout = Duration::from_secs(10);
    let _cleanup = VsftpdCleanup {
        addr: addr.clone(),
        user: user.clone(),
        password: password.clone(),
    };

    let server = TestServer::start(300);
    let dir = server.dir();
    config_set(dir, "ftp.mode", "put");
    config_set(dir, "ftp.address", &address);
    config_set(dir, "ftp.user", &user);
    config_set(dir, "ftp.password", &password);

    // Put mode: upload to vsftpd (temp name + rename, index last).
    let report = tillsync(dir, &["server", "export", "--data", arg(dir), "--json"])
        .ok()
        .json();
    assert!(
        report["store"].as_str().unwrap_or("").contains(&folder),
        "{report}"
    );
    let mut published: Vec<String> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["published"].as_array().unwrap().clone())
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        published.len(),
        4 + 1 + 2 + 2,
        "ART, CLI×2 stores, T012, STORE_TILL, STORE×2 stores, CASHIER×2 stores: {report}"
    );
    published.push("tillsync-index.v1".into());
    published.sort();
    let mut client =
        tillsync_transport::FtpClient::connect(&addr, &user, &password, timeout).unwrap();
    assert!(client.target_exists(), "the export created {folder}");
    assert_eq!(client.list().unwrap(), published);
    let raw = raw_list_all(&addr, &user, &password);
    assert!(
        raw.iter().all(|n| !n.starts_with(".tmp-")),
        "temporary names left on vsftpd: {raw:?}"
    );
    assert!(raw.contains(&"tillsync-index.v1".to_string()), "{raw:?}");
    // Nothing went to the embedded server's share folder.
    assert!(!server.share_dir().join("tillsync-index.v1").exists());

    // A till installed now reads from vsftpd.
    let tdir = server.root.path().join("till-T003");
    let pkg = install_till(server.root.path(), dir, "T003", &tdir);
    let deploy: Value = serde_json::from_slice(&fs::read(&pkg).unwrap()).unwrap();
    assert_eq!(deploy["ftp_address"], addr.to_string(), "{deploy}");
    assert_eq!(deploy["ftp_user"], user.as_str(), "{deploy}");
    let sync = till_sync(&tdir);
    // ART, CLI, T012, STORE_TILL, STORE and CASHIER.
    assert_eq!(sync["applied"].as_array().map(Vec::len), Some(6), "{sync}");
    server.assert_till_matches(&tdir);

    // An incremental round through vsftpd (renames over the index).
    server.erp("UPDATE ART SET price_cents = 1 WHERE code = 'ART0000003'");
    let report = tillsync(dir, &["server", "export", "--data", arg(dir), "--json"])
        .ok()
        .json();
    let art = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "ART")
        .unwrap()
        .clone();
    assert_eq!(art["outcome"], "incremental", "{report}");
    let sync = till_sync(&tdir);
    assert_eq!(sync["applied"].as_array().map(Vec::len), Some(1), "{sync}");
    server.assert_till_matches(&tdir);
    let raw = raw_list_all(&addr, &user, &password);
    assert!(raw.iter().all(|n| !n.starts_with(".tmp-")), "{raw:?}");

    // The "Test connection" button against vsftpd.
    let check = || tillsync(dir, &["server", "check", "ftp", "--data", arg(dir)]);
    check().fails_with("test.txt");
    client.upload("test.txt", b"tillsync cli check\n").unwrap();
    let run = check().ok();
    assert!(
        run.stdout().contains("test.txt (19 bytes)"),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("vsFTPd"), "{}", run.stdout());
    let _ = client.quit();
}

/// Removes the per-run folder from vsftpd at the end of the test.
struct VsftpdCleanup {
    addr: tillsync_core::FtpAddress,
    user: String,
    password: String,
}

impl Drop for VsftpdCleanup {
    fn drop(&mut self) {
        if let Ok(mut raw) = RawFtp::login(&self.addr, &self.user, &self.password) {
            if raw.cmd(&format!("CWD /{}", self.addr.path)).0 == 250 {
                for name in raw.nlst_all().unwrap_or_default() {
                    if name != "." && name != ".." {
                        raw.cmd(&format!("DELE {name}"));
                    }
                }
                raw.cmd("CWD /");
                raw.cmd(&format!("RMD /{}", self.addr.path));
            }
            raw.cmd("QUIT");
        }
    }
}

/// Every name in the target folder, dotfiles included (`NLST -a`).
fn raw_list_all(addr: &tillsync_core::FtpAddress, user: &str, password: &str) -> Vec<String> {
    let mut raw = RawFtp::login(addr, user, password).expect("raw FTP login");
    let (code, text) = raw.cmd(&format!("CWD /{}", addr.path));
    assert_eq!(code, 250, "CWD: {text}");
    let names = raw.nlst_all().expect("NLST -a");
    raw.cmd("QUIT");
    names
}

/// A tiny FTP client for what `FtpClient` deliberately hides (temporary
/// names) and for cleaning up.
struct RawFtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RawFtp {
    fn login(
        addr: &tillsync_core::FtpAddress,
        user: &str,
        password: &str,
    ) -> std::io::Result<RawFtp> {
        let s = TcpStream::connect(addr.host_port())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut raw = RawFtp {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        };
        let (code, text) = raw.reply();
        if code != 220 {
            return Err(std::io::Error::other(format!("greeting: {code} {text}")));
        }
        raw.cmd(&format!("USER {user}"));
        let (code, text) = raw.cmd(&format!("PASS {password}"));
        if code != 230 {
            return Err(std::io::Error::other(format!("login: {code} {text}")));
        }
        Ok(raw)
    }

    fn reply(&mut self) -> (u32, String) {
        let mut line = String::new();
        if self.reader.read_line(&mut line).unwrap_or(0) < 4 {
            return (0, line);
        }
        let code: u32 = line[..3].parse().unwrap_or(0);
        let mut text = line.clone();
        if line.as_bytes()[3] == b'-' {
            let end = format!("{code} ");
            loop {
                let mut next = String::new();
                if self.reader.read_line(&mut next).unwrap_or(0) == 0 {
                    break;
                }
                text.push_str(&next);
                if next.starts_with(&end) {
                    break;
                }
            }
        }
        (code, text)
    }

    fn cmd(&mut self, c: &str) -> (u32, String) {
        if self
            .writer
            .write_all(format!("{c}\r\n").as_bytes())
            .is_err()
        {
            return (0, String::new());
        }
        self.reply()
    }

    fn nlst_all(&mut self) -> std::io::Result<Vec<String>> {
        let (code, text) = self.cmd("PASV");
        if code != 227 {
            return Err(std::io::Error::other(format!("PASV: {text}")));
        }
        let inside = text
            .split_once('(')
            .and_then(|(_, r)| r.split_once(')'))
            .map(|(i, _)| i)
            .ok_or_else(|| std::io::Error::other(format!("PASV reply: {text}")))?;
        let n: Vec<u16> = inside
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect();
        if n.len() != 6 {
            return Err(std::io::Error::other(format!("PASV reply: {text}")));
        }
        let port = n[4] * 256 + n[5];
        let mut data = TcpStream::connect((self.writer.peer_addr()?.ip(), port))?;
        data.set_read_timeout(Some(Duration::from_secs(10)))?;
        let (code, text) = self.cmd("NLST -a");
        if code != 150 && code != 125 {
            return Err(std::io::Error::other(format!("NLST: {text}")));
        }
        let mut listing = String::new();
        data.read_to_string(&mut listing)?;
        drop(data);
        self.reply();
        Ok(listing
            .lines()
            .map(|l| l.trim().rsplit('/').next().unwrap_or("").to_string())
            .filter(|l| !l.is_empty())
            .collect())
    }
}
