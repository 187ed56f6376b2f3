//! What the cashier page's router tests share: a till with the demo's `ART`
//! and `CLI` whose web service is unreachable, the page's router over it,
//! a request sent with tower's `oneshot`, and a browser with its session.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tillsync_core::TillConfig;
use tillsync_core::lang::Lang;
use tower::ServiceExt;

use crate::cashier::router::router;
use crate::cashier::state::Cashier;
use crate::link::Link;
use crate::test_support::till;

/// A till whose web service is unreachable, with the demo's tables.
pub(super) fn demo_till() -> (tempfile::TempDir, TillConfig) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (dir, cfg, reg) = till(&format!("http://127.0.0.1:{port}/"));
    reg.db().conn().execute_batch("DROP TABLE ART").unwrap();
    tillsync_db::demo::create_demo_tables(reg.db().conn(), 200, 3).unwrap();
    (dir, cfg)
}

pub(super) fn app(dir: &Path, cfg: &TillConfig, lang: Lang) -> (Router, Arc<Link>) {
    let mut cfg = cfg.clone();
    cfg.till.language = lang;
    let link = Arc::new(Link::new());
    let state = Cashier::open(dir, &cfg, link.clone()).unwrap();
    (router(Arc::new(state)), link)
}

pub(super) struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookie: Option<String>,
    pub body: String,
}

pub(super) async fn send(app: &Router, req: Request<Body>) -> Answer {
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
pub(super) struct Browser {
    app: Router,
    pub token: String,
}

impl Browser {
    /// A browser whose session is logged in as the demo's cashier CAI01
    /// (PIN 1234) when the till has cashiers.
    pub(super) async fn open(app: &Router) -> Self {
        let b = Self::open_at(app, "/login").await;
        if b.get("/").await.status == StatusCode::SEE_OTHER {
            let a = b
                .post("/login", &[("cashier", "CAI01"), ("pin", "1234")])
                .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
            assert_eq!(a.location.as_deref(), Some("/"));
        }
        b
    }

    /// A browser with the session cookie of its first page `uri`.
    pub(super) async fn open_at(app: &Router, uri: &str) -> Self {
        let a = send(
            app,
            Request::get(uri)
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

    pub(super) async fn get(&self, uri: &str) -> Answer {
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
    pub(super) async fn post(&self, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = vec![("csrf", self.token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(uri, &all, true).await
    }

    pub(super) async fn post_raw(
        &self,
        uri: &str,
        fields: &[(&str, &str)],
        cookie: bool,
    ) -> Answer {
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

pub(super) fn count(dir: &Path, sql: &str) -> i64 {
    tillsync_till_db::TillDb::open(&dir.join(crate::files::DB_FILE))
        .unwrap()
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

pub(super) fn price(dir: &Path, code: &str) -> i64 {
    count(
        dir,
        &format!("SELECT price_cents FROM ART WHERE code = '{code}'"),
    )
}
