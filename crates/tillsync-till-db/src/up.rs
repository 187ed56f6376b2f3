//! Till tables of the up path: the till's own tickets (`TICKET`,
//! `TICKET_LINE`, `TICKET_PAYMENT`, `TICKET_VAT`, as on the server;
//! inalterable), the durable outbox of everything that goes up, the error list of items the server refused, and a
//! small key-value state (last push, last contact).
//!
//! Everything that goes up is written to the outbox with [`TillDb::enqueue`]
//! in the same transaction as the change itself; an item leaves the outbox
//! only when the server answered for it ([`TillDb::settle`]).

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use tillsync_core::ticket::{GENESIS_HASH, Payment, PricedItem, Ticket, TicketLine, VatTotal};
use tillsync_wire::api::OutboxKind;

use crate::db::TillDb;
use tillsync_db::StoreError;
use tillsync_db::sql::{check_ident, q};

/// Schema migration of the up path (till migration 2).
///
/// Tickets keep the server's table names and columns so that a store's own
/// tools can read them; triggers make them inalterable (no UPDATE, no
/// DELETE). The outbox keeps the columns of the earlier placeholder
/// (`key`, `kind`, `payload`, `created_at`).
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE "TICKET"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "time" TEXT NOT NULL,
    "total_cents" INTEGER NOT NULL, "customer" TEXT, "corrects" INTEGER,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL UNIQUE, "signature" TEXT NOT NULL,
    PRIMARY KEY ("till_id", "number"));
CREATE TABLE "TICKET_LINE"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "line_no" INTEGER NOT NULL,
    "item" TEXT NOT NULL, "label" TEXT NOT NULL, "quantity" INTEGER NOT NULL,
    "unit_price_cents" INTEGER NOT NULL, "vat_rate_bp" INTEGER NOT NULL,
    "total_excl_cents" INTEGER NOT NULL, "total_incl_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "line_no"),
    FOREIGN KEY ("till_id", "number") REFERENCES "TICKET"("till_id", "number"));
CREATE INDEX "TICKET_LINE_by_item" ON "TICKET_LINE"("item");
CREATE TABLE "TICKET_PAYMENT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "seq" INTEGER NOT NULL,
    "method" TEXT NOT NULL, "amount_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "seq"),
    FOREIGN KEY ("till_id", "number") REFERENCES "TICKET"("till_id", "number"));
CREATE TABLE "TICKET_VAT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "rate_bp" INTEGER NOT NULL,
    "base_cents" INTEGER NOT NULL, "vat_cents" INTEGER NOT NULL, "total_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "rate_bp"),
    FOREIGN KEY ("till_id", "number") REFERENCES "TICKET"("till_id", "number"));
CREATE INDEX "TICKET_by_corrects" ON "TICKET"("till_id", "corrects");
CREATE TRIGGER "tillsync_ticket_no_update" BEFORE UPDATE ON "TICKET"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_no_delete" BEFORE DELETE ON "TICKET"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_line_no_update" BEFORE UPDATE ON "TICKET_LINE"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_line_no_delete" BEFORE DELETE ON "TICKET_LINE"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_payment_no_update" BEFORE UPDATE ON "TICKET_PAYMENT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_payment_no_delete" BEFORE DELETE ON "TICKET_PAYMENT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_vat_no_update" BEFORE UPDATE ON "TICKET_VAT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_vat_no_delete" BEFORE DELETE ON "TICKET_VAT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TABLE "tillsync_outbox"(
    "id" INTEGER PRIMARY KEY AUTOINCREMENT, "key" TEXT NOT NULL UNIQUE, "kind" TEXT NOT NULL,
    "payload" TEXT NOT NULL CHECK (json_valid("payload")), "created_at" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0, "last_error" TEXT);
CREATE TABLE "tillsync_outbox_errors"(
    "id" INTEGER PRIMARY KEY AUTOINCREMENT, "key" TEXT NOT NULL, "kind" TEXT NOT NULL,
    "payload" TEXT NOT NULL, "status" TEXT NOT NULL, "reason" TEXT NOT NULL,
    "created_at" TEXT NOT NULL, "at" TEXT NOT NULL);
CREATE TABLE "tillsync_state"(
    "key" TEXT PRIMARY KEY, "value" TEXT NOT NULL, "at" TEXT NOT NULL);
"#;

/// `tillsync_state` key: when the server last answered a push batch.
pub const STATE_LAST_PUSH: &str = "last_push";
/// `tillsync_state` key: when the server last answered any call.
pub const STATE_LAST_CONTACT: &str = "last_contact";

/// The wire name of an outbox kind (`ticket`, `customer-edit`…).
pub fn kind_name(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::Ticket => "ticket",
        OutboxKind::CustomerEdit => "customer-edit",
        OutboxKind::CustomerAbandon => "customer-abandon",
        OutboxKind::Row => "row",
    }
}

/// The outbox kind of a wire name.
pub fn parse_kind(name: &str) -> Option<OutboxKind> {
    [
        OutboxKind::Ticket,
        OutboxKind::CustomerEdit,
        OutboxKind::CustomerAbandon,
        OutboxKind::Row,
    ]
    .into_iter()
    .find(|k| kind_name(*k) == name)
}

/// The idempotency key of a ticket: `ticket:<number>`.
pub fn ticket_key(number: u64) -> String {
    format!("ticket:{number}")
}

/// One item waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// Position in the outbox (increasing).
    pub id: i64,
    /// Idempotency key.
    pub key: String,
    /// Kind (`ticket`, `customer-edit`, `customer-abandon`, `row`).
    pub kind: String,
    /// The item, JSON text.
    pub payload: String,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// Sends that got no answer for it.
    pub attempts: u32,
    /// Why the last send got no answer for it.
    pub last_error: Option<String>,
}

/// One item the server refused or quarantined, set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxError {
    /// Idempotency key.
    pub key: String,
    /// Kind.
    pub kind: String,
    /// `rejected` or `quarantined` (or `unsendable` when the till could not
    /// even send it).
    pub status: String,
    /// The server's reason.
    pub reason: String,
    /// When it was queued.
    pub created_at: String,
    /// When it was set aside.
    pub at: String,
    /// The item, JSON text.
    pub payload: String,
}

/// The outbox at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxStats {
    /// Items waiting.
    pub pending: u64,
    /// When the oldest waiting item was queued.
    pub oldest_at: Option<String>,
    /// Its age in seconds.
    pub oldest_age_secs: Option<u64>,
    /// Items in the error list.
    pub errors: u64,
}

/// What became of one sent item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server stored it (or had already): it leaves the outbox.
    Delivered,
    /// The server refused or quarantined it: it moves to the error list.
    SetAside {
        /// `rejected`, `quarantined`…
        status: String,
        /// Why.
        reason: String,
    },
    /// No answer for it: it stays, one more attempt counted.
    Kept {
        /// Why.
        error: String,
    },
}

/// What [`TillDb::settle`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    /// Items removed from the outbox as delivered.
    pub delivered: u64,
    /// Items moved to the error list.
    pub set_aside: u64,
    /// Items kept.
    pub kept: u64,
}

/// The till's newest ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastTicket {
    /// Its number.
    pub number: u64,
    /// Its hash (the next ticket's `prev_hash`).
    pub hash: String,
    /// Its time.
    pub time: String,
}

/// A line of an earlier ticket, for a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldLine {
    /// The item as priced on that ticket.
    pub item: PricedItem,
    /// Quantity sold on it (all lines of the item).
    pub quantity: i64,
}

fn now() -> String {
    tillsync_db::now_rfc3339()
}

/// True when `table` exists in the till database.
pub fn has_table(conn: &Connection, table: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The item `code` as the till's local `ART` prices it (columns `code`,
/// `label`, `price_cents`, `vat_rate_bp`); `None` if `ART` has no such item.
/// Fails when `ART` was never loaded.
pub fn priced_item(conn: &Connection, code: &str) -> Result<Option<PricedItem>, StoreError> {
    if !has_table(conn, "ART")? {
        return Err(StoreError::NoSuchTable("ART".into()));
    }
    let sql = format!(
        "SELECT {}, {}, {} FROM {} WHERE {} = ?1",
        q("label"),
        q("price_cents"),
        q("vat_rate_bp"),
        q("ART"),
        q("code")
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([code], |r| {
            Ok(PricedItem {
                code: code.to_string(),
                label: r.get(0)?,
                price_cents: r.get(1)?,
                vat_rate_bp: r.get(2)?,
            })
        })
        .optional()?)
}

/// True when `table` (e.g. `CLI`) has a row whose `column` is `value`.
/// False when the table does not exist.
pub fn row_exists(
    conn: &Connection,
    table: &str,
    column: &str,
    value: &str,
) -> Result<bool, StoreError> {
    check_ident(table)?;
    check_ident(column)?;
    if !has_table(conn, table)? {
        return Ok(false);
    }
    let sql = format!(
        "SELECT 1 FROM {} WHERE {} = ?1 LIMIT 1",
        q(table),
        q(column)
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([value], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The newest ticket of `till`, if any.
pub fn last_ticket(conn: &Connection, till: &str) -> Result<Option<LastTicket>, StoreError> {
    Ok(conn
        .prepare_cached(
            r#"SELECT "number", "hash", "time" FROM "TICKET" WHERE "till_id" = ?1
               ORDER BY "number" DESC LIMIT 1"#,
        )?
        .query_row([till], |r| {
            Ok(LastTicket {
                number: r.get::<_, i64>(0)? as u64,
                hash: r.get(1)?,
                time: r.get(2)?,
            })
        })
        .optional()?)
}

/// The ticket `number` of `till`: `None` if it does not exist, else
/// `Some(corrects)` (the ticket it corrects itself, if it is a correction).
pub fn ticket_corrects(
    conn: &Connection,
    till: &str,
    number: u64,
) -> Result<Option<Option<u64>>, StoreError> {
    Ok(conn
        .prepare_cached(
            r#"SELECT "corrects" FROM "TICKET" WHERE "till_id" = ?1 AND "number" = ?2"#,
        )?
        .query_row(params![till, number as i64], |r| {
            Ok(r.get::<_, Option<i64>>(0)?.map(|n| n as u64))
        })
        .optional()?)
}

/// How ticket `number` of `till` sold `item` (price, label and VAT of its
/// first line of that item; quantity of all its lines), if it did.
pub fn sold_line(
    conn: &Connection,
    till: &str,
    number: u64,
    item: &str,
) -> Result<Option<SoldLine>, StoreError> {
    let first = conn
        .prepare_cached(
            r#"SELECT "label", "unit_price_cents", "vat_rate_bp" FROM "TICKET_LINE"
               WHERE "till_id" = ?1 AND "number" = ?2 AND "item" = ?3
               ORDER BY "line_no" LIMIT 1"#,
        )?
        .query_row(params![till, number as i64, item], |r| {
            Ok(PricedItem {
                code: item.to_string(),
                label: r.get(0)?,
                price_cents: r.get(1)?,
                vat_rate_bp: r.get(2)?,
            })
        })
        .optional()?;
    let Some(item_priced) = first else {
        return Ok(None);
    };
    let quantity: i64 = conn
        .prepare_cached(
            r#"SELECT COALESCE(SUM("quantity"), 0) FROM "TICKET_LINE"
               WHERE "till_id" = ?1 AND "number" = ?2 AND "item" = ?3"#,
        )?
        .query_row(params![till, number as i64, item], |r| r.get(0))?;
    Ok(Some(SoldLine {
        item: item_priced,
        quantity,
    }))
}

/// The quantity of `item` already taken back (a negative sum) by the
/// correction tickets of ticket `number` of `till`.
pub fn corrected_quantity(
    conn: &Connection,
    till: &str,
    number: u64,
    item: &str,
) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            r#"SELECT COALESCE(SUM(l."quantity"), 0) FROM "TICKET" t
               JOIN "TICKET_LINE" l ON l."till_id" = t."till_id" AND l."number" = t."number"
               WHERE t."till_id" = ?1 AND t."corrects" = ?2 AND l."item" = ?3"#,
        )?
        .query_row(params![till, number as i64, item], |r| r.get(0))?)
}

/// Ticket `number` of `till` read back from `TICKET` and its detail tables
/// (its hash verifies: the tables hold the whole fiscal record).
pub fn load_ticket(
    conn: &Connection,
    till: &str,
    number: u64,
) -> Result<Option<Ticket>, StoreError> {
    let n = number as i64;
    let head = conn
        .prepare_cached(
            r#"SELECT "time", "total_cents", "customer", "corrects", "prev_hash", "hash", "signature"
               FROM "TICKET" WHERE "till_id" = ?1 AND "number" = ?2"#,
        )?
        .query_row(params![till, n], |r| {
            Ok(Ticket {
                till: till.to_string(),
                number,
                time: r.get(0)?,
                lines: Vec::new(),
                vat_totals: Vec::new(),
                total_cents: r.get(1)?,
                payments: Vec::new(),
                customer: r.get(2)?,
                corrects: r.get::<_, Option<i64>>(3)?.map(|c| c as u64),
                prev_hash: r.get(4)?,
                hash: r.get(5)?,
                signature: r.get(6)?,
            })
        })
        .optional()?;
    let Some(mut t) = head else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        r#"SELECT "item", "label", "quantity", "unit_price_cents", "vat_rate_bp",
             "total_excl_cents", "total_incl_cents"
           FROM "TICKET_LINE" WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "line_no""#,
    )?;
    t.lines = stmt
        .query_map(params![till, n], |r| {
            Ok(TicketLine {
                item: r.get(0)?,
                label: r.get(1)?,
                quantity: r.get(2)?,
                unit_price_cents: r.get(3)?,
                vat_rate_bp: r.get(4)?,
                total_excl_cents: r.get(5)?,
                total_incl_cents: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        r#"SELECT "rate_bp", "base_cents", "vat_cents", "total_cents"
           FROM "TICKET_VAT" WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "rate_bp""#,
    )?;
    t.vat_totals = stmt
        .query_map(params![till, n], |r| {
            Ok(VatTotal {
                rate_bp: r.get(0)?,
                base_cents: r.get(1)?,
                vat_cents: r.get(2)?,
                total_cents: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        r#"SELECT "method", "amount_cents" FROM "TICKET_PAYMENT"
           WHERE "till_id" = ?1 AND "number" = ?2 ORDER BY "seq""#,
    )?;
    t.payments = stmt
        .query_map(params![till, n], |r| {
            Ok(Payment {
                method: r.get(0)?,
                amount_cents: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(t))
}

/// Insert a sealed ticket (head, lines, payments, VAT totals) and queue it in the
/// outbox (key `ticket:<number>`, kind `ticket`, payload the ticket JSON),
/// inside the caller's transaction.
pub fn insert_ticket(conn: &Connection, t: &Ticket) -> Result<(), StoreError> {
    let number = t.number as i64;
    conn.prepare_cached(
        r#"INSERT INTO "TICKET"("till_id", "number", "time", "total_cents", "customer",
             "corrects", "prev_hash", "hash", "signature")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"#,
    )?
    .execute(params![
        t.till,
        number,
        t.time,
        t.total_cents,
        t.customer,
        t.corrects.map(|n| n as i64),
        t.prev_hash,
        t.hash,
        t.signature
    ])?;
    tillsync_db::ticket_rows::insert_ticket_details(conn, &t.till, number, t)?;
    TillDb::enqueue(conn, &ticket_key(t.number), OutboxKind::Ticket, t)
}

impl TillDb {
    /// Queue an item for the server, inside the caller's transaction: pass
    /// the `rusqlite::Transaction` of the change itself (it derefs to a
    /// `Connection`), so that the change and its outbox item commit or roll
    /// back together. `key` is the item's idempotency key and must be unique
    /// for ever on this till (the server answers a key it has seen with
    /// `duplicate` and nothing else): e.g. `ticket:42`,
    /// `customer-edit:C0001:<uuid>`. A key still waiting in the outbox is
    /// refused. `payload` is serialised to JSON as the item's `payload`.
    pub fn enqueue<T: Serialize + ?Sized>(
        conn: &Connection,
        key: &str,
        kind: OutboxKind,
        payload: &T,
    ) -> Result<(), StoreError> {
        if key.is_empty() {
            return Err(StoreError::Inconsistent(
                "an outbox item needs an idempotency key".into(),
            ));
        }
        let json = serde_json::to_string(payload).map_err(|e| {
            StoreError::Inconsistent(format!("outbox item {key} is not serialisable: {e}"))
        })?;
        let res = conn
            .prepare_cached(
                r#"INSERT INTO "tillsync_outbox"("key", "kind", "payload", "created_at")
                   VALUES (?1, ?2, ?3, ?4)"#,
            )?
            .execute(params![key, kind_name(kind), json, now()]);
        match res {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Inconsistent(format!(
                    "the outbox already holds an item with key {key}"
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Record a sale in one IMMEDIATE transaction: `seal` gets the
    /// transaction (to read prices), the next number (last + 1, from 1) and
    /// the previous ticket's hash ([`GENESIS_HASH`] for the first), and
    /// returns the sealed ticket; it is inserted with its lines and payments
    /// and queued in the outbox. On any error nothing is recorded.
    pub fn record_sale<E: From<StoreError>>(
        &mut self,
        till: &str,
        seal: impl FnOnce(&Transaction<'_>, u64, &str) -> Result<Ticket, E>,
    ) -> Result<Ticket, E> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let last = last_ticket(&tx, till)?;
        let number = last.as_ref().map_or(1, |l| l.number + 1);
        let prev = last.map_or_else(|| GENESIS_HASH.to_string(), |l| l.hash);
        let ticket = seal(&tx, number, &prev)?;
        if ticket.till != till || ticket.number != number || ticket.prev_hash != prev {
            return Err(StoreError::Inconsistent(format!(
                "sealed ticket {}/{} does not follow ticket {}/{} of this till",
                ticket.till,
                ticket.number,
                till,
                number - 1
            ))
            .into());
        }
        insert_ticket(&tx, &ticket)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(ticket)
    }

    /// The newest ticket of `till`, and how many tickets it has.
    pub fn ticket_summary(&self, till: &str) -> Result<(u64, Option<LastTicket>), StoreError> {
        let n: i64 = self.conn().query_row(
            r#"SELECT COUNT(*) FROM "TICKET" WHERE "till_id" = ?1"#,
            [till],
            |r| r.get(0),
        )?;
        Ok((n as u64, last_ticket(self.conn(), till)?))
    }

    /// Up to `limit` outbox items, oldest first.
    pub fn outbox_batch(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_after(0, i64::MAX, limit)
    }

    /// Up to `limit` outbox items with `after < id <= up_to`, oldest first.
    pub fn outbox_after(
        &self,
        after: i64,
        up_to: i64,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            r#"SELECT "id", "key", "kind", "payload", "created_at", "attempts", "last_error"
               FROM "tillsync_outbox" WHERE "id" > ?1 AND "id" <= ?2 ORDER BY "id" LIMIT ?3"#,
        )?;
        let rows = stmt.query_map(
            params![after, up_to, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(OutboxEntry {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    kind: r.get(2)?,
                    payload: r.get(3)?,
                    created_at: r.get(4)?,
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The position of the newest outbox item (0 when empty).
    pub fn outbox_last_id(&self) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            r#"SELECT COALESCE(MAX("id"), 0) FROM "tillsync_outbox""#,
            [],
            |r| r.get(0),
        )?)
    }

    /// Remove delivered items (the server acknowledged them), in one transaction.
    pub fn ack(&mut self, keys: &[&str]) -> Result<u64, StoreError> {
        let outcomes: Vec<(String, Outcome)> = keys
            .iter()
            .map(|k| (k.to_string(), Outcome::Delivered))
            .collect();
        Ok(self.settle(&outcomes)?.delivered)
    }

    /// Move one item to the error list with the server's status and reason.
    /// False if the outbox has no such item.
    pub fn set_aside(&mut self, key: &str, status: &str, reason: &str) -> Result<bool, StoreError> {
        let outcome = Outcome::SetAside {
            status: status.into(),
            reason: reason.into(),
        };
        Ok(self.settle(&[(key.to_string(), outcome)])?.set_aside == 1)
    }

    /// Apply the server's answers in one transaction: delivered items leave
    /// the outbox, refused ones move to the error list, the others stay with
    /// one more attempt. Records the time of the push when the server
    /// answered for at least one item.
    pub fn settle(&mut self, outcomes: &[(String, Outcome)]) -> Result<Settled, StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut done = Settled::default();
        let at = now();
        {
            let mut del = tx.prepare_cached(r#"DELETE FROM "tillsync_outbox" WHERE "key" = ?1"#)?;
            let mut aside = tx.prepare_cached(
                r#"INSERT INTO "tillsync_outbox_errors"
                     ("key", "kind", "payload", "status", "reason", "created_at", "at")
                   SELECT "key", "kind", "payload", ?2, ?3, "created_at", ?4
                   FROM "tillsync_outbox" WHERE "key" = ?1"#,
            )?;
            let mut keep = tx.prepare_cached(
                r#"UPDATE "tillsync_outbox" SET "attempts" = "attempts" + 1, "last_error" = ?2
                   WHERE "key" = ?1"#,
            )?;
            for (key, outcome) in outcomes {
                match outcome {
                    Outcome::Delivered => done.delivered += del.execute([key])? as u64,
                    Outcome::SetAside { status, reason } => {
                        if aside.execute(params![key, status, reason, at])? == 1 {
                            del.execute([key])?;
                            done.set_aside += 1;
                        }
                    }
                    Outcome::Kept { error } => {
                        done.kept += keep.execute(params![key, error])? as u64
                    }
                }
            }
        }
        if done.delivered + done.set_aside > 0 {
            set_state_in(&tx, STATE_LAST_PUSH, &at)?;
        }
        tx.commit()?;
        Ok(done)
    }

    /// Pending count, age of the oldest item, size of the error list.
    pub fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let (pending, oldest_at): (i64, Option<String>) = self.conn().query_row(
            r#"SELECT COUNT(*), (SELECT "created_at" FROM "tillsync_outbox" ORDER BY "id" LIMIT 1)
               FROM "tillsync_outbox""#,
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let errors: i64 = self.conn().query_row(
            r#"SELECT COUNT(*) FROM "tillsync_outbox_errors""#,
            [],
            |r| r.get(0),
        )?;
        let oldest_age_secs = oldest_at.as_deref().and_then(|t| {
            let t = chrono::DateTime::parse_from_rfc3339(t).ok()?;
            let age = chrono::Utc::now().signed_duration_since(t).num_seconds();
            Some(age.max(0) as u64)
        });
        Ok(OutboxStats {
            pending: pending as u64,
            oldest_at,
            oldest_age_secs,
            errors: errors as u64,
        })
    }

    /// What the till reports to the server with each package request:
    /// tickets and other items waiting, the oldest one's time and age, the
    /// size of the error list and its newest reason (cut short).
    pub fn outbox_report(&self) -> Result<tillsync_wire::api::TillReport, StoreError> {
        let stats = self.outbox_stats()?;
        let tickets: i64 = self.conn().query_row(
            r#"SELECT COUNT(*) FROM "tillsync_outbox" WHERE "kind" = ?1"#,
            [kind_name(OutboxKind::Ticket)],
            |r| r.get(0),
        )?;
        let last_error: Option<String> = self
            .conn()
            .query_row(
                r#"SELECT "status" || ': ' || "reason" FROM "tillsync_outbox_errors"
                   ORDER BY "id" DESC LIMIT 1"#,
                [],
                |r| r.get(0),
            )
            .optional()?;
        let tickets = tickets.max(0) as u64;
        Ok(tillsync_wire::api::TillReport {
            outbox_tickets: tickets,
            outbox_other: stats.pending.saturating_sub(tickets),
            oldest_queued_at: stats.oldest_at,
            oldest_age_secs: stats.oldest_age_secs,
            errors: stats.errors,
            last_error: last_error.map(|e| {
                tillsync_wire::api::truncate_chars(&e, tillsync_wire::api::REPORT_ERROR_MAX_CHARS)
            }),
        })
    }

    /// The error list, oldest first.
    pub fn errors(&self) -> Result<Vec<OutboxError>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            r#"SELECT "key", "kind", "status", "reason", "created_at", "at", "payload"
               FROM "tillsync_outbox_errors" ORDER BY "id""#,
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxError {
                key: r.get(0)?,
                kind: r.get(1)?,
                status: r.get(2)?,
                reason: r.get(3)?,
                created_at: r.get(4)?,
                at: r.get(5)?,
                payload: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Set `key` of the small state table to `value` (with the time).
    pub fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        set_state_in(self.conn(), key, value)
    }

    /// The value of `key` in the state table.
    pub fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(r#"SELECT "value" FROM "tillsync_state" WHERE "key" = ?1"#)?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// When the journal last recorded a successful `kind` (e.g. `pull`).
    pub fn last_ok(&self, kind: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                r#"SELECT "at" FROM "tillsync_journal" WHERE "kind" = ?1 AND "result" = 'ok'
                   ORDER BY "id" DESC LIMIT 1"#,
            )?
            .query_row([kind], |r| r.get(0))
            .optional()?)
    }
}

fn set_state_in(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        r#"INSERT INTO "tillsync_state"("key", "value", "at") VALUES (?1, ?2, ?3)
           ON CONFLICT("key") DO UPDATE SET "value" = excluded."value", "at" = excluded."at""#,
    )?
    .execute(params![key, value, now()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use tillsync_core::ticket::{Payment, Sale};

    fn db() -> (tempfile::TempDir, TillDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = TillDb::open(&dir.path().join("till.db")).unwrap();
        db.conn()
            .execute_batch(
                "CREATE TABLE ART(code TEXT PRIMARY KEY, label TEXT NOT NULL,
                   price_cents INTEGER NOT NULL, vat_rate_bp INTEGER NOT NULL);
                 INSERT INTO ART VALUES ('A', 'Pain', 120, 550), ('B', 'Vin', 900, 2000);",
            )
            .unwrap();
        (dir, db)
    }

    fn sell(db: &mut TillDb, item: &str, qty: i64) -> Result<Ticket, StoreError> {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        db.record_sale("T001", |tx, number, prev| {
            let it = priced_item(tx, item)?
                .ok_or_else(|| StoreError::Inconsistent(format!("no item {item}")))?;
            let sale = Sale {
                lines: vec![(it.clone(), qty)],
                payments: vec![Payment {
                    method: "cash".into(),
                    amount_cents: it.price_cents * qty,
                }],
                customer: None,
                corrects: None,
            };
            sale.seal("T001", number, "2026-01-01T00:00:00Z", prev, &key)
                .map_err(|e| StoreError::Inconsistent(e.to_string()))
        })
    }

    fn count(db: &TillDb, table: &str) -> i64 {
        db.conn()
            .query_row(&format!("SELECT COUNT(*) FROM {}", q(table)), [], |r| {
                r.get(0)
            })
            .unwrap()
    }

    #[test]
    fn sales_are_numbered_chained_and_queued() {
        let (_d, mut db) = db();
        let t1 = sell(&mut db, "A", 2).unwrap();
        let t2 = sell(&mut db, "B", 1).unwrap();
        assert_eq!((t1.number, t2.number), (1, 2));
        assert_eq!(t1.prev_hash, GENESIS_HASH);
        assert_eq!(t2.prev_hash, t1.hash);
        let key = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        t2.verify(&key, &t1.hash).unwrap();
        assert_eq!(count(&db, "TICKET_LINE"), 2);
        assert_eq!(count(&db, "TICKET_PAYMENT"), 2);
        let batch = db.outbox_batch(10).unwrap();
        assert_eq!(
            batch.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["ticket:1", "ticket:2"]
        );
        assert_eq!(batch[0].kind, "ticket");
        let back: Ticket = serde_json::from_str(&batch[1].payload).unwrap();
        assert_eq!(back, t2);
        // The tables hold the whole ticket: read back, it is the same and verifies.
        let stored = load_ticket(db.conn(), "T001", 2).unwrap().unwrap();
        assert_eq!(stored, t2);
        assert_eq!(hex::encode(stored.digest()), t2.hash);
        assert_eq!(load_ticket(db.conn(), "T001", 3).unwrap(), None);
        let (n, last) = db.ticket_summary("T001").unwrap();
        assert_eq!((n, last.unwrap().number), (2, 2));
    }

    #[test]
    fn a_failed_sale_records_nothing() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 1).unwrap();
        assert!(sell(&mut db, "NOPE", 1).is_err());
        assert!(sell(&mut db, "A", 0).is_err());
        assert_eq!(count(&db, "TICKET"), 1);
        assert_eq!(count(&db, "tillsync_outbox"), 1);
        // The next sale still gets number 2.
        assert_eq!(sell(&mut db, "B", 1).unwrap().number, 2);
    }

    #[test]
    fn tickets_are_inalterable() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 1).unwrap();
        for sql in [
            r#"UPDATE "TICKET" SET "total_cents" = 1"#,
            r#"DELETE FROM "TICKET""#,
            r#"UPDATE "TICKET_LINE" SET "quantity" = 5"#,
            r#"DELETE FROM "TICKET_LINE""#,
            r#"UPDATE "TICKET_PAYMENT" SET "amount_cents" = 5"#,
            r#"DELETE FROM "TICKET_PAYMENT""#,
            r#"UPDATE "TICKET_VAT" SET "vat_cents" = 5"#,
            r#"DELETE FROM "TICKET_VAT""#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("tickets are inalterable"), "{sql}: {e}");
        }
        assert_eq!(count(&db, "TICKET"), 1);
        assert_eq!(count(&db, "TICKET_LINE"), 1);
    }

    #[test]
    fn enqueue_belongs_to_the_callers_transaction() {
        let (_d, mut db) = db();
        {
            let tx = db.conn_mut().transaction().unwrap();
            TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &serde_json::json!({"a": 1})).unwrap();
            // dropped: rolled back
        }
        assert_eq!(db.outbox_stats().unwrap().pending, 0);
        let tx = db.conn_mut().transaction().unwrap();
        TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &serde_json::json!({"a": 1})).unwrap();
        let e = TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &1).unwrap_err();
        assert!(e.to_string().contains("already holds"), "{e}");
        tx.commit().unwrap();
        assert_eq!(db.outbox_stats().unwrap().pending, 1);
    }

    #[test]
    fn outbox_report_counts_kinds_and_names_the_newest_error() {
        let (_d, mut db) = db();
        let empty = db.outbox_report().unwrap();
        assert_eq!(empty, tillsync_wire::api::TillReport::default());
        for i in 1..=3 {
            sell(&mut db, "A", i).unwrap();
        }
        {
            let tx = db.conn_mut().transaction().unwrap();
            TillDb::enqueue(&tx, "row:1", OutboxKind::Row, &serde_json::json!({"a": 1})).unwrap();
            tx.commit().unwrap();
        }
        db.settle(&[
            (
                "ticket:1".into(),
                Outcome::SetAside {
                    status: "rejected".into(),
                    reason: "first".into(),
                },
            ),
            (
                "ticket:2".into(),
                Outcome::SetAside {
                    status: "quarantined".into(),
                    reason: "y".repeat(500),
                },
            ),
        ])
        .unwrap();
        let r = db.outbox_report().unwrap();
        assert_eq!((r.outbox_tickets, r.outbox_other, r.errors), (1, 1, 2));
        assert!(r.oldest_queued_at.is_some() && r.oldest_age_secs.is_some());
        let e = r.last_error.unwrap();
        assert!(e.starts_with("quarantined: yyy"), "{e}");
        assert_eq!(
            e.chars().count(),
            tillsync_wire::api::REPORT_ERROR_MAX_CHARS
        );
    }

    #[test]
    fn settle_acks_sets_aside_and_keeps() {
        let (_d, mut db) = db();
        for i in 1..=4 {
            sell(&mut db, "A", i).unwrap();
        }
        assert_eq!(db.state(STATE_LAST_PUSH).unwrap(), None);
        let s = db
            .settle(&[
                ("ticket:1".into(), Outcome::Delivered),
                (
                    "ticket:2".into(),
                    Outcome::SetAside {
                        status: "rejected".into(),
                        reason: "bad data".into(),
                    },
                ),
                (
                    "ticket:3".into(),
                    Outcome::Kept {
                        error: "no answer".into(),
                    },
                ),
                ("ticket:99".into(), Outcome::Delivered),
            ])
            .unwrap();
        assert_eq!(
            s,
            Settled {
                delivered: 1,
                set_aside: 1,
                kept: 1
            }
        );
        let left = db.outbox_batch(10).unwrap();
        assert_eq!(
            left.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["ticket:3", "ticket:4"]
        );
        assert_eq!(left[0].attempts, 1);
        assert_eq!(left[0].last_error.as_deref(), Some("no answer"));
        let errs = db.errors().unwrap();
        assert_eq!(errs.len(), 1);
        assert_eq!(
            (
                errs[0].key.as_str(),
                errs[0].status.as_str(),
                errs[0].reason.as_str()
            ),
            ("ticket:2", "rejected", "bad data")
        );
        let stats = db.outbox_stats().unwrap();
        assert_eq!((stats.pending, stats.errors), (2, 1));
        assert!(stats.oldest_at.is_some() && stats.oldest_age_secs.is_some());
        assert!(db.state(STATE_LAST_PUSH).unwrap().is_some());
        // The tickets themselves stay.
        assert_eq!(count(&db, "TICKET"), 4);

        assert_eq!(db.ack(&["ticket:3", "ticket:4"]).unwrap(), 2);
        assert!(!db.set_aside("ticket:3", "rejected", "gone").unwrap());
        let stats = db.outbox_stats().unwrap();
        assert_eq!((stats.pending, stats.oldest_at), (0, None));
    }

    #[test]
    fn outbox_after_pages_in_order() {
        let (_d, mut db) = db();
        for _ in 0..5 {
            sell(&mut db, "A", 1).unwrap();
        }
        let last = db.outbox_last_id().unwrap();
        let first = db.outbox_after(0, last, 2).unwrap();
        let next = db.outbox_after(first[1].id, last, 10).unwrap();
        assert_eq!(first.len() + next.len(), 5);
        assert_eq!(next[0].key, "ticket:3");
        assert!(db.outbox_after(0, first[0].id, 10).unwrap().len() == 1);
    }

    #[test]
    fn corrections_read_the_original() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 3).unwrap();
        let sold = sold_line(db.conn(), "T001", 1, "A").unwrap().unwrap();
        assert_eq!((sold.quantity, sold.item.price_cents), (3, 120));
        assert!(sold_line(db.conn(), "T001", 1, "B").unwrap().is_none());
        assert_eq!(ticket_corrects(db.conn(), "T001", 1).unwrap(), Some(None));
        assert_eq!(ticket_corrects(db.conn(), "T001", 2).unwrap(), None);
        assert_eq!(corrected_quantity(db.conn(), "T001", 1, "A").unwrap(), 0);
    }

    #[test]
    fn kinds_round_trip_and_match_the_wire() {
        for k in [
            OutboxKind::Ticket,
            OutboxKind::CustomerEdit,
            OutboxKind::CustomerAbandon,
            OutboxKind::Row,
        ] {
            assert_eq!(parse_kind(kind_name(k)), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), kind_name(k));
        }
        assert_eq!(parse_kind("bogus"), None);
    }

    #[test]
    fn priced_item_needs_art() {
        let dir = tempfile::tempdir().unwrap();
        let db = TillDb::open(&dir.path().join("till.db")).unwrap();
        assert!(matches!(
            priced_item(db.conn(), "A"),
            Err(StoreError::NoSuchTable(_))
        ));
        assert!(!row_exists(db.conn(), "CLI", "code", "C1").unwrap());
    }
}
