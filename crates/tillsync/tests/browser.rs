//! The web pages in headless Chromium, driven over WebDriver by
//! `tillsync_testkit::browser`: each test has its own server, tills, temp
//! folder and browser. Skipped (with a notice) when Chromium or chromedriver
//! is missing, unless `TILLSYNC_REQUIRE_BROWSER=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tillsync_server::admin::auth;
use tillsync_testkit::TestServer;
use tillsync_testkit::browser::{self, Browser};
use tillsync_transport::embedded::EmbeddedFtp;

/// Longest wait for something the page should show.
const WAIT: Duration = Duration::from_secs(15);

/// The administrator's password of the test servers.
const PASSWORD: &str = "Caisse-Centrale-2026";

/// A server with demo data, its pages in English, an admin password set.
fn admin_server() -> TestServer {
    let server = TestServer::start(30);
    let mut cfg = server.config();
    cfg.set("ui.language", "en").expect("language");
    cfg.save(server.dir()).expect("save config");
    auth::set_password(server.dir(), PASSWORD).expect("admin password");
    server
}

/// `http://ADDR/PATH` of the server's web service.
fn url(server: &TestServer, path: &str) -> String {
    format!("http://{}{path}", server.web_addr)
}

/// Log in through the login form; lands on the till supervisor.
fn log_in(b: &Browser, server: &TestServer) {
    b.goto(&url(server, "/admin/login")).unwrap();
    b.find("form#login-form input[name=password]")
        .unwrap()
        .type_text(PASSWORD)
        .unwrap();
    b.find("button#login").unwrap().click().unwrap();
    b.wait_for("table#tills", WAIT).unwrap();
}

/// Log in on the cashier page as the demo's cashier CAI01 (PIN 1234): the
/// page opens on the login when the till has cashiers.
fn cashier_log_in(b: &Browser) {
    b.wait_for("form#login", WAIT).unwrap();
    b.find("form#login select[name=cashier]")
        .unwrap()
        .select_by_value("CAI01")
        .unwrap();
    b.find("form#login input[name=pin]")
        .unwrap()
        .type_text("1234")
        .unwrap();
    b.find("button#login-submit").unwrap().click().unwrap();
    b.wait_for("form#search", WAIT).unwrap();
}

/// The harness itself: headless Chromium opens a document the web service
/// serves, reads it, and saves a screenshot.
#[test]
fn harness_reads_a_served_page() {
    let server = TestServer::start(20);
    let Some(b) = browser::for_test("browser::harness_reads_a_served_page", server.root.path())
    else {
        return;
    };
    let url = format!("http://{}/api/v1/openapi.json", server.web_addr);
    b.goto(&url).unwrap();
    assert_eq!(b.current_url().unwrap(), url);
    let text = b.wait_for_text("body", "\"openapi\"", WAIT).unwrap();
    let doc: serde_json::Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("page text is not the OpenAPI JSON ({e}): {text}"));
    assert!(
        doc["paths"]["/api/v1/ping"].is_object(),
        "no /api/v1/ping in {doc}"
    );

    // A selector that matches nothing fails with a message naming it.
    let err = b.find("#no-such-element").unwrap_err().to_string();
    assert!(
        err.contains("#no-such-element") && err.contains(&url),
        "{err}"
    );

    let png = server.root.path().join("shot.png");
    b.screenshot(&png).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // The viewport is the 1366×768 screen the pages are laid out for, and
    // the screenshot has its size (IHDR: width and height, big-endian).
    let size = b
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .unwrap();
    assert_eq!(size, serde_json::json!([1366, 768]));
    let dim = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((dim(16), dim(20)), browser::VIEWPORT);
}

/// The harness's form controls, waits and cookies on a page of its own
/// (a `data:` URL) and on the web service's origin.
#[test]
fn harness_types_selects_clicks_waits_and_keeps_cookies() {
    let server = TestServer::start(20);
    let Some(b) = browser::for_test(
        "browser::harness_types_selects_clicks_waits_and_keeps_cookies",
        server.root.path(),
    ) else {
        return;
    };
    let page = r#"<!doctype html><title>form</title>
<input id="name" value="old">
<select id="mode"><option value="copy">Copy</option><option value="put">Put</option></select>
<button id="go" onclick="setTimeout(function () {
  var p = document.createElement('p');
  p.id = 'result';
  p.textContent = document.getElementById('name').value + '/' + document.getElementById('mode').value;
  document.body.appendChild(p);
}, 300)">Go</button>"#;
    b.goto(&format!("data:text/html;charset=utf-8,{}", percent(page)))
        .unwrap();
    assert_eq!(b.title().unwrap(), "form");
    b.find("#name").unwrap().type_text("Caisse 1").unwrap();
    b.find("#mode").unwrap().select_by_value("put").unwrap();
    assert_eq!(b.find("#mode").unwrap().value().unwrap(), "put");
    let err = b
        .find("#mode")
        .unwrap()
        .select_by_value("ftp")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"ftp\"") && err.contains("\"copy\", \"put\""),
        "{err}"
    );
    assert!(b.try_find("#result").unwrap().is_none());
    b.find("#go").unwrap().click().unwrap();
    // The paragraph appears after a delay: waiting, not sleeping.
    let text = b.wait_for("#result", WAIT).unwrap().text().unwrap();
    assert_eq!(text, "Caisse 1/put");
    assert_eq!(b.find_all("option").unwrap().len(), 2);
    let err = b
        .wait_for("#never", Duration::from_millis(200))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("#never") && err.contains("Caisse 1/put"),
        "{err}"
    );

    // Cookies belong to a site: use the web service's.
    b.goto(&format!("http://{}/api/v1/ping", server.web_addr))
        .unwrap();
    assert!(b.cookies().unwrap().is_empty());
    b.add_cookie("tillsync_test", "v1").unwrap();
    let c = b.cookie("tillsync_test").unwrap().expect("cookie set");
    assert_eq!(c.value, "v1");
    b.delete_cookie("tillsync_test").unwrap();
    assert_eq!(b.cookie("tillsync_test").unwrap(), None);
}

/// `s` percent-encoded for a `data:` URL.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (c as char).to_string()
            }
            _ => format!("%{c:02X}"),
        })
        .collect()
}

/// The login form: no way in without a session, a wrong password refused
/// with a message and no session, the right one lands on the supervisor;
/// a lost, expired or logged-out session sends back to the login page.
#[test]
fn admin_login_refuses_a_wrong_password_and_lets_the_right_one_in() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::admin_login", server.root.path()) else {
        return;
    };
    b.goto(&url(&server, "/admin/tills")).unwrap();
    assert!(
        b.current_url().unwrap().ends_with("/admin/login"),
        "{}",
        b.current_url().unwrap()
    );
    let user = b.find("form#login-form input[name=user]").unwrap();
    assert_eq!(
        user.value().unwrap(),
        "admin",
        "pre-filled with folder.admin"
    );

    // A wrong password: an error, still the login page, no session.
    b.find("input[name=password]")
        .unwrap()
        .type_text("not-the-password")
        .unwrap();
    b.find("button#login").unwrap().click().unwrap();
    let err = b.wait_for(".error", WAIT).unwrap().text().unwrap();
    assert!(!err.trim().is_empty(), "an empty error");
    assert!(b.current_url().unwrap().contains("/admin/login"));
    assert!(b.try_find("table#tills").unwrap().is_none());
    assert_eq!(b.cookie(auth::SESSION_COOKIE).unwrap(), None);
    // The password field is not filled back in.
    assert_eq!(b.find("input[name=password]").unwrap().value().unwrap(), "");

    // The right one: the supervisor, and an HttpOnly session cookie.
    b.find("input[name=password]")
        .unwrap()
        .type_text(PASSWORD)
        .unwrap();
    b.find("button#login").unwrap().click().unwrap();
    b.wait_for("table#tills", WAIT).unwrap();
    assert!(b.current_url().unwrap().ends_with("/admin/tills"));
    let cookie = b
        .cookie(auth::SESSION_COOKIE)
        .unwrap()
        .expect("a session cookie");
    assert!(cookie.http_only, "{cookie:?}");
    b.goto(&url(&server, "/admin/folder?tab=server")).unwrap();
    b.wait_for("form#folder-form", WAIT).unwrap();

    // The session is lost (cookie gone): back to the login page.
    b.delete_cookie(auth::SESSION_COOKIE).unwrap();
    b.goto(&url(&server, "/admin/folder?tab=server")).unwrap();
    b.wait_for("form#login-form", WAIT).unwrap();

    // An expired session (signed by the server's key, 9 hours old): the
    // login page says it expired.
    let key = auth::session_key(server.dir()).unwrap();
    let phc = auth::password_hash(server.dir()).unwrap().expect("hash");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let old = auth::issue_session(&key, &phc, "admin", now - 9 * 3600, auth::SESSION_TTL);
    b.add_cookie(auth::SESSION_COOKIE, &old).unwrap();
    b.goto(&url(&server, "/admin/tills")).unwrap();
    b.wait_for_text("body", "Your session has expired", WAIT)
        .unwrap();
    assert!(b.current_url().unwrap().ends_with("/admin/login?expired=1"));
    b.delete_all_cookies().unwrap();

    // Log out: the session ends.
    log_in(&b, &server);
    b.find("form#logout button").unwrap().click().unwrap();
    b.wait_for("form#login-form", WAIT).unwrap();
    b.goto(&url(&server, "/admin/tills")).unwrap();
    b.wait_for("form#login-form", WAIT).unwrap();
}

/// The POS folder page saves a setting (the page shows it after a reload,
/// the configuration file has it) and refuses a bad value next to its
/// field without saving anything of the tab.
#[test]
fn admin_setting_changed_on_the_folder_page_is_saved() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::admin_setting", server.root.path()) else {
        return;
    };
    log_in(&b, &server);
    let page = url(&server, "/admin/folder?tab=till");
    b.goto(&page).unwrap();
    let field = "form#folder-form input[name=\"till.sync_interval_ms\"]";
    assert_ne!(b.find(field).unwrap().value().unwrap(), "7000");
    b.find(field).unwrap().type_text("7000").unwrap();
    b.find("button#save").unwrap().click().unwrap();
    b.wait_for(".flash-ok", WAIT).unwrap();
    assert_eq!(server.config().till.sync_interval_ms, 7000);
    let saved = std::fs::read_to_string(server.dir().join("tillsync.toml")).unwrap();
    assert!(saved.contains("7000"), "{saved}");
    b.goto(&page).unwrap();
    assert_eq!(b.find(field).unwrap().value().unwrap(), "7000");

    // A refused value: its error by the field, and nothing of the tab saved.
    let before = std::fs::read(server.dir().join("tillsync.toml")).unwrap();
    b.find(field).unwrap().type_text("8000").unwrap();
    b.find("form#folder-form input[name=\"till.ping_timeout_ms\"]")
        .unwrap()
        .type_text("-5")
        .unwrap();
    b.find("button#save").unwrap().click().unwrap();
    let err = b
        .wait_for(".field-error[data-field=\"till.ping_timeout_ms\"]", WAIT)
        .unwrap()
        .text()
        .unwrap();
    assert!(!err.trim().is_empty(), "an empty field error");
    assert!(b.try_find(".flash-ok").unwrap().is_none());
    assert_eq!(
        std::fs::read(server.dir().join("tillsync.toml")).unwrap(),
        before,
        "a refused tab changed the configuration"
    );
    b.goto(&page).unwrap();
    assert_eq!(b.find(field).unwrap().value().unwrap(), "7000");
}

/// "Test connection" on the FTP tab: OK against a running FTP server, then
/// the failure, read on the page, once that server is stopped.
#[test]
fn admin_ftp_test_connection_reports_a_stopped_server() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::admin_ftp_test", server.root.path()) else {
        return;
    };
    let root = server.root.path().join("ftp-root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("test.txt"), "tillsync test file\n").unwrap();
    let ftp = EmbeddedFtp::start_in_background(
        root,
        "magasin",
        "Ftp-Secret-2026",
        "127.0.0.1:0".parse().unwrap(),
    )
    .expect("FTP server");
    let addr = ftp.local_addr();

    log_in(&b, &server);
    b.goto(&url(&server, "/admin/folder?tab=ftp")).unwrap();
    b.find("input[name=\"ftp.address\"]")
        .unwrap()
        .type_text(&format!("ftp://{addr}"))
        .unwrap();
    b.find("input[name=\"ftp.user\"]")
        .unwrap()
        .type_text("magasin")
        .unwrap();
    b.find("input[name=\"ftp.password\"]")
        .unwrap()
        .type_text("Ftp-Secret-2026")
        .unwrap();
    b.find("button#save").unwrap().click().unwrap();
    b.wait_for(".flash-ok", WAIT).unwrap();
    // The password field stays empty (write-only), the password is kept.
    assert_eq!(
        b.find("input[name=\"ftp.password\"]")
            .unwrap()
            .value()
            .unwrap(),
        ""
    );
    assert!(!b.page_source().unwrap().contains("Ftp-Secret-2026"));

    b.find("button#test-ftp").unwrap().click().unwrap();
    let ok = b.wait_for("#test-result", WAIT).unwrap();
    let text = ok.text().unwrap();
    assert!(
        ok.attribute("class")
            .unwrap()
            .unwrap_or_default()
            .contains("ok"),
        "{text}"
    );
    assert!(text.contains("FTP OK"), "{text}");

    // The FTP server stops: the same button reports the failure.
    ftp.shutdown();
    b.find("button#test-ftp").unwrap().click().unwrap();
    let failed = b.wait_for("#test-result.failed", WAIT).unwrap();
    let text = failed.text().unwrap();
    assert!(text.contains("FTP check failed"), "{text}");
    assert!(text.contains(&addr.port().to_string()), "{text}");
}

/// Adding a sync table from the sync tables page: a table the ERP just
/// created is listed and goes down to a till with the next export; an
/// unknown table is refused and nothing is added.
#[test]
fn admin_sync_table_added_is_listed_and_exported() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::admin_sync_table", server.root.path()) else {
        return;
    };
    server.erp(
        "CREATE TABLE \"PROMO\"(code TEXT PRIMARY KEY, label TEXT NOT NULL, percent INTEGER NOT NULL);
         INSERT INTO \"PROMO\" VALUES ('P1', 'Soldes d''hiver', 30), ('P2', 'Fête des mères', 10);",
    );
    log_in(&b, &server);
    b.goto(&url(&server, "/admin/tables")).unwrap();
    let row = "table#sync-tables tr[data-table=\"PROMO\"][data-direction=\"down\"]";
    assert!(b.try_find(row).unwrap().is_none());

    // Refused: a table that does not exist.
    let form = b.find("form#add-table").unwrap();
    form.find("input[name=table]")
        .unwrap()
        .type_text("NOPE")
        .unwrap();
    form.find("select[name=direction]")
        .unwrap()
        .select_by_value("down")
        .unwrap();
    form.find("select[name=sync_type]")
        .unwrap()
        .select_by_value("full")
        .unwrap();
    b.find("button#add-table-submit").unwrap().click().unwrap();
    let err = b.wait_for(".error", WAIT).unwrap().text().unwrap();
    assert!(err.contains("NOPE"), "{err}");
    assert!(b.try_find("tr[data-table=\"NOPE\"]").unwrap().is_none());

    // Added: PROMO, down, full.
    b.goto(&url(&server, "/admin/tables")).unwrap();
    let form = b.find("form#add-table").unwrap();
    form.find("input[name=table]")
        .unwrap()
        .type_text("PROMO")
        .unwrap();
    form.find("select[name=direction]")
        .unwrap()
        .select_by_value("down")
        .unwrap();
    form.find("select[name=sync_type]")
        .unwrap()
        .select_by_value("full")
        .unwrap();
    b.find("button#add-table-submit").unwrap().click().unwrap();
    b.wait_for(".flash-ok", WAIT).unwrap();
    b.goto(&url(&server, "/admin/tables")).unwrap();
    let text = b.find(row).unwrap().text().unwrap();
    assert!(text.contains("PROMO") && text.contains("full"), "{text}");
    assert!(
        server
            .store()
            .sync_tables()
            .unwrap()
            .iter()
            .any(|t| t.table == "PROMO" && t.direction.to_string() == "down"),
        "PROMO is not a sync table in the database"
    );

    // The next export publishes it and a till loads it.
    server.export();
    let till = server.install_till("T001");
    tillsync_testkit::pull(&till).expect("pull");
    let db = rusqlite::Connection::open(till.join(tillsync_till::DB_FILE)).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM PROMO", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

/// `tillsync --json till run` for the till in `dir`: the cashier page on a
/// free loopback port, a pull every 250 ms (each pull is a call the server
/// counts as contact). Its log goes to `dir/agent.log`; killed when dropped.
struct TillAgent {
    child: Child,
    /// The cashier page, as `till run` printed it.
    url: String,
}

impl TillAgent {
    fn start(dir: &Path) -> Self {
        let log = std::fs::File::create(dir.join("agent.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
            .args(["--json", "till", "run", "--pull-interval-ms", "250"])
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(dir)
            .env_remove("TILLSYNC_TILL_DATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("run tillsync till run");
        // The first line is the page's URL; the rest is read and dropped so
        // that the agent never blocks on a full pipe.
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for _ in lines {}
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "till run printed no cashier URL\n--- agent log\n{}",
                    std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
                )
            });
        let v: serde_json::Value = serde_json::from_str(&first)
            .unwrap_or_else(|e| panic!("first line of till run is not JSON ({e}): {first}"));
        let url = v["cashier_url"].as_str().expect("cashier_url").to_string();
        TillAgent { child, url }
    }

    /// Stop it at once, as a till switched off.
    fn stop(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for TillAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The supervisor's `data-online` of `till`, reloading the page each look,
/// until it is `want`.
fn wait_online(b: &Browser, server: &TestServer, till: &str, want: &str, agent_log: &Path) {
    let row = format!("table#tills tr[data-till=\"{till}\"]");
    let r = b.wait_until(
        &format!("{till} online = {want}"),
        Duration::from_secs(30),
        |b| {
            b.goto(&url(server, "/admin/tills"))?;
            let now = b.find(&row)?.attribute("data-online")?;
            if now.as_deref() == Some(want) {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(200));
            Ok(false)
        },
    );
    if let Err(e) = r {
        panic!(
            "{e}\n--- agent log\n{}",
            std::fs::read_to_string(agent_log).unwrap_or_default()
        );
    }
}

/// Stop a till's synchroniser: the supervisor shows it offline; start it
/// again: online. Online = recorded last contact within 2 × ping timeout +
/// sync interval + the contact write interval + 1 s (docs/admin-pages.md),
/// here 3 + 3 + 1 = 7 s.
#[test]
fn admin_supervisor_sees_a_stopped_till_offline_then_back() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::admin_supervisor", server.root.path()) else {
        return;
    };
    let mut cfg = server.config();
    cfg.set("till.sync_interval_ms", "1000").unwrap();
    cfg.set("till.ping_timeout_ms", "1000").unwrap();
    cfg.save(server.dir()).unwrap();
    server.export();
    let till: PathBuf = server.install_till("T001");
    let log = till.join("agent.log");

    log_in(&b, &server);
    let agent = TillAgent::start(&till);
    wait_online(&b, &server, "T001", "yes", &log);
    let row = b.find("table#tills tr[data-till=\"T001\"]").unwrap();
    assert!(
        !row.text().unwrap().contains("never"),
        "{}",
        row.text().unwrap()
    );

    agent.stop();
    wait_online(&b, &server, "T001", "no", &log);

    let _agent = TillAgent::start(&till);
    wait_online(&b, &server, "T001", "yes", &log);
}

/// Ring up a sale on the cashier page (search, add twice, pay by card,
/// receipt); the synchroniser sends it up, and the server's tills page shows
/// it under that till.
#[test]
fn cashier_sale_shows_under_its_till_on_the_server() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::cashier_sale", server.root.path()) else {
        return;
    };
    server.export();
    let till = server.install_till("T001");
    tillsync_testkit::pull(&till).expect("first load");
    let mut cfg = tillsync_core::TillConfig::load(&till).unwrap();
    cfg.sync.sync_interval_ms = 200;
    cfg.sync.retry_interval_ms = 200;
    cfg.till.language = "en".parse().unwrap();
    cfg.save(&till).unwrap();
    let (code, price): (String, i64) =
        rusqlite::Connection::open(till.join(tillsync_till::DB_FILE))
            .unwrap()
            .query_row(
                "SELECT code, price_cents FROM ART WHERE code LIKE 'ART%' ORDER BY code LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();

    let agent = TillAgent::start(&till);
    b.goto(&agent.url).unwrap();
    cashier_log_in(&b);
    b.wait_for("#connection[data-online=\"yes\"]", WAIT)
        .unwrap();
    b.find("form#search input[name=q]")
        .unwrap()
        .type_text(&code)
        .unwrap();
    b.find("button#search-submit").unwrap().click().unwrap();
    let row = format!("table#items tr[data-code=\"{code}\"]");
    let item = b.wait_for(&row, WAIT).unwrap();
    item.find("input[name=quantity]")
        .unwrap()
        .type_text("2")
        .unwrap();
    item.find("button.add").unwrap().click().unwrap();
    let line = b
        .wait_for(&format!("table#ticket tr.line[data-code=\"{code}\"]"), WAIT)
        .unwrap();
    assert_eq!(line.find("td.qty").unwrap().text().unwrap().trim(), "2");
    let total = b.find("#total").unwrap().attribute("data-cents").unwrap();
    assert_eq!(total, Some((2 * price).to_string()));
    b.find("form#pay select[name=method]")
        .unwrap()
        .select_by_value("card")
        .unwrap();
    b.find("button#pay-submit").unwrap().click().unwrap();
    let receipt = b.wait_for("#receipt", WAIT).unwrap();
    assert_eq!(
        receipt.attribute("data-ticket").unwrap().as_deref(),
        Some("1")
    );
    assert_eq!(
        b.find(".ticket-number").unwrap().text().unwrap().trim(),
        "1"
    );
    let short = b.find(".signature").unwrap().text().unwrap();
    assert_eq!(short.trim().len(), 8, "{short}");

    // The synchroniser sends it up: the outbox empties (the page's script
    // refreshes the count) and the server has it.
    b.find("a#new-sale").unwrap().click().unwrap();
    b.wait_until("no ticket waiting in the outbox", WAIT, |b| {
        Ok(b.find("#outbox-count")?.text()?.trim() == "0")
    })
    .unwrap();

    log_in(&b, &server);
    let tickets = "table#tills tr[data-till=\"T001\"] td.tickets";
    b.wait_until("T001 with 1 ticket on the tills page", WAIT, |b| {
        b.goto(&url(&server, "/admin/tills"))?;
        if b.find(tickets)?.text()?.trim() == "1" {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(200));
        Ok(false)
    })
    .unwrap();
    let on_server: i64 =
        server.count("SELECT total_cents FROM TICKET WHERE till_id = 'T001' AND number = 1");
    assert_eq!(on_server, 2 * price);
    drop(agent);
}

/// The cashier page in Chromium: the PIN login (a wrong PIN refused), a
/// sale whose 80 mm receipt shows the store's identity, the cashier and the
/// QR code, and prints only when asked (the print button calls
/// `window.print`, nothing before); an invoice on request; a duplicate from
/// the recent tickets, marked with its number; the logout.
#[test]
fn cashier_logs_in_by_pin_and_prints_receipts_only_on_request() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::cashier_receipts", server.root.path()) else {
        return;
    };
    server.export();
    let till = server.install_till("T001");
    tillsync_testkit::pull(&till).expect("first load");
    let agent = TillAgent::start(&till);
    b.goto(&agent.url).unwrap();
    b.wait_for("form#login", WAIT).unwrap();
    b.find("form#login select[name=cashier]")
        .unwrap()
        .select_by_value("CAI02")
        .unwrap();
    b.find("form#login input[name=pin]")
        .unwrap()
        .type_text("1111")
        .unwrap();
    b.find("button#login-submit").unwrap().click().unwrap();
    b.wait_for_text(".error", "Code erroné", WAIT).unwrap();
    cashier_log_in(&b);
    assert_eq!(
        b.find("#cashier-name").unwrap().text().unwrap().trim(),
        "Marie Martin"
    );
    let code: String = rusqlite::Connection::open(till.join(tillsync_till::DB_FILE))
        .unwrap()
        .query_row(
            "SELECT code FROM ART WHERE code LIKE 'ART%' ORDER BY code LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    b.find("form#search input[name=q]")
        .unwrap()
        .type_text(&code)
        .unwrap();
    b.find("button#search-submit").unwrap().click().unwrap();
    b.wait_for(
        &format!("table#items tr[data-code=\"{code}\"] button.add"),
        WAIT,
    )
    .unwrap()
    .click()
    .unwrap();
    b.wait_for("table#ticket tr.line", WAIT).unwrap();
    b.find("button#pay-submit").unwrap().click().unwrap();
    let receipt = b.wait_for("#receipt.receipt-80mm", WAIT).unwrap();
    let text = receipt.text().unwrap();
    for needle in [
        "Lyon Part-Dieu",
        "SIRET 904 128 733 00014",
        "FR43904128733",
        "TICKET DE CAISSE",
        "Marie Martin",
        "TOTAL TTC",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}: {text}");
    }
    let qr = b.find("#receipt .qr").unwrap();
    assert!(
        qr.attribute("data-payload")
            .unwrap()
            .unwrap()
            .starts_with("TSR1*T001*")
    );
    assert!(b.try_find("#receipt .qr svg").unwrap().is_some());
    // Nothing printed by itself; the button prints.
    b.execute(
        "window.__printed = 0; window.print = function () { window.__printed += 1; };",
        vec![],
    )
    .unwrap();
    assert_eq!(b.execute("return window.__printed;", vec![]).unwrap(), 0);
    b.find("button#print-receipt").unwrap().click().unwrap();
    assert_eq!(b.execute("return window.__printed;", vec![]).unwrap(), 1);
    // An invoice on request.
    b.find("a#invoice").unwrap().click().unwrap();
    b.wait_for("#receipt[data-invoice=\"yes\"]", WAIT).unwrap();
    assert!(
        b.find(".doc-title")
            .unwrap()
            .text()
            .unwrap()
            .contains("FACTURE n° T001-1")
    );
    // A duplicate of the past ticket.
    b.find("a#tickets-link").unwrap().click().unwrap();
    b.find("table#tickets tr[data-ticket=\"1\"] button.reprint")
        .unwrap()
        .click()
        .unwrap();
    b.wait_for("#receipt[data-duplicate=\"1\"]", WAIT).unwrap();
    assert_eq!(
        b.find(".mark.duplicate").unwrap().text().unwrap().trim(),
        "DUPLICATA n° 1"
    );
    b.find("button#logout-submit").unwrap().click().unwrap();
    b.wait_for("form#login", WAIT).unwrap();
    drop(agent);
}

/// A PNG of every admin page and of the cashier pages, over a server with
/// two tills (T001 running, with a sale; T002 loaded once, not running). Saved under
/// `$TILLSYNC_SCREENSHOTS` (relative to the workspace root; the README's
/// command uses `docs/screenshots`), else in the test's temp folder.
#[test]
fn screenshots_of_every_page() {
    let server = admin_server();
    let Some(b) = browser::for_test("browser::screenshots", server.root.path()) else {
        return;
    };
    let out = match std::env::var_os("TILLSYNC_SCREENSHOTS") {
        Some(d) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(d),
        None => server.root.path().join("screenshots"),
    };
    std::fs::create_dir_all(&out).unwrap();
    let shot = |name: &str| {
        let path = out.join(format!("{name}.png"));
        b.screenshot_full_page(&path).unwrap();
        let png = std::fs::read(&path).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
        eprintln!("saved {}", path.display());
    };
    // "Test connection" reads test.txt from the folder the FTP server serves.
    std::fs::write(server.share_dir().join("test.txt"), "tillsync\n").unwrap();
    server.export();
    let t1 = server.install_till("T001");
    let t2 = server.install_till("T002");
    for t in [&t1, &t2] {
        tillsync_testkit::pull(t).expect("first load");
        let mut cfg = tillsync_core::TillConfig::load(t).unwrap();
        cfg.sync.sync_interval_ms = 200;
        cfg.till.language = "en".parse().unwrap();
        cfg.save(t).unwrap();
    }
    let agent = TillAgent::start(&t1);

    // The cashier: the login, a search, a ticket of two lines, paid; then
    // a ticket being built for the sale page's picture.
    b.goto(&agent.url).unwrap();
    b.wait_for("form#login", WAIT).unwrap();
    shot("cashier-login");
    cashier_log_in(&b);
    b.wait_for("#connection[data-online=\"yes\"]", WAIT)
        .unwrap();
    let codes: Vec<String> = {
        let db = rusqlite::Connection::open(t1.join(tillsync_till::DB_FILE)).unwrap();
        let mut st = db
            .prepare("SELECT code FROM ART WHERE code LIKE 'ART%' ORDER BY code LIMIT 3")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let add = |code: &str, qty: &str| {
        b.find("form#search input[name=q]")
            .unwrap()
            .type_text(code)
            .unwrap();
        b.find("button#search-submit").unwrap().click().unwrap();
        let item = b
            .wait_for(&format!("table#items tr[data-code=\"{code}\"]"), WAIT)
            .unwrap();
        item.find("input[name=quantity]")
            .unwrap()
            .type_text(qty)
            .unwrap();
        item.find("button.add").unwrap().click().unwrap();
        b.wait_for(&format!("table#ticket tr.line[data-code=\"{code}\"]"), WAIT)
            .unwrap();
    };
    add(&codes[0], "2");
    add(&codes[1], "1");
    b.find("button#pay-submit").unwrap().click().unwrap();
    b.wait_for("#receipt", WAIT).unwrap();
    shot("cashier-receipt");
    b.find("a#new-sale").unwrap().click().unwrap();
    add(&codes[2], "3");
    add(&codes[0], "1");
    b.find("form#search input[name=q]")
        .unwrap()
        .type_text("ART00000")
        .unwrap();
    b.find("button#search-submit").unwrap().click().unwrap();
    b.wait_for("table#items tr[data-code]", WAIT).unwrap();
    shot("cashier-sale");
    b.goto(&format!("{}customers", agent.url)).unwrap();
    b.wait_for("form#customer-create", WAIT).unwrap();
    shot("cashier-customers");
    b.goto(&format!("{}tickets", agent.url)).unwrap();
    b.wait_for("table#tickets", WAIT).unwrap();
    shot("cashier-tickets");
    b.find("table#tickets tr[data-ticket=\"1\"] button.reprint")
        .unwrap()
        .click()
        .unwrap();
    b.wait_for("#receipt[data-duplicate=\"1\"]", WAIT).unwrap();
    shot("cashier-duplicate");

    // The admin pages.
    b.goto(&url(&server, "/admin/login")).unwrap();
    b.wait_for("form#login-form", WAIT).unwrap();
    shot("admin-login");
    log_in(&b, &server);
    b.wait_until("T001 with its ticket on the server", WAIT, |b| {
        b.goto(&url(&server, "/admin/tills"))?;
        let row = b.find("table#tills tr[data-till=\"T001\"]")?;
        if row.find("td.tickets")?.text()?.trim() == "1"
            && row.attribute("data-online")?.as_deref() == Some("yes")
        {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(200));
        Ok(false)
    })
    .unwrap();
    shot("admin-tills");
    for tab in ["server", "db", "ftp", "till"] {
        b.goto(&url(&server, &format!("/admin/folder?tab={tab}")))
            .unwrap();
        b.wait_for("form#folder-form", WAIT).unwrap();
        if tab == "db" || tab == "ftp" {
            b.find(&format!("button#test-{tab}"))
                .unwrap()
                .click()
                .unwrap();
            b.wait_for("#test-result.ok", WAIT).unwrap();
        }
        shot(&format!("admin-folder-{tab}"));
    }
    b.goto(&url(&server, "/admin/tables")).unwrap();
    b.wait_for("table#sync-tables", WAIT).unwrap();
    shot("admin-tables");
    b.goto(&url(&server, "/admin/journal")).unwrap();
    b.wait_for("table#journal", WAIT).unwrap();
    shot("admin-journal");
    b.goto(&url(&server, "/admin/export")).unwrap();
    b.find("form#export-form select[name=mode]")
        .unwrap()
        .select_by_value("incremental")
        .unwrap();
    b.find("button#export-now").unwrap().click().unwrap();
    b.wait_until("the export done", Duration::from_secs(60), |b| {
        if b.current_url()?.contains("/admin/export")
            && let Some(s) = b.try_find("#export-status")?
            && s.attribute("data-state")?.as_deref() == Some("done")
        {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(200));
        Ok(false)
    })
    .unwrap();
    shot("admin-export");
    drop(agent);
}

/// `tillsync demo --serve`: after its summary it prints the admin URL, the
/// login (a generated password) and each till's cashier URL, and keeps them
/// running: the printed password opens the admin pages, the cashier pages
/// answer; SIGTERM stops everything and it exits 0.
#[test]
fn demo_serve_prints_working_urls_and_login_until_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
        .args(["demo", "--serve", "--rows", "300", "--dir"])
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tillsync demo --serve");
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let child = Kill(&mut child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut printed = String::new();
    let (mut admin, mut login, mut cashiers) = (None, None, Vec::new());
    while cashiers.len() < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("demo --serve printed no URLs\n{printed}"));
        printed.push_str(&line);
        printed.push('\n');
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["admin", "pages", url] => admin = Some(url.to_string()),
            ["admin", "login", "user", user, "password", pw, ..] => {
                login = Some((user.trim_end_matches(',').to_string(), pw.to_string()))
            }
            ["cashier", till, url] => cashiers.push((till.to_string(), url.to_string())),
            _ => {}
        }
    }
    assert!(printed.contains("the tills match the server"), "{printed}");
    let admin = admin.unwrap_or_else(|| panic!("no admin URL\n{printed}"));
    let (user, password) = login.unwrap_or_else(|| panic!("no login\n{printed}"));
    assert_eq!(user, "admin");
    assert!(password.len() >= 12, "{printed}");
    let tills: Vec<&str> = cashiers.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tills, ["T001", "T002"]);
    // Stored as an argon2 hash, never in clear.
    let stored = std::fs::read_to_string(dir.join("server").join(auth::PASSWORD_FILE)).unwrap();
    assert!(stored.starts_with("$argon2") && !stored.contains(&password));

    if let Some(b) = browser::for_test("browser::demo_serve", tmp.path()) {
        b.goto(&admin).unwrap();
        b.find("form#login-form input[name=password]")
            .unwrap()
            .type_text(&password)
            .unwrap();
        b.find("button#login").unwrap().click().unwrap();
        b.wait_for("table#tills tr[data-till=\"T001\"]", WAIT)
            .unwrap();
        for (till, url) in &cashiers {
            b.goto(url).unwrap();
            b.wait_for("#connection", WAIT).unwrap();
            let head = b.page_text().unwrap();
            assert!(head.contains(till.as_str()), "{url}: {head}");
        }
    }

    let term = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = child.0.wait().unwrap();
    let mut rest = String::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(10)) {
        rest.push_str(&l);
        rest.push('\n');
    }
    assert!(
        status.success(),
        "demo --serve exited with {status}\n{rest}"
    );
    assert!(rest.contains("demo stopped"), "{rest}");
    assert!(!rest.contains(&password));
}
