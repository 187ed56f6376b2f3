//! A till's fiscal ledger read from its database, for the verifier and for
//! archives: everything it holds (from each chain's first record), or the
//! records of a closed period with the anchors before them
//! ([`tillsync_core::fiscal::ledger::select`]), in one read transaction.

use rusqlite::Connection;
use tillsync_core::fiscal::ledger::{
    Ledger, LedgerSource, PeriodName, period_ledger, whole_ledger,
};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN, Record};
use tillsync_core::ticket::Ticket;
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::{FISCAL_TABLES, read_tickets};

use crate::fiscal::records::{records_after, records_in};

/// A till's records read from its database (in the caller's transaction).
pub struct TillSource<'a> {
    /// The connection.
    pub conn: &'a Connection,
    /// The till.
    pub till: &'a str,
}

impl LedgerSource for TillSource<'_> {
    type Error = StoreError;
    fn closings(&self) -> Result<Vec<Record>, StoreError> {
        records_after(self.conn, CLOSING_CHAIN, self.till, 0, None)
    }
    fn tickets(&self, after: u64, to: Option<u64>) -> Result<Vec<Ticket>, StoreError> {
        read_tickets(
            self.conn,
            &FISCAL_TABLES,
            self.till,
            after,
            to.unwrap_or(i64::MAX as u64),
        )
    }
    fn events(&self, after: u64, to: Option<u64>) -> Result<Vec<Record>, StoreError> {
        records_in(
            self.conn,
            EVENT_CHAIN,
            self.till,
            after,
            to.unwrap_or(i64::MAX as u64),
        )
    }
}

/// Everything the database holds of `till`, in one read transaction.
pub fn till_whole_ledger(conn: &Connection, till: &str, zone: &str) -> Result<Ledger, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let l = whole_ledger(&TillSource { conn: &tx, till }, till, zone)?;
    tx.finish()?;
    Ok(l)
}

/// The records of `till` an archive of `period` holds, in one read
/// transaction. A period with no closing is refused.
pub fn till_period_ledger(
    conn: &Connection,
    till: &str,
    zone: &str,
    period: &PeriodName,
) -> Result<Ledger, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let l = period_ledger(&TillSource { conn: &tx, till }, till, zone, period)?;
    tx.finish()?;
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::TillDb;
    use crate::fiscal::closings::Closer;
    use crate::up::test_support::{db, sell_at};
    use ed25519_dalek::SigningKey;
    use tillsync_core::fiscal::closing::Period;
    use tillsync_core::fiscal::local::LocalZone;
    use tillsync_core::fiscal::verify::keys::TillKeys;
    use tillsync_core::fiscal::verify::report::Subject;
    use tillsync_core::fiscal::verify::verify;

    fn close(db: &mut TillDb, period: Period, now: &str) {
        let (k, z) = (SigningKey::from_bytes(&[3u8; 32]), LocalZone::paris());
        let c = Closer {
            till: "T001",
            key: &k,
            zone: &z,
            now,
        };
        db.close(&c, period).unwrap();
    }

    fn keys() -> TillKeys {
        TillKeys::one(SigningKey::from_bytes(&[3u8; 32]).verifying_key())
    }

    #[test]
    fn the_till_database_and_its_periods_verify() {
        let (_d, mut db) = db();
        for day in 1..=3 {
            for h in 9..12 {
                sell_at(&mut db, "A", 1, &format!("2026-12-0{day}T{h:02}:00:00Z")).unwrap();
            }
            close(&mut db, Period::Day, &format!("2026-12-0{day}T19:00:00Z"));
        }
        sell_at(&mut db, "B", 2, "2026-12-04T09:00:00Z").unwrap();
        let whole = till_whole_ledger(db.conn(), "T001", "Europe/Paris").unwrap();
        let s = verify(&whole, &keys()).unwrap();
        assert_eq!(
            (s.tickets.count, s.closings.count, s.closings_recomputed),
            (10, 3, 3)
        );
        let day2 = PeriodName::parse("2026-12-02").unwrap();
        let l = till_period_ledger(db.conn(), "T001", "Europe/Paris", &day2).unwrap();
        assert_eq!(
            (l.anchors.tickets.after, l.tickets.len(), l.closings.len()),
            (3, 3, 1)
        );
        verify(&l, &keys()).unwrap();
        let e = till_period_ledger(
            db.conn(),
            "T001",
            "Europe/Paris",
            &PeriodName::parse("2026-11").unwrap(),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("period 2026-11 has no closing"),
            "{e}"
        );
        // Ticket 5's total changed with the triggers dropped.
        db.conn()
            .execute_batch(
                r#"DROP TRIGGER "tillsync_ticket_no_update";
                   UPDATE "TICKET" SET "total_cents" = 1 WHERE "number" = 5;"#,
            )
            .unwrap();
        let b = verify(
            &till_whole_ledger(db.conn(), "T001", "Europe/Paris").unwrap(),
            &keys(),
        )
        .unwrap_err();
        assert_eq!(
            (b.subject, b.field.as_deref()),
            (Subject::Ticket(5), Some("total_cents"))
        );
    }
}
