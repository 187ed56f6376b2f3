//! Router tests of the cashier page (tower's `oneshot`, no socket), over a
//! till with the demo's `ART` and `CLI`, and one over a real socket.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::*;
use crate::test_support::till;

/// A till whose web service is unreachable, with the demo's tables.
fn demo_till() -> (tempfile::TempDir, TillConfig) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (dir, cfg, reg) = till(&format!("http://127.0.0.1:{port}/"));
    reg.db().conn().execute_batch("DROP TABLE ART").unwrap();
    tillsync_store::demo::create_demo_tables(reg.db().conn(), 200, 3).unwrap();
    (dir, cfg)
}

fn app(dir: &Path, cfg: &TillConfig, lang: Lang) -> (Router, Arc<Link>) {
    let mut cfg = cfg.clone();
    cfg.till.language = lang;
    let link = Arc::new(Link::new());
    let state = Cashier::open(dir, &cfg, link.clone()).unwrap();
    (router(Arc::new(state)), link)
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let h = |n| {
        resp.headers()
            .get(n)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let location = h(header::LOCATION);
    let cookie = h(header::SET_COOKIE);
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        location,
        cookie,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// A browser: its session cookie, taken from the first page.
struct Browser {
    app: Router,
    token: String,
}

impl Browser {
    async fn open(app: &Router) -> Self {
        let a = send(
            app,
            Request::get("/")
                .header(header::HOST, "127.0.0.1:8090")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let cookie = a.cookie.expect("a session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let token = cookie
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_string();
        assert!(a.body.contains(&format!("value=\"{token}\"")), "csrf field");
        Browser {
            app: app.clone(),
            token,
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        send(
            &self.app,
            Request::get(uri)
                .header(header::HOST, "localhost:8090")
                .header(header::COOKIE, format!("tillsync_cashier={}", self.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// POST `fields` with the CSRF field.
    async fn post(&self, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = vec![("csrf", self.token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all, true).await
    }

    async fn post_raw(&self, uri: &str, fields: &[(&str, &str)], cookie: bool) -> Answer {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = Request::post(uri)
            .header(header::HOST, "127.0.0.1:8090")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if cookie {
            req = req.header(header::COOKIE, format!("tillsync_cashier={}", self.token));
        }
        send(&self.app, req.body(Body::from(body)).unwrap()).await
    }
}

fn count(dir: &Path, sql: &str) -> i64 {
    tillsync_store::TillDb::open(&dir.join(crate::files::DB_FILE))
        .unwrap()
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn price(dir: &Path, code: &str) -> i64 {
    count(
        dir,
        &format!("SELECT price_cents FROM ART WHERE code = '{code}'"),
    )
}

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
        tillsync_store::TillDb::open(&dir.path().join(crate::files::DB_FILE))
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
    let sig: String = tillsync_store::TillDb::open(&dir.path().join(crate::files::DB_FILE))
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
                super::pages::money(Lang::Fr, total)
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
    let other = crate::cashier::session::new_token();
    for (fields, cookie) in [
        (vec![("method", "cash")], true),
        (vec![("csrf", other.as_str()), ("method", "cash")], true),
        (vec![("csrf", b.token.as_str()), ("method", "cash")], false),
        (vec![("csrf", ""), ("method", "cash")], true),
    ] {
        let a = b.post_raw("/pay", &fields, cookie).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{fields:?} {cookie}");
        assert!(a.body.contains(r#"class="error""#), "{}", a.body);
    }
    for uri in [
        "/ticket/add",
        "/ticket/clear",
        "/customers/create",
        "/customers/edit",
        "/customers/abandon",
    ] {
        let a = b
            .post_raw(uri, &[("code", "ART0000001"), ("name", "X")], true)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM TICKET"), 0);
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM tillsync_outbox"), 0);
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
    let payload: String = tillsync_store::TillDb::open(&dir.path().join(crate::files::DB_FILE))
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

#[tokio::test]
async fn an_item_table_without_the_needed_columns_is_named() {
    let (dir, cfg) = demo_till();
    tillsync_store::TillDb::open(&dir.path().join(crate::files::DB_FILE))
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

#[test]
fn amounts_as_typed() {
    use super::routes::parse_amount;
    for (s, c) in [
        ("12", 1200),
        ("12,5", 1250),
        ("12.50", 1250),
        (" 0,07 €", 7),
    ] {
        assert_eq!(parse_amount(s), Some(c), "{s}");
    }
    for s in ["", "-1", "1,234", "douze", "1,2,3", ",5"] {
        assert_eq!(parse_amount(s), None, "{s}");
    }
}

#[test]
fn listen_is_loopback_unless_allowed() {
    let (dir, mut cfg) = demo_till();
    let _ = dir;
    assert_eq!(
        listen_addr(&cfg, &CashierOptions::default())
            .unwrap()
            .to_string(),
        "127.0.0.1:8090"
    );
    cfg.till.listen = "0.0.0.0:8090".into();
    let e = listen_addr(&cfg, &CashierOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("till.listen") && e.contains("--allow-remote"),
        "{e}"
    );
    let opts = CashierOptions {
        listen: None,
        allow_remote: true,
    };
    assert!(listen_addr(&cfg, &opts).is_ok());
    let opts = CashierOptions {
        listen: Some("[::1]:0".parse().unwrap()),
        allow_remote: false,
    };
    assert_eq!(listen_addr(&cfg, &opts).unwrap().port(), 0);
}

#[test]
fn start_serves_on_a_free_port_and_stops() {
    use std::io::{Read, Write};
    let (dir, cfg) = demo_till();
    let opts = CashierOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        allow_remote: false,
    };
    let page = start(dir.path(), &cfg, &opts, Arc::new(Link::new())).unwrap();
    assert_ne!(page.addr.port(), 0);
    assert_eq!(
        page.url(),
        format!("http://127.0.0.1:{}/", page.addr.port())
    );
    let mut s = std::net::TcpStream::connect(page.addr).unwrap();
    write!(
        s,
        "GET /?q=ART0000001 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(r#"<tr data-code="ART0000001">"#));
    // The same port is busy now: a second page says where it failed.
    let busy = CashierOptions {
        listen: Some(page.addr),
        allow_remote: false,
    };
    let e = start(dir.path(), &cfg, &busy, Arc::new(Link::new()))
        .err()
        .expect("busy port")
        .to_string();
    assert!(
        e.contains("cannot listen") && e.contains(&page.addr.to_string()),
        "{e}"
    );
    let addr = page.addr;
    page.stop();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening"
    );
}
