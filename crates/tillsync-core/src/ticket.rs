//! Tickets as fiscal records: totals computed from the till's prices, a
//! canonical encoding, the hash chain per till and the Ed25519 signature made
//! at the moment of sale (see `docs/tickets.md`).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev_hash` of a till's first ticket: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Version of the canonical encoding, part of every hash.
pub const CANONICAL_VERSION: u8 = 1;

/// One line of a ticket. Prices include VAT (French retail prices, TTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLine {
    /// Item code (`ART.code`).
    pub item: String,
    /// Item label at the time of sale.
    pub label: String,
    /// Quantity; negative on a correction ticket.
    pub quantity: i64,
    /// Unit price including VAT, in cents.
    pub unit_price_cents: i64,
    /// VAT rate in basis points (2000 = 20 %).
    pub vat_rate_bp: i64,
    /// Line total excluding VAT, in cents.
    pub total_excl_cents: i64,
    /// Line total including VAT, in cents.
    pub total_incl_cents: i64,
}

/// Totals of one VAT rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatTotal {
    /// Rate in basis points.
    pub rate_bp: i64,
    /// Total excluding VAT.
    pub base_cents: i64,
    /// VAT amount.
    pub vat_cents: i64,
    /// Total including VAT.
    pub total_cents: i64,
}

/// One payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Method (`cash`, `card`, `cheque`, `voucher`…).
    pub method: String,
    /// Amount in cents.
    pub amount_cents: i64,
}

/// A sale as recorded: numbered, chained and signed by its till.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Till id.
    pub till: String,
    /// Gap-free number per till, from 1.
    pub number: u64,
    /// Date-time of the sale (RFC 3339, UTC).
    pub time: String,
    /// Lines in the order rung up.
    pub lines: Vec<TicketLine>,
    /// Totals per VAT rate, by ascending rate.
    pub vat_totals: Vec<VatTotal>,
    /// Ticket total including VAT.
    pub total_cents: i64,
    /// Payments.
    pub payments: Vec<Payment>,
    /// Customer code, if any.
    pub customer: Option<String>,
    /// Number of the ticket this one corrects (negative lines), if any.
    pub corrects: Option<u64>,
    /// Hash of the previous ticket of this till ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of this ticket's canonical encoding.
    pub hash: String,
    /// Ed25519 signature (hex) of `hash`'s 32 bytes, by the till's key.
    pub signature: String,
}

/// An item as priced by the till's local `ART`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedItem {
    /// Item code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Unit price including VAT, cents.
    pub price_cents: i64,
    /// VAT rate, basis points.
    pub vat_rate_bp: i64,
}

/// Why a sale was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// No lines.
    #[error("a ticket needs at least one line")]
    Empty,
    /// Zero quantity, or negative outside a correction.
    #[error("quantity {quantity} for item {item} is not allowed: {reason}")]
    Quantity {
        /// Item.
        item: String,
        /// Quantity given.
        quantity: i64,
        /// Why.
        reason: &'static str,
    },
    /// Payments do not cover the total.
    #[error("payments of {paid} cents do not cover the total of {total} cents")]
    Underpaid {
        /// Sum of payments.
        paid: i64,
        /// Ticket total.
        total: i64,
    },
    /// A payment is not valid.
    #[error("payment {method:?} of {amount} cents is not valid: {reason}")]
    Payment {
        /// Method.
        method: String,
        /// Amount.
        amount: i64,
        /// Why.
        reason: &'static str,
    },
    /// An amount overflows.
    #[error("amounts are too large")]
    Overflow,
}

/// Share excluding VAT of an amount including VAT, rounded half away from zero.
fn excl(incl: i64, rate_bp: i64) -> i64 {
    let num = i128::from(incl) * 10_000;
    let den = i128::from(10_000 + rate_bp);
    let q = (2 * num.abs() + den) / (2 * den);
    (if num < 0 { -q } else { q }) as i64
}

/// What a ticket holds before it is numbered, chained and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// Lines (item priced by the till, quantity).
    pub lines: Vec<(PricedItem, i64)>,
    /// Payments.
    pub payments: Vec<Payment>,
    /// Customer.
    pub customer: Option<String>,
    /// Ticket corrected, if this is a correction (its lines are negative).
    pub corrects: Option<u64>,
}

impl Sale {
    /// Compute lines and totals, check the sale, then number it `number`,
    /// chain it to `prev_hash` and sign it with the till's key.
    pub fn seal(
        &self,
        till: &str,
        number: u64,
        time: &str,
        prev_hash: &str,
        key: &SigningKey,
    ) -> Result<Ticket, TicketError> {
        if self.lines.is_empty() {
            return Err(TicketError::Empty);
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (item, qty) in &self.lines {
            let bad = |reason| TicketError::Quantity {
                item: item.code.clone(),
                quantity: *qty,
                reason,
            };
            if *qty == 0 {
                return Err(bad("it is zero"));
            }
            if self.corrects.is_none() && *qty < 0 {
                return Err(bad("negative quantities belong on a correction ticket"));
            }
            if self.corrects.is_some() && *qty > 0 {
                return Err(bad("a correction ticket holds negative quantities"));
            }
            let incl = item
                .price_cents
                .checked_mul(*qty)
                .ok_or(TicketError::Overflow)?;
            lines.push(TicketLine {
                item: item.code.clone(),
                label: item.label.clone(),
                quantity: *qty,
                unit_price_cents: item.price_cents,
                vat_rate_bp: item.vat_rate_bp,
                total_excl_cents: excl(incl, item.vat_rate_bp),
                total_incl_cents: incl,
            });
        }
        let mut by_rate: std::collections::BTreeMap<i64, i64> = Default::default();
        for l in &lines {
            let t = by_rate.entry(l.vat_rate_bp).or_default();
            *t = t
                .checked_add(l.total_incl_cents)
                .ok_or(TicketError::Overflow)?;
        }
        let vat_totals: Vec<VatTotal> = by_rate
            .into_iter()
            .map(|(rate_bp, total)| {
                let base = excl(total, rate_bp);
                VatTotal {
                    rate_bp,
                    base_cents: base,
                    vat_cents: total - base,
                    total_cents: total,
                }
            })
            .collect();
        let total: i64 = vat_totals.iter().map(|v| v.total_cents).sum();
        let mut paid: i64 = 0;
        for p in &self.payments {
            let bad = |reason| TicketError::Payment {
                method: p.method.clone(),
                amount: p.amount_cents,
                reason,
            };
            if p.method.trim().is_empty() {
                return Err(bad("the method is empty"));
            }
            if total >= 0 && p.amount_cents <= 0 {
                return Err(bad("the amount must be positive"));
            }
            paid = paid
                .checked_add(p.amount_cents)
                .ok_or(TicketError::Overflow)?;
        }
        if total >= 0 && paid < total {
            return Err(TicketError::Underpaid { paid, total });
        }
        let mut t = Ticket {
            till: till.to_string(),
            number,
            time: time.to_string(),
            lines,
            vat_totals,
            total_cents: total,
            payments: self.payments.clone(),
            customer: self.customer.clone(),
            corrects: self.corrects,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
            signature: String::new(),
        };
        let digest = t.digest();
        t.hash = hex::encode(digest);
        t.signature = hex::encode(key.sign(&digest).to_bytes());
        Ok(t)
    }
}

/// Why a received ticket does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The content does not hash to `hash`: altered.
    #[error("ticket {till}/{number}: its content does not match its hash (altered)")]
    Hash {
        /// Till.
        till: String,
        /// Number.
        number: u64,
    },
    /// The signature is not the till's.
    #[error("ticket {till}/{number}: the signature is not this till's")]
    Signature {
        /// Till.
        till: String,
        /// Number.
        number: u64,
    },
    /// `prev_hash` is not the previous ticket's hash.
    #[error("ticket {till}/{number}: chain broken (previous hash {got}, expected {expected})")]
    Link {
        /// Till.
        till: String,
        /// Number.
        number: u64,
        /// `prev_hash` found.
        got: String,
        /// Hash of the previous ticket.
        expected: String,
    },
}

impl Ticket {
    /// SHA-256 of the canonical encoding (every field but `hash` and `signature`).
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"tillsync-ticket");
        h.update([CANONICAL_VERSION]);
        let s = |h: &mut Sha256, v: &str| {
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        };
        let i = |h: &mut Sha256, v: i64| h.update(v.to_be_bytes());
        s(&mut h, &self.till);
        h.update(self.number.to_be_bytes());
        s(&mut h, &self.time);
        h.update((self.lines.len() as u64).to_be_bytes());
        for l in &self.lines {
            s(&mut h, &l.item);
            s(&mut h, &l.label);
            i(&mut h, l.quantity);
            i(&mut h, l.unit_price_cents);
            i(&mut h, l.vat_rate_bp);
            i(&mut h, l.total_excl_cents);
            i(&mut h, l.total_incl_cents);
        }
        h.update((self.vat_totals.len() as u64).to_be_bytes());
        for v in &self.vat_totals {
            i(&mut h, v.rate_bp);
            i(&mut h, v.base_cents);
            i(&mut h, v.vat_cents);
            i(&mut h, v.total_cents);
        }
        i(&mut h, self.total_cents);
        h.update((self.payments.len() as u64).to_be_bytes());
        for p in &self.payments {
            s(&mut h, &p.method);
            i(&mut h, p.amount_cents);
        }
        match &self.customer {
            Some(c) => {
                h.update([1]);
                s(&mut h, c);
            }
            None => h.update([0]),
        }
        match self.corrects {
            Some(n) => {
                h.update([1]);
                h.update(n.to_be_bytes());
            }
            None => h.update([0]),
        }
        s(&mut h, &self.prev_hash);
        h.finalize().into()
    }

    /// The ticket's digest and signature, once its content is checked
    /// against its hash and its signature is readable: the first half of
    /// [`Ticket::verify`], for a verifier that checks many signatures at
    /// once (the server's web service).
    pub fn sealed(&self) -> Result<([u8; 32], Signature), ChainError> {
        let digest = self.digest();
        if hex::encode(digest) != self.hash {
            return Err(ChainError::Hash {
                till: self.till.clone(),
                number: self.number,
            });
        }
        let sig = hex::decode(&self.signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or_else(|| ChainError::Signature {
                till: self.till.clone(),
                number: self.number,
            })?;
        Ok((digest, sig))
    }

    /// Check hash and signature with the till's public key, and the link to
    /// the previous ticket's hash.
    pub fn verify(&self, key: &VerifyingKey, expected_prev: &str) -> Result<(), ChainError> {
        let (digest, sig) = self.sealed()?;
        key.verify(&digest, &sig)
            .map_err(|_| ChainError::Signature {
                till: self.till.clone(),
                number: self.number,
            })?;
        if self.prev_hash != expected_prev {
            return Err(ChainError::Link {
                till: self.till.clone(),
                number: self.number,
                got: self.prev_hash.clone(),
                expected: expected_prev.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: &str, price: i64, rate: i64) -> PricedItem {
        PricedItem {
            code: code.into(),
            label: format!("Article {code}"),
            price_cents: price,
            vat_rate_bp: rate,
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9u8; 32])
    }

    fn sale() -> Sale {
        Sale {
            lines: vec![
                (item("A", 199, 550), 3),
                (item("B", 1250, 2000), 1),
                (item("C", 99, 550), 2),
            ],
            payments: vec![Payment {
                method: "card".into(),
                amount_cents: 2045,
            }],
            customer: None,
            corrects: None,
        }
    }

    #[test]
    fn totals_per_vat_rate() {
        let t = sale()
            .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &key())
            .unwrap();
        // The literal example of docs/tickets.md.
        assert_eq!(
            t.hash,
            "eff5fb2a40ac08f8da6adc74560526586856dfb0004b9628abfa7f5654e74511"
        );
        assert_eq!(t.total_cents, 597 + 1250 + 198);
        let food = &t.vat_totals[0];
        assert_eq!((food.rate_bp, food.total_cents), (550, 795));
        assert_eq!(food.base_cents, 754); // 795 / 1.055 = 753.55
        assert_eq!(food.vat_cents, 41);
        let std = &t.vat_totals[1];
        assert_eq!((std.base_cents, std.vat_cents), (1042, 208)); // 1250 / 1.2 = 1041.67
        assert_eq!(t.lines[0].total_excl_cents, 566); // 597 / 1.055 = 565.88
    }

    #[test]
    fn chain_verifies_and_detects_tampering() {
        let k = key();
        let t1 = sale()
            .seal("T001", 1, "2026-11-28T12:00:00Z", GENESIS_HASH, &k)
            .unwrap();
        let t2 = sale()
            .seal("T001", 2, "2026-11-28T12:01:00Z", &t1.hash, &k)
            .unwrap();
        t1.verify(&k.verifying_key(), GENESIS_HASH).unwrap();
        t2.verify(&k.verifying_key(), &t1.hash).unwrap();
        let mut altered = t2.clone();
        altered.lines[0].unit_price_cents = 1;
        assert!(matches!(
            altered.verify(&k.verifying_key(), &t1.hash),
            Err(ChainError::Hash { .. })
        ));
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(matches!(
            t2.verify(&other.verifying_key(), &t1.hash),
            Err(ChainError::Signature { .. })
        ));
        assert!(matches!(
            t2.verify(&k.verifying_key(), GENESIS_HASH),
            Err(ChainError::Link { .. })
        ));
    }

    #[test]
    fn refusals() {
        let k = key();
        let mut s = sale();
        s.lines.clear();
        assert_eq!(
            s.seal("T", 1, "t", GENESIS_HASH, &k),
            Err(TicketError::Empty)
        );
        let mut s = sale();
        s.lines[0].1 = 0;
        assert!(matches!(
            s.seal("T", 1, "t", GENESIS_HASH, &k),
            Err(TicketError::Quantity { .. })
        ));
        let mut s = sale();
        s.lines[0].1 = -1;
        assert!(matches!(
            s.seal("T", 1, "t", GENESIS_HASH, &k),
            Err(TicketError::Quantity { .. })
        ));
        let mut s = sale();
        s.payments[0].amount_cents = 100;
        assert_eq!(
            s.seal("T", 1, "t", GENESIS_HASH, &k),
            Err(TicketError::Underpaid {
                paid: 100,
                total: 2045
            })
        );
    }

    #[test]
    fn correction_ticket_has_negative_lines() {
        let k = key();
        let s = Sale {
            lines: vec![(item("A", 199, 550), -1)],
            payments: vec![Payment {
                method: "cash".into(),
                amount_cents: -199,
            }],
            customer: None,
            corrects: Some(1),
        };
        let t = s.seal("T001", 2, "t", GENESIS_HASH, &k).unwrap();
        assert_eq!(t.total_cents, -199);
        assert_eq!(t.lines[0].total_excl_cents, -189);
    }
}
