//! Up-direction tables at the till: after a pull whose plan came from the web
//! service, the till captures the changes of exactly the tables the server
//! lists as travelling up (creating a missing one with the server's layout),
//! by triggers that queue `row` items in the outbox. A table that also
//! travels down (customers, `CLI`) is left out: its till changes go up as
//! explicit customer edits, and its rows from the server must not echo back.

use tillsync_till_db::TillDb;
use tillsync_till_db::customers::UpTableState;
use tillsync_wire::api::UpTable;

use crate::error::TillError;

/// Install the capture of `up` minus the tables in `down`; drop it for
/// tables no longer listed. Returns the tables now captured.
pub fn sync(
    db: &mut TillDb,
    up: &[UpTable],
    down: &[String],
) -> Result<Vec<UpTableState>, TillError> {
    let wanted: Vec<_> = up
        .iter()
        .filter(|u| !down.iter().any(|d| d.eq_ignore_ascii_case(&u.table)))
        .map(|u| (u.table.clone(), u.layout.clone()))
        .collect();
    Ok(db.sync_up_tables(&wanted)?)
}
