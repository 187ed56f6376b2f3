//! Server tables of the up path: tickets as an ERP reads them, quarantine,
//! idempotency of received outbox items.

/// Schema migration of the up path (server migration 3).
pub(crate) const SCHEMA: &str = "CREATE TABLE tillsync_received(
    till_id TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    at TEXT NOT NULL, PRIMARY KEY (till_id, key));";
