//! [`FiscalError`]: why a time zone, a record or a closing is refused.

/// Why a fiscal value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalError {
    /// Not an IANA time zone name known to the built-in data.
    #[error(
        "unknown time zone {0:?} (expected an IANA name such as Europe/Paris or Indian/Reunion)"
    )]
    TimeZone(String),
    /// Not an RFC 3339 UTC time.
    #[error("{0:?} is not an RFC 3339 time")]
    Time(String),
    /// Not a local time of day `HH:MM`.
    #[error("{0:?} is not a time of day HH:MM")]
    TimeOfDay(String),
    /// Not a period name.
    #[error("{0:?} is not a period (expected day, month or year)")]
    Period(String),
    /// Not a period value (`2026`, `2026-12`, `2026-12-04`).
    #[error("{0:?} is not a period value (expected YYYY, YYYY-MM or YYYY-MM-DD)")]
    PeriodValue(String),
    /// An event kind this version does not know.
    #[error("{0:?} is not an event kind")]
    EventKind(String),
    /// A record body is not what its kind requires.
    #[error("record {chain} {seq}: its body is not valid: {reason}")]
    Body {
        /// Chain.
        chain: String,
        /// Sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// An amount overflows.
    #[error("amounts are too large")]
    Overflow,
}
