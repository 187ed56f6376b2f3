//! Unit tests of the key history: the literal example of
//! `docs/till-keys.md`, a history of three keys, every tampered field
//! named, the key valid at a time, the `valid_from` rule and the proof.

use super::*;
use tillsync_wire::keys::KeyReason;

fn server() -> SigningKey {
    SigningKey::from_bytes(&[5u8; 32])
}

fn till_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn record(
    seq: u64,
    key: &SigningKey,
    valid_from: &str,
    recorded_at: &str,
    previous: Option<&KeyRecord>,
    reason: KeyReason,
) -> KeyRecord {
    let public = key.verifying_key();
    let mut r = KeyRecord {
        version: KEY_RECORD_VERSION,
        till: "T001".into(),
        seq,
        key_id: key_id(&public),
        public_key: hex::encode(public.to_bytes()),
        valid_from: valid_from.into(),
        recorded_at: recorded_at.into(),
        previous_key_id: previous.map(|p| p.key_id.clone()),
        reason,
        signature: String::new(),
    };
    sign_record(&mut r, &server());
    r
}

/// Three keys: enrolment, rotation, re-enrolment.
fn history() -> Vec<KeyRecord> {
    let a = record(
        1,
        &till_key(9),
        "2026-12-04T09:00:00Z",
        "2026-12-04T09:00:03Z",
        None,
        KeyReason::Enrolment,
    );
    let b = record(
        2,
        &till_key(10),
        "2026-12-20T18:30:00Z",
        "2026-12-20T18:30:00Z",
        Some(&a),
        KeyReason::Rotation,
    );
    let c = record(
        3,
        &till_key(11),
        "2027-01-02T08:00:00Z",
        "2027-01-03T10:00:00Z",
        Some(&b),
        KeyReason::ReEnrolment,
    );
    vec![a, b, c]
}

/// The example of `docs/till-keys.md`: its JSON is the record built here,
/// and its canonical encoding and digest are the ones printed there.
#[test]
fn the_documented_example_is_what_the_code_makes() {
    let doc = include_str!("../../../../docs/till-keys.md");
    let r = &history()[0];
    let json_block = doc
        .split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a JSON example in docs/till-keys.md");
    let documented: KeyRecord = serde_json::from_str(json_block).expect("the example parses");
    assert_eq!(&documented, r, "docs/till-keys.md shows another record");
    let canonical_hex = hex::encode(canonical(r));
    let flat: String = doc
        .split("```hex")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the canonical encoding in hex in docs/till-keys.md")
        .split_whitespace()
        .collect();
    assert_eq!(flat, canonical_hex, "docs/till-keys.md: canonical encoding");
    let digest = hex::encode(record_digest(r));
    assert!(
        doc.contains(&digest),
        "docs/till-keys.md lacks the digest {digest}"
    );
    assert!(doc.contains(&hex::encode(server().verifying_key().to_bytes())));
    let proof = sign_proof(ProofPurpose::Enrol, "T001", &till_key(9), &r.valid_from);
    assert!(
        doc.contains(&proof),
        "docs/till-keys.md lacks the proof {proof}"
    );
    KeyHistory::verify(
        std::slice::from_ref(&documented),
        &server().verifying_key(),
        Some("T001"),
    )
    .expect("the documented record verifies");
}

#[test]
fn a_history_verifies_and_answers_which_key_was_valid() {
    let records = history();
    let h = KeyHistory::verify(&records, &server().verifying_key(), Some("T001")).unwrap();
    assert_eq!(h.till(), "T001");
    assert_eq!(h.current().seq, 3);
    assert_eq!(h.key_at("2026-12-04T08:59:59Z").unwrap(), None);
    assert_eq!(h.key_at("2026-12-04T09:00:00Z").unwrap().unwrap().seq, 1);
    // Any offset: 19:30 in Paris is 18:30 UTC.
    assert_eq!(
        h.key_at("2026-12-20T19:30:00+01:00").unwrap().unwrap().seq,
        2
    );
    assert_eq!(
        h.key_at("2026-12-20T19:29:59+01:00").unwrap().unwrap().seq,
        1
    );
    assert_eq!(h.key_at("2030-01-01T00:00:00Z").unwrap().unwrap().seq, 3);
    assert!(matches!(
        h.key_at("yesterday"),
        Err(KeyHistoryError::Time { .. })
    ));
    assert_eq!(h.valid_until(&records[0]), Some("2026-12-20T18:30:00Z"));
    assert_eq!(h.valid_until(&records[2]), None);
    for (n, seq) in [(9, 1), (10, 2), (11, 3)] {
        let k = till_key(n).verifying_key();
        assert_eq!(h.find_key(&k).unwrap().seq, seq);
        assert_eq!(h.find_key_id(&key_id(&k)).unwrap().seq, seq);
    }
    assert!(h.find_key(&till_key(12).verifying_key()).is_none());
    assert_eq!(h.keys().count(), 3);
    // Which key signed: an older key of the history still counts.
    let sig = till_key(9).sign(b"ticket digest");
    assert_eq!(h.signer_of(b"ticket digest", &sig).unwrap().seq, 1);
    let foreign = till_key(12).sign(b"ticket digest");
    assert!(h.signer_of(b"ticket digest", &foreign).is_none());
    // The wrong till, the wrong server key.
    let e = KeyHistory::verify(&records, &server().verifying_key(), Some("T002")).unwrap_err();
    assert!(e.to_string().contains("record 1: till"), "{e}");
    let other = SigningKey::from_bytes(&[6u8; 32]).verifying_key();
    let e = KeyHistory::verify(&records, &other, None).unwrap_err();
    assert!(e.to_string().contains("record 1: signature"), "{e}");
    assert_eq!(
        KeyHistory::verify(&[], &other, None).unwrap_err(),
        KeyHistoryError::Empty
    );
}

/// Each tampered field is named, at its record.
#[test]
fn a_tampered_record_is_caught_and_named() {
    let key = server().verifying_key();
    type Tamper = fn(&mut Vec<KeyRecord>);
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "valid_from moved",
            |h| h[1].valid_from = "2026-12-19T18:30:00Z".into(),
            "record 2: signature",
        ),
        (
            "public key swapped",
            |h| {
                let k = till_key(12).verifying_key();
                h[1].public_key = hex::encode(k.to_bytes());
            },
            "record 2: key_id",
        ),
        (
            "key id and key swapped",
            |h| {
                let k = till_key(12).verifying_key();
                h[1].public_key = hex::encode(k.to_bytes());
                h[1].key_id = key_id(&k);
            },
            "record 2: signature",
        ),
        (
            "record removed",
            |h| {
                h.remove(1);
            },
            "record 2: seq",
        ),
        (
            "record removed, renumbered",
            |h| {
                h.remove(1);
                h[1].seq = 2;
            },
            "record 2: previous_key_id",
        ),
        (
            "reason changed",
            |h| h[0].reason = KeyReason::PackageV2,
            "record 1: signature",
        ),
        (
            "signature garbled",
            |h| h[2].signature = "zz".into(),
            "record 3: signature",
        ),
        ("version", |h| h[0].version = 2, "record 1: version"),
        (
            "time not normalised",
            |h| h[0].valid_from = "2026-12-04T10:00:00+01:00".into(),
            "record 1: valid_from",
        ),
        (
            "valid after recorded",
            |h| h[0].valid_from = "2026-12-05T00:00:00Z".into(),
            "record 1: valid_from",
        ),
        (
            "valid before the previous",
            |h| h[1].valid_from = "2026-12-01T00:00:00Z".into(),
            "record 2: valid_from",
        ),
        (
            "a key twice",
            |h| {
                let again = record(
                    4,
                    &till_key(9),
                    "2027-02-01T00:00:00Z",
                    "2027-02-01T00:00:00Z",
                    Some(&h[2]),
                    KeyReason::Rotation,
                );
                h.push(again);
            },
            "record 4: public_key is already record 1's key",
        ),
        (
            "upper-case key",
            |h| h[0].public_key = h[0].public_key.to_uppercase(),
            "record 1: public_key",
        ),
    ];
    for (what, tamper, needle) in cases {
        let mut h = history();
        tamper(&mut h);
        let e = KeyHistory::verify(&h, &key, Some("T001")).unwrap_err();
        assert!(e.to_string().contains(needle), "{what}: {e}");
        assert!(
            e.to_string().starts_with("key history of till T001"),
            "{what}: {e}"
        );
    }
}

#[test]
fn valid_from_stays_between_the_previous_key_and_now() {
    let now = "2026-12-10T12:00:00Z";
    assert_eq!(
        valid_from("2026-12-09T08:00:00Z", None, now),
        "2026-12-09T08:00:00Z"
    );
    // A till clock ahead of the server.
    assert_eq!(valid_from("2026-12-11T08:00:00Z", None, now), now);
    // A till clock behind the previous key's start.
    assert_eq!(
        valid_from("2026-11-01T00:00:00Z", Some("2026-12-01T00:00:00Z"), now),
        "2026-12-01T00:00:00Z"
    );
    assert_eq!(
        utc_seconds("2026-12-10T13:00:00.750+01:00").unwrap(),
        "2026-12-10T12:00:00Z"
    );
    assert!(utc_seconds("10/12/2026").is_err());
}

#[test]
fn a_proof_verifies_only_for_its_key_till_and_purpose() {
    let key = till_key(9);
    let public = hex::encode(key.verifying_key().to_bytes());
    let at = "2026-12-04T09:00:00Z";
    let proof = sign_proof(ProofPurpose::Enrol, "T001", &key, at);
    assert_eq!(
        verify_proof(ProofPurpose::Enrol, "T001", &public, at, &proof).unwrap(),
        key.verifying_key()
    );
    for (purpose, till, public, at) in [
        (ProofPurpose::Rotate, "T001", public.as_str(), at),
        (ProofPurpose::Enrol, "T002", public.as_str(), at),
        (
            ProofPurpose::Enrol,
            "T001",
            public.as_str(),
            "2026-12-04T09:00:01Z",
        ),
    ] {
        let e = verify_proof(purpose, till, public, at, &proof).unwrap_err();
        assert!(e.to_string().contains("proof message"), "{e}");
    }
    let other = hex::encode(till_key(10).verifying_key().to_bytes());
    assert!(verify_proof(ProofPurpose::Enrol, "T001", &other, at, &proof).is_err());
    let e = verify_proof(ProofPurpose::Enrol, "T001", "abc", at, &proof).unwrap_err();
    assert!(e.to_string().contains("64 hexadecimal"), "{e}");
    let e = verify_proof(ProofPurpose::Enrol, "T001", &public, at, "00").unwrap_err();
    assert!(e.to_string().contains("128 hexadecimal"), "{e}");
}
