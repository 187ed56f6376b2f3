//! The shape of customer codes: a code made from the template customer's
//! code keeps its prefix and its number of digits (`CLI000000` gives
//! `CLI000001`, `CLI000002`…). Which numbers are free is the database's
//! business; how a number is written is decided here.

/// The prefix and the number of digits of the codes made from template
/// `template`: the letters before its trailing digits, and as many digits
/// as it has (6 when it has none).
pub fn code_shape(template: &str) -> (&str, usize) {
    let prefix = template.trim_end_matches(|c: char| c.is_ascii_digit());
    let width = match template.len() - prefix.len() {
        0 => 6,
        n => n,
    };
    (prefix, width)
}

/// Code number `n` after `prefix`, padded with zeros to `width` digits.
pub fn code(prefix: &str, n: i64, width: usize) -> String {
    format!("{prefix}{n:0width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_the_template_prefix_and_width() {
        assert_eq!(code_shape("CLI000000"), ("CLI", 6));
        assert_eq!(code_shape("C-0001"), ("C-", 4));
        assert_eq!(code_shape("CLIENT"), ("CLIENT", 6));
        assert_eq!(code("CLI", 201, 6), "CLI000201");
        assert_eq!(code("C-", 12345, 4), "C-12345");
    }
}
