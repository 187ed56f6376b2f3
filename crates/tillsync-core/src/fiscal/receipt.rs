//! The QR code of a receipt: a compact text payload (till, key id, ticket
//! number, training flag, local time, total, VAT totals, the ticket's hash)
//! signed by the till's key, so that the printed figures themselves can be
//! checked offline by anyone holding the till's public key
//! (`tillsync verify receipt`). Format: `docs/receipts.md` (version 1).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiff::Timestamp;

use crate::fiscal::base32;
use crate::fiscal::local::{LocalZone, parse_utc};
use crate::key_history::key_id;
use crate::ticket::Ticket;

/// The first field of every payload of version 1.
pub const PAYLOAD_TAG: &str = "TSR1";

/// What the till signs: this prefix, then the payload without its last field.
pub const SIGNING_CONTEXT: &[u8] = b"tillsync-receipt\n";

/// The fields of a payload, the signature aside.
const FIELDS: usize = 9;

/// Why a receipt's QR text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Not a payload of this format.
    #[error("this is not a tillsync receipt code: {0}")]
    Format(String),
    /// A field does not read.
    #[error("the receipt code's field {field} ({value:?}) is not valid: {reason}")]
    Field {
        /// Field name.
        field: &'static str,
        /// Its text.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// The key given is not the one the receipt names.
    #[error(
        "the receipt was signed by key {signed_by}, not by the key given ({given}): it is not this key's receipt"
    )]
    OtherKey {
        /// The key id of the payload.
        signed_by: String,
        /// The key id of the key given.
        given: String,
    },
    /// The signature does not verify with the key it names.
    #[error(
        "the signature does not match the receipt's figures: they were changed after printing, or the code was not made by key {key_id}"
    )]
    Signature {
        /// The key id of the payload.
        key_id: String,
    },
    /// The ticket's time does not read.
    #[error("ticket time {0:?} is not an RFC 3339 time")]
    Time(String),
}

/// The VAT totals of one rate, as the code carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadVat {
    /// Rate in basis points.
    pub rate_bp: i64,
    /// Total excluding VAT, cents.
    pub base_cents: i64,
    /// VAT, cents.
    pub vat_cents: i64,
}

/// The figures of a receipt that its QR code carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptPayload {
    /// Till id.
    pub till: String,
    /// The key id of the till's key that signs (16 lower-case hex digits).
    pub key_id: String,
    /// Ticket number.
    pub number: u64,
    /// A training-mode (mode école) ticket.
    pub training: bool,
    /// The time of sale, local, with its offset: `20261204T041221+0100`.
    pub local_time: String,
    /// Total including VAT, cents.
    pub total_cents: i64,
    /// Totals per VAT rate, by ascending rate.
    pub vat: Vec<PayloadVat>,
    /// The ticket's hash (64 lower-case hex digits).
    pub ticket_hash: String,
}

/// A payload read from a QR code, with its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReceipt {
    /// The figures.
    pub payload: ReceiptPayload,
    /// The text that was signed (after [`SIGNING_CONTEXT`]).
    body: String,
    /// The signature.
    signature: Signature,
}

fn field(field: &'static str, value: &str, reason: &'static str) -> ReceiptError {
    ReceiptError::Field {
        field,
        value: value.to_string(),
        reason,
    }
}

fn int(name: &'static str, s: &str) -> Result<i64, ReceiptError> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(field(name, s, "expected a whole number of cents"));
    }
    s.parse().map_err(|_| field(name, s, "too large"))
}

impl ReceiptPayload {
    /// The payload of `ticket` signed by the key `key`, its time shown in
    /// `zone`.
    pub fn of(ticket: &Ticket, key: &VerifyingKey, zone: &LocalZone) -> Result<Self, ReceiptError> {
        let t = parse_utc(&ticket.time).map_err(|_| ReceiptError::Time(ticket.time.clone()))?;
        Ok(ReceiptPayload {
            till: ticket.till.clone(),
            key_id: key_id(key),
            number: ticket.number,
            training: ticket.training,
            local_time: zone.stamp_at(t),
            total_cents: ticket.total_cents,
            vat: ticket
                .vat_totals
                .iter()
                .map(|v| PayloadVat {
                    rate_bp: v.rate_bp,
                    base_cents: v.base_cents,
                    vat_cents: v.vat_cents,
                })
                .collect(),
            ticket_hash: ticket.hash.clone(),
        })
    }

    /// The text that is signed: every field but the signature, `*` between.
    pub fn body(&self) -> String {
        let vat = self
            .vat
            .iter()
            .map(|v| format!("{}:{}:{}", v.rate_bp, v.base_cents, v.vat_cents))
            .collect::<Vec<_>>()
            .join("/");
        let hash = hex::decode(&self.ticket_hash)
            .map(|b| base32::encode(&b))
            .unwrap_or_else(|_| self.ticket_hash.to_ascii_uppercase());
        format!(
            "{PAYLOAD_TAG}*{}*{}*{}*{}*{}*{}*{vat}*{hash}",
            self.till,
            self.key_id.to_ascii_uppercase(),
            self.number,
            if self.training { "E" } else { "N" },
            self.local_time,
            self.total_cents,
        )
    }

    /// The whole QR text: [`ReceiptPayload::body`], `*`, the base32 of the
    /// Ed25519 signature of [`SIGNING_CONTEXT`] followed by the body.
    pub fn sign(&self, key: &SigningKey) -> String {
        let body = self.body();
        let sig = key.sign(&signed_bytes(&body));
        format!("{body}*{}", base32::encode(&sig.to_bytes()))
    }

    /// The instant of [`ReceiptPayload::local_time`].
    pub fn instant(&self) -> Result<Timestamp, ReceiptError> {
        parse_stamp(&self.local_time)
    }
}

fn signed_bytes(body: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_CONTEXT.len() + body.len());
    m.extend_from_slice(SIGNING_CONTEXT);
    m.extend_from_slice(body.as_bytes());
    m
}

fn parse_stamp(s: &str) -> Result<Timestamp, ReceiptError> {
    jiff::fmt::strtime::parse("%Y%m%dT%H%M%S%z", s)
        .and_then(|t| t.to_timestamp())
        .map_err(|_| field("time", s, "expected YYYYMMDDTHHMMSS+HHMM"))
}

impl SignedReceipt {
    /// Read the text of a receipt's QR code (surrounding blanks ignored).
    /// The signature is not checked: see [`SignedReceipt::verify`].
    pub fn parse(text: &str) -> Result<Self, ReceiptError> {
        let text = text.trim();
        let parts: Vec<&str> = text.split('*').collect();
        if parts.first() != Some(&PAYLOAD_TAG) {
            let start: String = text.chars().take(12).collect();
            return Err(ReceiptError::Format(format!(
                "it does not start with {PAYLOAD_TAG}* (it starts with {start:?})"
            )));
        }
        if parts.len() != FIELDS + 1 {
            return Err(ReceiptError::Format(format!(
                "it has {} fields separated by '*', version 1 has {}",
                parts.len(),
                FIELDS + 1
            )));
        }
        let till = parts[1];
        if till.is_empty()
            || till.len() > 32
            || !till
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(field("till", till, "expected a till id such as T001"));
        }
        let key = parts[2];
        if key.len() != 16 || !key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')) {
            return Err(field("key id", key, "expected 16 upper-case hex digits"));
        }
        let number = parts[3];
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(field("number", number, "expected the ticket number"));
        }
        let number: u64 = number
            .parse()
            .map_err(|_| field("number", number, "too large"))?;
        let training = match parts[4] {
            "N" => false,
            "E" => true,
            other => return Err(field("mode", other, "expected N (sale) or E (training)")),
        };
        let local_time = parts[5].to_string();
        parse_stamp(&local_time)?;
        let total_cents = int("total", parts[6])?;
        let mut vat = Vec::new();
        for v in parts[7].split('/') {
            let bits: Vec<&str> = v.split(':').collect();
            let [rate, base, amount] = bits[..] else {
                return Err(field("VAT", v, "expected RATE:BASE:VAT for each rate"));
            };
            vat.push(PayloadVat {
                rate_bp: int("VAT rate", rate)?,
                base_cents: int("VAT base", base)?,
                vat_cents: int("VAT amount", amount)?,
            });
        }
        let hash = base32::decode(parts[8])
            .filter(|b| b.len() == 32)
            .ok_or_else(|| field("hash", parts[8], "expected 52 base32 characters"))?;
        let sig = base32::decode(parts[9])
            .and_then(|b| Signature::from_slice(&b).ok())
            .ok_or_else(|| field("signature", parts[9], "expected 103 base32 characters"))?;
        let payload = ReceiptPayload {
            till: till.to_string(),
            key_id: key.to_ascii_lowercase(),
            number,
            training,
            local_time,
            total_cents,
            vat,
            ticket_hash: hex::encode(hash),
        };
        let body = text[..text.len() - parts[9].len() - 1].to_string();
        Ok(SignedReceipt {
            payload,
            body,
            signature: sig,
        })
    }

    /// Check the signature with the till's public key `key`: it must be the
    /// key the payload names, and the signature must cover these very figures.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), ReceiptError> {
        let given = key_id(key);
        if given != self.payload.key_id {
            return Err(ReceiptError::OtherKey {
                signed_by: self.payload.key_id.clone(),
                given,
            });
        }
        key.verify(&signed_bytes(&self.body), &self.signature)
            .map_err(|_| ReceiptError::Signature {
                key_id: self.payload.key_id.clone(),
            })
    }
}

#[cfg(test)]
mod tests;
