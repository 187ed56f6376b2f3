//! A till's fiscal ledger in memory: its tickets, events and closings, where
//! they begin (the anchors: the records just before them), and which of a
//! till's records an archive of a period holds ([`select`]). Free of I/O: the
//! till's and the server's databases and the archive files read into a
//! [`Ledger`]; `fiscal::verify` checks it.

use serde::{Deserialize, Serialize};

use crate::fiscal::closing::{ClosingBody, Period};
use crate::fiscal::error::FiscalError;
use crate::fiscal::record::Record;
use crate::ticket::{GENESIS_HASH, Ticket};

/// A period an archive covers: a year (`2026`), a month (`2026-12`) or a
/// day (`2026-12-04`), by the names closings carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PeriodName(String);

impl PeriodName {
    /// Parse `2026`, `2026-12` or `2026-12-04` (a real date).
    pub fn parse(s: &str) -> Result<Self, FiscalError> {
        let bad = || FiscalError::PeriodValue(s.to_string());
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = s.split('-').collect();
        let ok = match parts.as_slice() {
            [y] => digits(y, 4),
            [y, m] => digits(y, 4) && digits(m, 2) && (1..=12).contains(&m.parse().unwrap_or(0)),
            [y, m, d] => {
                digits(y, 4)
                    && digits(m, 2)
                    && digits(d, 2)
                    && jiff::civil::Date::new(
                        y.parse().map_err(|_| bad())?,
                        m.parse().map_err(|_| bad())?,
                        d.parse().map_err(|_| bad())?,
                    )
                    .is_ok()
            }
            _ => false,
        };
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(bad())
        }
    }

    /// The text (`2026-12`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a closing named `name` (`2026-12-04`, `2026-12` or `2026`)
    /// belongs to this period: the same name, or a name inside it.
    pub fn contains(&self, name: &str) -> bool {
        name == self.0
            || (name.len() > self.0.len()
                && name.starts_with(&self.0)
                && name.as_bytes()[self.0.len()] == b'-')
    }
}

impl TryFrom<String> for PeriodName {
    type Error = FiscalError;
    fn try_from(s: String) -> Result<Self, FiscalError> {
        Self::parse(&s)
    }
}

impl From<PeriodName> for String {
    fn from(p: PeriodName) -> String {
        p.0
    }
}

impl std::fmt::Display for PeriodName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a chain of a ledger begins: its first record is numbered
/// `after + 1` and links to `hash` (the record numbered `after`, or
/// [`GENESIS_HASH`] when `after` is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The number of the record before the first one.
    pub after: u64,
    /// Its hash.
    pub hash: String,
}

impl Anchor {
    /// The start of a chain: nothing before.
    pub fn genesis() -> Self {
        Anchor {
            after: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

/// The day closing before a ledger's first closing, as the next day closing
/// continues from it (zeros when there is none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBefore {
    /// Its last ticket: the next day begins after it.
    pub to_number: u64,
    /// Its last event.
    pub to_event: u64,
    /// The perpetual grand total after it.
    pub perpetual_total_cents: i64,
    /// The perpetual grand total of absolute values after it.
    pub perpetual_abs_cents: i64,
}

impl DayBefore {
    /// The values a day closing body carries.
    pub fn of(b: &ClosingBody) -> Self {
        DayBefore {
            to_number: b.to_number,
            to_event: b.to_event,
            perpetual_total_cents: b.perpetual_total_cents,
            perpetual_abs_cents: b.perpetual_abs_cents,
        }
    }
}

/// Where each chain of a ledger begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchors {
    /// Tickets.
    pub tickets: Anchor,
    /// Events (JET).
    pub events: Anchor,
    /// Closings.
    pub closings: Anchor,
    /// The day closing before the first closing.
    pub day_before: DayBefore,
}

impl Anchors {
    /// A ledger from each chain's first record.
    pub fn genesis() -> Self {
        Anchors {
            tickets: Anchor::genesis(),
            events: Anchor::genesis(),
            closings: Anchor::genesis(),
            day_before: DayBefore::default(),
        }
    }
}

/// A till's records to check: each chain a run without gaps from its anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    /// The till.
    pub till: String,
    /// The IANA time zone that names its business days.
    pub zone: String,
    /// The period an archive covers; `None`: everything the ledger holds.
    pub period: Option<PeriodName>,
    /// Where each chain begins.
    pub anchors: Anchors,
    /// Tickets, by number.
    pub tickets: Vec<Ticket>,
    /// Events, by number.
    pub events: Vec<Record>,
    /// Closings, by number.
    pub closings: Vec<Record>,
    /// The last number of each chain, when the source declares it (an
    /// archive's manifest): a chain that stops before it lost records.
    pub ends: Ends,
}

/// The last record number of each chain, when known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ends {
    /// The last ticket.
    pub tickets: Option<u64>,
    /// The last event.
    pub events: Option<u64>,
    /// The last closing.
    pub closings: Option<u64>,
}

/// Which records an archive of a period holds, as ranges `(after, to]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Closings: from the first named in the period to the last, with those
    /// between them (the chain has no holes).
    pub closings: (u64, u64),
    /// Tickets: the ranges of the day closings named in the period.
    pub tickets: (u64, u64),
    /// Events: the ranges of the day closings named in the period.
    pub events: (u64, u64),
    /// The day closing before the first closing.
    pub day_before: DayBefore,
}

/// Which records an archive of `period` holds, given every closing of the
/// till (record numbers and bodies, in order). A period with no closing is
/// refused: only closed periods are archived.
pub fn select(
    closings: &[(u64, ClosingBody)],
    period: &PeriodName,
) -> Result<Selection, FiscalError> {
    let named: Vec<&(u64, ClosingBody)> = closings
        .iter()
        .filter(|(_, b)| period.contains(&b.name))
        .collect();
    let (Some(first), Some(last)) = (named.first(), named.last()) else {
        return Err(FiscalError::NotClosed(period.to_string()));
    };
    let day_before = closings
        .iter()
        .rfind(|(seq, b)| *seq < first.0 && b.period == Period::Day)
        .map(|(_, b)| DayBefore::of(b))
        .unwrap_or_default();
    let days: Vec<&ClosingBody> = named
        .iter()
        .filter(|(_, b)| b.period == Period::Day)
        .map(|(_, b)| b)
        .collect();
    let range = |f: fn(&ClosingBody) -> (u64, u64), empty: u64| {
        let lo = days.iter().map(|b| f(b).0).min().unwrap_or(empty);
        let hi = days.iter().map(|b| f(b).1).max().unwrap_or(empty);
        (lo, hi.max(lo))
    };
    Ok(Selection {
        closings: (first.0 - 1, last.0),
        tickets: range(|b| (b.after_number, b.to_number), day_before.to_number),
        events: range(|b| (b.after_event, b.to_event), day_before.to_event),
        day_before,
    })
}

/// Where a till's records are read from (its own database, the server's
/// copy): the reads a ledger needs, each in order of number.
pub trait LedgerSource {
    /// The source's error; a period that cannot be archived is a [`FiscalError`].
    type Error: From<FiscalError>;
    /// Every closing.
    fn closings(&self) -> Result<Vec<Record>, Self::Error>;
    /// The tickets numbered in `(after, to]` (no end: every one after).
    fn tickets(&self, after: u64, to: Option<u64>) -> Result<Vec<Ticket>, Self::Error>;
    /// The events numbered in `(after, to]` (no end: every one after).
    fn events(&self, after: u64, to: Option<u64>) -> Result<Vec<Record>, Self::Error>;
}

/// Everything `src` holds of `till` (each chain from its first record).
pub fn whole_ledger<S: LedgerSource>(src: &S, till: &str, zone: &str) -> Result<Ledger, S::Error> {
    Ok(Ledger {
        till: till.to_string(),
        zone: zone.to_string(),
        period: None,
        anchors: Anchors::genesis(),
        events: src.events(0, None)?,
        closings: src.closings()?,
        tickets: src.tickets(0, None)?,
        ends: Ends::default(),
    })
}

/// The records of `till` an archive of `period` holds (see [`select`]),
/// with their anchors and ends.
pub fn period_ledger<S: LedgerSource>(
    src: &S,
    till: &str,
    zone: &str,
    period: &PeriodName,
) -> Result<Ledger, S::Error> {
    let all = src.closings()?;
    let bodies = all
        .iter()
        .map(|r| ClosingBody::from_json(r.seq, &r.body).map(|b| (r.seq, b)))
        .collect::<Result<Vec<_>, _>>()?;
    let s = select(&bodies, period)?;
    let missing = |what, number| FiscalError::AnchorMissing { what, number };
    let ticket_anchor = match s.tickets.0 {
        0 => Anchor::genesis(),
        n => Anchor {
            after: n,
            hash: src
                .tickets(n - 1, Some(n))?
                .pop()
                .ok_or(missing("ticket", n))?
                .hash,
        },
    };
    let event_anchor = match s.events.0 {
        0 => Anchor::genesis(),
        n => Anchor {
            after: n,
            hash: src
                .events(n - 1, Some(n))?
                .pop()
                .ok_or(missing("event", n))?
                .hash,
        },
    };
    let closing_anchor = match s.closings.0 {
        0 => Anchor::genesis(),
        n => Anchor {
            after: n,
            hash: all
                .iter()
                .find(|r| r.seq == n)
                .ok_or(missing("closing", n))?
                .hash
                .clone(),
        },
    };
    Ok(Ledger {
        till: till.to_string(),
        zone: zone.to_string(),
        period: Some(period.clone()),
        anchors: Anchors {
            tickets: ticket_anchor,
            events: event_anchor,
            closings: closing_anchor,
            day_before: s.day_before,
        },
        tickets: src.tickets(s.tickets.0, Some(s.tickets.1))?,
        events: src.events(s.events.0, Some(s.events.1))?,
        closings: all
            .into_iter()
            .filter(|r| r.seq > s.closings.0 && r.seq <= s.closings.1)
            .collect(),
        ends: Ends {
            tickets: Some(s.tickets.1),
            events: Some(s.events.1),
            closings: Some(s.closings.1),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::closing::{Span, Totals};

    fn day(name: &str, after: u64, to: u64, perpetual: i64) -> ClosingBody {
        let mut b = ClosingBody::new(
            Span {
                period: Period::Day,
                name: name.into(),
                after_number: after,
                to_number: to,
                after_event: after * 2,
                to_event: to * 2,
                parts: vec![],
                perpetual_before: (perpetual, perpetual),
            },
            &Totals::default(),
        )
        .unwrap();
        b.perpetual_total_cents = perpetual + 10;
        b
    }

    fn month(name: &str, parts: Vec<u64>) -> ClosingBody {
        ClosingBody::new(
            Span {
                period: Period::Month,
                name: name.into(),
                after_number: 0,
                to_number: 0,
                after_event: 0,
                to_event: 0,
                parts,
                perpetual_before: (0, 0),
            },
            &Totals::default(),
        )
        .unwrap()
    }

    #[test]
    fn period_names() {
        for ok in ["2026", "2026-12", "2026-02-28", "2028-02-29"] {
            assert_eq!(PeriodName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "26",
            "2026-13",
            "2026-1",
            "2026-02-30",
            "2026-12-04-01",
            "abcd",
            "",
        ] {
            let e = PeriodName::parse(bad).unwrap_err().to_string();
            assert!(e.contains("YYYY-MM"), "{bad}: {e}");
        }
        let m = PeriodName::parse("2026-12").unwrap();
        assert!(m.contains("2026-12") && m.contains("2026-12-04"));
        assert!(!m.contains("2026") && !m.contains("2026-11-30") && !m.contains("2026-120"));
    }

    #[test]
    fn a_month_takes_its_days_and_the_closings_between() {
        // Day 30 Nov, day 1 Dec, then November's month closing, day 2 Dec,
        // December's month closing.
        let c = vec![
            (1, day("2026-11-30", 0, 3, 0)),
            (2, day("2026-12-01", 3, 5, 10)),
            (3, month("2026-11", vec![1])),
            (4, day("2026-12-02", 5, 9, 20)),
            (5, month("2026-12", vec![2, 4])),
        ];
        let s = select(&c, &PeriodName::parse("2026-12").unwrap()).unwrap();
        assert_eq!(s.closings, (1, 5));
        assert_eq!(s.tickets, (3, 9));
        assert_eq!(s.events, (6, 18));
        assert_eq!(s.day_before.to_number, 3);
        assert_eq!(s.day_before.perpetual_total_cents, 10);
        let s = select(&c, &PeriodName::parse("2026-11").unwrap()).unwrap();
        assert_eq!((s.closings, s.tickets), ((0, 3), (0, 3)));
        assert_eq!(s.day_before, DayBefore::default());
        let e = select(&c, &PeriodName::parse("2027").unwrap()).unwrap_err();
        assert_eq!(e, FiscalError::NotClosed("2027".into()));
    }
}
