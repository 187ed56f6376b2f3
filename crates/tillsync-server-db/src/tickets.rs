//! The answers to outbox items (accepted, duplicate, quarantined,
//! rejected), what was received under a key, and the ticket listings of
//! `server tickets` and the till supervisor.

use std::fmt;

use serde::Serialize;
use tillsync_db::StoreError;
use tillsync_wire::api::ItemStatus;

/// The word stored for an item status (as on the wire).
pub fn status_word(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Accepted => "accepted",
        ItemStatus::Duplicate => "duplicate",
        ItemStatus::Quarantined => "quarantined",
        ItemStatus::Rejected => "rejected",
    }
}

pub fn parse_status(s: &str) -> Result<ItemStatus, StoreError> {
    Ok(match s {
        "accepted" => ItemStatus::Accepted,
        "duplicate" => ItemStatus::Duplicate,
        "quarantined" => ItemStatus::Quarantined,
        "rejected" => ItemStatus::Rejected,
        other => {
            return Err(StoreError::Inconsistent(format!(
                "unknown status {other:?} in tillsync_received"
            )));
        }
    })
}

/// The outcome of one item, as answered to the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Status.
    pub status: ItemStatus,
    /// Why, when quarantined or rejected.
    pub reason: Option<String>,
}

impl Outcome {
    pub fn accepted() -> Self {
        Outcome {
            status: ItemStatus::Accepted,
            reason: None,
        }
    }

    pub fn duplicate() -> Self {
        Outcome {
            status: ItemStatus::Duplicate,
            reason: None,
        }
    }

    pub fn quarantined(reason: String) -> Self {
        Outcome {
            status: ItemStatus::Quarantined,
            reason: Some(reason),
        }
    }
}

/// An outbox item received earlier from a till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// What was answered the first time.
    pub status: ItemStatus,
    /// Why, when quarantined or rejected.
    pub reason: Option<String>,
    /// Fingerprint of the content received under this key.
    pub fingerprint: Option<String>,
}

impl Received {
    /// The answer to a resend of the same content: `duplicate` when it was
    /// accepted, else the same status and reason.
    pub fn resend_outcome(&self) -> Outcome {
        match self.status {
            ItemStatus::Accepted | ItemStatus::Duplicate => Outcome::duplicate(),
            s => Outcome {
                status: s,
                reason: self.reason.clone(),
            },
        }
    }
}

/// What the web service found checking a ticket's hash and signature
/// (done before the database is taken: it is the costly part).
pub type TicketCheck = Result<(), String>;

/// A range of ticket numbers that did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// First missing number.
    pub first: u64,
    /// Last missing number.
    pub last: u64,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "missing ticket {}", self.first)
        } else {
            write!(f, "missing tickets {}–{}", self.first, self.last)
        }
    }
}

/// What the server received of one till's tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TillTickets {
    /// Till id.
    #[serde(skip)]
    pub till_id: String,
    /// Distinct ticket numbers received (verified or quarantined).
    pub tickets_received: u64,
    /// Tickets verified and stored in `TICKET`.
    pub verified: u64,
    /// Tickets in quarantine.
    pub quarantined: u64,
    /// Outbox items refused (bad data).
    pub rejected: u64,
    /// Verified tickets whose link to the previous one awaits it.
    pub links_pending: u64,
    /// Training-mode tickets verified and stored (`TRAINING_TICKET`):
    /// apart from every count above, in no fiscal total.
    pub training: u64,
    /// Training-mode tickets in their own quarantine.
    pub training_quarantined: u64,
    /// Highest ticket number received.
    pub highest_received: u64,
    /// Highest number N such that 1..=N all arrived.
    pub highest_contiguous: u64,
    /// Numbers that did not arrive, below the highest received.
    pub missing: Vec<Gap>,
    /// When the till last pushed its outbox.
    pub last_push: Option<String>,
}

/// One ticket as listed by `server tickets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketListing {
    /// Till id.
    pub till: String,
    /// Number (null for a quarantined item that is not a readable ticket).
    pub number: Option<u64>,
    /// Date-time of the sale.
    pub time: Option<String>,
    /// Total including VAT, cents.
    pub total_cents: Option<i64>,
    /// `verified` or `quarantined`.
    pub status: &'static str,
    /// For a verified ticket: `verified`, or `pending` while the previous
    /// ticket has not arrived.
    pub link: Option<&'static str>,
    /// The ticket's hash.
    pub hash: Option<String>,
    /// When the server received it.
    pub received_at: String,
    /// Why it is in quarantine.
    pub reason: Option<String>,
    /// Idempotency key of the quarantined item.
    pub key: Option<String>,
}
