//! The handlers of `POST /api/v1/till/enrol` (no credentials: the
//! enrolment secret stands for them) and `POST /api/v1/till/key` (the
//! till's credentials), on the write connection; a refusal is journaled
//! and answered with its code: 400 `bad-request`, 403 `enrolment-unknown`,
//! `enrolment-used`, `enrolment-superseded`, `enrolment-expired`, 409
//! `key-in-use`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use tillsync_server_db::keys::KeyRefusal;
use tillsync_wire::keys::{EnrolRequest, EnrolResponse, KeyHistoryResponse, KeyRotation};

use crate::http::error::HttpError;
use crate::http::state::AppState;
use crate::http::till::Till;
use crate::till_keys::accept::{KeyCallError, enrol as accept_enrol, rotate as accept_rotate};

/// The answer to a key call that was not accepted; refusals are journaled.
fn answer(
    db: &dyn tillsync_server_db::store::ServerStore,
    till: &str,
    e: KeyCallError,
) -> HttpError {
    let (status, code, message) = match e {
        KeyCallError::Store(s) => return HttpError::from(s),
        KeyCallError::Bad(m) => (StatusCode::BAD_REQUEST, "bad-request", m),
        KeyCallError::Refused(r) => {
            let status = match r {
                KeyRefusal::KeyOfAnotherTill { .. } | KeyRefusal::KeyInHistory { .. } => {
                    StatusCode::CONFLICT
                }
                _ => StatusCode::FORBIDDEN,
            };
            (status, r.code(), r.to_string())
        }
    };
    tracing::warn!(%till, %code, %message, "key change refused");
    if let Err(j) = db.journal("keys", Some(till), "refused", &message) {
        tracing::error!(error = %j, "cannot journal a refused key change");
    }
    HttpError::new(status, code, message)
}

fn parsed<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, HttpError> {
    body.map(|Json(b)| b)
        .map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, "bad-request", e.body_text()))
}

/// `POST /api/v1/till/enrol`.
pub(crate) async fn enrol(
    State(state): State<Arc<AppState>>,
    body: Result<Json<EnrolRequest>, JsonRejection>,
) -> Result<Json<EnrolResponse>, HttpError> {
    let req = parsed(body)?;
    let key = state
        .data
        .signing_key()
        .map_err(|e| HttpError::internal(e.to_string()))?;
    let resp = state
        .with_db(move |db| {
            accept_enrol(db, &key, &req, chrono::Utc::now()).map_err(|e| answer(db, &req.till, e))
        })
        .await?;
    tracing::info!(till = %resp.till, key_id = %resp.key_id, "till enrolled");
    Ok(Json(resp))
}

/// `POST /api/v1/till/key`.
pub(crate) async fn rotate(
    State(state): State<Arc<AppState>>,
    till: Till,
    body: Result<Json<KeyRotation>, JsonRejection>,
) -> Result<Json<KeyHistoryResponse>, HttpError> {
    let req = parsed(body)?;
    let key = state
        .data
        .signing_key()
        .map_err(|e| HttpError::internal(e.to_string()))?;
    let resp = state
        .with_db(move |db| {
            accept_rotate(db, &key, &till.id, &req, chrono::Utc::now())
                .map_err(|e| answer(db, &till.id, e))
        })
        .await?;
    tracing::info!(till = %resp.till, key_id = %resp.key_id, "till key rotated");
    Ok(Json(resp))
}
