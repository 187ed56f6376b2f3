use ed25519_dalek::SigningKey;

use super::*;
use crate::fiscal::closing::{Period, Span, Totals};
use crate::fiscal::ledger::{Anchor, Anchors, DayBefore, Ends, PeriodName};
use crate::fiscal::record::{CLOSING_CHAIN, Draft, EVENT_CHAIN, Record};
use crate::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem, Ticket};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// A till's records as the till writes them: `days` days of `per_day`
/// tickets (one duplicate printed on day 2), each day closed, then the month.
struct Till {
    tickets: Vec<Ticket>,
    events: Vec<Record>,
    closings: Vec<Record>,
}

impl Till {
    fn event(&mut self, kind: EventKind, body: serde_json::Value, time: &str) {
        let prev = self
            .events
            .last()
            .map_or(GENESIS_HASH.to_string(), |e| e.hash.clone());
        let d = Draft {
            till: "T001",
            chain: EVENT_CHAIN,
            time,
            kind: kind.code(),
            body: body.to_string(),
        };
        let r = d.seal(self.events.len() as u64 + 1, &prev, &key());
        self.events.push(r);
    }

    fn close(&mut self, body: ClosingBody, time: &str) {
        let prev = self
            .closings
            .last()
            .map_or(GENESIS_HASH.to_string(), |c| c.hash.clone());
        let d = Draft {
            till: "T001",
            chain: CLOSING_CHAIN,
            time,
            kind: body.period.code(),
            body: body.to_json(),
        };
        let r = d.seal(self.closings.len() as u64 + 1, &prev, &key());
        let ev = serde_json::json!({"period": body.period.code(), "name": body.name, "closing": r.seq, "hash": r.hash});
        self.closings.push(r);
        self.event(EventKind::Closing, ev, time);
    }

    fn new(days: u32, per_day: u64) -> Self {
        let mut t = Till {
            tickets: vec![],
            events: vec![],
            closings: vec![],
        };
        let item = PricedItem {
            code: "A".into(),
            label: "Pain".into(),
            price_cents: 120,
            vat_rate_bp: 550,
        };
        let mut day_bodies: Vec<(u64, ClosingBody)> = vec![];
        let mut before = DayBefore::default();
        for d in 1..=days {
            let mut totals = Totals::default();
            let after_number = t.tickets.len() as u64;
            for i in 0..per_day {
                let n = t.tickets.len() as u64 + 1;
                let prev = t
                    .tickets
                    .last()
                    .map_or(GENESIS_HASH.to_string(), |x| x.hash.clone());
                let qty = 1 + (i % 3) as i64;
                // Version-1 and version-2 tickets in one chain.
                let sale = Sale {
                    version: if n.is_multiple_of(5) { 1 } else { 2 },
                    lines: vec![SaleItem::units(item.clone(), qty)],
                    payments: vec![Payment {
                        method: "cash".into(),
                        amount_cents: 120 * qty,
                    }],
                    ..Sale::default()
                };
                let time = format!("2026-12-{d:02}T1{}:00:00Z", i % 10);
                let tk = sale.seal("T001", n, &time, &prev, &key()).unwrap();
                totals.add_ticket(&tk).unwrap();
                t.tickets.push(tk);
            }
            if d == 2 {
                t.event(
                    EventKind::Reprint,
                    serde_json::json!({"number": 1}),
                    "2026-12-02T12:00:00Z",
                );
                totals.reprints = 1;
            }
            let span = Span {
                period: Period::Day,
                name: format!("2026-12-{d:02}"),
                after_number,
                to_number: t.tickets.len() as u64,
                after_event: before.to_event,
                to_event: t.events.len() as u64,
                parts: vec![],
                perpetual_before: (before.perpetual_total_cents, before.perpetual_abs_cents),
            };
            let body = ClosingBody::new(span, &totals).unwrap();
            before = DayBefore::of(&body);
            t.close(body.clone(), &format!("2026-12-{d:02}T20:00:00Z"));
            day_bodies.push((t.closings.len() as u64, body));
        }
        let mut m = Totals::default();
        for (_, b) in &day_bodies {
            m.add_closing(b).unwrap();
        }
        let (f, l) = (&day_bodies[0].1, &day_bodies.last().unwrap().1);
        let span = Span {
            period: Period::Month,
            name: "2026-12".into(),
            after_number: f.after_number,
            to_number: l.to_number,
            after_event: f.after_event,
            to_event: l.to_event,
            parts: day_bodies.iter().map(|(s, _)| *s).collect(),
            perpetual_before: (l.perpetual_total_cents, l.perpetual_abs_cents),
        };
        t.close(ClosingBody::new(span, &m).unwrap(), "2026-12-31T21:00:00Z");
        t
    }

    fn ledger(&self) -> Ledger {
        Ledger {
            till: "T001".into(),
            zone: "Europe/Paris".into(),
            period: None,
            anchors: Anchors::genesis(),
            tickets: self.tickets.clone(),
            events: self.events.clone(),
            closings: self.closings.clone(),
            ends: Ends::default(),
        }
    }
}

fn keys() -> TillKeys {
    TillKeys::one(key().verifying_key())
}

fn resign(r: &mut Record) {
    let d = Draft {
        till: &r.till,
        chain: &r.chain,
        time: &r.time,
        kind: &r.kind,
        body: r.body.clone(),
    };
    *r = d.seal(r.seq, &r.prev_hash, &key());
}

#[test]
fn an_intact_ledger_verifies_with_its_counts() {
    let s = verify(&Till::new(3, 5).ledger(), &keys()).unwrap();
    assert_eq!((s.tickets.count, s.tickets.last), (15, Some(15)));
    assert_eq!(s.events.count, 5); // a reprint and four closing events
    assert_eq!(
        (
            s.closings.count,
            s.closings_recomputed,
            s.closings_chained_only
        ),
        (4, 4, 0)
    );
    assert_eq!(s.key_ids, [key_id(&key().verifying_key())]);
}

#[test]
fn a_ticket_total_changed_is_named_by_its_field() {
    let mut l = Till::new(2, 10).ledger();
    l.tickets[7].total_cents = 1;
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!(
        (b.subject.clone(), b.field.as_deref()),
        (Subject::Ticket(8), Some("total_cents")),
        "{b}"
    );
    assert!(b.to_string().contains("altered"), "{b}");
    let mut l = Till::new(2, 10).ledger();
    l.tickets[2].lines[0].quantity_milli = 9000;
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!(b.field.as_deref(), Some("lines[1].total_incl_cents"), "{b}");
    let mut l = Till::new(2, 10).ledger();
    l.tickets[2].time = "2026-12-01T09:00:01Z".into();
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!((b.subject, b.field), (Subject::Ticket(3), None));
}

#[test]
fn a_missing_ticket_event_or_closing_is_a_gap() {
    let mut l = Till::new(2, 10).ledger();
    l.tickets.remove(4);
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!(b.subject, Subject::Ticket(5), "{b}");
    assert!(
        b.reason
            .contains("missing: ticket 4 is followed by ticket 6"),
        "{b}"
    );
    let mut l = Till::new(2, 10).ledger();
    l.events.remove(0);
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!(b.subject, Subject::Event(1), "{b}");
    // The last ticket, the last event, the last closing.
    let mut l = Till::new(2, 10).ledger();
    l.tickets.pop();
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!(b.subject, Subject::Ticket(20), "{b}");
    let mut l = Till::new(2, 10).ledger();
    l.events.pop();
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!(b.subject, Subject::Event(4), "{b}");
    let mut l = Till::new(2, 10).ledger();
    l.closings.pop();
    let b = verify(&l, &keys()).unwrap_err();
    assert_eq!(b.subject, Subject::Closing(3), "{b}");
}

#[test]
fn a_closing_changed_is_named_by_its_field() {
    let mut l = Till::new(2, 10).ledger();
    let mut b = ClosingBody::from_json(1, &l.closings[1].body).unwrap();
    b.total_cents += 100;
    l.closings[1].body = b.to_json();
    let e = verify(&l, &keys()).unwrap_err();
    assert_eq!(
        (e.subject.clone(), e.field.as_deref()),
        (Subject::Closing(2), Some("total_cents")),
        "{e}"
    );
    assert!(
        e.reason.contains("its tickets") && e.reason.contains("altered"),
        "{e}"
    );
    // Signed again by the till itself (a bug, not an edit): still named.
    let mut l = Till::new(2, 10).ledger();
    let mut b = ClosingBody::from_json(1, &l.closings[0].body).unwrap();
    b.reprints = 3;
    l.closings[0].body = b.to_json();
    resign(&mut l.closings[0]);
    let e = verify(&l, &keys()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("reprints"), "{e}");
}

#[test]
fn another_key_is_refused() {
    let other = TillKeys::one(SigningKey::from_bytes(&[8; 32]).verifying_key());
    let e = verify(&Till::new(1, 3).ledger(), &other).unwrap_err();
    assert_eq!(
        (e.subject, e.field.as_deref()),
        (Subject::Ticket(1), Some("signature"))
    );
    // A key history holding the till's key verifies.
    let both = TillKeys::from_history(vec![
        ("2026-01-01T00:00:00Z".into(), key().verifying_key()),
        (
            "2026-12-02T00:00:00Z".into(),
            SigningKey::from_bytes(&[8; 32]).verifying_key(),
        ),
    ])
    .unwrap();
    verify(&Till::new(3, 3).ledger(), &both).unwrap();
}

#[test]
fn a_later_period_verifies_alone_from_its_anchors() {
    // Days 1–3 then the month: an archive of day 2 holds tickets 6–10, the
    // reprint (event 2) and closing 2, anchored on what came before.
    let t = Till::new(3, 5);
    let day2 = ClosingBody::from_json(2, &t.closings[1].body).unwrap();
    let day1 = ClosingBody::from_json(1, &t.closings[0].body).unwrap();
    let ledger = Ledger {
        till: "T001".into(),
        zone: "Europe/Paris".into(),
        period: Some(PeriodName::parse("2026-12-02").unwrap()),
        anchors: Anchors {
            tickets: Anchor {
                after: 5,
                hash: t.tickets[4].hash.clone(),
            },
            events: Anchor {
                after: day2.after_event,
                hash: match day2.after_event {
                    0 => GENESIS_HASH.to_string(),
                    n => t.events[n as usize - 1].hash.clone(),
                },
            },
            closings: Anchor {
                after: 1,
                hash: t.closings[0].hash.clone(),
            },
            day_before: DayBefore::of(&day1),
        },
        tickets: t.tickets[5..10].to_vec(),
        events: t.events[day2.after_event as usize..day2.to_event as usize].to_vec(),
        closings: t.closings[1..2].to_vec(),
        ends: Ends {
            tickets: Some(10),
            events: Some(day2.to_event),
            closings: Some(2),
        },
    };
    let s = verify(&ledger, &keys()).unwrap();
    assert_eq!((s.tickets.first, s.closings_recomputed), (Some(6), 1));
    let mut bad = ledger.clone();
    bad.anchors.day_before.perpetual_total_cents += 1;
    let e = verify(&bad, &keys()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("perpetual_total_cents"), "{e}");
    let mut bad = ledger.clone();
    bad.ends.tickets = Some(11);
    assert_eq!(
        verify(&bad, &keys()).unwrap_err().subject,
        Subject::Ticket(11)
    );
    let mut bad = ledger;
    bad.anchors.tickets.hash = t.tickets[3].hash.clone();
    let e = verify(&bad, &keys()).unwrap_err();
    assert_eq!(
        (e.subject, e.field.as_deref()),
        (Subject::Ticket(6), Some("prev_hash"))
    );
}
