//! `tillsync bench fleet`: many light simulated tills polling a real server
//! process on their own schedule, with the server's latency, errors, peak
//! memory and CPU measured against the fleet targets.
//!
//! The server is `tillsync server run` (this executable) as a child process,
//! so that its RSS and CPU are read alone from `/proc/PID`. Its data folder
//! is made fresh: demo data (the realistic sync tables `ART`, `CLI` by store,
//! `T012`, `STORE_TILL`), one export so packages are published, and N tills
//! with credentials. Each simulated till has its own HTTP client and so its
//! own keep-alive connection, as separate machines would (10,000 tills are
//! 10,000 sockets on each side): every `--interval-ms` (±10 %, from a random
//! phase) it asks `POST /api/v1/packages/available` with its table versions
//! and the Bearer credentials of a real till, and every `--push-every`
//! cycles it pushes a small batch of valid signed tickets to
//! `POST /api/v1/outbox`. Requests made during the warm-up (connections,
//! first contacts) count as errors if they fail but are left out of the
//! latency figures.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use ed25519_dalek::SigningKey;
use serde::Serialize;
use tillsync_core::Direction;
use tillsync_core::ticket::PricedItem;
use tillsync_server::DataDir;
use tillsync_server::down::export::{ExportOptions, export};
use tillsync_store::Backend;
use tillsync_wire::api::{
    AvailableRequest, AvailableResponse, ItemStatus, OutboxResponse, TillTable,
};

use crate::bench::SplitMix64 as Rng;
use crate::bench::print_verdict;
use crate::bench_up::{TicketChain, ms, per_s, percentile, priced_items};
use crate::ui::Out;

/// p99 latency target of every request kind, in ms.
const TARGET_P99_MS: f64 = 100.0;
/// Peak RSS target of the server process, in MB.
const TARGET_RSS_MB: f64 = 500.0;
/// File descriptors kept apart from the tills' sockets (files, the runtime).
const FD_MARGIN: u64 = 200;
/// Errors whose reason is kept for the report.
const REASONS_KEPT: usize = 5;

#[derive(Args)]
pub struct FleetArgs {
    /// Simulated tills, each on its own schedule and connection.
    #[arg(long, default_value_t = 1_000)]
    pub tills: usize,
    /// Each till's sync interval (± 10 % jitter), in ms.
    #[arg(long, default_value_t = 5_000)]
    pub interval_ms: u64,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 60.0)]
    pub duration_s: f64,
    /// Seconds of warm-up (connections, first contacts), not in the latency figures.
    #[arg(long, default_value_t = 10.0)]
    pub warmup_s: f64,
    /// A till pushes a ticket batch every this many cycles.
    #[arg(long, default_value_t = 3)]
    pub push_every: u32,
    /// Tickets per pushed batch.
    #[arg(long, default_value_t = 5)]
    pub batch: usize,
    /// Lines per ticket.
    #[arg(long, default_value_t = 3)]
    pub lines: usize,
    /// Items in the demo `ART`.
    #[arg(long, default_value_t = 10_000)]
    pub items: usize,
    /// A PostgreSQL server to run on, `postgres://user:password@host:port/db`
    /// of a role that may create databases (default: the embedded SQLite
    /// database of the data folder). The bench creates a fresh database
    /// there for the run (`server init --db-url` into it) and drops it at
    /// the end.
    #[arg(long)]
    pub db_url: Option<String>,
    /// Folder to make the temporary bench folder in (default: the system
    /// temp folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the temp folder (server data folder and log) for analysis.
    #[arg(long)]
    pub keep: bool,
}

/// A fresh PostgreSQL database for one run, created through the URL the
/// bench was given and dropped (with its connections) at the end.
pub(crate) struct FreshPg {
    admin: String,
    name: String,
    pub(crate) url: String,
}

impl FreshPg {
    pub(crate) fn create(admin: &str) -> Result<FreshPg> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("tillsync_fleet_{}_{nanos:09}", std::process::id());
        tillsync_store::pg::connect(admin)?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .with_context(|| format!("creating the bench database {name}"))?;
        Ok(FreshPg {
            admin: admin.to_string(),
            url: tillsync_store::pg::url_with_database(admin, &name),
            name,
        })
    }
}

impl Drop for FreshPg {
    fn drop(&mut self) {
        let dropped = tillsync_store::pg::connect(&self.admin).map(|mut c| {
            c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
        });
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the bench database {}", self.name);
        }
    }
}

// ---- the report ----

#[derive(Serialize)]
struct FleetReport {
    tills: usize,
    interval_ms: u64,
    warmup_s: f64,
    duration_s: f64,
    push_every: u32,
    tickets_per_batch: usize,
    db: String,
    cpus: usize,
    /// One HTTP client (one keep-alive connection) per till.
    connections: String,
    dir: PathBuf,
    /// `/proc/loadavg` (1 min) before the setup and after the run: the
    /// machine is shared.
    load_before: f64,
    load_after: f64,
    /// Data folder, demo data, export, till credentials.
    setup_ms: f64,
    /// From `server run` started to its first answer.
    server_start_ms: f64,
    /// HTTP clients of every till.
    clients_ms: f64,
    /// Per request kind, measured window only.
    requests: Vec<KindFigures>,
    /// Every request of the measured window.
    total_requests: u64,
    requests_per_s: f64,
    /// Non-2xx answers, transport errors and refused tickets, warm-up included.
    errors: u64,
    errors_in_warmup: u64,
    first_errors: Vec<String>,
    tickets_accepted: u64,
    server: ServerFigures,
    /// This process (the simulated tills), CPU cores used in the window.
    load_generator_cores: f64,
    check: Check,
    targets: Vec<Target>,
    all_targets_met: bool,
    total_ms: f64,
}

#[derive(Serialize)]
struct KindFigures {
    kind: String,
    requests: u64,
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Serialize)]
struct ServerFigures {
    pid: u32,
    /// `VmHWM` at the end of the run: the process's peak resident memory.
    peak_rss_mb: f64,
    /// Highest `VmRSS` sampled in the measured window.
    window_rss_mb: f64,
    /// (utime + stime) over the window / window wall time.
    cpu_cores: f64,
    /// Most threads seen in the window.
    peak_threads: u64,
    /// `GET /metrics` once after the run.
    metrics_ms: f64,
    metrics_bytes: usize,
}

/// What the server database holds afterwards.
#[derive(Serialize)]
struct Check {
    tickets_stored: u64,
    /// Tickets sealed and sent (some answers may have been lost to a
    /// timeout: stored, but not counted as accepted).
    tickets_sent: u64,
    quarantined: u64,
    /// accepted <= stored <= sent, none quarantined.
    ok: bool,
}

#[derive(Serialize)]
struct Target {
    name: String,
    value: f64,
    limit: f64,
    met: bool,
}

// ---- the simulated tills ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Available,
    Outbox,
}

/// What every simulated till shares.
struct Shared {
    available_url: String,
    outbox_url: String,
    folder: String,
    /// `AvailableRequest` with the tables every till holds (up to date).
    available_body: Vec<u8>,
    items: Vec<PricedItem>,
    lines: usize,
    batch: usize,
    push_every: u32,
    interval: Duration,
    /// Start of the schedule, end of the warm-up, end of the run.
    start: Instant,
    measure_from: Instant,
    end: Instant,
    requests: AtomicU64,
    errors: AtomicU64,
    errors_in_warmup: AtomicU64,
    accepted: AtomicU64,
    /// Tickets sealed and sent at least once.
    sealed: AtomicU64,
    reasons: Mutex<Vec<String>>,
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

struct SimTill {
    id: String,
    authorization: String,
    chain: TicketChain,
    client: reqwest::Client,
    /// First call, from the start of the schedule.
    phase: Duration,
    /// The cycle (modulo `push_every`) this till pushes on.
    push_slot: u32,
    rng: Rng,
}

/// Latencies of the measured window, per kind.
#[derive(Default)]
struct Samples {
    available: Vec<Duration>,
    outbox: Vec<Duration>,
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
async fn till_loop(mut till: SimTill, shared: Arc<Shared>) -> Samples {
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

// ---- the server process ----

/// A number of `/proc/PID/status`: `VmHWM`, `VmRSS` (kB), `Threads`.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time (utime + stime, every thread) of a process, from `/proc/PID/stat`.
fn process_cpu(pid: &str) -> Option<Duration> {
    // USER_HZ: the unit of utime/stime in /proc, 100 on Linux.
    const TICKS_PER_S: u64 = 100;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the name: state is field 3, utime 14, stime 15.
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_S))
}

/// The 1-minute load average.
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The soft limit on open files of this process (`None` if unknown).
fn open_files_limit() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = s.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A free port on the loopback (bound then released for the server).
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// `tillsync server run` on `data`, its log in `log`; stopped on drop.
struct ServerProcess {
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    fn start(data: &Path, log: &Path) -> Result<Self> {
        let exe = std::env::current_exe().context("finding this executable")?;
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(exe)
            .args(["server", "run", "--data"])
            .arg(data)
            .env("TILLSYNC_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .context("starting `tillsync server run`")?;
        Ok(ServerProcess {
            child,
            log: log.to_path_buf(),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// Wait until `GET /api/v1/ping` answers.
    async fn wait_ready(&mut self, base: &str) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "`tillsync server run` exited ({status}) before answering:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(r) = client.get(format!("{base}api/v1/ping")).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > until {
                bail!(
                    "`tillsync server run` did not answer on {base} within 60 s:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM (graceful shutdown), then kill after 10 s.
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---- setup ----

/// Credentials of one simulated till.
struct Creds {
    id: String,
    token: String,
    key: SigningKey,
}

/// A server data folder with demo data, `tills` tills spread over the demo
/// stores with credentials, one export; returns the folder, the tills and
/// the `AvailableRequest` of an up-to-date till.
fn setup(
    root: &Path,
    args: &FleetArgs,
    db_url: Option<&str>,
    web: u16,
    ftp: u16,
) -> Result<(DataDir, Vec<Creds>, AvailableRequest)> {
    let (data, _) = DataDir::init_with_db(&root.join("server"), "FLEET", Some(args.items), db_url)?;
    let mut cfg = data.config()?;
    cfg.set("server.listen", &format!("127.0.0.1:{web}"))?;
    cfg.set("ftp.listen", &format!("127.0.0.1:{ftp}"))?;
    cfg.set("till.webservice_url", &format!("http://127.0.0.1:{web}/"))?;
    cfg.save(data.path())?;

    let mut rng = Rng(0xF1EE7 ^ std::process::id() as u64);
    let mut bytes32 = || {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        b
    };
    let mut db = data.open_store()?;
    let stores = db.stores()?;
    if stores.is_empty() {
        bail!("the demo data has no store");
    }
    let creds: Vec<Creds> = (1..=args.tills)
        .map(|i| Creds {
            id: format!("F{i:05}"),
            token: hex(&bytes32()),
            key: SigningKey::from_bytes(&bytes32()),
        })
        .collect();
    // The tills in STORE_TILL: one statement (so one transaction), the
    // same SQL on both backends; the ids are generated, the stores quoted.
    let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
    let rows: Vec<String> = creds
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "({}, {}, {})",
                quote(&c.id),
                quote(&stores[i % stores.len()]),
                quote(&format!("fleet till {}", c.id))
            )
        })
        .collect();
    db.execute_batch(&format!(
        "INSERT INTO \"STORE_TILL\" (\"till_id\", \"store\", \"label\") VALUES {}",
        rows.join(", ")
    ))
    .context("adding the fleet's tills to STORE_TILL")?;
    // The store has no bulk method: one `issue_credentials` transaction per
    // till, without waiting for the disk (setup only, not measured; this
    // connection is closed afterwards).
    db.execute_batch(match db.backend() {
        Backend::Sqlite => "PRAGMA synchronous = OFF",
        Backend::Postgres => "SET synchronous_commit = off",
    })?;
    for c in &creds {
        db.issue_credentials(
            &c.id,
            &tillsync_wire::sha256_hex(c.token.as_bytes()),
            &hex(&c.key.verifying_key().to_bytes()),
        )?;
    }
    drop(db);

    let cfg = data.config()?;
    let mut store = data.package_store(&cfg)?;
    export(
        &data,
        store.as_mut(),
        ExportOptions { full: false },
        &mut |_| {},
    )?;
    let db = data.open_store()?;
    let mut tables = Vec::new();
    for t in db.sync_tables()? {
        if t.direction != Direction::Down {
            continue;
        }
        let state = db
            .table_state(&t.table)?
            .with_context(|| format!("table {} was not exported", t.table))?;
        tables.push(TillTable {
            table: t.table,
            version: Some(state.version),
            layout_hash: Some(state.layout_hash),
        });
    }
    Ok((
        data,
        creds,
        AvailableRequest {
            tables,
            full: false,
            // What a till reports with each package request (an empty
            // outbox: its tickets go up in their own batches).
            report: Some(tillsync_wire::api::TillReport::default()),
        },
    ))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn http_client() -> Result<reqwest::Client> {
    // One client per till: its own keep-alive connection, as a till has.
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?)
}

// ---- bench fleet ----

pub fn run(args: FleetArgs, out: &Out) -> Result<ExitCode> {
    if args.tills == 0 || args.batch == 0 || args.lines == 0 || args.items == 0 {
        bail!("--tills, --batch, --lines and --items must be at least 1");
    }
    if args.interval_ms == 0 || args.push_every == 0 {
        bail!("--interval-ms and --push-every must be at least 1");
    }
    let positive = args.duration_s > 0.0 && args.duration_s.is_finite();
    let non_negative = args.warmup_s >= 0.0 && args.warmup_s.is_finite();
    if !(positive && non_negative) {
        bail!("--duration-s must be a positive number and --warmup-s zero or more");
    }
    if let Some(limit) = open_files_limit()
        && limit < args.tills as u64 + FD_MARGIN
    {
        bail!(
            "{} tills need {} open files (one socket each) but this process may open {limit}: \
             raise the limit (`ulimit -n`) or use fewer tills",
            args.tills,
            args.tills as u64 + FD_MARGIN
        );
    }
    let started = Instant::now();
    let load_before = loadavg();
    let tmp = crate::bench::bench_dir(args.dir.as_deref(), "tillsync-bench-fleet-")?;
    let root = tmp.path().to_path_buf();
    let pb = out.spinner("starting");
    const STEPS: usize = 5;
    let step = |i: usize, msg: String| pb.set_message(format!("[{i}/{STEPS}] {msg}"));

    // 1. The data folder.
    step(
        1,
        format!(
            "server data folder: demo data, {} tills with credentials, export",
            args.tills
        ),
    );
    let t = Instant::now();
    let (web, ftp) = (free_port()?, free_port()?);
    // On PostgreSQL, a fresh database for this run (dropped at the end).
    let fresh = match &args.db_url {
        Some(url) => Some(FreshPg::create(url)?),
        None => None,
    };
    let (data, creds, request) = setup(
        &root,
        &args,
        fresh.as_ref().map(|f| f.url.as_str()),
        web,
        ftp,
    )?;
    let items = priced_items(&data)?;
    let cfg = data.config()?;
    let db_label = {
        let db = data.open_store()?;
        format!("{} {}", db.backend().engine_name(), db.engine_version()?)
    };
    let setup_ms = ms(t.elapsed());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("bench-fleet")
        .build()?;
    let base = format!("http://127.0.0.1:{web}/");

    // 2. The server process.
    step(2, "starting `tillsync server run`".into());
    let t = Instant::now();
    let mut server = ServerProcess::start(data.path(), &root.join("server.log"))?;
    rt.block_on(server.wait_ready(&base))?;
    let server_start_ms = ms(t.elapsed());
    let pid = server.pid();

    // 3. The tills' clients.
    step(3, format!("{} HTTP clients", args.tills));
    let t = Instant::now();
    let interval = Duration::from_millis(args.interval_ms);
    let mut tills = Vec::with_capacity(creds.len());
    for (i, c) in creds.into_iter().enumerate() {
        let mut rng = Rng(0xC0FFEE + i as u64);
        let phase = interval.mul_f64(rng.below(1_000_000) as f64 / 1e6);
        tills.push(SimTill {
            authorization: format!("Bearer {}:{}", c.id, c.token),
            chain: TicketChain::new(&c.id, c.key, 0xF1_0000 + i as u64),
            client: http_client()?,
            id: c.id,
            phase,
            push_slot: (i as u32) % args.push_every,
            rng,
        });
    }
    let clients_ms = ms(t.elapsed());

    // 4. The run.
    let warmup = Duration::from_secs_f64(args.warmup_s);
    let window = Duration::from_secs_f64(args.duration_s);
    let start = Instant::now() + Duration::from_millis(100);
    let shared = Arc::new(Shared {
        available_url: format!("{base}api/v1/packages/available"),
        outbox_url: format!("{base}api/v1/outbox"),
        folder: cfg.folder.name.clone(),
        available_body: serde_json::to_vec(&request)?,
        items,
        lines: args.lines,
        batch: args.batch,
        push_every: args.push_every,
        interval,
        start,
        measure_from: start + warmup,
        end: start + warmup + window,
        requests: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        errors_in_warmup: AtomicU64::new(0),
        accepted: AtomicU64::new(0),
        sealed: AtomicU64::new(0),
        reasons: Mutex::new(Vec::new()),
    });
    let run = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for till in tills {
            tasks.spawn(till_loop(till, shared.clone()));
        }
        // Progress, the server's RSS and the CPU readings at the window's edges.
        let sh = shared.clone();
        let pb2 = pb.clone();
        let tills = args.tills;
        let monitor = tokio::spawn(async move {
            let mut peak_kb = 0u64;
            let mut peak_threads = 0u64;
            let mut at_start = None;
            loop {
                let now = Instant::now();
                if now >= sh.measure_from && at_start.is_none() {
                    at_start = Some((
                        process_cpu(&pid.to_string()),
                        process_cpu("self"),
                        Instant::now(),
                    ));
                }
                if now >= sh.measure_from
                    && let Some(kb) = status_kb(pid, "VmRSS")
                {
                    peak_kb = peak_kb.max(kb);
                    peak_threads = peak_threads.max(status_kb(pid, "Threads").unwrap_or(0));
                }
                if now >= sh.end {
                    break;
                }
                let phase = if now < sh.measure_from {
                    "warm-up"
                } else {
                    "measuring"
                };
                pb2.set_message(format!(
                    "[4/{STEPS}] {tills} tills, {phase}: {} requests, {} errors, server RSS {} MB, {:.0} s left",
                    sh.requests.load(Ordering::Relaxed),
                    sh.errors.load(Ordering::Relaxed),
                    status_kb(pid, "VmRSS").unwrap_or(0) / 1024,
                    sh.end.saturating_duration_since(now).as_secs_f64()
                ));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let at_end = (
                process_cpu(&pid.to_string()),
                process_cpu("self"),
                Instant::now(),
            );
            (peak_kb, peak_threads, at_start, at_end)
        });
        let mut samples = Samples::default();
        while let Some(s) = tasks.join_next().await {
            let s = s.context("a simulated till panicked")?;
            samples.available.extend(s.available);
            samples.outbox.extend(s.outbox);
        }
        let monitor = monitor.await.context("the monitor panicked")?;
        // /metrics once, with every till known.
        step(5, "GET /metrics, checking the server's tickets".into());
        let t = Instant::now();
        let metrics = reqwest::Client::new()
            .get(format!("{base}metrics"))
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .context("GET /metrics")?;
        if !metrics.status().is_success() {
            bail!("GET /metrics: HTTP {}", metrics.status());
        }
        let metrics_bytes = metrics.bytes().await?.len();
        anyhow::Ok((samples, monitor, ms(t.elapsed()), metrics_bytes))
    });
    let peak_rss_kb = status_kb(pid, "VmHWM").unwrap_or(0);
    let run = run.with_context(|| format!("server log (tail):\n{}", server.log_tail()));
    let (mut samples, (window_rss_kb, peak_threads, at_start, at_end), metrics_ms, metrics_bytes) =
        run?;

    // The server's tickets, then stop it.
    let mut db = data.open_store()?;
    let tickets_stored: i64 = db
        .query_text("SELECT COUNT(*) FROM \"TICKET\"")
        .context("counting the server's tickets")?
        .unwrap_or_default()
        .parse()
        .context("counting the server's tickets")?;
    let quarantined: u64 = db.ticket_state(None)?.iter().map(|t| t.quarantined).sum();
    drop(db);
    server.stop();
    drop(rt);
    pb.finish_and_clear();

    let (window_s, server_cpu, self_cpu) = match at_start {
        Some((s0, l0, t0)) => {
            let (s1, l1, t1) = at_end;
            let wall = t1.duration_since(t0).as_secs_f64();
            let cores = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
                (Some(a), Some(b)) if wall > 0.0 => {
                    (b.saturating_sub(a).as_secs_f64() / wall * 100.0).round() / 100.0
                }
                _ => 0.0,
            };
            (wall, cores(s0, s1), cores(l0, l1))
        }
        None => (0.0, 0.0, 0.0),
    };
    let window_d = Duration::from_secs_f64(window_s.max(1e-9));
    let mut kinds = Vec::new();
    for (name, lat) in [
        ("POST /api/v1/packages/available", &mut samples.available),
        ("POST /api/v1/outbox", &mut samples.outbox),
    ] {
        lat.sort();
        kinds.push(KindFigures {
            kind: name.to_string(),
            requests: lat.len() as u64,
            per_s: per_s(lat.len() as u64, window_d),
            p50_ms: percentile(lat, 50.0),
            p99_ms: percentile(lat, 99.0),
            max_ms: lat.last().copied().map(ms).unwrap_or(0.0),
        });
    }
    let total_requests: u64 = kinds.iter().map(|k| k.requests).sum();
    let errors = shared.errors.load(Ordering::Relaxed);
    let accepted = shared.accepted.load(Ordering::Relaxed);
    let sent = shared.sealed.load(Ordering::Relaxed);
    let stored = tickets_stored as u64;
    let check = Check {
        tickets_stored: stored,
        tickets_sent: sent,
        quarantined,
        ok: accepted <= stored && stored <= sent && quarantined == 0,
    };
    let peak_rss_mb = (peak_rss_kb as f64 / 1024.0 * 10.0).round() / 10.0;
    let mut targets: Vec<Target> = kinds
        .iter()
        .map(|k| Target {
            name: format!("p99 {} (ms)", k.kind),
            value: k.p99_ms,
            limit: TARGET_P99_MS,
            met: k.requests > 0 && k.p99_ms < TARGET_P99_MS,
        })
        .collect();
    targets.push(Target {
        name: "errors".into(),
        value: errors as f64,
        limit: 0.0,
        met: errors == 0,
    });
    targets.push(Target {
        name: "server peak RSS (MB)".into(),
        value: peak_rss_mb,
        limit: TARGET_RSS_MB,
        met: peak_rss_kb > 0 && peak_rss_mb < TARGET_RSS_MB,
    });
    let report = FleetReport {
        tills: args.tills,
        interval_ms: args.interval_ms,
        warmup_s: args.warmup_s,
        duration_s: args.duration_s,
        push_every: args.push_every,
        tickets_per_batch: args.batch,
        db: db_label,
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        connections: "one HTTP client and keep-alive connection per till".into(),
        dir: root.clone(),
        load_before,
        load_after: loadavg(),
        setup_ms,
        server_start_ms,
        clients_ms,
        requests_per_s: per_s(total_requests, window_d),
        total_requests,
        requests: kinds,
        errors,
        errors_in_warmup: shared.errors_in_warmup.load(Ordering::Relaxed),
        first_errors: shared
            .reasons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
        tickets_accepted: accepted,
        server: ServerFigures {
            pid,
            peak_rss_mb,
            window_rss_mb: (window_rss_kb as f64 / 1024.0 * 10.0).round() / 10.0,
            cpu_cores: server_cpu,
            peak_threads,
            metrics_ms,
            metrics_bytes,
        },
        load_generator_cores: self_cpu,
        all_targets_met: check.ok && targets.iter().all(|t| t.met),
        check,
        targets,
        total_ms: ms(started.elapsed()),
    };
    drop(server);
    if args.keep {
        let _ = tmp.keep();
    } else {
        drop(tmp);
    }
    out.emit(&report, || print_report(&report, args.keep));
    if !report.check.ok {
        bail!(
            "the server holds {} tickets ({} quarantined), accepted {} of the {} sent",
            report.check.tickets_stored,
            report.check.quarantined,
            report.tickets_accepted,
            report.check.tickets_sent
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &FleetReport, kept: bool) {
    let line = |label: &str, value: String| println!("  {label:<48} {value:>22}");
    println!(
        "tillsync bench fleet — {} tills every {} ms (± 10 %), a batch of {} tickets every {} cycles",
        r.tills, r.interval_ms, r.tickets_per_batch, r.push_every
    );
    println!(
        "{} · {} CPUs · {} · warm-up {} s, measured {} s · temp folder {} ({})",
        r.db,
        r.cpus,
        r.connections,
        r.warmup_s,
        r.duration_s,
        r.dir.display(),
        if kept { "kept" } else { "removed" }
    );
    println!(
        "load average (1 min, shared machine): {:.2} before, {:.2} after",
        r.load_before, r.load_after
    );
    println!();
    println!("setup (not timed)");
    line(
        "data folder, demo data, credentials, export",
        format!("{:.0} ms", r.setup_ms),
    );
    line(
        "server process ready",
        format!("{:.0} ms", r.server_start_ms),
    );
    line("HTTP clients", format!("{:.0} ms", r.clients_ms));
    println!();
    println!("requests in the measured window");
    println!(
        "  {:<34} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "kind", "requests", "per s", "p50 ms", "p99 ms", "max ms"
    );
    for k in &r.requests {
        println!(
            "  {:<34} {:>9} {:>8.1} {:>9.2} {:>9.2} {:>9.1}",
            k.kind, k.requests, k.per_s, k.p50_ms, k.p99_ms, k.max_ms
        );
    }
    line("all requests per s", format!("{:.1}", r.requests_per_s));
    line(
        "errors (of which in the warm-up)",
        format!("{} ({})", r.errors, r.errors_in_warmup),
    );
    for e in &r.first_errors {
        println!("    {e}");
    }
    line("tickets accepted", r.tickets_accepted.to_string());
    println!();
    println!("server process (pid {})", r.server.pid);
    line(
        "peak RSS (VmHWM)",
        format!("{:.1} MB", r.server.peak_rss_mb),
    );
    line(
        "highest RSS sampled in the window",
        format!("{:.1} MB", r.server.window_rss_mb),
    );
    line(
        "CPU in the window",
        format!("{:.2} cores", r.server.cpu_cores),
    );
    line("most threads", r.server.peak_threads.to_string());
    line(
        "GET /metrics after the run",
        format!(
            "{:.0} ms, {:.1} kB",
            r.server.metrics_ms,
            r.server.metrics_bytes as f64 / 1e3
        ),
    );
    line(
        "tickets sent / in TICKET / quarantined",
        format!(
            "{} / {} / {}",
            r.check.tickets_sent, r.check.tickets_stored, r.check.quarantined
        ),
    );
    line(
        "load generator CPU (this process)",
        format!("{:.2} cores", r.load_generator_cores),
    );
    println!();
    println!("targets");
    for t in &r.targets {
        let verdict = if t.met { "met" } else { "NOT met" };
        let cmp = if t.name == "errors" { "=" } else { "<" };
        println!(
            "  {:<48} {:>10.1} ({cmp} {:.0})  {verdict}",
            t.name, t.value, t.limit
        );
    }
    println!();
    print_verdict(r.all_targets_met, r.total_ms);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_readings_of_this_process() {
        if cfg!(target_os = "linux") {
            let pid = std::process::id();
            assert!(status_kb(pid, "VmHWM").unwrap() > 0);
            assert!(status_kb(pid, "VmRSS").unwrap() > 0);
            assert_eq!(status_kb(pid, "NoSuchField"), None);
            assert!(process_cpu(&pid.to_string()).is_some());
            assert!(process_cpu("self").is_some());
            assert!(open_files_limit().unwrap() > 0);
        }
    }
}
