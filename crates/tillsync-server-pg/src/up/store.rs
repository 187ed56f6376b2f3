//! The up path's store on PostgreSQL: the batch steps ([`BatchTx`]) and
//! [`UpStore`] for [`PgServerDb`] (group commit, set-wise filing, tickets,
//! customers).

use tillsync_wire::api::{CustomerCreate, CustomerRecord, OutboxResponse};

use crate::db::{PgServerDb, prepare_cached};
use crate::up as pg_up;
use tillsync_db::StoreError;
use tillsync_server_db::customers::{ConflictRecord, CustomerOrigin};
use tillsync_server_db::store::{Batch, BatchItem, UpStore};
use tillsync_server_db::tickets::{Outcome, Received, TicketListing, TillTickets};
use tillsync_server_db::up::batch::BatchTx;
use tillsync_server_db::up::customers::CustomerSteps;
use tillsync_server_db::up::records::RecordSteps;
use tillsync_server_db::up::tickets::TicketSteps;

pub(crate) struct PgBatch<'a, 'c>(pg_up::tickets::TicketSql<'a, 'c>);

impl BatchTx for PgBatch<'_, '_> {
    fn received(&mut self, till: &str, key: &str) -> Result<Option<Received>, StoreError> {
        pg_up::tickets::received(self.0.tx, till, key)
    }
    fn record_received(
        &mut self,
        till: &str,
        key: &str,
        outcome: &Outcome,
        fingerprint: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        pg_up::tickets::record_received(self.0.tx, till, key, outcome, fingerprint, at)
    }
    fn ticket_steps(&mut self) -> &mut dyn TicketSteps {
        &mut self.0
    }
    fn customer_steps(&mut self) -> Box<dyn CustomerSteps + '_> {
        Box::new(pg_up::customers::CustomerSql(&mut *self.0.tx))
    }
    fn record_steps(&mut self) -> Box<dyn RecordSteps + '_> {
        Box::new(pg_up::records::RecordSql(&mut *self.0.tx))
    }
    fn journal(
        &mut self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        pg_up::tickets::journal_in(self.0.tx, kind, till, result, detail)
    }
}

impl UpStore for PgServerDb {
    fn ingest_batch(
        &mut self,
        till_id: &str,
        items: &[BatchItem<'_>],
    ) -> Result<OutboxResponse, StoreError> {
        let mut answers = self.ingest_group(&[(till_id, items)])?;
        Ok(answers.pop().unwrap_or(OutboxResponse { results: vec![] }))
    }
    fn ingest_batches(
        &mut self,
        batches: &[Batch<'_, '_>],
    ) -> Vec<Result<OutboxResponse, StoreError>> {
        match self.ingest_group(batches) {
            Ok(answers) => answers.into_iter().map(Ok).collect(),
            // Rolled back: each batch on its own (one bad batch does not
            // fail the others).
            Err(_) if batches.len() > 1 => batches
                .iter()
                .map(|(till, items)| self.ingest_batch(till, items))
                .collect(),
            Err(e) => vec![Err(e)],
        }
    }
    fn ticket_list(&self, till: Option<&str>) -> Result<Vec<TicketListing>, StoreError> {
        pg_up::listings::ticket_list(&mut *self.c()?, till)
    }
    fn ticket_state(&self, till: Option<&str>) -> Result<Vec<TillTickets>, StoreError> {
        pg_up::listings::ticket_state(&mut *self.c()?, till)
    }
    fn create_customer(
        &mut self,
        till_id: &str,
        store: &str,
        template: &str,
        req: &CustomerCreate,
    ) -> Result<CustomerRecord, StoreError> {
        crate::customers::create_customer(self.cm()?, till_id, store, template, req)
    }
    fn customer_origin(&self, code: &str) -> Result<Option<CustomerOrigin>, StoreError> {
        crate::customers::customer_origin(&mut *self.c()?, code)
    }
    fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        crate::customers::conflicts(&mut *self.c()?)
    }
}

impl PgServerDb {
    /// File a group of outbox batches in one transaction, one commit: the
    /// tills' locks first, in one order (so that two processes' groups
    /// cannot deadlock on them; a second process filing the same batch
    /// waits, then sees it filed and answers as to a resend); then the
    /// batches that qualify set-wise ([`pg_up::fast`]), the others item by
    /// item ([`tillsync_server_db::up::batch::run_batch`]).
    pub(crate) fn ingest_group(
        &mut self,
        batches: &[Batch<'_, '_>],
    ) -> Result<Vec<OutboxResponse>, StoreError> {
        let mut tills: Vec<&str> = batches
            .iter()
            .filter(|(_, items)| !items.is_empty())
            .map(|(till, _)| *till)
            .collect();
        if tills.is_empty() {
            return Ok(batches
                .iter()
                .map(|_| OutboxResponse { results: vec![] })
                .collect());
        }
        tills.sort_unstable();
        tills.dedup();
        self.cm()?;
        let PgServerDb {
            client, statements, ..
        } = self;
        let c = client.get_mut().as_mut().expect("connection present");
        let lock = prepare_cached(statements, c, pg_up::LOCK_TILLS)?;
        let fast = pg_up::fast::Statements {
            read: prepare_cached(statements, c, pg_up::fast::READ)?,
            write: prepare_cached(statements, c, pg_up::fast::WRITE.as_str())?,
        };
        let mut tx = c.transaction()?;
        tx.execute(&lock, &[&tills])?;
        let fast = pg_up::fast::file_group(&mut tx, &fast, batches, &tillsync_db::now_rfc3339())?;
        let mut out = Vec::with_capacity(batches.len());
        for ((till, items), filed) in batches.iter().zip(fast) {
            out.push(match filed {
                Some(answer) => answer,
                None if items.is_empty() => OutboxResponse { results: vec![] },
                None => tillsync_server_db::up::batch::run_batch(
                    &mut PgBatch(pg_up::tickets::TicketSql::new(&mut tx)),
                    till,
                    items,
                )?,
            });
        }
        tx.commit()?;
        Ok(out)
    }
}
