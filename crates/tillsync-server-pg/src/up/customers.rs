//! Customers and up-direction tables on PostgreSQL: customers created from
//! tills (copied from the template customer, codes allocated under a locked
//! counter row), customer edits and abandons with the conflict policy and
//! its audit, rows of up-direction sync tables, and the per-row export
//! versions. The rules and answers of [`crate::server_customers`].
//!
//! Rows travel between PostgreSQL and JSON through `to_jsonb(row)` and
//! `jsonb_populate_record(NULL::table, json)`, so every column keeps its
//! own type. A row key is written like the change log's keys:
//! `json_build_array(k1, k2, k3, k4)::text` of the key values as text.

use postgres::{GenericClient, Transaction};
use serde_json::Value as Json;
use tillsync_core::Direction;
use tillsync_wire::api::{
    CustomerAbandon, CustomerCreate, CustomerEdit, CustomerRecord, RowChange,
};
use tillsync_wire::layout::{Column, Layout};

use super::is_data_error;
use tillsync_db::StoreError;
use tillsync_db::sql::json_to_sql;
use tillsync_db::sql::q;
use tillsync_db::sql::q_list;
use tillsync_db::tables::CUSTOMER_TABLE;
use tillsync_db::tables::NAME_COLUMN;
use tillsync_server_db::customers::ConflictPolicy;
use tillsync_server_db::customers::ConflictRecord;
use tillsync_server_db::customers::CustomerOrigin;
use tillsync_server_db::customers::UpOutcome;

/// The real name of `table` in the current schema (an exact match first,
/// else the one that matches ignoring case), if it is a table.
pub fn table_name(
    client: &mut impl GenericClient,
    table: &str,
) -> Result<Option<String>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               AND lower(table_name) = lower($1)
             ORDER BY table_name = $1 DESC, table_name LIMIT 1",
            &[&table],
        )?
        .map(|r| r.get(0)))
}

/// The layout of `table`: its columns in order (type as PostgreSQL spells
/// it) and its primary key.
pub fn layout(client: &mut impl GenericClient, table: &str) -> Result<Layout, StoreError> {
    let name = table_name(client, table)?.ok_or_else(|| StoreError::NoSuchTable(table.into()))?;
    let qualified = q(&name);
    let columns: Vec<Column> = client
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod), attnotnull
             FROM pg_attribute WHERE attrelid = $1::text::regclass AND attnum > 0
               AND NOT attisdropped ORDER BY attnum",
            &[&qualified],
        )?
        .into_iter()
        .map(|r| Column {
            name: r.get(0),
            decl_type: r.get(1),
            not_null: r.get(2),
        })
        .collect();
    let key: Vec<String> = client
        .query(
            "SELECT a.attname::text FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary ORDER BY k.ord",
            &[&qualified],
        )?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    if key.is_empty() {
        return Err(StoreError::NoPrimaryKey(name));
    }
    Ok(Layout { columns, key })
}

/// The conflict policy of every sync table: `(table, direction, policy)`.
pub fn conflict_policies(
    client: &mut impl GenericClient,
) -> Result<Vec<(String, Direction, ConflictPolicy)>, StoreError> {
    let mut out = Vec::new();
    for r in client.query(
        r#"SELECT tbl, direction, conflict_policy FROM tillsync_sync_tables
           ORDER BY tbl COLLATE "C", direction COLLATE "C""#,
        &[],
    )? {
        let (t, d, p): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        out.push((
            t,
            d.parse()
                .map_err(|e| StoreError::Inconsistent(format!("{e}")))?,
            p.parse()?,
        ));
    }
    Ok(out)
}

/// Every table registered up with its layout on the server (a table
/// dropped or without a key since it was registered is left out).
pub fn up_table_layouts(
    client: &mut impl GenericClient,
) -> Result<Vec<(String, Layout)>, StoreError> {
    let tables: Vec<String> = client
        .query(
            r#"SELECT tbl FROM tillsync_sync_tables WHERE direction = 'up' ORDER BY tbl COLLATE "C""#,
            &[],
        )?
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::new();
    for t in tables {
        match layout(client, &t) {
            Ok(l) => out.push((t, l)),
            Err(StoreError::NoSuchTable(_) | StoreError::NoPrimaryKey(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The conflict audit, oldest first.
pub fn conflicts(client: &mut impl GenericClient) -> Result<Vec<ConflictRecord>, StoreError> {
    let mut out = Vec::new();
    for r in client.query(
        "SELECT id, tbl, key, till_id, server_value, till_value, winner, at
         FROM tillsync_conflicts ORDER BY id",
        &[],
    )? {
        let id: i64 = r.get(0);
        let parse = |s: &str| {
            serde_json::from_str(s)
                .map_err(|e| StoreError::Inconsistent(format!("conflict {id}: {e}")))
        };
        out.push(ConflictRecord {
            id,
            table: r.get(1),
            key: r.get(2),
            till_id: r.get(3),
            server_value: r.get::<_, Option<&str>>(4).map(parse).transpose()?,
            till_value: parse(r.get(5))?,
            winner: r.get(6),
            at: r.get(7),
        });
    }
    Ok(out)
}

/// Who created customer `code` at a till, if a till did.
pub fn customer_origin(
    client: &mut impl GenericClient,
    code: &str,
) -> Result<Option<CustomerOrigin>, StoreError> {
    Ok(client
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

/// `CLI`'s real name, layout and (single) key column.
fn customer_layout(
    client: &mut impl GenericClient,
) -> Result<(String, Layout, String), StoreError> {
    let table = table_name(client, CUSTOMER_TABLE)?
        .ok_or_else(|| StoreError::NoSuchTable(CUSTOMER_TABLE.into()))?;
    let layout = layout(client, &table)?;
    if layout.key.len() != 1 {
        return Err(StoreError::Inconsistent(format!(
            "table {table} must have a one-column primary key (the customer code)"
        )));
    }
    let key = layout.key[0].clone();
    Ok((table, layout, key))
}

/// The real name of column `name` of `layout` (case-insensitive).
fn find_column<'a>(layout: &'a Layout, name: &str) -> Option<&'a Column> {
    layout
        .columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// A field value as given by a till, checked (scalars only) and made fit
/// for `col`: true/false become 1/0 unless the column is a boolean (as
/// SQLite stores them).
fn field_value(col: &Column, v: &Json) -> Result<Json, String> {
    json_to_sql(v)?;
    Ok(match v {
        Json::Bool(b) if col.decl_type != "boolean" => Json::from(i64::from(*b)),
        other => other.clone(),
    })
}

/// The row of `table` whose key column `key_col` is `key` (compared as
/// text), as a JSON object; with `lock`, locked until the transaction ends.
fn read_row(
    client: &mut impl GenericClient,
    table: &str,
    key_col: &str,
    key: &str,
    lock: bool,
) -> Result<Option<serde_json::Map<String, Json>>, StoreError> {
    let sql = format!(
        "SELECT to_jsonb(t)::text FROM {} AS t WHERE t.{}::text = $1{}",
        q(table),
        q(key_col),
        if lock { " FOR UPDATE" } else { "" }
    );
    client
        .query_opt(&sql, &[&key])?
        .map(|r| {
            serde_json::from_str(r.get::<_, &str>(0))
                .map_err(|e| StoreError::Inconsistent(format!("row of {table}: {e}")))
        })
        .transpose()
}

/// The filter column of `table` as a down sync table, if it has one.
fn down_filter(client: &mut impl GenericClient, table: &str) -> Result<Option<String>, StoreError> {
    Ok(client
        .query_opt(
            "SELECT filter_column FROM tillsync_sync_tables WHERE tbl = $1 AND direction = 'down'",
            &[&table],
        )?
        .and_then(|r| r.get(0)))
}

/// The message of a PostgreSQL error (without the "db error" wrapping).
fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({detail})", d.message()),
            None => d.message().to_string(),
        },
        None => e.to_string(),
    }
}

/// Create a customer for till `till_id` of `store`, as
/// [`crate::ServerDb::create_customer`] does: copy the template customer's
/// row, override the name and the given fields, set the store filter column,
/// allocate the next code after the template's prefix, record who created
/// it and journal it. Runs in its own transaction (a savepoint when
/// `client` is a transaction: the caller commits). Codes are unique across
/// server processes (see [`allocate_code`]).
pub fn create_customer(
    client: &mut impl GenericClient,
    till_id: &str,
    store: &str,
    template: &str,
    req: &CustomerCreate,
) -> Result<CustomerRecord, StoreError> {
    let bad = |m: String| StoreError::BadCustomer(m);
    let name = req.name.trim();
    if name.is_empty() {
        return Err(bad("the customer's name must not be empty".into()));
    }
    let mut tx = client.transaction()?;
    let (table, layout, key_col) = customer_layout(&mut tx)?;
    let name_col = find_column(&layout, NAME_COLUMN)
        .ok_or_else(|| {
            StoreError::Inconsistent(format!("table {table} has no column {NAME_COLUMN}"))
        })?
        .name
        .clone();
    let mut row = read_row(&mut tx, &table, &key_col, template, false)?
        .ok_or_else(|| StoreError::NoTemplateCustomer(template.to_string()))?;
    row.insert(name_col.clone(), Json::String(name.to_string()));
    let mut given = Vec::new();
    for (k, v) in &req.fields {
        let col = find_column(&layout, k).ok_or_else(|| {
            bad(format!(
                "table {table} has no column {k:?}; columns are: {}",
                layout
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if col.name == key_col {
            return Err(bad(format!(
                "the customer code ({key_col}) is allocated by the server and cannot be given"
            )));
        }
        if col.name == name_col {
            return Err(bad(format!(
                "give the name once, as the name, not as the field {k:?}"
            )));
        }
        let value = field_value(col, v).map_err(|e| bad(format!("field {k}: {e}")))?;
        given.push(col.name.clone());
        row.insert(col.name.clone(), value);
    }
    if let Some(filter) = down_filter(&mut tx, &table)?
        && !given.iter().any(|g| g.eq_ignore_ascii_case(&filter))
        && let Some(col) = find_column(&layout, &filter)
    {
        row.insert(col.name.clone(), Json::String(store.to_string()));
    }
    let code = allocate_code(&mut tx, &table, &key_col, template)?;
    row.insert(key_col.clone(), Json::String(code.clone()));

    let cols = q_list(layout.columns.iter().map(|c| c.name.as_str()));
    let json = Json::Object(row).to_string();
    let stored = tx
        .query_one(
            &format!(
                "INSERT INTO {t} AS t ({cols}) SELECT {cols}
                 FROM jsonb_populate_record(NULL::{t}, $1::text::jsonb)
                 RETURNING to_jsonb(t)::text",
                t = q(&table)
            ),
            &[&json],
        )
        .map_err(|e| {
            if is_data_error(&e) {
                bad(format!("the customer cannot be stored: {}", pg_message(&e)))
            } else {
                StoreError::Postgres(e)
            }
        })?;
    let stored: serde_json::Map<String, Json> = serde_json::from_str(stored.get::<_, &str>(0))
        .map_err(|e| StoreError::Inconsistent(format!("row of {table}: {e}")))?;
    let now = tillsync_db::now_rfc3339();
    tx.execute(
        "INSERT INTO tillsync_customer_origin(code, till_id, created_at) VALUES ($1, $2, $3)",
        &[&code, &till_id, &now],
    )?;
    record_own_write(&mut tx, &table, &[Some(code.clone())], till_id)?;
    tx.execute(
        "INSERT INTO tillsync_journal(at, kind, till, result, detail)
         VALUES ($1, 'customer-create', $2, 'ok', $3)",
        &[
            &now,
            &till_id,
            &format!("customer {code} created from template {template}"),
        ],
    )?;
    tx.commit()?;
    Ok(stored)
}

/// The next free code after the template's prefix (`CLI000000` → prefix
/// `CLI`, 6 digits): one above the highest of the codes of that shape in
/// the table, the codes ever created at a till and the last number handed
/// out for the prefix (`tillsync_customer_codes`). The prefix's counter row
/// is locked until the creating transaction ends, so two server processes
/// creating at once take turns and never get the same code.
fn allocate_code(
    tx: &mut Transaction<'_>,
    table: &str,
    key_col: &str,
    template: &str,
) -> Result<String, StoreError> {
    let prefix = template.trim_end_matches(|c: char| c.is_ascii_digit());
    let width = match template.len() - prefix.len() {
        0 => 6,
        n => n,
    };
    tx.execute(
        "INSERT INTO tillsync_customer_codes(prefix, last_number) VALUES ($1, 0)
         ON CONFLICT (prefix) DO NOTHING",
        &[&prefix],
    )?;
    let last: i64 = tx
        .query_one(
            "SELECT last_number FROM tillsync_customer_codes WHERE prefix = $1 FOR UPDATE",
            &[&prefix],
        )?
        .get(0);
    // The template code is validated as letters, digits, '_' and '-': none
    // is special in a regular expression outside brackets.
    let pattern = format!("^{prefix}[0-9]{{{width}}}$");
    let start = prefix.len() as i32 + 1;
    let max: Option<i64> = tx
        .query_one(
            &format!(
                "SELECT MAX(n) FROM (
                   SELECT substr({k}::text, $2)::bigint AS n FROM {t} WHERE {k}::text ~ $1
                   UNION ALL
                   SELECT substr(code, $2)::bigint FROM tillsync_customer_origin
                   WHERE code ~ $1) AS codes",
                k = q(key_col),
                t = q(table)
            ),
            &[&pattern, &start],
        )?
        .get(0);
    let mut n = max.unwrap_or(0).max(last) + 1;
    let exists = format!(
        "SELECT EXISTS(SELECT 1 FROM {} WHERE {}::text = $1)
             OR EXISTS(SELECT 1 FROM tillsync_customer_origin WHERE code = $1)",
        q(table),
        q(key_col)
    );
    loop {
        let code = format!("{prefix}{n:0width$}");
        let taken: bool = tx.query_one(&exists, &[&code])?.get(0);
        if !taken {
            tx.execute(
                "UPDATE tillsync_customer_codes SET last_number = $2 WHERE prefix = $1",
                &[&prefix, &n],
            )?;
            return Ok(code);
        }
        n += 1;
    }
}

/// The key of a row as the change log spells it (up to 4 key values as text).
fn key_json(client: &mut impl GenericClient, key: &[Option<String>]) -> Result<String, StoreError> {
    let k = |i: usize| key.get(i).cloned().flatten();
    Ok(client
        .query_one(
            "SELECT json_build_array($1::text, $2::text, $3::text, $4::text)::text",
            &[&k(0), &k(1), &k(2), &k(3)],
        )?
        .get(0))
}

/// Remember that till `till_id` made the newest logged change of this row.
fn record_own_write(
    tx: &mut Transaction<'_>,
    table: &str,
    key: &[Option<String>],
    till_id: &str,
) -> Result<(), StoreError> {
    let kj = key_json(tx, key)?;
    let seq: Option<i64> = tx
        .query_one(
            "SELECT MAX(seq) FROM tillsync_changes
             WHERE tbl = $1 AND json_build_array(k1, k2, k3, k4)::text = $2",
            &[&table, &kj],
        )?
        .get(0);
    if let Some(seq) = seq {
        tx.execute(
            "INSERT INTO tillsync_row_writes(tbl, key, till_id, seq) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tbl, key) DO UPDATE SET till_id = excluded.till_id, seq = excluded.seq",
            &[&table, &kj, &till_id, &seq],
        )?;
    }
    Ok(())
}

/// Before the export trims the change log of `table` up to `last_seq`:
/// remember, per key, that it was last exported at `version` (only for
/// tables that also travel up: the conflict check needs it). As
/// `tillsync_server_sqlite::up::customers::record_row_versions`.
pub fn record_row_versions(
    client: &mut impl GenericClient,
    table: &str,
    version: u64,
    last_seq: i64,
) -> Result<(), StoreError> {
    if up_policy(client, table)?.is_none() {
        return Ok(());
    }
    let version = i64::try_from(version)
        .map_err(|_| StoreError::Invalid(format!("version {version} is out of range")))?;
    client.execute(
        "INSERT INTO tillsync_row_versions(tbl, key, version, last_seq, changed_at)
         SELECT $1, json_build_array(k1, k2, k3, k4)::text, $2, MAX(seq), MAX(at)
         FROM tillsync_changes WHERE tbl = $1 AND seq <= $3
         GROUP BY json_build_array(k1, k2, k3, k4)::text
         ON CONFLICT (tbl, key) DO UPDATE SET version = excluded.version,
           last_seq = excluded.last_seq, changed_at = excluded.changed_at",
        &[&table, &version, &last_seq],
    )?;
    Ok(())
}

/// The newest change of a row made by someone else than `till_id` after the
/// till's version `base`: its time (Unix seconds), or `None` when the server
/// did not change the row since (or the till itself made the newest change).
fn server_change_since(
    tx: &mut Transaction<'_>,
    table: &str,
    key: &[Option<String>],
    base: Option<u64>,
    till_id: &str,
) -> Result<Option<i64>, StoreError> {
    let kj = key_json(tx, key)?;
    let r = tx.query_one(
        "SELECT MAX(seq), MAX(at) FROM tillsync_changes
         WHERE tbl = $1 AND json_build_array(k1, k2, k3, k4)::text = $2",
        &[&table, &kj],
    )?;
    let (pending_seq, pending_at): (Option<i64>, Option<i64>) = (r.get(0), r.get(1));
    let exported: Option<(i64, i64, i64)> = tx
        .query_opt(
            "SELECT version, last_seq, changed_at FROM tillsync_row_versions
             WHERE tbl = $1 AND key = $2",
            &[&table, &kj],
        )?
        .map(|r| (r.get(0), r.get(1), r.get(2)));
    let Some(newest) = pending_seq.or(exported.map(|e| e.1)) else {
        return Ok(None);
    };
    let own: Option<i64> = tx
        .query_opt(
            "SELECT seq FROM tillsync_row_writes WHERE tbl = $1 AND key = $2 AND till_id = $3",
            &[&table, &kj, &till_id],
        )?
        .map(|r| r.get(0));
    if own == Some(newest) {
        // Anything before the till's own write was settled when it was applied.
        return Ok(None);
    }
    if pending_seq.is_some() {
        // Not exported yet: no till holds it.
        return Ok(pending_at);
    }
    Ok(exported
        .filter(|(v, _, _)| *v as u64 > base.unwrap_or(0))
        .map(|(_, _, at)| at))
}

/// Run `f` in a savepoint: a refusal or an error rolls back what `f`
/// wrote (the caller's transaction stays usable), and a data error
/// (constraint, type) becomes a refusal.
fn in_savepoint(
    tx: &mut Transaction<'_>,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<UpOutcome, StoreError>,
) -> Result<UpOutcome, StoreError> {
    let mut sp = tx.transaction()?;
    let result = f(&mut sp);
    match &result {
        Ok(UpOutcome::Applied(_)) => sp.commit()?,
        Ok(UpOutcome::Rejected(_)) => sp.rollback()?,
        // The first error is the one to report (a lost connection fails
        // the rollback too).
        Err(_) => drop(sp.rollback()),
    }
    match result {
        Err(StoreError::Postgres(e)) if is_data_error(&e) => Ok(UpOutcome::Rejected(format!(
            "the database refused the change: {}",
            pg_message(&e)
        ))),
        other => other,
    }
}

/// The conflict policy of `table` as an up sync table, or `None` if it is
/// not registered up.
fn up_policy(
    client: &mut impl GenericClient,
    table: &str,
) -> Result<Option<ConflictPolicy>, StoreError> {
    client
        .query_opt(
            "SELECT conflict_policy FROM tillsync_sync_tables WHERE tbl = $1 AND direction = 'up'",
            &[&table],
        )?
        .map(|r| r.get::<_, &str>(0).parse())
        .transpose()
}

/// Apply a `customer-edit` item of till `till_id` inside the caller's
/// transaction, as [`tillsync_server_sqlite::up::customers::apply_customer_edit`]: the
/// changed fields go to `CLI`, unless the server changed the customer since
/// the till's version and the table's policy keeps the server's row; either
/// way the losing version goes to `tillsync_conflicts`. The customer's row
/// is locked while this decides.
pub fn apply_customer_edit(
    tx: &mut Transaction<'_>,
    till_id: &str,
    edit: &CustomerEdit,
) -> Result<UpOutcome, StoreError> {
    let reject = |m: String| Ok(UpOutcome::Rejected(m));
    let (table, layout, key_col) = match customer_layout(tx) {
        Ok(t) => t,
        Err(StoreError::NoSuchTable(t)) => {
            return reject(format!("the server has no customers table {t}"));
        }
        Err(e) => return Err(e),
    };
    let Some(policy) = up_policy(tx, &table)? else {
        return reject(format!(
            "table {table} is not registered as an up sync table, so customer edits are not accepted \
             (tillsync server tables add --table {table} --type incremental --direction up)"
        ));
    };
    if edit.fields.is_empty() {
        return reject("the edit changes no field".into());
    }
    let mut sets = serde_json::Map::new();
    for (k, v) in &edit.fields {
        let Some(col) = find_column(&layout, k) else {
            return reject(format!("table {table} has no column {k:?}"));
        };
        if col.name == key_col {
            return reject(format!(
                "the customer code ({key_col}) cannot be changed by an edit"
            ));
        }
        match field_value(col, v) {
            Ok(value) => {
                sets.insert(col.name.clone(), value);
            }
            Err(e) => return reject(format!("field {k}: {e}")),
        }
    }
    let Some(current) = read_row(tx, &table, &key_col, &edit.code, true)? else {
        return reject(format!(
            "customer {} does not exist on the server (deleted there?)",
            edit.code
        ));
    };
    let key = [Some(edit.code.clone())];
    let changed_at = server_change_since(tx, &table, &key, edit.base_version, till_id)?;
    let till_wins = match (changed_at, policy) {
        (None, _) => None,
        (Some(_), ConflictPolicy::ServerWins) => Some(false),
        (Some(_), ConflictPolicy::TillWins) => Some(true),
        (Some(server_at), ConflictPolicy::NewestWins) => {
            let till_at = chrono::DateTime::parse_from_rfc3339(&edit.edited_at)
                .map(|t| t.timestamp())
                .unwrap_or(i64::MIN);
            Some(till_at > server_at)
        }
    };
    in_savepoint(tx, |tx| {
        let note = if let Some(till_won) = till_wins {
            let kj = key_json(tx, &key)?;
            tx.execute(
                "INSERT INTO tillsync_conflicts(tbl, key, till_id, server_value, till_value, winner, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &table,
                    &kj,
                    &till_id,
                    &Json::Object(current).to_string(),
                    &Json::Object(edit.fields.clone()).to_string(),
                    &if till_won { "till" } else { "server" },
                    &tillsync_db::now_rfc3339(),
                ],
            )?;
            Some(format!(
                "conflict: the server changed customer {} since the till's version; {policy} kept the {} version",
                edit.code,
                if till_won { "till's" } else { "server's" }
            ))
        } else {
            None
        };
        if till_wins != Some(false) {
            let assign = sets
                .keys()
                .map(|c| format!("{0} = r.{0}", q(c)))
                .collect::<Vec<_>>()
                .join(", ");
            let json = Json::Object(sets.clone()).to_string();
            tx.execute(
                &format!(
                    "UPDATE {t} AS t SET {assign}
                     FROM jsonb_populate_record(NULL::{t}, $2::text::jsonb) AS r
                     WHERE t.{k}::text = $1",
                    t = q(&table),
                    k = q(&key_col)
                ),
                &[&edit.code, &json],
            )?;
            record_own_write(tx, &table, &key, till_id)?;
        }
        Ok(UpOutcome::Applied(note))
    })
}

/// Apply a `customer-abandon` item of till `till_id` inside the caller's
/// transaction, as [`tillsync_server_sqlite::up::customers::apply_customer_abandon`]:
/// delete the customer if this till created it and no ticket uses it;
/// otherwise refuse, saying why, and send the customer down again.
pub fn apply_customer_abandon(
    tx: &mut Transaction<'_>,
    till_id: &str,
    abandon: &CustomerAbandon,
) -> Result<UpOutcome, StoreError> {
    let code = &abandon.code;
    // The till already removed its copy: a refused abandon re-sends the
    // customer down (a no-op update that change capture logs).
    let reject = |tx: &mut Transaction<'_>, m: String| -> Result<UpOutcome, StoreError> {
        if let Ok((table, _, key_col)) = customer_layout(tx) {
            tx.execute(
                &format!(
                    "UPDATE {t} SET {k} = {k} WHERE {k}::text = $1",
                    t = q(&table),
                    k = q(&key_col)
                ),
                &[&code],
            )?;
        }
        Ok(UpOutcome::Rejected(m))
    };
    let origin: Option<(String, Option<String>)> = tx
        .query_opt(
            "SELECT till_id, abandoned_at FROM tillsync_customer_origin WHERE code = $1 FOR UPDATE",
            &[&code],
        )?
        .map(|r| (r.get(0), r.get(1)));
    match origin {
        None => {
            return reject(
                tx,
                format!(
                    "customer {code} was not created at a till; only a creation made at a till can be abandoned"
                ),
            );
        }
        Some((creator, _)) if creator != till_id => {
            return reject(
                tx,
                format!(
                    "customer {code} was created by till {creator}, not by this till; only its creator can abandon it"
                ),
            );
        }
        Some((_, Some(_))) => return Ok(UpOutcome::Applied(Some("already abandoned".into()))),
        Some(_) => {}
    }
    if let Some(n) = tickets_using(tx, code)? {
        return reject(
            tx,
            format!(
                "customer {code} is used by {n} ticket(s) on the server; a customer that a ticket uses is kept"
            ),
        );
    }
    let (table, _, key_col) = customer_layout(tx)?;
    in_savepoint(tx, |tx| {
        tx.execute(
            &format!("DELETE FROM {} WHERE {}::text = $1", q(&table), q(&key_col)),
            &[&code],
        )?;
        let now = tillsync_db::now_rfc3339();
        tx.execute(
            "UPDATE tillsync_customer_origin SET abandoned_at = $2 WHERE code = $1",
            &[&code, &now],
        )?;
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES ($1, 'customer-abandon', $2, 'ok', $3)",
            &[
                &now,
                &till_id,
                &format!("customer {code} deleted (creation abandoned at the till)"),
            ],
        )?;
        Ok(UpOutcome::Applied(None))
    })
}

/// How many rows of `TICKET` name the customer, if that table (with a
/// `customer` column) exists; `None` when none does.
fn tickets_using(tx: &mut Transaction<'_>, code: &str) -> Result<Option<i64>, StoreError> {
    let Some(table) = table_name(tx, "TICKET")? else {
        return Ok(None);
    };
    let column: Option<String> = tx
        .query_opt(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::text::regclass
               AND attnum > 0 AND NOT attisdropped AND lower(attname) = 'customer'
             ORDER BY attname = 'customer' DESC LIMIT 1",
            &[&q(&table)],
        )?
        .map(|r| r.get(0));
    let Some(column) = column else {
        return Ok(None);
    };
    let n: i64 = tx
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM {} WHERE {}::text = $1",
                q(&table),
                q(&column)
            ),
            &[&code],
        )?
        .get(0);
    Ok((n > 0).then_some(n))
}

/// Apply a `row` item of till `till_id` inside the caller's transaction, as
/// [`tillsync_server_sqlite::up::customers::apply_row_change`]: an upsert or delete into a
/// table registered up only. Columns are checked against the server table;
/// a `till_id` column must name the sending till (an upsert without it
/// gets it).
pub fn apply_row_change(
    tx: &mut Transaction<'_>,
    till_id: &str,
    change: &RowChange,
) -> Result<UpOutcome, StoreError> {
    let reject = |m: String| Ok(UpOutcome::Rejected(m));
    if change.op != "upsert" && change.op != "delete" {
        return reject(format!(
            "unknown row operation {:?}: expected upsert or delete",
            change.op
        ));
    }
    if let Err(e) = tillsync_core::ident::validate(&change.table) {
        return reject(format!("invalid table name: {e}"));
    }
    let Some(table) = table_name(tx, &change.table)? else {
        return reject(format!(
            "table {} does not exist on the server",
            change.table
        ));
    };
    if up_policy(tx, &table)?.is_none() {
        return reject(format!(
            "table {table} is not registered as an up sync table"
        ));
    }
    let also_down: bool = tx
        .query_one(
            "SELECT EXISTS(SELECT 1 FROM tillsync_sync_tables WHERE tbl = $1 AND direction = 'down')",
            &[&table],
        )?
        .get(0);
    if also_down {
        return reject(format!(
            "table {table} also travels down; row changes are accepted only for tables that travel up only"
        ));
    }
    let layout = layout(tx, &table)?;
    let mut row = serde_json::Map::new();
    for (k, v) in &change.row {
        let Some(col) = find_column(&layout, k) else {
            return reject(format!("table {table} has no column {k:?}"));
        };
        match field_value(col, v) {
            Ok(value) => {
                row.insert(col.name.clone(), value);
            }
            Err(e) => return reject(format!("column {k}: {e}")),
        }
    }
    if let Some(tc) = find_column(&layout, "till_id") {
        match row.get(&tc.name) {
            Some(Json::String(t)) if t == till_id => {}
            Some(v) => {
                return reject(format!(
                    "the row names till {v}; a till may only send its own rows"
                ));
            }
            None if change.op == "upsert" => {
                row.insert(tc.name.clone(), Json::String(till_id.into()));
            }
            None => {}
        }
    }
    for k in &layout.key {
        if !row.contains_key(k) {
            return reject(format!("the row lacks key column {k} of table {table}"));
        }
    }
    let t = q(&table);
    let sql = match change.op.as_str() {
        "upsert" => {
            let cols = q_list(row.keys().map(String::as_str));
            let sets: Vec<String> = row
                .keys()
                .filter(|c| !layout.key.contains(c))
                .map(|c| format!("{0} = excluded.{0}", q(c)))
                .collect();
            let conflict = if sets.is_empty() {
                "DO NOTHING".to_string()
            } else {
                format!("DO UPDATE SET {}", sets.join(", "))
            };
            format!(
                "INSERT INTO {t} ({cols}) SELECT {cols}
                 FROM jsonb_populate_record(NULL::{t}, $1::text::jsonb)
                 ON CONFLICT ({}) {conflict}",
                q_list(layout.key.iter().map(String::as_str))
            )
        }
        _ => {
            // A deletion names its row by the key alone.
            row.retain(|c, _| layout.key.contains(c));
            let where_key = layout
                .key
                .iter()
                .map(|k| format!("t.{0} = r.{0}", q(k)))
                .collect::<Vec<_>>()
                .join(" AND ");
            format!(
                "DELETE FROM {t} AS t USING jsonb_populate_record(NULL::{t}, $1::text::jsonb) AS r
                 WHERE {where_key}"
            )
        }
    };
    let json = Json::Object(row).to_string();
    in_savepoint(tx, |tx| {
        tx.execute(&sql, &[&json])?;
        Ok(UpOutcome::Applied(None))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::testpg::TestDb;
    use postgres::Client;

    /// The demo customers (the template `CLI000000` and `CLI000001` to
    /// `CLI000199`) and `CLI` registered down (filtered by store) and up.
    fn db() -> Option<(TestDb, Client)> {
        let db = TestDb::new()?;
        let mut c = db.client();
        c.batch_execute(
            r#"INSERT INTO "CLI"(code, name, email, city, store, phone, loyalty_points)
                 VALUES ('CLI000000', 'Client modèle', NULL, NULL, NULL, NULL, 0);
               INSERT INTO "CLI"(code, name, city, store, loyalty_points)
                 SELECT 'CLI' || lpad(i::text, 6, '0'), 'Customer ' || i, 'Lyon', 'S01', i
                 FROM generate_series(1, 199) AS i;
               INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, filter_column, created_at)
                 VALUES ('CLI', 'down', 'incremental', 'store', 'now'),
                        ('CLI', 'up', 'incremental', NULL, 'now');
               DELETE FROM tillsync_changes;"#,
        )
        .unwrap();
        Some((db, c))
    }

    fn create(c: &mut impl GenericClient, till: &str, name: &str) -> CustomerRecord {
        create_customer(
            c,
            till,
            "S01",
            "CLI000000",
            &CustomerCreate {
                name: name.into(),
                fields: serde_json::from_value(serde_json::json!({"city": "Lyon"})).unwrap(),
            },
        )
        .unwrap()
    }

    #[test]
    fn create_copies_template_and_allocates_codes() {
        let Some((_db, mut c)) = db() else { return };
        let a = create(&mut c, "T001", "Alice");
        let b = create(&mut c, "T002", "Bob");
        assert_eq!(a["code"], "CLI000200");
        assert_eq!(b["code"], "CLI000201");
        assert_eq!(a["name"], "Alice");
        assert_eq!(a["city"], "Lyon");
        assert_eq!(a["store"], "S01");
        assert_eq!(a["loyalty_points"], 0);
        assert_eq!(a.len(), 7);
        assert_eq!(
            customer_origin(&mut c, "CLI000201")
                .unwrap()
                .unwrap()
                .till_id,
            "T002"
        );
        // Codes of abandoned creations are not reused.
        let mut tx = c.transaction().unwrap();
        let r = apply_customer_abandon(
            &mut tx,
            "T002",
            &CustomerAbandon {
                code: "CLI000201".into(),
            },
        )
        .unwrap();
        assert_eq!(r, UpOutcome::Applied(None));
        tx.commit().unwrap();
        assert!(
            customer_origin(&mut c, "CLI000201")
                .unwrap()
                .unwrap()
                .abandoned_at
                .is_some()
        );
        assert_eq!(create(&mut c, "T001", "Carol")["code"], "CLI000202");

        for (fields, needle) in [
            (serde_json::json!({"colour": "red"}), "no column \"colour\""),
            (serde_json::json!({"code": "X"}), "allocated by the server"),
            (serde_json::json!({"city": [1]}), "field city"),
            (
                serde_json::json!({"loyalty_points": "many"}),
                "cannot be stored",
            ),
        ] {
            let e = create_customer(
                &mut c,
                "T001",
                "S01",
                "CLI000000",
                &CustomerCreate {
                    name: "Dan".into(),
                    fields: serde_json::from_value(fields).unwrap(),
                },
            )
            .unwrap_err();
            assert!(matches!(e, StoreError::BadCustomer(_)), "{e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
        let e = create_customer(
            &mut c,
            "T001",
            "S01",
            "NOPE01",
            &CustomerCreate {
                name: "Dan".into(),
                fields: Default::default(),
            },
        )
        .unwrap_err();
        assert!(matches!(e, StoreError::NoTemplateCustomer(_)), "{e}");
        // Nothing half-written by the refusals; the journal has the three creations.
        let n: i64 = c
            .query_one(r#"SELECT COUNT(*) FROM "CLI""#, &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 202);
        let n: i64 = c
            .query_one(
                "SELECT COUNT(*) FROM tillsync_journal WHERE kind = 'customer-create'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 3);
    }

    #[test]
    fn policies_are_read_and_up_layouts_listed() {
        let Some((_db, mut c)) = db() else { return };
        c.batch_execute(
            "CREATE TABLE \"P\"(k TEXT PRIMARY KEY, v TEXT);
             INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, created_at, conflict_policy)
               VALUES ('P', 'up', 'incremental', 'now', 'newest-wins'),
                      ('GONE', 'up', 'incremental', 'now', 'till-wins');",
        )
        .unwrap();
        let p = conflict_policies(&mut c).unwrap();
        assert!(p.contains(&("P".into(), Direction::Up, ConflictPolicy::NewestWins)));
        assert!(p.contains(&("CLI".into(), Direction::Down, ConflictPolicy::ServerWins)));
        let l = up_table_layouts(&mut c).unwrap();
        assert_eq!(
            l.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
            ["CLI", "P"]
        );
        assert_eq!(l[0].1.key, ["code"]);
        assert_eq!(l[0].1.columns[6].decl_type, "integer");
        assert!(l[0].1.columns[1].not_null);
        assert!(matches!(
            layout(&mut c, "zz"),
            Err(StoreError::NoSuchTable(_))
        ));
    }

    fn edit(c: &mut Client, till: &str, city: &str, base: u64, at: &str) -> UpOutcome {
        let mut tx = c.transaction().unwrap();
        let r = apply_customer_edit(
            &mut tx,
            till,
            &CustomerEdit {
                code: "CLI000001".into(),
                fields: serde_json::from_value(serde_json::json!({ "city": city })).unwrap(),
                base_version: Some(base),
                edited_at: at.into(),
            },
        )
        .unwrap();
        tx.commit().unwrap();
        r
    }

    fn city(c: &mut Client) -> String {
        c.query_one(r#"SELECT city FROM "CLI" WHERE code = 'CLI000001'"#, &[])
            .unwrap()
            .get(0)
    }

    #[test]
    fn own_writes_do_not_conflict_other_writers_do() {
        let Some((_db, mut c)) = db() else { return };
        let now = tillsync_db::now_rfc3339();
        assert_eq!(edit(&mut c, "T001", "A", 1, &now), UpOutcome::Applied(None));
        assert_eq!(edit(&mut c, "T001", "B", 1, &now), UpOutcome::Applied(None));
        // Another till's change since its version: server-wins keeps B.
        let r = edit(&mut c, "T002", "C", 1, &now);
        assert!(
            matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("server's")),
            "{r:?}"
        );
        assert_eq!(city(&mut c), "B");
        let cs = conflicts(&mut c).unwrap();
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].winner, "server");
        assert_eq!(cs[0].server_value.as_ref().unwrap()["city"], "B");
        assert_eq!(cs[0].till_value["city"], "C");
        // Once exported at version 2, a till holding version 2 edits freely.
        let mut tx = c.transaction().unwrap();
        let seq: i64 = tx
            .query_one("SELECT MAX(seq) FROM tillsync_changes", &[])
            .unwrap()
            .get(0);
        record_row_versions(&mut tx, "CLI", 2, seq).unwrap();
        tx.execute("DELETE FROM tillsync_changes", &[]).unwrap();
        tx.commit().unwrap();
        assert_eq!(edit(&mut c, "T002", "D", 2, &now), UpOutcome::Applied(None));
        // A till holding version 1 meets the exported change of version 2
        // (made by T002): server-wins keeps D.
        let mut tx = c.transaction().unwrap();
        let seq: i64 = tx
            .query_one("SELECT MAX(seq) FROM tillsync_changes", &[])
            .unwrap()
            .get(0);
        record_row_versions(&mut tx, "CLI", 3, seq).unwrap();
        tx.execute("DELETE FROM tillsync_changes", &[]).unwrap();
        tx.commit().unwrap();
        let r = edit(&mut c, "T003", "E", 2, &now);
        assert!(matches!(r, UpOutcome::Applied(Some(_))), "{r:?}");
        assert_eq!(city(&mut c), "D");
        assert_eq!(edit(&mut c, "T003", "F", 3, &now), UpOutcome::Applied(None));
        assert_eq!(city(&mut c), "F");
    }

    #[test]
    fn till_wins_and_newest_wins() {
        let Some((_db, mut c)) = db() else { return };
        // The ERP changes the customer (not exported yet).
        c.batch_execute(r#"UPDATE "CLI" SET city = 'ERP' WHERE code = 'CLI000001'"#)
            .unwrap();
        c.execute(
            "UPDATE tillsync_sync_tables SET conflict_policy = 'till-wins' WHERE direction = 'up'",
            &[],
        )
        .unwrap();
        let now = tillsync_db::now_rfc3339();
        let r = edit(&mut c, "T001", "Till", 1, &now);
        assert!(
            matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("till's")),
            "{r:?}"
        );
        assert_eq!(city(&mut c), "Till");
        c.batch_execute(
            r#"UPDATE "CLI" SET city = 'ERP2' WHERE code = 'CLI000001';
               UPDATE tillsync_sync_tables SET conflict_policy = 'newest-wins' WHERE direction = 'up'"#,
        )
        .unwrap();
        // An edit older than the server's change loses, a newer one wins.
        let r = edit(&mut c, "T002", "Old", 1, "2000-01-01T00:00:00Z");
        assert!(
            matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("server's")),
            "{r:?}"
        );
        assert_eq!(city(&mut c), "ERP2");
        let r = edit(&mut c, "T002", "New", 1, "2999-01-01T00:00:00Z");
        assert!(
            matches!(r, UpOutcome::Applied(Some(ref n)) if n.contains("till's")),
            "{r:?}"
        );
        assert_eq!(city(&mut c), "New");
        let winners: Vec<String> = conflicts(&mut c)
            .unwrap()
            .into_iter()
            .map(|c| c.winner)
            .collect();
        assert_eq!(winners, ["till", "server", "till"]);
        // Refusals name what is wrong and leave the transaction usable
        // (till-wins: the null name reaches the table, which refuses it).
        let mut tx = c.transaction().unwrap();
        tx.execute(
            "UPDATE tillsync_sync_tables SET conflict_policy = 'till-wins' WHERE direction = 'up'",
            &[],
        )
        .unwrap();
        for (fields, code, needle) in [
            (serde_json::json!({"colour": "x"}), "CLI000001", "no column"),
            (
                serde_json::json!({"code": "x"}),
                "CLI000001",
                "cannot be changed",
            ),
            (serde_json::json!({}), "CLI000001", "changes no field"),
            (serde_json::json!({"city": "x"}), "NOPE", "does not exist"),
            (
                serde_json::json!({"name": null}),
                "CLI000001",
                "refused the change",
            ),
        ] {
            let r = apply_customer_edit(
                &mut tx,
                "T001",
                &CustomerEdit {
                    code: code.into(),
                    fields: serde_json::from_value(fields).unwrap(),
                    base_version: Some(1),
                    edited_at: now.clone(),
                },
            )
            .unwrap();
            match r {
                UpOutcome::Rejected(m) => assert!(m.contains(needle), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        tx.commit().unwrap();
        assert_eq!(city(&mut c), "New");
    }

    #[test]
    fn abandon_is_refused_unless_the_creator_and_no_ticket_uses_it() {
        let Some((_db, mut c)) = db() else { return };
        let a = create(&mut c, "T001", "Alice")["code"]
            .as_str()
            .unwrap()
            .to_string();
        let b = create(&mut c, "T001", "Bob")["code"]
            .as_str()
            .unwrap()
            .to_string();
        c.execute(
            r#"INSERT INTO "TICKET"("till_id", "number", "time", "total_cents", "customer",
                 "prev_hash", "hash", "signature", "received_at")
               VALUES ('T001', 1, 't', 1, $1, 'p', 'h', 's', 'now')"#,
            &[&b],
        )
        .unwrap();
        let mut tx = c.transaction().unwrap();
        let abandon = |tx: &mut Transaction<'_>, till: &str, code: &str| {
            apply_customer_abandon(tx, till, &CustomerAbandon { code: code.into() }).unwrap()
        };
        let rejected = |r: UpOutcome, needle: &str| match r {
            UpOutcome::Rejected(m) => assert!(m.contains(needle), "{m}"),
            other => panic!("{other:?}"),
        };
        rejected(
            abandon(&mut tx, "T001", "CLI000001"),
            "not created at a till",
        );
        rejected(abandon(&mut tx, "T002", &a), "created by till T001");
        rejected(abandon(&mut tx, "T001", &b), "used by 1 ticket");
        assert_eq!(abandon(&mut tx, "T001", &a), UpOutcome::Applied(None));
        assert_eq!(
            abandon(&mut tx, "T001", &a),
            UpOutcome::Applied(Some("already abandoned".into()))
        );
        tx.commit().unwrap();
        let left: Vec<String> = c
            .query(
                r#"SELECT code FROM "CLI" WHERE code = ANY($1) ORDER BY code"#,
                &[&vec![a.clone(), b.clone()]],
            )
            .unwrap()
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(left, [b]);
    }

    #[test]
    fn rows_of_up_tables() {
        let Some((_db, mut c)) = db() else { return };
        c.batch_execute(
            r#"CREATE TABLE "TILL_PARAM"(till_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                 PRIMARY KEY (till_id, key));
               INSERT INTO tillsync_sync_tables(tbl, direction, sync_type, created_at)
                 VALUES ('TILL_PARAM', 'up', 'incremental', 'now');"#,
        )
        .unwrap();
        let mut tx = c.transaction().unwrap();
        let row = |op: &str, v: serde_json::Value| RowChange {
            table: "TILL_PARAM".into(),
            op: op.into(),
            row: serde_json::from_value(v).unwrap(),
        };
        let ok = |r: UpOutcome| assert_eq!(r, UpOutcome::Applied(None));
        let rejected = |r: UpOutcome, needle: &str| match r {
            UpOutcome::Rejected(m) => assert!(m.contains(needle), "{m}"),
            other => panic!("{other:?}"),
        };
        let mut apply = |r: RowChange| apply_row_change(&mut tx, "T001", &r).unwrap();
        ok(apply(row(
            "upsert",
            serde_json::json!({"key": "a", "value": "1"}),
        )));
        ok(apply(row(
            "upsert",
            serde_json::json!({"till_id": "T001", "key": "a", "value": "2"}),
        )));
        ok(apply(row(
            "upsert",
            serde_json::json!({"till_id": "T001", "key": "b", "value": "3"}),
        )));
        ok(apply(row(
            "delete",
            serde_json::json!({"till_id": "T001", "key": "b"}),
        )));
        rejected(
            apply(row(
                "upsert",
                serde_json::json!({"till_id": "T002", "key": "a", "value": "x"}),
            )),
            "own rows",
        );
        rejected(
            apply(row("upsert", serde_json::json!({"key": "a", "nope": "x"}))),
            "no column \"nope\"",
        );
        rejected(
            apply(row("upsert", serde_json::json!({"key": "c"}))),
            "refused",
        );
        rejected(
            apply(row("merge", serde_json::json!({"key": "a"}))),
            "unknown row operation",
        );
        let mut other = row("upsert", serde_json::json!({"code": "X"}));
        other.table = "ART".into();
        rejected(apply(other.clone()), "does not exist");
        other.table = "CLI".into();
        rejected(apply(other), "also travels down");
        let rows: Vec<(String, String, String)> = tx
            .query(
                r#"SELECT till_id, key, value FROM "TILL_PARAM" ORDER BY key"#,
                &[],
            )
            .unwrap()
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(rows, [("T001".into(), "a".into(), "2".into())]);
        tx.commit().unwrap();
    }

    /// Two server processes create customers at the same time: every code
    /// is handed out once, and they follow each other without holes.
    #[test]
    fn two_connections_creating_customers_get_unique_codes() {
        let Some((db, _c)) = db() else { return };
        let barrier = std::sync::Barrier::new(2);
        let run = |till: &str| -> Vec<String> {
            let mut c = db.client();
            barrier.wait();
            (0..15)
                .map(|i| {
                    create(&mut c, till, &format!("{till} {i}"))["code"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| run("T001"));
            let b = s.spawn(|| run("T002"));
            (a.join().unwrap(), b.join().unwrap())
        });
        let mut all: Vec<String> = a.into_iter().chain(b).collect();
        all.sort();
        let expected: Vec<String> = (200..230).map(|n| format!("CLI{n:06}")).collect();
        assert_eq!(all, expected);

        // Deterministically: a creation not committed yet holds the
        // prefix's counter; another process's creation waits for it and
        // then takes the next code.
        let mut a = db.client();
        let mut ta = a.transaction().unwrap();
        assert_eq!(create(&mut ta, "T001", "First")["code"], "CLI000230");
        std::thread::scope(|s| {
            let b = s.spawn(|| create(&mut db.client(), "T002", "Second"));
            let mut watch = db.client();
            let waiting = (0..1000).any(|_| {
                let n: i64 = watch
                    .query_one(
                        "SELECT COUNT(*) FROM pg_stat_activity
                         WHERE datname = current_database() AND wait_event_type = 'Lock'",
                        &[],
                    )
                    .unwrap()
                    .get(0);
                std::thread::sleep(std::time::Duration::from_millis(10));
                n == 1
            });
            assert!(waiting, "the second creation never waited for the first");
            ta.commit().unwrap();
            assert_eq!(b.join().unwrap()["code"], "CLI000231");
        });
    }

    /// Two server processes receive the same batch (a customer edit that
    /// meets a server change) at once: it is applied once, one conflict is
    /// audited, and the second answers the first's answer.
    #[test]
    fn two_connections_racing_the_same_edit_apply_it_once() {
        let Some((db, mut c)) = db() else { return };
        c.batch_execute(r#"UPDATE "CLI" SET city = 'ERP' WHERE code = 'CLI000001'"#)
            .unwrap();
        let barrier = std::sync::Barrier::new(2);
        let run = || -> (UpOutcome, bool) {
            let mut c = db.client();
            barrier.wait();
            let mut tx = c.transaction().unwrap();
            let key = "edit:1";
            if let Some(r) = super::super::tickets::received(&mut tx, "T001", key).unwrap() {
                tx.commit().unwrap();
                return (UpOutcome::Applied(r.reason), true);
            }
            let o = apply_customer_edit(
                &mut tx,
                "T001",
                &CustomerEdit {
                    code: "CLI000001".into(),
                    fields: serde_json::from_value(serde_json::json!({"city": "Till"})).unwrap(),
                    base_version: Some(1),
                    edited_at: tillsync_db::now_rfc3339(),
                },
            )
            .unwrap();
            let UpOutcome::Applied(note) = &o else {
                panic!("{o:?}")
            };
            let out = tillsync_server_db::tickets::Outcome {
                status: tillsync_wire::api::ItemStatus::Accepted,
                reason: note.clone(),
            };
            super::super::tickets::record_received(&mut tx, "T001", key, &out, "f", "now").unwrap();
            tx.commit().unwrap();
            (o, false)
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(run);
            let b = s.spawn(run);
            (a.join().unwrap(), b.join().unwrap())
        });
        assert!(
            a.1 != b.1,
            "one applies, the other answers a resend: {a:?} {b:?}"
        );
        assert_eq!(a.0, b.0);
        assert_eq!(conflicts(&mut c).unwrap().len(), 1);
        assert_eq!(city(&mut c), "ERP");
    }
}
