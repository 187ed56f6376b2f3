//! `POST /api/v1/outbox`: a till's outbox batch, checked, stored in one
//! transaction and answered only after the commit; and `GET /api/v1/noop`,
//! the authenticated call that does nothing (the benchmark's baseline).
//!
//! A batch goes through three steps:
//! 1. without the database: parse the body, and for each ticket its hash and
//!    signature (the costly part, on a blocking thread, while other batches
//!    use the database). A ticket naming another till refuses the whole
//!    request (403 `foreign-ticket`, nothing stored): a till posts only its
//!    own tickets.
//! 2. with the database, in one transaction
//!    ([`tillsync_store::ServerStore::ingest_batch`]): per item, the
//!    idempotency record (`tillsync_received`), then the ticket filed in
//!    `TICKET` or quarantine, or any other kind (customer changes, up-table
//!    rows) applied; the journal line of the push.
//! 3. commit (`synchronous=FULL`; on PostgreSQL a normal commit), then answer
//!    one result per item. The batches waiting meanwhile share one
//!    transaction and one commit ([`GroupCommit`],
//!    [`tillsync_store::ServerStore::ingest_batches`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::Deserialize;
use serde_json::value::RawValue;
use tillsync_core::ticket::{ChainError, Ticket};
use tillsync_store::server_up;
use tillsync_store::store::BatchItem;
use tillsync_store::{ServerStore, StoreError};
use tillsync_wire::api::{ItemResult, ItemStatus, OutboxItem, OutboxKind, OutboxResponse};

use crate::web::{AppState, HttpError, Till};

/// Largest accepted body of `POST /api/v1/outbox` (8 MiB): a bigger one is
/// answered 413; the till sends smaller batches.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Longest accepted idempotency key.
pub const MAX_KEY_LEN: usize = 200;

/// The ticket public keys of each till, read once from the database.
/// Keys are only ever added (a regenerated deployment package adds one), so
/// a ticket that no cached key verifies re-reads them once.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, Arc<Vec<VerifyingKey>>>>);

impl KeyCache {
    fn get(&self, till: &str) -> Option<Arc<Vec<VerifyingKey>>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(till)
            .cloned()
    }

    fn load(&self, db: &dyn ServerStore, till: &str) -> Result<Arc<Vec<VerifyingKey>>, StoreError> {
        let keys: Vec<VerifyingKey> = db
            .till_ticket_keys(till)?
            .iter()
            .filter_map(|h| {
                let b: [u8; 32] = hex::decode(h).ok()?.try_into().ok()?;
                VerifyingKey::from_bytes(&b).ok()
            })
            .collect();
        let keys = Arc::new(keys);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(till.to_string(), keys.clone());
        Ok(keys)
    }
}

#[derive(Deserialize)]
struct RawBatch<'a> {
    #[serde(borrow)]
    items: Vec<RawItem<'a>>,
}

#[derive(Deserialize)]
struct RawItem<'a> {
    key: String,
    kind: OutboxKind,
    #[serde(borrow)]
    payload: &'a RawValue,
}

/// An item after the checks that need no database.
enum Prepared {
    Ticket {
        key: String,
        ticket: Box<Ticket>,
        payload: String,
        check: server_up::TicketCheck,
    },
    Unreadable {
        key: String,
        payload: String,
        reason: String,
        fingerprint: String,
    },
    Other {
        item: OutboxItem,
        fingerprint: String,
    },
}

/// `POST /api/v1/outbox`.
pub(crate) async fn outbox(
    State(state): State<Arc<AppState>>,
    till: Till,
    req: Request,
) -> Result<axum::response::Response, HttpError> {
    // Refuse an announced oversized body before reading it.
    let announced = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let body = Bytes::from_request(req, &state)
        .await
        .map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                HttpError::new(StatusCode::BAD_REQUEST, "bad-request", e.body_text())
            }
        })?;
    // Parsing and signature checks on a blocking thread; the wait for the
    // group commit as a cheap task (not a thread parked per batch).
    let checked = {
        let (state, till) = (state.clone(), till.clone());
        tokio::task::spawn_blocking(move || checked(&state, &till, &body))
            .await
            .map_err(|e| HttpError::internal(format!("worker failed: {e}")))??
    };
    let stopped = || {
        HttpError::from(StoreError::Inconsistent(
            "the group commit thread stopped".into(),
        ))
    };
    let (prepared, resp) = state
        .group_commit
        .submit(&state, till, checked)
        .await
        .map_err(|_| stopped())?;
    let resp = resp.map_err(HttpError::from)?;
    // Committed: count the batch and its tickets for `GET /metrics`.
    if !prepared.is_empty() {
        state.metrics.batch(
            prepared
                .iter()
                .zip(&resp.results)
                .filter(|(p, _)| !matches!(p, Prepared::Other { .. }))
                .map(|(_, r)| r.status),
        );
    }
    // A ticket that failed its signature or chain is answered 422 with the
    // reason (it is kept in quarantine, never dropped); the batch is stored
    // all the same, and `results` says what became of every item.
    let quarantined: Vec<&ItemResult> = resp
        .results
        .iter()
        .filter(|r| r.status == ItemStatus::Quarantined)
        .collect();
    if quarantined.is_empty() {
        return Ok(Json(resp).into_response());
    }
    let message = format!(
        "{} item(s) kept in quarantine: {}",
        quarantined.len(),
        quarantined
            .iter()
            .map(|r| format!("{} ({})", r.key, r.reason.as_deref().unwrap_or("refused")))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(serde_json::json!({
            "error": "quarantined",
            "message": message,
            "results": resp.results,
        })),
    )
        .into_response())
}

fn too_large() -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!(
            "the batch is larger than {} MiB; send fewer items per batch",
            MAX_BODY >> 20
        ),
    )
}

/// `GET /api/v1/noop`: authenticated (records the contact), does nothing.
pub(crate) async fn noop(till: Till) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "till": till.id }))
}

/// Why a batch is refused as a whole before the database is touched.
enum Refusal {
    /// Bad request, foreign ticket: answered with this status and code.
    Bad(StatusCode, &'static str, String),
    /// Reading the till's keys failed.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Store(e)
    }
}

/// Parse and check one batch of `till`; a batch refused as a whole is
/// journaled and answered with its error.
fn checked(state: &AppState, till: &Till, body: &[u8]) -> Result<Vec<Prepared>, HttpError> {
    match prepare(state, till, body) {
        Ok(p) => Ok(p),
        Err(Refusal::Store(e)) => Err(e.into()),
        Err(Refusal::Bad(status, code, message)) => {
            let _ = lock(state).journal("push", Some(&till.id), "refused", &message);
            Err(HttpError::new(status, code, message))
        }
    }
}

/// The connection that reads a till's ticket keys: on PostgreSQL one of the
/// pool, on SQLite the write connection (the pool's are for async workers).
fn key_reader(state: &AppState) -> std::sync::MutexGuard<'_, Box<dyn ServerStore>> {
    match state.backend {
        tillsync_store::Backend::Sqlite => lock(state),
        tillsync_store::Backend::Postgres => state.read_connection(),
    }
}

fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Box<dyn ServerStore>> {
    state.db.lock().unwrap_or_else(|p| p.into_inner())
}

/// Step 1: everything that needs no database, except reading the till's
/// keys when they are not cached.
fn prepare(state: &AppState, till: &Till, body: &[u8]) -> Result<Vec<Prepared>, Refusal> {
    let batch: RawBatch<'_> = serde_json::from_slice(body).map_err(|e| {
        Refusal::Bad(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("the body is not an outbox batch: {e}"),
        )
    })?;
    let mut out = Vec::with_capacity(batch.items.len());
    // Signatures to verify: (index in `out`, digest, signature).
    let mut signed: Vec<(usize, [u8; 32], Signature)> = Vec::with_capacity(batch.items.len());
    for item in batch.items {
        if item.key.is_empty() || item.key.len() > MAX_KEY_LEN {
            return Err(Refusal::Bad(
                StatusCode::BAD_REQUEST,
                "bad-request",
                format!(
                    "an item key must have 1 to {MAX_KEY_LEN} characters (got {})",
                    item.key.len()
                ),
            ));
        }
        let payload = item.payload.get();
        if item.kind != OutboxKind::Ticket {
            let value: serde_json::Value = serde_json::from_str(payload)
                .map_err(|e| Refusal::Bad(StatusCode::BAD_REQUEST, "bad-request", e.to_string()))?;
            let fingerprint = tillsync_wire::sha256_hex(value.to_string().as_bytes());
            out.push(Prepared::Other {
                item: OutboxItem {
                    key: item.key,
                    kind: item.kind,
                    payload: value,
                },
                fingerprint,
            });
            continue;
        }
        let ticket: Ticket = match serde_json::from_str(payload) {
            Ok(t) => t,
            Err(e) => {
                out.push(Prepared::Unreadable {
                    reason: format!("item {}: not a readable ticket: {e}", item.key),
                    key: item.key,
                    payload: payload.to_string(),
                    fingerprint: tillsync_wire::sha256_hex(payload.as_bytes()),
                });
                continue;
            }
        };
        if ticket.till != till.id {
            return Err(Refusal::Bad(
                StatusCode::FORBIDDEN,
                "foreign-ticket",
                format!(
                    "item {} is ticket {} of till {}, but these credentials are till {}'s: a till sends only its own tickets; nothing of this batch was stored",
                    item.key, ticket.number, ticket.till, till.id
                ),
            ));
        }
        let digest = ticket.digest();
        let check = if hex::encode(digest) != ticket.hash {
            Err(ChainError::Hash {
                till: ticket.till.clone(),
                number: ticket.number,
            }
            .to_string())
        } else {
            match hex::decode(&ticket.signature)
                .ok()
                .and_then(|b| Signature::from_slice(&b).ok())
            {
                None => Err(bad_signature(&ticket)),
                Some(sig) => {
                    signed.push((out.len(), digest, sig));
                    Ok(())
                }
            }
        };
        out.push(Prepared::Ticket {
            key: item.key,
            ticket: Box::new(ticket),
            payload: payload.to_string(),
            check,
        });
    }
    verify_signatures(state, till, &mut out, &signed)?;
    Ok(out)
}

fn bad_signature(t: &Ticket) -> String {
    ChainError::Signature {
        till: t.till.clone(),
        number: t.number,
    }
    .to_string()
}

/// Verify the signatures of a batch's tickets with the till's keys; a
/// ticket that none verifies gets its check failed. One batch verification
/// with the newest key first (about twice as fast as one by one); when it
/// fails (a bad signature, or tickets signed with an older or a newer
/// key), one by one with every key, the keys read again once.
fn verify_signatures(
    state: &AppState,
    till: &Till,
    out: &mut [Prepared],
    signed: &[(usize, [u8; 32], Signature)],
) -> Result<(), Refusal> {
    if signed.is_empty() {
        return Ok(());
    }
    let cache = &state.ticket_keys;
    let mut keys = match cache.get(&till.id) {
        Some(k) => k,
        None => cache.load(key_reader(state).as_ref(), &till.id)?,
    };
    if let Some(newest) = keys.first() {
        let messages: Vec<&[u8]> = signed.iter().map(|(_, d, _)| &d[..]).collect();
        let signatures: Vec<Signature> = signed.iter().map(|(_, _, s)| *s).collect();
        let vks = vec![*newest; signed.len()];
        if ed25519_dalek::verify_batch(&messages, &signatures, &vks).is_ok() {
            return Ok(());
        }
    }
    let mut refreshed = false;
    for (i, digest, sig) in signed {
        let verified = |ks: &[VerifyingKey]| ks.iter().any(|k| k.verify(digest, sig).is_ok());
        let mut ok = verified(&keys);
        if !ok && !refreshed {
            // A key issued since the cache was filled: read them again.
            refreshed = true;
            keys = cache.load(key_reader(state).as_ref(), &till.id)?;
            ok = verified(&keys);
        }
        if !ok && let Prepared::Ticket { ticket, check, .. } = &mut out[*i] {
            *check = Err(bad_signature(ticket));
        }
    }
    Ok(())
}

/// The items of a batch as the store takes them.
fn batch_items(items: &[Prepared]) -> Vec<BatchItem<'_>> {
    items
        .iter()
        .map(|p| match p {
            Prepared::Ticket {
                key,
                ticket,
                payload,
                check,
            } => BatchItem::Ticket {
                key,
                ticket,
                payload,
                check: check.clone(),
            },
            Prepared::Unreadable {
                key,
                payload,
                reason,
                fingerprint,
            } => BatchItem::Unreadable {
                key,
                payload,
                reason,
                fingerprint,
            },
            Prepared::Other { item, fingerprint } => BatchItem::Other { item, fingerprint },
        })
        .collect()
}

/// Most batches stored in one transaction by the group commit.
const MAX_GROUP: usize = 256;

/// Group commit of outbox batches (steps 2 and 3). Every batch is answered
/// only after its transaction is committed, and a durable commit costs a
/// disk flush (several ms on a shared disk): one batch per transaction would
/// cap a server at a few hundred batches per second. So one thread stores
/// every batch waiting when it is free in one transaction
/// ([`ServerStore::ingest_batches`]) and answers them all after that one
/// commit; the batches that arrive meanwhile make the next group. If the
/// group fails, the store rolls it back and stores each batch in its own
/// transaction, so that one batch's error is only that batch's.
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    /// Items queued and not yet taken into a group, and the helpers'
    /// wake-up ([`committer`]).
    backlog: Arc<Backlog>,
}

/// The items waiting for the group commit, for the helper threads: they
/// join only when this many are waiting.
#[derive(Default)]
struct Backlog {
    items: Mutex<usize>,
    grown: std::sync::Condvar,
}

impl Backlog {
    fn add(&self, n: usize) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        *items += n;
        if *items >= HELP_AT {
            self.grown.notify_all();
        }
    }
    fn taken(&self, n: usize) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        *items = items.saturating_sub(n);
    }
    /// Wait (up to a second) until at least [`HELP_AT`] items are waiting.
    fn wait_for_help_needed(&self) -> bool {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let (items, _) = self
            .grown
            .wait_timeout_while(items, Duration::from_secs(1), |n| *n < HELP_AT)
            .unwrap_or_else(|p| p.into_inner());
        *items >= HELP_AT
    }
}

/// What a batch's sender gets back: its items and the answer.
type Answer = (Vec<Prepared>, Result<OutboxResponse, StoreError>);

/// One batch waiting for the group commit.
struct Job {
    state: Arc<AppState>,
    till: Till,
    items: Vec<Prepared>,
    done: tokio::sync::oneshot::Sender<Answer>,
}

impl GroupCommit {
    /// Queue `items` of `till` for the group commit; the answer comes after
    /// the commit (an error when the commit threads are gone).
    fn submit(
        &self,
        state: &Arc<AppState>,
        till: Till,
        items: Vec<Prepared>,
    ) -> tokio::sync::oneshot::Receiver<Answer> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            state: state.clone(),
            till,
            items,
            done,
        };
        let sent = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let sender = queue.get_or_insert_with(|| {
                let (sender, jobs) = std::sync::mpsc::channel();
                let jobs = Arc::new(Mutex::new(jobs));
                // SQLite has one writer: one thread, on the write connection.
                // PostgreSQL takes writers in parallel: several threads,
                // each with its own connection (a statement is a network
                // round trip; one connection would serialise them all).
                let threads = match state.backend {
                    tillsync_store::Backend::Sqlite => 1,
                    tillsync_store::Backend::Postgres => PG_COMMITTERS,
                };
                for i in 0..threads {
                    let (jobs, state) = (jobs.clone(), Arc::downgrade(state));
                    let backlog = self.backlog.clone();
                    std::thread::Builder::new()
                        .name(format!("tillsync-commit-{i}"))
                        .spawn(move || committer(&jobs, &state, &backlog, i > 0))
                        .expect("the group commit thread starts");
                }
                sender
            });
            // Counted before it can be taken, so that the count never
            // keeps an item already taken.
            let n = job.items.len().max(1);
            self.backlog.add(n);
            let sent = sender.send(job);
            if sent.is_err() {
                self.backlog.taken(n);
            }
            sent
        };
        // When the send failed, the job (with its `done`) is dropped: the
        // receiver hears that at once.
        drop(sent);
        answer
    }
}

/// Group commit threads on PostgreSQL (one connection each): a group costs
/// about five round trips whatever its size ([`ServerStore::ingest_batches`]
/// files new tickets set-wise), so the first thread takes every batch
/// waiting, and the others ("helpers") join only when at least
/// [`HELP_AT`] items are waiting. Thousands of tills pushing a few tickets
/// each make large groups on one thread (two threads taking turns made
/// groups of one or two batches, and twice the database's work per batch);
/// a backlog of large batches (a store coming back online) is filed by all.
const PG_COMMITTERS: usize = 2;
/// Items waiting for the group commit from which the helpers join.
const HELP_AT: usize = 200;

/// A group commit thread: until every sender is gone. On PostgreSQL it
/// opens its own connection (the write connection when that fails). A
/// helper takes a group only when the backlog is at least [`HELP_AT`]
/// items.
fn committer(
    jobs: &Mutex<std::sync::mpsc::Receiver<Job>>,
    state: &std::sync::Weak<AppState>,
    backlog: &Backlog,
    helper: bool,
) {
    let mut own: Option<Box<dyn ServerStore>> = state.upgrade().and_then(|s| {
        if s.backend == tillsync_store::Backend::Sqlite {
            return None;
        }
        s.data
            .open_store()
            .inspect_err(|e| tracing::warn!(error = %e, "group commit: no connection of its own"))
            .ok()
    });
    loop {
        if helper && !backlog.wait_for_help_needed() {
            if state.strong_count() == 0 {
                return;
            }
            continue;
        }
        let group = {
            let jobs = jobs.lock().unwrap_or_else(|p| p.into_inner());
            let mut group = Vec::new();
            if !helper {
                let Ok(first) = jobs.recv() else { return };
                group.push(first);
            }
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(j) => group.push(j),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) if group.is_empty() => {
                        return;
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => break,
                }
            }
            group
        };
        backlog.taken(group.iter().map(|j| j.items.len().max(1)).sum());
        if group.is_empty() {
            continue;
        }
        let state = group[0].state.clone();
        let results = {
            let items: Vec<Vec<BatchItem<'_>>> =
                group.iter().map(|j| batch_items(&j.items)).collect();
            let batches: Vec<(&str, &[BatchItem<'_>])> = group
                .iter()
                .zip(&items)
                .map(|(j, i)| (j.till.id.as_str(), i.as_slice()))
                .collect();
            match own.as_mut() {
                Some(db) => db.ingest_batches(&batches),
                None => lock(&state).ingest_batches(&batches),
            }
        };
        for (job, r) in group.into_iter().zip(results) {
            let _ = job.done.send((job.items, r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale};
    use tillsync_wire::api::OutboxBatch;

    use crate::data::DataDir;

    /// A server with demo data (tills T001, T002 of store S01) and a ticket
    /// key for each.
    fn server(dir: &std::path::Path) -> (Arc<AppState>, Vec<(Till, SigningKey)>) {
        let (data, _) = DataDir::init(&dir.join("srv"), "T", Some(20)).unwrap();
        let state = AppState::open(data).unwrap();
        let tills = ["T001", "T002"]
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let key = SigningKey::from_bytes(&[i as u8 + 1; 32]);
                lock(&state)
                    .issue_credentials(
                        id,
                        &tillsync_wire::sha256_hex(b"token"),
                        &hex::encode(key.verifying_key().to_bytes()),
                    )
                    .unwrap();
                let store = lock(&state).till_store(id).unwrap();
                (
                    Till {
                        id: id.to_string(),
                        store,
                        generation: None,
                    },
                    key,
                )
            })
            .collect();
        (state, tills)
    }

    /// The body of a batch of tickets 1..=n of `till`.
    fn body(till: &str, key: &SigningKey, n: u64) -> Vec<u8> {
        let item = PricedItem {
            code: "ART0000001".into(),
            label: "item".into(),
            price_cents: 250,
            vat_rate_bp: 2000,
        };
        let mut prev = GENESIS_HASH.to_string();
        let items = (1..=n)
            .map(|number| {
                let t = Sale {
                    lines: vec![(item.clone(), 2)],
                    payments: vec![Payment {
                        method: "card".into(),
                        amount_cents: 500,
                    }],
                    customer: None,
                    corrects: None,
                }
                .seal(till, number, "2026-11-28T12:00:00Z", &prev, key)
                .unwrap();
                prev = t.hash.clone();
                OutboxItem {
                    key: format!("ticket:{number}"),
                    kind: OutboxKind::Ticket,
                    payload: serde_json::to_value(&t).unwrap(),
                }
            })
            .collect();
        serde_json::to_vec(&OutboxBatch { items }).unwrap()
    }

    fn tickets(state: &AppState) -> String {
        lock(state)
            .query_text("SELECT COUNT(*) FROM \"TICKET\"")
            .unwrap()
            .unwrap()
    }

    #[test]
    fn a_group_of_batches_of_several_tills_is_stored_in_one_call() {
        let dir = tempfile::tempdir().unwrap();
        let (state, tills) = server(dir.path());
        let prep = |(till, key): &(Till, SigningKey), n| {
            prepare(&state, till, &body(&till.id, key, n)).unwrap_or_else(|_| panic!())
        };
        // T001's batch twice in the same group (a resend racing the first
        // try): the second is answered duplicate, nothing stored twice.
        let group = [
            ("T001", prep(&tills[0], 3)),
            ("T002", prep(&tills[1], 2)),
            ("T001", prep(&tills[0], 3)),
        ];
        let items: Vec<Vec<BatchItem<'_>>> = group.iter().map(|(_, p)| batch_items(p)).collect();
        let batches: Vec<(&str, &[BatchItem<'_>])> = group
            .iter()
            .zip(&items)
            .map(|((t, _), i)| (*t, i.as_slice()))
            .collect();
        let results = lock(&state).ingest_batches(&batches);
        let statuses: Vec<Vec<ItemStatus>> = results
            .into_iter()
            .map(|r| r.unwrap().results.into_iter().map(|i| i.status).collect())
            .collect();
        assert_eq!(statuses[0], vec![ItemStatus::Accepted; 3]);
        assert_eq!(statuses[1], vec![ItemStatus::Accepted; 2]);
        assert_eq!(statuses[2], vec![ItemStatus::Duplicate; 3]);
        assert_eq!(tickets(&state), "5");
    }

    #[test]
    fn batches_sent_at_once_through_the_commit_thread_are_all_answered() {
        let dir = tempfile::tempdir().unwrap();
        let (state, tills) = server(dir.path());
        let handles: Vec<_> = tills
            .into_iter()
            .map(|(till, key)| {
                let state = state.clone();
                std::thread::spawn(move || {
                    let items = prepare(&state, &till, &body(&till.id, &key, 4))
                        .unwrap_or_else(|_| panic!());
                    let (_, r) = state
                        .group_commit
                        .submit(&state, till, items)
                        .blocking_recv()
                        .unwrap();
                    r.unwrap()
                })
            })
            .collect();
        for h in handles {
            let r = h.join().unwrap();
            assert_eq!(r.results.len(), 4);
            assert!(r.results.iter().all(|i| i.status == ItemStatus::Accepted));
        }
        assert_eq!(tickets(&state), "8");
    }

    /// The helpers' backlog: they are woken once HELP_AT items wait, and
    /// not below; taking items brings the count down, never below zero.
    #[test]
    fn helpers_join_only_on_a_large_backlog() {
        let backlog = Arc::new(Backlog::default());
        backlog.add(HELP_AT - 1);
        let waiting = {
            let b = backlog.clone();
            std::thread::spawn(move || b.wait_for_help_needed())
        };
        std::thread::sleep(Duration::from_millis(50));
        backlog.add(1);
        assert!(
            waiting.join().unwrap(),
            "woken by the item that made the backlog large"
        );
        backlog.taken(HELP_AT);
        assert_eq!(*backlog.items.lock().unwrap(), 0);
        backlog.taken(5);
        assert_eq!(*backlog.items.lock().unwrap(), 0);
        backlog.add(3);
        assert!(
            !backlog.wait_for_help_needed(),
            "3 items are no reason to help"
        );
    }
}
