//! Server side of customers and up-direction tables: customers created from
//! tills (copied from the template customer), customer edits and abandons
//! received from tills with the per-table conflict policy and its audit, rows
//! of up-direction sync tables, and the per-row export versions that tell
//! whether the server changed a row since the version a till holds.
//!
//! Whether "the server changed a row since version V": the export records,
//! for every key of a table that travels up, the version at which it was
//! last exported (`tillsync_row_versions`, filled from the change log before
//! it is trimmed); changes not yet exported are still in `tillsync_changes`.
//! The changes a till itself made through the web service are remembered in
//! `tillsync_row_writes`, so that a till's second edit of a customer does not
//! conflict with its first.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tillsync_core::SyncTable;
use tillsync_wire::api::{
    CustomerAbandon, CustomerCreate, CustomerEdit, CustomerRecord, RowChange,
};
use tillsync_wire::layout::Layout;

use crate::db::ServerDb;
use tillsync_db::StoreError;
use tillsync_db::introspect;
use tillsync_db::sql::json_to_sql;
use tillsync_db::sql::q;
use tillsync_db::sql::q_list;
use tillsync_db::sql::sql_to_json;
use tillsync_db::tables::CUSTOMER_TABLE;
use tillsync_db::tables::NAME_COLUMN;
use tillsync_server_db::customers::ConflictPolicy;
use tillsync_server_db::customers::ConflictRecord;
use tillsync_server_db::customers::CustomerOrigin;
use tillsync_server_db::customers::UpOutcome;

impl ServerDb {
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

    /// Create a customer for till `till_id` of `store`, in one transaction
    /// that holds the database's write lock from the start (so that two
    /// creations never get the same code): copy the template customer's row,
    /// override the name and the given fields, set the store filter column
    /// (when `CLI` travels down filtered by store and the till did not give
    /// it) to the till's store, allocate the next code after the template's
    /// prefix (`CLI000000` → `CLI000201`), record who created it and journal
    /// it. Returns the full record.
    pub fn create_customer(
        &mut self,
        till_id: &str,
        store: &str,
        template: &str,
        req: &CustomerCreate,
    ) -> Result<CustomerRecord, StoreError> {
        let bad = |m: String| StoreError::BadCustomer(m);
        let name = req.name.trim();
        if name.is_empty() {
            return Err(bad("the customer's name must not be empty".into()));
        }
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (table, layout, key_col) = customer_layout(&tx)?;
        let name_col = find_column(&layout, NAME_COLUMN).ok_or_else(|| {
            StoreError::Inconsistent(format!("table {table} has no column {NAME_COLUMN}"))
        })?;
        let mut row = read_row(
            &tx,
            &table,
            &layout,
            &key_col,
            &Value::Text(template.into()),
        )?
        .ok_or_else(|| StoreError::NoTemplateCustomer(template.to_string()))?;
        let set = |row: &mut Vec<(String, Value)>, col: &str, v: Value| {
            if let Some(slot) = row.iter_mut().find(|(c, _)| c == col) {
                slot.1 = v;
            }
        };
        set(&mut row, &name_col, Value::Text(name.to_string()));
        let mut given = Vec::new();
        for (k, v) in &req.fields {
            let col = find_column(&layout, k).ok_or_else(|| {
                bad(format!(
                    "table {table} has no column {k:?}; columns are: {}",
                    layout
                        .columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            if col == key_col {
                return Err(bad(format!(
                    "the customer code ({key_col}) is allocated by the server and cannot be given"
                )));
            }
            if col == name_col {
                return Err(bad(format!(
                    "give the name once, as the name, not as the field {k:?}"
                )));
            }
            let value = json_to_sql(v).map_err(|e| bad(format!("field {k}: {e}")))?;
            given.push(col.clone());
            set(&mut row, &col, value);
        }
        if let Some(filter) = down_filter(&tx, &table)?
            && !given.iter().any(|g| g.eq_ignore_ascii_case(&filter))
            && let Some(col) = find_column(&layout, &filter)
        {
            set(&mut row, &col, Value::Text(store.to_string()));
        }
        let code = allocate_code(&tx, &table, &key_col, template)?;
        set(&mut row, &key_col, Value::Text(code.clone()));

        let cols = q_list(row.iter().map(|(c, _)| c.as_str()));
        let placeholders = vec!["?"; row.len()].join(", ");
        tx.execute(
            &format!("INSERT INTO {} ({cols}) VALUES ({placeholders})", q(&table)),
            rusqlite::params_from_iter(row.iter().map(|(_, v)| v)),
        )
        .map_err(|e| constraint_or(e, |m| bad(format!("the customer cannot be stored: {m}"))))?;
        let now = tillsync_db::now_rfc3339();
        tx.execute(
            "INSERT INTO tillsync_customer_origin(code, till_id, created_at) VALUES (?1, ?2, ?3)",
            params![code, till_id, now],
        )?;
        record_own_write(&tx, &table, &Value::Text(code.clone()), till_id)?;
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES (?1, 'customer-create', ?2, 'ok', ?3)",
            params![
                now,
                till_id,
                format!("customer {code} created from template {template}")
            ],
        )?;
        tx.commit()?;
        Ok(row.into_iter().map(|(c, v)| (c, sql_to_json(v))).collect())
    }
}

/// `CLI`'s real name, layout and (single) key column.
fn customer_layout(conn: &Connection) -> Result<(String, Layout, String), StoreError> {
    let table = introspect::table_name(conn, CUSTOMER_TABLE)?
        .ok_or_else(|| StoreError::NoSuchTable(CUSTOMER_TABLE.into()))?;
    let layout = introspect::layout(conn, &table)?;
    if layout.key.len() != 1 {
        return Err(StoreError::Inconsistent(format!(
            "table {table} must have a one-column primary key (the customer code)"
        )));
    }
    let key = layout.key[0].clone();
    Ok((table, layout, key))
}

/// The real name of column `name` of `layout` (case-insensitive).
fn find_column(layout: &Layout, name: &str) -> Option<String> {
    layout
        .columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.name.clone())
}

/// The row of `table` whose key column `key_col` is `key`, as (column, value).
fn read_row(
    conn: &Connection,
    table: &str,
    layout: &Layout,
    key_col: &str,
    key: &Value,
) -> Result<Option<Vec<(String, Value)>>, StoreError> {
    let cols = q_list(layout.columns.iter().map(|c| c.name.as_str()));
    let sql = format!("SELECT {cols} FROM {} WHERE {} = ?1", q(table), q(key_col));
    Ok(conn
        .query_row(&sql, [key], |r| {
            let mut out = Vec::with_capacity(layout.columns.len());
            for (i, c) in layout.columns.iter().enumerate() {
                out.push((c.name.clone(), r.get::<_, Value>(i)?));
            }
            Ok(out)
        })
        .optional()?)
}

/// The filter column of `table` as a down sync table, if it has one.
fn down_filter(conn: &Connection, table: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT filter_column FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = 'down'",
            [table],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

/// The next free code after the template's prefix: `CLI000000` gives the
/// prefix `CLI` and 6 digits; the next code is one above the highest code of
/// that shape in `CLI` or ever created at a till (abandoned codes are not
/// reused). Runs inside the creating transaction.
fn allocate_code(
    conn: &Connection,
    table: &str,
    key_col: &str,
    template: &str,
) -> Result<String, StoreError> {
    let prefix = template.trim_end_matches(|c: char| c.is_ascii_digit());
    let width = match template.len() - prefix.len() {
        0 => 6,
        n => n,
    };
    // The template code is validated as letters, digits, '_' and '-': no GLOB
    // special character can appear in the prefix.
    let pattern = format!("{prefix}{}", "[0-9]".repeat(width));
    let start = prefix.len() as i64 + 1;
    let max: Option<i64> = conn.query_row(
        &format!(
            "SELECT MAX(n) FROM (
               SELECT CAST(substr({k}, ?2) AS INTEGER) AS n FROM {t} WHERE {k} GLOB ?1
               UNION ALL
               SELECT CAST(substr(code, ?2) AS INTEGER) FROM tillsync_customer_origin
               WHERE code GLOB ?1)",
            k = q(key_col),
            t = q(table)
        ),
        params![pattern, start],
        |r| r.get(0),
    )?;
    let mut n = max.unwrap_or(0) + 1;
    let exists = format!(
        "SELECT EXISTS(SELECT 1 FROM {} WHERE {} = ?1)",
        q(table),
        q(key_col)
    );
    loop {
        let code = format!("{prefix}{n:0width$}");
        let taken: bool = conn.query_row(&exists, [&code], |r| r.get(0))?;
        let was_created: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM tillsync_customer_origin WHERE code = ?1)",
            [&code],
            |r| r.get(0),
        )?;
        if !taken && !was_created {
            return Ok(code);
        }
        n += 1;
    }
}

/// A constraint violation as a plain-words refusal; other errors as they are.
fn constraint_or(e: rusqlite::Error, refuse: impl FnOnce(String) -> StoreError) -> StoreError {
    if is_data_error(&e) {
        refuse(e.to_string())
    } else {
        StoreError::Sqlite(e)
    }
}

/// Errors caused by the data itself (constraints, types), not by the database.
fn is_data_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation | rusqlite::ErrorCode::TypeMismatch)
    )
}

/// The key of a row as the change log spells it: `json_array(k1, k2, k3, k4)`.
fn key_json(conn: &Connection, key: &[Value]) -> Result<String, StoreError> {
    let mut k: Vec<&Value> = key.iter().collect();
    while k.len() < tillsync_server_db::export::MAX_KEY {
        k.push(&Value::Null);
    }
    Ok(conn.query_row(
        "SELECT json_array(?1, ?2, ?3, ?4)",
        rusqlite::params_from_iter(k),
        |r| r.get(0),
    )?)
}

/// Remember that till `till_id` made the newest logged change of this row.
fn record_own_write(
    conn: &Connection,
    table: &str,
    key: &Value,
    till_id: &str,
) -> Result<(), StoreError> {
    let kj = key_json(conn, std::slice::from_ref(key))?;
    let seq: Option<i64> = conn.query_row(
        "SELECT MAX(seq) FROM tillsync_changes
         WHERE tbl = ?1 AND json_array(k1, k2, k3, k4) = ?2",
        params![table, kj],
        |r| r.get(0),
    )?;
    if let Some(seq) = seq {
        conn.execute(
            "INSERT OR REPLACE INTO tillsync_row_writes(tbl, key, till_id, seq) VALUES (?1, ?2, ?3, ?4)",
            params![table, kj, till_id, seq],
        )?;
    }
    Ok(())
}

/// Before the export trims the change log of `table` up to `last_seq`:
/// remember, per key, that it was last exported at `version` (only for tables
/// that also travel up: the conflict check needs it).
pub(crate) fn record_row_versions(
    conn: &Connection,
    table: &str,
    version: u64,
    last_seq: i64,
) -> Result<(), StoreError> {
    if up_policy(conn, table)?.is_none() {
        return Ok(());
    }
    conn.execute(
        "INSERT OR REPLACE INTO tillsync_row_versions(tbl, key, version, last_seq, changed_at)
         SELECT ?1, json_array(k1, k2, k3, k4), ?2, MAX(seq), MAX(at) FROM tillsync_changes
         WHERE tbl = ?1 AND seq <= ?3
         GROUP BY json_array(k1, k2, k3, k4)",
        params![table, version as i64, last_seq],
    )?;
    Ok(())
}

/// The newest change of a row made by someone else than `till_id` after the
/// till's version `base`: its time (Unix seconds), or `None` when the server
/// did not change the row since (or the till itself made the newest change).
fn server_change_since(
    conn: &Connection,
    table: &str,
    key: &Value,
    base: Option<u64>,
    till_id: &str,
) -> Result<Option<i64>, StoreError> {
    let kj = key_json(conn, std::slice::from_ref(key))?;
    let (pending_seq, pending_at): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT MAX(seq), MAX(at) FROM tillsync_changes
         WHERE tbl = ?1 AND json_array(k1, k2, k3, k4) = ?2",
        params![table, kj],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let exported: Option<(i64, i64, i64)> = conn
        .query_row(
            "SELECT version, last_seq, changed_at FROM tillsync_row_versions
             WHERE tbl = ?1 AND key = ?2",
            params![table, kj],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let newest = pending_seq.or(exported.map(|e| e.1));
    let Some(newest) = newest else {
        return Ok(None);
    };
    let own: Option<i64> = conn
        .query_row(
            "SELECT seq FROM tillsync_row_writes WHERE tbl = ?1 AND key = ?2 AND till_id = ?3",
            params![table, kj, till_id],
            |r| r.get(0),
        )
        .optional()?;
    if own == Some(newest) {
        // Anything before the till's own write was settled when it was applied.
        return Ok(None);
    }
    if pending_seq.is_some() {
        // Not exported yet: no till holds it.
        return Ok(pending_at);
    }
    Ok(exported
        .filter(|(v, _, _)| *v as u64 > base.unwrap_or(0))
        .map(|(_, _, at)| at))
}

/// Run `f` in a savepoint: a refusal (`Ok(Err)`) or an error rolls back
/// what `f` wrote, and a data error (constraint, type) becomes a refusal.
fn in_savepoint(
    conn: &Connection,
    f: impl FnOnce() -> Result<UpOutcome, StoreError>,
) -> Result<UpOutcome, StoreError> {
    conn.execute_batch("SAVEPOINT tillsync_item")?;
    let result = f();
    let keep = matches!(result, Ok(UpOutcome::Applied(_)));
    if keep {
        conn.execute_batch("RELEASE tillsync_item")?;
    } else {
        conn.execute_batch("ROLLBACK TO tillsync_item; RELEASE tillsync_item")?;
    }
    match result {
        Err(StoreError::Sqlite(e)) if is_data_error(&e) => Ok(UpOutcome::Rejected(format!(
            "the database refused the change: {e}"
        ))),
        other => other,
    }
}

/// The conflict policy of `table` as an up sync table, or `None` if it is
/// not registered up.
fn up_policy(conn: &Connection, table: &str) -> Result<Option<ConflictPolicy>, StoreError> {
    conn.query_row(
        "SELECT conflict_policy FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = 'up'",
        [table],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(|p| p.parse())
    .transpose()
}

fn row_json(row: Vec<(String, Value)>) -> serde_json::Value {
    serde_json::Value::Object(row.into_iter().map(|(c, v)| (c, sql_to_json(v))).collect())
}

/// Apply a `customer-edit` item of till `till_id` inside the caller's
/// transaction: the changed fields go to `CLI`, unless the server changed the
/// customer since the till's version and the table's policy keeps the
/// server's row; either way the losing version goes to `tillsync_conflicts`.
pub fn apply_customer_edit(
    conn: &Connection,
    till_id: &str,
    edit: &CustomerEdit,
) -> Result<UpOutcome, StoreError> {
    let reject = |m: String| Ok(UpOutcome::Rejected(m));
    let (table, layout, key_col) = match customer_layout(conn) {
        Ok(t) => t,
        Err(StoreError::NoSuchTable(t)) => {
            return reject(format!("the server has no customers table {t}"));
        }
        Err(e) => return Err(e),
    };
    let Some(policy) = up_policy(conn, &table)? else {
        return reject(format!(
            "table {table} is not registered as an up sync table, so customer edits are not accepted \
             (tillsync server tables add --table {table} --type incremental --direction up)"
        ));
    };
    if edit.fields.is_empty() {
        return reject("the edit changes no field".into());
    }
    let mut sets = Vec::new();
    for (k, v) in &edit.fields {
        let Some(col) = find_column(&layout, k) else {
            return reject(format!("table {table} has no column {k:?}"));
        };
        if col == key_col {
            return reject(format!(
                "the customer code ({key_col}) cannot be changed by an edit"
            ));
        }
        match json_to_sql(v) {
            Ok(value) => sets.push((col, value)),
            Err(e) => return reject(format!("field {k}: {e}")),
        }
    }
    let key = Value::Text(edit.code.clone());
    let Some(current) = read_row(conn, &table, &layout, &key_col, &key)? else {
        return reject(format!(
            "customer {} does not exist on the server (deleted there?)",
            edit.code
        ));
    };
    let changed_at = server_change_since(conn, &table, &key, edit.base_version, till_id)?;
    let till_wins = match (changed_at, policy) {
        (None, _) => None,
        (Some(_), ConflictPolicy::ServerWins) => Some(false),
        (Some(_), ConflictPolicy::TillWins) => Some(true),
        (Some(server_at), ConflictPolicy::NewestWins) => {
            let till_at = chrono::DateTime::parse_from_rfc3339(&edit.edited_at)
                .map(|t| t.timestamp())
                .unwrap_or(i64::MIN);
            Some(till_at > server_at)
        }
    };
    in_savepoint(conn, || {
        let note = if let Some(till_won) = till_wins {
            let kj = key_json(conn, std::slice::from_ref(&key))?;
            conn.execute(
                "INSERT INTO tillsync_conflicts(tbl, key, till_id, server_value, till_value, winner, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    table,
                    kj,
                    till_id,
                    row_json(current).to_string(),
                    serde_json::Value::Object(edit.fields.clone()).to_string(),
                    if till_won { "till" } else { "server" },
                    tillsync_db::now_rfc3339()
                ],
            )?;
            Some(format!(
                "conflict: the server changed customer {} since the till's version; {policy} kept the {} version",
                edit.code,
                if till_won { "till's" } else { "server's" }
            ))
        } else {
            None
        };
        if till_wins != Some(false) {
            let assign = sets
                .iter()
                .enumerate()
                .map(|(i, (c, _))| format!("{} = ?{}", q(c), i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let mut values: Vec<&Value> = vec![&key];
            values.extend(sets.iter().map(|(_, v)| v));
            conn.execute(
                &format!(
                    "UPDATE {} SET {assign} WHERE {} = ?1",
                    q(&table),
                    q(&key_col)
                ),
                rusqlite::params_from_iter(values),
            )?;
            record_own_write(conn, &table, &key, till_id)?;
        }
        Ok(UpOutcome::Applied(note))
    })
}

/// Apply a `customer-abandon` item of till `till_id` inside the caller's
/// transaction: delete the customer if this till created it and no ticket
/// uses it; otherwise refuse, saying why (and send the customer down again:
/// the till removed its copy when it queued the abandon).
pub fn apply_customer_abandon(
    conn: &Connection,
    till_id: &str,
    abandon: &CustomerAbandon,
) -> Result<UpOutcome, StoreError> {
    let code = &abandon.code;
    // The till already removed its copy: a refused abandon re-sends the
    // customer down (a no-op update that change capture logs), so the till
    // gets it back with its next load.
    let reject = |m: String| -> Result<UpOutcome, StoreError> {
        if let Ok((table, _, key_col)) = customer_layout(conn) {
            conn.execute(
                &format!(
                    "UPDATE {t} SET {k} = {k} WHERE {k} = ?1",
                    t = q(&table),
                    k = q(&key_col)
                ),
                [code],
            )?;
        }
        Ok(UpOutcome::Rejected(m))
    };
    let origin: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT till_id, abandoned_at FROM tillsync_customer_origin WHERE code = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match origin {
        None => {
            return reject(format!(
                "customer {code} was not created at a till; only a creation made at a till can be abandoned"
            ));
        }
        Some((creator, _)) if creator != till_id => {
            return reject(format!(
                "customer {code} was created by till {creator}, not by this till; only its creator can abandon it"
            ));
        }
        Some((_, Some(_))) => return Ok(UpOutcome::Applied(Some("already abandoned".into()))),
        Some(_) => {}
    }
    if let Some(n) = tickets_using(conn, code)? {
        return reject(format!(
            "customer {code} is used by {n} ticket(s) on the server; a customer that a ticket uses is kept"
        ));
    }
    let (table, _, key_col) = customer_layout(conn)?;
    in_savepoint(conn, || {
        conn.execute(
            &format!("DELETE FROM {} WHERE {} = ?1", q(&table), q(&key_col)),
            [code],
        )?;
        let now = tillsync_db::now_rfc3339();
        conn.execute(
            "UPDATE tillsync_customer_origin SET abandoned_at = ?2 WHERE code = ?1",
            params![code, now],
        )?;
        conn.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES (?1, 'customer-abandon', ?2, 'ok', ?3)",
            params![
                now,
                till_id,
                format!("customer {code} deleted (creation abandoned at the till)")
            ],
        )?;
        Ok(UpOutcome::Applied(None))
    })
}

/// How many rows of `TICKET` name the customer, if that table (with a
/// `customer` column) exists; `None` when none does.
fn tickets_using(conn: &Connection, code: &str) -> Result<Option<i64>, StoreError> {
    let Some(table) = introspect::table_name(conn, "TICKET")? else {
        return Ok(None);
    };
    let has_customer: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info(?1) WHERE name = 'customer' COLLATE NOCASE)",
        [&table],
        |r| r.get(0),
    )?;
    if !has_customer {
        return Ok(None);
    }
    let n: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM {} WHERE \"customer\" = ?1", q(&table)),
        [code],
        |r| r.get(0),
    )?;
    Ok((n > 0).then_some(n))
}

/// Apply a `row` item of till `till_id` inside the caller's transaction: an
/// upsert or delete into a table registered up only. Columns are checked
/// against the server table; a `till_id` column must name the sending till
/// (an upsert without it gets it).
pub fn apply_row_change(
    conn: &Connection,
    till_id: &str,
    change: &RowChange,
) -> Result<UpOutcome, StoreError> {
    let reject = |m: String| Ok(UpOutcome::Rejected(m));
    if change.op != "upsert" && change.op != "delete" {
        return reject(format!(
            "unknown row operation {:?}: expected upsert or delete",
            change.op
        ));
    }
    if let Err(e) = tillsync_core::ident::validate(&change.table) {
        return reject(format!("invalid table name: {e}"));
    }
    let Some(table) = introspect::table_name(conn, &change.table)? else {
        return reject(format!(
            "table {} does not exist on the server",
            change.table
        ));
    };
    if up_policy(conn, &table)?.is_none() {
        return reject(format!(
            "table {table} is not registered as an up sync table"
        ));
    }
    let also_down: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = 'down')",
        [&table],
        |r| r.get(0),
    )?;
    if also_down {
        return reject(format!(
            "table {table} also travels down; row changes are accepted only for tables that travel up only"
        ));
    }
    let layout = introspect::layout(conn, &table)?;
    let mut row: Vec<(String, Value)> = Vec::new();
    for (k, v) in &change.row {
        let Some(col) = find_column(&layout, k) else {
            return reject(format!("table {table} has no column {k:?}"));
        };
        match json_to_sql(v) {
            Ok(value) => row.push((col, value)),
            Err(e) => return reject(format!("column {k}: {e}")),
        }
    }
    if let Some(tc) = find_column(&layout, "till_id") {
        match row.iter().find(|(c, _)| *c == tc) {
            Some((_, Value::Text(t))) if t == till_id => {}
            Some((_, v)) => {
                return reject(format!(
                    "the row names till {}; a till may only send its own rows",
                    sql_to_json(v.clone())
                ));
            }
            None if change.op == "upsert" => row.push((tc, Value::Text(till_id.into()))),
            None => {}
        }
    }
    for k in &layout.key {
        if !row.iter().any(|(c, _)| c == k) {
            return reject(format!("the row lacks key column {k} of table {table}"));
        }
    }
    if change.op == "delete" {
        // A deletion names its row by the key alone.
        row.retain(|(c, _)| layout.key.contains(c));
    }
    let where_key = layout
        .key
        .iter()
        .map(|k| {
            let i = row.iter().position(|(c, _)| c == k).expect("checked") + 1;
            format!("{} = ?{i}", q(k))
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    let sql = match change.op.as_str() {
        "upsert" => {
            let cols = q_list(row.iter().map(|(c, _)| c.as_str()));
            let placeholders = (1..=row.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sets: Vec<String> = row
                .iter()
                .filter(|(c, _)| !layout.key.contains(c))
                .map(|(c, _)| format!("{0} = excluded.{0}", q(c)))
                .collect();
            let conflict = if sets.is_empty() {
                "DO NOTHING".to_string()
            } else {
                format!("DO UPDATE SET {}", sets.join(", "))
            };
            format!(
                "INSERT INTO {} ({cols}) VALUES ({placeholders}) ON CONFLICT ({}) {conflict}",
                q(&table),
                q_list(layout.key.iter().map(String::as_str))
            )
        }
        _ => format!("DELETE FROM {} WHERE {where_key}", q(&table)),
    };
    in_savepoint(conn, || {
        conn.execute(&sql, rusqlite::params_from_iter(row.iter().map(|(_, v)| v)))?;
        Ok(UpOutcome::Applied(None))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillsync_core::{Direction, SyncType};

    fn db() -> (tempfile::TempDir, ServerDb) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = ServerDb::open(&dir.path().join("server.db")).unwrap();
        tillsync_db::demo::create_demo_tables(db.conn(), 10, 1).unwrap();
        for (t, d, f) in [
            ("CLI", Direction::Down, Some("store".to_string())),
            ("CLI", Direction::Up, None),
        ] {
            db.add_sync_table(&SyncTable {
                table: t.into(),
                sync_type: SyncType::Incremental,
                direction: d,
                filter: f,
            })
            .unwrap();
        }
        (dir, db)
    }

    fn create(db: &mut ServerDb, till: &str, name: &str) -> CustomerRecord {
        db.create_customer(
            till,
            "S01",
            "CLI000000",
            &CustomerCreate {
                name: name.into(),
                fields: serde_json::from_value(serde_json::json!({"city": "Lyon"})).unwrap(),
            },
        )
        .unwrap()
    }

    #[test]
    fn create_copies_template_and_allocates_codes() {
        let (_d, mut db) = db();
        let a = create(&mut db, "T001", "Alice");
        let b = create(&mut db, "T002", "Bob");
        assert_eq!(a["code"], "CLI000200");
        assert_eq!(b["code"], "CLI000201");
        assert_eq!(a["name"], "Alice");
        assert_eq!(a["city"], "Lyon");
        assert_eq!(a["store"], "S01");
        assert_eq!(a["loyalty_points"], 0);
        assert_eq!(
            db.customer_origin("CLI000201").unwrap().unwrap().till_id,
            "T002"
        );
        // Codes of abandoned creations are not reused.
        let tx = db.conn_mut().transaction().unwrap();
        let r = apply_customer_abandon(
            &tx,
            "T002",
            &CustomerAbandon {
                code: "CLI000201".into(),
            },
        )
        .unwrap();
        assert_eq!(r, UpOutcome::Applied(None));
        tx.commit().unwrap();
        assert_eq!(create(&mut db, "T001", "Carol")["code"], "CLI000202");

        for (fields, needle) in [
            (serde_json::json!({"colour": "red"}), "no column \"colour\""),
            (serde_json::json!({"code": "X"}), "allocated by the server"),
            (serde_json::json!({"city": [1]}), "field city"),
        ] {
            let e = db
                .create_customer(
                    "T001",
                    "S01",
                    "CLI000000",
                    &CustomerCreate {
                        name: "Dan".into(),
                        fields: serde_json::from_value(fields).unwrap(),
                    },
                )
                .unwrap_err();
            assert!(matches!(e, StoreError::BadCustomer(_)), "{e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
        let e = db
            .create_customer(
                "T001",
                "S01",
                "NOPE01",
                &CustomerCreate {
                    name: "Dan".into(),
                    fields: Default::default(),
                },
            )
            .unwrap_err();
        assert!(matches!(e, StoreError::NoTemplateCustomer(_)), "{e}");
    }

    #[test]
    fn policy_is_stored_and_parsed() {
        let (_d, mut db) = db();
        db.conn()
            .execute_batch("CREATE TABLE P(k TEXT PRIMARY KEY, v TEXT)")
            .unwrap();
        let t = SyncTable {
            table: "P".into(),
            sync_type: SyncType::Incremental,
            direction: Direction::Up,
            filter: None,
        };
        db.add_sync_table_with_policy(&t, Some(ConflictPolicy::NewestWins))
            .unwrap();
        let p = db.conflict_policies().unwrap();
        assert!(p.contains(&("P".into(), Direction::Up, ConflictPolicy::NewestWins)));
        assert!(p.contains(&("CLI".into(), Direction::Down, ConflictPolicy::ServerWins)));
        let down = SyncTable {
            direction: Direction::Down,
            ..t
        };
        assert!(
            db.add_sync_table_with_policy(&down, Some(ConflictPolicy::TillWins))
                .is_err()
        );
        assert_eq!(
            "Till-Wins".parse::<ConflictPolicy>().unwrap(),
            ConflictPolicy::TillWins
        );
        assert!("x".parse::<ConflictPolicy>().is_err());
    }

    #[test]
    fn own_writes_do_not_conflict_other_writers_do() {
        let (_d, mut db) = db();
        let edit = |db: &mut ServerDb, till: &str, city: &str| {
            let tx = db.conn_mut().transaction().unwrap();
            let r = apply_customer_edit(
                &tx,
                till,
                &CustomerEdit {
                    code: "CLI000001".into(),
                    fields: serde_json::from_value(serde_json::json!({ "city": city })).unwrap(),
                    base_version: Some(1),
                    edited_at: tillsync_db::now_rfc3339(),
                },
            )
            .unwrap();
            tx.commit().unwrap();
            r
        };
        assert_eq!(edit(&mut db, "T001", "A"), UpOutcome::Applied(None));
        assert_eq!(edit(&mut db, "T001", "B"), UpOutcome::Applied(None));
        // Another till's change since its version: server-wins keeps B.
        let r = edit(&mut db, "T002", "C");
        assert!(
            matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("server's")),
            "{r:?}"
        );
        let city: String = db
            .conn()
            .query_row("SELECT city FROM CLI WHERE code = 'CLI000001'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(city, "B");
        let c = db.conflicts().unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].winner, "server");
        assert_eq!(c[0].server_value.as_ref().unwrap()["city"], "B");
        assert_eq!(c[0].till_value["city"], "C");
        // Once exported at version 2, a till holding version 2 edits freely.
        let tx = db.conn_mut().transaction().unwrap();
        let seq: i64 = tx
            .query_row("SELECT MAX(seq) FROM tillsync_changes", [], |r| r.get(0))
            .unwrap();
        record_row_versions(&tx, "CLI", 2, seq).unwrap();
        tx.execute("DELETE FROM tillsync_changes", []).unwrap();
        let r = apply_customer_edit(
            &tx,
            "T002",
            &CustomerEdit {
                code: "CLI000001".into(),
                fields: serde_json::from_value(serde_json::json!({ "city": "D" })).unwrap(),
                base_version: Some(2),
                edited_at: tillsync_db::now_rfc3339(),
            },
        )
        .unwrap();
        assert_eq!(r, UpOutcome::Applied(None));
        tx.commit().unwrap();
    }

    #[test]
    fn rows_of_up_tables() {
        let (_d, mut db) = db();
        db.conn()
            .execute_batch(
                "CREATE TABLE TILL_PARAM(till_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                   PRIMARY KEY (till_id, key))",
            )
            .unwrap();
        db.add_sync_table(&SyncTable {
            table: "TILL_PARAM".into(),
            sync_type: SyncType::Incremental,
            direction: Direction::Up,
            filter: None,
        })
        .unwrap();
        let tx = db.conn_mut().transaction().unwrap();
        let row = |op: &str, v: serde_json::Value| RowChange {
            table: "TILL_PARAM".into(),
            op: op.into(),
            row: serde_json::from_value(v).unwrap(),
        };
        let ok = |r: UpOutcome| assert_eq!(r, UpOutcome::Applied(None));
        let rejected = |r: UpOutcome, needle: &str| match r {
            UpOutcome::Rejected(m) => assert!(m.contains(needle), "{m}"),
            other => panic!("{other:?}"),
        };
        ok(apply_row_change(
            &tx,
            "T001",
            &row("upsert", serde_json::json!({"key": "a", "value": "1"})),
        )
        .unwrap());
        ok(apply_row_change(
            &tx,
            "T001",
            &row(
                "upsert",
                serde_json::json!({"till_id": "T001", "key": "a", "value": "2"}),
            ),
        )
        .unwrap());
        ok(apply_row_change(
            &tx,
            "T001",
            &row(
                "upsert",
                serde_json::json!({"till_id": "T001", "key": "b", "value": "3"}),
            ),
        )
        .unwrap());
        ok(apply_row_change(
            &tx,
            "T001",
            &row("delete", serde_json::json!({"till_id": "T001", "key": "b"})),
        )
        .unwrap());
        rejected(
            apply_row_change(
                &tx,
                "T001",
                &row(
                    "upsert",
                    serde_json::json!({"till_id": "T002", "key": "a", "value": "x"}),
                ),
            )
            .unwrap(),
            "own rows",
        );
        rejected(
            apply_row_change(
                &tx,
                "T001",
                &row("upsert", serde_json::json!({"key": "a", "nope": "x"})),
            )
            .unwrap(),
            "no column \"nope\"",
        );
        rejected(
            apply_row_change(&tx, "T001", &row("upsert", serde_json::json!({"key": "c"}))).unwrap(),
            "refused",
        );
        rejected(
            apply_row_change(&tx, "T001", &row("merge", serde_json::json!({"key": "a"}))).unwrap(),
            "unknown row operation",
        );
        let mut other = row("upsert", serde_json::json!({"code": "X"}));
        other.table = "ART".into();
        rejected(
            apply_row_change(&tx, "T001", &other).unwrap(),
            "not registered",
        );
        other.table = "CLI".into();
        rejected(
            apply_row_change(&tx, "T001", &other).unwrap(),
            "also travels down",
        );
        let rows: Vec<(String, String, String)> = tx
            .prepare("SELECT till_id, key, value FROM TILL_PARAM ORDER BY key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [("T001".into(), "a".into(), "2".into())]);
    }
}
