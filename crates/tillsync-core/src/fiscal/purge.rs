//! The purge rule (NF525 conservation): records may leave a till only when
//! they are in an archive the till made (its `archive` events say which
//! numbers each holds) and the server acknowledged every one of them; a
//! purge removes each chain from its start up to the end of a closed
//! period, so what stays begins at an anchor (the hash of the last record
//! purged, the perpetual totals of the last day closing purged). The rule
//! only; the till reads what it needs and applies the plan.

use crate::fiscal::ledger::Selection;

/// A chain of the till: tickets, events, closings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// Tickets.
    Tickets,
    /// Events (JET).
    Events,
    /// Closings.
    Closings,
}

impl Chain {
    fn noun(self) -> &'static str {
        match self {
            Chain::Tickets => "ticket",
            Chain::Events => "event",
            Chain::Closings => "closing",
        }
    }
}

/// The ranges `(after, to]` one archive holds, as its `archive` event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Archived {
    /// Tickets.
    pub tickets: (u64, u64),
    /// Events.
    pub events: (u64, u64),
    /// Closings.
    pub closings: (u64, u64),
}

impl Archived {
    /// The ranges of an `archive` event's body (`"tickets": [after, to]`…).
    pub fn from_body(body: &serde_json::Value) -> Option<Self> {
        let r = |k: &str| {
            let a = body.get(k)?.as_array()?;
            Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?))
        };
        Some(Archived {
            tickets: r("tickets")?,
            events: r("events")?,
            closings: r("closings")?,
        })
    }

    fn range(&self, c: Chain) -> (u64, u64) {
        match c {
            Chain::Tickets => self.tickets,
            Chain::Events => self.events,
            Chain::Closings => self.closings,
        }
    }
}

/// What the till holds and what the server has not acknowledged, per chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Held {
    /// The number before the first record still on the till (0: none purged).
    pub after: u64,
    /// The lowest number the server has not acknowledged (still in the
    /// outbox, or refused and set aside), if any.
    pub unacknowledged: Option<u64>,
}

/// What may be purged: each chain up to this number, included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgePlan {
    /// Tickets up to.
    pub tickets_to: u64,
    /// Events up to.
    pub events_to: u64,
    /// Closings up to.
    pub closings_to: u64,
}

/// Why a purge is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurgeRefused {
    /// A record to purge is in no archive the till made.
    #[error("{noun} {number} is in no archive: archive the period first (`tillsync till archive`)")]
    NotArchived {
        /// `ticket`, `event`, `closing`.
        noun: &'static str,
        /// Its number.
        number: u64,
    },
    /// A record to purge has not been acknowledged by the server.
    #[error(
        "{noun} {number} has not been acknowledged by the server: sync first (`tillsync till sync`)"
    )]
    NotAcknowledged {
        /// `ticket`, `event`, `closing`.
        noun: &'static str,
        /// Its number.
        number: u64,
    },
}

/// The first number in `(after, to]` that no range of `archives` holds.
fn first_not_archived(after: u64, to: u64, ranges: &mut [(u64, u64)]) -> Option<u64> {
    ranges.sort();
    let mut covered = after;
    for &(a, b) in ranges.iter() {
        if a <= covered && b > covered {
            covered = b;
        }
    }
    (covered < to).then_some(covered + 1)
}

/// Whether the records up to the end of the period `sel` selects may be
/// purged, given what the till holds of each chain (`held`: tickets,
/// events, closings) and the archives it made.
pub fn purge_plan(
    sel: &Selection,
    held: [Held; 3],
    archives: &[Archived],
) -> Result<PurgePlan, PurgeRefused> {
    let ends = [sel.tickets.1, sel.events.1, sel.closings.1];
    for (i, chain) in [Chain::Tickets, Chain::Events, Chain::Closings]
        .into_iter()
        .enumerate()
    {
        let (after, to) = (held[i].after, ends[i]);
        let mut ranges: Vec<(u64, u64)> = archives.iter().map(|a| a.range(chain)).collect();
        if let Some(number) = first_not_archived(after, to, &mut ranges) {
            return Err(PurgeRefused::NotArchived {
                noun: chain.noun(),
                number,
            });
        }
        if let Some(n) = held[i].unacknowledged.filter(|n| *n <= to) {
            return Err(PurgeRefused::NotAcknowledged {
                noun: chain.noun(),
                number: n,
            });
        }
    }
    Ok(PurgePlan {
        tickets_to: ends[0],
        events_to: ends[1],
        closings_to: ends[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::ledger::DayBefore;

    fn sel() -> Selection {
        Selection {
            closings: (0, 3),
            tickets: (0, 100),
            events: (0, 7),
            day_before: DayBefore::default(),
        }
    }

    #[test]
    fn only_archived_and_acknowledged_records_may_be_purged() {
        let whole = Archived {
            tickets: (0, 100),
            events: (0, 7),
            closings: (0, 3),
        };
        let held = [Held::default(); 3];
        assert_eq!(
            purge_plan(&sel(), held, &[whole]),
            Ok(PurgePlan {
                tickets_to: 100,
                events_to: 7,
                closings_to: 3
            })
        );
        // Two archives that meet cover the range; a hole does not.
        let a = Archived {
            tickets: (0, 60),
            events: (0, 4),
            closings: (0, 2),
        };
        let b = Archived {
            tickets: (60, 100),
            events: (4, 7),
            closings: (2, 3),
        };
        assert!(purge_plan(&sel(), held, &[b, a]).is_ok());
        let hole = Archived {
            tickets: (61, 100),
            ..b
        };
        assert_eq!(
            purge_plan(&sel(), held, &[a, hole]),
            Err(PurgeRefused::NotArchived {
                noun: "ticket",
                number: 61
            })
        );
        assert!(
            purge_plan(&sel(), held, &[])
                .unwrap_err()
                .to_string()
                .contains("ticket 1 is in no archive")
        );
        // Already purged up to 60: the rest must be archived.
        let mut after = held;
        after[0].after = 60;
        after[1].after = 4;
        after[2].after = 2;
        assert!(purge_plan(&sel(), after, &[b]).is_ok());
        // The server has not acknowledged event 5.
        let mut pending = held;
        pending[1].unacknowledged = Some(5);
        let e = purge_plan(&sel(), pending, &[whole]).unwrap_err();
        assert_eq!(
            e,
            PurgeRefused::NotAcknowledged {
                noun: "event",
                number: 5
            }
        );
        // Records after the period may wait in the outbox.
        pending[1].unacknowledged = Some(8);
        assert!(purge_plan(&sel(), pending, &[whole]).is_ok());
        let body = serde_json::json!({"tickets": [0, 100], "events": [0, 7], "closings": [0, 3]});
        assert_eq!(Archived::from_body(&body), Some(whole));
    }
}
