//! The receipt code: the literal example of `docs/receipts.md`, round trips,
//! a changed figure and another key refused, malformed codes named.

use super::*;
use crate::key_history::key_id;
use crate::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

/// The ticket of the literal example of `docs/tickets.md`.
fn ticket() -> Ticket {
    let item = |code: &str, price, rate| PricedItem {
        code: code.into(),
        label: format!("Article {code}"),
        price_cents: price,
        vat_rate_bp: rate,
    };
    Sale {
        version: 1,
        lines: vec![
            SaleItem::units(item("A", 199, 550), 3),
            SaleItem::units(item("B", 1250, 2000), 1),
            SaleItem::units(item("C", 99, 550), 2),
        ],
        payments: vec![Payment {
            method: "card".into(),
            amount_cents: 2045,
        }],
        ..Sale::default()
    }
    .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &key())
    .unwrap()
}

/// The literal example of `docs/receipts.md`.
const EXAMPLE: &str = "TSR1*T001*DBC298251C51321B*1*N*20261128T130000+0100*2045*550:754:41/2000:1042:208*5727WKSAVQEPRWTK3R2FMBJGLBUFNX5QABFZMKFL7J7VMVHHIUIQ*WCKODGEYBEV5VQ2UYE7UHSWRCSAVP5YPU5BCSWEGPWLS2DRDR6A6BFEF24CF5FGJVHALHNSZNAMTH4MAZCHV6O2H3BVPPRAB4XN54AI";

#[test]
fn the_literal_example_of_the_docs() {
    let k = key();
    let p = ReceiptPayload::of(&ticket(), &k.verifying_key(), &LocalZone::paris()).unwrap();
    assert_eq!(p.key_id, key_id(&k.verifying_key()));
    assert_eq!(p.local_time, "20261128T130000+0100");
    let text = p.sign(&k);
    assert_eq!(text, EXAMPLE);
    // Upper case, digits and `*:/+-` only: the QR alphanumeric mode.
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"*:/+-".contains(&b)),
        "{text}"
    );
    let read = SignedReceipt::parse(EXAMPLE).unwrap();
    assert_eq!(read.payload, p);
    read.verify(&k.verifying_key()).unwrap();
    assert_eq!(
        read.payload.instant().unwrap().to_string(),
        "2026-11-28T12:00:00Z"
    );
    let docs = include_str!("../../../../../docs/receipts.md");
    assert!(
        docs.contains(EXAMPLE),
        "docs/receipts.md lacks the literal example"
    );
    assert!(docs.contains("`dbc298251c51321b`"));
}

#[test]
fn a_changed_figure_is_refused() {
    let k = key();
    for (from, to) in [
        ("*2045*", "*2046*"),
        ("*1*N*", "*2*N*"),
        ("*1*N*", "*1*E*"),
        ("T130000", "T130001"),
        ("2000:1042:208", "2000:1042:207"),
    ] {
        let changed = EXAMPLE.replacen(from, to, 1);
        assert_ne!(changed, EXAMPLE);
        let e = SignedReceipt::parse(&changed)
            .unwrap()
            .verify(&k.verifying_key())
            .unwrap_err();
        assert!(matches!(e, ReceiptError::Signature { .. }), "{from}: {e}");
        assert!(e.to_string().contains("changed"), "{e}");
    }
}

#[test]
fn another_key_is_refused() {
    let other = SigningKey::from_bytes(&[8u8; 32]);
    let e = SignedReceipt::parse(EXAMPLE)
        .unwrap()
        .verify(&other.verifying_key())
        .unwrap_err();
    assert!(matches!(e, ReceiptError::OtherKey { .. }), "{e}");
    assert!(e.to_string().contains("dbc298251c51321b"), "{e}");
    // A code signed by another key that claims the till's key id.
    let p = SignedReceipt::parse(EXAMPLE).unwrap().payload;
    let forged = p.sign(&other);
    let e = SignedReceipt::parse(&forged)
        .unwrap()
        .verify(&key().verifying_key())
        .unwrap_err();
    assert!(matches!(e, ReceiptError::Signature { .. }), "{e}");
}

#[test]
fn training_tickets_say_so() {
    let k = key();
    let mut training = ticket();
    training.training = true;
    let p = ReceiptPayload::of(&training, &k.verifying_key(), &LocalZone::paris()).unwrap();
    let text = p.sign(&k);
    assert!(text.contains("*1*E*"), "{text}");
    assert!(SignedReceipt::parse(&text).unwrap().payload.training);
}

#[test]
fn malformed_codes_are_named() {
    for (text, needle) in [
        ("hello", "does not start with TSR1"),
        ("TSR1*T001", "has 2 fields"),
        (&EXAMPLE.replace("*T001*", "*T 01*"), "field till"),
        (
            &EXAMPLE.replace("DBC298251C51321B", "dbc298251c51321b"),
            "field key id",
        ),
        (&EXAMPLE.replace("*1*N*", "*x*N*"), "field number"),
        (&EXAMPLE.replace("*1*N*", "*1*Z*"), "field mode"),
        (&EXAMPLE.replace("+0100", ""), "field time"),
        (&EXAMPLE.replace("*2045*", "*20,45*"), "field total"),
        (&EXAMPLE.replace("550:754:41/", "550:754/"), "field VAT"),
        (&EXAMPLE.replace("*5727", "*572"), "field hash"),
        (&format!("{EXAMPLE}A"), "field signature"),
    ] {
        let e = SignedReceipt::parse(text).unwrap_err().to_string();
        assert!(e.contains(needle), "{text}: {e}");
    }
    // Blanks around the text (a scanner's newline) are ignored.
    assert!(SignedReceipt::parse(&format!(" {EXAMPLE}\n")).is_ok());
}
