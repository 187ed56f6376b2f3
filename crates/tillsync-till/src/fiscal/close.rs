//! `till close`: close the business day, the month or the year by hand, and
//! the closings the agent writes by itself when they are due.

use std::path::Path;

use tillsync_core::TillConfig;
use tillsync_core::fiscal::closing::Period;
use tillsync_till_db::TillDb;
use tillsync_till_db::fiscal::closings::{Closed, Closer};

use crate::error::TillError;
use crate::files::DB_FILE;
use crate::fiscal::jet::Fiscal;

impl Fiscal {
    fn closer<'a>(&'a self, now: &'a str) -> Closer<'a> {
        Closer {
            till: &self.till,
            key: &self.key,
            zone: &self.zone,
            now,
        }
    }

    /// Close `period` now.
    pub fn close(&self, db: &mut TillDb, period: Period) -> Result<Closed, TillError> {
        let now = tillsync_db::now_rfc3339();
        Ok(db.close(&self.closer(&now), period)?)
    }

    /// Write the closings that are due now (see `Closer::due_in`).
    pub fn close_due(&self, db: &mut TillDb) -> Result<Vec<Closed>, TillError> {
        let now = tillsync_db::now_rfc3339();
        Ok(db.close_due(&self.closer(&now), self.close_time)?)
    }
}

/// Close `period` on the till in `dir`.
pub fn close(dir: &Path, period: Period) -> Result<Closed, TillError> {
    let cfg = TillConfig::load(dir)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    Fiscal::for_till(&cfg, &db)?.close(&mut db, period)
}
