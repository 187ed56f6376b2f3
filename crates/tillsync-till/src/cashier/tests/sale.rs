//! Selling from the page: search, lines, payment, receipt; the refusals
//! that record nothing; an item table without a barcode column.

use axum::http::StatusCode;
use tillsync_core::lang::Lang;

use crate::cashier::tests::support::{Browser, app, count, demo_till, price};

#[tokio::test]
async fn search_add_and_pay_record_a_numbered_signed_ticket() {
    let (dir, cfg) = demo_till();
    let (app, link) = app(dir.path(), &cfg, Lang::Fr);
    let b = Browser::open(&app).await;

    // Search by code, by barcode.
    let a = b.get("/?q=ART0000012").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body.contains(r#"<tr data-code="ART0000012">"#),
        "{}",
        a.body
    );
    assert!(a.body.contains(r#"class="add""#));
    assert!(a.body.contains(r#"<html lang="fr">"#));
    let (code, bar): (String, String) =
        tillsync_till_db::TillDb::open(&dir.path().join(crate::files::DB_FILE))
            .unwrap()
            .conn()
            .query_row(
                "SELECT code, barcode FROM ART WHERE barcode IS NOT NULL LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
    let a = b.get(&format!("/?q={bar}")).await;
    assert!(
        a.body.contains(&format!(r#"<tr data-code="{code}">"#)),
        "{}",
        a.body
    );

    // Two lines (the same item twice merges), then payment in cash.
    let a = b
        .post(
            "/ticket/add",
            &[
                ("code", "ART0000012"),
                ("quantity", "2"),
                ("q", "ART0000012"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/?q=ART0000012"));
    b.post("/ticket/add", &[("code", &code)]).await;
    b.post("/ticket/add", &[("code", "ART0000012")]).await;
    let total = 3 * price(dir.path(), "ART0000012") + price(dir.path(), &code);
    let a = b.get("/").await;
    assert_eq!(
        a.body.matches(r#"<tr class="line""#).count(),
        2,
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains(&format!(r#"id="total" data-cents="{total}""#)),
        "{}",
        a.body
    );
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM TICKET"), 0);

    let a = b.post("/pay", &[("method", "cash"), ("amount", "")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location.as_deref(), Some("/receipt/1"));
    // The same click again records nothing and shows the same receipt.
    let a = b.post("/pay", &[("method", "cash"), ("amount", "")]).await;
    assert_eq!(a.location.as_deref(), Some("/receipt/1"));
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM TICKET"), 1);
    // Recorded through the sell path: numbered, priced, queued.
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM TICKET WHERE till_id = 'T001' AND number = 1"
        ),
        1
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT total_cents FROM TICKET WHERE number = 1"
        ),
        total
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT SUM(quantity) FROM TICKET_LINE WHERE number = 1"
        ),
        4
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM tillsync_outbox WHERE key = 'ticket:1'"
        ),
        1
    );
    let a = b.get("/receipt/1").await;
    assert_eq!(a.status, StatusCode::OK);
    let sig: String = tillsync_till_db::TillDb::open(&dir.path().join(crate::files::DB_FILE))
        .unwrap()
        .conn()
        .query_row("SELECT signature FROM TICKET WHERE number = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(a.body.contains(r#"id="receipt""#), "{}", a.body);
    assert!(
        a.body.contains(r#"<span class="ticket-number">1</span>"#),
        "{}",
        a.body
    );
    assert!(
        a.body.contains(&format!(">{}</span>", &sig[..8])),
        "{}",
        a.body
    );
    assert!(
        a.body.contains(r#"<span id="outbox-count">1</span>"#)
            || a.body.contains(r#"id="outbox-count">1<"#),
        "{}",
        a.body
    );
    // The cart is empty again; the indicator shows what the agent saw.
    let a = b.get("/").await;
    assert_eq!(a.body.matches(r#"<tr class="line""#).count(), 0);
    assert!(a.body.contains(r#"data-online="no""#));
    link.set(true);
    let a = b.get("/").await;
    assert!(a.body.contains(r#"data-online="yes""#));
    let s = b.get("/status.json").await;
    let s: serde_json::Value = serde_json::from_str(&s.body).unwrap();
    assert_eq!(
        (s["online"].as_bool(), s["tickets_waiting"].as_u64()),
        (Some(true), Some(1))
    );

    // A second sale, paid by card with an amount: number 2, chained.
    b.post("/ticket/add", &[("code", "ART0000001")]).await;
    let p = price(dir.path(), "ART0000001");
    let amount = format!("{},{:02}", p / 100, p % 100);
    let a = b
        .post("/pay", &[("method", "card"), ("amount", &amount)])
        .await;
    assert_eq!(a.location.as_deref(), Some("/receipt/2"), "{}", a.body);
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM TICKET t JOIN TICKET p ON p.number = 1 WHERE t.number = 2 AND t.prev_hash = p.hash"
        ),
        1
    );
}

#[tokio::test]
async fn refused_payments_and_lines_record_nothing_and_keep_the_ticket() {
    let (dir, cfg) = demo_till();
    let (app, _) = app(dir.path(), &cfg, Lang::En);
    let b = Browser::open(&app).await;
    // Paying an empty ticket: the sell path refuses.
    let a = b.post("/pay", &[("method", "cash")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.body.contains(r#"class="error""#) && a.body.contains("at least one line"),
        "{}",
        a.body
    );
    // Unknown item, bad quantity: refused with a message on the next page.
    let a = b.post("/ticket/add", &[("code", "NOPE")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = b.get("/").await;
    assert!(
        a.body.contains("Item NOPE is not in the till"),
        "{}",
        a.body
    );
    b.post("/ticket/add", &[("code", "ART0000003"), ("quantity", "0")])
        .await;
    assert!(b.get("/").await.body.contains("Quantity refused"));
    // Too little money, an unreadable amount, an unknown customer or method.
    b.post("/ticket/add", &[("code", "ART0000003")]).await;
    for (fields, needle) in [
        (
            vec![("method", "cash"), ("amount", "0,01")],
            "Amount received too low: €0.01 for a total of",
        ),
        (
            vec![("method", "cash"), ("amount", "douze")],
            "Unreadable amount",
        ),
        (
            vec![("method", "cash"), ("customer", "CLI999999")],
            "unknown customer",
        ),
        (vec![("method", "bitcoin")], "Unknown payment method"),
    ] {
        let a = b.post("/pay", &fields).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(a.body.contains(needle), "{fields:?}: {}", a.body);
        assert_eq!(
            a.body.matches(r#"<tr class="line""#).count(),
            1,
            "ticket kept"
        );
    }
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM TICKET"), 0);
    // Remove the line, then the ticket is empty.
    let a = b.post("/ticket/remove", &[("code", "ART0000003")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        b.get("/").await.body.matches(r#"<tr class="line""#).count(),
        0
    );
    // An unknown receipt.
    assert_eq!(b.get("/receipt/9").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_item_table_without_the_needed_columns_is_named() {
    let (dir, cfg) = demo_till();
    tillsync_till_db::TillDb::open(&dir.path().join(crate::files::DB_FILE))
        .unwrap()
        .conn()
        .execute_batch("ALTER TABLE ART DROP COLUMN barcode")
        .unwrap();
    let (app, _) = app(dir.path(), &cfg, Lang::En);
    let b = Browser::open(&app).await;
    let a = b.get("/?q=ART0000001").await;
    assert!(a.body.contains("has no barcode column"), "{}", a.body);
    assert!(a.body.contains(r#"<tr data-code="ART0000001">"#));
}
