//! The router of the web service: every route of API v1 (see
//! `docs/http-api.md`, `docs/openapi.json`), `GET /metrics` and the admin
//! pages, the JSON 404 for anything else, and the request-counting
//! middleware around them all.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::admin::router::router as admin_router;
use crate::http::error::HttpError;
use crate::http::state::AppState;
use crate::http::{metrics, missing, packages, ping};
use crate::till_keys::handlers as till_keys;
use crate::up::{customers, outbox};

/// The router of API v1.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/ping", get(ping::ping))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/packages/available", post(packages::available))
        .route("/api/v1/customers", post(customers::create))
        .route("/api/v1/till/enrol", post(till_keys::enrol))
        .route("/api/v1/till/key", post(till_keys::rotate))
        .route(
            "/api/v1/outbox",
            post(outbox::outbox).layer(axum::extract::DefaultBodyLimit::max(outbox::MAX_BODY)),
        )
        .route("/api/v1/noop", get(ping::noop))
        .route("/api/v1/tickets/missing", get(missing::missing))
        .route("/metrics", get(metrics::metrics))
        .merge(admin_router(&state))
        .fallback(|| async {
            HttpError::new(StatusCode::NOT_FOUND, "not-found", "no such API endpoint")
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}

/// The OpenAPI document of API v1 (`docs/openapi.json`, built in).
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route of the router is described in the OpenAPI document.
    #[test]
    fn openapi_describes_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let source = include_str!("router.rs");
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
