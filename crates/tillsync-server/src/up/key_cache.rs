//! [`KeyCache`]: the ticket public keys of each till, read from the
//! database once and kept for the signature checks of its outbox batches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ed25519_dalek::VerifyingKey;
use tillsync_db::StoreError;
use tillsync_server_db::store::ServerStore;

/// The ticket public keys of each till, read once from the database.
/// Keys are only ever added (a regenerated deployment package adds one), so
/// a ticket that no cached key verifies re-reads them once.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, Arc<Vec<VerifyingKey>>>>);

impl KeyCache {
    /// The cached keys of `till`, if read already.
    pub(crate) fn get(&self, till: &str) -> Option<Arc<Vec<VerifyingKey>>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(till)
            .cloned()
    }

    pub(crate) fn load(
        &self,
        db: &dyn ServerStore,
        till: &str,
    ) -> Result<Arc<Vec<VerifyingKey>>, StoreError> {
        let keys: Vec<VerifyingKey> = db
            .till_ticket_keys(till)?
            .iter()
            .filter_map(|h| {
                let b: [u8; 32] = hex::decode(h).ok()?.try_into().ok()?;
                VerifyingKey::from_bytes(&b).ok()
            })
            .collect();
        let keys = Arc::new(keys);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(till.to_string(), keys.clone());
        Ok(keys)
    }
}
