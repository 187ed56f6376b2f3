//! A ticket's lines, payments and VAT totals as SQLite rows: the same rows
//! in the server's and the till's `TICKET_LINE`, `TICKET_PAYMENT` and
//! `TICKET_VAT` (and their training-mode twins), and which tables hold
//! which chain ([`TicketTables`]).

use rusqlite::{Connection, params};
use tillsync_core::ticket::Ticket;

use crate::error::StoreError;

/// The tables of one chain of tickets: fiscal (`TICKET`…) or training
/// (`TRAINING_TICKET`…, the same columns), on the till and on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketTables {
    /// The tickets (one row each).
    pub ticket: &'static str,
    /// Their lines.
    pub line: &'static str,
    /// Their payments.
    pub payment: &'static str,
    /// Their totals per VAT rate.
    pub vat: &'static str,
}

/// The fiscal tickets' tables.
pub const FISCAL_TABLES: TicketTables = TicketTables {
    ticket: "TICKET",
    line: "TICKET_LINE",
    payment: "TICKET_PAYMENT",
    vat: "TICKET_VAT",
};

/// The training-mode tickets' tables: numbered and chained apart, in no
/// fiscal total.
pub const TRAINING_TABLES: TicketTables = TicketTables {
    ticket: "TRAINING_TICKET",
    line: "TRAINING_TICKET_LINE",
    payment: "TRAINING_TICKET_PAYMENT",
    vat: "TRAINING_TICKET_VAT",
};

impl TicketTables {
    /// The tables of the training chain when `training`, else the fiscal ones.
    pub fn of(training: bool) -> &'static TicketTables {
        if training {
            &TRAINING_TABLES
        } else {
            &FISCAL_TABLES
        }
    }
}

/// The `quantity` column (whole units, as version 1 stored it) of a
/// quantity in thousandths: rounded half away from zero. Only
/// `quantity_milli` is exact for a quantity with decimals.
pub fn whole_quantity(quantity_milli: i64) -> i64 {
    let q = (quantity_milli.unsigned_abs() + 500) / 1000;
    let q = q as i64;
    if quantity_milli < 0 { -q } else { q }
}

/// Insert a ticket's lines, payments and VAT totals in `tables`: the same
/// rows on the server and on the till.
pub fn insert_ticket_details(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
    n: i64,
    t: &Ticket,
) -> Result<(), StoreError> {
    let mut line = conn.prepare_cached(&format!(
        r#"INSERT INTO "{}"("till_id", "number", "line_no", "item", "label", "quantity",
             "unit_price_cents", "vat_rate_bp", "total_excl_cents", "total_incl_cents",
             "quantity_milli", "discount_cents", "voided")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"#,
        tables.line
    ))?;
    for (i, l) in t.lines.iter().enumerate() {
        line.execute(params![
            till,
            n,
            i as i64 + 1,
            l.item,
            l.label,
            whole_quantity(l.quantity_milli),
            l.unit_price_cents,
            l.vat_rate_bp,
            l.total_excl_cents,
            l.total_incl_cents,
            l.quantity_milli,
            l.discount_cents,
            l.voided
        ])?;
    }
    let mut pay = conn.prepare_cached(&format!(
        r#"INSERT INTO "{}"("till_id", "number", "seq", "method", "amount_cents")
           VALUES (?1, ?2, ?3, ?4, ?5)"#,
        tables.payment
    ))?;
    for (i, p) in t.payments.iter().enumerate() {
        pay.execute(params![till, n, i as i64 + 1, p.method, p.amount_cents])?;
    }
    let mut vat = conn.prepare_cached(&format!(
        r#"INSERT INTO "{}"("till_id", "number", "rate_bp", "base_cents", "vat_cents",
             "total_cents", "discount_cents")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"#,
        tables.vat
    ))?;
    for v in &t.vat_totals {
        vat.execute(params![
            till,
            n,
            v.rate_bp,
            v.base_cents,
            v.vat_cents,
            v.total_cents,
            v.discount_cents
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_quantities_round_half_away_from_zero() {
        for (milli, whole) in [
            (3000, 3),
            (485, 0),
            (500, 1),
            (1499, 1),
            (-500, -1),
            (-2000, -2),
        ] {
            assert_eq!(whole_quantity(milli), whole, "{milli}");
        }
        assert_eq!(TicketTables::of(true).ticket, "TRAINING_TICKET");
        assert_eq!(TicketTables::of(false), &FISCAL_TABLES);
    }
}
