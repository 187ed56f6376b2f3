//! The receipt as plain text, 42 columns (80 mm paper): for `till receipt`,
//! a file, a terminal; the QR code in Unicode half blocks when asked.

use crate::error::TillError;
use crate::receipt::layout::{Block, WIDTH, layout, placed};
use crate::receipt::model::Receipt;
use crate::receipt::qr::half_blocks;

/// `r` as text lines; the QR code drawn in half blocks when `qr` (its lines
/// are as wide as the code, which may pass 42 columns), else left out (its
/// text follows it anyway).
pub fn text(r: &Receipt, qr: bool) -> Result<String, TillError> {
    let mut out = String::new();
    for b in layout(r) {
        match b {
            Block::Line(st, s) => {
                let s = if st.invert { format!("*** {s} ***") } else { s };
                let st = crate::receipt::layout::Style { big: false, ..st };
                let line = placed(st, &s);
                debug_assert!(line.chars().count() <= WIDTH + 8, "{line}");
                out.push_str(line.trim_end());
                out.push('\n');
            }
            Block::Qr(payload) if qr => out.push_str(&half_blocks(&payload)?),
            Block::Qr(_) => {}
        }
    }
    Ok(out)
}
