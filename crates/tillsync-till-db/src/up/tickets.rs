//! The till's tickets read back, per chain (fiscal `TICKET`…, training
//! `TRAINING_TICKET`…): the newest one, how many there are, one ticket
//! whole (its hash verifies), and what a correction needs of the ticket it
//! corrects.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use tillsync_core::ticket::{Payment, PricedItem, Ticket, TicketLine, VatTotal};
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::{FISCAL_TABLES, TicketTables};

use crate::db::TillDb;

// A line's quantity in thousandths, also on rows written before version 2
// (whose `quantity_milli` is NULL and `quantity` whole units).
use tillsync_db::ticket_rows::QUANTITY_MILLI;

/// The till's newest ticket of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastTicket {
    /// Its number.
    pub number: u64,
    /// Its hash (the next ticket's `prev_hash`).
    pub hash: String,
    /// Its time.
    pub time: String,
}

/// How an earlier ticket sold one item (its lines not voided), for a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldLine {
    /// The item as priced on that ticket (its first line of the item).
    pub item: PricedItem,
    /// Quantity sold, in thousandths (all its lines of the item).
    pub quantity_milli: i64,
    /// Line discounts given on those lines, in cents.
    pub discount_cents: i64,
}

/// What a correction needs of the whole ticket it corrects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrectedTicket {
    /// The ticket discount it gave.
    pub discount_cents: i64,
    /// Its lines' total before that discount (lines not voided).
    pub lines_cents: i64,
    /// The ticket discount its corrections already took back (≤ 0).
    pub taken_back_cents: i64,
}

/// The newest fiscal ticket of `till`, if any.
pub fn last_ticket(conn: &Connection, till: &str) -> Result<Option<LastTicket>, StoreError> {
    last_ticket_of(conn, &FISCAL_TABLES, till)
}

/// The newest ticket of `till` in the chain of `tables`, if any.
pub fn last_ticket_of(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
) -> Result<Option<LastTicket>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            r#"SELECT "number", "hash", "time" FROM "{}" WHERE "till_id" = ?1
               ORDER BY "number" DESC LIMIT 1"#,
            tables.ticket
        ))?
        .query_row([till], |r| {
            Ok(LastTicket {
                number: r.get::<_, i64>(0)? as u64,
                hash: r.get(1)?,
                time: r.get(2)?,
            })
        })
        .optional()?)
}

/// The ticket `number` of `till` in `tables`: `None` if it does not exist,
/// else `Some(corrects)` (the ticket it corrects itself, if it is a correction).
pub fn ticket_corrects(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
    number: u64,
) -> Result<Option<Option<u64>>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            r#"SELECT "corrects" FROM "{}" WHERE "till_id" = ?1 AND "number" = ?2"#,
            tables.ticket
        ))?
        .query_row(params![till, number as i64], |r| {
            Ok(r.get::<_, Option<i64>>(0)?.map(|n| n as u64))
        })
        .optional()?)
}

/// How ticket `number` of `till` in `tables` sold `item` (price, label and
/// VAT of its first line of that item not voided; quantity and discounts of
/// all those lines), if it did.
pub fn sold_line(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
    number: u64,
    item: &str,
) -> Result<Option<SoldLine>, StoreError> {
    let first = conn
        .prepare_cached(&format!(
            r#"SELECT "label", "unit_price_cents", "vat_rate_bp" FROM "{}"
               WHERE "till_id" = ?1 AND "number" = ?2 AND "item" = ?3 AND "voided" = 0
               ORDER BY "line_no" LIMIT 1"#,
            tables.line
        ))?
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
    let (quantity_milli, discount_cents) = conn
        .prepare_cached(&format!(
            r#"SELECT COALESCE(SUM({QUANTITY_MILLI}), 0), COALESCE(SUM("discount_cents"), 0)
               FROM "{}" WHERE "till_id" = ?1 AND "number" = ?2 AND "item" = ?3 AND "voided" = 0"#,
            tables.line
        ))?
        .query_row(params![till, number as i64, item], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(Some(SoldLine {
        item: item_priced,
        quantity_milli,
        discount_cents,
    }))
}

/// The quantity of `item` (thousandths) and its line discounts (cents)
/// already taken back, as negative sums, by the correction tickets of
/// ticket `number` of `till` in `tables`.
pub fn corrected_line(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
    number: u64,
    item: &str,
) -> Result<(i64, i64), StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            r#"SELECT COALESCE(SUM(COALESCE(l."quantity_milli", l."quantity" * 1000)), 0),
                      COALESCE(SUM(l."discount_cents"), 0)
               FROM "{t}" t
               JOIN "{l}" l ON l."till_id" = t."till_id" AND l."number" = t."number"
               WHERE t."till_id" = ?1 AND t."corrects" = ?2 AND l."item" = ?3
                 AND l."voided" = 0"#,
            t = tables.ticket,
            l = tables.line
        ))?
        .query_row(params![till, number as i64, item], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?)
}

/// The ticket discount of ticket `number` of `till` in `tables`, its
/// lines' total, and what its corrections took back of that discount.
pub fn corrected_ticket(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
    number: u64,
) -> Result<CorrectedTicket, StoreError> {
    let n = number as i64;
    let (discount_cents, total): (i64, i64) = conn
        .prepare_cached(&format!(
            r#"SELECT "discount_cents", "total_cents" FROM "{}"
               WHERE "till_id" = ?1 AND "number" = ?2"#,
            tables.ticket
        ))?
        .query_row(params![till, n], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let taken_back_cents: i64 = conn
        .prepare_cached(&format!(
            r#"SELECT COALESCE(SUM("discount_cents"), 0) FROM "{}"
               WHERE "till_id" = ?1 AND "corrects" = ?2"#,
            tables.ticket
        ))?
        .query_row(params![till, n], |r| r.get(0))?;
    Ok(CorrectedTicket {
        discount_cents,
        lines_cents: total + discount_cents,
        taken_back_cents,
    })
}

/// Fiscal ticket `number` of `till` read back from `TICKET` and its detail
/// tables (its hash verifies: the tables hold the whole fiscal record).
pub fn load_ticket(
    conn: &Connection,
    till: &str,
    number: u64,
) -> Result<Option<Ticket>, StoreError> {
    load_ticket_of(conn, &FISCAL_TABLES, till, number)
}

/// Ticket `number` of `till` read back from the chain of `tables` (a
/// version-1 or version-2 ticket; its hash verifies).
pub fn load_ticket_of(
    conn: &Connection,
    tables: &TicketTables,
    till: &str,
    number: u64,
) -> Result<Option<Ticket>, StoreError> {
    let n = number as i64;
    let training = tables.ticket != FISCAL_TABLES.ticket;
    let head = conn
        .prepare_cached(&format!(
            r#"SELECT "time", "total_cents", "customer", "corrects", "prev_hash", "hash",
                 "signature", "version", "cashier", "discount_cents", "change_cents"
               FROM "{}" WHERE "till_id" = ?1 AND "number" = ?2"#,
            tables.ticket
        ))?
        .query_row(params![till, n], |r| {
            Ok(Ticket {
                version: r.get(7)?,
                till: till.to_string(),
                number,
                time: r.get(0)?,
                training,
                cashier: r.get(8)?,
                lines: Vec::new(),
                discount_cents: r.get(9)?,
                vat_totals: Vec::new(),
                total_cents: r.get(1)?,
                payments: Vec::new(),
                change_cents: r.get(10)?,
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
    let mut stmt = conn.prepare_cached(&format!(
        r#"SELECT "item", "label", {QUANTITY_MILLI}, "unit_price_cents", "vat_rate_bp",
             "discount_cents", "voided", "total_excl_cents", "total_incl_cents"
           FROM "{}" WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "line_no""#,
        tables.line
    ))?;
    t.lines = stmt
        .query_map(params![till, n], |r| {
            Ok(TicketLine {
                item: r.get(0)?,
                label: r.get(1)?,
                quantity_milli: r.get(2)?,
                unit_price_cents: r.get(3)?,
                vat_rate_bp: r.get(4)?,
                discount_cents: r.get(5)?,
                voided: r.get(6)?,
                total_excl_cents: r.get(7)?,
                total_incl_cents: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(&format!(
        r#"SELECT "rate_bp", "discount_cents", "base_cents", "vat_cents", "total_cents"
           FROM "{}" WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "rate_bp""#,
        tables.vat
    ))?;
    t.vat_totals = stmt
        .query_map(params![till, n], |r| {
            Ok(VatTotal {
                rate_bp: r.get(0)?,
                discount_cents: r.get(1)?,
                base_cents: r.get(2)?,
                vat_cents: r.get(3)?,
                total_cents: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(&format!(
        r#"SELECT "method", "amount_cents" FROM "{}"
           WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "seq""#,
        tables.payment
    ))?;
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
    /// The newest fiscal ticket of `till`, and how many fiscal tickets it has.
    pub fn ticket_summary(&self, till: &str) -> Result<(u64, Option<LastTicket>), StoreError> {
        self.ticket_summary_of(&FISCAL_TABLES, till)
    }

    /// The newest ticket of `till` in the chain of `tables`, and how many it has.
    pub fn ticket_summary_of(
        &self,
        tables: &TicketTables,
        till: &str,
    ) -> Result<(u64, Option<LastTicket>), StoreError> {
        let n: i64 = self.conn().query_row(
            &format!(
                r#"SELECT COUNT(*) FROM "{}" WHERE "till_id" = ?1"#,
                tables.ticket
            ),
            [till],
            |r| r.get(0),
        )?;
        Ok((n as u64, last_ticket_of(self.conn(), tables, till)?))
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
        let f = &FISCAL_TABLES;
        let sold = sold_line(db.conn(), f, "T001", 1, "A").unwrap().unwrap();
        assert_eq!((sold.quantity_milli, sold.item.price_cents), (3000, 120));
        assert!(sold_line(db.conn(), f, "T001", 1, "B").unwrap().is_none());
        assert_eq!(
            ticket_corrects(db.conn(), f, "T001", 1).unwrap(),
            Some(None)
        );
        assert_eq!(ticket_corrects(db.conn(), f, "T001", 2).unwrap(), None);
        assert_eq!(
            corrected_line(db.conn(), f, "T001", 1, "A").unwrap(),
            (0, 0)
        );
        let c = corrected_ticket(db.conn(), f, "T001", 1).unwrap();
        assert_eq!(
            (c.discount_cents, c.lines_cents, c.taken_back_cents),
            (0, 360, 0)
        );
    }
}
