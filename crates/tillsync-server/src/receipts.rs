//! `tillsync verify receipt … --server DIR`: a receipt's QR code checked
//! offline against the server data folder's record of the till's ticket
//! keys (`tillsync_till_keys`, the keys issued in the till's deployment
//! packages): the key the code names must be one of the till's, and its
//! signature must cover the printed figures.

use tillsync_core::fiscal::receipt::{ReceiptPayload, SignedReceipt, key_id};
use tillsync_core::keys::parse_verifying_key;

use crate::data::DataDir;
use crate::error::ServerError;

/// A receipt that verified, and the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// Its figures.
    pub payload: ReceiptPayload,
    /// The public key (hex) that signed it.
    pub public_key: String,
}

/// Check the QR text `text` with the keys the server in `dir` holds for the
/// receipt's till (which must be `till` when given).
pub fn verify_with_server(
    dir: &DataDir,
    text: &str,
    till: Option<&str>,
) -> Result<VerifiedReceipt, ServerError> {
    let read = SignedReceipt::parse(text).map_err(|e| ServerError::Invalid(e.to_string()))?;
    let p = &read.payload;
    if let Some(t) = till
        && t != p.till
    {
        return Err(ServerError::Invalid(format!(
            "the receipt is of till {}, not of till {t}",
            p.till
        )));
    }
    let db = dir.open_store()?;
    let keys = db.till_ticket_keys(&p.till)?;
    if keys.is_empty() {
        return Err(ServerError::Invalid(format!(
            "the server holds no key of till {}: it never issued its credentials",
            p.till
        )));
    }
    let mut ids = Vec::new();
    for hex_key in &keys {
        let key = parse_verifying_key(hex_key)?;
        let id = key_id(&key);
        if id == p.key_id {
            read.verify(&key)
                .map_err(|e| ServerError::Invalid(e.to_string()))?;
            return Ok(VerifiedReceipt {
                payload: p.clone(),
                public_key: hex_key.clone(),
            });
        }
        ids.push(id);
    }
    Err(ServerError::Invalid(format!(
        "the receipt was signed by key {}, which is not a key of till {} on this server (its keys: {})",
        p.key_id,
        p.till,
        ids.join(", ")
    )))
}
