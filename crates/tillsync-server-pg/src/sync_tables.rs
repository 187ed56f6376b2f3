//! Sync tables on PostgreSQL: a business table's layout read from the
//! catalog, change capture triggers into `tillsync_changes`, and
//! [`SyncTableStore`] for [`PgServerDb`].

use postgres::{GenericClient, Transaction};
use sha2::{Digest, Sha256};
use tillsync_core::sync_table::{Direction, SyncTable, SyncType};
use tillsync_wire::layout::Layout;

use crate::db::PgServerDb;
use crate::introspect::{layout, table_name};
use crate::reads::{hash_value, read_full_in};
use tillsync_db::StoreError;
use tillsync_db::digest::TableDigest;
use tillsync_db::sql::{check_ident, lit, q};
use tillsync_server_db::customers::ConflictPolicy;
use tillsync_server_db::export::MAX_KEY;
use tillsync_server_db::store::SyncTableStore;

pub(crate) fn capture_names(table: &str) -> (String, String) {
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

pub(crate) fn add_sync_table_in(
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

impl SyncTableStore for PgServerDb {
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
        crate::customers::conflict_policies(&mut *self.c()?)
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
    fn up_table_layouts(&self) -> Result<Vec<(String, Layout)>, StoreError> {
        crate::customers::up_table_layouts(&mut *self.c()?)
    }
}
