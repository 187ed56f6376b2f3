//! A ticket's lines, payments and VAT totals as SQLite rows: the same rows
//! in the server's and the till's `TICKET_LINE`, `TICKET_PAYMENT` and
//! `TICKET_VAT` (and their training-mode twins), which tables hold which
//! chain ([`TicketTables`]), and a run of tickets read back whole, in four
//! ordered scans.

use rusqlite::{Connection, params};
use tillsync_core::ticket::{Payment, Ticket, TicketLine, VatTotal};

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

/// The line quantity in thousandths: `quantity_milli`, or the whole units
/// of a row written before version 2 (NULL there).
pub const QUANTITY_MILLI: &str = r#"COALESCE("quantity_milli", "quantity" * 1000)"#;

/// Put each row of `rows` (ordered by ticket number) on its ticket of
/// `tickets` (ordered by number); rows of a number not there are skipped.
/// The same for every backend's reads.
pub fn merge<R, E>(
    tickets: &mut [Ticket],
    rows: impl Iterator<Item = Result<(u64, R), E>>,
    mut put: impl FnMut(&mut Ticket, R),
) -> Result<(), E> {
    let mut at = 0;
    for row in rows {
        let (n, r) = row?;
        while at < tickets.len() && tickets[at].number < n {
            at += 1;
        }
        if at < tickets.len() && tickets[at].number == n {
            put(&mut tickets[at], r);
        }
    }
    Ok(())
}

/// The tickets of `till` in `tables` numbered in `(after, to]`, whole
/// (lines, VAT totals, payments; version 1 or 2), by number: what a
/// verifier or an archive reads.
pub fn read_tickets(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
    after: u64,
    to: u64,
) -> Result<Vec<Ticket>, StoreError> {
    let (a, b) = (after as i64, to.min(i64::MAX as u64) as i64);
    let training = tables.ticket != FISCAL_TABLES.ticket;
    let mut stmt = conn.prepare(&format!(
        r#"SELECT "number", "time", "total_cents", "customer", "corrects", "prev_hash", "hash",
             "signature", "version", "cashier", "discount_cents", "change_cents"
           FROM "{}" WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3
           ORDER BY "number""#,
        tables.ticket
    ))?;
    let mut tickets = stmt
        .query_map(params![till, a, b], |r| {
            Ok(Ticket {
                version: r.get(8)?,
                till: till.to_string(),
                number: r.get::<_, i64>(0)? as u64,
                time: r.get(1)?,
                training,
                cashier: r.get(9)?,
                lines: Vec::new(),
                discount_cents: r.get(10)?,
                vat_totals: Vec::new(),
                total_cents: r.get(2)?,
                payments: Vec::new(),
                change_cents: r.get(11)?,
                customer: r.get(3)?,
                corrects: r.get::<_, Option<i64>>(4)?.map(|c| c as u64),
                prev_hash: r.get(5)?,
                hash: r.get(6)?,
                signature: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare(&format!(
        r#"SELECT "number", "item", "label", {QUANTITY_MILLI}, "unit_price_cents", "vat_rate_bp",
             "discount_cents", "voided", "total_excl_cents", "total_incl_cents" FROM "{}"
           WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3 ORDER BY "number", "line_no""#,
        tables.line
    ))?;
    let rows = stmt.query_map(params![till, a, b], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            TicketLine {
                item: r.get(1)?,
                label: r.get(2)?,
                quantity_milli: r.get(3)?,
                unit_price_cents: r.get(4)?,
                vat_rate_bp: r.get(5)?,
                discount_cents: r.get(6)?,
                voided: r.get(7)?,
                total_excl_cents: r.get(8)?,
                total_incl_cents: r.get(9)?,
            },
        ))
    })?;
    merge(&mut tickets, rows, |t, l| t.lines.push(l))?;
    let mut stmt = conn.prepare(&format!(
        r#"SELECT "number", "rate_bp", "discount_cents", "base_cents", "vat_cents", "total_cents"
           FROM "{}" WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3
           ORDER BY "number", "rate_bp""#,
        tables.vat
    ))?;
    let rows = stmt.query_map(params![till, a, b], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            VatTotal {
                rate_bp: r.get(1)?,
                discount_cents: r.get(2)?,
                base_cents: r.get(3)?,
                vat_cents: r.get(4)?,
                total_cents: r.get(5)?,
            },
        ))
    })?;
    merge(&mut tickets, rows, |t, v| t.vat_totals.push(v))?;
    let mut stmt = conn.prepare(&format!(
        r#"SELECT "number", "method", "amount_cents" FROM "{}"
           WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3 ORDER BY "number", "seq""#,
        tables.payment
    ))?;
    let rows = stmt.query_map(params![till, a, b], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            Payment {
                method: r.get(1)?,
                amount_cents: r.get(2)?,
            },
        ))
    })?;
    merge(&mut tickets, rows, |t, p| t.payments.push(p))?;
    Ok(tickets)
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
