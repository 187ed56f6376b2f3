//! The package plan: given what a package store holds and what a till holds,
//! which packages the till downloads, in which order, and why a full load.
//! The web service and the till's index fallback both use this one function.

use std::collections::BTreeMap;

use tillsync_wire::api::{PlanAction, TablePlan, TillTable};
use tillsync_wire::index::IndexEntry;
use tillsync_wire::package::PackageKind;

/// Plans every table found in `entries` for a till of `store`.
///
/// A table whose packages are subset per store is answered with the till's
/// store subset; other tables with their unfiltered packages. `till` holds the
/// till's versions; `force_full` asks for full loads everywhere.
pub fn plan_all(
    entries: &[IndexEntry],
    store: &str,
    till: &[TillTable],
    force_full: bool,
) -> Vec<TablePlan> {
    let mut tables: BTreeMap<&str, Vec<&IndexEntry>> = BTreeMap::new();
    for e in entries {
        tables.entry(e.table.as_str()).or_default().push(e);
    }
    tables
        .into_iter()
        .map(|(table, list)| {
            let subset_wanted = list.iter().any(|e| e.subset.is_some());
            let subset = subset_wanted.then(|| store.to_string());
            let mine: Vec<&IndexEntry> = list
                .into_iter()
                .filter(|e| e.subset.as_deref() == subset.as_deref())
                .collect();
            let state = till.iter().find(|t| t.table == table);
            plan_table(table, subset, &mine, state, force_full)
        })
        .collect()
}

/// Plans one table from the packages available for the till's subset.
pub fn plan_table(
    table: &str,
    subset: Option<String>,
    entries: &[&IndexEntry],
    till: Option<&TillTable>,
    force_full: bool,
) -> TablePlan {
    let mut plan = TablePlan {
        table: table.to_string(),
        subset,
        action: PlanAction::NotPublished,
        reason: None,
        latest_version: entries.iter().map(|e| e.to_version).max(),
        packages: Vec::new(),
    };
    let Some(latest) = plan.latest_version else {
        return plan;
    };
    let version = till.and_then(|t| t.version);
    let layout = till.and_then(|t| t.layout_hash.as_deref());

    if !force_full && let Some(v) = version {
        if v == latest {
            plan.action = PlanAction::UpToDate;
            return plan;
        }
        if v > latest {
            plan.action = PlanAction::UpToDate;
            plan.reason = Some(format!(
                "the till holds version {v}, newer than the newest published ({latest}); \
                 it keeps its data (a till never goes back to an older version)"
            ));
            return plan;
        }
        if let Some(chain) = chain(entries, v, latest, layout) {
            plan.action = PlanAction::Incremental;
            plan.packages = chain.into_iter().cloned().collect();
            return plan;
        }
    }

    plan.action = PlanAction::Full;
    plan.reason = Some(full_reason(entries, version, layout, latest, force_full));
    let full = entries
        .iter()
        .filter(|e| e.kind == PackageKind::Full)
        .max_by_key(|e| e.to_version);
    match full {
        Some(full) => {
            plan.packages.push((*full).clone());
            if full.to_version < latest
                && let Some(rest) = chain(entries, full.to_version, latest, Some(&full.layout_hash))
            {
                plan.packages.extend(rest.into_iter().cloned());
            }
        }
        None => {
            plan.action = PlanAction::NotPublished;
            plan.reason = Some("no full package is published for this table yet".into());
        }
    }
    plan
}

/// Incrementals leading from `from` to `to`, each with `layout`.
fn chain<'a>(
    entries: &[&'a IndexEntry],
    from: u64,
    to: u64,
    layout: Option<&str>,
) -> Option<Vec<&'a IndexEntry>> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let next = entries
            .iter()
            .filter(|e| e.kind == PackageKind::Incremental && e.from_version == at)
            .max_by_key(|e| e.to_version)?;
        if Some(next.layout_hash.as_str()) != layout {
            return None;
        }
        out.push(*next);
        at = next.to_version;
    }
    (at == to).then_some(out)
}

fn full_reason(
    entries: &[&IndexEntry],
    version: Option<u64>,
    layout: Option<&str>,
    latest: u64,
    force_full: bool,
) -> String {
    if force_full {
        return "full load requested".into();
    }
    let Some(v) = version else {
        return "first load of this table".into();
    };
    let newest_layout = entries
        .iter()
        .max_by_key(|e| e.to_version)
        .map(|e| e.layout_hash.as_str());
    if layout.is_some() && newest_layout != layout {
        return "the table's layout changed on the server (columns or key)".into();
    }
    let oldest = entries
        .iter()
        .filter(|e| e.kind == PackageKind::Incremental)
        .map(|e| e.from_version)
        .min();
    match oldest {
        Some(o) => format!(
            "version {v} is no longer kept: the incrementals available start at version {o} \
             (newest {latest})"
        ),
        None => "the table travels as full snapshots".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(kind: PackageKind, from: u64, to: u64, layout: &str) -> IndexEntry {
        IndexEntry {
            file: format!("{kind}-{from}-{to}"),
            table: "ART".into(),
            subset: None,
            kind,
            from_version: from,
            to_version: to,
            layout_hash: layout.into(),
            size: 1,
            sha256: String::new(),
            upserts: 0,
            deletes: 0,
        }
    }

    fn till(v: u64, l: &str) -> TillTable {
        TillTable {
            table: "ART".into(),
            version: Some(v),
            layout_hash: Some(l.into()),
        }
    }

    use PackageKind::{Full, Incremental as Inc};

    fn files(p: &TablePlan) -> Vec<&str> {
        p.packages.iter().map(|e| e.file.as_str()).collect()
    }

    #[test]
    fn first_load_is_full_then_chain() {
        let all = [e(Full, 0, 2, "a"), e(Inc, 2, 3, "a"), e(Inc, 1, 2, "a")];
        let refs: Vec<_> = all.iter().collect();
        let p = plan_table("ART", None, &refs, None, false);
        assert_eq!(p.action, PlanAction::Full);
        assert_eq!(files(&p), ["full-0-2", "incremental-2-3"]);
        assert!(p.reason.unwrap().contains("first load"));
    }

    #[test]
    fn incremental_chain_and_up_to_date() {
        let all = [e(Full, 0, 1, "a"), e(Inc, 1, 2, "a"), e(Inc, 2, 3, "a")];
        let refs: Vec<_> = all.iter().collect();
        let p = plan_table("ART", None, &refs, Some(&till(1, "a")), false);
        assert_eq!(p.action, PlanAction::Incremental);
        assert_eq!(files(&p), ["incremental-1-2", "incremental-2-3"]);
        let p = plan_table("ART", None, &refs, Some(&till(3, "a")), false);
        assert_eq!(p.action, PlanAction::UpToDate);
        assert!(p.packages.is_empty());
    }

    #[test]
    fn purged_incremental_gives_full_with_reason() {
        let all = [e(Full, 0, 5, "a"), e(Inc, 4, 5, "a")];
        let refs: Vec<_> = all.iter().collect();
        let p = plan_table("ART", None, &refs, Some(&till(2, "a")), false);
        assert_eq!(p.action, PlanAction::Full);
        assert_eq!(files(&p), ["full-0-5"]);
        assert!(p.reason.unwrap().contains("no longer kept"));
    }

    #[test]
    fn layout_change_gives_full() {
        let all = [e(Full, 0, 3, "b"), e(Inc, 2, 3, "b")];
        let refs: Vec<_> = all.iter().collect();
        let p = plan_table("ART", None, &refs, Some(&till(2, "a")), false);
        assert_eq!(p.action, PlanAction::Full);
        assert!(p.reason.unwrap().contains("layout"));
    }

    #[test]
    fn till_ahead_keeps_its_data() {
        let all = [e(Full, 0, 3, "a")];
        let refs: Vec<_> = all.iter().collect();
        let p = plan_table("ART", None, &refs, Some(&till(9, "a")), false);
        assert_eq!(p.action, PlanAction::UpToDate);
        assert!(p.packages.is_empty());
    }

    #[test]
    fn subsets_pick_the_till_store() {
        let mut a = e(Full, 0, 1, "a");
        a.table = "CLI".into();
        a.subset = Some("S01".into());
        a.file = "s01".into();
        let mut b = a.clone();
        b.subset = Some("S02".into());
        b.file = "s02".into();
        let plans = plan_all(&[a, b, e(Full, 0, 1, "a")], "S02", &[], false);
        assert_eq!(plans.len(), 2);
        let cli = plans.iter().find(|p| p.table == "CLI").unwrap();
        assert_eq!(files(cli), ["s02"]);
        assert_eq!(cli.subset.as_deref(), Some("S02"));
    }
}
