//! Customers and up-direction tables end to end: creation through the real
//! web service (template customer, unique codes under concurrent creations,
//! offline and timed-out refusals), offline edits delivered later, conflicts
//! under each policy with their audit, abandons allowed and refused, and an
//! up table whose till-side changes reach the server.

use std::net::TcpListener;
use std::path::Path;

use serde_json::{Value, json};
use tillsync_core::{Direction, SyncTable, SyncType, TillConfig};
use tillsync_server_db::customers::ConflictPolicy;
use tillsync_testkit::{TestServer, pull};
use tillsync_till::DB_FILE;
use tillsync_till::up::customers;
use tillsync_till::up::push::{PushOptions, PushReport, push};
use tillsync_till_db::TillDb;

use crate::util::tillsync;

fn arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

fn server_count(server: &TestServer, sql: &str) -> i64 {
    server.count(sql)
}

fn server_text(server: &TestServer, sql: &str) -> Option<String> {
    server.query(sql)
}

fn till_db(tdir: &Path) -> TillDb {
    TillDb::open(&tdir.join(DB_FILE)).expect("till db")
}

fn till_count(tdir: &Path, sql: &str) -> i64 {
    till_db(tdir)
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn till_text(tdir: &Path, sql: &str) -> Option<String> {
    till_db(tdir)
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn push_now(tdir: &Path) -> PushReport {
    push(tdir, PushOptions::default()).expect("push")
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A server with demo data, exported, and the tills installed and loaded.
fn setup(tills: &[&str]) -> (TestServer, Vec<std::path::PathBuf>) {
    let server = TestServer::start(50);
    server.export();
    let dirs = tills
        .iter()
        .map(|t| {
            let d = server.install_till(t);
            pull(&d).expect("first load");
            d
        })
        .collect();
    (server, dirs)
}

/// A customer of store S01 (held by T001 and T002).
fn s01_customer(server: &TestServer, nth: usize) -> String {
    server_text(
        server,
        &format!("SELECT code FROM CLI WHERE store = 'S01' ORDER BY code LIMIT 1 OFFSET {nth}"),
    )
    .expect("an S01 customer")
}

#[test]
fn create_copies_the_template_and_codes_stay_unique_under_concurrent_creations() {
    let (server, dirs) = setup(&["T001", "T003"]);
    let (t1, t3) = (&dirs[0], &dirs[1]);
    // The template gets a value the new customer must inherit.
    server.erp(
        "UPDATE CLI SET loyalty_points = 7, phone = '04 00 00 00 00' WHERE code = 'CLI000000'",
    );
    let before = server_count(&server, "SELECT COUNT(*) FROM CLI");

    // Through the CLI: the record as JSON, with its code.
    let run = tillsync(
        t1,
        &[
            "till",
            "customer",
            "create",
            "--data",
            arg(t1),
            "--name",
            "Jeanne Martin",
            "--field",
            "city=Villeurbanne",
            "--field",
            "email=jeanne@example.com",
            "--json",
        ],
    )
    .ok();
    let rec = run.json();
    let code = rec["code"].as_str().expect("code").to_string();
    assert_eq!(code, "CLI000200", "{rec}");
    assert_eq!(rec["name"], "Jeanne Martin");
    assert_eq!(rec["city"], "Villeurbanne");
    assert_eq!(rec["email"], "jeanne@example.com");
    assert_eq!(rec["loyalty_points"], 7, "taken from the template: {rec}");
    assert_eq!(
        rec["phone"], "04 00 00 00 00",
        "taken from the template: {rec}"
    );
    assert_eq!(rec["store"], "S01", "the creating till's store: {rec}");
    // Stored on both sides, identically.
    assert_eq!(
        server_text(&server, "SELECT city FROM CLI WHERE code = 'CLI000200'").as_deref(),
        Some("Villeurbanne")
    );
    assert_eq!(
        till_text(t1, "SELECT name FROM CLI WHERE code = 'CLI000200'").as_deref(),
        Some("Jeanne Martin")
    );
    assert_eq!(
        server_text(
            &server,
            "SELECT till_id FROM tillsync_customer_origin WHERE code = 'CLI000200'"
        )
        .as_deref(),
        Some("T001")
    );
    // Text output: the code alone.
    let run = tillsync(
        t3,
        &[
            "till",
            "customer",
            "create",
            "--data",
            arg(t3),
            "--name",
            "Paul Durand",
        ],
    )
    .ok();
    assert_eq!(run.stdout().trim(), "CLI000201");

    // Two tills creating at the same time never get the same code.
    let mut handles = Vec::new();
    for (i, dir) in [t1.clone(), t3.clone()].into_iter().enumerate() {
        handles.push(std::thread::spawn(move || {
            (0..10)
                .map(|n| {
                    customers::create(&dir, &format!("Client {i}-{n}"), &[])
                        .expect("create")["code"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut codes: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 20, "{codes:?}");
    assert_eq!(
        server_count(&server, "SELECT COUNT(*) FROM CLI"),
        before + 22
    );
    assert_eq!(
        server_count(
            &server,
            "SELECT COUNT(DISTINCT code) FROM tillsync_customer_origin"
        ),
        22
    );

    // The server refuses unknown columns and the code (checked before the till's own checks).
    let cfg = TillConfig::load(t1).unwrap();
    let client = tillsync_till::client::Client::new(&cfg).unwrap();
    for (fields, needle) in [
        (json!({"colour": "red"}), "no column \"colour\""),
        (json!({"code": "CLI999999"}), "allocated by the server"),
    ] {
        let e = client
            .create_customer(&tillsync_wire::api::CustomerCreate {
                name: "X".into(),
                fields: serde_json::from_value(fields).unwrap(),
            })
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("400") && msg.contains(needle), "{msg}");
    }
    // The till refuses an unknown column before calling the server.
    tillsync(
        t1,
        &[
            "till",
            "customer",
            "create",
            "--data",
            arg(t1),
            "--name",
            "Y",
            "--field",
            "colour=red",
        ],
    )
    .fails_with("no column \"colour\"");
    assert_eq!(
        server_count(&server, "SELECT COUNT(*) FROM CLI"),
        before + 22
    );
}

#[test]
fn create_offline_or_timed_out_says_it_needs_the_server_and_creates_nothing() {
    let (mut server, dirs) = setup(&["T001"]);
    let t1 = &dirs[0];
    let server_before = server_count(&server, "SELECT COUNT(*) FROM CLI");
    let till_before = till_count(t1, "SELECT COUNT(*) FROM CLI");

    server.stop();
    tillsync(
        t1,
        &[
            "till",
            "customer",
            "create",
            "--data",
            arg(t1),
            "--name",
            "Hors Ligne",
        ],
    )
    .fails_with("creating a customer needs the server");
    server.restart();
    assert_eq!(
        server_count(&server, "SELECT COUNT(*) FROM CLI"),
        server_before
    );
    assert_eq!(till_count(t1, "SELECT COUNT(*) FROM CLI"), till_before);
    assert_eq!(
        server_count(&server, "SELECT COUNT(*) FROM tillsync_customer_origin"),
        0
    );
    assert_eq!(till_count(t1, "SELECT COUNT(*) FROM tillsync_outbox"), 0);

    // A web service that accepts the connection and never answers: the
    // till gives up after its timeout, with the same plain message.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = TillConfig::load(t1).unwrap();
    cfg.server.webservice_url = format!("http://{}/", silent.local_addr().unwrap())
        .parse()
        .unwrap();
    cfg.sync.ws_timeout_ms = 300;
    cfg.save(t1).unwrap();
    let run = tillsync(
        t1,
        &[
            "till",
            "customer",
            "create",
            "--data",
            arg(t1),
            "--name",
            "Trop Lent",
        ],
    )
    .fails_with("creating a customer needs the server");
    assert!(run.stderr().contains("timeout"), "{}", run.stderr());
    drop(silent);
    assert_eq!(till_count(t1, "SELECT COUNT(*) FROM CLI"), till_before);
    assert_eq!(
        server_count(&server, "SELECT COUNT(*) FROM CLI"),
        server_before
    );
}

#[test]
fn an_offline_edit_reaches_the_server_when_it_is_back() {
    let (mut server, dirs) = setup(&["T001"]);
    let t1 = &dirs[0];
    let code = s01_customer(&server, 0);

    server.stop();
    let run = tillsync(
        t1,
        &[
            "till",
            "customer",
            "edit",
            "--data",
            arg(t1),
            &code,
            "--field",
            "city=Annecy",
            "--field",
            "loyalty_points=1234",
            "--json",
        ],
    )
    .ok();
    let edit = run.json();
    assert_eq!(edit["fields"]["loyalty_points"], 1234, "typed: {edit}");
    assert_eq!(edit["base_version"], 1, "{edit}");
    assert_eq!(
        till_text(t1, &format!("SELECT city FROM CLI WHERE code = '{code}'")).as_deref(),
        Some("Annecy")
    );
    let r = push_now(t1);
    assert!(r.unavailable.is_some(), "{r:?}");
    assert_eq!(r.pending, 1, "{r:?}");

    server.restart();
    assert_ne!(
        server_text(
            &server,
            &format!("SELECT city FROM CLI WHERE code = '{code}'")
        )
        .as_deref(),
        Some("Annecy")
    );
    let r = push_now(t1);
    assert_eq!((r.accepted, r.rejected, r.pending), (1, 0, 0), "{r:?}");
    assert_eq!(
        server_text(
            &server,
            &format!("SELECT city FROM CLI WHERE code = '{code}'")
        )
        .as_deref(),
        Some("Annecy")
    );
    assert_eq!(
        server_count(
            &server,
            &format!("SELECT loyalty_points FROM CLI WHERE code = '{code}'")
        ),
        1234
    );
    assert_eq!(
        server_count(&server, "SELECT COUNT(*) FROM tillsync_conflicts"),
        0
    );
    // The change comes back down (CLI travels both ways) without echoing up.
    server.export();
    pull(t1).unwrap();
    server.assert_till_matches(t1);
    assert_eq!(till_count(t1, "SELECT COUNT(*) FROM tillsync_outbox"), 0);
    // A second edit before any pull does not conflict with the first.
    customers::edit(t1, &code, &fields(&[("city", "Chambéry")])).unwrap();
    customers::edit(t1, &code, &fields(&[("phone", "06 11 22 33 44")])).unwrap();
    let r = push_now(t1);
    assert_eq!((r.accepted, r.rejected), (2, 0), "{r:?}");
    assert_eq!(
        server_count(&server, "SELECT COUNT(*) FROM tillsync_conflicts"),
        0
    );

    // Edits are refused when CLI is not registered up.
    server
        .store()
        .remove_sync_table("CLI", Direction::Up)
        .unwrap();
    customers::edit(t1, &code, &fields(&[("city", "Paris")])).unwrap();
    let r = push_now(t1);
    assert_eq!(r.rejected, 1, "{r:?}");
    assert!(
        r.set_aside[0]
            .reason
            .contains("not registered as an up sync table"),
        "{r:?}"
    );
    let errors = till_db(t1).errors().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind, "customer-edit");
}

/// Register CLI up with `policy` (replacing the registration).
fn set_policy(server: &TestServer, policy: ConflictPolicy) {
    let mut db = server.store();
    db.remove_sync_table("CLI", Direction::Up).unwrap();
    db.add_sync_table_with_policy(
        &SyncTable {
            table: "CLI".into(),
            sync_type: SyncType::Incremental,
            direction: Direction::Up,
            filter: None,
        },
        Some(policy),
    )
    .unwrap();
}

fn city(server: &TestServer, code: &str) -> String {
    server_text(
        server,
        &format!("SELECT city FROM CLI WHERE code = '{code}'"),
    )
    .unwrap()
}

fn last_conflict(server: &TestServer) -> (String, String, Value, Value) {
    let r = server
        .rows(
            "SELECT key, winner, server_value, till_value FROM tillsync_conflicts ORDER BY id DESC LIMIT 1",
        )
        .remove(0);
    let text = |i: usize| r[i].clone().unwrap();
    (
        text(0),
        text(1),
        serde_json::from_str(&text(2)).unwrap(),
        serde_json::from_str(&text(3)).unwrap(),
    )
}

#[test]
fn conflicts_follow_the_table_policy_and_the_loser_is_audited() {
    let (server, dirs) = setup(&["T001"]);
    let t1 = &dirs[0];
    let erp = |code: &str, city: &str| {
        server.erp(&format!(
            "UPDATE CLI SET city = '{city}' WHERE code = '{code}'"
        ));
    };
    let conflicts = || server_count(&server, "SELECT COUNT(*) FROM tillsync_conflicts");

    // server-wins (the default), the server's change already exported.
    let a = s01_customer(&server, 0);
    customers::edit(t1, &a, &fields(&[("city", "Till A")])).unwrap();
    erp(&a, "ERP A");
    server.export();
    let r = push_now(t1);
    assert_eq!((r.accepted, r.rejected), (1, 0), "{r:?}");
    assert_eq!(city(&server, &a), "ERP A");
    assert_eq!(conflicts(), 1);
    let (key, winner, sv, tv) = last_conflict(&server);
    assert!(key.contains(&a), "{key}");
    assert_eq!(winner, "server");
    assert_eq!(sv["city"], "ERP A");
    assert_eq!(tv["city"], "Till A");
    // The till converges to the server's version with its next load.
    pull(t1).unwrap();
    assert_eq!(
        till_text(t1, &format!("SELECT city FROM CLI WHERE code = '{a}'")).as_deref(),
        Some("ERP A")
    );

    // till-wins, the server's change not yet exported.
    set_policy(&server, ConflictPolicy::TillWins);
    let b = s01_customer(&server, 1);
    customers::edit(t1, &b, &fields(&[("city", "Till B")])).unwrap();
    erp(&b, "ERP B");
    push_now(t1);
    assert_eq!(city(&server, &b), "Till B");
    assert_eq!(conflicts(), 2);
    let (_, winner, sv, tv) = last_conflict(&server);
    assert_eq!(winner, "till");
    assert_eq!(sv["city"], "ERP B");
    assert_eq!(tv["city"], "Till B");

    // newest-wins: the newer change wins, either way.
    set_policy(&server, ConflictPolicy::NewestWins);
    let c = s01_customer(&server, 2);
    customers::edit(t1, &c, &fields(&[("city", "Till C")])).unwrap();
    erp(&c, "ERP C");
    // The ERP's change is a minute newer than the till's edit.
    server.erp(&format!(
        "UPDATE tillsync_changes SET at = at + 60 WHERE tbl = 'CLI' AND k1 = '{c}'"
    ));
    push_now(t1);
    assert_eq!(city(&server, &c), "ERP C");
    assert_eq!(last_conflict(&server).1, "server");
    let d = s01_customer(&server, 3);
    erp(&d, "ERP D");
    // The ERP's change is a minute older than the till's edit.
    server.erp(&format!(
        "UPDATE tillsync_changes SET at = at - 60 WHERE tbl = 'CLI' AND k1 = '{d}'"
    ));
    customers::edit(t1, &d, &fields(&[("city", "Till D")])).unwrap();
    push_now(t1);
    assert_eq!(city(&server, &d), "Till D");
    let (_, winner, sv, _) = last_conflict(&server);
    assert_eq!(winner, "till");
    assert_eq!(sv["city"], "ERP D");
    assert_eq!(conflicts(), 4);

    // No conflict when the till already holds the server's change.
    server.export();
    pull(t1).unwrap();
    let e = s01_customer(&server, 4);
    erp(&e, "ERP E");
    server.export();
    pull(t1).unwrap();
    customers::edit(t1, &e, &fields(&[("city", "Till E")])).unwrap();
    push_now(t1);
    assert_eq!(city(&server, &e), "Till E");
    assert_eq!(conflicts(), 4);

    // `tables list` shows the policy of the up table.
    let list = tillsync(
        server.dir(),
        &[
            "server",
            "tables",
            "list",
            "--data",
            arg(server.dir()),
            "--json",
        ],
    )
    .ok()
    .json();
    let up = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "CLI" && t["direction"] == "up")
        .expect("CLI up");
    assert_eq!(up["conflict_policy"], "newest-wins", "{list}");
}

#[test]
fn abandon_deletes_only_the_creators_unused_customer() {
    let (server, dirs) = setup(&["T001", "T002"]);
    let (t1, t2) = (&dirs[0], &dirs[1]);
    let create = |dir: &Path, name: &str| -> String {
        customers::create(dir, name, &[]).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let on_server = |code: &str| {
        server_count(
            &server,
            &format!("SELECT COUNT(*) FROM CLI WHERE code = '{code}'"),
        )
    };

    // Allowed: this till created it, no ticket uses it.
    let a = create(t1, "Annulé");
    tillsync(t1, &["till", "customer", "abandon", "--data", arg(t1), &a]).ok();
    assert_eq!(
        till_count(t1, &format!("SELECT COUNT(*) FROM CLI WHERE code = '{a}'")),
        0
    );
    let r = push_now(t1);
    assert_eq!((r.accepted, r.rejected), (1, 0), "{r:?}");
    assert_eq!(on_server(&a), 0);
    assert!(
        server_text(
            &server,
            &format!("SELECT abandoned_at FROM tillsync_customer_origin WHERE code = '{a}'")
        )
        .is_some()
    );

    // Refused: another till created it.
    let b = create(t1, "Créé par T001");
    server.export();
    pull(t2).unwrap();
    tillsync(t2, &["till", "customer", "abandon", "--data", arg(t2), &b]).ok();
    let r = push_now(t2);
    assert_eq!(r.rejected, 1, "{r:?}");
    assert_eq!(on_server(&b), 1);
    let errors = till_db(t2).errors().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind, "customer-abandon");
    assert!(
        errors[0].reason.contains("created by till T001"),
        "{errors:?}"
    );
    // The till that removed its copy gets it back with its next load.
    server.export();
    pull(t2).unwrap();
    assert_eq!(
        till_count(t2, &format!("SELECT COUNT(*) FROM CLI WHERE code = '{b}'")),
        1
    );
    // `till status` shows the refusal in the error list.
    let status = tillsync(t2, &["till", "status", "--data", arg(t2), "--json"])
        .ok()
        .stdout();
    assert!(status.contains("created by till T001"), "{status}");

    // Refused: a ticket uses it.
    let c = create(t1, "Client avec ticket");
    let item = till_text(t1, "SELECT code FROM ART ORDER BY code LIMIT 1").unwrap();
    tillsync(
        t1,
        &[
            "till",
            "sell",
            "--data",
            arg(t1),
            "--item",
            &item,
            "--payment",
            "cash",
            "--customer",
            &c,
        ],
    )
    .ok();
    tillsync(t1, &["till", "customer", "abandon", "--data", arg(t1), &c]).ok();
    let r = push_now(t1);
    assert_eq!(
        (r.accepted, r.rejected),
        (1, 1),
        "the ticket, then the abandon: {r:?}"
    );
    assert_eq!(on_server(&c), 1);
    let errors = till_db(t1).errors().unwrap();
    assert!(
        errors.iter().any(|e| e.reason.contains("used by 1 ticket")),
        "{errors:?}"
    );
}

#[test]
fn changes_of_an_up_table_at_the_till_reach_the_server() {
    let server = TestServer::start(50);
    server.erp(
        "CREATE TABLE TILL_PARAM(till_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT,
               PRIMARY KEY (till_id, key))",
    );
    let add = tillsync(
        server.dir(),
        &[
            "server",
            "tables",
            "add",
            "--data",
            arg(server.dir()),
            "--table",
            "TILL_PARAM",
            "--type",
            "incremental",
            "--direction",
            "up",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(add["conflict_policy"], "server-wins", "{add}");
    tillsync(
        server.dir(),
        &[
            "server",
            "tables",
            "add",
            "--data",
            arg(server.dir()),
            "--table",
            "ART",
            "--type",
            "full",
            "--direction",
            "down",
            "--conflict",
            "till-wins",
        ],
    )
    .fails_with("conflict policy applies to a table that travels up");
    server.export();
    let t1 = server.install_till("T001");
    pull(&t1).unwrap();
    // The till created the table and captures it; the packages it loaded
    // (CLI included, which also travels up) queued nothing.
    assert_eq!(till_count(&t1, "SELECT COUNT(*) FROM tillsync_outbox"), 0);
    let ups: Vec<String> = till_db(&t1)
        .up_tables()
        .unwrap()
        .into_iter()
        .map(|t| t.table)
        .collect();
    assert_eq!(ups, ["TILL_PARAM"]);

    // A store tool writes the till's table directly.
    till_db(&t1)
        .conn()
        .execute_batch(
            "INSERT INTO TILL_PARAM VALUES ('T001', 'printer', 'EPSON TM-T20');
             INSERT INTO TILL_PARAM VALUES ('T001', 'drawer', 'yes');
             INSERT INTO TILL_PARAM VALUES ('T001', 'scale', 'none');
             UPDATE TILL_PARAM SET value = 'STAR TSP100' WHERE key = 'printer';
             DELETE FROM TILL_PARAM WHERE key = 'scale';
             INSERT INTO TILL_PARAM VALUES ('T002', 'printer', 'not mine');",
        )
        .unwrap();
    let r = push_now(&t1);
    assert_eq!((r.accepted, r.rejected), (5, 1), "{r:?}");
    assert!(
        r.set_aside[0].reason.contains("only send its own rows"),
        "{r:?}"
    );
    let rows: Vec<(String, String, String)> = server
        .rows("SELECT till_id, key, value FROM TILL_PARAM ORDER BY till_id, key")
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].clone().unwrap(),
                r[2].clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("T001".into(), "drawer".into(), "yes".into()),
            ("T001".into(), "printer".into(), "STAR TSP100".into()),
        ]
    );
    // A table no longer registered up stops being captured.
    server
        .store()
        .remove_sync_table("TILL_PARAM", Direction::Up)
        .unwrap();
    pull(&t1).unwrap();
    till_db(&t1)
        .conn()
        .execute("INSERT INTO TILL_PARAM VALUES ('T001', 'x', 'y')", [])
        .unwrap();
    assert_eq!(till_count(&t1, "SELECT COUNT(*) FROM tillsync_outbox"), 0);
}
