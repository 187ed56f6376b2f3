//! A receipt laid out for 80 mm paper: 42 columns of text (21 in double
//! width), each line with its style, and the place of the QR code. The
//! plain text and the ESC/POS renderers print the same lines.

use crate::receipt::format::{amount, money, rate, siret};
use crate::receipt::model::{Receipt, Words};

/// Columns of an 80 mm receipt in the printer's normal font.
pub const WIDTH: usize = 42;
/// Columns in double width.
pub const BIG_WIDTH: usize = WIDTH / 2;

/// How a line is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Centred.
    pub center: bool,
    /// Bold.
    pub bold: bool,
    /// Double width and height.
    pub big: bool,
    /// White on black.
    pub invert: bool,
}

/// One piece of a laid-out receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A line of text (at most [`WIDTH`] columns, [`BIG_WIDTH`] when big).
    Line(Style, String),
    /// The QR code of this text.
    Qr(String),
}

const PLAIN: Style = Style {
    center: false,
    bold: false,
    big: false,
    invert: false,
};
const CENTER: Style = Style {
    center: true,
    ..PLAIN
};
const BOLD: Style = Style {
    bold: true,
    ..PLAIN
};
const TITLE: Style = Style {
    center: true,
    bold: true,
    big: true,
    invert: false,
};
const MARK: Style = Style {
    center: true,
    bold: true,
    big: true,
    invert: true,
};

fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to `n` columns.
fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `s` in lines of at most `n` columns, cut at spaces where it can; its
/// leading spaces start every line.
pub fn wrap(s: &str, n: usize) -> Vec<String> {
    let body = s.trim_start_matches(' ');
    let indent = &s[..s.len() - body.len()];
    if indent.len() >= n / 2 {
        return wrap(body, n);
    }
    let mut out = Vec::new();
    let mut line = indent.to_string();
    for word in body.split(' ') {
        let mut word = word.to_string();
        while width(&word) > n {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            out.push(cut(&word, n));
            word = word.chars().skip(n).collect();
        }
        let fresh = line.len() == indent.len();
        let need = if fresh {
            width(&line) + width(&word)
        } else {
            width(&line) + 1 + width(&word)
        };
        if need > n && !fresh {
            out.push(std::mem::replace(&mut line, indent.to_string()));
        } else if !fresh {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if line.len() > indent.len() || out.is_empty() {
        out.push(line);
    }
    out
}

/// `left` and `right` on one line of `WIDTH` columns (`left` cut to fit).
fn pair(left: &str, right: &str) -> String {
    let room = WIDTH.saturating_sub(width(right) + 1);
    let left = cut(left, room);
    let pad = WIDTH - width(&left) - width(right);
    format!("{left}{}{right}", " ".repeat(pad))
}

fn rule() -> Block {
    Block::Line(PLAIN, "-".repeat(WIDTH))
}

struct Out(Vec<Block>);

impl Out {
    fn line(&mut self, style: Style, s: &str) {
        let n = if style.big { BIG_WIDTH } else { WIDTH };
        for l in wrap(s, n) {
            self.0.push(Block::Line(style, l));
        }
    }
}

/// The blocks of `r`, top to bottom.
pub fn layout(r: &Receipt) -> Vec<Block> {
    let w = Words::of(r.lang);
    let lang = r.lang;
    let mut o = Out(Vec::new());
    let s = &r.store;
    // Who sells: the store's identity, a missing mention said missing.
    match &s.name {
        Some(name) => o.line(TITLE, name),
        None => {
            o.line(TITLE, &format!("{} {}", w.store, s.code));
            o.line(CENTER, &format!("({}{}{})", w.store, w.colon, w.missing));
        }
    }
    for a in &s.address {
        o.line(CENTER, a);
    }
    match &s.postcode_town {
        Some(pt) => o.line(CENTER, pt),
        None if s.address.is_empty() => o.line(
            CENTER,
            &format!(
                "{}{}{}",
                lang.pick("Adresse", "Address"),
                w.colon,
                w.missing
            ),
        ),
        None => {}
    }
    if let Some(p) = &s.phone {
        o.line(CENTER, &format!("{} {p}", w.phone));
    }
    let mention = |label: &str, v: Option<String>| match v {
        Some(v) => format!("{label} {v}"),
        None => format!("{label}{}{}", w.colon, w.missing),
    };
    o.line(CENTER, &mention(w.siret, s.siret.as_deref().map(siret)));
    o.line(CENTER, &mention(w.vat_number, s.vat_number.clone()));
    o.0.push(rule());
    // What this paper is.
    if r.invoice {
        o.line(
            Style {
                big: false,
                ..TITLE
            },
            &format!("{} n° {}", w.invoice, r.invoice_number()),
        );
    } else {
        o.line(
            Style {
                big: false,
                ..TITLE
            },
            w.title,
        );
    }
    if r.training {
        o.line(MARK, w.training);
        o.line(CENTER, w.training_note);
    }
    if let Some(k) = r.duplicate {
        o.line(MARK, &format!("{} {k}", w.duplicate));
    }
    o.0.push(Block::Line(
        PLAIN,
        pair(
            &format!("{} {}", w.ticket, r.number),
            &format!("{} {}", w.till, r.till),
        ),
    ));
    o.0.push(Block::Line(PLAIN, pair(w.date, &r.local_time)));
    o.0.push(Block::Line(
        PLAIN,
        pair(w.cashier, r.cashier.as_deref().unwrap_or(w.missing)),
    ));
    if let Some(n) = r.corrects {
        o.line(BOLD, &format!("{} {n}", w.corrects));
    }
    o.0.push(rule());
    // What was sold: each line at quantity × unit price, its discount
    // under it; a voided line printed, marked, out of the totals.
    for l in &r.lines {
        let amount = if l.voided {
            w.voided.to_string()
        } else {
            money(lang, l.gross_cents)
        };
        o.0.push(Block::Line(PLAIN, pair(&l.label, &amount)));
        o.line(
            PLAIN,
            &format!(
                "  {} × {}   {} {}",
                l.quantity,
                money(lang, l.unit_cents),
                w.vat_heads[0],
                rate(lang, l.vat_rate_bp)
            ),
        );
        if l.discount_cents != 0 && !l.voided {
            o.0.push(Block::Line(
                PLAIN,
                pair(
                    &format!("  {}", w.discount),
                    &money(lang, -l.discount_cents),
                ),
            ));
        }
    }
    o.0.push(rule());
    if r.ticket_discount_cents != 0 {
        o.0.push(Block::Line(
            PLAIN,
            pair(w.subtotal, &money(lang, r.subtotal_cents)),
        ));
        o.0.push(Block::Line(
            PLAIN,
            pair(w.ticket_discount, &money(lang, -r.ticket_discount_cents)),
        ));
    }
    o.0.push(Block::Line(
        BOLD,
        pair(w.total, &money(lang, r.total_cents)),
    ));
    o.0.push(rule());
    let h = &w.vat_heads;
    o.0.push(Block::Line(
        PLAIN,
        format!("{:<9}{:>11}{:>10}{:>12}", h[0], h[1], h[2], h[3]),
    ));
    for v in &r.vat {
        o.0.push(Block::Line(
            PLAIN,
            format!(
                "{:<9}{:>11}{:>10}{:>12}",
                rate(lang, v.rate_bp),
                amount(lang, v.base_cents),
                amount(lang, v.vat_cents),
                amount(lang, v.total_cents)
            ),
        ));
    }
    o.0.push(rule());
    // How it was paid.
    for p in &r.payments {
        o.0.push(Block::Line(
            PLAIN,
            pair(&p.label, &money(lang, p.amount_cents)),
        ));
    }
    if r.change_cents > 0 {
        o.0.push(Block::Line(
            PLAIN,
            pair(w.change, &money(lang, r.change_cents)),
        ));
    }
    // Who bought (an invoice), or the customer's code.
    match (&r.customer, &r.customer_code) {
        (Some(c), _) => {
            o.0.push(rule());
            let name = c.name.as_deref().unwrap_or(w.missing);
            o.line(
                PLAIN,
                &format!("{}{}{name} ({})", w.customer, w.colon, c.code),
            );
            for a in &c.address {
                o.line(PLAIN, a);
            }
        }
        (None, Some(code)) => {
            o.0.push(rule());
            o.line(PLAIN, &format!("{}{}{code}", w.customer, w.colon));
        }
        (None, None) => {}
    }
    o.0.push(rule());
    // The proof: the QR code signed by the till, its text, the signature.
    o.line(CENTER, w.qr_note);
    o.0.push(Block::Qr(r.qr.clone()));
    for chunk in r.qr.as_bytes().chunks(WIDTH) {
        o.0.push(Block::Line(
            PLAIN,
            String::from_utf8_lossy(chunk).into_owned(),
        ));
    }
    o.line(
        CENTER,
        &format!(
            "{} {}",
            w.signature,
            r.signature.get(..16).unwrap_or(&r.signature)
        ),
    );
    if r.training {
        o.line(MARK, w.training);
    }
    o.0
}

/// The line `s` of style `st` padded as printed (centred lines centred).
pub fn placed(st: Style, s: &str) -> String {
    let n = if st.big { BIG_WIDTH } else { WIDTH };
    if st.center && width(s) < n {
        let left = (n - width(s)) / 2;
        format!("{}{s}", " ".repeat(left))
    } else {
        s.to_string()
    }
}
