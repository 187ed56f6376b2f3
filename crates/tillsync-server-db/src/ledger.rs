//! The ledger of one till's closings on the server, and what it flags: a
//! perpetual grand total that does not match the tickets received, a day
//! with tickets and no closing, and gaps (tickets, closings, events).

use serde::Serialize;
use tillsync_core::fiscal::closing::{ClosingBody, Period};
use tillsync_core::fiscal::local::LocalZone;
use tillsync_core::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN};
use tillsync_db::StoreError;

use crate::store::ServerStore;

/// One closing of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerClosing {
    /// Its number in the till's closings.
    pub seq: u64,
    /// When the till wrote it (UTC).
    pub time: String,
    /// Its content.
    pub body: ClosingBody,
}

/// Something the ledger flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerFlag {
    /// `perpetual-mismatch`, `day-not-closed`, `ticket-gap`, `closing-gap`, `event-gap`.
    pub kind: &'static str,
    /// What a person reads.
    pub detail: String,
}

/// What the server holds of one till's fiscal records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillLedger {
    /// Till id.
    pub till: String,
    /// Its closings, in order.
    pub closings: Vec<LedgerClosing>,
    /// Events of its event log received.
    pub events: u64,
    /// Flags, empty when all is well.
    pub flags: Vec<LedgerFlag>,
}

/// The missing numbers in a sorted list starting at 1, as ranges.
fn gaps(seqs: impl Iterator<Item = u64>) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut next = 1;
    for s in seqs {
        if s > next {
            out.push((next, s - 1));
        }
        next = s + 1;
    }
    out
}

fn range(what: &str, (a, b): (u64, u64)) -> String {
    if a == b {
        format!("{what} {a} missing")
    } else {
        format!("{what} {a}–{b} missing")
    }
}

/// The ledger of `till`, days named in `zone`, "today" being `now`'s local date.
pub fn till_ledger(
    db: &dyn ServerStore,
    till: &str,
    zone: &LocalZone,
    now: &str,
) -> Result<TillLedger, StoreError> {
    let bad =
        |e: tillsync_core::fiscal::error::FiscalError| StoreError::Inconsistent(e.to_string());
    let records = db.fiscal_records(till, CLOSING_CHAIN, 0)?;
    let events = db.fiscal_records(till, EVENT_CHAIN, 0)?;
    let mut flags = Vec::new();
    for g in gaps(records.iter().map(|r| r.seq)) {
        flags.push(LedgerFlag {
            kind: "closing-gap",
            detail: range("closing", g),
        });
    }
    for g in gaps(events.iter().map(|r| r.seq)) {
        flags.push(LedgerFlag {
            kind: "event-gap",
            detail: range("event", g),
        });
    }
    let state = db.ticket_state(Some(till))?;
    let contiguous = state.first().map_or(0, |s| s.highest_contiguous);
    for s in &state {
        for g in &s.missing {
            flags.push(LedgerFlag {
                kind: "ticket-gap",
                detail: g.to_string(),
            });
        }
    }
    let mut closings = Vec::with_capacity(records.len());
    for r in records {
        let body = ClosingBody::from_json(r.seq, &r.body).map_err(bad)?;
        if body.period == Period::Day && body.to_number <= contiguous {
            let t = db.ticket_totals_upto(till, body.to_number)?;
            if t.total_cents != body.perpetual_total_cents
                || t.abs_cents != body.perpetual_abs_cents
            {
                flags.push(LedgerFlag {
                    kind: "perpetual-mismatch",
                    detail: format!(
                        "day closing {} ({}): perpetual grand total {} cents, but the {} tickets received up to number {} total {} cents",
                        r.seq, body.name, body.perpetual_total_cents, t.count, body.to_number, t.total_cents
                    ),
                });
            }
        }
        closings.push(LedgerClosing {
            seq: r.seq,
            time: r.time,
            body,
        });
    }
    let closed_to = closings
        .iter()
        .filter(|c| c.body.period == Period::Day)
        .map(|c| c.body.to_number)
        .max()
        .unwrap_or(0);
    let highest = state
        .first()
        .map_or(0, |s| s.highest_contiguous.max(closed_to));
    if highest > closed_to
        && let Some(t) = db.ticket_time(till, closed_to + 1)?
    {
        let day = zone.date_of(&t).map_err(bad)?;
        let today = zone.date_of(now).map_err(bad)?;
        if day < today {
            flags.push(LedgerFlag {
                kind: "day-not-closed",
                detail: format!(
                    "tickets {}–{highest} (from {day}) are in no day closing",
                    closed_to + 1
                ),
            });
        }
    }
    Ok(TillLedger {
        till: till.to_string(),
        closings,
        events: events.len() as u64,
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_ranges() {
        assert_eq!(gaps([1, 2, 5, 6, 9].into_iter()), [(3, 4), (7, 8)]);
        assert_eq!(gaps([2].into_iter()), [(1, 1)]);
        assert!(gaps(std::iter::empty()).is_empty());
    }
}
