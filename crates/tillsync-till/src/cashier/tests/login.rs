//! The cashiers' login and the receipts through the router: a till without
//! cashiers has no login; a cashier removed from `CASHIER` is logged out;
//! the receipt page's mentions, the invoice and duplicates (a duplicate
//! number never logged is not shown).

use axum::http::StatusCode;
use tillsync_core::lang::Lang;

use crate::cashier::tests::support::{Browser, app, count, demo_till};

#[tokio::test]
async fn a_till_without_cashiers_has_no_login() {
    let (dir, cfg) = demo_till();
    tillsync_till_db::TillDb::open(&dir.path().join(crate::files::DB_FILE))
        .unwrap()
        .conn()
        .execute_batch("DELETE FROM CASHIER")
        .unwrap();
    let (app, _) = app(dir.path(), &cfg, Lang::En);
    let b = Browser::open_at(&app, "/").await;
    let a = b.get("/").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.body.contains("cashier-name"), "{}", a.body);
    let a = b.get("/login").await;
    assert!(a.body.contains("selling needs no login"), "{}", a.body);
}

#[tokio::test]
async fn a_removed_cashier_is_logged_out_and_a_bad_hash_is_named() {
    let (dir, cfg) = demo_till();
    let (app, _) = app(dir.path(), &cfg, Lang::En);
    let b = Browser::open(&app).await;
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    let db = tillsync_till_db::TillDb::open(&dir.path().join(crate::files::DB_FILE)).unwrap();
    db.conn()
        .execute_batch("DELETE FROM CASHIER WHERE code = 'CAI01'")
        .unwrap();
    let a = b.get("/").await;
    assert_eq!(a.location.as_deref(), Some("/login"));
    db.conn()
        .execute_batch("UPDATE CASHIER SET pin_hash = 'clear 2580' WHERE code = 'CAI02'")
        .unwrap();
    let a = b
        .post("/login", &[("cashier", "CAI02"), ("pin", "2580")])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.body
            .contains("the PIN hash of cashier CAI02 is not an argon2 PHC string"),
        "{}",
        a.body
    );
    let a = b
        .post("/login", &[("cashier", "CAI01"), ("pin", "1234")])
        .await;
    assert!(a.body.contains("Pick your name in the list"), "{}", a.body);
    // Three wrong PINs: locked, said in English.
    for _ in 0..3 {
        b.post("/login", &[("cashier", "CAI09"), ("pin", "0000")])
            .await;
    }
    let a = b
        .post("/login", &[("cashier", "CAI09"), ("pin", "9090")])
        .await;
    assert!(
        a.body
            .contains("Too many wrong PINs: the login is locked for"),
        "{}",
        a.body
    );
    let logins = count(
        dir.path(),
        "SELECT COUNT(*) FROM EVENT_LOG WHERE kind = 'cashier_login'",
    );
    assert_eq!(logins, 1, "only the first, right, login");
}

#[tokio::test]
async fn the_receipt_page_an_invoice_and_duplicates() {
    let (dir, cfg) = demo_till();
    let (app, _) = app(dir.path(), &cfg, Lang::Fr);
    let b = Browser::open(&app).await;
    b.post("/ticket/add", &[("code", "ART0000012"), ("quantity", "2")])
        .await;
    let a = b
        .post(
            "/pay",
            &[
                ("method", "cash"),
                ("amount", "500"),
                ("customer", "CLI000001"),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/receipt/1"), "{}", a.body);
    let r = b.get("/receipt/1").await;
    for needle in [
        "Lyon Part-Dieu",
        "SIRET 904 128 733 00014",
        "N° TVA intracom. FR43904128733",
        r#"<span class="cashier">Marie Martin</span>"#,
        r#"id="print-receipt""#,
        r#"class="qr" data-payload="TSR1*T001*"#,
        "<svg",
        "Rendu",
        "Client : CLI000001",
    ] {
        assert!(r.body.contains(needle), "lacks {needle:?}: {}", r.body);
    }
    assert!(
        !r.body.contains(r#"id="reprint""#),
        "the sale just made prints as an original"
    );
    let inv = b.get("/receipt/1?invoice=1").await;
    assert!(inv.body.contains("FACTURE n° T001-1"), "{}", inv.body);
    assert!(inv.body.contains(r#"data-invoice="yes""#), "{}", inv.body);
    // Another session sees a past ticket: a duplicate only.
    let other = Browser::open(&app).await;
    let r = other.get("/receipt/1").await;
    assert!(r.body.contains(r#"id="reprint""#) && !r.body.contains(r#"id="print-receipt""#));
    // Version 2: the ticket itself names who sold.
    assert!(
        r.body
            .contains(r#"<span class="cashier">Marie Martin</span>"#),
        "the ticket's cashier"
    );
    assert_eq!(
        other.get("/receipt/1/duplicate/1").await.status,
        StatusCode::NOT_FOUND
    );
    let a = other.post("/receipt/1/reprint", &[]).await;
    assert_eq!(a.location.as_deref(), Some("/receipt/1/duplicate/1"));
    let a = other.post("/receipt/1/reprint", &[]).await;
    assert_eq!(a.location.as_deref(), Some("/receipt/1/duplicate/2"));
    let d = other.get("/receipt/1/duplicate/2").await;
    assert!(d.body.contains("DUPLICATA n° 2"), "{}", d.body);
    assert!(d.body.contains(r#"id="print-duplicate""#), "{}", d.body);
    let list = other.get("/tickets").await;
    assert!(
        list.body.contains(r#"<td class="num duplicates">2</td>"#),
        "{}",
        list.body
    );
    let a = other.post("/receipt/9/reprint", &[]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("le ticket 9 n'existe pas"), "{}", a.body);
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM EVENT_LOG WHERE kind = 'reprint'"
        ),
        2
    );
}
