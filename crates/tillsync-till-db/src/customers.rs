//! Till side of customers and up-direction sync tables: the local copy of a
//! customer created by the server, offline edits and abandons of customers
//! (the change and its outbox item in one transaction), and the triggers that
//! queue every change of an up-direction table as a `row` item.
//!
//! Applying a down package sets the one-row flag `tillsync_applying` inside
//! its transaction; the row triggers do nothing while it is set, so rows that
//! came from the server are never sent back up.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use tillsync_wire::api::{CustomerAbandon, CustomerEdit, CustomerRecord, OutboxKind};
use tillsync_wire::layout::Layout;

use crate::db::TillDb;
use tillsync_core::customers::fields::{self, FieldUse};
use tillsync_db::sql::json_to_sql;
use tillsync_db::sql::{check_ident, lit, q, q_list};
use tillsync_db::tables::CUSTOMER_TABLE;
use tillsync_db::{StoreError, introspect};

/// An up-direction table whose changes the till captures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpTableState {
    /// Table.
    pub table: String,
    /// When its triggers were (re)installed.
    pub installed_at: String,
}

fn trigger_names(table: &str) -> [String; 3] {
    [
        format!("tillsync_up_{table}_ins"),
        format!("tillsync_up_{table}_upd"),
        format!("tillsync_up_{table}_del"),
    ]
}

/// A random idempotency suffix (128 bits, hex).
fn unique_suffix(conn: &Connection) -> Result<String, StoreError> {
    Ok(conn.query_row("SELECT lower(hex(randomblob(16)))", [], |r| r.get(0))?)
}

/// Turn `column=value` texts into typed JSON values following the local
/// layout of `table`, given for `usage`: each field checked by
/// [`fields::check_field`] (unknown columns and the key column are refused)
/// and typed by [`fields::typed_value`] (a column declared with INT holds
/// whole numbers, one with REAL/FLOA/DOUB decimals, others text; an empty
/// value is NULL).
pub fn typed_fields(
    table: &str,
    layout: &Layout,
    fields: &[(String, String)],
    usage: FieldUse,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    let mut out = serde_json::Map::new();
    for (k, v) in fields {
        let col = fields::check_field(table, layout, k, usage).map_err(StoreError::Invalid)?;
        let value = fields::typed_value(col, v).map_err(StoreError::Invalid)?;
        out.insert(col.name.clone(), value);
    }
    Ok(out)
}

impl TillDb {
    /// The layout of the till's `CLI`, or `None` before it was loaded.
    pub fn customer_layout(&self) -> Result<Option<Layout>, StoreError> {
        match introspect::table_name(self.conn(), CUSTOMER_TABLE)? {
            Some(t) => Ok(Some(introspect::layout(self.conn(), &t)?)),
            None => Ok(None),
        }
    }

    /// Store a customer record the server returned (creation) in the till's
    /// `CLI`: the columns the till's copy has; it arrives again with the next
    /// package, unchanged.
    pub fn store_customer(&mut self, record: &CustomerRecord) -> Result<(), StoreError> {
        let layout = self.customer_layout()?.ok_or_else(no_cli)?;
        let mut row: Vec<(String, Value)> = Vec::new();
        for c in &layout.columns {
            if let Some(v) = record.get(&c.name) {
                let value = json_to_sql(v).map_err(|e| {
                    StoreError::Inconsistent(format!("customer record, column {}: {e}", c.name))
                })?;
                row.push((c.name.clone(), value));
            }
        }
        if !layout.key.iter().all(|k| row.iter().any(|(c, _)| c == k)) {
            return Err(StoreError::Inconsistent(
                "the server's customer record lacks its code".into(),
            ));
        }
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let placeholders = vec!["?"; row.len()].join(", ");
        tx.execute(
            &format!(
                "INSERT OR REPLACE INTO {} ({}) VALUES ({placeholders})",
                q(CUSTOMER_TABLE),
                q_list(row.iter().map(|(c, _)| c.as_str()))
            ),
            rusqlite::params_from_iter(row.iter().map(|(_, v)| v)),
        )?;
        let code = row
            .iter()
            .find(|(c, _)| *c == layout.key[0])
            .map(|(_, v)| tillsync_db::sql::sql_to_json(v.clone()).to_string())
            .unwrap_or_default();
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, result, detail)
             VALUES (?1, 'customer-create', 'ok', ?2)",
            params![
                tillsync_db::now_rfc3339(),
                format!("customer {code} created by the server, stored locally")
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Edit a customer offline: change the local `CLI` row and queue a
    /// `customer-edit` item (with the till's `CLI` version, for conflicts) in
    /// one transaction. `fields` are typed with [`typed_fields`] and checked
    /// by [`fields::edit_fields`].
    pub fn edit_customer(
        &mut self,
        code: &str,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<CustomerEdit, StoreError> {
        if fields.is_empty() {
            return Err(StoreError::Invalid(
                "give at least one field to change (--field COLUMN=VALUE)".into(),
            ));
        }
        let layout = self.customer_layout()?.ok_or_else(no_cli)?;
        let key = layout.key.first().cloned().ok_or_else(no_cli)?;
        let mut sets = Vec::new();
        for (col, v) in
            fields::edit_fields(CUSTOMER_TABLE, &layout, fields).map_err(StoreError::Invalid)?
        {
            let value = json_to_sql(&v).map_err(StoreError::Invalid)?;
            sets.push((col, value));
        }
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let assign = sets
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{} = ?{}", q(c), i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let code_value = Value::Text(code.to_string());
        let mut values: Vec<&Value> = vec![&code_value];
        values.extend(sets.iter().map(|(_, v)| v));
        let n = tx
            .execute(
                &format!(
                    "UPDATE {} SET {assign} WHERE {} = ?1",
                    q(CUSTOMER_TABLE),
                    q(&key)
                ),
                rusqlite::params_from_iter(values),
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    StoreError::Invalid(format!("the change is refused: {e}"))
                }
                _ => StoreError::Sqlite(e),
            })?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "customer {code} is not in this till's {CUSTOMER_TABLE}"
            )));
        }
        let base_version: Option<i64> = tx
            .query_row(
                "SELECT version FROM tillsync_table_version WHERE tbl = ?1",
                [CUSTOMER_TABLE],
                |r| r.get(0),
            )
            .optional()?;
        let edit = CustomerEdit {
            code: code.to_string(),
            fields: sets
                .iter()
                .map(|(c, v)| (c.clone(), tillsync_db::sql::sql_to_json(v.clone())))
                .collect(),
            base_version: base_version.map(|v| v as u64),
            edited_at: tillsync_db::now_rfc3339(),
        };
        let item_key = format!("customer-edit:{code}:{}", unique_suffix(&tx)?);
        TillDb::enqueue(&tx, &item_key, OutboxKind::CustomerEdit, &edit)?;
        tx.commit()?;
        Ok(edit)
    }

    /// Abandon a customer creation: remove the local row and queue a
    /// `customer-abandon` item in one transaction. The server deletes the
    /// customer only if this till created it and no ticket uses it.
    pub fn abandon_customer(&mut self, code: &str) -> Result<(), StoreError> {
        let layout = self.customer_layout()?.ok_or_else(no_cli)?;
        let key = layout.key.first().cloned().ok_or_else(no_cli)?;
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            &format!("DELETE FROM {} WHERE {} = ?1", q(CUSTOMER_TABLE), q(&key)),
            [code],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "customer {code} is not in this till's {CUSTOMER_TABLE}"
            )));
        }
        let item_key = format!("customer-abandon:{code}:{}", unique_suffix(&tx)?);
        TillDb::enqueue(
            &tx,
            &item_key,
            OutboxKind::CustomerAbandon,
            &CustomerAbandon {
                code: code.to_string(),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Make the till's up-direction tables those of `up` (table, layout from
    /// the server), in one transaction: a missing table is created with the
    /// server's layout, and its row triggers are (re)installed for the
    /// columns the till's copy has; a table no longer listed loses its
    /// triggers (its rows stay). Returns the tables now captured.
    pub fn sync_up_tables(
        &mut self,
        up: &[(String, Layout)],
    ) -> Result<Vec<UpTableState>, StoreError> {
        for (t, l) in up {
            check_ident(t)?;
            for c in &l.columns {
                check_ident(&c.name)?;
                crate::db::check_decl_type(&c.decl_type).map_err(StoreError::Invalid)?;
            }
        }
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Vec<String> = {
            let mut stmt = tx.prepare("SELECT tbl FROM tillsync_up_tables")?;
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()?
        };
        for old in &known {
            if !up.iter().any(|(t, _)| t == old) {
                drop_row_triggers(&tx, old)?;
                tx.execute("DELETE FROM tillsync_up_tables WHERE tbl = ?1", [old])?;
            }
        }
        let now = tillsync_db::now_rfc3339();
        for (table, layout) in up {
            let name = match introspect::table_name(&tx, table)? {
                Some(n) => n,
                None => {
                    tx.execute_batch(&crate::db::create_table_sql(&q(table), layout))?;
                    table.clone()
                }
            };
            let local = introspect::layout(&tx, &name)?;
            install_row_triggers(&tx, &name, &local)?;
            tx.execute(
                "INSERT OR REPLACE INTO tillsync_up_tables(tbl, layout, installed_at)
                 VALUES (?1, ?2, ?3)",
                params![
                    name,
                    serde_json::to_string(&local).expect("layout serializes"),
                    now
                ],
            )?;
        }
        tx.commit()?;
        self.up_tables()
    }

    /// The up-direction tables whose changes the till captures.
    pub fn up_tables(&self) -> Result<Vec<UpTableState>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT tbl, installed_at FROM tillsync_up_tables ORDER BY tbl")?;
        let rows = stmt.query_map([], |r| {
            Ok(UpTableState {
                table: r.get(0)?,
                installed_at: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn no_cli() -> StoreError {
    StoreError::Invalid(format!(
        "this till has no {CUSTOMER_TABLE} table yet: load the data first (tillsync till sync)"
    ))
}

fn drop_row_triggers(conn: &Connection, table: &str) -> Result<(), StoreError> {
    for t in trigger_names(table) {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS {}", q(&t)))?;
    }
    Ok(())
}

/// (Re)install the three triggers that queue every change of `table` as a
/// `row` item ([`tillsync_wire::api::RowChange`] built with `json_object`),
/// except while a down package is being applied.
fn install_row_triggers(conn: &Connection, table: &str, layout: &Layout) -> Result<(), StoreError> {
    drop_row_triggers(conn, table)?;
    let obj = |prefix: &str, cols: &mut dyn Iterator<Item = &String>| {
        cols.map(|c| format!("{}, {prefix}.{}", lit(c), q(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let all_new = obj("NEW", &mut layout.columns.iter().map(|c| &c.name));
    let key_old = obj("OLD", &mut layout.key.iter());
    let key_changed = layout
        .key
        .iter()
        .map(|k| format!("OLD.{c} IS NOT NEW.{c}", c = q(k)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let tl = lit(table);
    let enqueue = |op: &str, row: &str, cond: &str| {
        format!(
            "INSERT INTO tillsync_outbox(key, kind, payload, created_at)
             SELECT {prefix} || lower(hex(randomblob(16))), 'row',
                    json_object('table', {tl}, 'op', '{op}', 'row', json_object({row})),
                    strftime('%Y-%m-%dT%H:%M:%SZ', 'now'){cond};",
            prefix = lit(&format!("row:{table}:")),
        )
    };
    let guard = "WHEN NOT EXISTS (SELECT 1 FROM tillsync_applying)";
    let [ins, upd, del] = trigger_names(table);
    let t = q(table);
    conn.execute_batch(&format!(
        "CREATE TRIGGER {ins} AFTER INSERT ON {t} {guard} BEGIN {i} END;
         CREATE TRIGGER {upd} AFTER UPDATE ON {t} {guard} BEGIN {d} {u} END;
         CREATE TRIGGER {del} AFTER DELETE ON {t} {guard} BEGIN {x} END;",
        ins = q(&ins),
        upd = q(&upd),
        del = q(&del),
        i = enqueue("upsert", &all_new, ""),
        d = enqueue("delete", &key_old, &format!(" WHERE {key_changed}")),
        u = enqueue("upsert", &all_new, ""),
        x = enqueue("delete", &key_old, ""),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillsync_wire::layout::Column;

    fn col(name: &str, t: &str) -> Column {
        Column {
            name: name.into(),
            decl_type: t.into(),
            not_null: false,
        }
    }

    fn param_layout() -> Layout {
        Layout {
            columns: vec![
                col("till_id", "TEXT"),
                col("key", "TEXT"),
                col("value", "TEXT"),
            ],
            key: vec!["till_id".into(), "key".into()],
        }
    }

    fn outbox(db: &TillDb) -> Vec<(String, String, serde_json::Value)> {
        let mut stmt = db
            .conn()
            .prepare("SELECT key, kind, payload FROM tillsync_outbox ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                serde_json::from_str(&r.get::<_, String>(2)?).unwrap(),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    #[test]
    fn up_table_triggers_queue_rows_but_not_while_applying() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = TillDb::open(&dir.path().join("till.db")).unwrap();
        let up = [("TILL_PARAM".to_string(), param_layout())];
        db.sync_up_tables(&up).unwrap();
        // Installing again is harmless.
        assert_eq!(db.sync_up_tables(&up).unwrap().len(), 1);
        db.conn()
            .execute_batch(
                "INSERT INTO TILL_PARAM VALUES ('T001', 'printer', 'EPSON');
                 UPDATE TILL_PARAM SET value = 'STAR' WHERE key = 'printer';
                 UPDATE TILL_PARAM SET key = 'printer2' WHERE key = 'printer';
                 DELETE FROM TILL_PARAM;
                 INSERT INTO tillsync_applying VALUES (1);
                 INSERT INTO TILL_PARAM VALUES ('T001', 'from-server', 'x');
                 DELETE FROM tillsync_applying;",
            )
            .unwrap();
        let items = outbox(&db);
        let ops: Vec<(String, serde_json::Value)> = items
            .iter()
            .map(|(k, kind, p)| {
                assert!(k.starts_with("row:TILL_PARAM:"), "{k}");
                assert_eq!(kind, "row");
                assert_eq!(p["table"], "TILL_PARAM");
                (p["op"].as_str().unwrap().to_string(), p["row"].clone())
            })
            .collect();
        assert_eq!(
            ops,
            [
                (
                    "upsert".into(),
                    serde_json::json!({"till_id": "T001", "key": "printer", "value": "EPSON"})
                ),
                (
                    "upsert".into(),
                    serde_json::json!({"till_id": "T001", "key": "printer", "value": "STAR"})
                ),
                (
                    "delete".into(),
                    serde_json::json!({"till_id": "T001", "key": "printer"})
                ),
                (
                    "upsert".into(),
                    serde_json::json!({"till_id": "T001", "key": "printer2", "value": "STAR"})
                ),
                (
                    "delete".into(),
                    serde_json::json!({"till_id": "T001", "key": "printer2"})
                ),
            ]
        );
        // The payload is a RowChange.
        let _: tillsync_wire::api::RowChange = serde_json::from_value(items[0].2.clone()).unwrap();
        // No longer up: triggers go, rows stay.
        db.sync_up_tables(&[]).unwrap();
        db.conn()
            .execute("INSERT INTO TILL_PARAM VALUES ('T001', 'a', 'b')", [])
            .unwrap();
        assert_eq!(outbox(&db).len(), 5);
        assert!(db.up_tables().unwrap().is_empty());
    }

    /// Rows applied from a down package are not queued up, even for a
    /// table whose changes the till captures (the flag set by `apply`).
    #[test]
    fn applying_a_package_does_not_echo_rows_up() {
        use tillsync_wire::package::{Package, PackageKind, PackageMeta, PackageWriter};
        use tillsync_wire::value::ValueRef;
        let dir = tempfile::tempdir().unwrap();
        let key = tillsync_core::keys::generate_signing_key(&dir.path().join("k")).unwrap();
        let mut db = TillDb::open(&dir.path().join("till.db")).unwrap();
        let package = |kind, from, to, rows: &[(&str, &str)]| {
            let mut w = PackageWriter::new(param_layout());
            for (k, v) in rows {
                w.upsert(&[ValueRef::Text("T001"), ValueRef::Text(k), ValueRef::Text(v)])
                    .unwrap();
            }
            let meta = PackageMeta {
                folder: "DEMO".into(),
                table: "TILL_PARAM".into(),
                subset: None,
                kind,
                from_version: from,
                to_version: to,
                created_at: "2026-11-28T12:00:00Z".into(),
            };
            w.finish(meta, &key).unwrap()
        };
        let expect = crate::db::Expect {
            folder: "DEMO",
            store: "S01",
            force_full: false,
        };
        let full = package(PackageKind::Full, 0, 1, &[("a", "1")]);
        let pkg = Package::verify(&full, &key.verifying_key()).unwrap();
        db.apply("f", &pkg, &expect).unwrap();
        db.sync_up_tables(&[("TILL_PARAM".to_string(), param_layout())])
            .unwrap();
        let inc = package(PackageKind::Incremental, 1, 2, &[("a", "2"), ("b", "3")]);
        let pkg = Package::verify(&inc, &key.verifying_key()).unwrap();
        db.apply("i", &pkg, &expect).unwrap();
        assert!(outbox(&db).is_empty());
        db.conn()
            .execute("UPDATE TILL_PARAM SET value = '9' WHERE key = 'a'", [])
            .unwrap();
        assert_eq!(outbox(&db).len(), 1);
    }

    #[test]
    fn customer_edit_and_abandon_queue_items_with_the_change() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = TillDb::open(&dir.path().join("till.db")).unwrap();
        let e = db.edit_customer("C1", &serde_json::Map::new()).unwrap_err();
        assert!(e.to_string().contains("at least one field"), "{e}");
        let mut f = serde_json::Map::new();
        f.insert("city".into(), "Lyon".into());
        let e = db.edit_customer("C1", &f).unwrap_err();
        assert!(e.to_string().contains("load the data first"), "{e}");
        db.conn()
            .execute_batch(
                "CREATE TABLE CLI(code TEXT PRIMARY KEY, name TEXT NOT NULL, city TEXT,
                   loyalty_points INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO CLI VALUES ('C1', 'Alice', 'Paris', 3);
                 INSERT INTO tillsync_table_version VALUES ('CLI', 7, 'h', '{}', NULL, 'full', 'now');",
            )
            .unwrap();
        let layout = db.customer_layout().unwrap().unwrap();
        let typed = typed_fields(
            "CLI",
            &layout,
            &[
                ("CITY".into(), "Lyon".into()),
                ("loyalty_points".into(), "12".into()),
            ],
            FieldUse::Edit,
        )
        .unwrap();
        assert_eq!(typed["city"], "Lyon");
        assert_eq!(typed["loyalty_points"], 12);
        for (k, v, needle) in [
            ("colour", "x", "no column"),
            ("code", "X", "customer code (code) cannot be changed"),
            ("loyalty_points", "many", "whole numbers"),
        ] {
            let e =
                typed_fields("CLI", &layout, &[(k.into(), v.into())], FieldUse::Edit).unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        }
        let edit = db.edit_customer("C1", &typed).unwrap();
        assert_eq!(edit.base_version, Some(7));
        let e = db.edit_customer("C9", &typed).unwrap_err();
        assert!(e.to_string().contains("not in this till"), "{e}");
        // A refused change leaves nothing queued.
        let mut bad = serde_json::Map::new();
        bad.insert("name".into(), serde_json::Value::Null);
        assert!(db.edit_customer("C1", &bad).is_err());
        db.abandon_customer("C1").unwrap();
        assert!(db.abandon_customer("C1").is_err());
        let items = outbox(&db);
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].1, "customer-edit");
        assert_eq!(items[0].2["fields"]["city"], "Lyon");
        assert_eq!(items[1].1, "customer-abandon");
        assert_eq!(items[1].2["code"], "C1");
        let n: i64 = db
            .conn()
            .query_row("SELECT COUNT(*) FROM CLI", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
