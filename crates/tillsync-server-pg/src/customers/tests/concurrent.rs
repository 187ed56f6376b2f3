//! Two server processes on one PostgreSQL at once: customer codes handed
//! out once, the same edit applied once.

use super::*;

/// Two server processes create customers at the same time: every code
/// is handed out once, and they follow each other without holes.
#[test]
fn two_connections_creating_customers_get_unique_codes() {
    let Some((db, _c)) = db() else { return };
    let barrier = std::sync::Barrier::new(2);
    let run = |till: &str| -> Vec<String> {
        let mut c = db.client();
        barrier.wait();
        (0..15)
            .map(|i| {
                create(&mut c, till, &format!("{till} {i}"))["code"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run("T001"));
        let b = s.spawn(|| run("T002"));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    all.sort();
    let expected: Vec<String> = (200..230).map(|n| format!("CLI{n:06}")).collect();
    assert_eq!(all, expected);

    // Deterministically: a creation not committed yet holds the
    // prefix's counter; another process's creation waits for it and
    // then takes the next code.
    let mut a = db.client();
    let mut ta = a.transaction().unwrap();
    assert_eq!(create(&mut ta, "T001", "First")["code"], "CLI000230");
    std::thread::scope(|s| {
        let b = s.spawn(|| create(&mut db.client(), "T002", "Second"));
        let mut watch = db.client();
        let waiting = (0..1000).any(|_| {
            let n: i64 = watch
                .query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .unwrap()
                .get(0);
            std::thread::sleep(std::time::Duration::from_millis(10));
            n == 1
        });
        assert!(waiting, "the second creation never waited for the first");
        ta.commit().unwrap();
        assert_eq!(b.join().unwrap()["code"], "CLI000231");
    });
}

/// Two server processes receive the same batch (a customer edit that
/// meets a server change) at once: it is applied once, one conflict is
/// audited, and the second answers the first's answer.
#[test]
fn two_connections_racing_the_same_edit_apply_it_once() {
    let Some((db, mut c)) = db() else { return };
    c.batch_execute(r#"UPDATE "CLI" SET city = 'ERP' WHERE code = 'CLI000001'"#)
        .unwrap();
    let barrier = std::sync::Barrier::new(2);
    let run = || -> (UpOutcome, bool) {
        let mut c = db.client();
        barrier.wait();
        let mut tx = c.transaction().unwrap();
        let key = "edit:1";
        if let Some(r) = crate::up::tickets::received(&mut tx, "T001", key).unwrap() {
            tx.commit().unwrap();
            return (UpOutcome::Applied(r.reason), true);
        }
        let o = apply_customer_edit(
            &mut tx,
            "T001",
            &CustomerEdit {
                code: "CLI000001".into(),
                fields: serde_json::from_value(serde_json::json!({"city": "Till"})).unwrap(),
                base_version: Some(1),
                edited_at: tillsync_db::now_rfc3339(),
            },
        )
        .unwrap();
        let UpOutcome::Applied(note) = &o else {
            panic!("{o:?}")
        };
        let out = tillsync_server_db::tickets::Outcome {
            status: tillsync_wire::api::ItemStatus::Accepted,
            reason: note.clone(),
        };
        crate::up::tickets::record_received(&mut tx, "T001", key, &out, "f", "now").unwrap();
        tx.commit().unwrap();
        (o, false)
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(run);
        let b = s.spawn(run);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(
        a.1 != b.1,
        "one applies, the other answers a resend: {a:?} {b:?}"
    );
    assert_eq!(a.0, b.0);
    assert_eq!(conflicts(&mut c).unwrap().len(), 1);
    assert_eq!(city(&mut c), "ERP");
}
