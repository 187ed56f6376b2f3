//! `POST /api/v1/customers`: a till creates a customer, synchronously. The
//! server copies the template customer (setting `till.template_customer`),
//! applies the name and the fields the till gave, allocates the code and
//! answers the full record (see `ServerDb::create_customer`).
//!
//! A creation whose answer the till never read (timeout after the server
//! committed) stays on the server, recorded in `tillsync_customer_origin`
//! as created by that till; the till reports the creation as failed.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use tillsync_db::StoreError;
use tillsync_wire::api::{CustomerCreate, CustomerRecord};

use crate::http::error::HttpError;
use crate::http::state::AppState;
use crate::http::till::Till;

/// The handler of `POST /api/v1/customers`.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    till: Till,
    body: Result<Json<CustomerCreate>, JsonRejection>,
) -> Result<Json<CustomerRecord>, HttpError> {
    let Json(req) =
        body.map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, "bad-request", e.body_text()))?;
    let template = state
        .data
        .config()
        .map_err(|e| HttpError::internal(e.to_string()))?
        .till
        .template_customer;
    let record = state
        .with_db(move |db| {
            db.create_customer(&till.id, &till.store, &template, &req)
                .map_err(|e| match e {
                    StoreError::BadCustomer(m) => {
                        HttpError::new(StatusCode::BAD_REQUEST, "bad-customer", m)
                    }
                    e @ (StoreError::NoTemplateCustomer(_) | StoreError::NoSuchTable(_)) => {
                        HttpError::new(StatusCode::CONFLICT, "no-template-customer", e.to_string())
                    }
                    other => HttpError::from(other),
                })
        })
        .await?;
    Ok(Json(record))
}
