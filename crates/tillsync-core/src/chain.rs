//! The server's rule for filing a ticket, written once and free of I/O:
//! given a ticket, the result of its hash and signature check and what the
//! server already holds around its number ([`ChainView`]), [`decide`] says
//! whether it is a duplicate, goes to quarantine (and why, in the words
//! the till and `server tickets` show), or is accepted, and whether its
//! link backwards is still pending. Every backend files tickets through it
//! (item by item, and the PostgreSQL set-wise path over its own read).
//!
//! The chain rules: ticket 1 names the genesis hash; ticket `n` names the
//! hash of ticket `n - 1`. When `n - 1` has not arrived (a gap), the link
//! is checked when it comes ("pending"). A quarantined ticket keeps its
//! hash known, so a link to it is still checked. A number received twice
//! with the same hash is a duplicate; with another hash, a reused number.

use crate::ticket::{GENESIS_HASH, Ticket};

/// What the server holds around ticket number `n` of one till. Reads are
/// asked lazily, in this order, and only when the rule needs them (each
/// may be a database round trip).
pub trait ChainView {
    /// The error of a read.
    type Error;
    /// The hashes of the verified tickets `n` and `n - 1`, if received.
    fn verified(&mut self, n: i64) -> Result<(Option<String>, Option<String>), Self::Error>;
    /// Whether ticket `number` is held in quarantine, and whether one of
    /// its quarantined copies has hash `hash`.
    fn quarantined(&mut self, number: i64, hash: &str) -> Result<(bool, bool), Self::Error>;
    /// The previous hash named by ticket `number` when it arrived before
    /// the ticket it follows (a pending link), if any.
    fn pending_link(&mut self, number: i64) -> Result<Option<String>, Self::Error>;
}

/// What to do with a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Already received with this content: answer "duplicate", write nothing.
    Duplicate,
    /// Keep it in quarantine, for this reason.
    Quarantine(String),
    /// File it as verified.
    Accept {
        /// The number of the ticket it corrects, in range.
        corrects: Option<i64>,
        /// Its link backwards is not checked yet (ticket `n - 1` has not
        /// arrived): record it as pending.
        pending: bool,
        /// Ticket `n + 1` arrived first and named this one's hash: its
        /// pending link is now closed.
        closes_next: bool,
    },
}

/// The decision for ticket `ticket`, number `n` (already checked to be in
/// `1..i64::MAX`), of `till`, whose hash and signature check gave `check`.
pub fn decide<V: ChainView>(
    till: &str,
    n: i64,
    ticket: &Ticket,
    check: Result<(), String>,
    view: &mut V,
) -> Result<Decision, V::Error> {
    if let Err(reason) = check {
        return Ok(Decision::Quarantine(reason));
    }
    let Ok(corrects) = ticket.corrects.map(i64::try_from).transpose() else {
        return Ok(Decision::Quarantine(format!(
            "ticket {till}/{n}: the number of the ticket it corrects is out of range"
        )));
    };
    let (this, before) = view.verified(n)?;
    if let Some(hash) = this {
        return Ok(if hash == ticket.hash {
            Decision::Duplicate
        } else {
            Decision::Quarantine(format!(
                "ticket {till}/{n}: this number was already received with different content (number reused)"
            ))
        });
    }
    // The link backwards.
    let expected = if n == 1 {
        Some(GENESIS_HASH.to_string())
    } else {
        before
    };
    let pending = match expected {
        Some(e) if e == ticket.prev_hash => false,
        Some(e) => {
            return Ok(Decision::Quarantine(format!(
                "ticket {till}/{n}: chain broken (previous hash {}, but ticket {} has hash {e})",
                ticket.prev_hash,
                n - 1
            )));
        }
        None => {
            // The previous ticket is not verified: in quarantine (its hash
            // is still known, the link must match it) or not arrived (a
            // gap: the link is checked when it comes).
            let (in_quarantine, linked) = view.quarantined(n - 1, &ticket.prev_hash)?;
            if in_quarantine && !linked {
                return Ok(Decision::Quarantine(format!(
                    "ticket {till}/{n}: chain broken (previous hash {}, which is not the hash of ticket {} held in quarantine)",
                    ticket.prev_hash,
                    n - 1
                )));
            }
            !linked
        }
    };
    // The link forwards, when the next ticket arrived first.
    let next = view.pending_link(n + 1)?;
    if let Some(next_prev) = &next
        && *next_prev != ticket.hash
    {
        return Ok(Decision::Quarantine(format!(
            "ticket {till}/{n}: chain broken (ticket {}, received earlier, names previous hash {next_prev}, but this ticket's hash is {})",
            n + 1,
            ticket.hash
        )));
    }
    Ok(Decision::Accept {
        corrects,
        pending,
        closes_next: next.is_some(),
    })
}

/// The number of `ticket` when it is in `1..i64::MAX`, or the reason to
/// keep it in quarantine without a number.
pub fn number_in_range(ticket: &Ticket) -> Result<i64, String> {
    match i64::try_from(ticket.number) {
        Ok(n) if (1..i64::MAX).contains(&n) => Ok(n),
        _ => Err(format!(
            "ticket number {} is out of range (numbers start at 1)",
            ticket.number
        )),
    }
}

#[cfg(test)]
mod tests;
