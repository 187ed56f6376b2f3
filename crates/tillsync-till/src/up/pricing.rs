//! How a sale request becomes a [`Sale`]: the checks that need no
//! database, the lines priced from the till's `ART` (or, for a correction,
//! as on the ticket it corrects, its discounts taken back in proportion),
//! the payments resolved, and the fingerprint an idempotency key keeps.

use std::collections::BTreeMap;

use tillsync_core::ticket::amounts::line_gross;
use tillsync_core::ticket::{Payment, SaleItem, check_cashier};
use tillsync_db::ticket_rows::TicketTables;
use tillsync_till_db::up as till_up;

use crate::error::TillError;
use crate::up::request::{SalePayment, SaleRequest};

/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

pub(crate) fn refuse(msg: impl Into<String>) -> TillError {
    TillError::Sale(msg.into())
}

/// `num × mul / div` rounded half away from zero (`div > 0`).
fn prorate(num: i64, mul: i64, div: i64) -> i64 {
    let n = i128::from(num) * i128::from(mul);
    let d = i128::from(div);
    let q = (2 * n.abs() + d) / (2 * d);
    (if n < 0 { -q } else { q }) as i64
}

/// Checks that need no database: lines present, quantities non-zero and of
/// the right sign, discounts not negative (and none asked on a
/// correction: it takes back the original's), cashier and key usable, one
/// payment at most without an amount.
pub(crate) fn check_shape(req: &SaleRequest) -> Result<(), TillError> {
    if req.lines.is_empty() {
        return Err(refuse("a ticket needs at least one line"));
    }
    let correction = req.corrects.is_some();
    for (i, l) in req.lines.iter().enumerate() {
        if l.item.trim().is_empty() {
            return Err(refuse("an item code is empty"));
        }
        let bad = |why: &str| {
            refuse(format!(
                "quantity {} for item {} is not allowed: {why}",
                tillsync_core::ticket::format_quantity(l.quantity_milli),
                l.item
            ))
        };
        if l.quantity_milli == 0 {
            return Err(bad("it is zero"));
        }
        if !correction && l.quantity_milli < 0 {
            return Err(bad(
                "negative quantities belong on a correction ticket (--corrects N)",
            ));
        }
        if correction && l.quantity_milli > 0 {
            return Err(bad("a correction ticket holds negative quantities"));
        }
        if l.discount_cents < 0 {
            return Err(refuse(format!(
                "discount of {} cents on line {} (item {}) is not allowed: a discount cannot be negative",
                l.discount_cents,
                i + 1,
                l.item
            )));
        }
        if correction && l.discount_cents != 0 {
            return Err(refuse(format!(
                "line {} (item {}): a correction takes back the discounts of the ticket it corrects by itself; give it none",
                i + 1,
                l.item
            )));
        }
    }
    if req.discount_cents < 0 {
        return Err(refuse(format!(
            "ticket discount of {} cents is not allowed: a discount cannot be negative",
            req.discount_cents
        )));
    }
    if correction && req.discount_cents != 0 {
        return Err(refuse(
            "a correction takes back the discount of the ticket it corrects by itself; give it none",
        ));
    }
    if let Some(c) = &req.customer
        && c.trim().is_empty()
    {
        return Err(refuse("the customer code is empty"));
    }
    if let Some(c) = &req.cashier {
        check_cashier(c).map_err(|e| refuse(e.to_string()))?;
    }
    if let Some(k) = &req.idempotency_key
        && (k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY_LEN || k.chars().any(char::is_control))
    {
        return Err(refuse(format!(
            "idempotency key {k:?} is not valid: 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters, no control characters"
        )));
    }
    if req
        .payments
        .iter()
        .filter(|p| p.amount_cents.is_none())
        .count()
        > 1
    {
        return Err(refuse(
            "only one payment may leave its amount out (it takes what is left to pay)",
        ));
    }
    Ok(())
}

/// The fingerprint of a sale request (SHA-256 of its JSON without its
/// idempotency key): the same sale retried has the same one.
pub(crate) fn fingerprint(req: &SaleRequest) -> String {
    let bare = SaleRequest {
        idempotency_key: None,
        ..req.clone()
    };
    let json = serde_json::to_string(&bare).expect("a sale request serializes");
    tillsync_wire::sha256_hex(json.as_bytes())
}

/// The lines priced from the till's `ART`.
pub(crate) fn price_from_art(
    tx: &rusqlite::Connection,
    req: &SaleRequest,
) -> Result<Vec<SaleItem>, TillError> {
    if !till_up::has_table(tx, "ART")? {
        return Err(refuse(
            "the till has no items yet (table ART was never loaded): run `tillsync till sync` first",
        ));
    }
    let mut lines = Vec::with_capacity(req.lines.len());
    for l in &req.lines {
        let item = till_up::priced_item(tx, &l.item)?.ok_or_else(|| {
            refuse(format!(
                "unknown item {}: it is not in the till's ART table",
                l.item
            ))
        })?;
        lines.push(SaleItem {
            item,
            quantity_milli: l.quantity_milli,
            discount_cents: l.discount_cents,
            voided: l.voided,
        });
    }
    Ok(lines)
}

/// A correction of ticket `n` (in the chain of `tables`): its lines at
/// the price they were sold, never more than was sold (earlier corrections
/// included), each line's discount taken back in proportion to the
/// quantity (what is left of it when the last of the item is taken back),
/// and the ticket discount taken back in proportion to the amount, never
/// more than is left of it. Returns the lines and the ticket discount.
pub(crate) fn price_from_original(
    tx: &rusqlite::Connection,
    tables: &TicketTables,
    till: &str,
    n: u64,
    req: &SaleRequest,
) -> Result<(Vec<SaleItem>, i64), TillError> {
    let chain = if req.training { "training " } else { "" };
    match till_up::ticket_corrects(tx, tables, till, n)? {
        None => {
            return Err(refuse(format!(
                "{chain}ticket {n} does not exist on till {till}: there is nothing to correct"
            )));
        }
        Some(Some(m)) => {
            return Err(refuse(format!(
                "ticket {n} is itself a correction (of ticket {m}): correct the original ticket"
            )));
        }
        Some(None) => {}
    }
    let mut lines = Vec::with_capacity(req.lines.len());
    // Per item: quantity and discount this correction takes back so far.
    let mut taken: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let mut amount: i64 = 0;
    for l in &req.lines {
        let sold = till_up::sold_line(tx, tables, till, n, &l.item)?.ok_or_else(|| {
            refuse(format!(
                "item {} is not on ticket {n}: a correction only takes back what was sold",
                l.item
            ))
        })?;
        if l.voided {
            // Voided before the refund: on the ticket, taking nothing back.
            lines.push(SaleItem {
                item: sold.item,
                quantity_milli: l.quantity_milli,
                discount_cents: 0,
                voided: true,
            });
            continue;
        }
        let (before_q, before_d) = till_up::corrected_line(tx, tables, till, n, &l.item)?;
        let t = taken.entry(l.item.as_str()).or_default();
        let left_q = sold.quantity_milli + before_q + t.0;
        if left_q + l.quantity_milli < 0 {
            let fq = tillsync_core::ticket::format_quantity;
            return Err(refuse(format!(
                "taking back {} of item {} exceeds what ticket {n} sold ({}, of which {} already taken back)",
                fq(-(t.0 + l.quantity_milli)),
                l.item,
                fq(sold.quantity_milli),
                fq(-before_q)
            )));
        }
        let gross = line_gross(sold.item.price_cents, l.quantity_milli)
            .map_err(|e| refuse(e.to_string()))?;
        // What is left of the line discounts (never below zero).
        let left_d = (sold.discount_cents + before_d + t.1).max(0);
        let discount = if sold.discount_cents == 0 || sold.quantity_milli == 0 {
            0
        } else if left_q + l.quantity_milli == 0 {
            -left_d
        } else {
            prorate(sold.discount_cents, l.quantity_milli, sold.quantity_milli).clamp(-left_d, 0)
        }
        .max(gross);
        t.0 += l.quantity_milli;
        t.1 += discount;
        amount += gross - discount;
        lines.push(SaleItem {
            item: sold.item,
            quantity_milli: l.quantity_milli,
            discount_cents: discount,
            voided: false,
        });
    }
    let orig = till_up::corrected_ticket(tx, tables, till, n)?;
    let left = (orig.discount_cents + orig.taken_back_cents).max(0);
    let discount = if orig.discount_cents == 0 || orig.lines_cents == 0 {
        0
    } else {
        prorate(orig.discount_cents, amount, orig.lines_cents)
            .clamp(-left, 0)
            .max(amount)
    };
    Ok((lines, discount))
}

/// The payments with amounts: one without an amount takes the rest of `total`.
pub(crate) fn resolve_payments(
    asked: &[SalePayment],
    total: i64,
) -> Result<Vec<Payment>, TillError> {
    let mut given: i64 = 0;
    for p in asked {
        if let Some(a) = p.amount_cents {
            given = given
                .checked_add(a)
                .ok_or_else(|| refuse("amounts are too large"))?;
        }
    }
    let rest = total
        .checked_sub(given)
        .ok_or_else(|| refuse("amounts are too large"))?;
    asked
        .iter()
        .map(|p| {
            let amount_cents = match p.amount_cents {
                Some(a) => a,
                None if (total >= 0 && rest <= 0) || (total < 0 && rest >= 0) => {
                    return Err(refuse(format!(
                        "payment {:?} without an amount has nothing left to pay: the other payments already cover the total of {total} cents",
                        p.method
                    )));
                }
                None => rest,
            };
            Ok(Payment {
                method: p.method.clone(),
                amount_cents,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prorating_rounds_half_away_from_zero() {
        assert_eq!(prorate(50, -1000, 3000), -17); // -16.67
        assert_eq!(prorate(150, -500, 1000), -75);
        assert_eq!(prorate(25, -1, 2), -13); // -12.5
        assert_eq!(prorate(100, 0, 7), 0);
    }
}
