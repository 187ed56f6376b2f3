//! The test matrix's PostgreSQL side: with `TILLSYNC_TEST_PG_URL` set
//! (`postgres://USER:PASSWORD@127.0.0.1:PORT/postgres`), every
//! [`crate::TestServer`] gets a fresh database of its own on that server,
//! dropped when the test server is dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable naming the PostgreSQL server for tests.
pub const ENV: &str = "TILLSYNC_TEST_PG_URL";

/// The PostgreSQL URL of the test run, if the suite runs against PostgreSQL.
/// With `TILLSYNC_REQUIRE_PG=1` (CI's PostgreSQL run) a missing URL is an
/// error rather than a silent SQLite run.
pub fn test_url() -> Option<String> {
    let url = std::env::var(ENV).ok().filter(|u| !u.trim().is_empty());
    assert!(
        url.is_some() || std::env::var("TILLSYNC_REQUIRE_PG").as_deref() != Ok("1"),
        "TILLSYNC_REQUIRE_PG=1 but {ENV} is not set"
    );
    url
}

/// A database created for one test, dropped (connections closed) on drop.
pub struct PgDatabase {
    admin: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl PgDatabase {
    /// Create a database with a fresh name on the server of `admin_url`.
    pub fn create(admin_url: &str) -> PgDatabase {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "tillsync_it_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut c =
            tillsync_store::pg::connect(admin_url).expect("connect to TILLSYNC_TEST_PG_URL");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the test database");
        PgDatabase {
            admin: admin_url.to_string(),
            url: tillsync_store::pg::url_with_database(admin_url, &name),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = tillsync_store::pg::connect(&self.admin) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The business tables of the demo and of the up path, upper case.
const DEMO_TABLES: &[&str] = &[
    "ART",
    "CLI",
    "T012",
    "STORE_TILL",
    "TICKET",
    "TICKET_LINE",
    "TICKET_PAYMENT",
    "TICKET_VAT",
    "TILL_PARAM",
];

/// Quote the unquoted upper-case demo table names of `sql` (outside
/// string literals and quoted names).
pub fn quote_demo_tables(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let b = sql.as_bytes();
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            // Copy a literal or a quoted name whole.
            let end = sql[i + 1..]
                .find(c as char)
                .map_or(b.len(), |j| i + 1 + j + 1);
            out.push_str(&sql[i..end]);
            i = end;
            continue;
        }
        if ident(c) && (i == 0 || !ident(b[i - 1])) {
            let end = sql[i..]
                .bytes()
                .position(|c| !ident(c))
                .map_or(b.len(), |j| i + j);
            let word = &sql[i..end];
            if DEMO_TABLES.contains(&word) {
                out.push('"');
                out.push_str(word);
                out.push('"');
            } else {
                out.push_str(word);
            }
            i = end;
            continue;
        }
        let ch = sql[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_only_bare_demo_names() {
        assert_eq!(
            super::quote_demo_tables(
                "UPDATE ART SET label = 'ART x' WHERE code IN (SELECT k1 FROM tillsync_changes) AND \"CLI\".x = ARTICLE"
            ),
            "UPDATE \"ART\" SET label = 'ART x' WHERE code IN (SELECT k1 FROM tillsync_changes) AND \"CLI\".x = ARTICLE"
        );
    }
}
