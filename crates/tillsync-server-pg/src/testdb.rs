//! The one PostgreSQL test fixture: a throwaway database on the server
//! named by `TILLSYNC_TEST_PG_URL`, dropped (connections closed) on drop.
//! Used by this crate's tests, the server's backend-matrix tests and the
//! test kit; with `TILLSYNC_REQUIRE_PG=1` (CI's PostgreSQL run) a missing
//! URL fails the test instead of skipping it.

use std::sync::atomic::{AtomicU64, Ordering};

use postgres::Client;

use crate::db::{connect, url_with_database};

/// The environment variable naming the PostgreSQL server for tests.
pub const ENV: &str = "TILLSYNC_TEST_PG_URL";

/// The PostgreSQL URL of the test run, if the tests run against
/// PostgreSQL. Panics under `TILLSYNC_REQUIRE_PG=1` when it is not set.
pub fn test_url() -> Option<String> {
    let url = std::env::var(ENV).ok().filter(|u| !u.trim().is_empty());
    assert!(
        url.is_some() || std::env::var("TILLSYNC_REQUIRE_PG").as_deref() != Ok("1"),
        "TILLSYNC_REQUIRE_PG=1 but {ENV} is not set"
    );
    url
}

/// A database created for one test, dropped on drop.
pub struct TestDb {
    admin: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl TestDb {
    /// A fresh database on the server of [`test_url`], or `None` with a
    /// notice on stderr (the test is skipped) when no PostgreSQL is set.
    pub fn from_env() -> Option<TestDb> {
        let Some(admin) = test_url() else {
            eprintln!("skipped: set {ENV} to run the PostgreSQL tests");
            return None;
        };
        Some(TestDb::create(&admin))
    }

    /// Create a database with a fresh name on the server of `admin_url`.
    pub fn create(admin_url: &str) -> TestDb {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "tillsync_t_{}_{}_{:08x}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut c = connect(admin_url).expect("connect to TILLSYNC_TEST_PG_URL");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the test database");
        TestDb {
            admin: admin_url.to_string(),
            url: url_with_database(admin_url, &name),
            name,
        }
    }

    /// A new connection to it.
    pub fn client(&self) -> Client {
        connect(&self.url).expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = connect(&self.admin) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
