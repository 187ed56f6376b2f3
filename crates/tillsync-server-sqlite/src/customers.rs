//! Customers and conflict policies on the SQLite server database outside a
//! batch: creating a customer for a till in its own transaction (the rule
//! of `tillsync_server_db::up::customers` over [`CustomerSql`]), who created
//! a customer, the conflict audit, the conflict policies and the layouts of
//! the up-direction tables (the PostgreSQL backend's `customers.rs` has the
//! same functions).

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tillsync_core::SyncTable;
use tillsync_core::customers::conflict::ConflictPolicy;
use tillsync_wire::api::{CustomerCreate, CustomerRecord};
use tillsync_wire::layout::Layout;

use crate::db::ServerDb;
use crate::up::customers::CustomerSql;
use tillsync_db::{StoreError, introspect};
use tillsync_server_db::customers::{ConflictRecord, CustomerOrigin};

impl ServerDb {
    /// Create a customer for till `till_id` of `store`
    /// (`tillsync_server_db::up::customers::create_customer`), in one
    /// transaction that holds the database's write lock from the start (so
    /// that two creations never get the same code). Returns the full record.
    pub fn create_customer(
        &mut self,
        till_id: &str,
        store: &str,
        template: &str,
        req: &CustomerCreate,
    ) -> Result<CustomerRecord, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let record = tillsync_server_db::up::customers::create_customer(
            &mut CustomerSql(&tx),
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
        &self,
    ) -> Result<Vec<(String, tillsync_core::Direction, ConflictPolicy)>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT tbl, direction, conflict_policy FROM tillsync_sync_tables ORDER BY tbl, direction",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (t, d, p) = row?;
            out.push((
                t,
                d.parse()
                    .map_err(|e| StoreError::Inconsistent(format!("{e}")))?,
                p.parse()?,
            ));
        }
        Ok(out)
    }

    /// Every table registered up with its layout on the server.
    pub fn up_table_layouts(&self) -> Result<Vec<(String, Layout)>, StoreError> {
        let mut out = Vec::new();
        for t in self.sync_tables()? {
            if t.direction == tillsync_core::Direction::Up {
                // A table dropped or changed since it was registered is left
                // out (its rows would be refused anyway), not an error for all.
                match introspect::layout(self.conn(), &t.table) {
                    Ok(layout) => out.push((t.table, layout)),
                    Err(StoreError::NoSuchTable(_) | StoreError::NoPrimaryKey(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    /// The conflict audit, oldest first.
    pub fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT id, tbl, key, till_id, server_value, till_value, winner, at
             FROM tillsync_conflicts ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, table, key, till_id, server, till, winner, at) = row?;
            let parse = |s: &str| {
                serde_json::from_str(s)
                    .map_err(|e| StoreError::Inconsistent(format!("conflict {id}: {e}")))
            };
            out.push(ConflictRecord {
                id,
                table,
                key,
                till_id,
                server_value: server.as_deref().map(parse).transpose()?,
                till_value: parse(&till)?,
                winner,
                at,
            });
        }
        Ok(out)
    }

    /// Who created customer `code` at a till, if a till did.
    pub fn customer_origin(&self, code: &str) -> Result<Option<CustomerOrigin>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT code, till_id, created_at, abandoned_at FROM tillsync_customer_origin
                 WHERE code = ?1",
                [code],
                |r| {
                    Ok(CustomerOrigin {
                        code: r.get(0)?,
                        till_id: r.get(1)?,
                        created_at: r.get(2)?,
                        abandoned_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Register a sync table, with the conflict policy of an up table, in
    /// one transaction. A policy is refused for a down table.
    pub fn add_sync_table_with_policy(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError> {
        if policy.is_some() && t.direction != tillsync_core::Direction::Up {
            return Err(StoreError::Invalid(format!(
                "a conflict policy applies to a table that travels up; {} is registered {}",
                t.table, t.direction
            )));
        }
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let layout = crate::sync_tables::add_sync_table_in(&tx, t)?;
        if let Some(p) = policy {
            tx.execute(
                "UPDATE tillsync_sync_tables SET conflict_policy = ?2
                 WHERE tbl = ?1 COLLATE NOCASE AND direction = 'up'",
                params![t.table, p.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(layout)
    }
}

#[cfg(test)]
mod tests;
