//! The sale page (`GET /`: search, the ticket being built, payment) and the
//! ticket's lines (`POST /ticket/add`, `/ticket/remove`, `/ticket/clear`),
//! kept in the session's cart until payment.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tillsync_till_db::up as till_up;

use crate::cashier::pages::sale::SalePage;
use crate::cashier::reply::{Fields, encode, field, html, see_other, token_or_new};
use crate::cashier::session::Flash;
use crate::cashier::state::{Cashier, blocking};
use crate::cashier::{items, pages, refusal};
use crate::up::sell::Register;

#[derive(Deserialize, Default)]
pub(crate) struct SaleQuery {
    #[serde(default)]
    q: String,
}

/// What the sale page shows besides the cart.
pub(crate) struct SaleForm {
    pub q: String,
    pub method: String,
    pub amount: String,
    pub customer: String,
}

pub(crate) fn render_sale(
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
    let h = st.header_of(reg, token);
    html(
        status,
        pages::sale::page(st.lang, &h, token, &page, msg.as_ref()),
        new_token.then_some(token),
    )
}

pub(crate) async fn sale_page(
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

pub(crate) async fn ticket_add(
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

pub(crate) async fn ticket_remove(
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

pub(crate) async fn ticket_clear(
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
