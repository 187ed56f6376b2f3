//! Identifier quoting for SQL text and value conversion between rusqlite and the wire.

use rusqlite::types::ValueRef as SqlRef;
use tillsync_wire::value::ValueRef;

/// `"name"`, with any `"` doubled: the only way names enter SQL text.
pub fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with any `'` doubled: for names used as string literals in triggers.
pub fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Comma-separated quoted names.
pub fn q_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(q).collect::<Vec<_>>().join(", ")
}

/// A rusqlite value as a wire value (text that is not UTF-8 travels as a blob).
pub fn from_sql(v: SqlRef<'_>) -> ValueRef<'_> {
    match v {
        SqlRef::Null => ValueRef::Null,
        SqlRef::Integer(i) => ValueRef::Integer(i),
        SqlRef::Real(f) => ValueRef::Real(f),
        SqlRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => ValueRef::Text(s),
            Err(_) => ValueRef::Blob(t),
        },
        SqlRef::Blob(b) => ValueRef::Blob(b),
    }
}

/// A wire value as a rusqlite parameter.
pub fn to_sql<'a>(v: &ValueRef<'a>) -> rusqlite::types::ToSqlOutput<'a> {
    rusqlite::types::ToSqlOutput::Borrowed(match *v {
        ValueRef::Null => SqlRef::Null,
        ValueRef::Integer(i) => SqlRef::Integer(i),
        ValueRef::Real(f) => SqlRef::Real(f),
        ValueRef::Text(s) => SqlRef::Text(s.as_bytes()),
        ValueRef::Blob(b) => SqlRef::Blob(b),
    })
}

/// Reuse the allocation of an emptied vector for values of another lifetime
/// (the in-place `collect` keeps the buffer; no element is ever mapped).
pub fn recycle<'b>(mut v: Vec<ValueRef<'_>>) -> Vec<ValueRef<'b>> {
    v.clear();
    v.into_iter().map(|_| ValueRef::Null).collect()
}

/// Validate a plain identifier (see [`tillsync_core::ident::validate`]).
pub fn check_ident(name: &str) -> Result<(), crate::StoreError> {
    tillsync_core::ident::validate(name).map_err(|e| crate::StoreError::Ident(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(q("ART"), "\"ART\"");
        assert_eq!(q("a\"b"), "\"a\"\"b\"");
        assert_eq!(lit("it's"), "'it''s'");
        assert!(check_ident("ART").is_ok());
        assert!(check_ident("1ART").is_err());
        assert!(check_ident("ART; DROP").is_err());
        assert!(check_ident("").is_err());
    }
}
