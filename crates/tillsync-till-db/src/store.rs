//! The till's store as the down sync tables describe it: its identity for
//! receipts (`STORE`, the row whose `code` is the till's store), its
//! cashiers (`CASHIER`, the store's and those of no store), the time zone
//! of the till (the store's `timezone` when set, else the folder's), and
//! the customer's name and address an invoice prints (`CLI`).
//!
//! Columns are read by name (any case) so that a `STORE` with more columns
//! works; a missing table, row or column is a missing mention, never an
//! invented one (see `docs/receipts.md`).

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use tillsync_core::TillConfig;
use tillsync_core::fiscal::local::LocalZone;

use crate::db::TillDb;
use crate::up::lookup::has_table;
use tillsync_db::StoreError;

/// The table of the stores' identities.
pub const STORE_TABLE: &str = "STORE";
/// The table of the cashiers.
pub const CASHIER_TABLE: &str = "CASHIER";

/// What a receipt prints of its store; `None` fields are not given by the
/// till's `STORE` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreIdentity {
    /// Store code.
    pub code: String,
    /// Trade name (`name`).
    pub name: Option<String>,
    /// Address lines (`address1`, `address2`, `address3`), the empty ones left out.
    pub address: Vec<String>,
    /// Postcode (`postcode`).
    pub postcode: Option<String>,
    /// Town (`town`).
    pub town: Option<String>,
    /// SIRET (`siret`).
    pub siret: Option<String>,
    /// Intra-community VAT number (`vat_number`).
    pub vat_number: Option<String>,
    /// Phone (`phone`).
    pub phone: Option<String>,
    /// IANA time zone of the store (`timezone`), when it differs from the folder's.
    pub timezone: Option<String>,
}

/// A cashier of the till's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cashier {
    /// Code (`code`).
    pub code: String,
    /// Name (`name`).
    pub name: String,
    /// The argon2 PHC string of the PIN (`pin_hash`).
    pub pin_hash: String,
}

/// A row as `(lower-case column name, value as text)`.
type Row = Vec<(String, Option<String>)>;

/// Every column of `table`'s rows matching `sql_where` (with `?1` =
/// `value`), by lower-case name, each value as text (`None` for NULL or blank).
fn rows_where(
    conn: &Connection,
    table: &str,
    sql_where: &str,
    value: &str,
) -> Result<Vec<Row>, StoreError> {
    if !has_table(conn, table)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT * FROM {} WHERE {sql_where} ORDER BY 1",
        tillsync_db::sql::q(table)
    ))?;
    let names: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let mut rows = stmt.query([value])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            let v = match r.get_ref(i)? {
                ValueRef::Null => None,
                ValueRef::Integer(i) => Some(i.to_string()),
                ValueRef::Real(f) => Some(f.to_string()),
                ValueRef::Text(t) => Some(String::from_utf8_lossy(t).trim().to_string()),
                ValueRef::Blob(_) => None,
            };
            row.push((n.clone(), v.filter(|s| !s.is_empty())));
        }
        out.push(row);
    }
    Ok(out)
}

fn get(row: &[(String, Option<String>)], name: &str) -> Option<String> {
    row.iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.clone())
}

/// The identity of store `store` from the till's `STORE`; `None` when the
/// table was never loaded or holds no row for the store.
pub fn store_identity(conn: &Connection, store: &str) -> Result<Option<StoreIdentity>, StoreError> {
    if has_table(conn, STORE_TABLE)? && !has_column(conn, STORE_TABLE, "code")? {
        return Err(StoreError::Invalid(format!(
            "the till's {STORE_TABLE} table has no column code: the store's identity cannot be found"
        )));
    }
    let rows = rows_where(conn, STORE_TABLE, r#""code" = ?1"#, store)?;
    Ok(rows.first().map(|row| StoreIdentity {
        code: store.to_string(),
        name: get(row, "name"),
        address: ["address1", "address2", "address3"]
            .iter()
            .filter_map(|c| get(row, c))
            .collect(),
        postcode: get(row, "postcode"),
        town: get(row, "town"),
        siret: get(row, "siret"),
        vat_number: get(row, "vat_number"),
        phone: get(row, "phone"),
        timezone: get(row, "timezone"),
    }))
}

fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE lower(name) = ?2",
        [table, column],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// The cashiers who may log in at a till of `store` (the store's and those
/// of no store), by code; empty when `CASHIER` was never loaded. A row
/// without a name or a PIN hash is left out.
pub fn cashiers(conn: &Connection, store: &str) -> Result<Vec<Cashier>, StoreError> {
    if !has_table(conn, CASHIER_TABLE)? {
        return Ok(Vec::new());
    }
    for c in ["code", "name", "store", "pin_hash"] {
        if !has_column(conn, CASHIER_TABLE, c)? {
            return Err(StoreError::Invalid(format!(
                "the till's {CASHIER_TABLE} table has no column {c} (it needs code, name, store, pin_hash)"
            )));
        }
    }
    let rows = rows_where(
        conn,
        CASHIER_TABLE,
        r#"("store" = ?1 OR "store" IS NULL OR "store" = '')"#,
        store,
    )?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(Cashier {
                code: get(row, "code")?,
                name: get(row, "name")?,
                pin_hash: get(row, "pin_hash")?,
            })
        })
        .collect())
}

/// A customer's name and address, as an invoice prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAddress {
    /// Customer code.
    pub code: String,
    /// Name (`name`).
    pub name: Option<String>,
    /// Address lines (`address1`…`address3` or `address`), then
    /// `postcode` with `town` or `city`.
    pub address: Vec<String>,
}

/// The name and address of customer `code` from the till's `CLI`; `None`
/// when the table or the row is not there.
pub fn customer_address(
    conn: &Connection,
    code: &str,
) -> Result<Option<CustomerAddress>, StoreError> {
    if has_table(conn, "CLI")? && !has_column(conn, "CLI", "code")? {
        return Ok(None);
    }
    let rows = rows_where(conn, "CLI", r#""code" = ?1"#, code)?;
    Ok(rows.first().map(|row| {
        let mut address: Vec<String> = ["address1", "address2", "address3", "address"]
            .iter()
            .filter_map(|c| get(row, c))
            .collect();
        let town = get(row, "town").or_else(|| get(row, "city"));
        match (get(row, "postcode"), town) {
            (Some(p), Some(t)) => address.push(format!("{p} {t}")),
            (Some(x), None) | (None, Some(x)) => address.push(x),
            (None, None) => {}
        }
        CustomerAddress {
            code: code.to_string(),
            name: get(row, "name"),
            address,
        }
    }))
}

impl TillDb {
    /// The identity of the till's store (see [`store_identity`]).
    pub fn store_identity(&self, store: &str) -> Result<Option<StoreIdentity>, StoreError> {
        store_identity(self.conn(), store)
    }

    /// The zone of this till: its store's `timezone` (La Réunion, the
    /// Antilles…) when `STORE` sets one, else the folder's
    /// (`folder.timezone`). Receipts, pages and closings use it.
    pub fn till_zone(&self, cfg: &TillConfig) -> Result<LocalZone, StoreError> {
        let store = store_identity(self.conn(), &cfg.till.store)?;
        match store.and_then(|s| s.timezone) {
            Some(tz) => LocalZone::new(&tz).map_err(|e| {
                StoreError::Invalid(format!(
                    "store {}'s time zone in {STORE_TABLE}.timezone: {e}",
                    cfg.till.store
                ))
            }),
            None => cfg.folder.zone().map_err(|e| {
                StoreError::Invalid(format!("folder.timezone of the till configuration: {e}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests;
