//! The frame of every admin page (header, menu, logout form) and the
//! pages that only say what went wrong.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use tillsync_core::Lang;

use crate::admin::i18n;
use crate::http::error::HttpError;

/// The frame of every page.
pub(crate) fn layout(lang: Lang, title: &str, nav: Option<(&str, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — tillsync" }
                link rel="stylesheet" href="/admin/assets/admin.css";
            }
            body {
                header {
                    span.brand { "tillsync" }
                    @if let Some((csrf, user)) = nav {
                        nav {
                            @for (path, fr, en) in i18n::MENU {
                                a href=(path) { (lang.pick(fr, en)) }
                            }
                        }
                        form #logout method="post" action="/admin/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            span.user { (user) }
                            button type="submit" { (lang.pick("Déconnexion", "Log out")) }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page that only says what went wrong.
pub(crate) fn error_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    let title = lang.pick("Erreur", "Error");
    let body = html! {
        p.error { (message) }
        p { a href="/admin" { (lang.pick("Retour", "Back")) } }
    };
    (status, layout(lang, title, None, body)).into_response()
}

/// An error page for a failure inside the server (500).
pub(crate) fn internal(lang: Lang, e: impl std::fmt::Display) -> Response {
    error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// An error page for a failed call of the web service's state (500).
pub(crate) fn http_err(lang: Lang, e: HttpError) -> Response {
    internal(lang, e.message())
}
