//! The server schema on PostgreSQL, step by step (the same steps, numbered
//! the same, as on SQLite), and its upgrade from the former numbering.

use postgres::{Client, Transaction};

use crate::up as pg_up;
use tillsync_db::StoreError;

/// The advisory lock key that serialises migrations.
pub(crate) const MIGRATE_LOCK: i64 = 0x7469_6c6c_6d69_6772;

/// The newest step of the server schema (the length of the step list).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// tillsync's own tables on PostgreSQL, step by step: the same steps,
/// numbered the same, as on SQLite (`tillsync_server_sqlite`'s
/// migrations), each in PostgreSQL's SQL.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: sync tables, change log, table versions, published packages, journal.
    "CREATE TABLE tillsync_sync_tables(
        tbl TEXT NOT NULL, direction TEXT NOT NULL, sync_type TEXT NOT NULL,
        filter_column TEXT, created_at TEXT NOT NULL,
        PRIMARY KEY (tbl, direction));
     CREATE TABLE tillsync_changes(
        seq BIGSERIAL PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL,
        k1 TEXT, k2 TEXT, k3 TEXT, k4 TEXT,
        at BIGINT NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT),
        export_seq BIGINT);
     CREATE INDEX tillsync_changes_by_export ON tillsync_changes(tbl, export_seq);
     CREATE INDEX tillsync_changes_unstamped ON tillsync_changes(seq) WHERE export_seq IS NULL;
     CREATE TABLE tillsync_table_state(
        tbl TEXT PRIMARY KEY, version BIGINT NOT NULL, last_seq BIGINT NOT NULL,
        layout_hash TEXT NOT NULL, snapshot_hash TEXT, full_version BIGINT,
        exported_at TEXT NOT NULL);
     CREATE TABLE tillsync_packages(
        file TEXT PRIMARY KEY, tbl TEXT NOT NULL, subset TEXT, kind TEXT NOT NULL,
        from_version BIGINT NOT NULL, to_version BIGINT NOT NULL, layout_hash TEXT NOT NULL,
        size BIGINT NOT NULL, sha256 TEXT NOT NULL, upserts BIGINT NOT NULL,
        deletes BIGINT NOT NULL, created_at TEXT NOT NULL);
     CREATE INDEX tillsync_packages_by_table ON tillsync_packages(tbl, subset, kind, to_version);
     CREATE TABLE tillsync_journal(
        id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, till TEXT,
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
    pg_up::TICKETS_SCHEMA,
    // 4: customers created from tills, conflicts, audit.
    concat!(
        "ALTER TABLE tillsync_sync_tables
            ADD COLUMN IF NOT EXISTS conflict_policy TEXT NOT NULL DEFAULT 'server-wins';\n",
        include_str!("up/customers_schema.sql")
    ),
    // 5: what tills report of their outbox and error list.
    "CREATE TABLE tillsync_till_reports(
        till_id TEXT PRIMARY KEY, outbox_tickets BIGINT NOT NULL, outbox_other BIGINT NOT NULL,
        oldest_queued_at TEXT, oldest_age_secs BIGINT, errors BIGINT NOT NULL,
        last_error TEXT, reported_at TEXT NOT NULL);",
    // 6: the catalog generation (`TillStore::catalog_generation`): one
    // row, bumped in the same transaction as every change of the sync
    // tables or the published packages, so that it is visible with them.
    "CREATE TABLE tillsync_catalog_generation(
        id INT PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
     INSERT INTO tillsync_catalog_generation(id, n) VALUES (1, 1);
     CREATE FUNCTION tillsync_bump_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
        UPDATE tillsync_catalog_generation SET n = n + 1 WHERE id = 1;
        RETURN NULL;
     END $$;
     CREATE TRIGGER tillsync_catalog_packages
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tillsync_packages
        FOR EACH STATEMENT EXECUTE FUNCTION tillsync_bump_catalog();
     CREATE TRIGGER tillsync_catalog_sync_tables
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tillsync_sync_tables
        FOR EACH STATEMENT EXECUTE FUNCTION tillsync_bump_catalog();",
    // 7: tickets version 2 and training tickets.
    pg_up::TICKETS_V2_SCHEMA,
    // 8: enrolment
    // secrets and key histories (`docs/till-keys.md`); a key belongs to one till.
    "CREATE TABLE tillsync_enrolments(
        secret_sha256 TEXT PRIMARY KEY, till_id TEXT NOT NULL, issued_at TEXT NOT NULL,
        expires_at TEXT NOT NULL, superseded_at TEXT, used_at TEXT, used_key_id TEXT,
        n BIGSERIAL);
     CREATE INDEX tillsync_enrolments_by_till ON tillsync_enrolments(till_id, issued_at);
     CREATE TABLE tillsync_key_history(
        till_id TEXT NOT NULL, seq BIGINT NOT NULL, version INT NOT NULL,
        key_id TEXT NOT NULL, public_key TEXT NOT NULL UNIQUE, valid_from TEXT NOT NULL,
        recorded_at TEXT NOT NULL, previous_key_id TEXT, reason TEXT NOT NULL,
        signature TEXT NOT NULL,
        PRIMARY KEY (till_id, seq));",
    // 9: the fiscal records the tills send (events of their event log
    // and closings), as verified.
    "CREATE TABLE tillsync_fiscal_record(
        till_id TEXT NOT NULL, chain TEXT NOT NULL, seq BIGINT NOT NULL,
        time TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL,
        received_at TEXT NOT NULL, PRIMARY KEY (till_id, chain, seq));",
];

/// Until 4 Dec 2026 PostgreSQL databases counted their own four steps
/// (1: steps 1 and 2 of today, 2: steps 3 and 4, 3: step 5, 4: step 6):
/// the step of today's numbering each old count had reached. A database
/// without the `schema_numbering` row counts the old way.
pub(crate) const OLD_STEPS: [usize; 5] = [0, 2, 4, 5, 6];

/// The value of `schema_numbering` once the database counts as SQLite does.
pub(crate) const NUMBERING: &str = "common";

/// The schema step `tillsync_meta` records, in today's numbering.
pub(crate) fn schema_step(tx: &mut Transaction<'_>) -> Result<usize, StoreError> {
    let read = |tx: &mut Transaction<'_>, key: &str| -> Result<Option<String>, StoreError> {
        Ok(tx
            .query_opt("SELECT value FROM tillsync_meta WHERE key = $1", &[&key])?
            .map(|r| r.get(0)))
    };
    let version: usize = read(tx, "schema_version")?
        .map(|v| v.parse().unwrap_or(0))
        .unwrap_or(0);
    match read(tx, "schema_numbering")? {
        Some(n) if n == NUMBERING => Ok(version),
        Some(other) => Err(StoreError::Inconsistent(format!(
            "the database counts its schema steps as {other:?}, unknown to this tillsync; upgrade tillsync"
        ))),
        None => OLD_STEPS.get(version).copied().ok_or_else(|| {
            StoreError::Inconsistent(format!(
                "database schema version {version} (of the former PostgreSQL numbering) is unknown to this tillsync"
            ))
        }),
    }
}

pub(crate) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS tillsync_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )?;
    let current = schema_step(&mut tx)?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Inconsistent(format!(
            "database schema version {current} is newer than this tillsync ({}); upgrade tillsync",
            MIGRATIONS.len()
        )));
    }
    for m in &MIGRATIONS[current..] {
        tx.batch_execute(m)?;
    }
    tx.execute(
        "INSERT INTO tillsync_meta(key, value) VALUES ('schema_version', $1), ('schema_numbering', $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&MIGRATIONS.len().to_string(), &NUMBERING],
    )?;
    tx.commit()?;
    Ok(())
}
