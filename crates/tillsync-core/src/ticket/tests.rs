//! Tests of tickets: version 1 as it was (the literal example of
//! `docs/tickets.md` still hashes the same), version 2's weights,
//! discounts, voids, change, payment methods, cashier and training mode,
//! every refusal, and the content check.

use ed25519_dalek::SigningKey;

use super::*;

fn item(code: &str, price: i64, rate: i64) -> PricedItem {
    PricedItem {
        code: code.into(),
        label: format!("Article {code}"),
        price_cents: price,
        vat_rate_bp: rate,
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

/// The version-1 sale of the literal example.
fn sale() -> Sale {
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
}

#[test]
fn totals_per_vat_rate() {
    let t = sale()
        .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &key())
        .unwrap();
    // The literal example of docs/tickets.md.
    assert_eq!(
        t.hash,
        "eff5fb2a40ac08f8da6adc74560526586856dfb0004b9628abfa7f5654e74511"
    );
    assert_eq!(t.total_cents, 597 + 1250 + 198);
    let food = &t.vat_totals[0];
    assert_eq!((food.rate_bp, food.total_cents), (550, 795));
    assert_eq!(food.base_cents, 754); // 795 / 1.055 = 753.55
    assert_eq!(food.vat_cents, 41);
    let std = &t.vat_totals[1];
    assert_eq!((std.base_cents, std.vat_cents), (1042, 208)); // 1250 / 1.2 = 1041.67
    assert_eq!(t.lines[0].total_excl_cents, 566); // 597 / 1.055 = 565.88
}

#[test]
fn chain_verifies_and_detects_tampering() {
    let k = key();
    let t1 = sale()
        .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &k)
        .unwrap();
    let t2 = weighed()
        .seal("T001", 2, "2026-11-28T12:01:00Z", &t1.hash, &k)
        .unwrap();
    t1.verify(&k.verifying_key(), GENESIS_HASH).unwrap();
    t2.verify(&k.verifying_key(), &t1.hash).unwrap();
    for alter in [
        |t: &mut Ticket| t.lines[0].unit_price_cents = 1,
        |t: &mut Ticket| t.lines[0].quantity_milli += 1,
        |t: &mut Ticket| t.lines[1].discount_cents += 1,
        |t: &mut Ticket| t.lines[2].voided = false,
        |t: &mut Ticket| t.discount_cents = 0,
        |t: &mut Ticket| t.vat_totals[0].discount_cents += 1,
        |t: &mut Ticket| t.change_cents = 0,
        |t: &mut Ticket| t.cashier = None,
        |t: &mut Ticket| t.training = true,
    ] {
        let mut altered = t2.clone();
        alter(&mut altered);
        assert!(
            matches!(
                altered.verify(&k.verifying_key(), &t1.hash),
                Err(ChainError::Hash { .. })
            ),
            "{altered:?}"
        );
    }
    let other = SigningKey::from_bytes(&[8u8; 32]);
    assert!(matches!(
        t2.verify(&other.verifying_key(), &t1.hash),
        Err(ChainError::Signature { .. })
    ));
    assert!(matches!(
        t2.verify(&k.verifying_key(), GENESIS_HASH),
        Err(ChainError::Link { .. })
    ));
}

#[test]
fn a_version_1_ticket_cannot_carry_version_2_content() {
    let k = key();
    let t = sale()
        .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &k)
        .unwrap();
    // Version 2 fields on a version-1 ticket are outside its hash: such a
    // ticket never verifies, and its digest is none that was ever sealed.
    for alter in [
        |t: &mut Ticket| t.lines[0].quantity_milli += 1,
        |t: &mut Ticket| t.lines[0].discount_cents = 5,
        |t: &mut Ticket| t.lines[0].voided = true,
        |t: &mut Ticket| t.discount_cents = 5,
        |t: &mut Ticket| t.change_cents = 5,
        |t: &mut Ticket| t.cashier = Some("Eve".into()),
        |t: &mut Ticket| t.training = true,
        |t: &mut Ticket| t.vat_totals[0].discount_cents = 5,
        |t: &mut Ticket| t.version = 3,
    ] {
        let mut altered = t.clone();
        alter(&mut altered);
        assert_ne!(hex::encode(altered.digest()), t.hash);
        let e = altered
            .verify(&k.verifying_key(), GENESIS_HASH)
            .unwrap_err();
        assert!(matches!(e, ChainError::Version { .. }), "{e}");
    }
    // Version 1 seals only what version 1 holds.
    let mut s = sale();
    s.lines[0].quantity_milli = 2500;
    let e = s.seal("T001", 1, "t", GENESIS_HASH, &k).unwrap_err();
    assert!(e.to_string().contains("version 1"), "{e}");
}

/// The ```json blocks of docs/tickets.md, in order.
fn doc_examples() -> Vec<Ticket> {
    let doc = include_str!("../../../../docs/tickets.md");
    doc.split("```json\n")
        .skip(1)
        .map(|b| serde_json::from_str(b.split("```").next().unwrap()).unwrap())
        .collect()
}

#[test]
fn the_literal_examples_of_the_docs_verify() {
    let k = key().verifying_key();
    let docs = doc_examples();
    assert_eq!(docs.len(), 2, "a version-1 and a version-2 example");
    let v1 = sale()
        .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &key())
        .unwrap();
    assert_eq!(docs[0], v1);
    assert_eq!(docs[0].version, 1);
    docs[0].verify(&k, GENESIS_HASH).unwrap();
    let v2 = example_v2();
    assert_eq!(docs[1], v2);
    docs[1].verify(&k, &v1.hash).unwrap();
}

/// A version-2 sale: 0.485 kg at 3.49 €/kg (5.5 %), a bottle at 12.50 €
/// (20 %) with 1.50 € off, two loaves voided; 1.00 € off the ticket;
/// 5.00 € by card and 10.00 € in cash, change given.
fn weighed() -> Sale {
    Sale {
        lines: vec![
            SaleItem {
                quantity_milli: 485,
                ..SaleItem::units(item("POMME", 349, 550), 1)
            },
            SaleItem {
                discount_cents: 150,
                ..SaleItem::units(item("VIN", 1250, 2000), 1)
            },
            SaleItem {
                voided: true,
                ..SaleItem::units(item("PAIN", 120, 550), 2)
            },
        ],
        discount_cents: 100,
        payments: vec![
            Payment {
                method: "card".into(),
                amount_cents: 500,
            },
            Payment {
                method: CASH.into(),
                amount_cents: 1000,
            },
        ],
        cashier: Some("Marie".into()),
        ..Sale::default()
    }
}

/// The literal version-2 example of docs/tickets.md: ticket 2 of T001,
/// after the version-1 example.
fn example_v2() -> Ticket {
    let v1 = sale()
        .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &key())
        .unwrap();
    weighed()
        .seal("T001", 2, "2026-12-04T09:30:00Z", &v1.hash, &key())
        .unwrap()
}

#[test]
fn weights_discounts_voids_and_change() {
    let t = example_v2();
    assert_eq!(t.version, 2);
    // 0.485 × 3.49 = 1.69265 → 1.69 €.
    assert_eq!(t.lines[0].total_incl_cents, 169);
    assert_eq!(t.lines[0].quantity_text(), "0.485");
    assert_eq!(t.lines[1].total_incl_cents, 1100);
    assert_eq!(t.lines[1].gross_cents(), 1250);
    assert_eq!(t.lines[1].total_excl_cents, 917); // 1100 / 1.2 = 916.67
    // The voided line keeps its figures and is out of the totals.
    assert!(t.lines[2].voided);
    assert_eq!(t.lines[2].total_incl_cents, 240);
    assert_eq!(t.active_lines().count(), 2);
    // 1.00 € spread: 100 × 169/1269 = 13.3 → 13; 100 × 1100/1269 = 86.7 → 87.
    let (food, std) = (&t.vat_totals[0], &t.vat_totals[1]);
    assert_eq!(
        (food.rate_bp, food.discount_cents, food.total_cents),
        (550, 13, 156)
    );
    assert_eq!((food.base_cents, food.vat_cents), (148, 8)); // 156 / 1.055 = 147.87
    assert_eq!(
        (std.rate_bp, std.discount_cents, std.total_cents),
        (2000, 87, 1013)
    );
    assert_eq!((std.base_cents, std.vat_cents), (844, 169)); // 1013 / 1.2 = 844.17
    assert_eq!(t.total_cents, 169 + 1100 - 100);
    assert_eq!(t.discounts_cents(), 250);
    assert_eq!(t.change_cents, 1500 - 1169);
    assert_eq!(t.cash_kept_cents(), 1000 - 331);
    let net = t.net_payments();
    assert_eq!((net["card"], net["cash"]), (500, 669));
    assert_eq!(net.values().sum::<i64>(), t.total_cents);
    assert_eq!(t.cashier.as_deref(), Some("Marie"));
    assert!(!t.is_training() && !t.is_correction());
}

#[test]
fn training_is_in_the_encoding() {
    let k = key();
    let fiscal = weighed().seal("T001", 1, "t", GENESIS_HASH, &k).unwrap();
    let training = Sale {
        training: true,
        ..weighed()
    }
    .seal("T001", 1, "t", GENESIS_HASH, &k)
    .unwrap();
    assert!(training.is_training());
    assert_ne!(fiscal.hash, training.hash);
    training.verify(&k.verifying_key(), GENESIS_HASH).unwrap();
}

#[test]
fn refusals() {
    let k = key();
    let refused = |s: Sale| s.seal("T", 1, "t", GENESIS_HASH, &k).unwrap_err();
    let mut s = weighed();
    s.lines.clear();
    assert_eq!(refused(s), TicketError::Empty);
    for (change, needle) in [
        (
            (|s: &mut Sale| s.lines[0].quantity_milli = 0) as fn(&mut Sale),
            "quantity 0 for item POMME is not allowed: it is zero",
        ),
        (
            |s| s.lines[0].quantity_milli = -1000,
            "quantity -1 for item POMME is not allowed: negative quantities belong on a correction",
        ),
        (
            |s| s.lines[1].discount_cents = 1251,
            "discount of 1251 cents on line 2 (item VIN) is not allowed: it is above the line's amount of 1250 cents",
        ),
        (|s| s.lines[1].discount_cents = -1, "cannot be negative"),
        (
            |s| s.discount_cents = 1270,
            "ticket discount of 1270 cents is not allowed: it is above the ticket's amount of 1269 cents",
        ),
        (
            |s| s.payments[0].method = "bitcoin".into(),
            "payment method \"bitcoin\" is not allowed: the allowed ones are cash, card, cheque, voucher",
        ),
        (
            |s| s.payments[1].amount_cents = 100,
            "payments of 600 cents do not cover the total of 1169 cents",
        ),
        (
            |s| s.payments[0].amount_cents = 1200,
            "payments other than cash come to 1200 cents, more than the total of 1169 cents",
        ),
        (|s| s.payments[0].amount_cents = 0, "must be positive"),
        (
            |s| s.payments[0].method = String::new(),
            "the method is empty",
        ),
        (
            |s| s.lines.iter_mut().for_each(|l| l.voided = true),
            "every line of the ticket is voided",
        ),
        (
            |s| s.cashier = Some(" ".into()),
            "cashier name \" \" is not valid: it is empty",
        ),
        (|s| s.cashier = Some("a\tb".into()), "control characters"),
        (|s| s.cashier = Some("x".repeat(65)), "longer than 64"),
        (|s| s.version = 3, "version 3"),
        (
            |s| {
                s.payment_methods = vec!["card".into()];
                s.payments.truncate(1);
                s.payments[0].amount_cents = 1169;
                s.payments[0].method = "cash".into();
            },
            "the allowed ones are card",
        ),
    ] {
        let mut s = weighed();
        change(&mut s);
        let e = refused(s).to_string();
        assert!(e.contains(needle), "{needle}: {e}");
    }
    // Only cash may exceed; an exact card payment with no cash is fine.
    let mut s = weighed();
    s.payments = vec![Payment {
        method: "card".into(),
        amount_cents: 1169,
    }];
    assert_eq!(
        s.seal("T", 1, "t", GENESIS_HASH, &k).unwrap().change_cents,
        0
    );
}

#[test]
fn correction_ticket_has_negative_lines() {
    let k = key();
    let s = Sale {
        lines: vec![SaleItem {
            discount_cents: -20,
            ..SaleItem::units(item("A", 199, 550), -1)
        }],
        payments: vec![Payment {
            method: "cash".into(),
            amount_cents: -179,
        }],
        corrects: Some(1),
        ..Sale::default()
    };
    let t = s.seal("T001", 2, "t", GENESIS_HASH, &k).unwrap();
    assert_eq!(t.total_cents, -179);
    assert_eq!(t.lines[0].total_excl_cents, -170); // -179 / 1.055 = -169.67
    assert!(t.is_correction());
    assert_eq!(t.net_payments()["cash"], -179);
    for (change, needle) in [
        (
            (|s: &mut Sale| s.lines[0].quantity_milli = 1000) as fn(&mut Sale),
            "a correction ticket holds negative quantities",
        ),
        (|s| s.lines[0].discount_cents = 20, "negative amounts"),
        (
            |s| s.payments[0].amount_cents = -100,
            "refunds of -100 cents do not equal",
        ),
        (
            |s| s.payments[0].amount_cents = 179,
            "a refund is a negative amount",
        ),
        (|s| s.discount_cents = 5, "negative amount"),
    ] {
        let mut s2 = s.clone();
        change(&mut s2);
        let e = s2
            .seal("T001", 2, "t", GENESIS_HASH, &k)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn the_content_check_recomputes_what_the_till_sent() {
    let k = key();
    let methods = default_payment_methods();
    let honest = example_v2();
    honest.check_content(&methods).unwrap();
    // A till that lies signs its lie: the hash holds, the figures do not.
    let lie = |f: fn(&mut Ticket)| {
        let mut t = honest.clone();
        f(&mut t);
        let d = t.digest();
        t.hash = hex::encode(d);
        t.signature = hex::encode(ed25519_dalek::Signer::sign(&k, &d).to_bytes());
        t.verify(&k.verifying_key(), &honest.prev_hash).unwrap();
        t.check_content(&methods).unwrap_err()
    };
    for (f, needle) in [
        (
            (|t: &mut Ticket| t.total_cents -= 100) as fn(&mut Ticket),
            "total_cents is 1069, but the sale rules give 1169",
        ),
        (
            |t| t.lines[0].total_incl_cents = 100,
            "line 1 total_incl_cents is 100",
        ),
        (
            |t| t.vat_totals[1].vat_cents = 0,
            "VAT total of rate 2000 vat_cents is 0",
        ),
        (
            |t| t.vat_totals.pop().map(drop).unwrap_or(()),
            "the number of VAT totals",
        ),
        (
            |t| t.change_cents = 0,
            "change_cents is 0, but the sale rules give 331",
        ),
        (|t| t.lines[0].quantity_milli = 0, "it is zero"),
        (
            |t| t.lines[1].discount_cents = 2000,
            "above the line's amount",
        ),
        (
            |t| t.payments[0].method = "bitcoin".into(),
            "\"bitcoin\" is not allowed",
        ),
        (|t| t.payments[0].amount_cents = 1, "do not cover"),
    ] {
        let e = lie(f);
        assert!(
            e.contains(needle) && e.contains("ticket T001/2"),
            "{needle}: {e}"
        );
    }
    // Version-1 tickets keep their own rules (hash, signature, chain).
    let mut v1 = doc_examples().remove(0);
    v1.payments[0].method = "bitcoin".into();
    v1.check_content(&methods).unwrap();
}
