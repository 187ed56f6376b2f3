//! Router tests of the admin pages (no socket): login, session, CSRF,
//! lockout, settings and sync tables.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::auth;
use crate::data::DataDir;
use crate::http::router::router;
use crate::http::state::AppState;

const PASSWORD: &str = "s3cret-admin-pw";

struct Fixture {
    _tmp: tempfile::TempDir,
    data: DataDir,
    app: Router,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let (data, _) = DataDir::init(&tmp.path().join("srv"), "DEMO", Some(20)).unwrap();
    auth::set_password(data.path(), PASSWORD).unwrap();
    let state: Arc<AppState> = AppState::open(data.clone()).unwrap();
    Fixture {
        _tmp: tmp,
        data,
        app: router(state),
    }
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Fixture {
    async fn send(&self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let cookies = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
            .await
            .unwrap();
        Answer {
            status,
            location,
            cookies,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Answer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// GET the login page, post `password`; the answer and the login cookie.
    async fn try_login(&self, password: &str) -> Answer {
        let page = self.get("/admin/login", None).await;
        let login_cookie = cookie_pair(&page.cookies, auth::LOGIN_COOKIE).unwrap();
        let csrf = csrf_of(&page.body);
        self.post(
            "/admin/login",
            Some(&login_cookie),
            &[("user", "admin"), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// Log in; the session cookie (`name=value`) and a CSRF token.
    async fn login(&self) -> (String, String) {
        let a = self.try_login(PASSWORD).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let session = cookie_pair(&a.cookies, auth::SESSION_COOKIE).unwrap();
        let page = self.get("/admin/folder", Some(&session)).await;
        assert_eq!(page.status, StatusCode::OK);
        (session.clone(), csrf_of(&page.body))
    }

    fn config_bytes(&self) -> Vec<u8> {
        std::fs::read(self.data.path().join("tillsync.toml")).unwrap()
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn cookie_pair(cookies: &[String], name: &str) -> Option<String> {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
}

fn csrf_of(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let i = body.find(marker).expect("page has a csrf field") + marker.len();
    body[i..i + body[i..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn pages_without_a_session_go_to_login_and_forms_are_refused() {
    let f = fixture();
    for path in [
        "/admin",
        "/admin/tills",
        "/admin/folder",
        "/admin/tables",
        "/admin/journal",
        "/admin/export",
    ] {
        let a = f.get(path, None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(a.location.as_deref(), Some("/admin/login"), "{path}");
    }
    let before = f.config_bytes();
    let a = f
        .post(
            "/admin/folder?tab=server",
            None,
            &[("server.listen", "0.0.0.0:9999")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(f.config_bytes(), before);
    // A forged cookie is no session either.
    let a = f
        .get(
            "/admin/tills",
            Some("tillsync_admin=v1.61646d696e.9999999999.00.00"),
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // The stylesheet needs no session.
    let css = f.get("/admin/assets/admin.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.body.contains(".field-error"));
}

#[tokio::test]
async fn login_sets_a_strict_http_only_session_and_wrong_password_is_refused() {
    let f = fixture();
    let page = f.get("/admin/login", None).await;
    assert!(page.body.contains("id=\"login-form\""));
    assert!(page.body.contains("lang=\"fr\""), "French by default");
    let wrong = f.try_login("not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("class=\"error\""), "{}", wrong.body);
    assert!(cookie_pair(&wrong.cookies, auth::SESSION_COOKIE).is_none());
    let ok = f.try_login(PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_deref(), Some("/admin"));
    let set = ok
        .cookies
        .iter()
        .find(|c| c.starts_with("tillsync_admin="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = cookie_pair(&ok.cookies, auth::SESSION_COOKIE).unwrap();
    let tills = f.get("/admin/tills", Some(&session)).await;
    assert_eq!(tills.status, StatusCode::OK);
    assert!(tills.body.contains("id=\"tills\""));
    assert!(tills.body.contains("data-till=\"T001\""));
}

#[tokio::test]
async fn login_without_its_csrf_token_is_refused() {
    let f = fixture();
    let page = f.get("/admin/login", None).await;
    let login_cookie = cookie_pair(&page.cookies, auth::LOGIN_COOKIE).unwrap();
    let a = f
        .post(
            "/admin/login",
            Some(&login_cookie),
            &[("user", "admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(cookie_pair(&a.cookies, auth::SESSION_COOKIE).is_none());
    let a = f
        .post(
            "/admin/login",
            None,
            &[
                ("user", "admin"),
                ("password", PASSWORD),
                ("csrf", &csrf_of(&page.body)),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_login_even_for_the_right_one() {
    let f = fixture();
    for _ in 0..auth::FREE_FAILURES {
        assert_eq!(
            f.try_login("wrong-password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let a = f.try_login(PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert!(a.body.contains("class=\"error\""));
    assert!(cookie_pair(&a.cookies, auth::SESSION_COOKIE).is_none());
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let f = fixture();
    let key = auth::session_key(f.data.path()).unwrap();
    let phc = auth::password_hash(f.data.path()).unwrap().unwrap();
    let old = super::context::now_unix() - 2 * auth::SESSION_TTL.as_secs() as i64;
    let cookie = format!(
        "{}={}",
        auth::SESSION_COOKIE,
        auth::issue_session(&key, &phc, "admin", old, auth::SESSION_TTL)
    );
    let a = f.get("/admin/tills", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location.as_deref(), Some("/admin/login?expired=1"));
    let before = f.config_bytes();
    let a = f
        .post(
            "/admin/folder?tab=server",
            Some(&cookie),
            &[("server.listen", "0.0.0.0:9999")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(f.config_bytes(), before);
}

#[tokio::test]
async fn settings_need_the_csrf_token_and_valid_values() {
    let f = fixture();
    let (session, csrf) = f.login().await;
    let before = f.config_bytes();
    // No token, then a wrong one: refused, file unchanged.
    for form in [
        vec![("server.listen", "0.0.0.0:9999")],
        vec![("server.listen", "0.0.0.0:9999"), ("csrf", "0000")],
    ] {
        let a = f
            .post("/admin/folder?tab=server", Some(&session), &form)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(f.config_bytes(), before);
    }
    // An invalid value: the error next to its field, nothing saved (not even
    // the valid value beside it).
    let a = f
        .post(
            "/admin/folder?tab=till",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("till.sync_interval_ms", "abc"),
                ("till.template_customer", "CLI000001"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        a.body
            .contains("class=\"field-error\" data-field=\"till.sync_interval_ms\""),
        "{}",
        a.body
    );
    assert_eq!(f.config_bytes(), before);
    // A valid change is saved; an empty password field leaves the password.
    let pw = f.data.config().unwrap().ftp.password;
    let a = f
        .post(
            "/admin/folder?tab=ftp",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("ftp.user", "caisse"),
                ("ftp.password", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("class=\"flash-ok\""));
    let cfg = f.data.config().unwrap();
    assert_eq!(cfg.ftp.user, "caisse");
    assert_eq!(cfg.ftp.password, pw);
    // The password is write-only: never sent back.
    assert!(!a.body.contains(pw.expose()));
    // English pages on request.
    let a = f
        .post(
            "/admin/folder?tab=server",
            Some(&session),
            &[("csrf", &csrf), ("ui.language", "en")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let page = f.get("/admin/tables", Some(&session)).await;
    assert!(page.body.contains("lang=\"en\"") && page.body.contains("Sync tables"));
}

#[tokio::test]
async fn test_connection_gives_the_cli_diagnosis() {
    let f = fixture();
    let (session, csrf) = f.login().await;
    let a = f
        .post(
            "/admin/folder/test?tab=db",
            Some(&session),
            &[("csrf", &csrf), ("what", "db")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body.contains("id=\"test-result\" class=\"ok\""),
        "{}",
        a.body
    );
    assert!(a.body.contains("database OK: SQLite"));
    assert!(a.body.contains("sync table ART (down, incremental)"));
}

#[tokio::test]
async fn sync_tables_add_edit_remove_and_refusals() {
    let f = fixture();
    let (session, csrf) = f.login().await;
    let add = |table: &'static str, dir: &'static str, filter: &'static str| {
        vec![
            ("table", table),
            ("direction", dir),
            ("sync_type", "full"),
            ("filter_column", filter),
            ("conflict", ""),
        ]
    };
    let mut form = add("T012", "up", "");
    form.push(("csrf", &csrf));
    let a = f.post("/admin/tables/add", Some(&session), &form).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("data-table=\"T012\" data-direction=\"up\""));
    // Refused as the CLI refuses: unknown table, unknown filter column.
    for bad in [add("NOPE", "down", ""), add("ART", "up", "no_such_col")] {
        let mut bad = bad;
        bad.push(("csrf", &csrf));
        let a = f.post("/admin/tables/add", Some(&session), &bad).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body.contains("class=\"error\""), "{}", a.body);
    }
    // Without the token: refused.
    let a = f
        .post("/admin/tables/add", Some(&session), &add("ART", "up", ""))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let tables = |f: &Fixture| f.data.open_db().unwrap().sync_tables().unwrap();
    assert!(
        !tables(&f)
            .iter()
            .any(|t| t.table == "ART" && t.direction.to_string() == "up")
    );
    // Edit in place.
    let a = f
        .post(
            "/admin/tables/edit",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("table", "ART"),
                ("direction", "down"),
                ("sync_type", "full"),
                ("filter_column", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let art = tables(&f).into_iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.sync_type.to_string(), "full");
    // Remove.
    let a = f
        .post(
            "/admin/tables/remove",
            Some(&session),
            &[("csrf", &csrf), ("table", "T012"), ("direction", "up")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.body.contains("data-table=\"T012\" data-direction=\"up\""));
}

#[tokio::test]
async fn logout_needs_the_token_and_ends_the_cookie() {
    let f = fixture();
    let (session, csrf) = f.login().await;
    let a = f.post("/admin/logout", Some(&session), &[]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = f
        .post("/admin/logout", Some(&session), &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(
        a.cookies
            .iter()
            .any(|c| c.starts_with("tillsync_admin=;") && c.contains("Max-Age=0"))
    );
}
