//! Closings on the till, offline included: a day closes the tickets numbered
//! since the previous day closing (so a clock set back cannot move a ticket
//! into a closed period), a month rolls up its day closings and a year its
//! month closings; closing again with nothing new returns the same closing;
//! the agent closes what is due by itself.

use ed25519_dalek::SigningKey;
use jiff::civil::Time;
use rusqlite::{Connection, TransactionBehavior, params};
use tillsync_core::fiscal::closing::{ClosingBody, Period, Span, Totals};
use tillsync_core::fiscal::event::EventKind;
use tillsync_core::fiscal::local::{LocalZone, parse_utc};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, Draft, EVENT_CHAIN, Record};
use tillsync_core::ticket::{CASH, Payment, VatTotal};

use crate::db::TillDb;
use crate::fiscal::events::{log_in, note_clock_in};
use crate::fiscal::records::{append, last_of_kind, last_record, records_after};
use crate::up::tickets::last_ticket;
use tillsync_db::StoreError;

/// A closing and whether this call wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The record.
    pub record: Record,
    /// Its body.
    pub body: ClosingBody,
    /// `false`: nothing new since, this is the earlier closing.
    pub new: bool,
}

fn body_of(r: &Record) -> Result<ClosingBody, StoreError> {
    ClosingBody::from_json(r.seq, &r.body).map_err(|e| StoreError::Inconsistent(e.to_string()))
}

fn closed(record: Record, new: bool) -> Result<Closed, StoreError> {
    let body = body_of(&record)?;
    Ok(Closed { record, body, new })
}

fn fiscal(e: tillsync_core::fiscal::error::FiscalError) -> StoreError {
    StoreError::Inconsistent(e.to_string())
}

/// Counts and totals of the (fiscal) tickets of `till` numbered in
/// `(after, to]`; cash net of the change given, as `Totals::add_ticket` adds.
pub fn ticket_totals(
    conn: &Connection,
    till: &str,
    after: u64,
    to: u64,
) -> Result<Totals, StoreError> {
    let (a, b) = (after as i64, to as i64);
    let mut t = Totals::default();
    let (n, corr, total, abs): (i64, i64, i64, i64) = conn
        .prepare_cached(
            r#"SELECT COUNT(*), COALESCE(SUM("corrects" IS NOT NULL), 0),
                 COALESCE(SUM("total_cents"), 0), COALESCE(SUM(ABS("total_cents")), 0)
               FROM "TICKET" WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3"#,
        )?
        .query_row(params![till, a, b], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    t.tickets = n as u64;
    t.corrections = corr as u64;
    t.total_cents = total;
    t.total_abs_cents = abs;
    let mut stmt = conn.prepare_cached(
        r#"SELECT "rate_bp", SUM("base_cents"), SUM("vat_cents"), SUM("total_cents"),
             SUM("discount_cents")
           FROM "TICKET_VAT" WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3
           GROUP BY "rate_bp" ORDER BY "rate_bp""#,
    )?;
    for v in stmt.query_map(params![till, a, b], |r| {
        Ok(VatTotal {
            rate_bp: r.get(0)?,
            discount_cents: r.get(4)?,
            base_cents: r.get(1)?,
            vat_cents: r.get(2)?,
            total_cents: r.get(3)?,
        })
    })? {
        t.add_vat(&v?).map_err(fiscal)?;
    }
    let mut stmt = conn.prepare_cached(
        r#"SELECT "method", SUM("amount_cents") FROM "TICKET_PAYMENT"
           WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3
           GROUP BY "method" ORDER BY "method""#,
    )?;
    for p in stmt.query_map(params![till, a, b], |r| {
        Ok(Payment {
            method: r.get(0)?,
            amount_cents: r.get(1)?,
        })
    })? {
        t.add_payment(&p?).map_err(fiscal)?;
    }
    // What was kept in cash: the change given goes back out of it.
    let change: i64 = conn
        .prepare_cached(
            r#"SELECT COALESCE(SUM("change_cents"), 0) FROM "TICKET"
               WHERE "till_id" = ?1 AND "number" > ?2 AND "number" <= ?3"#,
        )?
        .query_row(params![till, a, b], |r| r.get(0))?;
    if change != 0 {
        t.add_payment(&Payment {
            method: CASH.to_string(),
            amount_cents: -change,
        })
        .map_err(fiscal)?;
    }
    Ok(t)
}

/// Duplicates logged among the events of `till` numbered in `(after, to]`.
fn reprints(conn: &Connection, till: &str, after: u64, to: u64) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            r#"SELECT COUNT(*) FROM "EVENT_LOG" WHERE "till_id" = ?1 AND "seq" > ?2
               AND "seq" <= ?3 AND "kind" = 'reprint'"#,
        )?
        .query_row(params![till, after as i64, to as i64], |r| r.get(0))?;
    Ok(n as u64)
}

/// The time of ticket `number` of `till`.
fn ticket_time(conn: &Connection, till: &str, number: u64) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached(r#"SELECT "time" FROM "TICKET" WHERE "till_id" = ?1 AND "number" = ?2"#)?
        .query_row(params![till, number as i64], |r| r.get(0))
        .optional()?)
}

/// Where the signed closing goes: the till, its key, its zone, the time.
pub struct Closer<'a> {
    /// Till id.
    pub till: &'a str,
    /// The till's key.
    pub key: &'a SigningKey,
    /// The till's time zone.
    pub zone: &'a LocalZone,
    /// Now (RFC 3339 UTC).
    pub now: &'a str,
}

impl Closer<'_> {
    fn write(&self, conn: &Connection, body: &ClosingBody) -> Result<Closed, StoreError> {
        let draft = Draft {
            till: self.till,
            chain: CLOSING_CHAIN,
            time: self.now,
            kind: body.period.code(),
            body: body.to_json(),
        };
        let record = append(conn, draft, self.key)?;
        let ev = serde_json::json!({
            "period": body.period.code(), "name": body.name, "closing": record.seq,
            "hash": record.hash,
        });
        log_in(conn, self.till, self.key, EventKind::Closing, &ev, self.now)?;
        Ok(Closed {
            record,
            body: body.clone(),
            new: true,
        })
    }

    /// Close the business day (in the caller's transaction).
    pub fn day_in(&self, conn: &Connection) -> Result<Closed, StoreError> {
        let prev = last_of_kind(conn, CLOSING_CHAIN, self.till, Period::Day.code())?;
        let prev_body = prev.as_ref().map(body_of).transpose()?;
        let after_number = prev_body.as_ref().map_or(0, |b| b.to_number);
        let after_event = prev_body.as_ref().map_or(0, |b| b.to_event);
        let to_number = last_ticket(conn, self.till)?
            .map_or(0, |t| t.number)
            .max(after_number);
        let to_event = last_record(conn, EVENT_CHAIN, self.till)?.map_or(0, |r| r.seq);
        let reprinted = reprints(conn, self.till, after_event, to_event)?;
        if let Some(p) = prev
            && to_number == after_number
            && reprinted == 0
        {
            return closed(p, false);
        }
        let mut totals = ticket_totals(conn, self.till, after_number, to_number)?;
        totals.reprints = reprinted;
        let began = match ticket_time(conn, self.till, after_number + 1)? {
            Some(t) if to_number > after_number => t,
            _ => self.now.to_string(),
        };
        let name = self.zone.date_of(&began).map_err(fiscal)?.to_string();
        let span = Span {
            period: Period::Day,
            name,
            after_number,
            to_number,
            after_event,
            to_event,
            parts: vec![],
            perpetual_before: prev_body
                .as_ref()
                .map_or((0, 0), |b| (b.perpetual_total_cents, b.perpetual_abs_cents)),
        };
        let body = ClosingBody::new(span, &totals).map_err(fiscal)?;
        self.write(conn, &body)
    }

    /// The closings of `period`'s parts not yet rolled up, oldest first.
    fn pending(
        &self,
        conn: &Connection,
        period: Period,
    ) -> Result<Vec<(Record, ClosingBody)>, StoreError> {
        let Some(part) = period.part() else {
            return Ok(vec![]);
        };
        let prev = last_of_kind(conn, CLOSING_CHAIN, self.till, period.code())?;
        let after = match &prev {
            Some(p) => body_of(p)?.parts.last().copied().unwrap_or(p.seq),
            None => 0,
        };
        records_after(conn, CLOSING_CHAIN, self.till, after, Some(part.code()))?
            .into_iter()
            .map(|r| {
                let b = body_of(&r)?;
                Ok((r, b))
            })
            .collect()
    }

    /// Close a month or a year (in the caller's transaction): the pending
    /// closings of its parts that belong to the same month or year as the
    /// oldest of them.
    pub fn rollup_in(&self, conn: &Connection, period: Period) -> Result<Closed, StoreError> {
        let pending = self.pending(conn, period)?;
        let Some((_, first)) = pending.first() else {
            if let Some(p) = last_of_kind(conn, CLOSING_CHAIN, self.till, period.code())? {
                return closed(p, false);
            }
            let day = self.zone.date_of(self.now).map_err(fiscal)?.to_string();
            let body = ClosingBody::new(
                Span {
                    period,
                    name: period.name_of(&day),
                    after_number: 0,
                    to_number: 0,
                    after_event: 0,
                    to_event: 0,
                    parts: vec![],
                    perpetual_before: (0, 0),
                },
                &Totals::default(),
            )
            .map_err(fiscal)?;
            return self.write(conn, &body);
        };
        let name = period.name_of(&first.name);
        let parts: Vec<&(Record, ClosingBody)> = pending
            .iter()
            .take_while(|(_, b)| period.name_of(&b.name) == name)
            .collect();
        let mut totals = Totals::default();
        for (_, b) in &parts {
            totals.add_closing(b).map_err(fiscal)?;
        }
        let (_, last) = parts.last().expect("at least the first part");
        let span = Span {
            period,
            name,
            after_number: first.after_number,
            to_number: last.to_number,
            after_event: first.after_event,
            to_event: last.to_event,
            parts: parts.iter().map(|(r, _)| r.seq).collect(),
            perpetual_before: (last.perpetual_total_cents, last.perpetual_abs_cents),
        };
        let body = ClosingBody::new(span, &totals).map_err(fiscal)?;
        self.write(conn, &body)
    }

    /// Close `period`: a month first closes the day, a year first closes the
    /// day and every pending month.
    pub fn close_in(&self, conn: &Connection, period: Period) -> Result<Closed, StoreError> {
        note_clock_in(conn, self.till, self.key, self.now)?;
        let day = self.day_in(conn)?;
        match period {
            Period::Day => Ok(day),
            Period::Month => self.rollup_in(conn, Period::Month),
            Period::Year => {
                while !self.pending(conn, Period::Month)?.is_empty() {
                    self.rollup_in(conn, Period::Month)?;
                }
                self.rollup_in(conn, Period::Year)
            }
        }
    }

    /// What the agent closes by itself at `now` with the day closing at local
    /// `close_time`: the day, when its closing time has passed since the
    /// last day closing and something was sold or reprinted; then every
    /// month and year that is over.
    pub fn due_in(&self, conn: &Connection, close_time: Time) -> Result<Vec<Closed>, StoreError> {
        let now = parse_utc(self.now).map_err(fiscal)?;
        let today = self.zone.date_at(now);
        let mut due = self.zone.instant(today, close_time);
        if now < due {
            due = self
                .zone
                .instant(today.yesterday().unwrap_or(today), close_time);
        }
        let mut out = Vec::new();
        let last_day = last_of_kind(conn, CLOSING_CHAIN, self.till, Period::Day.code())?;
        let after_number = match &last_day {
            Some(r) => body_of(r)?.to_number,
            None => 0,
        };
        // Due when the oldest ticket not closed yet was sold before the
        // closing time that has passed.
        let oldest_open = ticket_time(conn, self.till, after_number + 1)?;
        let is_due = match oldest_open {
            Some(t) => parse_utc(&t).map_err(fiscal)? < due,
            None => false,
        };
        if is_due {
            note_clock_in(conn, self.till, self.key, self.now)?;
            out.push(self.day_in(conn)?);
        }
        let month = today.strftime("%Y-%m").to_string();
        let year = today.strftime("%Y").to_string();
        for (period, current) in [(Period::Month, &month), (Period::Year, &year)] {
            loop {
                let pending = self.pending(conn, period)?;
                match pending.first() {
                    Some((_, b)) if period.name_of(&b.name) < *current => {
                        out.push(self.rollup_in(conn, period)?);
                    }
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}

/// Where a till stands with its closings (for `till status`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FiscalState {
    /// The newest day closing: its number, the business day and the last
    /// ticket it covers, and when it was written.
    pub last_day_closing: Option<LastClosing>,
    /// Tickets sold since the newest day closing.
    pub tickets_since_closing: u64,
    /// Events in the event log.
    pub events: u64,
}

/// A closing as `till status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LastClosing {
    /// Number in the closings.
    pub seq: u64,
    /// Business day.
    pub name: String,
    /// Last ticket covered.
    pub to_number: u64,
    /// When written (UTC).
    pub time: String,
}

impl TillDb {
    /// Where `till` stands with its closings.
    pub fn fiscal_state(&self, till: &str) -> Result<FiscalState, StoreError> {
        let conn = self.conn();
        let last = last_of_kind(conn, CLOSING_CHAIN, till, Period::Day.code())?;
        let last_day_closing = match &last {
            Some(r) => {
                let b = body_of(r)?;
                Some(LastClosing {
                    seq: r.seq,
                    name: b.name,
                    to_number: b.to_number,
                    time: r.time.clone(),
                })
            }
            None => None,
        };
        let closed_to = last_day_closing.as_ref().map_or(0, |c| c.to_number);
        let newest = last_ticket(conn, till)?.map_or(0, |t| t.number);
        Ok(FiscalState {
            last_day_closing,
            tickets_since_closing: newest.saturating_sub(closed_to),
            events: last_record(conn, EVENT_CHAIN, till)?.map_or(0, |r| r.seq),
        })
    }

    /// Close `period` for `closer.till` in one transaction (see [`Closer::close_in`]).
    pub fn close(&mut self, closer: &Closer<'_>, period: Period) -> Result<Closed, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let c = closer.close_in(&tx, period)?;
        tx.commit()?;
        Ok(c)
    }

    /// Close what is due in one transaction (see [`Closer::due_in`]).
    pub fn close_due(
        &mut self,
        closer: &Closer<'_>,
        close_time: Time,
    ) -> Result<Vec<Closed>, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let c = closer.due_in(&tx, close_time)?;
        tx.commit()?;
        Ok(c)
    }

    /// The closings of `till` numbered after `after`, in order.
    pub fn closings(&self, till: &str, after: u64) -> Result<Vec<Record>, StoreError> {
        records_after(self.conn(), CLOSING_CHAIN, till, after, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::test_support::{db, sell_at};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[3u8; 32])
    }

    fn close(db: &mut TillDb, period: Period, now: &str) -> Closed {
        let (k, z) = (key(), LocalZone::paris());
        let c = Closer {
            till: "T001",
            key: &k,
            zone: &z,
            now,
        };
        db.close(&c, period).unwrap()
    }

    fn due(db: &mut TillDb, now: &str) -> Vec<Closed> {
        let (k, z) = (key(), LocalZone::paris());
        let c = Closer {
            till: "T001",
            key: &k,
            zone: &z,
            now,
        };
        db.close_due(&c, jiff::civil::time(23, 30, 0, 0)).unwrap()
    }

    #[test]
    fn a_day_closes_its_tickets_and_closing_again_returns_the_same() {
        let (_d, mut db) = db();
        sell_at(&mut db, "A", 2, "2026-12-04T09:00:00Z").unwrap();
        sell_at(&mut db, "B", 1, "2026-12-04T10:00:00Z").unwrap();
        let c = close(&mut db, Period::Day, "2026-12-04T19:00:00Z");
        assert!(c.new);
        assert_eq!(c.body.name, "2026-12-04");
        assert_eq!(
            (c.body.after_number, c.body.to_number, c.body.tickets),
            (0, 2, 2)
        );
        assert_eq!(c.body.total_cents, 240 + 900);
        assert_eq!(c.body.perpetual_total_cents, 1140);
        assert_eq!(c.body.vat_totals.len(), 2);
        let again = close(&mut db, Period::Day, "2026-12-04T19:05:00Z");
        assert!(!again.new);
        assert_eq!(again.record, c.record);
        // A ticket sold after the closing belongs to the next one.
        sell_at(&mut db, "A", 1, "2026-12-04T19:10:00Z").unwrap();
        let next = close(&mut db, Period::Day, "2026-12-05T19:00:00Z");
        assert_eq!((next.body.after_number, next.body.to_number), (2, 3));
        assert_eq!(next.body.total_cents, 120);
        assert_eq!(next.body.perpetual_total_cents, 1260);
        // Each closing wrote a closing event.
        let events = db.events("T001", 0).unwrap();
        assert_eq!(events.iter().filter(|e| e.kind == "closing").count(), 2);
        // Closings are inalterable.
        let e = db
            .conn()
            .execute(r#"UPDATE "CLOSING" SET "body" = '{}'"#, [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("closings are inalterable"), "{e}");
    }

    #[test]
    fn a_store_open_past_midnight_stays_in_its_day() {
        let (_d, mut db) = db();
        // 22:00 and 23:30 UTC on 4 December are 23:00 and 00:30 in Paris.
        sell_at(&mut db, "A", 1, "2026-12-04T22:00:00Z").unwrap();
        sell_at(&mut db, "A", 1, "2026-12-04T23:30:00Z").unwrap();
        let c = close(&mut db, Period::Day, "2026-12-05T00:30:00Z");
        assert_eq!((c.body.name.as_str(), c.body.tickets), ("2026-12-04", 2));
    }

    #[test]
    fn a_clock_set_back_cannot_move_a_ticket_into_a_closed_day() {
        let (_d, mut db) = db();
        sell_at(&mut db, "A", 1, "2026-12-04T10:00:00Z").unwrap();
        close(&mut db, Period::Day, "2026-12-04T19:00:00Z");
        // The clock goes back a day: the sale is still after the closing.
        sell_at(&mut db, "B", 1, "2026-12-03T11:00:00Z").unwrap();
        let c = close(&mut db, Period::Day, "2026-12-03T19:00:00Z");
        assert!(c.new);
        assert_eq!(
            (c.body.after_number, c.body.to_number, c.body.total_cents),
            (1, 2, 900)
        );
        let kinds: Vec<String> = db
            .events("T001", 0)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(kinds.contains(&"clock_back".to_string()), "{kinds:?}");
    }

    #[test]
    fn months_and_years_roll_up_their_closings() {
        let (_d, mut db) = db();
        sell_at(&mut db, "A", 1, "2026-11-29T10:00:00Z").unwrap();
        close(&mut db, Period::Day, "2026-11-29T19:00:00Z");
        sell_at(&mut db, "A", 2, "2026-11-30T10:00:00Z").unwrap();
        close(&mut db, Period::Day, "2026-11-30T19:00:00Z");
        sell_at(&mut db, "B", 1, "2026-12-01T10:00:00Z").unwrap();
        // December's day is closed by the month closing first, and waits
        // for December's month closing.
        let m = close(&mut db, Period::Month, "2026-12-01T19:00:00Z");
        assert_eq!(m.body.name, "2026-11");
        assert_eq!(
            (m.body.tickets, m.body.total_cents, m.body.to_number),
            (2, 360, 2)
        );
        assert_eq!(m.body.parts.len(), 2);
        let y = close(&mut db, Period::Year, "2026-12-31T19:00:00Z");
        assert_eq!(y.body.name, "2026");
        // The year rolls up November and December.
        assert_eq!((y.body.tickets, y.body.total_cents), (3, 1260));
        assert_eq!(y.body.perpetual_total_cents, 1260);
        assert_eq!(y.body.parts.len(), 2);
    }

    #[test]
    fn a_till_offline_for_three_days_closes_each_day_by_itself() {
        let (_d, mut db) = db();
        for day in 1..=3 {
            sell_at(&mut db, "A", day, &format!("2026-12-0{day}T10:00:00Z")).unwrap();
            // Before 23:30 Paris nothing is due.
            assert!(due(&mut db, &format!("2026-12-0{day}T20:00:00Z")).is_empty());
            // 23:31 Paris.
            let c = due(&mut db, &format!("2026-12-0{day}T22:31:00Z"));
            assert_eq!(c.len(), 1, "day {day}");
            assert_eq!(c[0].body.name, format!("2026-12-0{day}"));
            assert_eq!(c[0].body.tickets, 1);
            // Due again: nothing new.
            assert!(due(&mut db, &format!("2026-12-0{day}T22:45:00Z")).is_empty());
        }
        // The month is over on 1 January: the agent closes it and the year.
        sell_at(&mut db, "A", 1, "2027-01-01T10:00:00Z").unwrap();
        let c = due(&mut db, "2027-01-01T22:40:00Z");
        let names: Vec<&str> = c.iter().map(|c| c.body.name.as_str()).collect();
        assert_eq!(names, ["2027-01-01", "2026-12", "2026"]);
    }

    #[test]
    fn daylight_saving_days_close_on_their_local_dates() {
        let (_d, mut db) = db();
        // 29 March 2026 lasts 23 hours in Paris; 25 October 25 hours.
        for (sale, close_at, name) in [
            ("2026-03-28T23:30:00Z", "2026-03-29T21:31:00Z", "2026-03-29"),
            ("2026-10-24T22:30:00Z", "2026-10-25T22:31:00Z", "2026-10-25"),
        ] {
            sell_at(&mut db, "A", 1, sale).unwrap();
            let c = due(&mut db, close_at);
            assert_eq!(c[0].body.period, Period::Day, "{name}");
            assert_eq!(c[0].body.name, name);
        }
    }

    #[test]
    fn closings_count_cash_net_of_change_and_leave_training_out() {
        use tillsync_core::fiscal::closing::Totals;
        use tillsync_core::ticket::{PricedItem, Sale, SaleItem};
        let (_d, mut db) = db();
        let item = PricedItem {
            code: "A".into(),
            label: "Pain".into(),
            price_cents: 349,
            vat_rate_bp: 550,
        };
        for training in [false, true, false] {
            db.record_sale("T001", training, None, |_, number, prev| {
                Sale {
                    lines: vec![SaleItem {
                        quantity_milli: 485,
                        discount_cents: 9,
                        ..SaleItem::units(item.clone(), 1)
                    }],
                    discount_cents: 10,
                    payments: vec![
                        Payment {
                            method: "card".into(),
                            amount_cents: 50,
                        },
                        Payment {
                            method: CASH.into(),
                            amount_cents: 500,
                        },
                    ],
                    training,
                    ..Sale::default()
                }
                .seal("T001", number, "2026-12-04T10:00:00Z", prev, &key())
                .map_err(|e| StoreError::Inconsistent(e.to_string()))
            })
            .unwrap();
        }
        // 0.485 × 3.49 = 1.69 − 0.09 − 0.10 = 1.50; 5.50 paid, 4.00 change.
        let sql = ticket_totals(db.conn(), "T001", 0, 2).unwrap();
        let mut by_ticket = Totals::default();
        for n in 1..=2 {
            let t = crate::up::tickets::load_ticket(db.conn(), "T001", n)
                .unwrap()
                .unwrap();
            by_ticket.add_ticket(&t).unwrap();
        }
        assert_eq!(sql, by_ticket);
        assert_eq!((sql.tickets, sql.total_cents), (2, 300));
        let cash = sql
            .payments()
            .into_iter()
            .find(|p| p.method == CASH)
            .unwrap();
        assert_eq!(cash.amount_cents, 2 * (500 - 400));
        assert_eq!(sql.vat_totals()[0].discount_cents, 20);
        // A training ticket adds nothing.
        let training = crate::up::tickets::load_ticket_of(
            db.conn(),
            &tillsync_db::ticket_rows::TRAINING_TABLES,
            "T001",
            1,
        )
        .unwrap()
        .unwrap();
        let mut t = Totals::default();
        t.add_ticket(&training).unwrap();
        assert_eq!(t, Totals::default());
    }
}
