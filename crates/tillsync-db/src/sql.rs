//! Identifier quoting for SQL text and value conversion between rusqlite and the wire.

use rusqlite::types::{Value, ValueRef as SqlRef};
use tillsync_core::customers::fields;
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
pub fn check_ident(name: &str) -> Result<(), crate::error::StoreError> {
    tillsync_core::ident::validate(name).map_err(|e| crate::error::StoreError::Ident(e.to_string()))
}

/// A JSON value of a field as a SQL value (scalars only, refused in the
/// words of [`tillsync_core::customers::fields::scalar`]).
pub fn json_to_sql(v: &serde_json::Value) -> Result<Value, String> {
    Ok(match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().ok_or(fields::OUT_OF_RANGE)?),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            return Err(fields::NOT_A_SCALAR.into());
        }
    })
}

/// A SQL value as JSON (a blob as hex text).
pub fn sql_to_json(v: Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(s) => s.into(),
        Value::Blob(b) => hex::encode(b).into(),
    }
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
