//! The fiscal records against the real server: closings and events go up
//! through the outbox (in order, once), the server's ledger and its flags,
//! a lost outbox row filled by the till itself, `till close` / `till
//! events` / `server closings` from the CLI.

use std::path::Path;

use rusqlite::Connection;
use tillsync_core::TillConfig;
use tillsync_core::fiscal::closing::Period;
use tillsync_core::fiscal::local::LocalZone;
use tillsync_core::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN};
use tillsync_testkit::{TestServer, pull};
use tillsync_till::up::push::{PushOptions, push};
use tillsync_till::up::sell::{Register, SaleLine, SalePayment, SaleRequest};
use tillsync_till_db::TillDb;
use tillsync_till_db::fiscal::closings::Closer;

use crate::util::tillsync;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn ready() -> (TestServer, std::path::PathBuf) {
    let server = TestServer::start(300);
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first pull");
    (server, till)
}

fn sell(till: &Path, n: usize) {
    let mut reg = Register::open(till).expect("register");
    for _ in 0..n {
        reg.sell(&SaleRequest {
            lines: vec![SaleLine::units("ART0000001", 2)],
            payments: vec![SalePayment {
                method: "card".into(),
                amount_cents: None,
            }],
            ..SaleRequest::default()
        })
        .expect("sale");
    }
}

#[test]
fn a_till_offline_for_three_days_closes_each_day_and_the_closings_reach_the_server_in_order_once() {
    let (mut server, till) = ready();
    server.stop();
    let cfg = TillConfig::load(&till).unwrap();
    let key = cfg.auth.signing_key().unwrap();
    let zone = LocalZone::paris();
    let mut db = TillDb::open(&till.join(tillsync_till::DB_FILE)).unwrap();
    // Three days while the server is down. Each day the agent's check at
    // 23:31 Paris (22:31 UTC) finds the day due and closes it by itself; the
    // check's time is injected through the library, on the days after today
    // (the tickets are sold now, by the real clock).
    let mut written = 0;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    for day in 1..=3 {
        sell(&till, day);
        let date = today
            .checked_add(jiff::Span::new().days(day as i64))
            .unwrap();
        let now = format!("{date}T22:31:00Z");
        let closer = Closer {
            till: "T001",
            key: &key,
            zone: &zone,
            now: &now,
        };
        let closed = db
            .close_due(&closer, jiff::civil::time(23, 30, 0, 0))
            .unwrap();
        // The day (and, when the test runs at a month's end, the month).
        let days: Vec<_> = closed
            .iter()
            .filter(|c| c.body.period == Period::Day)
            .collect();
        assert_eq!(days.len(), 1, "day {day}: {closed:?}");
        assert_eq!(days[0].body.tickets, day as u64);
        written += closed.len();
        // The check again, later that evening: nothing new is due.
        let later = format!("{date}T22:50:00Z");
        let closer = Closer {
            now: &later,
            ..closer
        };
        assert!(
            db.close_due(&closer, jiff::civil::time(23, 30, 0, 0))
                .unwrap()
                .is_empty()
        );
    }
    drop(db);
    assert!(
        push(&till, PushOptions::default())
            .unwrap()
            .unavailable
            .is_some()
    );
    server.restart();
    let r = push(&till, PushOptions::default()).unwrap();
    assert!(r.unavailable.is_none(), "{r:?}");
    assert_eq!(r.rejected + r.quarantined, 0, "{r:?}");
    let store = server.store();
    let closings = store.fiscal_records("T001", CLOSING_CHAIN, 0).unwrap();
    assert_eq!(
        closings.iter().map(|c| c.seq).collect::<Vec<_>>(),
        (1..=written as u64).collect::<Vec<_>>(),
        "in order, once"
    );
    let day_closings: Vec<_> = closings.iter().filter(|c| c.kind == "day").collect();
    assert_eq!(day_closings.len(), 3);
    let events = store.fiscal_records("T001", EVENT_CHAIN, 0).unwrap();
    assert!(events.iter().filter(|e| e.kind == "closing").count() == written);
    // Pushed again: nothing new, nothing twice.
    let again = push(&till, PushOptions::default()).unwrap();
    assert_eq!(again.sent, 0, "{again:?}");
    assert_eq!(
        store
            .fiscal_records("T001", CLOSING_CHAIN, 0)
            .unwrap()
            .len(),
        written
    );
    // The ledger: 1 + 2 + 3 tickets, the perpetual total matches.
    let out = tillsync(
        server.dir(),
        &["server", "closings", "--data", s(server.dir()), "--json"],
    )
    .ok();
    let j = out.json();
    let l = &j[0];
    let ledger_days: Vec<&serde_json::Value> = l["closings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["body"]["period"] == "day")
        .collect();
    assert_eq!(ledger_days.len(), 3, "{j}");
    assert_eq!(l["flags"].as_array().unwrap().len(), 0, "{j}");
    assert_eq!(ledger_days[2]["body"]["to_number"], 6);
    assert_eq!(
        ledger_days[2]["body"]["perpetual_total_cents"],
        ledger_days[2]["body"]["total_cents"].as_i64().unwrap() * 2
    );
}

#[test]
fn an_outbox_row_lost_on_the_till_is_named_by_the_server_and_filled_by_the_till() {
    let (server, till) = ready();
    sell(&till, 3);
    // The outbox row of ticket 2 is lost (a disk fault, a hand-edit).
    let c = Connection::open(till.join(tillsync_till::DB_FILE)).unwrap();
    c.execute("DELETE FROM tillsync_outbox WHERE key = 'ticket:2'", [])
        .unwrap();
    drop(c);
    // One push: 1 and 3 arrive, the server names 2, the till queues it from
    // its own TICKET table and sends it in the same command.
    let r = push(&till, PushOptions::default()).unwrap();
    assert!(r.unavailable.is_none(), "{r:?}");
    let store = server.store();
    let st = &store.ticket_state(Some("T001")).unwrap()[0];
    assert_eq!(
        (st.verified, st.highest_contiguous, st.links_pending),
        (3, 3, 0),
        "{st:?}"
    );
    assert!(st.missing.is_empty());
    let out = tillsync(
        server.dir(),
        &["server", "tickets", "--data", s(server.dir()), "--missing"],
    )
    .ok();
    assert!(
        out.stdout().contains("no missing ticket"),
        "{}",
        out.stdout()
    );
    // The event log says the till sent tickets again.
    let ev = tillsync(&till, &["till", "events", "--data", s(&till), "--json"]).ok();
    let kinds: Vec<String> = ev
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"resend".to_string()), "{kinds:?}");
}

#[test]
fn the_ledger_flags_a_day_with_tickets_and_no_closing_and_a_ticket_gap() {
    let (server, till) = ready();
    sell(&till, 2);
    // Ticket 3 sold, its outbox row lost, and ticket 4 after it.
    sell(&till, 2);
    let c = Connection::open(till.join(tillsync_till::DB_FILE)).unwrap();
    c.execute("DELETE FROM tillsync_outbox WHERE key = 'ticket:3'", [])
        .unwrap();
    drop(c);
    // Pushed by a till that does not fill gaps (the raw push).
    let cfg = TillConfig::load(&till).unwrap();
    let client = tillsync_till::client::Client::new(&cfg).unwrap();
    let mut db = TillDb::open(&till.join(tillsync_till::DB_FILE)).unwrap();
    tillsync_till::up::push::push_with(&client, &mut db, PushOptions::default()).unwrap();
    let out = tillsync(
        server.dir(),
        &[
            "server",
            "closings",
            "--data",
            s(server.dir()),
            "--till",
            "T001",
        ],
    );
    assert!(!out.out.status.success(), "flags make the command fail");
    assert!(
        out.stdout().contains("FLAG ticket-gap: missing ticket 3"),
        "{}",
        out.stdout()
    );
    // `till resend` by hand fills it.
    tillsync(
        &till,
        &[
            "till",
            "resend",
            "--data",
            s(&till),
            "--from",
            "3",
            "--to",
            "3",
        ],
    )
    .ok();
    tillsync_till::up::push::push_with(&client, &mut db, PushOptions::default()).unwrap();
    let st = &server.store().ticket_state(Some("T001")).unwrap()[0];
    assert!(st.missing.is_empty(), "{st:?}");
    // No closing: today's tickets are not flagged (the day is not over).
    let out = tillsync(
        server.dir(),
        &[
            "server",
            "closings",
            "--data",
            s(server.dir()),
            "--till",
            "T001",
            "--json",
        ],
    );
    let j = out.json();
    let kinds: Vec<&str> = j[0]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.is_empty(), "{j}");
    // The server's copy of an old ticket with no closing: flagged.
    server.erp(r#"UPDATE "TICKET" SET "time" = '2026-01-02T10:00:00Z' WHERE "number" = 1"#);
    let out = tillsync(
        server.dir(),
        &[
            "server",
            "closings",
            "--data",
            s(server.dir()),
            "--till",
            "T001",
        ],
    );
    assert!(
        out.stdout().contains("FLAG day-not-closed"),
        "{}",
        out.stdout()
    );
}

#[test]
fn till_close_and_events_from_the_cli() {
    let (_server, till) = ready();
    sell(&till, 2);
    let out = tillsync(
        &till,
        &[
            "till",
            "close",
            "--data",
            s(&till),
            "--period",
            "day",
            "--json",
        ],
    )
    .ok();
    let j = out.json();
    assert_eq!(j["new"], true);
    assert_eq!(j["closing"]["tickets"], 2);
    let again = tillsync(
        &till,
        &["till", "close", "--data", s(&till), "--period", "day"],
    )
    .ok();
    assert!(
        again
            .stdout()
            .contains("nothing new since the last day closing"),
        "{}",
        again.stdout()
    );
    tillsync(
        &till,
        &["till", "close", "--data", s(&till), "--period", "week"],
    )
    .fails_with("week");
    let ev = tillsync(&till, &["till", "events", "--data", s(&till)]).ok();
    assert!(ev.stdout().contains("closing"), "{}", ev.stdout());
    sell(&till, 1);
    let st = tillsync(&till, &["till", "status", "--data", s(&till), "--json"]).ok();
    let j = st.json();
    assert_eq!(j["fiscal"]["last_day_closing"]["to_number"], 2, "{j}");
    assert_eq!(j["fiscal"]["tickets_since_closing"], 1, "{j}");
}

/// The `tillsync` binary run under Debian's `faketime` (the till's clock
/// set to `offset`, e.g. `-1d`), or `None` when faketime is not installed.
fn under_faketime(offset: &str, cwd: &Path, args: &[&str]) -> Option<std::process::Output> {
    let probe = std::process::Command::new("faketime")
        .args(["-f", "+0", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("TILLSYNC_CI").is_none(),
            "faketime is missing: .ci/run installs it"
        );
        eprintln!("SKIPPED: Debian's faketime is not installed (CI installs it)");
        return None;
    }
    Some(
        std::process::Command::new("faketime")
            .arg("-f")
            .arg(offset)
            .arg(env!("CARGO_BIN_EXE_tillsync"))
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("faketime runs"),
    )
}

#[test]
fn a_till_clock_set_back_a_day_sells_on_the_event_log_says_so_and_the_closing_stays_right() {
    let (_server, till) = ready();
    sell(&till, 2);
    tillsync(
        &till,
        &["till", "close", "--data", s(&till), "--period", "day"],
    )
    .ok();
    // The clock goes back a day: the sale goes through.
    let Some(out) = under_faketime(
        "-1d",
        &till,
        &[
            "till",
            "sell",
            "--data",
            s(&till),
            "--item",
            "ART0000001x1",
            "--payment",
            "card",
        ],
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ev = tillsync(&till, &["till", "events", "--data", s(&till), "--json"]).ok();
    let back: Vec<serde_json::Value> = ev
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "clock_back")
        .cloned()
        .collect();
    assert_eq!(back.len(), 1, "{}", ev.stdout());
    assert!(back[0]["body"]["behind_seconds"].as_i64().unwrap() >= 86_000);
    // Ticket 3, sold "yesterday", is in the next day closing, not in the
    // closed one.
    let c = tillsync(
        &till,
        &[
            "till",
            "close",
            "--data",
            s(&till),
            "--period",
            "day",
            "--json",
        ],
    )
    .ok();
    let j = c.json();
    assert_eq!(j["new"], true, "{j}");
    assert_eq!(
        (&j["closing"]["after_number"], &j["closing"]["to_number"]),
        (&serde_json::json!(2), &serde_json::json!(3))
    );
}
