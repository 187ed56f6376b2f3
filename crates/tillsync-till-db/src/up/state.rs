//! The till's small key-value state (`tillsync_state`): when the server
//! last answered a push batch, when it last answered any call.

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::TillDb;
use tillsync_db::StoreError;

/// `tillsync_state` key: when the server last answered a push batch.
pub const STATE_LAST_PUSH: &str = "last_push";
/// `tillsync_state` key: when the server last answered any call.
pub const STATE_LAST_CONTACT: &str = "last_contact";

impl TillDb {
    /// Set `key` of the small state table to `value` (with the time).
    pub fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        set_state_in(self.conn(), key, value)
    }

    /// The value of `key` in the state table.
    pub fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(r#"SELECT "value" FROM "tillsync_state" WHERE "key" = ?1"#)?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }
}

/// Set `key` of the state table to `value` (with the time), inside the
/// caller's transaction.
pub(crate) fn set_state_in(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        r#"INSERT INTO "tillsync_state"("key", "value", "at") VALUES (?1, ?2, ?3)
           ON CONFLICT("key") DO UPDATE SET "value" = excluded."value", "at" = excluded."at""#,
    )?
    .execute(params![key, value, tillsync_db::now_rfc3339()])?;
    Ok(())
}
