//! Filing a ticket, written once for every backend: the number checked,
//! the till's lock taken, [`tillsync_core::chain::decide`] asked over what
//! the database holds of the ticket's chain (fiscal, or training apart:
//! [`ChainTables`]), then the rows written (the ticket and its details,
//! a pending link, or the quarantine). Each backend gives only the SQL of
//! the steps ([`TicketSteps`]), in its `up/tickets.rs`.

use tillsync_core::chain::{ChainView, Decision, decide, number_in_range};
use tillsync_core::ticket::Ticket;
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::{FISCAL_TABLES, TRAINING_TABLES, TicketTables};

use crate::tickets::{Outcome, TicketCheck};

/// The server tables of one chain of tickets: its tickets and their rows,
/// its quarantine, its pending links. Training tickets are numbered and
/// chained apart from the fiscal ones, in tables of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainTables {
    /// The tickets and their lines, payments and VAT totals.
    pub rows: &'static TicketTables,
    /// Tickets that failed a check.
    pub quarantine: &'static str,
    /// Verified tickets whose link backwards awaits the ticket before.
    pub pending: &'static str,
}

/// The fiscal chain: `TICKET`…, `tillsync_ticket_quarantine`,
/// `tillsync_ticket_link_pending`.
pub const FISCAL_CHAIN: ChainTables = ChainTables {
    rows: &FISCAL_TABLES,
    quarantine: "tillsync_ticket_quarantine",
    pending: "tillsync_ticket_link_pending",
};

/// The training chain: `TRAINING_TICKET`…, `tillsync_training_quarantine`,
/// `tillsync_training_link_pending`.
pub const TRAINING_CHAIN: ChainTables = ChainTables {
    rows: &TRAINING_TABLES,
    quarantine: "tillsync_training_quarantine",
    pending: "tillsync_training_link_pending",
};

impl ChainTables {
    /// The training chain's tables when `training`, else the fiscal ones.
    pub fn of(training: bool) -> &'static ChainTables {
        if training {
            &TRAINING_CHAIN
        } else {
            &FISCAL_CHAIN
        }
    }
}

/// The SQL steps of filing a ticket, inside the caller's transaction,
/// over the tables of the chain last chosen with [`TicketSteps::use_chain`]
/// (the fiscal one until then).
pub trait TicketSteps {
    /// The chain the next steps read and write.
    fn use_chain(&mut self, chain: &'static ChainTables);
    /// Serialise the filing of `till`'s tickets with other server
    /// processes until the transaction ends (nothing to do on SQLite,
    /// whose write transactions are already one at a time).
    fn lock_till(&mut self, till: &str) -> Result<(), StoreError>;
    /// The hashes of `till`'s verified tickets `n` and `n - 1` in `TICKET`.
    fn verified(
        &mut self,
        till: &str,
        n: i64,
    ) -> Result<(Option<String>, Option<String>), StoreError>;
    /// Whether `till`'s ticket `number` is in quarantine, and whether one of
    /// its quarantined copies has hash `hash`.
    fn quarantined(
        &mut self,
        till: &str,
        number: i64,
        hash: &str,
    ) -> Result<(bool, bool), StoreError>;
    /// The previous hash named by `till`'s ticket `number` while its link
    /// backwards is pending.
    fn pending_link(&mut self, till: &str, number: i64) -> Result<Option<String>, StoreError>;
    /// The reason ticket `number` with hash `hash` was quarantined before
    /// (under any key), if it was.
    fn quarantine_reason(
        &mut self,
        till: &str,
        number: i64,
        hash: &str,
    ) -> Result<Option<String>, StoreError>;
    /// The reason this unreadable item (same key, same payload) was
    /// quarantined before, if it was.
    fn unreadable_reason(
        &mut self,
        till: &str,
        key: &str,
        payload: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Keep an item in quarantine (`number` and `hash` unknown for an
    /// unreadable one).
    #[allow(clippy::too_many_arguments)]
    fn insert_quarantine(
        &mut self,
        till: &str,
        number: Option<i64>,
        key: &str,
        hash: Option<&str>,
        reason: &str,
        payload: &str,
        at: &str,
    ) -> Result<(), StoreError>;
    /// Close the pending link of ticket `number`; only the one naming
    /// `prev_hash` when it is given.
    fn drop_pending(
        &mut self,
        till: &str,
        number: i64,
        prev_hash: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Insert the `TICKET` row and its details; false (nothing written)
    /// when the number is already there.
    fn insert_ticket(
        &mut self,
        till: &str,
        n: i64,
        corrects: Option<i64>,
        ticket: &Ticket,
        at: &str,
    ) -> Result<bool, StoreError>;
    /// Record that ticket `n`'s link backwards (to `prev_hash`) is pending.
    fn insert_pending(&mut self, till: &str, n: i64, prev_hash: &str) -> Result<(), StoreError>;
}

/// What the database holds around one till's ticket, for the rule.
struct View<'s> {
    steps: &'s mut dyn TicketSteps,
    till: &'s str,
}

impl ChainView for View<'_> {
    type Error = StoreError;
    fn verified(&mut self, n: i64) -> Result<(Option<String>, Option<String>), StoreError> {
        self.steps.verified(self.till, n)
    }
    fn quarantined(&mut self, number: i64, hash: &str) -> Result<(bool, bool), StoreError> {
        self.steps.quarantined(self.till, number, hash)
    }
    fn pending_link(&mut self, number: i64) -> Result<Option<String>, StoreError> {
        self.steps.pending_link(self.till, number)
    }
}

/// Keep in quarantine something sent as a ticket that cannot be read as
/// one (its number unknown). The same item (till, key and payload)
/// quarantined before, by this or another server process, is not kept twice.
pub fn quarantine_unreadable(
    steps: &mut dyn TicketSteps,
    till: &str,
    key: &str,
    payload: &str,
    reason: &str,
    at: &str,
) -> Result<Outcome, StoreError> {
    steps.use_chain(&FISCAL_CHAIN);
    steps.lock_till(till)?;
    if let Some(earlier) = steps.unreadable_reason(till, key, payload)? {
        return Ok(Outcome::quarantined(earlier));
    }
    steps.insert_quarantine(till, None, key, None, reason, payload, at)?;
    Ok(Outcome::quarantined(reason.to_string()))
}

/// File one ticket of `till`: in `TICKET` and its detail tables, or in
/// quarantine (a training ticket in its own chain's tables). `payload` is
/// the ticket as received (kept in quarantine); `check` is the result of
/// the hash, signature and content checks. The caller has checked that
/// `ticket.till == till`. Something unreadable as a ticket (its number out
/// of range) goes to the fiscal quarantine.
pub fn store_ticket(
    steps: &mut dyn TicketSteps,
    till: &str,
    key: &str,
    ticket: &Ticket,
    payload: &str,
    check: TicketCheck,
    at: &str,
) -> Result<Outcome, StoreError> {
    let n = match number_in_range(ticket) {
        Ok(n) => n,
        Err(reason) => return quarantine_unreadable(steps, till, key, payload, &reason, at),
    };
    steps.use_chain(ChainTables::of(ticket.training));
    steps.lock_till(till)?;
    let decision = decide(till, n, ticket, check, &mut View { steps, till })?;
    match decision {
        Decision::Duplicate => Ok(Outcome::duplicate()),
        Decision::Quarantine(reason) => {
            // The same content quarantined before (under another key): same answer.
            if let Some(earlier) = steps.quarantine_reason(till, n, &ticket.hash)? {
                return Ok(Outcome::quarantined(earlier));
            }
            steps.insert_quarantine(
                till,
                Some(n),
                key,
                Some(&ticket.hash),
                &reason,
                payload,
                at,
            )?;
            // A quarantined ticket still closes the pending link of the next
            // one when that one names its hash: the chain itself is intact.
            steps.drop_pending(till, n + 1, Some(&ticket.hash))?;
            Ok(Outcome::quarantined(reason))
        }
        Decision::Accept {
            corrects,
            pending,
            closes_next,
        } => {
            if closes_next {
                steps.drop_pending(till, n + 1, None)?;
            }
            if !steps.insert_ticket(till, n, corrects, ticket, at)? {
                // Stored meanwhile by a writer that did not take the till's lock.
                return Err(StoreError::Inconsistent(format!(
                    "ticket {till}/{n} was stored by another writer during this transaction"
                )));
            }
            if pending {
                steps.insert_pending(till, n, &ticket.prev_hash)?;
            }
            Ok(Outcome::accepted())
        }
    }
}
