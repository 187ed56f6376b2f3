//! The routes of the admin pages (merged into the web service's router),
//! the security headers every admin answer carries, and the CSS.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::admin::context::AdminState;
use crate::admin::{auth, export_page, folder, journal, login, tables, tills};
use crate::http::state::AppState;

/// The CSS of the admin pages (served at `/admin/assets/admin.css`).
pub const CSS: &str = include_str!("admin.css");

/// The routes of the admin pages, to merge into the web service's router.
pub fn router(app: &Arc<AppState>) -> Router<Arc<AppState>> {
    let key = auth::session_key(app.data.path()).map_err(|e| e.to_string());
    if let Err(e) = &key {
        tracing::error!(error = %e, "admin pages disabled: no session key");
    }
    let admin = Arc::new(AdminState {
        app: app.clone(),
        key,
        throttle: auth::Throttle::default(),
        export: Default::default(),
    });
    Router::new()
        .route("/admin", get(login::home))
        .route("/admin/", get(login::home))
        .route("/admin/login", get(login::login_page).post(login::login))
        .route("/admin/logout", post(login::logout))
        .route("/admin/assets/admin.css", get(css))
        .route(
            "/admin/folder",
            get(folder::folder).post(folder::folder_save),
        )
        .route("/admin/folder/test", post(folder::folder_test))
        .route("/admin/tables", get(tables::tables))
        .route("/admin/tables/add", post(tables::table_add))
        .route("/admin/tables/edit", post(tables::table_edit))
        .route("/admin/tables/remove", post(tables::table_remove))
        .route("/admin/tills", get(tills::tills))
        .route("/admin/tills/package", post(tills::till_package))
        .route("/admin/tills/revoke", post(tills::till_revoke))
        .route("/admin/journal", get(journal::journal))
        .route(
            "/admin/export",
            get(export_page::page).post(export_page::start),
        )
        .layer(axum::middleware::from_fn(security_headers))
        .layer(Extension(admin))
}

/// No framing, no outside resources, no caching of admin pages.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
}
