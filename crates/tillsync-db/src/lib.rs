//! Database plumbing shared by the till and the server: the one error type,
//! SQLite files opened with tillsync's settings and migrated, identifier
//! quoting and value conversion, table introspection and digests, the rows
//! of a ticket in SQLite, and the demo business data.
//!
//! # Layout
//! - [`clock`]: [`now_rfc3339`], the time as written in databases and journals.
//! - [`error`]: [`StoreError`], the one error type of every database crate.
//! - [`sqlite`]: opening a SQLite file with tillsync's settings; migrations.
//! - [`sql`]: identifier quoting and value conversion between rusqlite, JSON and the wire.
//! - [`introspect`]: a table's layout read from SQLite.
//! - [`digest`]: row count and content hash of a table, to compare till and server.
//! - [`tables`]: the names of the business tables tillsync knows (tickets, customers).
//! - [`ticket_rows`]: a ticket's lines, payments and VAT totals as SQLite rows (till and server),
//!   and which tables hold which chain (fiscal, training).
//! - [`demo`]: realistic demo business data (items, customers, stores and tills, VAT rates).

pub mod clock;
pub mod demo;
pub mod digest;
pub mod error;
pub mod introspect;
pub mod sql;
pub mod sqlite;
pub mod tables;
pub mod ticket_rows;

pub use clock::now_rfc3339;
pub use error::StoreError;
