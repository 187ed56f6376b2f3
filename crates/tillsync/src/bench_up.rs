//! `tillsync bench up`: tickets pushed by many simulated tills to a real
//! server, measured against a no-op authenticated endpoint under the same
//! load generator in the same run.
//!
//! The server is the real one (`tillsync_server::run::start`, SQLite, the
//! embedded FTP server idle) on 127.0.0.1:0, in a temp folder made with the
//! demo data. Each simulated till gets real credentials from a deployment
//! package, then seals its whole chain of signed tickets (prices from `ART`)
//! and serialises its batches *before* the clock starts: what is timed is
//! the web service receiving, verifying and durably storing them. Each till
//! has its own HTTP client and sends one batch at a time, as a till does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use ed25519_dalek::SigningKey;
use serde::Serialize;
use tillsync_core::Secret;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, Ticket};
use tillsync_core::till_config::TillAuth;
use tillsync_server::run::{RunOptions, start};
use tillsync_server::{DataDir, deploy};
use tillsync_wire::api::{ItemStatus, OutboxBatch, OutboxItem, OutboxKind, OutboxResponse};

use tillsync_output::Out;

/// Tickets per second durably acknowledged.
const TARGET_TICKETS_PER_S: f64 = 20_000.0;
/// Tickets per second / no-op requests per second.
const TARGET_VS_NOOP: f64 = 0.30;
/// Store of the simulated tills.
const STORE: &str = "S01";

#[derive(Args)]
pub struct UpArgs {
    /// Simulated tills, all sending at the same time.
    #[arg(long, default_value_t = 100)]
    pub tills: usize,
    /// Tickets each till sends.
    #[arg(long, default_value_t = 1_000)]
    pub tickets: usize,
    /// Lines per ticket.
    #[arg(long, default_value_t = 5)]
    pub lines: usize,
    /// Tickets per outbox batch (one POST).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Items in the demo `ART` the tickets are priced from.
    #[arg(long, default_value_t = 10_000)]
    pub items: usize,
    /// Seconds of each no-op baseline run (one before, one after the tickets).
    #[arg(long, default_value_t = 3.0)]
    pub baseline_secs: f64,
    /// Folder to make the temporary bench folder in (default: the system
    /// temp folder). Put it on the disk you mean to measure: the figures
    /// include fsync.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the temp folder (server database, tills' packages) for analysis.
    #[arg(long)]
    pub keep: bool,
    /// A PostgreSQL server to run on, `postgres://user:password@host:port/db`
    /// of a role that may create databases (default: the embedded SQLite
    /// database). A fresh database is created there for the run and dropped
    /// at the end.
    #[arg(long)]
    pub db_url: Option<String>,
}

// ---- the report ----

#[derive(Serialize)]
struct UpReport {
    tills: usize,
    tickets_per_till: usize,
    lines_per_ticket: usize,
    tickets_per_batch: usize,
    tickets: u64,
    batches: u64,
    cpus: usize,
    arch: String,
    db: String,
    dir: PathBuf,
    /// Server init with demo data, till rows, deployment packages.
    setup_ms: f64,
    /// Sealing (hash chain, Ed25519 signature) and serialising every batch,
    /// before timing.
    prebuild_ms: f64,
    /// Bytes of every request body.
    request_bytes: u64,
    up: UpFigures,
    /// Where the CPU went during the ticket run (Linux only).
    #[serde(skip_serializing_if = "Option::is_none")]
    costs: Option<Costs>,
    noop: NoopFigures,
    /// `up.tickets_per_s / noop.requests_per_s`: the target's ratio.
    tickets_vs_noop: f64,
    /// `up.batches_per_s / noop.requests_per_s`, for information.
    batches_vs_noop: f64,
    check: Check,
    targets: Vec<Target>,
    all_targets_met: bool,
    total_ms: f64,
}

#[derive(Serialize)]
struct UpFigures {
    /// From the first POST sent to the last answer read.
    elapsed_ms: f64,
    tickets_per_s: f64,
    batches_per_s: f64,
    batch_latency_p50_ms: f64,
    batch_latency_p99_ms: f64,
    batch_latency_max_ms: f64,
}

/// CPU time during the ticket run, and the cost of verifying one ticket
/// measured apart in the same run.
#[derive(Serialize)]
struct Costs {
    /// Server threads (web service, database workers), user + system.
    server_cpu_ms: f64,
    /// The simulated tills' HTTP clients (same machine).
    load_generator_cpu_ms: f64,
    /// `server_cpu_ms` per ticket, in µs.
    server_cpu_us_per_ticket: f64,
    /// `Ticket::verify` (hash, Ed25519 signature, link) one by one, one
    /// thread, µs per ticket.
    verify_us_per_ticket: f64,
    /// Hashes and one Ed25519 batch verification per batch, as the server
    /// checks a batch, one thread, µs per ticket.
    batch_verify_us_per_ticket: f64,
    /// `batch_verify_us_per_ticket / server_cpu_us_per_ticket`.
    verify_share: f64,
    /// `cpus / server_cpu_us_per_ticket`: what the server would reach with
    /// every core to itself (no load generator, no other process).
    server_ceiling_tickets_per_s: f64,
}

#[derive(Serialize)]
struct NoopFigures {
    /// `GET /api/v1/noop`, each till in a loop, before the tickets.
    before: NoopRun,
    /// The same after the tickets (bigger database).
    after: NoopRun,
    /// The higher of the two (the stricter baseline).
    requests_per_s: f64,
}

#[derive(Serialize)]
struct NoopRun {
    requests: u64,
    elapsed_ms: f64,
    requests_per_s: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
}

/// What the server database holds afterwards.
#[derive(Serialize)]
struct Check {
    /// Rows in `TICKET` (verified tickets).
    tickets_stored: u64,
    /// Distinct `(till_id, number)` in `TICKET`.
    distinct_numbers: u64,
    /// Tickets in quarantine.
    quarantined: u64,
    /// Tills whose numbers are not exactly `1..=tickets`, chain links all
    /// verified (none pending).
    tills_incomplete: Vec<String>,
    /// Every ticket stored exactly once and verified.
    ok: bool,
}

#[derive(Serialize)]
struct Target {
    name: String,
    value: f64,
    limit: f64,
    met: bool,
}

// ---- a simulated till ----

struct SimTill {
    id: String,
    authorization: String,
    /// Serialised `OutboxBatch` bodies, in order.
    bodies: Vec<Vec<u8>>,
    /// Tickets in each body.
    sizes: Vec<usize>,
}

// The deterministic generator of `bench down`, to pick items and quantities.
use crate::bench::SplitMix64 as Rng;
use crate::bench::print_verdict;

/// One till's tickets, ready to send.
struct Prebuilt {
    /// Serialised `OutboxBatch` bodies, in order.
    bodies: Vec<Vec<u8>>,
    /// Tickets in each body.
    sizes: Vec<usize>,
    /// The first tickets, kept to time their verification apart.
    sample: Vec<Ticket>,
    /// The till's ticket key.
    key: SigningKey,
}

/// Tickets of each till kept in [`Prebuilt::sample`].
const SAMPLE: usize = 1_000;

/// A till's chain of signed tickets, sealed one after the other: the
/// generator of `bench up` and `bench fleet`.
pub(crate) struct TicketChain {
    id: String,
    key: SigningKey,
    rng: Rng,
    prev: String,
    number: u64,
}

impl TicketChain {
    /// A new chain for till `id` (first ticket number 1), signed with `key`;
    /// `seed` picks items and quantities reproducibly.
    pub(crate) fn new(id: &str, key: SigningKey, seed: u64) -> Self {
        TicketChain {
            id: id.to_string(),
            key,
            rng: Rng(seed),
            prev: GENESIS_HASH.to_string(),
            number: 0,
        }
    }

    /// The till key of a deployment package (hex).
    pub(crate) fn key_from_hex(signing_key_hex: &str) -> Result<SigningKey> {
        TillAuth {
            token: Secret::new(""),
            signing_key: Secret::new(signing_key_hex),
        }
        .signing_key()
        .context("the till key of the deployment package")
    }

    /// Seal the next ticket of `lines` lines priced from `items`, sold at `time`.
    pub(crate) fn next_ticket(
        &mut self,
        items: &[PricedItem],
        lines: usize,
        time: &str,
    ) -> Result<Ticket> {
        let number = self.number + 1;
        let sale_lines: Vec<(PricedItem, i64)> = (0..lines)
            .map(|_| {
                let item = items[self.rng.below(items.len() as u64) as usize].clone();
                (item, 1 + self.rng.below(3) as i64)
            })
            .collect();
        let total: i64 = sale_lines.iter().map(|(i, q)| i.price_cents * q).sum();
        let sale = Sale {
            lines: sale_lines,
            payments: vec![Payment {
                method: if number.is_multiple_of(3) {
                    "cash"
                } else {
                    "card"
                }
                .into(),
                amount_cents: total,
            }],
            customer: None,
            corrects: None,
        };
        let ticket = sale
            .seal(&self.id, number, time, &self.prev, &self.key)
            .with_context(|| format!("sealing ticket {}/{number}", self.id))?;
        self.prev = ticket.hash.clone();
        self.number = number;
        Ok(ticket)
    }

    /// The outbox item of a ticket, as the till's outbox sends it.
    pub(crate) fn item(ticket: &Ticket) -> Result<OutboxItem> {
        Ok(OutboxItem {
            key: format!("ticket:{}", ticket.number),
            kind: OutboxKind::Ticket,
            payload: serde_json::to_value(ticket)?,
        })
    }

    /// The serialised `OutboxBatch` of the next `n` tickets, sold now.
    pub(crate) fn batch_now(
        &mut self,
        items: &[PricedItem],
        lines: usize,
        n: usize,
    ) -> Result<Vec<u8>> {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let items = (0..n)
            .map(|_| Self::item(&self.next_ticket(items, lines, &time)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(serde_json::to_vec(&OutboxBatch { items })?)
    }
}

/// Seal `n` chained tickets of `lines` lines for till `id` and cut them
/// into serialised batches.
fn prebuild(
    id: &str,
    signing_key_hex: &str,
    items: &[PricedItem],
    n: usize,
    lines: usize,
    batch: usize,
    seed: u64,
) -> Result<Prebuilt> {
    let key = TicketChain::key_from_hex(signing_key_hex)?;
    let mut chain = TicketChain::new(id, key.clone(), seed);
    let start = chrono::Utc::now() - chrono::Duration::seconds(n as i64);
    let mut bodies = Vec::new();
    let mut sizes = Vec::new();
    let mut items_out = Vec::with_capacity(batch);
    let mut sample = Vec::new();
    for number in 1..=n as u64 {
        let time = (start + chrono::Duration::seconds(number as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let ticket = chain.next_ticket(items, lines, &time)?;
        items_out.push(TicketChain::item(&ticket)?);
        if sample.len() < SAMPLE {
            sample.push(ticket);
        }
        if items_out.len() == batch || number == n as u64 {
            sizes.push(items_out.len());
            let b = OutboxBatch {
                items: std::mem::take(&mut items_out),
            };
            bodies.push(serde_json::to_vec(&b)?);
        }
    }
    Ok(Prebuilt {
        bodies,
        sizes,
        sample,
        key,
    })
}

/// Microseconds one thread takes per ticket to check, over `sample`:
/// one by one with [`Ticket::verify`] (hash, signature, link), and as the
/// server does it, the hashes then one Ed25519 batch verification per
/// `batch` tickets.
fn verify_cost(sample: &[Ticket], key: &SigningKey, batch: usize) -> Result<(f64, f64)> {
    let n = sample.len().max(1) as f64;
    let vk = key.verifying_key();
    let t = Instant::now();
    let mut prev = GENESIS_HASH;
    for ticket in sample {
        ticket
            .verify(&vk, prev)
            .with_context(|| format!("ticket {} does not verify", ticket.number))?;
        prev = &ticket.hash;
    }
    let single = t.elapsed().as_secs_f64() * 1e6 / n;
    let t = Instant::now();
    for chunk in sample.chunks(batch.max(1)) {
        let digests: Vec<[u8; 32]> = chunk.iter().map(Ticket::digest).collect();
        let signatures = chunk
            .iter()
            .map(|t| {
                let bytes = unhex(&t.signature).context("a signature is not hex")?;
                Ok(ed25519_dalek::Signature::from_slice(&bytes)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let messages: Vec<&[u8]> = digests.iter().map(|d| &d[..]).collect();
        let keys = vec![vk; chunk.len()];
        ed25519_dalek::verify_batch(&messages, &signatures, &keys)
            .context("the batch of sample tickets does not verify")?;
    }
    let batched = t.elapsed().as_secs_f64() * 1e6 / n;
    Ok((single, batched))
}

/// The bytes of a hex string (`None` if it is not hex).
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// CPU time (user + system) of this process's threads whose name starts
/// with `prefix`, from `/proc/self/task` (Linux; `None` elsewhere).
fn threads_cpu(prefix: &str) -> Option<Duration> {
    // USER_HZ: the unit of utime/stime in /proc, 100 on Linux.
    const TICKS_PER_S: u64 = 100;
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 12 {
            ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        }
    }
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_S))
}

/// CPU time of the server's threads: its runtime (`bench-server`) and the
/// threads it starts itself (`tillsync-commit`, `tillsync-deferred`).
fn server_cpu() -> Option<Duration> {
    Some(threads_cpu("bench-server")? + threads_cpu("tillsync-")?)
}

/// The demo items, as a till prices them.
pub(crate) fn priced_items(data: &DataDir) -> Result<Vec<PricedItem>> {
    let mut db = data.open_store()?;
    let rows =
        db.query_rows("SELECT code, label, price_cents, vat_rate_bp FROM \"ART\" ORDER BY code")?;
    let number = |v: &Option<String>, what: &str| -> Result<i64> {
        v.as_deref()
            .with_context(|| format!("ART.{what} is NULL"))?
            .parse::<i64>()
            .with_context(|| format!("ART.{what} is not a number"))
    };
    let items = rows
        .iter()
        .map(|r| {
            Ok(PricedItem {
                code: r[0].clone().context("ART.code is NULL")?,
                label: r[1].clone().unwrap_or_default(),
                price_cents: number(&r[2], "price_cents")?,
                vat_rate_bp: number(&r[3], "vat_rate_bp")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if items.is_empty() {
        bail!("the demo ART is empty");
    }
    Ok(items)
}

// ---- measurements ----

pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Nearest-rank percentile of sorted durations, in ms.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    ms(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub(crate) fn per_s(n: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 {
        (n as f64 / s * 10.0).round() / 10.0
    } else {
        0.0
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 1e4).round() / 1e4
    } else {
        f64::INFINITY
    }
}

fn http_client() -> Result<reqwest::Client> {
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
async fn noop_run(base: &str, tills: &[(String, reqwest::Client)], secs: f64) -> Result<NoopRun> {
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
async fn up_run(
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

/// Check that the server holds every ticket exactly once, verified, with
/// each till's numbers contiguous and every chain link closed.
fn check_server(data: &DataDir, ids: &[String], per_till: u64) -> Result<Check> {
    let mut db = data.open_store()?;
    let counts = db
        .query_rows(
            "SELECT COUNT(*), COUNT(DISTINCT \"till_id\" || ':' || \"number\") FROM \"TICKET\"",
        )
        .context("counting the tickets in the server's TICKET table")?;
    let count = |i: usize| -> Result<i64> {
        counts
            .first()
            .and_then(|r| r.get(i).cloned().flatten())
            .context("no count")?
            .parse::<i64>()
            .context("counting the tickets in the server's TICKET table")
    };
    let (stored, distinct) = (count(0)?, count(1)?);
    let state = db.ticket_state(None)?;
    let mut quarantined = 0;
    let mut incomplete = Vec::new();
    for id in ids {
        match state.iter().find(|t| &t.till_id == id) {
            Some(t) => {
                quarantined += t.quarantined;
                if t.verified != per_till
                    || t.highest_contiguous != per_till
                    || t.highest_received != per_till
                    || t.links_pending != 0
                    || !t.missing.is_empty()
                {
                    incomplete.push(id.clone());
                }
            }
            None => incomplete.push(id.clone()),
        }
    }
    let expected = per_till * ids.len() as u64;
    let (stored, distinct) = (stored as u64, distinct as u64);
    Ok(Check {
        ok: stored == expected && distinct == expected && quarantined == 0 && incomplete.is_empty(),
        tickets_stored: stored,
        distinct_numbers: distinct,
        quarantined,
        tills_incomplete: incomplete,
    })
}

// ---- bench up ----

pub fn run(args: UpArgs, out: &Out) -> Result<ExitCode> {
    if args.tills == 0 || args.tickets == 0 || args.lines == 0 || args.batch == 0 {
        bail!("--tills, --tickets, --lines and --batch must be at least 1");
    }
    if args.items == 0 {
        bail!("--items must be at least 1");
    }
    if !(args.baseline_secs > 0.0 && args.baseline_secs.is_finite()) {
        bail!("--baseline-secs must be a positive number");
    }
    let started = Instant::now();
    let tmp = crate::bench::bench_dir(args.dir.as_deref(), "tillsync-bench-up-")?;
    let root = tmp.path().to_path_buf();

    let pb = out.spinner("starting");
    const STEPS: usize = 6;
    let step = |i: usize, msg: String| pb.set_message(format!("[{i}/{STEPS}] {msg}"));

    // 1. A server with demo data and one STORE_TILL row per simulated till.
    step(
        1,
        format!(
            "creating a server with {} items and {} tills",
            args.items, args.tills
        ),
    );
    let t = Instant::now();
    // On PostgreSQL, a fresh database for this run (dropped at the end).
    let fresh = match &args.db_url {
        Some(url) => Some(crate::bench_fleet::FreshPg::create(url)?),
        None => None,
    };
    let (data, _) = DataDir::init_with_db(
        &root.join("server"),
        "BENCH",
        Some(args.items),
        fresh.as_ref().map(|f| f.url.as_str()),
    )?;
    let ids: Vec<String> = (1..=args.tills).map(|i| format!("T{}", 100 + i)).collect();
    {
        // One statement (one transaction), the same SQL on both backends;
        // the ids are generated.
        let rows: Vec<String> = ids
            .iter()
            .map(|id| format!("('{id}', '{STORE}', 'bench till {id}')"))
            .collect();
        data.open_store()?
            .execute_batch(&format!(
                "INSERT INTO \"STORE_TILL\" (\"till_id\", \"store\", \"label\") VALUES {}",
                rows.join(", ")
            ))
            .context("adding the bench's tills to STORE_TILL")?;
    }
    let mut creds = Vec::with_capacity(ids.len());
    for id in &ids {
        let p = deploy::build(&data, id)?;
        creds.push((id.clone(), p.till_token, p.till_signing_key));
    }
    let items = priced_items(&data)?;
    let db_label = {
        let db = data.open_store()?;
        format!("{} {}", db.backend().engine_name(), db.engine_version()?)
    };
    let setup = t.elapsed();

    // 2. Every till seals its chain and serialises its batches.
    step(
        2,
        format!(
            "sealing {} tickets of {} lines ({} tills)",
            args.tills * args.tickets,
            args.lines,
            args.tills
        ),
    );
    let t = Instant::now();
    let mut sims = Vec::with_capacity(creds.len());
    let mut sample = None;
    for (i, (id, token, key)) in creds.iter().enumerate() {
        let p = prebuild(
            id,
            key,
            &items,
            args.tickets,
            args.lines,
            args.batch,
            0xB0_0000 + i as u64,
        )?;
        if i == 0 {
            sample = Some((p.sample, p.key));
        }
        sims.push(SimTill {
            id: id.clone(),
            authorization: format!("Bearer {id}:{token}"),
            bodies: p.bodies,
            sizes: p.sizes,
        });
    }
    let prebuild_ms = ms(t.elapsed());
    let (verify_us, batch_verify_us) = match &sample {
        Some((tickets, key)) => verify_cost(tickets, key, args.batch)?,
        None => (0.0, 0.0),
    };
    let request_bytes: u64 = sims
        .iter()
        .flat_map(|s| s.bodies.iter())
        .map(|b| b.len() as u64)
        .sum();
    let batches: u64 = sims.iter().map(|s| s.bodies.len() as u64).sum();
    let tickets = (args.tills * args.tickets) as u64;

    // The server, and the load generator on its own runtime.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("bench-server")
        .build()?;
    let d = data.clone();
    let running = server_rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        anyhow::Ok(
            start(
                d,
                RunOptions {
                    web_listener: Some(listener),
                    ftp_listen: Some("127.0.0.1:0".parse()?),
                    scheduled_exports: false,
                },
            )
            .await?,
        )
    })?;
    let base = format!("http://{}/", running.web_addr);
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("bench-tills")
        .build()?;

    let result = client_rt.block_on(async {
        let clients: Vec<(String, reqwest::Client)> = sims
            .iter()
            .map(|s| Ok((s.authorization.clone(), http_client()?)))
            .collect::<Result<_>>()?;

        // 3. Warm up (connections, caches), then the baseline.
        step(
            3,
            format!(
                "no-op baseline: {} tills calling GET /api/v1/noop for {} s",
                args.tills, args.baseline_secs
            ),
        );
        noop_run(&base, &clients, 0.3).await?;
        let before = noop_run(&base, &clients, args.baseline_secs).await?;

        // 4. The tickets.
        step(
            4,
            format!(
                "{} tills posting {tickets} tickets in batches of {}",
                args.tills, args.batch
            ),
        );
        let acked = Arc::new(AtomicU64::new(0));
        let ticker = {
            let (acked, pb) = (acked.clone(), pb.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    pb.set_message(format!(
                        "[4/{STEPS}] {} / {tickets} tickets acknowledged",
                        acked.load(Ordering::Relaxed)
                    ));
                }
            })
        };
        let till_clients: Vec<(SimTill, reqwest::Client)> = sims
            .into_iter()
            .zip(clients.iter().map(|(_, c)| c.clone()))
            .collect();
        let cpu_before = (server_cpu(), threads_cpu("bench-tills"));
        let up = up_run(&base, till_clients, acked.clone()).await;
        let cpu_after = (server_cpu(), threads_cpu("bench-tills"));
        ticker.abort();
        let (mut lat, elapsed) = up?;
        let cpu = match (cpu_before, cpu_after) {
            ((Some(s0), Some(l0)), (Some(s1), Some(l1))) => {
                Some((s1.saturating_sub(s0), l1.saturating_sub(l0)))
            }
            _ => None,
        };

        // 5. The baseline again, on the bigger database.
        step(5, "no-op baseline again".into());
        let after = noop_run(&base, &clients, args.baseline_secs).await?;
        lat.sort();
        anyhow::Ok((before, after, lat, elapsed, cpu))
    });
    server_rt.block_on(running.shutdown());
    drop(server_rt);
    let (before, after, lat, elapsed, cpu) = result?;

    // 6. What the server holds.
    step(6, "checking the server's TICKET table".into());
    let check = check_server(&data, &ids, args.tickets as u64)?;
    pb.finish_and_clear();

    let up = UpFigures {
        elapsed_ms: ms(elapsed),
        tickets_per_s: per_s(tickets, elapsed),
        batches_per_s: per_s(batches, elapsed),
        batch_latency_p50_ms: percentile(&lat, 50.0),
        batch_latency_p99_ms: percentile(&lat, 99.0),
        batch_latency_max_ms: lat.last().copied().map(ms).unwrap_or(0.0),
    };
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let costs = cpu.map(|(server, load)| {
        let server_us = server.as_secs_f64() * 1e6 / tickets as f64;
        Costs {
            server_cpu_ms: ms(server),
            load_generator_cpu_ms: ms(load),
            server_cpu_us_per_ticket: (server_us * 100.0).round() / 100.0,
            verify_us_per_ticket: (verify_us * 100.0).round() / 100.0,
            batch_verify_us_per_ticket: (batch_verify_us * 100.0).round() / 100.0,
            verify_share: ratio(batch_verify_us, server_us),
            server_ceiling_tickets_per_s: if server_us > 0.0 {
                (cpus as f64 * 1e6 / server_us).round()
            } else {
                0.0
            },
        }
    });
    let noop_rps = before.requests_per_s.max(after.requests_per_s);
    let tickets_vs_noop = ratio(up.tickets_per_s, noop_rps);
    let targets = vec![
        Target {
            name: "tickets/s durably acknowledged".into(),
            value: up.tickets_per_s,
            limit: TARGET_TICKETS_PER_S,
            met: up.tickets_per_s >= TARGET_TICKETS_PER_S,
        },
        Target {
            name: "tickets/s / no-op requests/s".into(),
            value: tickets_vs_noop,
            limit: TARGET_VS_NOOP,
            met: tickets_vs_noop >= TARGET_VS_NOOP,
        },
    ];
    let report = UpReport {
        tills: args.tills,
        tickets_per_till: args.tickets,
        lines_per_ticket: args.lines,
        tickets_per_batch: args.batch,
        tickets,
        batches,
        cpus,
        arch: std::env::consts::ARCH.to_string(),
        db: db_label,
        dir: root.clone(),
        setup_ms: ms(setup),
        prebuild_ms,
        request_bytes,
        batches_vs_noop: ratio(up.batches_per_s, noop_rps),
        tickets_vs_noop,
        up,
        costs,
        noop: NoopFigures {
            before,
            after,
            requests_per_s: noop_rps,
        },
        all_targets_met: check.ok && targets.iter().all(|t| t.met),
        check,
        targets,
        total_ms: ms(started.elapsed()),
    };
    if args.keep {
        let _ = tmp.keep();
    } else {
        drop(tmp);
    }
    out.emit(&report, || print_report(&report, args.keep));
    if !report.check.ok {
        bail!(
            "the server holds {} tickets ({} distinct, {} quarantined, {} tills incomplete), {} were sent",
            report.check.tickets_stored,
            report.check.distinct_numbers,
            report.check.quarantined,
            report.check.tills_incomplete.len(),
            report.tickets
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &UpReport, kept: bool) {
    let line = |label: &str, value: String| println!("  {label:<50} {value:>16}");
    println!(
        "tillsync bench up — {} tills × {} tickets of {} lines, batches of {}",
        r.tills, r.tickets_per_till, r.lines_per_ticket, r.tickets_per_batch
    );
    println!(
        "{} · {} CPUs {} · temp folder {} ({})",
        r.db,
        r.cpus,
        r.arch,
        r.dir.display(),
        if kept { "kept" } else { "removed" }
    );
    println!();
    println!("setup (not timed)");
    line(
        "server init, till rows, deployment packages",
        format!("{:.1} ms", r.setup_ms),
    );
    line(
        &format!(
            "sealing {} tickets, serialising {} batches",
            r.tickets, r.batches
        ),
        format!("{:.1} ms", r.prebuild_ms),
    );
    line(
        "request bodies",
        format!("{:.1} MB", r.request_bytes as f64 / 1e6),
    );
    println!();
    println!("tickets: POST /api/v1/outbox, {} tills at once", r.tills);
    line(
        &format!("{} tickets acknowledged in", r.tickets),
        format!("{:.1} ms", r.up.elapsed_ms),
    );
    line("tickets/s", format!("{:.0}", r.up.tickets_per_s));
    line("batches/s", format!("{:.1}", r.up.batches_per_s));
    line(
        "batch latency p50",
        format!("{:.1} ms", r.up.batch_latency_p50_ms),
    );
    line(
        "batch latency p99",
        format!("{:.1} ms", r.up.batch_latency_p99_ms),
    );
    line(
        "batch latency max",
        format!("{:.1} ms", r.up.batch_latency_max_ms),
    );
    if let Some(c) = &r.costs {
        line(
            "server CPU during the run (per ticket)",
            format!(
                "{:.0} ms ({:.1} µs)",
                c.server_cpu_ms, c.server_cpu_us_per_ticket
            ),
        );
        line(
            "  of which signature checks as the server batches them",
            format!(
                "{:.1} µs ({:.0} %)",
                c.batch_verify_us_per_ticket,
                c.verify_share * 100.0
            ),
        );
        line(
            "  (Ticket::verify one by one, for comparison)",
            format!("{:.1} µs", c.verify_us_per_ticket),
        );
        line(
            "load generator CPU during the run",
            format!("{:.0} ms", c.load_generator_cpu_ms),
        );
        line(
            &format!("server ceiling on {} CPUs (CPU-bound)", r.cpus),
            format!("{:.0} tickets/s", c.server_ceiling_tickets_per_s),
        );
    }
    println!();
    println!("baseline: GET /api/v1/noop (authenticated), same tills, same client");
    for (name, n) in [("before", &r.noop.before), ("after", &r.noop.after)] {
        line(
            &format!("{name}: {} requests", n.requests),
            format!("{:.0} req/s", n.requests_per_s),
        );
        line(
            "  latency p50 / p99",
            format!("{:.2} / {:.2} ms", n.latency_p50_ms, n.latency_p99_ms),
        );
    }
    line(
        "tickets/s / no-op req/s",
        format!("{:.1} %", r.tickets_vs_noop * 100.0),
    );
    line(
        "batches/s / no-op req/s (for information)",
        format!("{:.1} %", r.batches_vs_noop * 100.0),
    );
    println!();
    println!("server");
    line(
        "tickets in TICKET / distinct / quarantined",
        format!(
            "{} / {} / {}",
            r.check.tickets_stored, r.check.distinct_numbers, r.check.quarantined
        ),
    );
    line(
        "tills with gaps, pending links or extra tickets",
        r.check.tills_incomplete.len().to_string(),
    );
    println!();
    println!("targets");
    for t in &r.targets {
        let value = if t.limit < 1.0 {
            format!("{:.1} % (≥ {:.0} %)", t.value * 100.0, t.limit * 100.0)
        } else {
            format!("{:.0} (≥ {:.0})", t.value, t.limit)
        };
        let verdict = if t.met { "met" } else { "NOT MET" };
        println!("  {:<42} {:>24}  {verdict}", t.name, value);
    }
    println!();
    print_verdict(r.all_targets_met, r.total_ms);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let busy = std::thread::Builder::new()
                .name("cpu-probe".into())
                .spawn(|| {
                    let t = Instant::now();
                    let mut x = 0u64;
                    while t.elapsed() < Duration::from_millis(60) {
                        x = x.wrapping_add(std::hint::black_box(1));
                    }
                    // Still alive while measured.
                    std::thread::sleep(Duration::from_millis(200));
                    x
                })
                .unwrap();
            std::thread::sleep(Duration::from_millis(120));
            let cpu = threads_cpu("cpu-probe").unwrap();
            busy.join().unwrap();
            assert!(cpu >= Duration::from_millis(20), "{cpu:?}");
            assert_eq!(threads_cpu("no-such-thread"), Some(Duration::ZERO));
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v[..1], 99.0), 1.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn prebuilt_batches_hold_a_verifiable_chain() {
        let key = [7u8; 32];
        let hex_key = key.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let items = vec![
            PricedItem {
                code: "A".into(),
                label: "a".into(),
                price_cents: 199,
                vat_rate_bp: 550,
            },
            PricedItem {
                code: "B".into(),
                label: "b".into(),
                price_cents: 1250,
                vat_rate_bp: 2000,
            },
        ];
        let p = prebuild("T101", &hex_key, &items, 7, 5, 3, 1).unwrap();
        assert_eq!(p.sizes, vec![3, 3, 1]);
        assert_eq!(p.sample.len(), 7);
        let (single, batched) = verify_cost(&p.sample, &p.key, 3).unwrap();
        assert!(single > 0.0 && batched > 0.0);
        assert_eq!(unhex("0aFf"), Some(vec![10, 255]));
        assert_eq!(unhex("0a0"), None);
        let vk = TillAuth {
            token: Secret::new(""),
            signing_key: Secret::new(hex_key),
        }
        .signing_key()
        .unwrap()
        .verifying_key();
        let bodies = p.bodies;
        let mut prev = GENESIS_HASH.to_string();
        let mut number = 0;
        for body in &bodies {
            let b: OutboxBatch = serde_json::from_slice(body).unwrap();
            for item in b.items {
                number += 1;
                assert_eq!(item.key, format!("ticket:{number}"));
                let t: tillsync_core::ticket::Ticket =
                    serde_json::from_value(item.payload).unwrap();
                assert_eq!((t.number, t.lines.len()), (number, 5));
                t.verify(&vk, &prev).unwrap();
                prev = t.hash;
            }
        }
        assert_eq!(number, 7);
    }
}
