//! The up path on a PostgreSQL server database: tickets (idempotency
//! records, quarantine, chain verification, gaps), customers created from
//! tills, customer edits and abandons with their conflict policy, rows of
//! up-direction tables. The rules are written once in
//! `tillsync_server_db::up` (tickets, customers) over the SQL steps given
//! here, as the SQLite backend gives its own; every function works inside
//! the caller's transaction.
//!
//! # Several server processes on one PostgreSQL
//! - Outbox batches: [`tickets::received`] (the first thing the web service
//!   asks of each item), [`tickets::store_ticket`] and
//!   [`tickets::quarantine_unreadable`] take a per-till transaction-scoped
//!   advisory lock ([`lock_till`]) before they read, so two processes filing
//!   the same batch of one till run one after the other; the second sees
//!   the first's committed idempotency records and tickets (the transaction
//!   must be READ COMMITTED, PostgreSQL's default) and answers as to a
//!   resend. The unique keys of `TICKET` and `tillsync_received` (with
//!   `ON CONFLICT DO NOTHING`) back this up: a ticket is stored once.
//! - A batch transaction cut by a PostgreSQL restart or a lost connection
//!   is rolled back whole; [`is_retryable`] tells the web service to answer
//!   "try again" (the till keeps its outbox and resends).
//! - Customer codes: [`crate::customers::create_customer`] locks the prefix's row
//!   of `tillsync_customer_codes` (`SELECT … FOR UPDATE`) while it picks
//!   the next code, so concurrent creations get distinct codes.
//!
//! # Tables this module reads but does not create
//! `tillsync_journal(id, at, kind, till, result, detail)`,
//! `tillsync_sync_tables(tbl, direction, sync_type, filter_column,
//! created_at, conflict_policy)` and the change log
//! `tillsync_changes(seq, tbl, op, k1, k2, k3, k4 TEXT, at BIGINT Unix
//! seconds)`: see `test_support.sql` for the shapes the tests create.

pub mod customers;
pub mod fast;
pub mod listings;
pub mod records;
pub mod store;
pub mod tickets;

use postgres::GenericClient;

use tillsync_db::StoreError;

/// DDL of the up path's ticket tables, step 3 of the server schema
/// (idempotent: `CREATE … IF NOT EXISTS`).
pub const TICKETS_SCHEMA: &str = include_str!("tickets_schema.sql");

/// DDL of tickets version 2 and the training tickets' tables, step 7 of
/// the server schema (idempotent: `… IF NOT EXISTS`).
pub const TICKETS_V2_SCHEMA: &str = include_str!("tickets_v2_schema.sql");

/// DDL of the up path's customer tables, step 4 of the server schema
/// (idempotent).
pub const CUSTOMERS_SCHEMA: &str = include_str!("customers_schema.sql");

/// DDL of the demo customers table `CLI` (the SQLite demo's columns).
pub const DEMO_CUSTOMERS: &str = include_str!("demo_customers.sql");

/// Create the up-path tables that do not exist yet.
pub fn create_tables(client: &mut impl GenericClient) -> Result<(), StoreError> {
    client.batch_execute(TICKETS_SCHEMA)?;
    client.batch_execute(CUSTOMERS_SCHEMA)?;
    client.batch_execute(TICKETS_V2_SCHEMA)?;
    Ok(())
}

/// Hold, until the end of the current transaction, the lock that orders
/// the writes of one till's tickets across server processes. Taking it
/// again in the same transaction is harmless.
pub fn lock_till(client: &mut impl GenericClient, till: &str) -> Result<(), StoreError> {
    client.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('tillsync-till:' || $1::text, 0))",
        &[&till],
    )?;
    Ok(())
}

/// [`lock_till`] for several tills (`$1`, text array) in one statement,
/// in the order given (callers sort them, so that two processes cannot
/// deadlock).
pub const LOCK_TILLS: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('tillsync-till:' || t, 0))
     FROM UNNEST($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY u.i";

/// True when the error is PostgreSQL being unreachable, restarting or
/// shutting down, the connection lost, or a transaction aborted by a
/// serialization failure or deadlock: nothing was committed and the same
/// request may simply be sent again.
pub fn is_retryable(e: &StoreError) -> bool {
    let StoreError::Postgres(e) = e else {
        return false;
    };
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // 08: connection exception; 57P01-57P03: admin shutdown, crash
        // shutdown, cannot connect now; 40001, 40P01: serialization
        // failure, deadlock.
        Some(c) => {
            let c = c.code();
            c.starts_with("08") || ["57P01", "57P02", "57P03", "40001", "40P01"].contains(&c)
        }
        // No SQLSTATE: retryable when the connection itself failed (I/O).
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// Errors caused by the data itself (SQLSTATE class 22, data exception, and
/// class 23, integrity constraint violation), not by the database.
pub fn is_data_error(e: &postgres::Error) -> bool {
    e.code()
        .map(|c| c.code().starts_with("22") || c.code().starts_with("23"))
        .unwrap_or(false)
}

#[cfg(test)]
pub(crate) mod testpg {
    //! A fresh PostgreSQL database per test, on the server named by
    //! `TILLSYNC_TEST_PG_URL`; dropped at the end.

    use postgres::Client;

    /// Tables of the PostgreSQL server the up path reads but does not own.
    pub const SUPPORT: &str = include_str!("test_support.sql");

    /// A throwaway database ([`crate::testdb::TestDb`]) with the up-path
    /// tables and the support tables.
    pub struct TestDb(crate::testdb::TestDb);

    impl TestDb {
        /// A new database with the up-path tables and the support tables,
        /// or `None` (with a notice) when no PostgreSQL is configured.
        pub fn new() -> Option<TestDb> {
            let db = TestDb(crate::testdb::TestDb::from_env()?);
            let mut c = db.client();
            super::create_tables(&mut c).unwrap();
            c.batch_execute(super::DEMO_CUSTOMERS).unwrap();
            c.batch_execute(SUPPORT).unwrap();
            Some(db)
        }

        /// A new connection to it.
        pub fn client(&self) -> Client {
            self.0.client()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_can_be_created_again_and_errors_are_classified() {
        let Some(db) = testpg::TestDb::new() else {
            return;
        };
        let mut c = db.client();
        create_tables(&mut c).unwrap();
        let n: i64 = c
            .query_one(
                "SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema()
                   AND (table_name LIKE 'TICKET%' OR table_name LIKE 'tillsync_%')",
                &[],
            )
            .unwrap()
            .get(0);
        // 4 ticket tables, 9 up-path tables, 2 of the training chain (its 4
        // ticket tables are TRAINING_…), 3 support tables of the tests.
        assert_eq!(n, 18);
        let dup = c
            .execute(
                "INSERT INTO tillsync_customer_codes VALUES ('A', 1), ('A', 2)",
                &[],
            )
            .unwrap_err();
        assert!(is_data_error(&dup));
        assert!(!is_retryable(&StoreError::Postgres(dup)));
        let syntax = c.execute("SELEC 1", &[]).unwrap_err();
        assert!(!is_data_error(&syntax));
    }
}
