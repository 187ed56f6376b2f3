//! The kinds of the event log (JET): what a till records of its own life
//! (start and stop, offline periods, its clock going back, closings,
//! duplicates, archives, software versions, failed signature checks,
//! training mode, cashiers logging in and out), each a [`crate::fiscal::record::Record`] of the event chain.

use serde::{Deserialize, Serialize};

use crate::fiscal::error::FiscalError;

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The till agent started.
    AgentStart,
    /// The till agent stopped.
    AgentStop,
    /// The server stopped answering: an offline period begins.
    Offline,
    /// The server answers again: the offline period ends.
    Online,
    /// The till's clock is earlier than its last record.
    ClockBack,
    /// A closing was written.
    Closing,
    /// A receipt was printed again (a duplicate).
    Reprint,
    /// An archive was made.
    Archive,
    /// Archived periods were purged from the till.
    Purge,
    /// The software version differs from the one of the previous start.
    VersionChange,
    /// A signature check failed (a package, a record).
    SignatureFailure,
    /// A training-mode (mode école) ticket was sold.
    Training,
    /// Tickets were sent again because the server named them missing.
    Resend,
    /// A cashier logged in on the cashier page (PIN checked).
    CashierLogin,
    /// A cashier logged out (or the session ended).
    CashierLogout,
}

/// Every kind, in the order of the docs.
pub const EVENT_KINDS: &[EventKind] = &[
    EventKind::AgentStart,
    EventKind::AgentStop,
    EventKind::Offline,
    EventKind::Online,
    EventKind::ClockBack,
    EventKind::Closing,
    EventKind::Reprint,
    EventKind::Archive,
    EventKind::Purge,
    EventKind::VersionChange,
    EventKind::SignatureFailure,
    EventKind::Training,
    EventKind::Resend,
    EventKind::CashierLogin,
    EventKind::CashierLogout,
];

impl EventKind {
    /// The code the record keeps (`agent_start`…).
    pub fn code(self) -> &'static str {
        match self {
            EventKind::AgentStart => "agent_start",
            EventKind::AgentStop => "agent_stop",
            EventKind::Offline => "offline",
            EventKind::Online => "online",
            EventKind::ClockBack => "clock_back",
            EventKind::Closing => "closing",
            EventKind::Reprint => "reprint",
            EventKind::Archive => "archive",
            EventKind::Purge => "purge",
            EventKind::VersionChange => "version_change",
            EventKind::SignatureFailure => "signature_failure",
            EventKind::Training => "training",
            EventKind::Resend => "resend",
            EventKind::CashierLogin => "cashier_login",
            EventKind::CashierLogout => "cashier_logout",
        }
    }

    /// The kind of a code.
    pub fn from_code(code: &str) -> Result<Self, FiscalError> {
        EVENT_KINDS
            .iter()
            .copied()
            .find(|k| k.code() == code)
            .ok_or_else(|| FiscalError::EventKind(code.to_string()))
    }

    /// What a person reads, French or English.
    pub fn label(self, lang: crate::lang::Lang) -> &'static str {
        let (fr, en) = match self {
            EventKind::AgentStart => ("démarrage", "agent started"),
            EventKind::AgentStop => ("arrêt", "agent stopped"),
            EventKind::Offline => ("début de période hors ligne", "offline period begins"),
            EventKind::Online => ("fin de période hors ligne", "offline period ends"),
            EventKind::ClockBack => ("horloge reculée", "clock went back"),
            EventKind::Closing => ("clôture", "closing"),
            EventKind::Reprint => ("duplicata", "duplicate printed"),
            EventKind::Archive => ("archivage", "archive made"),
            EventKind::Purge => ("purge de périodes archivées", "archived periods purged"),
            EventKind::VersionChange => ("changement de version", "software version changed"),
            EventKind::SignatureFailure => (
                "échec de vérification de signature",
                "signature check failed",
            ),
            EventKind::Training => ("ticket en mode école", "training-mode ticket"),
            EventKind::Resend => ("renvoi de tickets manquants", "missing tickets sent again"),
            EventKind::CashierLogin => ("connexion d'un caissier", "cashier logged in"),
            EventKind::CashierLogout => ("déconnexion d'un caissier", "cashier logged out"),
        };
        lang.pick(fr, en)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in EVENT_KINDS {
            assert_eq!(EventKind::from_code(k.code()).unwrap(), *k);
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.code())
            );
        }
        assert!(EventKind::from_code("party").is_err());
    }
}
