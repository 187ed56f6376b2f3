//! An outbox item between the steps of the up path: after the checks that
//! need no database ([`Prepared`]), and as the store takes it
//! ([`batch_items`]); and why a batch is refused as a whole before the
//! database is touched ([`Refusal`]).

use axum::http::StatusCode;
use tillsync_core::fiscal::record::Record;
use tillsync_core::ticket::Ticket;
use tillsync_db::StoreError;
use tillsync_server_db::store::BatchItem;
use tillsync_server_db::tickets::TicketCheck;
use tillsync_wire::api::OutboxItem;

/// An item after the checks that need no database.
pub(crate) enum Prepared {
    Ticket {
        key: String,
        ticket: Box<Ticket>,
        payload: String,
        check: TicketCheck,
    },
    Record {
        key: String,
        record: Box<Record>,
        check: Result<(), String>,
    },
    Unreadable {
        key: String,
        payload: String,
        reason: String,
        fingerprint: String,
    },
    Other {
        item: OutboxItem,
        fingerprint: String,
    },
}

/// Why a batch is refused as a whole before the database is touched.
pub(crate) enum Refusal {
    /// Bad request, foreign ticket: answered with this status and code.
    Bad(StatusCode, &'static str, String),
    /// Reading the till's keys failed.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Store(e)
    }
}

/// The items of a batch as the store takes them.
pub(crate) fn batch_items(items: &[Prepared]) -> Vec<BatchItem<'_>> {
    items
        .iter()
        .map(|p| match p {
            Prepared::Ticket {
                key,
                ticket,
                payload,
                check,
            } => BatchItem::Ticket {
                key,
                ticket,
                payload,
                check: check.clone(),
            },
            Prepared::Record { key, record, check } => BatchItem::Record {
                key,
                record,
                check: check.clone(),
            },
            Prepared::Unreadable {
                key,
                payload,
                reason,
                fingerprint,
            } => BatchItem::Unreadable {
                key,
                payload,
                reason,
                fingerprint,
            },
            Prepared::Other { item, fingerprint } => BatchItem::Other { item, fingerprint },
        })
        .collect()
}
