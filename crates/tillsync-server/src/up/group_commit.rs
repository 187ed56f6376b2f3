//! Steps 2 and 3 of the up path, the group commit: the outbox batches
//! waiting are stored in one transaction ([`UpStore::ingest_batches`]:
//! per item the idempotency record, the ticket filed in `TICKET` or
//! quarantine, or any other kind applied; the journal line of each push),
//! committed (`synchronous=FULL`; on PostgreSQL a normal commit), and each
//! batch answered after that commit.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tillsync_db::StoreError;
use tillsync_server_db::store::{Backend, BatchItem, ServerStore};
use tillsync_wire::api::OutboxResponse;

use crate::error::ServerError;
use crate::up::item::{Prepared, batch_items};

/// What the group commit needs of the web service's state (which holds the
/// [`GroupCommit`]): its database. A trait, so that the group commit does
/// not depend on that state.
pub trait CommitDb: Send + Sync + 'static {
    /// Which engine holds the server database.
    fn backend(&self) -> Backend;
    /// A new connection to the server database (a PostgreSQL commit
    /// thread's own).
    fn open_store(&self) -> Result<Box<dyn ServerStore>, ServerError>;
    /// The write connection, locked.
    fn write_connection(&self) -> MutexGuard<'_, Box<dyn ServerStore>>;
}

/// Most batches stored in one transaction by the group commit.
const MAX_GROUP: usize = 256;

/// Group commit of outbox batches (steps 2 and 3). Every batch is answered
/// only after its transaction is committed, and a durable commit costs a
/// disk flush (several ms on a shared disk): one batch per transaction would
/// cap a server at a few hundred batches per second. So one thread stores
/// every batch waiting when it is free in one transaction
/// ([`UpStore::ingest_batches`]) and answers them all after that one
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
    state: Arc<dyn CommitDb>,
    /// The till that sent it.
    till: String,
    items: Vec<Prepared>,
    done: tokio::sync::oneshot::Sender<Answer>,
}

impl GroupCommit {
    /// Queue `items` of `till` for the group commit; the answer comes after
    /// the commit (an error when the commit threads are gone).
    pub(crate) fn submit<S: CommitDb>(
        &self,
        state: &Arc<S>,
        till: String,
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
                let threads = match state.backend() {
                    tillsync_server_db::Backend::Sqlite => 1,
                    tillsync_server_db::Backend::Postgres => PG_COMMITTERS,
                };
                for i in 0..threads {
                    let state: Weak<dyn CommitDb> = Arc::<S>::downgrade(state);
                    let jobs = jobs.clone();
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
/// about five round trips whatever its size ([`UpStore::ingest_batches`]
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
    state: &Weak<dyn CommitDb>,
    backlog: &Backlog,
    helper: bool,
) {
    let mut own: Option<Box<dyn ServerStore>> = state.upgrade().and_then(|s| {
        if s.backend() == tillsync_server_db::Backend::Sqlite {
            return None;
        }
        s.open_store()
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
                .map(|(j, i)| (j.till.as_str(), i.as_slice()))
                .collect();
            match own.as_mut() {
                Some(db) => db.ingest_batches(&batches),
                None => state.write_connection().ingest_batches(&batches),
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
