//! The up path's batch loop, the same for every backend: per item the
//! idempotency record, then the ticket (or quarantine) or the other item
//! (by [`crate::up::customers`] over [`BatchTx::customer_steps`]), then the
//! journal line, all inside the caller's one transaction ([`BatchTx`]),
//! answered after the caller commits.

use tillsync_wire::api::{
    CustomerAbandon, CustomerEdit, ItemResult, ItemStatus, OutboxItem, OutboxKind, OutboxResponse,
    RowChange,
};

use crate::customers::UpOutcome;
use crate::store::BatchItem;
use crate::tickets::{Outcome, Received};
use crate::up::customers::{
    CustomerSteps, apply_customer_abandon, apply_customer_edit, apply_row_change,
};
use crate::up::records::{RecordSteps, store_record};
use crate::up::tickets::{TicketSteps, quarantine_unreadable, store_ticket};
use tillsync_db::StoreError;

/// The steps of one batch inside one open transaction of a backend.
pub trait BatchTx {
    /// The item received from `till` under `key`, if any.
    fn received(&mut self, till: &str, key: &str) -> Result<Option<Received>, StoreError>;
    /// Record the answer for `key` (the first answer stays).
    fn record_received(
        &mut self,
        till: &str,
        key: &str,
        outcome: &Outcome,
        fingerprint: &str,
        at: &str,
    ) -> Result<(), StoreError>;
    /// The SQL steps of filing a ticket, in this transaction.
    fn ticket_steps(&mut self) -> &mut dyn TicketSteps;
    /// The SQL steps of the customer rules, in this transaction.
    fn customer_steps(&mut self) -> Box<dyn CustomerSteps + '_>;
    /// The SQL steps of filing a fiscal record, in this transaction.
    fn record_steps(&mut self) -> Box<dyn RecordSteps + '_>;
    /// A journal line.
    fn journal(
        &mut self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError>;
}

/// Apply one non-ticket item. Bad data is answered rejected with a reason;
/// an `Err` aborts the whole batch.
fn apply_other(tx: &mut dyn BatchTx, till: &str, item: &OutboxItem) -> Result<Outcome, StoreError> {
    fn parse<T: serde::de::DeserializeOwned>(item: &OutboxItem, what: &str) -> Result<T, String> {
        serde_json::from_value(item.payload.clone())
            .map_err(|e| format!("the payload is not a valid {what}: {e}"))
    }
    let outcome = match item.kind {
        OutboxKind::CustomerEdit => match parse::<CustomerEdit>(item, "customer edit") {
            Ok(edit) => apply_customer_edit(&mut *tx.customer_steps(), till, &edit)?,
            Err(reason) => UpOutcome::Rejected(reason),
        },
        OutboxKind::CustomerAbandon => match parse::<CustomerAbandon>(item, "customer abandon") {
            Ok(a) => apply_customer_abandon(&mut *tx.customer_steps(), till, &a)?,
            Err(reason) => UpOutcome::Rejected(reason),
        },
        OutboxKind::Row => match parse::<RowChange>(item, "row change") {
            Ok(r) => apply_row_change(&mut *tx.customer_steps(), till, &r)?,
            Err(reason) => UpOutcome::Rejected(reason),
        },
        OutboxKind::Ticket | OutboxKind::Record => UpOutcome::Rejected(
            "a ticket or a record is not handled here (internal routing error)".into(),
        ),
    };
    Ok(match outcome {
        UpOutcome::Applied(note) => Outcome {
            status: ItemStatus::Accepted,
            reason: note,
        },
        UpOutcome::Rejected(reason) => Outcome {
            status: ItemStatus::Rejected,
            reason: Some(reason),
        },
    })
}

/// Run the items of one batch of `till` inside `tx` (the caller commits).
pub fn run_batch(
    tx: &mut dyn BatchTx,
    till: &str,
    items: &[BatchItem<'_>],
) -> Result<OutboxResponse, StoreError> {
    let at = tillsync_db::now_rfc3339();
    let mut results = Vec::with_capacity(items.len());
    let mut counts = [0usize; 4];
    for p in items {
        let key = p.key();
        let fingerprint = p.fingerprint();
        let earlier = tx.received(till, key)?;
        let reused = match &earlier {
            Some(r) if r.fingerprint.as_deref().is_none_or(|f| f == fingerprint) => {
                // A resend: the first answer again, nothing changes.
                let o = r.resend_outcome();
                count(&mut counts, o.status);
                results.push(ItemResult {
                    key: key.to_string(),
                    status: o.status,
                    reason: o.reason,
                });
                continue;
            }
            Some(_) => true,
            None => false,
        };
        let outcome = match p {
            BatchItem::Ticket {
                key,
                ticket,
                payload,
                check,
            } => store_ticket(
                tx.ticket_steps(),
                till,
                key,
                ticket,
                payload,
                check.clone(),
                &at,
            )?,
            BatchItem::Unreadable {
                key,
                payload,
                reason,
                ..
            } => quarantine_unreadable(tx.ticket_steps(), till, key, payload, reason, &at)?,
            BatchItem::Record { record, check, .. } => {
                store_record(&mut *tx.record_steps(), till, record, check.clone(), &at)?
            }
            BatchItem::Other { item, .. } if reused => Outcome {
                status: ItemStatus::Rejected,
                reason: Some(format!(
                    "the key {} was already used for an item with other content",
                    item.key
                )),
            },
            BatchItem::Other { item, .. } => apply_other(tx, till, item)?,
        };
        // The first answer for a key stays recorded (a key reused with
        // other content keeps its first answer).
        tx.record_received(till, key, &outcome, fingerprint, &at)?;
        count(&mut counts, outcome.status);
        results.push(ItemResult {
            key: key.to_string(),
            status: outcome.status,
            reason: outcome.reason,
        });
    }
    let (result, detail) = push_journal(&counts);
    tx.journal("push", Some(till), result, &detail)?;
    Ok(OutboxResponse { results })
}

/// The result and detail of a batch's "push" journal line, from the
/// counts of its answers (accepted, duplicate, quarantined, rejected).
pub fn push_journal(counts: &[usize; 4]) -> (&'static str, String) {
    let [accepted, duplicate, quarantined, rejected] = *counts;
    let result = if quarantined + rejected == 0 {
        "ok"
    } else {
        "partial"
    };
    (
        result,
        format!(
            "{} item(s): {accepted} accepted, {duplicate} duplicate, {quarantined} quarantined, {rejected} rejected",
            counts.iter().sum::<usize>()
        ),
    )
}

fn count(counts: &mut [usize; 4], s: ItemStatus) {
    counts[match s {
        ItemStatus::Accepted => 0,
        ItemStatus::Duplicate => 1,
        ItemStatus::Quarantined => 2,
        ItemStatus::Rejected => 3,
    }] += 1;
}
