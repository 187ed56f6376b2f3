//! The receipt's QR code drawn for a screen: Unicode half blocks for a
//! terminal (two rows of modules a line), SVG for the cashier page. A
//! receipt printer draws it itself from the text (`receipt::escpos`).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::error::TillError;

/// The error correction level of receipts' codes: M (15 %), a fair margin
/// for thermal paper.
pub const EC_LEVEL: EcLevel = EcLevel::M;

fn code(text: &str) -> Result<QrCode, TillError> {
    QrCode::with_error_correction_level(text.as_bytes(), EC_LEVEL)
        .map_err(|e| TillError::Receipt(format!("cannot make the QR code: {e}")))
}

/// The code of `text` in Unicode half blocks, dark modules drawn, with a
/// quiet zone of 2 modules.
pub fn half_blocks(text: &str) -> Result<String, TillError> {
    let c = code(text)?;
    let modules = c.to_colors();
    let w = c.width();
    let quiet = 2;
    let full = w + 2 * quiet;
    let dark = |x: usize, y: usize| -> bool {
        x >= quiet
            && y >= quiet
            && x < quiet + w
            && y < quiet + w
            && modules[(y - quiet) * w + (x - quiet)] == qrcode::Color::Dark
    };
    let mut out = String::new();
    for row in (0..full).step_by(2) {
        for x in 0..full {
            let top = dark(x, row);
            let bottom = row + 1 < full && dark(x, row + 1);
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

/// The code of `text` as an inline SVG element (no XML declaration), each
/// module `unit` pixels.
pub fn svg(text: &str, unit: u32) -> Result<String, TillError> {
    let image = code(text)?
        .render::<svg::Color<'_>>()
        .module_dimensions(unit, unit)
        .quiet_zone(true)
        .build();
    Ok(match image.find("<svg") {
        Some(i) => image[i..].to_string(),
        None => image,
    })
}

/// The number of modules on a side of the code of `text`.
pub fn modules(text: &str) -> Result<usize, TillError> {
    Ok(code(text)?.width())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_blocks_hold_two_rows_a_line() {
        let text = "TSR1*T001";
        let n = modules(text).unwrap();
        let drawn = half_blocks(text).unwrap();
        let lines: Vec<&str> = drawn.lines().collect();
        assert_eq!(lines.len(), (n + 4).div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == n + 4));
        // The finder pattern's top edge: 7 dark modules from the quiet zone on.
        assert!(
            lines[1].chars().skip(2).take(7).all(|c| c != ' '),
            "{drawn}"
        );
        let s = svg(text, 3).unwrap();
        assert!(s.starts_with("<svg") && s.contains("<path"), "{s}");
    }
}
