//! The shared state of the web service ([`AppState`]): the data folder, the
//! write connection and the pool of read connections, the threads that
//! serve them (the deferred bookkeeping writer; on PostgreSQL the batched
//! bookkeeping writes and credentials checks), and the parts each handler
//! keeps there (key cache, counters, group commit, write throttles, the
//! kept catalog). A leaf of the web service: every handler imports it, it
//! imports no handler.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tillsync_server_db::store::{Backend, Bookkeeping, PollIdentity, ServerStore};

use crate::data::DataDir;
use crate::error::ServerError;
use crate::http::batcher::Batcher;
use crate::http::bookkeeping::{
    ASKED_JOURNAL_EVERY, DEFERRED_CHUNK, DEFERRED_EVERY, REPORT_WRITE_EVERY, WriteThrottle,
    contact_write_every,
};
use crate::http::catalog::{Catalog, KeptCatalog};
use crate::http::counters::Metrics;
use crate::http::error::HttpError;
use crate::up::group_commit::{CommitDb, GroupCommit};
use crate::up::key_cache::KeyCache;

/// Shared state of the web service.
pub struct AppState {
    /// The data folder.
    pub data: DataDir,
    /// POS folder name.
    pub folder: String,
    /// `folder.payment_methods` as `server run` started: the methods a
    /// version-2 ticket may be paid with (its content check).
    pub payment_methods: Vec<String>,
    /// Which engine holds the server database.
    pub backend: Backend,
    /// The server database (the write connection, SQLite or PostgreSQL;
    /// calls run on blocking threads).
    pub db: Mutex<Box<dyn ServerStore>>,
    /// Connections for the reads of the polling path (credentials,
    /// available packages, `/metrics`): they read the last commit without
    /// waiting for the writer, whose commits wait for the disk.
    pub read_dbs: Vec<Mutex<Box<dyn ServerStore>>>,
    /// One permit per read connection: a read waits here, as a cheap task,
    /// rather than as a blocking thread parked on a mutex (thousands of
    /// polling tills would otherwise fill the blocking pool with hundreds of
    /// threads that mostly wake each other).
    read_permits: tokio::sync::Semaphore,
    /// The same for the write connection (`with_db`).
    write_permit: tokio::sync::Semaphore,
    /// Ticket public keys per till (`POST /api/v1/outbox`).
    pub ticket_keys: KeyCache,
    /// Counters of `GET /metrics`.
    pub metrics: Metrics,
    /// Outbox batches committed together.
    pub group_commit: GroupCommit,
    /// When each till's `last_contact` was last written.
    pub contacts: WriteThrottle,
    /// When each till's reported table versions were last written.
    pub reports: WriteThrottle,
    /// When each till's "packages-asked" journal line was last written.
    pub asked: WriteThrottle,
    /// Refreshes of that bookkeeping, for the deferred writer, per till
    /// (the latest of each kind wins).
    pub deferred: Mutex<HashMap<String, Bookkeeping>>,
    /// The catalog last read, kept while the generation holds
    /// ([`AppState::catalog`]).
    catalog: Arc<KeptCatalog>,
    /// On PostgreSQL, the bookkeeping writes due now, written together by
    /// one thread on its own connection: everything waiting in one
    /// transaction of a few statements. Thousands of tills calling for the
    /// first time (a server start) cost tens of transactions, not thousands.
    bookkeeping: Arc<Batcher<Bookkeeping, Result<(), String>>>,
    /// On PostgreSQL, the credentials checks of the calls waiting, read
    /// together ([`TillStore::poll_identities`]) by [`IDENTITY_READERS`]
    /// threads with a connection each: one statement for all the tills
    /// calling at that moment, instead of one each.
    identities: Arc<Batcher<(String, String), Result<PollIdentity, HttpError>>>,
}

/// Most bookkeeping writes written in one transaction.
const BOOKKEEPING_GROUP: usize = 1000;
/// Most credentials checks read in one statement.
const IDENTITY_GROUP: usize = 500;
/// Threads (and PostgreSQL connections) reading credentials checks. One:
/// the calls that arrive during a read make the next statement; two
/// threads taking turns make groups half as large. Going from two to one
/// (together with one group commit thread) took the fleet's p99 from
/// 135/238 ms to 22/44 ms (`docs/benchmarks.md`, "3 Dec 2026").
const IDENTITY_READERS: usize = 1;

/// Read connections of the polling path (one per core of the target machine).
const READ_CONNECTIONS: usize = 2;
/// On PostgreSQL, where a read is a network round trip that mostly waits
/// (the database works in its own processes), more of them.
const PG_READ_CONNECTIONS: usize = 16;

/// The deferred writer: every DEFERRED_EVERY, the refreshes queued in
/// [`AppState::deferred`], without waiting for the disk
/// ([`TillStore::write_bookkeeping`]); ends with the state.
fn deferred_writer(state: std::sync::Weak<AppState>) {
    loop {
        std::thread::sleep(DEFERRED_EVERY);
        let Some(state) = state.upgrade() else { return };
        let pending: Vec<Bookkeeping> =
            std::mem::take(&mut *state.deferred.lock().unwrap_or_else(|p| p.into_inner()))
                .into_values()
                .collect();
        for chunk in pending.chunks(DEFERRED_CHUNK) {
            let mut db = state.db.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = db.write_bookkeeping(chunk) {
                tracing::warn!(error = %e, "deferred bookkeeping write failed");
            }
        }
    }
}

impl AppState {
    /// Open the database of `data`.
    pub fn open(data: DataDir) -> Result<Arc<Self>, ServerError> {
        let cfg = data.config()?;
        let db = data.open_store_with(&cfg)?;
        let contact_every = contact_write_every(&cfg);
        let readers = match db.backend() {
            Backend::Sqlite => READ_CONNECTIONS,
            Backend::Postgres => PG_READ_CONNECTIONS,
        };
        let read_dbs = (0..readers)
            .map(|_| data.open_store_with(&cfg).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        let state = Arc::new(AppState {
            backend: db.backend(),
            data,
            folder: cfg.folder.name.clone(),
            payment_methods: cfg.folder.payment_methods.clone(),
            db: Mutex::new(db),
            read_dbs,
            read_permits: tokio::sync::Semaphore::new(readers),
            write_permit: tokio::sync::Semaphore::new(1),
            ticket_keys: Default::default(),
            metrics: Default::default(),
            group_commit: Default::default(),
            contacts: WriteThrottle::new(contact_every),
            reports: WriteThrottle::new(REPORT_WRITE_EVERY),
            asked: WriteThrottle::new(ASKED_JOURNAL_EVERY),
            deferred: Default::default(),
            catalog: Default::default(),
            bookkeeping: Batcher::new("bookkeeping", BOOKKEEPING_GROUP),
            identities: Batcher::new("identities", IDENTITY_GROUP),
        });
        if state.backend == Backend::Postgres {
            let thread_failed =
                |e: std::io::Error| ServerError::Invalid(format!("cannot start a thread: {e}"));
            let mut db = state.data.open_store_with(&cfg)?;
            state
                .bookkeeping
                .serve(move |writes| {
                    let result = db.write_bookkeeping(&writes).map_err(|e| e.to_string());
                    vec![result; writes.len()]
                })
                .map_err(thread_failed)?;
            for _ in 0..IDENTITY_READERS {
                let db = state.data.open_store_with(&cfg)?;
                state
                    .identities
                    .serve(move |lookups| {
                        let n = lookups.len();
                        match db.poll_identities(&lookups) {
                            Ok(found) => found
                                .into_iter()
                                .map(|r| r.map_err(HttpError::from))
                                .collect(),
                            Err(e) => {
                                let message = e.to_string();
                                tracing::error!(%message, calls = n, "credentials checks failed");
                                (0..n)
                                    .map(|_| {
                                        Err(HttpError::new(
                                            StatusCode::INTERNAL_SERVER_ERROR,
                                            "internal",
                                            message.clone(),
                                        ))
                                    })
                                    .collect()
                            }
                        }
                    })
                    .map_err(thread_failed)?;
            }
        }
        let weak = Arc::downgrade(&state);
        std::thread::Builder::new()
            .name("tillsync-deferred".into())
            .spawn(move || deferred_writer(weak))
            .map_err(|e| ServerError::Invalid(format!("cannot start a thread: {e}")))?;
        Ok(state)
    }

    /// The catalog as of `generation` (read with the till's credentials),
    /// kept while the generation holds ([`KeptCatalog::get`]); read on a
    /// read connection.
    pub(crate) async fn catalog(
        self: &Arc<Self>,
        generation: Option<i64>,
    ) -> Result<Arc<Catalog>, HttpError> {
        let state = self.clone();
        self.catalog
            .get(generation, move |generation| {
                let state = state.clone();
                async move {
                    state
                        .with_read_db_now(move |db| Ok(Catalog::read(db, generation)?))
                        .await
                }
            })
            .await
    }

    /// Queue a bookkeeping refresh for the deferred writer.
    pub(crate) fn defer(&self, till: &str, f: impl FnOnce(&mut Bookkeeping)) {
        let mut d = self.deferred.lock().unwrap_or_else(|p| p.into_inner());
        f(d.entry(till.to_string()).or_insert_with(|| Bookkeeping {
            till: till.to_string(),
            ..Default::default()
        }));
    }

    pub(crate) async fn with_db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn ServerStore) -> Result<T, HttpError> + Send + 'static,
    ) -> Result<T, HttpError> {
        let _permit = self
            .write_permit
            .acquire()
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?;
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = state.db.lock().unwrap_or_else(|p| p.into_inner());
            f(db.as_mut())
        })
        .await
        .map_err(|e| HttpError::internal(format!("worker failed: {e}")))?
    }

    /// Write bookkeeping of the polling path now (last contact, reported
    /// versions, the "packages-asked" journal line) without waiting for the
    /// disk ([`TillStore::write_bookkeeping`]): a crash can lose the last
    /// of this bookkeeping, never a ticket; and a poll does not cost a disk
    /// flush.
    pub(crate) async fn write_bookkeeping(
        self: &Arc<Self>,
        b: Bookkeeping,
    ) -> Result<(), HttpError> {
        match self.backend {
            // SQLite has one writer: the write connection.
            Backend::Sqlite => {
                self.with_db(move |db| Ok(db.write_bookkeeping(std::slice::from_ref(&b))?))
                    .await
            }
            // PostgreSQL: with the others waiting, by the bookkeeping thread.
            Backend::Postgres => match self.bookkeeping.call(b).await {
                Ok(r) => r.map_err(HttpError::internal),
                Err(stopped) => Err(HttpError::internal(stopped.to_string())),
            },
        }
    }

    /// The credentials check of a call ([`TillStore::poll_identity`]):
    /// on SQLite on a read connection; on PostgreSQL with the other calls
    /// waiting, in one statement.
    pub(crate) async fn poll_identity(
        self: &Arc<Self>,
        till: String,
        token_sha256: String,
    ) -> Result<PollIdentity, HttpError> {
        match self.backend {
            Backend::Sqlite => {
                self.with_read_db_now(move |db| Ok(db.poll_identity(&till, &token_sha256)?))
                    .await
            }
            Backend::Postgres => match self.identities.call((till, token_sha256)).await {
                Ok(r) => r,
                Err(stopped) => Err(HttpError::internal(stopped.to_string())),
            },
        }
    }

    /// Run `f`, a short read of the polling path (tens of µs on SQLite: a
    /// lookup by key, the small catalog of packages), on a read connection.
    /// On SQLite right on the async worker: handing it to a blocking thread
    /// and back would cost more than the read, thousands of times a second.
    /// On PostgreSQL, a network round trip, on a blocking thread.
    pub(crate) async fn with_read_db_now<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn ServerStore) -> Result<T, HttpError> + Send + 'static,
    ) -> Result<T, HttpError> {
        if self.backend != Backend::Sqlite {
            return self.with_read_db(f).await;
        }
        let _permit = self
            .read_permits
            .acquire()
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?;
        let mut db = self.read_connection();
        f(db.as_mut())
    }

    /// A free read connection (the caller holds a permit, so one is free).
    pub(crate) fn read_connection(&self) -> std::sync::MutexGuard<'_, Box<dyn ServerStore>> {
        self.read_dbs
            .iter()
            .find_map(|c| c.try_lock().ok())
            .unwrap_or_else(|| self.read_dbs[0].lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Run `f` on a pooled connection (on SQLite `f` must not write).
    pub(crate) async fn with_read_db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn ServerStore) -> Result<T, HttpError> + Send + 'static,
    ) -> Result<T, HttpError> {
        let _permit = self
            .read_permits
            .acquire()
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?;
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut db = state.read_connection();
            f(db.as_mut())
        })
        .await
        .map_err(|e| HttpError::internal(format!("worker failed: {e}")))?
    }
}

/// The write connection of `state`, locked (a lock poisoned by a panic is
/// taken as it is).
pub(crate) fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Box<dyn ServerStore>> {
    state.db.lock().unwrap_or_else(|p| p.into_inner())
}

impl CommitDb for AppState {
    fn backend(&self) -> Backend {
        self.backend
    }

    fn open_store(&self) -> Result<Box<dyn ServerStore>, ServerError> {
        self.data.open_store()
    }

    fn write_connection(&self) -> std::sync::MutexGuard<'_, Box<dyn ServerStore>> {
        lock(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_is_written_and_synchronous_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let (data, _) = DataDir::init(&dir.path().join("srv"), "T", Some(20)).unwrap();
        let mut db = data.open_store().unwrap();
        tillsync_server_db::enrol::enrol_test_key(db.as_mut(), "T001", "sha").unwrap();
        let pending = [Bookkeeping {
            till: "T001".to_string(),
            contact: true,
            tables: Some(vec![tillsync_wire::api::TillTable {
                table: "ART".into(),
                version: Some(3),
                layout_hash: None,
            }]),
            report: None,
            asked: Some("up to date".into()),
        }];
        db.write_bookkeeping(&pending).unwrap();
        let till = db.tills().unwrap();
        let t001 = till.iter().find(|t| t.till_id == "T001").unwrap();
        assert!(t001.last_contact.is_some());
        let reported = db.till_tables().unwrap();
        assert_eq!(
            reported
                .iter()
                .map(|r| (r.till_id.as_str(), r.table.as_str(), r.version))
                .collect::<Vec<_>>(),
            vec![("T001", "ART", Some(3))]
        );
        let journal = db
            .journal_entries(Some("T001"), 10)
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == "packages-asked")
            .count();
        assert_eq!(journal, 1);
        let sync = db.query_text("PRAGMA synchronous").unwrap();
        assert_eq!(sync.as_deref(), Some("2"), "back to FULL");
    }
}
