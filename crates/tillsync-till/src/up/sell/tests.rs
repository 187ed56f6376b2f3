//! Tests of selling: pricing, numbering, chaining and queuing; every
//! refusal recording nothing; corrections; version-2 sales (weights,
//! discounts, voids, change, payment methods, cashier); training mode;
//! idempotency keys.

use super::*;
use tillsync_core::ticket::{GENESIS_HASH, parse_quantity};
use tillsync_till_db::up as till_up;

fn register() -> (tempfile::TempDir, Register) {
    let dir = tempfile::tempdir().unwrap();
    let db = TillDb::open(&dir.path().join(DB_FILE)).unwrap();
    db.conn()
        .execute_batch(
            "CREATE TABLE ART(code TEXT PRIMARY KEY, label TEXT NOT NULL,
               price_cents INTEGER NOT NULL, vat_rate_bp INTEGER NOT NULL, family TEXT);
             INSERT INTO ART VALUES ('A', 'Baguette', 120, 550, NULL),
               ('B', 'Vin rouge', 900, 2000, NULL), ('P', 'Pommes', 349, 550, NULL);
             CREATE TABLE CLI(code TEXT PRIMARY KEY, name TEXT NOT NULL);
             INSERT INTO CLI VALUES ('C0001', 'Dupont');",
        )
        .unwrap();
    let reg = Register {
        till: "T001".into(),
        key: SigningKey::from_bytes(&[5u8; 32]),
        payment_methods: tillsync_core::ticket::default_payment_methods(),
        db,
    };
    (dir, reg)
}

fn req(lines: &[(&str, i64)], payments: &[(&str, Option<i64>)]) -> SaleRequest {
    SaleRequest {
        lines: lines.iter().map(|(i, q)| SaleLine::units(i, *q)).collect(),
        payments: payments
            .iter()
            .map(|(m, a)| SalePayment {
                method: m.to_string(),
                amount_cents: *a,
            })
            .collect(),
        ..SaleRequest::default()
    }
}

/// (tickets, outbox items, lines, payments)
fn counts(reg: &Register) -> (i64, i64, i64, i64) {
    let c = |t: &str| -> i64 {
        reg.db
            .conn()
            .query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0))
            .unwrap()
    };
    (
        c("TICKET"),
        c("tillsync_outbox"),
        c("TICKET_LINE"),
        c("TICKET_PAYMENT"),
    )
}

#[test]
fn a_sale_is_priced_numbered_signed_and_queued() {
    let (_d, mut reg) = register();
    let t = reg
        .sell(&req(
            &[("A", 3), ("B", 1)],
            &[("cash", Some(500)), ("card", None)],
        ))
        .unwrap();
    assert_eq!(t.number, 1);
    assert_eq!(t.till, "T001");
    assert_eq!(t.prev_hash, GENESIS_HASH);
    assert_eq!(t.total_cents, 360 + 900);
    assert_eq!(t.lines[0].label, "Baguette");
    assert_eq!(t.payments[1].amount_cents, 1260 - 500);
    t.verify(&reg.key.verifying_key(), GENESIS_HASH).unwrap();
    let t2 = reg.sell(&req(&[("A", 1)], &[("cash", None)])).unwrap();
    assert_eq!(t2.number, 2);
    t2.verify(&reg.key.verifying_key(), &t.hash).unwrap();
    assert_eq!(counts(&reg), (2, 2, 3, 3));
    let outbox = reg.db.outbox_batch(10).unwrap();
    assert_eq!(outbox[1].key, "ticket:2");
    assert_eq!(
        serde_json::from_str::<Ticket>(&outbox[1].payload).unwrap(),
        t2
    );
}

#[test]
fn refusals_record_nothing() {
    let (_d, mut reg) = register();
    reg.sell(&req(&[("A", 1)], &[("cash", None)])).unwrap();
    let before = counts(&reg);
    let with_customer = |c: &str| SaleRequest {
        customer: Some(c.into()),
        ..req(&[("A", 1)], &[("cash", None)])
    };
    for (r, needle) in [
        (req(&[], &[("cash", None)]), "at least one line"),
        (req(&[("NOPE", 1)], &[("cash", None)]), "unknown item NOPE"),
        (req(&[("A", 0)], &[("cash", None)]), "is zero"),
        (req(&[("A", -1)], &[("cash", None)]), "correction"),
        (req(&[("A", 2)], &[("cash", Some(200))]), "do not cover"),
        (req(&[("A", 2)], &[]), "do not cover"),
        (
            req(&[("A", 1)], &[("cash", None), ("card", None)]),
            "only one payment",
        ),
        (
            req(&[("A", 1)], &[("cash", Some(120)), ("card", None)]),
            "nothing left to pay",
        ),
        (req(&[("A", 1)], &[("", None)]), "method is empty"),
        (with_customer("C9999"), "unknown customer C9999"),
        (
            SaleRequest {
                corrects: Some(7),
                ..req(&[("A", -1)], &[("cash", None)])
            },
            "ticket 7 does not exist",
        ),
    ] {
        let e = reg.sell(&r).unwrap_err();
        assert!(matches!(e, TillError::Sale(_)), "{r:?}: {e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(needle) && msg.contains("nothing recorded"),
            "{r:?}: {msg}"
        );
        assert_eq!(counts(&reg), before, "{r:?}");
    }
    // Gap-free: the next good sale is number 2.
    let t = reg.sell(&with_customer("C0001")).unwrap();
    assert_eq!((t.number, t.customer.as_deref()), (2, Some("C0001")));
}

#[test]
fn no_items_loaded_yet() {
    let (_d, mut reg) = register();
    reg.db.conn().execute_batch("DROP TABLE ART").unwrap();
    let e = reg
        .sell(&req(&[("A", 1)], &[("cash", None)]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("never loaded") && e.contains("till sync"), "{e}");
}

#[test]
fn corrections_take_back_at_the_original_price() {
    let (_d, mut reg) = register();
    let orig = reg
        .sell(&req(&[("A", 3), ("B", 1)], &[("card", None)]))
        .unwrap();
    // The price changes after the sale.
    reg.db
        .conn()
        .execute("UPDATE ART SET price_cents = 999 WHERE code = 'A'", [])
        .unwrap();
    let fix = |lines: &[(&str, i64)]| SaleRequest {
        corrects: Some(orig.number),
        ..req(lines, &[("cash", None)])
    };
    let c = reg.sell(&fix(&[("A", -2)])).unwrap();
    assert_eq!(c.corrects, Some(1));
    assert_eq!(c.total_cents, -240);
    assert_eq!(c.payments[0].amount_cents, -240);
    assert_eq!(c.prev_hash, orig.hash);
    let before = counts(&reg);
    for (lines, needle) in [
        (
            &[("A", -2)][..],
            "exceeds what ticket 1 sold (3, of which 2",
        ),
        (&[("A", -1), ("A", -1)][..], "exceeds"),
        (&[("C", -1)][..], "item C is not on ticket 1"),
        (&[("A", 1)][..], "negative quantities"),
    ] {
        let e = reg.sell(&fix(lines)).unwrap_err().to_string();
        assert!(e.contains(needle), "{lines:?}: {e}");
        assert_eq!(counts(&reg), before);
    }
    let e = reg
        .sell(&SaleRequest {
            corrects: Some(c.number),
            ..req(&[("A", -1)], &[("cash", None)])
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("is itself a correction"), "{e}");
    let last = reg.sell(&fix(&[("A", -1), ("B", -1)])).unwrap();
    assert_eq!(last.total_cents, -120 - 900);
}

#[test]
fn request_json_for_a_front_end() {
    let r: SaleRequest = serde_json::from_str(
        r#"{"lines": [{"item": "A", "quantity": 2}], "payments": [{"method": "cash"}]}"#,
    )
    .unwrap();
    assert_eq!(r, req(&[("A", 2)], &[("cash", None)]));
}

/// `lines` as (item, quantity text, discount, voided).
fn v2(lines: &[(&str, &str, i64, bool)], payments: &[(&str, Option<i64>)]) -> SaleRequest {
    SaleRequest {
        lines: lines
            .iter()
            .map(|(i, q, d, v)| SaleLine {
                item: i.to_string(),
                quantity_milli: parse_quantity(q).unwrap(),
                discount_cents: *d,
                voided: *v,
            })
            .collect(),
        ..req(&[], payments)
    }
}

/// Training tickets and sale keys.
fn counts_v2(reg: &Register) -> (i64, i64) {
    let c = |t: &str| -> i64 {
        reg.db
            .conn()
            .query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0))
            .unwrap()
    };
    (c("TRAINING_TICKET"), c("tillsync_sale_keys"))
}

#[test]
fn a_weighed_item_with_discounts_voids_and_cash_change() {
    let (_d, mut reg) = register();
    let r = SaleRequest {
        discount_cents: 50,
        cashier: Some("Marie".into()),
        ..v2(
            &[
                ("P", "0.485", 0, false),
                ("B", "1", 100, false),
                ("A", "2", 0, true),
            ],
            &[("card", Some(300)), ("cash", Some(1000))],
        )
    };
    let t = reg.sell(&r).unwrap();
    assert_eq!(t.version, 2);
    assert_eq!(t.lines[0].total_incl_cents, 169); // 0.485 × 3.49 = 1.69265
    assert_eq!(t.lines[1].total_incl_cents, 800);
    assert!(t.lines[2].voided);
    assert_eq!(t.total_cents, 169 + 800 - 50);
    assert_eq!(t.change_cents, 1300 - 919);
    assert_eq!(t.cash_kept_cents(), 1000 - 381);
    assert_eq!(t.cashier.as_deref(), Some("Marie"));
    assert_eq!(
        t.vat_totals.iter().map(|v| v.discount_cents).sum::<i64>(),
        50
    );
    t.verify(&reg.key.verifying_key(), GENESIS_HASH).unwrap();
    let stored = till_up::load_ticket(reg.db.conn(), "T001", 1)
        .unwrap()
        .unwrap();
    assert_eq!(stored, t);
    // A payment without an amount takes what is due after the discounts.
    let t2 = reg
        .sell(&SaleRequest {
            discount_cents: 19,
            ..v2(&[("P", "0,485", 0, false)], &[("card", None)])
        })
        .unwrap();
    assert_eq!((t2.total_cents, t2.payments[0].amount_cents), (150, 150));
}

#[test]
fn version_2_refusals_record_nothing() {
    let (_d, mut reg) = register();
    reg.sell(&req(&[("A", 1)], &[("cash", None)])).unwrap();
    let before = (counts(&reg), counts_v2(&reg));
    for (r, needle) in [
        (
            v2(&[("P", "0", 0, false)], &[("cash", None)]),
            "quantity 0 for item P",
        ),
        (
            v2(&[("P", "-1", 0, false)], &[("cash", None)]),
            "quantity -1 for item P is not allowed: negative quantities belong on a correction",
        ),
        (
            v2(&[("B", "1", 901, false)], &[("cash", None)]),
            "discount of 901 cents on line 1 (item B) is not allowed: it is above the line's amount of 900 cents",
        ),
        (
            v2(&[("B", "1", -1, false)], &[("cash", None)]),
            "a discount cannot be negative",
        ),
        (
            SaleRequest {
                discount_cents: 901,
                ..v2(&[("B", "1", 0, false)], &[("cash", None)])
            },
            "ticket discount of 901 cents is not allowed: it is above the ticket's amount of 900",
        ),
        (
            v2(&[("B", "1", 0, false)], &[("bitcoin", None)]),
            "payment method \"bitcoin\" is not allowed: the allowed ones are cash, card, cheque, voucher",
        ),
        (
            v2(&[("B", "1", 0, false)], &[("card", Some(800))]),
            "payments of 800 cents do not cover the total of 900 cents",
        ),
        (
            v2(&[("B", "1", 0, false)], &[("card", Some(1000))]),
            "only cash may exceed what is due",
        ),
        (
            v2(&[("B", "1", 0, true)], &[("cash", None)]),
            "every line of the ticket is voided",
        ),
        (
            SaleRequest {
                cashier: Some(String::new()),
                ..v2(&[("B", "1", 0, false)], &[("cash", None)])
            },
            "cashier name \"\" is not valid",
        ),
        (
            SaleRequest {
                idempotency_key: Some(String::new()),
                ..v2(&[("B", "1", 0, false)], &[("cash", None)])
            },
            "idempotency key \"\" is not valid",
        ),
    ] {
        let e = reg.sell(&r).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, TillError::Sale(_))
                && msg.contains(needle)
                && msg.contains("nothing recorded"),
            "{needle}: {msg}"
        );
        assert_eq!((counts(&reg), counts_v2(&reg)), before, "{needle}");
    }
    assert_eq!(
        reg.sell(&req(&[("A", 1)], &[("cash", None)]))
            .unwrap()
            .number,
        2
    );
}

#[test]
fn the_till_sells_only_its_configured_payment_methods() {
    let (_d, mut reg) = register();
    reg.payment_methods = vec!["cash".into(), "ticket-resto".into()];
    let t = reg
        .sell(&req(&[("A", 1)], &[("ticket-resto", None)]))
        .unwrap();
    assert_eq!(t.payments[0].method, "ticket-resto");
    let e = reg
        .sell(&req(&[("A", 1)], &[("card", None)]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("the allowed ones are cash, ticket-resto"), "{e}");
}

#[test]
fn quantities_a_front_end_sends() {
    for (json, milli) in [
        (r#"{"item": "P", "quantity": 0.485}"#, 485),
        (r#"{"item": "P", "quantity": "0,485"}"#, 485),
        (r#"{"item": "P", "quantity": 2}"#, 2000),
        (r#"{"item": "P", "quantity_milli": 1500}"#, 1500),
    ] {
        let l: SaleLine = serde_json::from_str(json).unwrap();
        assert_eq!(l.quantity_milli, milli, "{json}");
    }
    for (json, needle) in [
        (
            r#"{"item": "P", "quantity": 1.2345}"#,
            "quantity \"1.2345\" is not valid: at most three decimals",
        ),
        (
            r#"{"item": "P", "quantity": "abc"}"#,
            "quantity \"abc\" is not valid",
        ),
        (r#"{"item": "P"}"#, "item P: no quantity"),
        (
            r#"{"item": "P", "quantity": 1, "quantity_milli": 1000}"#,
            "not both",
        ),
    ] {
        let e = serde_json::from_str::<SaleLine>(json)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{json}: {e}");
    }
    // What the till sends back reads again the same.
    let r = v2(&[("P", "0.485", 10, true)], &[("cash", Some(500))]);
    let back: SaleRequest = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn training_sales_are_numbered_and_chained_apart() {
    let (_d, mut reg) = register();
    let training = |lines: &[(&str, i64)]| SaleRequest {
        training: true,
        ..req(lines, &[("cash", None)])
    };
    let f1 = reg.sell(&req(&[("A", 1)], &[("cash", None)])).unwrap();
    let t1 = reg.sell(&training(&[("A", 3)])).unwrap();
    let t2 = reg.sell(&training(&[("B", 1)])).unwrap();
    let f2 = reg.sell(&req(&[("B", 1)], &[("cash", None)])).unwrap();
    assert_eq!((f1.number, t1.number, t2.number, f2.number), (1, 1, 2, 2));
    assert!(t1.is_training() && !f2.is_training());
    assert_eq!(t1.prev_hash, GENESIS_HASH);
    assert_eq!(t2.prev_hash, t1.hash);
    assert_eq!(f2.prev_hash, f1.hash);
    t2.verify(&reg.key.verifying_key(), &t1.hash).unwrap();
    // A training correction corrects a training ticket.
    let c = reg
        .sell(&SaleRequest {
            corrects: Some(1),
            ..training(&[("A", -1)])
        })
        .unwrap();
    assert_eq!((c.number, c.total_cents, c.training), (3, -120, true));
    let e = reg
        .sell(&SaleRequest {
            corrects: Some(5),
            ..training(&[("A", -1)])
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("training ticket 5 does not exist"), "{e}");
    assert_eq!(counts(&reg).0, 2);
    assert_eq!(counts_v2(&reg).0, 3);
    let keys: Vec<String> = reg
        .db
        .outbox_batch(10)
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(
        keys,
        [
            "ticket:1",
            // Each training sale says so in the event log, in its transaction.
            "record:event:1",
            "training:1",
            "record:event:2",
            "training:2",
            "ticket:2",
            "record:event:3",
            "training:3"
        ]
    );
}

#[test]
fn a_retried_sale_with_its_key_gives_the_same_ticket() {
    let (_d, mut reg) = register();
    let keyed = |key: &str, lines: &[(&str, i64)]| SaleRequest {
        idempotency_key: Some(key.into()),
        ..req(lines, &[("cash", None)])
    };
    let first = reg.sell(&keyed("front-1:0042", &[("A", 2)])).unwrap();
    let before = (counts(&reg), counts_v2(&reg));
    let again = reg.sell(&keyed("front-1:0042", &[("A", 2)])).unwrap();
    assert_eq!(again, first);
    assert_eq!((counts(&reg), counts_v2(&reg)), before);
    let e = reg
        .sell(&keyed("front-1:0042", &[("A", 3)]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("idempotency key \"front-1:0042\" was already used for another sale: ticket 1")
            && e.contains("nothing recorded"),
        "{e}"
    );
    assert_eq!((counts(&reg), counts_v2(&reg)), before);
    // Another key is another sale; no key, no record.
    assert_eq!(
        reg.sell(&keyed("front-1:0043", &[("A", 2)]))
            .unwrap()
            .number,
        2
    );
    assert_eq!(
        reg.sell(&req(&[("A", 2)], &[("cash", None)]))
            .unwrap()
            .number,
        3
    );
    assert_eq!(counts_v2(&reg).1, 2);
}

#[test]
fn corrections_take_back_discounts_in_proportion() {
    let (_d, mut reg) = register();
    // 3 × A (3.60 €) with 0.50 € off the line, B (9.00 €); 1.00 € off the ticket.
    let orig = reg
        .sell(&SaleRequest {
            discount_cents: 100,
            ..v2(
                &[("A", "3", 50, false), ("B", "1", 0, false)],
                &[("card", None)],
            )
        })
        .unwrap();
    assert_eq!(orig.total_cents, 310 + 900 - 100);
    let fix = |lines: &[(&str, i64)]| SaleRequest {
        corrects: Some(orig.number),
        ..req(lines, &[("card", None)])
    };
    // One A back: 1.20 € − 0.17 € (50 × 1/3) = 1.03 €; the ticket discount
    // 100 × 103/1210 = 8.5 → 9 cents.
    let c1 = reg.sell(&fix(&[("A", -1)])).unwrap();
    assert_eq!(c1.lines[0].discount_cents, -17);
    assert_eq!(c1.discount_cents, -9);
    assert_eq!(c1.total_cents, -(120 - 17) + 9);
    // The two last A: what is left of the line discount (33 cents).
    let c2 = reg.sell(&fix(&[("A", -2)])).unwrap();
    assert_eq!(c2.lines[0].discount_cents, -33);
    // B: the ticket discount in proportion, never more than is left.
    let c3 = reg.sell(&fix(&[("B", -1)])).unwrap();
    let taken: i64 = [&c1, &c2, &c3].iter().map(|c| c.discount_cents).sum();
    assert!(-taken <= 100, "{taken}");
    let refunded: i64 = [&c1, &c2, &c3].iter().map(|c| c.total_cents).sum();
    assert!(-refunded <= orig.total_cents + 1, "{refunded}");
    // A correction is given no discount of its own.
    let e = reg
        .sell(&SaleRequest {
            discount_cents: 5,
            ..fix(&[("A", -1)])
        })
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("takes back the discount of the ticket it corrects by itself"),
        "{e}"
    );
}
