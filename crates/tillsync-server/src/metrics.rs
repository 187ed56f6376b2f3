//! `GET /metrics`: the server's figures in the Prometheus text format 0.0.4,
//! written by hand (no metrics crate). Counters live in [`Metrics`] (one per
//! server process); the rest is read from the database at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tillsync_store::{ServerStore, StoreError};
use tillsync_wire::api::ItemStatus;

use crate::web::{AppState, HttpError};

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The counters of this server process.
#[derive(Default)]
pub struct Metrics {
    /// Requests by (matched route, status code).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Ticket batches stored, and tickets by outcome
    /// (accepted, duplicate, quarantined, rejected).
    tickets: Mutex<(u64, [u64; 4])>,
}

impl Metrics {
    /// Count one answered request.
    pub fn request(&self, route: &str, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route.to_string(), status))
            .or_default() += 1;
    }

    /// Count one committed batch and the outcome of each of its tickets.
    pub fn batch(&self, tickets: impl IntoIterator<Item = ItemStatus>) {
        let mut t = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        t.0 += 1;
        for s in tickets {
            t.1[status_index(s)] += 1;
        }
    }
}

const STATUSES: [&str; 4] = ["accepted", "duplicate", "quarantined", "rejected"];

fn status_index(s: ItemStatus) -> usize {
    match s {
        ItemStatus::Accepted => 0,
        ItemStatus::Duplicate => 1,
        ItemStatus::Quarantined => 2,
        ItemStatus::Rejected => 3,
    }
}

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
    let from_db = state.with_db(|db| Ok(db_figures(db)?)).await?;
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
    out.push_str(&from_db);
    Ok(([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], out).into_response())
}

/// The figures read from the database: packages, table versions, per-till
/// lag, contact and tickets.
fn db_figures(db: &dyn ServerStore) -> Result<String, StoreError> {
    let mut out = String::new();
    let published = db.published()?.len();
    header(
        &mut out,
        "tillsync_packages_published",
        "gauge",
        "Packages currently published (retention removes old ones).",
    );
    let _ = writeln!(out, "tillsync_packages_published {published}");

    let versions: BTreeMap<String, i64> = db
        .table_states()?
        .into_iter()
        .map(|s| (s.table, i64::try_from(s.version).unwrap_or(i64::MAX)))
        .collect();
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
        "tillsync_till_version_lag",
        "gauge",
        "Server table version minus the version the till last reported.",
    );
    for t in db.till_tables()? {
        let Some(server) = versions.get(&t.table) else {
            continue;
        };
        let held = t.version.and_then(|v| i64::try_from(v).ok()).unwrap_or(0);
        let _ = writeln!(
            out,
            "tillsync_till_version_lag{{till=\"{}\",table=\"{}\"}} {}",
            escape(&t.till_id),
            escape(&t.table),
            (server - held).max(0)
        );
    }

    header(
        &mut out,
        "tillsync_till_last_contact_seconds",
        "gauge",
        "Seconds since the till's last authenticated call.",
    );
    let now = chrono::Utc::now();
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
    Ok(out)
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
    fn counters_accumulate() {
        let m = Metrics::default();
        m.request("/a", 200);
        m.request("/a", 200);
        m.batch([ItemStatus::Accepted, ItemStatus::Quarantined]);
        assert_eq!(m.requests.lock().unwrap()[&("/a".to_string(), 200)], 2);
        assert_eq!(*m.tickets.lock().unwrap(), (1, [1, 0, 1, 0]));
    }
}
