//! Which field of a ticket shows that it was altered: its lines, VAT totals,
//! total and change are computed again from its items, quantities, prices,
//! discounts and payments by the rules that made them ([`Sale::compute`],
//! versions 1 and 2), and the first that differs is named (`total_cents`
//! when only the total was changed).

use crate::ticket::{CASH, Payment, PricedItem, Sale, SaleItem, Ticket};

/// The sale `t` records, paid as it was (any method it names is allowed).
fn as_sale(t: &Ticket) -> Sale {
    let mut methods: Vec<String> = t.payments.iter().map(|p| p.method.clone()).collect();
    methods.push(CASH.to_string());
    Sale {
        version: t.version,
        lines: t
            .lines
            .iter()
            .map(|l| SaleItem {
                item: PricedItem {
                    code: l.item.clone(),
                    label: l.label.clone(),
                    price_cents: l.unit_price_cents,
                    vat_rate_bp: l.vat_rate_bp,
                },
                quantity_milli: l.quantity_milli,
                discount_cents: l.discount_cents,
                voided: l.voided,
            })
            .collect(),
        discount_cents: t.discount_cents,
        payments: t.payments.clone(),
        payment_methods: methods,
        customer: t.customer.clone(),
        cashier: t.cashier.clone(),
        corrects: t.corrects,
        training: t.training,
    }
}

/// The first figure of `t` that `redo` (the same sale computed again) does
/// not give; the change only when `redo` was paid as `t` was.
fn compare(t: &Ticket, redo: &Ticket, paid_as_recorded: bool) -> Option<(String, String)> {
    for (i, (got, want)) in t.lines.iter().zip(&redo.lines).enumerate() {
        let n = i + 1;
        if got.total_incl_cents != want.total_incl_cents {
            return Some((
                format!("lines[{n}].total_incl_cents"),
                format!(
                    "line {n}: quantity {} × unit price {} less discount {} makes {}, the line says {}",
                    got.quantity_text(),
                    got.unit_price_cents,
                    got.discount_cents,
                    want.total_incl_cents,
                    got.total_incl_cents
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
    if paid_as_recorded && t.change_cents != redo.change_cents {
        return Some((
            "change_cents".into(),
            format!(
                "the change says {}, the payments make {}",
                t.change_cents, redo.change_cents
            ),
        ));
    }
    None
}

/// The first derived field of `t` that its items, quantities, prices,
/// discounts and payments do not give, and why; `None` when they all agree
/// (a field nothing else derives from was changed: the time, a label, the
/// customer…).
pub fn altered_field(t: &Ticket) -> Option<(String, String)> {
    let mut sale = as_sale(t);
    let refused = match sale.compute(&t.till, t.number, &t.time, &t.prev_hash) {
        Ok(redo) => return compare(t, &redo, true),
        Err(e) => e,
    };
    // The payments do not fit the sale: paid exactly in cash, do its
    // figures hold? If so, the payments are what was changed.
    let due = match sale.due_cents() {
        Ok(d) => d,
        Err(e) => return Some(("lines".into(), e.to_string())),
    };
    sale.payments = vec![Payment {
        method: CASH.into(),
        amount_cents: due,
    }];
    match sale.compute(&t.till, t.number, &t.time, &t.prev_hash) {
        Ok(redo) => {
            compare(t, &redo, false).or_else(|| Some(("payments".into(), refused.to_string())))
        }
        Err(e) => Some(("lines".into(), e.to_string())),
    }
}
