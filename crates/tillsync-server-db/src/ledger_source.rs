//! A till's records as the server holds them, read for archives and the
//! verifier ([`tillsync_core::fiscal::ledger::LedgerSource`] over any
//! backend), and the till's keys the server knows.

use ed25519_dalek::VerifyingKey;
use tillsync_core::fiscal::ledger::LedgerSource;
use tillsync_core::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN, Record};
use tillsync_core::fiscal::verify::keys::TillKeys;
use tillsync_core::key_history::KeyHistory;
use tillsync_core::keys::parse_verifying_key;
use tillsync_core::ticket::Ticket;
use tillsync_db::StoreError;

use crate::store::ServerStore;

/// The records of one till on the server.
pub struct ServerSource<'a> {
    /// The server's store.
    pub db: &'a dyn ServerStore,
    /// The till.
    pub till: &'a str,
}

impl LedgerSource for ServerSource<'_> {
    type Error = StoreError;
    fn closings(&self) -> Result<Vec<Record>, StoreError> {
        self.db.fiscal_records(self.till, CLOSING_CHAIN, 0)
    }
    fn tickets(&self, after: u64, to: Option<u64>) -> Result<Vec<Ticket>, StoreError> {
        self.db
            .fiscal_tickets(self.till, after, to.unwrap_or(i64::MAX as u64))
    }
    fn events(&self, after: u64, to: Option<u64>) -> Result<Vec<Record>, StoreError> {
        let mut events = self.db.fiscal_records(self.till, EVENT_CHAIN, after)?;
        if let Some(to) = to {
            events.retain(|e| e.seq <= to);
        }
        Ok(events)
    }
}

/// The keys the server holds for `till`: its key history, checked with the
/// server's key `server` (each key valid from its record's time), or, for a
/// till installed by a package that carried its key, the keys issued.
pub fn server_till_keys(
    db: &dyn ServerStore,
    till: &str,
    server: &VerifyingKey,
) -> Result<TillKeys, StoreError> {
    let records = db.key_history(till)?;
    if !records.is_empty() {
        let history = KeyHistory::verify(&records, server, Some(till)).map_err(|e| {
            StoreError::Inconsistent(format!(
                "the key history of till {till} does not check out: {e}"
            ))
        })?;
        return Ok(TillKeys::of_history(&history));
    }
    let mut keys = Vec::new();
    // Oldest first: the newest key is tried first by time.
    for k in db.till_ticket_keys(till)?.into_iter().rev() {
        let key = parse_verifying_key(&k).map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        keys.push((String::new(), key));
    }
    TillKeys::from_history(keys)
        .ok_or_else(|| StoreError::Invalid(format!("the server holds no key of till {till}")))
}
