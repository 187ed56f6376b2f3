//! The push (the seed's "synchronisateur"): the outbox goes to the web
//! service in batches, oldest first. An item leaves the outbox only after the
//! server answered for it: accepted or duplicate → removed; rejected or
//! quarantined → moved to the error list with the reason (the items behind it
//! go on); no answer (connection error, timeout, 5xx) → everything stays and
//! the push reports the server unavailable. Every item carries its
//! idempotency key, so a batch resent after a timeout changes nothing.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_till_db::TillDb;
use tillsync_till_db::up as till_up;
use tillsync_till_db::up::{Outcome, STATE_LAST_CONTACT};
use tillsync_wire::api::{ItemStatus, OutboxBatch, OutboxItem};

use crate::client::Client;
use crate::enrol::ensure_enrolled;
use crate::error::TillError;
use crate::files::DB_FILE;

/// Items per batch by default.
pub const BATCH_ITEMS: usize = 200;
/// Payload bytes per batch by default (a batch holds at least one item).
pub const BATCH_BYTES: usize = 1 << 20;

/// How to push.
#[derive(Debug, Clone, Copy)]
pub struct PushOptions {
    /// At most this many items per batch.
    pub batch_items: usize,
    /// At most about this many payload bytes per batch.
    pub batch_bytes: usize,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            batch_items: BATCH_ITEMS,
            batch_bytes: BATCH_BYTES,
        }
    }
}

/// An item set aside during this push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetAside {
    /// Idempotency key.
    pub key: String,
    /// `rejected`, `quarantined`, or `unsendable` (refused by the till itself).
    pub status: String,
    /// Why.
    pub reason: String,
}

/// What one push did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// Batches sent.
    pub batches: u64,
    /// Items sent.
    pub sent: u64,
    /// Items the server stored.
    pub accepted: u64,
    /// Items the server had already stored (a resend).
    pub duplicate: u64,
    /// Items the server kept in quarantine (set aside here).
    pub quarantined: u64,
    /// Items the server refused (set aside here).
    pub rejected: u64,
    /// Items sent without an answer for them: still in the outbox.
    pub kept: u64,
    /// The items set aside, with their reasons.
    pub set_aside: Vec<SetAside>,
    /// Items left in the outbox afterwards.
    pub pending: u64,
    /// Why the server could not be reached, if it could not (nothing lost).
    pub unavailable: Option<String>,
    /// Duration in milliseconds.
    pub millis: u64,
}

impl PushReport {
    /// This push followed by `then` as one report.
    pub fn merged(self, then: PushReport) -> PushReport {
        let mut set_aside = self.set_aside;
        set_aside.extend(then.set_aside);
        PushReport {
            batches: self.batches + then.batches,
            sent: self.sent + then.sent,
            accepted: self.accepted + then.accepted,
            duplicate: self.duplicate + then.duplicate,
            quarantined: self.quarantined + then.quarantined,
            rejected: self.rejected + then.rejected,
            kept: then.kept,
            set_aside,
            pending: then.pending,
            unavailable: then.unavailable,
            millis: self.millis + then.millis,
        }
    }

    /// Items that left the outbox as delivered.
    pub fn delivered(&self) -> u64 {
        self.accepted + self.duplicate
    }

    /// One line for the journal and the logs.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} item(s) sent in {} batch(es): {} accepted, {} duplicate, {} quarantined, {} rejected; {} pending",
            self.sent,
            self.batches,
            self.accepted,
            self.duplicate,
            self.quarantined,
            self.rejected,
            self.pending
        );
        if let Some(u) = &self.unavailable {
            s.push_str(&format!("; server unavailable: {u}"));
        }
        s
    }
}

/// Push the outbox of the till in `dir` once (every item queued so far),
/// and journal it (kind `push`) when there was anything to send. A till not
/// enrolled yet enrols first (`crate::enrol`); a refused enrolment is the error.
pub fn push(dir: &Path, opts: PushOptions) -> Result<PushReport, TillError> {
    let mut cfg = TillConfig::load(dir)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    // A till not enrolled yet enrols first; while the server is out of
    // reach everything stays in the outbox.
    if let Err(e) = ensure_enrolled(dir, &mut cfg, &db) {
        if !e.is_unavailable() {
            return Err(e);
        }
        return Ok(PushReport {
            pending: db.outbox_stats()?.pending,
            unavailable: Some(format!("not enrolled yet: {e}")),
            ..PushReport::default()
        });
    }
    let client = Client::new(&cfg)?;
    let mut result = push_with(&client, &mut db, opts);
    // Tickets the server never received (an outbox row lost here) go again.
    if let Ok(r) = &result
        && r.unavailable.is_none()
        && r.delivered() > 0
    {
        let fiscal = crate::fiscal::jet::Fiscal::new(&cfg)?;
        match crate::up::resend::fill_gaps(&client, &mut db, &fiscal) {
            Ok(q) if !q.is_empty() => {
                let again = push_with(&client, &mut db, opts)?;
                result = result.map(|first| first.merged(again));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not ask the server which tickets it is missing")
            }
        }
    }
    journal(&db, &result)?;
    result
}

/// Add the journal line of a push (nothing when there was nothing to send).
pub fn journal(db: &TillDb, result: &Result<PushReport, TillError>) -> Result<(), TillError> {
    match result {
        Ok(r) if r.sent == 0 && r.set_aside.is_empty() => {}
        Ok(r) => {
            let res = if r.unavailable.is_some() {
                "error"
            } else {
                "ok"
            };
            db.journal("push", res, &r.summary())?;
        }
        Err(e) => db.journal("push", "error", &e.to_string())?,
    }
    Ok(())
}

/// Push every item queued so far with an open client and database. Items
/// queued while it runs wait for the next push.
pub fn push_with(
    client: &Client,
    db: &mut TillDb,
    opts: PushOptions,
) -> Result<PushReport, TillError> {
    let started = Instant::now();
    let mut report = PushReport::default();
    let up_to = db.outbox_last_id()?;
    let mut after = 0;
    loop {
        let mut entries = db.outbox_after(after, up_to, opts.batch_items.max(1))?;
        if entries.is_empty() {
            break;
        }
        let mut bytes = 0;
        let keep = entries
            .iter()
            .position(|e| {
                bytes += e.payload.len();
                bytes > opts.batch_bytes
            })
            .unwrap_or(entries.len())
            .max(1);
        entries.truncate(keep);
        after = entries.last().map_or(after, |e| e.id);

        let mut items = Vec::with_capacity(entries.len());
        let mut local = Vec::new();
        for e in &entries {
            let kind = till_up::parse_kind(&e.kind);
            let payload = serde_json::from_str::<serde_json::Value>(&e.payload);
            match (kind, payload) {
                (Some(kind), Ok(payload)) => items.push(OutboxItem {
                    key: e.key.clone(),
                    kind,
                    payload,
                }),
                (None, _) => local.push((e.key.clone(), format!("unknown kind {:?}", e.kind))),
                (_, Err(err)) => local.push((e.key.clone(), format!("payload is not JSON: {err}"))),
            }
        }
        if !local.is_empty() {
            let outcomes: Vec<(String, Outcome)> = local
                .iter()
                .map(|(key, reason)| {
                    (
                        key.clone(),
                        Outcome::SetAside {
                            status: "unsendable".into(),
                            reason: reason.clone(),
                        },
                    )
                })
                .collect();
            db.settle(&outcomes)?;
            report
                .set_aside
                .extend(local.into_iter().map(|(key, reason)| SetAside {
                    key,
                    status: "unsendable".into(),
                    reason,
                }));
        }
        if items.is_empty() {
            continue;
        }
        report.sent += items.len() as u64;
        if let Some(reason) = deliver(client, db, items, &mut report)? {
            report.unavailable = Some(reason);
            break;
        }
    }
    report.pending = db.outbox_stats()?.pending;
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Send one batch and settle its items. A batch refused for its content is
/// cut in halves until the item at fault is alone, and that item is set
/// aside. `Some(reason)`: the server is unavailable (everything kept).
fn deliver(
    client: &Client,
    db: &mut TillDb,
    items: Vec<OutboxItem>,
    report: &mut PushReport,
) -> Result<Option<String>, TillError> {
    report.batches += 1;
    let mut batch = OutboxBatch { items };
    let keys: Vec<String> = batch.items.iter().map(|i| i.key.clone()).collect();
    let resp = match client.push(&batch) {
        Ok(resp) => resp,
        Err(TillError::BatchRefused { .. }) if batch.items.len() > 1 => {
            let second = batch.items.split_off(batch.items.len() / 2);
            if let Some(u) = deliver(client, db, batch.items, report)? {
                return Ok(Some(u));
            }
            return deliver(client, db, second, report);
        }
        Err(e @ TillError::BatchRefused { .. }) => {
            db.set_state(STATE_LAST_CONTACT, &tillsync_db::now_rfc3339())?;
            let reason = e.to_string();
            report.rejected += 1;
            report.set_aside.push(SetAside {
                key: keys[0].clone(),
                status: "rejected".into(),
                reason: reason.clone(),
            });
            db.settle(&[(
                keys[0].clone(),
                Outcome::SetAside {
                    status: "rejected".into(),
                    reason,
                },
            )])?;
            return Ok(None);
        }
        Err(e) => {
            let outcomes: Vec<(String, Outcome)> = keys
                .iter()
                .map(|k| {
                    let error = e.to_string();
                    (k.clone(), Outcome::Kept { error })
                })
                .collect();
            db.settle(&outcomes)?;
            report.kept += keys.len() as u64;
            if e.is_unavailable() {
                return Ok(Some(e.to_string()));
            }
            return Err(e);
        }
    };
    db.set_state(STATE_LAST_CONTACT, &tillsync_db::now_rfc3339())?;
    let mut by_key: HashMap<&str, _> = HashMap::with_capacity(resp.results.len());
    for r in &resp.results {
        by_key.insert(r.key.as_str(), r);
    }
    let mut outcomes = Vec::with_capacity(keys.len());
    for key in &keys {
        let outcome = match by_key.get(key.as_str()) {
            None => {
                report.kept += 1;
                Outcome::Kept {
                    error: "the server's answer had no result for this item".into(),
                }
            }
            Some(r) => match r.status {
                ItemStatus::Accepted => {
                    report.accepted += 1;
                    Outcome::Delivered
                }
                ItemStatus::Duplicate => {
                    report.duplicate += 1;
                    Outcome::Delivered
                }
                ItemStatus::Quarantined | ItemStatus::Rejected => {
                    let status = if r.status == ItemStatus::Quarantined {
                        report.quarantined += 1;
                        "quarantined"
                    } else {
                        report.rejected += 1;
                        "rejected"
                    };
                    let reason = r.reason.clone().unwrap_or_else(|| "no reason given".into());
                    report.set_aside.push(SetAside {
                        key: key.clone(),
                        status: status.into(),
                        reason: reason.clone(),
                    });
                    Outcome::SetAside {
                        status: status.into(),
                        reason,
                    }
                }
            },
        };
        outcomes.push((key.clone(), outcome));
    }
    db.settle(&outcomes)?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use tillsync_wire::api::{ItemResult, OutboxResponse};

    use crate::test_support::{FakeServer, sale, till};

    /// Answers every outbox item by its key: `ticket:3` rejected, `ticket:5`
    /// quarantined, `ticket:7` left out of the answer, the rest accepted.
    fn picky(path: &str, body: &str) -> (u16, String) {
        if !path.ends_with("/outbox") {
            return (
                200,
                r#"{"status":"ok","folder":"DEMO","api":1,"server_time":"x"}"#.into(),
            );
        }
        let batch: OutboxBatch = serde_json::from_str(body).unwrap();
        let results = batch
            .items
            .iter()
            .filter(|i| i.key != "ticket:7")
            .map(|i| {
                let (status, reason) = match i.key.as_str() {
                    "ticket:3" => (ItemStatus::Rejected, Some("bad data".to_string())),
                    "ticket:5" => (ItemStatus::Quarantined, Some("chain broken".to_string())),
                    _ => (ItemStatus::Accepted, None),
                };
                ItemResult {
                    key: i.key.clone(),
                    status,
                    reason,
                }
            })
            .collect();
        (
            200,
            serde_json::to_string(&OutboxResponse { results }).unwrap(),
        )
    }

    #[test]
    fn results_settle_each_item_and_never_block_the_next() {
        let fake = FakeServer::start(Arc::new(picky));
        let (dir, cfg, mut reg) = till(&format!("http://{}/", fake.addr));
        for _ in 0..10 {
            reg.sell(&sale()).unwrap();
        }
        drop(reg);
        let opts = PushOptions {
            batch_items: 4,
            batch_bytes: BATCH_BYTES,
        };
        let r = push(dir.path(), opts).unwrap();
        assert_eq!(r.batches, 3, "{r:?}");
        assert_eq!(
            (r.sent, r.accepted, r.rejected, r.quarantined, r.kept),
            (10, 7, 1, 1, 1),
            "{r:?}"
        );
        assert_eq!(r.pending, 1);
        assert!(r.unavailable.is_none());
        // Oldest first, each item once, in order.
        let sent: Vec<String> = fake
            .batches()
            .iter()
            .flat_map(|b| b.items.iter().map(|i| i.key.clone()))
            .collect();
        let expected: Vec<String> = (1..=10).map(|n| format!("ticket:{n}")).collect();
        assert_eq!(sent, expected);
        let db = TillDb::open(&dir.path().join(DB_FILE)).unwrap();
        let left = db.outbox_batch(10).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].key, "ticket:7");
        assert_eq!(left[0].attempts, 1);
        let errs = db.errors().unwrap();
        assert_eq!(
            errs.iter()
                .map(|e| (e.key.as_str(), e.status.as_str(), e.reason.as_str()))
                .collect::<Vec<_>>(),
            [
                ("ticket:3", "rejected", "bad data"),
                ("ticket:5", "quarantined", "chain broken")
            ]
        );
        let j = db.recent_journal(1).unwrap().remove(0);
        assert_eq!((j.kind.as_str(), j.result.as_str()), ("push", "ok"));
        assert!(j.detail.contains("1 rejected"), "{}", j.detail);
        assert!(db.state(till_up::STATE_LAST_PUSH).unwrap().is_some());
        // Ticket 7 goes with the next push; nothing else is sent again.
        let before = fake.batches().len();
        let r = push(dir.path(), opts).unwrap();
        assert_eq!((r.sent, r.kept, r.pending), (1, 1, 1));
        assert_eq!(fake.batches().len(), before + 1);
        let _ = cfg;
    }

    #[test]
    fn a_batch_refused_for_one_item_is_cut_until_that_item_is_alone() {
        let fake = FakeServer::start(Arc::new(|_p: &str, body: &str| {
            let batch: OutboxBatch = serde_json::from_str(body).unwrap();
            if batch.items.iter().any(|i| i.key == "ticket:4") {
                return (
                    403,
                    r#"{"error":"foreign-ticket","message":"item ticket:4 is another till's"}"#
                        .into(),
                );
            }
            let results = batch
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
        let (dir, _cfg, mut reg) = till(&format!("http://{}/", fake.addr));
        for _ in 0..9 {
            reg.sell(&sale()).unwrap();
        }
        let r = push(dir.path(), PushOptions::default()).unwrap();
        assert_eq!((r.accepted, r.rejected, r.pending), (8, 1, 0), "{r:?}");
        assert_eq!(r.set_aside[0].key, "ticket:4");
        assert!(r.set_aside[0].reason.contains("another till's"), "{r:?}");
        // Delivered in order, each once.
        let accepted: Vec<String> = fake
            .batches()
            .iter()
            .filter(|b| !b.items.iter().any(|i| i.key == "ticket:4"))
            .flat_map(|b| b.items.iter().map(|i| i.key.clone()))
            .collect();
        let expected: Vec<String> = (1..=9)
            .filter(|n| *n != 4)
            .map(|n| format!("ticket:{n}"))
            .collect();
        assert_eq!(accepted, expected);
    }

    #[test]
    fn server_errors_and_refusals_keep_everything() {
        let status = Arc::new(Mutex::new(503u16));
        let s2 = status.clone();
        let fake = FakeServer::start(Arc::new(move |_p: &str, _b: &str| {
            let code = *s2.lock().unwrap();
            (code, r#"{"error":"x","message":"not now"}"#.to_string())
        }));
        let (dir, _cfg, mut reg) = till(&format!("http://{}/", fake.addr));
        for _ in 0..3 {
            reg.sell(&sale()).unwrap();
        }
        drop(reg);
        let r = push(dir.path(), PushOptions::default()).unwrap();
        let u = r.unavailable.clone().unwrap();
        assert!(u.contains("503") && u.contains("not now"), "{u}");
        assert_eq!((r.sent, r.kept, r.pending), (3, 3, 3));
        // A 4xx for the whole batch (e.g. revoked credentials) is an error;
        // nothing leaves the outbox either.
        *status.lock().unwrap() = 403;
        let e = push(dir.path(), PushOptions::default()).unwrap_err();
        assert!(e.to_string().contains("403"), "{e}");
        let db = TillDb::open(&dir.path().join(DB_FILE)).unwrap();
        assert_eq!(db.outbox_stats().unwrap().pending, 3);
        assert_eq!(db.outbox_batch(1).unwrap()[0].attempts, 2);
        assert!(db.errors().unwrap().is_empty());
        let j = db.recent_journal(2).unwrap();
        assert!(
            j.iter().all(|j| j.kind == "push" && j.result == "error"),
            "{j:?}"
        );
    }

    #[test]
    fn no_server_at_all_and_an_empty_outbox() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (dir, _cfg, mut reg) = till(&format!("http://127.0.0.1:{port}/"));
        // Nothing to send: no network needed, no journal line.
        let r = push(dir.path(), PushOptions::default()).unwrap();
        assert_eq!((r.sent, r.batches, r.pending), (0, 0, 0));
        reg.sell(&sale()).unwrap();
        let r = push(dir.path(), PushOptions::default()).unwrap();
        assert!(r.unavailable.is_some(), "{r:?}");
        assert_eq!(r.pending, 1);
    }

    #[test]
    fn batches_are_cut_by_size_and_unsendable_items_set_aside() {
        let fake = FakeServer::start(Arc::new(picky));
        let (dir, _cfg, mut reg) = till(&format!("http://{}/", fake.addr));
        reg.sell(&sale()).unwrap();
        reg.sell(&sale()).unwrap();
        reg.db()
            .conn()
            .execute(
                "INSERT INTO tillsync_outbox(key, kind, payload, created_at)
                 VALUES ('weird:1', 'martian', '{}', '2026-01-01T00:00:00Z')",
                [],
            )
            .unwrap();
        drop(reg);
        let r = push(
            dir.path(),
            PushOptions {
                batch_items: 100,
                batch_bytes: 10,
            },
        )
        .unwrap();
        assert_eq!((r.batches, r.accepted), (2, 2), "{r:?}");
        assert_eq!(r.set_aside.len(), 1);
        assert_eq!(r.set_aside[0].status, "unsendable");
        assert!(fake.batches().iter().all(|b| b.items.len() == 1));
    }
}
