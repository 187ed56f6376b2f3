//! The server's rule for filing a fiscal record (an event or a closing),
//! free of I/O: what a record's body must be for its chain, and given the
//! hash and signature check and the records held beside it
//! ([`RecordView`]), whether it is a duplicate, refused (and why) or
//! accepted. Records are numbered without gaps per chain: record 1 names
//! the genesis hash, record `n` the hash of record `n - 1` when the server
//! holds it (when not, a gap the ledger names until it arrives).

use crate::fiscal::closing::ClosingBody;
use crate::fiscal::event::EventKind;
use crate::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN, Record};
use crate::ticket::GENESIS_HASH;

/// What the server holds of one chain of one till.
pub trait RecordView {
    /// The error of a read.
    type Error;
    /// `(hash, prev_hash)` of record `seq`, if held.
    fn at(&mut self, seq: u64) -> Result<Option<(String, String)>, Self::Error>;
}

/// What to do with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordDecision {
    /// Already held with this content.
    Duplicate,
    /// Refused, for this reason; nothing stored.
    Reject(String),
    /// Stored.
    Accept,
}

/// Why the body of `r` is not what its chain and kind require, if it is not.
pub fn body_problem(r: &Record) -> Option<String> {
    let who = format!("{} {} of till {}", r.chain, r.seq, r.till);
    match r.chain.as_str() {
        EVENT_CHAIN => {
            if EventKind::from_code(&r.kind).is_err() {
                return Some(format!("{who}: {:?} is not an event kind", r.kind));
            }
            match serde_json::from_str::<serde_json::Value>(&r.body) {
                Ok(serde_json::Value::Object(_)) => None,
                _ => Some(format!("{who}: the body is not a JSON object")),
            }
        }
        CLOSING_CHAIN => match ClosingBody::from_json(r.seq, &r.body) {
            Ok(b) if b.period.code() == r.kind => None,
            Ok(b) => Some(format!(
                "{who}: kind {:?} but the body closes a {}",
                r.kind,
                b.period.code()
            )),
            Err(e) => Some(format!("{who}: {e}")),
        },
        other => Some(format!("{who}: there is no record chain {other:?}")),
    }
}

/// The decision for record `r` of `till` (the authenticated one), whose
/// hash and signature check gave `check`.
pub fn decide_record<V: RecordView>(
    till: &str,
    r: &Record,
    check: Result<(), String>,
    view: &mut V,
) -> Result<RecordDecision, V::Error> {
    let who = format!("{} {} of till {}", r.chain, r.seq, r.till);
    if r.till != till {
        return Ok(RecordDecision::Reject(format!(
            "{who}: these credentials are till {till}'s; a till sends only its own records"
        )));
    }
    if r.seq == 0 || r.seq > i64::MAX as u64 {
        return Ok(RecordDecision::Reject(format!("{who}: numbers start at 1")));
    }
    if let Err(reason) = check {
        return Ok(RecordDecision::Reject(reason));
    }
    if let Some(problem) = body_problem(r) {
        return Ok(RecordDecision::Reject(problem));
    }
    if let Some((hash, _)) = view.at(r.seq)? {
        return Ok(if hash == r.hash {
            RecordDecision::Duplicate
        } else {
            RecordDecision::Reject(format!(
                "{who}: this number was already received with different content"
            ))
        });
    }
    let expected = if r.seq == 1 {
        Some(GENESIS_HASH.to_string())
    } else {
        view.at(r.seq - 1)?.map(|(h, _)| h)
    };
    if let Some(e) = expected
        && e != r.prev_hash
    {
        return Ok(RecordDecision::Reject(format!(
            "{who}: chain broken (previous hash {}, but record {} has hash {e})",
            r.prev_hash,
            r.seq - 1
        )));
    }
    if let Some((_, next_prev)) = view.at(r.seq + 1)?
        && next_prev != r.hash
    {
        return Ok(RecordDecision::Reject(format!(
            "{who}: chain broken (record {} names previous hash {next_prev}, but this one's hash is {})",
            r.seq + 1,
            r.hash
        )));
    }
    Ok(RecordDecision::Accept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::record::Draft;
    use ed25519_dalek::SigningKey;
    use std::collections::HashMap;

    struct View(HashMap<u64, (String, String)>);
    impl RecordView for View {
        type Error = ();
        fn at(&mut self, seq: u64) -> Result<Option<(String, String)>, ()> {
            Ok(self.0.get(&seq).cloned())
        }
    }

    fn rec(seq: u64, prev: &str, kind: &str, body: &str) -> Record {
        Draft {
            till: "T001",
            chain: EVENT_CHAIN,
            time: "2026-12-04T10:00:00Z",
            kind,
            body: body.into(),
        }
        .seal(seq, prev, &SigningKey::from_bytes(&[1; 32]))
    }

    #[test]
    fn records_file_in_their_chain() {
        let r1 = rec(1, GENESIS_HASH, "agent_start", "{}");
        let r2 = rec(2, &r1.hash, "agent_stop", "{}");
        let mut v = View(HashMap::new());
        assert_eq!(
            decide_record("T001", &r2, Ok(()), &mut v),
            Ok(RecordDecision::Accept)
        );
        assert!(matches!(
            decide_record("T002", &r1, Ok(()), &mut v),
            Ok(RecordDecision::Reject(r)) if r.contains("only its own")
        ));
        v.0.insert(1, (r1.hash.clone(), r1.prev_hash.clone()));
        assert_eq!(
            decide_record("T001", &r1, Ok(()), &mut v),
            Ok(RecordDecision::Duplicate)
        );
        let forged = rec(2, GENESIS_HASH, "agent_stop", "{}");
        assert!(matches!(
            decide_record("T001", &forged, Ok(()), &mut v),
            Ok(RecordDecision::Reject(r)) if r.contains("chain broken")
        ));
        let bad_kind = rec(2, &r1.hash, "party", "{}");
        assert!(matches!(
            decide_record("T001", &bad_kind, Ok(()), &mut v),
            Ok(RecordDecision::Reject(r)) if r.contains("not an event kind")
        ));
        assert!(matches!(
            decide_record("T001", &r2, Err("bad signature".into()), &mut v),
            Ok(RecordDecision::Reject(r)) if r == "bad signature"
        ));
    }
}
