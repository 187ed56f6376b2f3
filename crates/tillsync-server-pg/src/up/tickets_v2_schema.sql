-- tillsync on PostgreSQL, step 7 of the server schema (SQLite's step 7 in
-- PostgreSQL's SQL): tickets version 2 and training tickets. Idempotent.
-- The version-2 fields of the ticket tables; "quantity_milli" is NULL on
-- rows written before, whose "quantity" is whole units.
ALTER TABLE "TICKET" ADD COLUMN IF NOT EXISTS "version" BIGINT NOT NULL DEFAULT 1;
ALTER TABLE "TICKET" ADD COLUMN IF NOT EXISTS "cashier" TEXT;
ALTER TABLE "TICKET" ADD COLUMN IF NOT EXISTS "discount_cents" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "TICKET" ADD COLUMN IF NOT EXISTS "change_cents" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "TICKET_LINE" ADD COLUMN IF NOT EXISTS "quantity_milli" BIGINT;
ALTER TABLE "TICKET_LINE" ADD COLUMN IF NOT EXISTS "discount_cents" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "TICKET_LINE" ADD COLUMN IF NOT EXISTS "voided" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "TICKET_VAT" ADD COLUMN IF NOT EXISTS "discount_cents" BIGINT NOT NULL DEFAULT 0;
-- The training chain: the same columns, its own numbers, quarantine and
-- pending links.
CREATE TABLE IF NOT EXISTS "TRAINING_TICKET"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "time" TEXT NOT NULL,
    "total_cents" BIGINT NOT NULL, "customer" TEXT, "corrects" BIGINT,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "signature" TEXT NOT NULL,
    "received_at" TEXT NOT NULL, "version" BIGINT NOT NULL DEFAULT 1, "cashier" TEXT,
    "discount_cents" BIGINT NOT NULL DEFAULT 0, "change_cents" BIGINT NOT NULL DEFAULT 0,
    UNIQUE ("till_id", "number"));
CREATE TABLE IF NOT EXISTS "TRAINING_TICKET_LINE"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "line_no" BIGINT NOT NULL,
    "item" TEXT NOT NULL, "label" TEXT NOT NULL, "quantity" BIGINT NOT NULL,
    "unit_price_cents" BIGINT NOT NULL, "vat_rate_bp" BIGINT NOT NULL,
    "total_excl_cents" BIGINT NOT NULL, "total_incl_cents" BIGINT NOT NULL,
    "quantity_milli" BIGINT, "discount_cents" BIGINT NOT NULL DEFAULT 0,
    "voided" BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY ("till_id", "number", "line_no"));
CREATE TABLE IF NOT EXISTS "TRAINING_TICKET_PAYMENT"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "seq" BIGINT NOT NULL,
    "method" TEXT NOT NULL, "amount_cents" BIGINT NOT NULL,
    PRIMARY KEY ("till_id", "number", "seq"));
CREATE TABLE IF NOT EXISTS "TRAINING_TICKET_VAT"(
    "till_id" TEXT NOT NULL, "number" BIGINT NOT NULL, "rate_bp" BIGINT NOT NULL,
    "base_cents" BIGINT NOT NULL, "vat_cents" BIGINT NOT NULL, "total_cents" BIGINT NOT NULL,
    "discount_cents" BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY ("till_id", "number", "rate_bp"));
CREATE TABLE IF NOT EXISTS tillsync_training_quarantine(
    id BIGSERIAL PRIMARY KEY, till_id TEXT NOT NULL, number BIGINT, item_key TEXT NOT NULL,
    hash TEXT, reason TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tillsync_training_quarantine_by_number
    ON tillsync_training_quarantine(till_id, number);
CREATE TABLE IF NOT EXISTS tillsync_training_link_pending(
    till_id TEXT NOT NULL, number BIGINT NOT NULL, prev_hash TEXT NOT NULL,
    PRIMARY KEY (till_id, number));
