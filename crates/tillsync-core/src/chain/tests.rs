//! Tests of the filing rule over an in-memory view of the server's tickets.

use std::collections::BTreeMap;
use std::convert::Infallible;

use ed25519_dalek::SigningKey;

use super::*;
use crate::ticket::{Payment, PricedItem, Sale, SaleItem};

/// What a server holds: verified tickets, quarantined copies, pending
/// links, by number; and which reads the rule asked for.
#[derive(Default)]
struct Held {
    verified: BTreeMap<i64, String>,
    quarantined: BTreeMap<i64, Vec<String>>,
    pending: BTreeMap<i64, String>,
    reads: Vec<&'static str>,
}

impl ChainView for Held {
    type Error = Infallible;
    fn verified(&mut self, n: i64) -> Result<(Option<String>, Option<String>), Infallible> {
        self.reads.push("verified");
        Ok((
            self.verified.get(&n).cloned(),
            self.verified.get(&(n - 1)).cloned(),
        ))
    }
    fn quarantined(&mut self, number: i64, hash: &str) -> Result<(bool, bool), Infallible> {
        self.reads.push("quarantined");
        let copies = self.quarantined.get(&number);
        Ok((
            copies.is_some(),
            copies.is_some_and(|c| c.iter().any(|h| h == hash)),
        ))
    }
    fn pending_link(&mut self, number: i64) -> Result<Option<String>, Infallible> {
        self.reads.push("pending");
        Ok(self.pending.get(&number).cloned())
    }
}

/// A chain of `n` tickets of T001.
fn chain(n: u64) -> Vec<Ticket> {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let sale = Sale {
        lines: vec![SaleItem::units(
            PricedItem {
                code: "A".into(),
                label: "Article A".into(),
                price_cents: 250,
                vat_rate_bp: 550,
            },
            2,
        )],
        payments: vec![Payment {
            method: "card".into(),
            amount_cents: 500,
        }],
        ..Sale::default()
    };
    let mut prev = GENESIS_HASH.to_string();
    (1..=n)
        .map(|i| {
            let t = sale
                .seal("T001", i, "2026-12-04T10:00:00Z", &prev, &key)
                .unwrap();
            prev = t.hash.clone();
            t
        })
        .collect()
}

fn run(held: &mut Held, t: &Ticket, check: Result<(), String>) -> Decision {
    let n = number_in_range(t).unwrap();
    match decide("T001", n, t, check, held) {
        Ok(d) => d,
        Err(e) => match e {},
    }
}

const ACCEPT: Decision = Decision::Accept {
    corrects: None,
    pending: false,
    closes_next: false,
};

#[test]
fn first_ticket_names_the_genesis_and_the_next_its_predecessor() {
    let c = chain(2);
    let mut held = Held::default();
    assert_eq!(run(&mut held, &c[0], Ok(())), ACCEPT);
    held.verified.insert(1, c[0].hash.clone());
    assert_eq!(run(&mut held, &c[1], Ok(())), ACCEPT);
    // A verified predecessor: quarantine is never read.
    assert!(!held.reads.contains(&"quarantined"), "{:?}", held.reads);
    let mut wrong = c[0].clone();
    wrong.prev_hash = "f".repeat(64);
    let Decision::Quarantine(reason) = run(&mut Held::default(), &wrong, Ok(())) else {
        panic!("a first ticket not naming the genesis is quarantined");
    };
    assert!(reason.contains("T001/1: chain broken"), "{reason}");
}

#[test]
fn a_failed_check_is_quarantined_before_anything_is_read() {
    let c = chain(1);
    let mut held = Held::default();
    let d = run(&mut held, &c[0], Err("bad signature".into()));
    assert_eq!(d, Decision::Quarantine("bad signature".into()));
    assert!(held.reads.is_empty(), "{:?}", held.reads);
}

#[test]
fn same_number_same_hash_is_a_duplicate_other_hash_a_reused_number() {
    let c = chain(1);
    let mut held = Held::default();
    held.verified.insert(1, c[0].hash.clone());
    assert_eq!(run(&mut held, &c[0], Ok(())), Decision::Duplicate);
    held.verified.insert(1, "e".repeat(64));
    let Decision::Quarantine(reason) = run(&mut held, &c[0], Ok(())) else {
        panic!("a reused number is quarantined");
    };
    assert!(reason.ends_with("(number reused)"), "{reason}");
}

#[test]
fn a_gap_leaves_the_link_pending_and_the_late_ticket_closes_it() {
    let c = chain(3);
    let mut held = Held::default();
    held.verified.insert(1, c[0].hash.clone());
    // Ticket 3 before ticket 2: accepted, its link pending.
    assert_eq!(
        run(&mut held, &c[2], Ok(())),
        Decision::Accept {
            corrects: None,
            pending: true,
            closes_next: false
        }
    );
    held.verified.insert(3, c[2].hash.clone());
    held.pending.insert(3, c[2].prev_hash.clone());
    // Ticket 2 arrives: accepted, and it closes 3's pending link.
    assert_eq!(
        run(&mut held, &c[1], Ok(())),
        Decision::Accept {
            corrects: None,
            pending: false,
            closes_next: true
        }
    );
    // A ticket 2 of other content does not close it: quarantined.
    let mut other = c[1].clone();
    other.hash = "d".repeat(64);
    let Decision::Quarantine(reason) = run(&mut held, &other, Ok(())) else {
        panic!("a ticket the next one does not name is quarantined");
    };
    assert!(
        reason.contains("ticket 3, received earlier, names previous hash"),
        "{reason}"
    );
}

#[test]
fn a_link_to_a_quarantined_ticket_must_match_its_hash() {
    let c = chain(2);
    let mut held = Held::default();
    held.quarantined.insert(1, vec![c[0].hash.clone()]);
    // Names the quarantined ticket's hash: the chain holds, nothing pending.
    assert_eq!(run(&mut held, &c[1], Ok(())), ACCEPT);
    held.quarantined.insert(1, vec!["a".repeat(64)]);
    let Decision::Quarantine(reason) = run(&mut held, &c[1], Ok(())) else {
        panic!("a link to another hash than the quarantined one is broken");
    };
    assert!(reason.contains("held in quarantine"), "{reason}");
}

#[test]
fn numbers_and_corrections_out_of_range() {
    let mut t = chain(1).remove(0);
    t.number = 0;
    assert!(number_in_range(&t).unwrap_err().contains("out of range"));
    t.number = u64::MAX;
    assert!(number_in_range(&t).is_err());
    t.number = 1;
    t.corrects = Some(u64::MAX);
    let Decision::Quarantine(reason) = run(&mut Held::default(), &t, Ok(())) else {
        panic!("a correction of an impossible number is quarantined");
    };
    assert!(reason.contains("corrects is out of range"), "{reason}");
}
