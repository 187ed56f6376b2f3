//! A till's fiscal ledger read from its database, for the verifier and for
//! archives: everything it holds (from each chain's first record), or the
//! records of a closed period with the anchors before them
//! ([`tillsync_core::fiscal::ledger::select`]), in one read transaction.

use rusqlite::{Connection, OptionalExtension, params};
use tillsync_core::fiscal::closing::ClosingBody;
use tillsync_core::fiscal::ledger::{Anchor, Anchors, Ends, Ledger, PeriodName, select};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN};
use tillsync_core::ticket::GENESIS_HASH;
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::read_tickets;

use crate::fiscal::records::{hash_of, records_after, records_in};

/// The hash of ticket `number` of `till` ([`GENESIS_HASH`] for 0).
fn ticket_hash(conn: &Connection, till: &str, number: u64) -> Result<Option<String>, StoreError> {
    if number == 0 {
        return Ok(Some(GENESIS_HASH.to_string()));
    }
    Ok(conn
        .prepare_cached(r#"SELECT "hash" FROM "TICKET" WHERE "till_id" = ?1 AND "number" = ?2"#)?
        .query_row(params![till, number as i64], |r| r.get(0))
        .optional()?)
}

fn anchor(after: u64, hash: Option<String>, what: &str) -> Result<Anchor, StoreError> {
    let hash = hash.ok_or_else(|| {
        StoreError::Inconsistent(format!(
            "{what} {after}, the one before the period, is not in the database"
        ))
    })?;
    Ok(Anchor { after, hash })
}

/// Everything the database holds of `till` (each chain from its first record).
pub fn whole_ledger(conn: &Connection, till: &str, zone: &str) -> Result<Ledger, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let ledger = Ledger {
        till: till.to_string(),
        zone: zone.to_string(),
        period: None,
        anchors: Anchors::genesis(),
        tickets: read_tickets(&tx, till, 0, i64::MAX as u64)?,
        events: records_after(&tx, EVENT_CHAIN, till, 0, None)?,
        closings: records_after(&tx, CLOSING_CHAIN, till, 0, None)?,
        ends: Ends::default(),
    };
    tx.finish()?;
    Ok(ledger)
}

/// The records of `till` an archive of `period` holds, with their anchors
/// and ends. A period with no closing is refused ([`StoreError::Invalid`]).
pub fn period_ledger(
    conn: &Connection,
    till: &str,
    zone: &str,
    period: &PeriodName,
) -> Result<Ledger, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let all = records_after(&tx, CLOSING_CHAIN, till, 0, None)?;
    let bodies = all
        .iter()
        .map(|r| {
            ClosingBody::from_json(r.seq, &r.body)
                .map(|b| (r.seq, b))
                .map_err(|e| StoreError::Inconsistent(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let s = select(&bodies, period).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let anchors = Anchors {
        tickets: anchor(s.tickets.0, ticket_hash(&tx, till, s.tickets.0)?, "ticket")?,
        events: anchor(
            s.events.0,
            hash_of(&tx, EVENT_CHAIN, till, s.events.0)?,
            "event",
        )?,
        closings: anchor(
            s.closings.0,
            hash_of(&tx, CLOSING_CHAIN, till, s.closings.0)?,
            "closing",
        )?,
        day_before: s.day_before,
    };
    let ledger = Ledger {
        till: till.to_string(),
        zone: zone.to_string(),
        period: Some(period.clone()),
        anchors,
        tickets: read_tickets(&tx, till, s.tickets.0, s.tickets.1)?,
        events: records_in(&tx, EVENT_CHAIN, till, s.events.0, s.events.1)?,
        closings: all
            .into_iter()
            .filter(|r| r.seq > s.closings.0 && r.seq <= s.closings.1)
            .collect(),
        ends: Ends {
            tickets: Some(s.tickets.1),
            events: Some(s.events.1),
            closings: Some(s.closings.1),
        },
    };
    tx.finish()?;
    Ok(ledger)
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
        let whole = whole_ledger(db.conn(), "T001", "Europe/Paris").unwrap();
        let s = verify(&whole, &keys()).unwrap();
        assert_eq!(
            (s.tickets.count, s.closings.count, s.closings_recomputed),
            (10, 3, 3)
        );
        let day2 = PeriodName::parse("2026-12-02").unwrap();
        let l = period_ledger(db.conn(), "T001", "Europe/Paris", &day2).unwrap();
        assert_eq!(
            (l.anchors.tickets.after, l.tickets.len(), l.closings.len()),
            (3, 3, 1)
        );
        verify(&l, &keys()).unwrap();
        let e = period_ledger(
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
            &whole_ledger(db.conn(), "T001", "Europe/Paris").unwrap(),
            &keys(),
        )
        .unwrap_err();
        assert_eq!(
            (b.subject, b.field.as_deref()),
            (Subject::Ticket(5), Some("total_cents"))
        );
    }
}
