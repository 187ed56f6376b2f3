//! Outbox items other than tickets (customer edits, abandoned customer
//! creations, rows of up-direction sync tables), applied inside the
//! transaction of their batch by `POST /api/v1/outbox` (see [`crate::ingest`]).
//!
//! The caller records the answer in `tillsync_received` (idempotency) and the
//! batch's journal line: `apply` only applies the item (the store functions
//! of `tillsync_store::server_customers` do the work, each in a savepoint, so
//! a refused item leaves nothing behind).

use tillsync_store::StoreError;
use tillsync_store::server_customers::{
    UpOutcome, apply_customer_abandon, apply_customer_edit, apply_row_change,
};
use tillsync_wire::api::{
    CustomerAbandon, CustomerEdit, ItemResult, ItemStatus, OutboxItem, OutboxKind, RowChange,
};

use crate::web::Till;

/// Apply one non-ticket item of `till` inside the batch's transaction `tx`.
/// Bad data is answered [`ItemStatus::Rejected`] with a reason; an `Err`
/// aborts the whole batch (nothing is stored, the till retries).
pub(crate) fn apply(
    tx: &rusqlite::Transaction<'_>,
    till: &Till,
    item: &OutboxItem,
) -> Result<ItemResult, StoreError> {
    fn parse<T: serde::de::DeserializeOwned>(item: &OutboxItem, what: &str) -> Result<T, String> {
        serde_json::from_value(item.payload.clone())
            .map_err(|e| format!("the payload is not a valid {what}: {e}"))
    }
    let outcome = match item.kind {
        OutboxKind::CustomerEdit => match parse::<CustomerEdit>(item, "customer edit") {
            Ok(edit) => apply_customer_edit(tx, &till.id, &edit)?,
            Err(reason) => UpOutcome::Rejected(reason),
        },
        OutboxKind::CustomerAbandon => match parse::<CustomerAbandon>(item, "customer abandon") {
            Ok(a) => apply_customer_abandon(tx, &till.id, &a)?,
            Err(reason) => UpOutcome::Rejected(reason),
        },
        OutboxKind::Row => match parse::<RowChange>(item, "row change") {
            Ok(r) => apply_row_change(tx, &till.id, &r)?,
            Err(reason) => UpOutcome::Rejected(reason),
        },
        OutboxKind::Ticket => {
            UpOutcome::Rejected("a ticket is not handled here (internal routing error)".into())
        }
    };
    let (status, reason) = match outcome {
        UpOutcome::Applied(note) => (ItemStatus::Accepted, note),
        UpOutcome::Rejected(reason) => (ItemStatus::Rejected, Some(reason)),
    };
    Ok(ItemResult {
        key: item.key.clone(),
        status,
        reason,
    })
}
