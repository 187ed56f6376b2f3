//! The till's own key (`docs/till-keys.md`), through the real web service
//! and the `tillsync` binary: enrolment at `till init`, a copied package
//! that cannot sign tickets for its till, used, expired and superseded
//! packages, an install offline enrolled later by the synchroniser, a key
//! rotation whose older key still verifies, and key histories checked on
//! the server and on the till (a tampered record caught).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tillsync_core::TillConfig;
use tillsync_core::key_history::KeyHistory;
use tillsync_testkit::TestServer;
use tillsync_till::client::Client;
use tillsync_wire::api::{ItemStatus, OutboxBatch, OutboxItem, OutboxKind};
use tillsync_wire::keys::{KeyHistoryFile, KeyReason};

use crate::util::tillsync;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn till(dir: &Path, args: &[&str]) -> crate::util::Run {
    let mut all = vec!["till"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data", s(dir)]);
    tillsync(dir.parent().expect("a parent"), &all)
}

fn till_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    till(dir, &all).ok().json()
}

fn init(server: &TestServer, dir: &Path, pkg: &Path) -> crate::util::Run {
    tillsync(
        server.root.path(),
        &[
            "till",
            "init",
            "--data",
            s(dir),
            "--package",
            s(pkg),
            "--json",
        ],
    )
}

fn sell(dir: &Path) -> Value {
    till_json(
        dir,
        &["sell", "--item", "ART0000001x2", "--payment", "card"],
    )
}

fn server_keys(server: &TestServer, till: &str) -> crate::util::Run {
    tillsync(
        server.dir(),
        &[
            "server",
            "tills",
            "keys",
            "--till",
            till,
            "--data",
            s(server.dir()),
            "--json",
        ],
    )
}

/// The till's `key-history.json`, checked with the server's public key.
fn till_history(server: &TestServer, dir: &Path) -> KeyHistory {
    let file: KeyHistoryFile =
        serde_json::from_slice(&std::fs::read(dir.join("key-history.json")).unwrap()).unwrap();
    let key = server.data.signing_key().unwrap().verifying_key();
    KeyHistory::verify(&file.records, &key, Some(&file.till)).expect("the till's history verifies")
}

fn verified_tickets(server: &TestServer, till: &str) -> i64 {
    server.count(&format!(
        r#"SELECT COUNT(*) FROM "TICKET" WHERE "till_id" = '{till}'"#
    ))
}

/// The tickets waiting in the outbox of the till in `dir`, as outbox items.
fn outbox_items(dir: &Path) -> Vec<OutboxItem> {
    let conn = rusqlite::Connection::open(dir.join(tillsync_till::DB_FILE)).unwrap();
    let mut stmt = conn
        .prepare("SELECT key, payload FROM tillsync_outbox WHERE kind = 'ticket' ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| {
        let payload: String = r.get(1)?;
        Ok(OutboxItem {
            key: r.get(0)?,
            kind: OutboxKind::Ticket,
            payload: serde_json::from_str(&payload).unwrap(),
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn till_init_makes_the_key_on_the_till_and_enrols_it() {
    let server = TestServer::start(50);
    server.export();
    let pkg = server.write_package("T001");
    let text = std::fs::read_to_string(&pkg).unwrap();
    let package: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(package["version"], 3, "{package}");
    assert!(package.get("till_signing_key").is_none() && package.get("till_token").is_none());
    let secret = package["enrolment_secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);
    // The server keeps only the secret's SHA-256.
    assert_eq!(
        server.count(&format!(
            "SELECT COUNT(*) FROM tillsync_enrolments WHERE secret_sha256 = '{}'",
            tillsync_wire::sha256_hex(secret.as_bytes())
        )),
        1
    );
    assert_eq!(
        server.count(&format!(
            "SELECT COUNT(*) FROM tillsync_enrolments WHERE secret_sha256 = '{secret}'"
        )),
        0
    );

    let dir = server.root.path().join("T001");
    let out = init(&server, &dir, &pkg).ok().json();
    assert_eq!(out["enrolled"], true, "{out}");
    let key_id = out["key_id"].as_str().unwrap().to_string();
    // The key is the till's own, only in its folder; the secret is gone.
    let cfg = TillConfig::load(&dir).unwrap();
    assert!(cfg.auth.is_enrolled() && cfg.auth.enrolment_secret.is_none());
    let key_hex = cfg.auth.signing_key.expose().to_string();
    assert!(!text.contains(&key_hex));
    assert_eq!(mode(&dir.join("till.toml")), 0o600);
    let history = till_history(&server, &dir);
    assert_eq!(history.records().len(), 1);
    let first = history.current();
    assert_eq!(
        (first.key_id.as_str(), first.reason),
        (key_id.as_str(), KeyReason::Enrolment)
    );
    assert_eq!(
        first.public_key,
        hex::encode(cfg.auth.signing_key().unwrap().verifying_key().to_bytes())
    );

    // The server lists the same history, verified with its own key.
    let listed = server_keys(&server, "T001").ok().json();
    assert_eq!(listed["verified"], true, "{listed}");
    assert_eq!(listed["records"][0]["key_id"], key_id.as_str(), "{listed}");
    assert_eq!(
        listed["enrolments"][0]["used_key_id"],
        key_id.as_str(),
        "{listed}"
    );
    // The text says its times in local time (the folder's zone, French).
    let text = tillsync(
        server.dir(),
        &[
            "server",
            "tills",
            "keys",
            "--till",
            "T001",
            "--data",
            s(server.dir()),
        ],
    )
    .ok()
    .stdout();
    let paris = tillsync_core::fiscal::local::LocalZone::paris();
    let local = paris.show(&first.valid_from, tillsync_core::Lang::Fr);
    assert!(text.contains(&format!("valid from {local}")), "{text}");
    assert!(text.contains("every record verifies"), "{text}");
    let status = till_json(&dir, &["status"]);
    assert_eq!(status["enrolment"]["enrolled"], true, "{status}");
    assert_eq!(status["enrolment"]["key_id"], key_id.as_str(), "{status}");
    let text = till(&dir, &["status"]).ok().stdout();
    assert!(
        text.contains(&format!("enrolled: signing key {key_id}")),
        "{text}"
    );

    // Its tickets go through.
    till(&dir, &["sync"]).ok();
    sell(&dir);
    let sync = till_json(&dir, &["sync"]);
    assert_eq!(sync["push"]["accepted"], 1, "{sync}");
    assert_eq!(verified_tickets(&server, "T001"), 1);
}

#[test]
fn a_deployment_package_copied_after_install_cannot_sign_tickets_for_that_till() {
    let mut server = TestServer::start(50);
    server.export();
    let pkg = server.write_package("T001");
    let copy = server.root.path().join("copy-of-T001.deploy.json");
    std::fs::copy(&pkg, &copy).unwrap();
    let first = server.root.path().join("T001");
    assert_eq!(init(&server, &first, &pkg).ok().json()["enrolled"], true);
    till(&first, &["sync"]).ok();
    sell(&first);
    sell(&first);
    assert_eq!(till_json(&first, &["sync"])["push"]["accepted"], 2);

    // Installed from the copy while the server answers: refused, nothing left.
    let second = server.root.path().join("second");
    let run = init(&server, &second, &copy).fails_with("already used");
    assert!(
        run.stderr().contains("cannot enrol another till folder"),
        "{}",
        run.stderr()
    );
    assert!(
        !second.exists(),
        "a refused install left {}",
        second.display()
    );

    // Installed from the copy while the server is out of reach: it sells
    // with its own key, but can never enrol.
    server.stop();
    let third = server.root.path().join("third");
    let out = init(&server, &third, &copy).ok().json();
    assert_eq!(out["enrolled"], false, "{out}");
    server.restart();
    // Its sync loads the packages (FTP) but cannot enrol, so sends nothing.
    till(&third, &["sync"]).fails_with("already used");
    sell(&third);
    sell(&third);
    let run = till(&third, &["sync"]).fails_with("already used");
    assert!(
        run.stderr().contains("push failed, the outbox is kept"),
        "{}",
        run.stderr()
    );
    let items = outbox_items(&third);
    assert_eq!(items.len(), 2, "the copy keeps its tickets");
    let status = till_json(&third, &["status"]);
    assert_eq!(status["enrolment"]["enrolled"], false, "{status}");
    assert!(
        status["enrolment"]["error"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{status}"
    );
    // Even sent over the first till's own credentials, its tickets are
    // quarantined: their key is not in T001's key history.
    let cfg = TillConfig::load(&first).unwrap();
    let resp = Client::new(&cfg)
        .unwrap()
        .push(&OutboxBatch {
            items: items
                .into_iter()
                .map(|mut i| {
                    i.key = format!("copy-{}", i.key);
                    i
                })
                .collect(),
        })
        .unwrap();
    for r in &resp.results {
        assert_eq!(r.status, ItemStatus::Quarantined, "{resp:?}");
        assert!(
            r.reason
                .as_deref()
                .unwrap()
                .contains("verifies with no key of till T001's key history"),
            "{resp:?}"
        );
    }
    // The first till's tickets still go through; the copy's never did.
    sell(&first);
    assert_eq!(till_json(&first, &["sync"])["push"]["accepted"], 1);
    assert_eq!(verified_tickets(&server, "T001"), 3);
    let listed = server_keys(&server, "T001").ok().json();
    assert_eq!(listed["records"].as_array().unwrap().len(), 1, "{listed}");
}

#[test]
fn expired_superseded_and_unknown_packages_are_refused_with_their_reason() {
    let server = TestServer::start(50);
    let dir = server.root.path().join("T001");
    // Generated eight days ago: expired (the validity is seven days).
    let old = tillsync_server::deploy::build_at(
        &server.data,
        "T001",
        chrono::Utc::now() - chrono::TimeDelta::days(8),
    )
    .unwrap();
    let expired = server.root.path().join("expired.json");
    tillsync_server::deploy::write(&old, &expired).unwrap();
    init(&server, &dir, &expired).fails_with("expired at");
    assert!(!dir.exists());
    // Superseded by a newer package of the same till.
    let p1 = server.root.path().join("p1.json");
    tillsync_server::deploy::write(
        &tillsync_server::deploy::build(&server.data, "T001").unwrap(),
        &p1,
    )
    .unwrap();
    let p2 = server.write_package("T001");
    init(&server, &dir, &p1).fails_with("superseded");
    // A secret the server never issued.
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&p2).unwrap()).unwrap();
    forged["enrolment_secret"] = Value::String("ab".repeat(32));
    let forged_file = server.root.path().join("forged.json");
    std::fs::write(&forged_file, forged.to_string()).unwrap();
    init(&server, &dir, &forged_file).fails_with("unknown enrolment secret");
    // Other versions of the package: refused by name before anything.
    for version in [2, 4] {
        let mut other: Value = serde_json::from_slice(&std::fs::read(&p2).unwrap()).unwrap();
        other["version"] = Value::from(version);
        std::fs::write(&forged_file, other.to_string()).unwrap();
        init(&server, &dir, &forged_file).fails_with(&format!(
            "deployment package version {version} is not supported (this tillsync reads version 3)"
        ));
    }
    // The newest package still works, and the refusals were journaled.
    assert_eq!(init(&server, &dir, &p2).ok().json()["enrolled"], true);
    assert_eq!(
        server.count(
            "SELECT COUNT(*) FROM tillsync_journal WHERE kind = 'keys' AND result = 'refused'"
        ),
        3
    );
}

#[test]
fn the_enrolment_endpoint_refuses_a_key_without_its_proof() {
    let server = TestServer::start(50);
    let pkg = server.write_package("T001");
    let package: Value = serde_json::from_slice(&std::fs::read(&pkg).unwrap()).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let other = ed25519_dalek::SigningKey::from_bytes(&[43; 32]);
    let at = "2026-12-04T09:00:00Z";
    let url = format!("http://{}/api/v1/till/enrol", server.web_addr);
    let http = reqwest::blocking::Client::new();
    let post = |body: Value| {
        let r = http.post(&url).json(&body).send().unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let body = |proof_key: &ed25519_dalek::SigningKey| {
        serde_json::json!({
            "till": "T001",
            "secret": package["enrolment_secret"],
            "public_key": hex::encode(key.verifying_key().to_bytes()),
            "key_created_at": at,
            "proof": tillsync_core::key_history::sign_proof(
                tillsync_core::key_history::ProofPurpose::Enrol, "T001", proof_key, at),
        })
    };
    // Signed by another key: the till does not hold the key it names.
    let (status, answer) = post(body(&other));
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("bad-request")),
        "{answer}"
    );
    assert!(
        answer["message"].as_str().unwrap().contains("proof"),
        "{answer}"
    );
    let (status, answer) = post(serde_json::json!({"till": "T001"}));
    assert_eq!(status, 400, "{answer}");
    // The right proof: enrolled; the same request again gets a new token,
    // no new record (a retry after a lost answer).
    let (status, first) = post(body(&key));
    assert_eq!(status, 200, "{first}");
    let (status, again) = post(body(&key));
    assert_eq!(status, 200, "{again}");
    assert_ne!(first["token"], again["token"]);
    assert_eq!(first["key_history"], again["key_history"]);
    assert_eq!(again["key_history"].as_array().unwrap().len(), 1);
    // The key of T001 for T002: refused.
    let pkg2 = server.write_package("T002");
    let p2: Value = serde_json::from_slice(&std::fs::read(&pkg2).unwrap()).unwrap();
    let (status, answer) = post(serde_json::json!({
        "till": "T002",
        "secret": p2["enrolment_secret"],
        "public_key": hex::encode(key.verifying_key().to_bytes()),
        "key_created_at": at,
        "proof": tillsync_core::key_history::sign_proof(
            tillsync_core::key_history::ProofPurpose::Enrol, "T002", &key, at),
    }));
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("key-in-use")),
        "{answer}"
    );
}

/// Wait until `done`, at most 60 s (the synchroniser's retry interval is
/// 100 ms here; the limit only stops a broken test).
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_till_installed_offline_sells_then_the_synchroniser_enrols_it() {
    let server = TestServer::start(50);
    server.export();
    // The web service is out of reach at install (the package names a
    // closed port); the package store is not.
    let pkg = server.write_package("T001");
    let mut package: Value = serde_json::from_slice(&std::fs::read(&pkg).unwrap()).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    package["webservice_url"] = Value::String(format!("http://{closed}/"));
    std::fs::write(&pkg, package.to_string()).unwrap();
    let dir: PathBuf = server.root.path().join("T001");
    let out = init(&server, &dir, &pkg).ok().json();
    assert_eq!(out["enrolled"], false, "{out}");
    assert!(
        out["enrolment_error"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{out}"
    );
    let text = till(&dir, &["status"]).ok().stdout();
    assert!(text.contains("NOT ENROLLED"), "{text}");
    // It loads its data from the package index and sells, signed with its key.
    let run = till(&dir, &["sync"]).ok();
    assert!(
        run.stdout().contains("not enrolled yet"),
        "{}",
        run.stdout()
    );
    for _ in 0..3 {
        sell(&dir);
    }
    let sold: Vec<String> = outbox_items(&dir)
        .iter()
        .map(|i| i.payload["time"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sold.len(), 3);
    assert_eq!(verified_tickets(&server, "T001"), 0);

    // The network is back: the synchroniser enrols, then pushes.
    let mut cfg = TillConfig::load(&dir).unwrap();
    cfg.server.webservice_url = format!("http://{}/", server.web_addr).parse().unwrap();
    cfg.sync.sync_interval_ms = 100;
    cfg.sync.retry_interval_ms = 100;
    cfg.save(&dir).unwrap();
    let stop = AtomicBool::new(false);
    let opts = tillsync_till::agent::AgentOptions {
        pull: false,
        ..Default::default()
    };
    std::thread::scope(|scope| {
        let agent = scope.spawn(|| tillsync_till::agent::run(&dir, &opts, &stop));
        wait_for("the tickets on the server", || {
            verified_tickets(&server, "T001") == 3
        });
        stop.store(true, Ordering::Relaxed);
        agent.join().unwrap().unwrap();
    });
    assert!(TillConfig::load(&dir).unwrap().auth.is_enrolled());
    // The key was valid from when the till made it: before its first sale.
    let history = till_history(&server, &dir);
    for time in &sold {
        assert_eq!(
            history.key_at(time).unwrap().map(|r| r.seq),
            Some(1),
            "sold at {time}, key valid from {}",
            history.current().valid_from
        );
    }
    let status = till_json(&dir, &["status"]);
    assert_eq!(status["enrolment"]["enrolled"], true, "{status}");
    assert_eq!(status["enrolment"]["error"], Value::Null, "{status}");
}

#[test]
fn tickets_signed_with_an_older_key_verify_after_a_rotation_and_a_reinstall() {
    let server = TestServer::start(50);
    server.export();
    let dir = server.install_till("T001");
    till(&dir, &["sync"]).ok();
    let before = TillConfig::load(&dir).unwrap().auth.signing_key().unwrap();
    sell(&dir);
    let rotated = till_json(&dir, &["rotate-key"]);
    assert_eq!(rotated["records"], 2, "{rotated}");
    let after = TillConfig::load(&dir).unwrap().auth.signing_key().unwrap();
    assert_ne!(before.to_bytes(), after.to_bytes());
    sell(&dir);
    // Both tickets (one per key) go through.
    assert_eq!(till_json(&dir, &["sync"])["push"]["accepted"], 2);
    let history = till_history(&server, &dir);
    let reasons: Vec<KeyReason> = history.records().iter().map(|r| r.reason).collect();
    assert_eq!(reasons, [KeyReason::Enrolment, KeyReason::Rotation]);
    assert_eq!(
        history.records()[1].previous_key_id.as_deref(),
        Some(history.records()[0].key_id.as_str())
    );
    assert!(history.find_key(&before.verifying_key()).is_some());
    // A reinstall from a new package: a third key, the old ones kept.
    let again = server.install_till_at("T001", &server.root.path().join("T001-again"));
    till(&again, &["sync"]).ok();
    let listed = server_keys(&server, "T001").ok().json();
    let reasons: Vec<&str> = listed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["enrolment", "rotation", "re-enrolment"],
        "{listed}"
    );
    assert_eq!(till_history(&server, &again).records().len(), 3);
    // The first folder's token is gone with the reinstall.
    sell(&dir);
    till(&dir, &["sync"]).fails_with("not valid");
}

#[test]
fn a_tampered_key_history_is_caught_on_the_server_and_on_the_till() {
    let server = TestServer::start(50);
    let dir = server.install_till("T001");
    server_keys(&server, "T001").ok();
    // On the server: a record's start moved back by a day.
    server.erp(
        "UPDATE tillsync_key_history SET valid_from = '2020-01-01T00:00:00Z' WHERE till_id = 'T001'",
    );
    let run = server_keys(&server, "T001").fails_with("does not verify");
    assert!(
        run.stderr().contains("record 1: signature"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.json()["verified"], false);
    // On the till: its copy's key swapped for another's.
    let path = dir.join("key-history.json");
    let mut file: KeyHistoryFile = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let other = ed25519_dalek::SigningKey::from_bytes(&[44; 32]).verifying_key();
    file.records[0].public_key = hex::encode(other.to_bytes());
    file.records[0].key_id = tillsync_core::key_history::key_id(&other);
    let key = server.data.signing_key().unwrap().verifying_key();
    let e = KeyHistory::verify(&file.records, &key, Some("T001")).unwrap_err();
    assert!(e.to_string().contains("record 1: signature"), "{e}");
}
