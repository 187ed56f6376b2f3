//! The report of `bench up`: its figures (JSON with `--json`) and their text
//! form.

use std::path::PathBuf;

use serde::Serialize;

use crate::targets::{Target, print_verdict};
use crate::up::check::Check;

#[derive(Serialize)]
pub(crate) struct UpReport {
    pub(crate) tills: usize,
    pub(crate) tickets_per_till: usize,
    pub(crate) lines_per_ticket: usize,
    pub(crate) tickets_per_batch: usize,
    pub(crate) tickets: u64,
    pub(crate) batches: u64,
    pub(crate) cpus: usize,
    pub(crate) arch: String,
    pub(crate) db: String,
    pub(crate) dir: PathBuf,
    /// Server init with demo data, till rows, deployment packages.
    pub(crate) setup_ms: f64,
    /// Sealing (hash chain, Ed25519 signature) and serialising every batch,
    /// before timing.
    pub(crate) prebuild_ms: f64,
    /// Bytes of every request body.
    pub(crate) request_bytes: u64,
    pub(crate) up: UpFigures,
    /// Where the CPU went during the ticket run (Linux only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) costs: Option<Costs>,
    pub(crate) noop: NoopFigures,
    /// `up.tickets_per_s / noop.requests_per_s`: the target's ratio.
    pub(crate) tickets_vs_noop: f64,
    /// `up.batches_per_s / noop.requests_per_s`, for information.
    pub(crate) batches_vs_noop: f64,
    pub(crate) check: Check,
    pub(crate) targets: Vec<Target>,
    pub(crate) all_targets_met: bool,
    pub(crate) total_ms: f64,
}

#[derive(Serialize)]
pub(crate) struct UpFigures {
    /// From the first POST sent to the last answer read.
    pub(crate) elapsed_ms: f64,
    pub(crate) tickets_per_s: f64,
    pub(crate) batches_per_s: f64,
    pub(crate) batch_latency_p50_ms: f64,
    pub(crate) batch_latency_p99_ms: f64,
    pub(crate) batch_latency_max_ms: f64,
}

/// CPU time during the ticket run, and the cost of verifying one ticket
/// measured apart in the same run.
#[derive(Serialize)]
pub(crate) struct Costs {
    /// Server threads (web service, database workers), user + system.
    pub(crate) server_cpu_ms: f64,
    /// The simulated tills' HTTP clients (same machine).
    pub(crate) load_generator_cpu_ms: f64,
    /// `server_cpu_ms` per ticket, in µs.
    pub(crate) server_cpu_us_per_ticket: f64,
    /// `Ticket::verify` (hash, Ed25519 signature, link) one by one, one
    /// thread, µs per ticket.
    pub(crate) verify_us_per_ticket: f64,
    /// Hashes and one Ed25519 batch verification per batch, as the server
    /// checks a batch, one thread, µs per ticket.
    pub(crate) batch_verify_us_per_ticket: f64,
    /// `batch_verify_us_per_ticket / server_cpu_us_per_ticket`.
    pub(crate) verify_share: f64,
    /// `cpus / server_cpu_us_per_ticket`: what the server would reach with
    /// every core to itself (no load generator, no other process).
    pub(crate) server_ceiling_tickets_per_s: f64,
}

#[derive(Serialize)]
pub(crate) struct NoopFigures {
    /// `GET /api/v1/noop`, each till in a loop, before the tickets.
    pub(crate) before: NoopRun,
    /// The same after the tickets (bigger database).
    pub(crate) after: NoopRun,
    /// The higher of the two (the stricter baseline).
    pub(crate) requests_per_s: f64,
}

#[derive(Serialize)]
pub(crate) struct NoopRun {
    pub(crate) requests: u64,
    pub(crate) elapsed_ms: f64,
    pub(crate) requests_per_s: f64,
    pub(crate) latency_p50_ms: f64,
    pub(crate) latency_p99_ms: f64,
}

pub(crate) fn print_report(r: &UpReport, kept: bool) {
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
