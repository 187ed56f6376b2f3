//! The records `bench fiscal` works on, made fast: tickets cloned from a few
//! sealed templates, numbered, chained and hashed in order, then signed on
//! every core; day closings added up from them, months rolled up, each
//! closing with its event, as a till writes them.

use ed25519_dalek::{Signer, SigningKey};
use tillsync_core::fiscal::closing::{ClosingBody, Period, Span, Totals};
use tillsync_core::fiscal::event::EventKind;
use tillsync_core::fiscal::ledger::{Anchors, DayBefore, Ends, Ledger, PeriodName};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, Draft, EVENT_CHAIN, Record};
use tillsync_core::fiscal::verify::parallel::par_chunks;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem, Ticket};

/// The till of the bench.
pub(crate) const TILL: &str = "T001";

/// The bench's till key.
pub(crate) fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// A few sales of 1 to 4 lines at the French VAT rates.
fn templates() -> Vec<Ticket> {
    let items = [
        ("ART01", "Baguette", 120, 550),
        ("ART02", "Vin rouge", 899, 2000),
        ("ART03", "Livre", 1590, 550),
        ("ART04", "Médicament", 450, 210),
        ("ART05", "Café", 250, 1000),
    ];
    (0..16)
        .map(|i| {
            let lines: Vec<SaleItem> = (0..=i % 4)
                .map(|k| {
                    let (code, label, price, rate) = items[(i + k) % items.len()];
                    let item = PricedItem {
                        code: code.into(),
                        label: label.into(),
                        price_cents: price,
                        vat_rate_bp: rate,
                    };
                    SaleItem::units(item, 1 + (k as i64 + i as i64) % 3)
                })
                .collect();
            let sale = Sale {
                lines,
                ..Sale::default()
            };
            let due = sale.due_cents().expect("a template sale prices");
            Sale {
                // Cash rounded up to the euro, the change given back.
                payments: vec![match i % 3 {
                    0 => Payment {
                        method: "cash".into(),
                        amount_cents: (due + 99) / 100 * 100,
                    },
                    _ => Payment {
                        method: "card".into(),
                        amount_cents: due,
                    },
                }],
                ..sale
            }
            .seal(TILL, 1, "2026-01-01T07:00:00Z", GENESIS_HASH, &key())
            .expect("a template sale seals")
        })
        .collect()
}

/// The time of ticket `i` of day `day` (from 1 January 2026, 07:00 UTC on).
pub(crate) fn time_of(day: u64, i: u64) -> String {
    let date = jiff::civil::date(2026, 1, 1)
        .checked_add(jiff::Span::new().days(day as i64))
        .expect("a date in range");
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        7 + i / 3600,
        (i / 60) % 60,
        i % 60
    )
}

/// `n` tickets numbered after `after` (chained to `prev`), `per_day` a day
/// from day `first_day`, signed on every core.
pub(crate) fn tickets(after: u64, prev: &str, n: u64, per_day: u64, first_day: u64) -> Vec<Ticket> {
    let t = templates();
    let mut out = Vec::with_capacity(n as usize);
    let mut prev = prev.to_string();
    for k in 0..n {
        let mut tk = t[(k % t.len() as u64) as usize].clone();
        tk.number = after + 1 + k;
        tk.time = time_of(first_day + k / per_day, k % per_day);
        tk.prev_hash = prev;
        tk.hash = hex::encode(tk.digest());
        prev = tk.hash.clone();
        out.push(tk);
    }
    let key = key();
    let sigs: Vec<Vec<String>> = par_chunks(&out, |_, chunk| {
        chunk
            .iter()
            .map(|tk| {
                let mut d = [0u8; 32];
                hex::decode_to_slice(&tk.hash, &mut d).expect("a hash just made");
                hex::encode(key.sign(&d).to_bytes())
            })
            .collect()
    });
    for (tk, s) in out.iter_mut().zip(sigs.into_iter().flatten()) {
        tk.signature = s;
    }
    out
}

struct Chains {
    events: Vec<Record>,
    closings: Vec<Record>,
}

impl Chains {
    fn seal(chain: &mut Vec<Record>, name: &str, time: &str, kind: &str, body: String) -> Record {
        let prev = chain
            .last()
            .map_or(GENESIS_HASH.to_string(), |r| r.hash.clone());
        let d = Draft {
            till: TILL,
            chain: name,
            time,
            kind,
            body,
        };
        let r = d.seal(chain.len() as u64 + 1, &prev, &key());
        chain.push(r.clone());
        r
    }

    fn close(&mut self, body: &ClosingBody, time: &str) -> u64 {
        let r = Self::seal(
            &mut self.closings,
            CLOSING_CHAIN,
            time,
            body.period.code(),
            body.to_json(),
        );
        let ev = serde_json::json!({"period": body.period.code(), "name": body.name, "closing": r.seq, "hash": r.hash});
        Self::seal(
            &mut self.events,
            EVENT_CHAIN,
            time,
            EventKind::Closing.code(),
            ev.to_string(),
        );
        r.seq
    }
}

/// The year 2026 of a till selling `n` tickets, `per_day` a day: each day
/// closed, each month rolled up, as the archive of `2026` holds it.
pub(crate) fn year_ledger(n: u64, per_day: u64) -> Ledger {
    let tickets = tickets(0, GENESIS_HASH, n, per_day, 0);
    let mut c = Chains {
        events: Vec::new(),
        closings: Vec::new(),
    };
    let mut before = DayBefore::default();
    let mut month: Vec<(u64, ClosingBody)> = Vec::new();
    let days = n.div_ceil(per_day);
    for day in 0..days {
        let lo = day * per_day;
        let hi = (lo + per_day).min(n);
        let mut totals = Totals::default();
        for t in &tickets[lo as usize..hi as usize] {
            totals.add_ticket(t).expect("totals in range");
        }
        let name = time_of(day, 0)[..10].to_string();
        let span = Span {
            period: Period::Day,
            name: name.clone(),
            after_number: lo,
            to_number: hi,
            after_event: before.to_event,
            to_event: c.events.len() as u64,
            parts: vec![],
            perpetual_before: (before.perpetual_total_cents, before.perpetual_abs_cents),
        };
        let body = ClosingBody::new(span, &totals).expect("a day closing");
        let seq = c.close(&body, &time_of(day, per_day));
        before = DayBefore::of(&body);
        let next_month = time_of(day + 1, 0)[..7].to_string();
        month.push((seq, body));
        if next_month != name[..7] || day + 1 == days {
            let mut m = Totals::default();
            for (_, b) in &month {
                m.add_closing(b).expect("totals in range");
            }
            let (f, l) = (&month[0].1, &month[month.len() - 1].1);
            let span = Span {
                period: Period::Month,
                name: name[..7].to_string(),
                after_number: f.after_number,
                to_number: l.to_number,
                after_event: f.after_event,
                to_event: l.to_event,
                parts: month.iter().map(|(s, _)| *s).collect(),
                perpetual_before: (l.perpetual_total_cents, l.perpetual_abs_cents),
            };
            let body = ClosingBody::new(span, &m).expect("a month closing");
            c.close(&body, &time_of(day, per_day + 60));
            month.clear();
        }
    }
    Ledger {
        till: TILL.into(),
        zone: "Europe/Paris".into(),
        period: Some(PeriodName::parse("2026").expect("a year")),
        anchors: Anchors::genesis(),
        ends: Ends::default(),
        tickets,
        events: c.events,
        closings: c.closings,
    }
}
