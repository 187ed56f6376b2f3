//! A ticket's lines, payments and VAT totals as SQLite rows: the same rows
//! in the server's and the till's `TICKET_LINE`, `TICKET_PAYMENT` and `TICKET_VAT`.

use rusqlite::{Connection, params};
use tillsync_core::ticket::Ticket;

use crate::error::StoreError;

/// Insert a ticket's lines, payments and VAT totals (`TICKET_LINE`,
/// `TICKET_PAYMENT`, `TICKET_VAT`): the same rows on the server and on the till.
pub fn insert_ticket_details(
    conn: &Connection,
    till: &str,
    n: i64,
    t: &Ticket,
) -> Result<(), StoreError> {
    let mut line = conn.prepare_cached(
        r#"INSERT INTO "TICKET_LINE"("till_id", "number", "line_no", "item", "label", "quantity",
             "unit_price_cents", "vat_rate_bp", "total_excl_cents", "total_incl_cents")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"#,
    )?;
    for (i, l) in t.lines.iter().enumerate() {
        line.execute(params![
            till,
            n,
            i as i64 + 1,
            l.item,
            l.label,
            l.quantity,
            l.unit_price_cents,
            l.vat_rate_bp,
            l.total_excl_cents,
            l.total_incl_cents
        ])?;
    }
    let mut pay = conn.prepare_cached(
        r#"INSERT INTO "TICKET_PAYMENT"("till_id", "number", "seq", "method", "amount_cents")
           VALUES (?1, ?2, ?3, ?4, ?5)"#,
    )?;
    for (i, p) in t.payments.iter().enumerate() {
        pay.execute(params![till, n, i as i64 + 1, p.method, p.amount_cents])?;
    }
    let mut vat = conn.prepare_cached(
        r#"INSERT INTO "TICKET_VAT"("till_id", "number", "rate_bp", "base_cents", "vat_cents", "total_cents")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6)"#,
    )?;
    for v in &t.vat_totals {
        vat.execute(params![
            till,
            n,
            v.rate_bp,
            v.base_cents,
            v.vat_cents,
            v.total_cents
        ])?;
    }
    Ok(())
}
