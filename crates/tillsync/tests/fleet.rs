//! `tillsync bench fleet` runs end to end on a few tills: a separate server
//! process, tills polling and pushing signed tickets, zero errors, every
//! accepted ticket stored. No timing is asserted.

use crate::util::tillsync;

#[test]
fn a_small_fleet_runs_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bench_dir = dir.path().to_str().unwrap();
    let run = tillsync(
        dir.path(),
        &[
            "--json",
            "bench",
            "fleet",
            "--tills",
            "4",
            "--interval-ms",
            "200",
            "--warmup-s",
            "0.3",
            "--duration-s",
            "1.5",
            "--push-every",
            "2",
            "--items",
            "200",
            "--dir",
            bench_dir,
        ],
    )
    .ok();
    let r = run.json();
    assert_eq!(r["errors"], 0, "{r:#}");
    assert_eq!(r["tills"], 4, "{r:#}");
    let kinds = r["requests"].as_array().expect("requests");
    assert_eq!(kinds.len(), 2, "{r:#}");
    for k in kinds {
        assert!(k["requests"].as_u64().unwrap() > 0, "{r:#}");
    }
    let accepted = r["tickets_accepted"].as_u64().unwrap();
    assert!(accepted > 0, "{r:#}");
    assert_eq!(
        r["check"]["tickets_stored"].as_u64(),
        Some(accepted),
        "{r:#}"
    );
    assert_eq!(r["check"]["quarantined"], 0, "{r:#}");
    assert!(r["server"]["peak_rss_mb"].as_f64().unwrap() > 0.0, "{r:#}");
    assert!(r["server"]["metrics_bytes"].as_u64().unwrap() > 0, "{r:#}");
    // The temp folder is removed (no --keep).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
