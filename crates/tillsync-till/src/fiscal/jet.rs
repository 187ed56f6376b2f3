//! [`Fiscal`]: what the till needs to write fiscal records (its id, key,
//! time zone and day-closing time) and the event log (JET) written at the
//! real time: the clock is the system's; only the library's lower layer
//! takes a time, for tests.

use ed25519_dalek::SigningKey;
use jiff::civil::Time;
use serde::Serialize;
use serde_json::Value;
use tillsync_core::TillConfig;
use tillsync_core::fiscal::event::EventKind;
use tillsync_core::fiscal::local::{LocalZone, parse_time_of_day};
use tillsync_core::fiscal::record::Record;
use tillsync_core::lang::Lang;
use tillsync_till_db::TillDb;

use crate::error::TillError;

/// The software version the event log records at each start.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state key holding the software version of the previous start.
pub const STATE_SOFTWARE_VERSION: &str = "software_version";

/// A till's means to write fiscal records.
pub struct Fiscal {
    /// Till id.
    pub till: String,
    /// The till's signing key.
    pub key: SigningKey,
    /// Its time zone.
    pub zone: LocalZone,
    /// The local time the agent closes the day.
    pub close_time: Time,
    /// The language of what a person reads.
    pub lang: Lang,
}

fn invalid(key: &str, value: &str, e: impl std::fmt::Display) -> TillError {
    TillError::Config(tillsync_core::ConfigError::Invalid {
        key: key.to_string(),
        value: value.to_string(),
        reason: e.to_string(),
    })
}

impl Fiscal {
    /// From the till's configuration.
    pub fn new(cfg: &TillConfig) -> Result<Self, TillError> {
        Ok(Fiscal {
            till: cfg.till.id.clone(),
            key: cfg.auth.signing_key()?,
            zone: cfg
                .folder
                .zone()
                .map_err(|e| invalid("folder.timezone", &cfg.folder.timezone, e))?,
            close_time: parse_time_of_day(&cfg.folder.day_close_time)
                .map_err(|e| invalid("folder.day_close_time", &cfg.folder.day_close_time, e))?,
            lang: cfg.till.language,
        })
    }

    /// From the till's configuration, with the zone of this till
    /// ([`TillDb::till_zone`]: its store's time zone over the folder's).
    pub fn for_till(cfg: &TillConfig, db: &TillDb) -> Result<Self, TillError> {
        Ok(Fiscal {
            zone: db.till_zone(cfg)?,
            ..Fiscal::new(cfg)?
        })
    }

    /// Write event `kind` with `body` now.
    pub fn log(&self, db: &mut TillDb, kind: EventKind, body: Value) -> Result<Record, TillError> {
        Ok(db.log_event(
            &self.till,
            &self.key,
            kind,
            &body,
            &tillsync_db::now_rfc3339(),
        )?)
    }

    /// The agent starts: `agent_start`, and `version_change` first when the
    /// software is not the one of the previous start.
    pub fn started(&self, db: &mut TillDb) -> Result<(), TillError> {
        let before = db.state(STATE_SOFTWARE_VERSION)?;
        if let Some(b) = &before
            && b != SOFTWARE_VERSION
        {
            self.log(
                db,
                EventKind::VersionChange,
                serde_json::json!({"from": b, "to": SOFTWARE_VERSION}),
            )?;
        }
        self.log(
            db,
            EventKind::AgentStart,
            serde_json::json!({"version": SOFTWARE_VERSION}),
        )?;
        if before.as_deref() != Some(SOFTWARE_VERSION) {
            db.set_state(STATE_SOFTWARE_VERSION, SOFTWARE_VERSION)?;
        }
        Ok(())
    }
}

/// One event as `till events` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLine {
    /// Number in the event log.
    pub seq: u64,
    /// When (RFC 3339 UTC, as recorded).
    pub time: String,
    /// The same in local time, as a person reads it.
    pub local_time: String,
    /// Kind code.
    pub kind: String,
    /// What a person reads.
    pub label: String,
    /// Body (JSON).
    pub body: Value,
    /// Hash.
    pub hash: String,
}

/// The zone of the till in `dir` (its store's time zone over the
/// folder's), for the times its commands show.
pub fn till_zone(dir: &std::path::Path) -> Result<LocalZone, TillError> {
    let cfg = TillConfig::load(dir)?;
    let db = TillDb::open(&dir.join(crate::files::DB_FILE))?;
    Ok(db.till_zone(&cfg)?)
}

/// The event log of the till in `dir`, numbered after `after`.
pub fn events(dir: &std::path::Path, after: u64) -> Result<Vec<EventLine>, TillError> {
    let cfg = TillConfig::load(dir)?;
    let db = TillDb::open(&dir.join(crate::files::DB_FILE))?;
    let zone = db.till_zone(&cfg)?;
    let lang = cfg.till.language;
    Ok(db
        .events(&cfg.till.id, after)?
        .into_iter()
        .map(|r| EventLine {
            seq: r.seq,
            local_time: zone.show(&r.time, lang),
            label: EventKind::from_code(&r.kind)
                .map(|k| k.label(lang).to_string())
                .unwrap_or_else(|_| r.kind.clone()),
            body: serde_json::from_str(&r.body).unwrap_or(Value::String(r.body.clone())),
            time: r.time,
            kind: r.kind,
            hash: r.hash,
        })
        .collect())
}
