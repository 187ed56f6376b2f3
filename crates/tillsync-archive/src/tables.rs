//! The archive's CSV tables: their file names and columns, each written
//! from a ledger and read back into one (RFC 4180, comma, a header row,
//! `\n` line ends, an empty field for an absent value). Reading names the
//! part, the row and the column of what does not parse.

use std::io::Write;

use tillsync_core::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN, Record};
use tillsync_core::fiscal::verify::report::{Break, Subject};
use tillsync_core::ticket::{Payment, Ticket, TicketLine, VatTotal};

/// Tickets, one row each.
pub const TICKETS: &str = "tickets.csv";
/// Ticket lines.
pub const LINES: &str = "ticket_lines.csv";
/// Ticket payments.
pub const PAYMENTS: &str = "ticket_payments.csv";
/// Ticket totals per VAT rate.
pub const VAT: &str = "ticket_vat.csv";
/// The event log.
pub const EVENTS: &str = "events.csv";
/// Closings.
pub const CLOSINGS: &str = "closings.csv";

/// The parts, in the order the manifest lists them.
pub const PARTS: [&str; 6] = [TICKETS, LINES, PAYMENTS, VAT, EVENTS, CLOSINGS];

/// The columns of each part.
pub fn columns(part: &str) -> &'static [&'static str] {
    match part {
        TICKETS => &[
            "number",
            "encoding",
            "time",
            "cashier",
            "discount_cents",
            "total_cents",
            "change_cents",
            "customer",
            "corrects",
            "prev_hash",
            "hash",
            "signature",
        ],
        LINES => &[
            "number",
            "line_no",
            "item",
            "label",
            "quantity_milli",
            "unit_price_cents",
            "vat_rate_bp",
            "discount_cents",
            "voided",
            "total_excl_cents",
            "total_incl_cents",
        ],
        PAYMENTS => &["number", "seq", "method", "amount_cents"],
        VAT => &[
            "number",
            "rate_bp",
            "discount_cents",
            "base_cents",
            "vat_cents",
            "total_cents",
        ],
        _ => &[
            "seq",
            "time",
            "kind",
            "body",
            "prev_hash",
            "hash",
            "signature",
        ],
    }
}

/// A CSV writer of one part.
pub fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

/// Write `part` of the tickets; returns the rows written.
pub fn write_tickets<W: Write>(part: &str, tickets: &[Ticket], out: W) -> csv::Result<u64> {
    let mut w = writer(out);
    w.write_record(columns(part))?;
    let mut rows = 0u64;
    for t in tickets {
        let n = t.number.to_string();
        match part {
            TICKETS => {
                let corrects = t.corrects.map(|c| c.to_string()).unwrap_or_default();
                w.write_record([
                    n.as_str(),
                    &t.version.to_string(),
                    &t.time,
                    t.cashier.as_deref().unwrap_or(""),
                    &t.discount_cents.to_string(),
                    &t.total_cents.to_string(),
                    &t.change_cents.to_string(),
                    t.customer.as_deref().unwrap_or(""),
                    &corrects,
                    &t.prev_hash,
                    &t.hash,
                    &t.signature,
                ])?;
                rows += 1;
            }
            LINES => {
                for (i, l) in t.lines.iter().enumerate() {
                    w.write_record([
                        n.as_str(),
                        &(i + 1).to_string(),
                        &l.item,
                        &l.label,
                        &l.quantity_milli.to_string(),
                        &l.unit_price_cents.to_string(),
                        &l.vat_rate_bp.to_string(),
                        &l.discount_cents.to_string(),
                        if l.voided { "1" } else { "0" },
                        &l.total_excl_cents.to_string(),
                        &l.total_incl_cents.to_string(),
                    ])?;
                    rows += 1;
                }
            }
            PAYMENTS => {
                for (i, p) in t.payments.iter().enumerate() {
                    w.write_record([
                        n.as_str(),
                        &(i + 1).to_string(),
                        &p.method,
                        &p.amount_cents.to_string(),
                    ])?;
                    rows += 1;
                }
            }
            _ => {
                for v in &t.vat_totals {
                    w.write_record([
                        n.as_str(),
                        &v.rate_bp.to_string(),
                        &v.discount_cents.to_string(),
                        &v.base_cents.to_string(),
                        &v.vat_cents.to_string(),
                        &v.total_cents.to_string(),
                    ])?;
                    rows += 1;
                }
            }
        }
    }
    w.flush()?;
    Ok(rows)
}

/// Write records (events or closings); returns the rows written.
pub fn write_records<W: Write>(part: &str, records: &[Record], out: W) -> csv::Result<u64> {
    let mut w = writer(out);
    w.write_record(columns(part))?;
    for r in records {
        w.write_record([
            r.seq.to_string().as_str(),
            &r.time,
            &r.kind,
            &r.body,
            &r.prev_hash,
            &r.hash,
            &r.signature,
        ])?;
    }
    w.flush()?;
    Ok(records.len() as u64)
}

/// One part being read: its rows, with the row number for errors.
struct Rows<'a> {
    part: &'static str,
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    row: u64,
}

impl<'a> Rows<'a> {
    fn new(part: &'static str, bytes: &'a [u8]) -> Result<Self, Break> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes);
        let header = reader
            .byte_headers()
            .map_err(|e| bad_csv(part, 0, &e))?
            .clone();
        let want = columns(part);
        if header.len() != want.len() || header.iter().zip(want).any(|(a, b)| a != b.as_bytes()) {
            return Err(Break::field(
                Subject::Part(part.into()),
                "header",
                format!("the header must be {}", want.join(",")),
            ));
        }
        Ok(Rows {
            part,
            reader,
            record: csv::ByteRecord::new(),
            row: 0,
        })
    }

    /// The next row, `None` at the end.
    fn next(&mut self) -> Result<Option<Row<'_>>, Break> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                self.row += 1;
                Ok(Some(Row {
                    part: self.part,
                    row: self.row,
                    rec: &self.record,
                }))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(bad_csv(self.part, self.row + 1, &e)),
        }
    }
}

fn bad_csv(part: &str, row: u64, e: &csv::Error) -> Break {
    Break::whole(
        Subject::Part(part.into()),
        format!("row {row}: not valid CSV: {e}"),
    )
}

/// One row of a part.
struct Row<'a> {
    part: &'static str,
    row: u64,
    rec: &'a csv::ByteRecord,
}

impl Row<'_> {
    fn bad(&self, col: usize, why: &str) -> Break {
        Break::field(
            Subject::Part(self.part.into()),
            columns(self.part)[col],
            format!("row {}: {why}", self.row),
        )
    }

    fn text(&self, col: usize) -> Result<String, Break> {
        let b = self
            .rec
            .get(col)
            .ok_or_else(|| self.bad(col, "the column is missing"))?;
        String::from_utf8(b.to_vec()).map_err(|_| self.bad(col, "not UTF-8 text"))
    }

    fn opt_text(&self, col: usize) -> Result<Option<String>, Break> {
        let t = self.text(col)?;
        Ok((!t.is_empty()).then_some(t))
    }

    fn int(&self, col: usize) -> Result<i64, Break> {
        let b = self
            .rec
            .get(col)
            .ok_or_else(|| self.bad(col, "the column is missing"))?;
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                self.bad(
                    col,
                    &format!("{:?} is not an integer", String::from_utf8_lossy(b)),
                )
            })
    }

    fn num(&self, col: usize) -> Result<u64, Break> {
        let v = self.int(col)?;
        u64::try_from(v).map_err(|_| self.bad(col, &format!("{v} is not a number from 0")))
    }

    fn opt_num(&self, col: usize) -> Result<Option<u64>, Break> {
        match self.rec.get(col) {
            Some(b"") => Ok(None),
            _ => self.num(col).map(Some),
        }
    }

    fn width(&self) -> Result<(), Break> {
        let want = columns(self.part).len();
        if self.rec.len() != want {
            return Err(Break::whole(
                Subject::Part(self.part.into()),
                format!(
                    "row {}: {} fields, {want} expected",
                    self.row,
                    self.rec.len()
                ),
            ));
        }
        Ok(())
    }
}

/// Read `tickets.csv` for `till`; returns the tickets and the rows read.
pub fn read_tickets(till: &str, bytes: &[u8]) -> Result<(Vec<Ticket>, u64), Break> {
    let mut rows = Rows::new(TICKETS, bytes)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        r.width()?;
        let version = match r.int(1)? {
            1 => 1,
            2 => 2,
            v => {
                return Err(r.bad(
                    1,
                    &format!("ticket encoding {v} is not known to this verifier"),
                ));
            }
        };
        out.push(Ticket {
            version,
            till: till.to_string(),
            number: r.num(0)?,
            time: r.text(2)?,
            training: false,
            cashier: r.opt_text(3)?,
            lines: Vec::new(),
            discount_cents: r.int(4)?,
            vat_totals: Vec::new(),
            total_cents: r.int(5)?,
            payments: Vec::new(),
            change_cents: r.int(6)?,
            customer: r.opt_text(7)?,
            corrects: r.opt_num(8)?,
            prev_hash: r.text(9)?,
            hash: r.text(10)?,
            signature: r.text(11)?,
        });
    }
    let n = rows.row;
    Ok((out, n))
}

/// Read a detail part (lines, payments, VAT totals) onto `tickets`; its rows
/// come by ticket number, then by line (payment) number from 1, or by
/// ascending rate. Returns the rows read.
pub fn read_details(
    part: &'static str,
    bytes: &[u8],
    tickets: &mut [Ticket],
) -> Result<u64, Break> {
    let mut rows = Rows::new(part, bytes)?;
    let mut at = 0usize;
    while let Some(r) = rows.next()? {
        r.width()?;
        let n = r.num(0)?;
        while at < tickets.len() && tickets[at].number < n {
            at += 1;
        }
        if at == tickets.len() || tickets[at].number != n {
            return Err(r.bad(
                0,
                &format!("ticket {n} is not in {TICKETS} (or the rows are not in ticket order)"),
            ));
        }
        let t = &mut tickets[at];
        match part {
            LINES => {
                if r.num(1)? != t.lines.len() as u64 + 1 {
                    return Err(r.bad(
                        1,
                        &format!("line {} of ticket {n} expected", t.lines.len() + 1),
                    ));
                }
                let voided = match r.int(8)? {
                    0 => false,
                    1 => true,
                    v => return Err(r.bad(8, &format!("{v} is not 0 or 1"))),
                };
                t.lines.push(TicketLine {
                    item: r.text(2)?,
                    label: r.text(3)?,
                    quantity_milli: r.int(4)?,
                    unit_price_cents: r.int(5)?,
                    vat_rate_bp: r.int(6)?,
                    discount_cents: r.int(7)?,
                    voided,
                    total_excl_cents: r.int(9)?,
                    total_incl_cents: r.int(10)?,
                });
            }
            PAYMENTS => {
                if r.num(1)? != t.payments.len() as u64 + 1 {
                    return Err(r.bad(
                        1,
                        &format!("payment {} of ticket {n} expected", t.payments.len() + 1),
                    ));
                }
                t.payments.push(Payment {
                    method: r.text(2)?,
                    amount_cents: r.int(3)?,
                });
            }
            _ => {
                t.vat_totals.push(VatTotal {
                    rate_bp: r.int(1)?,
                    discount_cents: r.int(2)?,
                    base_cents: r.int(3)?,
                    vat_cents: r.int(4)?,
                    total_cents: r.int(5)?,
                });
            }
        }
    }
    Ok(rows.row)
}

/// Read `events.csv` or `closings.csv` for `till`.
pub fn read_records(part: &'static str, till: &str, bytes: &[u8]) -> Result<Vec<Record>, Break> {
    let chain = if part == EVENTS {
        EVENT_CHAIN
    } else {
        CLOSING_CHAIN
    };
    let mut rows = Rows::new(part, bytes)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        r.width()?;
        out.push(Record {
            till: till.to_string(),
            chain: chain.to_string(),
            seq: r.num(0)?,
            time: r.text(1)?,
            kind: r.text(2)?,
            body: r.text(3)?,
            prev_hash: r.text(4)?,
            hash: r.text(5)?,
            signature: r.text(6)?,
        });
    }
    Ok(out)
}
