//! The tills' keys on PostgreSQL: enrolment secrets (`tillsync_enrolments`),
//! the key histories (`tillsync_key_history`), the SQL of the steps of a
//! key change ([`KeySql`], over which `tillsync_server_db::keys::change_key`
//! decides; one key change of a till at a time across server processes),
//! and [`KeyStore`] for [`PgServerDb`].

use postgres::{GenericClient, Row, Transaction};
use tillsync_db::StoreError;
use tillsync_server_db::keys::{
    Enrolment, KeyClaim, KeyOutcome, KeyRefusal, KeySteps, SignFn, change_key, enrolment_line,
    with_reason,
};
use tillsync_server_db::store::KeyStore;
use tillsync_wire::keys::{KeyReason, KeyRecord};

use crate::db::PgServerDb;

const RECORD_COLUMNS: &str = "version, till_id, seq, key_id, public_key, valid_from, recorded_at,
    previous_key_id, reason, signature";

const ENROLMENT_COLUMNS: &str =
    "secret_sha256, till_id, issued_at, expires_at, superseded_at, used_at, used_key_id";

fn record(r: &Row) -> Result<KeyRecord, StoreError> {
    let version: i32 = r.get(0);
    let seq: i64 = r.get(2);
    let reason: String = r.get(8);
    with_reason(
        KeyRecord {
            version: version as u32,
            till: r.get(1),
            seq: seq as u64,
            key_id: r.get(3),
            public_key: r.get(4),
            valid_from: r.get(5),
            recorded_at: r.get(6),
            previous_key_id: r.get(7),
            reason: KeyReason::Enrolment,
            signature: r.get(9),
        },
        &reason,
    )
}

fn enrolment(r: &Row) -> Enrolment {
    Enrolment {
        secret_sha256: r.get(0),
        till_id: r.get(1),
        issued_at: r.get(2),
        expires_at: r.get(3),
        superseded_at: r.get(4),
        used_at: r.get(5),
        used_key_id: r.get(6),
    }
}

fn history_in(c: &mut impl GenericClient, till: &str) -> Result<Vec<KeyRecord>, StoreError> {
    c.query(
        &format!(
            "SELECT {RECORD_COLUMNS} FROM tillsync_key_history WHERE till_id = $1 ORDER BY seq"
        ),
        &[&till],
    )?
    .iter()
    .map(record)
    .collect()
}

fn unrecorded_in(
    c: &mut impl GenericClient,
    till: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(c.query(
        "SELECT k.public_key, k.issued_at FROM tillsync_till_keys k
         WHERE k.till_id = $1
           AND NOT EXISTS (SELECT 1 FROM tillsync_key_history h WHERE h.public_key = k.public_key)
         ORDER BY k.issued_at, k.public_key COLLATE \"C\"",
        &[&till],
    )?
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// The steps of a key change on a PostgreSQL transaction.
pub struct KeySql<'a, 't>(pub &'a mut Transaction<'t>);

impl KeySteps for KeySql<'_, '_> {
    fn enrolment(&mut self, secret_sha256: &str) -> Result<Option<Enrolment>, StoreError> {
        Ok(self
            .0
            .query_opt(
                &format!(
                    "SELECT {ENROLMENT_COLUMNS} FROM tillsync_enrolments
                     WHERE secret_sha256 = $1 FOR UPDATE"
                ),
                &[&secret_sha256],
            )?
            .map(|r| enrolment(&r)))
    }
    fn history(&mut self, till: &str) -> Result<Vec<KeyRecord>, StoreError> {
        history_in(self.0, till)
    }
    fn unrecorded_keys(&mut self, till: &str) -> Result<Vec<(String, String)>, StoreError> {
        unrecorded_in(self.0, till)
    }
    fn key_owner(&mut self, public_key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .0
            .query_opt(
                "SELECT till_id FROM tillsync_till_keys WHERE public_key = $1
                 UNION SELECT till_id FROM tillsync_key_history WHERE public_key = $1 LIMIT 1",
                &[&public_key],
            )?
            .map(|r| r.get(0)))
    }
    fn insert_record(&mut self, r: &KeyRecord) -> Result<(), StoreError> {
        let (version, seq) = (r.version as i32, r.seq as i64);
        self.0.execute(
            &format!(
                "INSERT INTO tillsync_key_history({RECORD_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &version,
                &r.till,
                &seq,
                &r.key_id,
                &r.public_key,
                &r.valid_from,
                &r.recorded_at,
                &r.previous_key_id,
                &r.reason.as_str(),
                &r.signature,
            ],
        )?;
        self.0.execute(
            "INSERT INTO tillsync_till_keys(till_id, public_key, issued_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&r.till, &r.public_key, &r.recorded_at],
        )?;
        Ok(())
    }
    fn mark_used(&mut self, secret_sha256: &str, at: &str, key_id: &str) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE tillsync_enrolments SET used_at = $2, used_key_id = $3
             WHERE secret_sha256 = $1",
            &[&secret_sha256, &at, &key_id],
        )?;
        Ok(())
    }
    fn set_token(&mut self, till: &str, token_sha256: &str, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO tillsync_tills(till_id, token_sha256, issued_at) VALUES ($1, $2, $3)
             ON CONFLICT (till_id) DO UPDATE SET token_sha256 = excluded.token_sha256,
               issued_at = excluded.issued_at, revoked_at = NULL",
            &[&till, &token_sha256, &at],
        )?;
        Ok(())
    }
    fn journal(&mut self, till: &str, at: &str, detail: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES ($1, 'keys', $2, 'ok', $3)",
            &[&at, &till, &detail],
        )?;
        Ok(())
    }
}

impl KeyStore for PgServerDb {
    fn issue_enrolment(
        &mut self,
        till_id: &str,
        secret_sha256: &str,
        issued_at: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.cm()?.transaction()?;
        let superseded = tx.execute(
            "UPDATE tillsync_enrolments SET superseded_at = $2
             WHERE till_id = $1 AND used_at IS NULL AND superseded_at IS NULL",
            &[&till_id, &issued_at],
        )?;
        tx.execute(
            "INSERT INTO tillsync_enrolments(secret_sha256, till_id, issued_at, expires_at)
             VALUES ($1, $2, $3, $4)",
            &[&secret_sha256, &till_id, &issued_at, &expires_at],
        )?;
        tx.execute(
            "INSERT INTO tillsync_journal(at, kind, till, result, detail)
             VALUES ($1, 'keys', $2, 'ok', $3)",
            &[
                &issued_at,
                &till_id,
                &enrolment_line(expires_at, superseded),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }
    fn change_key(
        &mut self,
        claim: &KeyClaim<'_>,
        sign: &SignFn<'_>,
    ) -> Result<Result<KeyOutcome, KeyRefusal>, StoreError> {
        let mut tx = self.cm()?.transaction()?;
        // One key change of a till at a time, whichever server process
        // serves it: the second reads the first's record.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('tillsync-keys:' || $1::text, 0))",
            &[&claim.till],
        )?;
        let out = change_key(&mut KeySql(&mut tx), claim, sign)?;
        if out.is_ok() {
            tx.commit()?;
        }
        Ok(out)
    }
    fn key_history(&self, till_id: &str) -> Result<Vec<KeyRecord>, StoreError> {
        history_in(&mut *self.c()?, till_id)
    }
    fn enrolments(&self, till_id: &str) -> Result<Vec<Enrolment>, StoreError> {
        Ok(self
            .c()?
            .query(
                &format!(
                    "SELECT {ENROLMENT_COLUMNS} FROM tillsync_enrolments WHERE till_id = $1
                     ORDER BY issued_at DESC, n DESC"
                ),
                &[&till_id],
            )?
            .iter()
            .map(enrolment)
            .collect())
    }
    fn unrecorded_keys(&self, till_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        unrecorded_in(&mut *self.c()?, till_id)
    }
}
