//! `till run`: the synchroniser (the seed's "scrutateur"). Two loops in
//! their own threads, so that tickets never wait behind a large data load:
//! - push: the outbox every `sync_interval_ms` (after an error, wait
//!   `retry_interval_ms`); when there is nothing to send it pings the web
//!   service (`ping_timeout_ms`) to keep the connection state fresh; a till
//!   not enrolled yet enrols first, every `retry_interval_ms` until it does;
//! - pull: the packages on their own schedule ([`AgentOptions::pull_interval`]).
//!
//! - the cashier page ([`crate::cashier`]) when [`AgentOptions::cashier`] is
//!   set, in its own thread; the push loop's outcome (a push that went
//!   through, or a ping answered) drives its connection indicator.
//!
//! All run until the shutdown flag is set (Ctrl-C or SIGTERM in `till run`).
//! Logs are quiet when nothing happens: a line when items are delivered or
//! packages applied, and when the connection is lost or back.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_till_db::TillDb;
use tillsync_till_db::up::STATE_LAST_CONTACT;

use crate::cashier::serve::{self, CashierOptions};
use crate::client::Client;
use crate::down::pull::{PullOptions, pull};
use crate::enrol::ensure_enrolled;
use crate::error::TillError;
use crate::files::DB_FILE;
use crate::fiscal::jet::Fiscal;
use crate::link::Link;
use crate::up::push::{PushOptions, PushReport, push_with};
use tillsync_core::fiscal::event::EventKind;

/// Default wait between two pulls.
pub const DEFAULT_PULL_INTERVAL: Duration = Duration::from_secs(60);

/// How the synchroniser runs (timings of pushes come from `till.toml`).
#[derive(Debug, Clone, Copy)]
pub struct AgentOptions {
    /// Wait between two pulls.
    pub pull_interval: Duration,
    /// Run the pull loop at all.
    pub pull: bool,
    /// Batches of the push.
    pub push: PushOptions,
    /// Serve the cashier page (`None`: no page).
    pub cashier: Option<CashierOptions>,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            pull_interval: DEFAULT_PULL_INTERVAL,
            pull: true,
            push: PushOptions::default(),
            cashier: None,
        }
    }
}

/// What a run did, when it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgentSummary {
    /// Pushes that sent at least one item.
    pub pushes: u64,
    /// Items delivered (accepted or duplicate).
    pub delivered: u64,
    /// Items set aside in the error list.
    pub set_aside: u64,
    /// Pushes that failed (server unavailable or refusing).
    pub push_errors: u64,
    /// Pulls done.
    pub pulls: u64,
    /// Packages applied.
    pub packages_applied: u64,
    /// Pulls that failed.
    pub pull_errors: u64,
    /// The URL the cashier page was served at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cashier_url: Option<String>,
}

/// What is running once the agent started (see [`run_with`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Started {
    /// The cashier page's URL (its port when 0 was asked), if served.
    pub cashier_url: Option<String>,
}

/// Run the synchroniser of the till in `dir` until `stop` is set. Fails at
/// once if the till's configuration or database cannot be opened; errors
/// after that are logged, journaled and retried.
pub fn run(dir: &Path, opts: &AgentOptions, stop: &AtomicBool) -> Result<AgentSummary, TillError> {
    run_with(dir, opts, stop, |_| {})
}

/// [`run`], calling `started` once everything is up (the cashier page
/// bound), before the loops begin. Fails at once if the cashier page cannot
/// listen.
pub fn run_with(
    dir: &Path,
    opts: &AgentOptions,
    stop: &AtomicBool,
    started: impl FnOnce(&Started),
) -> Result<AgentSummary, TillError> {
    let cfg = TillConfig::load(dir)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    let client = Client::new(&cfg)?;
    let pinger = Client::with_timeout(&cfg, cfg.sync.ping_timeout())?;
    let link = Arc::new(Link::new());
    let page = match &opts.cashier {
        Some(c) => Some(serve::start(dir, &cfg, c, link.clone())?),
        None => None,
    };
    let fiscal = Fiscal::for_till(&cfg, &db)?;
    fiscal.started(&mut db)?;
    let cashier_url = page.as_ref().map(|p| p.url());
    started(&Started {
        cashier_url: cashier_url.clone(),
    });
    let summary = Mutex::new(AgentSummary {
        cashier_url,
        ..AgentSummary::default()
    });
    tracing::info!(
        till = %cfg.till.id,
        push_every_ms = cfg.sync.sync_interval_ms,
        pull_every_ms = opts.pull_interval.as_millis() as u64,
        "synchroniser running"
    );
    std::thread::scope(|s| {
        if opts.pull {
            s.spawn(|| pull_loop(dir, &cfg, opts, stop, &summary));
        }
        let ctx = PushCtx {
            dir,
            cfg: &cfg,
            client: &client,
            pinger: &pinger,
            fiscal: &fiscal,
        };
        push_loop(&ctx, &mut db, opts, stop, &summary, &link);
    });
    if let Err(e) = fiscal.log(&mut db, EventKind::AgentStop, serde_json::json!({})) {
        tracing::error!(error = %e, "the event log could not record the stop");
    }
    if let Some(p) = page {
        p.stop();
    }
    let summary = summary.into_inner().unwrap_or_else(|p| p.into_inner());
    tracing::info!(?summary, "synchroniser stopped");
    Ok(summary)
}

/// Sleep `d`, waking early when `stop` is set. False if stopped.
fn wait(stop: &AtomicBool, d: Duration) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(25)));
    }
}

/// Says an error once, then again only when it changes or a minute passed.
#[derive(Default)]
struct Quiet {
    last: Option<(String, Instant)>,
}

impl Quiet {
    fn should_say(&mut self, msg: &str) -> bool {
        let say = match &self.last {
            Some((m, at)) => m != msg || at.elapsed() >= Duration::from_secs(60),
            None => true,
        };
        if say {
            self.last = Some((msg.to_string(), Instant::now()));
        }
        say
    }

    /// The error is over; true if one had been said.
    fn clear(&mut self) -> bool {
        self.last.take().is_some()
    }
}

fn lock(m: &Mutex<AgentSummary>) -> std::sync::MutexGuard<'_, AgentSummary> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the push loop works with.
struct PushCtx<'a> {
    dir: &'a Path,
    cfg: &'a TillConfig,
    client: &'a Client,
    pinger: &'a Client,
    fiscal: &'a Fiscal,
}

/// How often the agent looks for closings that are due.
const CLOSE_CHECK_EVERY: Duration = Duration::from_secs(30);

/// How often, at most, the agent asks the server which tickets it is missing.
const MISSING_CHECK_EVERY: Duration = Duration::from_secs(300);

/// How soon after the previous check the agent asks again when tickets
/// were just delivered.
const MISSING_CHECK_AFTER_DELIVERY: Duration = Duration::from_secs(30);

/// The fiscal side of one turn of the push loop: an offline period begins
/// or ends in the event log when the connection changes, and the closings
/// that are due are written.
fn fiscal_turn(
    fiscal: &Fiscal,
    db: &mut TillDb,
    was: &mut Option<bool>,
    ok: bool,
    last_check: &mut Option<Instant>,
) {
    if *was != Some(ok) {
        let kind = if ok {
            EventKind::Online
        } else {
            EventKind::Offline
        };
        // The first turn only says "offline": a till starts online.
        if ok && was.is_none() {
            *was = Some(ok);
        } else {
            match fiscal.log(db, kind, serde_json::json!({})) {
                Ok(_) => *was = Some(ok),
                Err(e) => {
                    tracing::error!(error = %e, "the event log could not record the connection change")
                }
            }
        }
    }
    if last_check.is_none_or(|t| t.elapsed() >= CLOSE_CHECK_EVERY) {
        *last_check = Some(Instant::now());
        match fiscal.close_due(db) {
            Ok(closed) => {
                for c in closed {
                    tracing::info!(period = c.body.period.code(), name = %c.body.name, tickets = c.body.tickets, "closing written by the agent");
                }
            }
            Err(e) => tracing::error!(error = %e, "the due closings could not be written"),
        }
    }
}

fn push_loop(
    ctx: &PushCtx<'_>,
    db: &mut TillDb,
    opts: &AgentOptions,
    stop: &AtomicBool,
    summary: &Mutex<AgentSummary>,
    link: &Link,
) {
    let PushCtx {
        dir,
        cfg,
        client: first_client,
        pinger,
        fiscal,
    } = *ctx;
    let mut quiet = Quiet::default();
    let mut online: Option<bool> = None;
    let mut last_close_check: Option<Instant> = None;
    let mut last_missing_check: Option<Instant> = None;
    // The configuration as enrolment changes it, and the client with the
    // token the enrolment gave.
    let mut cfg_now = cfg.clone();
    let mut enrolled: Option<Client> = None;
    while !stop.load(Ordering::Relaxed) {
        // A till not enrolled yet enrols first (every retry interval until
        // it succeeds); its tickets wait in the outbox meanwhile, its
        // closings are written all the same.
        if !cfg_now.auth.is_enrolled() {
            match enrolled_client(dir, &mut cfg_now, db) {
                Ok(c) => enrolled = Some(c),
                Err(e) => {
                    let msg = e.to_string();
                    lock(summary).push_errors += 1;
                    if quiet.should_say(&msg) {
                        tracing::warn!(reason = %msg, "not enrolled yet; selling goes on offline, the outbox waits");
                    }
                    fiscal_turn(fiscal, db, &mut online, false, &mut last_close_check);
                    link.set(false);
                    if !wait(stop, cfg.sync.retry_interval()) {
                        break;
                    }
                    continue;
                }
            }
        }
        let client = enrolled.as_ref().unwrap_or(first_client);
        let result = push_with(client, db, opts.push);
        // After tickets went through, or every few minutes while online: the
        // tickets the server never received are queued again.
        if let Ok(r) = &result
            && r.unavailable.is_none()
            && last_missing_check.is_none_or(|t| {
                let every = if r.delivered() > 0 {
                    MISSING_CHECK_AFTER_DELIVERY
                } else {
                    MISSING_CHECK_EVERY
                };
                t.elapsed() >= every
            })
        {
            last_missing_check = Some(Instant::now());
            if let Err(e) = crate::up::resend::fill_gaps(client, db, fiscal) {
                tracing::warn!(error = %e, "could not ask the server which tickets it is missing");
            }
        }
        let ok = match &result {
            Ok(r) if r.unavailable.is_none() => {
                if r.sent > 0 || !r.set_aside.is_empty() {
                    note_push(db, r, summary);
                    if quiet.clear() {
                        tracing::info!("web service reachable again");
                    }
                    true
                } else {
                    // Nothing to send: a ping keeps the connection state fresh.
                    ping(pinger, db, &cfg.folder.name, &mut quiet)
                }
            }
            Ok(r) => {
                let msg = r.unavailable.clone().unwrap_or_default();
                lock(summary).push_errors += 1;
                if r.delivered() > 0 || !r.set_aside.is_empty() {
                    // Some batches went through before the server went away.
                    note_push(db, r, summary);
                } else if quiet.should_say(&msg) {
                    tracing::warn!(pending = r.pending, reason = %msg, "push: web service unavailable; tickets stay in the outbox");
                    let _ = db.journal("push", "error", &r.summary());
                }
                false
            }
            Err(e) => {
                let msg = e.to_string();
                lock(summary).push_errors += 1;
                if quiet.should_say(&msg) {
                    tracing::error!(error = %msg, "push failed; the outbox is kept");
                    let _ = db.journal("push", "error", &msg);
                }
                false
            }
        };
        link.set(ok);
        fiscal_turn(fiscal, db, &mut online, ok, &mut last_close_check);
        let pause = if ok {
            cfg.sync.sync_interval()
        } else {
            cfg.sync.retry_interval()
        };
        if !wait(stop, pause) {
            break;
        }
    }
}

/// Enrol the till, then a client with its new credentials.
fn enrolled_client(dir: &Path, cfg: &mut TillConfig, db: &TillDb) -> Result<Client, TillError> {
    let r = ensure_enrolled(dir, cfg, db)?;
    tracing::info!(key_id = %r.key_id, records = r.records, "till enrolled: its tickets go up now");
    Client::new(cfg)
}

fn note_push(db: &TillDb, r: &PushReport, summary: &Mutex<AgentSummary>) {
    {
        let mut s = lock(summary);
        s.pushes += 1;
        s.delivered += r.delivered();
        s.set_aside += r.set_aside.len() as u64;
    }
    tracing::info!(
        sent = r.sent,
        delivered = r.delivered(),
        set_aside = r.set_aside.len(),
        pending = r.pending,
        millis = r.millis,
        "outbox pushed"
    );
    for a in &r.set_aside {
        tracing::warn!(key = %a.key, status = %a.status, reason = %a.reason, "item set aside in the error list");
    }
    let result = if r.unavailable.is_some() {
        "error"
    } else {
        "ok"
    };
    let _ = db.journal("push", result, &r.summary());
}

/// Ping the web service; true when it answered for this folder.
fn ping(pinger: &Client, db: &TillDb, folder: &str, quiet: &mut Quiet) -> bool {
    match pinger.ping() {
        Ok(p) if p.folder == folder => {
            let _ = db.set_state(STATE_LAST_CONTACT, &tillsync_db::now_rfc3339());
            if quiet.clear() {
                tracing::info!("web service reachable again");
            }
            true
        }
        Ok(p) => {
            let msg = format!(
                "the web service answers for POS folder {:?}, this till belongs to {folder:?}",
                p.folder
            );
            if quiet.should_say(&msg) {
                tracing::error!("{msg}");
            }
            false
        }
        Err(e) => {
            let msg = e.to_string();
            if quiet.should_say(&msg) {
                tracing::warn!(reason = %msg, "web service unreachable; selling goes on offline");
            }
            false
        }
    }
}

fn pull_loop(
    dir: &Path,
    cfg: &TillConfig,
    opts: &AgentOptions,
    stop: &AtomicBool,
    summary: &Mutex<AgentSummary>,
) {
    let mut quiet = Quiet::default();
    while !stop.load(Ordering::Relaxed) {
        let pause = match pull(dir, PullOptions::default(), &mut |_| {}) {
            Ok(r) => {
                {
                    let mut s = lock(summary);
                    s.pulls += 1;
                    s.packages_applied += r.applied.len() as u64;
                }
                if quiet.clear() {
                    tracing::info!("pull works again");
                }
                if !r.applied.is_empty() {
                    tracing::info!(
                        packages = r.applied.len(),
                        bytes = r.downloaded_bytes,
                        millis = r.millis,
                        "packages applied"
                    );
                }
                opts.pull_interval
            }
            Err(e) => {
                lock(summary).pull_errors += 1;
                let msg = e.to_string();
                if quiet.should_say(&msg) {
                    tracing::warn!(error = %msg, "pull failed; the till keeps its data");
                }
                cfg.sync.retry_interval()
            }
        };
        if !wait(stop, pause) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::test_support::{FakeServer, sale, till};
    use tillsync_wire::api::{ItemResult, ItemStatus, OutboxBatch, OutboxResponse};

    #[test]
    fn pushes_within_a_few_intervals_and_stops_cleanly() {
        let fake = FakeServer::start(Arc::new(|path: &str, body: &str| {
            if !path.ends_with("/outbox") {
                return (
                    200,
                    r#"{"status":"ok","folder":"DEMO","api":1,"server_time":"x"}"#.into(),
                );
            }
            let b: OutboxBatch = serde_json::from_str(body).unwrap();
            let results = b
                .items
                .iter()
                .map(|i| ItemResult {
                    key: i.key.clone(),
                    status: ItemStatus::Accepted,
                    reason: None,
                })
                .collect();
            (
                200,
                serde_json::to_string(&OutboxResponse { results }).unwrap(),
            )
        }));
        let (dir, mut cfg, mut reg) = till(&format!("http://{}/", fake.addr));
        cfg.sync.sync_interval_ms = 50;
        cfg.sync.retry_interval_ms = 50;
        cfg.save(dir.path()).unwrap();
        let stop = AtomicBool::new(false);
        let opts = AgentOptions {
            pull: false,
            ..AgentOptions::default()
        };
        std::thread::scope(|s| {
            let h = s.spawn(|| run(dir.path(), &opts, &stop));
            // Idle, the synchroniser pings.
            let started = Instant::now();
            while !fake
                .seen
                .lock()
                .unwrap()
                .iter()
                .any(|(p, _)| p.ends_with("/ping"))
            {
                assert!(started.elapsed() < Duration::from_secs(5), "no ping");
                std::thread::sleep(Duration::from_millis(10));
            }
            for _ in 0..3 {
                reg.sell(&sale()).unwrap();
            }
            let started = Instant::now();
            while reg.db().outbox_stats().unwrap().pending > 0 {
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "not pushed in time"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            stop.store(true, Ordering::Relaxed);
            let t = Instant::now();
            let summary = h.join().unwrap().unwrap();
            assert!(t.elapsed() < Duration::from_secs(2), "slow to stop");
            // The three tickets and the event log's agent_start record.
            assert_eq!(summary.delivered, 4, "{summary:?}");
        });
        assert!(
            fake.seen
                .lock()
                .unwrap()
                .iter()
                .any(|(p, _)| p.ends_with("/ping"))
        );
    }

    #[test]
    fn a_missing_till_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        assert!(run(dir.path(), &AgentOptions::default(), &stop).is_err());
    }
}
