//! The server's storage interface, backend-neutral: the [`ServerStore`]
//! trait every backend implements, the types it speaks in, and the up
//! path's rules written once over each backend's SQL steps.
//!
//! # Layout
//! - [`store`]: [`ServerStore`], every database need of the web service, the export and the
//!   commands, as one trait per concern ([`SyncTableStore`], [`ExportStore`], [`TillStore`],
//!   [`KeyStore`], [`UpStore`], [`JournalStore`], [`ErpStore`], [`FiscalStore`]).
//! - [`export`]: a sync table's export state and the rows an export reads.
//! - [`tills`]: tills, their credentials check and what they reported.
//! - [`keys`]: enrolment secrets, and a key change (enrolment, rotation) decided once
//!   over a backend's `KeySteps`: the key history extended with a signed record.
//! - [`enrol`]: a key enrolled in one go, for callers that hold it already (benchmark, tests).
//! - [`tickets`]: the answers to outbox items and the ticket listings.
//! - [`customers`]: conflicts, who created a customer, the outcome of a till's change
//!   (and the conflict policy, re-exported from `tillsync_core` for other crates).
//! - [`reports`]: what tills report of their outbox and error list.
//! - [`journal`]: the sync journal's lines.
//! - [`ledger`]: the ledger of a till's closings and what it flags (totals, unclosed days, gaps).
//! - [`ledger_source`]: a till's records as the server holds them, for archives and the
//!   verifier, and the till's keys.
//! - [`up`]: the up path written once for every backend: [`up::batch`] (the batch loop,
//!   idempotency records), [`up::tickets`] (filing a ticket over a backend's `TicketSteps`)
//!   , [`up::records`] (filing a fiscal record over a backend's `RecordSteps`)
//!   and [`up::customers`] (creating a customer, edits, abandons, up-direction rows, over
//!   a backend's `CustomerSteps`).

pub mod customers;
pub mod enrol;
pub mod export;
pub mod journal;
pub mod keys;
pub mod ledger;
pub mod ledger_source;
pub mod reports;
pub mod store;
pub mod tickets;
pub mod tills;
pub mod up;

pub use store::{
    Backend, Bookkeeping, ErpStore, ExportStore, FiscalStore, JournalStore, KeyStore, PollIdentity,
    ServerStore, SyncTableStore, TillStore, UpStore,
};
