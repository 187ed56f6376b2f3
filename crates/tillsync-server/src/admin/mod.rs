//! The admin web pages at `/admin` (see `docs/admin-pages.md`): login of the
//! folder's administrator, the POS folder tabs, the sync tables, the till
//! supervisor and the sync journal, and "export now". Server-rendered HTML
//! (maud), one small CSS file served by the binary, no JavaScript.
//!
//! # Layout
//! - [`auth`]: password hash, signed session cookies, CSRF tokens, lockout.
//! - `i18n`: shared French and English texts.
//! - `pages`: the page handlers.
//! - `export_job`: the "export now" job and its progress.

// Handlers short-circuit with the page to answer (`Result<_, Response>`);
// a response is larger than clippy likes in an `Err`, and that is fine here.
#![allow(clippy::result_large_err)]

pub mod auth;
mod export_job;
mod i18n;
mod pages;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use maud::{DOCTYPE, Markup, html};
use tillsync_core::{Lang, ServerConfig};

use crate::http::state::AppState;
use auth::{Session, SessionRefusal};

/// The CSS of the admin pages (served at `/admin/assets/admin.css`).
pub const CSS: &str = include_str!("admin.css");

/// State of the admin pages, beside the web service's.
pub struct AdminState {
    pub(crate) app: Arc<AppState>,
    key: Result<[u8; 32], String>,
    throttle: auth::Throttle,
    pub(crate) export: export_job::ExportJob,
}

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
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/assets/admin.css", get(css))
        .route("/admin/folder", get(pages::folder).post(pages::folder_save))
        .route("/admin/folder/test", post(pages::folder_test))
        .route("/admin/tables", get(pages::tables))
        .route("/admin/tables/add", post(pages::table_add))
        .route("/admin/tables/edit", post(pages::table_edit))
        .route("/admin/tables/remove", post(pages::table_remove))
        .route("/admin/tills", get(pages::tills))
        .route("/admin/tills/package", post(pages::till_package))
        .route("/admin/tills/revoke", post(pages::till_revoke))
        .route("/admin/journal", get(pages::journal))
        .route(
            "/admin/export",
            get(export_job::page).post(export_job::start),
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

impl AdminState {
    fn key(&self) -> Result<&[u8; 32], Response> {
        self.key
            .as_ref()
            .map_err(|e| error_page(Lang::default(), StatusCode::INTERNAL_SERVER_ERROR, e))
    }

    fn config(&self) -> Result<ServerConfig, Response> {
        self.app.data.config().map_err(|e| {
            error_page(
                Lang::default(),
                StatusCode::INTERNAL_SERVER_ERROR,
                &e.to_string(),
            )
        })
    }

    fn password_hash(&self) -> Result<Option<String>, Response> {
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
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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
fn set_cookie(cfg: &ServerConfig, app: &AppState, name: &str, value: &str, max_age: u64) -> String {
    let secure = matches!(cfg.tls_files(app.data.path()), Ok(Some(_)));
    format!(
        "{name}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

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

async fn home(ctx: Result<Ctx, NoSession>) -> Response {
    match ctx {
        Ok(_) => Redirect::to("/admin/tills").into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    expired: Option<String>,
}

fn login_view(
    lang: Lang,
    user: &str,
    csrf: &str,
    error: Option<&str>,
    note: Option<&str>,
) -> Markup {
    let body = html! {
        @if let Some(n) = note { p.note { (n) } }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form #login-form method="post" action="/admin/login" {
            input type="hidden" name="csrf" value=(csrf);
            label { (lang.pick("Utilisateur", "User"))
                input type="text" name="user" value=(user) autocomplete="username" required;
            }
            label { (lang.pick("Mot de passe", "Password"))
                input type="password" name="password" autocomplete="current-password" required autofocus;
            }
            button #login type="submit" { (lang.pick("Se connecter", "Log in")) }
        }
    };
    layout(
        lang,
        lang.pick("Administration", "Administration"),
        None,
        body,
    )
}

/// A login page with a fresh login cookie and its CSRF token.
fn login_response(
    admin: &AdminState,
    cfg: &ServerConfig,
    status: StatusCode,
    user: &str,
    error: Option<&str>,
    note: Option<&str>,
) -> Response {
    let lang = cfg.ui.language;
    let key = match admin.key() {
        Ok(k) => k,
        Err(r) => return r,
    };
    let nonce = auth::issue_login_nonce(key);
    let token = auth::login_csrf_token(key, &nonce).expect("own nonce verifies");
    let no_password = matches!(admin.password_hash(), Ok(None));
    let setup = lang.pick(
        "Aucun mot de passe administrateur n'est défini : lancez `tillsync server admin-password --data DOSSIER` sur le serveur.",
        "No admin password is set: run `tillsync server admin-password --data DIR` on the server.",
    );
    let error = error.or(no_password.then_some(setup));
    let cookie = set_cookie(cfg, &admin.app, auth::LOGIN_COOKIE, &nonce, 3600);
    (
        status,
        [(header::SET_COOKIE, cookie)],
        login_view(lang, user, &token, error, note),
    )
        .into_response()
}

async fn login_page(
    Extension(admin): Extension<Arc<AdminState>>,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    let cfg = match admin.config() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = cfg.ui.language;
    let note = q.expired.is_some().then(|| {
        lang.pick(
            "Votre session a expiré : reconnectez-vous.",
            "Your session has expired: log in again.",
        )
    });
    login_response(&admin, &cfg, StatusCode::OK, &cfg.folder.admin, None, note)
}

async fn login(
    State(_): State<Arc<AppState>>,
    Extension(admin): Extension<Arc<AdminState>>,
    headers: HeaderMap,
    form: FormData,
) -> Response {
    let cfg = match admin.config() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = cfg.ui.language;
    let key = match admin.key() {
        Ok(k) => *k,
        Err(r) => return r,
    };
    let user = form.get("user").unwrap_or(&cfg.folder.admin).to_string();
    if !auth::login_csrf_ok(&key, cookie(&headers, auth::LOGIN_COOKIE), form.get("csrf")) {
        let msg = lang.pick(
            "Formulaire refusé : jeton anti-CSRF absent ou invalide. Recommencez.",
            "Form refused: the CSRF token is missing or wrong. Try again.",
        );
        return login_response(&admin, &cfg, StatusCode::FORBIDDEN, &user, Some(msg), None);
    }
    // One account: the lockout counts against the folder's administrator,
    // whatever user name was typed.
    let account = cfg.folder.admin.clone();
    let locked_msg = |wait: std::time::Duration| {
        format!(
            "{} {} s.",
            lang.pick(
                "Trop de mots de passe erronés : connexion bloquée, réessayez dans",
                "Too many wrong passwords: login locked, try again in",
            ),
            wait.as_secs().max(1)
        )
    };
    if let Err(wait) = admin.throttle.check(&account, std::time::Instant::now()) {
        return login_response(
            &admin,
            &cfg,
            StatusCode::TOO_MANY_REQUESTS,
            &user,
            Some(&locked_msg(wait)),
            None,
        );
    }
    let phc = match admin.password_hash() {
        Ok(Some(p)) => p,
        Ok(None) => {
            return login_response(&admin, &cfg, StatusCode::UNAUTHORIZED, &user, None, None);
        }
        Err(r) => return r,
    };
    let password = form.get("password").unwrap_or("").to_string();
    let phc2 = phc.clone();
    let verified = tokio::task::spawn_blocking(move || auth::verify_password(&phc2, &password))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let ok = match verified {
        Ok(ok) => ok && user == account,
        Err(e) => return error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    if !ok {
        tracing::warn!("admin login refused: wrong user name or password");
        let msg = match admin.throttle.failed(&account, std::time::Instant::now()) {
            Some(wait) => locked_msg(wait),
            None => lang
                .pick(
                    "Utilisateur ou mot de passe incorrect.",
                    "Wrong user name or password.",
                )
                .to_string(),
        };
        return login_response(
            &admin,
            &cfg,
            StatusCode::UNAUTHORIZED,
            &user,
            Some(&msg),
            None,
        );
    }
    admin.throttle.succeeded(&account);
    let session = auth::issue_session(&key, &phc, &account, now_unix(), auth::SESSION_TTL);
    let mut res = Redirect::to("/admin").into_response();
    let h = res.headers_mut();
    for c in [
        set_cookie(
            &cfg,
            &admin.app,
            auth::SESSION_COOKIE,
            &session,
            auth::SESSION_TTL.as_secs(),
        ),
        set_cookie(&cfg, &admin.app, auth::LOGIN_COOKIE, "", 0),
    ] {
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_str(&c).expect("cookie is ASCII"),
        );
    }
    res
}

async fn logout(ctx: Result<Ctx, NoSession>, form: FormData) -> Response {
    let ctx = match ctx {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let c = set_cookie(&ctx.cfg, &ctx.admin.app, auth::SESSION_COOKIE, "", 0);
    ([(header::SET_COOKIE, c)], Redirect::to("/admin/login")).into_response()
}

#[cfg(test)]
mod tests;
