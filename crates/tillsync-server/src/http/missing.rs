//! `GET /api/v1/tickets/missing`: the calling till's ticket numbers that did
//! not arrive, so that the till sends them again from its own tickets.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tillsync_wire::api::MissingTickets;

use crate::http::error::HttpError;
use crate::http::state::AppState;
use crate::http::till::Till;

/// The gaps of the calling till's numbering (its own only).
pub(crate) async fn missing(
    State(state): State<Arc<AppState>>,
    till: Till,
) -> Result<Json<MissingTickets>, HttpError> {
    let id = till.id.clone();
    let ranges = state
        .with_read_db(move |db| {
            let st = db
                .ticket_state(Some(&id))
                .map_err(|e| HttpError::internal(e.to_string()))?;
            Ok(st
                .iter()
                .flat_map(|s| s.missing.iter().map(|g| [g.first, g.last]))
                .collect())
        })
        .await?;
    Ok(Json(MissingTickets { ranges }))
}
