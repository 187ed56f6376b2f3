//! Values between PostgreSQL and the wire: how a column of each declared type
//! is read, ordered and turned into a package value.

use tillsync_wire::layout::{Column, Layout};
use tillsync_wire::value::ValueRef;

use tillsync_db::StoreError;
use tillsync_db::sql::q;

/// How a column's values are read and written (from its declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Real,
    Bool,
    Text,
    Bytes,
    /// Anything else (dates, numeric types with odd scales…): as text.
    Other,
}

pub(crate) fn kind_of(decl: &str) -> Kind {
    let d = decl.to_ascii_lowercase();
    let base = d.split('(').next().unwrap_or("").trim();
    match base {
        "smallint" | "integer" | "bigint" | "oid" => Kind::Int,
        "real" | "double precision" | "numeric" => Kind::Real,
        "boolean" => Kind::Bool,
        "text" | "character varying" | "character" | "name" | "\"char\"" => Kind::Text,
        "bytea" => Kind::Bytes,
        _ => Kind::Other,
    }
}

/// The select expression that reads `expr` (of type `decl`) as a wire value.
pub(crate) fn read_expr(expr: &str, decl: &str) -> String {
    match kind_of(decl) {
        Kind::Int => format!("({expr})::int8"),
        Kind::Real => format!("({expr})::float8"),
        Kind::Bool => format!("({expr})::int::int8"),
        Kind::Text | Kind::Other => format!("({expr})::text"),
        Kind::Bytes => expr.to_string(),
    }
}

/// The value of column `i` of `row`, read as [`read_expr`] selected it.
pub(crate) fn value<'r>(
    row: &'r postgres::Row,
    i: usize,
    decl: &str,
) -> Result<ValueRef<'r>, StoreError> {
    Ok(match kind_of(decl) {
        Kind::Int | Kind::Bool => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(ValueRef::Null, ValueRef::Integer),
        Kind::Real => row
            .try_get::<_, Option<f64>>(i)?
            .map_or(ValueRef::Null, ValueRef::Real),
        Kind::Text | Kind::Other => row
            .try_get::<_, Option<&str>>(i)?
            .map_or(ValueRef::Null, ValueRef::Text),
        Kind::Bytes => row
            .try_get::<_, Option<&[u8]>>(i)?
            .map_or(ValueRef::Null, ValueRef::Blob),
    })
}

/// `"col"` with `COLLATE "C"` for text: key order is byte order, as on SQLite.
pub(crate) fn order_expr(prefix: &str, col: &Column) -> String {
    match kind_of(&col.decl_type) {
        Kind::Text => format!("{prefix}{} COLLATE \"C\"", q(&col.name)),
        _ => format!("{prefix}{}", q(&col.name)),
    }
}

pub(crate) fn column<'l>(layout: &'l Layout, name: &str) -> Result<&'l Column, StoreError> {
    layout
        .columns
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| StoreError::Inconsistent(format!("column {name} disappeared")))
}

pub(crate) fn filter_position(
    layout: &Layout,
    filter: Option<&str>,
) -> Result<Option<usize>, StoreError> {
    filter
        .map(|f| {
            layout
                .columns
                .iter()
                .position(|c| c.name == f)
                .ok_or_else(|| StoreError::Inconsistent(format!("filter column {f} disappeared")))
        })
        .transpose()
}
