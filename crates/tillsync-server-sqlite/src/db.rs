//! The server database: [`ServerDb`], opened and migrated (tillsync's own
//! tables beside the business tables), its connection, and the sync journal.

use std::path::Path;

use rusqlite::{Connection, params};

use crate::migrations::MIGRATIONS;
use tillsync_db::StoreError;
use tillsync_db::sqlite::migrate;
use tillsync_db::sqlite::open_sqlite;

/// The server database.
pub struct ServerDb {
    conn: Connection,
}

impl ServerDb {
    /// Open (creating if needed) and migrate.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = open_sqlite(path)?;
        migrate(&mut conn, MIGRATIONS)?;
        Ok(ServerDb { conn })
    }

    /// The connection, for business-table work (demo data, tests).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutably (transactions).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// SQLite library version.
    pub fn engine_version(&self) -> String {
        rusqlite::version().to_string()
    }

    /// Add a line to the sync journal.
    pub fn journal(
        &self,
        kind: &str,
        till: Option<&str>,
        result: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![tillsync_db::now_rfc3339(), kind, till, result, detail],
        )?;
        Ok(())
    }
}
