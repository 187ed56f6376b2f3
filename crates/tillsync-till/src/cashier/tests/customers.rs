//! Customers from the page: creation refused offline, edit and abandon
//! working and queued.

use axum::http::StatusCode;
use tillsync_core::lang::Lang;

use crate::cashier::tests::support::{Browser, app, count, demo_till};

#[tokio::test]
async fn customer_creation_is_refused_offline_while_edit_and_abandon_work() {
    let (dir, cfg) = demo_till();
    let (app, link) = app(dir.path(), &cfg, Lang::Fr);
    link.set(true);
    let b = Browser::open(&app).await;
    let a = b.get("/customers").await;
    for id in ["customer-create", "customer-edit", "customer-abandon"] {
        assert!(a.body.contains(&format!(r#"id="{id}""#)), "{id}");
        assert!(a.body.contains(&format!(r#"id="{id}-submit""#)), "{id}");
    }
    assert!(a.body.contains(r#"name="field_city""#), "{}", a.body);
    let before = count(dir.path(), "SELECT COUNT(*) FROM CLI");
    let a = b
        .post(
            "/customers/create",
            &[("name", "Jeanne Martin"), ("field_city", "Lyon")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert!(a.body.contains(r#"class="error""#), "{}", a.body);
    assert!(
        a.body.contains(
            "Création refusée : la création d'un client demande le serveur : le service web"
        ),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("rien n'a été créé sur cette caisse"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains(r#"value="Jeanne Martin""#),
        "typed values kept"
    );
    assert!(
        a.body.contains(r#"data-online="no""#),
        "the failure shows offline"
    );
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM CLI"), before);

    // Edit: only the changed field is queued.
    let a = b.get("/customers?code=CLI000001").await;
    assert!(a.body.contains(r#"name="field_name""#), "{}", a.body);
    let a = b
        .post(
            "/customers/edit",
            &[
                ("code", "CLI000001"),
                ("field_city", "Paris"),
                ("field_email", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = b.get(a.location.as_deref().unwrap()).await;
    assert!(a.body.contains(r#"class="flash-ok""#), "{}", a.body);
    assert!(a.body.contains(r#"value="Paris""#), "{}", a.body);
    let payload: String = tillsync_till_db::TillDb::open(&dir.path().join(crate::files::DB_FILE))
        .unwrap()
        .conn()
        .query_row(
            "SELECT payload FROM tillsync_outbox WHERE kind = 'customer-edit'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let edit: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        edit["fields"],
        serde_json::json!({"city": "Paris"}),
        "{edit}"
    );
    // Nothing changed, an unknown customer: refused.
    let a = b
        .post(
            "/customers/edit",
            &[("code", "CLI000001"), ("field_city", "Paris")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("Aucun champ modifié"), "{}", a.body);
    let a = b
        .post(
            "/customers/edit",
            &[("code", "CLI999999"), ("field_city", "Paris")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.body
            .contains("le client CLI999999 n'est pas dans la table CLI de la caisse."),
        "{}",
        a.body
    );

    // Abandon.
    let a = b.post("/customers/abandon", &[("code", "CLI000002")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(
        b.get("/customers")
            .await
            .body
            .contains(r#"class="flash-ok""#)
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM CLI WHERE code = 'CLI000002'"
        ),
        0
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM tillsync_outbox WHERE kind = 'customer-abandon'"
        ),
        1
    );
    let a = b.post("/customers/abandon", &[("code", "CLI000002")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains(r#"class="error""#));
}
