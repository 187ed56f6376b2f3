//! The SQL of the customer steps on PostgreSQL ([`CustomerSql`]): customers
//! created from tills (copied from the template customer, codes allocated
//! under a locked counter row), customer edits and abandons with their
//! conflict audit, rows of up-direction sync tables. The rules are
//! `tillsync_server_db::up::customers` (the SQLite backend's
//! `up/customers.rs` has the same steps in its SQL).
//!
//! Rows travel between PostgreSQL and JSON through `to_jsonb(row)` and
//! `jsonb_populate_record(NULL::table, json)`, so every column keeps its
//! own type. A row key is written like the change log's keys:
//! `json_build_array(k1, k2, k3, k4)::text` of the key values as text.

use postgres::{GenericClient, Transaction};
use serde_json::{Map, Value as Json};
use tillsync_core::customers::conflict::{ConflictPolicy, Exported, RowHistory, Winner};
use tillsync_wire::api::CustomerRecord;
use tillsync_wire::layout::Layout;

use crate::introspect;
use crate::up::is_data_error;
use tillsync_db::StoreError;
use tillsync_db::sql::{q, q_list};
use tillsync_server_db::up::customers::CustomerSteps;

/// The SQL steps of the customer rules
/// ([`tillsync_server_db::up::customers`]) on PostgreSQL inside the
/// caller's transaction.
pub struct CustomerSql<'a, 't>(pub &'a mut Transaction<'t>);

impl CustomerSteps for CustomerSql<'_, '_> {
    fn table_name(&mut self, table: &str) -> Result<Option<String>, StoreError> {
        introspect::table_name(self.0, table)
    }
    fn layout(&mut self, table: &str) -> Result<Layout, StoreError> {
        introspect::layout(self.0, table)
    }
    fn policy(&mut self, table: &str) -> Result<Option<ConflictPolicy>, StoreError> {
        Ok(self
            .0
            .query_opt(
                "SELECT conflict_policy FROM tillsync_sync_tables WHERE tbl = $1 AND direction = 'up'",
                &[&table],
            )?
            .map(|r| r.get::<_, &str>(0).parse())
            .transpose()?)
    }
    fn travels_down(&mut self, table: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM tillsync_sync_tables WHERE tbl = $1 AND direction = 'down')",
                &[&table],
            )?
            .get(0))
    }
    fn down_filter(&mut self, table: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .query_opt(
                "SELECT filter_column FROM tillsync_sync_tables WHERE tbl = $1 AND direction = 'down'",
                &[&table],
            )?
            .and_then(|r| r.get(0)))
    }
    fn read_row(
        &mut self,
        table: &str,
        _layout: &Layout,
        key_col: &str,
        code: &str,
        lock: bool,
    ) -> Result<Option<Map<String, Json>>, StoreError> {
        json_row(self.0, table, key_col, code, lock)
    }
    fn highest_code(
        &mut self,
        table: &str,
        key_col: &str,
        prefix: &str,
        width: usize,
    ) -> Result<i64, StoreError> {
        // The last number handed out for the prefix (`tillsync_customer_codes`):
        // its row is locked until the creating transaction ends, so two
        // server processes creating at once take turns.
        self.0.execute(
            "INSERT INTO tillsync_customer_codes(prefix, last_number) VALUES ($1, 0)
             ON CONFLICT (prefix) DO NOTHING",
            &[&prefix],
        )?;
        let last: i64 = self
            .0
            .query_one(
                "SELECT last_number FROM tillsync_customer_codes WHERE prefix = $1 FOR UPDATE",
                &[&prefix],
            )?
            .get(0);
        // The template code is validated as letters, digits, '_' and '-': none
        // is special in a regular expression outside brackets.
        let pattern = format!("^{prefix}[0-9]{{{width}}}$");
        let start = prefix.len() as i32 + 1;
        let max: Option<i64> = self
            .0
            .query_one(
                &format!(
                    "SELECT MAX(n) FROM (
                       SELECT substr({k}::text, $2)::bigint AS n FROM {t} WHERE {k}::text ~ $1
                       UNION ALL
                       SELECT substr(code, $2)::bigint FROM tillsync_customer_origin
                       WHERE code ~ $1) AS codes",
                    k = q(key_col),
                    t = q(table)
                ),
                &[&pattern, &start],
            )?
            .get(0);
        Ok(max.unwrap_or(0).max(last))
    }
    fn code_taken(&mut self, table: &str, key_col: &str, code: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .query_one(
                &format!(
                    "SELECT EXISTS(SELECT 1 FROM {} WHERE {}::text = $1)
                         OR EXISTS(SELECT 1 FROM tillsync_customer_origin WHERE code = $1)",
                    q(table),
                    q(key_col)
                ),
                &[&code],
            )?
            .get(0))
    }
    fn code_allocated(&mut self, prefix: &str, n: i64) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE tillsync_customer_codes SET last_number = $2 WHERE prefix = $1",
            &[&prefix, &n],
        )?;
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
        let Some(mut row) = json_row(self.0, table, key_col, template, false)? else {
            return Ok(None);
        };
        for (col, v) in set {
            row.insert(col.clone(), v.clone());
        }
        let cols = q_list(layout.columns.iter().map(|c| c.name.as_str()));
        let stored = self.0.query_one(
            &format!(
                "INSERT INTO {t} AS t ({cols}) SELECT {cols}
                 FROM jsonb_populate_record(NULL::{t}, $1::text::jsonb)
                 RETURNING to_jsonb(t)::text",
                t = q(table)
            ),
            &[&Json::Object(row).to_string()],
        )?;
        Ok(Some(
            serde_json::from_str(stored.get::<_, &str>(0))
                .map_err(|e| StoreError::Inconsistent(format!("row of {table}: {e}")))?,
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
            .map(|c| format!("{0} = r.{0}", q(c)))
            .collect::<Vec<_>>()
            .join(", ");
        self.0.execute(
            &format!(
                "UPDATE {t} AS t SET {assign}
                 FROM jsonb_populate_record(NULL::{t}, $2::text::jsonb) AS r
                 WHERE t.{k}::text = $1",
                t = q(table),
                k = q(key_col)
            ),
            &[&code, &Json::Object(set.clone()).to_string()],
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
                "UPDATE {t} SET {k} = {k} WHERE {k}::text = $1",
                t = q(table),
                k = q(key_col)
            ),
            &[&code],
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
            &format!("DELETE FROM {} WHERE {}::text = $1", q(table), q(key_col)),
            &[&code],
        )?;
        Ok(())
    }
    fn tickets_using(&mut self, code: &str) -> Result<Option<i64>, StoreError> {
        let Some(table) = introspect::table_name(self.0, "TICKET")? else {
            return Ok(None);
        };
        let column: Option<String> = self
            .0
            .query_opt(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::text::regclass
                   AND attnum > 0 AND NOT attisdropped AND lower(attname) = 'customer'
                 ORDER BY attname = 'customer' DESC LIMIT 1",
                &[&q(&table)],
            )?
            .map(|r| r.get(0));
        let Some(column) = column else {
            return Ok(None);
        };
        let n: i64 = self
            .0
            .query_one(
                &format!(
                    "SELECT COUNT(*) FROM {} WHERE {}::text = $1",
                    q(&table),
                    q(&column)
                ),
                &[&code],
            )?
            .get(0);
        Ok((n > 0).then_some(n))
    }
    fn creator(&mut self, code: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self
            .0
            .query_opt(
                "SELECT till_id, abandoned_at FROM tillsync_customer_origin WHERE code = $1 FOR UPDATE",
                &[&code],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }
    fn record_origin(&mut self, code: &str, till: &str, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO tillsync_customer_origin(code, till_id, created_at) VALUES ($1, $2, $3)",
            &[&code, &till, &at],
        )?;
        Ok(())
    }
    fn mark_abandoned(&mut self, code: &str, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE tillsync_customer_origin SET abandoned_at = $2 WHERE code = $1",
            &[&code, &at],
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
        let r = self.0.query_one(
            "SELECT MAX(seq), MAX(at) FROM tillsync_changes
             WHERE tbl = $1 AND json_build_array(k1, k2, k3, k4)::text = $2",
            &[&table, &kj],
        )?;
        let (pending_seq, pending_at) = (r.get(0), r.get(1));
        let exported = self
            .0
            .query_opt(
                "SELECT version, last_seq, changed_at FROM tillsync_row_versions
                 WHERE tbl = $1 AND key = $2",
                &[&table, &kj],
            )?
            .map(|r| Exported {
                version: r.get(0),
                last_seq: r.get(1),
                changed_at: r.get(2),
            });
        let own_seq = self
            .0
            .query_opt(
                "SELECT seq FROM tillsync_row_writes WHERE tbl = $1 AND key = $2 AND till_id = $3",
                &[&table, &kj, &till],
            )?
            .map(|r| r.get(0));
        Ok(RowHistory {
            pending_seq,
            pending_at,
            exported,
            own_seq,
        })
    }
    fn record_own_write(&mut self, table: &str, code: &str, till: &str) -> Result<(), StoreError> {
        let kj = key_json(self.0, code)?;
        let seq: Option<i64> = self
            .0
            .query_one(
                "SELECT MAX(seq) FROM tillsync_changes
                 WHERE tbl = $1 AND json_build_array(k1, k2, k3, k4)::text = $2",
                &[&table, &kj],
            )?
            .get(0);
        if let Some(seq) = seq {
            self.0.execute(
                "INSERT INTO tillsync_row_writes(tbl, key, till_id, seq) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tbl, key) DO UPDATE SET till_id = excluded.till_id, seq = excluded.seq",
                &[&table, &kj, &till, &seq],
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
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &table,
                &kj,
                &till,
                &server_value,
                &till_value,
                &winner.as_str(),
                &at,
            ],
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
        self.0.execute(
            &format!(
                "INSERT INTO {t} ({cols}) SELECT {cols}
                 FROM jsonb_populate_record(NULL::{t}, $1::text::jsonb)
                 ON CONFLICT ({}) {conflict}",
                q_list(layout.key.iter().map(String::as_str)),
                t = q(table)
            ),
            &[&Json::Object(row.clone()).to_string()],
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
            .map(|k| format!("t.{0} = r.{0}", q(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        self.0.execute(
            &format!(
                "DELETE FROM {t} AS t USING jsonb_populate_record(NULL::{t}, $1::text::jsonb) AS r
                 WHERE {where_key}",
                t = q(table)
            ),
            &[&Json::Object(key.clone()).to_string()],
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
             VALUES ($1, $2, $3, 'ok', $4)",
            &[&at, &kind, &till, &detail],
        )?;
        Ok(())
    }
    fn savepoint(&mut self) -> Result<(), StoreError> {
        Ok(self.0.batch_execute("SAVEPOINT tillsync_item")?)
    }
    fn release(&mut self) -> Result<(), StoreError> {
        Ok(self.0.batch_execute("RELEASE SAVEPOINT tillsync_item")?)
    }
    fn rollback_to(&mut self) -> Result<(), StoreError> {
        Ok(self.0.batch_execute(
            "ROLLBACK TO SAVEPOINT tillsync_item; RELEASE SAVEPOINT tillsync_item",
        )?)
    }
    fn data_error(&self, e: &StoreError) -> Option<String> {
        match e {
            StoreError::Postgres(e) if is_data_error(e) => Some(pg_message(e)),
            _ => None,
        }
    }
}

/// The row of `table` whose key column `key_col` is `code` (compared as
/// text), as a JSON object; with `lock`, locked until the transaction ends.
fn json_row(
    client: &mut impl GenericClient,
    table: &str,
    key_col: &str,
    code: &str,
    lock: bool,
) -> Result<Option<Map<String, Json>>, StoreError> {
    let sql = format!(
        "SELECT to_jsonb(t)::text FROM {} AS t WHERE t.{}::text = $1{}",
        q(table),
        q(key_col),
        if lock { " FOR UPDATE" } else { "" }
    );
    client
        .query_opt(&sql, &[&code])?
        .map(|r| {
            serde_json::from_str(r.get::<_, &str>(0))
                .map_err(|e| StoreError::Inconsistent(format!("row of {table}: {e}")))
        })
        .transpose()
}

/// The message of a PostgreSQL error (without the "db error" wrapping),
/// with its detail.
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({detail})", d.message()),
            None => d.message().to_string(),
        },
        None => e.to_string(),
    }
}

/// The key of customer `code`'s row as the change log spells it (up to 4
/// key values as text).
fn key_json(client: &mut impl GenericClient, code: &str) -> Result<String, StoreError> {
    let none: Option<&str> = None;
    Ok(client
        .query_one(
            "SELECT json_build_array($1::text, $2::text, $3::text, $4::text)::text",
            &[&Some(code), &none, &none, &none],
        )?
        .get(0))
}
