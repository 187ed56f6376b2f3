//! [`ServerStore`] over SQLite: [`ServerDb`]'s own methods, the export view
//! over a read transaction, and the batch steps over a rusqlite transaction.

use rusqlite::TransactionBehavior;
use tillsync_core::sync_table::{Direction, SyncTable};
use tillsync_wire::api::{CustomerCreate, CustomerRecord, OutboxResponse, TillReport, TillTable};
use tillsync_wire::index::IndexEntry;
use tillsync_wire::layout::Layout;

use crate::db::ServerDb;
use crate::snapshot::Snapshot;
use crate::up::customers::CustomerSql;
use crate::up::records::RecordSql;
use crate::up::tickets as server_up;
use crate::up::tickets::TicketSql;
use tillsync_core::fiscal::record::Record;
use tillsync_db::StoreError;
use tillsync_db::demo::DemoCounts;
use tillsync_db::digest::TableDigest;
use tillsync_server_db::customers::ConflictPolicy;
use tillsync_server_db::customers::ConflictRecord;
use tillsync_server_db::customers::CustomerOrigin;
use tillsync_server_db::export::TableExport;
use tillsync_server_db::export::TableState;
use tillsync_server_db::reports::OutboxReport;
use tillsync_server_db::store::Backend;
use tillsync_server_db::store::Batch;
use tillsync_server_db::store::BatchItem;
use tillsync_server_db::store::Bookkeeping;
use tillsync_server_db::store::ChangeFn;
use tillsync_server_db::store::ExportSnapshot;
use tillsync_server_db::store::RowFn;
use tillsync_server_db::store::ServerStore;
use tillsync_server_db::store::{
    ErpStore, ExportStore, JournalStore, SyncTableStore, TillStore, UpStore,
};
use tillsync_server_db::store::{FiscalStore, TicketTotals};
use tillsync_server_db::tickets::Outcome;
use tillsync_server_db::tickets::Received;
use tillsync_server_db::tickets::TicketListing;
use tillsync_server_db::tickets::TillTickets;
use tillsync_server_db::tills::AuthFailure;
use tillsync_server_db::tills::ReportedTable;
use tillsync_server_db::tills::TillOverview;
use tillsync_server_db::tills::TillRow;
use tillsync_server_db::up::batch::BatchTx;
use tillsync_server_db::up::customers::CustomerSteps;
use tillsync_server_db::up::records::RecordSteps;
use tillsync_server_db::up::tickets::TicketSteps;

impl ExportSnapshot for Snapshot<'_> {
    fn max_seq(&self) -> i64 {
        self.max_seq
    }
    fn layout(&mut self, table: &str) -> Result<Layout, StoreError> {
        Snapshot::layout(self, table)
    }
    fn has_changes(&mut self, table: &str, from: i64, to: i64) -> Result<bool, StoreError> {
        Snapshot::has_changes(self, table, from, to)
    }
    fn read_full(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        f: &mut RowFn<'_>,
    ) -> Result<u64, StoreError> {
        Snapshot::read_full(self, table, layout, filter, f)
    }
    fn read_changes(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        from: i64,
        to: i64,
        f: &mut ChangeFn<'_>,
    ) -> Result<u64, StoreError> {
        Snapshot::read_changes(self, table, layout, filter, from, to, f)
    }
    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        // A read-only view: nothing to keep.
        Ok(())
    }
}

/// The batch steps over an open SQLite transaction.
struct SqliteBatch<'a>(TicketSql<'a>);

impl BatchTx for SqliteBatch<'_> {
    fn received(&mut self, till: &str, key: &str) -> Result<Option<Received>, StoreError> {
        server_up::received(self.0.conn, till, key)
    }
    fn record_received(
        &mut self,
        till: &str,
        key: &str,
        outcome: &Outcome,
        fingerprint: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        server_up::record_received(self.0.conn, till, key, outcome, fingerprint, at)
    }
    fn ticket_steps(&mut self) -> &mut dyn TicketSteps {
        &mut self.0
    }
    fn customer_steps(&mut self) -> Box<dyn CustomerSteps + '_> {
        Box::new(CustomerSql(self.0.conn))
    }
    fn record_steps(&mut self) -> Box<dyn RecordSteps + '_> {
        Box::new(RecordSql(self.0.conn))
    }
    fn journal(
        &mut self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        server_up::journal_in(self.0.conn, kind, till, result, detail)
    }
}

impl ServerStore for ServerDb {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    fn engine_version(&self) -> Result<String, StoreError> {
        // A round trip, so that an unreadable file shows here.
        self.conn()
            .query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })?;
        Ok(rusqlite::version().to_string())
    }
}

impl SyncTableStore for ServerDb {
    fn sync_tables(&self) -> Result<Vec<SyncTable>, StoreError> {
        ServerDb::sync_tables(self)
    }
    fn add_sync_table_with_policy(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError> {
        ServerDb::add_sync_table_with_policy(self, t, policy)
    }
    fn remove_sync_table(&mut self, table: &str, direction: Direction) -> Result<(), StoreError> {
        ServerDb::remove_sync_table(self, table, direction)
    }
    fn edit_sync_table(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError> {
        ServerDb::edit_sync_table(self, t, policy)
    }
    fn conflict_policies(&self) -> Result<Vec<(String, Direction, ConflictPolicy)>, StoreError> {
        ServerDb::conflict_policies(self)
    }
    fn layout(&self, table: &str) -> Result<Layout, StoreError> {
        tillsync_db::introspect::layout(self.conn(), table)
    }
    fn table_digest(
        &self,
        table: &str,
        layout: &Layout,
        filter: Option<(&str, &str)>,
    ) -> Result<TableDigest, StoreError> {
        tillsync_db::digest::table_digest(self.conn(), table, layout, filter)
    }
    fn up_table_layouts(&self) -> Result<Vec<(String, Layout)>, StoreError> {
        ServerDb::up_table_layouts(self)
    }
}

impl ExportStore for ServerDb {
    fn stores(&self) -> Result<Vec<String>, StoreError> {
        ServerDb::stores(self)
    }
    fn table_state(&self, table: &str) -> Result<Option<TableState>, StoreError> {
        ServerDb::table_state(self, table)
    }
    fn table_states(&self) -> Result<Vec<TableState>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT tbl, version, last_seq, layout_hash, snapshot_hash, full_version
             FROM tillsync_table_state ORDER BY tbl",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(TableState {
                table: r.get(0)?,
                version: r.get::<_, i64>(1)? as u64,
                last_seq: r.get(2)?,
                layout_hash: r.get(3)?,
                snapshot_hash: r.get(4)?,
                full_version: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
    fn incrementals_since_full(&self, table: &str, full_version: u64) -> Result<u64, StoreError> {
        ServerDb::incrementals_since_full(self, table, full_version)
    }
    fn published(&self) -> Result<Vec<IndexEntry>, StoreError> {
        ServerDb::published(self)
    }
    fn try_lock_export(&mut self) -> Result<bool, StoreError> {
        // One SQLite file has one data folder, whose lock file keeps its
        // exports apart (see the export job).
        Ok(true)
    }
    fn unlock_export(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Box<dyn ExportSnapshot + '_>, StoreError> {
        Ok(Box::new(ServerDb::snapshot(self)?))
    }
    fn record_export(
        &mut self,
        tables: &[TableExport],
        retention: u32,
    ) -> Result<Vec<String>, StoreError> {
        ServerDb::record_export(self, tables, retention)
    }
}

impl TillStore for ServerDb {
    fn till_store(&self, till_id: &str) -> Result<String, StoreError> {
        ServerDb::till_store(self, till_id)
    }
    fn catalog_generation(&self) -> Result<Option<i64>, StoreError> {
        Ok(Some(
            self.conn()
                .prepare_cached("SELECT n FROM tillsync_catalog_generation WHERE id = 1")?
                .query_row([], |r| r.get(0))?,
        ))
    }
    fn authenticate(
        &self,
        till_id: &str,
        token_sha256: &str,
    ) -> Result<Result<(), AuthFailure>, StoreError> {
        ServerDb::authenticate(self, till_id, token_sha256)
    }
    fn touch_till(&self, till_id: &str) -> Result<(), StoreError> {
        ServerDb::touch_till(self, till_id)
    }
    fn revoke_till(&mut self, till_id: &str) -> Result<(), StoreError> {
        ServerDb::revoke_till(self, till_id)
    }
    fn till_ticket_keys(&self, till_id: &str) -> Result<Vec<String>, StoreError> {
        ServerDb::till_ticket_keys(self, till_id)
    }
    fn tills(&self) -> Result<Vec<TillRow>, StoreError> {
        ServerDb::tills(self)
    }
    fn write_bookkeeping(&mut self, writes: &[Bookkeeping]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.conn().pragma_update(None, "synchronous", "NORMAL")?;
        let mut result = Ok(());
        for w in writes {
            let r = (|| {
                if w.contact {
                    self.touch_till(&w.till)?;
                }
                if let Some(tables) = &w.tables {
                    ServerDb::record_till_tables(self, &w.till, tables)?;
                }
                if let Some(report) = &w.report {
                    ServerDb::record_till_report(self, &w.till, report)?;
                }
                if let Some(detail) = &w.asked {
                    self.journal("packages-asked", Some(&w.till), "ok", detail)?;
                }
                Ok::<_, StoreError>(())
            })();
            if r.is_err() && result.is_ok() {
                result = r;
            }
        }
        let restored = self.conn().pragma_update(None, "synchronous", "FULL");
        result?;
        restored?;
        Ok(())
    }
    fn till_overview(&self) -> Result<Vec<TillOverview>, StoreError> {
        ServerDb::till_overview(self)
    }
    fn record_till_tables(&mut self, till: &str, tables: &[TillTable]) -> Result<(), StoreError> {
        ServerDb::record_till_tables(self, till, tables)
    }
    fn till_tables(&self) -> Result<Vec<ReportedTable>, StoreError> {
        ServerDb::till_tables(self)
    }
    fn record_till_report(&mut self, till: &str, report: &TillReport) -> Result<(), StoreError> {
        ServerDb::record_till_report(self, till, report)
    }
    fn till_reports(&self) -> Result<Vec<OutboxReport>, StoreError> {
        ServerDb::till_reports(self)
    }
}

impl UpStore for ServerDb {
    fn ingest_batch(
        &mut self,
        till_id: &str,
        items: &[BatchItem<'_>],
    ) -> Result<OutboxResponse, StoreError> {
        if items.is_empty() {
            return Ok(OutboxResponse { results: vec![] });
        }
        self.conn().set_prepared_statement_cache_capacity(64);
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let resp = tillsync_server_db::up::batch::run_batch(
            &mut SqliteBatch(TicketSql::new(&tx)),
            till_id,
            items,
        )?;
        tx.commit()?;
        Ok(resp)
    }
    fn ingest_batches(
        &mut self,
        batches: &[Batch<'_, '_>],
    ) -> Vec<Result<OutboxResponse, StoreError>> {
        if batches.len() > 1 {
            self.conn().set_prepared_statement_cache_capacity(64);
            // One transaction, one commit (one disk flush) for the group.
            let group = (|| {
                let tx = self
                    .conn_mut()
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut out = Vec::with_capacity(batches.len());
                for (till, items) in batches {
                    out.push(if items.is_empty() {
                        OutboxResponse { results: vec![] }
                    } else {
                        tillsync_server_db::up::batch::run_batch(
                            &mut SqliteBatch(TicketSql::new(&tx)),
                            till,
                            items,
                        )?
                    });
                }
                tx.commit()?;
                Ok::<_, StoreError>(out)
            })();
            if let Ok(answers) = group {
                return answers.into_iter().map(Ok).collect();
            }
            // Rolled back: each batch on its own.
        }
        batches
            .iter()
            .map(|(till, items)| self.ingest_batch(till, items))
            .collect()
    }
    fn ticket_list(&self, till: Option<&str>) -> Result<Vec<TicketListing>, StoreError> {
        ServerDb::ticket_list(self, till)
    }
    fn ticket_state(&self, till: Option<&str>) -> Result<Vec<TillTickets>, StoreError> {
        ServerDb::ticket_state(self, till)
    }
    fn create_customer(
        &mut self,
        till_id: &str,
        store: &str,
        template: &str,
        req: &CustomerCreate,
    ) -> Result<CustomerRecord, StoreError> {
        ServerDb::create_customer(self, till_id, store, template, req)
    }
    fn customer_origin(&self, code: &str) -> Result<Option<CustomerOrigin>, StoreError> {
        ServerDb::customer_origin(self, code)
    }
    fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        ServerDb::conflicts(self)
    }
}

impl FiscalStore for ServerDb {
    fn fiscal_records(
        &self,
        till: &str,
        chain: &str,
        after: u64,
    ) -> Result<Vec<Record>, StoreError> {
        crate::up::records::records(self.conn(), till, chain, after)
    }
    fn fiscal_tills(&self) -> Result<Vec<String>, StoreError> {
        crate::up::records::tills(self.conn())
    }
    fn ticket_totals_upto(&self, till: &str, to: u64) -> Result<TicketTotals, StoreError> {
        crate::up::records::ticket_totals_upto(self.conn(), till, to)
    }
    fn ticket_time(&self, till: &str, number: u64) -> Result<Option<String>, StoreError> {
        crate::up::records::ticket_time(self.conn(), till, number)
    }
    fn fiscal_tickets(
        &self,
        till: &str,
        after: u64,
        to: u64,
    ) -> Result<Vec<tillsync_core::ticket::Ticket>, StoreError> {
        tillsync_db::ticket_rows::read_tickets(
            self.conn(),
            &tillsync_db::ticket_rows::FISCAL_TABLES,
            till,
            after,
            to,
        )
    }
}

impl JournalStore for ServerDb {
    fn journal_entries(
        &self,
        till: Option<&str>,
        limit: u32,
    ) -> Result<Vec<tillsync_server_db::journal::JournalEntry>, StoreError> {
        ServerDb::journal_entries(self, till, limit)
    }
    fn journal(
        &self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        ServerDb::journal(self, kind, till, result, detail)
    }
}

impl ErpStore for ServerDb {
    fn create_demo_tables(&mut self, items: usize, seed: u64) -> Result<DemoCounts, StoreError> {
        Ok(tillsync_db::demo::create_demo_tables(
            self.conn(),
            items,
            seed,
        )?)
    }
    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn().execute_batch(sql)?)
    }
    fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let mut stmt = self.conn().prepare(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get::<_, rusqlite::types::Value>(i)? {
                    rusqlite::types::Value::Null => None,
                    rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                    rusqlite::types::Value::Real(f) => Some(f.to_string()),
                    rusqlite::types::Value::Text(s) => Some(s),
                    rusqlite::types::Value::Blob(b) => Some(hex::encode(b)),
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}
