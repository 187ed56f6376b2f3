//! Tills on the server: the stores and tills of `STORE_TILL`, till
//! credentials (check, revoke, last contact) and the public keys of their
//! ticket keys (issued at enrolment: `keys.rs`).

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::db::ServerDb;
use tillsync_core::secret::constant_time_eq;
use tillsync_db::StoreError;
use tillsync_server_db::tills::{AuthFailure, TillRow, revoke_line};

impl ServerDb {
    /// The store a till belongs to, from `STORE_TILL`.
    pub fn till_store(&self, till_id: &str) -> Result<String, StoreError> {
        let r = self
            .conn()
            .query_row(
                "SELECT store FROM STORE_TILL WHERE till_id = ?1",
                [till_id],
                |r| r.get::<_, String>(0),
            )
            .optional();
        match r {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(StoreError::UnknownTill(till_id.into())),
            Err(e) => Err(StoreError::NoStoreTill(e.to_string())),
        }
    }

    /// Every store that has a till, from `STORE_TILL`.
    pub fn stores(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT DISTINCT store FROM STORE_TILL WHERE store IS NOT NULL ORDER BY store")
            .map_err(|e| StoreError::NoStoreTill(e.to_string()))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Check a till's token (given as its SHA-256). Records the contact.
    pub fn authenticate(
        &self,
        till_id: &str,
        token_sha256: &str,
    ) -> Result<Result<(), AuthFailure>, StoreError> {
        let row: Option<(String, Option<String>)> = self
            .conn()
            .prepare_cached(
                "SELECT token_sha256, revoked_at FROM tillsync_tills WHERE till_id = ?1",
            )?
            .query_row([till_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match row {
            None => Err(AuthFailure::BadCredentials),
            Some((stored, _)) if !constant_time_eq(stored.as_bytes(), token_sha256.as_bytes()) => {
                Err(AuthFailure::BadCredentials)
            }
            Some((_, Some(_))) => Err(AuthFailure::Revoked),
            Some((_, None)) => Ok(()),
        })
    }

    /// Record that a till called (last contact).
    pub fn touch_till(&self, till_id: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE tillsync_tills SET last_contact = ?2 WHERE till_id = ?1")?
            .execute(params![till_id, tillsync_db::now_rfc3339()])?;
        Ok(())
    }

    /// Revoke a till: its calls get 403 until it enrols from a new
    /// deployment package; its unused packages are superseded.
    pub fn revoke_till(&mut self, till_id: &str) -> Result<(), StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = tillsync_db::now_rfc3339();
        let tokens = tx.execute(
            "UPDATE tillsync_tills SET revoked_at = ?2 WHERE till_id = ?1",
            params![till_id, now],
        )?;
        let packages = tx.execute(
            "UPDATE tillsync_enrolments SET superseded_at = ?2
             WHERE till_id = ?1 AND used_at IS NULL AND superseded_at IS NULL",
            params![till_id, now],
        )?;
        if tokens == 0 && packages == 0 {
            return Err(StoreError::Inconsistent(format!(
                "till {till_id} has no credentials (no deployment package was generated for it)"
            )));
        }
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES (?1, 'credentials', ?2, 'ok', ?3)",
            params![now, till_id, revoke_line(packages as u64)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Public keys (hex) that may have signed this till's tickets, newest first.
    pub fn till_ticket_keys(&self, till_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT public_key FROM tillsync_till_keys WHERE till_id = ?1 ORDER BY issued_at DESC",
        )?;
        let rows = stmt.query_map([till_id], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every till of `STORE_TILL` with its credential state.
    pub fn tills(&self) -> Result<Vec<TillRow>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT s.till_id, s.store, t.issued_at, t.revoked_at, t.last_contact,
                   (SELECT h.key_id FROM tillsync_key_history h WHERE h.till_id = s.till_id
                    ORDER BY h.seq DESC LIMIT 1),
                   (SELECT max(e.expires_at) FROM tillsync_enrolments e WHERE e.till_id = s.till_id
                    AND e.used_at IS NULL AND e.superseded_at IS NULL)
                 FROM STORE_TILL s LEFT JOIN tillsync_tills t ON t.till_id = s.till_id
                 ORDER BY s.till_id",
            )
            .map_err(|e| StoreError::NoStoreTill(e.to_string()))?;
        let rows = stmt.query_map([], |r| {
            Ok(TillRow {
                till_id: r.get(0)?,
                store: r.get(1)?,
                issued_at: r.get(2)?,
                revoked_at: r.get(3)?,
                last_contact: r.get(4)?,
                key_id: r.get(5)?,
                enrolment_expires_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
