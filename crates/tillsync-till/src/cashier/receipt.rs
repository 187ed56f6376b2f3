//! The receipt of a recorded ticket (`GET /receipt/N`), read back from the
//! till database.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tillsync_till_db::up as till_up;

use crate::cashier::pages::layout::message;
use crate::cashier::reply::{html, token_or_new};
use crate::cashier::state::{Cashier, blocking};
use crate::cashier::{pages, refusal};

pub(crate) async fn receipt(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Path(number): Path<u64>,
) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        let reg = st.reg();
        let h = st.header(&reg);
        let new = new.then_some(token.as_str());
        match till_up::load_ticket(reg.db().conn(), &st.till, number) {
            Ok(Some(t)) => html(StatusCode::OK, pages::receipt::page(st.lang, &h, &t), new),
            Ok(None) => {
                let text = format!(
                    "{} {number} {}",
                    st.l("Le ticket", "Ticket"),
                    st.l(
                        "n'existe pas sur cette caisse.",
                        "does not exist on this till."
                    )
                );
                html(StatusCode::NOT_FOUND, message(st.lang, &h, &text), new)
            }
            Err(e) => html(
                StatusCode::INTERNAL_SERVER_ERROR,
                message(st.lang, &h, &refusal::store(st.lang, e)),
                new,
            ),
        }
    })
    .await
}
