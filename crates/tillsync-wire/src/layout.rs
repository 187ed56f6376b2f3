//! A table's layout as it travels in a package: columns, declared types, key.

use serde::{Deserialize, Serialize};

/// One column of a synced table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name, as on the server.
    pub name: String,
    /// Declared SQL type, as on the server (`TEXT`, `INTEGER`, `NUMERIC(10,2)`…).
    #[serde(rename = "type")]
    pub decl_type: String,
    /// Whether the column is declared NOT NULL.
    pub not_null: bool,
}

impl Column {
    /// A column.
    pub fn new(name: &str, decl_type: &str, not_null: bool) -> Self {
        Column {
            name: name.to_string(),
            decl_type: decl_type.to_string(),
            not_null,
        }
    }
}

/// Columns in order, and the primary key's columns in key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Every column, in the server table's order.
    pub columns: Vec<Column>,
    /// Names of the primary-key columns, in key order.
    pub key: Vec<String>,
}

impl Layout {
    /// A short, stable fingerprint of the layout: the first 16 hex digits of
    /// the SHA-256 of `name type notnull` lines, then `key:` and the key names.
    /// Two layouts with the same hash load into the same till table.
    pub fn hash(&self) -> String {
        let mut s = String::new();
        for c in &self.columns {
            s.push_str(&c.name);
            s.push(' ');
            s.push_str(&c.decl_type.to_ascii_uppercase());
            s.push(' ');
            s.push(if c.not_null { '1' } else { '0' });
            s.push('\n');
        }
        s.push_str("key:");
        s.push_str(&self.key.join(","));
        crate::sha256_hex(s.as_bytes())[..16].to_string()
    }

    /// Positions of the key columns within `columns`, or the first missing name.
    pub fn key_positions(&self) -> Result<Vec<usize>, String> {
        self.key
            .iter()
            .map(|k| {
                self.columns
                    .iter()
                    .position(|c| &c.name == k)
                    .ok_or_else(|| k.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_changes_with_a_new_column_and_ignores_type_case() {
        let a = Layout {
            columns: vec![Column::new("code", "TEXT", true)],
            key: vec!["code".into()],
        };
        let mut b = a.clone();
        b.columns[0].decl_type = "text".into();
        assert_eq!(a.hash(), b.hash());
        b.columns.push(Column::new("label", "TEXT", false));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 16);
    }
}
