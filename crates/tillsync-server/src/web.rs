//! The web service the tills call, JSON under `/api/v1` (see `docs/http-api.md`).
//!
//! Till identity comes from the request's credentials, never from its body:
//! `Authorization: Bearer <till id>:<token>`, the token from the till's
//! deployment package, checked against the SHA-256 the server keeps.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tillsync_core::Direction;
use tillsync_store::server::AuthFailure;
use tillsync_store::{ServerStore, StoreError};
use tillsync_wire::api::{ApiError, AvailableRequest, AvailableResponse, Ping};

use crate::{DataDir, ServerError};

/// Shared state of the web service.
pub struct AppState {
    /// The data folder.
    pub data: DataDir,
    /// POS folder name.
    pub folder: String,
    /// The server database (one connection, SQLite or PostgreSQL; calls run
    /// on blocking threads).
    pub db: Mutex<Box<dyn ServerStore>>,
    /// Ticket public keys per till (`POST /api/v1/outbox`).
    pub ticket_keys: crate::ingest::KeyCache,
    /// Counters of `GET /metrics`.
    pub metrics: crate::metrics::Metrics,
}

impl AppState {
    /// Open the database of `data`.
    pub fn open(data: DataDir) -> Result<Arc<Self>, ServerError> {
        let cfg = data.config()?;
        let db = data.open_store_with(&cfg)?;
        Ok(Arc::new(AppState {
            data,
            folder: cfg.folder.name,
            db: Mutex::new(db),
            ticket_keys: Default::default(),
            metrics: Default::default(),
        }))
    }

    pub(crate) async fn with_db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn ServerStore) -> Result<T, HttpError> + Send + 'static,
    ) -> Result<T, HttpError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = state.db.lock().unwrap_or_else(|p| p.into_inner());
            f(db.as_mut())
        })
        .await
        .map_err(|e| HttpError::internal(format!("worker failed: {e}")))?
    }
}

/// An error answered as JSON with a status code.
#[derive(Debug)]
pub struct HttpError {
    status: StatusCode,
    body: ApiError,
}

impl HttpError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        HttpError {
            status,
            body: ApiError {
                error: code.into(),
                message: message.into(),
            },
        }
    }

    /// The error's message.
    pub(crate) fn message(&self) -> &str {
        &self.body.message
    }

    pub(crate) fn internal(message: String) -> Self {
        tracing::error!(%message, "internal error");
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownTill(_) => {
                HttpError::new(StatusCode::FORBIDDEN, "unknown-till", e.to_string())
            }
            other => HttpError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// The calling till, authenticated.
#[derive(Debug, Clone)]
pub struct Till {
    /// Till id.
    pub id: String,
    /// Its store.
    pub store: String,
}

impl FromRequestParts<Arc<AppState>> for Till {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |msg: &str| {
            HttpError::new(StatusCode::UNAUTHORIZED, "bad-credentials", msg.to_string())
        };
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                unauthorized(
                    "this call needs the till's credentials (Authorization: Bearer TILL:TOKEN)",
                )
            })?;
        let (id, token) = header
            .strip_prefix("Bearer ")
            .and_then(|c| c.trim().split_once(':'))
            .filter(|(id, token)| !id.is_empty() && !token.is_empty())
            .ok_or_else(|| {
                unauthorized("malformed credentials: expected Authorization: Bearer TILL:TOKEN")
            })?;
        let (id, token_sha) = (id.to_string(), tillsync_wire::sha256_hex(token.as_bytes()));
        let lookup = id.clone();
        let (auth, store) = state
            .with_db(move |db| {
                let auth = db.authenticate(&lookup, &token_sha)?;
                let store = match auth {
                    Ok(()) => {
                        db.touch_till(&lookup)?;
                        Some(db.till_store(&lookup)?)
                    }
                    Err(_) => None,
                };
                Ok((auth, store))
            })
            .await?;
        match (auth, store) {
            (Ok(()), Some(store)) => Ok(Till { id, store }),
            (Err(AuthFailure::Revoked), _) => Err(HttpError::new(
                StatusCode::FORBIDDEN,
                "till-revoked",
                format!("till {id} was revoked; generate a new deployment package to reinstate it"),
            )),
            _ => Err(unauthorized(&format!(
                "the credentials of till {id} are not valid (unknown till, or a deployment package that was since regenerated)"
            ))),
        }
    }
}

/// The router of API v1.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/ping", get(ping))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/packages/available", post(available))
        .route("/api/v1/customers", post(crate::customers::create))
        .route(
            "/api/v1/outbox",
            post(crate::ingest::outbox).layer(axum::extract::DefaultBodyLimit::max(
                crate::ingest::MAX_BODY,
            )),
        )
        .route("/api/v1/noop", get(crate::ingest::noop))
        .route("/metrics", get(crate::metrics::metrics))
        .merge(crate::admin::router(&state))
        .fallback(|| async {
            HttpError::new(StatusCode::NOT_FOUND, "not-found", "no such API endpoint")
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::count_requests,
        ))
        .with_state(state)
}

/// The OpenAPI document of API v1 (`docs/openapi.json`, built in).
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// `GET /api/v1/ping`: open to anyone (a till checks the connection with
/// it); when it carries a till's credentials, it counts as that till's
/// contact, so an idle till with nothing to push stays "online".
async fn ping(State(state): State<Arc<AppState>>, till: Result<Till, HttpError>) -> Json<Ping> {
    // Bad or missing credentials do not fail the connection check.
    drop(till);
    Json(Ping {
        status: "ok".into(),
        folder: state.folder.clone(),
        api: 1,
        server_time: tillsync_store::now_rfc3339(),
    })
}

async fn available(
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
    let store = till.store.clone();
    let reporter = till.id.clone();
    let (tables, up_tables) = state
        .with_db(move |db| {
            // The versions the till holds, for `server tills list`.
            db.record_till_tables(&reporter, &req.tables)?;
            // Its outbox and error list, for the till supervisor.
            if let Some(report) = &req.report {
                db.record_till_report(&reporter, report)?;
            }
            let down: Vec<String> = db
                .sync_tables()?
                .into_iter()
                .filter(|t| t.direction == Direction::Down)
                .map(|t| t.table)
                .collect();
            let published: Vec<_> = db
                .published()?
                .into_iter()
                .filter(|e| down.contains(&e.table))
                .collect();
            let plans = tillsync_core::plan::plan_all(&published, &store, &req.tables, req.full);
            let up_tables = db
                .up_table_layouts()?
                .into_iter()
                .map(|(table, layout)| tillsync_wire::api::UpTable { table, layout })
                .collect();
            Ok((plans, up_tables))
        })
        .await?;
    db_journal(&state, &till, &tables).await;
    Ok(Json(AvailableResponse {
        folder,
        tables,
        up_tables,
    }))
}

async fn db_journal(state: &Arc<AppState>, till: &Till, plans: &[tillsync_wire::api::TablePlan]) {
    let detail = plans
        .iter()
        .filter(|p| !p.packages.is_empty())
        .map(|p| format!("{} {:?} {} package(s)", p.table, p.action, p.packages.len()))
        .collect::<Vec<_>>()
        .join(", ");
    let id = till.id.clone();
    let _ = state
        .with_db(move |db| {
            Ok(db.journal(
                "packages-asked",
                Some(&id),
                "ok",
                if detail.is_empty() {
                    "up to date"
                } else {
                    &detail
                },
            )?)
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route of the router is described in the OpenAPI document.
    #[test]
    fn openapi_describes_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let source = include_str!("web.rs");
        let routes: Vec<&str> = source
            .match_indices(".route(\"")
            .map(|(i, m)| {
                let rest = &source[i + m.len()..];
                &rest[..rest.find('"').expect("closing quote")]
            })
            .collect();
        assert!(routes.len() >= 3, "{routes:?}");
        for r in routes {
            assert!(
                paths.contains_key(r),
                "route {r} is missing from docs/openapi.json"
            );
        }
    }
}
