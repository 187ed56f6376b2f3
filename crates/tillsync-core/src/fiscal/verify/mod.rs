//! The standalone verifier's checks over a [`Ledger`], free of I/O: every
//! hash, signature and chain link of the tickets, the event log and the
//! closings, every closing's totals and grand totals computed again, and
//! the closing events against the closings they name. The first break is
//! named (which record, which field); else the counts of an intact ledger.
//! The readers (an archive file, the till's database, the server's) build
//! the [`Ledger`].

pub mod chains;
pub mod closings;
pub mod keys;
pub mod parallel;
pub mod report;
pub mod signatures;
pub mod tickets;

use std::collections::HashSet;

use crate::fiscal::closing::ClosingBody;
use crate::fiscal::event::EventKind;
use crate::fiscal::ledger::Ledger;
use crate::fiscal::verify::chains::{ChainKind, check_chain};
use crate::fiscal::verify::closings::check_closings;
use crate::fiscal::verify::keys::{TillKeys, fingerprint, key_id};
use crate::fiscal::verify::report::{Break, Run, Subject, Summary};
use crate::fiscal::verify::tickets::altered_field;

fn ends_at(
    subject: fn(u64) -> Subject,
    noun: &str,
    after: u64,
    held: usize,
    end: Option<u64>,
) -> Result<(), Break> {
    let last = after + held as u64;
    match end {
        Some(e) if e > last => Err(Break::whole(
            subject(last + 1),
            format!("missing: the {noun}s should run to {e}, the last is {last}"),
        )),
        Some(e) if e < last => Err(Break::whole(
            subject(e + 1),
            format!("the {noun}s should end at {e}, they run to {last}"),
        )),
        _ => Ok(()),
    }
}

/// Each closing event names the closing written with it (number and hash):
/// they must agree, and on a ledger holding everything (`period` none)
/// every closing has its event and every event's closing is there.
fn check_closing_events(ledger: &Ledger) -> Result<(), Break> {
    let c0 = ledger.anchors.closings.after;
    let c1 = c0 + ledger.closings.len() as u64;
    let mut named = HashSet::new();
    for e in ledger
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Closing.code())
    {
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
        let (Some(seq), Some(hash)) = (
            body.get("closing").and_then(|v| v.as_u64()),
            body.get("hash").and_then(|v| v.as_str()),
        ) else {
            return Err(Break::field(
                Subject::Event(e.seq),
                "body",
                "a closing event must name its closing (closing, hash)",
            ));
        };
        named.insert(seq);
        if seq > c0 && seq <= c1 {
            let c = &ledger.closings[(seq - c0 - 1) as usize];
            if c.hash != hash {
                return Err(Break::field(
                    Subject::Closing(seq),
                    "hash",
                    format!(
                        "event {} recorded closing {seq} with hash {hash}, it has {}",
                        e.seq, c.hash
                    ),
                ));
            }
        } else if seq > c1 && ledger.period.is_none() {
            return Err(Break::whole(
                Subject::Closing(c1 + 1),
                format!(
                    "missing: event {} records closing {seq}, the closings end at {c1}",
                    e.seq
                ),
            ));
        }
    }
    if ledger.period.is_none()
        && let Some(c) = ledger.closings.iter().find(|c| !named.contains(&c.seq))
    {
        let last = ledger.anchors.events.after + ledger.events.len() as u64;
        return Err(Break::whole(
            Subject::Event(last + 1),
            format!(
                "missing: no event records closing {} (the event log ends at {last})",
                c.seq
            ),
        ));
    }
    Ok(())
}

/// Check `ledger` with the till's `keys`: the first break, or what it holds.
pub fn verify(ledger: &Ledger, keys: &TillKeys) -> Result<Summary, Break> {
    let a = &ledger.anchors;
    let till = ledger.till.as_str();
    let ticket_altered = |i: usize| altered_field(&ledger.tickets[i]);
    check_chain(
        &ledger.tickets,
        &a.tickets,
        till,
        keys,
        &ChainKind {
            noun: "ticket",
            subject: Subject::Ticket,
            altered: &ticket_altered,
        },
    )?;
    ends_at(
        Subject::Ticket,
        "ticket",
        a.tickets.after,
        ledger.tickets.len(),
        ledger.ends.tickets,
    )?;
    let none = |_: usize| None;
    check_chain(
        &ledger.events,
        &a.events,
        till,
        keys,
        &ChainKind {
            noun: "event",
            subject: Subject::Event,
            altered: &none,
        },
    )?;
    ends_at(
        Subject::Event,
        "event",
        a.events.after,
        ledger.events.len(),
        ledger.ends.events,
    )?;
    // Closings: the bodies first, so that a changed total is named by its
    // field rather than by the hash alone.
    let mut bodies = Vec::with_capacity(ledger.closings.len());
    for c in &ledger.closings {
        let b = ClosingBody::from_json(c.seq, &c.body)
            .map_err(|e| Break::field(Subject::Closing(c.seq), "body", e.to_string()))?;
        bodies.push(b);
    }
    let totals = check_closings(ledger, &bodies);
    let chain = check_chain(
        &ledger.closings,
        &a.closings,
        till,
        keys,
        &ChainKind {
            noun: "closing",
            subject: Subject::Closing,
            altered: &none,
        },
    );
    let number = |b: &Break| match b.subject {
        Subject::Closing(n) => n,
        _ => 0,
    };
    let counts = match (totals, chain) {
        (Err(t), Err(c)) if number(&c) < number(&t) => return Err(c),
        (Err(mut t), Err(c)) => {
            if number(&c) == number(&t) && c.field.is_none() {
                t.reason
                    .push_str("; its content does not match its hash (altered)");
            }
            return Err(t);
        }
        (Err(t), Ok(())) => return Err(t),
        (Ok(_), Err(c)) => return Err(c),
        (Ok(counts), Ok(())) => counts,
    };
    ends_at(
        Subject::Closing,
        "closing",
        a.closings.after,
        ledger.closings.len(),
        ledger.ends.closings,
    )?;
    check_closing_events(ledger)?;
    Ok(Summary {
        till: ledger.till.clone(),
        period: ledger.period.as_ref().map(|p| p.to_string()),
        tickets: Run::after(a.tickets.after, ledger.tickets.len()),
        events: Run::after(a.events.after, ledger.events.len()),
        closings: Run::after(a.closings.after, ledger.closings.len()),
        closings_recomputed: counts.recomputed,
        closings_chained_only: counts.chained_only,
        key_ids: keys.all().map(key_id).collect(),
        key_fingerprints: keys.all().map(fingerprint).collect(),
    })
}

#[cfg(test)]
mod tests;
