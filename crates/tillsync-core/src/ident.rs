//! SQL identifiers: validation of table and column names, and quoting for SQL text.
//!
//! Every table or column name that tillsync puts into SQL goes through
//! [`validate`] when it enters the system (configuration, sync tables,
//! introspection) and through [`quote`] when it is written into a statement.

/// Longest accepted identifier, in characters (PostgreSQL's limit).
pub const MAX_LEN: usize = 63;

/// Prefixes that user tables may not use (compared case-insensitively):
/// `tillsync_` is reserved for tillsync's own tables, `sqlite_` for SQLite's.
pub const RESERVED_PREFIXES: &[&str] = &["tillsync_", "sqlite_"];

/// Why a name was refused as a table or column name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    /// The name is empty.
    #[error("the table or column name is empty")]
    Empty,
    /// The name is longer than [`MAX_LEN`].
    #[error("the name {name:?} is {len} characters long; at most {max} are allowed", max = MAX_LEN)]
    TooLong {
        /// The refused name.
        name: String,
        /// Its length in characters.
        len: usize,
    },
    /// The first character is not an ASCII letter or `_`.
    #[error("the name {name:?} must start with a letter (A-Z, a-z) or '_', not {found:?}")]
    BadStart {
        /// The refused name.
        name: String,
        /// The offending first character.
        found: char,
    },
    /// A character other than ASCII letters, digits and `_`.
    #[error(
        "the name {name:?} contains {found:?} at position {position}; only letters (A-Z, a-z), digits and '_' are allowed"
    )]
    BadChar {
        /// The refused name.
        name: String,
        /// The offending character.
        found: char,
        /// Its position (1-based, in characters).
        position: usize,
    },
    /// The name starts with a reserved prefix.
    #[error("the name {name:?} starts with {prefix:?}, which is reserved for {owner}")]
    Reserved {
        /// The refused name.
        name: String,
        /// The reserved prefix it starts with.
        prefix: &'static str,
        /// Who the prefix is reserved for.
        owner: &'static str,
    },
}

/// Checks that `name` is a plain SQL identifier usable as a table or column
/// name: an ASCII letter or `_` first, then ASCII letters, digits or `_`, at
/// most [`MAX_LEN`] characters, not starting with `tillsync_` or `sqlite_`
/// (in any case).
pub fn validate(name: &str) -> Result<(), IdentError> {
    let mut chars = name.chars();
    let first = chars.next().ok_or(IdentError::Empty)?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Err(IdentError::BadStart {
            name: name.to_string(),
            found: first,
        });
    }
    for (i, c) in chars.enumerate() {
        if !(c.is_ascii_alphanumeric() || c == '_') {
            return Err(IdentError::BadChar {
                name: name.to_string(),
                found: c,
                position: i + 2,
            });
        }
    }
    // Only ASCII from here on, so bytes == characters.
    if name.len() > MAX_LEN {
        return Err(IdentError::TooLong {
            name: name.to_string(),
            len: name.len(),
        });
    }
    for &prefix in RESERVED_PREFIXES {
        if name.len() >= prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix) {
            let owner = if prefix == "tillsync_" {
                "tillsync's own tables"
            } else {
                "SQLite's internal tables"
            };
            return Err(IdentError::Reserved {
                name: name.to_string(),
                prefix,
                owner,
            });
        }
    }
    Ok(())
}

/// Quotes `name` for SQL text: wraps it in double quotes and doubles any `"`
/// inside. Use it for every table and column name written into a statement.
pub fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// [`validate`] then [`quote`]: the quoted name, or why it was refused.
pub fn validated_quote(name: &str) -> Result<String, IdentError> {
    validate(name)?;
    Ok(quote(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_identifiers() {
        for name in [
            "ART",
            "CLI",
            "T012",
            "_x",
            "store_till",
            "a1_b2",
            &"a".repeat(63),
        ] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn refusals_name_the_identifier_and_the_problem() {
        let long = "a".repeat(64);
        for (name, needle) in [
            ("", "empty"),
            ("1ART", "must start with a letter"),
            ("ART-X", "'-' at position 4"),
            ("été", "must start"),
            ("prix€", "'€'"),
            ("a b", "' '"),
            ("tillsync_outbox", "reserved for tillsync"),
            ("TillSync_x", "reserved for tillsync"),
            ("SQLITE_master", "reserved for SQLite"),
            ("x\"y", "'\"'"),
            (&long, "64 characters"),
        ] {
            let e = validate(name).unwrap_err().to_string();
            assert!(e.contains(needle), "{name:?}: {e}");
            if !name.is_empty() {
                assert!(e.contains(&format!("{name:?}")), "{name:?}: {e}");
            }
        }
    }

    #[test]
    fn tillsync_without_underscore_is_fine() {
        assert_eq!(validate("tillsyncx"), Ok(()));
        assert_eq!(validate("sqlite"), Ok(()));
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote("ART"), "\"ART\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(validated_quote("CLI").unwrap(), "\"CLI\"");
        assert!(validated_quote("x;drop").is_err());
    }
}
