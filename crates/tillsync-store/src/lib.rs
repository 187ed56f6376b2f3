//! Databases: the server's SQLite database (schema introspection, change
//! capture, sync tables, export reads and bookkeeping) and the till's SQLite
//! database (package apply, table versions, sync journal).
//!
//! # Layout
//! - [`error`]: [`StoreError`], the one error type of this crate.
//! - [`sql`]: identifier quoting and value conversion between rusqlite and the wire.
//! - [`introspect`]: a table's layout read from SQLite.
//! - [`capture`]: change-capture triggers into `tillsync_changes`.
//! - [`server`]: [`ServerDb`], the server database.
//! - [`server_up`]: server side of the up path (tickets, quarantine, received items).
//! - [`server_customers`]: customers created from tills, conflicts, audit.
//! - [`server_admin`]: what the admin pages need: editing a sync table, reading the journal.
//! - [`server_report`]: what tills report of their outbox and error list.
//! - [`till`]: [`TillDb`], the till database.
//! - [`till_up`]: till side of the up path (tickets, outbox, error list).
//! - [`till_customers`]: till side of customers and up-direction tables.
//! - [`store`]: [`ServerStore`], the server's storage interface, and [`open_server_store`].
//! - [`sqlite_store`]: [`ServerStore`] over SQLite ([`ServerDb`]).
//! - [`ingest`]: the up path's batch loop, the same for every backend.
//! - [`pg`]: [`ServerStore`] over PostgreSQL (capture triggers, export views, the export lock).
//! - [`digest`]: row count and content hash of a table, to compare till and server.
//! - [`demo`]: realistic demo business data.

pub mod capture;
pub mod demo;
pub mod digest;
pub mod error;
pub mod ingest;
pub mod introspect;
pub mod pg;
pub mod pg_up;
pub mod server;
pub mod server_admin;
pub mod server_customers;
pub mod server_report;
pub mod server_up;
pub mod sql;
pub mod sqlite_store;
pub mod store;
pub mod till;
pub mod till_customers;
pub mod till_up;

pub use error::StoreError;
pub use server::ServerDb;
pub use store::{Backend, Bookkeeping, PollIdentity, ServerStore, open_server_store};
pub use till::TillDb;

/// The tables that hold the tills' sales (fiscal records): they go up from
/// the tills and are never sent down (a full package would replace them).
pub fn is_ticket_table(name: &str) -> bool {
    ["TICKET", "TICKET_LINE", "TICKET_PAYMENT", "TICKET_VAT"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
