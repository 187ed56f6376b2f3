//! The cashier page end to end: `tillsync till run` against the real server
//! serves the page on a free loopback port and prints its URL; a sale made
//! through HTTP gets its number and signature and reaches the server; the
//! connection indicator follows the server going away and back; a customer
//! creation is refused offline and works online; a non-loopback address is
//! refused without --allow-remote; cashiers log in by PIN (three wrong PINs
//! lock the login), print duplicates, and the event log says so.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use tillsync_core::TillConfig;
use tillsync_testkit::{TestServer, pull};

use crate::util::tillsync;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `tillsync till run --json --listen 127.0.0.1:0`, its stdout as lines.
struct Agent {
    child: Child,
    lines: mpsc::Receiver<String>,
    url: String,
}

impl Agent {
    fn start(till: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
            .args([
                "--json",
                "till",
                "run",
                "--data",
                s(till),
                "--no-pull",
                "--listen",
                "127.0.0.1:0",
            ])
            .current_dir(till)
            .env_remove("TILLSYNC_TILL_DATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn till run");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("till run printed its cashier URL");
        let v: serde_json::Value = serde_json::from_str(&first)
            .unwrap_or_else(|e| panic!("first line is not JSON ({e}): {first}"));
        let url = v["cashier_url"].as_str().expect("cashier_url").to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(!url.ends_with(":0/"), "the bound port is printed: {url}");
        Agent { child, lines, url }
    }

    /// SIGTERM, then the rest of stdout (the summary).
    fn stop(mut self) -> String {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "till run exited with {status}");
        let mut rest = String::new();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            rest.push_str(&l);
            rest.push('\n');
        }
        rest
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser on the page: its session cookie and CSRF token.
struct Browser {
    http: Client,
    base: String,
    token: String,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    /// A browser logged in as the demo's cashier CAI01 (PIN 1234).
    fn open(base: &str) -> Self {
        let b = Self::anonymous(base);
        let a = b.post("/login", &[("cashier", "CAI01"), ("pin", "1234")]);
        assert_eq!(
            (a.status, a.location.as_deref()),
            (303, Some("/")),
            "{}",
            a.body
        );
        b
    }

    /// A browser with a session, not logged in (its first page is the login).
    fn anonymous(base: &str) -> Self {
        let http = Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let login = format!("{}/login", base.trim_end_matches('/'));
        let r = http.get(&login).send().expect("GET /login");
        assert_eq!(r.status(), 200);
        let cookie = r
            .headers()
            .get("set-cookie")
            .expect("session cookie")
            .to_str()
            .unwrap()
            .to_string();
        let token = cookie
            .split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .map(|(_, v)| v.to_string())
            .expect("token");
        Browser {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
        }
    }

    fn page(r: reqwest::blocking::Response) -> Page {
        Page {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string()),
            body: r.text().unwrap(),
        }
    }

    fn get(&self, path: &str) -> Page {
        Self::page(
            self.http
                .get(format!("{}{path}", self.base))
                .header("cookie", format!("tillsync_cashier={}", self.token))
                .send()
                .expect("GET"),
        )
    }

    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("csrf", self.token.as_str())];
        all.extend_from_slice(fields);
        let body = all
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        Self::page(
            self.http
                .post(format!("{}{path}", self.base))
                .header("cookie", format!("tillsync_cashier={}", self.token))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .expect("POST"),
        )
    }

    fn online(&self) -> bool {
        self.get("/").body.contains(r#"data-online="yes""#)
    }
}

/// Percent-encoding of a form value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn server_count(server: &TestServer, sql: &str) -> i64 {
    server.count(sql)
}

#[test]
fn a_sale_through_the_cashier_page_reaches_the_server() {
    let mut server = TestServer::start(200);
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first load");
    let mut c = TillConfig::load(&till).unwrap();
    c.sync.sync_interval_ms = 100;
    c.sync.retry_interval_ms = 100;
    c.sync.ping_timeout_ms = 1_000;
    c.sync.ws_timeout_ms = 5_000;
    c.save(&till).unwrap();

    let agent = Agent::start(&till);
    let b = Browser::open(&agent.url);
    wait_for("the indicator online", Duration::from_secs(10), || {
        b.online()
    });

    // Find an item by its barcode, add it twice, pay by card.
    let (code, barcode): (String, String) = rusqlite::Connection::open(till.join("till.db"))
        .unwrap()
        .query_row(
            "SELECT code, barcode FROM ART WHERE barcode IS NOT NULL ORDER BY code LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let found = b.get(&format!("/?q={barcode}"));
    assert!(
        found.body.contains(&format!(r#"<tr data-code="{code}">"#)),
        "{}",
        found.body
    );
    let a = b.post("/ticket/add", &[("code", &code), ("quantity", "2")]);
    assert_eq!(a.status, 303, "{}", a.body);
    let a = b.post("/pay", &[("method", "card")]);
    assert_eq!(
        (a.status, a.location.as_deref()),
        (303, Some("/receipt/1")),
        "{}",
        a.body
    );
    let receipt = b.get("/receipt/1");
    assert!(
        receipt
            .body
            .contains(r#"<span class="ticket-number">1</span>"#),
        "{}",
        receipt.body
    );

    // The synchroniser delivers it: on the server, verified, the same signature.
    wait_for("ticket 1 on the server", Duration::from_secs(15), || {
        server_count(
            &server,
            "SELECT COUNT(*) FROM TICKET WHERE till_id = 'T001' AND number = 1",
        ) == 1
    });
    let sig: String = server
        .query("SELECT signature FROM TICKET WHERE till_id = 'T001' AND number = 1")
        .expect("the ticket's signature on the server");
    assert!(
        receipt.body.contains(&format!(">{}</span>", &sig[..8])),
        "the receipt shows the short signature {}: {}",
        &sig[..8],
        receipt.body
    );
    wait_for("an empty outbox count", Duration::from_secs(10), || {
        b.get("/")
            .body
            .contains(r#"<strong id="outbox-count">0</strong>"#)
    });

    // The server goes away: the indicator says so, a creation is refused.
    server.stop();
    wait_for("the indicator offline", Duration::from_secs(10), || {
        !b.online()
    });
    let a = b.post("/customers/create", &[("name", "Jeanne Martin")]);
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(
        a.body.contains(r#"class="error""#)
            && a.body
                .contains("la création d'un client demande le serveur"),
        "{}",
        a.body
    );
    // Selling goes on offline; the ticket waits.
    b.post("/ticket/add", &[("code", &code)]);
    let a = b.post("/pay", &[("method", "cash"), ("amount", "1000")]);
    assert_eq!(a.location.as_deref(), Some("/receipt/2"), "{}", a.body);
    assert!(
        b.get("/")
            .body
            .contains(r#"<strong id="outbox-count">1</strong>"#)
    );

    // Back: the ticket arrives, a creation works.
    server.restart();
    wait_for("ticket 2 on the server", Duration::from_secs(15), || {
        server_count(
            &server,
            "SELECT COUNT(*) FROM TICKET WHERE till_id = 'T001'",
        ) == 2
    });
    let a = b.post(
        "/customers/create",
        &[("name", "Jeanne Martin"), ("field_city", "Lyon")],
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let shown = b.get(a.location.as_deref().unwrap());
    assert!(shown.body.contains(r#"class="flash-ok""#), "{}", shown.body);
    assert_eq!(
        server_count(
            &server,
            "SELECT COUNT(*) FROM CLI WHERE name = 'Jeanne Martin' AND city = 'Lyon'"
        ),
        1
    );

    let rest = agent.stop();
    let summary: serde_json::Value =
        serde_json::from_str(&rest).unwrap_or_else(|e| panic!("summary ({e}): {rest}"));
    assert!(summary["delivered"].as_u64().unwrap() >= 2, "{summary}");
    assert!(summary["cashier_url"].is_string(), "{summary}");
}

/// The cashiers' PIN login through `till run`: every page waits for it,
/// a wrong PIN is refused and three lock the login, the right one lets the
/// cashier in (named on the page and on the receipt of the sale), a
/// duplicate is printed from a past ticket; logins, logouts and the
/// duplicate are in the till's event log, and the day closing counts it.
#[test]
fn cashiers_log_in_by_pin_and_the_event_log_says_so() {
    let server = TestServer::start(50);
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first load");
    let agent = Agent::start(&till);

    let b = Browser::anonymous(&agent.url);
    let a = b.get("/");
    assert_eq!((a.status, a.location.as_deref()), (303, Some("/login")));
    let login = b.get("/login");
    for name in ["Marie Martin", "Julien Bernard", "Responsable réseau"] {
        assert!(login.body.contains(name), "{name}: {}", login.body);
    }
    assert!(!login.body.contains("Sophie Petit"), "a cashier of S02");
    assert!(!login.body.contains("$argon2"), "no hash on the page");
    let a = b.post("/login", &[("cashier", "CAI01"), ("pin", "0000")]);
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("Code erroné"), "{}", a.body);
    b.post("/login", &[("cashier", "CAI02"), ("pin", "0000")]);
    let a = b.post("/login", &[("cashier", "CAI01"), ("pin", "9999")]);
    assert!(a.body.contains("connexion verrouillée"), "{}", a.body);
    // Locked: even the right PIN is refused until the lock ends.
    let a = b.post("/login", &[("cashier", "CAI01"), ("pin", "1234")]);
    assert!(a.body.contains("connexion verrouillée"), "{}", a.body);
    assert_eq!(b.get("/").status, 303);
    let rest = agent.stop();
    assert!(rest.contains("cashier_url"), "{rest}");

    // A new agent (a new count): the right PIN lets the cashier in.
    let agent = Agent::start(&till);
    let b = Browser::open(&agent.url);
    let page = b.get("/");
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(r#"<strong id="cashier-name">Marie Martin</strong>"#),
        "{}",
        page.body
    );
    let code: String = rusqlite::Connection::open(till.join("till.db"))
        .unwrap()
        .query_row("SELECT code FROM ART ORDER BY code LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    b.post("/ticket/add", &[("code", &code)]);
    let a = b.post("/pay", &[("method", "cash"), ("amount", "50")]);
    assert_eq!(a.location.as_deref(), Some("/receipt/1"), "{}", a.body);
    let r = b.get("/receipt/1");
    assert!(
        r.body
            .contains(r#"<span class="cashier">Marie Martin</span>"#),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"id="print-receipt""#), "{}", r.body);
    assert!(r.body.contains("SIRET 904 128 733 00014"), "{}", r.body);
    // A past ticket from the recent tickets: a duplicate.
    let list = b.get("/tickets");
    assert!(
        list.body.contains(r#"<tr data-ticket="1">"#),
        "{}",
        list.body
    );
    let a = b.post("/receipt/1/reprint", &[]);
    assert_eq!(
        a.location.as_deref(),
        Some("/receipt/1/duplicate/1"),
        "{}",
        a.body
    );
    let d = b.get("/receipt/1/duplicate/1");
    assert!(d.body.contains("DUPLICATA n° 1"), "{}", d.body);
    let a = b.post("/logout", &[]);
    assert_eq!(a.location.as_deref(), Some("/login"));
    assert_eq!(b.get("/").status, 303);
    agent.stop();

    let events = tillsync(&till, &["--json", "till", "events", "--data", s(&till)])
        .ok()
        .json();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| k.starts_with("cashier_") || *k == "reprint")
        .collect();
    assert_eq!(
        kinds,
        ["cashier_login", "reprint", "cashier_logout"],
        "{events}"
    );
    let login = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "cashier_login")
        .unwrap();
    assert_eq!(login["body"]["cashier"], "CAI01", "{login}");
    assert_eq!(login["label"], "connexion d'un caissier", "{login}");
    let close = tillsync(
        &till,
        &[
            "--json",
            "till",
            "close",
            "--data",
            s(&till),
            "--period",
            "day",
        ],
    )
    .ok()
    .json();
    assert_eq!(close["closing"]["reprints"], 1, "{close}");
}

#[test]
fn till_run_refuses_a_non_loopback_cashier_address_and_a_busy_port() {
    let server = TestServer::start(20);
    let till = server.install_till("T001");
    tillsync(
        &till,
        &["till", "run", "--data", s(&till), "--listen", "0.0.0.0:0"],
    )
    .fails_with("--allow-remote");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    tillsync(
        &till,
        &["till", "run", "--data", s(&till), "--listen", &addr],
    )
    .fails_with("cannot listen");
    tillsync(
        &till,
        &["till", "run", "--data", s(&till), "--listen", "nowhere"],
    )
    .fails_with("IP:PORT");
}
