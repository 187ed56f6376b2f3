//! The admin web pages over a real socket: `server admin-password`, login,
//! sessions, CSRF, settings, sync tables, the till supervisor, revocation,
//! deployment packages and "export now". Every refusal leaves things as
//! they were.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use tillsync_server::admin::auth;
use tillsync_testkit::{TestServer, pull};
use tillsync_till::up::sell::{Register, SaleLine, SalePayment, SaleRequest};

use crate::util::tillsync;

const PASSWORD: &str = "Mot-de-passe-2026";

/// `tillsync server admin-password --data DIR --password-stdin`.
fn set_password(dir: &Path, password: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
        .args(["server", "admin-password", "--data"])
        .arg(dir)
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tillsync");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `application/x-www-form-urlencoded`, as a browser sends a form.
fn encode_form(form: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A browser without JavaScript: cookies by hand, no redirects followed.
struct Browser {
    base: String,
    http: Client,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Page {
    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let i = self.body.find(marker).expect("page has a csrf field") + marker.len();
        self.body[i..i + self.body[i..].find('"').unwrap()].to_string()
    }

    #[track_caller]
    fn has(&self, needle: &str) -> &Self {
        assert!(
            self.body.contains(needle),
            "page lacks {needle:?}\n{}",
            self.body
        );
        self
    }
}

impl Browser {
    fn new(server: &TestServer) -> Self {
        Browser {
            base: format!("http://{}", server.web_addr),
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, res: Response) -> Page {
        for c in res.headers().get_all(reqwest::header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !attrs.contains("Max-Age=0") {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        Page {
            status: res.status(),
            location: res
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| v.to_str().unwrap().to_string()),
            body: res.text().unwrap(),
        }
    }

    fn get(&mut self, path: &str) -> Page {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .unwrap();
        self.keep(res)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(encode_form(form))
            .send()
            .unwrap();
        self.keep(res)
    }

    fn post_raw(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(encode_form(form))
            .send()
            .unwrap()
    }

    fn try_login(&mut self, password: &str) -> Page {
        let csrf = self.get("/admin/login").csrf();
        self.post(
            "/admin/login",
            &[("user", "admin"), ("password", password), ("csrf", &csrf)],
        )
    }

    /// Log in; the CSRF token of the session.
    fn login(&mut self) -> String {
        let p = self.try_login(PASSWORD);
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
        assert_eq!(p.location.as_deref(), Some("/admin"));
        self.get("/admin/folder").csrf()
    }
}

/// A server with demo data and an admin password set through the CLI.
fn server() -> TestServer {
    let server = TestServer::start(30);
    let out = set_password(server.dir(), PASSWORD);
    assert!(out.status.success(), "{out:?}");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(PASSWORD), "the password was printed");
    server
}

fn config_bytes(server: &TestServer) -> Vec<u8> {
    std::fs::read(server.dir().join("tillsync.toml")).unwrap()
}

#[test]
fn admin_password_is_stored_hashed_and_refuses_bad_input() {
    let server = server();
    let stored = std::fs::read_to_string(server.dir().join(auth::PASSWORD_FILE)).unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains(PASSWORD));
    // Too short: refused, the stored hash unchanged.
    let out = set_password(server.dir(), "short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
    assert_eq!(
        std::fs::read_to_string(server.dir().join(auth::PASSWORD_FILE)).unwrap(),
        stored
    );
    // Not a data folder: a clear error.
    let tmp = tempfile::tempdir().unwrap();
    tillsync(
        tmp.path(),
        &[
            "server",
            "admin-password",
            "--data",
            "nowhere",
            "--password-stdin",
        ],
    )
    .fails_with("not a tillsync server data folder");
}

#[test]
fn wrong_password_is_refused_and_repeated_ones_lock_the_login() {
    let server = server();
    let mut b = Browser::new(&server);
    let p = b.try_login("wrong password!");
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    p.has("class=\"error\"");
    assert!(!b.cookies.iter().any(|(n, _)| n == auth::SESSION_COOKIE));
    assert_eq!(b.get("/admin/tills").status, StatusCode::SEE_OTHER);
    for _ in 1..auth::FREE_FAILURES {
        b.try_login("wrong password!");
    }
    // Locked: even the right password is refused now.
    let p = b.try_login(PASSWORD);
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    p.has("class=\"error\"");
    assert!(!b.cookies.iter().any(|(n, _)| n == auth::SESSION_COOKIE));
}

#[test]
fn no_session_expired_session_and_missing_csrf_change_nothing() {
    let server = server();
    server.install_till("T001");
    let revoked = |server: &TestServer| {
        server
            .store()
            .tills()
            .unwrap()
            .into_iter()
            .find(|t| t.till_id == "T001")
            .unwrap()
            .revoked_at
            .is_some()
    };
    let before = config_bytes(&server);
    let tables_before = server.store().sync_tables().unwrap();

    // No session: pages go to the login, forms are refused.
    let mut anon = Browser::new(&server);
    let p = anon.get("/admin/tills");
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/admin/login"));
    for (path, form) in [
        ("/admin/tills/revoke", vec![("till", "T001")]),
        (
            "/admin/folder?tab=server",
            vec![("server.listen", "0.0.0.0:1")],
        ),
        (
            "/admin/tables/add",
            vec![
                ("table", "T012"),
                ("direction", "up"),
                ("sync_type", "full"),
            ],
        ),
        ("/admin/export", vec![("mode", "full")]),
    ] {
        assert_eq!(
            anon.post(path, &form).status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }

    // An expired session (genuinely signed, past its end).
    let key = auth::session_key(server.dir()).unwrap();
    let phc = auth::password_hash(server.dir()).unwrap().unwrap();
    let past = chrono::Utc::now().timestamp() - 2 * auth::SESSION_TTL.as_secs() as i64;
    let mut old = Browser::new(&server);
    old.cookies.push((
        auth::SESSION_COOKIE.into(),
        auth::issue_session(&key, &phc, "admin", past, auth::SESSION_TTL),
    ));
    let p = old.get("/admin/tills");
    assert_eq!(p.location.as_deref(), Some("/admin/login?expired=1"));
    assert_eq!(
        old.post("/admin/tills/revoke", &[("till", "T001")]).status,
        StatusCode::UNAUTHORIZED
    );
    let p = old.get("/admin/login?expired=1");
    p.has("expir");

    // Logged in, but forms without (or with a wrong) CSRF token.
    let mut b = Browser::new(&server);
    b.login();
    for token in [None, Some("deadbeef")] {
        let with = |mut f: Vec<(&'static str, &'static str)>| {
            if let Some(t) = token {
                f.push(("csrf", t));
            }
            f
        };
        for (path, form) in [
            ("/admin/tills/revoke", with(vec![("till", "T001")])),
            (
                "/admin/folder?tab=server",
                with(vec![("server.listen", "0.0.0.0:1")]),
            ),
            (
                "/admin/tables/add",
                with(vec![
                    ("table", "T012"),
                    ("direction", "up"),
                    ("sync_type", "full"),
                ]),
            ),
            (
                "/admin/tables/remove",
                with(vec![("table", "ART"), ("direction", "down")]),
            ),
            ("/admin/export", with(vec![("mode", "full")])),
        ] {
            let p = b.post(path, &form);
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{path} {token:?}");
            p.has("CSRF");
        }
    }
    assert!(!revoked(&server));
    assert_eq!(config_bytes(&server), before);
    assert_eq!(server.store().sync_tables().unwrap(), tables_before);
    // No export ran.
    b.get("/admin/export").has("data-state=\"idle\"");
}

#[test]
fn an_invalid_setting_shows_its_error_and_leaves_the_file() {
    let server = server();
    let mut b = Browser::new(&server);
    let csrf = b.login();
    let before = config_bytes(&server);
    for (tab, key, value) in [
        ("server", "server.listen", "not an address"),
        ("db", "db.url", "mysql://x"),
        ("ftp", "ftp.address", "http://nope"),
        ("ftp", "ftp.mode", "carrier-pigeon"),
        ("till", "till.ping_timeout_ms", "-5"),
        ("server", "ui.language", "de"),
    ] {
        let p = b.post(
            &format!("/admin/folder?tab={tab}"),
            &[("csrf", &csrf), (key, value)],
        );
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{key}");
        p.has(&format!("class=\"field-error\" data-field=\"{key}\""));
        assert!(!p.body.contains("flash-ok"));
        assert_eq!(config_bytes(&server), before, "{key}");
    }
}

#[test]
fn settings_are_saved_and_the_password_is_write_only() {
    let server = server();
    let mut b = Browser::new(&server);
    let csrf = b.login();
    let p = b.get("/admin/folder?tab=ftp");
    let pw = server.config().ftp.password;
    assert!(!p.body.contains(pw.expose()), "the FTP password was shown");
    p.has("name=\"ftp.password\"").has("id=\"test-ftp\"");
    let p = b.post(
        "/admin/folder?tab=till",
        &[
            ("csrf", &csrf),
            ("till.sync_interval_ms", "2500"),
            ("till.template_customer", "CLI000000"),
        ],
    );
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    p.has("class=\"flash-ok\"");
    assert_eq!(server.config().till.sync_interval_ms, 2500);
    let p = b.post(
        "/admin/folder?tab=ftp",
        &[("csrf", &csrf), ("ftp.password", "n0uveau-Secret")],
    );
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains("n0uveau-Secret"));
    assert_eq!(server.config().ftp.password.expose(), "n0uveau-Secret");
    // Test connection: the database, as `server check db` says it.
    let p = b.post(
        "/admin/folder/test?tab=db",
        &[("csrf", &csrf), ("what", "db")],
    );
    p.has("id=\"test-result\" class=\"ok\"")
        .has(if server.is_postgres() {
            "database OK: PostgreSQL"
        } else {
            "database OK: SQLite"
        });
    // FTP with a wrong password now: a failed diagnosis, as the CLI words it.
    let p = b.post(
        "/admin/folder/test?tab=ftp",
        &[("csrf", &csrf), ("what", "ftp")],
    );
    p.has("id=\"test-result\" class=\"failed\"")
        .has("FTP check failed");
    let cli = tillsync(
        server.dir(),
        &[
            "server",
            "check",
            "ftp",
            "--data",
            server.dir().to_str().unwrap(),
        ],
    );
    assert!(!cli.out.status.success());
}

#[test]
fn sync_tables_are_added_edited_and_removed_and_bad_ones_refused() {
    let server = server();
    let mut b = Browser::new(&server);
    let csrf = b.login();
    let p = b.get("/admin/tables");
    p.has("id=\"sync-tables\"").has("data-table=\"ART\"");
    let p = b.post(
        "/admin/tables/add",
        &[
            ("csrf", &csrf),
            ("table", "T012"),
            ("direction", "up"),
            ("sync_type", "incremental"),
            ("filter_column", ""),
            ("conflict", "till-wins"),
        ],
    );
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    p.has("data-table=\"T012\" data-direction=\"up\"")
        .has("till-wins");
    // The CLI's refusals: a policy on a down table, a tillsync table, a
    // missing filter column, an unknown direction.
    let before = server.store().sync_tables().unwrap();
    for (table, dir, filter, conflict) in [
        ("ART", "up", "", "newest-wins"),
        ("T012", "down", "", "till-wins"),
        ("tillsync_journal", "down", "", ""),
        ("CLI", "up", "nope", ""),
        ("ART", "sideways", "", ""),
    ] {
        let p = b.post(
            "/admin/tables/add",
            &[
                ("csrf", &csrf),
                ("table", table),
                ("direction", dir),
                ("sync_type", "full"),
                ("filter_column", filter),
                ("conflict", conflict),
            ],
        );
        if table == "ART" && dir == "up" {
            // Accepted: ART may travel up with a policy.
            assert_eq!(p.status, StatusCode::OK, "{}", p.body);
            continue;
        }
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{table} {dir}");
        p.has("class=\"error\"");
    }
    let after = server.store().sync_tables().unwrap();
    assert_eq!(after.len(), before.len() + 1);
    // Edit: CLI down gets a filter column, T012 up a new policy.
    let p = b.post(
        "/admin/tables/edit",
        &[
            ("csrf", &csrf),
            ("table", "T012"),
            ("direction", "up"),
            ("sync_type", "incremental"),
            ("filter_column", ""),
            ("conflict", "newest-wins"),
        ],
    );
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let policy = server
        .store()
        .conflict_policies()
        .unwrap()
        .into_iter()
        .find(|p| p.0 == "T012" && p.1 == tillsync_core::Direction::Up)
        .unwrap()
        .2;
    assert_eq!(policy.as_str(), "newest-wins");
    let p = b.post(
        "/admin/tables/edit",
        &[
            ("csrf", &csrf),
            ("table", "T012"),
            ("direction", "up"),
            ("sync_type", "incremental"),
            ("filter_column", "no_such_column"),
            ("conflict", "newest-wins"),
        ],
    );
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    p.has("class=\"error\"");
    // Remove.
    let p = b.post(
        "/admin/tables/remove",
        &[("csrf", &csrf), ("table", "T012"), ("direction", "up")],
    );
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        !server
            .store()
            .sync_tables()
            .unwrap()
            .iter()
            .any(|t| t.table == "T012" && t.direction == tillsync_core::Direction::Up)
    );
    let p = b.post(
        "/admin/tables/remove",
        &[("csrf", &csrf), ("table", "T012"), ("direction", "up")],
    );
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
}

fn sale() -> SaleRequest {
    SaleRequest {
        lines: vec![SaleLine::units("ART0000001", 1)],
        payments: vec![SalePayment {
            method: "card".into(),
            amount_cents: None,
        }],
        ..SaleRequest::default()
    }
}

#[test]
fn the_till_supervisor_shows_contact_tickets_and_revokes() {
    let server = server();
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("pull");
    let mut reg = Register::open(&till).unwrap();
    for _ in 0..3 {
        reg.sell(&sale()).unwrap();
    }
    tillsync(
        &till,
        &["till", "sync", "--data", till.to_str().unwrap(), "--json"],
    )
    .ok();
    // T002: a package generated, not used yet.
    server.write_package("T002");
    let key_id = tillsync_core::key_history::key_id(
        &tillsync_core::TillConfig::load(&till)
            .unwrap()
            .auth
            .signing_key()
            .unwrap()
            .verifying_key(),
    );
    let mut b = Browser::new(&server);
    let csrf = b.login();
    let p = b.get("/admin/tills");
    p.has(&format!(
        "<td class=\"state\">active<br><span class=\"key-id\" title=\"identifiant de la clé de signature actuelle de la caisse\">clé {key_id}</span>"
    ))
    .has("<td class=\"state\">en attente d'enrôlement, package valable jusqu'au ");
    // The expiry in local time (the folder's time zone), in French.
    let until = server
        .query(
            "SELECT expires_at FROM tillsync_enrolments WHERE till_id = 'T002' AND used_at IS NULL",
        )
        .unwrap();
    p.has(&format!(
        "package valable jusqu'au {}</td>",
        tillsync_core::fiscal::local::LocalZone::paris().show(&until, tillsync_core::Lang::Fr)
    ));
    p.has("id=\"tills\"")
        .has("<tr data-till=\"T001\" data-online=\"yes\">")
        .has("<tr data-till=\"T002\" data-online=\"no\">")
        .has("<td class=\"tickets\">3</td>")
        .has("class=\"inline package-form\"")
        .has("class=\"inline revoke-form\"");
    // The journal, filtered by till.
    let j = b.get("/admin/journal?till=T001");
    j.has("id=\"journal\"").has("packages-asked");
    assert!(!j.body.contains("<tr data-till=\"T002\">"));
    // Revoke: the till's next call is refused.
    let p = b.post("/admin/tills/revoke", &[("csrf", &csrf), ("till", "T001")]);
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    p.has("class=\"flash-ok\"")
        .has("<tr data-till=\"T001\" data-online=\"no\">");
    let pulled = pull(&till);
    assert!(pulled.is_err(), "a revoked till still pulls");
    // Revoking a till without credentials is refused with a clear error.
    let p = b.post("/admin/tills/revoke", &[("csrf", &csrf), ("till", "T003")]);
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    p.has("no credentials");
}

#[test]
fn a_deployment_package_downloads_and_installs_a_till() {
    let server = server();
    server.export();
    let mut b = Browser::new(&server);
    let csrf = b.login();
    let res = b.post_raw("/admin/tills/package", &[("csrf", &csrf), ("till", "T002")]);
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.contains("attachment") && disposition.contains("tillsync-T002.json"));
    let pkg = res.bytes().unwrap();
    let file = server.root.path().join("T002.json");
    std::fs::write(&file, &pkg).unwrap();
    let tdir = server.root.path().join("T002");
    tillsync_till::install::init(&tdir, &file).expect("install from the downloaded package");
    pull(&tdir).expect("the installed till pulls");
    server.assert_till_matches(&tdir);
    // An unknown till: refused, with the reason.
    let p = b.post("/admin/tills/package", &[("csrf", &csrf), ("till", "T999")]);
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    p.has("class=\"error\"").has("T999");
}

fn wait_export(b: &mut Browser) -> Page {
    let started = Instant::now();
    loop {
        let p = b.get("/admin/export");
        if !p.body.contains("data-state=\"running\"") {
            return p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "export never finished"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn export_now_runs_and_reports_and_a_busy_folder_fails_cleanly() {
    let server = server();
    let mut b = Browser::new(&server);
    let csrf = b.login();
    b.get("/admin/export")
        .has("id=\"export-form\"")
        .has("data-state=\"idle\"");
    let p = b.post("/admin/export", &[("csrf", &csrf), ("mode", "full")]);
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = wait_export(&mut b);
    p.has("data-state=\"done\"").has("ART").has("published");
    assert!(server.store().table_state("ART").unwrap().is_some());
    // Another export holds the folder's lock: this one fails and says why.
    let lock = std::fs::File::create(server.dir().join("export.lock")).unwrap();
    lock.try_lock().unwrap();
    b.post("/admin/export", &[("csrf", &csrf), ("mode", "incremental")]);
    let p = wait_export(&mut b);
    p.has("data-state=\"failed\"")
        .has("another export is running");
    drop(lock);
    b.post("/admin/export", &[("csrf", &csrf), ("mode", "incremental")]);
    wait_export(&mut b).has("data-state=\"done\"");
    // An unknown mode: refused.
    let p = b.post("/admin/export", &[("csrf", &csrf), ("mode", "sideways")]);
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn logout_ends_the_session() {
    let server = server();
    let mut b = Browser::new(&server);
    let csrf = b.login();
    let p = b.post("/admin/logout", &[("csrf", &csrf)]);
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/admin/tills").status, StatusCode::SEE_OTHER);
}

/// The till reports its outbox with each package request: the supervisor,
/// `server tills list` and `/metrics` show the backlog, and 0 once pushed.
/// A till that sends no report (an older one) is still answered, and a
/// report with an unreadable time is refused with a clear error.
#[test]
fn the_till_supervisor_shows_the_reported_outbox_backlog() {
    use tillsync_wire::api::{AvailableRequest, TillReport};

    let server = server();
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first pull");
    let mut b = Browser::new(&server);
    b.login();
    // Reported, and empty.
    b.get("/admin/tills")
        .has("<td class=\"backlog\" data-backlog=\"0\"")
        .has("<tr data-till=\"T002\" data-online=\"no\">");
    let t2 = b.get("/admin/tills");
    let row2 = &t2.body[t2.body.find("data-till=\"T002\"").unwrap()..];
    assert!(
        row2.contains("data-backlog=\"\"") && row2.contains("non signalée"),
        "a till that never reported shows \"not reported\"\n{row2}"
    );

    // Three sales, not pushed: the next package request reports them.
    let mut reg = Register::open(&till).unwrap();
    for _ in 0..3 {
        reg.sell(&sale()).unwrap();
    }
    drop(reg);
    pull(&till).expect("pull with a backlog");
    let overview = server.store().till_overview().unwrap();
    let t1 = overview.iter().find(|o| o.till.till_id == "T001").unwrap();
    let r = t1.outbox.as_ref().expect("T001 reported its outbox");
    assert_eq!((r.outbox_tickets, r.outbox_other, r.errors), (3, 0, 0));
    assert!(r.oldest_queued_at.is_some() && r.oldest_age_secs.is_some());
    let p = b.get("/admin/tills");
    p.has("data-backlog=\"3\"")
        .has("(3 tickets, 0 autres)")
        .has("plus ancien : ")
        .has("liste d'erreurs de la caisse : 0");
    assert!(
        !p.body.contains("backlog-old"),
        "a fresh backlog is not late"
    );
    let metrics = reqwest::blocking::get(format!("http://{}/metrics", server.web_addr))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == r#"tillsync_till_outbox_backlog{till="T001"} 3"#),
        "{metrics}"
    );
    let listed = tillsync(
        server.dir(),
        &[
            "server",
            "tills",
            "list",
            "--data",
            server.dir().to_str().unwrap(),
            "--json",
        ],
    )
    .ok()
    .json();
    let t1 = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["till_id"] == "T001")
        .unwrap();
    assert_eq!(t1["outbox"]["outbox_tickets"], 3, "{t1}");

    // An older till sends no report: answered, and the last report stays.
    let cfg = tillsync_core::TillConfig::load(&till).unwrap();
    let client = tillsync_till::client::Client::new(&cfg).unwrap();
    client
        .available(&AvailableRequest {
            tables: vec![],
            full: false,
            report: None,
        })
        .expect("a request without a report is accepted");
    b.get("/admin/tills").has("data-backlog=\"3\"");
    // An unreadable time is refused, naming the field; nothing recorded.
    let refused = client
        .available(&AvailableRequest {
            tables: vec![],
            full: false,
            report: Some(TillReport {
                outbox_tickets: 99,
                oldest_queued_at: Some("yesterday".into()),
                ..Default::default()
            }),
        })
        .unwrap_err()
        .to_string();
    assert!(refused.contains("report.oldest_queued_at"), "{refused}");
    b.get("/admin/tills").has("data-backlog=\"3\"");

    // Pushed, then the next request reports an empty outbox.
    tillsync_till::up::push::push(&till, Default::default()).expect("push");
    pull(&till).expect("pull after the push");
    b.get("/admin/tills").has("data-backlog=\"0\"");
    let overview = server.store().till_overview().unwrap();
    let t1 = overview.iter().find(|o| o.till.till_id == "T001").unwrap();
    assert_eq!(t1.outbox.as_ref().unwrap().backlog(), 0);
    assert_eq!(t1.tickets.tickets_received, 3);
}

/// An old backlog is marked late on the supervisor page.
#[test]
fn an_old_backlog_is_highlighted() {
    use tillsync_wire::api::TillReport;

    let server = server();
    let mut db = server.store();
    db.record_till_report(
        "T002",
        &TillReport {
            outbox_tickets: 7,
            outbox_other: 1,
            oldest_queued_at: Some("2026-11-27T08:00:00Z".into()),
            oldest_age_secs: Some(2 * 3600),
            errors: 2,
            last_error: Some("rejected: unknown customer CLI999".into()),
        },
    )
    .unwrap();
    drop(db);
    let mut b = Browser::new(&server);
    b.login();
    let p = b.get("/admin/tills");
    let row = &p.body[p.body.find("data-till=\"T002\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("class=\"backlog backlog-old\" data-backlog=\"8\""),
        "{row}"
    );
    assert!(row.contains("en retard"), "{row}");
    assert!(row.contains("liste d'erreurs de la caisse : 2"), "{row}");
    assert!(row.contains("rejected: unknown customer CLI999"), "{row}");
}

/// With `ui.language = fr` (the default) the POS folder page shows French
/// hints and French validation errors naming the field; with `en`, English.
#[test]
fn the_folder_page_speaks_the_configured_language() {
    let server = server();
    let mut b = Browser::new(&server);
    let csrf = b.login();
    let p = b.get("/admin/folder?tab=till");
    p.has("attente entre deux synchronisations des tickets sur une caisse, en ms");
    assert!(
        !p.body
            .contains("wait between two ticket synchronisations on a till"),
        "an English hint on a French page"
    );
    let p = b.post(
        "/admin/folder?tab=till",
        &[("csrf", &csrf), ("till.sync_interval_ms", "vite")],
    );
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    p.has("Valeur « vite » refusée pour « Durée d'attente entre 2 synchronisations (ms) » (till.sync_interval_ms) : attendu : un nombre entier de millisecondes supérieur à 0");
    assert!(!p.body.contains("invalid value"), "{}", p.body);

    let p = b.post(
        "/admin/folder?tab=server",
        &[("csrf", &csrf), ("ui.language", "en")],
    );
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let p = b.get("/admin/folder?tab=till");
    p.has("wait between two ticket synchronisations on a till, in ms");
    let p = b.post(
        "/admin/folder?tab=till",
        &[("csrf", &csrf), ("till.sync_interval_ms", "vite")],
    );
    p.has("invalid value &quot;vite&quot; for till.sync_interval_ms");
}
