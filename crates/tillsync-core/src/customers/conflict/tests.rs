//! Tests of the conflict rule without a database.

use super::*;

#[test]
fn policies_parse_by_name_ignoring_case() {
    for p in ConflictPolicy::ALL {
        assert_eq!(p.as_str().parse::<ConflictPolicy>(), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
    }
    assert_eq!(
        " Till-Wins ".parse::<ConflictPolicy>(),
        Ok(ConflictPolicy::TillWins)
    );
    assert_eq!(
        "x".parse::<ConflictPolicy>().unwrap_err().to_string(),
        "unknown conflict policy \"x\": expected one of server-wins, till-wins, newest-wins"
    );
    assert_eq!(ConflictPolicy::default(), ConflictPolicy::ServerWins);
}

const EXPORTED_AT_2: Exported = Exported {
    version: 2,
    last_seq: 10,
    changed_at: 1_000,
};

#[test]
fn the_server_changed_a_row_unless_the_till_made_the_newest_change() {
    // Never changed: no conflict.
    assert_eq!(RowHistory::default().server_change_since(Some(1)), None);
    // A change not exported yet: no till holds it, whatever its version.
    let pending = RowHistory {
        pending_seq: Some(11),
        pending_at: Some(2_000),
        exported: Some(EXPORTED_AT_2),
        own_seq: None,
    };
    assert_eq!(pending.server_change_since(Some(5)), Some(2_000));
    // ... unless the till made it itself.
    let own = RowHistory {
        own_seq: Some(11),
        ..pending
    };
    assert_eq!(own.server_change_since(Some(1)), None);
    // An exported change: a conflict for a till holding an older version only.
    let exported = RowHistory {
        exported: Some(EXPORTED_AT_2),
        ..RowHistory::default()
    };
    assert_eq!(exported.server_change_since(Some(1)), Some(1_000));
    assert_eq!(exported.server_change_since(None), Some(1_000));
    assert_eq!(exported.server_change_since(Some(2)), None);
    assert_eq!(exported.server_change_since(Some(3)), None);
    // The till's own write exported since: settled.
    let own_exported = RowHistory {
        own_seq: Some(10),
        ..exported
    };
    assert_eq!(own_exported.server_change_since(Some(1)), None);
    // An older own write does not hide a newer change of someone else.
    let older_own = RowHistory {
        own_seq: Some(9),
        ..exported
    };
    assert_eq!(older_own.server_change_since(Some(1)), Some(1_000));
}

#[test]
fn the_policy_says_who_wins() {
    let at = "2026-12-04T10:00:00Z";
    let t = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .timestamp();
    for p in ConflictPolicy::ALL {
        assert_eq!(resolve(p, None, at), None, "{p}");
    }
    assert_eq!(
        resolve(ConflictPolicy::ServerWins, Some(t - 100), at),
        Some(Winner::Server)
    );
    assert_eq!(
        resolve(ConflictPolicy::TillWins, Some(t + 100), at),
        Some(Winner::Till)
    );
    let newest = |server_at| resolve(ConflictPolicy::NewestWins, Some(server_at), at);
    assert_eq!(newest(t - 1), Some(Winner::Till));
    // A tie keeps the server's row.
    assert_eq!(newest(t), Some(Winner::Server));
    assert_eq!(newest(t + 1), Some(Winner::Server));
    // An unreadable edit time loses.
    assert_eq!(
        resolve(ConflictPolicy::NewestWins, Some(i64::MIN + 1), "yesterday"),
        Some(Winner::Server)
    );
    assert_eq!(Winner::Till.as_str(), "till");
    assert_eq!(Winner::Server.as_str(), "server");
}

#[test]
fn the_note_names_the_customer_the_policy_and_the_kept_version() {
    assert_eq!(
        conflict_note("CLI000001", ConflictPolicy::NewestWins, Winner::Till),
        "conflict: the server changed customer CLI000001 since the till's version; newest-wins kept the till's version"
    );
    assert_eq!(
        conflict_note("CLI000001", ConflictPolicy::ServerWins, Winner::Server),
        "conflict: the server changed customer CLI000001 since the till's version; server-wins kept the server's version"
    );
}
