//! `bench fleet`: the steps of the run (data folder, server process, the
//! tills' clients, the measured window, the server's tickets), the targets,
//! the report.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tillsync_output::Out;

use crate::fleet::args::FleetArgs;
use crate::fleet::report::{Check, FleetReport, KindFigures, ServerFigures, print_report};
use crate::fleet::server::{ServerProcess, free_port};
use crate::fleet::setup::setup;
use crate::fleet::till::{Samples, Shared, SimTill, http_client, till_loop};
use crate::measure::{ms, per_s, percentile};
use crate::procfs::{loadavg, open_files_limit, process_cpu, status_kb};
use crate::rng::SplitMix64 as Rng;
use crate::scratch::{FreshPg, bench_dir};
use crate::targets::Target;
use crate::ticket_chain::{TicketChain, priced_items};

/// p99 latency target of every request kind, in ms.
const TARGET_P99_MS: f64 = 100.0;
/// Peak RSS target of the server process, in MB.
const TARGET_RSS_MB: f64 = 500.0;
/// File descriptors kept apart from the tills' sockets (files, the runtime).
const FD_MARGIN: u64 = 200;

pub(crate) fn run(args: FleetArgs, out: &Out) -> Result<ExitCode> {
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
    let tmp = bench_dir(args.dir.as_deref(), "tillsync-bench-fleet-")?;
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
