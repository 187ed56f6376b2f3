//! Till tables of customers and up-direction sync tables.

/// Schema migration of customers and up tables (till migration 3).
pub(crate) const SCHEMA: &str = "CREATE TABLE tillsync_up_tables(
    tbl TEXT PRIMARY KEY, layout TEXT NOT NULL, installed_at TEXT NOT NULL);";
