//! `GET /assets/cashier.css` and `/assets/cashier.js`: the style sheet and
//! the script, from the binary.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::cashier::pages::assets::{CSS, JS};

pub(crate) async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

pub(crate) async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}
