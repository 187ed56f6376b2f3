//! The outbox (`tillsync_outbox`): everything that goes up, queued in the
//! transaction of the change itself, read in order for sending, and settled
//! with the server's answers (delivered items leave, refused ones move to
//! the error list, the others stay with one more attempt); its counts for
//! the status and for the report sent with each package request.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use tillsync_wire::api::OutboxKind;

use crate::db::TillDb;
use crate::up::state::{STATE_LAST_PUSH, set_state_in};
use tillsync_db::StoreError;

/// The wire name of an outbox kind (`ticket`, `customer-edit`…).
pub fn kind_name(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::Ticket => "ticket",
        OutboxKind::CustomerEdit => "customer-edit",
        OutboxKind::CustomerAbandon => "customer-abandon",
        OutboxKind::Row => "row",
        OutboxKind::Record => "record",
    }
}

/// The outbox kind of a wire name.
pub fn parse_kind(name: &str) -> Option<OutboxKind> {
    [
        OutboxKind::Ticket,
        OutboxKind::CustomerEdit,
        OutboxKind::CustomerAbandon,
        OutboxKind::Row,
        OutboxKind::Record,
    ]
    .into_iter()
    .find(|k| kind_name(*k) == name)
}

/// The idempotency key of a fiscal ticket: `ticket:<number>`.
pub fn ticket_key(number: u64) -> String {
    format!("ticket:{number}")
}

/// The idempotency key of a training-mode ticket: `training:<number>`
/// (numbered apart from the fiscal tickets).
pub fn training_ticket_key(number: u64) -> String {
    format!("training:{number}")
}

/// One item waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// Position in the outbox (increasing).
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// Kind (`ticket`, `customer-edit`, `customer-abandon`, `row`).
    pub kind: String,
    /// The item, JSON text.
    pub payload: String,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// Sends that got no answer for it.
    pub attempts: u32,
    /// Why the last send got no answer for it.
    pub last_error: Option<String>,
}

/// The outbox at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxStats {
    /// Items waiting.
    pub pending: u64,
    /// When the oldest waiting item was queued.
    pub oldest_at: Option<String>,
    /// Its age in seconds.
    pub oldest_age_secs: Option<u64>,
    /// Items in the error list.
    pub errors: u64,
}

/// What became of one sent item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server stored it (or had already): it leaves the outbox.
    Delivered,
    /// The server refused or quarantined it: it moves to the error list.
    SetAside {
        /// `rejected`, `quarantined`…
        status: String,
        /// Why.
        reason: String,
    },
    /// No answer for it: it stays, one more attempt counted.
    Kept {
        /// Why.
        error: String,
    },
}

/// What [`TillDb::settle`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    /// Items removed from the outbox as delivered.
    pub delivered: u64,
    /// Items moved to the error list.
    pub set_aside: u64,
    /// Items kept.
    pub kept: u64,
}

impl TillDb {
    /// Queue an item for the server, inside the caller's transaction: pass
    /// the `rusqlite::Transaction` of the change itself (it derefs to a
    /// `Connection`), so that the change and its outbox item commit or roll
    /// back together. `key` is the item's idempotency key and must be unique
    /// for ever on this till (the server answers a key it has seen with
    /// `duplicate` and nothing else): e.g. `ticket:42`,
    /// `customer-edit:C0001:<uuid>`. A key still waiting in the outbox is
    /// refused. `payload` is serialised to JSON as the item's `payload`.
    pub fn enqueue<T: Serialize + ?Sized>(
        conn: &Connection,
        key: &str,
        kind: OutboxKind,
        payload: &T,
    ) -> Result<(), StoreError> {
        if key.is_empty() {
            return Err(StoreError::Inconsistent(
                "an outbox item needs an idempotency key".into(),
            ));
        }
        let json = serde_json::to_string(payload).map_err(|e| {
            StoreError::Inconsistent(format!("outbox item {key} is not serialisable: {e}"))
        })?;
        let res = conn
            .prepare_cached(
                r#"INSERT INTO "tillsync_outbox"("key", "kind", "payload", "created_at")
                   VALUES (?1, ?2, ?3, ?4)"#,
            )?
            .execute(params![
                key,
                kind_name(kind),
                json,
                tillsync_db::now_rfc3339()
            ]);
        match res {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Inconsistent(format!(
                    "the outbox already holds an item with key {key}"
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Up to `limit` outbox items, oldest first.
    pub fn outbox_batch(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_after(0, i64::MAX, limit)
    }

    /// Up to `limit` outbox items with `after < id <= up_to`, oldest first.
    pub fn outbox_after(
        &self,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            r#"SELECT "id", "key", "kind", "payload", "created_at", "attempts", "last_error"
               FROM "tillsync_outbox" WHERE "id" > ?1 AND "id" <= ?2 ORDER BY "id" LIMIT ?3"#,
        )?;
        let rows = stmt.query_map(
            params![after, up_to, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(OutboxEntry {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    kind: r.get(2)?,
                    payload: r.get(3)?,
                    created_at: r.get(4)?,
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The position of the newest outbox item (0 when empty).
    pub fn outbox_last_id(&self) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            r#"SELECT COALESCE(MAX("id"), 0) FROM "tillsync_outbox""#,
            [],
            |r| r.get(0),
        )?)
    }

    /// Remove delivered items (the server acknowledged them), in one transaction.
    pub fn ack(&mut self, keys: &[&str]) -> Result<u64, StoreError> {
        let outcomes: Vec<(String, Outcome)> = keys
            .iter()
            .map(|k| (k.to_string(), Outcome::Delivered))
            .collect();
        Ok(self.settle(&outcomes)?.delivered)
    }

    /// Move one item to the error list with the server's status and reason.
    /// False if the outbox has no such item.
    pub fn set_aside(&mut self, key: &str, status: &str, reason: &str) -> Result<bool, StoreError> {
        let outcome = Outcome::SetAside {
            status: status.into(),
            reason: reason.into(),
        };
        Ok(self.settle(&[(key.to_string(), outcome)])?.set_aside == 1)
    }

    /// Apply the server's answers in one transaction: delivered items leave
    /// the outbox, refused ones move to the error list, the others stay with
    /// one more attempt. Records the time of the push when the server
    /// answered for at least one item.
    pub fn settle(&mut self, outcomes: &[(String, Outcome)]) -> Result<Settled, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut done = Settled::default();
        let at = tillsync_db::now_rfc3339();
        {
            let mut del = tx.prepare_cached(r#"DELETE FROM "tillsync_outbox" WHERE "key" = ?1"#)?;
            let mut aside = tx.prepare_cached(
                r#"INSERT INTO "tillsync_outbox_errors"
                     ("key", "kind", "payload", "status", "reason", "created_at", "at")
                   SELECT "key", "kind", "payload", ?2, ?3, "created_at", ?4
                   FROM "tillsync_outbox" WHERE "key" = ?1"#,
            )?;
            let mut keep = tx.prepare_cached(
                r#"UPDATE "tillsync_outbox" SET "attempts" = "attempts" + 1, "last_error" = ?2
                   WHERE "key" = ?1"#,
            )?;
            for (key, outcome) in outcomes {
                match outcome {
                    Outcome::Delivered => done.delivered += del.execute([key])? as u64,
                    Outcome::SetAside { status, reason } => {
                        if aside.execute(params![key, status, reason, at])? == 1 {
                            del.execute([key])?;
                            done.set_aside += 1;
                        }
                    }
                    Outcome::Kept { error } => {
                        done.kept += keep.execute(params![key, error])? as u64
                    }
                }
            }
        }
        if done.delivered + done.set_aside > 0 {
            set_state_in(&tx, STATE_LAST_PUSH, &at)?;
        }
        tx.commit()?;
        Ok(done)
    }

    /// Pending count, age of the oldest item, size of the error list.
    pub fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let (pending, oldest_at): (i64, Option<String>) = self.conn().query_row(
            r#"SELECT COUNT(*), (SELECT "created_at" FROM "tillsync_outbox" ORDER BY "id" LIMIT 1)
               FROM "tillsync_outbox""#,
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let errors: i64 = self.conn().query_row(
            r#"SELECT COUNT(*) FROM "tillsync_outbox_errors""#,
            [],
            |r| r.get(0),
        )?;
        let oldest_age_secs = oldest_at.as_deref().and_then(|t| {
            let t = chrono::DateTime::parse_from_rfc3339(t).ok()?;
            let age = chrono::Utc::now().signed_duration_since(t).num_seconds();
            Some(age.max(0) as u64)
        });
        Ok(OutboxStats {
            pending: pending as u64,
            oldest_at,
            oldest_age_secs,
            errors: errors as u64,
        })
    }

    /// What the till reports to the server with each package request:
    /// tickets and other items waiting, the oldest one's time and age, the
    /// size of the error list and its newest reason (cut short).
    pub fn outbox_report(&self) -> Result<tillsync_wire::api::TillReport, StoreError> {
        let stats = self.outbox_stats()?;
        let tickets: i64 = self.conn().query_row(
            r#"SELECT COUNT(*) FROM "tillsync_outbox" WHERE "kind" = ?1"#,
            [kind_name(OutboxKind::Ticket)],
            |r| r.get(0),
        )?;
        let last_error: Option<String> = self
            .conn()
            .query_row(
                r#"SELECT "status" || ': ' || "reason" FROM "tillsync_outbox_errors"
                   ORDER BY "id" DESC LIMIT 1"#,
                [],
                |r| r.get(0),
            )
            .optional()?;
        let tickets = tickets.max(0) as u64;
        Ok(tillsync_wire::api::TillReport {
            outbox_tickets: tickets,
            outbox_other: stats.pending.saturating_sub(tickets),
            oldest_queued_at: stats.oldest_at,
            oldest_age_secs: stats.oldest_age_secs,
            errors: stats.errors,
            last_error: last_error.map(|e| {
                tillsync_wire::api::truncate_chars(&e, tillsync_wire::api::REPORT_ERROR_MAX_CHARS)
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::test_support::{count, db, sell};

    #[test]
    fn enqueue_belongs_to_the_callers_transaction() {
        let (_d, mut db) = db();
        {
            let tx = db.conn_mut().transaction().unwrap();
            TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &serde_json::json!({"a": 1})).unwrap();
            // dropped: rolled back
        }
        assert_eq!(db.outbox_stats().unwrap().pending, 0);
        let tx = db.conn_mut().transaction().unwrap();
        TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &serde_json::json!({"a": 1})).unwrap();
        let e = TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &1).unwrap_err();
        assert!(e.to_string().contains("already holds"), "{e}");
        tx.commit().unwrap();
        assert_eq!(db.outbox_stats().unwrap().pending, 1);
    }

    #[test]
    fn outbox_report_counts_kinds_and_names_the_newest_error() {
        let (_d, mut db) = db();
        let empty = db.outbox_report().unwrap();
        assert_eq!(empty, tillsync_wire::api::TillReport::default());
        for i in 1..=3 {
            sell(&mut db, "A", i).unwrap();
        }
        {
            let tx = db.conn_mut().transaction().unwrap();
            TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &serde_json::json!({"a": 1})).unwrap();
            tx.commit().unwrap();
        }
        db.settle(&[
            (
                "ticket:1".into(),
                Outcome::SetAside {
                    status: "rejected".into(),
                    reason: "first".into(),
                },
            ),
            (
                "ticket:2".into(),
                Outcome::SetAside {
                    status: "quarantined".into(),
                    reason: "y".repeat(500),
                },
            ),
        ])
        .unwrap();
        let r = db.outbox_report().unwrap();
        assert_eq!((r.outbox_tickets, r.outbox_other, r.errors), (1, 1, 2));
        assert!(r.oldest_queued_at.is_some() && r.oldest_age_secs.is_some());
        let e = r.last_error.unwrap();
        assert!(e.starts_with("quarantined: yyy"), "{e}");
        assert_eq!(
            e.chars().count(),
            tillsync_wire::api::REPORT_ERROR_MAX_CHARS
        );
    }

    #[test]
    fn settle_acks_sets_aside_and_keeps() {
        let (_d, mut db) = db();
        for i in 1..=4 {
            sell(&mut db, "A", i).unwrap();
        }
        assert_eq!(db.state(STATE_LAST_PUSH).unwrap(), None);
        let s = db
            .settle(&[
                ("ticket:1".into(), Outcome::Delivered),
                (
                    "ticket:2".into(),
                    Outcome::SetAside {
                        status: "rejected".into(),
                        reason: "bad data".into(),
                    },
                ),
                (
                    "ticket:3".into(),
                    Outcome::Kept {
                        error: "no answer".into(),
                    },
                ),
                ("ticket:99".into(), Outcome::Delivered),
            ])
            .unwrap();
        assert_eq!(
            s,
            Settled {
                delivered: 1,
                set_aside: 1,
                kept: 1
            }
        );
        let left = db.outbox_batch(10).unwrap();
        assert_eq!(
            left.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["ticket:3", "ticket:4"]
        );
        assert_eq!(left[0].attempts, 1);
        assert_eq!(left[0].last_error.as_deref(), Some("no answer"));
        let errs = db.errors().unwrap();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            (
                errs[0].key.as_str(),
                errs[0].status.as_str(),
                errs[0].reason.as_str()
            ),
            ("ticket:2", "rejected", "bad data")
        );
        let stats = db.outbox_stats().unwrap();
        assert_eq!((stats.pending, stats.errors), (2, 1));
        assert!(stats.oldest_at.is_some() && stats.oldest_age_secs.is_some());
        assert!(db.state(STATE_LAST_PUSH).unwrap().is_some());
        // The tickets themselves stay.
        assert_eq!(count(&db, "TICKET"), 4);

        assert_eq!(db.ack(&["ticket:3", "ticket:4"]).unwrap(), 2);
        assert!(!db.set_aside("ticket:3", "rejected", "gone").unwrap());
        let stats = db.outbox_stats().unwrap();
        assert_eq!((stats.pending, stats.oldest_at), (0, None));
    }

    #[test]
    fn outbox_after_pages_in_order() {
        let (_d, mut db) = db();
        for _ in 0..5 {
            sell(&mut db, "A", 1).unwrap();
        }
        let last = db.outbox_last_id().unwrap();
        let first = db.outbox_after(0, last, 2).unwrap();
        let next = db.outbox_after(first[1].id, last, 10).unwrap();
        assert_eq!(first.len() + next.len(), 5);
        assert_eq!(next[0].key, "ticket:3");
        assert!(db.outbox_after(0, first[0].id, 10).unwrap().len() == 1);
    }

    #[test]
    fn kinds_round_trip_and_match_the_wire() {
        for k in [
            OutboxKind::Ticket,
            OutboxKind::CustomerEdit,
            OutboxKind::CustomerAbandon,
            OutboxKind::Row,
            OutboxKind::Record,
        ] {
            assert_eq!(parse_kind(kind_name(k)), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), kind_name(k));
        }
        assert_eq!(parse_kind("bogus"), None);
    }
}
