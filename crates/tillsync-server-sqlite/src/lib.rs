//! The server's database on SQLite (the embedded default): [`ServerDb`],
//! its schema and migrations, change capture, export reads, and the SQL of
//! the up path's steps, behind [`tillsync_server_db::ServerStore`].
//!
//! # Layout
//! - [`migrations`]: the ordered migrations and the SQL text of each (a leaf), [`migrations::SCHEMA_VERSION`].
//! - [`db`]: [`ServerDb`]: open and migrate, the connection, the sync journal.
//! - [`sync_tables`]: the registered sync tables, registration (checks, change capture), removal.
//! - [`tills`]: stores and tills of `STORE_TILL`, till credentials, ticket keys.
//! - [`keys`]: enrolment secrets, key histories, the SQL of a key change's steps, `KeyStore`.
//! - [`export`]: what the export records: table states, published packages, `record_export`.
//! - [`snapshot`]: the export's consistent read view (full reads, changed keys).
//! - [`capture`]: change-capture triggers into `tillsync_changes`.
//! - [`up`]: the up path's SQL: [`up::tickets`] (received items, tickets, quarantine) and
//!   [`up::customers`] (the SQL of the customer steps, [`up::customers::CustomerSql`]:
//!   customers created from tills, edits, abandons, conflicts, up-direction rows).
//! - [`customers`]: customers outside a batch: creating one in its own transaction,
//!   who created it, the conflict audit, the conflict policies, the up tables' layouts.
//! - [`admin`]: what the admin pages need: editing a sync table, reading the journal.
//! - [`reports`]: what tills report of their outbox and error list.
//! - [`store`]: [`tillsync_server_db::ServerStore`] over [`ServerDb`].

pub mod admin;
pub mod capture;
pub mod customers;
pub mod db;
pub mod export;
pub mod keys;
pub mod migrations;
pub mod reports;
pub mod snapshot;
pub mod store;
pub mod sync_tables;
pub mod tills;
pub mod up;

pub use db::ServerDb;
