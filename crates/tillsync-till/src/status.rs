//! `till status`: is the server reachable now (a live ping within
//! `ping_timeout_ms`) and when it last answered, the till's enrolment
//! (its key id, or why it is not enrolled yet), the table versions, the
//! tickets, the outbox (pending items, age of the oldest), the error list with
//! reasons, the last successful push and pull, the recent journal, and the
//! newest day closing with the tickets sold since.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_till_db::TillDb;
use tillsync_till_db::db::{JournalLine, TableVersion};
use tillsync_till_db::fiscal::closings::FiscalState;
use tillsync_till_db::up::{OutboxStats, STATE_LAST_CONTACT, STATE_LAST_PUSH};

use crate::client::Client;
use crate::enrol::{EnrolmentStatus, enrolment_status};
use crate::error::TillError;
use crate::files::DB_FILE;

/// What to look at.
#[derive(Debug, Clone, Copy)]
pub struct StatusOptions {
    /// Ping the web service now (else `online` is unknown).
    pub ping: bool,
    /// How many journal lines to show.
    pub journal_lines: u32,
}

impl Default for StatusOptions {
    fn default() -> Self {
        StatusOptions {
            ping: true,
            journal_lines: 10,
        }
    }
}

/// The connection to the web service.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    /// The web service URL.
    pub webservice_url: String,
    /// The live ping answered within `ping_timeout_ms` (`None`: not checked).
    pub online: Option<bool>,
    /// How long the ping took.
    pub ping_millis: Option<u64>,
    /// Why the ping failed.
    pub error: Option<String>,
    /// When the server last answered (RFC 3339).
    pub last_contact: Option<String>,
}

/// The till's tickets.
#[derive(Debug, Clone, Serialize)]
pub struct Tickets {
    /// How many.
    pub count: u64,
    /// Number of the newest.
    pub last_number: Option<u64>,
    /// Time of the newest.
    pub last_time: Option<String>,
}

/// One item of the error list.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorItem {
    /// Idempotency key (`ticket:42`…).
    pub key: String,
    /// Kind.
    pub kind: String,
    /// `rejected`, `quarantined` or `unsendable`.
    pub status: String,
    /// Why.
    pub reason: String,
    /// When it was set aside.
    pub at: String,
}

/// Everything `till status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct TillStatus {
    /// Till id.
    pub till: String,
    /// Store.
    pub store: String,
    /// POS folder.
    pub folder: String,
    /// Reachable now (`null` when not checked).
    pub online: Option<bool>,
    /// Connection details.
    pub connection: Connection,
    /// The till's key and its enrolment.
    pub enrolment: EnrolmentStatus,
    /// Table versions held.
    pub tables: Vec<TableVersion>,
    /// Tickets.
    pub tickets: Tickets,
    /// The outbox.
    pub outbox: OutboxStats,
    /// The error list, oldest first.
    pub errors: Vec<ErrorItem>,
    /// When the server last answered a push batch.
    pub last_push: Option<String>,
    /// When a pull last succeeded.
    pub last_pull: Option<String>,
    /// Newest journal lines first.
    pub journal: Vec<JournalLine>,
    /// The newest day closing and the tickets sold since.
    pub fiscal: FiscalState,
}

/// The status of the till in `dir`.
pub fn status(dir: &Path, opts: StatusOptions) -> Result<TillStatus, TillError> {
    let cfg = TillConfig::load(dir)?;
    let db = TillDb::open(&dir.join(DB_FILE))?;
    let mut connection = Connection {
        webservice_url: cfg.server.webservice_url.to_string(),
        online: None,
        ping_millis: None,
        error: None,
        last_contact: None,
    };
    if opts.ping {
        let started = Instant::now();
        let result = Client::with_timeout(&cfg, cfg.sync.ping_timeout()).and_then(|c| c.ping());
        match result {
            Ok(p) if p.folder == cfg.folder.name => {
                connection.online = Some(true);
                connection.ping_millis = Some(started.elapsed().as_millis() as u64);
                db.set_state(STATE_LAST_CONTACT, &tillsync_db::now_rfc3339())?;
            }
            Ok(p) => {
                connection.online = Some(false);
                connection.error = Some(format!(
                    "the web service answers for POS folder {:?}, this till belongs to {:?}",
                    p.folder, cfg.folder.name
                ));
            }
            Err(e) => {
                connection.online = Some(false);
                connection.error = Some(e.to_string());
            }
        }
    }
    let last_push = db.state(STATE_LAST_PUSH)?;
    connection.last_contact = [db.state(STATE_LAST_CONTACT)?, last_push.clone()]
        .into_iter()
        .flatten()
        .max();
    let (count, last) = db.ticket_summary(&cfg.till.id)?;
    let errors = db
        .errors()?
        .into_iter()
        .map(|e| ErrorItem {
            key: e.key,
            kind: e.kind,
            status: e.status,
            reason: e.reason,
            at: e.at,
        })
        .collect();
    Ok(TillStatus {
        till: cfg.till.id.clone(),
        store: cfg.till.store.clone(),
        folder: cfg.folder.name.clone(),
        online: connection.online,
        enrolment: enrolment_status(dir, &cfg, &db)?,
        connection,
        tables: db.table_versions()?,
        tickets: Tickets {
            count,
            last_number: last.as_ref().map(|l| l.number),
            last_time: last.map(|l| l.time),
        },
        outbox: db.outbox_stats()?,
        errors,
        last_push,
        last_pull: db.last_ok("pull")?,
        journal: db.recent_journal(opts.journal_lines)?,
        fiscal: db.fiscal_state(&cfg.till.id)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::test_support::{FakeServer, sale, till};
    use crate::up::push::{PushOptions, push};

    #[test]
    fn status_reports_connection_outbox_and_errors() {
        let fake = FakeServer::start(Arc::new(|path: &str, body: &str| {
            if path.ends_with("/ping") {
                return (
                    200,
                    r#"{"status":"ok","folder":"DEMO","api":1,"server_time":"x"}"#.into(),
                );
            }
            let b: tillsync_wire::api::OutboxBatch = serde_json::from_str(body).unwrap();
            let results: Vec<_> = b
                .items
                .iter()
                .map(|i| {
                    serde_json::json!({"key": i.key, "status": "rejected", "reason": "no such till"})
                })
                .collect();
            (200, serde_json::json!({ "results": results }).to_string())
        }));
        let (dir, _cfg, mut reg) = till(&format!("http://{}/", fake.addr));
        reg.sell(&sale()).unwrap();
        reg.sell(&sale()).unwrap();
        let s = status(dir.path(), StatusOptions::default()).unwrap();
        assert_eq!(s.online, Some(true));
        assert!(s.connection.last_contact.is_some());
        assert_eq!((s.outbox.pending, s.tickets.count), (2, 2));
        assert_eq!(s.tickets.last_number, Some(2));
        assert!(s.last_push.is_none() && s.last_pull.is_none());
        push(dir.path(), PushOptions::default()).unwrap();
        let s = status(dir.path(), StatusOptions::default()).unwrap();
        assert_eq!((s.outbox.pending, s.outbox.errors), (0, 2));
        assert_eq!(s.errors[0].key, "ticket:1");
        assert_eq!(s.errors[0].reason, "no such till");
        assert!(s.last_push.is_some());
        assert_eq!(s.journal[0].kind, "push");
        let json = serde_json::to_value(&s).unwrap();
        for k in [
            "online",
            "tables",
            "outbox",
            "errors",
            "last_push",
            "last_pull",
            "journal",
        ] {
            assert!(json.get(k).is_some(), "{k} missing in {json}");
        }
    }

    #[test]
    fn offline_is_said_with_the_reason() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (dir, _cfg, _reg) = till(&format!("http://127.0.0.1:{port}/"));
        let s = status(dir.path(), StatusOptions::default()).unwrap();
        assert_eq!(s.online, Some(false));
        assert!(s.connection.error.unwrap().contains("unreachable"));
        assert_eq!(s.connection.last_contact, None);
        let s = status(
            dir.path(),
            StatusOptions {
                ping: false,
                journal_lines: 1,
            },
        )
        .unwrap();
        assert_eq!(s.online, None);
    }
}
