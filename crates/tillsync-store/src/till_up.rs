//! Till tables of the up path: tickets, the outbox, the error list.

/// Schema migration of the up path (till migration 2).
pub(crate) const SCHEMA: &str = "CREATE TABLE tillsync_outbox(
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    payload TEXT NOT NULL, created_at TEXT NOT NULL);";
