//! The chains of a ledger checked record by record: numbered after the one
//! before without gaps, of the ledger's till, the content hashing to its
//! hash, linked to the previous record's hash, signed by a key of the till
//! (hashes on every core, signatures in batches).

use ed25519_dalek::Signature;

use crate::fiscal::ledger::Anchor;
use crate::fiscal::record::Record;
use crate::fiscal::verify::keys::TillKeys;
use crate::fiscal::verify::parallel::par_map;
use crate::fiscal::verify::report::{Break, Subject};
use crate::fiscal::verify::signatures::{Signed, first_invalid};
use crate::ticket::Ticket;

/// A record of a chain, as the checks see it.
pub trait Chained: Sync {
    /// Its number.
    fn number(&self) -> u64;
    /// Its till.
    fn till(&self) -> &str;
    /// Its time (picks the key of a key history).
    fn time(&self) -> &str;
    /// Its hash (hex).
    fn hash(&self) -> &str;
    /// The previous record's hash.
    fn prev_hash(&self) -> &str;
    /// Its signature (hex).
    fn signature(&self) -> &str;
    /// SHA-256 of its canonical encoding.
    fn digest(&self) -> [u8; 32];
}

impl Chained for Ticket {
    fn number(&self) -> u64 {
        self.number
    }
    fn till(&self) -> &str {
        &self.till
    }
    fn time(&self) -> &str {
        &self.time
    }
    fn hash(&self) -> &str {
        &self.hash
    }
    fn prev_hash(&self) -> &str {
        &self.prev_hash
    }
    fn signature(&self) -> &str {
        &self.signature
    }
    fn digest(&self) -> [u8; 32] {
        Ticket::digest(self)
    }
}

impl Chained for Record {
    fn number(&self) -> u64 {
        self.seq
    }
    fn till(&self) -> &str {
        &self.till
    }
    fn time(&self) -> &str {
        &self.time
    }
    fn hash(&self) -> &str {
        &self.hash
    }
    fn prev_hash(&self) -> &str {
        &self.prev_hash
    }
    fn signature(&self) -> &str {
        &self.signature
    }
    fn digest(&self) -> [u8; 32] {
        Record::digest(self)
    }
}

/// How a chain's breaks are told.
pub struct ChainKind<'a> {
    /// `ticket`, `event`, `closing`.
    pub noun: &'static str,
    /// The subject of record `n`.
    pub subject: fn(u64) -> Subject,
    /// When record `i` does not match its hash: the field that shows it and
    /// why, if one can be named.
    pub altered: &'a (dyn Fn(usize) -> Option<(String, String)> + Sync),
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok().map(|()| out)
}

fn signature_of(s: &str) -> Option<Signature> {
    let mut out = [0u8; 64];
    hex::decode_to_slice(s, &mut out)
        .ok()
        .map(|()| Signature::from_bytes(&out))
}

/// The first break of the chain `items` that begins after `anchor`, for
/// `till`, signed by `keys`.
pub fn check_chain<C: Chained>(
    items: &[C],
    anchor: &Anchor,
    till: &str,
    keys: &TillKeys,
    kind: &ChainKind<'_>,
) -> Result<(), Break> {
    let noun = kind.noun;
    let digests = par_map(items, |c| c.digest());
    let mut prev_hash = anchor.hash.as_str();
    let mut signed: Vec<Signed<'_>> = Vec::with_capacity(items.len());
    let mut structural: Option<Break> = None;
    for (i, (c, digest)) in items.iter().zip(&digests).enumerate() {
        let expected = anchor.after + 1 + i as u64;
        let n = c.number();
        let subject = (kind.subject)(n);
        let found = if n > expected {
            let reason = if i == 0 {
                format!(
                    "missing: the {noun}s begin at {n}, {expected} expected after {}",
                    anchor.after
                )
            } else {
                format!("missing: {noun} {} is followed by {noun} {n}", expected - 1)
            };
            Some(Break::whole((kind.subject)(expected), reason))
        } else if n < expected {
            Some(Break::field(
                subject,
                "number",
                format!(
                    "{noun} {n} comes again after {noun} {} (twice or out of order)",
                    expected - 1
                ),
            ))
        } else if c.till() != till {
            Some(Break::field(
                subject,
                "till",
                format!(
                    "it names till {:?}, the ledger is till {till:?}'s",
                    c.till()
                ),
            ))
        } else if hex32(c.hash()) != Some(*digest) {
            Some(match (kind.altered)(i) {
                Some((field, why)) => Break::field(
                    subject,
                    &field,
                    format!("{why}; its content does not match its hash (altered)"),
                ),
                None => Break::whole(
                    subject,
                    "its content does not match its hash (altered)".to_string(),
                ),
            })
        } else if c.prev_hash() != prev_hash {
            Some(Break::field(
                subject,
                "prev_hash",
                format!(
                    "chain broken: previous hash {}, expected {prev_hash}",
                    c.prev_hash()
                ),
            ))
        } else {
            match signature_of(c.signature()) {
                Some(signature) => {
                    signed.push(Signed {
                        digest: *digest,
                        signature,
                        key: keys.at(c.time()),
                    });
                    None
                }
                None => Some(Break::field(
                    subject,
                    "signature",
                    "not an Ed25519 signature (128 hex digits)".to_string(),
                )),
            }
        };
        if found.is_some() {
            structural = found;
            break;
        }
        prev_hash = c.hash();
    }
    // Signatures of the records before the first structural break: the
    // first that verifies with no key of the till comes first.
    let mut from = 0;
    while let Some(k) = first_invalid(&signed[from..]) {
        let at = from + k;
        let s = &signed[at];
        if keys
            .all()
            .any(|key| key.verify_strict(&s.digest, &s.signature).is_ok())
        {
            from = at + 1;
            continue;
        }
        let n = items[at].number();
        return Err(Break::field(
            (kind.subject)(n),
            "signature",
            format!("{noun} {n} is not signed by the till's key"),
        ));
    }
    match structural {
        Some(b) => Err(b),
        None => Ok(()),
    }
}
