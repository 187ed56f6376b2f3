//! Cashier PINs: their shape (4 to 8 digits), their salted argon2id hash as
//! the `CASHIER` sync table keeps it (a PHC string, never the PIN), and the
//! check of a PIN typed on the cashier page against that hash.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Fewest digits of a PIN.
pub const MIN_PIN_DIGITS: usize = 4;
/// Most digits of a PIN.
pub const MAX_PIN_DIGITS: usize = 8;

/// Why a PIN or a PIN hash is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// Not 4 to 8 digits.
    #[error("a PIN is {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits")]
    Shape,
    /// The stored hash is not an argon2 PHC string.
    #[error(
        "the PIN hash of cashier {cashier} is not an argon2 PHC string ($argon2id$…): {reason}"
    )]
    Hash {
        /// Cashier code.
        cashier: String,
        /// Why.
        reason: String,
    },
}

/// Check that `pin` is 4 to 8 ASCII digits.
pub fn check_shape(pin: &str) -> Result<(), PinError> {
    if (MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&pin.len())
        && pin.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(PinError::Shape)
    }
}

/// The argon2id PHC string of `pin` with `salt` (16 bytes).
pub fn hash_with_salt(pin: &str, salt: &[u8; 16]) -> Result<String, PinError> {
    check_shape(pin)?;
    let salt = SaltString::encode_b64(salt).map_err(|_| PinError::Shape)?;
    hash(pin, &salt)
}

/// The argon2id PHC string of `pin` with a random salt.
pub fn hash_random(pin: &str) -> Result<String, PinError> {
    check_shape(pin)?;
    hash(pin, &SaltString::generate(&mut OsRng))
}

fn hash(pin: &str, salt: &SaltString) -> Result<String, PinError> {
    Argon2::default()
        .hash_password(pin.as_bytes(), salt)
        .map(|h| h.to_string())
        .map_err(|_| PinError::Shape)
}

/// Whether `pin` is the PIN of cashier `cashier` whose stored hash is
/// `phc`; an error when that hash does not read (the table is wrong, not
/// the PIN).
pub fn verify(cashier: &str, pin: &str, phc: &str) -> Result<bool, PinError> {
    let parsed = PasswordHash::new(phc.trim()).map_err(|e| PinError::Hash {
        cashier: cashier.to_string(),
        reason: e.to_string(),
    })?;
    if !parsed.algorithm.as_str().starts_with("argon2") {
        return Err(PinError::Hash {
            cashier: cashier.to_string(),
            reason: format!("algorithm {} is not argon2", parsed.algorithm),
        });
    }
    if check_shape(pin).is_err() {
        return Ok(false);
    }
    Ok(Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_check_and_never_hold_the_pin() {
        let h = hash_with_salt("4821", &[7; 16]).unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("4821"));
        assert_eq!(h, hash_with_salt("4821", &[7; 16]).unwrap());
        assert!(verify("C01", "4821", &h).unwrap());
        assert!(!verify("C01", "4822", &h).unwrap());
        assert!(!verify("C01", "48a1", &h).unwrap());
        let r = hash_random("4821").unwrap();
        assert_ne!(r, h);
        assert!(verify("C01", "4821", &r).unwrap());
    }

    #[test]
    fn shapes_and_bad_hashes() {
        for bad in ["", "123", "123456789", "12 4", "１２３４"] {
            assert_eq!(check_shape(bad), Err(PinError::Shape), "{bad:?}");
        }
        assert!(check_shape("0000").is_ok() && check_shape("12345678").is_ok());
        let e = verify("C07", "1234", "1234").unwrap_err().to_string();
        assert!(e.contains("cashier C07") && e.contains("argon2"), "{e}");
    }
}
