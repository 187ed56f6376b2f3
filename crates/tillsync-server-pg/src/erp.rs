//! Business data on PostgreSQL as another writer sees it (the demo's
//! tables copied from SQLite, SQL run as the ERP would): [`ErpStore`] for
//! [`PgServerDb`].

use postgres::Transaction;

use crate::db::PgServerDb;
use tillsync_db::StoreError;
use tillsync_db::demo::DemoCounts;
use tillsync_db::sql::q;
use tillsync_server_db::store::ErpStore;

impl ErpStore for PgServerDb {
    fn create_demo_tables(&mut self, items: usize, seed: u64) -> Result<DemoCounts, StoreError> {
        // The same rows as on SQLite: made there (in memory), then copied
        // in one transaction with the columns' types and defaults.
        let lite = rusqlite::Connection::open_in_memory()?;
        let counts = tillsync_db::demo::create_demo_tables(&lite, items, seed)?;
        let mut tx = self.cm()?.transaction()?;
        for table in tillsync_db::demo::DEMO_TABLES {
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
pub(crate) fn copy_table(
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
