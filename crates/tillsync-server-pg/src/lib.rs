//! The server's database on PostgreSQL: [`PgServerDb`], its schema, change
//! capture, export views, the export lock, and the SQL of the up path's
//! steps, behind [`tillsync_server_db::ServerStore`] (one file per concern,
//! with the names of the SQLite backend's files where they do the same).
//!
//! # Layout
//! - [`db`]: [`PgServerDb`]: connecting (with plain words for what went wrong), the connection kept.
//! - [`migrations`]: the schema step by step, numbered as on SQLite; the former numbering upgraded.
//! - [`values`]: how a column of each type is read, ordered and turned into a package value.
//! - [`introspect`]: a business table's real name and layout from the catalog.
//! - [`reads`]: rows in key order and value hashes, shared by the export view and the digest.
//! - [`sync_tables`]: layouts from the catalog, change capture, `SyncTableStore`.
//! - [`export`]: the export's read view and lock, `ExportStore`.
//! - [`tills`]: credentials, who is calling, bookkeeping, `TillStore`.
//! - [`keys`]: enrolment secrets, key histories, the SQL of a key change's steps, `KeyStore`.
//! - [`journal`]: the sync journal, `JournalStore`.
//! - [`erp`]: business data as another writer sees it, `ErpStore`.
//! - [`up`]: the up path's SQL: [`up::store`] (batch steps, `UpStore`), [`up::tickets`],
//!   [`up::customers`] (the SQL of the customer steps, [`up::customers::CustomerSql`]),
//!   and [`up::fast`] (set-wise filing of a group of batches).
//! - [`customers`]: customers outside a batch: creating one in its own transaction,
//!   who created it, the conflict audit, the conflict policies, the up tables' layouts.
//! - [`testdb`]: the one PostgreSQL test fixture (a throwaway database per test).

pub mod customers;
pub mod db;
pub mod erp;
pub mod export;
pub mod introspect;
pub mod journal;
pub mod keys;
pub mod migrations;
pub mod reads;
pub mod sync_tables;
pub mod testdb;
pub mod tills;
pub mod up;
pub mod values;

pub use db::PgServerDb;
