//! Receipts on the cashier page: a recorded ticket's receipt
//! (`GET /receipt/N`, `?invoice=1` for an invoice on request), a duplicate
//! of a past ticket (`POST /receipt/N/reprint`: logged in the event log,
//! then shown at `GET /receipt/N/duplicate/K`), and the recent tickets
//! (`GET /tickets`) to pick one from.

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tillsync_till_db::up as till_up;

use crate::cashier::pages::layout::message;
use crate::cashier::pages::receipt::ReceiptView;
use crate::cashier::reply::{Fields, html, see_other, token_or_new};
use crate::cashier::state::{Cashier, blocking};
use crate::cashier::{pages, refusal};
use crate::error::TillError;
use crate::receipt::model::PrintOptions;
use crate::receipt::print::{receipt_with, reprint_with};
use crate::receipt::qr;

/// Tickets the recent tickets page lists.
const RECENT: u64 = 30;

#[derive(Deserialize, Default)]
pub(crate) struct ReceiptQuery {
    #[serde(default)]
    invoice: Option<String>,
}

impl ReceiptQuery {
    fn invoice(&self) -> bool {
        matches!(self.invoice.as_deref(), Some("1" | "yes" | "true"))
    }
}

/// The page of receipt `number` (a duplicate when `duplicate`).
fn show(
    st: &Cashier,
    token: &str,
    new: bool,
    number: u64,
    duplicate: Option<u64>,
    invoice: bool,
) -> Response {
    let reg = st.reg();
    let h = st.header_of(&reg, token);
    let new = new.then_some(token);
    let just_paid = st.last_sale(token) == Some(number);
    let opts = PrintOptions {
        duplicate,
        invoice,
        // Tickets of version 2 name their cashier; for an older one the
        // page knows the one of the sale this session just made.
        cashier: just_paid.then(|| st.cashier_name(token)).flatten(),
        training: false,
    };
    let not_found = |text: String| html(StatusCode::NOT_FOUND, message(st.lang, &h, &text), new);
    if let Some(k) = duplicate {
        match reg.db().reprints_of(&st.till, number) {
            Ok(n) if k >= 1 && k <= n => {}
            Ok(_) => {
                return not_found(format!(
                    "{} {k} {} {number}.",
                    st.l("Aucun duplicata n°", "No duplicate no."),
                    st.l("du ticket", "of ticket")
                ));
            }
            Err(e) => return failed(st, &h, TillError::Store(e), new),
        }
    }
    match receipt_with(&st.cfg, reg.db(), number, &opts) {
        Ok(r) => match qr::svg(&r.qr, 3) {
            Ok(svg) => {
                let view = ReceiptView {
                    receipt: &r,
                    qr_svg: svg,
                    token,
                    just_paid,
                };
                html(
                    StatusCode::OK,
                    pages::receipt::page(st.lang, &h, &view),
                    new,
                )
            }
            Err(e) => failed(st, &h, e, new),
        },
        Err(TillError::Receipt(_))
            if till_up::load_ticket(reg.db().conn(), &st.till, number)
                .ok()
                .flatten()
                .is_none() =>
        {
            not_found(format!(
                "{} {number} {}",
                st.l("Le ticket", "Ticket"),
                st.l(
                    "n'existe pas sur cette caisse.",
                    "does not exist on this till."
                )
            ))
        }
        Err(e) => failed(st, &h, e, new),
    }
}

fn failed(st: &Cashier, h: &pages::layout::Header, e: TillError, new: Option<&str>) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        message(st.lang, h, &refusal::refusal(st.lang, &e)),
        new,
    )
}

pub(crate) async fn receipt(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Path(number): Path<u64>,
    Query(q): Query<ReceiptQuery>,
) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        show(st, &token, new, number, None, q.invoice())
    })
    .await
}

pub(crate) async fn duplicate(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Path((number, k)): Path<(u64, u64)>,
    Query(q): Query<ReceiptQuery>,
) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        show(st, &token, new, number, Some(k), q.invoice())
    })
    .await
}

/// `POST /receipt/N/reprint`: log the duplicate, then show it.
pub(crate) async fn reprint(
    State(st): State<Arc<Cashier>>,
    headers: HeaderMap,
    Path(number): Path<u64>,
    Form(form): Form<Fields>,
) -> Response {
    blocking(st, move |st| {
        if let Err(r) = st.posted(&headers, &form) {
            return *r;
        }
        let mut reg = st.reg();
        let opts = PrintOptions::default();
        match reprint_with(&st.cfg, reg.db_mut(), number, &opts) {
            Ok((_, r)) => {
                tracing::info!(
                    ticket = number,
                    reprint = r.reprint,
                    "duplicate printed from the cashier page"
                );
                see_other(&format!("/receipt/{number}/duplicate/{}", r.reprint))
            }
            Err(e) => {
                let h = st.header(&reg);
                html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    message(st.lang, &h, &refusal::refusal(st.lang, &e)),
                    None,
                )
            }
        }
    })
    .await
}

/// `GET /tickets`: the till's recent tickets, each with its receipt.
pub(crate) async fn tickets(State(st): State<Arc<Cashier>>, headers: HeaderMap) -> Response {
    let (token, new) = token_or_new(&headers);
    blocking(st, move |st| {
        let reg = st.reg();
        let h = st.header_of(&reg, &token);
        let new = new.then_some(token.as_str());
        let zone = match reg.db().till_zone(&st.cfg) {
            Ok(z) => z,
            Err(e) => return failed(st, &h, TillError::Store(e), new),
        };
        let last = match reg.db().ticket_summary(&st.till) {
            Ok((_, last)) => last.map_or(0, |t| t.number),
            Err(e) => return failed(st, &h, TillError::Store(e), new),
        };
        let mut rows = Vec::new();
        for n in (last.saturating_sub(RECENT) + 1..=last).rev() {
            match till_up::load_ticket(reg.db().conn(), &st.till, n) {
                Ok(Some(t)) => {
                    let dups = reg.db().reprints_of(&st.till, n).unwrap_or(0);
                    rows.push(pages::tickets::Row {
                        number: t.number,
                        local_time: zone.show(&t.time, st.lang),
                        total_cents: t.total_cents,
                        corrects: t.corrects,
                        duplicates: dups,
                    });
                }
                Ok(None) => {}
                Err(e) => return failed(st, &h, TillError::Store(e), new),
            }
        }
        html(
            StatusCode::OK,
            pages::tickets::page(st.lang, &h, &token, &rows),
            new,
        )
    })
    .await
}
