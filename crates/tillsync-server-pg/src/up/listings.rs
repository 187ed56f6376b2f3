//! What the server holds of the tills' tickets, on PostgreSQL: the ticket
//! listing of `server tickets`, each till's ticket state with its gaps, the
//! till overview, and the table versions tills report.

use std::collections::BTreeMap;

use postgres::GenericClient;
use tillsync_wire::api::TillTable;

use tillsync_db::StoreError;
use tillsync_server_db::tickets::{Gap, TicketListing, TillTickets};
use tillsync_server_db::tills::{ReportedTable, TillOverview, TillRow};

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Tickets received (verified and quarantined), by till and number; of one
/// till with `till` (as [`crate::ServerDb::ticket_list`]).
pub fn ticket_list(
    client: &mut impl GenericClient,
    till: Option<&str>,
) -> Result<Vec<TicketListing>, StoreError> {
    let rows = client.query(
        r#"SELECT till_id, number, time, total_cents, status, pending, hash, received_at,
                  reason, item_key, payload
           FROM (
             SELECT t."till_id" AS till_id, t."number" AS number, t."time" AS time,
                    t."total_cents" AS total_cents, 'verified' AS status,
                    EXISTS(SELECT 1 FROM tillsync_ticket_link_pending p
                           WHERE p.till_id = t."till_id" AND p.number = t."number") AS pending,
                    t."hash" AS hash, t."received_at" AS received_at, NULL::text AS reason,
                    NULL::text AS item_key, NULL::text AS payload, 0 AS src, 0::bigint AS id
             FROM "TICKET" t WHERE $1::text IS NULL OR t."till_id" = $1
             UNION ALL
             SELECT q.till_id, q.number, NULL, NULL, 'quarantined', false, q.hash,
                    q.received_at, q.reason, q.item_key, q.payload, 1, q.id
             FROM tillsync_ticket_quarantine q WHERE $1::text IS NULL OR q.till_id = $1) AS x
           ORDER BY till_id COLLATE "C", number IS NULL, number, src, id"#,
        &[&till],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let verified = r.get::<_, &str>(4) == "verified";
            let (mut time, mut total_cents): (Option<String>, Option<i64>) = (r.get(2), r.get(3));
            if !verified {
                // What can be read of the payload kept in quarantine.
                let payload: Option<String> = r.get(10);
                if let Some(v) =
                    payload.and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
                {
                    time = v.get("time").and_then(|t| t.as_str()).map(str::to_string);
                    total_cents = v.get("total_cents").and_then(|t| t.as_i64());
                }
            }
            TicketListing {
                till: r.get(0),
                number: r.get::<_, Option<i64>>(1).map(u),
                time,
                total_cents,
                status: if verified { "verified" } else { "quarantined" },
                link: verified.then(|| {
                    if r.get::<_, bool>(5) {
                        "pending"
                    } else {
                        "verified"
                    }
                }),
                hash: r.get(6),
                received_at: r.get(7),
                reason: r.get(8),
                key: r.get(9),
            }
        })
        .collect())
}

/// Per till that sent anything: tickets received, highest contiguous
/// number, the missing ranges, quarantined and rejected counts, pending
/// links, last push (as [`crate::ServerDb::ticket_state`]).
pub fn ticket_state(
    client: &mut impl GenericClient,
    till: Option<&str>,
) -> Result<Vec<TillTickets>, StoreError> {
    let mut by_till: BTreeMap<String, TillTickets> = BTreeMap::new();
    fn entry(m: &mut BTreeMap<String, TillTickets>, id: String) -> &mut TillTickets {
        m.entry(id.clone()).or_insert_with(|| TillTickets {
            till_id: id,
            ..Default::default()
        })
    }
    const NUMS: &str = r#"nums AS (
         SELECT "till_id" AS till_id, "number" AS number FROM "TICKET"
         WHERE $1::text IS NULL OR "till_id" = $1
         UNION
         SELECT till_id, number FROM tillsync_ticket_quarantine
         WHERE number IS NOT NULL AND ($1::text IS NULL OR till_id = $1))"#;
    for r in client.query(
        &format!("WITH {NUMS} SELECT till_id, COUNT(*), MAX(number) FROM nums GROUP BY till_id"),
        &[&till],
    )? {
        let e = entry(&mut by_till, r.get(0));
        e.tickets_received = u(r.get(1));
        e.highest_received = u(r.get(2));
        e.highest_contiguous = e.highest_received;
    }
    for r in client.query(
        &format!(
            "WITH {NUMS},
               ordered AS (
                 SELECT till_id, number,
                        LAG(number, 1, 0::bigint) OVER (PARTITION BY till_id ORDER BY number) AS prev
                 FROM nums)
             SELECT till_id, prev + 1, number - 1 FROM ordered
             WHERE number > prev + 1 ORDER BY till_id, number"
        ),
        &[&till],
    )? {
        let e = entry(&mut by_till, r.get(0));
        let gap = Gap {
            first: u(r.get(1)),
            last: u(r.get(2)),
        };
        if e.missing.is_empty() {
            e.highest_contiguous = gap.first - 1;
        }
        e.missing.push(gap);
    }
    type Setter = fn(&mut TillTickets, u64);
    let counts: [(&str, Setter); 6] = [
        (
            r#"SELECT "till_id", COUNT(*) FROM "TICKET" WHERE $1::text IS NULL OR "till_id" = $1 GROUP BY 1"#,
            |e, n| e.verified = n,
        ),
        (
            "SELECT till_id, COUNT(*) FROM tillsync_ticket_quarantine
             WHERE $1::text IS NULL OR till_id = $1 GROUP BY 1",
            |e, n| e.quarantined = n,
        ),
        (
            "SELECT till_id, COUNT(*) FROM tillsync_received
             WHERE status = 'rejected' AND ($1::text IS NULL OR till_id = $1) GROUP BY 1",
            |e, n| e.rejected = n,
        ),
        (
            "SELECT till_id, COUNT(*) FROM tillsync_ticket_link_pending
             WHERE $1::text IS NULL OR till_id = $1 GROUP BY 1",
            |e, n| e.links_pending = n,
        ),
        (
            r#"SELECT "till_id", COUNT(*) FROM "TRAINING_TICKET" WHERE $1::text IS NULL OR "till_id" = $1 GROUP BY 1"#,
            |e, n| e.training = n,
        ),
        (
            "SELECT till_id, COUNT(*) FROM tillsync_training_quarantine
             WHERE $1::text IS NULL OR till_id = $1 GROUP BY 1",
            |e, n| e.training_quarantined = n,
        ),
    ];
    for (sql, set) in counts {
        for r in client.query(sql, &[&till])? {
            set(entry(&mut by_till, r.get(0)), u(r.get(1)));
        }
    }
    for r in client.query(
        "SELECT till, MAX(at) FROM tillsync_journal
         WHERE kind = 'push' AND till IS NOT NULL AND ($1::text IS NULL OR till = $1) GROUP BY 1",
        &[&till],
    )? {
        entry(&mut by_till, r.get(0)).last_push = r.get(1);
    }
    Ok(by_till.into_values().collect())
}

/// Every till of `tills` (as the credentials part reads them from
/// `STORE_TILL` and `tillsync_tills`) with its tickets and the table
/// versions it reported (as [`crate::ServerDb::till_overview`]).
pub fn till_overview(
    client: &mut impl GenericClient,
    tills: Vec<TillRow>,
) -> Result<Vec<TillOverview>, StoreError> {
    let mut tickets: BTreeMap<String, TillTickets> = ticket_state(client, None)?
        .into_iter()
        .map(|t| (t.till_id.clone(), t))
        .collect();
    let mut tables: BTreeMap<String, Vec<ReportedTable>> = BTreeMap::new();
    for t in till_tables(client)? {
        tables.entry(t.till_id.clone()).or_default().push(t);
    }
    Ok(tills
        .into_iter()
        .map(|till| TillOverview {
            tickets: tickets
                .remove(&till.till_id)
                .unwrap_or_else(|| TillTickets {
                    till_id: till.till_id.clone(),
                    ..Default::default()
                }),
            tables: tables.remove(&till.till_id).unwrap_or_default(),
            outbox: None,
            till,
        })
        .collect())
}

/// Record the table versions a till reported holding, replacing what it
/// said before, in one transaction (a savepoint inside the caller's).
pub fn record_till_tables(
    client: &mut impl GenericClient,
    till: &str,
    tables: &[TillTable],
) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    let now = tillsync_db::now_rfc3339();
    tx.execute(
        "DELETE FROM tillsync_till_tables WHERE till_id = $1",
        &[&till],
    )?;
    let stmt = tx.prepare(
        "INSERT INTO tillsync_till_tables(till_id, tbl, version, layout_hash, reported_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (till_id, tbl) DO UPDATE SET version = excluded.version,
           layout_hash = excluded.layout_hash, reported_at = excluded.reported_at",
    )?;
    for t in tables {
        let version = t.version.and_then(|v| i64::try_from(v).ok());
        tx.execute(&stmt, &[&till, &t.table, &version, &t.layout_hash, &now])?;
    }
    tx.commit()?;
    Ok(())
}

/// Table versions the tills last reported, by till and table.
pub fn till_tables(client: &mut impl GenericClient) -> Result<Vec<ReportedTable>, StoreError> {
    Ok(client
        .query(
            r#"SELECT till_id, tbl, version, layout_hash, reported_at FROM tillsync_till_tables
               ORDER BY till_id COLLATE "C", tbl COLLATE "C""#,
            &[],
        )?
        .into_iter()
        .map(|r| ReportedTable {
            till_id: r.get(0),
            table: r.get(1),
            version: r.get::<_, Option<i64>>(2).map(u),
            layout_hash: r.get(3),
            reported_at: r.get(4),
        })
        .collect())
}
