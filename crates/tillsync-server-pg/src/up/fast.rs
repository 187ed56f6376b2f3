//! Set-wise filing of outbox batches on PostgreSQL, for the common case: a
//! till's batch made only of new tickets, each following the one before
//! (the first following the last ticket already on the server). The whole
//! group of batches is checked with one read and written with one
//! statement (prepared once per connection), where filing item by item
//! ([`super::tickets::store_ticket`]) costs about ten statements per
//! ticket. A batch that is anything else (a resend, a gap, a broken chain,
//! a customer change…) is left to the item-by-item path, which gives every
//! other answer; this path only ever answers "accepted", and only where that
//! path would have.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use postgres::{Statement, Transaction};
use tillsync_core::chain::{ChainView, Decision, decide};
use tillsync_core::ticket::Ticket;
use tillsync_wire::api::{ItemResult, ItemStatus, OutboxResponse};

use tillsync_db::StoreError;
use tillsync_db::ticket_rows::FISCAL_TABLES;
use tillsync_server_db::store::{Batch, BatchItem};

/// One ticket of a batch that qualifies.
struct Row<'a> {
    till: &'a str,
    key: &'a str,
    number: i64,
    corrects: Option<i64>,
    ticket: &'a Ticket,
}

/// The tickets of `items` when they may be filed set-wise as far as the
/// batch alone tells: every item a fiscal ticket whose checks hold,
/// numbers in range and consecutive, keys distinct. Whether each names the
/// one before it is the filing rule's to say ([`accepted_as_read`]).
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
        // Training tickets are filed in their own chain, item by item.
        if ticket.training {
            return None;
        }
        let number = i64::try_from(ticket.number)
            .ok()
            .filter(|n| (1..i64::MAX - 1).contains(n))?;
        if !keys.insert(*key) {
            return None;
        }
        if let Some(before) = rows.last()
            && before.number + 1 != number
        {
            return None;
        }
        rows.push(Row {
            till,
            key,
            number,
            corrects: None,
            ticket,
        });
    }
    (!rows.is_empty()).then_some(rows)
}

/// The set-wise read's view of one ticket: none of the batch's numbers is
/// on the server and no pending link waits on them (else the batch was
/// left to the item-by-item path), and the ticket before is `before`. A
/// question the read did not answer (is the ticket before in quarantine?)
/// sends the batch to the item-by-item path.
struct AsRead<'a> {
    before: Option<&'a str>,
}

/// The read could not answer: file the batch item by item.
struct NotRead;

impl ChainView for AsRead<'_> {
    type Error = NotRead;
    fn verified(&mut self, _n: i64) -> Result<(Option<String>, Option<String>), NotRead> {
        Ok((None, self.before.map(str::to_string)))
    }
    fn quarantined(&mut self, _number: i64, _hash: &str) -> Result<(bool, bool), NotRead> {
        Err(NotRead)
    }
    fn pending_link(&mut self, _number: i64) -> Result<Option<String>, NotRead> {
        Ok(None)
    }
}

/// Whether the filing rule ([`tillsync_core::chain::decide`]) accepts every
/// ticket of `rows`, nothing pending, over what the read found (`first_before`:
/// the server's hash of the ticket before the first); sets each row's
/// `corrects` as the rule read it.
fn accepted_as_read<'a>(rows: &mut [Row<'a>], first_before: Option<&'a str>) -> bool {
    let mut before = first_before;
    for r in rows.iter_mut() {
        let mut view = AsRead { before };
        match decide(r.till, r.number, r.ticket, Ok(()), &mut view) {
            Ok(Decision::Accept {
                corrects,
                pending: false,
                closes_next: false,
            }) => r.corrects = corrects,
            _ => return false,
        }
        // The ticket before the next one: no copy of its hash.
        let ticket: &'a Ticket = r.ticket;
        before = Some(&ticket.hash);
    }
    true
}

/// The read of [`file_group`]: idempotency records of the keys (`r`), the
/// server's tickets around each batch's numbers (`t`, with the number
/// before the batch's first as `lo`) and the pending links onto them (`p`).
///
/// Each lookup is a lateral subquery fenced with `OFFSET 0`, so that it
/// runs as an index lookup per batch whatever the planner's statistics
/// (a generic plan made while the tables were small would otherwise scan
/// them whole, and keep doing so as they grow).
pub const READ: &str = r#"
    SELECT 'r', u.till, NULL::bigint, NULL::text, NULL::bigint
    FROM UNNEST($1::text[], $2::text[]) AS u(till, key)
      CROSS JOIN LATERAL (SELECT 1 FROM tillsync_received r
                          WHERE r.till_id = u.till AND r.key = u.key OFFSET 0) x
    UNION ALL
    SELECT 't', u.till, t.number, t.hash, u.lo
    FROM UNNEST($3::text[], $4::bigint[], $5::bigint[]) AS u(till, lo, hi)
      CROSS JOIN LATERAL (SELECT t."number", t."hash" FROM "TICKET" t
                          WHERE t."till_id" = u.till AND t."number" BETWEEN u.lo AND u.hi
                          OFFSET 0) t
    UNION ALL
    SELECT 'p', u.till, NULL, NULL, NULL
    FROM UNNEST($3::text[], $6::bigint[], $7::bigint[]) AS u(till, lo, hi)
      CROSS JOIN LATERAL (SELECT 1 FROM tillsync_ticket_link_pending p
                          WHERE p.till_id = u.till AND p.number BETWEEN u.lo AND u.hi
                          OFFSET 0) p"#;

/// The write of [`file_group`]: the tickets and their details
/// ([`super::tickets::TicketRows::ctes`] of the fiscal tables), the
/// idempotency records (`$40`..`$42`) and a journal line per batch
/// (`$43`..`$45`); returns the
/// number of `TICKET` rows inserted.
pub static WRITE: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"WITH {},
        r AS (
          INSERT INTO tillsync_received(till_id, key, status, reason, at, fingerprint)
          SELECT u.till, u.key, 'accepted', NULL, $10, u.hash
          FROM UNNEST($40::text[], $41::text[], $42::text[]) AS u(till, key, hash)
          ON CONFLICT (till_id, key) DO NOTHING),
        j AS (
          INSERT INTO tillsync_journal(at, kind, till, result, detail)
          SELECT $10, 'push', u.till, u.result, u.detail
          FROM UNNEST($43::text[], $44::text[], $45::text[]) WITH ORDINALITY
            AS u(till, result, detail, i)
          ORDER BY u.i)
        SELECT count(*) FROM t"#,
        super::tickets::TicketRows::ctes(&FISCAL_TABLES)
    )
});

/// [`READ`] and [`WRITE`], prepared on the transaction's connection.
pub struct Statements {
    /// [`READ`].
    pub read: Statement,
    /// [`WRITE`].
    pub write: Statement,
}

/// File set-wise the batches of `batches` that qualify, inside `tx`, whose
/// caller holds every till's lock ([`super::lock_till`]) and commits. The
/// answer for each batch: `Some` when it was filed here (every item
/// accepted, its journal line written), `None` when it is left to the
/// item-by-item path.
pub fn file_group(
    tx: &mut Transaction<'_>,
    statements: &Statements,
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

    // What the server holds: no item may have been received before (a
    // resend is answered item by item); none of the numbers may be there
    // yet, and the first ticket must follow the server's last one (or the
    // genesis); no ticket received earlier may wait for one of these as its
    // predecessor (that link is checked item by item).
    let (tills, keys): (Vec<&str>, Vec<&str>) = cands
        .iter()
        .flatten()
        .flatten()
        .map(|r| (r.till, r.key))
        .unzip();
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
    let next_lo: Vec<i64> = spans.iter().map(|s| s.1 + 1).collect();
    let next_hi: Vec<i64> = spans.iter().map(|s| s.2 + 1).collect();
    let mut drop_tills: HashSet<String> = HashSet::new();
    let mut before: HashMap<String, String> = HashMap::new();
    for r in tx.query(
        &statements.read,
        &[
            &tills, &keys, &span_till, &span_lo, &span_hi, &next_lo, &next_hi,
        ],
    )? {
        let (what, till): (&str, String) = (r.get(0), r.get(1));
        match what {
            "t" => {
                let (number, hash, lo): (i64, String, i64) = (r.get(2), r.get(3), r.get(4));
                if number == lo {
                    before.insert(till, hash);
                } else {
                    drop_tills.insert(till);
                }
            }
            _ => {
                drop_tills.insert(till);
            }
        }
    }
    for rows in cands.iter_mut() {
        let Some(r) = rows.as_mut() else { continue };
        let till = r[0].till;
        let first_before = if r[0].number == 1 {
            None
        } else {
            before.get(till).map(String::as_str)
        };
        if drop_tills.contains(till) || !accepted_as_read(r, first_before) {
            *rows = None;
        }
    }
    let filed: Vec<&Row<'_>> = cands.iter().flatten().flatten().collect();
    if filed.is_empty() {
        return Ok(vec![None; batches.len()]);
    }

    // The answers and journal lines.
    let mut journal_till = Vec::new();
    let mut journal_result = Vec::new();
    let mut journal_detail = Vec::new();
    let mut out = Vec::with_capacity(batches.len());
    for rows in &cands {
        let Some(rows) = rows else {
            out.push(None);
            continue;
        };
        let (result, detail) = tillsync_server_db::up::batch::push_journal(&[rows.len(), 0, 0, 0]);
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

    // One write: the tickets with their details, the idempotency records,
    // the journal lines.
    let tickets: Vec<(&str, i64, Option<i64>, &Ticket)> = filed
        .iter()
        .map(|r| (r.till, r.number, r.corrects, r.ticket))
        .collect();
    let rows = super::tickets::TicketRows::new(&tickets);
    let till: Vec<&str> = filed.iter().map(|r| r.till).collect();
    let key: Vec<&str> = filed.iter().map(|r| r.key).collect();
    let hash: Vec<&str> = filed.iter().map(|r| r.ticket.hash.as_str()).collect();
    let mut params = rows.params(&at);
    params.extend([
        &till as &(dyn postgres::types::ToSql + Sync),
        &key,
        &hash,
        &journal_till,
        &journal_result,
        &journal_detail,
    ]);
    let inserted: i64 = tx.query_one(&statements.write, &params)?.get(0);
    if inserted != tickets.len() as i64 {
        return Err(StoreError::Inconsistent(
            "tickets were stored by another writer during this transaction".into(),
        ));
    }
    Ok(out)
}
