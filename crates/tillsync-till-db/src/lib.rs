//! The till's SQLite database: synced tables and their versions, package
//! apply (down), sales, tickets and the outbox (up), customers and
//! up-direction tables, the sync journal. No server code, no PostgreSQL.
//!
//! # Layout
//! - `schema`: the till's migrations and the SQL text of each (a leaf).
//! - [`db`]: [`TillDb`]: open and migrate, table versions, package apply, journal.
//! - [`up`]: the up path: sales and tickets, the outbox, the error list, the state keys.
//! - [`customers`]: customers and up-direction tables on the till.
//! - [`fiscal`]: the event log (JET) and the closings: record tables, events, closings,
//!   duplicates (`fiscal::reprints`), the ledger the verifier and archives read
//!   (everything, or a closed period), the purge rule's inputs.
//! - [`store`]: the till's store from the down sync tables: its identity for receipts
//!   (`STORE`), its cashiers (`CASHIER`), the zone of the till.

pub mod customers;
pub mod db;
pub mod fiscal;
mod schema;
pub mod store;
pub mod up;

pub use db::TillDb;
