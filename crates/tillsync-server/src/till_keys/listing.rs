//! `server tills keys`: a till's key history as the server keeps it,
//! checked with the server's own public key, with the till's deployment
//! packages (enrolment secrets) and any ticket key not recorded yet.

use serde::Serialize;
use tillsync_core::key_history::KeyHistory;
use tillsync_core::keys;
use tillsync_server_db::keys::Enrolment;
use tillsync_wire::keys::{KEY_HISTORY_FORMAT, KeyHistoryFile};

use crate::data::DataDir;
use crate::error::ServerError;

/// What `server tills keys` shows.
#[derive(Debug, Clone, Serialize)]
pub struct KeyListing {
    /// The history in the shape of the till's `key-history.json`.
    #[serde(flatten)]
    pub history: KeyHistoryFile,
    /// Whether every record checks out with the server's key.
    pub verified: bool,
    /// Why not, naming the first record and field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The till's deployment packages, newest first.
    pub enrolments: Vec<Enrolment>,
    /// Ticket keys of version-2 packages not recorded yet (they are at the
    /// till's next enrolment): public keys (hex).
    pub unrecorded_keys: Vec<String>,
}

/// The key listing of `till` (which must be in `STORE_TILL`).
pub fn key_listing(data: &DataDir, till: &str) -> Result<KeyListing, ServerError> {
    let db = data.open_store()?;
    db.till_store(till)?;
    let server = data.signing_key()?;
    let records = db.key_history(till)?;
    let error = match records.is_empty() {
        true => None,
        false => KeyHistory::verify(&records, &server.verifying_key(), Some(till))
            .err()
            .map(|e| e.to_string()),
    };
    Ok(KeyListing {
        verified: error.is_none() && !records.is_empty(),
        error,
        history: KeyHistoryFile {
            format: KEY_HISTORY_FORMAT.into(),
            till: till.to_string(),
            server_public_key: keys::public_key_hex(&server),
            records,
        },
        enrolments: db.enrolments(till)?,
        unrecorded_keys: db
            .unrecorded_keys(till)?
            .into_iter()
            .map(|(k, _)| k)
            .collect(),
    })
}
