//! Taking payment (`POST /pay`): the amount typed read, checked against
//! the total, then the sale recorded through the path of `till sell`
//! ([`Register::sell`]); the receipt follows, a refusal keeps the ticket.

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::cashier::pages::format::METHODS;
use crate::cashier::refusal;
use crate::cashier::reply::{Fields, field, see_other};
use crate::cashier::sale::{SaleForm, render_sale};
use crate::cashier::session::Flash;
use crate::cashier::state::{Cashier, blocking};
use crate::receipt::format::money;
use crate::up::request::{SaleLine, SalePayment, SaleRequest};
use crate::up::sell::Register;

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

pub(crate) async fn pay(
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
                    money(st.lang, given),
                    st.l("pour un total de", "for a total of"),
                    money(st.lang, total)
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
                .map(|c| SaleLine::units(&c.code, c.quantity))
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
            // The cashier logged in on this session sold (on the ticket).
            cashier: st.cashier_name(&token),
            ..SaleRequest::default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_typed() {
        for (s, c) in [
            ("12", 1200),
            ("12,5", 1250),
            ("12.50", 1250),
            (" 0,07 €", 7),
        ] {
            assert_eq!(parse_amount(s), Some(c), "{s}");
        }
        for s in ["", "-1", "1,234", "douze", "1,2,3", ",5"] {
            assert_eq!(parse_amount(s), None, "{s}");
        }
    }
}
