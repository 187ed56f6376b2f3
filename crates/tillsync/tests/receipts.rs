//! Receipts end to end, through the `tillsync` binary: a sale, its receipt
//! with the store's identity and local time, the QR payload checked by
//! `verify receipt` (accepted; refused with the total changed, with
//! another key, for another till), ESC/POS bytes, and duplicates numbered
//! 1 then 2 that the day closing counts.

use std::path::Path;

use tillsync_testkit::{TestServer, pull};

use crate::util::tillsync;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// A server with demo data and till T001 loaded (store S01's identity).
fn till() -> (TestServer, std::path::PathBuf) {
    let server = TestServer::start(30);
    server.export();
    let till = server.install_till("T001");
    pull(&till).expect("first load");
    (server, till)
}

/// Sell the first item twice, paid 50 € in cash; the ticket's total and time.
fn sell_at(till: &Path) -> (i64, String) {
    let code: String = rusqlite::Connection::open(till.join(tillsync_till::DB_FILE))
        .unwrap()
        .query_row("SELECT code FROM ART ORDER BY code LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let item = format!("{code}x2");
    let t = tillsync(
        till,
        &[
            "--json",
            "till",
            "sell",
            "--data",
            s(till),
            "--item",
            &item,
            "--payment",
            "cash:5000",
        ],
    )
    .ok()
    .json();
    assert_eq!(t["number"], 1, "{t}");
    (
        t["total_cents"].as_i64().unwrap(),
        t["time"].as_str().unwrap().to_string(),
    )
}

/// [`sell_at`]'s total.
fn sell(till: &Path) -> i64 {
    sell_at(till).0
}

/// The till's public key in hex, from its configuration.
fn till_public_key(till: &Path) -> String {
    let cfg = tillsync_core::TillConfig::load(till).unwrap();
    let key = cfg.auth.signing_key().unwrap();
    hex::encode(key.verifying_key().as_bytes())
}

#[test]
fn a_receipt_carries_the_store_and_a_qr_that_verify_receipt_checks() {
    let (server, till) = till();
    let (total, time) = sell_at(&till);
    let run = tillsync(&till, &["till", "receipt", "--data", s(&till), "1"]).ok();
    let text = run.stdout();
    for needle in [
        "Lyon Part-Dieu",
        "69003 Lyon",
        "SIRET 904 128 733 00014",
        "N° TVA intracom. FR43904128733",
        "TICKET DE CAISSE",
        "Ticket n° 1",
        "Caisse T001",
        "TOTAL TTC",
        "Espèces",
        "Rendu",
        "TSR1*T001*",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
    // Local time (Paris, the folder's zone), not UTC ISO.
    let local =
        tillsync_core::fiscal::local::LocalZone::paris().show(&time, tillsync_core::Lang::Fr);
    let date = text.lines().find(|l| l.starts_with("Date")).unwrap();
    assert!(date.ends_with(&local), "{date} vs {local}");
    assert!(!text.contains(&time), "{text}");

    // The QR's text, as a scanner reads it.
    let json = tillsync(
        &till,
        &["--json", "till", "receipt", "--data", s(&till), "1"],
    )
    .ok()
    .json();
    let qr = json["qr"].as_str().unwrap().to_string();
    let fields: Vec<&str> = qr.split('*').collect();
    assert_eq!(fields[..2], ["TSR1", "T001"], "{qr}");
    assert_eq!(fields[3], "1", "{qr}");
    assert_eq!(fields[4], "N", "{qr}");
    assert_eq!(fields[6], total.to_string(), "{qr}");
    let key = tillsync_core::keys::parse_verifying_key(&till_public_key(&till)).unwrap();
    assert_eq!(
        fields[2],
        tillsync_core::key_history::key_id(&key).to_ascii_uppercase()
    );

    // Accepted with the server's record of the till's keys, and with the key file.
    let dir = server.dir();
    let ok = tillsync(dir, &["verify", "receipt", &qr, "--server", s(dir)]).ok();
    assert!(
        ok.stdout().contains("receipt valid: till T001, ticket 1"),
        "{}",
        ok.stdout()
    );
    let json = tillsync(
        dir,
        &[
            "--json",
            "verify",
            "receipt",
            &qr,
            "--server",
            s(dir),
            "--till",
            "T001",
        ],
    )
    .ok()
    .json();
    assert_eq!(json["total_cents"], total, "{json}");
    // The key is the first of the till's key history (its enrolment).
    assert_eq!(json["key_record"]["seq"], 1, "{json}");
    let key_file = dir.join("t001.pub");
    std::fs::write(&key_file, format!("{}\n", till_public_key(&till))).unwrap();
    tillsync(dir, &["verify", "receipt", &qr, "--key", s(&key_file)]).ok();

    // Refused: the total changed, another key, another till, not a code.
    let changed = qr.replacen(&format!("*{total}*"), &format!("*{}*", total - 100), 1);
    assert_ne!(changed, qr);
    for src in [["--server", s(dir)], ["--key", s(&key_file)]] {
        tillsync(dir, &["verify", "receipt", &changed, src[0], src[1]])
            .fails_with("the signature does not match the receipt's figures");
    }
    let other = dir.join("other.pub");
    std::fs::write(
        &other,
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    )
    .unwrap();
    tillsync(dir, &["verify", "receipt", &qr, "--key", s(&other)])
        .fails_with("not by the key given");
    // A code made with another key, naming it: not a key of the till.
    let forged_key = ed25519_dalek::SigningKey::from_bytes(&[4u8; 32]);
    let payload = tillsync_core::fiscal::receipt::SignedReceipt::parse(&qr)
        .unwrap()
        .payload;
    let forged = tillsync_core::fiscal::receipt::ReceiptPayload {
        key_id: tillsync_core::key_history::key_id(&forged_key.verifying_key()),
        ..payload
    }
    .sign(&forged_key);
    tillsync(dir, &["verify", "receipt", &forged, "--server", s(dir)])
        .fails_with("which is not in till T001's key history");
    tillsync(
        dir,
        &[
            "verify",
            "receipt",
            &qr,
            "--server",
            s(dir),
            "--till",
            "T002",
        ],
    )
    .fails_with("not of till T002");
    tillsync(dir, &["verify", "receipt", "hello", "--server", s(dir)])
        .fails_with("not a tillsync receipt code");
    tillsync(dir, &["verify", "receipt", &qr]).fails_with("--key");
}

#[test]
fn escpos_bytes_go_to_a_file() {
    let (_server, till) = till();
    sell(&till);
    let out = till.join("receipt.bin");
    let run = tillsync(
        &till,
        &[
            "till",
            "receipt",
            "--data",
            s(&till),
            "1",
            "--escpos",
            "--out",
            s(&out),
        ],
    )
    .ok();
    assert!(run.stdout().contains("written to"), "{}", run.stdout());
    let b = std::fs::read(&out).unwrap();
    assert_eq!(&b[..5], &[0x1B, b'@', 0x1B, b't', 19]);
    assert!(
        b.windows(3).any(|w| w == [0x1D, b'(', b'k']),
        "the printer's QR"
    );
    assert!(b.ends_with(&[0x1D, b'V', 66, 0]), "cut");
    tillsync(&till, &["till", "receipt", "--data", s(&till), "9"])
        .fails_with("ticket 9 does not exist on till T001");
}

#[test]
fn two_reprints_are_duplicates_1_and_2_and_the_day_closing_counts_them() {
    let (_server, till) = till();
    sell(&till);
    let first = tillsync(&till, &["till", "reprint", "--data", s(&till), "1"]).ok();
    assert!(
        first.stdout().contains("*** DUPLICATA n° 1 ***"),
        "{}",
        first.stdout()
    );
    let second = tillsync(
        &till,
        &["--json", "till", "reprint", "--data", s(&till), "1"],
    )
    .ok()
    .json();
    assert_eq!(second["duplicate"], 2, "{second}");
    assert!(
        second["text"]
            .as_str()
            .unwrap()
            .contains("*** DUPLICATA n° 2 ***"),
        "{second}"
    );
    // A plain receipt is no duplicate and is not logged.
    let plain = tillsync(&till, &["till", "receipt", "--data", s(&till), "1"]).ok();
    assert!(!plain.stdout().contains("DUPLICATA"), "{}", plain.stdout());
    tillsync(&till, &["till", "reprint", "--data", s(&till), "7"])
        .fails_with("ticket 7 does not exist on till T001");

    let events = tillsync(&till, &["--json", "till", "events", "--data", s(&till)])
        .ok()
        .json();
    let reprints: Vec<&serde_json::Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reprint")
        .collect();
    assert_eq!(reprints.len(), 2, "{events}");
    assert_eq!(reprints[1]["body"]["reprint"], 2, "{events}");
    assert_eq!(reprints[1]["body"]["ticket"], 1, "{events}");

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
    assert_eq!(close["closing"]["reprints"], 2, "{close}");
    assert_eq!(close["closing"]["tickets"], 1, "{close}");
}

#[test]
fn a_store_without_identity_gets_its_mentions_said_missing() {
    let (server, till) = till();
    server.erp("UPDATE STORE SET siret = NULL, vat_number = '' WHERE code = 'S01'");
    server.export();
    pull(&till).expect("second load");
    sell(&till);
    let text = tillsync(&till, &["till", "receipt", "--data", s(&till), "1"])
        .ok()
        .stdout();
    assert!(text.contains("SIRET : non renseigné"), "{text}");
    assert!(text.contains("N° TVA intracom. : non renseigné"), "{text}");
    assert!(text.contains("Lyon Part-Dieu"), "{text}");
}

#[test]
fn the_stores_time_zone_wins_for_its_receipts() {
    let (server, till) = till();
    server.erp("UPDATE STORE SET timezone = 'Indian/Reunion' WHERE code = 'S01'");
    server.export();
    pull(&till).expect("second load");
    sell(&till);
    let json = tillsync(
        &till,
        &["--json", "till", "receipt", "--data", s(&till), "1"],
    )
    .ok()
    .json();
    let qr = json["qr"].as_str().unwrap();
    assert!(qr.split('*').nth(5).unwrap().ends_with("+0400"), "{qr}");
}

/// A version-2 sale through `till sell`: a weight, a line discount, a
/// voided line, a ticket discount, cash with change, a cashier; then a
/// training ticket whose receipt says MODE ÉCOLE and whose QR says so, and
/// which cannot be printed again as a counted duplicate.
#[test]
fn version_2_receipts_show_discounts_voids_change_the_cashier_and_training() {
    let (server, till) = till();
    let codes: Vec<String> = {
        let db = rusqlite::Connection::open(till.join(tillsync_till::DB_FILE)).unwrap();
        let mut st = db
            .prepare("SELECT code FROM ART ORDER BY code LIMIT 3")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let (a, b, c) = (
        format!("{}x0.485", codes[0]),
        format!("{}x2", codes[1]),
        codes[2].clone(),
    );
    let t = tillsync(
        &till,
        &[
            "--json",
            "till",
            "sell",
            "--data",
            s(&till),
            "--item",
            &a,
            "--item",
            &b,
            "--item",
            &c,
            "--line-discount",
            "2:10",
            "--void",
            "3",
            "--discount",
            "5",
            "--payment",
            "cash:10000",
            "--cashier",
            "Julien Bernard",
        ],
    )
    .ok()
    .json();
    assert!(t["change_cents"].as_i64().unwrap() > 0, "{t}");
    let text = tillsync(&till, &["till", "receipt", "--data", s(&till), "1"])
        .ok()
        .stdout();
    for needle in [
        "0,485 × ",
        "  Remise                           -0,10 €",
        "ANNULÉ",
        "Sous-total",
        "Remise sur le ticket               -0,05 €",
        "Rendu",
        "Caissier                    Julien Bernard",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
    let change =
        format!("{:.2}", t["change_cents"].as_i64().unwrap() as f64 / 100.0).replace('.', ",");
    assert!(
        text.contains(&format!("{change} €")),
        "change {change}: {text}"
    );

    let training = tillsync(
        &till,
        &[
            "--json",
            "till",
            "sell",
            "--data",
            s(&till),
            "--item",
            &c,
            "--payment",
            "card",
            "--training",
        ],
    )
    .ok()
    .json();
    assert_eq!(training["number"], 1, "its own numbering: {training}");
    let r = tillsync(
        &till,
        &[
            "--json",
            "till",
            "receipt",
            "--data",
            s(&till),
            "--training",
            "1",
        ],
    )
    .ok()
    .json();
    let text = r["text"].as_str().unwrap();
    assert!(text.contains("*** MODE ÉCOLE ***"), "{text}");
    let qr = r["qr"].as_str().unwrap();
    assert_eq!(qr.split('*').nth(4), Some("E"), "{qr}");
    let dir = server.dir();
    let ok = tillsync(dir, &["verify", "receipt", qr, "--server", s(dir)]).ok();
    assert!(ok.stdout().contains("(training mode)"), "{}", ok.stdout());
    tillsync(
        &till,
        &["till", "reprint", "--data", s(&till), "--training", "1"],
    )
    .fails_with("a training ticket is no fiscal record");
}
