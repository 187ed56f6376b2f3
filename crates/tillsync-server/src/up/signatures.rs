//! The signature checks of a batch's tickets and fiscal records: one batch verification with
//! the till's newest key, and when that fails one by one with every key,
//! the keys read again once (a key issued since they were cached).

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use tillsync_core::ticket::{ChainError, Ticket};
use tillsync_server_db::store::ServerStore;

use crate::http::state::{AppState, lock};
use crate::http::till::Till;
use crate::up::item::{Prepared, Refusal};

/// The connection that reads a till's ticket keys: on PostgreSQL one of the
/// pool, on SQLite the write connection (the pool's are for async workers).
fn key_reader(state: &AppState) -> std::sync::MutexGuard<'_, Box<dyn ServerStore>> {
    match state.backend {
        tillsync_server_db::Backend::Sqlite => lock(state),
        tillsync_server_db::Backend::Postgres => state.read_connection(),
    }
}

/// The reason a ticket whose signature does not verify is quarantined:
/// core's, and which keys it was checked with.
pub(crate) fn bad_signature(t: &Ticket) -> String {
    let e = ChainError::Signature {
        till: t.till.clone(),
        number: t.number,
    };
    format!(
        "{e}: it verifies with no key of till {till}'s key history (a key never enrolled, e.g. of a till installed from a copy of a deployment package; see `tillsync server tills keys --till {till}`)",
        till = t.till
    )
}

/// Verify the signatures of a batch's tickets with the till's keys; a
/// ticket that none verifies gets its check failed. One batch verification
/// with the newest key first (about twice as fast as one by one); when it
/// fails (a bad signature, or tickets signed with an older or a newer
/// key), one by one with every key, the keys read again once.
pub(crate) fn verify_signatures(
    state: &AppState,
    till: &Till,
    out: &mut [Prepared],
    signed: &[(usize, [u8; 32], Signature)],
) -> Result<(), Refusal> {
    if signed.is_empty() {
        return Ok(());
    }
    let cache = &state.ticket_keys;
    let mut keys = match cache.get(&till.id) {
        Some(k) => k,
        None => cache.load(key_reader(state).as_ref(), &till.id)?,
    };
    if let Some(newest) = keys.first() {
        let messages: Vec<&[u8]> = signed.iter().map(|(_, d, _)| &d[..]).collect();
        let signatures: Vec<Signature> = signed.iter().map(|(_, _, s)| *s).collect();
        let vks = vec![*newest; signed.len()];
        if ed25519_dalek::verify_batch(&messages, &signatures, &vks).is_ok() {
            return Ok(());
        }
    }
    let mut refreshed = false;
    for (i, digest, sig) in signed {
        let verified = |ks: &[VerifyingKey]| ks.iter().any(|k| k.verify(digest, sig).is_ok());
        let mut ok = verified(&keys);
        if !ok && !refreshed {
            // A key issued since the cache was filled: read them again.
            refreshed = true;
            keys = cache.load(key_reader(state).as_ref(), &till.id)?;
            ok = verified(&keys);
        }
        if !ok {
            match &mut out[*i] {
                Prepared::Ticket { ticket, check, .. } => *check = Err(bad_signature(ticket)),
                Prepared::Record { record, check, .. } => {
                    *check = Err(tillsync_core::fiscal::record::RecordError::Signature {
                        till: record.till.clone(),
                        chain: record.chain.clone(),
                        seq: record.seq,
                    }
                    .to_string())
                }
                _ => {}
            }
        }
    }
    Ok(())
}
