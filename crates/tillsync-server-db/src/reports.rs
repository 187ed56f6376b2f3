//! What tills report of their up path (outbox backlog, age of the oldest
//! waiting item, error list) with each package request, kept per till for
//! the till supervisor and `/metrics` (server migration 5).
//!
//! The SQL is plain (an upsert with `ON CONFLICT … DO UPDATE`, which
//! PostgreSQL reads the same way) so that another backend can take it over.

use chrono::{DateTime, Utc};

use serde::Serialize;
use tillsync_wire::api::{REPORT_ERROR_MAX_CHARS, TillReport, truncate_chars};

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
pub fn report_from_row(
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
