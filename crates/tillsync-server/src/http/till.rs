//! [`Till`]: the calling till, authenticated. Till identity comes from the
//! request's credentials, never from its body: `Authorization: Bearer <till
//! id>:<token>`, the token from the till's deployment package, checked
//! against the SHA-256 the server keeps. An authenticated call counts as
//! the till's contact.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use tillsync_server_db::store::{Bookkeeping, PollIdentity};
use tillsync_server_db::tills::AuthFailure;

use crate::http::bookkeeping::Due;
use crate::http::error::HttpError;
use crate::http::state::AppState;

/// The calling till, authenticated.
#[derive(Debug, Clone)]
pub struct Till {
    /// Till id.
    pub id: String,
    /// Its store.
    pub store: String,
    /// The catalog generation read with its credentials, if the backend
    /// keeps one ([`tillsync_server_db::TillStore::catalog_generation`]).
    pub generation: Option<i64>,
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
        let PollIdentity {
            auth,
            store,
            generation,
        } = state.poll_identity(id.clone(), token_sha).await?;
        // The contact is written at most every CONTACT_WRITE_EVERY per till:
        // at once the first time, deferred afterwards.
        let due = if auth.is_ok() {
            state.contacts.due(&id, &())
        } else {
            Due::No
        };
        if due == Due::Refresh {
            state.defer(&id, |d| d.contact = true);
        }
        if due == Due::Changed {
            let contact = Bookkeeping {
                till: id.clone(),
                contact: true,
                ..Default::default()
            };
            if let Err(e) = state.write_bookkeeping(contact).await {
                state.contacts.forget(&id);
                return Err(e);
            }
        }
        match (auth, store) {
            (Ok(()), Some(store)) => Ok(Till {
                id,
                store,
                generation,
            }),
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
