//! `GET /metrics` through the real web service: the Prometheus content type,
//! request counters by route and status, and a till's version lag that
//! follows the till's reports and the server's exports, in versions and in
//! seconds.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tillsync_testkit::TestServer;
use tillsync_till::up::sell::{SaleLine, SalePayment, SaleRequest};

/// `GET /metrics` over raw HTTP/1.1: the response head and body.
fn scrape(addr: SocketAddr) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    (head.to_string(), body.to_string())
}

/// The value of the sample `name_and_labels` (exact), if present.
fn sample(body: &str, name_and_labels: &str) -> Option<f64> {
    body.lines().find_map(|l| {
        let (k, v) = l.rsplit_once(' ')?;
        (k == name_and_labels).then(|| v.parse().expect("number"))
    })
}

#[test]
fn metrics_count_requests_and_follow_till_lag() {
    let server = TestServer::start(200);
    server.export();
    let till = server.install_till("T001");
    tillsync_testkit::pull(&till).expect("first pull");
    // The till reports the versions it holds when it asks what is
    // available: a second pull reports those of the first.
    tillsync_testkit::pull(&till).expect("second pull");

    let (head, body) = scrape(server.web_addr);
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case("content-type: text/plain; version=0.0.4")),
        "{head}"
    );
    let available = sample(
        &body,
        r#"tillsync_http_requests_total{route="/api/v1/packages/available",status="200"}"#,
    )
    .unwrap_or_else(|| panic!("no request counter\n{body}"));
    assert!(available >= 1.0, "{body}");
    let lag = r#"tillsync_till_version_lag{till="T001",table="ART"}"#;
    let lag_s = r#"tillsync_till_lag_seconds{till="T001",table="ART"}"#;
    assert_eq!(sample(&body, lag), Some(0.0), "{body}");
    assert_eq!(sample(&body, lag_s), Some(0.0), "up to date\n{body}");
    assert!(
        sample(
            &body,
            r#"tillsync_table_exported_timestamp_seconds{table="ART"}"#
        )
        .is_some_and(|t| t > 1.7e9),
        "{body}"
    );
    assert!(
        sample(&body, "tillsync_packages_exported_total").is_some(),
        "{body}"
    );
    assert!(
        sample(&body, r#"tillsync_table_version{table="ART"}"#).is_some(),
        "{body}"
    );
    assert!(
        sample(&body, "tillsync_packages_published").unwrap_or(0.0) >= 1.0,
        "{body}"
    );
    assert!(
        sample(&body, r#"tillsync_till_last_contact_seconds{till="T001"}"#).is_some(),
        "{body}"
    );

    // An ERP change and an export: the till is one version behind.
    server.erp("UPDATE ART SET price_cents = price_cents + 1 WHERE code = 'ART0000001'");
    server.export();
    let (_, body) = scrape(server.web_addr);
    assert_eq!(sample(&body, lag), Some(1.0), "{body}");
    // Lag in seconds: since the version the till lacks was published.
    std::thread::sleep(Duration::from_millis(2_100));
    let (_, body) = scrape(server.web_addr);
    assert!(
        sample(&body, lag_s).is_some_and(|s| s >= 1.0),
        "one version behind for 2 s\n{body}"
    );
    // The till loads it and reports it on its next ask: back to 0.
    tillsync_testkit::pull(&till).expect("pull of the new version");
    tillsync_testkit::pull(&till).expect("pull that reports it");
    let (_, body) = scrape(server.web_addr);
    assert_eq!(sample(&body, lag), Some(0.0), "{body}");
    assert_eq!(sample(&body, lag_s), Some(0.0), "{body}");

    // A sale pushed: one batch, one accepted ticket.
    tillsync_till::up::sell::sell(
        &till,
        &SaleRequest {
            lines: vec![SaleLine::units("ART0000001", 2)],
            payments: vec![SalePayment {
                method: "card".into(),
                amount_cents: None,
            }],
            ..SaleRequest::default()
        },
    )
    .expect("sell");
    tillsync_till::up::push::push(&till, Default::default()).expect("push");
    let (_, body) = scrape(server.web_addr);
    assert_eq!(
        sample(&body, "tillsync_ticket_batches_total"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"tillsync_tickets_ingested_total{status="accepted"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, r#"tillsync_till_missing_tickets{till="T001"}"#),
        Some(0.0),
        "{body}"
    );

    // The scrapes themselves are counted, and an unknown path too.
    let mut s = TcpStream::connect(server.web_addr).unwrap();
    write!(
        s,
        "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (_, body) = scrape(server.web_addr);
    assert!(
        sample(
            &body,
            r#"tillsync_http_requests_total{route="/metrics",status="200"}"#
        )
        .is_some_and(|n| n >= 2.0),
        "{body}"
    );
    assert!(
        sample(
            &body,
            r#"tillsync_http_requests_total{route="unmatched",status="404"}"#
        )
        .is_some_and(|n| n >= 1.0),
        "{body}"
    );
}
