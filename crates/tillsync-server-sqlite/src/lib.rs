//! The server's database on SQLite (the embedded default): [`ServerDb`],
//! its schema and migrations, change capture, export reads, and the SQL of
//! the up path's steps, behind [`tillsync_server_db::ServerStore`].
//!
//! # Layout
//! - [`db`]: [`ServerDb`]: open, migrations, sync tables, tills, export snapshots.
//! - [`capture`]: change-capture triggers into `tillsync_changes`.
//! - [`up`]: the up path's SQL: [`up::tickets`] (received items, tickets, quarantine) and
//!   [`up::customers`] (customers created from tills, edits, conflicts, up-direction rows).
//! - [`admin`]: what the admin pages need: editing a sync table, reading the journal.
//! - [`reports`]: what tills report of their outbox and error list.
//! - [`store`]: [`tillsync_server_db::ServerStore`] over [`ServerDb`].

pub mod admin;
pub mod capture;
pub mod db;
pub mod reports;
pub mod store;
pub mod up;

pub use db::ServerDb;
