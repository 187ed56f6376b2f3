//! The receipt as ESC/POS bytes for a receipt printer (Epson TM-T20/T88
//! and compatibles, 80 mm): initialise, code page PC858 (French letters and
//! the euro sign), the laid-out lines with bold, double size, centring and
//! white on black, the QR code drawn by the printer itself (`GS ( k`,
//! model 2, level M), then feed and cut.

use crate::receipt::layout::{Block, layout};
use crate::receipt::model::Receipt;

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;

/// `ESC t 19`: code page PC858 (the euro sign at 0xD5).
const CODE_PAGE_PC858: u8 = 19;

/// Module size of the QR code, in dots (5 dots ≈ 0.6 mm at 203 dpi).
const QR_MODULE_DOTS: u8 = 5;

/// `GS ( k` function 169, error correction level M.
const QR_LEVEL_M: u8 = 49;

/// The byte of `c` in code page PC858; `?` for a character it lacks, a
/// few typographic ones replaced by their plain form.
pub fn pc858(c: char) -> Vec<u8> {
    const TABLE: &[(char, u8)] = &[
        ('Ç', 0x80),
        ('ü', 0x81),
        ('é', 0x82),
        ('â', 0x83),
        ('ä', 0x84),
        ('à', 0x85),
        ('ç', 0x87),
        ('ê', 0x88),
        ('ë', 0x89),
        ('è', 0x8A),
        ('ï', 0x8B),
        ('î', 0x8C),
        ('Ä', 0x8E),
        ('É', 0x90),
        ('ô', 0x93),
        ('ö', 0x94),
        ('û', 0x96),
        ('ù', 0x97),
        ('ÿ', 0x98),
        ('Ö', 0x99),
        ('Ü', 0x9A),
        ('£', 0x9C),
        ('×', 0x9E),
        ('á', 0xA0),
        ('í', 0xA1),
        ('ó', 0xA2),
        ('ú', 0xA3),
        ('ñ', 0xA4),
        ('Ñ', 0xA5),
        ('«', 0xAE),
        ('»', 0xAF),
        ('Â', 0xB6),
        ('À', 0xB7),
        ('Ê', 0xD2),
        ('Ë', 0xD3),
        ('È', 0xD4),
        ('€', 0xD5),
        ('Î', 0xD7),
        ('Ï', 0xD8),
        ('ß', 0xE1),
        ('Ô', 0xE2),
        ('µ', 0xE6),
        ('Û', 0xEA),
        ('Ù', 0xEB),
        ('°', 0xF8),
        ('·', 0xFA),
    ];
    match c {
        ' '..='~' => vec![c as u8],
        '\u{a0}' | '\u{202f}' => vec![b' '],
        '’' | '‘' => vec![b'\''],
        '“' | '”' => vec![b'"'],
        '–' | '—' => vec![b'-'],
        'œ' => b"oe".to_vec(),
        'Œ' => b"OE".to_vec(),
        _ => vec![
            TABLE
                .iter()
                .find(|(k, _)| *k == c)
                .map_or(b'?', |(_, b)| *b),
        ],
    }
}

fn encode(s: &str, out: &mut Vec<u8>) {
    for c in s.chars() {
        out.extend(pc858(c));
    }
}

/// The `GS ( k` commands that store `text` as a QR code and print it.
pub fn qr_commands(text: &str) -> Vec<u8> {
    let mut b = Vec::new();
    // Function 165: model 2.
    b.extend([GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    // Function 167: module size.
    b.extend([GS, b'(', b'k', 3, 0, 49, 67, QR_MODULE_DOTS]);
    // Function 169: error correction level.
    b.extend([GS, b'(', b'k', 3, 0, 49, 69, QR_LEVEL_M]);
    // Function 180: store the data (pL pH count the 3 bytes after them too).
    let n = text.len() + 3;
    b.extend([GS, b'(', b'k', (n % 256) as u8, (n / 256) as u8, 49, 80, 48]);
    b.extend(text.as_bytes());
    // Function 181: print it.
    b.extend([GS, b'(', b'k', 3, 0, 49, 81, 48]);
    b
}

/// `r` as ESC/POS bytes.
pub fn escpos(r: &Receipt) -> Vec<u8> {
    let mut b = vec![ESC, b'@', ESC, b't', CODE_PAGE_PC858];
    for block in layout(r) {
        match block {
            Block::Line(st, s) => {
                b.extend([ESC, b'a', u8::from(st.center)]);
                b.extend([ESC, b'E', u8::from(st.bold)]);
                b.extend([GS, b'!', if st.big { 0x11 } else { 0x00 }]);
                b.extend([GS, b'B', u8::from(st.invert)]);
                encode(&s, &mut b);
                b.push(b'\n');
            }
            Block::Qr(text) => {
                b.extend([ESC, b'a', 1]);
                b.extend(qr_commands(&text));
                b.push(b'\n');
            }
        }
    }
    // Back to normal, feed 4 lines, partial cut.
    b.extend([ESC, b'a', 0, ESC, b'E', 0, GS, b'!', 0, GS, b'B', 0]);
    b.extend([ESC, b'd', 4, GS, b'V', 66, 0]);
    b
}

/// `bytes` made readable for a golden file: printable ASCII as it is, a
/// newline as `\n` and a line break, any other byte as `<XX>`.
pub fn readable(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n\n"),
            b'<' => s.push_str("<3C>"),
            0x20..=0x7E => s.push(b as char),
            _ => s.push_str(&format!("<{b:02X}>")),
        }
    }
    s
}
