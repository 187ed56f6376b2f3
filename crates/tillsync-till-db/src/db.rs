//! The till database: synced tables under their server names, the version of
//! each, and the sync journal. A package is applied in one transaction that
//! also records the new version, so a crash leaves the previous data.

use std::path::Path;
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use tillsync_wire::layout::Layout;
use tillsync_wire::package::{Op, Package, PackageKind};

use tillsync_db::StoreError;
use tillsync_db::sql::{check_ident, q, q_list, to_sql};
use tillsync_db::sqlite::{migrate, open_sqlite};

use crate::schema::MIGRATIONS;

/// The version a till holds of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableVersion {
    /// Table name.
    pub table: String,
    /// Version held.
    pub version: u64,
    /// Layout hash of the till's copy.
    pub layout_hash: String,
    /// Store subset loaded, if filtered.
    pub subset: Option<String>,
    /// Kind of the last package applied.
    pub kind: String,
    /// When the last package was applied.
    pub loaded_at: String,
}

/// One line of the sync journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalLine {
    /// When (RFC 3339).
    pub at: String,
    /// `install`, `pull`, `apply`…
    pub kind: String,
    /// `ok` or `error`.
    pub result: String,
    /// What happened.
    pub detail: String,
}

/// What applying one package did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Package file.
    pub file: String,
    /// Table.
    pub table: String,
    /// Full or incremental.
    pub kind: String,
    /// Version before.
    pub from_version: Option<u64>,
    /// Version after.
    pub to_version: u64,
    /// Rows inserted or replaced.
    pub upserts: u64,
    /// Rows deleted.
    pub deletes: u64,
    /// Milliseconds spent in the transaction.
    pub millis: u64,
}

/// The till database.
pub struct TillDb {
    conn: Connection,
}

/// What the till expects of every package it applies.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    /// The till's POS folder.
    pub folder: &'a str,
    /// The till's store (a subset package must be for it).
    pub store: &'a str,
    /// Re-apply a full package even at the version already held.
    pub force_full: bool,
}

impl TillDb {
    /// Open (creating if needed) and migrate.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = open_sqlite(path)?;
        // A till applies packages into tables of up to millions of rows: a
        // 64 MiB page cache keeps an incremental from spilling mid-transaction.
        conn.pragma_update(None, "cache_size", -65536)?;
        migrate(&mut conn, MIGRATIONS)?;
        Ok(TillDb { conn })
    }

    /// The connection, for reads by tests and tools.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutable: for the transactions of the other till modules.
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The versions held, by table.
    pub fn table_versions(&self) -> Result<Vec<TableVersion>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tbl, version, layout_hash, subset, kind, loaded_at
             FROM tillsync_table_version ORDER BY tbl",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(TableVersion {
                table: r.get(0)?,
                version: r.get::<_, i64>(1)? as u64,
                layout_hash: r.get(2)?,
                subset: r.get(3)?,
                kind: r.get(4)?,
                loaded_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest `n` journal lines, newest first.
    pub fn recent_journal(&self, n: u32) -> Result<Vec<JournalLine>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, kind, result, detail FROM tillsync_journal ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([n], |r| {
            Ok(JournalLine {
                at: r.get(0)?,
                kind: r.get(1)?,
                result: r.get(2)?,
                detail: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Add a line to the sync journal.
    pub fn journal(&self, kind: &str, result: &str, detail: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO tillsync_journal(at, kind, result, detail) VALUES (?1, ?2, ?3, ?4)",
            params![tillsync_db::now_rfc3339(), kind, result, detail],
        )?;
        Ok(())
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

    /// Apply a verified package in one transaction that also records the new
    /// version. Refuses a package for another folder or store, one older than
    /// what the till holds (a replay), and an incremental that does not
    /// follow the till's version or layout ([`StoreError::needs_full`]).
    ///
    /// The apply transaction runs with `synchronous = NORMAL` (in WAL mode a
    /// crash may lose the last commit, never tear it: the package is then
    /// simply applied again) and without automatic checkpoints, so a large
    /// package is not copied twice inside the transaction; call
    /// [`checkpoint`](Self::checkpoint) once the packages are applied. Both
    /// settings are restored afterwards (tickets are written with FULL).
    pub fn apply(
        &mut self,
        file: &str,
        pkg: &Package<'_>,
        expect: &Expect<'_>,
    ) -> Result<ApplyReport, StoreError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let result = self.apply_in_transaction(file, pkg, expect);
        let restore = self
            .conn
            .pragma_update(None, "synchronous", "FULL")
            .and_then(|_| self.conn.pragma_update(None, "wal_autocheckpoint", 1000));
        let report = result?;
        restore?;
        Ok(report)
    }

    /// Copy the write-ahead log back into the database file (passive: never
    /// waits for readers). Call after applying packages.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    fn apply_in_transaction(
        &mut self,
        file: &str,
        pkg: &Package<'_>,
        expect: &Expect<'_>,
    ) -> Result<ApplyReport, StoreError> {
        let started = Instant::now();
        let h = &pkg.header;
        let refuse = |reason: String| StoreError::Refused {
            file: file.to_string(),
            reason,
        };
        if h.folder != expect.folder {
            return Err(refuse(format!(
                "it belongs to POS folder {:?}, this till to {:?}",
                h.folder, expect.folder
            )));
        }
        if let Some(s) = &h.subset
            && s != expect.store
        {
            return Err(refuse(format!(
                "it holds the rows of store {s}, this till is in store {}",
                expect.store
            )));
        }
        check_ident(&h.table)?;
        if tillsync_db::tables::is_ticket_table(&h.table) {
            return Err(refuse(format!(
                "table {} holds this till's sales (fiscal records) and is never loaded from the server",
                h.table
            )));
        }
        for c in &h.layout.columns {
            check_decl_type(&c.decl_type).map_err(refuse)?;
        }
        let payload = pkg.decompress().map_err(|source| StoreError::Package {
            file: file.to_string(),
            source,
        })?;

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Rows coming down are not changes of this till: the up-table
        // triggers stay quiet while this flag is set (till_customers).
        tx.execute_batch("INSERT OR IGNORE INTO tillsync_applying(flag) VALUES (1)")?;
        let current: Option<(u64, String)> = tx
            .query_row(
                "SELECT version, layout_hash FROM tillsync_table_version WHERE tbl = ?1",
                [&h.table],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?;
        let table = q(&h.table);
        let n = h.layout.columns.len();
        let (mut upserts, mut deletes) = (0u64, 0u64);
        let mut vals = Vec::with_capacity(n);
        let mut records = payload.records();
        let package_err = |source| StoreError::Package {
            file: file.to_string(),
            source,
        };

        match h.kind {
            PackageKind::Full => {
                if let Some((v, _)) = &current
                    && (*v > h.to_version || (*v == h.to_version && !expect.force_full))
                {
                    return Err(refuse(format!(
                        "it is version {}, the till already holds version {v} \
                         (a till never goes back to an older version)",
                        h.to_version
                    )));
                }
                let staging = q(&format!("tillsync_load_{}", h.table));
                tx.execute_batch(&format!(
                    "DROP TABLE IF EXISTS {staging}; {}",
                    create_table_sql(&staging, &h.layout)
                ))?;
                {
                    let placeholders = vec!["?"; n].join(", ");
                    let mut ins =
                        tx.prepare(&format!("INSERT INTO {staging} VALUES ({placeholders})"))?;
                    while let Some(op) = records.next_into(&mut vals).map_err(package_err)? {
                        if op != Op::Upsert {
                            return Err(refuse("a full package holds a deletion".into()));
                        }
                        for (i, v) in vals.iter().enumerate() {
                            ins.raw_bind_parameter(i + 1, to_sql(v))?;
                        }
                        ins.raw_execute()?;
                        upserts += 1;
                    }
                }
                tx.execute_batch(&format!(
                    "DROP TABLE IF EXISTS {table}; ALTER TABLE {staging} RENAME TO {table};"
                ))?;
            }
            PackageKind::Incremental => {
                let Some((v, layout_hash)) = &current else {
                    return Err(refuse(
                        "needs a full load first: the till has never loaded this table".into(),
                    ));
                };
                if h.to_version <= *v {
                    return Err(refuse(format!(
                        "it leads to version {}, the till already holds version {v} \
                         (a till never goes back to an older version)",
                        h.to_version
                    )));
                }
                if h.from_version != *v {
                    return Err(refuse(format!(
                        "needs a full load: the package starts at version {}, the till holds {v}",
                        h.from_version
                    )));
                }
                if *layout_hash != h.layout_hash {
                    return Err(refuse(
                        "needs a full load: the table's layout changed on the server".into(),
                    ));
                }
                let cols = q_list(h.layout.columns.iter().map(|c| c.name.as_str()));
                let keys = q_list(h.layout.key.iter().map(String::as_str));
                let placeholders = vec!["?"; n].join(", ");
                let sets: Vec<String> = h
                    .layout
                    .columns
                    .iter()
                    .filter(|c| !h.layout.key.contains(&c.name))
                    .map(|c| format!("{0} = excluded.{0}", q(&c.name)))
                    .collect();
                let conflict = if sets.is_empty() {
                    "DO NOTHING".to_string()
                } else {
                    format!("DO UPDATE SET {}", sets.join(", "))
                };
                let mut up = tx.prepare(&format!(
                    "INSERT INTO {table} ({cols}) VALUES ({placeholders}) ON CONFLICT ({keys}) {conflict}"
                ))?;
                let where_key = h
                    .layout
                    .key
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("{} = ?{}", q(k), i + 1))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let mut del = tx.prepare(&format!("DELETE FROM {table} WHERE {where_key}"))?;
                while let Some(op) = records.next_into(&mut vals).map_err(package_err)? {
                    let stmt = match op {
                        Op::Upsert => {
                            upserts += 1;
                            &mut up
                        }
                        Op::Delete => {
                            deletes += 1;
                            &mut del
                        }
                    };
                    for (i, v) in vals.iter().enumerate() {
                        stmt.raw_bind_parameter(i + 1, to_sql(v))?;
                    }
                    stmt.raw_execute()?;
                }
            }
        }
        let layout_json = serde_json::to_string(&h.layout).expect("layout serializes");
        tx.execute(
            "INSERT INTO tillsync_table_version(tbl, version, layout_hash, layout, subset, kind, loaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(tbl) DO UPDATE SET version = excluded.version,
               layout_hash = excluded.layout_hash, layout = excluded.layout,
               subset = excluded.subset, kind = excluded.kind, loaded_at = excluded.loaded_at",
            params![
                h.table,
                h.to_version as i64,
                h.layout_hash,
                layout_json,
                h.subset,
                h.kind.to_string(),
                tillsync_db::now_rfc3339()
            ],
        )?;
        let report = ApplyReport {
            file: file.to_string(),
            table: h.table.clone(),
            kind: h.kind.to_string(),
            from_version: current.map(|(v, _)| v),
            to_version: h.to_version,
            upserts,
            deletes,
            millis: 0,
        };
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, result, detail) VALUES (?1, 'apply', 'ok', ?2)",
            params![
                tillsync_db::now_rfc3339(),
                format!(
                    "{file}: {} {} v{} → v{}, {upserts} upserts, {deletes} deletes",
                    h.table,
                    h.kind,
                    report
                        .from_version
                        .map(|v| v.to_string())
                        .unwrap_or("-".into()),
                    h.to_version
                )
            ],
        )?;
        tx.execute_batch("DELETE FROM tillsync_applying")?;
        tx.commit()?;
        Ok(ApplyReport {
            millis: started.elapsed().as_millis() as u64,
            ..report
        })
    }
}

/// `CREATE TABLE name (cols…, PRIMARY KEY (keys…))` for a layout.
pub fn create_table_sql(name: &str, layout: &Layout) -> String {
    let cols = layout
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                q(&c.name),
                c.decl_type,
                if c.not_null { " NOT NULL" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let keys = q_list(layout.key.iter().map(String::as_str));
    format!("CREATE TABLE {name} ({cols}, PRIMARY KEY ({keys}));")
}

/// Declared types enter SQL text: only letters, digits, spaces, `_`, `(`, `)`, `,`.
pub(crate) fn check_decl_type(t: &str) -> Result<(), String> {
    if t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '(' | ')' | ','))
    {
        Ok(())
    } else {
        Err(format!("column type {t:?} is not a plain SQL type"))
    }
}
