//! The till's SQLite database: synced tables and their versions, package
//! apply (down), sales, tickets and the outbox (up), customers and
//! up-direction tables, the sync journal. No server code, no PostgreSQL.
//!
//! # Layout
//! - [`db`]: [`TillDb`]: open, schema, table versions, package apply, journal.
//! - [`up`]: tickets, the outbox and the error list.
//! - [`customers`]: customers and up-direction tables on the till.

pub mod customers;
pub mod db;
pub mod up;

pub use db::TillDb;
