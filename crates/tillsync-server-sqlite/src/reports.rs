//! What tills report of their up path (outbox backlog, age of the oldest
//! waiting item, error list) with each package request, kept per till for
//! the till supervisor and `/metrics` (server migration 5).
//!
//! The SQL is plain (an upsert with `ON CONFLICT … DO UPDATE`, which
//! PostgreSQL reads the same way) so that another backend can take it over.

use rusqlite::params;
use tillsync_wire::api::TillReport;

use crate::db::ServerDb;
use tillsync_db::StoreError;
use tillsync_server_db::reports::OutboxReport;
use tillsync_server_db::reports::SELECT_REPORTS;
use tillsync_server_db::reports::UPSERT_REPORT;
use tillsync_server_db::reports::report_from_row;
use tillsync_server_db::reports::report_values;

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
            tillsync_db::now_rfc3339()
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
    use chrono::{DateTime, Utc};
    use tillsync_wire::api::REPORT_ERROR_MAX_CHARS;

    fn db() -> (tempfile::TempDir, ServerDb) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = ServerDb::open(&dir.path().join("server.db")).unwrap();
        tillsync_db::demo::create_demo_tables(db.conn(), 5, 1).unwrap();
        tillsync_server_db::enrol::enrol_test_key(&mut db, "T001", &"0".repeat(64)).unwrap();
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
