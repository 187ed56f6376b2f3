//! The report of `bench fleet`: its figures (JSON with `--json`) and their
//! text form.

use std::path::PathBuf;

use serde::Serialize;

use crate::targets::{Target, print_verdict};

#[derive(Serialize)]
pub(crate) struct FleetReport {
    pub(crate) tills: usize,
    pub(crate) interval_ms: u64,
    pub(crate) warmup_s: f64,
    pub(crate) duration_s: f64,
    pub(crate) push_every: u32,
    pub(crate) tickets_per_batch: usize,
    pub(crate) db: String,
    pub(crate) cpus: usize,
    /// One HTTP client (one keep-alive connection) per till.
    pub(crate) connections: String,
    pub(crate) dir: PathBuf,
    /// `/proc/loadavg` (1 min) before the setup and after the run: the
    /// machine is shared.
    pub(crate) load_before: f64,
    pub(crate) load_after: f64,
    /// Data folder, demo data, export, till credentials.
    pub(crate) setup_ms: f64,
    /// From `server run` started to its first answer.
    pub(crate) server_start_ms: f64,
    /// HTTP clients of every till.
    pub(crate) clients_ms: f64,
    /// Per request kind, measured window only.
    pub(crate) requests: Vec<KindFigures>,
    /// Every request of the measured window.
    pub(crate) total_requests: u64,
    pub(crate) requests_per_s: f64,
    /// Non-2xx answers, transport errors and refused tickets, warm-up included.
    pub(crate) errors: u64,
    pub(crate) errors_in_warmup: u64,
    pub(crate) first_errors: Vec<String>,
    pub(crate) tickets_accepted: u64,
    pub(crate) server: ServerFigures,
    /// This process (the simulated tills), CPU cores used in the window.
    pub(crate) load_generator_cores: f64,
    pub(crate) check: Check,
    pub(crate) targets: Vec<Target>,
    pub(crate) all_targets_met: bool,
    pub(crate) total_ms: f64,
}

#[derive(Serialize)]
pub(crate) struct KindFigures {
    pub(crate) kind: String,
    pub(crate) requests: u64,
    pub(crate) per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

#[derive(Serialize)]
pub(crate) struct ServerFigures {
    pub(crate) pid: u32,
    /// `VmHWM` at the end of the run: the process's peak resident memory.
    pub(crate) peak_rss_mb: f64,
    /// Highest `VmRSS` sampled in the measured window.
    pub(crate) window_rss_mb: f64,
    /// (utime + stime) over the window / window wall time.
    pub(crate) cpu_cores: f64,
    /// Most threads seen in the window.
    pub(crate) peak_threads: u64,
    /// `GET /metrics` once after the run.
    pub(crate) metrics_ms: f64,
    pub(crate) metrics_bytes: usize,
}

/// What the server database holds afterwards.
#[derive(Serialize)]
pub(crate) struct Check {
    pub(crate) tickets_stored: u64,
    /// Tickets sealed and sent (some answers may have been lost to a
    /// timeout: stored, but not counted as accepted).
    pub(crate) tickets_sent: u64,
    pub(crate) quarantined: u64,
    /// accepted <= stored <= sent, none quarantined.
    pub(crate) ok: bool,
}

pub(crate) fn print_report(r: &FleetReport, kept: bool) {
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
