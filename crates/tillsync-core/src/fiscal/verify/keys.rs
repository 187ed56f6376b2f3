//! The till keys a ledger's records are checked with: one key, or the keys
//! of the till's key history each valid from a time; a key's fingerprint
//! (SHA-256 of its 32 bytes, hex) and key id (the fingerprint's first 16
//! hex digits), and a key given to compare (`--key`, `--fingerprint`).

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// The SHA-256 of a public key's 32 bytes, 64 hex digits.
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.to_bytes()))
}

/// The key id: the first 16 hex digits of [`fingerprint`] (the key
/// history's own, [`crate::key_history::key_id`]).
pub fn key_id(key: &VerifyingKey) -> String {
    crate::key_history::key_id(key)
}

/// The keys a till signed with, by the time each became valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillKeys {
    /// `(valid_from, key)`, oldest first; the first is used before any
    /// `valid_from` too.
    keys: Vec<(String, VerifyingKey)>,
}

impl TillKeys {
    /// One key for every record.
    pub fn one(key: VerifyingKey) -> Self {
        TillKeys {
            keys: vec![(String::new(), key)],
        }
    }

    /// The keys of a key history: `(valid_from, key)` in the history's
    /// order (none is refused: `None`).
    pub fn from_history(keys: Vec<(String, VerifyingKey)>) -> Option<Self> {
        (!keys.is_empty()).then_some(TillKeys { keys })
    }

    /// The key valid at `time` (RFC 3339 UTC as records write it): the
    /// newest whose `valid_from` is not after it.
    pub fn at(&self, time: &str) -> &VerifyingKey {
        self.keys
            .iter()
            .rev()
            .find(|(from, _)| from.as_str() <= time)
            .map_or(&self.keys[0].1, |(_, k)| k)
    }

    /// The keys of a key history that checked out, each valid from its
    /// record's `valid_from`.
    pub fn of_history(history: &crate::key_history::KeyHistory) -> Self {
        TillKeys {
            keys: history
                .keys()
                .map(|(r, k)| (r.valid_from.clone(), *k))
                .collect(),
        }
    }

    /// Every key, oldest first.
    pub fn all(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.keys.iter().map(|(_, k)| k)
    }
}

/// A key to compare the signing key with: a public key, or a fingerprint
/// (the 64 hex digits, or the 16 of a key id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedKey {
    /// The public key itself.
    Key(VerifyingKey),
    /// A fingerprint or key id, lower-case hex.
    Fingerprint(String),
}

impl ExpectedKey {
    /// Parse `--fingerprint`: 16 or 64 hex digits (blanks and `:` ignored).
    pub fn parse_fingerprint(s: &str) -> Result<Self, String> {
        let hexs: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if (hexs.len() == 16 || hexs.len() == 64) && hexs.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(ExpectedKey::Fingerprint(hexs))
        } else {
            Err(format!(
                "{s:?} is not a key fingerprint (64 hex digits) or key id (16 hex digits)"
            ))
        }
    }

    /// Whether `key` is this one.
    pub fn matches(&self, key: &VerifyingKey) -> bool {
        match self {
            ExpectedKey::Key(k) => k == key,
            ExpectedKey::Fingerprint(f) => fingerprint(key).starts_with(f.as_str()),
        }
    }

    /// What a person reads of it.
    pub fn describe(&self) -> String {
        match self {
            ExpectedKey::Key(k) => format!("key {} (fingerprint {})", key_id(k), fingerprint(k)),
            ExpectedKey::Fingerprint(f) => format!("fingerprint {f}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn keys_by_time_and_fingerprints() {
        let a = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let b = SigningKey::from_bytes(&[2; 32]).verifying_key();
        let k = TillKeys::from_history(vec![
            ("2026-01-01T00:00:00Z".into(), a),
            ("2026-06-01T00:00:00Z".into(), b),
        ])
        .unwrap();
        assert_eq!(k.at("2025-12-31T00:00:00Z"), &a);
        assert_eq!(k.at("2026-03-01T00:00:00Z"), &a);
        assert_eq!(k.at("2026-06-01T00:00:00Z"), &b);
        assert_eq!(fingerprint(&a).len(), 64);
        assert_eq!(key_id(&a), fingerprint(&a)[..16]);
        let f = ExpectedKey::parse_fingerprint(&key_id(&a).to_uppercase()).unwrap();
        assert!(f.matches(&a) && !f.matches(&b));
        assert!(ExpectedKey::parse_fingerprint("abc").is_err());
        assert!(ExpectedKey::Key(b).matches(&b));
    }
}
