//! The SQL of the customer steps on SQLite ([`CustomerSql`]): customers
//! created from tills (copied from the template customer), customer edits
//! and abandons with their conflict audit, rows of up-direction sync
//! tables, and the per-row export versions that tell whether the server
//! changed a row since the version a till holds. The rules are
//! `tillsync_server_db::up::customers` (the PostgreSQL backend's
//! `up/customers.rs` has the same steps in its SQL).
//!
//! Whether "the server changed a row since version V": the export records,
//! for every key of a table that travels up, the version at which it was
//! last exported (`tillsync_row_versions`, filled from the change log before
//! it is trimmed, `record_row_versions`); changes not yet exported are
//! still in `tillsync_changes`. The changes a till itself made through the
//! web service are remembered in `tillsync_row_writes`, so that a till's
//! second edit of a customer does not conflict with its first.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value as Json};
use tillsync_core::customers::conflict::{ConflictPolicy, Exported, RowHistory, Winner};
use tillsync_wire::api::CustomerRecord;
use tillsync_wire::layout::Layout;

use tillsync_db::sql::{json_to_sql, q, q_list, sql_to_json};
use tillsync_db::{StoreError, introspect};
use tillsync_server_db::up::customers::CustomerSteps;

/// The SQL steps of the customer rules
/// ([`tillsync_server_db::up::customers`]) on a SQLite connection inside
/// the caller's transaction.
pub struct CustomerSql<'c>(pub &'c Connection);

impl CustomerSteps for CustomerSql<'_> {
    fn table_name(&mut self, table: &str) -> Result<Option<String>, StoreError> {
        introspect::table_name(self.0, table)
    }
    fn layout(&mut self, table: &str) -> Result<Layout, StoreError> {
        introspect::layout(self.0, table)
    }
    fn policy(&mut self, table: &str) -> Result<Option<ConflictPolicy>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT conflict_policy FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = 'up'",
                [table],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|p| p.parse())
            .transpose()?)
    }
    fn travels_down(&mut self, table: &str) -> Result<bool, StoreError> {
        Ok(self.0.query_row(
            "SELECT EXISTS(SELECT 1 FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = 'down')",
            [table],
            |r| r.get(0),
        )?)
    }
    fn down_filter(&mut self, table: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT filter_column FROM tillsync_sync_tables WHERE tbl = ?1 AND direction = 'down'",
                [table],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }
    fn read_row(
        &mut self,
        table: &str,
        layout: &Layout,
        key_col: &str,
        code: &str,
        _lock: bool,
    ) -> Result<Option<Map<String, Json>>, StoreError> {
        // The write transaction already keeps other writers out.
        Ok(sql_row(self.0, table, layout, key_col, code)?
            .map(|row| row.into_iter().map(|(c, v)| (c, sql_to_json(v))).collect()))
    }
    fn highest_code(
        &mut self,
        table: &str,
        key_col: &str,
        prefix: &str,
        width: usize,
    ) -> Result<i64, StoreError> {
        // The template code is validated as letters, digits, '_' and '-': no
        // GLOB special character can appear in the prefix.
        let pattern = format!("{prefix}{}", "[0-9]".repeat(width));
        let start = prefix.len() as i64 + 1;
        let max: Option<i64> = self.0.query_row(
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
        Ok(max.unwrap_or(0))
    }
    fn code_taken(&mut self, table: &str, key_col: &str, code: &str) -> Result<bool, StoreError> {
        let taken: bool = self.0.query_row(
            &format!(
                "SELECT EXISTS(SELECT 1 FROM {} WHERE {} = ?1)",
                q(table),
                q(key_col)
            ),
            [code],
            |r| r.get(0),
        )?;
        let was_created: bool = self.0.query_row(
            "SELECT EXISTS(SELECT 1 FROM tillsync_customer_origin WHERE code = ?1)",
            [code],
            |r| r.get(0),
        )?;
        Ok(taken || was_created)
    }
    fn code_allocated(&mut self, _prefix: &str, _n: i64) -> Result<(), StoreError> {
        // Nothing to keep: the creating transaction holds the write lock.
        Ok(())
    }
    fn insert_customer(
        &mut self,
        table: &str,
        layout: &Layout,
        key_col: &str,
        template: &str,
        set: &[(String, Json)],
    ) -> Result<Option<CustomerRecord>, StoreError> {
        let Some(mut row) = sql_row(self.0, table, layout, key_col, template)? else {
            return Ok(None);
        };
        for (col, v) in set {
            let v = sql_value(v)?;
            if let Some(slot) = row.iter_mut().find(|(c, _)| c == col) {
                slot.1 = v;
            }
        }
        let cols = q_list(row.iter().map(|(c, _)| c.as_str()));
        let placeholders = vec!["?"; row.len()].join(", ");
        self.0.execute(
            &format!("INSERT INTO {} ({cols}) VALUES ({placeholders})", q(table)),
            rusqlite::params_from_iter(row.iter().map(|(_, v)| v)),
        )?;
        Ok(Some(
            row.into_iter().map(|(c, v)| (c, sql_to_json(v))).collect(),
        ))
    }
    fn update_customer(
        &mut self,
        table: &str,
        key_col: &str,
        code: &str,
        set: &Map<String, Json>,
    ) -> Result<(), StoreError> {
        let assign = set
            .keys()
            .enumerate()
            .map(|(i, c)| format!("{} = ?{}", q(c), i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let mut values = vec![Value::Text(code.to_string())];
        for v in set.values() {
            values.push(sql_value(v)?);
        }
        self.0.execute(
            &format!("UPDATE {} SET {assign} WHERE {} = ?1", q(table), q(key_col)),
            rusqlite::params_from_iter(values),
        )?;
        Ok(())
    }
    fn resend_customer(
        &mut self,
        table: &str,
        key_col: &str,
        code: &str,
    ) -> Result<(), StoreError> {
        self.0.execute(
            &format!(
                "UPDATE {t} SET {k} = {k} WHERE {k} = ?1",
                t = q(table),
                k = q(key_col)
            ),
            [code],
        )?;
        Ok(())
    }
    fn delete_customer(
        &mut self,
        table: &str,
        key_col: &str,
        code: &str,
    ) -> Result<(), StoreError> {
        self.0.execute(
            &format!("DELETE FROM {} WHERE {} = ?1", q(table), q(key_col)),
            [code],
        )?;
        Ok(())
    }
    fn tickets_using(&mut self, code: &str) -> Result<Option<i64>, StoreError> {
        let Some(table) = introspect::table_name(self.0, "TICKET")? else {
            return Ok(None);
        };
        let has_customer: bool = self.0.query_row(
            "SELECT EXISTS(SELECT 1 FROM pragma_table_info(?1) WHERE name = 'customer' COLLATE NOCASE)",
            [&table],
            |r| r.get(0),
        )?;
        if !has_customer {
            return Ok(None);
        }
        let n: i64 = self.0.query_row(
            &format!("SELECT COUNT(*) FROM {} WHERE \"customer\" = ?1", q(&table)),
            [code],
            |r| r.get(0),
        )?;
        Ok((n > 0).then_some(n))
    }
    fn creator(&mut self, code: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self
            .0
            .query_row(
                "SELECT till_id, abandoned_at FROM tillsync_customer_origin WHERE code = ?1",
                [code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
    fn record_origin(&mut self, code: &str, till: &str, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO tillsync_customer_origin(code, till_id, created_at) VALUES (?1, ?2, ?3)",
            params![code, till, at],
        )?;
        Ok(())
    }
    fn mark_abandoned(&mut self, code: &str, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE tillsync_customer_origin SET abandoned_at = ?2 WHERE code = ?1",
            params![code, at],
        )?;
        Ok(())
    }
    fn row_history(
        &mut self,
        table: &str,
        code: &str,
        till: &str,
    ) -> Result<RowHistory, StoreError> {
        let kj = key_json(self.0, code)?;
        let (pending_seq, pending_at) = self.0.query_row(
            "SELECT MAX(seq), MAX(at) FROM tillsync_changes
             WHERE tbl = ?1 AND json_array(k1, k2, k3, k4) = ?2",
            params![table, kj],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let exported = self
            .0
            .query_row(
                "SELECT version, last_seq, changed_at FROM tillsync_row_versions
                 WHERE tbl = ?1 AND key = ?2",
                params![table, kj],
                |r| {
                    Ok(Exported {
                        version: r.get(0)?,
                        last_seq: r.get(1)?,
                        changed_at: r.get(2)?,
                    })
                },
            )
            .optional()?;
        let own_seq = self
            .0
            .query_row(
                "SELECT seq FROM tillsync_row_writes WHERE tbl = ?1 AND key = ?2 AND till_id = ?3",
                params![table, kj, till],
                |r| r.get(0),
            )
            .optional()?;
        Ok(RowHistory {
            pending_seq,
            pending_at,
            exported,
            own_seq,
        })
    }
    fn record_own_write(&mut self, table: &str, code: &str, till: &str) -> Result<(), StoreError> {
        let kj = key_json(self.0, code)?;
        let seq: Option<i64> = self.0.query_row(
            "SELECT MAX(seq) FROM tillsync_changes
             WHERE tbl = ?1 AND json_array(k1, k2, k3, k4) = ?2",
            params![table, kj],
            |r| r.get(0),
        )?;
        if let Some(seq) = seq {
            self.0.execute(
                "INSERT OR REPLACE INTO tillsync_row_writes(tbl, key, till_id, seq) VALUES (?1, ?2, ?3, ?4)",
                params![table, kj, till, seq],
            )?;
        }
        Ok(())
    }
    fn insert_conflict(
        &mut self,
        table: &str,
        code: &str,
        till: &str,
        server_value: &str,
        till_value: &str,
        winner: Winner,
        at: &str,
    ) -> Result<(), StoreError> {
        let kj = key_json(self.0, code)?;
        self.0.execute(
            "INSERT INTO tillsync_conflicts(tbl, key, till_id, server_value, till_value, winner, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![table, kj, till, server_value, till_value, winner.as_str(), at],
        )?;
        Ok(())
    }
    fn upsert_row(
        &mut self,
        table: &str,
        layout: &Layout,
        row: &Map<String, Json>,
    ) -> Result<(), StoreError> {
        let cols = q_list(row.keys().map(String::as_str));
        let placeholders = (1..=row.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sets: Vec<String> = row
            .keys()
            .filter(|c| !layout.key.contains(c))
            .map(|c| format!("{0} = excluded.{0}", q(c)))
            .collect();
        let conflict = if sets.is_empty() {
            "DO NOTHING".to_string()
        } else {
            format!("DO UPDATE SET {}", sets.join(", "))
        };
        let values = row.values().map(sql_value).collect::<Result<Vec<_>, _>>()?;
        self.0.execute(
            &format!(
                "INSERT INTO {} ({cols}) VALUES ({placeholders}) ON CONFLICT ({}) {conflict}",
                q(table),
                q_list(layout.key.iter().map(String::as_str))
            ),
            rusqlite::params_from_iter(values),
        )?;
        Ok(())
    }
    fn delete_row(
        &mut self,
        table: &str,
        layout: &Layout,
        key: &Map<String, Json>,
    ) -> Result<(), StoreError> {
        let where_key = layout
            .key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", q(k), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let values = layout
            .key
            .iter()
            .map(|k| sql_value(key.get(k).unwrap_or(&Json::Null)))
            .collect::<Result<Vec<_>, _>>()?;
        self.0.execute(
            &format!("DELETE FROM {} WHERE {where_key}", q(table)),
            rusqlite::params_from_iter(values),
        )?;
        Ok(())
    }
    fn journal(
        &mut self,
        at: &str,
        kind: &str,
        till: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES (?1, ?2, ?3, 'ok', ?4)",
            params![at, kind, till, detail],
        )?;
        Ok(())
    }
    fn savepoint(&mut self) -> Result<(), StoreError> {
        Ok(self.0.execute_batch("SAVEPOINT tillsync_item")?)
    }
    fn release(&mut self) -> Result<(), StoreError> {
        Ok(self.0.execute_batch("RELEASE tillsync_item")?)
    }
    fn rollback_to(&mut self) -> Result<(), StoreError> {
        Ok(self
            .0
            .execute_batch("ROLLBACK TO tillsync_item; RELEASE tillsync_item")?)
    }
    fn data_error(&self, e: &StoreError) -> Option<String> {
        match e {
            StoreError::Sqlite(e) if is_data_error(e) => Some(e.to_string()),
            _ => None,
        }
    }
}

/// The row of `table` whose key column `key_col` is `code`, as (column, value).
fn sql_row(
    conn: &Connection,
    table: &str,
    layout: &Layout,
    key_col: &str,
    code: &str,
) -> Result<Option<Vec<(String, Value)>>, StoreError> {
    let cols = q_list(layout.columns.iter().map(|c| c.name.as_str()));
    let sql = format!("SELECT {cols} FROM {} WHERE {} = ?1", q(table), q(key_col));
    Ok(conn
        .query_row(&sql, [code], |r| {
            let mut out = Vec::with_capacity(layout.columns.len());
            for (i, c) in layout.columns.iter().enumerate() {
                out.push((c.name.clone(), r.get::<_, Value>(i)?));
            }
            Ok(out)
        })
        .optional()?)
}

/// A checked field value (`tillsync_core::customers::fields::field_value`)
/// as a SQL value.
fn sql_value(v: &Json) -> Result<Value, StoreError> {
    json_to_sql(v).map_err(StoreError::Invalid)
}

/// Errors caused by the data itself (constraints, types), not by the database.
fn is_data_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation | rusqlite::ErrorCode::TypeMismatch)
    )
}

/// The key of customer `code`'s row as the change log spells it:
/// `json_array(k1, k2, k3, k4)`.
fn key_json(conn: &Connection, code: &str) -> Result<String, StoreError> {
    let mut k = vec![Value::Text(code.to_string())];
    while k.len() < tillsync_server_db::export::MAX_KEY {
        k.push(Value::Null);
    }
    Ok(conn.query_row(
        "SELECT json_array(?1, ?2, ?3, ?4)",
        rusqlite::params_from_iter(k),
        |r| r.get(0),
    )?)
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
    if CustomerSql(conn).policy(table)?.is_none() {
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
