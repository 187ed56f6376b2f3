//! The simulated tills of `bench fleet`: each one's loop (poll for
//! packages, push a ticket batch now and then), its requests, and the
//! counters they all share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use tillsync_core::ticket::PricedItem;
use tillsync_wire::api::{AvailableResponse, ItemStatus, OutboxResponse};

use crate::rng::SplitMix64 as Rng;
use crate::ticket_chain::TicketChain;

/// Errors whose reason is kept for the report.
const REASONS_KEPT: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Available,
    Outbox,
}

/// What every simulated till shares.
pub(crate) struct Shared {
    pub(crate) available_url: String,
    pub(crate) outbox_url: String,
    pub(crate) folder: String,
    /// `AvailableRequest` with the tables every till holds (up to date).
    pub(crate) available_body: Vec<u8>,
    pub(crate) items: Vec<PricedItem>,
    pub(crate) lines: usize,
    pub(crate) batch: usize,
    pub(crate) push_every: u32,
    pub(crate) interval: Duration,
    /// Start of the schedule, end of the warm-up, end of the run.
    pub(crate) start: Instant,
    pub(crate) measure_from: Instant,
    pub(crate) end: Instant,
    pub(crate) requests: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) errors_in_warmup: AtomicU64,
    pub(crate) accepted: AtomicU64,
    /// Tickets sealed and sent at least once.
    pub(crate) sealed: AtomicU64,
    pub(crate) reasons: Mutex<Vec<String>>,
}

impl Shared {
    fn error(&self, at: Instant, reason: String) {
        if at < self.measure_from {
            self.errors_in_warmup.fetch_add(1, Ordering::Relaxed);
        }
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut r = self.reasons.lock().unwrap_or_else(|p| p.into_inner());
        if r.len() < REASONS_KEPT {
            r.push(reason);
        }
    }
}

pub(crate) struct SimTill {
    pub(crate) id: String,
    pub(crate) authorization: String,
    pub(crate) chain: TicketChain,
    pub(crate) client: reqwest::Client,
    /// First call, from the start of the schedule.
    pub(crate) phase: Duration,
    /// The cycle (modulo `push_every`) this till pushes on.
    pub(crate) push_slot: u32,
    pub(crate) rng: Rng,
}

/// Latencies of the measured window, per kind.
#[derive(Default)]
pub(crate) struct Samples {
    pub(crate) available: Vec<Duration>,
    pub(crate) outbox: Vec<Duration>,
}

async fn read_error(resp: reqwest::Response) -> String {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    format!(
        "HTTP {status}: {}",
        text.chars().take(200).collect::<String>()
    )
}

/// One till's life: poll, push now and then, until the end.
pub(crate) async fn till_loop(mut till: SimTill, shared: Arc<Shared>) -> Samples {
    let mut samples = Samples::default();
    let mut next = shared.start + till.phase;
    let mut cycle = 0u32;
    // A batch that did not reach the server is sent again, as the outbox does.
    let mut pending: Option<(Vec<u8>, usize)> = None;
    loop {
        tokio::time::sleep_until(next.into()).await;
        if Instant::now() >= shared.end {
            break;
        }
        let t = Instant::now();
        let outcome = available(&till, &shared).await;
        record(&shared, &mut samples, Kind::Available, t, outcome, &till.id);

        if cycle % shared.push_every == till.push_slot {
            let batch = match pending.take() {
                Some(b) => Ok(b),
                None => till
                    .chain
                    .batch_now(&shared.items, shared.lines, shared.batch)
                    .map(|b| {
                        shared
                            .sealed
                            .fetch_add(shared.batch as u64, Ordering::Relaxed);
                        (b, shared.batch)
                    }),
            };
            match batch {
                Ok((body, n)) => {
                    let t = Instant::now();
                    let outcome = push(&till, &shared, body.clone(), n).await;
                    if matches!(&outcome, Err((true, _))) {
                        pending = Some((body, n));
                    }
                    record(&shared, &mut samples, Kind::Outbox, t, outcome, &till.id);
                }
                Err(e) => shared.error(t, format!("till {}: sealing: {e:#}", till.id)),
            }
        }
        cycle = cycle.wrapping_add(1);
        let jitter = 0.9 + 0.2 * (till.rng.below(1_000_001) as f64 / 1e6);
        next += shared.interval.mul_f64(jitter);
    }
    samples
}

/// Count one request; keep its latency if it started in the measured window.
fn record(
    shared: &Shared,
    samples: &mut Samples,
    kind: Kind,
    started: Instant,
    outcome: Result<(), (bool, String)>,
    till: &str,
) {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let elapsed = started.elapsed();
    match outcome {
        Ok(()) => {
            if started >= shared.measure_from {
                match kind {
                    Kind::Available => samples.available.push(elapsed),
                    Kind::Outbox => samples.outbox.push(elapsed),
                }
            }
        }
        Err((_, reason)) => shared.error(started, format!("till {till}: {reason}")),
    }
}

/// `POST /api/v1/packages/available`, as a till asks it. `Err((retry, why))`.
async fn available(till: &SimTill, shared: &Shared) -> Result<(), (bool, String)> {
    let what = "POST /api/v1/packages/available";
    let resp = till
        .client
        .post(&shared.available_url)
        .header(reqwest::header::AUTHORIZATION, &till.authorization)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(shared.available_body.clone())
        .send()
        .await
        .map_err(|e| (true, format!("{what}: {e}")))?;
    if !resp.status().is_success() {
        return Err((true, format!("{what}: {}", read_error(resp).await)));
    }
    let answer: AvailableResponse = resp
        .json()
        .await
        .map_err(|e| (true, format!("{what}: the answer: {e}")))?;
    if answer.folder != shared.folder || answer.tables.is_empty() {
        return Err((
            false,
            format!(
                "{what}: folder {:?} with {} table plans",
                answer.folder,
                answer.tables.len()
            ),
        ));
    }
    Ok(())
}

/// `POST /api/v1/outbox` with `n` tickets; every one must be accepted (or a
/// duplicate of an earlier try). `Err((resend, why))`.
async fn push(
    till: &SimTill,
    shared: &Shared,
    body: Vec<u8>,
    n: usize,
) -> Result<(), (bool, String)> {
    let what = "POST /api/v1/outbox";
    let resp = till
        .client
        .post(&shared.outbox_url)
        .header(reqwest::header::AUTHORIZATION, &till.authorization)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| (true, format!("{what}: {e}")))?;
    if !resp.status().is_success() {
        let retry = resp.status().is_server_error();
        return Err((retry, format!("{what}: {}", read_error(resp).await)));
    }
    let answer: OutboxResponse = resp
        .json()
        .await
        .map_err(|e| (true, format!("{what}: the answer: {e}")))?;
    if answer.results.len() != n {
        return Err((
            false,
            format!("{what}: {} results for {n} tickets", answer.results.len()),
        ));
    }
    let mut accepted = 0;
    for r in &answer.results {
        match r.status {
            ItemStatus::Accepted => accepted += 1,
            ItemStatus::Duplicate => {}
            other => {
                return Err((
                    false,
                    format!(
                        "{what}: ticket {} was {other:?}: {}",
                        r.key,
                        r.reason.as_deref().unwrap_or("no reason given")
                    ),
                ));
            }
        }
    }
    shared.accepted.fetch_add(accepted, Ordering::Relaxed);
    Ok(())
}

pub(crate) fn http_client() -> Result<reqwest::Client> {
    // One client per till: its own keep-alive connection, as a till has.
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?)
}
