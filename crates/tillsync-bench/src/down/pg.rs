//! `tillsync bench down --db-url URL`: the down path (export, package,
//! apply on a till) on PostgreSQL, with SQLite measured in the same run as
//! the baseline: the same demo data, the same price changes, the same till.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tillsync_output::Out;

use crate::down::args::DownArgs;
use crate::down::setup::{CHANGED_ROWS, Setup};
use crate::measure::{median, ms};
use crate::scratch::{FreshPg, bench_dir};

/// The figures of one backend.
#[derive(Serialize, Default)]
struct Figures {
    db: String,
    setup_ms: f64,
    full_export_ms: f64,
    full_package_bytes: u64,
    full_apply_ms: f64,
    incremental_export_ms: Vec<f64>,
    incremental_apply_ms: Vec<f64>,
    incremental_package_bytes: u64,
}

#[derive(Serialize)]
struct Report {
    rows: usize,
    changed_rows: usize,
    rounds: usize,
    cpus: usize,
    sqlite: Figures,
    postgres: Figures,
    /// PostgreSQL / SQLite, medians.
    ratio_full_export: f64,
    ratio_incremental_export: f64,
    ratio_full_apply: f64,
    ratio_incremental_apply: f64,
    total_s: f64,
}

/// One backend: a server with `rows` items, a full export applied on the
/// till, then `rounds` of 1,000 price changes, each exported and applied;
/// the till must then equal the server.
fn one(
    root: &Path,
    args: &DownArgs,
    db_url: Option<&str>,
    say: &dyn Fn(String),
) -> Result<Figures> {
    let mut f = Figures::default();
    let retention = u32::try_from(2 * args.rounds + 2).unwrap_or(u32::MAX);
    let t = Instant::now();
    let mut s = Setup::create_on(root, args.rows, retention, db_url)?;
    f.setup_ms = ms(t.elapsed());
    let db = s.data.open_store()?;
    f.db = format!("{} {}", db.backend().engine_name(), db.engine_version()?);
    drop(db);
    say(format!("{}: full export of {} items", f.db, args.rows));
    let e = s.export()?;
    f.full_export_ms = ms(e.total);
    let file = e
        .art_file
        .clone()
        .context("the first export published no ART package")?;
    let bytes = s.package(&file)?;
    f.full_package_bytes = bytes.len() as u64;
    let a = s.till.apply(&file, &bytes)?;
    f.full_apply_ms = ms(a.apply);
    s.apply_others(&e)?;
    for round in 0..args.rounds {
        say(format!(
            "{}: incremental round {}/{}",
            f.db,
            round + 1,
            args.rounds
        ));
        // The same 1,000 consecutive items on both backends, a new slice
        // each round.
        let offset = (round * CHANGED_ROWS) % args.rows.saturating_sub(CHANGED_ROWS).max(1);
        let mut db = s.data.open_store()?;
        db.execute_batch(&format!(
            r#"UPDATE "ART" SET "price_cents" = "price_cents" + 1 WHERE "code" IN
               (SELECT "code" FROM "ART" ORDER BY "code" LIMIT {CHANGED_ROWS} OFFSET {offset})"#
        ))?;
        drop(db);
        let e = s.export()?;
        let outcome = e
            .report
            .tables
            .iter()
            .find(|t| t.table == "ART")
            .map(|t| t.outcome.clone());
        if outcome.as_deref() != Some("incremental") {
            bail!("the export of ART was {outcome:?} where an incremental was expected");
        }
        let file = e.art_file.clone().context("no ART package")?;
        let bytes = s.package(&file)?;
        let a = s.till.apply(&file, &bytes)?;
        if a.upserts != CHANGED_ROWS.min(args.rows) as u64 {
            bail!("{file} holds {} upserts, not {CHANGED_ROWS}", a.upserts);
        }
        f.incremental_export_ms.push(ms(e.total));
        f.incremental_apply_ms.push(ms(a.apply));
        f.incremental_package_bytes = bytes.len() as u64;
        s.apply_others(&e)?;
    }
    s.check_till()?;
    Ok(f)
}

/// `bench down --db-url URL`.
pub(crate) fn run(args: DownArgs, url: &str, out: &Out) -> Result<ExitCode> {
    if args.rows < 2 * CHANGED_ROWS || args.rounds == 0 {
        bail!(
            "--rows must be at least {} and --rounds at least 1",
            2 * CHANGED_ROWS
        );
    }
    let started = Instant::now();
    let tmp = bench_dir(args.dir.as_deref(), "tillsync-bench-down-pg-")?;
    let pb = out.spinner("starting");
    let say = |m: String| pb.set_message(m);
    let sqlite = one(&tmp.path().join("sqlite"), &args, None, &say)?;
    let fresh = FreshPg::create(url)?;
    let postgres = one(&tmp.path().join("postgres"), &args, Some(&fresh.url), &say)?;
    drop(fresh);
    pb.finish_and_clear();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let r = Report {
        rows: args.rows,
        changed_rows: CHANGED_ROWS,
        rounds: args.rounds,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ratio_full_export: ratio(postgres.full_export_ms, sqlite.full_export_ms),
        ratio_incremental_export: ratio(
            median(&postgres.incremental_export_ms),
            median(&sqlite.incremental_export_ms),
        ),
        ratio_full_apply: ratio(postgres.full_apply_ms, sqlite.full_apply_ms),
        ratio_incremental_apply: ratio(
            median(&postgres.incremental_apply_ms),
            median(&sqlite.incremental_apply_ms),
        ),
        sqlite,
        postgres,
        total_s: started.elapsed().as_secs_f64(),
    };
    if out.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "tillsync bench down --db-url — {} items, {} rounds of {} price changes, SQLite as the baseline in the same run",
        r.rows, r.rounds, r.changed_rows
    );
    println!("{} · {} · {} CPUs", r.sqlite.db, r.postgres.db, r.cpus);
    println!();
    println!(
        "  {:<42} {:>12} {:>12} {:>9}",
        "step (median of the rounds)", "SQLite", "PostgreSQL", "PG/SQLite"
    );
    let row = |name: &str, a: f64, b: f64, unit: &str| {
        println!(
            "  {:<42} {:>9.1} {unit} {:>9.1} {unit} {:>9.2}",
            name,
            a,
            b,
            ratio(b, a)
        );
    };
    row(
        "server init with demo data",
        r.sqlite.setup_ms,
        r.postgres.setup_ms,
        "ms",
    );
    row(
        "full export (every table)",
        r.sqlite.full_export_ms,
        r.postgres.full_export_ms,
        "ms",
    );
    row(
        "full ART package applied on the till",
        r.sqlite.full_apply_ms,
        r.postgres.full_apply_ms,
        "ms",
    );
    row(
        "incremental export (every table)",
        median(&r.sqlite.incremental_export_ms),
        median(&r.postgres.incremental_export_ms),
        "ms",
    );
    row(
        "incremental ART package applied",
        median(&r.sqlite.incremental_apply_ms),
        median(&r.postgres.incremental_apply_ms),
        "ms",
    );
    row(
        "full ART package (kB)",
        r.sqlite.full_package_bytes as f64 / 1000.0,
        r.postgres.full_package_bytes as f64 / 1000.0,
        "  ",
    );
    row(
        "incremental ART package (kB)",
        r.sqlite.incremental_package_bytes as f64 / 1000.0,
        r.postgres.incremental_package_bytes as f64 / 1000.0,
        "  ",
    );
    println!();
    println!(
        "the till equals the server after every round on both backends ({:.1} s in all)",
        r.total_s
    );
    Ok(ExitCode::SUCCESS)
}
