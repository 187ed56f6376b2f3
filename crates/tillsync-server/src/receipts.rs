//! `tillsync verify receipt … --server DIR`: a receipt's QR code checked
//! offline against the till's key history that the server data folder
//! keeps (each record signed by the server's key, checked first): the key
//! the code names must be one of the till's history, and its signature
//! must cover the printed figures. A till not enrolled yet has no history:
//! the ticket keys of its version-2 deployment packages stand in.

use tillsync_core::fiscal::receipt::{ReceiptPayload, SignedReceipt};
use tillsync_core::key_history::{KeyHistory, key_id};
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
    /// Its place in the till's key history: `(seq, valid_from)`; `None`
    /// for a key of a version-2 deployment package not recorded yet.
    pub record: Option<(u64, String)>,
}

fn refused(msg: String) -> ServerError {
    ServerError::Invalid(msg)
}

/// Check the QR text `text` with the keys the server in `dir` holds for the
/// receipt's till (which must be `till` when given).
pub fn verify_with_server(
    dir: &DataDir,
    text: &str,
    till: Option<&str>,
) -> Result<VerifiedReceipt, ServerError> {
    let read = SignedReceipt::parse(text).map_err(|e| refused(e.to_string()))?;
    let p = &read.payload;
    if let Some(t) = till
        && t != p.till
    {
        return Err(refused(format!(
            "the receipt is of till {}, not of till {t}",
            p.till
        )));
    }
    let db = dir.open_store()?;
    let records = db.key_history(&p.till)?;
    if !records.is_empty() {
        let server = dir.signing_key()?.verifying_key();
        let history = KeyHistory::verify(&records, &server, Some(&p.till)).map_err(|e| {
            refused(format!(
                "the server's key history of till {} does not check out: {e}",
                p.till
            ))
        })?;
        let Some((record, key)) = history.keys().find(|(r, _)| r.key_id == p.key_id) else {
            let ids: Vec<&str> = history
                .records()
                .iter()
                .map(|r| r.key_id.as_str())
                .collect();
            return Err(refused(format!(
                "the receipt was signed by key {}, which is not in till {}'s key history (its keys: {})",
                p.key_id,
                p.till,
                ids.join(", ")
            )));
        };
        read.verify(key).map_err(|e| refused(e.to_string()))?;
        return Ok(VerifiedReceipt {
            payload: p.clone(),
            public_key: record.public_key.clone(),
            record: Some((record.seq, record.valid_from.clone())),
        });
    }
    // Not enrolled yet: the keys of its version-2 deployment packages.
    let keys = db.till_ticket_keys(&p.till)?;
    if keys.is_empty() {
        return Err(refused(format!(
            "the server holds no key of till {}: it has no key history (never enrolled)",
            p.till
        )));
    }
    let mut ids = Vec::new();
    for hex_key in &keys {
        let key = parse_verifying_key(hex_key)?;
        let id = key_id(&key);
        if id == p.key_id {
            read.verify(&key).map_err(|e| refused(e.to_string()))?;
            return Ok(VerifiedReceipt {
                payload: p.clone(),
                public_key: hex_key.clone(),
                record: None,
            });
        }
        ids.push(id);
    }
    Err(refused(format!(
        "the receipt was signed by key {}, which is not a key of till {} on this server (its keys: {})",
        p.key_id,
        p.till,
        ids.join(", ")
    )))
}
