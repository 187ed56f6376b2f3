//! Tickets version 2 end to end, with the real binary and server: a
//! weighed item with discounts, a voided line and cash change sold with
//! `till sell`, pushed, checked and stored by the server (version-2
//! columns), verified; training tickets up in their own chain and out of
//! the fiscal counts; the refusals of `till sell` recording nothing; a
//! sale retried with its idempotency key recorded once; the folder's
//! payment methods carried to the till.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use tillsync_core::TillConfig;
use tillsync_core::ticket::Ticket;
use tillsync_core::ticket::amounts::line_gross;
use tillsync_testkit::{TestServer, pull};

use crate::util::tillsync;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A server with demo data, exported, and till `T001` installed and loaded.
fn ready() -> (TestServer, PathBuf) {
    let server = TestServer::start(50);
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first pull");
    (server, till)
}

/// `till sell ARGS --json`: the ticket.
fn sell(till: &Path, args: &[&str]) -> Ticket {
    let mut all = vec!["till", "sell", "--data", s(till), "--json"];
    all.extend_from_slice(args);
    serde_json::from_value(tillsync(till, &all).ok().json()).expect("a ticket")
}

fn count(till: &Path, table: &str) -> i64 {
    Connection::open(till.join(tillsync_till::DB_FILE))
        .unwrap()
        .query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .unwrap()
}

/// The till's ticket key.
fn till_key(till: &Path) -> ed25519_dalek::VerifyingKey {
    TillConfig::load(till)
        .unwrap()
        .auth
        .signing_key()
        .unwrap()
        .verifying_key()
}

fn one(server: &TestServer, sql: &str) -> Vec<Option<String>> {
    let mut rows = server.rows(sql);
    assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
    rows.remove(0)
}

#[test]
fn a_weighed_sale_with_discounts_and_change_goes_up_and_verifies() {
    let (server, till) = ready();
    let t = sell(
        &till,
        &[
            "--item",
            "ART0000001x0.485",
            "--item",
            "ART0000002x2",
            "--line-discount",
            "2:50",
            "--item",
            "ART0000003",
            "--void",
            "3",
            "--discount",
            "10",
            "--payment",
            "card:100",
            "--payment",
            "cash:100000",
            "--cashier",
            "Marie",
        ],
    );
    assert_eq!((t.version, t.number, t.training), (2, 1, false));
    t.verify(&till_key(&till), tillsync_core::ticket::GENESIS_HASH)
        .unwrap();
    let weighed = &t.lines[0];
    assert_eq!(weighed.quantity_milli, 485);
    assert_eq!(
        weighed.total_incl_cents,
        line_gross(weighed.unit_price_cents, 485).unwrap()
    );
    assert_eq!(t.lines[1].discount_cents, 50);
    assert!(t.lines[2].voided);
    assert_eq!(
        t.total_cents,
        t.lines[0].total_incl_cents + t.lines[1].total_incl_cents - 10
    );
    assert_eq!(t.change_cents, 100 + 100_000 - t.total_cents);
    assert_eq!(t.net_payments()["cash"], t.total_cents - 100);
    // The till's tables give it back whole.
    let conn = Connection::open(till.join(tillsync_till::DB_FILE)).unwrap();
    let back = tillsync_till_db::up::load_ticket(&conn, "T001", 1)
        .unwrap()
        .unwrap();
    assert_eq!(back, t);

    let sync = tillsync(&till, &["till", "sync", "--data", s(&till), "--json"])
        .ok()
        .json();
    assert_eq!(sync["push"]["accepted"], 1, "{sync}");
    // The server checked it (hash, signature, chain, content) and stored
    // its version-2 fields.
    let head = one(
        &server,
        r#"SELECT "hash", "version", "cashier", "discount_cents", "change_cents", "total_cents"
           FROM "TICKET" WHERE "till_id" = 'T001' AND "number" = 1"#,
    );
    let text = |v: i64| Some(v.to_string());
    assert_eq!(
        head,
        [
            Some(t.hash.clone()),
            text(2),
            Some("Marie".into()),
            text(10),
            text(t.change_cents),
            text(t.total_cents)
        ]
    );
    let line = one(
        &server,
        r#"SELECT "quantity", "quantity_milli", "discount_cents", "total_incl_cents"
           FROM "TICKET_LINE" WHERE "till_id" = 'T001' AND "number" = 1 AND "line_no" = 1"#,
    );
    assert_eq!(
        line,
        [text(0), text(485), text(0), text(weighed.total_incl_cents)]
    );
    let voided = one(
        &server,
        r#"SELECT "voided" FROM "TICKET_LINE" WHERE "till_id" = 'T001' AND "number" = 1 AND "line_no" = 3"#,
    );
    assert!(
        matches!(voided[0].as_deref(), Some("1") | Some("true") | Some("t")),
        "{voided:?}"
    );
    let shares = server.rows(
        r#"SELECT "discount_cents" FROM "TICKET_VAT" WHERE "till_id" = 'T001' AND "number" = 1"#,
    );
    let spread: i64 = shares
        .iter()
        .map(|r| r[0].as_deref().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(spread, 10);
    let st = &server.store().ticket_state(Some("T001")).unwrap()[0];
    assert_eq!((st.verified, st.quarantined, st.training), (1, 0, 0));
}

#[test]
fn training_tickets_go_up_apart_and_stay_out_of_the_fiscal_counts() {
    let (server, till) = ready();
    let f1 = sell(&till, &["--item", "ART0000001", "--payment", "card"]);
    let t1 = sell(
        &till,
        &["--item", "ART0000002", "--payment", "card", "--training"],
    );
    let t2 = sell(
        &till,
        &["--item", "ART0000002", "--payment", "card", "--training"],
    );
    let out = tillsync(
        &till,
        &[
            "till",
            "sell",
            "--data",
            s(&till),
            "--item",
            "ART0000001",
            "--payment",
            "card",
            "--training",
        ],
    )
    .ok();
    assert_eq!(out.stdout().trim(), "3 (training)");
    assert_eq!((f1.number, t1.number, t2.number), (1, 1, 2));
    assert!(t1.is_training() && t2.prev_hash == t1.hash);
    assert_eq!(count(&till, "TICKET"), 1);
    assert_eq!(count(&till, "TRAINING_TICKET"), 3);

    let sync = tillsync(&till, &["till", "sync", "--data", s(&till), "--json"])
        .ok()
        .json();
    // One fiscal ticket, three training tickets, and the event log's three
    // "training" records (training mode is said in the event log).
    assert_eq!(sync["push"]["accepted"], 7, "{sync}");
    let training_events = server
        .store()
        .fiscal_records("T001", tillsync_core::fiscal::record::EVENT_CHAIN, 0)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "training")
        .count();
    assert_eq!(training_events, 3);
    assert_eq!(
        server.count(r#"SELECT COUNT(*) FROM "TICKET" WHERE "till_id" = 'T001'"#),
        1
    );
    assert_eq!(
        server.count(r#"SELECT COUNT(*) FROM "TRAINING_TICKET" WHERE "till_id" = 'T001'"#),
        3
    );
    let st = &server.store().ticket_state(Some("T001")).unwrap()[0];
    assert_eq!(
        (st.verified, st.tickets_received, st.highest_contiguous),
        (1, 1, 1)
    );
    assert_eq!((st.training, st.training_quarantined), (3, 0));
    assert!(st.missing.is_empty(), "{st:?}");
    let text = tillsync(
        server.dir(),
        &["server", "tickets", "--data", s(server.dir())],
    )
    .ok()
    .stdout();
    assert!(
        text.contains("1 ticket(s) received, 1 verified")
            && text.contains("3 training-mode ticket(s) apart"),
        "{text}"
    );
    let list = tillsync(
        server.dir(),
        &["server", "tickets", "--data", s(server.dir()), "--json"],
    )
    .ok()
    .json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

#[test]
fn refused_version_2_sales_record_nothing() {
    let (_server, till) = ready();
    for (args, needle) in [
        (
            &["--item", "ART0000001x1.2345"][..],
            "quantity \"1.2345\" is not valid: at most three decimals",
        ),
        (
            &["--item", "ART0000001*abc"][..],
            "--item ART0000001*abc: quantity \"abc\" is not valid",
        ),
        (
            &["--item", "ART0000001x0"][..],
            "quantity 0 for item ART0000001 is not allowed: it is zero",
        ),
        (
            &["--item", "ART0000001x-1"][..],
            "negative quantities belong on a correction ticket",
        ),
        (
            &["--item", "ART0000001", "--payment", "bitcoin"][..],
            "payment method \"bitcoin\" is not allowed: the allowed ones are cash, card, cheque, voucher",
        ),
        (
            &["--item", "ART0000001", "--payment", "card:1"][..],
            "payments of 1 cents do not cover the total",
        ),
        (
            &["--item", "ART0000001", "--line-discount", "1:99999999"][..],
            "is not allowed: it is above the line's amount",
        ),
        (
            &["--item", "ART0000001", "--discount", "99999999"][..],
            "is above the ticket's amount",
        ),
        (
            &["--item", "ART0000001", "--void", "2"][..],
            "there is no line 2",
        ),
        (
            &["--item", "ART0000001", "--payment", "card:99999999"][..],
            "only cash may exceed what is due",
        ),
    ] {
        let mut all = vec!["till", "sell", "--data", s(&till)];
        all.extend_from_slice(args);
        if !args.contains(&"--payment") {
            all.extend_from_slice(&["--payment", "cash"]);
        }
        tillsync(&till, &all).fails_with(needle);
        for table in [
            "TICKET",
            "TRAINING_TICKET",
            "tillsync_outbox",
            "tillsync_sale_keys",
        ] {
            assert_eq!(count(&till, table), 0, "{args:?}: {table}");
        }
    }
    assert_eq!(
        sell(&till, &["--item", "ART0000001x0.5", "--payment", "cash"]).number,
        1
    );
}

#[test]
fn a_sale_retried_with_its_idempotency_key_is_recorded_once() {
    let (server, till) = ready();
    let args = [
        "--item",
        "ART0000001x2",
        "--payment",
        "cash:5000",
        "--idempotency-key",
        "caisse-web:0001",
    ];
    let first = sell(&till, &args);
    let again = sell(&till, &args);
    assert_eq!(again, first);
    assert_eq!(count(&till, "TICKET"), 1);
    assert_eq!(count(&till, "tillsync_outbox"), 1);
    let mut other = args.to_vec();
    other[1] = "ART0000001x3";
    let mut all = vec!["till", "sell", "--data", s(&till)];
    all.extend_from_slice(&other);
    tillsync(&till, &all).fails_with(
        "idempotency key \"caisse-web:0001\" was already used for another sale: ticket 1",
    );
    assert_eq!(count(&till, "TICKET"), 1);
    let sync = tillsync(&till, &["till", "sync", "--data", s(&till), "--json"])
        .ok()
        .json();
    assert_eq!(sync["push"]["accepted"], 1, "{sync}");
    // After the push, the same key still gives the same ticket, not a new one.
    assert_eq!(sell(&till, &args), first);
    assert_eq!(
        server.count(r#"SELECT COUNT(*) FROM "TICKET" WHERE "till_id" = 'T001'"#),
        1
    );
}

#[test]
fn the_folders_payment_methods_reach_the_till_and_the_server_checks_them() {
    let mut server = TestServer::start(50);
    tillsync(
        server.dir(),
        &[
            "server",
            "config",
            "set",
            "--data",
            s(server.dir()),
            "folder.payment_methods",
            "cash, ticket-resto",
        ],
    )
    .ok();
    // The running server reads the list at start.
    server.stop();
    server.restart();
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first pull");
    let cfg = TillConfig::load(&till).unwrap();
    assert_eq!(cfg.folder.payment_methods, ["cash", "ticket-resto"]);
    let t = sell(
        &till,
        &["--item", "ART0000001", "--payment", "ticket-resto"],
    );
    assert_eq!(t.payments[0].method, "ticket-resto");
    tillsync(
        &till,
        &[
            "till",
            "sell",
            "--data",
            s(&till),
            "--item",
            "ART0000001",
            "--payment",
            "card",
        ],
    )
    .fails_with("payment method \"card\" is not allowed: the allowed ones are cash, ticket-resto");
    let sync = tillsync(&till, &["till", "sync", "--data", s(&till), "--json"])
        .ok()
        .json();
    assert_eq!(sync["push"]["accepted"], 1, "{sync}");
}
