//! Set-wise filing of outbox batches on PostgreSQL, for the common case: a
//! till's batch made only of new tickets, each following the one before
//! (the first following the last ticket already on the server). The whole
//! group of batches is checked with three reads and written with one
//! statement per table, where filing item by item
//! ([`super::tickets::store_ticket`]) costs about ten statements per
//! ticket. A batch that is anything else (a resend, a gap, a broken chain,
//! a customer change…) is left to the item-by-item path, which gives every
//! other answer; this path only ever answers "accepted", and only where that
//! path would have.

use std::collections::{HashMap, HashSet};

use postgres::Transaction;
use tillsync_core::ticket::{GENESIS_HASH, Ticket};
use tillsync_wire::api::{ItemResult, ItemStatus, OutboxResponse};

use crate::StoreError;
use crate::store::{Batch, BatchItem};

/// One ticket of a batch that qualifies.
struct Row<'a> {
    till: &'a str,
    key: &'a str,
    number: i64,
    corrects: Option<i64>,
    ticket: &'a Ticket,
}

/// The tickets of `items` when they may be filed set-wise as far as the
/// batch alone tells: every item a ticket whose hash and signature hold,
/// numbers in range and consecutive, each naming the one before it, keys
/// distinct.
fn candidate<'a>(till: &'a str, items: &'a [BatchItem<'a>]) -> Option<Vec<Row<'a>>> {
    let mut rows: Vec<Row<'a>> = Vec::with_capacity(items.len());
    let mut keys = HashSet::with_capacity(items.len());
    for item in items {
        let BatchItem::Ticket {
            key,
            ticket,
            check: Ok(()),
            ..
        } = item
        else {
            return None;
        };
        let number = i64::try_from(ticket.number)
            .ok()
            .filter(|n| (1..i64::MAX - 1).contains(n))?;
        let corrects = ticket.corrects.map(i64::try_from).transpose().ok()?;
        if !keys.insert(*key) {
            return None;
        }
        if let Some(before) = rows.last()
            && (before.number + 1 != number || before.ticket.hash != ticket.prev_hash)
        {
            return None;
        }
        rows.push(Row {
            till,
            key,
            number,
            corrects,
            ticket,
        });
    }
    (!rows.is_empty()).then_some(rows)
}

/// File set-wise the batches of `batches` that qualify, inside `tx`, whose
/// caller holds every till's lock ([`super::lock_till`]) and commits. The
/// answer for each batch: `Some` when it was filed here (every item
/// accepted, its journal line written), `None` when it is left to the
/// item-by-item path.
pub fn file_group(
    tx: &mut Transaction<'_>,
    batches: &[Batch<'_, '_>],
    at: &str,
) -> Result<Vec<Option<OutboxResponse>>, StoreError> {
    // A till with two batches in the group: the second depends on the
    // first, item by item.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (till, items) in batches {
        if !items.is_empty() {
            *seen.entry(*till).or_default() += 1;
        }
    }
    let mut cands: Vec<Option<Vec<Row<'_>>>> = batches
        .iter()
        .map(|(till, items)| {
            if seen.get(till) == Some(&1) {
                candidate(till, items)
            } else {
                None
            }
        })
        .collect();
    if cands.iter().all(Option::is_none) {
        return Ok(vec![None; batches.len()]);
    }

    // 1. No item received before (a resend is answered item by item).
    let (tills, keys): (Vec<&str>, Vec<&str>) = cands
        .iter()
        .flatten()
        .flatten()
        .map(|r| (r.till, r.key))
        .unzip();
    let mut drop_tills: HashSet<String> = HashSet::new();
    for r in tx.query(
        "SELECT r.till_id FROM tillsync_received r
         JOIN UNNEST($1::text[], $2::text[]) AS u(till, key)
           ON r.till_id = u.till AND r.key = u.key",
        &[&tills, &keys],
    )? {
        drop_tills.insert(r.get(0));
    }
    // 2. None of the numbers on the server yet, and the first ticket
    //    follows the server's last one (or the genesis).
    let spans: Vec<(&str, i64, i64)> = cands
        .iter()
        .flatten()
        .map(|rows| {
            let (first, last) = (&rows[0], &rows[rows.len() - 1]);
            (first.till, first.number, last.number)
        })
        .collect();
    let span_till: Vec<&str> = spans.iter().map(|s| s.0).collect();
    let span_lo: Vec<i64> = spans.iter().map(|s| s.1 - 1).collect();
    let span_hi: Vec<i64> = spans.iter().map(|s| s.2).collect();
    let mut before: HashMap<String, String> = HashMap::new();
    for r in tx.query(
        r#"SELECT t."till_id", t."number", t."hash", u.lo FROM "TICKET" t
           JOIN UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS u(till, lo, hi)
             ON t."till_id" = u.till AND t."number" BETWEEN u.lo AND u.hi"#,
        &[&span_till, &span_lo, &span_hi],
    )? {
        let (till, number, hash, lo): (String, i64, String, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        if number == lo {
            before.insert(till, hash);
        } else {
            drop_tills.insert(till);
        }
    }
    // 3. No ticket received earlier waits for one of these as its
    //    predecessor (that link is checked item by item).
    let span_next_lo: Vec<i64> = spans.iter().map(|s| s.1 + 1).collect();
    let span_next_hi: Vec<i64> = spans.iter().map(|s| s.2 + 1).collect();
    for r in tx.query(
        "SELECT p.till_id FROM tillsync_ticket_link_pending p
         JOIN UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS u(till, lo, hi)
           ON p.till_id = u.till AND p.number BETWEEN u.lo AND u.hi",
        &[&span_till, &span_next_lo, &span_next_hi],
    )? {
        drop_tills.insert(r.get(0));
    }
    for rows in cands.iter_mut() {
        let Some(r) = rows.as_ref() else { continue };
        let first = &r[0];
        let expected = if first.number == 1 {
            Some(GENESIS_HASH)
        } else {
            before.get(first.till).map(String::as_str)
        };
        if drop_tills.contains(first.till) || expected != Some(first.ticket.prev_hash.as_str()) {
            *rows = None;
        }
    }
    let filed: Vec<&Row<'_>> = cands.iter().flatten().flatten().collect();
    if filed.is_empty() {
        return Ok(vec![None; batches.len()]);
    }

    // Write: the tickets with their details, the idempotency records, a
    // journal line per batch.
    let tickets: Vec<(&str, i64, Option<i64>, &Ticket)> = filed
        .iter()
        .map(|r| (r.till, r.number, r.corrects, r.ticket))
        .collect();
    let inserted = super::tickets::insert_tickets(tx, &tickets, at)?;
    if inserted.len() != tickets.len() {
        return Err(StoreError::Inconsistent(
            "tickets were stored by another writer during this transaction".into(),
        ));
    }
    let till: Vec<&str> = filed.iter().map(|r| r.till).collect();
    let key: Vec<&str> = filed.iter().map(|r| r.key).collect();
    let hash: Vec<&str> = filed.iter().map(|r| r.ticket.hash.as_str()).collect();
    tx.execute(
        "INSERT INTO tillsync_received(till_id, key, status, reason, at, fingerprint)
         SELECT u.till, u.key, 'accepted', NULL, $3, u.hash
         FROM UNNEST($1::text[], $2::text[], $4::text[]) AS u(till, key, hash)
         ON CONFLICT (till_id, key) DO NOTHING",
        &[&till, &key, &at, &hash],
    )?;
    let mut journal_till = Vec::new();
    let mut journal_result = Vec::new();
    let mut journal_detail = Vec::new();
    let mut out = Vec::with_capacity(batches.len());
    for rows in &cands {
        let Some(rows) = rows else {
            out.push(None);
            continue;
        };
        let mut counts = [0usize; 4];
        counts[0] = rows.len();
        let (result, detail) = crate::ingest::push_journal(&counts);
        journal_till.push(rows[0].till);
        journal_result.push(result);
        journal_detail.push(detail);
        out.push(Some(OutboxResponse {
            results: rows
                .iter()
                .map(|r| ItemResult {
                    key: r.key.to_string(),
                    status: ItemStatus::Accepted,
                    reason: None,
                })
                .collect(),
        }));
    }
    tx.execute(
        "INSERT INTO tillsync_journal(at, kind, till, result, detail)
         SELECT $1, 'push', u.till, u.result, u.detail
         FROM UNNEST($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(till, result, detail, i)
         ORDER BY u.i",
        &[&at, &journal_till, &journal_result, &journal_detail],
    )?;
    Ok(out)
}
