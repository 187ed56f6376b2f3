//! The fiscal records tills send (events of their event log and closings)
//! on SQLite: the SQL steps of filing one ([`RecordSql`]) and the reads of
//! [`tillsync_server_db::FiscalStore`]. Rows are never updated.

use rusqlite::{Connection, OptionalExtension, params};
use tillsync_core::fiscal::record::Record;
use tillsync_db::StoreError;
use tillsync_server_db::store::TicketTotals;
use tillsync_server_db::up::records::RecordSteps;

/// The SQL steps of filing a record, on one connection in a transaction.
pub struct RecordSql<'c>(pub &'c Connection);

impl RecordSteps for RecordSql<'_> {
    fn record_at(
        &mut self,
        till: &str,
        chain: &str,
        seq: u64,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT hash, prev_hash FROM tillsync_fiscal_record
                 WHERE till_id = ?1 AND chain = ?2 AND seq = ?3",
            )?
            .query_row(params![till, chain, seq as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    fn insert_record(&mut self, r: &Record, at: &str) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "INSERT INTO tillsync_fiscal_record(till_id, chain, seq, time, kind, body,
                   prev_hash, hash, signature, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                r.till,
                r.chain,
                r.seq as i64,
                r.time,
                r.kind,
                r.body,
                r.prev_hash,
                r.hash,
                r.signature,
                at
            ])?;
        Ok(())
    }
}

/// The records of `chain` of `till` numbered after `after`, in order.
pub fn records(
    conn: &Connection,
    till: &str,
    chain: &str,
    after: u64,
) -> Result<Vec<Record>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT till_id, chain, seq, time, kind, body, prev_hash, hash, signature
         FROM tillsync_fiscal_record WHERE till_id = ?1 AND chain = ?2 AND seq > ?3
         ORDER BY seq",
    )?;
    let rows = stmt
        .query_map(params![till, chain, after as i64], |r| {
            Ok(Record {
                till: r.get(0)?,
                chain: r.get(1)?,
                seq: r.get::<_, i64>(2)? as u64,
                time: r.get(3)?,
                kind: r.get(4)?,
                body: r.get(5)?,
                prev_hash: r.get(6)?,
                hash: r.get(7)?,
                signature: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every till that sent a ticket or a record.
pub fn tills(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        r#"SELECT "till_id" FROM "TICKET" UNION SELECT till_id FROM tillsync_fiscal_record
           ORDER BY 1"#,
    )?;
    let rows = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}

/// Count and totals of `till`'s verified tickets numbered up to `to`.
pub fn ticket_totals_upto(
    conn: &Connection,
    till: &str,
    to: u64,
) -> Result<TicketTotals, StoreError> {
    let (count, total, abs): (i64, i64, i64) = conn
        .prepare_cached(
            r#"SELECT COUNT(*), COALESCE(SUM("total_cents"), 0), COALESCE(SUM(ABS("total_cents")), 0)
               FROM "TICKET" WHERE "till_id" = ?1 AND "number" <= ?2"#,
        )?
        .query_row(params![till, to as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(TicketTotals {
        count: count as u64,
        total_cents: total,
        abs_cents: abs,
    })
}

/// The time of `till`'s verified ticket `number`.
pub fn ticket_time(
    conn: &Connection,
    till: &str,
    number: u64,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(r#"SELECT "time" FROM "TICKET" WHERE "till_id" = ?1 AND "number" = ?2"#)?
        .query_row(params![till, number as i64], |r| r.get(0))
        .optional()?)
}
