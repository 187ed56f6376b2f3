//! The fiscal records tills send (events of their event log and closings)
//! on PostgreSQL: the SQL steps of filing one ([`RecordSql`], inside the
//! batch's transaction, after the till's lock) and the reads of
//! [`FiscalStore`]. Rows are never updated.

use postgres::{GenericClient, IsolationLevel, Transaction};
use tillsync_core::fiscal::record::Record;
use tillsync_core::ticket::{Payment, Ticket, TicketLine, VatTotal};
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::merge;
use tillsync_server_db::store::{FiscalStore, TicketTotals};
use tillsync_server_db::up::records::RecordSteps;

use crate::db::PgServerDb;

/// The SQL steps of filing a record in the batch's transaction.
pub struct RecordSql<'a, 't>(pub &'a mut Transaction<'t>);

impl RecordSteps for RecordSql<'_, '_> {
    fn record_at(
        &mut self,
        till: &str,
        chain: &str,
        seq: u64,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .0
            .query_opt(
                "SELECT hash, prev_hash FROM tillsync_fiscal_record
                 WHERE till_id = $1 AND chain = $2 AND seq = $3",
                &[&till, &chain, &(seq as i64)],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn insert_record(&mut self, r: &Record, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO tillsync_fiscal_record(till_id, chain, seq, time, kind, body,
               prev_hash, hash, signature, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &r.till,
                &r.chain,
                &(r.seq as i64),
                &r.time,
                &r.kind,
                &r.body,
                &r.prev_hash,
                &r.hash,
                &r.signature,
                &at,
            ],
        )?;
        Ok(())
    }
}

fn records(
    c: &mut impl GenericClient,
    till: &str,
    chain: &str,
    after: u64,
) -> Result<Vec<Record>, StoreError> {
    let rows = c.query(
        "SELECT till_id, chain, seq, time, kind, body, prev_hash, hash, signature
         FROM tillsync_fiscal_record WHERE till_id = $1 AND chain = $2 AND seq > $3
         ORDER BY seq",
        &[&till, &chain, &(after as i64)],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| Record {
            till: r.get(0),
            chain: r.get(1),
            seq: r.get::<_, i64>(2) as u64,
            time: r.get(3),
            kind: r.get(4),
            body: r.get(5),
            prev_hash: r.get(6),
            hash: r.get(7),
            signature: r.get(8),
        })
        .collect())
}

/// `till`'s tickets numbered in `(after, to]`, whole, in one REPEATABLE
/// READ view (four ordered scans, the rows put on their tickets).
fn read_tickets(
    c: &mut postgres::Client,
    till: &str,
    after: u64,
    to: u64,
) -> Result<Vec<Ticket>, StoreError> {
    let (a, b) = (after as i64, to.min(i64::MAX as u64) as i64);
    let mut tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let args: [&(dyn postgres::types::ToSql + Sync); 3] = [&till, &a, &b];
    let mut tickets: Vec<Ticket> = tx
        .query(
            r#"SELECT "number", "time", "total_cents", "customer", "corrects", "prev_hash", "hash",
                 "signature", "version", "cashier", "discount_cents", "change_cents"
               FROM "TICKET" WHERE "till_id" = $1 AND "number" > $2 AND "number" <= $3
               ORDER BY "number""#,
            &args,
        )?
        .into_iter()
        .map(|r| Ticket {
            version: r.get::<_, i64>(8) as u8,
            till: till.to_string(),
            number: r.get::<_, i64>(0) as u64,
            time: r.get(1),
            training: false,
            cashier: r.get(9),
            lines: Vec::new(),
            discount_cents: r.get(10),
            vat_totals: Vec::new(),
            total_cents: r.get(2),
            payments: Vec::new(),
            change_cents: r.get(11),
            customer: r.get(3),
            corrects: r.get::<_, Option<i64>>(4).map(|n| n as u64),
            prev_hash: r.get(5),
            hash: r.get(6),
            signature: r.get(7),
        })
        .collect();
    let rows = tx.query(
        r#"SELECT "number", "item", "label", COALESCE("quantity_milli", "quantity" * 1000),
             "unit_price_cents", "vat_rate_bp", "discount_cents", "voided",
             "total_excl_cents", "total_incl_cents" FROM "TICKET_LINE"
           WHERE "till_id" = $1 AND "number" > $2 AND "number" <= $3 ORDER BY "number", "line_no""#,
        &args,
    )?;
    merge(
        &mut tickets,
        rows.iter().map(|r| {
            Ok::<_, StoreError>((
                r.get::<_, i64>(0) as u64,
                TicketLine {
                    item: r.get(1),
                    label: r.get(2),
                    quantity_milli: r.get(3),
                    unit_price_cents: r.get(4),
                    vat_rate_bp: r.get(5),
                    discount_cents: r.get(6),
                    voided: r.get(7),
                    total_excl_cents: r.get(8),
                    total_incl_cents: r.get(9),
                },
            ))
        }),
        |t, l| t.lines.push(l),
    )?;
    let rows = tx.query(
        r#"SELECT "number", "rate_bp", "discount_cents", "base_cents", "vat_cents", "total_cents"
           FROM "TICKET_VAT"
           WHERE "till_id" = $1 AND "number" > $2 AND "number" <= $3 ORDER BY "number", "rate_bp""#,
        &args,
    )?;
    merge(
        &mut tickets,
        rows.iter().map(|r| {
            Ok::<_, StoreError>((
                r.get::<_, i64>(0) as u64,
                VatTotal {
                    rate_bp: r.get(1),
                    discount_cents: r.get(2),
                    base_cents: r.get(3),
                    vat_cents: r.get(4),
                    total_cents: r.get(5),
                },
            ))
        }),
        |t, v| t.vat_totals.push(v),
    )?;
    let rows = tx.query(
        r#"SELECT "number", "method", "amount_cents" FROM "TICKET_PAYMENT"
           WHERE "till_id" = $1 AND "number" > $2 AND "number" <= $3 ORDER BY "number", "seq""#,
        &args,
    )?;
    merge(
        &mut tickets,
        rows.iter().map(|r| {
            Ok::<_, StoreError>((
                r.get::<_, i64>(0) as u64,
                Payment {
                    method: r.get(1),
                    amount_cents: r.get(2),
                },
            ))
        }),
        |t, p| t.payments.push(p),
    )?;
    tx.commit()?;
    Ok(tickets)
}

impl FiscalStore for PgServerDb {
    fn fiscal_records(
        &self,
        till: &str,
        chain: &str,
        after: u64,
    ) -> Result<Vec<Record>, StoreError> {
        records(&mut *self.c()?, till, chain, after)
    }
    fn fiscal_tills(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.c()?.query(
            r#"SELECT "till_id" FROM "TICKET" UNION SELECT till_id FROM tillsync_fiscal_record
               ORDER BY 1"#,
            &[],
        )?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
    fn ticket_totals_upto(&self, till: &str, to: u64) -> Result<TicketTotals, StoreError> {
        let r = self.c()?.query_one(
            r#"SELECT COUNT(*), COALESCE(SUM("total_cents"), 0)::BIGINT,
                 COALESCE(SUM(ABS("total_cents")), 0)::BIGINT
               FROM "TICKET" WHERE "till_id" = $1 AND "number" <= $2"#,
            &[&till, &(to as i64)],
        )?;
        Ok(TicketTotals {
            count: r.get::<_, i64>(0) as u64,
            total_cents: r.get(1),
            abs_cents: r.get(2),
        })
    }
    fn fiscal_tickets(&self, till: &str, after: u64, to: u64) -> Result<Vec<Ticket>, StoreError> {
        let mut c = self.c()?;
        read_tickets(&mut c, till, after, to)
    }
    fn ticket_time(&self, till: &str, number: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .c()?
            .query_opt(
                r#"SELECT "time" FROM "TICKET" WHERE "till_id" = $1 AND "number" = $2"#,
                &[&till, &(number as i64)],
            )?
            .map(|r| r.get(0)))
    }
}
