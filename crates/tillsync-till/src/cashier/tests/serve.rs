//! Serving the page: the listen address (loopback unless allowed), a real
//! socket on a free port, a busy port, stopping.

use std::sync::Arc;

use crate::cashier::serve::{CashierOptions, listen_addr, start};
use crate::cashier::tests::support::demo_till;
use crate::link::Link;

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
    // The demo's till has cashiers: the sale page waits for a login.
    assert!(text.starts_with("HTTP/1.1 303"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("location: /login"),
        "{text}"
    );
    let mut s = std::net::TcpStream::connect(page.addr).unwrap();
    write!(
        s,
        "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(r#"<form id="login""#), "{text}");
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
