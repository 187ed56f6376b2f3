//! `bench down` on SQLite: the steps of the run, the targets, the report.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tillsync_output::Out;
use tillsync_wire::package::peek_header;

use crate::down::args::DownArgs;
use crate::down::baseline::{TABLE_BYTES_SQL, decode_breakdown, sqlite_copy};
use crate::down::experiments::run_experiments;
use crate::down::report::{
    DownReport, ExportFigures, FullImportFigures, IncrementalFigures, IncrementalSide, SizeFigures,
    print_report,
};
use crate::down::setup::{CHANGED_ROWS, Setup, TABLE, Till};
use crate::measure::{median, ms, ratio};
use crate::scratch::bench_dir;
use crate::targets::Target;

/// Package size / table size in SQLite.
const TARGET_SIZE_RATIO: f64 = 0.25;
/// Full import / SQLite's own copy.
const TARGET_IMPORT_VS_COPY: f64 = 2.0;
/// Incremental apply on the big table / on the small one.
const TARGET_INCREMENTAL_RATIO: f64 = 1.2;

pub(crate) fn run(args: DownArgs, out: &Out) -> Result<ExitCode> {
    if args.rows == 0 || args.small_rows == 0 || args.rounds == 0 || args.full_runs == 0 {
        bail!("--rows, --small-rows, --rounds and --full-runs must be at least 1");
    }
    let started = Instant::now();
    let tmp = bench_dir(args.dir.as_deref(), "tillsync-bench-")?;
    let root = tmp.path();
    // Every round (experiments included) must stay incremental: no full
    // package forced by the retention.
    let retention = u32::try_from(16 * args.rounds + 2).unwrap_or(u32::MAX);

    let pb = out.spinner("starting");
    const STEPS: usize = 7;
    let step = |i: usize, msg: String| pb.set_message(format!("[{i}/{STEPS}] {msg}"));

    step(1, format!("creating a server with {} items", args.rows));
    let mut big = Setup::create(&root.join("big"), args.rows, retention)?;

    step(2, "full export".into());
    let e = big.export()?;
    let art_file = e
        .art_file
        .clone()
        .context("the first export published no ART package")?;
    let art_rows = e
        .report
        .tables
        .iter()
        .find(|t| t.table == TABLE)
        .map(|t| t.rows)
        .unwrap_or(0);
    let art_bytes = big.package(&art_file)?;
    let header = peek_header(&art_bytes)?;

    // Full import and SQLite's copies, interleaved, each into a fresh file.
    let server_db_path = big.server_db()?;
    let (mut verifies, mut applies, mut copies, mut row_copies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut copy_bytes = 0;
    let mut imported_rows = 0;
    for run in 0..args.full_runs {
        let of = format!("{}/{}", run + 1, args.full_runs);
        step(3, format!("full import {of}: TillDb::apply of {art_file}"));
        let a = if run == 0 {
            big.till.apply(&art_file, &art_bytes)?
        } else {
            let dir = big.root.join(format!("till-run{run}"));
            let mut till = Till::install(&dir, &big.deploy_pkg)?;
            let a = till.apply(&art_file, &art_bytes)?;
            drop(till);
            let _ = std::fs::remove_dir_all(&dir);
            a
        };
        imported_rows = a.upserts;
        verifies.push(ms(a.verify));
        applies.push(ms(a.apply));
        step(4, format!("SQLite's own copy of ART {of}"));
        let copy_path = big.root.join("copy.db");
        for transfer in [true, false] {
            let c = sqlite_copy(&copy_path, &server_db_path, &header.layout, transfer)?;
            if c.rows as u64 != art_rows {
                bail!("SQLite's copy holds {} rows, ART {art_rows}", c.rows);
            }
            if transfer {
                copy_bytes = c.bytes;
                copies.push(ms(c.elapsed));
            } else {
                row_copies.push(ms(c.elapsed));
            }
        }
    }
    big.apply_others(&e)?;
    let (decompress, decode) = decode_breakdown(&art_bytes, &big.till.cfg)?;
    let server_db = big.data.open_db()?;
    let (table_bytes, method) = match server_db
        .conn()
        .query_row(TABLE_BYTES_SQL, [TABLE], |r| r.get::<_, Option<i64>>(0))
    {
        Ok(n) => (
            n.unwrap_or(0) as u64,
            "dbstat: pages of ART and its key index in the server database".to_string(),
        ),
        Err(_) => (
            copy_bytes,
            "growth of a fresh database file holding only a copy of ART (no dbstat)".to_string(),
        ),
    };
    let sqlite_version = server_db.engine_version();
    drop(server_db);
    let till_table_bytes = big
        .till
        .db
        .conn()
        .query_row(TABLE_BYTES_SQL, [TABLE], |r| r.get::<_, Option<i64>>(0))
        .ok()
        .flatten()
        .unwrap_or(0) as u64;

    step(
        5,
        format!("creating a server with {} items", args.small_rows),
    );
    let mut small = Setup::create(&root.join("small"), args.small_rows, retention)?;
    let se = small.export()?;
    let small_art = se
        .art_file
        .clone()
        .context("the first export published no ART package")?;
    small.till.apply(&small_art, &small.package(&small_art)?)?;
    small.apply_others(&se)?;

    let mut big_side = (Vec::new(), Vec::new(), 0u64);
    let mut small_side = (Vec::new(), Vec::new(), 0u64);
    for r in 0..args.rounds {
        step(
            6,
            format!(
                "incremental round {}/{}: {CHANGED_ROWS} changed items",
                r + 1,
                args.rounds
            ),
        );
        // Interleaved, so a slow moment of the machine hits both sides.
        let seed = 0x5EED_0000 + r as u64;
        for (s, side) in [(&mut big, &mut big_side), (&mut small, &mut small_side)] {
            let (export_d, apply_d, bytes) = s.incremental_round(seed, false)?;
            side.0.push(ms(export_d));
            side.1.push(ms(apply_d));
            side.2 = bytes;
        }
    }
    let (mut clustered_big, mut clustered_small) = (Vec::new(), Vec::new());
    for r in 0..args.rounds {
        step(
            6,
            format!(
                "incremental round {}/{}: {CHANGED_ROWS} consecutive items",
                r + 1,
                args.rounds
            ),
        );
        let seed = 0xC1A5_0000 + r as u64;
        clustered_big.push(ms(big.incremental_round(seed, true)?.1));
        clustered_small.push(ms(small.incremental_round(seed, true)?.1));
    }

    let experiments = if args.experiments {
        Some(run_experiments(
            &mut big,
            &mut small,
            &art_bytes,
            args.rounds,
            &|m| step(6, m),
        )?)
    } else {
        None
    };

    step(7, "checking the tills against the servers".into());
    big.check_till()?;
    small.check_till()?;
    pb.finish_and_clear();

    let leaves = |s: &Setup| -> u64 {
        s.till
            .db
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM dbstat WHERE name = ?1 AND pagetype = 'leaf'",
                [TABLE],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0) as u64
    };
    let (big_leaves, small_leaves) = (leaves(&big), leaves(&small));
    let side = |rows: usize, s: (Vec<f64>, Vec<f64>, u64), table_leaf_pages| IncrementalSide {
        rows,
        apply_median_ms: median(&s.1),
        apply_ms: s.1,
        export_median_ms: median(&s.0),
        export_ms: s.0,
        package_bytes: s.2,
        table_leaf_pages,
    };
    let big_inc = side(args.rows, big_side, big_leaves);
    let small_inc = side(args.small_rows, small_side, small_leaves);

    let size_ratio = ratio(art_bytes.len() as f64, table_bytes as f64);
    let import_ratio = ratio(median(&applies), median(&copies));
    let inc_ratio = ratio(big_inc.apply_median_ms, small_inc.apply_median_ms);
    let clustered_ratio = ratio(median(&clustered_big), median(&clustered_small));
    let target = |name: &str, value: f64, limit: f64| Target {
        name: name.to_string(),
        value,
        limit,
        met: value <= limit,
    };
    let targets = vec![
        target(
            "ART full package / ART in SQLite",
            size_ratio,
            TARGET_SIZE_RATIO,
        ),
        target(
            "full import / SQLite copy",
            import_ratio,
            TARGET_IMPORT_VS_COPY,
        ),
        target(
            "incremental apply, big / small (spread items)",
            inc_ratio,
            TARGET_INCREMENTAL_RATIO,
        ),
        target(
            "incremental apply, big / small (consecutive items)",
            clustered_ratio,
            TARGET_INCREMENTAL_RATIO,
        ),
    ];
    let art_ms = ms(e.art_read) + ms(e.art_publish);
    let report = DownReport {
        rows: args.rows,
        small_rows: args.small_rows,
        changed_rows: CHANGED_ROWS,
        rounds: args.rounds,
        full_runs: args.full_runs,
        sqlite_version,
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        arch: std::env::consts::ARCH.to_string(),
        dir: root.to_path_buf(),
        setup_ms: ms(big.init),
        export: ExportFigures {
            total_ms: ms(e.total),
            art_read_ms: ms(e.art_read),
            art_publish_ms: ms(e.art_publish),
            art_ms,
            other_ms: ((ms(e.total) - art_ms) * 1e3).round() / 1e3,
            art_rows,
            bytes: e.report.bytes,
        },
        size: SizeFigures {
            art_package_file: art_file,
            art_package_bytes: art_bytes.len() as u64,
            art_payload_raw_bytes: header.payload_raw_len,
            art_table_bytes: table_bytes,
            art_till_table_bytes: till_table_bytes,
            method,
            ratio: size_ratio,
        },
        full_import: FullImportFigures {
            rows: imported_rows,
            verify_ms: median(&verifies),
            apply_ms: median(&applies),
            apply_runs_ms: applies,
            decompress_ms: ms(decompress),
            decode_ms: ms(decode),
            sqlite_copy_ms: median(&copies),
            sqlite_copy_runs_ms: copies,
            sqlite_copy_row_by_row_ms: median(&row_copies),
            sqlite_copy_row_by_row_runs_ms: row_copies,
            ratio: import_ratio,
        },
        incremental: IncrementalFigures {
            changed_rows: CHANGED_ROWS,
            ratio: inc_ratio,
            clustered_ratio,
            clustered_big_apply_ms: clustered_big,
            clustered_small_apply_ms: clustered_small,
            big: big_inc,
            small: small_inc,
        },
        all_targets_met: targets.iter().all(|t| t.met),
        targets,
        experiments,
        total_ms: ms(started.elapsed()),
    };
    drop(big);
    drop(small);
    drop(tmp);
    out.emit(&report, || print_report(&report));
    Ok(ExitCode::SUCCESS)
}
