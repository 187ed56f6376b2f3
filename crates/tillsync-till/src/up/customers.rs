//! Customers at the till. Creating one is a synchronous call to the server
//! (it copies the template customer and allocates the code), so it needs the
//! network; editing and abandoning work offline: the local `CLI` row changes
//! and an outbox item is queued in the same transaction.
//!
//! A creation that timed out may still have been completed by the server
//! after the till gave up: the customer then exists on the server only
//! (recorded as created by this till in `tillsync_customer_origin`) and
//! reaches the till with the next load. The till says so in its error.

use std::path::Path;

use tillsync_core::TillConfig;
use tillsync_core::customers::fields::{self, FieldUse};
use tillsync_db::StoreError;
use tillsync_till_db::TillDb;
use tillsync_till_db::customers::typed_fields;
use tillsync_wire::api::{CustomerCreate, CustomerEdit, CustomerRecord};

use crate::client::Client;
use crate::error::TillError;
use crate::files::DB_FILE;

/// `column=value` pairs given for `usage` as typed JSON fields of the
/// till's `CLI`.
fn fields_of(
    db: &TillDb,
    fields: &[(String, String)],
    usage: FieldUse,
) -> Result<serde_json::Map<String, serde_json::Value>, TillError> {
    let layout = db.customer_layout()?.ok_or_else(|| {
        StoreError::Invalid(
            "this till has no CLI table yet: load the data first (tillsync till sync)".into(),
        )
    })?;
    Ok(typed_fields("CLI", &layout, fields, usage)?)
}

/// Create a customer through the server and store the record it returns in
/// the till's `CLI`. Offline or timed out: an error saying that creating a
/// customer needs the server, and nothing stored at the till.
pub fn create(
    dir: &Path,
    name: &str,
    fields: &[(String, String)],
) -> Result<CustomerRecord, TillError> {
    let cfg = TillConfig::load(dir)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    let name = fields::customer_name(name).map_err(StoreError::Invalid)?;
    let req = CustomerCreate {
        name: name.to_string(),
        fields: fields_of(&db, fields, FieldUse::Create)?,
    };
    let result = Client::new(&cfg)?.create_customer(&req);
    let record = match result {
        Ok(r) => r,
        Err(e) => {
            let e = if e.is_unavailable() {
                let timed_out = e.to_string().contains("timeout");
                TillError::NeedsServer(format!(
                    "{e}; nothing was created at this till{}",
                    if timed_out {
                        " (had the server completed the creation after the timeout, the customer \
                         exists on the server only, recorded as created by this till)"
                    } else {
                        ""
                    }
                ))
            } else {
                e
            };
            let _ = db.journal("customer-create", "error", &e.to_string());
            return Err(e);
        }
    };
    db.store_customer(&record)?;
    Ok(record)
}

/// Edit a customer offline: the local row changes and a `customer-edit` item
/// is queued, in one transaction.
pub fn edit(
    dir: &Path,
    code: &str,
    fields: &[(String, String)],
) -> Result<CustomerEdit, TillError> {
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    let typed = fields_of(&db, fields, FieldUse::Edit)?;
    Ok(db.edit_customer(code, &typed)?)
}

/// Abandon a customer creation: the local row goes and a `customer-abandon`
/// item is queued, in one transaction.
pub fn abandon(dir: &Path, code: &str) -> Result<(), TillError> {
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    Ok(db.abandon_customer(code)?)
}

/// Parse `COLUMN=VALUE` (the value may be empty: NULL).
pub fn parse_field(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected COLUMN=VALUE, got {s:?}")),
    }
}
