//! "Test connection" (the seed's buttons): the server database and the FTP server.

use std::time::Duration;

use serde::Serialize;
use tillsync_transport::{CheckReport, check_ftp};

use crate::data::DataDir;
use crate::error::ServerError;

/// What the database check found.
#[derive(Debug, Clone, Serialize)]
pub struct DbReport {
    /// `sqlite` or `postgres`.
    pub kind: String,
    /// Engine version (`3.50.4`, `15.14`).
    pub version: String,
    /// `SQLite` or `PostgreSQL`.
    pub engine: String,
    /// Where (a PostgreSQL password is masked).
    pub location: String,
    /// Sync tables registered, as `TABLE (direction, type[, filter COL])`.
    pub sync_tables: Vec<String>,
}

impl std::fmt::Display for DbReport {
    /// The text `tillsync server check db` prints and the admin pages'
    /// "Test connection" button shows: one wording for both.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "database OK: {} {} ({})",
            self.engine, self.version, self.location
        )?;
        if self.sync_tables.is_empty() {
            write!(f, "\nno sync tables yet")?;
        }
        for t in &self.sync_tables {
            write!(f, "\n  sync table {t}")?;
        }
        Ok(())
    }
}

/// Connect to the server database and list the sync tables.
pub fn check_db(data: &DataDir) -> Result<DbReport, ServerError> {
    let cfg = data.config()?;
    let db = data.open_store_with(&cfg)?;
    let version = db.engine_version()?;
    let sync_tables = db
        .sync_tables()?
        .into_iter()
        .map(|t| {
            let mut s = format!("{} ({}, {}", t.table, t.direction, t.sync_type);
            if let Some(f) = t.filter {
                s.push_str(&format!(", filter {f}"));
            }
            s.push(')');
            s
        })
        .collect();
    Ok(DbReport {
        kind: db.backend().as_str().into(),
        version,
        engine: db.backend().engine_name().into(),
        location: tillsync_core::config::redact_db_url(&cfg.db.url),
        sync_tables,
    })
}

/// Log in to the FTP server of the configuration and download `test.txt`.
pub fn check_ftp_server(data: &DataDir) -> Result<CheckReport, ServerError> {
    let cfg = data.config()?;
    let timeout = Duration::from_millis(cfg.till.ws_timeout_ms.min(15_000));
    Ok(check_ftp(
        &cfg.ftp.address,
        &cfg.ftp.user,
        cfg.ftp.password.expose(),
        timeout,
    )?)
}
