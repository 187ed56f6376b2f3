//! The canonical encoding of a ticket, per version (`docs/tickets.md`), its
//! SHA-256 ([`Ticket::digest`]), and the checks of a received ticket: its
//! content against its hash, its signature, its link to the previous one.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::ticket::error::ChainError;
use crate::ticket::quantity::MILLI;
use crate::ticket::types::Ticket;

/// The bytes every encoding starts with.
const DOMAIN: &[u8] = b"tillsync-ticket";

/// After the version byte, in place of a till length (whose first byte is
/// 0 for any real ticket): the mark of a ticket that no version can encode
/// as it stands, so that its digest never matches a sealed one.
const UNENCODABLE: u8 = 0xFF;

struct Enc(Sha256);

impl Enc {
    fn str(&mut self, v: &str) {
        self.0.update((v.len() as u64).to_be_bytes());
        self.0.update(v.as_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.update(v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.update(v.to_be_bytes());
    }
    fn flag(&mut self, v: bool) {
        self.0.update([u8::from(v)]);
    }
    fn opt_str(&mut self, v: Option<&str>) {
        match v {
            Some(s) => {
                self.0.update([1]);
                self.str(s);
            }
            None => self.0.update([0]),
        }
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            Some(n) => {
                self.0.update([1]);
                self.u64(n);
            }
            None => self.0.update([0]),
        }
    }
}

impl Ticket {
    /// What a version-1 ticket holds that version 1 cannot encode (a
    /// version-2 field set), if anything.
    pub fn beyond_version_1(&self) -> Option<String> {
        if self.training {
            return Some("a training-mode ticket".into());
        }
        if self.cashier.is_some() {
            return Some("a cashier".into());
        }
        if self.discount_cents != 0 {
            return Some("a ticket discount".into());
        }
        if self.change_cents != 0 {
            return Some("change given".into());
        }
        for (i, l) in self.lines.iter().enumerate() {
            if l.quantity_milli % MILLI != 0 {
                return Some(format!("a quantity with decimals (line {})", i + 1));
            }
            if l.discount_cents != 0 {
                return Some(format!("a line discount (line {})", i + 1));
            }
            if l.voided {
                return Some(format!("a voided line (line {})", i + 1));
            }
        }
        if self.vat_totals.iter().any(|v| v.discount_cents != 0) {
            return Some("a discount share in its VAT totals".into());
        }
        None
    }

    /// SHA-256 of the canonical encoding of the ticket's version (every
    /// field but `hash` and `signature`). A ticket its version cannot
    /// encode (an unknown version, or version-2 content on a version-1
    /// ticket) gets a digest that no sealed ticket has.
    pub fn digest(&self) -> [u8; 32] {
        let mut e = Enc(Sha256::new());
        e.0.update(DOMAIN);
        e.0.update([self.version]);
        match self.version {
            1 if self.beyond_version_1().is_none() => self.encode_v1(&mut e),
            2 => self.encode_v2(&mut e),
            _ => {
                e.0.update([UNENCODABLE]);
                self.encode_v2(&mut e);
            }
        }
        e.0.finalize().into()
    }

    fn encode_v1(&self, e: &mut Enc) {
        e.str(&self.till);
        e.u64(self.number);
        e.str(&self.time);
        e.u64(self.lines.len() as u64);
        for l in &self.lines {
            e.str(&l.item);
            e.str(&l.label);
            e.i64(l.quantity_milli / MILLI);
            e.i64(l.unit_price_cents);
            e.i64(l.vat_rate_bp);
            e.i64(l.total_excl_cents);
            e.i64(l.total_incl_cents);
        }
        e.u64(self.vat_totals.len() as u64);
        for v in &self.vat_totals {
            e.i64(v.rate_bp);
            e.i64(v.base_cents);
            e.i64(v.vat_cents);
            e.i64(v.total_cents);
        }
        e.i64(self.total_cents);
        e.u64(self.payments.len() as u64);
        for p in &self.payments {
            e.str(&p.method);
            e.i64(p.amount_cents);
        }
        e.opt_str(self.customer.as_deref());
        e.opt_u64(self.corrects);
        e.str(&self.prev_hash);
    }

    fn encode_v2(&self, e: &mut Enc) {
        e.str(&self.till);
        e.u64(self.number);
        e.str(&self.time);
        e.flag(self.training);
        e.opt_str(self.cashier.as_deref());
        e.u64(self.lines.len() as u64);
        for l in &self.lines {
            e.str(&l.item);
            e.str(&l.label);
            e.i64(l.quantity_milli);
            e.i64(l.unit_price_cents);
            e.i64(l.vat_rate_bp);
            e.i64(l.discount_cents);
            e.flag(l.voided);
            e.i64(l.total_excl_cents);
            e.i64(l.total_incl_cents);
        }
        e.i64(self.discount_cents);
        e.u64(self.vat_totals.len() as u64);
        for v in &self.vat_totals {
            e.i64(v.rate_bp);
            e.i64(v.discount_cents);
            e.i64(v.base_cents);
            e.i64(v.vat_cents);
            e.i64(v.total_cents);
        }
        e.i64(self.total_cents);
        e.u64(self.payments.len() as u64);
        for p in &self.payments {
            e.str(&p.method);
            e.i64(p.amount_cents);
        }
        e.i64(self.change_cents);
        e.opt_str(self.customer.as_deref());
        e.opt_u64(self.corrects);
        e.str(&self.prev_hash);
    }

    /// The ticket's digest and signature, once its content is checked
    /// against its hash and its signature is readable: the first half of
    /// [`Ticket::verify`], for a verifier that checks many signatures at
    /// once (the server's web service).
    pub fn sealed(&self) -> Result<([u8; 32], Signature), ChainError> {
        let version = |reason: String| ChainError::Version {
            till: self.till.clone(),
            number: self.number,
            reason,
        };
        match self.version {
            1 => {
                if let Some(what) = self.beyond_version_1() {
                    return Err(version(format!(
                        "a version-1 ticket cannot hold {what} (altered)"
                    )));
                }
            }
            2 => {}
            v => {
                return Err(version(format!(
                    "encoding version {v} is unknown to this tillsync (it reads 1 and 2)"
                )));
            }
        }
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
    /// the previous ticket's hash (of the same chain: fiscal or training).
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
