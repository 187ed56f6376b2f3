//! [`HttpError`]: an error of the web service, answered as JSON
//! (`{"error": code, "message": …}`) with its status code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tillsync_db::StoreError;
use tillsync_wire::api::ApiError;

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
