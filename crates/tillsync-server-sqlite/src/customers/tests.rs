//! Tests of the customer steps on SQLite, through the rules and the
//! [`ServerDb`] methods.

use rusqlite::Connection;
use tillsync_core::customers::conflict::ConflictPolicy;
use tillsync_core::{Direction, SyncTable, SyncType};
use tillsync_db::StoreError;
use tillsync_server_db::customers::UpOutcome;
use tillsync_server_db::up::customers as rules;
use tillsync_wire::api::{
    CustomerAbandon, CustomerCreate, CustomerEdit, CustomerRecord, RowChange,
};

use crate::db::ServerDb;
use crate::up::customers::{CustomerSql, record_row_versions};

/// The rules over this connection's steps.
fn apply_customer_edit(
    conn: &Connection,
    till: &str,
    edit: &CustomerEdit,
) -> Result<UpOutcome, StoreError> {
    rules::apply_customer_edit(&mut CustomerSql(conn), till, edit)
}

fn apply_customer_abandon(
    conn: &Connection,
    till: &str,
    abandon: &CustomerAbandon,
) -> Result<UpOutcome, StoreError> {
    rules::apply_customer_abandon(&mut CustomerSql(conn), till, abandon)
}

fn apply_row_change(
    conn: &Connection,
    till: &str,
    change: &RowChange,
) -> Result<UpOutcome, StoreError> {
    rules::apply_row_change(&mut CustomerSql(conn), till, change)
}

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
