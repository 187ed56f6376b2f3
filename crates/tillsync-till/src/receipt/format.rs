//! Words and numbers as receipts and the cashier page show them: money,
//! VAT rates, SIRET groups, the labels of the payment methods.

use tillsync_core::lang::Lang;

/// Payment methods known to the till, with their French and English labels.
pub const METHODS: &[(&str, &str, &str)] = &[
    ("cash", "Espèces", "Cash"),
    ("card", "Carte bancaire", "Card"),
    ("cheque", "Chèque", "Cheque"),
    ("voucher", "Bon d'achat", "Voucher"),
];

/// The label of payment method `code` (the code itself when unknown).
pub fn method_label(lang: Lang, code: &str) -> String {
    METHODS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, fr, en)| lang.pick(fr, en).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// Cents as money: `12,50 €` in French, `€12.50` in English.
pub fn money(lang: Lang, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    match lang {
        Lang::Fr => format!("{sign}{},{:02} €", a / 100, a % 100),
        Lang::En => format!("{sign}€{}.{:02}", a / 100, a % 100),
    }
}

/// Cents as a bare amount, for the columns of a VAT table: `12,50`, `12.50`.
pub fn amount(lang: Lang, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    let sep = lang.pick(",", ".");
    format!("{sign}{}{sep}{:02}", a / 100, a % 100)
}

/// A VAT rate in basis points: `5,5 %` in French, `5.5%` in English.
pub fn rate(lang: Lang, bp: i64) -> String {
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

/// A SIRET as printed, `904 128 733 00014` (anything else as it is).
pub fn siret(s: &str) -> String {
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {} {}", &s[..3], &s[3..6], &s[6..9], &s[9..])
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_rates_in_both_languages() {
        assert_eq!(money(Lang::Fr, 1250), "12,50 €");
        assert_eq!(money(Lang::En, -5), "-€0.05");
        assert_eq!(amount(Lang::Fr, -1042), "-10,42");
        assert_eq!(amount(Lang::En, 7), "0.07");
        assert_eq!(rate(Lang::Fr, 550), "5,5 %");
        assert_eq!(rate(Lang::Fr, 2000), "20 %");
        assert_eq!(rate(Lang::En, 210), "2.1%");
        assert_eq!(rate(Lang::En, 1025), "10.25%");
        assert_eq!(siret("90412873300014"), "904 128 733 00014");
        assert_eq!(siret("9041"), "9041");
        assert_eq!(method_label(Lang::Fr, "card"), "Carte bancaire");
        assert_eq!(method_label(Lang::En, "bitcoin"), "bitcoin");
    }
}
