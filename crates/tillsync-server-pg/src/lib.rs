//! The server's database on PostgreSQL: [`PgServerDb`], its schema, change
//! capture, export views, the export lock, and the SQL of the up path's
//! steps, behind [`tillsync_server_db::ServerStore`].
//!
//! # Layout
//! - [`db`]: [`PgServerDb`]: connections, schema, sync tables, tills, export reads, the store trait.
//! - [`testdb`]: the one PostgreSQL test fixture (a throwaway database per test).
//! - [`up`]: the up path's SQL: [`up::tickets`], [`up::customers`], and [`up::fast`]
//!   (set-wise filing of a group of batches).

pub mod db;
pub mod testdb;
pub mod up;

pub use db::PgServerDb;
