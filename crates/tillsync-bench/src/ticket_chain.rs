//! `TicketChain`: a till's chain of signed tickets, sealed one after the
//! other, and `priced_items`, the demo items it prices them from: the
//! ticket generator of `bench up` and `bench fleet`.

use anyhow::{Context, Result, bail};
use ed25519_dalek::SigningKey;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem, Ticket};
use tillsync_server::DataDir;
use tillsync_wire::api::{OutboxBatch, OutboxItem, OutboxKind};

// The deterministic generator of `bench down`, to pick items and quantities.
use crate::enrol::unhex;
use crate::rng::SplitMix64 as Rng;

/// A till's chain of signed tickets, sealed one after the other: the
/// generator of `bench up` and `bench fleet`.
pub(crate) struct TicketChain {
    id: String,
    key: SigningKey,
    rng: Rng,
    prev: String,
    number: u64,
}

impl TicketChain {
    /// A new chain for till `id` (first ticket number 1), signed with `key`;
    /// `seed` picks items and quantities reproducibly.
    pub(crate) fn new(id: &str, key: SigningKey, seed: u64) -> Self {
        TicketChain {
            id: id.to_string(),
            key,
            rng: Rng(seed),
            prev: GENESIS_HASH.to_string(),
            number: 0,
        }
    }

    /// A till key written as 64 hex digits.
    pub(crate) fn key_from_hex(signing_key_hex: &str) -> Result<SigningKey> {
        let bytes: [u8; 32] = unhex(signing_key_hex)
            .and_then(|b| b.try_into().ok())
            .context("a till key is 64 hexadecimal digits")?;
        Ok(SigningKey::from_bytes(&bytes))
    }

    /// Seal the next ticket of `lines` lines priced from `items`, sold at `time`.
    pub(crate) fn next_ticket(
        &mut self,
        items: &[PricedItem],
        lines: usize,
        time: &str,
    ) -> Result<Ticket> {
        let number = self.number + 1;
        let sale_lines: Vec<SaleItem> = (0..lines)
            .map(|_| {
                let item = items[self.rng.below(items.len() as u64) as usize].clone();
                SaleItem::units(item, 1 + self.rng.below(3) as i64)
            })
            .collect();
        let total: i64 = sale_lines
            .iter()
            .map(|l| l.item.price_cents * l.quantity_milli / 1000)
            .sum();
        let sale = Sale {
            lines: sale_lines,
            payments: vec![Payment {
                method: if number.is_multiple_of(3) {
                    "cash"
                } else {
                    "card"
                }
                .into(),
                amount_cents: total,
            }],
            ..Sale::default()
        };
        let ticket = sale
            .seal(&self.id, number, time, &self.prev, &self.key)
            .with_context(|| format!("sealing ticket {}/{number}", self.id))?;
        self.prev = ticket.hash.clone();
        self.number = number;
        Ok(ticket)
    }

    /// The outbox item of a ticket, as the till's outbox sends it.
    pub(crate) fn item(ticket: &Ticket) -> Result<OutboxItem> {
        Ok(OutboxItem {
            key: format!("ticket:{}", ticket.number),
            kind: OutboxKind::Ticket,
            payload: serde_json::to_value(ticket)?,
        })
    }

    /// The serialised `OutboxBatch` of the next `n` tickets, sold now.
    pub(crate) fn batch_now(
        &mut self,
        items: &[PricedItem],
        lines: usize,
        n: usize,
    ) -> Result<Vec<u8>> {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let items = (0..n)
            .map(|_| Self::item(&self.next_ticket(items, lines, &time)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(serde_json::to_vec(&OutboxBatch { items })?)
    }
}

/// The demo items, as a till prices them.
pub(crate) fn priced_items(data: &DataDir) -> Result<Vec<PricedItem>> {
    let mut db = data.open_store()?;
    let rows =
        db.query_rows("SELECT code, label, price_cents, vat_rate_bp FROM \"ART\" ORDER BY code")?;
    let number = |v: &Option<String>, what: &str| -> Result<i64> {
        v.as_deref()
            .with_context(|| format!("ART.{what} is NULL"))?
            .parse::<i64>()
            .with_context(|| format!("ART.{what} is not a number"))
    };
    let items = rows
        .iter()
        .map(|r| {
            Ok(PricedItem {
                code: r[0].clone().context("ART.code is NULL")?,
                label: r[1].clone().unwrap_or_default(),
                price_cents: number(&r[2], "price_cents")?,
                vat_rate_bp: number(&r[3], "vat_rate_bp")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if items.is_empty() {
        bail!("the demo ART is empty");
    }
    Ok(items)
}
