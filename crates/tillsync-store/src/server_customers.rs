//! Server tables of customer creation from tills, conflicts and audit.

/// Schema migration of customers (server migration 4).
pub(crate) const SCHEMA: &str = "CREATE TABLE tillsync_customer_origin(
    code TEXT PRIMARY KEY, till_id TEXT NOT NULL, created_at TEXT NOT NULL);";
