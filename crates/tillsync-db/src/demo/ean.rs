//! EAN-13 barcodes: the check digit of a 12-digit body, and whether a
//! code is a valid EAN-13.

/// The EAN-13 check digit of a 12-digit body.
pub fn ean13_check_digit(body: u64) -> u32 {
    let mut sum = 0u32;
    let mut rest = body;
    // Rightmost body digit has weight 3, then alternating 1, 3…
    for pos in 0..12 {
        let d = (rest % 10) as u32;
        rest /= 10;
        sum += if pos % 2 == 0 { 3 * d } else { d };
    }
    (10 - sum % 10) % 10
}

/// Whether `code` is a 13-digit EAN with a correct check digit.
pub fn is_valid_ean13(code: &str) -> bool {
    code.len() == 13
        && code.bytes().all(|b| b.is_ascii_digit())
        && code[..12]
            .parse::<u64>()
            .is_ok_and(|body| ean13_check_digit(body) == u32::from(code.as_bytes()[12] - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13_check_digit_known_values() {
        // Known valid EAN-13 codes.
        assert!(is_valid_ean13("3017620422003"));
        assert!(is_valid_ean13("4006381333931"));
        assert!(!is_valid_ean13("3017620422004"));
        assert!(!is_valid_ean13("301762042200"));
        assert_eq!(ean13_check_digit(301_762_042_200), 3);
    }
}
