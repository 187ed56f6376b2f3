//! The web pages in headless Chromium, driven over WebDriver by
//! `tillsync_testkit::browser`: each test has its own server, tills, temp
//! folder and browser. Skipped (with a notice) when Chromium or chromedriver
//! is missing, unless `TILLSYNC_REQUIRE_BROWSER=1`.

use std::time::Duration;

use tillsync_testkit::TestServer;
use tillsync_testkit::browser;

const WAIT: Duration = Duration::from_secs(15);

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
