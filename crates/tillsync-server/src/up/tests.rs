//! Tests of the up path from a batch's body to the database: the checks
//! ([`crate::up::prepare`]) then the group commit
//! ([`crate::up::group_commit`]), on a server with demo data.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem};
use tillsync_server_db::store::BatchItem;
use tillsync_wire::api::{ItemStatus, OutboxBatch, OutboxItem, OutboxKind};

use crate::data::DataDir;
use crate::http::state::{AppState, lock};
use crate::http::till::Till;
use crate::up::item::batch_items;
use crate::up::prepare::prepare;

/// A server with demo data (tills T001, T002 of store S01) and a ticket
/// key for each.
fn server(dir: &std::path::Path) -> (Arc<AppState>, Vec<(Till, SigningKey)>) {
    let (data, _) = DataDir::init(&dir.join("srv"), "T", Some(20)).unwrap();
    let state = AppState::open(data).unwrap();
    let tills = ["T001", "T002"]
        .iter()
        .map(|id| {
            let key = tillsync_server_db::enrol::enrol_test_key(
                lock(&state).as_mut(),
                id,
                &tillsync_wire::sha256_hex(b"token"),
            )
            .unwrap();
            let store = lock(&state).till_store(id).unwrap();
            (
                Till {
                    id: id.to_string(),
                    store,
                    generation: None,
                },
                key,
            )
        })
        .collect();
    (state, tills)
}

/// The body of a batch of tickets 1..=n of `till`.
fn body(till: &str, key: &SigningKey, n: u64) -> Vec<u8> {
    let item = PricedItem {
        code: "ART0000001".into(),
        label: "item".into(),
        price_cents: 250,
        vat_rate_bp: 2000,
    };
    let mut prev = GENESIS_HASH.to_string();
    let items = (1..=n)
        .map(|number| {
            let t = Sale {
                lines: vec![SaleItem::units(item.clone(), 2)],
                payments: vec![Payment {
                    method: "card".into(),
                    amount_cents: 500,
                }],
                ..Sale::default()
            }
            .seal(till, number, "2026-11-28T12:00:00Z", &prev, key)
            .unwrap();
            prev = t.hash.clone();
            OutboxItem {
                key: format!("ticket:{number}"),
                kind: OutboxKind::Ticket,
                payload: serde_json::to_value(&t).unwrap(),
            }
        })
        .collect();
    serde_json::to_vec(&OutboxBatch { items }).unwrap()
}

fn tickets(state: &AppState) -> String {
    lock(state)
        .query_text("SELECT COUNT(*) FROM \"TICKET\"")
        .unwrap()
        .unwrap()
}

#[test]
fn a_group_of_batches_of_several_tills_is_stored_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let (state, tills) = server(dir.path());
    let prep = |(till, key): &(Till, SigningKey), n| {
        prepare(&state, till, &body(&till.id, key, n)).unwrap_or_else(|_| panic!())
    };
    // T001's batch twice in the same group (a resend racing the first
    // try): the second is answered duplicate, nothing stored twice.
    let group = [
        ("T001", prep(&tills[0], 3)),
        ("T002", prep(&tills[1], 2)),
        ("T001", prep(&tills[0], 3)),
    ];
    let items: Vec<Vec<BatchItem<'_>>> = group.iter().map(|(_, p)| batch_items(p)).collect();
    let batches: Vec<(&str, &[BatchItem<'_>])> = group
        .iter()
        .zip(&items)
        .map(|((t, _), i)| (*t, i.as_slice()))
        .collect();
    let results = lock(&state).ingest_batches(&batches);
    let statuses: Vec<Vec<ItemStatus>> = results
        .into_iter()
        .map(|r| r.unwrap().results.into_iter().map(|i| i.status).collect())
        .collect();
    assert_eq!(statuses[0], vec![ItemStatus::Accepted; 3]);
    assert_eq!(statuses[1], vec![ItemStatus::Accepted; 2]);
    assert_eq!(statuses[2], vec![ItemStatus::Duplicate; 3]);
    assert_eq!(tickets(&state), "5");
}

#[test]
fn batches_sent_at_once_through_the_commit_thread_are_all_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (state, tills) = server(dir.path());
    let handles: Vec<_> = tills
        .into_iter()
        .map(|(till, key)| {
            let state = state.clone();
            std::thread::spawn(move || {
                let items =
                    prepare(&state, &till, &body(&till.id, &key, 4)).unwrap_or_else(|_| panic!());
                let (_, r) = state
                    .group_commit
                    .submit(&state, till.id, items)
                    .blocking_recv()
                    .unwrap();
                r.unwrap()
            })
        })
        .collect();
    for h in handles {
        let r = h.join().unwrap();
        assert_eq!(r.results.len(), 4);
        assert!(r.results.iter().all(|i| i.status == ItemStatus::Accepted));
    }
    assert_eq!(tickets(&state), "8");
}

/// A signed ticket of `till` whose figures `lie` changed after the rules
/// computed them (the till signs its lie: hash and signature hold).
fn signed_lie(
    till: &str,
    key: &SigningKey,
    lie: fn(&mut tillsync_core::ticket::Ticket),
) -> Vec<u8> {
    use ed25519_dalek::Signer;
    let mut t = Sale {
        lines: vec![SaleItem {
            quantity_milli: 485,
            discount_cents: 10,
            ..SaleItem::units(
                PricedItem {
                    code: "ART0000001".into(),
                    label: "weighed".into(),
                    price_cents: 1299,
                    vat_rate_bp: 550,
                },
                1,
            )
        }],
        payments: vec![Payment {
            method: "cash".into(),
            amount_cents: 1000,
        }],
        ..Sale::default()
    }
    .seal(till, 1, "2026-12-04T10:00:00Z", GENESIS_HASH, key)
    .unwrap();
    lie(&mut t);
    let digest = t.digest();
    t.hash = hex::encode(digest);
    t.signature = hex::encode(key.sign(&digest).to_bytes());
    serde_json::to_vec(&OutboxBatch {
        items: vec![OutboxItem {
            key: "ticket:1".into(),
            kind: OutboxKind::Ticket,
            payload: serde_json::to_value(&t).unwrap(),
        }],
    })
    .unwrap()
}

#[test]
fn a_version_2_ticket_whose_figures_lie_is_quarantined_by_the_content_check() {
    let dir = tempfile::tempdir().unwrap();
    let (state, tills) = server(dir.path());
    let (till, key) = &tills[0];
    let check = |body: Vec<u8>| match prepare(&state, till, &body)
        .unwrap_or_else(|_| panic!())
        .remove(0)
    {
        crate::up::item::Prepared::Ticket { check, .. } => check,
        _ => panic!("not a ticket"),
    };
    // 0.485 × 12.99 = 6.30 − 0.10 = 6.20; 10.00 in cash: 3.80 change.
    assert_eq!(check(signed_lie(&till.id, key, |_| {})), Ok(()));
    for (lie, needle) in [
        (
            (|t: &mut tillsync_core::ticket::Ticket| t.total_cents = 520)
                as fn(&mut tillsync_core::ticket::Ticket),
            "total_cents is 520, but the sale rules give 620",
        ),
        (
            |t| t.change_cents = 0,
            "change_cents is 0, but the sale rules give 380",
        ),
        (
            |t| t.payments[0].method = "bitcoin".into(),
            "\"bitcoin\" is not allowed",
        ),
        (
            |t| t.lines[0].discount_cents = 700,
            "above the line's amount of 630 cents",
        ),
    ] {
        let e = check(signed_lie(&till.id, key, lie)).unwrap_err();
        assert!(
            e.contains(needle) && e.contains("ticket T001/1"),
            "{needle}: {e}"
        );
    }
    // A bad signature is said as such, before the content.
    let forged = SigningKey::from_bytes(&[42u8; 32]);
    let e = check(signed_lie(&till.id, &forged, |t| t.total_cents = 1)).unwrap_err();
    assert!(e.contains("signature"), "{e}");
}
