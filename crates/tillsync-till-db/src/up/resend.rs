//! Tickets sent again: when the server names numbers it never received (an
//! outbox row lost on the till), the tickets are read back from the till's
//! own `TICKET` table and queued in the outbox again under their own key,
//! with a `resend` event in the event log, in one transaction.

use ed25519_dalek::SigningKey;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tillsync_core::fiscal::event::EventKind;
use tillsync_wire::api::OutboxKind;

use crate::db::TillDb;
use crate::fiscal::events::log_in;
use crate::up::outbox::ticket_key;
use crate::up::tickets::load_ticket;
use tillsync_db::StoreError;

/// Longest range sent again at once.
pub const MAX_RESEND: u64 = 100_000;

impl TillDb {
    /// Queue again `till`'s tickets numbered `from..=to` that the outbox
    /// does not hold already; returns their numbers (none: nothing
    /// written). Numbers the till does not have are skipped.
    pub fn resend_tickets(
        &mut self,
        till: &str,
        key: &SigningKey,
        from: u64,
        to: u64,
        now: &str,
    ) -> Result<Vec<u64>, StoreError> {
        if from == 0 || to < from || to - from >= MAX_RESEND {
            return Err(StoreError::Inconsistent(format!(
                "cannot send tickets {from}–{to} again: expected 1 ≤ FROM ≤ TO, at most {MAX_RESEND} at once"
            )));
        }
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut queued = Vec::new();
        for n in from..=to {
            let k = ticket_key(n);
            let waiting = tx
                .prepare_cached(r#"SELECT 1 FROM "tillsync_outbox" WHERE "key" = ?1"#)?
                .query_row(params![k], |_| Ok(()))
                .optional()?
                .is_some();
            if waiting {
                continue;
            }
            let Some(t) = load_ticket(&tx, till, n)? else {
                continue;
            };
            TillDb::enqueue(&tx, &k, OutboxKind::Ticket, &t)?;
            queued.push(n);
        }
        if !queued.is_empty() {
            let body = serde_json::json!({"from": from, "to": to, "tickets": queued.len()});
            log_in(&tx, till, key, EventKind::Resend, &body, now)?;
        }
        tx.commit()?;
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::test_support::{db, sell};

    #[test]
    fn lost_outbox_rows_are_queued_again_from_the_tickets() {
        let (_d, mut db) = db();
        let k = SigningKey::from_bytes(&[3u8; 32]);
        for _ in 0..3 {
            sell(&mut db, "A", 1).unwrap();
        }
        // The outbox row of ticket 2 is lost.
        db.conn()
            .execute(
                r#"DELETE FROM "tillsync_outbox" WHERE "key" = 'ticket:2'"#,
                [],
            )
            .unwrap();
        let again = db
            .resend_tickets("T001", &k, 1, 5, "2026-12-04T10:00:00Z")
            .unwrap();
        assert_eq!(again, [2]);
        let keys: Vec<String> = db
            .outbox_batch(10)
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert!(keys.contains(&"ticket:2".to_string()), "{keys:?}");
        let events = db.events("T001", 0).unwrap();
        assert_eq!(events.last().unwrap().kind, "resend");
        // Asked again: already waiting, nothing written.
        assert!(
            db.resend_tickets("T001", &k, 2, 2, "2026-12-04T10:00:00Z")
                .unwrap()
                .is_empty()
        );
        assert!(
            db.resend_tickets("T001", &k, 3, 2, "2026-12-04T10:00:00Z")
                .is_err()
        );
    }
}
