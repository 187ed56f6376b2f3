//! The decide step of the export: for one down sync table, whether it gets
//! nothing, an incremental package, a full package or both, at which
//! version, and why a full one. A pure function over the table's recorded
//! state and what the read view found: no I/O, every rule tested here.

use tillsync_server_db::export::TableState;

/// What the read view found of one table, before the decision.
#[derive(Debug, Clone, Copy)]
pub enum Found<'a> {
    /// An incremental table: whether change capture logged changes after
    /// the recorded `last_seq` (up to the view's newest sequence).
    Changes(bool),
    /// A full-type (snapshot) table: the hash of its layout and rows now
    /// ([`crate::down::read::snapshot_hash`]).
    Snapshot(&'a str),
}

/// Everything the decision depends on, for one table.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The state recorded by the last export (`None`: never exported).
    pub state: Option<&'a TableState>,
    /// Incremental packages published since its newest full package.
    pub since_full: u64,
    /// The hash of its layout now.
    pub layout_hash: &'a str,
    /// What the read view found.
    pub found: Found<'a>,
    /// A full package of every table was asked for (`--full`).
    pub full_requested: bool,
    /// Packages kept per table (`export.retention`, at least 1).
    pub retention: u32,
}

/// What the export publishes for one table that is not unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The table's version after the export.
    pub version: u64,
    /// Build an incremental package from the recorded version to `version`.
    pub incremental: bool,
    /// Build a full package at `version`, for this reason.
    pub full: Option<&'static str>,
    /// The version of the newest full package after the export.
    pub full_version: Option<u64>,
}

impl Decision {
    /// `incremental`, `full` or `incremental+full` (the report's outcome).
    pub fn outcome(&self) -> String {
        let mut outcome = Vec::new();
        if self.incremental {
            outcome.push("incremental");
        }
        if self.full.is_some() {
            outcome.push("full");
        }
        outcome.join("+")
    }
}

/// The decision for one table; `None` when nothing is published (the
/// table is unchanged).
///
/// An incremental table gets an incremental package when it changed, and a
/// full package (the first reason that holds): on its first export, when
/// its layout changed (then no incremental: the tills reload it), on
/// `--full`, when it has no full package yet, or when it changed and the
/// incrementals since its last full package reach the retention. Its
/// version moves on when it changed, on its first export, or when its
/// layout changed. A full-type table gets a full package when its rows or
/// layout changed, or on `--full` (then at the same version).
pub fn decide(f: &Facts<'_>) -> Option<Decision> {
    let state = f.state;
    let v = state.map(|s| s.version).unwrap_or(0);
    match f.found {
        Found::Changes(changed) => {
            let layout_changed = state.is_some_and(|s| s.layout_hash != f.layout_hash);
            let full_reason = if state.is_none() {
                Some("first export of this table")
            } else if layout_changed {
                Some("the table's layout changed")
            } else if f.full_requested {
                Some("full export requested")
            } else if state.is_some_and(|s| s.full_version.is_none()) {
                Some("no full package yet")
            } else if changed && f.since_full + 1 > u64::from(f.retention) {
                Some("the incrementals since the last full package reach the retention")
            } else {
                None
            };
            if !changed && full_reason.is_none() {
                return None;
            }
            let version = if changed || state.is_none() || layout_changed {
                v + 1
            } else {
                v
            };
            Some(Decision {
                version,
                incremental: changed && state.is_some() && !layout_changed,
                full: full_reason,
                full_version: if full_reason.is_some() {
                    Some(version)
                } else {
                    state.and_then(|s| s.full_version)
                },
            })
        }
        Found::Snapshot(content) => {
            let same = state.is_some_and(|s| s.snapshot_hash.as_deref() == Some(content));
            if same && !f.full_requested {
                return None;
            }
            let version = if same { v.max(1) } else { v + 1 };
            Some(Decision {
                version,
                incremental: false,
                full: Some(if same {
                    "full export requested"
                } else if state.is_none() {
                    "first export of this table"
                } else {
                    "snapshot table changed"
                }),
                full_version: Some(version),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An incremental table exported at version 4 (full package at 3).
    fn exported() -> TableState {
        TableState {
            table: "ART".into(),
            version: 4,
            last_seq: 40,
            layout_hash: "L1".into(),
            snapshot_hash: None,
            full_version: Some(3),
        }
    }

    /// A full-type table exported at version 2 with rows hashed "H1".
    fn snapshot() -> TableState {
        TableState {
            table: "TAX".into(),
            version: 2,
            last_seq: 40,
            layout_hash: "L1".into(),
            snapshot_hash: Some("H1".into()),
            full_version: Some(2),
        }
    }

    fn facts<'a>(state: Option<&'a TableState>, found: Found<'a>) -> Facts<'a> {
        Facts {
            state,
            since_full: 1,
            layout_hash: "L1",
            found,
            full_requested: false,
            retention: 5,
        }
    }

    fn decision(version: u64, incremental: bool, full: Option<&'static str>, fv: u64) -> Decision {
        Decision {
            version,
            incremental,
            full,
            full_version: Some(fv),
        }
    }

    #[test]
    fn first_export_is_full_whether_or_not_it_changed() {
        for changed in [false, true] {
            assert_eq!(
                decide(&facts(None, Found::Changes(changed))),
                Some(decision(1, false, Some("first export of this table"), 1)),
                "changed: {changed}"
            );
        }
        assert_eq!(
            decide(&facts(None, Found::Snapshot("H1"))),
            Some(decision(1, false, Some("first export of this table"), 1))
        );
    }

    #[test]
    fn nothing_changed_is_unchanged() {
        let s = exported();
        assert_eq!(decide(&facts(Some(&s), Found::Changes(false))), None);
        let s = snapshot();
        assert_eq!(decide(&facts(Some(&s), Found::Snapshot("H1"))), None);
    }

    #[test]
    fn changes_within_the_retention_are_an_incremental() {
        let s = exported();
        let d = decide(&facts(Some(&s), Found::Changes(true))).unwrap();
        assert_eq!(d, decision(5, true, None, 3), "the full package stays at 3");
        assert_eq!(d.outcome(), "incremental");
    }

    #[test]
    fn incrementals_reaching_the_retention_add_a_full_package() {
        let s = exported();
        let f = Facts {
            since_full: 5,
            ..facts(Some(&s), Found::Changes(true))
        };
        let d = decide(&f).unwrap();
        assert_eq!(
            d,
            decision(
                5,
                true,
                Some("the incrementals since the last full package reach the retention"),
                5
            )
        );
        assert_eq!(d.outcome(), "incremental+full");
        // One fewer stays within it; without changes the count does not matter.
        assert_eq!(decide(&Facts { since_full: 4, ..f }).unwrap().full, None);
        let unchanged = Facts {
            found: Found::Changes(false),
            ..f
        };
        assert_eq!(decide(&unchanged), None);
    }

    #[test]
    fn a_changed_layout_is_a_full_package_without_incremental() {
        let s = exported();
        for changed in [false, true] {
            let f = Facts {
                layout_hash: "L2",
                ..facts(Some(&s), Found::Changes(changed))
            };
            let d = decide(&f).unwrap();
            assert_eq!(d, decision(5, false, Some("the table's layout changed"), 5));
            assert_eq!(d.outcome(), "full");
        }
    }

    #[test]
    fn full_requested_is_a_full_package_at_the_same_version_unless_changed() {
        let s = exported();
        let f = Facts {
            full_requested: true,
            ..facts(Some(&s), Found::Changes(false))
        };
        assert_eq!(
            decide(&f),
            Some(decision(4, false, Some("full export requested"), 4))
        );
        let changed = Facts {
            found: Found::Changes(true),
            ..f
        };
        assert_eq!(
            decide(&changed),
            Some(decision(5, true, Some("full export requested"), 5))
        );
        let s = snapshot();
        let f = Facts {
            full_requested: true,
            ..facts(Some(&s), Found::Snapshot("H1"))
        };
        assert_eq!(
            decide(&f),
            Some(decision(2, false, Some("full export requested"), 2))
        );
    }

    #[test]
    fn an_incremental_table_without_a_full_package_gets_one() {
        let s = TableState {
            full_version: None,
            ..exported()
        };
        assert_eq!(
            decide(&facts(Some(&s), Found::Changes(false))),
            Some(decision(4, false, Some("no full package yet"), 4))
        );
        assert_eq!(
            decide(&facts(Some(&s), Found::Changes(true))),
            Some(decision(5, true, Some("no full package yet"), 5))
        );
    }

    #[test]
    fn a_changed_snapshot_table_is_a_full_package_at_the_next_version() {
        let s = snapshot();
        let d = decide(&facts(Some(&s), Found::Snapshot("H2"))).unwrap();
        assert_eq!(d, decision(3, false, Some("snapshot table changed"), 3));
        assert_eq!(d.outcome(), "full");
        // A state at version 0 with the same rows, asked in full: version 1.
        let zero = TableState {
            version: 0,
            ..snapshot()
        };
        let f = Facts {
            full_requested: true,
            ..facts(Some(&zero), Found::Snapshot("H1"))
        };
        assert_eq!(decide(&f).unwrap().version, 1);
    }
}
