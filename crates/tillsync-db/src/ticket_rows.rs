//! A ticket's lines, payments and VAT totals as SQLite rows: the same rows
//! in the server's and the till's `TICKET_LINE`, `TICKET_PAYMENT` and
//! `TICKET_VAT`; a run of tickets read back whole, in four ordered scans.

use rusqlite::{Connection, params};
use tillsync_core::ticket::{Payment, Ticket, TicketLine, VatTotal};

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

/// The tickets of `till` numbered in `(after, to]`, whole (lines, VAT
/// totals, payments), by number: what a verifier or an archive reads.
pub fn read_tickets(
    conn: &Connection,
    till: &str,
    after: u64,
    to: u64,
) -> Result<Vec<Ticket>, StoreError> {
    let (a, b) = (after as i64, to as i64);
    let mut stmt = conn.prepare(
        r#"SELECT "number", "time", "total_cents", "customer", "corrects", "prev_hash", "hash",
             "signature" FROM "TICKET" WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3
           ORDER BY "number""#,
    )?;
    let mut tickets = stmt
        .query_map(params![till, a, b], |r| {
            Ok(Ticket {
                till: till.to_string(),
                number: r.get::<_, i64>(0)? as u64,
                time: r.get(1)?,
                lines: Vec::new(),
                vat_totals: Vec::new(),
                total_cents: r.get(2)?,
                payments: Vec::new(),
                customer: r.get(3)?,
                corrects: r.get::<_, Option<i64>>(4)?.map(|c| c as u64),
                prev_hash: r.get(5)?,
                hash: r.get(6)?,
                signature: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare(
        r#"SELECT "number", "item", "label", "quantity", "unit_price_cents", "vat_rate_bp",
             "total_excl_cents", "total_incl_cents" FROM "TICKET_LINE"
           WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3 ORDER BY "number", "line_no""#,
    )?;
    let rows = stmt.query_map(params![till, a, b], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            TicketLine {
                item: r.get(1)?,
                label: r.get(2)?,
                quantity: r.get(3)?,
                unit_price_cents: r.get(4)?,
                vat_rate_bp: r.get(5)?,
                total_excl_cents: r.get(6)?,
                total_incl_cents: r.get(7)?,
            },
        ))
    })?;
    merge(&mut tickets, rows, |t, l| t.lines.push(l))?;
    let mut stmt = conn.prepare(
        r#"SELECT "number", "rate_bp", "base_cents", "vat_cents", "total_cents" FROM "TICKET_VAT"
           WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3 ORDER BY "number", "rate_bp""#,
    )?;
    let rows = stmt.query_map(params![till, a, b], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            VatTotal {
                rate_bp: r.get(1)?,
                base_cents: r.get(2)?,
                vat_cents: r.get(3)?,
                total_cents: r.get(4)?,
            },
        ))
    })?;
    merge(&mut tickets, rows, |t, v| t.vat_totals.push(v))?;
    let mut stmt = conn.prepare(
        r#"SELECT "number", "method", "amount_cents" FROM "TICKET_PAYMENT"
           WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3 ORDER BY "number", "seq""#,
    )?;
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
