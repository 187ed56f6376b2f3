//! The server's storage interface, backend-neutral: the [`ServerStore`]
//! trait every backend implements, the types it speaks in, and the up
//! path's rules written once over each backend's SQL steps.
//!
//! # Layout
//! - [`store`]: [`ServerStore`], every database need of the web service, the export and the
//!   commands, as one trait per concern ([`SyncTableStore`], [`ExportStore`], [`TillStore`],
//!   [`UpStore`], [`JournalStore`], [`ErpStore`]).
//! - [`export`]: a sync table's export state and the rows an export reads.
//! - [`tills`]: tills, their credentials check and what they reported.
//! - [`tickets`]: the answers to outbox items and the ticket listings.
//! - [`customers`]: conflict policies, conflicts, who created a customer.
//! - [`reports`]: what tills report of their outbox and error list.
//! - [`journal`]: the sync journal's lines.
//! - [`up`]: the up path written once for every backend: [`up::batch`] (the batch loop,
//!   idempotency records) and [`up::tickets`] (filing a ticket over a backend's `TicketSteps`).

pub mod customers;
pub mod export;
pub mod journal;
pub mod reports;
pub mod store;
pub mod tickets;
pub mod tills;
pub mod up;

pub use store::{
    Backend, Bookkeeping, ErpStore, ExportStore, JournalStore, PollIdentity, ServerStore,
    SyncTableStore, TillStore, UpStore,
};
