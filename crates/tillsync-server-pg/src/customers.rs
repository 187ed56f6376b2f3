//! Customers and conflict policies on the PostgreSQL server database
//! outside a batch: creating a customer for a till in its own transaction
//! (the rule of `tillsync_server_db::up::customers` over [`CustomerSql`]),
//! who created a customer, the conflict audit, the conflict policies and
//! the layouts of the up-direction tables (the SQLite backend's
//! `customers.rs` has the same functions).

use postgres::GenericClient;
use tillsync_core::Direction;
use tillsync_core::customers::conflict::ConflictPolicy;
use tillsync_wire::api::{CustomerCreate, CustomerRecord};
use tillsync_wire::layout::Layout;

use crate::introspect;
use crate::up::customers::CustomerSql;
use tillsync_db::StoreError;
use tillsync_server_db::customers::{ConflictRecord, CustomerOrigin};

/// Create a customer for till `till_id` of `store`
/// (`tillsync_server_db::up::customers::create_customer`), in its own
/// transaction (a savepoint when `client` is a transaction: the caller
/// commits). Codes are unique across server processes: the code prefix's
/// counter row stays locked until the transaction ends. Returns the full
/// record.
pub fn create_customer(
    client: &mut impl GenericClient,
    till_id: &str,
    store: &str,
    template: &str,
    req: &CustomerCreate,
) -> Result<CustomerRecord, StoreError> {
    let mut tx = client.transaction()?;
    let record = tillsync_server_db::up::customers::create_customer(
        &mut CustomerSql(&mut tx),
        till_id,
        store,
        template,
        req,
    )?;
    tx.commit()?;
    Ok(record)
}

/// The conflict policy of every sync table: `(table, direction, policy)`.
pub fn conflict_policies(
    client: &mut impl GenericClient,
) -> Result<Vec<(String, Direction, ConflictPolicy)>, StoreError> {
    let mut out = Vec::new();
    for r in client.query(
        r#"SELECT tbl, direction, conflict_policy FROM tillsync_sync_tables
           ORDER BY tbl COLLATE "C", direction COLLATE "C""#,
        &[],
    )? {
        let (t, d, p): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        out.push((
            t,
            d.parse()
                .map_err(|e| StoreError::Inconsistent(format!("{e}")))?,
            p.parse()?,
        ));
    }
    Ok(out)
}

/// Every table registered up with its layout on the server (a table
/// dropped or without a key since it was registered is left out: its rows
/// would be refused anyway).
pub fn up_table_layouts(
    client: &mut impl GenericClient,
) -> Result<Vec<(String, Layout)>, StoreError> {
    let tables: Vec<String> = client
        .query(
            r#"SELECT tbl FROM tillsync_sync_tables WHERE direction = 'up' ORDER BY tbl COLLATE "C""#,
            &[],
        )?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::new();
    for t in tables {
        match introspect::layout(client, &t) {
            Ok(l) => out.push((t, l)),
            Err(StoreError::NoSuchTable(_) | StoreError::NoPrimaryKey(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The conflict audit, oldest first.
pub fn conflicts(client: &mut impl GenericClient) -> Result<Vec<ConflictRecord>, StoreError> {
    let mut out = Vec::new();
    for r in client.query(
        "SELECT id, tbl, key, till_id, server_value, till_value, winner, at
         FROM tillsync_conflicts ORDER BY id",
        &[],
    )? {
        let id: i64 = r.get(0);
        let parse = |s: &str| {
            serde_json::from_str(s)
                .map_err(|e| StoreError::Inconsistent(format!("conflict {id}: {e}")))
        };
        out.push(ConflictRecord {
            id,
            table: r.get(1),
            key: r.get(2),
            till_id: r.get(3),
            server_value: r.get::<_, Option<&str>>(4).map(parse).transpose()?,
            till_value: parse(r.get(5))?,
            winner: r.get(6),
            at: r.get(7),
        });
    }
    Ok(out)
}

/// Who created customer `code` at a till, if a till did.
pub fn customer_origin(
    client: &mut impl GenericClient,
    code: &str,
) -> Result<Option<CustomerOrigin>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT code, till_id, created_at, abandoned_at FROM tillsync_customer_origin
             WHERE code = $1",
            &[&code],
        )?
        .map(|r| CustomerOrigin {
            code: r.get(0),
            till_id: r.get(1),
            created_at: r.get(2),
            abandoned_at: r.get(3),
        }))
}

#[cfg(test)]
mod tests;
