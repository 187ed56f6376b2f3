//! Unit tests of the till's enrolment against a fake web service: the
//! history kept only when the server the till trusts signed it and it ends
//! with the till's own key; a refusal or an outage kept for `till status`.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use tillsync_core::key_history::{key_id, sign_record};
use tillsync_wire::keys::{EnrolRequest, EnrolResponse, KEY_RECORD_VERSION, KeyReason};

use super::*;
use crate::test_support::{FakeServer, till};

/// The till of `test_support` (trusting the server key `[7; 32]`), not
/// enrolled yet, served by `fake`.
fn not_enrolled(fake: &FakeServer) -> (tempfile::TempDir, TillConfig, TillDb) {
    let (dir, mut cfg, reg) = till(&format!("http://{}/", fake.addr));
    drop(reg);
    cfg.auth.token = None;
    cfg.auth.enrolment_secret = Some(Secret::new("cd".repeat(32)));
    cfg.save(dir.path()).unwrap();
    let db = TillDb::open(&dir.path().join(DB_FILE)).unwrap();
    (dir, cfg, db)
}

/// A fake server answering enrolments with the record of the key asked
/// for (or of `other` when given), signed with `server`.
fn enrolling(server: SigningKey, other: Option<SigningKey>) -> FakeServer {
    FakeServer::start(Arc::new(move |path: &str, body: &str| {
        if !path.ends_with("/till/enrol") {
            return (404, r#"{"error":"not-found","message":"no"}"#.into());
        }
        let req: EnrolRequest = serde_json::from_str(body).unwrap();
        let public = match &other {
            Some(k) => hex::encode(k.verifying_key().to_bytes()),
            None => req.public_key.clone(),
        };
        let vk = tillsync_core::keys::parse_verifying_key(&public).unwrap();
        let mut record = KeyRecord {
            version: KEY_RECORD_VERSION,
            till: req.till.clone(),
            seq: 1,
            key_id: key_id(&vk),
            public_key: public,
            valid_from: req.key_created_at.clone(),
            recorded_at: "2026-12-04T09:00:03Z".into(),
            previous_key_id: None,
            reason: KeyReason::Enrolment,
            signature: String::new(),
        };
        sign_record(&mut record, &server);
        let resp = EnrolResponse {
            till: req.till,
            token: "fresh-token".into(),
            key_id: record.key_id.clone(),
            key_history: vec![record],
        };
        (200, serde_json::to_string(&resp).unwrap())
    }))
}

#[test]
fn an_enrolment_keeps_the_token_and_the_verified_history() {
    let fake = enrolling(SigningKey::from_bytes(&[7; 32]), None);
    let (dir, mut cfg, db) = not_enrolled(&fake);
    let r = ensure_enrolled(dir.path(), &mut cfg, &db).unwrap();
    assert!(r.registered_now && r.records == 1);
    let saved = TillConfig::load(dir.path()).unwrap();
    assert_eq!(
        saved.auth.token.as_ref().map(|t| t.expose()),
        Some("fresh-token")
    );
    assert!(saved.auth.enrolment_secret.is_none());
    let status = enrolment_status(dir.path(), &saved, &db).unwrap();
    assert!(status.enrolled && status.error.is_none());
    assert_eq!(status.key_history_records, 1);
    assert_eq!(status.recorded_at.as_deref(), Some("2026-12-04T09:00:03Z"));
    // Enrolled: nothing is asked again.
    let again = ensure_enrolled(dir.path(), &mut cfg, &db).unwrap();
    assert!(!again.registered_now);
    assert_eq!(fake.seen.lock().unwrap().len(), 1);
}

#[test]
fn a_history_from_another_server_or_of_another_key_is_not_kept() {
    for (server, other, needle) in [
        (6u8, None, "record 1: signature"),
        (
            7u8,
            Some(SigningKey::from_bytes(&[8; 32])),
            "not this till's key",
        ),
    ] {
        let fake = enrolling(SigningKey::from_bytes(&[server; 32]), other);
        let (dir, mut cfg, db) = not_enrolled(&fake);
        let e = ensure_enrolled(dir.path(), &mut cfg, &db).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
        let saved = TillConfig::load(dir.path()).unwrap();
        assert!(!saved.auth.is_enrolled(), "a token was kept: {e}");
        let status = enrolment_status(dir.path(), &saved, &db).unwrap();
        assert!(status.error.unwrap().contains(needle));
    }
}

#[test]
fn an_outage_leaves_the_till_not_enrolled_with_the_reason() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (dir, mut cfg, reg) = till(&format!("http://127.0.0.1:{port}/"));
    drop(reg);
    cfg.auth.token = None;
    cfg.auth.enrolment_secret = Some(Secret::new("cd".repeat(32)));
    cfg.save(dir.path()).unwrap();
    let db = TillDb::open(&dir.path().join(DB_FILE)).unwrap();
    let e = ensure_enrolled(dir.path(), &mut cfg, &db).unwrap_err();
    assert!(e.is_unavailable(), "{e}");
    let status = enrolment_status(dir.path(), &cfg, &db).unwrap();
    assert!(!status.enrolled);
    assert!(status.error.unwrap().contains("unreachable"));
    // A second attempt with the same error journals it once.
    let _ = ensure_enrolled(dir.path(), &mut cfg, &db);
    let lines = db
        .recent_journal(10)
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "enrol")
        .count();
    assert_eq!(lines, 1);
    // Rotation needs an enrolled till.
    let e = rotate_key(dir.path()).unwrap_err();
    assert!(matches!(e, TillError::NotEnrolled(_)), "{e}");
}
