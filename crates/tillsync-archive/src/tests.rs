//! Round trips of the archive format, its literal example in
//! `docs/fiscal-archive.md`, and what a changed byte or another key gives.

use ed25519_dalek::SigningKey;
use tillsync_core::fiscal::closing::{ClosingBody, Period, Span, Totals};
use tillsync_core::fiscal::ledger::{Anchors, Ends, Ledger, PeriodName};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, Draft, EVENT_CHAIN};
use tillsync_core::fiscal::verify::keys::ExpectedKey;
use tillsync_core::fiscal::verify::report::Subject;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, Ticket};

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
    let sales = [
        (
            vec![
                (item("A", "Pain", 120, 550), 2),
                (item("B", "Vin", 900, 2000), 1),
            ],
            "card",
            None,
        ),
        (vec![(item("A", "Pain", 120, 550), -1)], "cash", Some(1)),
    ];
    let mut tickets: Vec<Ticket> = Vec::new();
    let mut totals = Totals::default();
    for (i, (lines, method, corrects)) in sales.into_iter().enumerate() {
        let total: i64 = lines.iter().map(|(it, q)| it.price_cents * q).sum();
        let sale = Sale {
            lines,
            payments: vec![Payment {
                method: method.into(),
                amount_cents: total,
            }],
            customer: None,
            corrects,
        };
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
        to_number: 2,
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

fn write(dir: &std::path::Path) -> Vec<u8> {
    let key = till_key();
    let meta = ArchiveMeta {
        made_by: Role::Till,
        folder: "Demo",
        store: "S001",
        created_at: "2026-12-04T19:05:00Z",
        software: "tillsync 0.1.0",
        till_key: &key.verifying_key(),
    };
    let out = dir.join("T001-2026-12-04.zip");
    write_archive(&example(), &meta, &key, &out).unwrap();
    std::fs::read(&out).unwrap()
}

fn entry(zip: &[u8], name: &str) -> String {
    let entries = crate::zipfile::read(zip, &crate::read::entry_names()).unwrap();
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
        (2, 1)
    );
}

#[test]
fn a_changed_byte_or_another_key_is_a_break() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write(dir.path());
    let key = till_key().verifying_key();
    verify_archive(&zip, Some(&ExpectedKey::Key(key))).unwrap();
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
    let entries = crate::zipfile::read(zip, &crate::read::entry_names()).unwrap();
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
    let bad = reframed(&zip, swap(",1140,,,", ",1141,,,"));
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
