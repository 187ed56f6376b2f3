//! The report of `bench fiscal`: its figures (JSON with `--json`) and their
//! text form.

use std::path::PathBuf;

use serde::Serialize;

use crate::targets::{Target, print_verdict};

#[derive(Serialize)]
pub(crate) struct FiscalReport {
    pub(crate) cpus: usize,
    pub(crate) arch: String,
    pub(crate) dir: PathBuf,
    pub(crate) day_tickets: u64,
    /// Sealing and inserting the day's tickets (one transaction), not timed.
    pub(crate) day_setup_ms: f64,
    /// `TillDb::close` of the day: totals by SQL, the closing sealed and
    /// written with its event, one transaction.
    pub(crate) close_ms: f64,
    pub(crate) archive_tickets: u64,
    pub(crate) tickets_per_day: u64,
    pub(crate) archive_events: u64,
    pub(crate) archive_closings: u64,
    /// Sealing the year's tickets and closings in memory, not timed.
    pub(crate) make_ms: f64,
    /// `write_archive`: CSV tables, SHA-256s, the zip, fsync and rename.
    pub(crate) write_ms: f64,
    pub(crate) archive_bytes: u64,
    /// `verify_archive_file`: read, framing and CRC-32s, SHA-256s, manifest
    /// signature, CSV parsed, every hash, link and signature, every closing.
    pub(crate) verify_ms: f64,
    pub(crate) verify_tickets_per_s: f64,
    /// Signatures of the raw baseline (the archive's first tickets).
    pub(crate) raw_sample: u64,
    pub(crate) raw_sigs_per_s_before: f64,
    pub(crate) raw_sigs_per_s_after: f64,
    /// The higher of the two (the stricter baseline).
    pub(crate) raw_sigs_per_s: f64,
    /// `verify_tickets_per_s / raw_sigs_per_s`: the target's ratio.
    pub(crate) verify_vs_raw: f64,
    pub(crate) targets: Vec<Target>,
    pub(crate) all_targets_met: bool,
    pub(crate) total_ms: f64,
}

pub(crate) fn print_report(r: &FiscalReport, kept: bool) {
    let line = |label: &str, value: String| println!("  {label:<56} {value:>14}");
    println!(
        "tillsync bench fiscal — a day of {} tickets closed, an archive of {} tickets verified",
        r.day_tickets, r.archive_tickets
    );
    println!(
        "{} CPUs {} · temp folder {} ({})",
        r.cpus,
        r.arch,
        r.dir.display(),
        if kept { "kept" } else { "removed" }
    );
    println!();
    println!("closing a day on the till");
    line(
        "tickets sealed and inserted (not timed)",
        format!("{:.1} ms", r.day_setup_ms),
    );
    line(
        &format!("day closing of {} tickets", r.day_tickets),
        format!("{:.1} ms", r.close_ms),
    );
    println!();
    println!(
        "archive of {} tickets ({} a day), {} events, {} closings",
        r.archive_tickets, r.tickets_per_day, r.archive_events, r.archive_closings
    );
    line(
        "records sealed in memory (not timed)",
        format!("{:.1} ms", r.make_ms),
    );
    line("archive written", format!("{:.1} ms", r.write_ms));
    line(
        "archive size",
        format!("{:.1} MB", r.archive_bytes as f64 / 1e6),
    );
    line("archive verified in", format!("{:.1} ms", r.verify_ms));
    line(
        "tickets verified/s",
        format!("{:.0}", r.verify_tickets_per_s),
    );
    println!();
    println!(
        "baseline: raw Ed25519 batch verification, {} signatures, every core",
        r.raw_sample
    );
    line(
        "signatures/s before",
        format!("{:.0}", r.raw_sigs_per_s_before),
    );
    line(
        "signatures/s after",
        format!("{:.0}", r.raw_sigs_per_s_after),
    );
    line("verification / raw rate", format!("{:.2}", r.verify_vs_raw));
    println!();
    println!("targets");
    for t in &r.targets {
        println!(
            "  {:<56} {:>8.2} (limit {:.2}) {}",
            t.name,
            t.value,
            t.limit,
            if t.met { "met" } else { "NOT met" }
        );
    }
    print_verdict(r.all_targets_met, r.total_ms);
}
