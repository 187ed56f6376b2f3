//! The two record tables (`EVENT_LOG`, `CLOSING`): the newest record of a
//! chain, records in order, and a new record sealed and inserted after the
//! newest one, in the caller's transaction.

use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OptionalExtension, params};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, Draft, EVENT_CHAIN, Record};
use tillsync_core::ticket::GENESIS_HASH;

use tillsync_db::StoreError;
use tillsync_wire::api::OutboxKind;

use crate::db::TillDb;

/// The table of a chain.
pub fn table_of(chain: &str) -> Result<&'static str, StoreError> {
    match chain {
        EVENT_CHAIN => Ok("EVENT_LOG"),
        CLOSING_CHAIN => Ok("CLOSING"),
        other => Err(StoreError::Inconsistent(format!(
            "no record chain {other:?}"
        ))),
    }
}

fn row(chain: &str, r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        till: r.get(0)?,
        chain: chain.to_string(),
        seq: r.get::<_, i64>(1)? as u64,
        time: r.get(2)?,
        kind: r.get(3)?,
        body: r.get(4)?,
        prev_hash: r.get(5)?,
        hash: r.get(6)?,
        signature: r.get(7)?,
    })
}

const COLUMNS: &str =
    r#""till_id", "seq", "time", "kind", "body", "prev_hash", "hash", "signature""#;

/// The newest record of `chain` of `till`.
pub fn last_record(
    conn: &Connection,
    chain: &str,
    till: &str,
) -> Result<Option<Record>, StoreError> {
    let table = table_of(chain)?;
    Ok(conn
        .prepare_cached(&format!(
            r#"SELECT {COLUMNS} FROM "{table}" WHERE "till_id" = ?1 ORDER BY "seq" DESC LIMIT 1"#
        ))?
        .query_row([till], |r| row(chain, r))
        .optional()?)
}

/// The records of `chain` of `till` numbered after `after`, in order;
/// `kind` keeps only those of that kind.
pub fn records_after(
    conn: &Connection,
    chain: &str,
    till: &str,
    after: u64,
    kind: Option<&str>,
) -> Result<Vec<Record>, StoreError> {
    let table = table_of(chain)?;
    let mut stmt = conn.prepare_cached(&format!(
        r#"SELECT {COLUMNS} FROM "{table}" WHERE "till_id" = ?1 AND "seq" > ?2
           AND (?3 IS NULL OR "kind" = ?3) ORDER BY "seq""#
    ))?;
    let rows = stmt
        .query_map(params![till, after as i64, kind], |r| row(chain, r))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The newest record of `kind` in `chain` of `till`.
pub fn last_of_kind(
    conn: &Connection,
    chain: &str,
    till: &str,
    kind: &str,
) -> Result<Option<Record>, StoreError> {
    let table = table_of(chain)?;
    Ok(conn
        .prepare_cached(&format!(
            r#"SELECT {COLUMNS} FROM "{table}" WHERE "till_id" = ?1 AND "kind" = ?2
               ORDER BY "seq" DESC LIMIT 1"#
        ))?
        .query_row(params![till, kind], |r| row(chain, r))
        .optional()?)
}

/// Seal `draft` as the next record of its chain (number and link from the
/// newest one) and insert it, in the caller's transaction.
pub fn append(conn: &Connection, draft: Draft<'_>, key: &SigningKey) -> Result<Record, StoreError> {
    let table = table_of(draft.chain)?;
    let last = last_record(conn, draft.chain, draft.till)?;
    let (seq, prev) = match &last {
        Some(l) => (l.seq + 1, l.hash.as_str()),
        None => (1, GENESIS_HASH),
    };
    let rec = draft.seal(seq, prev, key);
    conn.prepare_cached(&format!(
        r#"INSERT INTO "{table}"({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"#
    ))?
    .execute(params![
        rec.till,
        rec.seq as i64,
        rec.time,
        rec.kind,
        rec.body,
        rec.prev_hash,
        rec.hash,
        rec.signature
    ])?;
    TillDb::enqueue(
        conn,
        &record_key(&rec.chain, rec.seq),
        OutboxKind::Record,
        &rec,
    )?;
    Ok(rec)
}

/// The idempotency key of a record: `record:<chain>:<seq>`.
pub fn record_key(chain: &str, seq: u64) -> String {
    format!("record:{chain}:{seq}")
}
