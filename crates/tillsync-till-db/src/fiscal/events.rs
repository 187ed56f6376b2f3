//! The event log (JET) on the till: an event sealed and written as it
//! happens, the clock going back noticed against the newest record, and the
//! log read back for `till events`.

use ed25519_dalek::SigningKey;
use rusqlite::TransactionBehavior;
use serde_json::Value;
use tillsync_core::fiscal::event::EventKind;
use tillsync_core::fiscal::local::parse_utc;
use tillsync_core::fiscal::record::{Draft, EVENT_CHAIN, Record};

use crate::db::TillDb;
use crate::fiscal::records::{append, last_record, records_after};
use crate::up::tickets::last_ticket;
use tillsync_db::StoreError;

/// How far behind its newest record the clock may be before the event log
/// says it went back (clock adjustments by NTP stay below it).
pub const CLOCK_BACK_TOLERANCE_SECS: i64 = 60;

/// Write event `kind` with `body` (a JSON object) at `now`, in the caller's
/// transaction.
pub fn log_in(
    conn: &rusqlite::Connection,
    till: &str,
    key: &SigningKey,
    kind: EventKind,
    body: &Value,
    now: &str,
) -> Result<Record, StoreError> {
    let draft = Draft {
        till,
        chain: EVENT_CHAIN,
        time: now,
        kind: kind.code(),
        body: body.to_string(),
    };
    append(conn, draft, key)
}

/// The time of the newest record of `till` (ticket or event), if any.
fn newest_time(conn: &rusqlite::Connection, till: &str) -> Result<Option<String>, StoreError> {
    let t = last_ticket(conn, till)?.map(|t| t.time);
    let e = last_record(conn, EVENT_CHAIN, till)?.map(|r| r.time);
    let later = |a: String, b: String| match (parse_utc(&a), parse_utc(&b)) {
        (Ok(x), Ok(y)) if y > x => b,
        _ => a,
    };
    Ok(match (t, e) {
        (Some(a), Some(b)) => Some(later(a, b)),
        (a, b) => a.or(b),
    })
}

/// If `now` is more than [`CLOCK_BACK_TOLERANCE_SECS`] before the newest
/// record of `till`, write a `clock_back` event (in the caller's
/// transaction) and return it.
pub fn note_clock_in(
    conn: &rusqlite::Connection,
    till: &str,
    key: &SigningKey,
    now: &str,
) -> Result<Option<Record>, StoreError> {
    let Some(newest) = newest_time(conn, till)? else {
        return Ok(None);
    };
    let (Ok(n), Ok(last)) = (parse_utc(now), parse_utc(&newest)) else {
        return Ok(None);
    };
    if last.as_second() - n.as_second() <= CLOCK_BACK_TOLERANCE_SECS {
        return Ok(None);
    }
    // Said once per jump: the newest clock_back already names this record.
    if let Some(prev) = last_record(conn, EVENT_CHAIN, till)?
        && prev.kind == EventKind::ClockBack.code()
        && serde_json::from_str::<Value>(&prev.body)
            .ok()
            .and_then(|b| {
                b.get("newest_record")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            })
            .as_deref()
            == Some(newest.as_str())
    {
        return Ok(None);
    }
    let body = serde_json::json!({
        "newest_record": newest,
        "behind_seconds": last.as_second() - n.as_second(),
    });
    Ok(Some(log_in(
        conn,
        till,
        key,
        EventKind::ClockBack,
        &body,
        now,
    )?))
}

impl TillDb {
    /// Write event `kind` with `body` at `now` in its own transaction, after
    /// a `clock_back` event when the clock is behind the newest record.
    pub fn log_event(
        &mut self,
        till: &str,
        key: &SigningKey,
        kind: EventKind,
        body: &Value,
        now: &str,
    ) -> Result<Record, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if kind != EventKind::ClockBack {
            note_clock_in(&tx, till, key, now)?;
        }
        let rec = log_in(&tx, till, key, kind, body, now)?;
        tx.commit()?;
        Ok(rec)
    }

    /// [`note_clock_in`] in its own transaction (before a sale).
    pub fn note_clock(
        &mut self,
        till: &str,
        key: &SigningKey,
        now: &str,
    ) -> Result<Option<Record>, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = note_clock_in(&tx, till, key, now)?;
        tx.commit()?;
        Ok(rec)
    }

    /// The events of `till` numbered after `after`, in order.
    pub fn events(&self, till: &str, after: u64) -> Result<Vec<Record>, StoreError> {
        records_after(self.conn(), EVENT_CHAIN, till, after, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::test_support::{db, sell};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[3u8; 32])
    }

    #[test]
    fn events_are_chained_signed_and_inalterable() {
        let (_d, mut db) = db();
        let k = key();
        let e1 = db
            .log_event(
                "T001",
                &k,
                EventKind::AgentStart,
                &serde_json::json!({}),
                "2026-12-04T08:00:00Z",
            )
            .unwrap();
        let e2 = db
            .log_event(
                "T001",
                &k,
                EventKind::AgentStop,
                &serde_json::json!({}),
                "2026-12-04T20:00:00Z",
            )
            .unwrap();
        assert_eq!((e1.seq, e2.seq), (1, 2));
        e2.verify(&k.verifying_key(), &e1.hash).unwrap();
        assert_eq!(db.events("T001", 0).unwrap(), [e1.clone(), e2]);
        for sql in [
            r#"UPDATE "EVENT_LOG" SET "body" = '{}'"#,
            r#"DELETE FROM "EVENT_LOG""#,
            r#"INSERT OR REPLACE INTO "EVENT_LOG" SELECT * FROM "EVENT_LOG" WHERE "seq" = 1"#,
            r#"REPLACE INTO "EVENT_LOG" SELECT "till_id", "seq", "time", 'agent_stop', "body", "prev_hash", 'x', "signature" FROM "EVENT_LOG" WHERE "seq" = 1"#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("inalterable"), "{sql}: {e}");
        }
        assert_eq!(db.events("T001", 0).unwrap()[0], e1);
    }

    #[test]
    fn replace_on_a_ticket_is_refused() {
        // The bug: INSERT OR REPLACE deleted ticket 1 without firing the
        // delete triggers and put a total of 1 cent in its place.
        let (_d, mut db) = db();
        sell(&mut db, "A", 2).unwrap();
        for sql in [
            // (The columns named: till migration 5 added columns since.)
            r#"INSERT OR REPLACE INTO "TICKET"("till_id", "number", "time", "total_cents", "customer", "corrects", "prev_hash", "hash", "signature") SELECT "till_id", "number", "time", 1, "customer", "corrects", "prev_hash", "hash", "signature" FROM "TICKET" WHERE "number" = 1"#,
            r#"REPLACE INTO "TICKET_LINE"("till_id", "number", "line_no", "item", "label", "quantity", "unit_price_cents", "vat_rate_bp", "total_excl_cents", "total_incl_cents") SELECT "till_id", "number", "line_no", "item", "label", 1, "unit_price_cents", "vat_rate_bp", "total_excl_cents", "total_incl_cents" FROM "TICKET_LINE""#,
            r#"REPLACE INTO "TICKET_PAYMENT" SELECT "till_id", "number", "seq", "method", 1 FROM "TICKET_PAYMENT""#,
            r#"REPLACE INTO "TICKET_VAT"("till_id", "number", "rate_bp", "base_cents", "vat_cents", "total_cents") SELECT "till_id", "number", "rate_bp", 1, 1, 1 FROM "TICKET_VAT""#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("tickets are inalterable"), "{sql}: {e}");
        }
        let total: i64 = db
            .conn()
            .query_row(r#"SELECT "total_cents" FROM "TICKET""#, [], |r| r.get(0))
            .unwrap();
        assert_eq!(total, 240);
    }

    #[test]
    fn a_clock_set_back_is_logged_once() {
        let (_d, mut db) = db();
        let k = key();
        // The test till's sale is at 2026-01-01T00:00:00Z.
        sell(&mut db, "A", 1).unwrap();
        assert!(
            db.note_clock("T001", &k, "2026-01-01T00:00:30Z")
                .unwrap()
                .is_none()
        );
        let back = db
            .note_clock("T001", &k, "2025-12-31T00:00:00Z")
            .unwrap()
            .unwrap();
        assert_eq!(back.kind, "clock_back");
        assert!(
            back.body.contains("\"behind_seconds\":86400"),
            "{}",
            back.body
        );
        // The event is the newest record now: no second one for the same jump.
        assert!(
            db.note_clock("T001", &k, "2025-12-31T00:00:10Z")
                .unwrap()
                .is_none()
        );
    }
}
