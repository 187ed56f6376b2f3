//! The server database on PostgreSQL ([`PgServerDb`]): tillsync's own
//! tables, sync-table introspection from `pg_catalog`, change capture by
//! PL/pgSQL triggers, export views, the export lock shared by every server
//! process on the database, credentials and the journal; the up path comes
//! from [`crate::up::pg_up`].
//!
//! # Change capture and commit order
//! A trigger writes every insert, update (old key too when the key changes)
//! and delete of an incremental down table into `tillsync_changes`, with a
//! `seq` from a sequence, and `export_seq` NULL. PostgreSQL hands out
//! sequence values at insert time, not in commit order: a transaction may
//! commit a change with `seq` 10 after another one committed `seq` 11. So
//! the export does not trust `seq` to cut between exports: inside its
//! REPEATABLE READ view it stamps every change row it can see whose
//! `export_seq` is NULL with one new value `S` taken from the same sequence
//! (above every `seq` handed out so far), and exports the changes with
//! `export_seq` in (last export, `S`]. A change committed after the view
//! started is invisible to the stamping `UPDATE`, keeps NULL, and is stamped
//! by the next export: never skipped, never sent twice.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::time::Duration;

use postgres::{Client, Config, GenericClient, IsolationLevel, NoTls, Statement, Transaction};
use sha2::{Digest, Sha256};
use tillsync_core::sync_table::{Direction, SyncTable, SyncType};
use tillsync_wire::api::{
    CustomerAbandon, CustomerCreate, CustomerEdit, CustomerRecord, OutboxResponse, RowChange,
    TillTable,
};
use tillsync_wire::index::IndexEntry;
use tillsync_wire::layout::{Column, Layout};
use tillsync_wire::package::PackageKind;
use tillsync_wire::value::ValueRef;

use crate::up as pg_up;
use tillsync_db::StoreError;
use tillsync_db::demo::DemoCounts;
use tillsync_db::digest::TableDigest;
use tillsync_db::error::pg_message;
use tillsync_db::sql::check_ident;
use tillsync_db::sql::lit;
use tillsync_db::sql::q;
use tillsync_server_db::customers::ConflictPolicy;
use tillsync_server_db::customers::ConflictRecord;
use tillsync_server_db::customers::CustomerOrigin;
use tillsync_server_db::customers::UpOutcome;
use tillsync_server_db::export::Change;
use tillsync_server_db::export::MAX_KEY;
use tillsync_server_db::export::TableExport;
use tillsync_server_db::export::TableState;
use tillsync_server_db::store::Backend;
use tillsync_server_db::store::Batch;
use tillsync_server_db::store::BatchItem;
use tillsync_server_db::store::Bookkeeping;
use tillsync_server_db::store::ChangeFn;
use tillsync_server_db::store::ExportSnapshot;
use tillsync_server_db::store::PollIdentity;
use tillsync_server_db::store::RowFn;
use tillsync_server_db::store::ServerStore;
use tillsync_server_db::tickets::Outcome;
use tillsync_server_db::tickets::Received;
use tillsync_server_db::tickets::TicketListing;
use tillsync_server_db::tickets::TillTickets;
use tillsync_server_db::tills::AuthFailure;
use tillsync_server_db::tills::ReportedTable;
use tillsync_server_db::tills::TillOverview;
use tillsync_server_db::tills::TillRow;
use tillsync_server_db::up::batch::BatchTx;
use tillsync_server_db::up::tickets::TicketSteps;

/// The advisory lock key of the export (ASCII "tillsync").
const EXPORT_LOCK: i64 = 0x7469_6c6c_7379_6e63;
/// The advisory lock key that serialises migrations.
const MIGRATE_LOCK: i64 = 0x7469_6c6c_6d69_6772;

/// tillsync's own tables on PostgreSQL, step by step: the same six steps,
/// numbered the same, as on SQLite (`tillsync_server_sqlite`'s
/// migrations), each in PostgreSQL's SQL.
const MIGRATIONS: &[&str] = &[
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
    // 6: the catalog generation (`ServerStore::catalog_generation`): one
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
];

/// [`ServerStore::poll_identities`] in one round trip: for each till id
/// of `$1`, in order, its credentials, its store and the catalog
/// generation. The lateral lookups (`OFFSET 0` keeps them apart) are index
/// lookups whatever the plan thinks of the array's length: a hash join
/// would read every till's credentials for a handful of calls.
const POLL_IDENTITIES: &str = r#"SELECT t.token_sha256, t.revoked_at,
       (SELECT s."store"::text FROM "STORE_TILL" s WHERE s."till_id"::text = q.id LIMIT 1),
       g.n
    FROM tillsync_catalog_generation g
    CROSS JOIN unnest($1::text[]) WITH ORDINALITY AS q(id, i)
    LEFT JOIN LATERAL (
        SELECT x.token_sha256, x.revoked_at FROM tillsync_tills x
        WHERE x.till_id = q.id OFFSET 0
    ) t ON true
    WHERE g.id = 1
    ORDER BY q.i"#;

/// How a column's values are read and written (from its declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
    Bool,
    Text,
    Bytes,
    /// Anything else (dates, numeric types with odd scales…): as text.
    Other,
}

fn kind_of(decl: &str) -> Kind {
    let d = decl.to_ascii_lowercase();
    let base = d.split('(').next().unwrap_or("").trim();
    match base {
        "smallint" | "integer" | "bigint" | "oid" => Kind::Int,
        "real" | "double precision" | "numeric" => Kind::Real,
        "boolean" => Kind::Bool,
        "text" | "character varying" | "character" | "name" | "\"char\"" => Kind::Text,
        "bytea" => Kind::Bytes,
        _ => Kind::Other,
    }
}

/// The select expression that reads `expr` (of type `decl`) as a wire value.
fn read_expr(expr: &str, decl: &str) -> String {
    match kind_of(decl) {
        Kind::Int => format!("({expr})::int8"),
        Kind::Real => format!("({expr})::float8"),
        Kind::Bool => format!("({expr})::int::int8"),
        Kind::Text | Kind::Other => format!("({expr})::text"),
        Kind::Bytes => expr.to_string(),
    }
}

/// The value of column `i` of `row`, read as [`read_expr`] selected it.
fn value<'r>(row: &'r postgres::Row, i: usize, decl: &str) -> Result<ValueRef<'r>, StoreError> {
    Ok(match kind_of(decl) {
        Kind::Int | Kind::Bool => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(ValueRef::Null, ValueRef::Integer),
        Kind::Real => row
            .try_get::<_, Option<f64>>(i)?
            .map_or(ValueRef::Null, ValueRef::Real),
        Kind::Text | Kind::Other => row
            .try_get::<_, Option<&str>>(i)?
            .map_or(ValueRef::Null, ValueRef::Text),
        Kind::Bytes => row
            .try_get::<_, Option<&[u8]>>(i)?
            .map_or(ValueRef::Null, ValueRef::Blob),
    })
}

/// `"col"` with `COLLATE "C"` for text: key order is byte order, as on SQLite.
fn order_expr(prefix: &str, col: &Column) -> String {
    match kind_of(&col.decl_type) {
        Kind::Text => format!("{prefix}{} COLLATE \"C\"", q(&col.name)),
        _ => format!("{prefix}{}", q(&col.name)),
    }
}

fn column<'l>(layout: &'l Layout, name: &str) -> Result<&'l Column, StoreError> {
    layout
        .columns
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| StoreError::Inconsistent(format!("column {name} disappeared")))
}

fn filter_position(layout: &Layout, filter: Option<&str>) -> Result<Option<usize>, StoreError> {
    filter
        .map(|f| {
            layout
                .columns
                .iter()
                .position(|c| c.name == f)
                .ok_or_else(|| StoreError::Inconsistent(format!("filter column {f} disappeared")))
        })
        .transpose()
}

// ---------------------------------------------------------------------------
// Connecting, with plain words for what went wrong.

/// Where a URL points, for messages (never the password).
fn describe(cfg: &Config) -> (String, String, String) {
    let host = match cfg.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let user = cfg.get_user().unwrap_or("").to_string();
    let db = cfg.get_dbname().unwrap_or(&user).to_string();
    (format!("{host}:{port}"), user, db)
}

/// Connect to `url`, naming the problem plainly when it fails: connection
/// refused, password refused, missing database, unreachable host.
pub fn connect(url: &str) -> Result<Client, StoreError> {
    let mut cfg: Config = url.parse().map_err(|e: postgres::Error| {
        StoreError::Connect(format!("db.url is not a valid PostgreSQL URL: {e}"))
    })?;
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(Duration::from_secs(10));
    }
    cfg.keepalives_idle(Duration::from_secs(30));
    cfg.application_name("tillsync");
    let (at, user, db) = describe(&cfg);
    cfg.connect(NoTls).map_err(|e| {
        if let Some(d) = e.as_db_error() {
            let msg = match d.code().code() {
                "28P01" => format!(
                    "PostgreSQL at {at}: password authentication failed for user {user:?} \
                     (check the user and password of db.url)"
                ),
                "3D000" => format!(
                    "PostgreSQL at {at}: database {db:?} does not exist (create it, or fix db.url)"
                ),
                "28000" => format!("PostgreSQL at {at} refused user {user:?}: {}", d.message()),
                _ => format!("PostgreSQL at {at}: {}", d.message()),
            };
            return StoreError::Connect(msg);
        }
        let text = e.to_string();
        let io = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(|io| io.kind());
        StoreError::Connect(match io {
            Some(std::io::ErrorKind::ConnectionRefused) => format!(
                "cannot connect to PostgreSQL: connection refused at {at} (is PostgreSQL running there?)"
            ),
            Some(std::io::ErrorKind::TimedOut) => {
                format!("cannot connect to PostgreSQL at {at}: no answer (timed out)")
            }
            _ if text.contains("timed out") => {
                format!("cannot connect to PostgreSQL at {at}: no answer (timed out)")
            }
            _ => format!("cannot connect to PostgreSQL at {at}: {text}"),
        })
    })
}

/// `url` with its database replaced by `db` (tests, tools).
pub fn url_with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = &base[..path.unwrap_or(base.len())];
    format!("{host}/{db}{query}")
}

/// Until 4 Dec 2026 PostgreSQL databases counted their own four steps
/// (1: steps 1 and 2 of today, 2: steps 3 and 4, 3: step 5, 4: step 6):
/// the step of today's numbering each old count had reached. A database
/// without the `schema_numbering` row counts the old way.
const OLD_STEPS: [usize; 5] = [0, 2, 4, 5, 6];

/// The value of `schema_numbering` once the database counts as SQLite does.
const NUMBERING: &str = "common";

/// The schema step `tillsync_meta` records, in today's numbering.
fn schema_step(tx: &mut Transaction<'_>) -> Result<usize, StoreError> {
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

fn migrate(client: &mut Client) -> Result<(), StoreError> {
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

// ---------------------------------------------------------------------------
// Introspection.

/// The real name of `table` in the current schema (names match without
/// regard to case; an exact match wins), if it is a table.
pub fn table_name(c: &mut impl GenericClient, table: &str) -> Result<Option<String>, StoreError> {
    Ok(c.query_opt(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
           AND lower(c.relname) = lower($1)
         ORDER BY (c.relname = $1) DESC LIMIT 1",
        &[&table],
    )?
    .map(|r| r.get(0)))
}

/// The layout of `table`: columns in order with their declared types
/// (`format_type`), NOT NULL, and the primary key in key order.
pub fn layout(c: &mut impl GenericClient, table: &str) -> Result<Layout, StoreError> {
    let name = table_name(c, table)?.ok_or_else(|| StoreError::NoSuchTable(table.into()))?;
    let rel = q(&name);
    let rows = c.query(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull
         FROM pg_attribute a
         WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
        &[&rel],
    )?;
    let key: Vec<String> = c
        .query(
            "SELECT a.attname::text FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary
             ORDER BY k.ord",
            &[&rel],
        )?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    if key.is_empty() {
        return Err(StoreError::NoPrimaryKey(name));
    }
    let columns = rows
        .into_iter()
        .map(|r| {
            let name: String = r.get(0);
            let not_null: bool = r.get(2);
            Column {
                not_null: not_null || key.contains(&name),
                name,
                decl_type: r.get(1),
            }
        })
        .collect();
    Ok(Layout { columns, key })
}

// ---------------------------------------------------------------------------
// Change capture.

fn capture_names(table: &str) -> (String, String) {
    (
        format!("tillsync_cc_{table}"),
        format!("tillsync_cc_{table}_trg"),
    )
}

/// (Re)install the capture trigger of `table`.
pub fn install_capture(
    c: &mut impl GenericClient,
    table: &str,
    layout: &Layout,
) -> Result<(), StoreError> {
    if layout.key.len() > MAX_KEY {
        return Err(StoreError::KeyTooWide {
            table: table.into(),
            n: layout.key.len(),
        });
    }
    remove_capture(c, table)?;
    let (func, trg) = capture_names(table);
    let kcols = (1..=layout.key.len())
        .map(|i| format!("k{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let vals = |rec: &str| {
        layout
            .key
            .iter()
            .map(|k| format!("{rec}.{}::text", q(k)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let key_changed = layout
        .key
        .iter()
        .map(|k| format!("OLD.{c} IS DISTINCT FROM NEW.{c}", c = q(k)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let tl = lit(table);
    let ins = |op: &str, rec: &str| {
        format!(
            "INSERT INTO tillsync_changes(tbl, op, {kcols}) VALUES ({tl}, '{op}', {});",
            vals(rec)
        )
    };
    c.batch_execute(&format!(
        "CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $tillsync$
         BEGIN
           IF TG_OP = 'INSERT' THEN
             {i}
           ELSIF TG_OP = 'UPDATE' THEN
             IF {key_changed} THEN
               {d_old}
             END IF;
             {u}
           ELSE
             {d_old}
           END IF;
           RETURN NULL;
         END $tillsync$;
         CREATE TRIGGER {t} AFTER INSERT OR UPDATE OR DELETE ON {tbl}
           FOR EACH ROW EXECUTE FUNCTION {f}();",
        f = q(&func),
        t = q(&trg),
        tbl = q(table),
        i = ins("I", "NEW"),
        u = ins("U", "NEW"),
        d_old = ins("D", "OLD"),
    ))?;
    Ok(())
}

/// Drop the capture trigger of `table` (absent is fine).
pub fn remove_capture(c: &mut impl GenericClient, table: &str) -> Result<(), StoreError> {
    let (func, trg) = capture_names(table);
    if table_name(c, table)?.is_some() {
        c.batch_execute(&format!(
            "DROP TRIGGER IF EXISTS {} ON {}",
            q(&trg),
            q(table)
        ))?;
    }
    c.batch_execute(&format!("DROP FUNCTION IF EXISTS {}()", q(&func)))?;
    Ok(())
}

fn add_sync_table_in(
    tx: &mut Transaction<'_>,
    t: &SyncTable,
    policy: Option<ConflictPolicy>,
) -> Result<Layout, StoreError> {
    check_ident(&t.table)?;
    if let Some(f) = &t.filter {
        check_ident(f)?;
    }
    if policy.is_some() && t.direction != Direction::Up {
        return Err(StoreError::Invalid(format!(
            "a conflict policy applies to a table that travels up; {} is registered {}",
            t.table, t.direction
        )));
    }
    let name = table_name(tx, &t.table)?.ok_or_else(|| StoreError::NoSuchTable(t.table.clone()))?;
    if name.to_ascii_lowercase().starts_with("tillsync_") {
        return Err(StoreError::Ident(format!(
            "{name} is one of tillsync's own tables and cannot be synced"
        )));
    }
    if t.direction == Direction::Down && tillsync_db::tables::is_ticket_table(&name) {
        return Err(StoreError::Ident(format!(
            "{name} holds the tills' sales (fiscal records): it travels up only, never down \
             (a full package would replace the tills' own tickets)"
        )));
    }
    let layout = layout(tx, &name)?;
    if layout.key.len() > MAX_KEY {
        return Err(StoreError::KeyTooWide {
            table: name,
            n: layout.key.len(),
        });
    }
    let filter = match &t.filter {
        Some(f) => Some(
            layout
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(f))
                .map(|c| c.name.clone())
                .ok_or_else(|| StoreError::NoSuchColumn {
                    table: name.clone(),
                    column: f.clone(),
                })?,
        ),
        None => None,
    };
    let inserted = tx.execute(
        "INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, filter_column, created_at,
           conflict_policy)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tbl, direction) DO NOTHING",
        &[
            &name,
            &t.direction.to_string(),
            &t.sync_type.to_string(),
            &filter,
            &tillsync_db::now_rfc3339(),
            &policy.unwrap_or_default().as_str(),
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::AlreadySynced {
            table: name,
            direction: t.direction.to_string(),
        });
    }
    if t.direction == Direction::Down && t.sync_type == SyncType::Incremental {
        install_capture(tx, &name, &layout)?;
    }
    Ok(layout)
}

// ---------------------------------------------------------------------------
// Reads shared by the export view and the digest.

fn read_full_in(
    c: &mut impl GenericClient,
    table: &str,
    layout: &Layout,
    filter: Option<&str>,
    where_store: Option<(&str, &str)>,
    f: &mut RowFn<'_>,
) -> Result<u64, StoreError> {
    let cols = layout
        .columns
        .iter()
        .map(|c| read_expr(&q(&c.name), &c.decl_type))
        .collect::<Vec<_>>()
        .join(", ");
    let order = layout
        .key
        .iter()
        .map(|k| column(layout, k).map(|c| order_expr("", c)))
        .collect::<Result<Vec<_>, _>>()?
        .join(", ");
    let filter_pos = filter_position(layout, filter)?;
    let mut sql = format!("SELECT {cols} FROM {}", q(table));
    let store_param: Vec<String> = where_store.iter().map(|(_, s)| s.to_string()).collect();
    if let Some((col, _)) = where_store {
        sql.push_str(&format!(
            " WHERE {c} IS NULL OR ({c})::text = $1",
            c = q(col)
        ));
    }
    sql.push_str(&format!(" ORDER BY {order}"));
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = store_param
        .iter()
        .map(|s| s as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let mut it = c.query_raw(sql.as_str(), params)?;
    let mut vals: Vec<ValueRef<'_>> = Vec::with_capacity(layout.columns.len());
    let mut count = 0;
    use postgres::fallible_iterator::FallibleIterator;
    while let Some(row) = it.next()? {
        vals.clear();
        for (i, col) in layout.columns.iter().enumerate() {
            vals.push(value(&row, i, &col.decl_type)?);
        }
        let fv = filter_pos.map(|p| vals[p]);
        f(&vals, fv)?;
        vals = tillsync_db::sql::recycle(vals);
        count += 1;
    }
    Ok(count)
}

/// Hash one value as [`tillsync_db::digest::table_digest`] does.
fn hash_value(h: &mut Sha256, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => h.update([0u8]),
        ValueRef::Integer(v) => {
            h.update([1u8]);
            h.update(v.to_le_bytes());
        }
        ValueRef::Real(v) => {
            h.update([2u8]);
            h.update(v.to_le_bytes());
        }
        ValueRef::Text(t) => {
            h.update([3u8]);
            h.update((t.len() as u64).to_le_bytes());
            h.update(t.as_bytes());
        }
        ValueRef::Blob(b) => {
            h.update([4u8]);
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    }
}

// ---------------------------------------------------------------------------
// The export view.

/// A REPEATABLE READ transaction that stamped the changes it covers.
struct PgSnapshot<'c> {
    tx: Transaction<'c>,
    max_seq: i64,
}

impl ExportSnapshot for PgSnapshot<'_> {
    fn max_seq(&self) -> i64 {
        self.max_seq
    }
    fn layout(&mut self, table: &str) -> Result<Layout, StoreError> {
        layout(&mut self.tx, table)
    }
    fn has_changes(&mut self, table: &str, from: i64, to: i64) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM tillsync_changes
                 WHERE tbl = $1 AND export_seq > $2 AND export_seq <= $3)",
                &[&table, &from, &to],
            )?
            .get(0))
    }
    fn read_full(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        f: &mut RowFn<'_>,
    ) -> Result<u64, StoreError> {
        read_full_in(&mut self.tx, table, layout, filter, None, f)
    }
    fn read_changes(
        &mut self,
        table: &str,
        layout: &Layout,
        filter: Option<&str>,
        from: i64,
        to: i64,
        f: &mut ChangeFn<'_>,
    ) -> Result<u64, StoreError> {
        let nk = layout.key.len();
        let keys = layout
            .key
            .iter()
            .map(|k| column(layout, k))
            .collect::<Result<Vec<_>, _>>()?;
        // The logged key text, back in the column's type.
        let ck: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, c)| format!("k{}::{} AS ck{}", i + 1, c.decl_type, i + 1))
            .collect();
        let ck_read: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, c)| read_expr(&format!("c.ck{}", i + 1), &c.decl_type))
            .collect();
        let join = keys
            .iter()
            .enumerate()
            .map(|(i, c)| format!("t.{} = c.ck{}", q(&c.name), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let ck_order = keys
            .iter()
            .enumerate()
            .map(|(i, c)| match kind_of(&c.decl_type) {
                Kind::Text => format!("c.ck{} COLLATE \"C\"", i + 1),
                _ => format!("c.ck{}", i + 1),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let present = format!("(t.{} IS NOT NULL)", q(&layout.key[0]));
        let cols = layout
            .columns
            .iter()
            .map(|c| read_expr(&format!("t.{}", q(&c.name)), &c.decl_type))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {ckr}, {present}, {cols}
             FROM (SELECT DISTINCT {ck} FROM tillsync_changes
                   WHERE tbl = $1 AND export_seq > $2 AND export_seq <= $3) c
             LEFT JOIN {t} t ON {join}
             ORDER BY {present}, {ck_order}",
            ckr = ck_read.join(", "),
            ck = ck.join(", "),
            t = q(table),
        );
        let filter_pos = filter_position(layout, filter)?;
        let mut it = self.tx.query_raw(
            sql.as_str(),
            [&table as &(dyn postgres::types::ToSql + Sync), &from, &to],
        )?;
        use postgres::fallible_iterator::FallibleIterator;
        let mut count = 0;
        while let Some(row) = it.next()? {
            let mut key: Vec<ValueRef<'_>> = Vec::with_capacity(nk);
            for (i, c) in keys.iter().enumerate() {
                key.push(value(&row, i, &c.decl_type)?);
            }
            let is_present: bool = row.try_get(nk)?;
            let mut vals: Vec<ValueRef<'_>> = Vec::new();
            if is_present {
                for (i, c) in layout.columns.iter().enumerate() {
                    vals.push(value(&row, nk + 1 + i, &c.decl_type)?);
                }
            }
            let fv = if is_present {
                filter_pos.map(|p| vals[p])
            } else {
                None
            };
            f(Change {
                key: &key,
                row: is_present.then_some(&vals[..]),
                filter: fv,
            })?;
            count += 1;
        }
        Ok(count)
    }
    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The batch steps of the up path.

struct PgBatch<'a, 'c>(pg_up::tickets::TicketSql<'a, 'c>);

impl BatchTx for PgBatch<'_, '_> {
    fn received(&mut self, till: &str, key: &str) -> Result<Option<Received>, StoreError> {
        pg_up::tickets::received(self.0.0, till, key)
    }
    fn record_received(
        &mut self,
        till: &str,
        key: &str,
        outcome: &Outcome,
        fingerprint: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        pg_up::tickets::record_received(self.0.0, till, key, outcome, fingerprint, at)
    }
    fn ticket_steps(&mut self) -> &mut dyn TicketSteps {
        &mut self.0
    }
    fn customer_edit(&mut self, till: &str, e: &CustomerEdit) -> Result<UpOutcome, StoreError> {
        pg_up::customers::apply_customer_edit(self.0.0, till, e)
    }
    fn customer_abandon(
        &mut self,
        till: &str,
        a: &CustomerAbandon,
    ) -> Result<UpOutcome, StoreError> {
        pg_up::customers::apply_customer_abandon(self.0.0, till, a)
    }
    fn row_change(&mut self, till: &str, r: &RowChange) -> Result<UpOutcome, StoreError> {
        pg_up::customers::apply_row_change(self.0.0, till, r)
    }
    fn journal(
        &mut self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        pg_up::tickets::journal_in(self.0.0, kind, till, result, detail)
    }
}

// ---------------------------------------------------------------------------
// The store.

/// The server database on PostgreSQL. One connection; it is opened again
/// when PostgreSQL closed it (a restart), at the next call.
pub struct PgServerDb {
    url: String,
    /// Always `Some` but in `drop`.
    client: RefCell<Option<Client>>,
    /// Whether this connection holds the export lock (lost with it).
    export_locked: std::cell::Cell<bool>,
    /// Statements of the hot paths prepared on this connection, by text
    /// (parsed and planned once, then one round trip per call).
    statements: RefCell<HashMap<&'static str, Statement>>,
}

impl Drop for PgServerDb {
    fn drop(&mut self) {
        // Closing the connection blocks on its own runtime, which must not
        // happen on a thread that drives another one (the web service
        // drops its state there): close it on a thread of its own.
        if let Some(c) = self.client.get_mut().take() {
            let _ = std::thread::spawn(move || drop(c)).join();
        }
    }
}

impl PgServerDb {
    /// Connect and migrate.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut client = connect(url)?;
        migrate(&mut client)?;
        Ok(PgServerDb {
            url: url.to_string(),
            client: RefCell::new(Some(client)),
            export_locked: std::cell::Cell::new(false),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// The connection, opened again if it was closed (PostgreSQL restarted
    /// or ended it: the call that met the closed connection failed, and the
    /// caller, a till, retries).
    fn c(&self) -> Result<RefMut<'_, Client>, StoreError> {
        let mut slot = self.client.borrow_mut();
        let alive = slot.as_mut().is_some_and(|c| !c.is_closed());
        if !alive && self.export_locked.replace(false) {
            // A new connection would not hold the lock: the export stops.
            return Err(StoreError::Connect(
                "the connection to PostgreSQL was lost during the export (the export lock went \
                 with it); nothing was recorded, run the export again"
                    .into(),
            ));
        }
        if !alive {
            // Prepared statements die with their connection.
            self.statements.borrow_mut().clear();
            let old = slot.replace(connect(&self.url)?);
            if let Some(old) = old {
                let _ = std::thread::spawn(move || drop(old)).join();
            }
        }
        Ok(RefMut::map(slot, |c| {
            c.as_mut().expect("connection present")
        }))
    }

    /// `sql` prepared on connection `c` (this store's), once.
    fn prepared(&self, c: &mut Client, sql: &'static str) -> Result<Statement, postgres::Error> {
        prepare_cached(&self.statements, c, sql)
    }

    /// File a group of outbox batches in one transaction, one commit: the
    /// tills' locks first, in one order (so that two processes' groups
    /// cannot deadlock on them; a second process filing the same batch
    /// waits, then sees it filed and answers as to a resend); then the
    /// batches that qualify set-wise ([`pg_up::fast`]), the others item by
    /// item ([`tillsync_server_db::up::batch::run_batch`]).
    fn ingest_group(
        &mut self,
        batches: &[Batch<'_, '_>],
    ) -> Result<Vec<OutboxResponse>, StoreError> {
        let mut tills: Vec<&str> = batches
            .iter()
            .filter(|(_, items)| !items.is_empty())
            .map(|(till, _)| *till)
            .collect();
        if tills.is_empty() {
            return Ok(batches
                .iter()
                .map(|_| OutboxResponse { results: vec![] })
                .collect());
        }
        tills.sort_unstable();
        tills.dedup();
        self.cm()?;
        let PgServerDb {
            client, statements, ..
        } = self;
        let c = client.get_mut().as_mut().expect("connection present");
        let lock = prepare_cached(statements, c, pg_up::LOCK_TILLS)?;
        let fast = pg_up::fast::Statements {
            read: prepare_cached(statements, c, pg_up::fast::READ)?,
            write: prepare_cached(statements, c, pg_up::fast::WRITE.as_str())?,
        };
        let mut tx = c.transaction()?;
        tx.execute(&lock, &[&tills])?;
        let fast = pg_up::fast::file_group(&mut tx, &fast, batches, &tillsync_db::now_rfc3339())?;
        let mut out = Vec::with_capacity(batches.len());
        for ((till, items), filed) in batches.iter().zip(fast) {
            out.push(match filed {
                Some(answer) => answer,
                None if items.is_empty() => OutboxResponse { results: vec![] },
                None => tillsync_server_db::up::batch::run_batch(
                    &mut PgBatch(pg_up::tickets::TicketSql(&mut tx)),
                    till,
                    items,
                )?,
            });
        }
        tx.commit()?;
        Ok(out)
    }

    fn cm(&mut self) -> Result<&mut Client, StoreError> {
        drop(self.c()?);
        Ok(self.client.get_mut().as_mut().expect("connection present"))
    }
}

/// `sql` prepared on `c` once, kept in `cache` (the statements of `c`).
fn prepare_cached(
    cache: &RefCell<HashMap<&'static str, Statement>>,
    c: &mut Client,
    sql: &'static str,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = cache.borrow().get(sql) {
        return Ok(s.clone());
    }
    let s = c.prepare(sql)?;
    cache.borrow_mut().insert(sql, s.clone());
    Ok(s)
}

fn table_state_row(r: &postgres::Row) -> TableState {
    TableState {
        table: r.get(0),
        version: r.get::<_, i64>(1) as u64,
        last_seq: r.get(2),
        layout_hash: r.get(3),
        snapshot_hash: r.get(4),
        full_version: r.get::<_, Option<i64>>(5).map(|v| v as u64),
    }
}

fn tills_in(c: &mut impl GenericClient) -> Result<Vec<TillRow>, StoreError> {
    let rows = c
        .query(
            r#"SELECT s."till_id"::text, s."store"::text, t.issued_at, t.revoked_at, t.last_contact
               FROM "STORE_TILL" s LEFT JOIN tillsync_tills t ON t.till_id = s."till_id"::text
               ORDER BY s."till_id" COLLATE "C""#,
            &[],
        )
        .map_err(|e| StoreError::NoStoreTill(pg_message(&e)))?;
    Ok(rows
        .into_iter()
        .map(|r| TillRow {
            till_id: r.get(0),
            store: r.get(1),
            issued_at: r.get(2),
            revoked_at: r.get(3),
            last_contact: r.get(4),
        })
        .collect())
}

impl ServerStore for PgServerDb {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn engine_version(&self) -> Result<String, StoreError> {
        let v: String = self.c()?.query_one("SHOW server_version", &[])?.get(0);
        Ok(v.split_whitespace().next().unwrap_or("").to_string())
    }
    fn sync_tables(&self) -> Result<Vec<SyncTable>, StoreError> {
        let rows = self.c()?.query(
            "SELECT tbl, direction, sync_type, filter_column FROM tillsync_sync_tables
             ORDER BY tbl COLLATE \"C\", direction COLLATE \"C\"",
            &[],
        )?;
        rows.into_iter()
            .map(|r| {
                let bad = |e: String| StoreError::Inconsistent(e);
                Ok(SyncTable {
                    table: r.get(0),
                    direction: r
                        .get::<_, String>(1)
                        .parse()
                        .map_err(|e| bad(format!("{e}")))?,
                    sync_type: r
                        .get::<_, String>(2)
                        .parse()
                        .map_err(|e| bad(format!("{e}")))?,
                    filter: r.get(3),
                })
            })
            .collect()
    }
    fn add_sync_table_with_policy(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError> {
        let mut tx = self.cm()?.transaction()?;
        let layout = add_sync_table_in(&mut tx, t, policy)?;
        tx.commit()?;
        Ok(layout)
    }
    fn edit_sync_table(
        &mut self,
        t: &SyncTable,
        policy: Option<ConflictPolicy>,
    ) -> Result<Layout, StoreError> {
        if policy.is_some() && t.direction != Direction::Up {
            return Err(StoreError::Invalid(format!(
                "a conflict policy applies to a table that travels up; {} is registered {}",
                t.table, t.direction
            )));
        }
        let mut tx = self.cm()?.transaction()?;
        let old = tx.query_opt(
            "SELECT tbl, sync_type, conflict_policy FROM tillsync_sync_tables
             WHERE lower(tbl) = lower($1) AND direction = $2
             ORDER BY (tbl = $1) DESC LIMIT 1 FOR UPDATE",
            &[&t.table, &t.direction.to_string()],
        )?;
        let (name, old_type, old_policy): (String, String, String) = old
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .ok_or_else(|| StoreError::NotSynced {
                table: t.table.clone(),
                direction: t.direction.to_string(),
            })?;
        let old_incremental = old_type == SyncType::Incremental.to_string();
        tx.execute(
            "DELETE FROM tillsync_sync_tables WHERE tbl = $1 AND direction = $2",
            &[&name, &t.direction.to_string()],
        )?;
        if t.direction == Direction::Down && old_incremental {
            // add_sync_table_in installs the capture again when the table
            // stays incremental; pending changes are kept then.
            remove_capture(&mut tx, &name)?;
            if t.sync_type != SyncType::Incremental {
                tx.execute("DELETE FROM tillsync_changes WHERE tbl = $1", &[&name])?;
            }
        }
        let p = match t.direction {
            Direction::Up => Some(policy.unwrap_or(old_policy.parse()?)),
            Direction::Down => None,
        };
        let layout = add_sync_table_in(
            &mut tx,
            &SyncTable {
                table: name,
                ..t.clone()
            },
            p,
        )?;
        tx.commit()?;
        Ok(layout)
    }
    fn journal_entries(
        &self,
        till: Option<&str>,
        limit: u32,
    ) -> Result<Vec<tillsync_server_db::journal::JournalEntry>, StoreError> {
        let rows = self.c()?.query(
            "SELECT id, at, kind, till, result, detail FROM tillsync_journal
             WHERE $1::TEXT IS NULL OR till = $1 ORDER BY id DESC LIMIT $2",
            &[&till, &i64::from(limit)],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| tillsync_server_db::journal::JournalEntry {
                id: r.get(0),
                at: r.get(1),
                kind: r.get(2),
                till: r.get(3),
                result: r.get(4),
                detail: r.get(5),
            })
            .collect())
    }
    fn remove_sync_table(&mut self, table: &str, direction: Direction) -> Result<(), StoreError> {
        let mut tx = self.cm()?.transaction()?;
        let name: Option<String> = tx
            .query_opt(
                "SELECT tbl FROM tillsync_sync_tables WHERE lower(tbl) = lower($1) AND direction = $2
                 ORDER BY (tbl = $1) DESC LIMIT 1",
                &[&table, &direction.to_string()],
            )?
            .map(|r| r.get(0));
        let name = name.ok_or_else(|| StoreError::NotSynced {
            table: table.into(),
            direction: direction.to_string(),
        })?;
        tx.execute(
            "DELETE FROM tillsync_sync_tables WHERE tbl = $1 AND direction = $2",
            &[&name, &direction.to_string()],
        )?;
        if direction == Direction::Down {
            remove_capture(&mut tx, &name)?;
            tx.execute("DELETE FROM tillsync_changes WHERE tbl = $1", &[&name])?;
        }
        tx.commit()?;
        Ok(())
    }
    fn conflict_policies(&self) -> Result<Vec<(String, Direction, ConflictPolicy)>, StoreError> {
        let rows = self.c()?.query(
            "SELECT tbl, direction, conflict_policy FROM tillsync_sync_tables
             ORDER BY tbl COLLATE \"C\", direction COLLATE \"C\"",
            &[],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.get(0),
                    r.get::<_, String>(1)
                        .parse()
                        .map_err(|e| StoreError::Inconsistent(format!("{e}")))?,
                    r.get::<_, String>(2).parse()?,
                ))
            })
            .collect()
    }
    fn layout(&self, table: &str) -> Result<Layout, StoreError> {
        layout(&mut *self.c()?, table)
    }
    fn table_digest(
        &self,
        table: &str,
        layout: &Layout,
        filter: Option<(&str, &str)>,
    ) -> Result<TableDigest, StoreError> {
        let mut h = Sha256::new();
        let rows = read_full_in(
            &mut *self.c()?,
            table,
            layout,
            None,
            filter,
            &mut |row, _| {
                for v in row {
                    hash_value(&mut h, *v);
                }
                Ok(())
            },
        )?;
        Ok(TableDigest {
            rows,
            sha256: hex::encode(h.finalize()),
        })
    }
    fn till_store(&self, till_id: &str) -> Result<String, StoreError> {
        let r = self.c()?.query_opt(
            r#"SELECT "store"::text FROM "STORE_TILL" WHERE "till_id"::text = $1"#,
            &[&till_id],
        );
        match r {
            Ok(Some(row)) => Ok(row.get(0)),
            Ok(None) => Err(StoreError::UnknownTill(till_id.into())),
            Err(e) if e.as_db_error().is_some() => Err(StoreError::NoStoreTill(pg_message(&e))),
            Err(e) => Err(e.into()),
        }
    }
    fn stores(&self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .c()?
            .query(
                r#"SELECT s FROM (SELECT DISTINCT "store"::text AS s FROM "STORE_TILL"
                                 WHERE "store" IS NOT NULL) x
                   ORDER BY s COLLATE "C""#,
                &[],
            )
            .map_err(|e| StoreError::NoStoreTill(pg_message(&e)))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
    fn table_state(&self, table: &str) -> Result<Option<TableState>, StoreError> {
        Ok(self
            .c()?
            .query_opt(
                "SELECT tbl, version, last_seq, layout_hash, snapshot_hash, full_version
                 FROM tillsync_table_state WHERE tbl = $1",
                &[&table],
            )?
            .as_ref()
            .map(table_state_row))
    }
    fn table_states(&self) -> Result<Vec<TableState>, StoreError> {
        Ok(self
            .c()?
            .query(
                "SELECT tbl, version, last_seq, layout_hash, snapshot_hash, full_version
                 FROM tillsync_table_state ORDER BY tbl COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(table_state_row)
            .collect())
    }
    fn incrementals_since_full(&self, table: &str, full_version: u64) -> Result<u64, StoreError> {
        let n: i64 = self
            .c()?
            .query_one(
                "SELECT COUNT(DISTINCT to_version) FROM tillsync_packages
                 WHERE tbl = $1 AND kind = 'incremental' AND to_version > $2",
                &[&table, &(full_version as i64)],
            )?
            .get(0);
        Ok(n as u64)
    }
    fn published(&self) -> Result<Vec<IndexEntry>, StoreError> {
        let rows = self.c()?.query(
            "SELECT file, tbl, subset, kind, from_version, to_version, layout_hash, size, sha256,
                    upserts, deletes
             FROM tillsync_packages
             ORDER BY tbl COLLATE \"C\", subset COLLATE \"C\" NULLS FIRST, to_version, kind COLLATE \"C\"",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| IndexEntry {
                file: r.get(0),
                table: r.get(1),
                subset: r.get(2),
                kind: if r.get::<_, String>(3) == "full" {
                    PackageKind::Full
                } else {
                    PackageKind::Incremental
                },
                from_version: r.get::<_, i64>(4) as u64,
                to_version: r.get::<_, i64>(5) as u64,
                layout_hash: r.get(6),
                size: r.get::<_, i64>(7) as u64,
                sha256: r.get(8),
                upserts: r.get::<_, i64>(9) as u64,
                deletes: r.get::<_, i64>(10) as u64,
            })
            .collect())
    }
    fn try_lock_export(&mut self) -> Result<bool, StoreError> {
        let locked: bool = self
            .cm()?
            .query_one("SELECT pg_try_advisory_lock($1)", &[&EXPORT_LOCK])?
            .get(0);
        self.export_locked.set(locked);
        Ok(locked)
    }
    fn unlock_export(&mut self) -> Result<(), StoreError> {
        self.cm()?
            .execute("SELECT pg_advisory_unlock($1)", &[&EXPORT_LOCK])?;
        self.export_locked.set(false);
        Ok(())
    }
    fn snapshot(&mut self) -> Result<Box<dyn ExportSnapshot + '_>, StoreError> {
        let mut tx = self
            .cm()?
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()?;
        // The first statement takes the view: from the same sequence as
        // `seq`, so above every change handed out until now.
        let stamp: i64 = tx
            .query_one(
                "SELECT nextval(pg_get_serial_sequence('tillsync_changes', 'seq'))",
                &[],
            )?
            .get(0);
        // Every change this view sees and no export covered yet.
        tx.execute(
            "UPDATE tillsync_changes SET export_seq = $1 WHERE export_seq IS NULL",
            &[&stamp],
        )?;
        Ok(Box::new(PgSnapshot { tx, max_seq: stamp }))
    }
    fn record_export(
        &mut self,
        tables: &[TableExport],
        retention: u32,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.cm()?.transaction()?;
        let now = tillsync_db::now_rfc3339();
        for t in tables {
            let s = &t.state;
            tx.execute(
                "INSERT INTO tillsync_table_state(tbl, version, last_seq, layout_hash, snapshot_hash,
                   full_version, exported_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tbl) DO UPDATE SET version = excluded.version,
                   last_seq = excluded.last_seq, layout_hash = excluded.layout_hash,
                   snapshot_hash = excluded.snapshot_hash, full_version = excluded.full_version,
                   exported_at = excluded.exported_at",
                &[
                    &s.table,
                    &(s.version as i64),
                    &s.last_seq,
                    &s.layout_hash,
                    &s.snapshot_hash,
                    &s.full_version.map(|v| v as i64),
                    &now,
                ],
            )?;
            for p in &t.packages {
                tx.execute(
                    "INSERT INTO tillsync_packages(file, tbl, subset, kind, from_version,
                       to_version, layout_hash, size, sha256, upserts, deletes, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (file) DO UPDATE SET tbl = excluded.tbl, subset = excluded.subset,
                       kind = excluded.kind, from_version = excluded.from_version,
                       to_version = excluded.to_version, layout_hash = excluded.layout_hash,
                       size = excluded.size, sha256 = excluded.sha256, upserts = excluded.upserts,
                       deletes = excluded.deletes, created_at = excluded.created_at",
                    &[
                        &p.file,
                        &p.table,
                        &p.subset,
                        &p.kind.to_string(),
                        &(p.from_version as i64),
                        &(p.to_version as i64),
                        &p.layout_hash,
                        &(p.size as i64),
                        &p.sha256,
                        &(p.upserts as i64),
                        &(p.deletes as i64),
                        &now,
                    ],
                )?;
            }
            // Per-row versions of a table that also travels up (conflict
            // policies need to know what each till could have seen).
            tx.execute(
                "INSERT INTO tillsync_row_versions(tbl, key, version, last_seq, changed_at)
                 SELECT $1, json_build_array(k1, k2, k3, k4)::text, $2, MAX(seq), MAX(at)
                 FROM tillsync_changes
                 WHERE tbl = $1 AND export_seq <= $3
                   AND EXISTS (SELECT 1 FROM tillsync_sync_tables
                               WHERE tbl = $1 AND direction = 'up')
                 GROUP BY k1, k2, k3, k4
                 ON CONFLICT (tbl, key) DO UPDATE SET version = excluded.version,
                   last_seq = excluded.last_seq, changed_at = excluded.changed_at",
                &[&s.table, &(s.version as i64), &s.last_seq],
            )?;
            tx.execute(
                "DELETE FROM tillsync_changes WHERE tbl = $1 AND export_seq <= $2",
                &[&s.table, &s.last_seq],
            )?;
        }
        let mut purge: Vec<String> = tx
            .query(
                "SELECT file FROM (
                   SELECT file, kind, ROW_NUMBER() OVER (
                     PARTITION BY tbl, subset, kind ORDER BY to_version DESC) AS rank
                   FROM tillsync_packages) p
                 WHERE (kind = 'incremental' AND rank > $1) OR (kind = 'full' AND rank > 2)",
                &[&i64::from(retention)],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        purge.extend(
            tx.query(
                "SELECT file FROM tillsync_packages p WHERE NOT EXISTS (
                   SELECT 1 FROM tillsync_sync_tables s WHERE s.tbl = p.tbl AND s.direction = 'down')",
                &[],
            )?
            .into_iter()
            .map(|r| r.get::<_, String>(0)),
        );
        purge.sort();
        purge.dedup();
        for f in &purge {
            tx.execute("DELETE FROM tillsync_packages WHERE file = $1", &[f])?;
        }
        tx.commit()?;
        Ok(purge)
    }
    fn issue_credentials(
        &mut self,
        till_id: &str,
        token_sha256: &str,
        ticket_public_key: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.cm()?.transaction()?;
        let now = tillsync_db::now_rfc3339();
        tx.execute(
            "INSERT INTO tillsync_tills(till_id, token_sha256, issued_at) VALUES ($1, $2, $3)
             ON CONFLICT (till_id) DO UPDATE SET token_sha256 = excluded.token_sha256,
               issued_at = excluded.issued_at, revoked_at = NULL",
            &[&till_id, &token_sha256, &now],
        )?;
        tx.execute(
            "INSERT INTO tillsync_till_keys(till_id, public_key, issued_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&till_id, &ticket_public_key, &now],
        )?;
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES ($1, 'credentials', $2, 'ok', 'credentials issued (deployment package generated)')",
            &[&now, &till_id],
        )?;
        tx.commit()?;
        Ok(())
    }
    fn authenticate(
        &self,
        till_id: &str,
        token_sha256: &str,
    ) -> Result<Result<(), AuthFailure>, StoreError> {
        let row = self.c()?.query_opt(
            "SELECT token_sha256, revoked_at FROM tillsync_tills WHERE till_id = $1",
            &[&till_id],
        )?;
        Ok(match row {
            None => Err(AuthFailure::BadCredentials),
            Some(r) => {
                let stored: String = r.get(0);
                let revoked: Option<String> = r.get(1);
                if !tillsync_core::secret::constant_time_eq(
                    stored.as_bytes(),
                    token_sha256.as_bytes(),
                ) {
                    Err(AuthFailure::BadCredentials)
                } else if revoked.is_some() {
                    Err(AuthFailure::Revoked)
                } else {
                    Ok(())
                }
            }
        })
    }
    fn poll_identity(&self, till_id: &str, token_sha256: &str) -> Result<PollIdentity, StoreError> {
        let call = [(till_id.to_string(), token_sha256.to_string())];
        self.poll_identities(&call)?.pop().unwrap_or_else(|| {
            Err(StoreError::Inconsistent(format!(
                "the credentials check of till {till_id} read no row"
            )))
        })
    }
    fn poll_identities(
        &self,
        calls: &[(String, String)],
    ) -> Result<Vec<Result<PollIdentity, StoreError>>, StoreError> {
        let rows = {
            let mut c = self.c()?;
            match self.prepared(&mut c, POLL_IDENTITIES) {
                Ok(st) => {
                    let ids: Vec<&str> = calls.iter().map(|(till, _)| till.as_str()).collect();
                    Some(c.query(&st, &[&ids])?)
                }
                // No STORE_TILL (or not one that query can read): the
                // calls one by one, which name the problem.
                Err(e) if e.as_db_error().is_some() => None,
                Err(e) => return Err(e.into()),
            }
        };
        let Some(rows) = rows else {
            return Ok(calls
                .iter()
                .map(|(till, token)| {
                    tillsync_server_db::store::poll_identity_by_calls(self, till, token)
                })
                .collect());
        };
        if rows.len() != calls.len() {
            return Err(StoreError::Inconsistent(format!(
                "{} credentials checks read {} rows (is tillsync_catalog_generation empty?)",
                calls.len(),
                rows.len()
            )));
        }
        Ok(calls
            .iter()
            .zip(rows)
            .map(|((till_id, token_sha256), r)| {
                let stored: Option<String> = r.get(0);
                let revoked: Option<String> = r.get(1);
                let store: Option<String> = r.get(2);
                let generation: i64 = r.get(3);
                let auth = match stored {
                    Some(s)
                        if tillsync_core::secret::constant_time_eq(
                            s.as_bytes(),
                            token_sha256.as_bytes(),
                        ) =>
                    {
                        if revoked.is_some() {
                            Err(AuthFailure::Revoked)
                        } else {
                            Ok(())
                        }
                    }
                    _ => Err(AuthFailure::BadCredentials),
                };
                let store = match (&auth, store) {
                    (Ok(()), None) => return Err(StoreError::UnknownTill(till_id.clone())),
                    (Ok(()), store) => store,
                    (Err(_), _) => None,
                };
                Ok(PollIdentity {
                    auth,
                    store,
                    generation: Some(generation),
                })
            })
            .collect())
    }
    fn catalog_generation(&self) -> Result<Option<i64>, StoreError> {
        let mut c = self.c()?;
        let st = self.prepared(
            &mut c,
            "SELECT n FROM tillsync_catalog_generation WHERE id = 1",
        )?;
        Ok(Some(c.query_one(&st, &[])?.get(0)))
    }
    fn touch_till(&self, till_id: &str) -> Result<(), StoreError> {
        self.c()?.execute(
            "UPDATE tillsync_tills SET last_contact = $2 WHERE till_id = $1",
            &[&till_id, &tillsync_db::now_rfc3339()],
        )?;
        Ok(())
    }
    fn revoke_till(&mut self, till_id: &str) -> Result<(), StoreError> {
        let n = self.cm()?.execute(
            "UPDATE tillsync_tills SET revoked_at = $2 WHERE till_id = $1",
            &[&till_id, &tillsync_db::now_rfc3339()],
        )?;
        if n == 0 {
            return Err(StoreError::Inconsistent(format!(
                "till {till_id} has no credentials (no deployment package was generated for it)"
            )));
        }
        self.journal("credentials", Some(till_id), "ok", "till revoked")
    }
    fn till_ticket_keys(&self, till_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .c()?
            .query(
                "SELECT public_key FROM tillsync_till_keys WHERE till_id = $1
                 ORDER BY issued_at DESC",
                &[&till_id],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
    }
    fn tills(&self) -> Result<Vec<TillRow>, StoreError> {
        tills_in(&mut *self.c()?)
    }
    fn journal(
        &self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.c()?.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail) VALUES ($1, $2, $3, $4, $5)",
            &[&tillsync_db::now_rfc3339(), &kind, &till, &result, &detail],
        )?;
        Ok(())
    }
    fn ingest_batch(
        &mut self,
        till_id: &str,
        items: &[BatchItem<'_>],
    ) -> Result<OutboxResponse, StoreError> {
        let mut answers = self.ingest_group(&[(till_id, items)])?;
        Ok(answers.pop().unwrap_or(OutboxResponse { results: vec![] }))
    }
    fn ingest_batches(
        &mut self,
        batches: &[Batch<'_, '_>],
    ) -> Vec<Result<OutboxResponse, StoreError>> {
        match self.ingest_group(batches) {
            Ok(answers) => answers.into_iter().map(Ok).collect(),
            // Rolled back: each batch on its own (one bad batch does not
            // fail the others).
            Err(_) if batches.len() > 1 => batches
                .iter()
                .map(|(till, items)| self.ingest_batch(till, items))
                .collect(),
            Err(e) => vec![Err(e)],
        }
    }
    fn write_bookkeeping(&mut self, writes: &[Bookkeeping]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        // A few set-wise statements for the whole list, however long (the
        // deferred writer passes hundreds of tills at once).
        let now = tillsync_db::now_rfc3339();
        let contacts: Vec<&str> = writes
            .iter()
            .filter(|w| w.contact)
            .map(|w| w.till.as_str())
            .collect();
        let reporting: Vec<&str> = writes
            .iter()
            .filter(|w| w.tables.is_some())
            .map(|w| w.till.as_str())
            .collect();
        // (till, table) once each, the last report winning.
        let mut tables: std::collections::BTreeMap<(&str, &str), &TillTable> = Default::default();
        for w in writes {
            for t in w.tables.iter().flatten() {
                tables.insert((w.till.as_str(), t.table.as_str()), t);
            }
        }
        let mut reports: std::collections::BTreeMap<&str, &tillsync_wire::api::TillReport> =
            Default::default();
        for w in writes {
            if let Some(r) = &w.report {
                reports.insert(w.till.as_str(), r);
            }
        }
        let asked: Vec<(&str, &str)> = writes
            .iter()
            .filter_map(|w| w.asked.as_deref().map(|d| (w.till.as_str(), d)))
            .collect();

        let mut tx = self.cm()?.transaction()?;
        // Committed without waiting for the WAL flush (this transaction only).
        tx.batch_execute("SET LOCAL synchronous_commit = off")?;
        if !contacts.is_empty() {
            tx.execute(
                "UPDATE tillsync_tills SET last_contact = $2 WHERE till_id = ANY($1)",
                &[&contacts, &now],
            )?;
        }
        if !reporting.is_empty() {
            // What a till reports replaces what it said before.
            tx.execute(
                "DELETE FROM tillsync_till_tables WHERE till_id = ANY($1)",
                &[&reporting],
            )?;
            let till: Vec<&str> = tables.keys().map(|k| k.0).collect();
            let tbl: Vec<&str> = tables.keys().map(|k| k.1).collect();
            let version: Vec<Option<i64>> = tables
                .values()
                .map(|t| t.version.and_then(|v| i64::try_from(v).ok()))
                .collect();
            let layout: Vec<Option<&str>> =
                tables.values().map(|t| t.layout_hash.as_deref()).collect();
            tx.execute(
                "INSERT INTO tillsync_till_tables(till_id, tbl, version, layout_hash, reported_at)
                 SELECT u.*, $5 FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[]) AS u",
                &[&till, &tbl, &version, &layout, &now],
            )?;
        }
        if !reports.is_empty() {
            let till: Vec<&str> = reports.keys().copied().collect();
            let values: Vec<_> = reports
                .values()
                .map(|r| tillsync_server_db::reports::report_values(r))
                .collect();
            let tickets: Vec<i64> = values.iter().map(|v| v.0).collect();
            let other: Vec<i64> = values.iter().map(|v| v.1).collect();
            let oldest_at: Vec<Option<&str>> = values.iter().map(|v| v.2.as_deref()).collect();
            let oldest_age: Vec<Option<i64>> = values.iter().map(|v| v.3).collect();
            let errors: Vec<i64> = values.iter().map(|v| v.4).collect();
            let last_error: Vec<Option<&str>> = values.iter().map(|v| v.5.as_deref()).collect();
            tx.execute(
                tillsync_server_db::reports::UPSERT_REPORTS_PG,
                &[
                    &till,
                    &tickets,
                    &other,
                    &oldest_at,
                    &oldest_age,
                    &errors,
                    &last_error,
                    &now,
                ],
            )?;
        }
        if !asked.is_empty() {
            let till: Vec<&str> = asked.iter().map(|a| a.0).collect();
            let detail: Vec<&str> = asked.iter().map(|a| a.1).collect();
            tx.execute(
                "INSERT INTO tillsync_journal(at, kind, till, result, detail)
                 SELECT $1, 'packages-asked', u.till, 'ok', u.detail
                 FROM UNNEST($2::text[], $3::text[]) WITH ORDINALITY AS u(till, detail, i)
                 ORDER BY u.i",
                &[&now, &till, &detail],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
    fn ticket_list(&self, till: Option<&str>) -> Result<Vec<TicketListing>, StoreError> {
        pg_up::tickets::ticket_list(&mut *self.c()?, till)
    }
    fn ticket_state(&self, till: Option<&str>) -> Result<Vec<TillTickets>, StoreError> {
        pg_up::tickets::ticket_state(&mut *self.c()?, till)
    }
    fn till_overview(&self) -> Result<Vec<TillOverview>, StoreError> {
        let mut overview = {
            let mut c = self.c()?;
            let tills = tills_in(&mut *c)?;
            pg_up::tickets::till_overview(&mut *c, tills)?
        };
        let mut reports: std::collections::BTreeMap<
            String,
            tillsync_server_db::reports::OutboxReport,
        > = self
            .till_reports()?
            .into_iter()
            .map(|r| (r.till_id.clone(), r))
            .collect();
        for o in &mut overview {
            o.outbox = reports.remove(&o.till.till_id);
        }
        Ok(overview)
    }
    fn record_till_report(
        &mut self,
        till: &str,
        report: &tillsync_wire::api::TillReport,
    ) -> Result<(), StoreError> {
        self.write_bookkeeping(&[Bookkeeping {
            till: till.to_string(),
            report: Some(report.clone()),
            ..Default::default()
        }])?;
        Ok(())
    }
    fn till_reports(&self) -> Result<Vec<tillsync_server_db::reports::OutboxReport>, StoreError> {
        let rows = self
            .c()?
            .query(tillsync_server_db::reports::SELECT_REPORTS, &[])?;
        Ok(rows
            .into_iter()
            .map(|r| {
                tillsync_server_db::reports::report_from_row(
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                )
            })
            .collect())
    }
    fn record_till_tables(&mut self, till: &str, tables: &[TillTable]) -> Result<(), StoreError> {
        pg_up::tickets::record_till_tables(self.cm()?, till, tables)
    }
    fn till_tables(&self) -> Result<Vec<ReportedTable>, StoreError> {
        pg_up::tickets::till_tables(&mut *self.c()?)
    }
    fn create_customer(
        &mut self,
        till_id: &str,
        store: &str,
        template: &str,
        req: &CustomerCreate,
    ) -> Result<CustomerRecord, StoreError> {
        pg_up::customers::create_customer(self.cm()?, till_id, store, template, req)
    }
    fn customer_origin(&self, code: &str) -> Result<Option<CustomerOrigin>, StoreError> {
        Ok(self
            .c()?
            .query_opt(
                "SELECT code, till_id, created_at, abandoned_at FROM tillsync_customer_origin
                 WHERE code = $1",
                &[&code],
            )?
            .map(|r| CustomerOrigin {
                code: r.get(0),
                till_id: r.get(1),
                created_at: r.get(2),
                abandoned_at: r.get(3),
            }))
    }
    fn conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        let rows = self.c()?.query(
            "SELECT id, tbl, key, till_id, server_value, till_value, winner, at
             FROM tillsync_conflicts ORDER BY id",
            &[],
        )?;
        rows.into_iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let parse = |s: &str| {
                    serde_json::from_str(s)
                        .map_err(|e| StoreError::Inconsistent(format!("conflict {id}: {e}")))
                };
                let server: Option<String> = r.get(4);
                let till: String = r.get(5);
                Ok(ConflictRecord {
                    id,
                    table: r.get(1),
                    key: r.get(2),
                    till_id: r.get(3),
                    server_value: server.as_deref().map(parse).transpose()?,
                    till_value: parse(&till)?,
                    winner: r.get(6),
                    at: r.get(7),
                })
            })
            .collect()
    }
    fn up_table_layouts(&self) -> Result<Vec<(String, Layout)>, StoreError> {
        let mut out = Vec::new();
        for t in self.sync_tables()? {
            if t.direction == Direction::Up {
                match layout(&mut *self.c()?, &t.table) {
                    Ok(l) => out.push((t.table, l)),
                    Err(StoreError::NoSuchTable(_) | StoreError::NoPrimaryKey(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }
    fn create_demo_tables(&mut self, items: usize, seed: u64) -> Result<DemoCounts, StoreError> {
        // The same rows as on SQLite: made there (in memory), then copied
        // in one transaction with the columns' types and defaults.
        let lite = rusqlite::Connection::open_in_memory()?;
        let counts = tillsync_db::demo::create_demo_tables(&lite, items, seed)?;
        let mut tx = self.cm()?.transaction()?;
        for table in ["ART", "CLI", "T012", "STORE_TILL"] {
            copy_table(&lite, &mut tx, table)?;
        }
        tx.commit()?;
        Ok(counts)
    }
    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.cm()?.batch_execute(sql)?;
        Ok(())
    }
    fn query_rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        // The text protocol: every value as PostgreSQL writes it (numbers
        // of any type in decimal; a boolean as `t` or `f`).
        let mut out = Vec::new();
        for m in self.cm()?.simple_query(sql)? {
            if let postgres::SimpleQueryMessage::Row(r) = m {
                out.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
            }
        }
        Ok(out)
    }
}

/// Copy a SQLite table (schema and rows) into PostgreSQL: `INTEGER` becomes
/// `BIGINT`, `REAL` `DOUBLE PRECISION`, `BLOB` `BYTEA`, anything else `TEXT`.
fn copy_table(
    lite: &rusqlite::Connection,
    tx: &mut Transaction<'_>,
    table: &str,
) -> Result<(), StoreError> {
    let l = tillsync_db::introspect::layout(lite, table)?;
    let mut defaults = std::collections::HashMap::new();
    {
        let mut stmt = lite.prepare("SELECT name, dflt_value FROM pragma_table_info(?1)")?;
        let mut rows = stmt.query([table])?;
        while let Some(r) = rows.next()? {
            if let Some(d) = r.get::<_, Option<String>>(1)? {
                defaults.insert(r.get::<_, String>(0)?, d);
            }
        }
    }
    let pg_type = |decl: &str| {
        let d = decl.to_ascii_uppercase();
        if d.contains("INT") {
            "BIGINT"
        } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
            "DOUBLE PRECISION"
        } else if d.contains("BLOB") {
            "BYTEA"
        } else {
            "TEXT"
        }
    };
    let cols = l
        .columns
        .iter()
        .map(|c| {
            let mut s = format!("{} {}", q(&c.name), pg_type(&c.decl_type));
            if c.not_null {
                s.push_str(" NOT NULL");
            }
            if let Some(d) = defaults.get(&c.name)
                && (d.parse::<f64>().is_ok() || d.starts_with('\''))
            {
                s.push_str(&format!(" DEFAULT {d}"));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ");
    tx.batch_execute(&format!(
        "CREATE TABLE {}({cols}, PRIMARY KEY ({}))",
        q(table),
        tillsync_db::sql::q_list(l.key.iter().map(String::as_str))
    ))?;
    let names = tillsync_db::sql::q_list(l.columns.iter().map(|c| c.name.as_str()));
    let params = (1..=l.columns.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = tx.prepare(&format!(
        "INSERT INTO {}({names}) VALUES ({params})",
        q(table)
    ))?;
    let mut stmt = lite.prepare(&format!("SELECT {names} FROM {}", q(table)))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let mut vals: Vec<Box<dyn postgres::types::ToSql + Sync>> = Vec::new();
        for (i, c) in l.columns.iter().enumerate() {
            let v: rusqlite::types::Value = r.get(i)?;
            vals.push(match (pg_type(&c.decl_type), v) {
                (_, rusqlite::types::Value::Null) => match pg_type(&c.decl_type) {
                    "BIGINT" => Box::new(None::<i64>),
                    "DOUBLE PRECISION" => Box::new(None::<f64>),
                    "BYTEA" => Box::new(None::<Vec<u8>>),
                    _ => Box::new(None::<String>),
                },
                ("BIGINT", rusqlite::types::Value::Integer(i)) => Box::new(i),
                ("DOUBLE PRECISION", rusqlite::types::Value::Real(f)) => Box::new(f),
                ("DOUBLE PRECISION", rusqlite::types::Value::Integer(i)) => Box::new(i as f64),
                (_, rusqlite::types::Value::Text(s)) => Box::new(s),
                (_, rusqlite::types::Value::Blob(b)) => Box::new(b),
                (_, other) => Box::new(format!("{other:?}")),
            });
        }
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            vals.iter().map(|b| b.as_ref()).collect();
        tx.execute(&insert, &refs)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::{Arc, Barrier};
    use tillsync_core::ticket::Ticket;

    pub use crate::testdb::TestDb as FreshDb;

    use super::url_with_database as with_db;

    fn art() -> SyncTable {
        SyncTable {
            table: "ART".into(),
            sync_type: SyncType::Incremental,
            direction: Direction::Down,
            filter: None,
        }
    }

    /// One export of `ART`'s changes: the keys it carries (true: present).
    fn export_once(db: &mut PgServerDb) -> Vec<(String, bool)> {
        let last = db
            .table_state("ART")
            .unwrap()
            .map(|s| s.last_seq)
            .unwrap_or(0);
        let mut snap = db.snapshot().unwrap();
        let max = snap.max_seq();
        let layout = snap.layout("ART").unwrap();
        let mut keys = Vec::new();
        snap.read_changes("ART", &layout, None, last, max, &mut |c| {
            let ValueRef::Text(k) = c.key[0] else {
                panic!("text key")
            };
            keys.push((k.to_string(), c.row.is_some()));
            Ok(())
        })
        .unwrap();
        snap.finish().unwrap();
        let v = db
            .table_state("ART")
            .unwrap()
            .map(|s| s.version)
            .unwrap_or(0)
            + 1;
        db.record_export(
            &[TableExport {
                state: TableState {
                    table: "ART".into(),
                    version: v,
                    last_seq: max,
                    layout_hash: layout.hash(),
                    snapshot_hash: None,
                    full_version: Some(1),
                },
                packages: vec![],
            }],
            10,
        )
        .unwrap();
        keys
    }

    fn setup(url: &str) -> PgServerDb {
        let mut db = PgServerDb::open(url).unwrap();
        db.execute_batch(
            r#"CREATE TABLE "ART"(code TEXT PRIMARY KEY, label TEXT NOT NULL, price BIGINT);
               CREATE TABLE "NOKEY"(x TEXT);"#,
        )
        .unwrap();
        db.add_sync_table(&art()).unwrap();
        db
    }

    /// The schema of a database made before the two backends shared one
    /// numbering of their steps, at its own step `old` (1 to 4): the same
    /// tables, and `schema_version` counted the old way, no
    /// `schema_numbering` row.
    fn old_numbered(url: &str, old: usize) {
        let mut c = connect(url).unwrap();
        c.batch_execute("CREATE TABLE tillsync_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .unwrap();
        for m in &MIGRATIONS[..OLD_STEPS[old]] {
            c.batch_execute(m).unwrap();
        }
        c.execute(
            "INSERT INTO tillsync_meta(key, value) VALUES ('schema_version', $1)",
            &[&old.to_string()],
        )
        .unwrap();
    }

    fn meta(url: &str, key: &str) -> Option<String> {
        connect(url)
            .unwrap()
            .query_opt("SELECT value FROM tillsync_meta WHERE key = $1", &[&key])
            .unwrap()
            .map(|r| r.get(0))
    }

    /// A database at each step of the former PostgreSQL numbering opens,
    /// takes the steps it lacks (none twice: a step run again would fail on
    /// its `CREATE TABLE`) and then counts as SQLite does.
    #[test]
    fn databases_of_the_former_numbering_upgrade_to_the_common_one() {
        for old in 1..=4 {
            let Some(fresh) = FreshDb::from_env() else {
                return;
            };
            old_numbered(&fresh.url, old);
            let db =
                PgServerDb::open(&fresh.url).unwrap_or_else(|e| panic!("former step {old}: {e}"));
            drop(db);
            assert_eq!(meta(&fresh.url, "schema_version").as_deref(), Some("6"));
            assert_eq!(
                meta(&fresh.url, "schema_numbering").as_deref(),
                Some("common")
            );
            // Opened again: nothing to do.
            let db = PgServerDb::open(&fresh.url).unwrap();
            assert!(db.catalog_generation().unwrap().is_some());
            assert!(db.sync_tables().unwrap().is_empty());
        }
    }

    #[test]
    fn an_unknown_numbering_or_a_newer_step_is_refused() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        drop(PgServerDb::open(&fresh.url).unwrap());
        let mut c = connect(&fresh.url).unwrap();
        c.execute(
            "UPDATE tillsync_meta SET value = '7' WHERE key = 'schema_version'",
            &[],
        )
        .unwrap();
        let e = PgServerDb::open(&fresh.url)
            .err()
            .expect("a newer schema is refused");
        assert!(e.to_string().contains("newer than this tillsync"), "{e}");
        c.execute(
            "UPDATE tillsync_meta SET value = 'roman' WHERE key = 'schema_numbering'",
            &[],
        )
        .unwrap();
        let e = PgServerDb::open(&fresh.url)
            .err()
            .expect("an unknown numbering is refused");
        assert!(e.to_string().contains("unknown to this tillsync"), "{e}");
    }

    #[test]
    fn introspects_and_captures_any_writer_including_key_changes() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        let l = db.layout("art").unwrap();
        assert_eq!(l.key, ["code"]);
        assert_eq!(l.columns[2].decl_type, "bigint");
        assert!(l.columns[1].not_null);
        assert!(matches!(
            db.add_sync_table(&SyncTable {
                table: "NOKEY".into(),
                ..art()
            }),
            Err(StoreError::NoPrimaryKey(_))
        ));
        assert!(matches!(
            db.add_sync_table(&art()),
            Err(StoreError::AlreadySynced { .. })
        ));
        // psql, the ERP: another connection.
        let mut erp = connect(&fresh.url).unwrap();
        erp.batch_execute(
            r#"INSERT INTO "ART" VALUES ('A', 'a', 1), ('B', 'b', 2), ('C', 'c', 3);
               UPDATE "ART" SET code = 'B2' WHERE code = 'B';
               DELETE FROM "ART" WHERE code = 'C';
               UPDATE "ART" SET price = 9 WHERE code = 'A';"#,
        )
        .unwrap();
        let mut got = export_once(&mut db);
        got.sort();
        let want: Vec<(String, bool)> = [("A", true), ("B", false), ("B2", true), ("C", false)]
            .iter()
            .map(|(k, p)| (k.to_string(), *p))
            .collect();
        assert_eq!(got, want);
        assert!(export_once(&mut db).is_empty(), "nothing twice");
        db.remove_sync_table("art", Direction::Down).unwrap();
        erp.batch_execute(r#"INSERT INTO "ART" VALUES ('Z', 'z', 1)"#)
            .unwrap();
        let n: i64 = erp
            .query_one("SELECT COUNT(*) FROM tillsync_changes", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "no capture after removal");
    }

    /// Part 2 of the issue: sequence values are not handed out in commit
    /// order; a change committed late with a lower sequence is not skipped.
    #[test]
    fn no_change_lost_when_commits_come_out_of_sequence_order() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        // A writer takes a low sequence and holds its transaction open.
        let mut held = connect(&fresh.url).unwrap();
        let mut tx = held.transaction().unwrap();
        tx.batch_execute(r#"INSERT INTO "ART" VALUES ('HELD', 'h', 1)"#)
            .unwrap();
        // Others take higher sequences and commit.
        let mut erp = connect(&fresh.url).unwrap();
        for i in 0..5 {
            erp.execute(
                r#"INSERT INTO "ART" VALUES ($1, 'x', 1)"#,
                &[&format!("K{i}")],
            )
            .unwrap();
        }
        let first = export_once(&mut db);
        assert_eq!(first.len(), 5, "{first:?}");
        assert!(!first.iter().any(|(k, _)| k == "HELD"));
        tx.commit().unwrap();
        assert_eq!(export_once(&mut db), [("HELD".to_string(), true)]);
        assert!(export_once(&mut db).is_empty());
    }

    /// Many concurrent writers, some holding their transaction open across
    /// exports: every change reaches an export, once.
    #[test]
    fn concurrent_writers_and_exports_every_change_once() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        const WRITERS: usize = 8;
        const ROWS: usize = 40;
        let start = Arc::new(Barrier::new(WRITERS + 1));
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let url = fresh.url.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    let mut c = connect(&url).unwrap();
                    start.wait();
                    for i in 0..ROWS {
                        let mut tx = c.transaction().unwrap();
                        tx.execute(
                            r#"INSERT INTO "ART" VALUES ($1, 'x', 1)"#,
                            &[&format!("W{w}-{i}")],
                        )
                        .unwrap();
                        // Every third transaction of odd writers stays
                        // open a while: across one or more exports.
                        if w % 2 == 1 && i % 3 == 0 {
                            std::thread::sleep(Duration::from_millis(30));
                        }
                        tx.commit().unwrap();
                    }
                })
            })
            .collect();
        start.wait();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut exports = 0;
        while handles.iter().any(|h| !h.is_finished()) {
            for (k, present) in export_once(&mut db) {
                assert!(present);
                *seen.entry(k).or_default() += 1;
            }
            exports += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        for h in handles {
            h.join().unwrap();
        }
        for (k, _) in export_once(&mut db) {
            *seen.entry(k).or_default() += 1;
        }
        assert!(exports > 2, "the exports ran during the writes");
        assert_eq!(seen.len(), WRITERS * ROWS, "every change exported");
        assert!(seen.values().all(|&n| n == 1), "each exactly once");
    }

    #[test]
    fn one_export_lock_across_connections() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut a = PgServerDb::open(&fresh.url).unwrap();
        let mut b = PgServerDb::open(&fresh.url).unwrap();
        assert!(a.try_lock_export().unwrap());
        assert!(!b.try_lock_export().unwrap(), "held by the other process");
        a.unlock_export().unwrap();
        assert!(b.try_lock_export().unwrap());
        drop(b); // the connection ends: the lock goes with it (once the
        // server has seen the connection close)
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !a.try_lock_export().unwrap() {
            assert!(std::time::Instant::now() < deadline, "lock not released");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// PostgreSQL restarted: the store reconnects at the next call, except
    /// while it holds the export lock (a new connection would not hold it).
    #[test]
    fn reconnects_after_the_connection_ends_but_not_inside_an_export() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = setup(&fresh.url);
        let mut admin = connect(&fresh.url).unwrap();
        let end_others = |admin: &mut Client| {
            admin
                .batch_execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .unwrap();
            // The backends end right after the signal.
            std::thread::sleep(Duration::from_millis(200));
        };
        end_others(&mut admin);
        // The call that meets the ended connection fails; the next reconnects.
        assert!(db.sync_tables().is_err());
        assert_eq!(db.sync_tables().unwrap().len(), 1);
        assert!(db.try_lock_export().unwrap());
        end_others(&mut admin);
        let _ = db.table_state("ART");
        let e = db.snapshot().err().expect("no export without its lock");
        assert!(e.to_string().contains("run the export again"), "{e}");
        // The next export takes the lock again on a new connection.
        assert!(db.try_lock_export().unwrap());
        assert!(db.snapshot().is_ok());
    }

    #[test]
    fn connection_problems_are_named() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let cfg: Config = fresh.url.parse().unwrap();
        let (at, user, _) = describe(&cfg);
        // Missing database.
        let e = PgServerDb::open(&with_db(&fresh.url, "no_such_db_here"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("database \"no_such_db_here\" does not exist"),
            "{e}"
        );
        // Wrong password (the test cluster checks passwords).
        let host_part = at.clone();
        let bad = format!("postgres://{user}:wrong-password@{host_part}/postgres");
        let e = PgServerDb::open(&bad).err().unwrap().to_string();
        assert!(
            e.contains(&format!(
                "password authentication failed for user \"{user}\""
            )),
            "{e}"
        );
        assert!(!e.contains("wrong-password"), "no secret in messages: {e}");
        // Nobody listening.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let e = PgServerDb::open(&format!("postgres://{user}:x@127.0.0.1:{port}/postgres"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(&format!("connection refused at 127.0.0.1:{port}")),
            "{e}"
        );
    }

    /// The catalog generation moves with the sync tables and the published
    /// packages, at their commit, and not with the polling path's own
    /// writes; `poll_identity` answers as `authenticate` and `till_store`.
    #[test]
    fn catalog_generation_follows_sync_tables_and_packages_at_commit() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = PgServerDb::open(&fresh.url).unwrap();
        db.create_demo_tables(20, 3).unwrap();
        let g = |db: &PgServerDb| db.catalog_generation().unwrap().unwrap();
        let g0 = g(&db);
        db.add_sync_table(&art()).unwrap();
        let g1 = g(&db);
        assert!(g1 > g0);
        // A publish held open elsewhere is not seen until it commits.
        let mut other = connect(&fresh.url).unwrap();
        let mut tx = other.transaction().unwrap();
        tx.batch_execute(
            "INSERT INTO tillsync_packages(file, tbl, subset, kind, from_version, to_version,
               layout_hash, size, sha256, upserts, deletes, created_at)
             VALUES ('ART-1.pkg', 'ART', NULL, 'full', 0, 1, 'h', 1, 's', 1, 0, 'now')",
        )
        .unwrap();
        assert_eq!(g(&db), g1, "uncommitted");
        tx.commit().unwrap();
        let g2 = g(&db);
        assert!(g2 > g1);
        // Credentials, contacts and bookkeeping leave it alone.
        let till = db.tills().unwrap()[0].till_id.clone();
        db.issue_credentials(&till, "sha", "key").unwrap();
        db.write_bookkeeping(&[Bookkeeping {
            till: till.clone(),
            contact: true,
            asked: Some("up to date".into()),
            ..Default::default()
        }])
        .unwrap();
        assert_eq!(g(&db), g2);

        let who = db.poll_identity(&till, "sha").unwrap();
        let store = db.till_store(&till).unwrap();
        assert_eq!(
            who,
            PollIdentity {
                auth: Ok(()),
                store: Some(store),
                generation: Some(g2),
            }
        );
        let bad = db.poll_identity(&till, "other").unwrap();
        assert_eq!(bad.auth, Err(AuthFailure::BadCredentials));
        assert_eq!(bad.store, None);
        let unknown = db.poll_identity("NOPE", "sha").unwrap();
        assert_eq!(unknown.auth, Err(AuthFailure::BadCredentials));
        db.revoke_till(&till).unwrap();
        assert_eq!(
            db.poll_identity(&till, "sha").unwrap().auth,
            Err(AuthFailure::Revoked)
        );
        // Credentials for a till that STORE_TILL does not list.
        db.issue_credentials("GHOST", "sha", "key").unwrap();
        assert!(matches!(
            db.poll_identity("GHOST", "sha"),
            Err(StoreError::UnknownTill(t)) if t == "GHOST"
        ));

        // In one statement, each call answered as alone, in order, a
        // missing store failing only its own call.
        let other = db.tills().unwrap()[1].till_id.clone();
        db.issue_credentials(&other, "sha2", "key").unwrap();
        let calls: Vec<(String, String)> = [
            (other.as_str(), "sha2"),
            (till.as_str(), "sha"),
            ("GHOST", "sha"),
            ("NOPE", "sha"),
            (other.as_str(), "wrong"),
            (other.as_str(), "sha2"),
        ]
        .iter()
        .map(|(t, s)| (t.to_string(), s.to_string()))
        .collect();
        let together = db.poll_identities(&calls).unwrap();
        assert_eq!(together.len(), calls.len());
        for ((t, s), got) in calls.iter().zip(&together) {
            let alone = db.poll_identity(t, s);
            assert_eq!(format!("{got:?}"), format!("{alone:?}"), "{t} {s}");
        }
        assert_eq!(together[0].as_ref().unwrap().auth, Ok(()));
        assert!(matches!(&together[2], Err(StoreError::UnknownTill(t)) if t == "GHOST"));
        assert!(db.poll_identities(&[]).unwrap().is_empty());
    }

    /// The tickets numbered `from..=to` of the test chain, made `till`'s,
    /// with their idempotency keys.
    fn tickets_of(till: &str, chain: &[Ticket], from: u64, to: u64) -> Vec<(String, Ticket)> {
        chain[from as usize - 1..to as usize]
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.till = till.to_string();
                (format!("ticket:{}", t.number), t)
            })
            .collect()
    }

    /// Set-wise filing (`pg_up::fast`) and item-by-item filing give the same
    /// answers and the same rows as SQLite, for groups mixing batches that
    /// qualify and batches that do not: a resend, a till twice in a group,
    /// a gap then the ticket that closes it, a wrong link to the genesis, a
    /// failed signature check.
    #[test]
    fn grouped_batches_are_answered_and_stored_as_on_sqlite() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut lite =
            tillsync_server_sqlite::ServerDb::open(&dir.path().join("server.db")).unwrap();
        let mut pg = PgServerDb::open(&fresh.url).unwrap();
        let chain = pg_up::tickets::tests::chain(8);
        let mut broken = tickets_of("T004", &chain, 1, 2);
        broken[0].1.prev_hash = "f".repeat(64);
        // Per batch: the till, its tickets with their keys, the number
        // whose check fails.
        type Group<'a> = Vec<(&'a str, Vec<(String, Ticket)>, Option<u64>)>;
        let groups: Vec<Group<'_>> = vec![
            vec![
                ("T001", tickets_of("T001", &chain, 1, 3), None),
                ("T002", tickets_of("T002", &chain, 1, 2), None),
                ("T003", tickets_of("T003", &chain, 2, 3), None),
                ("T004", broken.clone(), None),
            ],
            vec![
                ("T001", tickets_of("T001", &chain, 3, 5), None),
                ("T002", tickets_of("T002", &chain, 3, 3), None),
                ("T002", tickets_of("T002", &chain, 3, 4), None),
                ("T003", tickets_of("T003", &chain, 1, 1), None),
                ("T004", broken, None),
            ],
            vec![
                ("T001", tickets_of("T001", &chain, 6, 7), Some(7)),
                ("T003", tickets_of("T003", &chain, 4, 6), None),
                ("T005", vec![], None),
            ],
        ];
        for (g, group) in groups.iter().enumerate() {
            let payloads: Vec<Vec<String>> = group
                .iter()
                .map(|(_, ts, _)| {
                    ts.iter()
                        .map(|(_, t)| serde_json::to_string(t).unwrap())
                        .collect()
                })
                .collect();
            let items: Vec<Vec<BatchItem<'_>>> = group
                .iter()
                .zip(&payloads)
                .map(|((_, ts, bad), ps)| {
                    ts.iter()
                        .zip(ps)
                        .map(|((key, t), p)| BatchItem::Ticket {
                            key,
                            ticket: t,
                            payload: p,
                            check: if Some(t.number) == *bad {
                                Err(format!("ticket {}: bad signature", t.number))
                            } else {
                                Ok(())
                            },
                        })
                        .collect()
                })
                .collect();
            let batches: Vec<Batch<'_, '_>> = group
                .iter()
                .zip(&items)
                .map(|((till, _, _), items)| (*till, items.as_slice()))
                .collect();
            let answer = |db: &mut dyn ServerStore| -> Vec<Vec<(String, String, Option<String>)>> {
                db.ingest_batches(&batches)
                    .into_iter()
                    .map(|r| {
                        r.unwrap()
                            .results
                            .into_iter()
                            .map(|i| (i.key, format!("{:?}", i.status), i.reason))
                            .collect()
                    })
                    .collect()
            };
            assert_eq!(answer(&mut pg), answer(&mut lite), "group {g}");
        }
        let rows = |db: &mut dyn ServerStore, sql: &str| -> Vec<String> {
            let mut v: Vec<String> = db
                .query_rows(sql)
                .unwrap()
                .into_iter()
                .map(|r| format!("{r:?}"))
                .collect();
            v.sort();
            v
        };
        for sql in [
            r#"SELECT "till_id", "number", "hash", "prev_hash", "total_cents" FROM "TICKET""#,
            r#"SELECT "till_id", "number", "line_no", "item", "quantity" FROM "TICKET_LINE""#,
            r#"SELECT "till_id", "number", "seq", "method" FROM "TICKET_PAYMENT""#,
            r#"SELECT "till_id", "number", "rate_bp", "vat_cents" FROM "TICKET_VAT""#,
            "SELECT till_id, number, item_key, reason FROM tillsync_ticket_quarantine",
            "SELECT till_id, key, status, reason, fingerprint FROM tillsync_received",
            "SELECT till_id, number, prev_hash FROM tillsync_ticket_link_pending",
            "SELECT till, result, detail FROM tillsync_journal WHERE kind = 'push'",
        ] {
            let (p, l) = (rows(&mut pg, sql), rows(&mut lite, sql));
            assert!(!l.is_empty() || sql.contains("pending"), "{sql}: no rows");
            assert_eq!(p, l, "{sql}");
        }
    }

    #[test]
    fn digest_matches_sqlite_for_the_same_rows() {
        let Some(fresh) = FreshDb::from_env() else {
            return;
        };
        let mut db = PgServerDb::open(&fresh.url).unwrap();
        db.create_demo_tables(50, 7).unwrap();
        let lite = rusqlite::Connection::open_in_memory().unwrap();
        tillsync_db::demo::create_demo_tables(&lite, 50, 7).unwrap();
        for t in ["ART", "CLI", "T012", "STORE_TILL"] {
            let pl = db.layout(t).unwrap();
            let ll = tillsync_db::introspect::layout(&lite, t).unwrap();
            assert_eq!(pl.key, ll.key);
            let pd = db.table_digest(t, &pl, None).unwrap();
            let ld = tillsync_db::digest::table_digest(&lite, t, &ll, None).unwrap();
            assert_eq!(pd, ld, "{t}");
        }
        let pl = db.layout("CLI").unwrap();
        let ll = tillsync_db::introspect::layout(&lite, "CLI").unwrap();
        let store = db.stores().unwrap()[0].clone();
        assert_eq!(
            db.table_digest("CLI", &pl, Some(("store", &store)))
                .unwrap(),
            tillsync_db::digest::table_digest(&lite, "CLI", &ll, Some(("store", &store))).unwrap()
        );
    }
}
