//! Quantities in thousandths (the one in-memory form of a quantity,
//! `quantity_milli`): read from what a cashier types (`2`, `0.485`, `0,485`,
//! `-1`) and written back the same way. A leaf: it imports nothing of the crate.

/// Thousandths in one unit.
pub const MILLI: i64 = 1000;

/// Why a typed quantity is not one.
pub type QuantityReason = &'static str;

/// The thousandths of `text`: an optional sign, digits, and at most three
/// decimals after `.` or `,` (`2` → 2000, `0.485` → 485, `-1,5` → -1500).
/// Zero and negative quantities are read; whether a sale allows them is the
/// sale's rule.
pub fn parse_quantity(text: &str) -> Result<i64, QuantityReason> {
    let t = text.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = match body.split_once(['.', ',']) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = digits(int) || (int.is_empty() && frac.is_some_and(digits));
    if !int_ok || frac.is_some_and(|f| !digits(f)) {
        return Err("expected a number with at most three decimals, e.g. 2, 0.485 or 0,485");
    }
    let frac = frac.unwrap_or("");
    if frac.len() > 3 {
        return Err("at most three decimals (thousandths, e.g. 0.485 kg)");
    }
    let too_large = "it is too large";
    let whole: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_large)?
    };
    let thousandths: i64 = format!("{frac:0<3}").parse().map_err(|_| too_large)?;
    let milli = whole
        .checked_mul(MILLI)
        .and_then(|w| w.checked_add(thousandths))
        .ok_or(too_large)?;
    Ok(if negative { -milli } else { milli })
}

/// A quantity in thousandths written as a person reads it: `3`, `0.485`,
/// `-1.5` (no trailing zeros, `.` as the decimal mark).
pub fn format_quantity(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let a = milli.unsigned_abs();
    let (whole, frac) = (a / MILLI as u64, a % MILLI as u64);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let f = format!("{frac:03}");
    format!("{sign}{whole}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_and_written() {
        for (text, milli, shown) in [
            ("3", 3000, "3"),
            ("0.485", 485, "0.485"),
            ("0,485", 485, "0.485"),
            (".5", 500, "0.5"),
            ("1.5", 1500, "1.5"),
            ("1.50", 1500, "1.5"),
            ("-1", -1000, "-1"),
            ("-0.25", -250, "-0.25"),
            ("+2", 2000, "2"),
            (" 7 ", 7000, "7"),
            ("0", 0, "0"),
        ] {
            assert_eq!(parse_quantity(text), Ok(milli), "{text}");
            assert_eq!(format_quantity(milli), shown, "{text}");
        }
    }

    #[test]
    fn what_is_not_a_quantity() {
        for (text, needle) in [
            ("abc", "expected a number"),
            ("", "expected a number"),
            ("1.2345", "at most three decimals"),
            ("1.", "expected a number"),
            ("1.2.3", "expected a number"),
            ("--1", "expected a number"),
            ("1e3", "expected a number"),
            ("99999999999999999999", "too large"),
            ("9223372036854776", "too large"),
        ] {
            let e = parse_quantity(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
