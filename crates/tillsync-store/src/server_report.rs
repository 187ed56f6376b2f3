//! What tills report of their up path (outbox backlog, age of the oldest
//! waiting item, error list) with each package request, kept per till for
//! the till supervisor and `/metrics` (server migration 5).
//!
//! The SQL is plain (an upsert with `ON CONFLICT … DO UPDATE`, which
//! PostgreSQL reads the same way) so that another backend can take it over.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;
use tillsync_wire::api::{REPORT_ERROR_MAX_CHARS, TillReport, truncate_chars};

use crate::{ServerDb, StoreError};

/// Schema of the reports (server migration 5).
pub(crate) const SCHEMA: &str = "CREATE TABLE tillsync_till_reports(
    till_id TEXT PRIMARY KEY,
    outbox_tickets INTEGER NOT NULL,
    outbox_other INTEGER NOT NULL,
    oldest_queued_at TEXT,
    oldest_age_secs INTEGER,
    errors INTEGER NOT NULL,
    last_error TEXT,
    reported_at TEXT NOT NULL);";

/// What an upsert of reports does with a till's earlier report: replaced.
macro_rules! report_on_conflict {
    () => {
        " ON CONFLICT (till_id) DO UPDATE SET
        outbox_tickets = excluded.outbox_tickets,
        outbox_other = excluded.outbox_other,
        oldest_queued_at = excluded.oldest_queued_at,
        oldest_age_secs = excluded.oldest_age_secs,
        errors = excluded.errors,
        last_error = excluded.last_error,
        reported_at = excluded.reported_at"
    };
}

/// The upsert of one till's report: `?1` till, `?2` tickets, `?3` other
/// items, `?4` oldest queued at, `?5` its age, `?6` errors, `?7` newest
/// error, `?8` when reported.
pub const UPSERT_REPORT: &str = concat!(
    "INSERT INTO tillsync_till_reports(
        till_id, outbox_tickets, outbox_other, oldest_queued_at, oldest_age_secs,
        errors, last_error, reported_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    report_on_conflict!()
);

/// The same on PostgreSQL for many tills at once: `$1` to `$7` arrays of
/// the columns of [`UPSERT_REPORT`]'s `?1` to `?7`, `$8` when reported.
pub const UPSERT_REPORTS_PG: &str = concat!(
    "INSERT INTO tillsync_till_reports(till_id, outbox_tickets, outbox_other,
        oldest_queued_at, oldest_age_secs, errors, last_error, reported_at)
     SELECT u.*, $8 FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[],
        $5::bigint[], $6::bigint[], $7::text[]) AS u",
    report_on_conflict!()
);

/// Every till's last report, by till.
pub const SELECT_REPORTS: &str = "SELECT till_id, outbox_tickets, outbox_other, oldest_queued_at,
        oldest_age_secs, errors, last_error, reported_at
     FROM tillsync_till_reports ORDER BY till_id";

/// A till's last report of its outbox and error list, as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxReport {
    /// Till id.
    #[serde(skip)]
    pub till_id: String,
    /// Tickets waiting in the till's outbox.
    pub outbox_tickets: u64,
    /// Other items waiting (customer changes, rows).
    pub outbox_other: u64,
    /// When the oldest waiting item was queued (till clock, RFC 3339).
    pub oldest_queued_at: Option<String>,
    /// Its age in seconds when the till reported.
    pub oldest_age_secs: Option<u64>,
    /// Items in the till's error list.
    pub errors: u64,
    /// The newest error's reason (cut to [`REPORT_ERROR_MAX_CHARS`]).
    pub last_error: Option<String>,
    /// When the server received the report (server clock, RFC 3339).
    pub reported_at: String,
}

impl OutboxReport {
    /// Items waiting in the outbox, all kinds.
    pub fn backlog(&self) -> u64 {
        self.outbox_tickets.saturating_add(self.outbox_other)
    }

    /// Age in seconds of the oldest waiting item at `now`: its age when
    /// reported plus the time since the report (server clock only, so a
    /// till's wrong clock does not matter). `None` when nothing waited.
    pub fn oldest_age_at(&self, now: DateTime<Utc>) -> Option<u64> {
        let age = self.oldest_age_secs?;
        let since = DateTime::parse_from_rfc3339(&self.reported_at)
            .map(|at| {
                now.signed_duration_since(at.with_timezone(&Utc))
                    .num_seconds()
            })
            .unwrap_or(0)
            .max(0) as u64;
        Some(age.saturating_add(since))
    }
}

/// An integer that fits a signed 64-bit column.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A report from the columns of [`SELECT_REPORTS`], in order: the same for
/// every backend.
#[allow(clippy::too_many_arguments)]
pub(crate) fn report_from_row(
    till_id: String,
    outbox_tickets: i64,
    outbox_other: i64,
    oldest_queued_at: Option<String>,
    oldest_age_secs: Option<i64>,
    errors: i64,
    last_error: Option<String>,
    reported_at: String,
) -> OutboxReport {
    OutboxReport {
        till_id,
        outbox_tickets: uint(outbox_tickets),
        outbox_other: uint(outbox_other),
        oldest_queued_at,
        oldest_age_secs: oldest_age_secs.map(uint),
        errors: uint(errors),
        last_error,
        reported_at,
    }
}

/// The values [`UPSERT_REPORT`] binds after the till id (`?2`..`?7`), the
/// error text cut to [`REPORT_ERROR_MAX_CHARS`]: the same for every backend.
pub fn report_values(
    r: &TillReport,
) -> (i64, i64, Option<String>, Option<i64>, i64, Option<String>) {
    (
        int(r.outbox_tickets),
        int(r.outbox_other),
        r.oldest_queued_at.clone(),
        r.oldest_age_secs.map(int),
        int(r.errors),
        r.last_error
            .as_deref()
            .map(|e| truncate_chars(e, REPORT_ERROR_MAX_CHARS)),
    )
}

impl ServerDb {
    /// Record what `till` reported of its outbox and error list, replacing
    /// its previous report (one statement).
    pub fn record_till_report(
        &mut self,
        till: &str,
        report: &TillReport,
    ) -> Result<(), StoreError> {
        let (tickets, other, oldest_at, oldest_age, errors, last_error) = report_values(report);
        self.conn().prepare_cached(UPSERT_REPORT)?.execute(params![
            till,
            tickets,
            other,
            oldest_at,
            oldest_age,
            errors,
            last_error,
            crate::now_rfc3339()
        ])?;
        Ok(())
    }

    /// Every till's last report, by till.
    pub fn till_reports(&self) -> Result<Vec<OutboxReport>, StoreError> {
        let mut stmt = self.conn().prepare_cached(SELECT_REPORTS)?;
        let rows = stmt.query_map([], |r| {
            Ok(report_from_row(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, ServerDb) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = ServerDb::open(&dir.path().join("server.db")).unwrap();
        crate::demo::create_demo_tables(db.conn(), 5, 1).unwrap();
        db.issue_credentials("T001", &"0".repeat(64), &"1".repeat(64))
            .unwrap();
        (dir, db)
    }

    #[test]
    fn reports_are_replaced_cut_and_shown_in_the_overview() {
        let (_d, mut db) = db();
        assert!(db.till_reports().unwrap().is_empty());
        let overview = db.till_overview().unwrap();
        let t1 = overview.iter().find(|o| o.till.till_id == "T001").unwrap();
        assert_eq!(t1.outbox, None, "no report yet");

        let long = "x".repeat(REPORT_ERROR_MAX_CHARS * 3);
        db.record_till_report(
            "T001",
            &TillReport {
                outbox_tickets: 4,
                outbox_other: 2,
                oldest_queued_at: Some("2026-11-28T10:00:00Z".into()),
                oldest_age_secs: Some(600),
                errors: 1,
                last_error: Some(long),
            },
        )
        .unwrap();
        let r = &db.till_reports().unwrap()[0];
        assert_eq!(r.till_id, "T001");
        assert_eq!((r.backlog(), r.errors), (6, 1));
        assert_eq!(r.oldest_age_secs, Some(600));
        assert_eq!(
            r.last_error.as_ref().unwrap().chars().count(),
            REPORT_ERROR_MAX_CHARS
        );
        let reported = DateTime::parse_from_rfc3339(&r.reported_at)
            .unwrap()
            .with_timezone(&Utc);
        let later = reported + chrono::Duration::seconds(30);
        assert_eq!(r.oldest_age_at(later), Some(630));

        let overview = db.till_overview().unwrap();
        let t1 = overview.iter().find(|o| o.till.till_id == "T001").unwrap();
        assert_eq!(t1.outbox.as_ref().map(|o| o.backlog()), Some(6));
        let others = overview.iter().filter(|o| o.till.till_id != "T001");
        assert!(others.into_iter().all(|o| o.outbox.is_none()));

        // After a push the till reports an empty outbox: replaced, not added.
        db.record_till_report("T001", &TillReport::default())
            .unwrap();
        let all = db.till_reports().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].backlog(), all[0].errors), (0, 0));
        assert_eq!(all[0].oldest_age_secs, None);
        assert_eq!(all[0].oldest_age_at(Utc::now()), None);
        assert_eq!(all[0].last_error, None);
    }

    #[test]
    fn huge_counts_are_kept_within_range() {
        let (_d, mut db) = db();
        db.record_till_report(
            "T001",
            &TillReport {
                outbox_tickets: u64::MAX,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            db.till_reports().unwrap()[0].outbox_tickets,
            i64::MAX as u64
        );
    }
}
