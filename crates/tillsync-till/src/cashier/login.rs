//! The cashiers' login by PIN (`GET /login`, `POST /login`, `POST
//! /logout`) and the layer that sends every page to the login while no
//! cashier is logged in on the session, when the till's `CASHIER` table
//! holds cashiers of its store (without any, the page has no login: the
//! till's own operator sells). A login and a logout are written in the
//! event log (`cashier_login`, `cashier_logout`). Wrong PINs lock the login
//! (`cashier::throttle`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tillsync_core::fiscal::event::EventKind;
use tillsync_till_db::store::{Cashier as CashierRow, cashiers};

use crate::cashier::pages::layout::message;
use crate::cashier::reply::{Fields, field, html, see_other, token_or_new};
use crate::cashier::session::{self, Flash, LoggedIn};
use crate::cashier::state::{Cashier, blocking};
use crate::cashier::{pages, refusal};
use crate::error::TillError;

/// Paths served without a login: the login itself, the assets, the status.
fn open_path(path: &str) -> bool {
    path == "/login" || path == "/status.json" || path.starts_with("/assets/")
}

/// The cashiers who may log in at this till (empty: no login).
fn till_cashiers(st: &Cashier) -> Result<Vec<CashierRow>, TillError> {
    let reg = st.reg();
    Ok(cashiers(reg.db().conn(), &st.cfg.till.store)?)
}

/// The layer: a page other than [`open_path`] needs a cashier logged in on
/// the session when the till has cashiers (and one still in `CASHIER`).
pub(crate) async fn require_login(
    State(st): State<Arc<Cashier>>,
    req: Request,
    next: Next,
) -> Response {
    if open_path(req.uri().path()) {
        return next.run(req).await;
    }
    let token = session::token_of(req.headers());
    let check = st.clone();
    let allowed = tokio::task::spawn_blocking(move || -> Result<bool, TillError> {
        let list = till_cashiers(&check)?;
        if list.is_empty() {
            return Ok(true);
        }
        let Some(token) = token else {
            return Ok(false);
        };
        let mut sessions = check.sessions();
        let s = sessions.get(&token);
        let still = s
            .cashier
            .as_ref()
            .is_some_and(|c| list.iter().any(|k| k.code == c.code));
        if !still {
            s.cashier = None;
        }
        Ok(still)
    })
    .await;
    match allowed {
        Ok(Ok(true)) => next.run(req).await,
        Ok(Ok(false)) => see_other("/login"),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            refusal::refusal(st.lang, &e),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn render(
    st: &Cashier,
    token: &str,
    new: bool,
    status: StatusCode,
    msg: Option<Flash>,
) -> Response {
    let list = match till_cashiers(st) {
        Ok(l) => l,
        Err(e) => {
            let reg = st.reg();
            let h = st.header(&reg);
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                message(st.lang, &h, &refusal::refusal(st.lang, &e)),
                new.then_some(token),
            );
        }
    };
    let reg = st.reg();
    let h = st.header_of(&reg, token);
    let names: Vec<(String, String)> = list.into_iter().map(|c| (c.code, c.name)).collect();
    html(
        status,
        pages::login::page(st.lang, &h, token, &names, msg.as_ref()),
        new.then_some(token),
    )
}

pub(crate) async fn login_page(State(st): State<Arc<Cashier>>, headers: HeaderMap) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        let msg = st.take_flash(&token);
        render(st, &token, new, StatusCode::OK, msg)
    })
    .await
}

/// How long `d` is, as a person reads it.
fn wait_words(st: &Cashier, d: Duration) -> String {
    let s = d.as_secs().max(1);
    if s < 120 {
        format!("{s} {}", st.l("secondes", "seconds"))
    } else {
        format!("{} {}", s.div_ceil(60), st.l("minutes", "minutes"))
    }
}

pub(crate) async fn login(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let refuse = |text: String| {
            render(
                st,
                &token,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Flash { ok: false, text }),
            )
        };
        let locked = |d: Duration| {
            format!(
                "{} {}.",
                st.l(
                    "Trop de codes erronés : connexion verrouillée pendant",
                    "Too many wrong PINs: the login is locked for"
                ),
                wait_words(st, d)
            )
        };
        let now = Instant::now();
        if let Err(wait) = st.throttle().check(now) {
            return refuse(locked(wait));
        }
        let code = field(&form, "cashier").unwrap_or("").trim().to_string();
        let pin = field(&form, "pin").unwrap_or("").trim().to_string();
        let list = match till_cashiers(st) {
            Ok(l) => l,
            Err(e) => return refuse(refusal::refusal(st.lang, &e)),
        };
        let Some(who) = list.into_iter().find(|c| c.code == code) else {
            return refuse(
                st.l(
                    "Choisissez votre nom dans la liste.",
                    "Pick your name in the list.",
                )
                .to_string(),
            );
        };
        // The PIN is checked without holding the till (argon2 takes a while).
        let right = match tillsync_core::pin::verify(&who.code, &pin, &who.pin_hash) {
            Ok(r) => r,
            Err(e) => return refuse(refusal::refusal(st.lang, &TillError::Login(e.to_string()))),
        };
        if !right {
            let lock = st.throttle().failed(now);
            tracing::warn!(cashier = %who.code, "wrong PIN on the cashier page");
            return refuse(match lock {
                Some(d) => locked(d),
                None => st.l("Code erroné.", "Wrong PIN.").to_string(),
            });
        }
        st.throttle().succeeded();
        let body = serde_json::json!({ "cashier": who.code, "name": who.name });
        let mut reg = st.reg();
        if let Err(e) = reg.log_event(EventKind::CashierLogin, &body) {
            drop(reg);
            return refuse(refusal::refusal(st.lang, &e));
        }
        st.sessions().get(&token).cashier = Some(LoggedIn {
            code: who.code.clone(),
            name: who.name.clone(),
        });
        tracing::info!(cashier = %who.code, "cashier logged in");
        see_other("/")
    })
    .await
}

pub(crate) async fn logout(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let mut reg = st.reg();
        let who = st.sessions().get(&token).cashier.take();
        if let Some(c) = who {
            let body = serde_json::json!({ "cashier": c.code, "name": c.name });
            if let Err(e) = reg.log_event(EventKind::CashierLogout, &body) {
                tracing::warn!(error = %e, "cannot log the cashier's logout");
            }
            tracing::info!(cashier = %c.code, "cashier logged out");
        }
        see_other("/login")
    })
    .await
}
