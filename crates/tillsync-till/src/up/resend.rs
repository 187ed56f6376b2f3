//! Tickets the server never received, sent again by the till itself: it
//! asks the server which numbers are missing and queues those tickets
//! again from its own `TICKET` table (`till resend` does the same for a
//! range given by hand).

use std::path::Path;

use tillsync_core::TillConfig;
use tillsync_till_db::TillDb;

use crate::client::Client;
use crate::error::TillError;
use crate::files::DB_FILE;
use crate::fiscal::jet::Fiscal;

/// Ask the server which of this till's tickets it is missing and queue them
/// again; returns the numbers queued.
pub fn fill_gaps(client: &Client, db: &mut TillDb, fiscal: &Fiscal) -> Result<Vec<u64>, TillError> {
    let missing = client.missing_tickets()?;
    let mut queued = Vec::new();
    for [from, to] in missing.ranges {
        queued.extend(db.resend_tickets(
            &fiscal.till,
            &fiscal.key,
            from,
            to,
            &tillsync_db::now_rfc3339(),
        )?);
    }
    if !queued.is_empty() {
        tracing::warn!(
            tickets = queued.len(),
            first = queued[0],
            "the server was missing tickets: queued again from the till's own tickets"
        );
    }
    Ok(queued)
}

/// `till resend --from N --to M`: queue tickets `from..=to` again (those not
/// already waiting); the next push sends them.
pub fn resend(dir: &Path, from: u64, to: u64) -> Result<Vec<u64>, TillError> {
    let cfg = TillConfig::load(dir)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    let fiscal = Fiscal::new(&cfg)?;
    Ok(db.resend_tickets(
        &fiscal.till,
        &fiscal.key,
        from,
        to,
        &tillsync_db::now_rfc3339(),
    )?)
}
