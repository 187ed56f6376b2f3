//! `bench up`: the steps of the run (server, sealing, baseline, tickets,
//! check), the targets, the report.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tillsync_output::Out;
use tillsync_server::DataDir;
use tillsync_server::run::{RunOptions, start};

use crate::enrol::{enrol_till, hex};
use crate::measure::{ms, per_s, percentile, ratio};
use crate::procfs::threads_cpu;
use crate::scratch::{FreshPg, bench_dir};
use crate::targets::Target;
use crate::ticket_chain::priced_items;
use crate::up::args::UpArgs;
use crate::up::check::check_server;
use crate::up::load::{SimTill, http_client, noop_run, up_run};
use crate::up::prebuild::{prebuild, verify_cost};
use crate::up::report::{Costs, NoopFigures, UpFigures, UpReport, print_report};

/// Tickets per second durably acknowledged.
const TARGET_TICKETS_PER_S: f64 = 20_000.0;
/// Tickets per second / no-op requests per second.
const TARGET_VS_NOOP: f64 = 0.30;
/// Store of the simulated tills.
const STORE: &str = "S01";

/// CPU time of the server's threads: its runtime (`bench-server`) and the
/// threads it starts itself (`tillsync-commit`, `tillsync-deferred`).
fn server_cpu() -> Option<Duration> {
    Some(threads_cpu("bench-server")? + threads_cpu("tillsync-")?)
}

pub(crate) fn run(args: UpArgs, out: &Out) -> Result<ExitCode> {
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
    let tmp = bench_dir(args.dir.as_deref(), "tillsync-bench-up-")?;
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
        Some(url) => Some(FreshPg::create(url)?),
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
    let mut rng = crate::rng::SplitMix64(0x0E_E701);
    for id in &ids {
        // Each till as `till init` makes it: its own key, enrolled with the
        // one-time secret of its package.
        let mut seed = [0u8; 32];
        for chunk in seed.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let token = enrol_till(&data, id, &key)?;
        creds.push((id.clone(), token, hex(&key.to_bytes())));
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
