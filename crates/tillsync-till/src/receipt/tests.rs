//! Receipts of a small ticket: the golden text and ESC/POS bytes, every
//! legal mention present, a missing one said missing, the marks of a
//! training ticket, a duplicate and a correction, an invoice's customer.

use ed25519_dalek::SigningKey;
use tillsync_core::fiscal::local::LocalZone;
use tillsync_core::fiscal::receipt::SignedReceipt;
use tillsync_core::lang::Lang;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Sale, SaleItem, Ticket};
use tillsync_till_db::store::{CustomerAddress, StoreIdentity};

use crate::receipt::escpos::{escpos, qr_commands, readable};
use crate::receipt::layout::{Block, WIDTH, layout};
use crate::receipt::model::{PrintOptions, Receipt, ReceiptSource};
use crate::receipt::text::text;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

fn item(code: &str, label: &str, price: i64, rate: i64) -> PricedItem {
    PricedItem {
        code: code.into(),
        label: label.into(),
        price_cents: price,
        vat_rate_bp: rate,
    }
}

/// Sealed as ticket 42 of T001 at 09:12:21 in Lyon.
fn seal(sale: Sale) -> Ticket {
    sale.seal("T001", 42, "2026-12-04T08:12:21Z", GENESIS_HASH, &key())
        .unwrap()
}

/// Two baguettes and a bottle of wine sold by Marie Martin, paid 20 € in
/// cash (4,90 € given back); a correction takes them back.
fn ticket(corrects: Option<u64>) -> Ticket {
    let sign = if corrects.is_some() { -1 } else { 1 };
    seal(Sale {
        lines: vec![
            SaleItem::units(item("ART0000012", "Baguette tradition", 130, 550), 2 * sign),
            SaleItem::units(
                item("ART0000044", "Côtes-du-Rhône rouge 75 cl", 1250, 2000),
                sign,
            ),
        ],
        payments: vec![Payment {
            method: "cash".into(),
            amount_cents: if corrects.is_some() { -1510 } else { 2000 },
        }],
        customer: Some("CLI000042".into()),
        cashier: Some("Marie Martin".into()),
        corrects,
        ..Sale::default()
    })
}

fn store() -> StoreIdentity {
    StoreIdentity {
        code: "S01".into(),
        name: Some("Lyon Part-Dieu".into()),
        address: vec![
            "17 rue du Docteur Bouchut".into(),
            "Centre commercial Part-Dieu".into(),
        ],
        postcode: Some("69003".into()),
        town: Some("Lyon".into()),
        siret: Some("90412873300014".into()),
        vat_number: Some("FR43904128733".into()),
        phone: Some("04 78 00 12 34".into()),
        timezone: None,
    }
}

fn build(t: &Ticket, store: Option<&StoreIdentity>, lang: Lang, opts: &PrintOptions) -> Receipt {
    let k = key();
    let zone = LocalZone::paris();
    let src = ReceiptSource {
        ticket: t,
        store_code: "S01",
        store,
        customer: Some(CustomerAddress {
            code: "CLI000042".into(),
            name: Some("Camille Durand".into()),
            address: vec!["3 rue Garibaldi".into(), "69006 Lyon".into()],
        }),
        zone: &zone,
        lang,
        key: &k,
    };
    Receipt::build(&src, opts).unwrap()
}

/// Compare `actual` with the golden file `name` (under `receipt/golden`);
/// `TILLSYNC_BLESS=1` writes it first (after a deliberate layout change).
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/receipt/golden")
        .join(name);
    if std::env::var_os("TILLSYNC_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        actual, want,
        "{name} differs; the receipt now reads:\n{actual}"
    );
}

fn cashier() -> PrintOptions {
    PrintOptions::default()
}

#[test]
fn the_golden_text_receipt() {
    let r = build(&ticket(None), Some(&store()), Lang::Fr, &cashier());
    let t = text(&r, false).unwrap();
    golden("small.txt", &t);
    for line in t.lines() {
        assert!(line.chars().count() <= WIDTH, "{line:?}");
    }
    // docs/receipts.md shows it, up to the first line of the QR's text.
    let shown: String = t
        .lines()
        .take_while(|l| !l.starts_with("TSR1"))
        .chain(t.lines().find(|l| l.starts_with("TSR1")))
        .map(|l| format!("{l}\n"))
        .collect();
    let docs = include_str!("../../../../docs/receipts.md");
    assert!(
        docs.contains(&shown),
        "docs/receipts.md differs from:\n{shown}"
    );
}

#[test]
fn the_golden_escpos_bytes() {
    let r = build(&ticket(None), Some(&store()), Lang::Fr, &cashier());
    let b = escpos(&r);
    golden("small.escpos.txt", &readable(&b));
    // Initialise and code page PC858 first, feed and partial cut last.
    assert_eq!(&b[..5], &[0x1B, b'@', 0x1B, b't', 19]);
    assert!(b.ends_with(&[0x1B, b'd', 4, 0x1D, b'V', 66, 0]));
    // The QR code through the printer's own commands, with its whole text.
    let qr = qr_commands(&r.qr);
    assert!(b.windows(qr.len()).any(|w| w == qr.as_slice()));
    let n = r.qr.len() + 3;
    let store = [
        0x1D,
        b'(',
        b'k',
        (n % 256) as u8,
        (n / 256) as u8,
        49,
        80,
        48,
    ];
    assert!(qr.windows(8).any(|w| w == store));
    // The euro sign and the accents in PC858.
    assert!(b.contains(&0xD5), "euro sign");
    assert!(b.windows(2).any(|w| w == [b'C', 0x93]), "Côtes: ô is 0x93");
    // The store's name in bold double size, centred, not inverted.
    let name = b"Lyon Part-Dieu";
    let at = b.windows(name.len()).position(|w| w == name).unwrap();
    assert_eq!(
        &b[at - 12..at],
        &[
            0x1B, b'a', 1, 0x1B, b'E', 1, 0x1D, b'!', 0x11, 0x1D, b'B', 0
        ]
    );
}

#[test]
fn every_legal_mention_is_there() {
    let r = build(&ticket(None), Some(&store()), Lang::Fr, &cashier());
    let t = text(&r, false).unwrap();
    for needle in [
        "Lyon Part-Dieu",
        "17 rue du Docteur Bouchut",
        "69003 Lyon",
        "SIRET 904 128 733 00014",
        "N° TVA intracom. FR43904128733",
        "Tél. 04 78 00 12 34",
        "TICKET DE CAISSE",
        "Ticket n° 42",
        "Caisse T001",
        // Local time: 08:12:21 UTC is 09:12:21 in Paris in December.
        "04/12/2026 09:12:21",
        "Caissier",
        "Marie Martin",
        "Baguette tradition",
        "2 × 1,30 €",
        "2,60 €",
        "1 × 12,50 €",
        "TOTAL TTC",
        "15,10 €",
        "Base HT",
        "5,5 %",
        "20 %",
        "Espèces",
        "20,00 €",
        "Rendu",
        "4,90 €",
        "Client : CLI000042",
        "TSR1*T001*",
    ] {
        assert!(t.contains(needle), "lacks {needle:?}:\n{t}");
    }
    // The VAT table: base, VAT and total of each rate.
    let vat_line = t.lines().find(|l| l.starts_with("20 %")).unwrap();
    assert_eq!(
        vat_line.split_whitespace().collect::<Vec<_>>(),
        ["20", "%", "10,42", "2,08", "12,50"]
    );
    // The QR's text is the signed payload of this ticket.
    let read = SignedReceipt::parse(&r.qr).unwrap();
    read.verify(&key().verifying_key()).unwrap();
    assert_eq!(read.payload.total_cents, 1510);
    assert_eq!(read.payload.local_time, "20261204T091221+0100");
    let folded: String = t
        .lines()
        .skip_while(|l| !l.starts_with("TSR1"))
        .take_while(|l| !l.trim_start().starts_with("Signature"))
        .collect();
    assert_eq!(folded, r.qr);
}

#[test]
fn missing_mentions_are_said_missing() {
    let mut s = store();
    s.siret = None;
    s.vat_number = None;
    let mut anonymous = ticket(None);
    anonymous.cashier = None;
    let t = text(
        &build(&anonymous, Some(&s), Lang::Fr, &PrintOptions::default()),
        false,
    )
    .unwrap();
    assert!(t.contains("SIRET : non renseigné"), "{t}");
    assert!(t.contains("N° TVA intracom. : non renseigné"), "{t}");
    assert!(t.contains("Caissier") && t.contains("non renseigné"), "{t}");
    let t = text(
        &build(&ticket(None), None, Lang::Fr, &PrintOptions::default()),
        false,
    )
    .unwrap();
    for needle in [
        "Magasin S01",
        "(Magasin : non renseigné)",
        "Adresse : non renseigné",
        "SIRET : non renseigné",
    ] {
        assert!(t.contains(needle), "lacks {needle:?}:\n{t}");
    }
    let t = text(
        &build(&ticket(None), None, Lang::En, &PrintOptions::default()),
        false,
    )
    .unwrap();
    assert!(
        t.contains("SIRET: not given") && t.contains("RECEIPT"),
        "{t}"
    );
    assert!(t.contains("2026-12-04 09:12:21"), "{t}");
}

#[test]
fn marks_of_training_duplicates_corrections_and_invoices() {
    let opts = PrintOptions {
        duplicate: Some(2),
        invoice: true,
        ..PrintOptions::default()
    };
    let mut training = ticket(None);
    training.training = true;
    let r = build(&training, Some(&store()), Lang::Fr, &opts);
    let t = text(&r, false).unwrap();
    for needle in [
        "*** MODE ÉCOLE ***",
        "*** DUPLICATA n° 2 ***",
        "FACTURE n° T001-42",
        "Client : Camille Durand (CLI000042)",
        "3 rue Garibaldi",
        "69006 Lyon",
    ] {
        assert!(t.contains(needle), "lacks {needle:?}:\n{t}");
    }
    assert!(SignedReceipt::parse(&r.qr).unwrap().payload.training);
    // The marks are big, bold and white on black on paper.
    assert!(layout(&r).iter().any(|b| matches!(b,
        Block::Line(st, s) if s == "DUPLICATA n° 2" && st.big && st.bold && st.invert)));
    let c = text(
        &build(&ticket(Some(7)), Some(&store()), Lang::Fr, &cashier()),
        false,
    )
    .unwrap();
    assert!(c.contains("Correction du ticket n° 7"), "{c}");
    assert!(c.contains("-15,10 €") && !c.contains("Rendu"), "{c}");
}

#[test]
fn the_terminal_draws_the_qr_in_half_blocks() {
    let r = build(&ticket(None), Some(&store()), Lang::Fr, &cashier());
    let t = text(&r, true).unwrap();
    assert!(t.contains('█') && t.contains('▀'), "{t}");
    let plain = text(&r, false).unwrap();
    assert!(!plain.contains('█'));
}

#[test]
fn long_words_and_indents_wrap_within_the_width() {
    use crate::receipt::layout::wrap;
    assert_eq!(wrap("  a b c", 6), ["  a b", "  c"]);
    assert_eq!(wrap("    a b", 4), ["a b"]);
    assert_eq!(wrap("abcdefgh ij", 4), ["abcd", "efgh", "ij"]);
    assert_eq!(wrap("", 4), [""]);
    assert_eq!(wrap("Vin de table", 8), ["Vin de", "table"]);
}

#[test]
fn weights_discounts_voids_and_change_of_version_2() {
    let weighed = SaleItem {
        quantity_milli: 485,
        ..SaleItem::units(item("ART0000070", "Tomates grappe", 499, 550), 1)
    };
    let discounted = SaleItem {
        discount_cents: 20,
        ..SaleItem::units(item("ART0000012", "Baguette tradition", 130, 550), 2)
    };
    let voided = SaleItem {
        voided: true,
        ..SaleItem::units(item("ART0000044", "Côtes-du-Rhône rouge", 1250, 2000), 1)
    };
    let t = seal(Sale {
        lines: vec![weighed, discounted, voided],
        discount_cents: 50,
        payments: vec![Payment {
            method: "cash".into(),
            amount_cents: 1000,
        }],
        ..Sale::default()
    });
    // 0.485 × 4.99 = 2.42; 2 × 1.30 - 0.20 = 2.40; the wine voided; -0.50.
    assert_eq!(t.total_cents, 242 + 240 - 50);
    assert_eq!(t.change_cents, 1000 - t.total_cents);
    let r = build(&t, Some(&store()), Lang::Fr, &PrintOptions::default());
    let text = text(&r, false).unwrap();
    for needle in [
        "0,485 × 4,99 €",
        "Tomates grappe                      2,42 €",
        "Baguette tradition                  2,60 €",
        "  Remise                           -0,20 €",
        "Côtes-du-Rhône rouge                ANNULÉ",
        "Sous-total                          4,82 €",
        "Remise sur le ticket               -0,50 €",
        "TOTAL TTC                           4,32 €",
        "Espèces                            10,00 €",
        "Rendu                               5,68 €",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
    // The VAT table holds what was kept, after the discounts.
    let vat: i64 = r.vat.iter().map(|v| v.total_cents).sum();
    assert_eq!(vat, t.total_cents);
}
