-- tillsync on PostgreSQL, step 3 of the server schema: the tables of the
-- up path (tickets, quarantine, received outbox items, reported table
-- versions). Idempotent: every statement may run again on a database that
-- has them.
-- The ticket tables are the business tables an ERP reads; their columns
-- and keys are those of the SQLite server (TEXT and 64-bit integers).
CREATE TABLE IF NOT EXISTS "TICKET"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "time" TEXT NOT NULL,
    "total_cents" BIGINT NOT NULL, "customer" TEXT, "corrects" BIGINT,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "signature" TEXT NOT NULL,
    "received_at" TEXT NOT NULL,
    UNIQUE ("till_id", "number"));
CREATE TABLE IF NOT EXISTS "TICKET_LINE"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "line_no" BIGINT NOT NULL,
    "item" TEXT NOT NULL, "label" TEXT NOT NULL, "quantity" BIGINT NOT NULL,
    "unit_price_cents" BIGINT NOT NULL, "vat_rate_bp" BIGINT NOT NULL,
    "total_excl_cents" BIGINT NOT NULL, "total_incl_cents" BIGINT NOT NULL,
    PRIMARY KEY ("till_id", "number", "line_no"));
CREATE TABLE IF NOT EXISTS "TICKET_PAYMENT"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "seq" BIGINT NOT NULL,
    "method" TEXT NOT NULL, "amount_cents" BIGINT NOT NULL,
    PRIMARY KEY ("till_id", "number", "seq"));
CREATE TABLE IF NOT EXISTS "TICKET_VAT"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "rate_bp" BIGINT NOT NULL,
    "base_cents" BIGINT NOT NULL, "vat_cents" BIGINT NOT NULL, "total_cents" BIGINT NOT NULL,
    PRIMARY KEY ("till_id", "number", "rate_bp"));
CREATE TABLE IF NOT EXISTS tillsync_ticket_quarantine(
    id BIGSERIAL PRIMARY KEY, till_id TEXT NOT NULL, number BIGINT, item_key TEXT NOT NULL,
    hash TEXT, reason TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tillsync_ticket_quarantine_by_number
    ON tillsync_ticket_quarantine(till_id, number);
CREATE TABLE IF NOT EXISTS tillsync_ticket_link_pending(
    till_id TEXT NOT NULL, number BIGINT NOT NULL, prev_hash TEXT NOT NULL,
    PRIMARY KEY (till_id, number));
CREATE TABLE IF NOT EXISTS tillsync_received(
    till_id TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    at TEXT NOT NULL, fingerprint TEXT,
    PRIMARY KEY (till_id, key));
CREATE TABLE IF NOT EXISTS tillsync_till_tables(
    till_id TEXT NOT NULL, tbl TEXT NOT NULL, version BIGINT, layout_hash TEXT,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (till_id, tbl));
