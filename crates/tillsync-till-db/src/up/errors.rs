//! The error list (`tillsync_outbox_errors`): the items the server refused
//! or quarantined, set aside from the outbox with the server's reason.

use serde::Serialize;

use crate::db::TillDb;
use tillsync_db::StoreError;

/// One item the server refused or quarantined, set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxError {
    /// Idempotency key.
    pub key: String,
    /// Kind.
    pub kind: String,
    /// `rejected` or `quarantined` (or `unsendable` when the till could not
    /// even send it).
    pub status: String,
    /// The server's reason.
    pub reason: String,
    /// When it was queued.
    pub created_at: String,
    /// When it was set aside.
    pub at: String,
    /// The item, JSON text.
    pub payload: String,
}

impl TillDb {
    /// The error list, oldest first.
    pub fn errors(&self) -> Result<Vec<OutboxError>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            r#"SELECT "key", "kind", "status", "reason", "created_at", "at", "payload"
               FROM "tillsync_outbox_errors" ORDER BY "id""#,
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxError {
                key: r.get(0)?,
                kind: r.get(1)?,
                status: r.get(2)?,
                reason: r.get(3)?,
                created_at: r.get(4)?,
                at: r.get(5)?,
                payload: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
