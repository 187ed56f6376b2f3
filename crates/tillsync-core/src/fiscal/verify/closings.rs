//! Closings computed again: a day from its tickets (and the duplicates of
//! its events), continuing the ticket range, the event range and the
//! perpetual grand total of the day closing before it; a month or a year
//! from the closings it rolls up. The first field that differs is named
//! ([`ClosingBody::first_difference`]).

use std::collections::HashMap;

use crate::fiscal::closing::{ClosingBody, Period, Span, Totals};
use crate::fiscal::event::EventKind;
use crate::fiscal::ledger::{DayBefore, Ledger};
use crate::fiscal::local::LocalZone;
use crate::fiscal::verify::report::{Break, Subject};

/// How many closings were recomputed, and how many are held for the chain only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClosingCounts {
    /// Recomputed from tickets or parts.
    pub recomputed: u64,
    /// Named in another period, their tickets or parts elsewhere.
    pub chained_only: u64,
}

/// The value of `field` in a body, as JSON text.
fn value(b: &ClosingBody, field: &str) -> String {
    serde_json::to_value(b)
        .ok()
        .and_then(|v| v.get(field).map(|x| x.to_string()))
        .unwrap_or_default()
}

fn differs(seq: u64, kept: &ClosingBody, redo: &ClosingBody, from: &str) -> Result<(), Break> {
    match kept.first_difference(redo) {
        None => Ok(()),
        Some(f) => Err(Break::field(
            Subject::Closing(seq),
            f,
            format!(
                "the {} closing {} records {}, {from} make {}",
                kept.period.code(),
                kept.name,
                value(kept, f),
                value(redo, f)
            ),
        )),
    }
}

/// Check every closing of `ledger` (`bodies` are their parsed bodies, in
/// the same order).
pub fn check_closings(ledger: &Ledger, bodies: &[ClosingBody]) -> Result<ClosingCounts, Break> {
    let zone = LocalZone::new(&ledger.zone)
        .map_err(|e| Break::field(Subject::Manifest, "time_zone", e.to_string()))?;
    let a = &ledger.anchors;
    let (t0, t1) = (
        a.tickets.after,
        a.tickets.after + ledger.tickets.len() as u64,
    );
    let (e0, e1) = (a.events.after, a.events.after + ledger.events.len() as u64);
    let c0 = a.closings.after;
    let mut prev = a.day_before.clone();
    let mut counts = ClosingCounts::default();
    let mut rolled_by: HashMap<u64, u64> = HashMap::new();
    for (rec, body) in ledger.closings.iter().zip(bodies) {
        let seq = rec.seq;
        let named = ledger
            .period
            .as_ref()
            .is_none_or(|p| p.contains(&body.name));
        if rec.kind != body.period.code() {
            return Err(Break::field(
                Subject::Closing(seq),
                "kind",
                format!(
                    "the record is a {:?} closing, its body a {} closing",
                    rec.kind,
                    body.period.code()
                ),
            ));
        }
        match body.period {
            Period::Day => {
                let held = body.after_number >= t0
                    && body.to_number <= t1
                    && body.after_event >= e0
                    && body.to_event <= e1
                    && body.after_number <= body.to_number;
                if held {
                    let lo = (body.after_number - t0) as usize;
                    let hi = (body.to_number - t0) as usize;
                    let mut totals = Totals::default();
                    for t in &ledger.tickets[lo..hi] {
                        totals.add_ticket(t).map_err(|e| {
                            Break::field(Subject::Closing(seq), "total_cents", e.to_string())
                        })?;
                    }
                    let (elo, ehi) = (
                        (body.after_event - e0) as usize,
                        (body.to_event - e0) as usize,
                    );
                    totals.reprints = ledger.events[elo..ehi]
                        .iter()
                        .filter(|e| e.kind == EventKind::Reprint.code())
                        .count() as u64;
                    let began = ledger.tickets[lo..hi]
                        .first()
                        .map_or(&rec.time, |t| &t.time);
                    let name = zone
                        .date_of(began)
                        .map_err(|e| Break::field(Subject::Closing(seq), "name", e.to_string()))?
                        .to_string();
                    let span = Span {
                        period: Period::Day,
                        name,
                        after_number: prev.to_number,
                        to_number: body.to_number,
                        after_event: prev.to_event,
                        to_event: body.to_event,
                        parts: vec![],
                        perpetual_before: (prev.perpetual_total_cents, prev.perpetual_abs_cents),
                    };
                    let redo = ClosingBody::new(span, &totals).map_err(|e| {
                        Break::field(Subject::Closing(seq), "total_cents", e.to_string())
                    })?;
                    differs(seq, body, &redo, "its tickets")?;
                    counts.recomputed += 1;
                } else if ledger.period.is_none() && body.to_number > t1 {
                    return Err(Break::whole(
                        Subject::Ticket(t1 + 1),
                        format!(
                            "missing: closing {seq} covers tickets up to {}, the last ticket is {t1}",
                            body.to_number
                        ),
                    ));
                } else if ledger.period.is_none() && body.to_event > e1 {
                    return Err(Break::whole(
                        Subject::Event(e1 + 1),
                        format!(
                            "missing: closing {seq} covers events up to {}, the last event is {e1}",
                            body.to_event
                        ),
                    ));
                } else if named {
                    return Err(Break::field(
                        Subject::Closing(seq),
                        "to_number",
                        format!(
                            "the day closing {} covers tickets {}–{} and events {}–{}, not all held (tickets {}–{}, events {}–{})",
                            body.name,
                            body.after_number + 1,
                            body.to_number,
                            body.after_event + 1,
                            body.to_event,
                            t0 + 1,
                            t1,
                            e0 + 1,
                            e1
                        ),
                    ));
                } else {
                    // Its tickets are in its own period's archive: here the
                    // ranges and the perpetual grand total must continue.
                    let mut redo = body.clone();
                    redo.after_number = prev.to_number;
                    redo.after_event = prev.to_event;
                    redo.perpetual_total_cents =
                        prev.perpetual_total_cents.saturating_add(body.total_cents);
                    redo.perpetual_abs_cents = prev
                        .perpetual_abs_cents
                        .saturating_add(body.total_abs_cents);
                    differs(
                        seq,
                        body,
                        &redo,
                        "the day closing before it and its own totals",
                    )?;
                    counts.chained_only += 1;
                }
                prev = DayBefore::of(body);
            }
            Period::Month | Period::Year => {
                let part_period = body.period.part().expect("a month or a year has parts");
                let mut parts: Vec<&ClosingBody> = Vec::with_capacity(body.parts.len());
                let mut missing = None;
                for &p in &body.parts {
                    if p >= seq {
                        return Err(Break::field(
                            Subject::Closing(seq),
                            "parts",
                            format!("it rolls up closing {p}, which is not before it"),
                        ));
                    }
                    if p <= c0 {
                        missing = Some(p);
                        continue;
                    }
                    let pb = &bodies[(p - c0 - 1) as usize];
                    if pb.period != part_period {
                        return Err(Break::field(
                            Subject::Closing(seq),
                            "parts",
                            format!(
                                "closing {p} is a {} closing, not a {} closing",
                                pb.period.code(),
                                part_period.code()
                            ),
                        ));
                    }
                    if body.period.name_of(&pb.name) != body.name {
                        return Err(Break::field(
                            Subject::Closing(seq),
                            "parts",
                            format!("closing {p} ({}) is not in {}", pb.name, body.name),
                        ));
                    }
                    if let Some(other) = rolled_by.insert(p, seq) {
                        return Err(Break::field(
                            Subject::Closing(seq),
                            "parts",
                            format!("closing {p} is rolled up by closing {other} already"),
                        ));
                    }
                    parts.push(pb);
                }
                if let Some(p) = missing {
                    if named {
                        return Err(Break::field(
                            Subject::Closing(seq),
                            "parts",
                            format!("it rolls up closing {p}, which is not held"),
                        ));
                    }
                    counts.chained_only += 1;
                    continue;
                }
                let mut totals = Totals::default();
                for pb in &parts {
                    totals.add_closing(pb).map_err(|e| {
                        Break::field(Subject::Closing(seq), "total_cents", e.to_string())
                    })?;
                }
                let span = match (parts.first(), parts.last()) {
                    (Some(f), Some(l)) => Span {
                        period: body.period,
                        name: body.period.name_of(&f.name),
                        after_number: f.after_number,
                        to_number: l.to_number,
                        after_event: f.after_event,
                        to_event: l.to_event,
                        parts: body.parts.clone(),
                        perpetual_before: (l.perpetual_total_cents, l.perpetual_abs_cents),
                    },
                    _ => Span {
                        period: body.period,
                        name: body.name.clone(),
                        after_number: 0,
                        to_number: 0,
                        after_event: 0,
                        to_event: 0,
                        parts: vec![],
                        perpetual_before: (0, 0),
                    },
                };
                let redo = ClosingBody::new(span, &totals).map_err(|e| {
                    Break::field(Subject::Closing(seq), "total_cents", e.to_string())
                })?;
                differs(seq, body, &redo, "the closings it rolls up")?;
                counts.recomputed += 1;
            }
        }
    }
    Ok(counts)
}
