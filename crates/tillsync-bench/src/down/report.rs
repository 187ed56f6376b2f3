//! The report of `bench down`: its figures (JSON with `--json`) and their
//! text form.

use std::path::PathBuf;

use serde::Serialize;

use crate::down::experiments::Experiments;
use crate::measure::median;
use crate::targets::{Target, print_verdict};

#[derive(Serialize)]
pub(crate) struct DownReport {
    pub(crate) rows: usize,
    pub(crate) small_rows: usize,
    pub(crate) changed_rows: usize,
    pub(crate) rounds: usize,
    pub(crate) full_runs: usize,
    pub(crate) sqlite_version: String,
    pub(crate) cpus: usize,
    pub(crate) arch: String,
    pub(crate) dir: PathBuf,
    /// `server init` with the demo data (not compared with anything).
    pub(crate) setup_ms: f64,
    pub(crate) export: ExportFigures,
    pub(crate) size: SizeFigures,
    pub(crate) full_import: FullImportFigures,
    pub(crate) incremental: IncrementalFigures,
    pub(crate) targets: Vec<Target>,
    pub(crate) all_targets_met: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) experiments: Option<Experiments>,
    pub(crate) total_ms: f64,
}

#[derive(Serialize)]
pub(crate) struct ExportFigures {
    /// The whole first export (every down table, index, bookkeeping).
    pub(crate) total_ms: f64,
    /// ART: reading the rows in key order and encoding them.
    pub(crate) art_read_ms: f64,
    /// ART: compressing, signing and writing the package file.
    pub(crate) art_publish_ms: f64,
    /// `art_read_ms + art_publish_ms`.
    pub(crate) art_ms: f64,
    /// The rest: other (tiny) tables, index, bookkeeping.
    pub(crate) other_ms: f64,
    pub(crate) art_rows: u64,
    /// Bytes of every package published.
    pub(crate) bytes: u64,
}

#[derive(Serialize)]
pub(crate) struct SizeFigures {
    pub(crate) art_package_file: String,
    /// Size of ART's full package file.
    pub(crate) art_package_bytes: u64,
    /// Its payload before zstd.
    pub(crate) art_payload_raw_bytes: u64,
    /// ART (table b-tree and key index) in the server database.
    pub(crate) art_table_bytes: u64,
    /// ART in the till database, after the full import.
    pub(crate) art_till_table_bytes: u64,
    /// How `art_table_bytes` was measured.
    pub(crate) method: String,
    /// `art_package_bytes / art_table_bytes`.
    pub(crate) ratio: f64,
}

#[derive(Serialize)]
pub(crate) struct FullImportFigures {
    pub(crate) rows: u64,
    /// `Package::verify` (signature, SHA-256 of the payload), median.
    pub(crate) verify_ms: f64,
    /// `TillDb::apply` of the full package into a fresh till database, per run.
    pub(crate) apply_runs_ms: Vec<f64>,
    pub(crate) apply_ms: f64,
    /// Sub-step measured apart (not inside `apply_ms`): zstd decompression.
    pub(crate) decompress_ms: f64,
    /// Sub-step measured apart: decoding every record of the payload.
    pub(crate) decode_ms: f64,
    /// SQLite alone: `INSERT INTO main.ART_copy SELECT * FROM src.ART` into
    /// a fresh file with the till's pragmas, one transaction, per run.
    pub(crate) sqlite_copy_runs_ms: Vec<f64>,
    pub(crate) sqlite_copy_ms: f64,
    /// The same with `WHERE 1`, which turns off SQLite's transfer
    /// optimisation (rows decoded and inserted one by one). For information.
    pub(crate) sqlite_copy_row_by_row_runs_ms: Vec<f64>,
    pub(crate) sqlite_copy_row_by_row_ms: f64,
    /// `apply_ms / sqlite_copy_ms` (medians).
    pub(crate) ratio: f64,
}

#[derive(Serialize)]
pub(crate) struct IncrementalFigures {
    pub(crate) changed_rows: usize,
    pub(crate) big: IncrementalSide,
    pub(crate) small: IncrementalSide,
    /// `big.apply_median_ms / small.apply_median_ms`.
    pub(crate) ratio: f64,
    /// The same with 1,000 consecutive items (a product family): apply per
    /// round, big and small, and the ratio of the medians.
    pub(crate) clustered_big_apply_ms: Vec<f64>,
    pub(crate) clustered_small_apply_ms: Vec<f64>,
    pub(crate) clustered_ratio: f64,
}

#[derive(Serialize)]
pub(crate) struct IncrementalSide {
    pub(crate) rows: usize,
    /// `TillDb::apply` of the ART incremental package, per round.
    pub(crate) apply_ms: Vec<f64>,
    pub(crate) apply_median_ms: f64,
    /// The incremental export, per round.
    pub(crate) export_ms: Vec<f64>,
    pub(crate) export_median_ms: f64,
    /// Size of the ART incremental package (last round).
    pub(crate) package_bytes: u64,
    /// Leaf pages of ART's table b-tree in the till (`dbstat`): the changed
    /// rows are spread over them, and every page holding one is rewritten.
    pub(crate) table_leaf_pages: u64,
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn fmt_list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn print_report(r: &DownReport) {
    let line = |label: &str, value: String| println!("  {label:<54} {value:>12}");
    let both = |label: &str, a: String, b: String| println!("  {label:<40} {a:>16} {b:>16}");
    println!(
        "tillsync bench down — {} items (small setup {}), {} rounds of {} changed items",
        r.rows, r.small_rows, r.rounds, r.changed_rows
    );
    println!(
        "SQLite {} · {} CPUs {} · temp folder {} (removed)",
        r.sqlite_version,
        r.cpus,
        r.arch,
        r.dir.display()
    );
    println!();
    println!("setup");
    line(
        &format!("server init with {} demo items", r.rows),
        format!("{:.1} ms", r.setup_ms),
    );
    println!();
    println!("1. full export");
    line(
        "whole export (4 tables, index, bookkeeping)",
        format!("{:.1} ms", r.export.total_ms),
    );
    line(
        &format!("ART: read {} rows in key order, encode", r.export.art_rows),
        format!("{:.1} ms", r.export.art_read_ms),
    );
    line(
        "ART: compress, sign, write the package",
        format!("{:.1} ms", r.export.art_publish_ms),
    );
    line("ART in all", format!("{:.1} ms", r.export.art_ms));
    line(
        "the rest (tiny tables, index, bookkeeping)",
        format!("{:.1} ms", r.export.other_ms),
    );
    println!();
    println!("2. package size");
    line(
        &format!("ART full package ({})", r.size.art_package_file),
        mb(r.size.art_package_bytes),
    );
    line(
        "  its payload before zstd",
        mb(r.size.art_payload_raw_bytes),
    );
    line(
        "ART in SQLite, server (table + key index)",
        mb(r.size.art_table_bytes),
    );
    line(
        "ART in SQLite, till after the import",
        mb(r.size.art_till_table_bytes),
    );
    println!();
    println!(
        "3./4. full import of ART into a fresh till (median of {} runs)",
        r.full_runs
    );
    let f = &r.full_import;
    line(
        "Package::verify (signature, SHA-256)",
        format!("{:.1} ms", f.verify_ms),
    );
    line(
        "TillDb::apply (the import)",
        format!("{:.1} ms", f.apply_ms),
    );
    line("  every run", fmt_list(&f.apply_runs_ms));
    line(
        "  apart: zstd decompression",
        format!("{:.1} ms", f.decompress_ms),
    );
    line(
        "  apart: decoding the records",
        format!("{:.1} ms", f.decode_ms),
    );
    line(
        "SQLite copy INSERT … SELECT (baseline)",
        format!("{:.1} ms", f.sqlite_copy_ms),
    );
    line("  every run", fmt_list(&f.sqlite_copy_runs_ms));
    line(
        "SQLite copy, row by row (WHERE 1, for information)",
        format!("{:.1} ms", f.sqlite_copy_row_by_row_ms),
    );
    println!();
    println!(
        "5. incremental: {} changed items, median of {} rounds",
        r.incremental.changed_rows, r.rounds
    );
    let (b, s) = (&r.incremental.big, &r.incremental.small);
    both("", format!("{} items", b.rows), format!("{} items", s.rows));
    both(
        "TillDb::apply",
        format!("{:.2} ms", b.apply_median_ms),
        format!("{:.2} ms", s.apply_median_ms),
    );
    println!("  {:<40} {}", "  every round, big", fmt_list(&b.apply_ms));
    println!("  {:<40} {}", "  every round, small", fmt_list(&s.apply_ms));
    both(
        "incremental export",
        format!("{:.1} ms", b.export_median_ms),
        format!("{:.1} ms", s.export_median_ms),
    );
    both(
        "ART leaf pages in the till",
        b.table_leaf_pages.to_string(),
        s.table_leaf_pages.to_string(),
    );
    both(
        "ART incremental package",
        format!("{} B", b.package_bytes),
        format!("{} B", s.package_bytes),
    );
    let inc = &r.incremental;
    both(
        "TillDb::apply, consecutive items",
        format!("{:.2} ms", median(&inc.clustered_big_apply_ms)),
        format!("{:.2} ms", median(&inc.clustered_small_apply_ms)),
    );
    println!(
        "  {:<40} {}",
        "  every round, big",
        fmt_list(&inc.clustered_big_apply_ms)
    );
    println!(
        "  {:<40} {}",
        "  every round, small",
        fmt_list(&inc.clustered_small_apply_ms)
    );
    println!();
    println!("targets");
    for t in &r.targets {
        let value = if t.name.contains("package") {
            format!("{:.1} % (≤ {:.0} %)", t.value * 100.0, t.limit * 100.0)
        } else {
            format!("{:.2}× (≤ {:.1}×)", t.value, t.limit)
        };
        let verdict = if t.met { "met" } else { "NOT MET" };
        println!("  {:<52} {:>20}  {verdict}", t.name, value);
    }
    if let Some(x) = &r.experiments {
        println!();
        println!("experiments ({})", x.note);
        println!(
            "  {:<48} {:>9} {:>9} {:>9} {:>9}",
            "full import of ART", "exec ms", "commit", "total", "MB"
        );
        for e in &x.full_import {
            println!(
                "  {:<48} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                e.variant,
                e.exec_ms,
                e.commit_ms,
                e.total_ms,
                e.table_bytes as f64 / 1e6
            );
        }
        println!(
            "  {:<48} {:>26} {:>26} {:>7} {:>7}",
            "incremental (big | small)", "exec+commit ms", "checkpoint ms", "ratio", "+ckpt"
        );
        for e in &x.incremental {
            println!(
                "  {:<48} {:>12.2} | {:>11.2} {:>12.2} | {:>11.2} {:>7.2} {:>7.2}",
                e.variant,
                e.big.apply_ms,
                e.small.apply_ms,
                e.big.checkpoint_ms,
                e.small.checkpoint_ms,
                e.ratio_apply,
                e.ratio_durable
            );
            println!(
                "  {:<48} {:>12.0} | {:>11.0} frames written to the WAL",
                "", e.big.wal_frames, e.small.wal_frames
            );
        }
    }
    println!();
    print_verdict(r.all_targets_met, r.total_ms);
}
