//! The fiscal records tills send (events of their event log and closings)
//! on PostgreSQL: the SQL steps of filing one ([`RecordSql`], inside the
//! batch's transaction, after the till's lock) and the reads of
//! [`FiscalStore`]. Rows are never updated.

use postgres::{GenericClient, Transaction};
use tillsync_core::fiscal::record::Record;
use tillsync_db::StoreError;
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
