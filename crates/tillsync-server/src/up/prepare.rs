//! Step 1 of the up path: an outbox batch parsed and checked without the
//! database: item keys, payloads, and for each ticket its till, hash,
//! content (version 2: the figures the sale rules give, payment methods of
//! `folder.payment_methods`) and signature (the signatures verified
//! together, [`crate::up::signatures`]). Fiscal records (events, closings)
//! are checked the same way (hash and signature).
//! A ticket naming another till refuses the whole request (403
//! `foreign-ticket`, nothing stored): a till posts only its own tickets.

use axum::http::StatusCode;
use ed25519_dalek::Signature;
use serde::Deserialize;
use serde_json::value::RawValue;
use tillsync_core::fiscal::record::Record;
use tillsync_core::ticket::Ticket;
use tillsync_wire::api::{OutboxItem, OutboxKind};

use crate::http::state::AppState;
use crate::http::till::Till;
use crate::up::item::{Prepared, Refusal};
use crate::up::signatures::verify_signatures;

/// Longest accepted idempotency key.
pub const MAX_KEY_LEN: usize = 200;

#[derive(Deserialize)]
struct RawBatch<'a> {
    #[serde(borrow)]
    items: Vec<RawItem<'a>>,
}

#[derive(Deserialize)]
struct RawItem<'a> {
    key: String,
    kind: OutboxKind,
    #[serde(borrow)]
    payload: &'a RawValue,
}

/// Step 1: everything that needs no database, except reading the till's
/// keys when they are not cached.
pub(crate) fn prepare(
    state: &AppState,
    till: &Till,
    body: &[u8],
) -> Result<Vec<Prepared>, Refusal> {
    let batch: RawBatch<'_> = serde_json::from_slice(body).map_err(|e| {
        Refusal::Bad(
            StatusCode::BAD_REQUEST,
            "bad-request",
            format!("the body is not an outbox batch: {e}"),
        )
    })?;
    let mut out = Vec::with_capacity(batch.items.len());
    // Signatures to verify: (index in `out`, digest, signature).
    let mut signed: Vec<(usize, [u8; 32], Signature)> = Vec::with_capacity(batch.items.len());
    for item in batch.items {
        if item.key.is_empty() || item.key.len() > MAX_KEY_LEN {
            return Err(Refusal::Bad(
                StatusCode::BAD_REQUEST,
                "bad-request",
                format!(
                    "an item key must have 1 to {MAX_KEY_LEN} characters (got {})",
                    item.key.len()
                ),
            ));
        }
        let payload = item.payload.get();
        if item.kind == OutboxKind::Record {
            let record: Record = serde_json::from_str(payload).map_err(|e| {
                Refusal::Bad(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    format!("item {}: not a readable fiscal record: {e}", item.key),
                )
            })?;
            if record.till != till.id {
                return Err(Refusal::Bad(
                    StatusCode::FORBIDDEN,
                    "foreign-ticket",
                    format!(
                        "item {} is {} {} of till {}, but these credentials are till {}'s: a till sends only its own records; nothing of this batch was stored",
                        item.key, record.chain, record.seq, record.till, till.id
                    ),
                ));
            }
            let check = match record.sealed() {
                Ok((digest, sig)) => {
                    signed.push((out.len(), digest, sig));
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            };
            out.push(Prepared::Record {
                key: item.key,
                record: Box::new(record),
                check,
            });
            continue;
        }
        if item.kind != OutboxKind::Ticket {
            let value: serde_json::Value = serde_json::from_str(payload)
                .map_err(|e| Refusal::Bad(StatusCode::BAD_REQUEST, "bad-request", e.to_string()))?;
            let fingerprint = tillsync_wire::sha256_hex(value.to_string().as_bytes());
            out.push(Prepared::Other {
                item: OutboxItem {
                    key: item.key,
                    kind: item.kind,
                    payload: value,
                },
                fingerprint,
            });
            continue;
        }
        let ticket: Ticket = match serde_json::from_str(payload) {
            Ok(t) => t,
            Err(e) => {
                out.push(Prepared::Unreadable {
                    reason: format!("item {}: not a readable ticket: {e}", item.key),
                    key: item.key,
                    payload: payload.to_string(),
                    fingerprint: tillsync_wire::sha256_hex(payload.as_bytes()),
                });
                continue;
            }
        };
        if ticket.till != till.id {
            return Err(Refusal::Bad(
                StatusCode::FORBIDDEN,
                "foreign-ticket",
                format!(
                    "item {} is ticket {} of till {}, but these credentials are till {}'s: a till sends only its own tickets; nothing of this batch was stored",
                    item.key, ticket.number, ticket.till, till.id
                ),
            ));
        }
        // Content against hash, signature readable (core's rule); the
        // signature itself is verified with the batch's others below.
        let check = match ticket.sealed() {
            Ok((digest, sig)) => {
                signed.push((out.len(), digest, sig));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        out.push(Prepared::Ticket {
            key: item.key,
            ticket: Box::new(ticket),
            payload: payload.to_string(),
            check,
        });
    }
    verify_signatures(state, till, &mut out, &signed)?;
    // A version-2 ticket's figures computed again by the sale rules: a
    // till holds its key, so it could sign a lie.
    for p in &mut out {
        if let Prepared::Ticket { ticket, check, .. } = p
            && check.is_ok()
        {
            *check = ticket.check_content(&state.payment_methods);
        }
    }
    Ok(out)
}
