//! Which field of a ticket shows that it was altered: its lines, VAT totals
//! and total are computed again from its items, quantities and prices by
//! the rule that made them ([`Sale::seal`]), and the first that differs is
//! named (`total_cents` when only the total was changed).

use ed25519_dalek::SigningKey;

use crate::ticket::{Payment, PricedItem, Sale, Ticket};

/// The first derived field of `t` that its items, quantities and prices do
/// not give, and why; `None` when they all agree (a field that nothing else
/// derives from was changed: the time, a label, the customer…).
pub fn altered_field(t: &Ticket) -> Option<(String, String)> {
    let lines = t
        .lines
        .iter()
        .map(|l| {
            let item = PricedItem {
                code: l.item.clone(),
                label: l.label.clone(),
                price_cents: l.unit_price_cents,
                vat_rate_bp: l.vat_rate_bp,
            };
            (item, l.quantity)
        })
        .collect();
    // First the amounts, paid by anything; the payments after them.
    let mut sale = Sale {
        lines,
        payments: vec![Payment {
            method: "any".into(),
            amount_cents: i64::MAX / 4,
        }],
        customer: t.customer.clone(),
        corrects: t.corrects,
    };
    // The key only completes the record; its signature is not looked at.
    let scratch = SigningKey::from_bytes(&[0; 32]);
    let redo = match sale.seal(&t.till, t.number, &t.time, &t.prev_hash, &scratch) {
        Ok(r) => r,
        Err(e) => return Some(("lines".into(), e.to_string())),
    };
    for (i, (got, want)) in t.lines.iter().zip(&redo.lines).enumerate() {
        let n = i + 1;
        if got.total_incl_cents != want.total_incl_cents {
            return Some((
                format!("lines[{n}].total_incl_cents"),
                format!(
                    "line {n}: quantity {} × unit price {} makes {}, the line says {}",
                    got.quantity, got.unit_price_cents, want.total_incl_cents, got.total_incl_cents
                ),
            ));
        }
        if got.total_excl_cents != want.total_excl_cents {
            return Some((
                format!("lines[{n}].total_excl_cents"),
                format!(
                    "line {n}: {} incl. VAT at {} bp makes {} excl. VAT, the line says {}",
                    got.total_incl_cents,
                    got.vat_rate_bp,
                    want.total_excl_cents,
                    got.total_excl_cents
                ),
            ));
        }
    }
    if t.vat_totals != redo.vat_totals {
        let detail = match t
            .vat_totals
            .iter()
            .zip(&redo.vat_totals)
            .find(|(a, b)| a != b)
        {
            Some((a, b)) => format!(
                "rate {} bp: recorded base {} VAT {} total {}, the lines make base {} VAT {} total {}",
                a.rate_bp,
                a.base_cents,
                a.vat_cents,
                a.total_cents,
                b.base_cents,
                b.vat_cents,
                b.total_cents
            ),
            None => format!(
                "{} VAT rates recorded, the lines have {}",
                t.vat_totals.len(),
                redo.vat_totals.len()
            ),
        };
        return Some(("vat_totals".into(), detail));
    }
    if t.total_cents != redo.total_cents {
        return Some((
            "total_cents".into(),
            format!(
                "the total says {}, its lines and VAT totals make {}",
                t.total_cents, redo.total_cents
            ),
        ));
    }
    sale.payments = t.payments.clone();
    if let Err(e) = sale.seal(&t.till, t.number, &t.time, &t.prev_hash, &scratch) {
        return Some(("payments".into(), e.to_string()));
    }
    None
}
