//! The web service the tills call, JSON under `/api/v1` (see `docs/http-api.md`).
//!
//! Till identity comes from the request's credentials, never from its body:
//! `Authorization: Bearer <till id>:<token>`, the token from the till's
//! deployment package, checked against the SHA-256 the server keeps.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tillsync_core::Direction;
use tillsync_store::server::AuthFailure;
use tillsync_store::{Backend, Bookkeeping, PollIdentity, ServerStore, StoreError};
use tillsync_wire::api::{ApiError, AvailableRequest, AvailableResponse, Ping};

use crate::batch::Batcher;
use crate::data::DataDir;
use crate::error::ServerError;

/// Shared state of the web service.
pub struct AppState {
    /// The data folder.
    pub data: DataDir,
    /// POS folder name.
    pub folder: String,
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
    pub ticket_keys: crate::ingest::KeyCache,
    /// Counters of `GET /metrics`.
    pub metrics: crate::metrics::Metrics,
    /// Outbox batches committed together.
    pub group_commit: crate::ingest::GroupCommit,
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
    catalog: Mutex<Option<Arc<Catalog>>>,
    /// Held while the catalog is read for keeping.
    catalog_read: Arc<tokio::sync::Mutex<()>>,
    /// On PostgreSQL, the bookkeeping writes due now, written together by
    /// one thread on its own connection: everything waiting in one
    /// transaction of a few statements. Thousands of tills calling for the
    /// first time (a server start) cost tens of transactions, not thousands.
    bookkeeping: Arc<Batcher<Bookkeeping, Result<(), String>>>,
    /// On PostgreSQL, the credentials checks of the calls waiting, read
    /// together ([`ServerStore::poll_identities`]) by [`IDENTITY_READERS`]
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

/// `last_contact` is written at most this often per till (and per server
/// process): a till polling every few seconds would otherwise cost a
/// write on every call. Shorter when the supervisor's online window is
/// shorter ([`contact_write_every`]).
pub const CONTACT_WRITE_EVERY: Duration = Duration::from_secs(30);

/// How often a till's `last_contact` is written: [`CONTACT_WRITE_EVERY`],
/// or the supervisor's online window `2 × till.ping_timeout_ms +
/// till.sync_interval_ms` when that is shorter (11 s by default), so that
/// the write throttle at most doubles that window (the admin pages add it,
/// plus [`DEFERRED_EVERY`]: `crate::admin::pages::online_window_ms`).
pub fn contact_write_every(cfg: &tillsync_core::ServerConfig) -> Duration {
    CONTACT_WRITE_EVERY.min(Duration::from_millis(
        2 * cfg.till.ping_timeout_ms + cfg.till.sync_interval_ms,
    ))
}
/// The table versions a till reports are written when they change, and at
/// least this often (their `reported_at`).
pub const REPORT_WRITE_EVERY: Duration = Duration::from_secs(60);
/// A "packages-asked" journal line is written when the answer to the till
/// changes, and at least this often.
pub const ASKED_JOURNAL_EVERY: Duration = Duration::from_secs(3600);

/// What [`WriteThrottle::due`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Written recently with the same value: nothing to write.
    No,
    /// New or changed (or first seen by this process): write it now, so
    /// that what the server shows follows the till at once.
    Changed,
    /// Unchanged but older than the period: refresh it, deferred
    /// ([`AppState::deferred`]), the till does not wait.
    Refresh,
}

/// Read connections of the polling path (one per core of the target machine).
const READ_CONNECTIONS: usize = 2;
/// On PostgreSQL, where a read is a network round trip that mostly waits
/// (the database works in its own processes), more of them.
const PG_READ_CONNECTIONS: usize = 16;

/// How often the deferred writer runs, and how many tills it writes per
/// hold of the write connection (so that a ticket batch waits little).
pub const DEFERRED_EVERY: Duration = Duration::from_secs(1);
const DEFERRED_CHUNK: usize = 200;

/// The deferred writer: every DEFERRED_EVERY, the refreshes queued in
/// [`AppState::deferred`], without waiting for the disk
/// ([`ServerStore::write_bookkeeping`]); ends with the state.
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

/// What the polling path reads of the catalog: the published packages of
/// the down tables and the layouts of the up tables.
pub struct Catalog {
    /// The [`ServerStore::catalog_generation`] it was read at.
    generation: Option<i64>,
    /// When it was read.
    read_at: Instant,
    /// Published packages of the tables registered down.
    pub published: Vec<tillsync_wire::index::IndexEntry>,
    /// The up tables with their layouts.
    pub up_tables: Vec<tillsync_wire::api::UpTable>,
}

/// A catalog read at the current generation is used again for at most
/// this long: the generation follows the sync tables and packages, not the
/// columns of the up tables, so a column added to one (by the back office's
/// own tools) reaches the tills within this time.
pub const CATALOG_MAX_AGE: Duration = Duration::from_secs(5);

impl Catalog {
    fn read(db: &dyn ServerStore, generation: Option<i64>) -> Result<Self, StoreError> {
        let down: Vec<String> = db
            .sync_tables()?
            .into_iter()
            .filter(|t| t.direction == Direction::Down)
            .map(|t| t.table)
            .collect();
        let published = db
            .published()?
            .into_iter()
            .filter(|e| down.contains(&e.table))
            .collect();
        let up_tables = db
            .up_table_layouts()?
            .into_iter()
            .map(|(table, layout)| tillsync_wire::api::UpTable { table, layout })
            .collect();
        Ok(Catalog {
            generation,
            read_at: Instant::now(),
            published,
            up_tables,
        })
    }
}

/// Per-till memory of the last write of one thing, so that a poll that
/// changes nothing does not write: a write is due when the value's
/// fingerprint changed or `every` has passed.
pub struct WriteThrottle {
    every: Duration,
    last: Mutex<HashMap<String, (Instant, u64)>>,
}

impl WriteThrottle {
    /// Writes at most every `every` per till, unless the value changes.
    pub fn new(every: Duration) -> Self {
        WriteThrottle {
            every,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `value` of `till` should be written now; if so, it is taken
    /// as written (call [`WriteThrottle::forget`] if the write fails).
    pub fn due(&self, till: &str, value: &impl Hash) -> Due {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        value.hash(&mut h);
        let fingerprint = h.finish();
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match last.get_mut(till) {
            Some((at, f)) if *f == fingerprint && now.duration_since(*at) < self.every => Due::No,
            Some((at, f)) if *f == fingerprint => {
                *at = now;
                Due::Refresh
            }
            Some(entry) => {
                *entry = (now, fingerprint);
                Due::Changed
            }
            None => {
                last.insert(till.to_string(), (now, fingerprint));
                Due::Changed
            }
        }
    }

    /// The period.
    pub fn every(&self) -> Duration {
        self.every
    }

    /// The write of `till` failed: the next call is due.
    pub fn forget(&self, till: &str) {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(till);
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
            catalog: Mutex::new(None),
            catalog_read: Default::default(),
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

    /// The catalog as of `generation` (read with the till's credentials):
    /// the one kept when it was read at that generation, else read now (and
    /// kept). Once the kept one is [`CATALOG_MAX_AGE`] old, one task reads
    /// it again while the calls go on with it: the generation is the same,
    /// only a column added to an up table can be missing from it, so no
    /// call waits for that read. Without a generation, read every time.
    pub(crate) async fn catalog(
        self: &Arc<Self>,
        generation: Option<i64>,
    ) -> Result<Arc<Catalog>, HttpError> {
        if generation.is_none() {
            return Ok(Arc::new(
                self.with_read_db_now(move |db| Ok(Catalog::read(db, None)?))
                    .await?,
            ));
        }
        // The kept catalog of this generation, and whether it is old.
        let kept = || {
            let kept = self.catalog.lock().unwrap_or_else(|p| p.into_inner());
            kept.as_ref()
                .filter(|c| c.generation == generation)
                .map(|c| (c.clone(), c.read_at.elapsed() >= CATALOG_MAX_AGE))
        };
        match kept() {
            Some((c, false)) => return Ok(c),
            Some((c, true)) => {
                if let Ok(reading) = self.catalog_read.clone().try_lock_owned() {
                    let state = self.clone();
                    tokio::spawn(async move {
                        let _reading = reading;
                        if let Err(e) = state.read_catalog(generation).await {
                            tracing::warn!(error = e.message(), "reading the catalog again failed");
                        }
                    });
                }
                return Ok(c);
            }
            None => {}
        }
        // One read at a time: the calls that find no catalog of their
        // generation together wait for the first one's read rather than
        // all reading.
        let _reading = self.catalog_read.lock().await;
        if let Some((c, _)) = kept() {
            return Ok(c);
        }
        self.read_catalog(generation).await
    }

    /// Read the catalog (after `generation` was read: at least as new as
    /// it) and keep it unless a newer generation is kept.
    async fn read_catalog(
        self: &Arc<Self>,
        generation: Option<i64>,
    ) -> Result<Arc<Catalog>, HttpError> {
        let read = Arc::new(
            self.with_read_db_now(move |db| Ok(Catalog::read(db, generation)?))
                .await?,
        );
        let mut kept = self.catalog.lock().unwrap_or_else(|p| p.into_inner());
        if kept.as_ref().is_none_or(|c| c.generation <= generation) {
            *kept = Some(read.clone());
        }
        Ok(read)
    }

    /// Queue a bookkeeping refresh for the deferred writer.
    fn defer(&self, till: &str, f: impl FnOnce(&mut Bookkeeping)) {
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
    /// disk ([`ServerStore::write_bookkeeping`]): a crash can lose the last
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

    /// The credentials check of a call ([`ServerStore::poll_identity`]):
    /// on SQLite on a read connection; on PostgreSQL with the other calls
    /// waiting, in one statement.
    async fn poll_identity(
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

/// An error answered as JSON with a status code.
#[derive(Debug)]
pub struct HttpError {
    status: StatusCode,
    body: ApiError,
}

impl HttpError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        HttpError {
            status,
            body: ApiError {
                error: code.into(),
                message: message.into(),
            },
        }
    }

    /// The error's message.
    pub(crate) fn message(&self) -> &str {
        &self.body.message
    }

    pub(crate) fn internal(message: String) -> Self {
        tracing::error!(%message, "internal error");
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownTill(_) => {
                HttpError::new(StatusCode::FORBIDDEN, "unknown-till", e.to_string())
            }
            other => HttpError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// The calling till, authenticated.
#[derive(Debug, Clone)]
pub struct Till {
    /// Till id.
    pub id: String,
    /// Its store.
    pub store: String,
    /// The catalog generation read with its credentials, if the backend
    /// keeps one ([`ServerStore::catalog_generation`]).
    pub generation: Option<i64>,
}

impl FromRequestParts<Arc<AppState>> for Till {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |msg: &str| {
            HttpError::new(StatusCode::UNAUTHORIZED, "bad-credentials", msg.to_string())
        };
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                unauthorized(
                    "this call needs the till's credentials (Authorization: Bearer TILL:TOKEN)",
                )
            })?;
        let (id, token) = header
            .strip_prefix("Bearer ")
            .and_then(|c| c.trim().split_once(':'))
            .filter(|(id, token)| !id.is_empty() && !token.is_empty())
            .ok_or_else(|| {
                unauthorized("malformed credentials: expected Authorization: Bearer TILL:TOKEN")
            })?;
        let (id, token_sha) = (id.to_string(), tillsync_wire::sha256_hex(token.as_bytes()));
        let PollIdentity {
            auth,
            store,
            generation,
        } = state.poll_identity(id.clone(), token_sha).await?;
        // The contact is written at most every CONTACT_WRITE_EVERY per till:
        // at once the first time, deferred afterwards.
        let due = if auth.is_ok() {
            state.contacts.due(&id, &())
        } else {
            Due::No
        };
        if due == Due::Refresh {
            state.defer(&id, |d| d.contact = true);
        }
        if due == Due::Changed {
            let contact = Bookkeeping {
                till: id.clone(),
                contact: true,
                ..Default::default()
            };
            if let Err(e) = state.write_bookkeeping(contact).await {
                state.contacts.forget(&id);
                return Err(e);
            }
        }
        match (auth, store) {
            (Ok(()), Some(store)) => Ok(Till {
                id,
                store,
                generation,
            }),
            (Err(AuthFailure::Revoked), _) => Err(HttpError::new(
                StatusCode::FORBIDDEN,
                "till-revoked",
                format!("till {id} was revoked; generate a new deployment package to reinstate it"),
            )),
            _ => Err(unauthorized(&format!(
                "the credentials of till {id} are not valid (unknown till, or a deployment package that was since regenerated)"
            ))),
        }
    }
}

/// The router of API v1.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/ping", get(ping))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/packages/available", post(available))
        .route("/api/v1/customers", post(crate::customers::create))
        .route(
            "/api/v1/outbox",
            post(crate::ingest::outbox).layer(axum::extract::DefaultBodyLimit::max(
                crate::ingest::MAX_BODY,
            )),
        )
        .route("/api/v1/noop", get(crate::ingest::noop))
        .route("/metrics", get(crate::metrics::metrics))
        .merge(crate::admin::router(&state))
        .fallback(|| async {
            HttpError::new(StatusCode::NOT_FOUND, "not-found", "no such API endpoint")
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::count_requests,
        ))
        .with_state(state)
}

/// The OpenAPI document of API v1 (`docs/openapi.json`, built in).
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// `GET /api/v1/ping`: open to anyone (a till checks the connection with
/// it); when it carries a till's credentials, it counts as that till's
/// contact, so an idle till with nothing to push stays "online".
async fn ping(State(state): State<Arc<AppState>>, till: Result<Till, HttpError>) -> Json<Ping> {
    // Bad or missing credentials do not fail the connection check.
    drop(till);
    Json(Ping {
        status: "ok".into(),
        folder: state.folder.clone(),
        api: 1,
        server_time: tillsync_store::now_rfc3339(),
    })
}

async fn available(
    State(state): State<Arc<AppState>>,
    till: Till,
    body: Result<Json<AvailableRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<AvailableResponse>, HttpError> {
    let Json(req) =
        body.map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, "bad-request", e.body_text()))?;
    if let Some(at) = req
        .report
        .as_ref()
        .and_then(|r| r.oldest_queued_at.as_deref())
        && chrono::DateTime::parse_from_rfc3339(at).is_err()
    {
        return Err(HttpError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "report.oldest_queued_at: expected an RFC 3339 time such as 2026-11-28T10:00:00Z",
        ));
    }
    let folder = state.folder.clone();
    let catalog = state.catalog(till.generation).await?;
    let plans =
        tillsync_core::plan::plan_all(&catalog.published, &till.store, &req.tables, req.full);
    let up_tables = catalog.up_tables.clone();
    // The versions the till holds (for `server tills list` and the lag
    // metrics) and its outbox report (for the till supervisor) are written
    // when they change or every REPORT_WRITE_EVERY; the journal hears what
    // the till was told when it changes.
    let reported: Vec<_> = req
        .tables
        .iter()
        .map(|t| (&t.table, t.version, &t.layout_hash))
        .collect();
    let report_text = req
        .report
        .as_ref()
        .map(|r| serde_json::to_string(r).unwrap_or_default());
    let report = state.reports.due(&till.id, &(reported, &report_text));
    let detail = asked_detail(&plans);
    let asked = state.asked.due(&till.id, &detail);
    if report == Due::Refresh {
        let (tables, outbox) = (req.tables.clone(), req.report.clone());
        state.defer(&till.id, |d| {
            d.tables = Some(tables);
            if outbox.is_some() {
                d.report = outbox;
            }
        });
    }
    if asked == Due::Refresh {
        let detail = detail.clone();
        state.defer(&till.id, |d| d.asked = Some(detail));
    }
    let (report, asked) = (report == Due::Changed, asked == Due::Changed);
    if report || asked {
        let write = Bookkeeping {
            till: till.id.clone(),
            contact: false,
            tables: report.then(|| req.tables.clone()),
            report: if report { req.report.clone() } else { None },
            asked: asked.then_some(detail),
        };
        if let Err(e) = state.write_bookkeeping(write).await {
            state.reports.forget(&till.id);
            state.asked.forget(&till.id);
            return Err(e);
        }
    }
    Ok(Json(AvailableResponse {
        folder,
        tables: plans,
        up_tables,
    }))
}

/// The journal's line for an answer to "which packages are available".
fn asked_detail(plans: &[tillsync_wire::api::TablePlan]) -> String {
    let detail = plans
        .iter()
        .filter(|p| !p.packages.is_empty())
        .map(|p| format!("{} {:?} {} package(s)", p.table, p.action, p.packages.len()))
        .collect::<Vec<_>>()
        .join(", ");
    if detail.is_empty() {
        "up to date".to_string()
    } else {
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_is_written_and_synchronous_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let (data, _) = crate::data::DataDir::init(&dir.path().join("srv"), "T", Some(20)).unwrap();
        let mut db = data.open_store().unwrap();
        db.issue_credentials("T001", "sha", "key").unwrap();
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

    #[test]
    fn throttled_writes_are_due_on_change_or_after_the_period() {
        let t = WriteThrottle::new(Duration::from_millis(80));
        assert_eq!(t.due("T1", &1), Due::Changed, "first time");
        assert_eq!(t.due("T1", &1), Due::No, "unchanged, within the period");
        assert_eq!(t.due("T2", &1), Due::Changed, "another till");
        assert_eq!(t.due("T1", &2), Due::Changed, "changed value");
        assert_eq!(t.due("T1", &2), Due::No);
        t.forget("T1");
        assert_eq!(t.due("T1", &2), Due::Changed, "after a failed write");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(t.due("T1", &2), Due::Refresh, "period over");
        assert_eq!(t.due("T1", &2), Due::No, "refreshed");
    }

    /// Every route of the router is described in the OpenAPI document.
    #[test]
    fn openapi_describes_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let source = include_str!("web.rs");
        let routes: Vec<&str> = source
            .match_indices(".route(\"")
            .map(|(i, m)| {
                let rest = &source[i + m.len()..];
                &rest[..rest.find('"').expect("closing quote")]
            })
            .collect();
        assert!(routes.len() >= 3, "{routes:?}");
        for r in routes {
            assert!(
                paths.contains_key(r),
                "route {r} is missing from docs/openapi.json"
            );
        }
    }
}
