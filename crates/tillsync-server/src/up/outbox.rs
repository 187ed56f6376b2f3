//! `POST /api/v1/outbox`: a till's outbox batch, checked, stored in one
//! transaction and answered only after the commit. The handler runs the
//! steps of the up path: the checks without the database on a blocking
//! thread ([`crate::up::prepare`]), then the wait for the group commit
//! ([`crate::up::group_commit`]) as a cheap task; it counts the committed
//! batch for `GET /metrics`, and answers 422 when a ticket went to
//! quarantine.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tillsync_db::StoreError;
use tillsync_wire::api::{ItemResult, ItemStatus};

use crate::http::error::HttpError;
use crate::http::state::{AppState, lock};
use crate::http::till::Till;
use crate::up::item::{Prepared, Refusal};
use crate::up::prepare::prepare;

/// Largest accepted body of `POST /api/v1/outbox` (8 MiB): a bigger one is
/// answered 413; the till sends smaller batches.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// `POST /api/v1/outbox`.
pub(crate) async fn outbox(
    State(state): State<Arc<AppState>>,
    till: Till,
    req: Request,
) -> Result<axum::response::Response, HttpError> {
    // Refuse an announced oversized body before reading it.
    let announced = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let body = Bytes::from_request(req, &state)
        .await
        .map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                HttpError::new(StatusCode::BAD_REQUEST, "bad-request", e.body_text())
            }
        })?;
    // Parsing and signature checks on a blocking thread; the wait for the
    // group commit as a cheap task (not a thread parked per batch).
    let checked = {
        let (state, till) = (state.clone(), till.clone());
        tokio::task::spawn_blocking(move || checked(&state, &till, &body))
            .await
            .map_err(|e| HttpError::internal(format!("worker failed: {e}")))??
    };
    let stopped = || {
        HttpError::from(StoreError::Inconsistent(
            "the group commit thread stopped".into(),
        ))
    };
    let (prepared, resp) = state
        .group_commit
        .submit(&state, till.id, checked)
        .await
        .map_err(|_| stopped())?;
    let resp = resp.map_err(HttpError::from)?;
    // Committed: count the batch and its tickets for `GET /metrics`.
    if !prepared.is_empty() {
        state.metrics.batch(
            prepared
                .iter()
                .zip(&resp.results)
                .filter(|(p, _)| !matches!(p, Prepared::Other { .. }))
                .map(|(_, r)| r.status),
        );
    }
    // A ticket that failed its signature or chain is answered 422 with the
    // reason (it is kept in quarantine, never dropped); the batch is stored
    // all the same, and `results` says what became of every item.
    let quarantined: Vec<&ItemResult> = resp
        .results
        .iter()
        .filter(|r| r.status == ItemStatus::Quarantined)
        .collect();
    if quarantined.is_empty() {
        return Ok(Json(resp).into_response());
    }
    let message = format!(
        "{} item(s) kept in quarantine: {}",
        quarantined.len(),
        quarantined
            .iter()
            .map(|r| format!("{} ({})", r.key, r.reason.as_deref().unwrap_or("refused")))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(serde_json::json!({
            "error": "quarantined",
            "message": message,
            "results": resp.results,
        })),
    )
        .into_response())
}

fn too_large() -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!(
            "the batch is larger than {} MiB; send fewer items per batch",
            MAX_BODY >> 20
        ),
    )
}

/// Parse and check one batch of `till`; a batch refused as a whole is
/// journaled and answered with its error.
fn checked(state: &AppState, till: &Till, body: &[u8]) -> Result<Vec<Prepared>, HttpError> {
    match prepare(state, till, body) {
        Ok(p) => Ok(p),
        Err(Refusal::Store(e)) => Err(e.into()),
        Err(Refusal::Bad(status, code, message)) => {
            let _ = lock(state).journal("push", Some(&till.id), "refused", &message);
            Err(HttpError::new(status, code, message))
        }
    }
}
