//! Words and numbers as the cashier page shows them: money, VAT rates, the
//! part of a ticket's signature a receipt prints, the payment methods.

use tillsync_core::lang::Lang;

/// Payment methods offered, with their French and English labels.
pub(crate) const METHODS: &[(&str, &str, &str)] = &[
    ("cash", "Espèces", "Cash"),
    ("card", "Carte bancaire", "Card"),
    ("cheque", "Chèque", "Cheque"),
];

/// Cents as money: `12,50 €` in French, `€12.50` in English.
pub(crate) fn money(lang: Lang, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    match lang {
        Lang::Fr => format!("{sign}{},{:02} €", a / 100, a % 100),
        Lang::En => format!("{sign}€{}.{:02}", a / 100, a % 100),
    }
}

/// A VAT rate in basis points: `5,5 %` in French, `5.5%` in English.
pub(crate) fn rate(lang: Lang, bp: i64) -> String {
    let whole = bp / 100;
    let frac = (bp % 100).abs();
    let frac = match (frac, frac % 10) {
        (0, _) => String::new(),
        (f, 0) => format!("{}", f / 10),
        (f, _) => format!("{f:02}"),
    };
    match (lang, frac.is_empty()) {
        (Lang::Fr, true) => format!("{whole} %"),
        (Lang::Fr, false) => format!("{whole},{frac} %"),
        (Lang::En, true) => format!("{whole}%"),
        (Lang::En, false) => format!("{whole}.{frac}%"),
    }
}

/// The part of the signature a receipt prints: its first 8 hex characters
/// (the whole one is in `data-signature`).
pub(crate) fn short_signature(sig: &str) -> &str {
    sig.get(..8).unwrap_or(sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_rates_in_both_languages() {
        assert_eq!(money(Lang::Fr, 1250), "12,50 €");
        assert_eq!(money(Lang::En, -5), "-€0.05");
        assert_eq!(rate(Lang::Fr, 550), "5,5 %");
        assert_eq!(rate(Lang::Fr, 2000), "20 %");
        assert_eq!(rate(Lang::En, 210), "2.1%");
        assert_eq!(rate(Lang::En, 1025), "10.25%");
        assert_eq!(short_signature("0123456789abcdef"), "01234567");
        assert_eq!(short_signature("abc"), "abc");
    }
}
