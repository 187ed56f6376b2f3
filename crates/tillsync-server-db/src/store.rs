//! The storage interface of the server: [`ServerStore`], every database need
//! of the web service, the export and the commands, with one implementation
//! per backend (SQLite: [`crate::ServerDb`]; PostgreSQL: [`crate::pg::PgServerDb`]),
//! and [`open_server_store`], which picks the backend from the database URL.

use tillsync_core::fiscal::record::Record;
use tillsync_core::sync_table::{Direction, SyncTable};
use tillsync_core::ticket::Ticket;
use tillsync_wire::api::{
    CustomerCreate, CustomerRecord, OutboxItem, OutboxResponse, TillReport, TillTable,
};
use tillsync_wire::index::IndexEntry;
use tillsync_wire::keys::KeyRecord;
use tillsync_wire::layout::Layout;
use tillsync_wire::value::ValueRef;

use crate::customers::{ConflictRecord, CustomerOrigin};
use crate::export::{Change, TableExport, TableState};
use crate::journal::JournalEntry;
use crate::keys::{Enrolment, KeyClaim, KeyOutcome, KeyRefusal, SignFn};
use crate::reports::OutboxReport;
use crate::tickets::{TicketCheck, TicketListing, TillTickets};
use crate::tills::{AuthFailure, ReportedTable, TillOverview, TillRow};
use tillsync_core::customers::conflict::ConflictPolicy;
use tillsync_db::StoreError;
use tillsync_db::demo::DemoCounts;
use tillsync_db::digest::TableDigest;

/// Which database engine holds the server's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// `SQLite` or `PostgreSQL`.
    pub fn engine_name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// One item of a till's outbox batch, after the checks that need no
/// database (parsing, ticket hash and signature).
pub enum BatchItem<'a> {
    /// A readable ticket; `check` says whether its hash and signature hold.
    Ticket {
        /// Idempotency key.
        key: &'a str,
        /// The ticket.
        ticket: &'a Ticket,
        /// The ticket as the till sent it.
        payload: &'a str,
        /// Hash and signature check.
        check: TicketCheck,
    },
    /// A ticket item whose payload is not a ticket (quarantined).
    Unreadable {
        /// Idempotency key.
        key: &'a str,
        /// The payload as sent.
        payload: &'a str,
        /// Why it is unreadable.
        reason: &'a str,
        /// SHA-256 of the payload.
        fingerprint: &'a str,
    },
    /// A fiscal record (event or closing); `check` says whether its hash
    /// and signature hold.
    Record {
        /// Idempotency key.
        key: &'a str,
        /// The record.
        record: &'a Record,
        /// Hash and signature check.
        check: Result<(), String>,
    },
    /// A customer edit, abandon, or up-table row.
    Other {
        /// The item.
        item: &'a OutboxItem,
        /// SHA-256 of the canonical payload.
        fingerprint: &'a str,
    },
}

impl BatchItem<'_> {
    /// The item's idempotency key.
    pub fn key(&self) -> &str {
        match self {
            BatchItem::Ticket { key, .. } | BatchItem::Unreadable { key, .. } => key,
            BatchItem::Record { key, .. } => key,
            BatchItem::Other { item, .. } => &item.key,
        }
    }

    /// What identifies the item's content (a resend has the same).
    pub fn fingerprint(&self) -> &str {
        match self {
            BatchItem::Ticket { ticket, .. } => &ticket.hash,
            BatchItem::Record { record, .. } => &record.hash,
            BatchItem::Unreadable { fingerprint, .. } | BatchItem::Other { fingerprint, .. } => {
                fingerprint
            }
        }
    }
}

/// One outbox batch of a group stored by [`UpStore::ingest_batches`]:
/// the till and its items.
pub type Batch<'b, 'a> = (&'b str, &'b [BatchItem<'a>]);

/// The bookkeeping of the polling path for one till, written by
/// [`TillStore::write_bookkeeping`] without waiting for the disk.
#[derive(Debug, Clone, Default)]
pub struct Bookkeeping {
    /// The till.
    pub till: String,
    /// Set its last contact to now.
    pub contact: bool,
    /// The table versions it reported.
    pub tables: Option<Vec<TillTable>>,
    /// What it reported of its outbox and error list.
    pub report: Option<TillReport>,
    /// A "packages-asked" journal line with this detail.
    pub asked: Option<String>,
}

/// A row visitor of [`ExportSnapshot::read_full`]: the row and the value of
/// the filter column (if any).
pub type RowFn<'f> =
    dyn FnMut(&[ValueRef<'_>], Option<ValueRef<'_>>) -> Result<(), StoreError> + 'f;

/// A change visitor of [`ExportSnapshot::read_changes`].
pub type ChangeFn<'f> = dyn FnMut(Change<'_>) -> Result<(), StoreError> + 'f;

/// A consistent read view for one export: every read sees the database as of
/// the moment the view started, and [`max_seq`](ExportSnapshot::max_seq)
/// covers exactly the changes whose effects it sees. A change committed
/// later (whatever its commit order) goes into the next export.
pub trait ExportSnapshot {
    /// Newest change-log sequence covered by this view.
    fn max_seq(&self) -> i64;
    /// The layout of `table` as seen by this view.
    fn layout(&mut self, table: &str) -> Result<Layout, StoreError>;
    /// Whether `table` has logged changes in (`from`, `to`].
    fn has_changes(&mut self, table: &str, from: i64, to: i64) -> Result<bool, StoreError>;
    /// Every row of `table` in key order.
    fn read_full(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        f: &mut RowFn<'_>,
    ) -> Result<u64, StoreError>;
    /// Every key changed in (`from`, `to`], once, with the row as it is in
    /// this view (or `None` when deleted).
    #[allow(clippy::too_many_arguments)]
    fn read_changes(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        from: i64,
        to: i64,
        f: &mut ChangeFn<'_>,
    ) -> Result<u64, StoreError>;
    /// End the view, keeping what it marked (on PostgreSQL, the change rows
    /// it gave their sequence). Dropping it instead is safe: those changes
    /// are then covered by the next export.
    fn finish(self: Box<Self>) -> Result<(), StoreError>;
}

/// [`TillStore::poll_identity`] through the calls it stands for, one by
/// one: [`TillStore::authenticate`], [`TillStore::till_store`],
/// [`TillStore::catalog_generation`].
pub fn poll_identity_by_calls<S: TillStore + ?Sized>(
    db: &S,
    till_id: &str,
    token_sha256: &str,
) -> Result<PollIdentity, StoreError> {
    let auth = db.authenticate(till_id, token_sha256)?;
    let store = match auth {
        Ok(()) => Some(db.till_store(till_id)?),
        Err(_) => None,
    };
    Ok(PollIdentity {
        auth,
        store,
        generation: db.catalog_generation()?,
    })
}

/// What [`TillStore::poll_identity`] found out about a calling till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollIdentity {
    /// Whether its credentials are good.
    pub auth: Result<(), AuthFailure>,
    /// Its store (`STORE_TILL`), when `auth` is `Ok`.
    pub store: Option<String>,
    /// [`TillStore::catalog_generation`] at the same moment.
    pub generation: Option<i64>,
}

/// Every database need of the server, one trait per concern. Object safe:
/// the server holds a `Box<dyn ServerStore>` chosen by
/// `tillsync_server::database::open_server_store`.
pub trait ServerStore:
    SyncTableStore
    + ExportStore
    + TillStore
    + KeyStore
    + UpStore
    + JournalStore
    + ErpStore
    + FiscalStore
    + Send
{
    /// Which engine this is.
    fn backend(&self) -> Backend;
    /// The engine's version (`3.50.4`, `15.14`), read with a round trip.
    fn engine_version(&self) -> Result<String, StoreError>;
}

/// The sync tables: which tables travel, in which direction, with which
/// filter and conflict policy; the layouts and digests of business tables.
pub trait SyncTableStore {
    /// Every registered sync table.
    fn sync_tables(&self) -> Result<Vec<SyncTable>, StoreError>;
    /// Register a sync table (checks, change capture), in one transaction.
    fn add_sync_table(&mut self, t: &SyncTable) -> Result<Layout, StoreError> {
        self.add_sync_table_with_policy(t, None)
    }
    /// Register a sync table with a conflict policy (up tables only).
    fn add_sync_table_with_policy(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError>;
    /// Unregister a sync table and drop its change capture.
    fn remove_sync_table(&mut self, table: &str, direction: Direction) -> Result<(), StoreError>;
    /// Change a registered sync table's type, filter column and (up tables)
    /// conflict policy, checked as a new one is, in one transaction.
    fn edit_sync_table(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError>;
    /// Conflict policy of every sync table.
    fn conflict_policies(&self) -> Result<Vec<(String, Direction, ConflictPolicy)>, StoreError>;
    /// The layout of a business table.
    fn layout(&self, table: &str) -> Result<Layout, StoreError>;
    /// Rows and content hash of a business table (optionally one store's rows).
    fn table_digest(
        &self,
        table: &str,
        layout: &Layout,
        filter: Option<(&str, &str)>,
    ) -> Result<TableDigest, StoreError>;
    /// Layouts of the up-direction sync tables.
    fn up_table_layouts(&self) -> Result<Vec<(String, Layout)>, StoreError>;
}

/// What the export job (down) reads and records: table states, published
/// packages, the export lock and the consistent read view.
pub trait ExportStore {
    /// Every store that has a till.
    fn stores(&self) -> Result<Vec<String>, StoreError>;
    /// Export state of `table`.
    fn table_state(&self, table: &str) -> Result<Option<TableState>, StoreError>;
    /// Export state of every exported table.
    fn table_states(&self) -> Result<Vec<TableState>, StoreError>;
    /// Incremental versions published since the newest full package.
    fn incrementals_since_full(&self, table: &str, full_version: u64) -> Result<u64, StoreError>;
    /// Every package currently published.
    fn published(&self) -> Result<Vec<IndexEntry>, StoreError>;
    /// Take the lock that keeps exports apart across processes sharing this
    /// database; `false` when another export holds it. Held until
    /// [`unlock_export`](ExportStore::unlock_export) or the connection ends.
    fn try_lock_export(&mut self) -> Result<bool, StoreError>;
    /// Release the export lock.
    fn unlock_export(&mut self) -> Result<(), StoreError>;
    /// A consistent read view for one export.
    fn snapshot(&mut self) -> Result<Box<dyn ExportSnapshot + '_>, StoreError>;
    /// Record an export in one transaction; returns the files to purge.
    fn record_export(
        &mut self,
        tables: &[TableExport],
        retention: u32,
    ) -> Result<Vec<String>, StoreError>;
}

/// The tills: credentials, who is calling (the polling path's one round
/// trip), the bookkeeping of their calls and what they reported.
pub trait TillStore {
    /// The store a till belongs to, from `STORE_TILL`.
    fn till_store(&self, till_id: &str) -> Result<String, StoreError>;
    /// Check a till's token (as its SHA-256).
    fn authenticate(
        &self,
        till_id: &str,
        token_sha256: &str,
    ) -> Result<Result<(), AuthFailure>, StoreError>;
    /// Who is calling, for every request of a till: its credentials
    /// checked ([`TillStore::authenticate`]), its store when they are
    /// good ([`TillStore::till_store`], whose errors it returns), and the
    /// catalog generation when the backend keeps one
    /// ([`TillStore::catalog_generation`]), read in the same round trip.
    fn poll_identity(&self, till_id: &str, token_sha256: &str) -> Result<PollIdentity, StoreError> {
        poll_identity_by_calls(self, till_id, token_sha256)
    }
    /// [`TillStore::poll_identity`] of several calls (till id, token
    /// SHA-256), answered in order, each with its own result (one till's
    /// missing store fails only that call); the outer error is the
    /// database's. On PostgreSQL one statement for all of them.
    fn poll_identities(
        &self,
        calls: &[(String, String)],
    ) -> Result<Vec<Result<PollIdentity, StoreError>>, StoreError> {
        Ok(calls
            .iter()
            .map(|(till, token)| self.poll_identity(till, token))
            .collect())
    }
    /// A number that changes with every commit that changes what the
    /// polling path reads of the catalog: the sync tables and the published
    /// packages (not the up tables' columns): a row bumped by triggers on
    /// both backends, so that it also follows other processes (`server
    /// export`, the admin pages of another server process). `None` when the
    /// backend keeps none: the web service then reads the catalog on every
    /// call.
    fn catalog_generation(&self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
    /// Record that a till called.
    fn touch_till(&self, till_id: &str) -> Result<(), StoreError>;
    /// Revoke a till: its token stops working and its unused enrolment
    /// secrets are superseded.
    fn revoke_till(&mut self, till_id: &str) -> Result<(), StoreError>;
    /// Public keys (hex) that may have signed this till's tickets, newest first.
    fn till_ticket_keys(&self, till_id: &str) -> Result<Vec<String>, StoreError>;
    /// Every till of `STORE_TILL` with its credential state.
    fn tills(&self) -> Result<Vec<TillRow>, StoreError>;
    /// Write the bookkeeping of the polling path (last contact, reported
    /// versions and outbox report, "packages-asked" journal lines) without
    /// waiting for the disk: SQLite commits it with `synchronous = NORMAL`
    /// (durable at the next full commit or checkpoint), PostgreSQL with
    /// `SET LOCAL synchronous_commit = off`. A crash can lose the last
    /// second of this bookkeeping, never a ticket or anything answered
    /// after a commit.
    fn write_bookkeeping(&mut self, writes: &[Bookkeeping]) -> Result<(), StoreError>;
    /// Every till with credentials, contact, tickets and reported versions.
    fn till_overview(&self) -> Result<Vec<TillOverview>, StoreError>;
    /// Record the table versions a till reported.
    fn record_till_tables(&mut self, till: &str, tables: &[TillTable]) -> Result<(), StoreError>;
    /// Table versions the tills last reported.
    fn till_tables(&self) -> Result<Vec<ReportedTable>, StoreError>;
    /// Record what a till reported of its outbox and error list (with its
    /// package request), replacing its previous report.
    fn record_till_report(&mut self, till: &str, report: &TillReport) -> Result<(), StoreError>;
    /// Every till's last outbox report, by till.
    fn till_reports(&self) -> Result<Vec<OutboxReport>, StoreError>;
}

/// The tills' keys: enrolment secrets of deployment packages, key changes
/// (enrolment, re-enrolment, rotation: [`crate::keys::change_key`] over the
/// backend's steps) and the key histories.
pub trait KeyStore {
    /// Record the enrolment secret (its SHA-256) of a new deployment
    /// package of `till_id`; the till's unused older secrets are superseded.
    fn issue_enrolment(
        &mut self,
        till_id: &str,
        secret_sha256: &str,
        issued_at: &str,
        expires_at: &str,
    ) -> Result<(), StoreError>;
    /// Accept or refuse a key change, in one transaction (nothing written
    /// on a refusal); `sign` signs the new records with the server's key.
    fn change_key(
        &mut self,
        claim: &KeyClaim<'_>,
        sign: &SignFn<'_>,
    ) -> Result<Result<KeyOutcome, KeyRefusal>, StoreError>;
    /// The till's key history, oldest first.
    fn key_history(&self, till_id: &str) -> Result<Vec<KeyRecord>, StoreError>;
    /// The till's enrolment secrets, newest first.
    fn enrolments(&self, till_id: &str) -> Result<Vec<Enrolment>, StoreError>;
    /// Ticket keys of the till that have no record yet (version-2
    /// packages): (public key, when issued), oldest first.
    fn unrecorded_keys(&self, till_id: &str) -> Result<Vec<(String, String)>, StoreError>;
}

/// The up path: outbox batches filed in one transaction (or one group
/// commit), tickets received, customers created from tills and conflicts.
pub trait UpStore {
    /// Store one outbox batch of `till_id` in one transaction: idempotency
    /// records, tickets (or quarantine), other items, the journal line.
    /// Answers one result per item, after the commit.
    fn ingest_batch(
        &mut self,
        till_id: &str,
        items: &[BatchItem<'_>],
    ) -> Result<OutboxResponse, StoreError>;
    /// Store several outbox batches (of one till or several), answering
    /// each as [`ingest_batch`](UpStore::ingest_batch) would, every
    /// answer only after the commit that covers its batch. A backend may
    /// store them in one transaction and one commit (group commit); if that
    /// fails, each batch is stored again in its own transaction, so that one
    /// batch's error is only that batch's. The default: one transaction each.
    fn ingest_batches(
        &mut self,
        batches: &[Batch<'_, '_>],
    ) -> Vec<Result<OutboxResponse, StoreError>> {
        batches
            .iter()
            .map(|(till, items)| self.ingest_batch(till, items))
            .collect()
    }
    /// Tickets received (verified and quarantined).
    fn ticket_list(&self, till: Option<&str>) -> Result<Vec<TicketListing>, StoreError>;
    /// Per till: tickets received, missing ranges, quarantined, rejected.
    fn ticket_state(&self, till: Option<&str>) -> Result<Vec<TillTickets>, StoreError>;
    /// Create a customer from the template customer (unique code).
    fn create_customer(
        &mut self,
        till_id: &str,
        store: &str,
        template: &str,
        req: &CustomerCreate,
    ) -> Result<CustomerRecord, StoreError>;
    /// Where a customer was created.
    fn customer_origin(&self, code: &str) -> Result<Option<CustomerOrigin>, StoreError>;
    /// The conflicts audit.
    fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError>;
}

/// The sync journal: who synced what, when, with what result.
pub trait JournalStore {
    /// Add a line to the sync journal.
    fn journal(
        &self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError>;
    /// The sync journal, newest first: at most `limit` lines, only those of
    /// `till` when given.
    fn journal_entries(
        &self,
        till: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JournalEntry>, StoreError>;
}

/// Business data as another writer (the ERP, the demo, tests) sees it.
pub trait ErpStore {
    /// Create the demo business tables (`tillsync_db::demo::DEMO_TABLES`).
    fn create_demo_tables(&mut self, items: usize, seed: u64) -> Result<DemoCounts, StoreError>;
    /// Run SQL as another writer of the business tables would (the ERP,
    /// tests, the demo): several statements, no result.
    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Every row of `sql`, each value as text (NULL: `None`; numbers in
    /// decimal).
    fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, StoreError>;
    /// The first column of the first row of `sql`, as text (NULL or no row: `None`).
    fn query_text(&mut self, sql: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .query_rows(sql)?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .flatten())
    }
}

/// The fiscal records the tills sent (events and closings), read back for
/// the ledger, the archives and the verifier.
pub trait FiscalStore {
    /// The records of `chain` of `till` numbered after `after`, in order.
    fn fiscal_records(
        &self,
        till: &str,
        chain: &str,
        after: u64,
    ) -> Result<Vec<Record>, StoreError>;
    /// Every till that sent a ticket or a record.
    fn fiscal_tills(&self) -> Result<Vec<String>, StoreError>;
    /// Count, total and total of absolute values of `till`'s verified
    /// tickets numbered up to `to`, and how many numbers up to `to` are
    /// not verified (missing or in quarantine).
    fn ticket_totals_upto(&self, till: &str, to: u64) -> Result<TicketTotals, StoreError>;
    /// The time of `till`'s verified ticket `number`, if held.
    fn ticket_time(&self, till: &str, number: u64) -> Result<Option<String>, StoreError>;
    /// `till`'s verified tickets numbered in `(after, to]`, whole (lines,
    /// VAT totals, payments), by number: for archives and the verifier.
    fn fiscal_tickets(&self, till: &str, after: u64, to: u64) -> Result<Vec<Ticket>, StoreError>;
}

/// What [`FiscalStore::ticket_totals_upto`] answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketTotals {
    /// Verified tickets.
    pub count: u64,
    /// Their total.
    pub total_cents: i64,
    /// Their total of absolute values.
    pub abs_cents: i64,
}
