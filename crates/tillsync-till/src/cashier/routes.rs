//! The cashier page's handlers. Every handler runs its work on tokio's
//! blocking pool (SQLite and the web service client are synchronous).
//! Forms are POSTed with the CSRF field; a change answers with a redirect
//! (303) to a page that shows its outcome, a refusal with the page again
//! and its `.error`, the values typed kept.
//!
//! Locks are always taken in the same order: the register, then the sessions.

use std::sync::{Arc, MutexGuard};

use axum::Router;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use serde::Deserialize;
use tillsync_store::till_up;
use tillsync_wire::api::OutboxKind;

use super::Cashier;
use super::items;
use super::pages::{self, CustomersPage, FieldView, Header, LineView, METHODS, SalePage};
use super::refusal;
use super::session::{self, CSRF_FIELD, Flash};
use crate::error::TillError;
use crate::up::customers;
use crate::up::sell::{Register, SaleLine, SalePayment, SaleRequest};

/// The cashier page's routes over `state`.
pub fn router(state: Arc<Cashier>) -> Router {
    Router::new()
        .route("/", get(sale_page))
        .route("/ticket/add", post(ticket_add))
        .route("/ticket/remove", post(ticket_remove))
        .route("/ticket/clear", post(ticket_clear))
        .route("/pay", post(pay))
        .route("/receipt/{number}", get(receipt))
        .route("/customers", get(customers_page))
        .route("/customers/create", post(customer_create))
        .route("/customers/edit", post(customer_edit))
        .route("/customers/abandon", post(customer_abandon))
        .route("/status.json", get(status_json))
        .route("/assets/cashier.css", get(css))
        .route("/assets/cashier.js", get(js))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// A form as posted: its fields in order.
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The `field_COLUMN` entries of a form.
fn columns(f: &Fields) -> Vec<(String, String)> {
    f.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("field_")?.to_string(), v.clone())))
        .collect()
}

/// True when `Host` is absent or names a loopback address.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a `Host` that is not loopback (DNS rebinding), and sets the
/// headers every answer carries.
async fn guard(State(st): State<Arc<Cashier>>, req: Request, next: Next) -> Response {
    if st.loopback_only && !loopback_host(req.headers()) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            st.l(
                "la page de caisse ne répond que sur une adresse de bouclage (127.0.0.1 ou ::1)",
                "the cashier page answers on a loopback address only",
            )
            .to_string(),
        )
            .into_response();
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (k, v) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    resp
}

/// Run `f` on the blocking pool.
async fn blocking<F>(st: Arc<Cashier>, f: F) -> Response
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

/// The request's session token, or a new one to set.
fn token_or_new(headers: &HeaderMap) -> (String, bool) {
    match session::token_of(headers) {
        Some(t) => (t, false),
        None => (session::new_token(), true),
    }
}

/// An HTML answer, setting the session cookie when `new_token` is given.
fn html(status: StatusCode, m: Markup, new_token: Option<&str>) -> Response {
    let mut r = (status, m).into_response();
    if let Some(t) = new_token
        && let Ok(v) = HeaderValue::from_str(&session::set_cookie(t))
    {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Cashier {
    fn reg(&self) -> MutexGuard<'_, Register> {
        self.register.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sessions(&self) -> MutexGuard<'_, session::Sessions> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn l<'a>(&self, fr: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(fr, en)
    }

    fn header(&self, reg: &Register) -> Header {
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
        }
    }

    fn take_flash(&self, token: &str) -> Option<Flash> {
        self.sessions().get(token).flash.take()
    }

    fn set_flash(&self, token: &str, ok: bool, text: String) {
        self.sessions().get(token).flash = Some(Flash { ok, text });
    }

    /// The refusal of a form without a valid CSRF field.
    fn forbidden(&self) -> Response {
        let reg = self.reg();
        let h = self.header(&reg);
        let text = self.l(
            "Formulaire refusé : son jeton de sécurité manque ou ne correspond pas à cette session. Rechargez la page et recommencez.",
            "Form refused: its security token is missing or does not match this session. Reload the page and try again.",
        );
        html(
            StatusCode::FORBIDDEN,
            pages::message(self.lang, &h, text),
            None,
        )
    }

    /// The session token of a POST whose CSRF field matches its cookie
    /// (else the refusal to answer).
    fn posted(&self, headers: &HeaderMap, form: &Fields) -> Result<String, Box<Response>> {
        let cookie = session::token_of(headers);
        if session::csrf_ok(cookie.as_deref(), field(form, CSRF_FIELD)) {
            Ok(cookie.unwrap_or_default())
        } else {
            Err(Box::new(self.forbidden()))
        }
    }

    fn lines(&self, reg: &Register, token: &str) -> Vec<LineView> {
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

#[derive(Deserialize, Default)]
struct SaleQuery {
    #[serde(default)]
    q: String,
}

/// What the sale page shows besides the cart.
struct SaleForm {
    q: String,
    method: String,
    amount: String,
    customer: String,
}

fn render_sale(
    st: &Cashier,
    reg: &Register,
    token: &str,
    form: &SaleForm,
    status: StatusCode,
    msg: Option<Flash>,
    new_token: bool,
) -> Response {
    let found = (!form.q.trim().is_empty())
        .then(|| items::search(reg.db().conn(), &form.q).map_err(|e| e.message(st.lang)));
    let page = SalePage {
        q: &form.q,
        found,
        lines: st.lines(reg, token),
        method: &form.method,
        amount: &form.amount,
        customer: &form.customer,
    };
    let h = st.header(reg);
    html(
        status,
        pages::sale(st.lang, &h, token, &page, msg.as_ref()),
        new_token.then_some(token),
    )
}

async fn sale_page(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Query(p): Query<SaleQuery>,
) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        let reg = st.reg();
        let msg = st.take_flash(&token);
        let form = SaleForm {
            q: p.q,
            method: String::new(),
            amount: String::new(),
            customer: String::new(),
        };
        render_sale(st, &reg, &token, &form, StatusCode::OK, msg, new)
    })
    .await
}

/// The most of one item a line may add.
const MAX_QUANTITY: i64 = 9_999;

async fn ticket_add(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let q = field(&form, "q").unwrap_or("");
        let back = format!("/?q={}", encode(q));
        let code = field(&form, "code").unwrap_or("").trim();
        let qty = field(&form, "quantity").unwrap_or("").trim();
        let quantity = if qty.is_empty() {
            Ok(1)
        } else {
            qty.parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_QUANTITY).contains(n))
                .ok_or(())
        };
        let reg = st.reg();
        let refused = match quantity {
            Err(()) => Some(format!(
                "{} {qty:?} : {} {MAX_QUANTITY}.",
                st.l("Quantité refusée", "Quantity refused"),
                st.l("un nombre entier de 1 à", "a whole number from 1 to"),
            )),
            Ok(_) if code.is_empty() => {
                Some(st.l("Aucun article indiqué.", "No item given.").to_string())
            }
            Ok(_) => match till_up::priced_item(reg.db().conn(), code) {
                Ok(Some(_)) => None,
                Ok(None) => Some(format!(
                    "{} {code} {}",
                    st.l("L'article", "Item"),
                    st.l(
                        "n'est pas dans la table ART de la caisse.",
                        "is not in the till's ART table."
                    )
                )),
                Err(e) => Some(refusal::store(st.lang, e)),
            },
        };
        match (refused, quantity) {
            (Some(text), _) => st.set_flash(&token, false, text),
            (None, Ok(n)) => st.sessions().get(&token).add(code, n),
            (None, Err(())) => {}
        }
        see_other(&back)
    })
    .await
}

async fn ticket_remove(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let _reg = st.reg();
        if let Some(code) = field(&form, "code") {
            st.sessions().get(&token).remove(code);
        }
        see_other("/")
    })
    .await
}

async fn ticket_clear(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let _reg = st.reg();
        st.sessions().get(&token).cart.clear();
        see_other("/")
    })
    .await
}

/// A payment posted again this soon after a sale, with an empty ticket, is
/// the same click twice: it shows the receipt instead of a refusal.
const REPEAT_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// An amount typed by the cashier (`12,50`, `12.5`, `12`) in cents.
pub(crate) fn parse_amount(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('€').trim();
    let (units, frac) = match s.split_once([',', '.']) {
        Some((u, f)) => (u, f),
        None => (s, ""),
    };
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    units.checked_mul(100)?.checked_add(frac)
}

async fn pay(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let kept = SaleForm {
            q: String::new(),
            method: field(&form, "method").unwrap_or("").to_string(),
            amount: field(&form, "amount").unwrap_or("").trim().to_string(),
            customer: field(&form, "customer").unwrap_or("").trim().to_string(),
        };
        let mut reg = st.reg();
        let refuse = |reg: &Register, text: String| {
            render_sale(
                st,
                reg,
                &token,
                &kept,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Flash { ok: false, text }),
                false,
            )
        };
        if !METHODS.iter().any(|(m, _, _)| *m == kept.method) {
            let text = format!(
                "{} {:?}.",
                st.l("Mode de règlement inconnu :", "Unknown payment method:"),
                kept.method
            );
            return refuse(&reg, text);
        }
        let amount_cents = if kept.amount.is_empty() {
            None
        } else {
            match parse_amount(&kept.amount) {
                Some(a) => Some(a),
                None => {
                    let text = format!(
                        "{} {:?} : {}",
                        st.l("Montant illisible", "Unreadable amount"),
                        kept.amount,
                        st.l("tapez par exemple 12,50.", "type for example 12.50.")
                    );
                    return refuse(&reg, text);
                }
            }
        };
        // An amount below the total is said with money, before the sale is tried.
        if let Some(given) = amount_cents {
            let total = st.lines(&reg, &token).iter().try_fold(0i64, |acc, l| {
                acc.checked_add(l.unit_cents?.checked_mul(l.quantity)?)
            });
            if let Some(total) = total
                && given < total
            {
                let text = format!(
                    "{} {} {} {}.",
                    st.l("Montant reçu insuffisant :", "Amount received too low:"),
                    pages::money(st.lang, given),
                    st.l("pour un total de", "for a total of"),
                    pages::money(st.lang, total)
                );
                return refuse(&reg, text);
            }
        }
        let (lines, last_sale): (Vec<SaleLine>, _) = {
            let mut sessions = st.sessions();
            let s = sessions.get(&token);
            let lines = s
                .cart
                .iter()
                .map(|c| SaleLine {
                    item: c.code.clone(),
                    quantity: c.quantity,
                })
                .collect();
            (lines, s.last_sale)
        };
        // A second click on "pay" finds the ticket already paid: its receipt.
        if let Some((n, at)) = last_sale
            && lines.is_empty()
            && at.elapsed() < REPEAT_WINDOW
        {
            return see_other(&format!("/receipt/{n}"));
        }
        let req = SaleRequest {
            lines,
            payments: vec![SalePayment {
                method: kept.method.clone(),
                amount_cents,
            }],
            customer: (!kept.customer.is_empty()).then(|| kept.customer.clone()),
            corrects: None,
        };
        match reg.sell(&req) {
            Ok(t) => {
                {
                    let mut sessions = st.sessions();
                    let s = sessions.get(&token);
                    s.cart.clear();
                    s.last_sale = Some((t.number, std::time::Instant::now()));
                }
                tracing::info!(
                    number = t.number,
                    total_cents = t.total_cents,
                    "sale recorded from the cashier page"
                );
                see_other(&format!("/receipt/{}", t.number))
            }
            Err(e) => {
                let text = format!(
                    "{} {}",
                    st.l("Encaissement refusé :", "Payment refused:"),
                    refusal::refusal(st.lang, &e)
                );
                refuse(&reg, text)
            }
        }
    })
    .await
}

async fn receipt(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Path(number): Path<u64>,
) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        let reg = st.reg();
        let h = st.header(&reg);
        let new = new.then_some(token.as_str());
        match till_up::load_ticket(reg.db().conn(), &st.till, number) {
            Ok(Some(t)) => html(StatusCode::OK, pages::receipt(st.lang, &h, &t), new),
            Ok(None) => {
                let text = format!(
                    "{} {number} {}",
                    st.l("Le ticket", "Ticket"),
                    st.l(
                        "n'existe pas sur cette caisse.",
                        "does not exist on this till."
                    )
                );
                html(
                    StatusCode::NOT_FOUND,
                    pages::message(st.lang, &h, &text),
                    new,
                )
            }
            Err(e) => html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::message(st.lang, &h, &refusal::store(st.lang, e)),
                new,
            ),
        }
    })
    .await
}

// ---- customers ----

#[derive(Deserialize, Default)]
struct CustomerQuery {
    #[serde(default)]
    code: String,
}

/// The key column, the columns and the name column of the till's `CLI`.
struct CliShape {
    key: String,
    columns: Vec<String>,
}

fn cli_shape(reg: &Register) -> Result<Option<CliShape>, TillError> {
    Ok(reg.db().customer_layout()?.map(|l| CliShape {
        key: l.key.first().cloned().unwrap_or_default(),
        columns: l.columns.into_iter().map(|c| c.name).collect(),
    }))
}

/// The current values of customer `code` as text (`None`: no such customer).
fn customer_row(
    reg: &Register,
    shape: &CliShape,
    code: &str,
) -> Result<Option<Vec<(String, String)>>, TillError> {
    use rusqlite::OptionalExtension;
    use rusqlite::types::ValueRef;
    use tillsync_store::sql::q;
    let cols: Vec<&String> = shape.columns.iter().filter(|c| **c != shape.key).collect();
    if cols.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {} FROM \"CLI\" WHERE {} = ?1",
        cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", "),
        q(&shape.key)
    );
    let conn = reg.db().conn();
    let row = conn
        .query_row(&sql, [code], |r| {
            let mut out = Vec::with_capacity(cols.len());
            for (i, c) in cols.iter().enumerate() {
                let v = match r.get_ref(i)? {
                    ValueRef::Null => String::new(),
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(x) => x.to_string(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    ValueRef::Blob(b) => hex::encode(b),
                };
                out.push(((*c).clone(), v));
            }
            Ok(out)
        })
        .optional()
        .map_err(tillsync_store::StoreError::from)?;
    Ok(row)
}

/// What the customers page shows besides the forms' defaults.
#[derive(Default)]
struct CustomersForm {
    create_name: String,
    create_values: Vec<(String, String)>,
    edit_code: String,
    /// Values as posted for an edit (else the current ones are shown).
    edit_values: Option<Vec<(String, String)>>,
}

fn render_customers(
    st: &Cashier,
    token: &str,
    form: &CustomersForm,
    status: StatusCode,
    msg: Option<Flash>,
    new_token: bool,
) -> Response {
    let reg = st.reg();
    let h = st.header(&reg);
    let mut page = CustomersPage {
        no_table: None,
        create_fields: Vec::new(),
        create_name: &form.create_name,
        create_values: form.create_values.clone(),
        edit_code: &form.edit_code,
        edit_fields: Vec::new(),
        edit_missing: false,
    };
    let mut msg = msg;
    match cli_shape(&reg) {
        Ok(None) => {
            page.no_table = Some(
                st.l(
                    "La caisse n'a pas encore de clients (la table CLI n'a jamais été chargée) : lancez d'abord `tillsync till sync`.",
                    "The till has no customers yet (table CLI was never loaded): run `tillsync till sync` first.",
                )
                .to_string(),
            )
        }
        Ok(Some(shape)) => {
            page.create_fields = shape
                .columns
                .iter()
                .filter(|c| **c != shape.key && !c.eq_ignore_ascii_case("name"))
                .cloned()
                .collect();
            let current = if form.edit_code.trim().is_empty() {
                None
            } else {
                match customer_row(&reg, &shape, form.edit_code.trim()) {
                    Ok(r) => r,
                    Err(e) => {
                        msg.get_or_insert(Flash {
                            ok: false,
                            text: refusal::refusal(st.lang, &e),
                        });
                        None
                    }
                }
            };
            page.edit_missing = !form.edit_code.trim().is_empty() && current.is_none();
            page.edit_fields = shape
                .columns
                .iter()
                .filter(|c| **c != shape.key)
                .map(|c| {
                    let pick = |vals: &Vec<(String, String)>| {
                        vals.iter()
                            .find(|(k, _)| k == c)
                            .map(|(_, v)| v.clone())
                    };
                    let value = form
                        .edit_values
                        .as_ref()
                        .and_then(pick)
                        .or_else(|| current.as_ref().and_then(pick))
                        .unwrap_or_default();
                    FieldView {
                        name: c.clone(),
                        value,
                    }
                })
                .collect();
        }
        Err(e) => page.no_table = Some(refusal::refusal(st.lang, &e)),
    }
    html(
        status,
        pages::customers(st.lang, &h, token, &page, msg.as_ref()),
        new_token.then_some(token),
    )
}

async fn customers_page(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Query(p): Query<CustomerQuery>,
) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        let msg = st.take_flash(&token);
        let form = CustomersForm {
            edit_code: p.code,
            ..CustomersForm::default()
        };
        render_customers(st, &token, &form, StatusCode::OK, msg, new)
    })
    .await
}

async fn customer_create(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let name = field(&form, "name").unwrap_or("").to_string();
        let values = columns(&form);
        let given: Vec<(String, String)> = values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .cloned()
            .collect();
        // The register is not held: a creation waits for the server.
        match customers::create(&st.dir, &name, &given) {
            Ok(record) => {
                let code = record
                    .get("code")
                    .map(|c| {
                        c.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| c.to_string())
                    })
                    .unwrap_or_default();
                st.link.set(true);
                st.set_flash(
                    &token,
                    true,
                    format!(
                        "{} {code} {}",
                        st.l("Client", "Customer"),
                        st.l("créé par le serveur.", "created by the server.")
                    ),
                );
                see_other(&format!("/customers?code={}", encode(&code)))
            }
            Err(e) => {
                let status = if matches!(e, TillError::NeedsServer(_)) {
                    st.link.set(false);
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let text = format!(
                    "{} {}",
                    st.l("Création refusée :", "Creation refused:"),
                    refusal::refusal(st.lang, &e)
                );
                let kept = CustomersForm {
                    create_name: name,
                    create_values: values,
                    ..CustomersForm::default()
                };
                render_customers(
                    st,
                    &token,
                    &kept,
                    status,
                    Some(Flash { ok: false, text }),
                    false,
                )
            }
        }
    })
    .await
}

async fn customer_edit(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let code = field(&form, "code").unwrap_or("").trim().to_string();
        let values = columns(&form);
        // Only the non-empty fields that differ from the till's row.
        let changed: Result<Vec<(String, String)>, String> = {
            let reg = st.reg();
            match cli_shape(&reg) {
                Ok(Some(shape)) => match customer_row(&reg, &shape, &code) {
                    Ok(Some(current)) => Ok(values
                        .iter()
                        .filter(|(k, v)| {
                            !v.trim().is_empty()
                                && current.iter().find(|(c, _)| c == k).map(|(_, cv)| cv) != Some(v)
                        })
                        .cloned()
                        .collect()),
                    // Let the library say what is wrong (unknown customer or column).
                    Ok(None) => Ok(values
                        .iter()
                        .filter(|(_, v)| !v.trim().is_empty())
                        .cloned()
                        .collect()),
                    Err(e) => Err(refusal::refusal(st.lang, &e)),
                },
                Ok(None) => Ok(Vec::new()),
                Err(e) => Err(refusal::refusal(st.lang, &e)),
            }
        };
        let result = match changed {
            Ok(c) if c.is_empty() && !code.is_empty() => Err(st
                .l(
                    "Aucun champ modifié : rien n'a été enregistré.",
                    "No field changed: nothing was recorded.",
                )
                .to_string()),
            Ok(c) => customers::edit(&st.dir, &code, &c).map_err(|e| {
                format!(
                    "{} {}",
                    st.l("Modification refusée :", "Change refused:"),
                    refusal::refusal(st.lang, &e)
                )
            }),
            Err(e) => Err(e),
        };
        match result {
            Ok(edit) => {
                st.set_flash(
                    &token,
                    true,
                    format!(
                        "{} {code} {} ({}) ; {}",
                        st.l("Client", "Customer"),
                        st.l("modifié sur la caisse", "changed at this till"),
                        edit.fields.keys().cloned().collect::<Vec<_>>().join(", "),
                        st.l(
                            "la modification partira vers le serveur.",
                            "the change is queued for the server."
                        )
                    ),
                );
                see_other(&format!("/customers?code={}", encode(&code)))
            }
            Err(text) => {
                let kept = CustomersForm {
                    edit_code: code,
                    edit_values: Some(values),
                    ..CustomersForm::default()
                };
                render_customers(
                    st,
                    &token,
                    &kept,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(Flash { ok: false, text }),
                    false,
                )
            }
        }
    })
    .await
}

async fn customer_abandon(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        let token = match st.posted(&headers, &form) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let code = field(&form, "code").unwrap_or("").trim().to_string();
        match customers::abandon(&st.dir, &code) {
            Ok(()) => {
                st.set_flash(
                    &token,
                    true,
                    format!(
                        "{} {code} {}",
                        st.l("Création du client", "Creation of customer"),
                        st.l(
                            "abandonnée : il est retiré de la caisse et sa suppression partira vers le serveur.",
                            "abandoned: it is removed from the till and its deletion is queued for the server."
                        )
                    ),
                );
                see_other("/customers")
            }
            Err(e) => {
                let text = format!(
                    "{} {}",
                    st.l("Abandon refusé :", "Abandon refused:"),
                    refusal::refusal(st.lang, &e)
                );
                let kept = CustomersForm {
                    edit_code: code,
                    ..CustomersForm::default()
                };
                render_customers(
                    st,
                    &token,
                    &kept,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(Flash { ok: false, text }),
                    false,
                )
            }
        }
    })
    .await
}

// ---- status and assets ----

async fn status_json(State(st): State<Arc<Cashier>>) -> Response {
    blocking(st, move |st| {
        let reg = st.reg();
        let h = st.header(&reg);
        axum::Json(serde_json::json!({
            "online": h.online,
            "tickets_waiting": h.tickets_waiting,
            "items_waiting": h.items_waiting,
        }))
        .into_response()
    })
    .await
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::CSS,
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        pages::JS,
    )
        .into_response()
}
