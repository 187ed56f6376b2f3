//! What every admin page handler works with: the admin pages' state
//! ([`AdminState`]), the logged-in administrator's context ([`Ctx`], whose
//! extraction checks the session cookie), posted forms ([`FormData`]) with
//! their CSRF check, and the cookies.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::Markup;
use tillsync_core::{Lang, ServerConfig};

use crate::admin::auth::{self, Session, SessionRefusal};
use crate::admin::export_job::ExportJob;
use crate::admin::layout::{error_page, layout};
use crate::http::state::AppState;

/// State of the admin pages, beside the web service's.
pub struct AdminState {
    /// The web service's state.
    pub(crate) app: Arc<AppState>,
    /// The key of the session cookies and CSRF tokens, or why there is none.
    pub(crate) key: Result<[u8; 32], String>,
    /// The login lockout.
    pub(crate) throttle: auth::Throttle,
    /// The "export now" job of this process.
    pub(crate) export: ExportJob,
}

impl AdminState {
    /// The session key, or an error page saying why there is none.
    pub(crate) fn key(&self) -> Result<&[u8; 32], Response> {
        self.key
            .as_ref()
            .map_err(|e| error_page(Lang::default(), StatusCode::INTERNAL_SERVER_ERROR, e))
    }

    /// The configuration, or an error page.
    pub(crate) fn config(&self) -> Result<ServerConfig, Response> {
        self.app.data.config().map_err(|e| {
            error_page(
                Lang::default(),
                StatusCode::INTERNAL_SERVER_ERROR,
                &e.to_string(),
            )
        })
    }

    /// The administrator's password hash (`None`: none set), or an error page.
    pub(crate) fn password_hash(&self) -> Result<Option<String>, Response> {
        auth::password_hash(self.app.data.path()).map_err(|e| {
            error_page(
                Lang::default(),
                StatusCode::INTERNAL_SERVER_ERROR,
                &e.to_string(),
            )
        })
    }
}

/// Everything a page handler needs about the logged-in administrator.
pub(crate) struct Ctx {
    pub(crate) admin: Arc<AdminState>,
    pub(crate) session: Session,
    pub(crate) csrf: String,
    pub(crate) lang: Lang,
    pub(crate) cfg: ServerConfig,
}

impl Ctx {
    /// Refuse a form without this session's CSRF token (403, nothing done).
    pub(crate) fn check_csrf(&self, form: &FormData) -> Result<(), Response> {
        let key = self.admin.key()?;
        if self.session.csrf_ok(key, form.get("csrf")) {
            Ok(())
        } else {
            Err(csrf_refused(self.lang))
        }
    }

    /// A page with the menu and the logout form.
    pub(crate) fn page(&self, title: &str, body: Markup) -> Markup {
        layout(
            self.lang,
            title,
            Some((&self.csrf, &self.session.user)),
            body,
        )
    }
}

fn csrf_refused(lang: Lang) -> Response {
    error_page(
        lang,
        StatusCode::FORBIDDEN,
        lang.pick(
            "Formulaire refusé : jeton anti-CSRF absent ou invalide. Rechargez la page et recommencez.",
            "Form refused: the CSRF token is missing or wrong. Reload the page and try again.",
        ),
    )
}

/// The fields of a posted form, in order.
pub(crate) struct FormData(pub(crate) Vec<(String, String)>);

impl FormData {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(Form(v)) => Ok(FormData(v)),
            Err(e) => Err(error_page(Lang::default(), e.status(), &e.body_text())),
        }
    }
}

/// Why a request has no admin context: a redirect to the login page for a
/// page, 401 for a form.
pub(crate) struct NoSession(Response);

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        self.0
    }
}

impl FromRequestParts<Arc<AppState>> for Ctx {
    type Rejection = NoSession;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Extension(admin) = Extension::<Arc<AdminState>>::from_request_parts(parts, _state)
            .await
            .map_err(|e| NoSession(e.into_response()))?;
        let cfg = admin.config().map_err(NoSession)?;
        let lang = cfg.ui.language;
        let key = *admin.key().map_err(NoSession)?;
        let phc = admin.password_hash().map_err(NoSession)?;
        let cookie = cookie(&parts.headers, auth::SESSION_COOKIE);
        let checked = match &phc {
            Some(phc) => auth::check_session(&key, phc, cookie, now_unix()),
            None => Err(SessionRefusal::Missing),
        };
        let session = match checked {
            Ok(s) if s.user == cfg.folder.admin => s,
            Ok(_) => {
                return Err(NoSession(refuse(
                    lang,
                    &parts.method,
                    SessionRefusal::Invalid,
                )));
            }
            Err(why) => return Err(NoSession(refuse(lang, &parts.method, why))),
        };
        let csrf = session.csrf_token(&key);
        Ok(Ctx {
            admin,
            session,
            csrf,
            lang,
            cfg,
        })
    }
}

fn refuse(lang: Lang, method: &Method, why: SessionRefusal) -> Response {
    let expired = why == SessionRefusal::Expired;
    if method == Method::GET || method == Method::HEAD {
        let to = if expired {
            "/admin/login?expired=1"
        } else {
            "/admin/login"
        };
        return Redirect::to(to).into_response();
    }
    error_page(
        lang,
        StatusCode::UNAUTHORIZED,
        if expired {
            lang.pick(
                "Votre session a expiré : reconnectez-vous. Rien n'a été modifié.",
                "Your session has expired: log in again. Nothing was changed.",
            )
        } else {
            lang.pick(
                "Connexion requise : connectez-vous d'abord. Rien n'a été modifié.",
                "You must log in first. Nothing was changed.",
            )
        },
    )
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The value of cookie `name`.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/admin`, Secure
/// when the web service speaks HTTPS.
pub(crate) fn set_cookie(
    cfg: &ServerConfig,
    app: &AppState,
    name: &str,
    value: &str,
    max_age: u64,
) -> String {
    let secure = matches!(cfg.tls_files(app.data.path()), Ok(Some(_)));
    format!(
        "{name}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}
