//! Recording a sale: the next number and the previous hash (the chain),
//! the sealed ticket inserted with its lines, payments and VAT totals, and
//! queued in the outbox, all in one transaction.

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use tillsync_core::ticket::{GENESIS_HASH, Ticket};
use tillsync_wire::api::OutboxKind;

use crate::db::TillDb;
use crate::up::outbox::ticket_key;
use crate::up::tickets::last_ticket;
use tillsync_db::StoreError;

/// Insert a sealed ticket (head, lines, payments, VAT totals) and queue it in the
/// outbox (key `ticket:<number>`, kind `ticket`, payload the ticket JSON),
/// inside the caller's transaction.
pub fn insert_ticket(conn: &Connection, t: &Ticket) -> Result<(), StoreError> {
    let number = t.number as i64;
    conn.prepare_cached(
        r#"INSERT INTO "TICKET"("till_id", "number", "time", "total_cents", "customer",
             "corrects", "prev_hash", "hash", "signature")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"#,
    )?
    .execute(params![
        t.till,
        number,
        t.time,
        t.total_cents,
        t.customer,
        t.corrects.map(|n| n as i64),
        t.prev_hash,
        t.hash,
        t.signature
    ])?;
    tillsync_db::ticket_rows::insert_ticket_details(conn, &t.till, number, t)?;
    TillDb::enqueue(conn, &ticket_key(t.number), OutboxKind::Ticket, t)
}

impl TillDb {
    /// Record a sale in one IMMEDIATE transaction: `seal` gets the
    /// transaction (to read prices), the next number (last + 1, from 1) and
    /// the previous ticket's hash ([`GENESIS_HASH`] for the first), and
    /// returns the sealed ticket; it is inserted with its lines and payments
    /// and queued in the outbox. On any error nothing is recorded.
    pub fn record_sale<E: From<StoreError>>(
        &mut self,
        till: &str,
        seal: impl FnOnce(&Transaction<'_>, u64, &str) -> Result<Ticket, E>,
    ) -> Result<Ticket, E> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let last = last_ticket(&tx, till)?;
        let number = last.as_ref().map_or(1, |l| l.number + 1);
        let prev = last.map_or_else(|| GENESIS_HASH.to_string(), |l| l.hash);
        let ticket = seal(&tx, number, &prev)?;
        if ticket.till != till || ticket.number != number || ticket.prev_hash != prev {
            return Err(StoreError::Inconsistent(format!(
                "sealed ticket {}/{} does not follow ticket {}/{} of this till",
                ticket.till,
                ticket.number,
                till,
                number - 1
            ))
            .into());
        }
        insert_ticket(&tx, &ticket)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::test_support::{count, db, sell};
    use crate::up::tickets::load_ticket;
    use ed25519_dalek::SigningKey;

    #[test]
    fn sales_are_numbered_chained_and_queued() {
        let (_d, mut db) = db();
        let t1 = sell(&mut db, "A", 2).unwrap();
        let t2 = sell(&mut db, "B", 1).unwrap();
        assert_eq!((t1.number, t2.number), (1, 2));
        assert_eq!(t1.prev_hash, GENESIS_HASH);
        assert_eq!(t2.prev_hash, t1.hash);
        let key = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        t2.verify(&key, &t1.hash).unwrap();
        assert_eq!(count(&db, "TICKET_LINE"), 2);
        assert_eq!(count(&db, "TICKET_PAYMENT"), 2);
        let batch = db.outbox_batch(10).unwrap();
        assert_eq!(
            batch.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["ticket:1", "ticket:2"]
        );
        assert_eq!(batch[0].kind, "ticket");
        let back: Ticket = serde_json::from_str(&batch[1].payload).unwrap();
        assert_eq!(back, t2);
        // The tables hold the whole ticket: read back, it is the same and verifies.
        let stored = load_ticket(db.conn(), "T001", 2).unwrap().unwrap();
        assert_eq!(stored, t2);
        assert_eq!(hex::encode(stored.digest()), t2.hash);
        assert_eq!(load_ticket(db.conn(), "T001", 3).unwrap(), None);
        let (n, last) = db.ticket_summary("T001").unwrap();
        assert_eq!((n, last.unwrap().number), (2, 2));
    }

    #[test]
    fn a_failed_sale_records_nothing() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 1).unwrap();
        assert!(sell(&mut db, "NOPE", 1).is_err());
        assert!(sell(&mut db, "A", 0).is_err());
        assert_eq!(count(&db, "TICKET"), 1);
        assert_eq!(count(&db, "tillsync_outbox"), 1);
        // The next sale still gets number 2.
        assert_eq!(sell(&mut db, "B", 1).unwrap().number, 2);
    }

    #[test]
    fn tickets_are_inalterable() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 1).unwrap();
        for sql in [
            r#"UPDATE "TICKET" SET "total_cents" = 1"#,
            r#"DELETE FROM "TICKET""#,
            r#"UPDATE "TICKET_LINE" SET "quantity" = 5"#,
            r#"DELETE FROM "TICKET_LINE""#,
            r#"UPDATE "TICKET_PAYMENT" SET "amount_cents" = 5"#,
            r#"DELETE FROM "TICKET_PAYMENT""#,
            r#"UPDATE "TICKET_VAT" SET "vat_cents" = 5"#,
            r#"DELETE FROM "TICKET_VAT""#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("tickets are inalterable"), "{sql}: {e}");
        }
        assert_eq!(count(&db, "TICKET"), 1);
        assert_eq!(count(&db, "TICKET_LINE"), 1);
    }
}
