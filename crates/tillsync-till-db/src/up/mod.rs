//! Till tables of the up path: the till's own tickets (`TICKET`,
//! `TICKET_LINE`, `TICKET_PAYMENT`, `TICKET_VAT`, as on the server;
//! inalterable; training-mode tickets in `TRAINING_TICKET`… apart, and
//! the idempotency keys of sales in `tillsync_sale_keys`), the durable
//! outbox of everything that goes up, the error list of items the server
//! refused, and a small key-value state (last push, last contact). Their schema is till migrations 2 and 5 (`schema.rs`).
//!
//! Everything that goes up is written to the outbox with
//! [`TillDb::enqueue`](crate::db::TillDb::enqueue) in the same transaction
//! as the change itself; an item leaves the outbox only when the server
//! answered for it ([`TillDb::settle`](crate::db::TillDb::settle)).
//!
//! # Layout
//! - [`sale`]: recording a sale (numbering and chaining per chain, the ticket's rows, its
//!   idempotency key, its outbox item).
//! - [`tickets`]: the till's tickets read back per chain (newest, count, whole ticket, corrections).
//! - [`lookup`]: reads of the synced tables a sale needs (`ART` prices, row existence).
//! - [`outbox`]: the outbox queue, its reads for sending, settling the server's answers, its counts.
//! - [`resend`]: tickets queued again from `TICKET` when the server names them missing.
//! - [`errors`]: the error list of items the server refused or quarantined.
//! - [`state`]: the small key-value state (`STATE_*` keys).
//!
//! The re-exports below keep `tillsync_till_db::up::…` paths short for the
//! other crates; inside this crate, items are imported from their module.

pub mod errors;
pub mod lookup;
pub mod outbox;
pub mod resend;
pub mod sale;
pub mod state;
#[cfg(test)]
pub(crate) mod test_support;
pub mod tickets;

pub use errors::OutboxError;
pub use lookup::{has_table, priced_item, row_exists};
pub use outbox::{
    OutboxEntry, OutboxStats, Outcome, Settled, kind_name, parse_kind, ticket_key,
    training_ticket_key,
};
pub use sale::{Recorded, SaleKey, insert_ticket};
pub use state::{STATE_LAST_CONTACT, STATE_LAST_PUSH};
pub use tickets::{
    CorrectedTicket, LastTicket, SoldLine, corrected_line, corrected_ticket, last_ticket,
    last_ticket_of, load_ticket, load_ticket_of, sold_line, ticket_corrects,
};
