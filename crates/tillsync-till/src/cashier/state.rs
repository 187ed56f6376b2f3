//! What the cashier page's handlers share: the [`Cashier`] state (the open
//! till, the sessions, the connection state) with the reads every page
//! makes (header, cart lines, flash, the CSRF check), and `blocking`,
//! which runs a handler's work on tokio's blocking pool (SQLite and the web
//! service client are synchronous).
//!
//! Locks are always taken in the same order: the register, then the sessions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tillsync_core::TillConfig;
use tillsync_core::lang::Lang;
use tillsync_till_db::up as till_up;
use tillsync_wire::api::OutboxKind;

use crate::cashier::pages::layout::{Header, message};
use crate::cashier::pages::sale::LineView;
use crate::cashier::reply::{Fields, field, html};
use crate::cashier::session::{self, CSRF_FIELD, Flash, Sessions};
use crate::cashier::throttle::LoginThrottle;
use crate::error::TillError;
use crate::link::Link;
use crate::up::sell::Register;

/// What the handlers share.
pub struct Cashier {
    /// The till data folder (the customer functions open it as the CLI does).
    pub(crate) dir: PathBuf,
    /// Till id.
    pub(crate) till: String,
    /// Store code.
    store: String,
    /// Page language.
    pub(crate) lang: Lang,
    /// The till's configuration (receipts: key, store, zone, language).
    pub(crate) cfg: TillConfig,
    /// Wrong PINs in a row and the lock they set.
    pub(crate) throttle: Mutex<LoginThrottle>,
    /// The open till, for sales and reads (one sale at a time).
    register: Mutex<Register>,
    /// Carts and flashes per browser session.
    sessions: Mutex<Sessions>,
    /// The connection state.
    pub(crate) link: Arc<Link>,
    /// Check that `Host` names a loopback address.
    pub(crate) loopback_only: bool,
}

impl Cashier {
    /// The page state for the till in `dir`, its configuration `cfg`
    /// (language), the connection state `link`.
    pub fn open(dir: &Path, cfg: &TillConfig, link: Arc<Link>) -> Result<Self, TillError> {
        Ok(Cashier {
            dir: dir.to_path_buf(),
            till: cfg.till.id.clone(),
            store: cfg.till.store.clone(),
            lang: cfg.till.language,
            cfg: cfg.clone(),
            throttle: Mutex::new(LoginThrottle::default()),
            register: Mutex::new(Register::open(dir)?),
            sessions: Mutex::new(Sessions::default()),
            link,
            loopback_only: true,
        })
    }

    /// Accept any `Host` header (when listening beyond loopback on purpose).
    pub fn allow_any_host(mut self) -> Self {
        self.loopback_only = false;
        self
    }

    /// The open till (taken over if a handler panicked holding it).
    pub(crate) fn reg(&self) -> MutexGuard<'_, Register> {
        self.register.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The login's count of wrong PINs (taken over if a handler panicked holding it).
    pub(crate) fn throttle(&self) -> MutexGuard<'_, LoginThrottle> {
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sessions (taken over if a handler panicked holding them).
    pub(crate) fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `fr` or `en`, in the page's language.
    pub(crate) fn l<'a>(&self, fr: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(fr, en)
    }

    /// What the header of every page shows.
    pub(crate) fn header(&self, reg: &Register) -> Header {
        let (items_waiting, tickets_waiting) = waiting(reg).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cashier page: cannot count the outbox");
            (0, 0)
        });
        Header {
            till: self.till.clone(),
            store: self.store.clone(),
            online: self.link.online(),
            tickets_waiting,
            items_waiting,
            cashier: None,
        }
    }

    /// [`Cashier::header`] with the cashier logged in on session `token`.
    pub(crate) fn header_of(&self, reg: &Register, token: &str) -> Header {
        Header {
            cashier: self
                .cashier_name(token)
                .map(|name| (name, token.to_string())),
            ..self.header(reg)
        }
    }

    /// The name of the cashier logged in on session `token`.
    pub(crate) fn cashier_name(&self, token: &str) -> Option<String> {
        self.sessions()
            .get(token)
            .cashier
            .as_ref()
            .map(|c| c.name.clone())
    }

    /// The number of the last ticket paid from session `token`.
    pub(crate) fn last_sale(&self, token: &str) -> Option<u64> {
        self.sessions().get(token).last_sale.map(|(n, _)| n)
    }

    /// The message to show once on this session's next page, taken.
    pub(crate) fn take_flash(&self, token: &str) -> Option<Flash> {
        self.sessions().get(token).flash.take()
    }

    /// Set the message this session's next page shows.
    pub(crate) fn set_flash(&self, token: &str, ok: bool, text: String) {
        self.sessions().get(token).flash = Some(Flash { ok, text });
    }

    /// The refusal of a form without a valid CSRF field.
    pub(crate) fn forbidden(&self) -> Response {
        let reg = self.reg();
        let h = self.header(&reg);
        let text = self.l(
            "Formulaire refusé : son jeton de sécurité manque ou ne correspond pas à cette session. Rechargez la page et recommencez.",
            "Form refused: its security token is missing or does not match this session. Reload the page and try again.",
        );
        html(StatusCode::FORBIDDEN, message(self.lang, &h, text), None)
    }

    /// The session token of a POST whose CSRF field matches its cookie
    /// (else the refusal to answer).
    pub(crate) fn posted(
        &self,
        headers: &HeaderMap,
        form: &Fields,
    ) -> Result<String, Box<Response>> {
        let cookie = session::token_of(headers);
        if session::csrf_ok(cookie.as_deref(), field(form, CSRF_FIELD)) {
            Ok(cookie.unwrap_or_default())
        } else {
            Err(Box::new(self.forbidden()))
        }
    }

    /// The lines of this session's cart, priced from `ART`.
    pub(crate) fn lines(&self, reg: &Register, token: &str) -> Vec<LineView> {
        let cart = self.sessions().get(token).cart.clone();
        cart.into_iter()
            .map(|c| {
                let item = till_up::priced_item(reg.db().conn(), &c.code)
                    .ok()
                    .flatten();
                LineView {
                    label: item.as_ref().map(|i| i.label.clone()),
                    unit_cents: item.map(|i| i.price_cents),
                    code: c.code,
                    quantity: c.quantity,
                }
            })
            .collect()
    }
}

/// (all items, tickets) waiting in the outbox.
fn waiting(reg: &Register) -> Result<(u64, u64), rusqlite::Error> {
    reg.db().conn().query_row(
        r#"SELECT COUNT(*), COALESCE(SUM("kind" = ?1), 0) FROM "tillsync_outbox""#,
        [till_up::kind_name(OutboxKind::Ticket)],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )
}

/// Run `f` on the blocking pool.
pub(crate) async fn blocking<F>(st: Arc<Cashier>, f: F) -> Response
where
    F: FnOnce(&Cashier) -> Response + Send + 'static,
{
    let failed = st.l(
        "erreur interne de la page de caisse (voir le journal du programme)",
        "internal error of the cashier page (see the program's log)",
    );
    match tokio::task::spawn_blocking(move || f(&st)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cashier page handler failed");
            (StatusCode::INTERNAL_SERVER_ERROR, failed).into_response()
        }
    }
}
