//! The till side of the up path against the real server: `till sell`
//! (offline included, refusals record nothing, inalterable tickets), the
//! outbox pushed by `till sync` and `till run` (exactly once, in order, chains
//! verified on the server), items the server refuses set aside without
//! blocking the others, and `till status`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tillsync_core::TillConfig;
use tillsync_testkit::{TestServer, pull};
use tillsync_till::agent::{self, AgentOptions};
use tillsync_till::up::sell::{Register, SaleLine, SalePayment, SaleRequest};
use tillsync_till_db::TillDb;
use tillsync_wire::api::OutboxKind;

use crate::util::tillsync;

// ---- helpers ----

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A server with demo data, exported, and till `T001` installed and loaded.
fn ready() -> (TestServer, PathBuf) {
    let server = TestServer::start(300);
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first pull");
    (server, till)
}

/// Short synchroniser timings for tests.
fn fast(till: &Path) {
    let mut c = TillConfig::load(till).expect("till config");
    c.sync.sync_interval_ms = 100;
    c.sync.retry_interval_ms = 100;
    c.sync.ping_timeout_ms = 1_000;
    c.sync.ws_timeout_ms = 5_000;
    c.save(till).expect("save till config");
}

fn sale(lines: &[(&str, i64)]) -> SaleRequest {
    SaleRequest {
        lines: lines
            .iter()
            .map(|(item, quantity)| SaleLine::units(item, *quantity))
            .collect(),
        payments: vec![SalePayment {
            method: "card".into(),
            amount_cents: None,
        }],
        ..SaleRequest::default()
    }
}

fn till_db(till: &Path) -> Connection {
    Connection::open(till.join(tillsync_till::DB_FILE)).expect("till db")
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// (tickets, ticket lines, outbox items) of the till.
fn till_counts(till: &Path) -> (i64, i64, i64) {
    let c = till_db(till);
    (
        count(&c, r#"SELECT COUNT(*) FROM "TICKET""#),
        count(&c, r#"SELECT COUNT(*) FROM "TICKET_LINE""#),
        count(&c, "SELECT COUNT(*) FROM tillsync_outbox"),
    )
}

/// Numbers of `till`'s tickets on the server, in the order they were stored.
fn server_numbers(server: &TestServer, till: &str) -> Vec<u64> {
    // Insertion order: SQLite's rowid; on PostgreSQL the inserting
    // transaction's id, then the number (a batch's tickets are inserted by
    // one statement, and rows land wherever a page has room: `ctid` is not
    // the order of insertion).
    let order = if server.is_postgres() {
        r#"xmin::text::bigint, "number""#
    } else {
        "rowid"
    };
    server
        .rows(&format!(
            r#"SELECT "number" FROM "TICKET" WHERE "till_id" = '{till}' ORDER BY {order}"#
        ))
        .into_iter()
        .map(|r| r[0].as_deref().unwrap().parse().unwrap())
        .collect()
}

/// Every ticket of `till` arrived exactly once, verified, chained, no gap,
/// and the server quarantined `quarantined` items (unreadable ones).
fn assert_all_verified_but(server: &TestServer, till: &str, n: u64, quarantined: u64) {
    let numbers = server_numbers(server, till);
    assert_eq!(
        numbers,
        (1..=n).collect::<Vec<_>>(),
        "tickets on the server"
    );
    let db = server.store();
    let state = db.ticket_state(Some(till)).unwrap();
    let st = &state[0];
    assert_eq!(
        (
            st.verified,
            st.quarantined,
            st.links_pending,
            st.highest_contiguous
        ),
        (n, quarantined, 0, n),
        "{st:?}"
    );
    assert!(st.missing.is_empty(), "{st:?}");
    let list = db.ticket_list(Some(till)).unwrap();
    let verified: Vec<_> = list.iter().filter(|t| t.status == "verified").collect();
    assert_eq!(verified.len() as u64, n);
    assert!(
        verified.iter().all(|t| t.link == Some("verified")),
        "{list:?}"
    );
}

/// Every ticket of `till` arrived exactly once, verified, chained, no gap.
fn assert_all_verified(server: &TestServer, till: &str, n: u64) {
    assert_all_verified_but(server, till, n, 0)
}

fn till_json(till: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["till"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data", s(till), "--json"]);
    tillsync(till, &all).ok().json()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- tests ----

#[test]
fn sold_offline_then_pushed_when_the_server_is_back() {
    let (mut server, till) = ready();
    server.stop();
    // Offline: `till sell` needs no network at all.
    let first = till_json(
        &till,
        &[
            "sell",
            "--item",
            "ART0000001x3",
            "--item",
            "ART0000002",
            "--payment",
            "cash:500",
            "--payment",
            "card",
        ],
    );
    assert_eq!(first["number"], 1, "{first}");
    assert_eq!(first["till"], "T001");
    assert_eq!(first["lines"][0]["quantity_milli"], 3000);
    assert_eq!(first["payments"][0]["amount_cents"], 500);
    let total = first["total_cents"].as_i64().unwrap();
    assert_eq!(
        first["payments"][1]["amount_cents"].as_i64().unwrap(),
        total - 500
    );
    for expected in 2..=4 {
        let run = tillsync(
            &till,
            &[
                "till",
                "sell",
                "--data",
                s(&till),
                "--item",
                "ART0000003x2",
                "--payment",
                "card",
            ],
        )
        .ok();
        assert_eq!(run.stdout().trim(), expected.to_string());
    }
    assert_eq!(till_counts(&till), (4, 5, 4));
    // The sync cannot push: it says so, keeps everything, fails.
    let run = tillsync(&till, &["till", "sync", "--data", s(&till)])
        .fails_with("4 item(s) wait in the outbox");
    assert!(
        run.stdout().contains("server unavailable"),
        "{}",
        run.stdout()
    );
    assert_eq!(till_counts(&till).2, 4);
    let status = till_json(&till, &["status"]);
    assert_eq!(status["online"], false, "{status}");
    assert!(
        status["connection"]["error"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{status}"
    );
    assert_eq!(status["outbox"]["pending"], 4, "{status}");

    server.restart();
    let sync = till_json(&till, &["sync"]);
    assert_eq!(sync["push"]["accepted"], 4, "{sync}");
    assert_eq!(sync["push"]["pending"], 0, "{sync}");
    assert!(sync["tables"].is_array(), "the pull report stays: {sync}");
    assert_eq!(till_counts(&till), (4, 5, 0));
    assert_all_verified(&server, "T001", 4);
    // What the server stored is what the till sold.
    let row = &server.rows(
        r#"SELECT "total_cents", "hash" FROM "TICKET" WHERE "till_id" = 'T001' AND "number" = 1"#,
    )[0];
    let (stored_total, hash): (i64, String) = (
        row[0].as_deref().unwrap().parse().unwrap(),
        row[1].clone().unwrap(),
    );
    assert_eq!(
        (stored_total, hash.as_str()),
        (total, first["hash"].as_str().unwrap())
    );
    // `server tickets --json` says verified.
    let list = tillsync(
        server.dir(),
        &["server", "tickets", "--data", s(server.dir()), "--json"],
    )
    .ok()
    .json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|t| t["status"] == "verified"), "{list:?}");
    // A second sync sends nothing again.
    let sync = till_json(&till, &["sync"]);
    assert_eq!(sync["push"]["sent"], 0, "{sync}");
    assert_eq!(server_numbers(&server, "T001").len(), 4);
}

#[test]
fn refused_sales_record_nothing_and_tickets_are_inalterable() {
    let (_server, till) = ready();
    let sell = |args: &[&str]| {
        let mut all = vec!["till", "sell", "--data", s(&till)];
        all.extend_from_slice(args);
        tillsync(&till, &all)
    };
    sell(&["--item", "ART0000001", "--payment", "cash"]).ok();
    let before = till_counts(&till);
    for (args, needle) in [
        (
            &["--item", "NOSUCHITEM", "--payment", "cash"][..],
            "unknown item NOSUCHITEM",
        ),
        (
            &["--item", "ART0000001x0", "--payment", "cash"][..],
            "is zero",
        ),
        (
            &["--item", "ART0000001x-2", "--payment", "cash"][..],
            "correction",
        ),
        (&["--payment", "cash"][..], "at least one line"),
        (
            &["--item", "ART0000001x2", "--payment", "cash:1"][..],
            "do not cover",
        ),
        (&["--item", "ART0000001"][..], "do not cover"),
        (
            &["--item", "ART0000001", "--payment", "cash:abc"][..],
            "not an amount in cents",
        ),
        (
            &[
                "--item",
                "ART0000001",
                "--payment",
                "cash",
                "--customer",
                "NOBODY",
            ][..],
            "unknown customer NOBODY",
        ),
        (
            &[
                "--item",
                "ART0000001x-1",
                "--payment",
                "cash",
                "--corrects",
                "9",
            ][..],
            "ticket 9 does not exist",
        ),
    ] {
        let run = sell(args).fails_with(needle);
        assert!(
            run.stderr().contains("nothing recorded") || needle.contains("cents"),
            "{}",
            run.stderr()
        );
        assert_eq!(till_counts(&till), before, "{args:?}");
    }
    // A correction: a new ticket with negative lines naming the original.
    let fix = tillsync(
        &till,
        &[
            "till",
            "sell",
            "--data",
            s(&till),
            "--item",
            "ART0000001x-1",
            "--payment",
            "cash",
            "--corrects",
            "1",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(
        (fix["number"].as_u64(), fix["corrects"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(fix["total_cents"].as_i64().unwrap() < 0, "{fix}");
    // Nobody, not even the sqlite3 of the store, alters or deletes a ticket.
    let c = till_db(&till);
    for sql in [
        r#"UPDATE "TICKET" SET "total_cents" = 0 WHERE "number" = 1"#,
        r#"DELETE FROM "TICKET" WHERE "number" = 2"#,
        r#"UPDATE "TICKET_LINE" SET "quantity" = 9"#,
        r#"DELETE FROM "TICKET_PAYMENT""#,
    ] {
        let e = c.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("tickets are inalterable"), "{sql}: {e}");
    }
    assert_eq!(till_counts(&till).0, 2);
}

#[test]
fn a_refused_item_is_set_aside_and_never_blocks_the_next() {
    let (server, till) = ready();
    let mut reg = Register::open(&till).unwrap();
    reg.sell(&sale(&[("ART0000001", 1)])).unwrap();
    {
        // A bogus item, as a bug elsewhere could queue it.
        let db = TillDb::open(&till.join(tillsync_till::DB_FILE)).unwrap();
        TillDb::enqueue(
            db.conn(),
            "bogus:1",
            OutboxKind::Ticket,
            &serde_json::json!({"not": "a ticket"}),
        )
        .unwrap();
    }
    for _ in 0..3 {
        reg.sell(&sale(&[("ART0000002", 2)])).unwrap();
    }
    let sync = till_json(&till, &["sync"]);
    let push = &sync["push"];
    assert_eq!(push["accepted"], 4, "{sync}");
    assert_eq!(push["pending"], 0, "{sync}");
    let aside = push["set_aside"].as_array().unwrap();
    assert_eq!(aside.len(), 1, "{sync}");
    assert_eq!(aside[0]["key"], "bogus:1");
    // The server keeps the unreadable item in quarantine, the tickets verified.
    assert_all_verified_but(&server, "T001", 4, 1);
    let status = till_json(&till, &["status"]);
    assert_eq!(status["outbox"]["pending"], 0, "{status}");
    assert_eq!(status["outbox"]["errors"], 1, "{status}");
    let e = &status["errors"][0];
    assert_eq!(e["key"], "bogus:1", "{status}");
    assert!(
        e["reason"]
            .as_str()
            .unwrap()
            .contains("not a readable ticket"),
        "{status}"
    );
    // The next pushes do not send it again.
    reg.sell(&sale(&[("ART0000003", 1)])).unwrap();
    let sync = till_json(&till, &["sync"]);
    assert_eq!(
        (
            sync["push"]["sent"].as_u64(),
            sync["push"]["accepted"].as_u64()
        ),
        (Some(1), Some(1)),
        "{sync}"
    );
    assert_all_verified_but(&server, "T001", 5, 1);
}

#[test]
fn till_status_json_shows_connection_outbox_and_history() {
    let (mut server, till) = ready();
    let status = till_json(&till, &["status"]);
    assert_eq!(status["till"], "T001");
    assert_eq!(status["online"], true, "{status}");
    assert!(status["connection"]["last_contact"].is_string(), "{status}");
    assert!(status["last_pull"].is_string(), "{status}");
    assert!(status["last_push"].is_null(), "{status}");
    assert!(
        status["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["table"] == "ART"),
        "{status}"
    );
    assert_eq!(status["outbox"]["pending"], 0);
    assert!(status["outbox"]["oldest_at"].is_null());

    let mut reg = Register::open(&till).unwrap();
    reg.sell(&sale(&[("ART0000001", 2)])).unwrap();
    reg.sell(&sale(&[("ART0000001", 1)])).unwrap();
    server.stop();
    let status = till_json(&till, &["status"]);
    assert_eq!(status["online"], false, "{status}");
    assert!(status["connection"]["last_contact"].is_string(), "{status}");
    assert_eq!(status["outbox"]["pending"], 2, "{status}");
    assert!(status["outbox"]["oldest_at"].is_string(), "{status}");
    assert!(status["outbox"]["oldest_age_secs"].is_u64(), "{status}");
    assert_eq!(status["tickets"]["count"], 2, "{status}");
    assert_eq!(status["tickets"]["last_number"], 2, "{status}");
    let text = tillsync(&till, &["till", "status", "--data", s(&till)])
        .ok()
        .stdout();
    assert!(
        text.contains("OFFLINE") && text.contains("2 pending"),
        "{text}"
    );
    tillsync(&till, &["till", "sync", "--data", s(&till)])
        .fails_with("2 item(s) wait in the outbox");

    server.restart();
    till_json(&till, &["sync"]);
    let status = till_json(&till, &["status"]);
    assert_eq!(status["online"], true, "{status}");
    assert!(status["last_push"].is_string(), "{status}");
    assert_eq!(status["outbox"]["pending"], 0, "{status}");
    assert!(status["errors"].as_array().unwrap().is_empty(), "{status}");
    let journal = status["journal"].as_array().unwrap();
    assert!(
        journal
            .iter()
            .any(|j| j["kind"] == "push" && j["result"] == "ok"),
        "{status}"
    );
    assert!(
        journal
            .iter()
            .any(|j| j["kind"] == "push" && j["result"] == "error"),
        "the failed push is journaled: {status}"
    );
}

#[test]
fn till_run_pushes_within_a_few_intervals_through_an_outage_and_stops_on_sigterm() {
    let (mut server, till) = ready();
    fast(&till);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
        .args([
            "till",
            "run",
            "--data",
            s(&till),
            "--pull-interval-ms",
            "500",
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(&till)
        .env_remove("TILLSYNC_TILL_DATA")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn till run");
    let mut reg = Register::open(&till).unwrap();
    for _ in 0..3 {
        reg.sell(&sale(&[("ART0000001", 1)])).unwrap();
    }
    wait_for("3 tickets on the server", Duration::from_secs(10), || {
        server_numbers(&server, "T001").len() == 3
    });
    // The server goes away; selling goes on; it comes back; all arrive.
    server.stop();
    for _ in 0..5 {
        reg.sell(&sale(&[("ART0000002", 1)])).unwrap();
    }
    std::thread::sleep(Duration::from_millis(400));
    // The five tickets wait (beside the event log's "offline" record).
    let tickets_waiting: i64 = reg
        .db()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM tillsync_outbox WHERE kind = 'ticket'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tickets_waiting, 5);
    server.restart();
    wait_for("8 tickets on the server", Duration::from_secs(10), || {
        server_numbers(&server, "T001").len() == 8
    });
    wait_for("an empty outbox", Duration::from_secs(5), || {
        reg.db().outbox_stats().unwrap().pending == 0
    });
    assert_all_verified(&server, "T001", 8);

    let stopped = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "till run did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The 8 tickets, and the event log's records (start, offline, online).
    let delivered: u64 = stdout
        .split_once(" item(s) delivered")
        .and_then(|(before, _)| before.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0);
    assert!(delivered >= 8, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("synchroniser running"), "{stderr}");
    assert!(
        !stderr.contains(
            TillConfig::load(&till)
                .unwrap()
                .auth
                .token
                .unwrap()
                .expose()
        ),
        "the token must never be logged"
    );
}

#[test]
fn the_agent_library_stops_on_its_flag() {
    let (server, till) = ready();
    fast(&till);
    let stop = AtomicBool::new(false);
    let opts = AgentOptions {
        pull_interval: Duration::from_millis(200),
        ..AgentOptions::default()
    };
    std::thread::scope(|scope| {
        let h = scope.spawn(|| agent::run(&till, &opts, &stop));
        let mut reg = Register::open(&till).unwrap();
        reg.sell(&sale(&[("ART0000004", 2)])).unwrap();
        wait_for("the ticket on the server", Duration::from_secs(10), || {
            server_numbers(&server, "T001") == [1]
        });
        stop.store(true, Ordering::Relaxed);
        let t = Instant::now();
        let summary = h.join().unwrap().unwrap();
        assert!(t.elapsed() < Duration::from_secs(3), "slow to stop");
        // The ticket and the event log's agent_start record, queued first
        // (agent_stop is written after the last push: it waits for the next run).
        assert_eq!(summary.delivered, 2, "{summary:?}");
        assert!(summary.pulls >= 1, "{summary:?}");
    });
}

#[test]
fn a_thousand_tickets_sold_while_the_server_is_down_all_arrive_in_order_once() {
    const N: u64 = 1_000;
    let (mut server, till) = ready();
    server.stop();
    let mut reg = Register::open(&till).unwrap();
    let items = [
        "ART0000001",
        "ART0000002",
        "ART0000003",
        "ART0000004",
        "ART0000005",
    ];
    for i in 0..N as usize {
        let t = reg
            .sell(&sale(&[
                (items[i % 5], 1),
                (items[(i + 1) % 5], 2),
                (items[(i + 2) % 5], 1),
            ]))
            .unwrap();
        assert_eq!(t.number, i as u64 + 1);
    }
    // Gap-free on the till, chained.
    let c = till_db(&till);
    assert_eq!(count(&c, r#"SELECT COUNT(*) FROM "TICKET""#), N as i64);
    assert_eq!(
        count(
            &c,
            r#"SELECT MAX("number") - MIN("number") + 1 FROM "TICKET""#
        ),
        N as i64
    );
    assert_eq!(
        count(
            &c,
            r#"SELECT COUNT(*) FROM "TICKET" a JOIN "TICKET" b
               ON b."number" = a."number" + 1 AND b."prev_hash" = a."hash""#
        ),
        N as i64 - 1
    );
    // Keep copies of a few outbox items, to replay them later.
    let replay: Vec<(String, String)> = {
        let mut stmt = c
            .prepare("SELECT key, payload FROM tillsync_outbox WHERE id % 97 = 0")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(replay.len() >= 10);

    server.restart();
    let sync = till_json(&till, &["sync"]);
    assert_eq!(sync["push"]["accepted"], N, "{}", sync["push"]);
    assert_eq!(sync["push"]["pending"], 0);
    assert!(sync["push"]["batches"].as_u64().unwrap() >= 5);
    assert_eq!(till_counts(&till).2, 0);
    assert_all_verified(&server, "T001", N);

    // A replay (as after a crash between the server's commit and the till's
    // bookkeeping) changes nothing on the server.
    for (key, payload) in &replay {
        c.execute(
            "INSERT INTO tillsync_outbox(key, kind, payload, created_at)
             VALUES (?1, 'ticket', ?2, '2026-01-01T00:00:00Z')",
            [key, payload],
        )
        .unwrap();
    }
    let sync = till_json(&till, &["sync"]);
    assert_eq!(sync["push"]["duplicate"], replay.len(), "{}", sync["push"]);
    assert_eq!(sync["push"]["accepted"], 0);
    assert_eq!(till_counts(&till).2, 0);
    assert_all_verified(&server, "T001", N);
}
