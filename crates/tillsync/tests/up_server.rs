//! Tickets on the server, through the real web service: `POST
//! /api/v1/outbox` (verified, duplicate, quarantined, refused), gaps and
//! their late arrival, `GET /api/v1/noop`, bad requests (malformed JSON,
//! oversized body, unknown kind, foreign tickets, replayed credentials,
//! revoked till), and the `server tickets` / `server tills list` commands.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use tillsync_core::TillConfig;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem, Ticket};
use tillsync_testkit::TestServer;
use tillsync_till::TillError;
use tillsync_till::client::Client;
use tillsync_wire::api::{ItemStatus, OutboxBatch, OutboxItem, OutboxKind, OutboxResponse};

use crate::util::tillsync;

// ---- helpers ----

/// An installed till that seals its own tickets (as the till's sale would).
struct Seller {
    dir: PathBuf,
    cfg: TillConfig,
    key: SigningKey,
    prev: String,
    next: u64,
}

impl Seller {
    fn install(server: &TestServer, id: &str) -> Self {
        let dir = server.install_till(id);
        let cfg = TillConfig::load(&dir).expect("till config");
        let key = cfg.auth.signing_key().expect("till key");
        Seller {
            dir,
            cfg,
            key,
            prev: GENESIS_HASH.to_string(),
            next: 1,
        }
    }

    /// The next ticket: 5 lines, two VAT rates, paid by card.
    fn sell(&mut self) -> Ticket {
        let item = |code: &str, price, vat| PricedItem {
            code: code.into(),
            label: format!("Article {code}"),
            price_cents: price,
            vat_rate_bp: vat,
        };
        let lines = vec![
            SaleItem::units(item("ART0000001", 199, 550), 2),
            SaleItem::units(item("ART0000002", 1250, 2000), 1),
            SaleItem::units(item("ART0000003", 99, 550), 3),
            SaleItem::units(item("ART0000004", 450, 2000), 1),
            SaleItem::units(item("ART0000005", 75, 1000), 4),
        ];
        let total: i64 = lines
            .iter()
            .map(|l| l.item.price_cents * l.quantity_milli / 1000)
            .sum();
        let t = Sale {
            lines,
            payments: vec![Payment {
                method: "card".into(),
                amount_cents: total,
            }],
            ..Sale::default()
        }
        .seal(
            &self.cfg.till.id,
            self.next,
            "2026-11-28T12:00:00Z",
            &self.prev,
            &self.key,
        )
        .expect("seal");
        self.prev = t.hash.clone();
        self.next += 1;
        t
    }

    fn sell_n(&mut self, n: usize) -> Vec<Ticket> {
        (0..n).map(|_| self.sell()).collect()
    }

    fn client(&self) -> Client {
        Client::new(&self.cfg).expect("client")
    }

    fn push(&self, tickets: &[Ticket]) -> OutboxResponse {
        self.client().push(&batch(tickets)).expect("push")
    }

    fn authorization(&self) -> String {
        format!(
            "Bearer {}:{}",
            self.cfg.till.id,
            self.cfg.auth.token.as_ref().expect("enrolled").expose()
        )
    }
}

fn item(t: &Ticket) -> OutboxItem {
    OutboxItem {
        key: format!("ticket:{}", t.number),
        kind: OutboxKind::Ticket,
        payload: serde_json::to_value(t).expect("ticket JSON"),
    }
}

fn batch(tickets: &[Ticket]) -> OutboxBatch {
    OutboxBatch {
        items: tickets.iter().map(item).collect(),
    }
}

#[track_caller]
fn statuses(r: &OutboxResponse) -> Vec<ItemStatus> {
    r.results.iter().map(|r| r.status).collect()
}

fn count(server: &TestServer, sql: &str) -> i64 {
    server.count(sql)
}

/// Rows in the ticket tables and the quarantine.
fn stored(server: &TestServer) -> [i64; 5] {
    [
        count(server, r#"SELECT COUNT(*) FROM "TICKET""#),
        count(server, r#"SELECT COUNT(*) FROM "TICKET_LINE""#),
        count(server, r#"SELECT COUNT(*) FROM "TICKET_PAYMENT""#),
        count(server, r#"SELECT COUNT(*) FROM "TICKET_VAT""#),
        count(server, "SELECT COUNT(*) FROM tillsync_ticket_quarantine"),
    ]
}

/// One raw HTTP/1.1 request (`Connection: close`); the status and the body.
fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).expect("send head");
    if !body.is_empty() {
        s.write_all(body).expect("send body");
    }
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read answer");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// POST `body` to `/api/v1/outbox` with `authorization`.
fn post_outbox(addr: SocketAddr, authorization: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let head = format!(
        "POST /api/v1/outbox HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, text) = raw(addr, &head, body);
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer {status} is not JSON ({e}): {text:?}"));
    (status, json)
}

#[track_caller]
fn assert_error(answer: &(u16, serde_json::Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert_eq!(answer.1["error"], code, "{answer:?}");
    assert!(
        answer.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{answer:?}"
    );
}

/// The till's client got a refusal (HTTP 403), not an outage.
#[track_caller]
fn assert_refused(r: Result<OutboxResponse, TillError>, needle: &str) {
    match r {
        Err(e) => {
            let m = e.to_string();
            assert!(!e.is_unavailable(), "{m}");
            assert!(m.contains("403") && m.contains(needle), "{m}");
        }
        Ok(r) => panic!("expected a refusal: {r:?}"),
    }
}

fn server_json(server: &TestServer, args: &[&str]) -> serde_json::Value {
    let dir = server.dir().to_str().unwrap().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--data", &dir, "--json"]);
    tillsync(server.root.path(), &all).ok().json()
}

fn server_text(server: &TestServer, args: &[&str]) -> String {
    let dir = server.dir().to_str().unwrap().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--data", &dir]);
    tillsync(server.root.path(), &all).ok().stdout()
}

fn till_entry(list: &serde_json::Value, id: &str) -> serde_json::Value {
    list.as_array()
        .expect("array")
        .iter()
        .find(|t| t["till_id"] == id)
        .unwrap_or_else(|| panic!("no till {id} in {list:#}"))
        .clone()
}

fn journal_pushes(server: &TestServer, till: &str) -> Vec<(String, String)> {
    server
        .rows(&format!(
            "SELECT result, detail FROM tillsync_journal WHERE kind = 'push' AND till = '{till}' ORDER BY id"
        ))
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect()
}

// ---- tests ----

#[test]
fn tickets_are_stored_once_and_a_resent_batch_changes_nothing() {
    let server = TestServer::start(50);
    let mut t1 = Seller::install(&server, "T001");
    let tickets = t1.sell_n(20);
    let r = t1.push(&tickets);
    assert_eq!(statuses(&r), vec![ItemStatus::Accepted; 20]);
    assert_eq!(r.results[7].key, "ticket:8", "results keep the order");
    let after_first = stored(&server);
    // 5 lines each, 1 payment, 3 VAT rates; no quarantine.
    assert_eq!(after_first, [20, 100, 20, 60, 0]);
    // The plain ERP tables hold the ticket as sold.
    let row = &server.rows(
        r#"SELECT "total_cents", "hash" FROM "TICKET" WHERE "till_id" = 'T001' AND "number" = 3"#,
    )[0];
    let (total, hash): (i64, String) = (
        row[0].as_deref().unwrap().parse().unwrap(),
        row[1].clone().unwrap(),
    );
    assert_eq!(
        (total, hash),
        (tickets[2].total_cents, tickets[2].hash.clone())
    );
    let line_total = count(
        &server,
        r#"SELECT SUM("total_incl_cents") FROM "TICKET_LINE" WHERE "till_id" = 'T001' AND "number" = 3"#,
    );
    assert_eq!(line_total, tickets[2].total_cents);

    // The same batch again (a timeout, a crash before the till read the answer).
    let r = t1.push(&tickets);
    assert_eq!(statuses(&r), vec![ItemStatus::Duplicate; 20]);
    // Half old, half new.
    let more = t1.sell_n(5);
    let mut mixed = tickets[15..].to_vec();
    mixed.extend(more);
    let r = t1.push(&mixed);
    let mut want = vec![ItemStatus::Duplicate; 5];
    want.extend(vec![ItemStatus::Accepted; 5]);
    assert_eq!(statuses(&r), want);
    assert_eq!(stored(&server), [25, 125, 25, 75, 0], "nothing doubled");
    // The same ticket under another key is still a duplicate, not a second copy.
    let mut other_key = batch(&tickets[..1]);
    other_key.items[0].key = "ticket:1-again".into();
    let r = t1.client().push(&other_key).unwrap();
    assert_eq!(statuses(&r), [ItemStatus::Duplicate]);
    assert_eq!(stored(&server)[0], 25);

    let state = till_entry(&server_json(&server, &["server", "tills", "list"]), "T001");
    assert_eq!(state["tickets_received"], 25, "{state:#}");
    assert_eq!(state["highest_contiguous"], 25, "{state:#}");
    assert_eq!(state["missing"], serde_json::json!([]), "{state:#}");
    // One journal line per batch, with its counts.
    let pushes = journal_pushes(&server, "T001");
    assert_eq!(pushes.len(), 4, "{pushes:?}");
    assert_eq!(
        pushes[2],
        (
            "ok".to_string(),
            "10 item(s): 5 accepted, 5 duplicate, 0 quarantined, 0 rejected".to_string()
        )
    );
}

#[test]
fn bad_signatures_altered_content_and_broken_chains_go_to_quarantine() {
    let server = TestServer::start(50);
    let mut t1 = Seller::install(&server, "T001");
    let mut tickets = t1.sell_n(5);
    // 2: signed by another key.
    let forger = SigningKey::from_bytes(&[42u8; 32]);
    let digest = tickets[1].digest();
    tickets[1].signature = hex::encode(ed25519_dalek::Signer::sign(&forger, &digest).to_bytes());
    // 3: a price changed after the sale (hash no longer matches).
    tickets[2].lines[0].unit_price_cents = 1;
    let r = t1.push(&tickets);
    assert_eq!(
        statuses(&r),
        [
            ItemStatus::Accepted,
            ItemStatus::Quarantined,
            ItemStatus::Quarantined,
            ItemStatus::Accepted,
            ItemStatus::Accepted
        ]
    );
    assert!(
        r.results[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("signature is not this till's"),
        "{r:?}"
    );
    assert!(
        r.results[2].reason.as_deref().unwrap().contains("altered"),
        "{r:?}"
    );
    // A broken chain: ticket 6 sealed on a wrong previous hash (signed by
    // the till itself, so only the link is wrong).
    t1.prev = "ab".repeat(32);
    let broken = t1.sell();
    let r = t1.push(std::slice::from_ref(&broken));
    assert_eq!(statuses(&r), [ItemStatus::Quarantined]);
    assert!(
        r.results[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("chain broken"),
        "{r:?}"
    );
    // Resent, the quarantined items keep their answer and are not doubled.
    let r = t1.push(&tickets[1..3]);
    assert_eq!(statuses(&r), [ItemStatus::Quarantined; 2]);
    assert!(
        r.results[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("signature")
    );
    assert_eq!(stored(&server), [3, 15, 3, 9, 3]);

    // Listed, with the quarantine and its reasons.
    let list = server_json(&server, &["server", "tickets"]);
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 6, "{list:#?}");
    let status = |n: u64| {
        list.iter()
            .find(|t| t["number"] == n)
            .map(|t| t["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        (1..=6).map(status).collect::<Vec<_>>(),
        [
            "verified",
            "quarantined",
            "quarantined",
            "verified",
            "verified",
            "quarantined"
        ]
    );
    let text = server_text(&server, &["server", "tickets", "--till", "T001"]);
    assert!(text.contains("chain broken"), "{text}");
    assert!(text.contains("3 quarantined"), "{text}");
    let state = till_entry(&server_json(&server, &["server", "tills", "list"]), "T001");
    assert_eq!(state["quarantined"], 3, "{state:#}");
    assert_eq!(state["verified"], 3, "{state:#}");
    // Arrived (though quarantined): not missing.
    assert_eq!(state["highest_contiguous"], 6, "{state:#}");
    let pushes = journal_pushes(&server, "T001");
    assert_eq!(pushes[0].0, "partial", "{pushes:?}");
}

#[test]
fn a_till_posts_only_its_own_tickets() {
    let server = TestServer::start(50);
    let mut t1 = Seller::install(&server, "T001");
    let t2 = Seller::install(&server, "T002");
    let tickets = t1.sell_n(3);
    let body = serde_json::to_vec(&batch(&tickets)).unwrap();

    // T001's batch replayed with T002's credentials.
    let answer = post_outbox(server.web_addr, &t2.authorization(), &body);
    assert_error(&answer, 403, "foreign-ticket");
    assert!(
        answer.1["message"].as_str().unwrap().contains("till T001"),
        "{answer:?}"
    );
    // Through the till's client too: a refusal, not an outage.
    assert_refused(t2.client().push(&batch(&tickets)), "foreign-ticket");
    // A ticket for another till hidden among the till's own.
    let mut t2 = t2;
    let mut mixed = t2.sell_n(2);
    mixed.insert(1, tickets[0].clone());
    let answer = post_outbox(
        server.web_addr,
        &t2.authorization(),
        &serde_json::to_vec(&batch(&mixed)).unwrap(),
    );
    assert_error(&answer, 403, "foreign-ticket");
    assert_eq!(stored(&server), [0; 5], "nothing stored");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM tillsync_received"), 0);
    assert_eq!(journal_pushes(&server, "T002")[0].0, "refused");

    // The real owner, afterwards: everything accepted.
    let r = t1.push(&tickets);
    assert_eq!(statuses(&r), vec![ItemStatus::Accepted; 3]);
    // Stolen credentials are no shortcut either: a wrong token is 401.
    let answer = post_outbox(server.web_addr, "Bearer T001:not-the-token", &body);
    assert_error(&answer, 401, "bad-credentials");
}

#[test]
fn malformed_oversized_and_unknown_batches_are_refused_with_json() {
    let server = TestServer::start(50);
    let mut t1 = Seller::install(&server, "T001");
    let auth = t1.authorization();
    let addr = server.web_addr;

    assert_error(
        &post_outbox(addr, &auth, b"{\"items\": [ {"),
        400,
        "bad-request",
    );
    assert_error(&post_outbox(addr, &auth, b"[1, 2, 3]"), 400, "bad-request");
    let t = t1.sell();
    let unknown = serde_json::json!({"items": [
        {"key": "ticket:1", "kind": "ticket", "payload": t},
        {"key": "x:1", "kind": "coupon", "payload": {}}
    ]});
    let answer = post_outbox(addr, &auth, unknown.to_string().as_bytes());
    assert_error(&answer, 400, "bad-request");
    assert!(
        answer.1["message"].as_str().unwrap().contains("coupon"),
        "{answer:?}"
    );
    let empty_key = serde_json::json!({"items": [{"key": "", "kind": "ticket", "payload": t}]});
    assert_error(
        &post_outbox(addr, &auth, empty_key.to_string().as_bytes()),
        400,
        "bad-request",
    );
    assert_eq!(stored(&server), [0; 5], "nothing stored");

    // Oversized: refused from its announced length, before it is sent
    // (the client waits for "100 Continue" as curl does).
    let head = format!(
        "POST /api/v1/outbox HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        9 * 1024 * 1024
    );
    let (status, body) = raw(addr, &head, b"");
    assert_eq!(status, 413, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(json["error"], "too-large", "{json}");
    // Oversized without a length (chunked): refused when the limit is passed.
    let chunk = vec![b' '; 1024 * 1024];
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /api/v1/outbox HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut sent = 0;
    for _ in 0..9 {
        if write!(s, "{:x}\r\n", chunk.len()).is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            break;
        }
        sent += 1;
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.starts_with("HTTP/1.1 413") && text.contains("too-large"),
        "after {sent} MiB: {text:?}"
    );

    // Still serving, nothing stored.
    let r = t1.push(&[t]);
    assert_eq!(statuses(&r), [ItemStatus::Accepted]);
    assert_eq!(stored(&server)[0], 1);
}

#[test]
fn a_revoked_till_is_refused_and_a_rotated_key_still_verifies() {
    let server = TestServer::start(50);
    let mut t1 = Seller::install(&server, "T001");
    let first = t1.sell_n(2);
    assert_eq!(statuses(&t1.push(&first)), vec![ItemStatus::Accepted; 2]);
    // Sold offline before the reinstall, with the first key.
    let old_sale = t1.sell();
    let old_authorization = t1.authorization();
    // A reinstall from a new deployment package: a new key made and
    // enrolled, a new token; tickets signed with the old key still verify.
    let again = server.install_till_at("T001", &server.root.path().join("T001-again"));
    let old_key = t1.key.clone();
    t1.cfg = TillConfig::load(&again).unwrap();
    t1.key = t1.cfg.auth.signing_key().unwrap();
    assert_ne!(t1.key.to_bytes(), old_key.to_bytes());
    let new_sale = t1.sell();
    let r = t1.push(&[old_sale, new_sale]);
    assert_eq!(statuses(&r), vec![ItemStatus::Accepted; 2], "{r:?}");
    // The first install's token stopped working.
    let answer = post_outbox(
        server.web_addr,
        &old_authorization,
        &serde_json::to_vec(&batch(&[])).unwrap(),
    );
    assert_error(&answer, 401, "bad-credentials");

    server.store().revoke_till("T001").unwrap();
    let next = t1.sell();
    let answer = post_outbox(
        server.web_addr,
        &t1.authorization(),
        &serde_json::to_vec(&batch(std::slice::from_ref(&next))).unwrap(),
    );
    assert_error(&answer, 403, "till-revoked");
    assert_refused(t1.client().push(&batch(&[next])), "revoked");
    assert_eq!(stored(&server)[0], 4);
}

#[test]
fn missing_tickets_are_named_until_they_arrive() {
    let server = TestServer::start(50);
    server.export();
    let mut t1 = Seller::install(&server, "T001");
    // Loaded, then asked again: the second call reports the versions held.
    tillsync_testkit::pull(&t1.dir).expect("pull");
    tillsync_testkit::pull(&t1.dir).expect("pull");
    let tickets = t1.sell_n(8);
    // 3–4 and 7 lost on the way; 5's link waits for 4.
    let sent: Vec<Ticket> = [0, 1, 4, 5, 7]
        .iter()
        .map(|&i| tickets[i].clone())
        .collect();
    assert_eq!(statuses(&t1.push(&sent)), vec![ItemStatus::Accepted; 5]);

    let state = till_entry(&server_json(&server, &["server", "tills", "list"]), "T001");
    assert_eq!(state["highest_contiguous"], 2, "{state:#}");
    assert_eq!(state["highest_received"], 8, "{state:#}");
    assert_eq!(
        state["missing"],
        serde_json::json!([{"first": 3, "last": 4}, {"first": 7, "last": 7}]),
        "{state:#}"
    );
    assert_eq!(state["links_pending"], 2, "{state:#}");
    assert!(state["last_contact"].is_string(), "{state:#}");
    assert!(state["last_push"].is_string(), "{state:#}");
    // The versions of the till's tables, as it reported them in its pull.
    let tables = state["tables"].as_array().expect("tables");
    let art = tables.iter().find(|t| t["table"] == "ART").expect("ART");
    assert_eq!(art["version"], 1, "{state:#}");
    let text = server_text(&server, &["server", "tills", "list"]);
    assert!(text.contains("missing tickets 3–4"), "{text}");
    assert!(text.contains("missing ticket 7"), "{text}");
    assert!(text.contains("ART v1"), "{text}");
    let text = server_text(&server, &["server", "tickets"]);
    assert!(text.contains("till T001: missing tickets 3–4"), "{text}");
    assert!(text.contains("pending"), "{text}");
    // Another till's view is its own.
    let only_t2 = server_json(&server, &["server", "tickets", "--till", "T002"]);
    assert_eq!(only_t2, serde_json::json!([]));

    // The lost tickets arrive (out of order); the links close.
    let late: Vec<Ticket> = [6, 3, 2].iter().map(|&i| tickets[i].clone()).collect();
    assert_eq!(statuses(&t1.push(&late)), vec![ItemStatus::Accepted; 3]);
    let state = till_entry(&server_json(&server, &["server", "tills", "list"]), "T001");
    assert_eq!(state["highest_contiguous"], 8, "{state:#}");
    assert_eq!(state["missing"], serde_json::json!([]), "{state:#}");
    assert_eq!(state["links_pending"], 0, "{state:#}");
    let text = server_text(&server, &["server", "tills", "list"]);
    assert!(!text.contains("missing"), "{text}");

    // `server tickets --json`: the documented shape.
    let list = server_json(&server, &["server", "tickets", "--till", "T001"]);
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 8);
    for (i, t) in list.iter().enumerate() {
        assert_eq!(t["till"], "T001", "{t}");
        assert_eq!(t["number"], i as u64 + 1, "{t}");
        assert_eq!(t["time"], "2026-11-28T12:00:00Z", "{t}");
        assert_eq!(t["total_cents"], tickets[i].total_cents, "{t}");
        assert_eq!(t["status"], "verified", "{t}");
        assert_eq!(t["link"], "verified", "{t}");
    }
}

#[test]
fn noop_is_authenticated_and_records_the_contact() {
    let server = TestServer::start(50);
    let t1 = Seller::install(&server, "T001");
    let addr = server.web_addr;
    let get = |auth: Option<&str>| {
        let head = format!(
            "GET /api/v1/noop HTTP/1.1\r\nHost: {addr}\r\n{}Connection: close\r\n\r\n",
            auth.map(|a| format!("Authorization: {a}\r\n"))
                .unwrap_or_default()
        );
        raw(addr, &head, b"")
    };
    let (status, body) = get(None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("bad-credentials"), "{body}");
    let before = till_entry(&server_json(&server, &["server", "tills", "list"]), "T001");
    assert!(before["last_contact"].is_null(), "{before:#}");
    let (status, body) = get(Some(&t1.authorization()));
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["till"], "T001");
    let after = till_entry(&server_json(&server, &["server", "tills", "list"]), "T001");
    assert!(after["last_contact"].is_string(), "{after:#}");
    // An empty batch is answered and changes nothing.
    let answer = post_outbox(addr, &t1.authorization(), b"{\"items\": []}");
    assert_eq!(answer, (200, serde_json::json!({"results": []})));
}

/// On the wire, a batch holding a ticket with a bad signature or a broken
/// chain is answered 422 with a JSON reason; the ticket is in quarantine and
/// every item's result is in the answer.
#[test]
fn bad_signature_and_broken_chain_answer_422_with_a_json_reason() {
    let server = TestServer::start(50);
    let mut t1 = Seller::install(&server, "T001");
    let mut tickets = t1.sell_n(2);
    let forger = SigningKey::from_bytes(&[42u8; 32]);
    let digest = tickets[1].digest();
    tickets[1].signature = hex::encode(ed25519_dalek::Signer::sign(&forger, &digest).to_bytes());
    let body = serde_json::to_vec(&batch(&tickets)).unwrap();
    let answer = post_outbox(server.web_addr, &t1.authorization(), &body);
    assert_error(&answer, 422, "quarantined");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("signature is not this till's"),
        "{answer:?}"
    );
    assert_eq!(answer.1["results"][0]["status"], "accepted", "{answer:?}");
    assert_eq!(
        answer.1["results"][1]["status"], "quarantined",
        "{answer:?}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM tillsync_ticket_quarantine"),
        1
    );

    t1.prev = "cd".repeat(32);
    let broken = t1.sell();
    let body = serde_json::to_vec(&batch(std::slice::from_ref(&broken))).unwrap();
    let answer = post_outbox(server.web_addr, &t1.authorization(), &body);
    assert_error(&answer, 422, "quarantined");
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("chain broken"),
        "{answer:?}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM tillsync_ticket_quarantine"),
        2
    );
    // Only the good ticket is among the verified ones.
    assert_eq!(count(&server, "SELECT COUNT(*) FROM TICKET"), 1);
}

/// The last contact the server recorded for `till`.
fn last_contact(server: &TestServer, till: &str) -> Option<String> {
    server
        .store()
        .tills()
        .expect("tills")
        .into_iter()
        .find(|t| t.till_id == till)
        .and_then(|t| t.last_contact)
}

#[test]
fn a_ping_with_credentials_counts_as_contact_and_a_ping_without_still_answers() {
    let server = TestServer::start(20);
    let seller = Seller::install(&server, "T001");
    let addr = server.web_addr;
    assert_eq!(last_contact(&server, "T001"), None, "no contact yet");

    // Anonymous and wrongly authenticated pings answer and record nothing.
    let (status, body) = raw(
        addr,
        &format!("GET /api/v1/ping HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = raw(
        addr,
        &format!(
            "GET /api/v1/ping HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer T001:wrong\r\nConnection: close\r\n\r\n"
        ),
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        last_contact(&server, "T001"),
        None,
        "a bad token is no contact"
    );

    // The till's own ping (it sends its credentials) is a contact.
    let ping = seller.client().ping().expect("ping");
    assert_eq!(ping.status, "ok");
    assert!(
        last_contact(&server, "T001").is_some(),
        "an authenticated ping records the till's contact"
    );
}
