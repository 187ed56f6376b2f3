//! What the cashier page shows besides the receipt's words
//! (`crate::receipt::format`): the part of a ticket's signature it prints,
//! the payment methods it offers.

/// Payment methods offered, with their French and English labels.
pub(crate) const METHODS: &[(&str, &str, &str)] = &[
    ("cash", "Espèces", "Cash"),
    ("card", "Carte bancaire", "Card"),
    ("cheque", "Chèque", "Cheque"),
];

/// The part of the signature a receipt prints: its first 8 hex characters
/// (the whole one is in `data-signature`).
pub(crate) fn short_signature(sig: &str) -> &str {
    sig.get(..8).unwrap_or(sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_signature() {
        assert_eq!(short_signature("0123456789abcdef"), "01234567");
        assert_eq!(short_signature("abc"), "abc");
    }
}
