//! Unit tests of [`change_key`] over steps kept in memory: enrolment, its
//! retry, every refusal, rotation, re-enrolment and the keys of version-2
//! packages; every history made verifies with the server's key.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use tillsync_core::key_history::{KeyHistory, key_id, sign_record};

use super::*;

#[derive(Default)]
struct Memory {
    enrolments: BTreeMap<String, Enrolment>,
    records: Vec<KeyRecord>,
    /// (till, public key, issued at) of every ticket key.
    ticket_keys: Vec<(String, String, String)>,
    tokens: BTreeMap<String, String>,
    journal: Vec<String>,
}

impl KeySteps for Memory {
    fn enrolment(&mut self, secret_sha256: &str) -> Result<Option<Enrolment>, StoreError> {
        Ok(self.enrolments.get(secret_sha256).cloned())
    }
    fn history(&mut self, till: &str) -> Result<Vec<KeyRecord>, StoreError> {
        Ok(self
            .records
            .iter()
            .filter(|r| r.till == till)
            .cloned()
            .collect())
    }
    fn unrecorded_keys(&mut self, till: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .ticket_keys
            .iter()
            .filter(|(t, k, _)| t == till && !self.records.iter().any(|r| &r.public_key == k))
            .map(|(_, k, at)| (k.clone(), at.clone()))
            .collect())
    }
    fn key_owner(&mut self, public_key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .ticket_keys
            .iter()
            .find(|(_, k, _)| k == public_key)
            .map(|(t, _, _)| t.clone()))
    }
    fn insert_record(&mut self, record: &KeyRecord) -> Result<(), StoreError> {
        self.records.push(record.clone());
        if self.key_owner(&record.public_key)?.is_none() {
            self.ticket_keys.push((
                record.till.clone(),
                record.public_key.clone(),
                record.recorded_at.clone(),
            ));
        }
        Ok(())
    }
    fn mark_used(&mut self, secret_sha256: &str, at: &str, key_id: &str) -> Result<(), StoreError> {
        let e = self
            .enrolments
            .get_mut(secret_sha256)
            .expect("known secret");
        e.used_at = Some(at.into());
        e.used_key_id = Some(key_id.into());
        Ok(())
    }
    fn set_token(&mut self, till: &str, token_sha256: &str, _at: &str) -> Result<(), StoreError> {
        self.tokens.insert(till.into(), token_sha256.into());
        Ok(())
    }
    fn journal(&mut self, _till: &str, _at: &str, detail: &str) -> Result<(), StoreError> {
        self.journal.push(detail.into());
        Ok(())
    }
}

fn server() -> SigningKey {
    SigningKey::from_bytes(&[5u8; 32])
}

fn sign(r: &mut KeyRecord) {
    sign_record(r, &server())
}

struct Key {
    public: String,
    id: String,
}

fn key(n: u8) -> Key {
    let vk = SigningKey::from_bytes(&[n; 32]).verifying_key();
    Key {
        public: hex::encode(vk.to_bytes()),
        id: key_id(&vk),
    }
}

fn issue(m: &mut Memory, secret: &str, till: &str, issued: &str, expires: &str) {
    m.enrolments.insert(
        secret.into(),
        Enrolment {
            secret_sha256: secret.into(),
            till_id: till.into(),
            issued_at: issued.into(),
            expires_at: expires.into(),
            superseded_at: None,
            used_at: None,
            used_key_id: None,
        },
    );
}

fn claim<'a>(till: &'a str, k: &'a Key, now: &'a str, change: KeyChange<'a>) -> KeyClaim<'a> {
    KeyClaim {
        till,
        public_key: &k.public,
        key_id: &k.id,
        key_created_at: "2026-12-04T09:00:00Z",
        now,
        change,
    }
}

fn enrol<'a>(secret: &'a str, token: &'a str) -> KeyChange<'a> {
    KeyChange::Enrol {
        secret_sha256: secret,
        token_sha256: token,
    }
}

fn verified(m: &Memory, till: &str) -> KeyHistory {
    let h: Vec<KeyRecord> = m
        .records
        .iter()
        .filter(|r| r.till == till)
        .cloned()
        .collect();
    KeyHistory::verify(&h, &server().verifying_key(), Some(till)).expect("history verifies")
}

const NOW: &str = "2026-12-04T09:00:03Z";

#[test]
fn enrolment_records_the_key_once_and_a_copy_is_refused() {
    let mut m = Memory::default();
    issue(
        &mut m,
        "s1",
        "T001",
        "2026-12-01T00:00:00Z",
        "2026-12-08T00:00:00Z",
    );
    let (a, b) = (key(9), key(10));
    let out = change_key(&mut m, &claim("T001", &a, NOW, enrol("s1", "tok1")), &sign)
        .unwrap()
        .unwrap();
    assert!(out.added);
    assert_eq!(out.history.len(), 1);
    let r = &out.history[0];
    assert_eq!(
        (
            r.seq,
            r.reason,
            r.valid_from.as_str(),
            r.recorded_at.as_str()
        ),
        (1, KeyReason::Enrolment, "2026-12-04T09:00:00Z", NOW)
    );
    assert_eq!(m.tokens["T001"], "tok1");
    assert_eq!(
        m.enrolments["s1"].used_key_id.as_deref(),
        Some(a.id.as_str())
    );
    verified(&m, "T001");

    // The same secret, another key: a copied package.
    let e = change_key(&mut m, &claim("T001", &b, NOW, enrol("s1", "tok2")), &sign)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), "enrolment-used");
    assert!(
        e.to_string().contains("already used") && e.to_string().contains(&a.id),
        "{e}"
    );
    assert_eq!(m.tokens["T001"], "tok1");
    assert_eq!(m.records.len(), 1);

    // The same key again (its answer was lost): a new token, no new record.
    let again = change_key(&mut m, &claim("T001", &a, NOW, enrol("s1", "tok3")), &sign)
        .unwrap()
        .unwrap();
    assert!(!again.added);
    assert_eq!(again.history, out.history);
    assert_eq!(m.tokens["T001"], "tok3");
}

#[test]
fn unknown_superseded_expired_and_foreign_secrets_are_refused() {
    let mut m = Memory::default();
    issue(
        &mut m,
        "s1",
        "T001",
        "2026-11-01T00:00:00Z",
        "2026-11-08T00:00:00Z",
    );
    issue(
        &mut m,
        "s2",
        "T002",
        "2026-12-01T00:00:00Z",
        "2026-12-08T00:00:00Z",
    );
    issue(
        &mut m,
        "s3",
        "T001",
        "2026-12-01T00:00:00Z",
        "2026-12-08T00:00:00Z",
    );
    m.enrolments.get_mut("s3").unwrap().superseded_at = Some("2026-12-02T00:00:00Z".into());
    let a = key(9);
    for (secret, code, needle) in [
        ("nope", "enrolment-unknown", "unknown enrolment secret"),
        ("s2", "enrolment-unknown", "till T001"),
        ("s1", "enrolment-expired", "expired at 2026-11-08T00:00:00Z"),
        (
            "s3",
            "enrolment-superseded",
            "superseded at 2026-12-02T00:00:00Z",
        ),
    ] {
        let e = change_key(&mut m, &claim("T001", &a, NOW, enrol(secret, "t")), &sign)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code(), code, "{secret}: {e}");
        assert!(e.to_string().contains(needle), "{secret}: {e}");
    }
    assert!(m.records.is_empty() && m.tokens.is_empty() && m.journal.is_empty());
}

#[test]
fn rotation_re_enrolment_and_keys_in_use() {
    let mut m = Memory::default();
    issue(
        &mut m,
        "s1",
        "T001",
        "2026-12-01T00:00:00Z",
        "2026-12-08T00:00:00Z",
    );
    issue(
        &mut m,
        "s2",
        "T002",
        "2026-12-01T00:00:00Z",
        "2026-12-08T00:00:00Z",
    );
    let (a, b, c) = (key(9), key(10), key(11));
    change_key(&mut m, &claim("T001", &a, NOW, enrol("s1", "t")), &sign)
        .unwrap()
        .unwrap();
    // Rotation: linked to the first key, valid from when it was made.
    let later = "2026-12-20T18:30:00Z";
    let mut rot = claim("T001", &b, later, KeyChange::Rotate);
    rot.key_created_at = "2026-12-20T18:29:58Z";
    let out = change_key(&mut m, &rot, &sign).unwrap().unwrap();
    let r = &out.history[1];
    assert_eq!((r.seq, r.reason), (2, KeyReason::Rotation));
    assert_eq!(r.previous_key_id.as_deref(), Some(a.id.as_str()));
    assert_eq!(r.valid_from, "2026-12-20T18:29:58Z");
    // Again: nothing new. Back to the first key: refused.
    assert!(!change_key(&mut m, &rot, &sign).unwrap().unwrap().added);
    let e = change_key(&mut m, &claim("T001", &a, later, KeyChange::Rotate), &sign)
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, KeyRefusal::KeyInHistory { seq: 1, .. }), "{e}");
    // T001's key for T002: refused.
    let e = change_key(&mut m, &claim("T002", &b, NOW, enrol("s2", "t")), &sign)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), "key-in-use");
    assert!(e.to_string().contains("till T001"), "{e}");
    // A new package of T001, a new key: re-enrolment.
    issue(
        &mut m,
        "s4",
        "T001",
        "2027-01-01T00:00:00Z",
        "2027-01-08T00:00:00Z",
    );
    let out = change_key(
        &mut m,
        &claim("T001", &c, "2027-01-02T00:00:00Z", enrol("s4", "t4")),
        &sign,
    )
    .unwrap()
    .unwrap();
    let r = &out.history[2];
    assert_eq!((r.seq, r.reason), (3, KeyReason::ReEnrolment));
    // The till said its key was made before the previous key's start: clamped.
    assert_eq!(r.valid_from, "2026-12-20T18:29:58Z");
    verified(&m, "T001");
    // The first package of T001 cannot enrol the old key again: it is used,
    // and the key is no longer the current one.
    let e = change_key(&mut m, &claim("T001", &a, NOW, enrol("s1", "t")), &sign)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), "enrolment-used");
}

#[test]
fn keys_of_version_2_packages_are_recorded_first() {
    let mut m = Memory::default();
    let (old1, old2, new) = (key(20), key(21), key(22));
    m.ticket_keys.push((
        "T001".into(),
        old1.public.clone(),
        "2026-10-01T00:00:00Z".into(),
    ));
    m.ticket_keys.push((
        "T001".into(),
        old2.public.clone(),
        "2026-11-01T00:00:00Z".into(),
    ));
    issue(
        &mut m,
        "s1",
        "T001",
        "2026-12-01T00:00:00Z",
        "2026-12-08T00:00:00Z",
    );
    let out = change_key(&mut m, &claim("T001", &new, NOW, enrol("s1", "t")), &sign)
        .unwrap()
        .unwrap();
    let reasons: Vec<(KeyReason, &str)> = out
        .history
        .iter()
        .map(|r| (r.reason, r.valid_from.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (KeyReason::PackageV2, "2026-10-01T00:00:00Z"),
            (KeyReason::PackageV2, "2026-11-01T00:00:00Z"),
            (KeyReason::ReEnrolment, "2026-12-04T09:00:00Z"),
        ]
    );
    let h = verified(&m, "T001");
    assert_eq!(h.current().key_id, new.id);
    assert_eq!(
        h.key_at("2026-10-15T00:00:00Z").unwrap().unwrap().key_id,
        old1.id
    );
}

#[test]
fn a_server_clock_set_back_keeps_the_history_in_order() {
    let mut m = Memory::default();
    issue(
        &mut m,
        "s1",
        "T001",
        "2026-12-01T00:00:00Z",
        "2026-12-08T00:00:00Z",
    );
    let (a, b) = (key(9), key(10));
    change_key(&mut m, &claim("T001", &a, NOW, enrol("s1", "t")), &sign)
        .unwrap()
        .unwrap();
    let mut back = claim("T001", &b, "2026-12-03T00:00:00Z", KeyChange::Rotate);
    back.key_created_at = "2026-12-02T23:59:00Z";
    let out = change_key(&mut m, &back, &sign).unwrap().unwrap();
    let r = &out.history[1];
    assert_eq!(r.recorded_at, NOW);
    assert_eq!(r.valid_from, "2026-12-04T09:00:00Z");
    verified(&m, "T001");
}
