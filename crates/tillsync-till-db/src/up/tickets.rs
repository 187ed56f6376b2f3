//! The till's tickets read back: the newest one, how many there are, one
//! ticket whole (its hash verifies), and what a correction needs of the
//! ticket it corrects.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use tillsync_core::ticket::{Payment, PricedItem, Ticket, TicketLine, VatTotal};

use crate::db::TillDb;
use tillsync_db::StoreError;

/// The till's newest ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastTicket {
    /// Its number.
    pub number: u64,
    /// Its hash (the next ticket's `prev_hash`).
    pub hash: String,
    /// Its time.
    pub time: String,
}

/// A line of an earlier ticket, for a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldLine {
    /// The item as priced on that ticket.
    pub item: PricedItem,
    /// Quantity sold on it (all lines of the item).
    pub quantity: i64,
}

/// The newest ticket of `till`, if any.
pub fn last_ticket(conn: &Connection, till: &str) -> Result<Option<LastTicket>, StoreError> {
    Ok(conn
        .prepare_cached(
            r#"SELECT "number", "hash", "time" FROM "TICKET" WHERE "till_id" = ?1
               ORDER BY "number" DESC LIMIT 1"#,
        )?
        .query_row([till], |r| {
            Ok(LastTicket {
                number: r.get::<_, i64>(0)? as u64,
                hash: r.get(1)?,
                time: r.get(2)?,
            })
        })
        .optional()?)
}

/// The ticket `number` of `till`: `None` if it does not exist, else
/// `Some(corrects)` (the ticket it corrects itself, if it is a correction).
pub fn ticket_corrects(
    conn: &Connection,
    till: &str,
    number: u64,
) -> Result<Option<Option<u64>>, StoreError> {
    Ok(conn
        .prepare_cached(
            r#"SELECT "corrects" FROM "TICKET" WHERE "till_id" = ?1 AND "number" = ?2"#,
        )?
        .query_row(params![till, number as i64], |r| {
            Ok(r.get::<_, Option<i64>>(0)?.map(|n| n as u64))
        })
        .optional()?)
}

/// How ticket `number` of `till` sold `item` (price, label and VAT of its
/// first line of that item; quantity of all its lines), if it did.
pub fn sold_line(
    conn: &Connection,
    till: &str,
    number: u64,
    item: &str,
) -> Result<Option<SoldLine>, StoreError> {
    let first = conn
        .prepare_cached(
            r#"SELECT "label", "unit_price_cents", "vat_rate_bp" FROM "TICKET_LINE"
               WHERE "till_id" = ?1 AND "number" = ?2 AND "item" = ?3
               ORDER BY "line_no" LIMIT 1"#,
        )?
        .query_row(params![till, number as i64, item], |r| {
            Ok(PricedItem {
                code: item.to_string(),
                label: r.get(0)?,
                price_cents: r.get(1)?,
                vat_rate_bp: r.get(2)?,
            })
        })
        .optional()?;
    let Some(item_priced) = first else {
        return Ok(None);
    };
    let quantity: i64 = conn
        .prepare_cached(
            r#"SELECT COALESCE(SUM("quantity"), 0) FROM "TICKET_LINE"
               WHERE "till_id" = ?1 AND "number" = ?2 AND "item" = ?3"#,
        )?
        .query_row(params![till, number as i64, item], |r| r.get(0))?;
    Ok(Some(SoldLine {
        item: item_priced,
        quantity,
    }))
}

/// The quantity of `item` already taken back (a negative sum) by the
/// correction tickets of ticket `number` of `till`.
pub fn corrected_quantity(
    conn: &Connection,
    till: &str,
    number: u64,
    item: &str,
) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            r#"SELECT COALESCE(SUM(l."quantity"), 0) FROM "TICKET" t
               JOIN "TICKET_LINE" l ON l."till_id" = t."till_id" AND l."number" = t."number"
               WHERE t."till_id" = ?1 AND t."corrects" = ?2 AND l."item" = ?3"#,
        )?
        .query_row(params![till, number as i64, item], |r| r.get(0))?)
}

/// Ticket `number` of `till` read back from `TICKET` and its detail tables
/// (its hash verifies: the tables hold the whole fiscal record).
pub fn load_ticket(
    conn: &Connection,
    till: &str,
    number: u64,
) -> Result<Option<Ticket>, StoreError> {
    let n = number as i64;
    let head = conn
        .prepare_cached(
            r#"SELECT "time", "total_cents", "customer", "corrects", "prev_hash", "hash", "signature"
               FROM "TICKET" WHERE "till_id" = ?1 AND "number" = ?2"#,
        )?
        .query_row(params![till, n], |r| {
            Ok(Ticket {
                till: till.to_string(),
                number,
                time: r.get(0)?,
                lines: Vec::new(),
                vat_totals: Vec::new(),
                total_cents: r.get(1)?,
                payments: Vec::new(),
                customer: r.get(2)?,
                corrects: r.get::<_, Option<i64>>(3)?.map(|c| c as u64),
                prev_hash: r.get(4)?,
                hash: r.get(5)?,
                signature: r.get(6)?,
            })
        })
        .optional()?;
    let Some(mut t) = head else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        r#"SELECT "item", "label", "quantity", "unit_price_cents", "vat_rate_bp",
             "total_excl_cents", "total_incl_cents"
           FROM "TICKET_LINE" WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "line_no""#,
    )?;
    t.lines = stmt
        .query_map(params![till, n], |r| {
            Ok(TicketLine {
                item: r.get(0)?,
                label: r.get(1)?,
                quantity: r.get(2)?,
                unit_price_cents: r.get(3)?,
                vat_rate_bp: r.get(4)?,
                total_excl_cents: r.get(5)?,
                total_incl_cents: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        r#"SELECT "rate_bp", "base_cents", "vat_cents", "total_cents"
           FROM "TICKET_VAT" WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "rate_bp""#,
    )?;
    t.vat_totals = stmt
        .query_map(params![till, n], |r| {
            Ok(VatTotal {
                rate_bp: r.get(0)?,
                base_cents: r.get(1)?,
                vat_cents: r.get(2)?,
                total_cents: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        r#"SELECT "method", "amount_cents" FROM "TICKET_PAYMENT"
           WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "seq""#,
    )?;
    t.payments = stmt
        .query_map(params![till, n], |r| {
            Ok(Payment {
                method: r.get(0)?,
                amount_cents: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(t))
}

impl TillDb {
    /// The newest ticket of `till`, and how many tickets it has.
    pub fn ticket_summary(&self, till: &str) -> Result<(u64, Option<LastTicket>), StoreError> {
        let n: i64 = self.conn().query_row(
            r#"SELECT COUNT(*) FROM "TICKET" WHERE "till_id" = ?1"#,
            [till],
            |r| r.get(0),
        )?;
        Ok((n as u64, last_ticket(self.conn(), till)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::test_support::{db, sell};

    #[test]
    fn corrections_read_the_original() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 3).unwrap();
        let sold = sold_line(db.conn(), "T001", 1, "A").unwrap().unwrap();
        assert_eq!((sold.quantity, sold.item.price_cents), (3, 120));
        assert!(sold_line(db.conn(), "T001", 1, "B").unwrap().is_none());
        assert_eq!(ticket_corrects(db.conn(), "T001", 1).unwrap(), Some(None));
        assert_eq!(ticket_corrects(db.conn(), "T001", 2).unwrap(), None);
        assert_eq!(corrected_quantity(db.conn(), "T001", 1, "A").unwrap(), 0);
    }
}
