//! The till database's schema: the ordered list of migrations and the SQL
//! text of each (table versions and journal, the up path, customers and
//! up-direction tables, tickets version 2 and training tickets). A leaf: it
//! imports nothing of the crate.

/// The till's migrations, in order (see [`tillsync_db::sqlite::migrate`]).
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: table versions and the sync journal.
    "CREATE TABLE tillsync_table_version(
        tbl TEXT PRIMARY KEY, version INTEGER NOT NULL, layout_hash TEXT NOT NULL,
        layout TEXT NOT NULL, subset TEXT, kind TEXT NOT NULL, loaded_at TEXT NOT NULL);
     CREATE TABLE tillsync_journal(
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL,
        result TEXT NOT NULL, detail TEXT NOT NULL);",
    // 2: the up path (tickets, outbox, error list).
    UP,
    // 3: customers and up-direction sync tables.
    CUSTOMERS,
    // 4: the event log and the closings; REPLACE refused on fiscal tables.
    FISCAL,
    // 5: tickets version 2, training tickets, sale keys.
    TICKETS_V2,
];

/// Schema migration of the up path (till migration 2).
///
/// Tickets keep the server's table names and columns so that a store's own
/// tools can read them; triggers make them inalterable (no UPDATE, no
/// DELETE). The outbox keeps the columns of the earlier placeholder
/// (`key`, `kind`, `payload`, `created_at`).
const UP: &str = r#"
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

/// Schema migration of customers and up tables (till migration 3).
const CUSTOMERS: &str = "
CREATE TABLE tillsync_up_tables(
    tbl TEXT PRIMARY KEY, layout TEXT NOT NULL, installed_at TEXT NOT NULL);
CREATE TABLE tillsync_applying(flag INTEGER PRIMARY KEY CHECK (flag = 1));
";

/// Schema migration of the event log (JET) and the closings (till migration
/// 4). Both are chained records like tickets and as inalterable. A REPLACE
/// (`INSERT OR REPLACE`) deletes the row it replaces without firing the
/// delete triggers, so every fiscal table also refuses an insert over an
/// existing key.
const FISCAL: &str = r#"
CREATE TABLE "EVENT_LOG"(
    "till_id" TEXT NOT NULL, "seq" INTEGER NOT NULL, "time" TEXT NOT NULL,
    "kind" TEXT NOT NULL, "body" TEXT NOT NULL,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL UNIQUE, "signature" TEXT NOT NULL,
    PRIMARY KEY ("till_id", "seq"));
CREATE TABLE "CLOSING"(
    "till_id" TEXT NOT NULL, "seq" INTEGER NOT NULL, "time" TEXT NOT NULL,
    "kind" TEXT NOT NULL, "body" TEXT NOT NULL,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL UNIQUE, "signature" TEXT NOT NULL,
    PRIMARY KEY ("till_id", "seq"));
CREATE TRIGGER "tillsync_event_no_update" BEFORE UPDATE ON "EVENT_LOG"
    BEGIN SELECT RAISE(ABORT, 'the event log is inalterable'); END;
CREATE TRIGGER "tillsync_event_no_delete" BEFORE DELETE ON "EVENT_LOG"
    BEGIN SELECT RAISE(ABORT, 'the event log is inalterable'); END;
CREATE TRIGGER "tillsync_event_no_replace" BEFORE INSERT ON "EVENT_LOG"
    WHEN EXISTS (SELECT 1 FROM "EVENT_LOG" WHERE ("till_id" = NEW."till_id" AND "seq" = NEW."seq") OR "hash" = NEW."hash")
    BEGIN SELECT RAISE(ABORT, 'the event log is inalterable'); END;
CREATE TRIGGER "tillsync_closing_no_update" BEFORE UPDATE ON "CLOSING"
    BEGIN SELECT RAISE(ABORT, 'closings are inalterable'); END;
CREATE TRIGGER "tillsync_closing_no_delete" BEFORE DELETE ON "CLOSING"
    BEGIN SELECT RAISE(ABORT, 'closings are inalterable'); END;
CREATE TRIGGER "tillsync_closing_no_replace" BEFORE INSERT ON "CLOSING"
    WHEN EXISTS (SELECT 1 FROM "CLOSING" WHERE ("till_id" = NEW."till_id" AND "seq" = NEW."seq") OR "hash" = NEW."hash")
    BEGIN SELECT RAISE(ABORT, 'closings are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_no_replace" BEFORE INSERT ON "TICKET"
    WHEN EXISTS (SELECT 1 FROM "TICKET" WHERE ("till_id" = NEW."till_id" AND "number" = NEW."number") OR "hash" = NEW."hash")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_line_no_replace" BEFORE INSERT ON "TICKET_LINE"
    WHEN EXISTS (SELECT 1 FROM "TICKET_LINE" WHERE "till_id" = NEW."till_id" AND "number" = NEW."number" AND "line_no" = NEW."line_no")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_payment_no_replace" BEFORE INSERT ON "TICKET_PAYMENT"
    WHEN EXISTS (SELECT 1 FROM "TICKET_PAYMENT" WHERE "till_id" = NEW."till_id" AND "number" = NEW."number" AND "seq" = NEW."seq")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_ticket_vat_no_replace" BEFORE INSERT ON "TICKET_VAT"
    WHEN EXISTS (SELECT 1 FROM "TICKET_VAT" WHERE "till_id" = NEW."till_id" AND "number" = NEW."number" AND "rate_bp" = NEW."rate_bp")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
"#;

/// Tickets version 2 (till migration 5): the version-2 fields of the
/// fiscal tables (`quantity_milli` is NULL on rows written before, whose
/// `quantity` is whole units), the training-mode tables (the same columns,
/// their own numbering and chain), and the idempotency keys of sales.
/// Every new table is inalterable: UPDATE and DELETE are refused, and so is
/// an INSERT over an existing key (what `INSERT OR REPLACE` would do).
const TICKETS_V2: &str = r#"
ALTER TABLE "TICKET" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "TICKET" ADD COLUMN "cashier" TEXT;
ALTER TABLE "TICKET" ADD COLUMN "discount_cents" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "TICKET" ADD COLUMN "change_cents" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "TICKET_LINE" ADD COLUMN "quantity_milli" INTEGER;
ALTER TABLE "TICKET_LINE" ADD COLUMN "discount_cents" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "TICKET_LINE" ADD COLUMN "voided" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "TICKET_VAT" ADD COLUMN "discount_cents" INTEGER NOT NULL DEFAULT 0;
CREATE TABLE "TRAINING_TICKET"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "time" TEXT NOT NULL,
    "total_cents" INTEGER NOT NULL, "customer" TEXT, "corrects" INTEGER,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL UNIQUE, "signature" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1, "cashier" TEXT,
    "discount_cents" INTEGER NOT NULL DEFAULT 0, "change_cents" INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ("till_id", "number"));
CREATE TABLE "TRAINING_TICKET_LINE"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "line_no" INTEGER NOT NULL,
    "item" TEXT NOT NULL, "label" TEXT NOT NULL, "quantity" INTEGER NOT NULL,
    "unit_price_cents" INTEGER NOT NULL, "vat_rate_bp" INTEGER NOT NULL,
    "total_excl_cents" INTEGER NOT NULL, "total_incl_cents" INTEGER NOT NULL,
    "quantity_milli" INTEGER, "discount_cents" INTEGER NOT NULL DEFAULT 0,
    "voided" INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ("till_id", "number", "line_no"),
    FOREIGN KEY ("till_id", "number") REFERENCES "TRAINING_TICKET"("till_id", "number"));
CREATE TABLE "TRAINING_TICKET_PAYMENT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "seq" INTEGER NOT NULL,
    "method" TEXT NOT NULL, "amount_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "seq"),
    FOREIGN KEY ("till_id", "number") REFERENCES "TRAINING_TICKET"("till_id", "number"));
CREATE TABLE "TRAINING_TICKET_VAT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "rate_bp" INTEGER NOT NULL,
    "base_cents" INTEGER NOT NULL, "vat_cents" INTEGER NOT NULL, "total_cents" INTEGER NOT NULL,
    "discount_cents" INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ("till_id", "number", "rate_bp"),
    FOREIGN KEY ("till_id", "number") REFERENCES "TRAINING_TICKET"("till_id", "number"));
CREATE INDEX "TRAINING_TICKET_by_corrects" ON "TRAINING_TICKET"("till_id", "corrects");
CREATE TRIGGER "tillsync_training_ticket_no_update" BEFORE UPDATE ON "TRAINING_TICKET"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_no_delete" BEFORE DELETE ON "TRAINING_TICKET"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_no_replace" BEFORE INSERT ON "TRAINING_TICKET"
    WHEN EXISTS (SELECT 1 FROM "TRAINING_TICKET"
                 WHERE ("till_id" = NEW."till_id" AND "number" = NEW."number")
                    OR "hash" = NEW."hash")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_line_no_update" BEFORE UPDATE ON "TRAINING_TICKET_LINE"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_line_no_delete" BEFORE DELETE ON "TRAINING_TICKET_LINE"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_line_no_replace" BEFORE INSERT ON "TRAINING_TICKET_LINE"
    WHEN EXISTS (SELECT 1 FROM "TRAINING_TICKET_LINE"
                 WHERE "till_id" = NEW."till_id" AND "number" = NEW."number"
                   AND "line_no" = NEW."line_no")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_payment_no_update" BEFORE UPDATE ON "TRAINING_TICKET_PAYMENT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_payment_no_delete" BEFORE DELETE ON "TRAINING_TICKET_PAYMENT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_payment_no_replace" BEFORE INSERT ON "TRAINING_TICKET_PAYMENT"
    WHEN EXISTS (SELECT 1 FROM "TRAINING_TICKET_PAYMENT"
                 WHERE "till_id" = NEW."till_id" AND "number" = NEW."number" AND "seq" = NEW."seq")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_vat_no_update" BEFORE UPDATE ON "TRAINING_TICKET_VAT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_vat_no_delete" BEFORE DELETE ON "TRAINING_TICKET_VAT"
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TRIGGER "tillsync_training_ticket_vat_no_replace" BEFORE INSERT ON "TRAINING_TICKET_VAT"
    WHEN EXISTS (SELECT 1 FROM "TRAINING_TICKET_VAT"
                 WHERE "till_id" = NEW."till_id" AND "number" = NEW."number"
                   AND "rate_bp" = NEW."rate_bp")
    BEGIN SELECT RAISE(ABORT, 'tickets are inalterable'); END;
CREATE TABLE "tillsync_sale_keys"(
    "key" TEXT PRIMARY KEY, "training" INTEGER NOT NULL, "number" INTEGER NOT NULL,
    "fingerprint" TEXT NOT NULL, "at" TEXT NOT NULL);
CREATE TRIGGER "tillsync_sale_keys_no_update" BEFORE UPDATE ON "tillsync_sale_keys"
    BEGIN SELECT RAISE(ABORT, 'sale keys are inalterable'); END;
CREATE TRIGGER "tillsync_sale_keys_no_delete" BEFORE DELETE ON "tillsync_sale_keys"
    BEGIN SELECT RAISE(ABORT, 'sale keys are inalterable'); END;
CREATE TRIGGER "tillsync_sale_keys_no_replace" BEFORE INSERT ON "tillsync_sale_keys"
    WHEN EXISTS (SELECT 1 FROM "tillsync_sale_keys" WHERE "key" = NEW."key")
    BEGIN SELECT RAISE(ABORT, 'sale keys are inalterable'); END;
"#;
