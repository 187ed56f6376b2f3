//! The load generator of `bench up`: the simulated tills, each with its own
//! HTTP client, posting their batches or calling the no-op endpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tillsync_wire::api::{ItemStatus, OutboxResponse};

use crate::measure::{ms, per_s, percentile};
use crate::up::report::NoopRun;

pub(crate) struct SimTill {
    pub(crate) id: String,
    pub(crate) authorization: String,
    /// Serialised `OutboxBatch` bodies, in order.
    pub(crate) bodies: Vec<Vec<u8>>,
    /// Tickets in each body.
    pub(crate) sizes: Vec<usize>,
}

pub(crate) fn http_client() -> Result<reqwest::Client> {
    // One client per till, one connection each, as separate machines would.
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// Read an error body for a message.
async fn failure(resp: reqwest::Response, what: &str) -> anyhow::Error {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    anyhow::anyhow!(
        "{what}: HTTP {status}: {}",
        text.chars().take(300).collect::<String>()
    )
}

/// Every till calls `GET /api/v1/noop` in a loop for `secs`.
pub(crate) async fn noop_run(
    base: &str,
    tills: &[(String, reqwest::Client)],
    secs: f64,
) -> Result<NoopRun> {
    let url = format!("{base}api/v1/noop");
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (auth, client) in tills {
        let (url, auth, client) = (url.clone(), auth.clone(), client.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let resp = client
                    .get(&url)
                    .header(reqwest::header::AUTHORIZATION, &auth)
                    .send()
                    .await
                    .context("GET /api/v1/noop")?;
                if !resp.status().is_success() {
                    return Err(failure(resp, "GET /api/v1/noop").await);
                }
                resp.bytes().await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        });
    }
    let mut lat = Vec::new();
    while let Some(r) = tasks.join_next().await {
        lat.extend(r??);
    }
    let elapsed = started.elapsed();
    lat.sort();
    let n = lat.len() as u64;
    Ok(NoopRun {
        requests: n,
        elapsed_ms: ms(elapsed),
        requests_per_s: per_s(n, elapsed),
        latency_p50_ms: percentile(&lat, 50.0),
        latency_p99_ms: percentile(&lat, 99.0),
    })
}

/// Every till posts its batches, one at a time; returns the batch latencies
/// and the wall time.
pub(crate) async fn up_run(
    base: &str,
    tills: Vec<(SimTill, reqwest::Client)>,
    acked: Arc<AtomicU64>,
) -> Result<(Vec<Duration>, Duration)> {
    let url = format!("{base}api/v1/outbox");
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (till, client) in tills {
        let url = url.clone();
        let acked = acked.clone();
        tasks.spawn(async move {
            let mut lat = Vec::with_capacity(till.bodies.len());
            for (i, (body, size)) in till.bodies.into_iter().zip(till.sizes).enumerate() {
                let what = format!("till {} batch {}", till.id, i + 1);
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .header(reqwest::header::AUTHORIZATION, &till.authorization)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await
                    .with_context(|| format!("POST /api/v1/outbox ({what})"))?;
                if !resp.status().is_success() {
                    return Err(failure(resp, &format!("POST /api/v1/outbox ({what})")).await);
                }
                let answer: OutboxResponse = resp
                    .json()
                    .await
                    .with_context(|| format!("the answer to {what}"))?;
                lat.push(t.elapsed());
                if answer.results.len() != size {
                    bail!(
                        "{what}: {} results for {size} tickets",
                        answer.results.len()
                    );
                }
                if let Some(r) = answer
                    .results
                    .iter()
                    .find(|r| r.status != ItemStatus::Accepted)
                {
                    bail!(
                        "{what}: ticket {} was {:?}: {}",
                        r.key,
                        r.status,
                        r.reason.as_deref().unwrap_or("no reason given")
                    );
                }
                acked.fetch_add(size as u64, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>(lat)
        });
    }
    let mut lat = Vec::new();
    while let Some(r) = tasks.join_next().await {
        lat.extend(r??);
    }
    Ok((lat, started.elapsed()))
}
