//! Test support shared by the crate's unit tests: a fake web service on a
//! free port, a till folder whose `ART` holds one item, and a one-line sale.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use tillsync_core::config::till::TillAuth;
use tillsync_core::secret::Secret;
use tillsync_core::{ServerConfig, TillConfig};
use tillsync_till_db::TillDb;
use tillsync_wire::api::OutboxBatch;

use crate::files::DB_FILE;
use crate::up::request::{SaleLine, SalePayment, SaleRequest};
use crate::up::sell::Register;

/// A fake web service on 127.0.0.1:0 that answers every request with
/// `answer(path, body)` → (status, JSON body); it records the requests.
pub(crate) struct FakeServer {
    pub addr: std::net::SocketAddr,
    pub seen: Arc<Mutex<Vec<(String, String)>>>,
}

type Answer = dyn Fn(&str, &str) -> (u16, String) + Send + Sync;

impl FakeServer {
    pub(crate) fn start(answer: Arc<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let answer = answer.clone();
                let seen = seen2.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                        let mut len = 0;
                        loop {
                            let mut h = String::new();
                            reader.read_line(&mut h).unwrap();
                            if h == "\r\n" || h.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':')
                                && k.eq_ignore_ascii_case("content-length")
                            {
                                len = v.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0; len];
                        reader.read_exact(&mut body).unwrap();
                        let body = String::from_utf8(body).unwrap();
                        let (status, json) = answer(&path, &body);
                        seen.lock().unwrap().push((path, body));
                        let resp = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{json}",
                            json.len()
                        );
                        if stream.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        FakeServer { addr, seen }
    }

    pub(crate) fn batches(&self) -> Vec<OutboxBatch> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.ends_with("/outbox"))
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }
}

/// A till configuration pointing at `url`, and its register with ART loaded.
pub(crate) fn till(url: &str) -> (tempfile::TempDir, TillConfig, Register) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerConfig::new_default("DEMO").unwrap();
    server.till.webservice_url = url.parse().unwrap();
    let pubkey =
        tillsync_core::keys::public_key_hex(&ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
    let mut cfg = TillConfig::from_server(
        &server,
        "T001",
        "S01",
        &pubkey,
        TillAuth {
            token: Some(Secret::new("tok")),
            ..TillAuth::new_install(
                &ed25519_dalek::SigningKey::from_bytes(&[0x22; 32]),
                "2026-12-04T09:00:00Z",
                &"ab".repeat(32),
            )
        },
    )
    .unwrap();
    cfg.sync.ws_timeout_ms = 2_000;
    cfg.sync.ping_timeout_ms = 500;
    cfg.save(dir.path()).unwrap();
    let db = TillDb::open(&dir.path().join(DB_FILE)).unwrap();
    db.conn()
        .execute_batch(
            "CREATE TABLE ART(code TEXT PRIMARY KEY, label TEXT NOT NULL,
                   price_cents INTEGER NOT NULL, vat_rate_bp INTEGER NOT NULL);
                 INSERT INTO ART VALUES ('A', 'Pain', 120, 550);",
        )
        .unwrap();
    let reg = Register::new(&cfg, db).unwrap();
    (dir, cfg, reg)
}

pub(crate) fn sale() -> SaleRequest {
    SaleRequest {
        lines: vec![SaleLine::units("A", 1)],
        payments: vec![SalePayment {
            method: "cash".into(),
            amount_cents: None,
        }],
        ..SaleRequest::default()
    }
}
