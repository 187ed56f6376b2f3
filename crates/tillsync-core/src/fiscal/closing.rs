//! What a closing holds: the period it closes, the ticket and event ranges
//! it covers, its counts, its totals per VAT rate and per payment method,
//! the period's grand total and the perpetual grand total (never reset),
//! and how tickets (for a day) or earlier closings (for a month or a year)
//! add up to it. Free of I/O: the till writes closings, the verifier redoes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fiscal::error::FiscalError;
use crate::ticket::{Payment, Ticket, VatTotal};

/// The period a closing closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// A business day: the span between two day closings.
    Day,
    /// A month: the day closings since the previous month closing.
    Month,
    /// A year: the month closings since the previous year closing.
    Year,
}

impl Period {
    /// `day`, `month` or `year` (the record's kind).
    pub fn code(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    /// The period of a code.
    pub fn from_code(s: &str) -> Result<Self, FiscalError> {
        match s {
            "day" => Ok(Period::Day),
            "month" => Ok(Period::Month),
            "year" => Ok(Period::Year),
            _ => Err(FiscalError::Period(s.to_string())),
        }
    }

    /// The period whose closings this one rolls up (none for a day).
    pub fn part(self) -> Option<Period> {
        match self {
            Period::Day => None,
            Period::Month => Some(Period::Day),
            Period::Year => Some(Period::Month),
        }
    }

    /// The name of this period for a day named `day` (`2026-12-04`):
    /// the day itself, `2026-12` or `2026`.
    pub fn name_of(self, day: &str) -> String {
        match self {
            Period::Day => day.to_string(),
            Period::Month => day.get(..7).unwrap_or(day).to_string(),
            Period::Year => day.get(..4).unwrap_or(day).to_string(),
        }
    }

    /// What a person reads.
    pub fn label(self, lang: crate::lang::Lang) -> &'static str {
        match self {
            Period::Day => lang.pick("journalière", "day"),
            Period::Month => lang.pick("mensuelle", "month"),
            Period::Year => lang.pick("annuelle", "year"),
        }
    }
}

/// The content of a closing record (its body, as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosingBody {
    /// The period closed.
    pub period: Period,
    /// Its name: the local date the business day began (`2026-12-04`), the
    /// month (`2026-12`) or the year (`2026`).
    pub name: String,
    /// Tickets after this number (the previous closing of this period's
    /// last, 0 for the first)…
    pub after_number: u64,
    /// …up to this one, included (equal to `after_number`: no ticket).
    pub to_number: u64,
    /// Events after this number (the previous closing's last)…
    pub after_event: u64,
    /// …up to this one, included.
    pub to_event: u64,
    /// Numbers of the closings this one rolls up (days of a month, months of
    /// a year; empty for a day).
    pub parts: Vec<u64>,
    /// Tickets in the range (corrections included).
    pub tickets: u64,
    /// Correction tickets among them.
    pub corrections: u64,
    /// Duplicates printed in the event range.
    pub reprints: u64,
    /// Totals per VAT rate, by ascending rate.
    pub vat_totals: Vec<VatTotal>,
    /// Money kept per payment method (cash net of change), by method name.
    pub payments: Vec<Payment>,
    /// The period's grand total (incl. VAT; corrections are negative).
    pub total_cents: i64,
    /// The period's total of absolute ticket totals.
    pub total_abs_cents: i64,
    /// The perpetual grand total: every ticket of the till since its first.
    pub perpetual_total_cents: i64,
    /// The perpetual grand total of absolute values.
    pub perpetual_abs_cents: i64,
}

/// Counts and totals being added up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Tickets.
    pub tickets: u64,
    /// Corrections.
    pub corrections: u64,
    /// Duplicates.
    pub reprints: u64,
    vat: BTreeMap<i64, (i64, i64, i64, i64)>,
    payments: BTreeMap<String, i64>,
    /// Grand total.
    pub total_cents: i64,
    /// Grand total of absolute values.
    pub total_abs_cents: i64,
}

fn add(a: i64, b: i64) -> Result<i64, FiscalError> {
    a.checked_add(b).ok_or(FiscalError::Overflow)
}

impl Totals {
    /// Add one ticket (a training ticket adds nothing: it is in no fiscal
    /// total). Payments count what the till kept per method: cash net of
    /// the change given (`Ticket::net_payments`).
    pub fn add_ticket(&mut self, t: &Ticket) -> Result<(), FiscalError> {
        if t.is_training() {
            return Ok(());
        }
        self.tickets += 1;
        if t.is_correction() {
            self.corrections += 1;
        }
        for v in &t.vat_totals {
            self.add_vat(v)?;
        }
        for (method, amount_cents) in t.net_payments() {
            self.add_payment(&Payment {
                method,
                amount_cents,
            })?;
        }
        self.total_cents = add(self.total_cents, t.total_cents)?;
        self.total_abs_cents = add(self.total_abs_cents, t.total_cents.abs())?;
        Ok(())
    }

    /// Add an earlier closing (a day into a month, a month into a year).
    pub fn add_closing(&mut self, c: &ClosingBody) -> Result<(), FiscalError> {
        self.tickets += c.tickets;
        self.corrections += c.corrections;
        self.reprints += c.reprints;
        for v in &c.vat_totals {
            self.add_vat(v)?;
        }
        for p in &c.payments {
            self.add_payment(p)?;
        }
        self.total_cents = add(self.total_cents, c.total_cents)?;
        self.total_abs_cents = add(self.total_abs_cents, c.total_abs_cents)?;
        Ok(())
    }

    /// Add one VAT total (of a ticket or of a sum of tickets).
    pub fn add_vat(&mut self, v: &VatTotal) -> Result<(), FiscalError> {
        let e = self.vat.entry(v.rate_bp).or_default();
        *e = (
            add(e.0, v.base_cents)?,
            add(e.1, v.vat_cents)?,
            add(e.2, v.total_cents)?,
            add(e.3, v.discount_cents)?,
        );
        Ok(())
    }

    /// Add one payment (of a ticket or a sum per method).
    pub fn add_payment(&mut self, p: &Payment) -> Result<(), FiscalError> {
        let e = self.payments.entry(p.method.clone()).or_default();
        *e = add(*e, p.amount_cents)?;
        Ok(())
    }

    /// The totals per VAT rate, ascending.
    pub fn vat_totals(&self) -> Vec<VatTotal> {
        self.vat
            .iter()
            .map(|(rate, (base, vat, total, discount))| VatTotal {
                rate_bp: *rate,
                discount_cents: *discount,
                base_cents: *base,
                vat_cents: *vat,
                total_cents: *total,
            })
            .collect()
    }

    /// The totals per payment method, by name.
    pub fn payments(&self) -> Vec<Payment> {
        self.payments
            .iter()
            .map(|(m, a)| Payment {
                method: m.clone(),
                amount_cents: *a,
            })
            .collect()
    }
}

/// Where a closing sits: its period, name and ranges, and the perpetual
/// totals of the closing before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Period.
    pub period: Period,
    /// Name.
    pub name: String,
    /// Tickets after…
    pub after_number: u64,
    /// …up to.
    pub to_number: u64,
    /// Events after…
    pub after_event: u64,
    /// …up to.
    pub to_event: u64,
    /// Closings rolled up.
    pub parts: Vec<u64>,
    /// The perpetual totals (plain, absolute) before this closing.
    pub perpetual_before: (i64, i64),
}

impl ClosingBody {
    /// The closing of `span` with `totals`. A day adds its total to the
    /// perpetual grand total; a month or a year carries the perpetual total
    /// of the last day it rolls up (`perpetual_before` is that one).
    pub fn new(span: Span, totals: &Totals) -> Result<Self, FiscalError> {
        let (pt, pa) = match span.period {
            Period::Day => (
                add(span.perpetual_before.0, totals.total_cents)?,
                add(span.perpetual_before.1, totals.total_abs_cents)?,
            ),
            Period::Month | Period::Year => span.perpetual_before,
        };
        Ok(Self {
            period: span.period,
            name: span.name,
            after_number: span.after_number,
            to_number: span.to_number,
            after_event: span.after_event,
            to_event: span.to_event,
            parts: span.parts,
            tickets: totals.tickets,
            corrections: totals.corrections,
            reprints: totals.reprints,
            vat_totals: totals.vat_totals(),
            payments: totals.payments(),
            total_cents: totals.total_cents,
            total_abs_cents: totals.total_abs_cents,
            perpetual_total_cents: pt,
            perpetual_abs_cents: pa,
        })
    }

    /// The body as its record keeps it (compact JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a closing body serialises")
    }

    /// The body of a record's JSON text.
    pub fn from_json(chain_seq: u64, body: &str) -> Result<Self, FiscalError> {
        serde_json::from_str(body).map_err(|e| FiscalError::Body {
            chain: crate::fiscal::record::CLOSING_CHAIN.into(),
            seq: chain_seq,
            reason: e.to_string(),
        })
    }

    /// The first field in which `self` differs from `redone` (the same
    /// closing computed again from its tickets or parts), if any.
    pub fn first_difference(&self, redone: &ClosingBody) -> Option<&'static str> {
        let fields: [(&'static str, bool); 16] = [
            ("period", self.period == redone.period),
            ("name", self.name == redone.name),
            ("after_number", self.after_number == redone.after_number),
            ("to_number", self.to_number == redone.to_number),
            ("after_event", self.after_event == redone.after_event),
            ("to_event", self.to_event == redone.to_event),
            ("parts", self.parts == redone.parts),
            ("tickets", self.tickets == redone.tickets),
            ("corrections", self.corrections == redone.corrections),
            ("reprints", self.reprints == redone.reprints),
            ("vat_totals", self.vat_totals == redone.vat_totals),
            ("payments", self.payments == redone.payments),
            ("total_cents", self.total_cents == redone.total_cents),
            (
                "total_abs_cents",
                self.total_abs_cents == redone.total_abs_cents,
            ),
            (
                "perpetual_total_cents",
                self.perpetual_total_cents == redone.perpetual_total_cents,
            ),
            (
                "perpetual_abs_cents",
                self.perpetual_abs_cents == redone.perpetual_abs_cents,
            ),
        ];
        fields.iter().find(|(_, same)| !same).map(|(f, _)| *f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::{GENESIS_HASH, PricedItem, Sale, SaleItem};
    use ed25519_dalek::SigningKey;

    fn ticket(number: u64, qty: i64, corrects: Option<u64>) -> Ticket {
        let item = PricedItem {
            code: "A".into(),
            label: "A".into(),
            price_cents: 250,
            vat_rate_bp: 2000,
        };
        Sale {
            lines: vec![SaleItem::units(item, qty)],
            payments: vec![Payment {
                method: if qty > 0 { "card" } else { "cash" }.into(),
                amount_cents: 250 * qty,
            }],
            corrects,
            ..Sale::default()
        }
        .seal(
            "T001",
            number,
            "2026-12-04T10:00:00Z",
            GENESIS_HASH,
            &SigningKey::from_bytes(&[1; 32]),
        )
        .unwrap()
    }

    fn span(period: Period, before: (i64, i64)) -> Span {
        Span {
            period,
            name: period.name_of("2026-12-04"),
            after_number: 0,
            to_number: 3,
            after_event: 0,
            to_event: 0,
            parts: vec![],
            perpetual_before: before,
        }
    }

    #[test]
    fn a_day_adds_to_the_perpetual_grand_total() {
        let mut t = Totals::default();
        t.add_ticket(&ticket(1, 2, None)).unwrap();
        t.add_ticket(&ticket(2, 1, None)).unwrap();
        t.add_ticket(&ticket(3, -1, Some(1))).unwrap();
        let c = ClosingBody::new(span(Period::Day, (10_000, 12_000)), &t).unwrap();
        assert_eq!((c.tickets, c.corrections), (3, 1));
        assert_eq!(c.total_cents, 500);
        assert_eq!(c.total_abs_cents, 1000);
        assert_eq!(
            (c.perpetual_total_cents, c.perpetual_abs_cents),
            (10_500, 13_000)
        );
        assert_eq!(c.vat_totals.len(), 1);
        assert_eq!(c.vat_totals[0].total_cents, 500);
        assert_eq!(
            c.payments,
            [
                Payment {
                    method: "card".into(),
                    amount_cents: 750
                },
                Payment {
                    method: "cash".into(),
                    amount_cents: -250
                },
            ]
        );
        let back = ClosingBody::from_json(1, &c.to_json()).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.first_difference(&c), None);
        let mut changed = c.clone();
        changed.total_cents = 1;
        assert_eq!(changed.first_difference(&c), Some("total_cents"));
    }

    #[test]
    fn a_month_rolls_its_days_up() {
        let mut d = Totals::default();
        d.add_ticket(&ticket(1, 2, None)).unwrap();
        let day = ClosingBody::new(span(Period::Day, (0, 0)), &d).unwrap();
        let mut m = Totals::default();
        m.add_closing(&day).unwrap();
        m.add_closing(&day).unwrap();
        let month = ClosingBody::new(span(Period::Month, (1000, 1000)), &m).unwrap();
        assert_eq!(month.name, "2026-12");
        assert_eq!((month.tickets, month.total_cents), (2, 1000));
        assert_eq!(month.perpetual_total_cents, 1000);
        assert_eq!(Period::Year.name_of("2026-12-04"), "2026");
        assert!(Period::from_code("week").is_err());
    }
}
