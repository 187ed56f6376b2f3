//! Tills on PostgreSQL: credentials, who is calling (one statement for a
//! group of calls), the polling path's bookkeeping, and [`TillStore`] for
//! [`PgServerDb`].

use postgres::GenericClient;
use tillsync_wire::api::TillTable;

use crate::db::PgServerDb;
use crate::up as pg_up;
use tillsync_db::StoreError;
use tillsync_db::error::pg_message;
use tillsync_server_db::store::{Bookkeeping, PollIdentity, TillStore};
use tillsync_server_db::tills::{AuthFailure, ReportedTable, TillOverview, TillRow, revoke_line};

/// [`TillStore::poll_identities`] in one round trip: for each till id
/// of `$1`, in order, its credentials, its store and the catalog
/// generation. The lateral lookups (`OFFSET 0` keeps them apart) are index
/// lookups whatever the plan thinks of the array's length: a hash join
/// would read every till's credentials for a handful of calls.
pub(crate) const POLL_IDENTITIES: &str = r#"SELECT t.token_sha256, t.revoked_at,
       (SELECT s."store"::text FROM "STORE_TILL" s WHERE s."till_id"::text = q.id LIMIT 1),
       g.n
    FROM tillsync_catalog_generation g
    CROSS JOIN unnest($1::text[]) WITH ORDINALITY AS q(id, i)
    LEFT JOIN LATERAL (
        SELECT x.token_sha256, x.revoked_at FROM tillsync_tills x
        WHERE x.till_id = q.id OFFSET 0
    ) t ON true
    WHERE g.id = 1
    ORDER BY q.i"#;

// ---------------------------------------------------------------------------
// Connecting, with plain words for what went wrong.

pub(crate) fn tills_in(c: &mut impl GenericClient) -> Result<Vec<TillRow>, StoreError> {
    let rows = c
        .query(
            r#"SELECT s."till_id"::text, s."store"::text, t.issued_at, t.revoked_at, t.last_contact,
                 (SELECT h.key_id FROM tillsync_key_history h WHERE h.till_id = s."till_id"::text
                  ORDER BY h.seq DESC LIMIT 1),
                 (SELECT max(e.expires_at) FROM tillsync_enrolments e
                  WHERE e.till_id = s."till_id"::text AND e.used_at IS NULL
                    AND e.superseded_at IS NULL)
               FROM "STORE_TILL" s LEFT JOIN tillsync_tills t ON t.till_id = s."till_id"::text
               ORDER BY s."till_id" COLLATE "C""#,
            &[],
        )
        .map_err(|e| StoreError::NoStoreTill(pg_message(&e)))?;
    Ok(rows
        .into_iter()
        .map(|r| TillRow {
            till_id: r.get(0),
            store: r.get(1),
            issued_at: r.get(2),
            revoked_at: r.get(3),
            last_contact: r.get(4),
            key_id: r.get(5),
            enrolment_expires_at: r.get(6),
        })
        .collect())
}

impl TillStore for PgServerDb {
    fn till_store(&self, till_id: &str) -> Result<String, StoreError> {
        let r = self.c()?.query_opt(
            r#"SELECT "store"::text FROM "STORE_TILL" WHERE "till_id"::text = $1"#,
            &[&till_id],
        );
        match r {
            Ok(Some(row)) => Ok(row.get(0)),
            Ok(None) => Err(StoreError::UnknownTill(till_id.into())),
            Err(e) if e.as_db_error().is_some() => Err(StoreError::NoStoreTill(pg_message(&e))),
            Err(e) => Err(e.into()),
        }
    }
    fn authenticate(
        &self,
        till_id: &str,
        token_sha256: &str,
    ) -> Result<Result<(), AuthFailure>, StoreError> {
        let row = self.c()?.query_opt(
            "SELECT token_sha256, revoked_at FROM tillsync_tills WHERE till_id = $1",
            &[&till_id],
        )?;
        Ok(match row {
            None => Err(AuthFailure::BadCredentials),
            Some(r) => {
                let stored: String = r.get(0);
                let revoked: Option<String> = r.get(1);
                if !tillsync_core::secret::constant_time_eq(
                    stored.as_bytes(),
                    token_sha256.as_bytes(),
                ) {
                    Err(AuthFailure::BadCredentials)
                } else if revoked.is_some() {
                    Err(AuthFailure::Revoked)
                } else {
                    Ok(())
                }
            }
        })
    }
    fn poll_identity(&self, till_id: &str, token_sha256: &str) -> Result<PollIdentity, StoreError> {
        let call = [(till_id.to_string(), token_sha256.to_string())];
        self.poll_identities(&call)?.pop().unwrap_or_else(|| {
            Err(StoreError::Inconsistent(format!(
                "the credentials check of till {till_id} read no row"
            )))
        })
    }
    fn poll_identities(
        &self,
        calls: &[(String, String)],
    ) -> Result<Vec<Result<PollIdentity, StoreError>>, StoreError> {
        let rows = {
            let mut c = self.c()?;
            match self.prepared(&mut c, POLL_IDENTITIES) {
                Ok(st) => {
                    let ids: Vec<&str> = calls.iter().map(|(till, _)| till.as_str()).collect();
                    Some(c.query(&st, &[&ids])?)
                }
                // No STORE_TILL (or not one that query can read): the
                // calls one by one, which name the problem.
                Err(e) if e.as_db_error().is_some() => None,
                Err(e) => return Err(e.into()),
            }
        };
        let Some(rows) = rows else {
            return Ok(calls
                .iter()
                .map(|(till, token)| {
                    tillsync_server_db::store::poll_identity_by_calls(self, till, token)
                })
                .collect());
        };
        if rows.len() != calls.len() {
            return Err(StoreError::Inconsistent(format!(
                "{} credentials checks read {} rows (is tillsync_catalog_generation empty?)",
                calls.len(),
                rows.len()
            )));
        }
        Ok(calls
            .iter()
            .zip(rows)
            .map(|((till_id, token_sha256), r)| {
                let stored: Option<String> = r.get(0);
                let revoked: Option<String> = r.get(1);
                let store: Option<String> = r.get(2);
                let generation: i64 = r.get(3);
                let auth = match stored {
                    Some(s)
                        if tillsync_core::secret::constant_time_eq(
                            s.as_bytes(),
                            token_sha256.as_bytes(),
                        ) =>
                    {
                        if revoked.is_some() {
                            Err(AuthFailure::Revoked)
                        } else {
                            Ok(())
                        }
                    }
                    _ => Err(AuthFailure::BadCredentials),
                };
                let store = match (&auth, store) {
                    (Ok(()), None) => return Err(StoreError::UnknownTill(till_id.clone())),
                    (Ok(()), store) => store,
                    (Err(_), _) => None,
                };
                Ok(PollIdentity {
                    auth,
                    store,
                    generation: Some(generation),
                })
            })
            .collect())
    }
    fn catalog_generation(&self) -> Result<Option<i64>, StoreError> {
        let mut c = self.c()?;
        let st = self.prepared(
            &mut c,
            "SELECT n FROM tillsync_catalog_generation WHERE id = 1",
        )?;
        Ok(Some(c.query_one(&st, &[])?.get(0)))
    }
    fn touch_till(&self, till_id: &str) -> Result<(), StoreError> {
        self.c()?.execute(
            "UPDATE tillsync_tills SET last_contact = $2 WHERE till_id = $1",
            &[&till_id, &tillsync_db::now_rfc3339()],
        )?;
        Ok(())
    }
    fn revoke_till(&mut self, till_id: &str) -> Result<(), StoreError> {
        let mut tx = self.cm()?.transaction()?;
        let now = tillsync_db::now_rfc3339();
        let tokens = tx.execute(
            "UPDATE tillsync_tills SET revoked_at = $2 WHERE till_id = $1",
            &[&till_id, &now],
        )?;
        let packages = tx.execute(
            "UPDATE tillsync_enrolments SET superseded_at = $2
             WHERE till_id = $1 AND used_at IS NULL AND superseded_at IS NULL",
            &[&till_id, &now],
        )?;
        if tokens == 0 && packages == 0 {
            return Err(StoreError::Inconsistent(format!(
                "till {till_id} has no credentials (no deployment package was generated for it)"
            )));
        }
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES ($1, 'credentials', $2, 'ok', $3)",
            &[&now, &till_id, &revoke_line(packages)],
        )?;
        tx.commit()?;
        Ok(())
    }
    fn till_ticket_keys(&self, till_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .c()?
            .query(
                "SELECT public_key FROM tillsync_till_keys WHERE till_id = $1
                 ORDER BY issued_at DESC",
                &[&till_id],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
    }
    fn tills(&self) -> Result<Vec<TillRow>, StoreError> {
        tills_in(&mut *self.c()?)
    }
    fn write_bookkeeping(&mut self, writes: &[Bookkeeping]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        // A few set-wise statements for the whole list, however long (the
        // deferred writer passes hundreds of tills at once).
        let now = tillsync_db::now_rfc3339();
        let contacts: Vec<&str> = writes
            .iter()
            .filter(|w| w.contact)
            .map(|w| w.till.as_str())
            .collect();
        let reporting: Vec<&str> = writes
            .iter()
            .filter(|w| w.tables.is_some())
            .map(|w| w.till.as_str())
            .collect();
        // (till, table) once each, the last report winning.
        let mut tables: std::collections::BTreeMap<(&str, &str), &TillTable> = Default::default();
        for w in writes {
            for t in w.tables.iter().flatten() {
                tables.insert((w.till.as_str(), t.table.as_str()), t);
            }
        }
        let mut reports: std::collections::BTreeMap<&str, &tillsync_wire::api::TillReport> =
            Default::default();
        for w in writes {
            if let Some(r) = &w.report {
                reports.insert(w.till.as_str(), r);
            }
        }
        let asked: Vec<(&str, &str)> = writes
            .iter()
            .filter_map(|w| w.asked.as_deref().map(|d| (w.till.as_str(), d)))
            .collect();

        let mut tx = self.cm()?.transaction()?;
        // Committed without waiting for the WAL flush (this transaction only).
        tx.batch_execute("SET LOCAL synchronous_commit = off")?;
        if !contacts.is_empty() {
            tx.execute(
                "UPDATE tillsync_tills SET last_contact = $2 WHERE till_id = ANY($1)",
                &[&contacts, &now],
            )?;
        }
        if !reporting.is_empty() {
            // What a till reports replaces what it said before.
            tx.execute(
                "DELETE FROM tillsync_till_tables WHERE till_id = ANY($1)",
                &[&reporting],
            )?;
            let till: Vec<&str> = tables.keys().map(|k| k.0).collect();
            let tbl: Vec<&str> = tables.keys().map(|k| k.1).collect();
            let version: Vec<Option<i64>> = tables
                .values()
                .map(|t| t.version.and_then(|v| i64::try_from(v).ok()))
                .collect();
            let layout: Vec<Option<&str>> =
                tables.values().map(|t| t.layout_hash.as_deref()).collect();
            tx.execute(
                "INSERT INTO tillsync_till_tables(till_id, tbl, version, layout_hash, reported_at)
                 SELECT u.*, $5 FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[]) AS u",
                &[&till, &tbl, &version, &layout, &now],
            )?;
        }
        if !reports.is_empty() {
            let till: Vec<&str> = reports.keys().copied().collect();
            let values: Vec<_> = reports
                .values()
                .map(|r| tillsync_server_db::reports::report_values(r))
                .collect();
            let tickets: Vec<i64> = values.iter().map(|v| v.0).collect();
            let other: Vec<i64> = values.iter().map(|v| v.1).collect();
            let oldest_at: Vec<Option<&str>> = values.iter().map(|v| v.2.as_deref()).collect();
            let oldest_age: Vec<Option<i64>> = values.iter().map(|v| v.3).collect();
            let errors: Vec<i64> = values.iter().map(|v| v.4).collect();
            let last_error: Vec<Option<&str>> = values.iter().map(|v| v.5.as_deref()).collect();
            tx.execute(
                tillsync_server_db::reports::UPSERT_REPORTS_PG,
                &[
                    &till,
                    &tickets,
                    &other,
                    &oldest_at,
                    &oldest_age,
                    &errors,
                    &last_error,
                    &now,
                ],
            )?;
        }
        if !asked.is_empty() {
            let till: Vec<&str> = asked.iter().map(|a| a.0).collect();
            let detail: Vec<&str> = asked.iter().map(|a| a.1).collect();
            tx.execute(
                "INSERT INTO tillsync_journal(at, kind, till, result, detail)
                 SELECT $1, 'packages-asked', u.till, 'ok', u.detail
                 FROM UNNEST($2::text[], $3::text[]) WITH ORDINALITY AS u(till, detail, i)
                 ORDER BY u.i",
                &[&now, &till, &detail],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
    fn till_overview(&self) -> Result<Vec<TillOverview>, StoreError> {
        let mut overview = {
            let mut c = self.c()?;
            let tills = tills_in(&mut *c)?;
            pg_up::listings::till_overview(&mut *c, tills)?
        };
        let mut reports: std::collections::BTreeMap<
            String,
            tillsync_server_db::reports::OutboxReport,
        > = self
            .till_reports()?
            .into_iter()
            .map(|r| (r.till_id.clone(), r))
            .collect();
        for o in &mut overview {
            o.outbox = reports.remove(&o.till.till_id);
        }
        Ok(overview)
    }
    fn record_till_report(
        &mut self,
        till: &str,
        report: &tillsync_wire::api::TillReport,
    ) -> Result<(), StoreError> {
        self.write_bookkeeping(&[Bookkeeping {
            till: till.to_string(),
            report: Some(report.clone()),
            ..Default::default()
        }])?;
        Ok(())
    }
    fn till_reports(&self) -> Result<Vec<tillsync_server_db::reports::OutboxReport>, StoreError> {
        let rows = self
            .c()?
            .query(tillsync_server_db::reports::SELECT_REPORTS, &[])?;
        Ok(rows
            .into_iter()
            .map(|r| {
                tillsync_server_db::reports::report_from_row(
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                )
            })
            .collect())
    }
    fn record_till_tables(&mut self, till: &str, tables: &[TillTable]) -> Result<(), StoreError> {
        pg_up::listings::record_till_tables(self.cm()?, till, tables)
    }
    fn till_tables(&self) -> Result<Vec<ReportedTable>, StoreError> {
        pg_up::listings::till_tables(&mut *self.c()?)
    }
}
