//! `POST /api/v1/packages/available`: the packages a till should fetch, per
//! table (the plan of `tillsync_core::plan`, over the kept catalog), and the
//! up tables' layouts; the till's report (the versions it holds, its
//! outbox) and the journal's "packages-asked" line written when they change
//! or are due ([`crate::http::bookkeeping`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tillsync_server_db::store::Bookkeeping;
use tillsync_wire::api::{AvailableRequest, AvailableResponse};

use crate::http::bookkeeping::Due;
use crate::http::error::HttpError;
use crate::http::state::AppState;
use crate::http::till::Till;

/// The handler of `POST /api/v1/packages/available`.
pub(crate) async fn available(
    State(state): State<Arc<AppState>>,
    till: Till,
    body: Result<Json<AvailableRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<AvailableResponse>, HttpError> {
    let Json(req) =
        body.map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, "bad-request", e.body_text()))?;
    if let Some(at) = req
        .report
        .as_ref()
        .and_then(|r| r.oldest_queued_at.as_deref())
        && chrono::DateTime::parse_from_rfc3339(at).is_err()
    {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "report.oldest_queued_at: expected an RFC 3339 time such as 2026-11-28T10:00:00Z",
        ));
    }
    let folder = state.folder.clone();
    let catalog = state.catalog(till.generation).await?;
    let plans =
        tillsync_core::plan::plan_all(&catalog.published, &till.store, &req.tables, req.full);
    let up_tables = catalog.up_tables.clone();
    // The versions the till holds (for `server tills list` and the lag
    // metrics) and its outbox report (for the till supervisor) are written
    // when they change or every REPORT_WRITE_EVERY; the journal hears what
    // the till was told when it changes.
    let reported: Vec<_> = req
        .tables
        .iter()
        .map(|t| (&t.table, t.version, &t.layout_hash))
        .collect();
    let report_text = req
        .report
        .as_ref()
        .map(|r| serde_json::to_string(r).unwrap_or_default());
    let report = state.reports.due(&till.id, &(reported, &report_text));
    let detail = asked_detail(&plans);
    let asked = state.asked.due(&till.id, &detail);
    if report == Due::Refresh {
        let (tables, outbox) = (req.tables.clone(), req.report.clone());
        state.defer(&till.id, |d| {
            d.tables = Some(tables);
            if outbox.is_some() {
                d.report = outbox;
            }
        });
    }
    if asked == Due::Refresh {
        let detail = detail.clone();
        state.defer(&till.id, |d| d.asked = Some(detail));
    }
    let (report, asked) = (report == Due::Changed, asked == Due::Changed);
    if report || asked {
        let write = Bookkeeping {
            till: till.id.clone(),
            contact: false,
            tables: report.then(|| req.tables.clone()),
            report: if report { req.report.clone() } else { None },
            asked: asked.then_some(detail),
        };
        if let Err(e) = state.write_bookkeeping(write).await {
            state.reports.forget(&till.id);
            state.asked.forget(&till.id);
            return Err(e);
        }
    }
    Ok(Json(AvailableResponse {
        folder,
        tables: plans,
        up_tables,
    }))
}

/// The journal's line for an answer to "which packages are available".
fn asked_detail(plans: &[tillsync_wire::api::TablePlan]) -> String {
    let detail = plans
        .iter()
        .filter(|p| !p.packages.is_empty())
        .map(|p| format!("{} {:?} {} package(s)", p.table, p.action, p.packages.len()))
        .collect::<Vec<_>>()
        .join(", ");
    if detail.is_empty() {
        "up to date".to_string()
    } else {
        detail
    }
}
