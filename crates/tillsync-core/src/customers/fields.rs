//! The checks of the customer fields a till gives, and their messages: the
//! same on the server (creation and edits received from tills, on every
//! backend) and at the till (its CLI and cashier page, before anything is
//! sent). A field names a column of the customers table `CLI`, whatever its
//! case; the customer code (the table's key) is never given nor changed;
//! values are scalars (text, number, true/false, null).

use serde_json::{Map, Value as Json};
use tillsync_wire::layout::{Column, Layout};

/// The refusal of a value that is not a scalar.
pub const NOT_A_SCALAR: &str = "expected a text, a number, true/false or null";

/// The refusal of a number that no database column can hold.
pub const OUT_OF_RANGE: &str = "a number out of range";

/// What the fields are given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldUse {
    /// A new customer (copied from the template customer).
    Create,
    /// An edit of an existing customer.
    Edit,
}

/// Column `name` of `layout`, whatever its case.
pub fn column<'l>(layout: &'l Layout, name: &str) -> Option<&'l Column> {
    layout
        .columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// A customer's name as given, trimmed; refused when empty.
pub fn customer_name(name: &str) -> Result<&str, String> {
    match name.trim() {
        "" => Err("the customer's name must not be empty".into()),
        t => Ok(t),
    }
}

/// The column of `table` (layout `layout`) that field `name` gives for
/// `usage`: refused when the table has no such column, or when it is the
/// customer code.
pub fn check_field<'l>(
    table: &str,
    layout: &'l Layout,
    name: &str,
    usage: FieldUse,
) -> Result<&'l Column, String> {
    let col = column(layout, name).ok_or_else(|| {
        format!(
            "table {table} has no column {name:?}; columns are: {}",
            layout
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    if layout.key.contains(&col.name) {
        return Err(match usage {
            FieldUse::Create => format!(
                "the customer code ({}) is allocated by the server and cannot be given",
                col.name
            ),
            FieldUse::Edit => format!("the customer code ({}) cannot be changed", col.name),
        });
    }
    Ok(col)
}

/// Refuse a value that is not a scalar.
pub fn scalar(v: &Json) -> Result<(), String> {
    match v {
        Json::Array(_) | Json::Object(_) => Err(NOT_A_SCALAR.into()),
        Json::Number(n) if n.as_i64().is_none() && n.as_f64().is_none() => Err(OUT_OF_RANGE.into()),
        _ => Ok(()),
    }
}

/// A value given for column `col`, checked ([`scalar`]) and made fit for
/// it: true/false become 1/0 unless the column is a boolean (as SQLite
/// stores them).
pub fn field_value(col: &Column, v: &Json) -> Result<Json, String> {
    scalar(v)?;
    Ok(match v {
        Json::Bool(b) if col.decl_type != "boolean" => Json::from(i64::from(*b)),
        other => other.clone(),
    })
}

/// The value of a field typed as text (`column=value` at the till) for
/// column `col`: a column declared with INT holds whole numbers, one with
/// REAL/FLOA/DOUB decimals, others text; an empty value is NULL.
pub fn typed_value(col: &Column, text: &str) -> Result<Json, String> {
    let t = col.decl_type.to_ascii_uppercase();
    if text.is_empty() {
        Ok(Json::Null)
    } else if t.contains("INT") {
        text.trim()
            .parse::<i64>()
            .map(Json::from)
            .map_err(|_| format!("column {} holds whole numbers, not {text:?}", col.name))
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        text.trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .ok_or_else(|| format!("column {} holds numbers, not {text:?}", col.name))
    } else {
        Ok(Json::String(text.to_string()))
    }
}

/// The value of field `name` for its column `col` ([`field_value`]), the
/// refusal naming the field.
fn value_of(name: &str, col: &Column, v: &Json) -> Result<Json, String> {
    field_value(col, v).map_err(|e| format!("field {name}: {e}"))
}

/// The fields of a new customer of `table`, by their real column names in
/// the order given: every field checked ([`check_field`], [`field_value`]),
/// and the name column `name_col` refused (the name is given apart).
pub fn create_fields(
    table: &str,
    layout: &Layout,
    name_col: &str,
    fields: &Map<String, Json>,
) -> Result<Vec<(String, Json)>, String> {
    let mut out = Vec::with_capacity(fields.len());
    for (k, v) in fields {
        let col = check_field(table, layout, k, FieldUse::Create)?;
        if col.name == name_col {
            return Err(format!(
                "give the name once, as the name, not as the field {k:?}"
            ));
        }
        out.push((col.name.clone(), value_of(k, col, v)?));
    }
    Ok(out)
}

/// The changed fields of an edit of a customer of `table`, by their real
/// column names, every field checked ([`check_field`], [`field_value`]).
pub fn edit_fields(
    table: &str,
    layout: &Layout,
    fields: &Map<String, Json>,
) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    for (k, v) in fields {
        let col = check_field(table, layout, k, FieldUse::Edit)?;
        out.insert(col.name.clone(), value_of(k, col, v)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
