//! What a verification finds: the first break (which record, which field,
//! why) or the counts of an intact ledger. A leaf: the checks of
//! `fiscal::verify` and the archive readers speak in these types.

use std::fmt;

use serde::Serialize;

/// What a break is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "number", rename_all = "snake_case")]
pub enum Subject {
    /// The archive file itself (not a zip, a part missing or unreadable).
    Archive,
    /// A part of an archive (`tickets.csv`…).
    Part(String),
    /// The archive's manifest (`manifest.json`) or its signature.
    Manifest,
    /// The key the records are signed with.
    Key,
    /// A ticket, by number.
    Ticket(u64),
    /// An event of the event log (JET), by number.
    Event(u64),
    /// A closing, by number.
    Closing(u64),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Archive => f.write_str("archive"),
            Subject::Part(p) => write!(f, "archive part {p}"),
            Subject::Manifest => f.write_str("manifest"),
            Subject::Key => f.write_str("key"),
            Subject::Ticket(n) => write!(f, "ticket {n}"),
            Subject::Event(n) => write!(f, "event {n}"),
            Subject::Closing(n) => write!(f, "closing {n}"),
        }
    }
}

/// The first thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// Where.
    pub subject: Subject,
    /// The field, when one can be named (`total_cents`, `prev_hash`…).
    pub field: Option<String>,
    /// Why, for a person.
    pub reason: String,
}

impl Break {
    /// A break in `subject`, naming `field`.
    pub fn field(subject: Subject, field: &str, reason: impl Into<String>) -> Self {
        Break {
            subject,
            field: Some(field.to_string()),
            reason: reason.into(),
        }
    }

    /// A break in `subject` as a whole (a record missing, a file unreadable).
    pub fn whole(subject: Subject, reason: impl Into<String>) -> Self {
        Break {
            subject,
            field: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}, field {field}: {}", self.subject, self.reason),
            None => write!(f, "{}: {}", self.subject, self.reason),
        }
    }
}

/// A range of record numbers found, `first..=last` (none when empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Run {
    /// How many.
    pub count: u64,
    /// The first number.
    pub first: Option<u64>,
    /// The last number.
    pub last: Option<u64>,
}

impl Run {
    /// `count` records numbered after `after`.
    pub fn after(after: u64, count: usize) -> Self {
        let count = count as u64;
        Run {
            count,
            first: (count > 0).then_some(after + 1),
            last: (count > 0).then_some(after + count),
        }
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.first, self.last) {
            (Some(a), Some(b)) => write!(f, "{} ({a}–{b})", self.count),
            _ => f.write_str("0"),
        }
    }
}

/// What an intact ledger holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The till.
    pub till: String,
    /// The period an archive covers (none: everything held).
    pub period: Option<String>,
    /// Tickets checked.
    pub tickets: Run,
    /// Events checked.
    pub events: Run,
    /// Closings checked.
    pub closings: Run,
    /// Closings whose totals were recomputed (a day from its tickets, a
    /// month or a year from its parts).
    pub closings_recomputed: u64,
    /// Closings held for the chain only (named in another period: their
    /// tickets or parts are in that period's archive).
    pub closings_chained_only: u64,
    /// The key ids of the till keys that signed the records.
    pub key_ids: Vec<String>,
    /// The SHA-256 fingerprints of those keys.
    pub key_fingerprints: Vec<String>,
}

/// What a verification gives: the counts of an intact ledger, or its first break.
pub type Verdict = Result<Summary, Break>;
