//! Calls served in groups by threads with a database connection each:
//! everything waiting goes in one database call, then every caller is
//! answered. Used on PostgreSQL, where a statement's round trip costs more
//! than the work of one till's call.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

/// A call waiting, with the sender of its caller's answer.
type Waiting<Q, A> = (Q, tokio::sync::oneshot::Sender<A>);

/// Calls of type `Q` waiting for their answer `A`.
pub struct Batcher<Q, A> {
    waiting: Mutex<Vec<Waiting<Q, A>>>,
    wake: Condvar,
    /// Named in errors ("the … thread stopped").
    name: &'static str,
    /// The most calls served by one database call.
    max_group: usize,
}

/// The thread serving a [`Batcher`] stopped (its state is gone).
#[derive(Debug, thiserror::Error)]
#[error("the {0} thread stopped")]
pub struct Stopped(pub &'static str);

impl<Q: Send + 'static, A: Send + 'static> Batcher<Q, A> {
    /// An empty queue; `name` names its threads.
    pub fn new(name: &'static str, max_group: usize) -> Arc<Self> {
        Arc::new(Batcher {
            waiting: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            name,
            max_group: max_group.max(1),
        })
    }

    /// Queue `q` and wait, as a task, for its answer.
    pub async fn call(&self, q: Q) -> Result<A, Stopped> {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((q, done));
        self.wake.notify_one();
        answer.await.map_err(|_| Stopped(self.name))
    }

    /// Start a thread that serves the queue: `serve` gets everything waiting
    /// (at most `max_group`, in arrival order) and returns one answer per
    /// call, in the same order. Several threads may serve one queue. The
    /// thread ends once the queue is dropped.
    pub fn serve(
        self: &Arc<Self>,
        mut serve: impl FnMut(Vec<Q>) -> Vec<A> + Send + 'static,
    ) -> std::io::Result<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name(format!("tillsync-{}", self.name))
            .spawn(move || {
                loop {
                    let Some(queue) = weak.upgrade() else { return };
                    let group = queue.next_group();
                    drop(queue);
                    if group.is_empty() {
                        continue;
                    }
                    let (calls, senders): (Vec<Q>, Vec<_>) = group.into_iter().unzip();
                    // A missing answer drops its sender: that caller hears
                    // Stopped rather than waiting for ever.
                    for (done, answer) in senders.into_iter().zip(serve(calls)) {
                        let _ = done.send(answer);
                    }
                }
            })
            .map(|_| ())
    }

    /// Everything waiting (at most `max_group`), after waiting up to a
    /// second for something.
    fn next_group(&self) -> Vec<Waiting<Q, A>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if waiting.is_empty() {
            waiting = self
                .wake
                .wait_timeout(waiting, Duration::from_secs(1))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let n = waiting.len().min(self.max_group);
        waiting.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_are_answered_in_groups_and_in_order() {
        let queue: Arc<Batcher<u32, u32>> = Batcher::new("test", 8);
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        queue
            .serve(move |calls| {
                seen.lock().unwrap().push(calls.len());
                // Slow enough that calls pile up behind this group.
                std::thread::sleep(Duration::from_millis(20));
                calls.iter().map(|c| c * 10).collect()
            })
            .unwrap();
        let calls: Vec<_> = (0..50u32)
            .map(|i| {
                let q = queue.clone();
                tokio::spawn(async move { q.call(i).await.unwrap() })
            })
            .collect();
        for (i, c) in calls.into_iter().enumerate() {
            assert_eq!(c.await.unwrap(), i as u32 * 10);
        }
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 50);
        assert!(sizes.iter().all(|&n| n <= 8), "{sizes:?}");
        assert!(sizes.len() < 50, "calls were grouped: {sizes:?}");
    }

    #[tokio::test]
    async fn a_missing_answer_is_an_error_not_a_wait() {
        let queue: Arc<Batcher<u32, u32>> = Batcher::new("short", 8);
        queue.serve(|_| Vec::new()).unwrap();
        let e = queue.call(1).await.unwrap_err();
        assert_eq!(e.to_string(), "the short thread stopped");
    }
}
