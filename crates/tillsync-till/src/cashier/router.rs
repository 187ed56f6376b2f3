//! The cashier page's routes: each path to its handler, behind the login
//! layer (a cashier logged in when the till has cashiers) and the guard
//! layer (`Host` check, security headers) in front of it.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Router, middleware};

use crate::cashier::state::Cashier;
use crate::cashier::{assets, customers, guard, login, pay, receipt, sale, status};

/// The cashier page's routes over `state`.
pub fn router(state: Arc<Cashier>) -> Router {
    Router::new()
        .route("/", get(sale::sale_page))
        .route("/ticket/add", post(sale::ticket_add))
        .route("/ticket/remove", post(sale::ticket_remove))
        .route("/ticket/clear", post(sale::ticket_clear))
        .route("/pay", post(pay::pay))
        .route("/receipt/{number}", get(receipt::receipt))
        .route("/receipt/{number}/reprint", post(receipt::reprint))
        .route("/receipt/{number}/duplicate/{k}", get(receipt::duplicate))
        .route("/tickets", get(receipt::tickets))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/customers", get(customers::customers_page))
        .route("/customers/create", post(customers::customer_create))
        .route("/customers/edit", post(customers::customer_edit))
        .route("/customers/abandon", post(customers::customer_abandon))
        .route("/status.json", get(status::status_json))
        .route("/assets/cashier.css", get(assets::css))
        .route("/assets/cashier.js", get(assets::js))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            login::require_login,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .with_state(state)
}
