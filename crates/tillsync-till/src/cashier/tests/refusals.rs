//! Refusals: worded in the page's language; forms without the session's
//! CSRF token and other host names refused; the headers every answer
//! carries.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tillsync_core::lang::Lang;
use tower::ServiceExt;

use crate::cashier::session::new_token;
use crate::cashier::tests::support::{Browser, app, count, demo_till, price, send};
use crate::receipt::format::money;

/// On a French page every refusal reads in French: none of the library's
/// English sentences shows through.
#[tokio::test]
async fn refusals_follow_the_page_language() {
    let (dir, cfg) = demo_till();
    let (app, _) = app(dir.path(), &cfg, Lang::Fr);
    let b = Browser::open(&app).await;
    let english = [
        "sale refused",
        "unknown customer",
        "a ticket needs",
        "is not in",
        "do not cover",
        "creating a customer",
    ];
    let french_only = |body: &str| {
        for e in english {
            assert!(!body.contains(e), "English {e:?} on a French page\n{body}");
        }
    };
    let a = b.post("/pay", &[("method", "cash")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.body.contains(
            "Encaissement refusé : un ticket doit avoir au moins une ligne ; rien n'a été enregistré."
        ),
        "{}",
        a.body
    );
    french_only(&a.body);
    b.post("/ticket/add", &[("code", "ART0000003")]).await;
    let total = price(dir.path(), "ART0000003");
    for (fields, needle) in [
        (
            vec![("method", "cash"), ("customer", "CLI999999")],
            "Encaissement refusé : client inconnu CLI999999 : il n'est pas dans la table CLI de la caisse ; rien n'a été enregistré.".to_string(),
        ),
        (
            vec![("method", "cash"), ("amount", "0,01")],
            format!(
                "Montant reçu insuffisant : 0,01 € pour un total de {}.",
                money(Lang::Fr, total)
            ),
        ),
    ] {
        let a = b.post("/pay", &fields).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(a.body.contains(&needle), "{fields:?}: {}", a.body);
        french_only(&a.body);
    }
    // Customers: an empty name, an unknown column's value, an unknown code.
    let a = b
        .post(
            "/customers/create",
            &[("name", " "), ("field_city", "Lyon")],
        )
        .await;
    assert!(
        a.body.contains("le nom du client ne doit pas être vide."),
        "{}",
        a.body
    );
    french_only(&a.body);
    let a = b.post("/customers/abandon", &[("code", "CLI999999")]).await;
    assert!(
        a.body.contains(
            "Abandon refusé : le client CLI999999 n'est pas dans la table CLI de la caisse."
        ),
        "{}",
        a.body
    );
    french_only(&a.body);
    // Another host name: refused in French too.
    let a = send(
        &app,
        Request::get("/")
            .header(header::HOST, "evil.example:8090")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(a.body.contains("adresse de bouclage"), "{}", a.body);
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM TICKET"), 0);
}

#[tokio::test]
async fn posts_without_the_csrf_token_of_the_session_are_refused() {
    let (dir, cfg) = demo_till();
    let (app, _) = app(dir.path(), &cfg, Lang::Fr);
    let b = Browser::open(&app).await;
    b.post("/ticket/add", &[("code", "ART0000001")]).await;
    let other = new_token();
    for (fields, cookie) in [
        (vec![("method", "cash")], true),
        (vec![("csrf", other.as_str()), ("method", "cash")], true),
        (vec![("csrf", b.token.as_str()), ("method", "cash")], false),
        (vec![("csrf", ""), ("method", "cash")], true),
    ] {
        let a = b.post_raw("/pay", &fields, cookie).await;
        if !cookie {
            // No session at all: the login comes first, nothing is done.
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{fields:?}");
            assert_eq!(a.location.as_deref(), Some("/login"));
            continue;
        }
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{fields:?} {cookie}");
        assert!(a.body.contains(r#"class="error""#), "{}", a.body);
    }
    for uri in [
        "/ticket/add",
        "/ticket/clear",
        "/customers/create",
        "/customers/edit",
        "/customers/abandon",
        "/receipt/1/reprint",
        "/login",
        "/logout",
    ] {
        let a = b
            .post_raw(uri, &[("code", "ART0000001"), ("name", "X")], true)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM TICKET"), 0);
    // Nothing queued but the event log's record of the cashier's login.
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM tillsync_outbox WHERE kind <> 'record'"
        ),
        0
    );
    // A page reached through another host name (DNS rebinding) is refused.
    let a = send(
        &app,
        Request::get("/")
            .header(header::HOST, "evil.example:8090")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST);
    // Every answer forbids framing.
    let resp = app
        .clone()
        .oneshot(
            Request::get("/assets/cashier.css")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
