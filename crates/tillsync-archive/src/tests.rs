//! Round trips of the archive format, its literal example in
//! `docs/fiscal-archive.md`, and what a changed byte or another key gives.

use ed25519_dalek::SigningKey;
use tillsync_core::fiscal::closing::{ClosingBody, Period, Span, Totals};
use tillsync_core::fiscal::ledger::{Anchors, Ends, Ledger, PeriodName};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, Draft, EVENT_CHAIN};
use tillsync_core::fiscal::verify::keys::ExpectedKey;
use tillsync_core::fiscal::verify::report::Subject;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem, Ticket};
use tillsync_wire::keys::KeyHistoryFile;

use crate::manifest::{MANIFEST, Role};
use crate::tables::TICKETS;
use crate::verify::verify_archive;
use crate::write::{ArchiveMeta, write_archive};

/// The till key of the example: 32 bytes of 0x09, as in docs/tickets.md.
pub(crate) fn till_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

/// The example: till T001 sells two tickets on 4 December 2026 (Paris),
/// prints a duplicate, and closes the day.
pub(crate) fn example() -> Ledger {
    let key = till_key();
    let item = |code: &str, label: &str, price, rate| PricedItem {
        code: code.into(),
        label: label.into(),
        price_cents: price,
        vat_rate_bp: rate,
    };
    let pain = item("A", "Pain", 120, 550);
    // A version-1 ticket (sold before the till's upgrade), a version-2 one
    // (a weight, a line discount, a cashier, cash with change), and a
    // version-2 correction of the first.
    let sales = [
        Sale {
            version: 1,
            lines: vec![SaleItem::units(pain.clone(), 2)],
            payments: vec![Payment {
                method: "card".into(),
                amount_cents: 240,
            }],
            ..Sale::default()
        },
        Sale {
            lines: vec![
                SaleItem {
                    quantity_milli: 485,
                    ..SaleItem::units(item("C", "Comté (kg)", 2190, 550), 1)
                },
                SaleItem {
                    discount_cents: 50,
                    ..SaleItem::units(item("B", "Vin", 900, 2000), 1)
                },
            ],
            payments: vec![Payment {
                method: "cash".into(),
                amount_cents: 2000,
            }],
            cashier: Some("Marie".into()),
            ..Sale::default()
        },
        Sale {
            lines: vec![SaleItem::units(pain, -1)],
            payments: vec![Payment {
                method: "cash".into(),
                amount_cents: -120,
            }],
            corrects: Some(1),
            ..Sale::default()
        },
    ];
    let mut tickets: Vec<Ticket> = Vec::new();
    let mut totals = Totals::default();
    for (i, sale) in sales.into_iter().enumerate() {
        let prev = tickets
            .last()
            .map_or(GENESIS_HASH.to_string(), |t| t.hash.clone());
        let time = format!("2026-12-04T{:02}:15:00Z", 9 + i);
        let t = sale.seal("T001", i as u64 + 1, &time, &prev, &key).unwrap();
        totals.add_ticket(&t).unwrap();
        tickets.push(t);
    }
    let ev = Draft {
        till: "T001",
        chain: EVENT_CHAIN,
        time: "2026-12-04T11:00:00Z",
        kind: "reprint",
        body: r#"{"number":1,"reprint":1}"#.into(),
    }
    .seal(1, GENESIS_HASH, &key);
    totals.reprints = 1;
    let span = Span {
        period: Period::Day,
        name: "2026-12-04".into(),
        after_number: 0,
        to_number: 3,
        after_event: 0,
        to_event: 1,
        parts: vec![],
        perpetual_before: (0, 0),
    };
    let body = ClosingBody::new(span, &totals).unwrap();
    let closing = Draft {
        till: "T001",
        chain: CLOSING_CHAIN,
        time: "2026-12-04T19:00:00Z",
        kind: "day",
        body: body.to_json(),
    }
    .seal(1, GENESIS_HASH, &key);
    Ledger {
        till: "T001".into(),
        zone: "Europe/Paris".into(),
        period: Some(PeriodName::parse("2026-12-04").unwrap()),
        anchors: Anchors::genesis(),
        tickets,
        events: vec![ev],
        closings: vec![closing],
        ends: Ends::default(),
    }
}

/// The server key of the example: 32 bytes of 0x05, as in docs/till-keys.md.
fn server_key() -> SigningKey {
    SigningKey::from_bytes(&[5; 32])
}

/// The till's key history: the literal example of docs/till-keys.md.
fn history() -> KeyHistoryFile {
    let record = r#"{"version": 1, "till": "T001", "seq": 1, "key_id": "dbc298251c51321b",
      "public_key": "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618",
      "valid_from": "2026-12-04T09:00:00Z", "recorded_at": "2026-12-04T09:00:03Z",
      "previous_key_id": null, "reason": "enrolment",
      "signature": "7b70e08784985f892a50a26a5654ad405bdc10ff6760da8aa6777fc91a2e69a43545493d8b8ca8b989a50455db7e6007565f59832ded0c30075294d9e6059008"}"#;
    KeyHistoryFile {
        format: tillsync_wire::keys::KEY_HISTORY_FORMAT.into(),
        till: "T001".into(),
        server_public_key: hex::encode(server_key().verifying_key().to_bytes()),
        records: vec![serde_json::from_str(record).unwrap()],
    }
}

fn write(dir: &std::path::Path) -> Vec<u8> {
    let key = till_key();
    let (h, server) = (history(), server_key().verifying_key());
    let meta = ArchiveMeta {
        made_by: Role::Till,
        folder: "Demo",
        store: "S001",
        created_at: "2026-12-04T19:05:00Z",
        software: "tillsync 0.1.0",
        till_key: &key.verifying_key(),
        key_history: Some((&h, &server)),
    };
    let out = dir.join("T001-2026-12-04.zip");
    write_archive(&example(), &meta, &key, &out).unwrap();
    std::fs::read(&out).unwrap()
}

fn entry(zip: &[u8], name: &str) -> String {
    let entries = crate::zipfile::read(zip).unwrap();
    let (_, data) = entries.into_iter().find(|(n, _)| n == name).unwrap();
    String::from_utf8(data.to_vec()).unwrap()
}

/// The fenced block after `heading` in the docs.
fn docs_block(heading: &str) -> String {
    let docs = include_str!("../../../docs/fiscal-archive.md");
    let at = docs
        .find(heading)
        .unwrap_or_else(|| panic!("{heading} in the docs"));
    let rest = &docs[at..];
    let start = rest.find("```").unwrap();
    let body = &rest[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn the_literal_example_of_the_docs() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write(dir.path());
    assert_eq!(entry(&zip, MANIFEST), docs_block("#### manifest.json"));
    assert_eq!(entry(&zip, TICKETS), docs_block("#### tickets.csv"));
    for part in [
        "ticket_lines.csv",
        "ticket_payments.csv",
        "ticket_vat.csv",
        "events.csv",
        "closings.csv",
        "key_history.json",
        "signature.json",
    ] {
        assert_eq!(
            entry(&zip, part),
            docs_block(&format!("#### {part}")),
            "{part}"
        );
    }
    let v = verify_archive(&zip, None).unwrap();
    assert_eq!(
        (v.summary.tickets.count, v.summary.closings_recomputed),
        (3, 1)
    );
}

#[test]
fn a_changed_byte_or_another_key_is_a_break() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write(dir.path());
    let key = till_key().verifying_key();
    verify_archive(&zip, Some(&ExpectedKey::Key(key))).unwrap();
    verify_archive(&zip, Some(&ExpectedKey::Key(server_key().verifying_key()))).unwrap();
    let other = SigningKey::from_bytes(&[1; 32]).verifying_key();
    let e = verify_archive(&zip, Some(&ExpectedKey::Key(other))).unwrap_err();
    assert_eq!(e.subject, Subject::Key, "{e}");
    // Every single byte changed: never intact, always a break named.
    for at in 0..zip.len() {
        let mut bad = zip.clone();
        bad[at] ^= 0x20;
        if let Ok(v) = verify_archive(&bad, None) {
            panic!("byte {at} changed and still intact: {:?}", v.summary);
        }
    }
}

#[test]
fn an_out_folder_is_refused_and_nothing_half_written_stays() {
    let dir = tempfile::tempdir().unwrap();
    let key = till_key();
    let meta = ArchiveMeta {
        made_by: Role::Till,
        folder: "Demo",
        store: "S001",
        created_at: "2026-12-04T19:05:00Z",
        software: "tillsync 0.1.0",
        till_key: &key.verifying_key(),
        key_history: None,
    };
    let e = write_archive(&example(), &meta, &key, dir.path()).unwrap_err();
    assert!(e.to_string().contains("is a folder"), "{e}");
    let mut l = example();
    l.period = None;
    let out = dir.path().join("a.zip");
    assert!(write_archive(&l, &meta, &key, &out).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The archive's entries with `f` applied, framed again (CRC-32 and
/// headers right): only the SHA-256s and the signature stand in the way.
fn reframed(zip: &[u8], f: impl Fn(&str, Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let entries = crate::zipfile::read(zip).unwrap();
    let mut z = crate::zipfile::ZipOut::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        let data = f(&name, data.to_vec());
        z.entry(&name, |w| w.write_all(&data)).unwrap();
    }
    z.finish().unwrap().into_inner()
}

#[test]
fn a_part_or_manifest_changed_and_framed_again_fails_on_its_sha256_or_signature() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write(dir.path());
    let swap = |from: &'static str, to: &'static str| {
        move |_: &str, d: Vec<u8>| String::from_utf8(d).unwrap().replace(from, to).into_bytes()
    };
    let bad = reframed(&zip, swap(",240,0,,,", ",241,0,,,"));
    let e = verify_archive(&bad, None).unwrap_err();
    assert_eq!(
        (e.subject.clone(), e.field.as_deref()),
        (Subject::Part(TICKETS.into()), Some("sha256"))
    );
    let bad = reframed(&zip, swap("2026-12-04T19:05:00Z", "2026-12-05T19:05:00Z"));
    let e = verify_archive(&bad, None).unwrap_err();
    assert_eq!(
        (e.subject.clone(), e.field.as_deref()),
        (Subject::Manifest, Some("signature")),
        "{e}"
    );
    verify_archive(&reframed(&zip, |_, d| d), None).unwrap();
}

#[test]
fn a_key_history_that_does_not_check_out_is_a_break() {
    let dir = tempfile::tempdir().unwrap();
    let key = till_key();
    let server = server_key().verifying_key();
    let out = dir.path().join("a.zip");
    let mut bad = history();
    bad.records[0].reason = serde_json::from_str("\"rotation\"").unwrap();
    let other_till = SigningKey::from_bytes(&[7; 32]);
    for (h, k, what) in [
        (bad, &key, "key_history.json"),
        (history(), &other_till, "till_key"),
    ] {
        let meta = ArchiveMeta {
            made_by: Role::Till,
            folder: "Demo",
            store: "S001",
            created_at: "2026-12-04T19:05:00Z",
            software: "tillsync 0.1.0",
            till_key: &k.verifying_key(),
            key_history: Some((&h, &server)),
        };
        write_archive(&example(), &meta, k, &out).unwrap();
        let e = verify_archive(&std::fs::read(&out).unwrap(), None).unwrap_err();
        assert!(e.to_string().contains(what), "{e}");
    }
}
