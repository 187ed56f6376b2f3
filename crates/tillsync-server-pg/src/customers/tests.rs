//! Tests of the customer steps on PostgreSQL, through the rules and the
//! functions of [`super`]; each test makes its own database.

use postgres::{Client, GenericClient, Transaction};
use tillsync_core::Direction;
use tillsync_core::customers::conflict::ConflictPolicy;
use tillsync_db::StoreError;
use tillsync_server_db::customers::UpOutcome;
use tillsync_server_db::up::customers as rules;
use tillsync_server_db::up::customers::CustomerSteps;
use tillsync_wire::api::{
    CustomerAbandon, CustomerCreate, CustomerEdit, CustomerRecord, RowChange,
};

use super::*;
use crate::introspect::layout;
use crate::up::customers::CustomerSql;
use crate::up::testpg::TestDb;

mod concurrent;

/// The rules over this transaction's steps.
fn apply_customer_edit(
    tx: &mut Transaction<'_>,
    till: &str,
    edit: &CustomerEdit,
) -> Result<UpOutcome, StoreError> {
    rules::apply_customer_edit(&mut CustomerSql(tx), till, edit)
}

fn apply_customer_abandon(
    tx: &mut Transaction<'_>,
    till: &str,
    abandon: &CustomerAbandon,
) -> Result<UpOutcome, StoreError> {
    rules::apply_customer_abandon(&mut CustomerSql(tx), till, abandon)
}

fn apply_row_change(
    tx: &mut Transaction<'_>,
    till: &str,
    change: &RowChange,
) -> Result<UpOutcome, StoreError> {
    rules::apply_row_change(&mut CustomerSql(tx), till, change)
}

/// What the export records of the rows of `table` before it trims the
/// change log up to `last_seq`: per key, that it was last exported at
/// `version` (for a table that travels up). The fixture's change log has
/// no export stamps: it is cut by `seq`.
fn record_row_versions(
    tx: &mut Transaction<'_>,
    table: &str,
    version: u64,
    last_seq: i64,
) -> Result<(), StoreError> {
    if CustomerSql(tx).policy(table)?.is_none() {
        return Ok(());
    }
    let version = i64::try_from(version)
        .map_err(|_| StoreError::Invalid(format!("version {version} is out of range")))?;
    tx.execute(
        "INSERT INTO tillsync_row_versions(tbl, key, version, last_seq, changed_at)
         SELECT $1, json_build_array(k1, k2, k3, k4)::text, $2, MAX(seq), MAX(at)
         FROM tillsync_changes WHERE tbl = $1 AND seq <= $3
         GROUP BY json_build_array(k1, k2, k3, k4)::text
         ON CONFLICT (tbl, key) DO UPDATE SET version = excluded.version,
           last_seq = excluded.last_seq, changed_at = excluded.changed_at",
        &[&table, &version, &last_seq],
    )?;
    Ok(())
}

/// The demo customers (the template `CLI000000` and `CLI000001` to
/// `CLI000199`) and `CLI` registered down (filtered by store) and up.
fn db() -> Option<(TestDb, Client)> {
    let db = TestDb::new()?;
    let mut c = db.client();
    c.batch_execute(
        r#"INSERT INTO "CLI"(code, name, email, city, store, phone, loyalty_points)
             VALUES ('CLI000000', 'Client modèle', NULL, NULL, NULL, NULL, 0);
           INSERT INTO "CLI"(code, name, city, store, loyalty_points)
             SELECT 'CLI' || lpad(i::text, 6, '0'), 'Customer ' || i, 'Lyon', 'S01', i
             FROM generate_series(1, 199) AS i;
           INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, filter_column, created_at)
             VALUES ('CLI', 'down', 'incremental', 'store', 'now'),
                    ('CLI', 'up', 'incremental', NULL, 'now');
           DELETE FROM tillsync_changes;"#,
    )
    .unwrap();
    Some((db, c))
}

fn create(c: &mut impl GenericClient, till: &str, name: &str) -> CustomerRecord {
    create_customer(
        c,
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
    let Some((_db, mut c)) = db() else { return };
    let a = create(&mut c, "T001", "Alice");
    let b = create(&mut c, "T002", "Bob");
    assert_eq!(a["code"], "CLI000200");
    assert_eq!(b["code"], "CLI000201");
    assert_eq!(a["name"], "Alice");
    assert_eq!(a["city"], "Lyon");
    assert_eq!(a["store"], "S01");
    assert_eq!(a["loyalty_points"], 0);
    assert_eq!(a.len(), 7);
    assert_eq!(
        customer_origin(&mut c, "CLI000201")
            .unwrap()
            .unwrap()
            .till_id,
        "T002"
    );
    // Codes of abandoned creations are not reused.
    let mut tx = c.transaction().unwrap();
    let r = apply_customer_abandon(
        &mut tx,
        "T002",
        &CustomerAbandon {
            code: "CLI000201".into(),
        },
    )
    .unwrap();
    assert_eq!(r, UpOutcome::Applied(None));
    tx.commit().unwrap();
    assert!(
        customer_origin(&mut c, "CLI000201")
            .unwrap()
            .unwrap()
            .abandoned_at
            .is_some()
    );
    assert_eq!(create(&mut c, "T001", "Carol")["code"], "CLI000202");

    for (fields, needle) in [
        (serde_json::json!({"colour": "red"}), "no column \"colour\""),
        (serde_json::json!({"code": "X"}), "allocated by the server"),
        (serde_json::json!({"city": [1]}), "field city"),
        (
            serde_json::json!({"loyalty_points": "many"}),
            "cannot be stored",
        ),
    ] {
        let e = create_customer(
            &mut c,
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
    let e = create_customer(
        &mut c,
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
    // Nothing half-written by the refusals; the journal has the three creations.
    let n: i64 = c
        .query_one(r#"SELECT COUNT(*) FROM "CLI""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 202);
    let n: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM tillsync_journal WHERE kind = 'customer-create'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
}

#[test]
fn policies_are_read_and_up_layouts_listed() {
    let Some((_db, mut c)) = db() else { return };
    c.batch_execute(
        "CREATE TABLE \"P\"(k TEXT PRIMARY KEY, v TEXT);
         INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, created_at, conflict_policy)
           VALUES ('P', 'up', 'incremental', 'now', 'newest-wins'),
                  ('GONE', 'up', 'incremental', 'now', 'till-wins');",
    )
    .unwrap();
    let p = conflict_policies(&mut c).unwrap();
    assert!(p.contains(&("P".into(), Direction::Up, ConflictPolicy::NewestWins)));
    assert!(p.contains(&("CLI".into(), Direction::Down, ConflictPolicy::ServerWins)));
    let l = up_table_layouts(&mut c).unwrap();
    assert_eq!(
        l.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["CLI", "P"]
    );
    assert_eq!(l[0].1.key, ["code"]);
    assert_eq!(l[0].1.columns[6].decl_type, "integer");
    assert!(l[0].1.columns[1].not_null);
    assert!(matches!(
        layout(&mut c, "zz"),
        Err(StoreError::NoSuchTable(_))
    ));
}

fn edit(c: &mut Client, till: &str, city: &str, base: u64, at: &str) -> UpOutcome {
    let mut tx = c.transaction().unwrap();
    let r = apply_customer_edit(
        &mut tx,
        till,
        &CustomerEdit {
            code: "CLI000001".into(),
            fields: serde_json::from_value(serde_json::json!({ "city": city })).unwrap(),
            base_version: Some(base),
            edited_at: at.into(),
        },
    )
    .unwrap();
    tx.commit().unwrap();
    r
}

fn city(c: &mut Client) -> String {
    c.query_one(r#"SELECT city FROM "CLI" WHERE code = 'CLI000001'"#, &[])
        .unwrap()
        .get(0)
}

#[test]
fn own_writes_do_not_conflict_other_writers_do() {
    let Some((_db, mut c)) = db() else { return };
    let now = tillsync_db::now_rfc3339();
    assert_eq!(edit(&mut c, "T001", "A", 1, &now), UpOutcome::Applied(None));
    assert_eq!(edit(&mut c, "T001", "B", 1, &now), UpOutcome::Applied(None));
    // Another till's change since its version: server-wins keeps B.
    let r = edit(&mut c, "T002", "C", 1, &now);
    assert!(
        matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("server's")),
        "{r:?}"
    );
    assert_eq!(city(&mut c), "B");
    let cs = conflicts(&mut c).unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].winner, "server");
    assert_eq!(cs[0].server_value.as_ref().unwrap()["city"], "B");
    assert_eq!(cs[0].till_value["city"], "C");
    // Once exported at version 2, a till holding version 2 edits freely.
    let mut tx = c.transaction().unwrap();
    let seq: i64 = tx
        .query_one("SELECT MAX(seq) FROM tillsync_changes", &[])
        .unwrap()
        .get(0);
    record_row_versions(&mut tx, "CLI", 2, seq).unwrap();
    tx.execute("DELETE FROM tillsync_changes", &[]).unwrap();
    tx.commit().unwrap();
    assert_eq!(edit(&mut c, "T002", "D", 2, &now), UpOutcome::Applied(None));
    // A till holding version 1 meets the exported change of version 2
    // (made by T002): server-wins keeps D.
    let mut tx = c.transaction().unwrap();
    let seq: i64 = tx
        .query_one("SELECT MAX(seq) FROM tillsync_changes", &[])
        .unwrap()
        .get(0);
    record_row_versions(&mut tx, "CLI", 3, seq).unwrap();
    tx.execute("DELETE FROM tillsync_changes", &[]).unwrap();
    tx.commit().unwrap();
    let r = edit(&mut c, "T003", "E", 2, &now);
    assert!(matches!(r, UpOutcome::Applied(Some(_))), "{r:?}");
    assert_eq!(city(&mut c), "D");
    assert_eq!(edit(&mut c, "T003", "F", 3, &now), UpOutcome::Applied(None));
    assert_eq!(city(&mut c), "F");
}

#[test]
fn till_wins_and_newest_wins() {
    let Some((_db, mut c)) = db() else { return };
    // The ERP changes the customer (not exported yet).
    c.batch_execute(r#"UPDATE "CLI" SET city = 'ERP' WHERE code = 'CLI000001'"#)
        .unwrap();
    c.execute(
        "UPDATE tillsync_sync_tables SET conflict_policy = 'till-wins' WHERE direction = 'up'",
        &[],
    )
    .unwrap();
    let now = tillsync_db::now_rfc3339();
    let r = edit(&mut c, "T001", "Till", 1, &now);
    assert!(
        matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("till's")),
        "{r:?}"
    );
    assert_eq!(city(&mut c), "Till");
    c.batch_execute(
        r#"UPDATE "CLI" SET city = 'ERP2' WHERE code = 'CLI000001';
           UPDATE tillsync_sync_tables SET conflict_policy = 'newest-wins' WHERE direction = 'up'"#,
    )
    .unwrap();
    // An edit older than the server's change loses, a newer one wins.
    let r = edit(&mut c, "T002", "Old", 1, "2000-01-01T00:00:00Z");
    assert!(
        matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("server's")),
        "{r:?}"
    );
    assert_eq!(city(&mut c), "ERP2");
    let r = edit(&mut c, "T002", "New", 1, "2999-01-01T00:00:00Z");
    assert!(
        matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("till's")),
        "{r:?}"
    );
    assert_eq!(city(&mut c), "New");
    let winners: Vec<String> = conflicts(&mut c)
        .unwrap()
        .into_iter()
        .map(|c| c.winner)
        .collect();
    assert_eq!(winners, ["till", "server", "till"]);
    // Refusals name what is wrong and leave the transaction usable
    // (till-wins: the null name reaches the table, which refuses it).
    let mut tx = c.transaction().unwrap();
    tx.execute(
        "UPDATE tillsync_sync_tables SET conflict_policy = 'till-wins' WHERE direction = 'up'",
        &[],
    )
    .unwrap();
    for (fields, code, needle) in [
        (serde_json::json!({"colour": "x"}), "CLI000001", "no column"),
        (
            serde_json::json!({"code": "x"}),
            "CLI000001",
            "cannot be changed",
        ),
        (serde_json::json!({}), "CLI000001", "changes no field"),
        (serde_json::json!({"city": "x"}), "NOPE", "does not exist"),
        (
            serde_json::json!({"name": null}),
            "CLI000001",
            "refused the change",
        ),
    ] {
        let r = apply_customer_edit(
            &mut tx,
            "T001",
            &CustomerEdit {
                code: code.into(),
                fields: serde_json::from_value(fields).unwrap(),
                base_version: Some(1),
                edited_at: now.clone(),
            },
        )
        .unwrap();
        match r {
            UpOutcome::Rejected(m) => assert!(m.contains(needle), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    tx.commit().unwrap();
    assert_eq!(city(&mut c), "New");
}

#[test]
fn abandon_is_refused_unless_the_creator_and_no_ticket_uses_it() {
    let Some((_db, mut c)) = db() else { return };
    let a = create(&mut c, "T001", "Alice")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let b = create(&mut c, "T001", "Bob")["code"]
        .as_str()
        .unwrap()
        .to_string();
    c.execute(
        r#"INSERT INTO "TICKET"("till_id", "number", "time", "total_cents", "customer",
             "prev_hash", "hash", "signature", "received_at")
           VALUES ('T001', 1, 't', 1, $1, 'p', 'h', 's', 'now')"#,
        &[&b],
    )
    .unwrap();
    let mut tx = c.transaction().unwrap();
    let abandon = |tx: &mut Transaction<'_>, till: &str, code: &str| {
        apply_customer_abandon(tx, till, &CustomerAbandon { code: code.into() }).unwrap()
    };
    let rejected = |r: UpOutcome, needle: &str| match r {
        UpOutcome::Rejected(m) => assert!(m.contains(needle), "{m}"),
        other => panic!("{other:?}"),
    };
    rejected(
        abandon(&mut tx, "T001", "CLI000001"),
        "not created at a till",
    );
    rejected(abandon(&mut tx, "T002", &a), "created by till T001");
    rejected(abandon(&mut tx, "T001", &b), "used by 1 ticket");
    assert_eq!(abandon(&mut tx, "T001", &a), UpOutcome::Applied(None));
    assert_eq!(
        abandon(&mut tx, "T001", &a),
        UpOutcome::Applied(Some("already abandoned".into()))
    );
    tx.commit().unwrap();
    let left: Vec<String> = c
        .query(
            r#"SELECT code FROM "CLI" WHERE code = ANY($1) ORDER BY code"#,
            &[&vec![a.clone(), b.clone()]],
        )
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, [b]);
}

#[test]
fn rows_of_up_tables() {
    let Some((_db, mut c)) = db() else { return };
    c.batch_execute(
        r#"CREATE TABLE "TILL_PARAM"(till_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
             PRIMARY KEY (till_id, key));
           INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, created_at)
             VALUES ('TILL_PARAM', 'up', 'incremental', 'now');"#,
    )
    .unwrap();
    let mut tx = c.transaction().unwrap();
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
    let mut apply = |r: RowChange| apply_row_change(&mut tx, "T001", &r).unwrap();
    ok(apply(row(
        "upsert",
        serde_json::json!({"key": "a", "value": "1"}),
    )));
    ok(apply(row(
        "upsert",
        serde_json::json!({"till_id": "T001", "key": "a", "value": "2"}),
    )));
    ok(apply(row(
        "upsert",
        serde_json::json!({"till_id": "T001", "key": "b", "value": "3"}),
    )));
    ok(apply(row(
        "delete",
        serde_json::json!({"till_id": "T001", "key": "b"}),
    )));
    rejected(
        apply(row(
            "upsert",
            serde_json::json!({"till_id": "T002", "key": "a", "value": "x"}),
        )),
        "own rows",
    );
    rejected(
        apply(row("upsert", serde_json::json!({"key": "a", "nope": "x"}))),
        "no column \"nope\"",
    );
    rejected(
        apply(row("upsert", serde_json::json!({"key": "c"}))),
        "refused",
    );
    rejected(
        apply(row("merge", serde_json::json!({"key": "a"}))),
        "unknown row operation",
    );
    let mut other = row("upsert", serde_json::json!({"code": "X"}));
    other.table = "ART".into();
    rejected(apply(other.clone()), "does not exist");
    other.table = "CLI".into();
    rejected(apply(other), "also travels down");
    let rows: Vec<(String, String, String)> = tx
        .query(
            r#"SELECT till_id, key, value FROM "TILL_PARAM" ORDER BY key"#,
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows, [("T001".into(), "a".into(), "2".into())]);
    tx.commit().unwrap();
}
