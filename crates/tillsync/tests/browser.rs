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
