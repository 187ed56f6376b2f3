//! `GET /metrics`: the server's figures in the Prometheus text format 0.0.4,
//! written by hand (no metrics crate), and the middleware that counts every
//! request. Counters live in [`crate::http::counters::Metrics`] (one per
//! server process); the rest is read from the database at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tillsync_db::StoreError;
use tillsync_server_db::store::ServerStore;

use crate::http::counters::STATUSES;
use crate::http::error::HttpError;
use crate::http::state::AppState;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";
/// Middleware: count every request by matched route and status.
pub(crate) async fn count_requests(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    state.metrics.request(&route, resp.status().as_u16());
    resp
}

/// `GET /metrics` (unauthenticated).
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, HttpError> {
    let from_db = state.with_read_db(|db| Ok(db_figures(db)?)).await?;
    let mut out = String::new();
    {
        let requests = state
            .metrics
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        header(
            &mut out,
            "tillsync_http_requests_total",
            "counter",
            "HTTP requests answered, by matched route and status code.",
        );
        for ((route, status), n) in requests.iter() {
            let _ = writeln!(
                out,
                "tillsync_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
    }
    {
        let (batches, tickets) = *state
            .metrics
            .tickets
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        header(
            &mut out,
            "tillsync_ticket_batches_total",
            "counter",
            "Outbox batches stored (committed).",
        );
        let _ = writeln!(out, "tillsync_ticket_batches_total {batches}");
        header(
            &mut out,
            "tillsync_tickets_ingested_total",
            "counter",
            "Tickets of committed outbox batches, by outcome.",
        );
        for (name, n) in STATUSES.iter().zip(tickets) {
            let _ = writeln!(
                out,
                "tillsync_tickets_ingested_total{{status=\"{name}\"}} {n}"
            );
        }
    }
    header(
        &mut out,
        "tillsync_packages_exported_total",
        "counter",
        "Packages published by this process's scheduled exports.",
    );
    let _ = writeln!(
        out,
        "tillsync_packages_exported_total {}",
        state.metrics.exported.load(Ordering::Relaxed)
    );
    out.push_str(&from_db);
    Ok(([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], out).into_response())
}

/// The figures read from the database: packages, table versions, per-till
/// lag, contact and tickets.
fn db_figures(db: &mut dyn ServerStore) -> Result<String, StoreError> {
    let mut out = String::new();
    let published = db.published()?.len();
    header(
        &mut out,
        "tillsync_packages_published",
        "gauge",
        "Packages currently published (retention removes old ones).",
    );
    let _ = writeln!(out, "tillsync_packages_published {published}");

    let mut versions = BTreeMap::new();
    let mut exported_at = BTreeMap::new();
    for s in db.table_states()? {
        versions.insert(s.table, i64::try_from(s.version).unwrap_or(i64::MAX));
    }
    // When each table's current version was published, and each version
    // first: (to_version, earliest created_at) per table, by version. Plain
    // SQL that both backends run alike (every value read as text).
    for r in db.query_rows("SELECT tbl, exported_at FROM tillsync_table_state")? {
        if let [Some(table), Some(at)] = r.as_slice()
            && let Some(at) = parse_time(at)
        {
            exported_at.insert(table.clone(), at);
        }
    }
    let mut published_at: BTreeMap<String, Vec<(u64, chrono::DateTime<chrono::Utc>)>> =
        BTreeMap::new();
    for r in db.query_rows(
        "SELECT tbl, to_version, MIN(created_at) FROM tillsync_packages
         GROUP BY tbl, to_version ORDER BY tbl, to_version",
    )? {
        if let [Some(table), Some(version), Some(at)] = r.as_slice()
            && let (Ok(version), Some(at)) = (version.parse::<u64>(), parse_time(at))
        {
            published_at
                .entry(table.clone())
                .or_default()
                .push((version, at));
        }
    }
    header(
        &mut out,
        "tillsync_table_version",
        "gauge",
        "Version of each exported table on the server.",
    );
    for (table, v) in &versions {
        let _ = writeln!(
            out,
            "tillsync_table_version{{table=\"{}\"}} {v}",
            escape(table)
        );
    }

    header(
        &mut out,
        "tillsync_table_exported_timestamp_seconds",
        "gauge",
        "Unix time the table's current version was published.",
    );
    for (table, at) in &exported_at {
        let _ = writeln!(
            out,
            "tillsync_table_exported_timestamp_seconds{{table=\"{}\"}} {}",
            escape(table),
            at.timestamp()
        );
    }

    let now = chrono::Utc::now();
    let reported = db.till_tables()?;
    header(
        &mut out,
        "tillsync_till_version_lag",
        "gauge",
        "Server table version minus the version the till last reported.",
    );
    let mut lag_seconds = String::new();
    for t in &reported {
        let Some(server) = versions.get(&t.table) else {
            continue;
        };
        let held = t.version.and_then(|v| i64::try_from(v).ok()).unwrap_or(0);
        let (till, table) = (escape(&t.till_id), escape(&t.table));
        let _ = writeln!(
            out,
            "tillsync_till_version_lag{{till=\"{till}\",table=\"{table}\"}} {}",
            (server - held).max(0)
        );
        let secs = lag_secs(
            t.version.unwrap_or(0),
            (*server).max(0) as u64,
            published_at.get(&t.table).map(Vec::as_slice).unwrap_or(&[]),
            exported_at.get(&t.table).copied(),
            now,
        );
        let _ = writeln!(
            lag_seconds,
            "tillsync_till_lag_seconds{{till=\"{till}\",table=\"{table}\"}} {secs}"
        );
    }
    header(
        &mut out,
        "tillsync_till_lag_seconds",
        "gauge",
        "Seconds since the server published the first version of the table the till does not hold; 0 when up to date.",
    );
    out.push_str(&lag_seconds);

    header(
        &mut out,
        "tillsync_till_last_contact_seconds",
        "gauge",
        "Seconds since the till's last authenticated call.",
    );
    for till in db.tills()? {
        let Some(at) = till
            .last_contact
            .as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        else {
            continue;
        };
        let secs = (now - at.with_timezone(&chrono::Utc)).num_seconds().max(0);
        let _ = writeln!(
            out,
            "tillsync_till_last_contact_seconds{{till=\"{}\"}} {secs}",
            escape(&till.till_id)
        );
    }

    let tickets = db.ticket_state(None)?;
    header(
        &mut out,
        "tillsync_till_missing_tickets",
        "gauge",
        "Ticket numbers missing below the till's highest received ticket.",
    );
    for t in &tickets {
        let missing: u64 = t.missing.iter().map(|g| g.last + 1 - g.first).sum();
        let _ = writeln!(
            out,
            "tillsync_till_missing_tickets{{till=\"{}\"}} {missing}",
            escape(&t.till_id)
        );
    }
    header(
        &mut out,
        "tillsync_till_quarantined_tickets",
        "gauge",
        "Tickets of the till kept in quarantine.",
    );
    for t in &tickets {
        let _ = writeln!(
            out,
            "tillsync_till_quarantined_tickets{{till=\"{}\"}} {}",
            escape(&t.till_id),
            t.quarantined
        );
    }

    let reports = db.till_reports()?;
    header(
        &mut out,
        "tillsync_till_outbox_backlog",
        "gauge",
        "Items waiting in the till's outbox as it last reported (with its package request).",
    );
    for r in &reports {
        let _ = writeln!(
            out,
            "tillsync_till_outbox_backlog{{till=\"{}\"}} {}",
            escape(&r.till_id),
            r.backlog()
        );
    }
    header(
        &mut out,
        "tillsync_till_outbox_oldest_seconds",
        "gauge",
        "Age of the oldest item waiting in the till's outbox (0 when empty).",
    );
    for r in &reports {
        let _ = writeln!(
            out,
            "tillsync_till_outbox_oldest_seconds{{till=\"{}\"}} {}",
            escape(&r.till_id),
            r.oldest_age_at(now).unwrap_or(0)
        );
    }
    header(
        &mut out,
        "tillsync_till_error_list",
        "gauge",
        "Items in the till's error list (refused or quarantined) as it last reported.",
    );
    for r in &reports {
        let _ = writeln!(
            out,
            "tillsync_till_error_list{{till=\"{}\"}} {}",
            escape(&r.till_id),
            r.errors
        );
    }
    Ok(out)
}

fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A till's lag in seconds on one table: the seconds since the server
/// published the first version the till does not hold (`held + 1`), 0 when
/// it holds `server` or newer. `published` is (version, first published)
/// by version; when retention removed that version's packages the oldest
/// one kept stands in (a lower bound), and without any, `exported_at`.
fn lag_secs(
    held: u64,
    server: u64,
    published: &[(u64, chrono::DateTime<chrono::Utc>)],
    exported_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> i64 {
    if held >= server {
        return 0;
    }
    let since = published
        .iter()
        .filter(|(v, _)| *v > held)
        .map(|(_, at)| *at)
        .min()
        .or(exported_at);
    since.map(|at| (now - at).num_seconds().max(0)).unwrap_or(0)
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Escape a label value: backslash, double quote and line feed.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape("x\ny"), "x\\ny");
        assert_eq!(escape("/api/v1/outbox"), "/api/v1/outbox");
    }

    #[test]
    fn lag_in_seconds_counts_from_the_first_version_missing() {
        let t = |s: i64| chrono::DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let now = t(1_000);
        // Versions 1, 2, 3 published at +0, +100, +700.
        let published = [(1, t(0)), (2, t(100)), (3, t(700))];
        assert_eq!(
            lag_secs(3, 3, &published, Some(t(700)), now),
            0,
            "up to date"
        );
        assert_eq!(lag_secs(4, 3, &published, Some(t(700)), now), 0, "ahead");
        assert_eq!(lag_secs(2, 3, &published, Some(t(700)), now), 300);
        assert_eq!(lag_secs(1, 3, &published, Some(t(700)), now), 900);
        assert_eq!(
            lag_secs(0, 3, &published, Some(t(700)), now),
            1_000,
            "never loaded"
        );
        // Versions 1 and 2 gone by retention: the oldest kept is a lower bound.
        assert_eq!(lag_secs(0, 3, &published[2..], Some(t(700)), now), 300);
        // No package record at all: when the current version was exported.
        assert_eq!(lag_secs(0, 3, &[], Some(t(400)), now), 600);
        assert_eq!(lag_secs(0, 3, &[], None, now), 0);
        // A clock step backwards never gives a negative lag.
        assert_eq!(lag_secs(2, 3, &published, None, t(50)), 0);
    }
}
