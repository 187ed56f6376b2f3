//! Secret strings (passwords): masked in `Debug`, never `Display`ed.

use std::fmt;

use rand::Rng;
use rand::distributions::Alphanumeric;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};

/// What is shown in place of a secret.
pub const MASK: &str = "********";

/// A secret string such as the FTP password.
///
/// `Debug` prints [`MASK`]; there is no `Display`, so a secret only leaves
/// through [`Secret::expose`] (or serialization into the configuration file,
/// which is written with mode 0600).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// A random secret of `len` ASCII letters and digits from the OS generator.
    pub fn generate(len: usize) -> Self {
        Secret(
            OsRng
                .sample_iter(&Alphanumeric)
                .take(len)
                .map(char::from)
                .collect(),
        )
    }

    /// The secret value, for the one place that really needs it (logging in).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Compare two secrets (a token's hash, a password) in a time that does not
/// depend on where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn debug_is_masked() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), MASK);
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn generated_is_alphanumeric() {
        let a = Secret::generate(20);
        let b = Secret::generate(20);
        assert_eq!(a.expose().len(), 20);
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
