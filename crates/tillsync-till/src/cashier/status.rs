//! `GET /status.json`: the connection state and the outbox counts the
//! page's script refreshes its header with.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::cashier::state::{Cashier, blocking};

pub(crate) async fn status_json(State(st): State<Arc<Cashier>>) -> Response {
    blocking(st, move |st| {
        let reg = st.reg();
        let h = st.header(&reg);
        axum::Json(serde_json::json!({
            "online": h.online,
            "tickets_waiting": h.tickets_waiting,
            "items_waiting": h.items_waiting,
        }))
        .into_response()
    })
    .await
}
