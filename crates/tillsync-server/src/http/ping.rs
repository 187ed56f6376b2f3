//! The calls that only check the connection: `GET /api/v1/ping`, open to
//! anyone, and `GET /api/v1/noop`, the authenticated call that does nothing
//! (the benchmark's baseline).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tillsync_wire::api::Ping;

use crate::http::error::HttpError;
use crate::http::state::AppState;
use crate::http::till::Till;

/// `GET /api/v1/ping`: open to anyone (a till checks the connection with
/// it); when it carries a till's credentials, it counts as that till's
/// contact, so an idle till with nothing to push stays "online".
pub(crate) async fn ping(
    State(state): State<Arc<AppState>>,
    till: Result<Till, HttpError>,
) -> Json<Ping> {
    // Bad or missing credentials do not fail the connection check.
    drop(till);
    Json(Ping {
        status: "ok".into(),
        folder: state.folder.clone(),
        api: 1,
        server_time: tillsync_db::now_rfc3339(),
    })
}

/// `GET /api/v1/noop`: authenticated (records the contact), does nothing.
pub(crate) async fn noop(till: Till) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "till": till.id }))
}
