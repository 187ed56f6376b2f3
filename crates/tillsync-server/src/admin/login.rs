//! Login and logout of the folder's administrator: the login page with its
//! own CSRF token (a login cookie), the password check with the lockout,
//! the session cookie.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use tillsync_core::{Lang, ServerConfig};

use crate::admin::auth;
use crate::admin::context::{AdminState, Ctx, FormData, NoSession, cookie, now_unix, set_cookie};
use crate::admin::layout::{error_page, layout};
use crate::http::state::AppState;

/// `GET /admin`: to the till supervisor, or to the login page.
pub(crate) async fn home(ctx: Result<Ctx, NoSession>) -> Response {
    match ctx {
        Ok(_) => Redirect::to("/admin/tills").into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct LoginQuery {
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

/// `GET /admin/login`.
pub(crate) async fn login_page(
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

/// `POST /admin/login`: the password checked (with the lockout), a session cookie.
pub(crate) async fn login(
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

/// `POST /admin/logout`: the session cookie ended.
pub(crate) async fn logout(ctx: Result<Ctx, NoSession>, form: FormData) -> Response {
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
