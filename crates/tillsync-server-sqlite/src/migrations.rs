//! The server database's schema on SQLite: the ordered list of migrations
//! and the SQL text of each (sync tables and the change log, tills, the up
//! path's tickets, customers, till reports, the catalog generation, tickets
//! version 2 and training tickets, the tills' keys, the fiscal records). A
//! leaf: it imports nothing of the crate.

/// The newest step of the server schema (the length of the step list).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Schema of tillsync's own server tables, by version. Applied in order, in
/// one transaction, recorded in `tillsync_meta`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: sync tables, change log, table versions, published packages, journal.
    "CREATE TABLE tillsync_sync_tables(
        tbl TEXT NOT NULL, direction TEXT NOT NULL, sync_type TEXT NOT NULL,
        filter_column TEXT, created_at TEXT NOT NULL,
        PRIMARY KEY (tbl, direction));
     CREATE TABLE tillsync_changes(
        seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL,
        k1, k2, k3, k4,
        at INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER)));
     CREATE INDEX tillsync_changes_by_table ON tillsync_changes(tbl, seq);
     CREATE TABLE tillsync_table_state(
        tbl TEXT PRIMARY KEY, version INTEGER NOT NULL, last_seq INTEGER NOT NULL,
        layout_hash TEXT NOT NULL, snapshot_hash TEXT, full_version INTEGER,
        exported_at TEXT NOT NULL);
     CREATE TABLE tillsync_packages(
        file TEXT PRIMARY KEY, tbl TEXT NOT NULL, subset TEXT, kind TEXT NOT NULL,
        from_version INTEGER NOT NULL, to_version INTEGER NOT NULL, layout_hash TEXT NOT NULL,
        size INTEGER NOT NULL, sha256 TEXT NOT NULL, upserts INTEGER NOT NULL,
        deletes INTEGER NOT NULL, created_at TEXT NOT NULL);
     CREATE INDEX tillsync_packages_by_table ON tillsync_packages(tbl, subset, kind, to_version);
     CREATE TABLE tillsync_journal(
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, till TEXT,
        result TEXT NOT NULL, detail TEXT NOT NULL);",
    // 2: till credentials (only what verifies them) and ticket keys.
    "CREATE TABLE tillsync_tills(
        till_id TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, issued_at TEXT NOT NULL,
        revoked_at TEXT, last_contact TEXT);
     CREATE TABLE tillsync_till_keys(
        till_id TEXT NOT NULL, public_key TEXT NOT NULL, issued_at TEXT NOT NULL,
        PRIMARY KEY (till_id, public_key));
     CREATE INDEX tillsync_journal_by_till ON tillsync_journal(till, id);",
    // 3: the up path (tickets, quarantine, received items).
    TICKETS,
    // 4: customers created from tills, conflicts, audit.
    CUSTOMERS,
    // 5: what tills report of their outbox and error list.
    REPORTS,
    // 6: the catalog generation (`TillStore::catalog_generation`): one
    // row, bumped in the same transaction as every change of the sync
    // tables or the published packages.
    "CREATE TABLE tillsync_catalog_generation(
        id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
     INSERT INTO tillsync_catalog_generation(id, n) VALUES (1, 1);
     CREATE TRIGGER tillsync_catalog_packages_i AFTER INSERT ON tillsync_packages
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_packages_u AFTER UPDATE ON tillsync_packages
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_packages_d AFTER DELETE ON tillsync_packages
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_sync_tables_i AFTER INSERT ON tillsync_sync_tables
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_sync_tables_u AFTER UPDATE ON tillsync_sync_tables
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;
     CREATE TRIGGER tillsync_catalog_sync_tables_d AFTER DELETE ON tillsync_sync_tables
        BEGIN UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1; END;",
    // 7: tickets version 2 and training tickets.
    TICKETS_V2,
    // 8: enrolment
    // secrets and key histories (`docs/till-keys.md`).
    KEYS,
    // 9: the fiscal records the tills send (events of their event log
    // and closings), as verified.
    "CREATE TABLE tillsync_fiscal_record(
        till_id TEXT NOT NULL, chain TEXT NOT NULL, seq INTEGER NOT NULL,
        time TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL,
        received_at TEXT NOT NULL, PRIMARY KEY (till_id, chain, seq));
     CREATE TRIGGER tillsync_fiscal_record_no_update BEFORE UPDATE ON tillsync_fiscal_record
        BEGIN SELECT RAISE(ABORT, 'fiscal records are inalterable'); END;",
];

/// Schema of the tills' keys (server migration 8): the SHA-256 of each
/// deployment package's enrolment secret, and every key accepted for a
/// till as a record signed by the server (a key belongs to one till).
const KEYS: &str = "
CREATE TABLE tillsync_enrolments(
    secret_sha256 TEXT PRIMARY KEY, till_id TEXT NOT NULL, issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, superseded_at TEXT, used_at TEXT, used_key_id TEXT);
CREATE INDEX tillsync_enrolments_by_till ON tillsync_enrolments(till_id, issued_at);
CREATE TABLE tillsync_key_history(
    till_id TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL,
    key_id TEXT NOT NULL, public_key TEXT NOT NULL UNIQUE, valid_from TEXT NOT NULL,
    recorded_at TEXT NOT NULL, previous_key_id TEXT, reason TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (till_id, seq));
";

/// Schema migration of the up path (server migration 3).
const TICKETS: &str = r#"
CREATE TABLE "TICKET"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "time" TEXT NOT NULL,
    "total_cents" INTEGER NOT NULL, "customer" TEXT, "corrects" INTEGER,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "signature" TEXT NOT NULL,
    "received_at" TEXT NOT NULL,
    UNIQUE ("till_id", "number"));
CREATE TABLE "TICKET_LINE"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "line_no" INTEGER NOT NULL,
    "item" TEXT NOT NULL, "label" TEXT NOT NULL, "quantity" INTEGER NOT NULL,
    "unit_price_cents" INTEGER NOT NULL, "vat_rate_bp" INTEGER NOT NULL,
    "total_excl_cents" INTEGER NOT NULL, "total_incl_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "line_no")) WITHOUT ROWID;
CREATE TABLE "TICKET_PAYMENT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "seq" INTEGER NOT NULL,
    "method" TEXT NOT NULL, "amount_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "seq")) WITHOUT ROWID;
CREATE TABLE "TICKET_VAT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "rate_bp" INTEGER NOT NULL,
    "base_cents" INTEGER NOT NULL, "vat_cents" INTEGER NOT NULL, "total_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "rate_bp")) WITHOUT ROWID;
CREATE TABLE tillsync_ticket_quarantine(
    id INTEGER PRIMARY KEY, till_id TEXT NOT NULL, number INTEGER, item_key TEXT NOT NULL,
    hash TEXT, reason TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX tillsync_ticket_quarantine_by_number ON tillsync_ticket_quarantine(till_id, number);
CREATE TABLE tillsync_ticket_link_pending(
    till_id TEXT NOT NULL, number INTEGER NOT NULL, prev_hash TEXT NOT NULL,
    PRIMARY KEY (till_id, number)) WITHOUT ROWID;
CREATE TABLE tillsync_received(
    till_id TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    at TEXT NOT NULL, fingerprint TEXT,
    PRIMARY KEY (till_id, key)) WITHOUT ROWID;
CREATE TABLE tillsync_till_tables(
    till_id TEXT NOT NULL, tbl TEXT NOT NULL, version INTEGER, layout_hash TEXT,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (till_id, tbl)) WITHOUT ROWID;
"#;

/// Schema migration of customers (server migration 4).
const CUSTOMERS: &str = "
CREATE TABLE tillsync_customer_origin(
    code TEXT PRIMARY KEY, till_id TEXT NOT NULL, created_at TEXT NOT NULL,
    abandoned_at TEXT);
CREATE TABLE tillsync_conflicts(
    id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, key TEXT NOT NULL, till_id TEXT NOT NULL,
    server_value TEXT, till_value TEXT NOT NULL, winner TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE tillsync_row_versions(
    tbl TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
    last_seq INTEGER NOT NULL, changed_at INTEGER NOT NULL, PRIMARY KEY (tbl, key));
CREATE TABLE tillsync_row_writes(
    tbl TEXT NOT NULL, key TEXT NOT NULL, till_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (tbl, key));
ALTER TABLE tillsync_sync_tables ADD COLUMN conflict_policy TEXT NOT NULL DEFAULT 'server-wins';
";

/// Schema of the reports (server migration 5).
const REPORTS: &str = "CREATE TABLE tillsync_till_reports(
    till_id TEXT PRIMARY KEY,
    outbox_tickets INTEGER NOT NULL,
    outbox_other INTEGER NOT NULL,
    oldest_queued_at TEXT,
    oldest_age_secs INTEGER,
    errors INTEGER NOT NULL,
    last_error TEXT,
    reported_at TEXT NOT NULL);";

/// Tickets version 2 (server migration 7): the version-2 fields of the
/// ticket tables (`quantity_milli` is NULL on rows written before, whose
/// `quantity` is whole units) and the training chain's own tables (the
/// same columns), quarantine and pending links. The same step as
/// PostgreSQL's 7.
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
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "signature" TEXT NOT NULL,
    "received_at" TEXT NOT NULL, "version" INTEGER NOT NULL DEFAULT 1, "cashier" TEXT,
    "discount_cents" INTEGER NOT NULL DEFAULT 0, "change_cents" INTEGER NOT NULL DEFAULT 0,
    UNIQUE ("till_id", "number"));
CREATE TABLE "TRAINING_TICKET_LINE"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "line_no" INTEGER NOT NULL,
    "item" TEXT NOT NULL, "label" TEXT NOT NULL, "quantity" INTEGER NOT NULL,
    "unit_price_cents" INTEGER NOT NULL, "vat_rate_bp" INTEGER NOT NULL,
    "total_excl_cents" INTEGER NOT NULL, "total_incl_cents" INTEGER NOT NULL,
    "quantity_milli" INTEGER, "discount_cents" INTEGER NOT NULL DEFAULT 0,
    "voided" INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ("till_id", "number", "line_no")) WITHOUT ROWID;
CREATE TABLE "TRAINING_TICKET_PAYMENT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "seq" INTEGER NOT NULL,
    "method" TEXT NOT NULL, "amount_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "seq")) WITHOUT ROWID;
CREATE TABLE "TRAINING_TICKET_VAT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "rate_bp" INTEGER NOT NULL,
    "base_cents" INTEGER NOT NULL, "vat_cents" INTEGER NOT NULL, "total_cents" INTEGER NOT NULL,
    "discount_cents" INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ("till_id", "number", "rate_bp")) WITHOUT ROWID;
CREATE TABLE tillsync_training_quarantine(
    id INTEGER PRIMARY KEY, till_id TEXT NOT NULL, number INTEGER, item_key TEXT NOT NULL,
    hash TEXT, reason TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX tillsync_training_quarantine_by_number
    ON tillsync_training_quarantine(till_id, number);
CREATE TABLE tillsync_training_link_pending(
    till_id TEXT NOT NULL, number INTEGER NOT NULL, prev_hash TEXT NOT NULL,
    PRIMARY KEY (till_id, number)) WITHOUT ROWID;
"#;
