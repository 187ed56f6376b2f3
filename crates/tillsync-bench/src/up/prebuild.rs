//! The tickets of `bench up`, made before the clock starts: each till's
//! chain sealed and cut into serialised batches, and the cost of verifying
//! them measured apart.

use std::time::Instant;

use anyhow::{Context, Result};
use ed25519_dalek::SigningKey;
use tillsync_core::ticket::{GENESIS_HASH, PricedItem, Ticket};
use tillsync_wire::api::OutboxBatch;

use crate::enrol::unhex;
use crate::ticket_chain::TicketChain;

/// One till's tickets, ready to send.
pub(crate) struct Prebuilt {
    /// Serialised `OutboxBatch` bodies, in order.
    pub(crate) bodies: Vec<Vec<u8>>,
    /// Tickets in each body.
    pub(crate) sizes: Vec<usize>,
    /// The first tickets, kept to time their verification apart.
    pub(crate) sample: Vec<Ticket>,
    /// The till's ticket key.
    pub(crate) key: SigningKey,
}

/// Tickets of each till kept in [`Prebuilt::sample`].
const SAMPLE: usize = 1_000;

/// Seal `n` chained tickets of `lines` lines for till `id` and cut them
/// into serialised batches.
pub(crate) fn prebuild(
    id: &str,
    signing_key_hex: &str,
    items: &[PricedItem],
    n: usize,
    lines: usize,
    batch: usize,
    seed: u64,
) -> Result<Prebuilt> {
    let key = TicketChain::key_from_hex(signing_key_hex)?;
    let mut chain = TicketChain::new(id, key.clone(), seed);
    let start = chrono::Utc::now() - chrono::Duration::seconds(n as i64);
    let mut bodies = Vec::new();
    let mut sizes = Vec::new();
    let mut items_out = Vec::with_capacity(batch);
    let mut sample = Vec::new();
    for number in 1..=n as u64 {
        let time = (start + chrono::Duration::seconds(number as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let ticket = chain.next_ticket(items, lines, &time)?;
        items_out.push(TicketChain::item(&ticket)?);
        if sample.len() < SAMPLE {
            sample.push(ticket);
        }
        if items_out.len() == batch || number == n as u64 {
            sizes.push(items_out.len());
            let b = OutboxBatch {
                items: std::mem::take(&mut items_out),
            };
            bodies.push(serde_json::to_vec(&b)?);
        }
    }
    Ok(Prebuilt {
        bodies,
        sizes,
        sample,
        key,
    })
}

/// Microseconds one thread takes per ticket to check, over `sample`:
/// one by one with [`Ticket::verify`] (hash, signature, link), and as the
/// server does it, the hashes then one Ed25519 batch verification per
/// `batch` tickets.
pub(crate) fn verify_cost(sample: &[Ticket], key: &SigningKey, batch: usize) -> Result<(f64, f64)> {
    let n = sample.len().max(1) as f64;
    let vk = key.verifying_key();
    let t = Instant::now();
    let mut prev = GENESIS_HASH;
    for ticket in sample {
        ticket
            .verify(&vk, prev)
            .with_context(|| format!("ticket {} does not verify", ticket.number))?;
        prev = &ticket.hash;
    }
    let single = t.elapsed().as_secs_f64() * 1e6 / n;
    let t = Instant::now();
    for chunk in sample.chunks(batch.max(1)) {
        let digests: Vec<[u8; 32]> = chunk.iter().map(Ticket::digest).collect();
        let signatures = chunk
            .iter()
            .map(|t| {
                let bytes = unhex(&t.signature).context("a signature is not hex")?;
                Ok(ed25519_dalek::Signature::from_slice(&bytes)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let messages: Vec<&[u8]> = digests.iter().map(|d| &d[..]).collect();
        let keys = vec![vk; chunk.len()];
        ed25519_dalek::verify_batch(&messages, &signatures, &keys)
            .context("the batch of sample tickets does not verify")?;
    }
    let batched = t.elapsed().as_secs_f64() * 1e6 / n;
    Ok((single, batched))
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn prebuilt_batches_hold_a_verifiable_chain() {
        let key = [7u8; 32];
        let hex_key = key.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let items = vec![
            PricedItem {
                code: "A".into(),
                label: "a".into(),
                price_cents: 199,
                vat_rate_bp: 550,
            },
            PricedItem {
                code: "B".into(),
                label: "b".into(),
                price_cents: 1250,
                vat_rate_bp: 2000,
            },
        ];
        let p = prebuild("T101", &hex_key, &items, 7, 5, 3, 1).unwrap();
        assert_eq!(p.sizes, vec![3, 3, 1]);
        assert_eq!(p.sample.len(), 7);
        let (single, batched) = verify_cost(&p.sample, &p.key, 3).unwrap();
        assert!(single > 0.0 && batched > 0.0);
        assert_eq!(unhex("0aFf"), Some(vec![10, 255]));
        assert_eq!(unhex("0a0"), None);
        let vk = TicketChain::key_from_hex(&hex_key).unwrap().verifying_key();
        let bodies = p.bodies;
        let mut prev = GENESIS_HASH.to_string();
        let mut number = 0;
        for body in &bodies {
            let b: OutboxBatch = serde_json::from_slice(body).unwrap();
            for item in b.items {
                number += 1;
                assert_eq!(item.key, format!("ticket:{number}"));
                let t: tillsync_core::ticket::Ticket =
                    serde_json::from_value(item.payload).unwrap();
                assert_eq!((t.number, t.lines.len()), (number, 5));
                t.verify(&vk, &prev).unwrap();
                prev = t.hash;
            }
        }
        assert_eq!(number, 7);
    }
}
