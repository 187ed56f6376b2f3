//! Duplicates: a receipt printed again is logged in the event log as a
//! `reprint` event naming the ticket and its reprint number (the count of
//! the ticket's earlier reprints + 1), counted and written in one
//! transaction, so that two reprints never get the same number; the day
//! closing counts those events.

use ed25519_dalek::SigningKey;
use rusqlite::{Connection, TransactionBehavior, params};
use tillsync_core::fiscal::event::EventKind;
use tillsync_core::fiscal::record::Record;

use crate::db::TillDb;
use crate::fiscal::events::{log_in, note_clock_in};
use crate::up::tickets::ticket_corrects;
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::FISCAL_TABLES;

/// A duplicate logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reprint {
    /// The ticket printed again.
    pub ticket: u64,
    /// Its reprint number: 1 for the first duplicate.
    pub reprint: u64,
    /// The `reprint` event.
    pub event: Record,
}

/// How many duplicates of ticket `number` of `till` the event log holds.
pub fn reprints_of(conn: &Connection, till: &str, number: u64) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            r#"SELECT COUNT(*) FROM "EVENT_LOG" WHERE "till_id" = ?1 AND "kind" = 'reprint'
               AND json_extract("body", '$.ticket') = ?2"#,
        )?
        .query_row(params![till, number as i64], |r| r.get(0))?;
    Ok(n as u64)
}

impl TillDb {
    /// Log a duplicate of ticket `number` of `till` at `now` (after a
    /// `clock_back` event when the clock is behind): the ticket must exist.
    pub fn log_reprint(
        &mut self,
        till: &str,
        key: &SigningKey,
        number: u64,
        now: &str,
    ) -> Result<Reprint, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if ticket_corrects(&tx, &FISCAL_TABLES, till, number)?.is_none() {
            return Err(StoreError::Invalid(format!(
                "ticket {number} does not exist on till {till}: there is no receipt to print again"
            )));
        }
        note_clock_in(&tx, till, key, now)?;
        let reprint = reprints_of(&tx, till, number)? + 1;
        let body = serde_json::json!({ "ticket": number, "reprint": reprint });
        let event = log_in(&tx, till, key, EventKind::Reprint, &body, now)?;
        tx.commit()?;
        Ok(Reprint {
            ticket: number,
            reprint,
            event,
        })
    }

    /// [`reprints_of`] on this database.
    pub fn reprints_of(&self, till: &str, number: u64) -> Result<u64, StoreError> {
        reprints_of(self.conn(), till, number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::closings::Closer;
    use crate::up::test_support::{db, sell};
    use tillsync_core::fiscal::closing::Period;
    use tillsync_core::fiscal::local::LocalZone;

    #[test]
    fn duplicates_are_numbered_per_ticket_logged_and_closed() {
        let (_d, mut db) = db();
        let k = SigningKey::from_bytes(&[3u8; 32]);
        sell(&mut db, "A", 1).unwrap();
        sell(&mut db, "B", 1).unwrap();
        let now = "2026-01-01T10:00:00Z";
        let r1 = db.log_reprint("T001", &k, 1, now).unwrap();
        let r2 = db.log_reprint("T001", &k, 1, now).unwrap();
        let r3 = db.log_reprint("T001", &k, 2, now).unwrap();
        assert_eq!((r1.reprint, r2.reprint, r3.reprint), (1, 2, 1));
        assert_eq!(r2.event.kind, "reprint");
        assert_eq!(r2.event.body, r#"{"reprint":2,"ticket":1}"#);
        assert_eq!(db.reprints_of("T001", 1).unwrap(), 2);
        let e = db.log_reprint("T001", &k, 9, now).unwrap_err().to_string();
        assert!(e.contains("ticket 9 does not exist"), "{e}");
        assert_eq!(db.events("T001", 0).unwrap().len(), 3);
        let z = LocalZone::paris();
        let closer = Closer {
            till: "T001",
            key: &k,
            zone: &z,
            now: "2026-01-01T19:00:00Z",
        };
        let c = db.close(&closer, Period::Day).unwrap();
        assert_eq!(c.body.reprints, 3);
    }
}
