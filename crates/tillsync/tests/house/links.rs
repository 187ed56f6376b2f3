//! What the till crates link: their `[dependencies]` followed through the
//! workspace's path crates, with `x.workspace = true` entries merged with
//! `[workspace.dependencies]` and features (optional dependencies included)
//! switched on as cargo unifies them.

use std::collections::{BTreeMap, BTreeSet};

use toml::{Table, Value};

/// The till-side crates: they must link no PostgreSQL client and no server crate.
pub(super) const TILL_CRATES: [&str; 2] = ["tillsync-till", "tillsync-till-db"];

/// The PostgreSQL client crates.
const POSTGRES: [&str; 2] = ["postgres", "tokio-postgres"];

/// A crate of the workspace: its manifest file (for messages) and its TOML.
pub(super) struct Manifest {
    pub(super) file: String,
    pub(super) toml: Table,
}

/// One normal dependency of a crate, its `[workspace.dependencies]` entry merged in.
struct Dep {
    /// The name the crate's features use for it.
    key: String,
    package: String,
    optional: bool,
    default_features: bool,
    features: BTreeSet<String>,
}

fn normal_deps(manifest: &Table, ws_deps: &Table) -> Vec<Dep> {
    let mut tables: Vec<&Table> = manifest
        .get("dependencies")
        .and_then(Value::as_table)
        .into_iter()
        .collect();
    for target in manifest
        .get("target")
        .and_then(Value::as_table)
        .into_iter()
        .flat_map(Table::values)
    {
        tables.extend(target.get("dependencies").and_then(Value::as_table));
    }
    let mut deps = Vec::new();
    for (key, spec) in tables.into_iter().flat_map(Table::iter) {
        let inherited = spec.get("workspace").and_then(Value::as_bool) == Some(true);
        let ws = ws_deps.get(key).filter(|_| inherited);
        let get = |k: &str| spec.get(k).or_else(|| ws.and_then(|w| w.get(k)));
        let features = [Some(spec), ws]
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("features")?.as_array());
        deps.push(Dep {
            key: key.clone(),
            package: get("package")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_string(),
            optional: spec
                .get("optional")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            default_features: get("default-features")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            features: features
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
        });
    }
    deps
}

/// The dependencies a crate uses with `on` features: the required ones and
/// the optional ones a feature switches on; each with the features it asks
/// of that dependency and the feature that switched it on.
fn active_deps(
    manifest: &Table,
    on: &BTreeSet<String>,
    ws_deps: &Table,
) -> Vec<(Dep, Option<String>)> {
    let deps = normal_deps(manifest, ws_deps);
    let table = manifest.get("features").and_then(Value::as_table);
    let (mut seen, mut todo): (BTreeSet<String>, Vec<String>) =
        (BTreeSet::new(), on.iter().cloned().collect());
    let (mut switched, mut asked, mut weak) = (BTreeMap::new(), Vec::new(), Vec::new());
    while let Some(f) = todo.pop() {
        if !seen.insert(f.clone()) {
            continue;
        }
        let Some(values) = table.and_then(|t| t.get(&f)?.as_array()) else {
            // The implicit feature of an optional dependency.
            switched.entry(f.clone()).or_insert(f);
            continue;
        };
        for v in values.iter().filter_map(Value::as_str) {
            if let Some(d) = v.strip_prefix("dep:") {
                switched.entry(d.to_string()).or_insert(f.clone());
            } else if let Some((d, feature)) = v.split_once('/') {
                match d.strip_suffix('?') {
                    Some(d) => weak.push((d.to_string(), feature.to_string())),
                    None => {
                        switched.entry(d.to_string()).or_insert(f.clone());
                        asked.push((d.to_string(), feature.to_string()));
                    }
                }
            } else {
                todo.push(v.to_string());
            }
        }
    }
    let mut active: Vec<(Dep, Option<String>)> = deps
        .into_iter()
        .filter(|d| !d.optional || switched.contains_key(&d.key))
        .map(|d| {
            let why = switched.get(&d.key).filter(|_| d.optional).cloned();
            (d, why)
        })
        .collect();
    for (d, feature) in asked.into_iter().chain(weak) {
        for (dep, _) in active.iter_mut().filter(|(dep, _)| dep.key == d) {
            dep.features.insert(feature.clone());
        }
    }
    active
}

/// The crates reached from `starts` through workspace crates (features
/// unified as cargo does), and what is wrong for the till side.
pub(super) fn till_side_problems(
    members: &BTreeMap<String, Manifest>,
    ws_deps: &Table,
    starts: &[&str],
) -> Vec<String> {
    let default = BTreeSet::from(["default".to_string()]);
    let mut on: BTreeMap<String, BTreeSet<String>> = starts
        .iter()
        .map(|s| (s.to_string(), default.clone()))
        .collect();
    let mut via: BTreeMap<String, String> = BTreeMap::new();
    let mut asked_by: BTreeMap<(String, String), String> = BTreeMap::new();
    loop {
        let mut wants = Vec::new();
        for (name, features) in &on {
            for (dep, _) in active_deps(&members[name].toml, features, ws_deps) {
                if members.contains_key(&dep.package) {
                    let mut f = dep.features;
                    if dep.default_features {
                        f.insert("default".to_string());
                    }
                    wants.push((name.clone(), dep.package, f));
                }
            }
        }
        let mut changed = false;
        for (from, to, features) in wants {
            changed |= !on.contains_key(&to);
            via.entry(to.clone()).or_insert(from.clone());
            let set = on.entry(to.clone()).or_default();
            for f in features {
                if set.insert(f.clone()) {
                    changed = true;
                    asked_by.insert((to.clone(), f), from.clone());
                }
            }
        }
        if !changed {
            break;
        }
    }
    let chain = |name: &str| {
        let mut c = vec![name.to_string()];
        while let Some(p) = via
            .get(c.last().expect("a chain has a crate"))
            .filter(|p| !c.contains(p))
        {
            c.push(p.clone());
        }
        c.reverse();
        c.join(" -> ")
    };
    let file = |name: &str| members.get(name).map_or("?", |m| m.file.as_str());
    let mut problems = Vec::new();
    for (name, features) in &on {
        if let Some(from) = via
            .get(name)
            .filter(|_| name.starts_with("tillsync-server"))
        {
            problems.push(format!(
                "{}: {from} depends on {name}, a server crate; the till side reaches it \
                 through {}",
                file(from),
                chain(name)
            ));
        }
        for (dep, why) in active_deps(&members[name].toml, features, ws_deps) {
            if !POSTGRES.contains(&dep.package.as_str()) {
                continue;
            }
            let pg = &dep.package;
            let mut text = format!(
                "{}: {name} depends on {pg} (a PostgreSQL client)",
                file(name)
            );
            if let Some(f) = why {
                let switch = match asked_by.get(&(name.clone(), f.clone())) {
                    Some(who) => format!("{who} turns on in {}", file(who)),
                    None => "another of its features turns on".to_string(),
                };
                text += &format!(
                    ", an optional dependency switched on by its feature `{f}`, which {switch}"
                );
            }
            problems.push(format!(
                "{text}; the till side reaches {name} through {}",
                chain(name)
            ));
        }
    }
    problems
}

// The checker on tiny examples.

/// Workspace members from `(name, Cargo.toml text)`.
fn members_of(crates: &[(&str, &str)]) -> BTreeMap<String, Manifest> {
    let manifest = |(name, text): &(&str, &str)| {
        let file = format!("crates/{name}/Cargo.toml");
        (
            name.to_string(),
            Manifest {
                file,
                toml: text.parse().expect("test TOML"),
            },
        )
    };
    crates.iter().map(manifest).collect()
}

/// The `[workspace.dependencies]` of the examples.
const WS: &str = r#"
tillsync-db = { path = "crates/tillsync-db" }
tillsync-x = { path = "crates/tillsync-x" }
tillsync-server-db = { path = "crates/tillsync-server-db" }
postgres = "0.19"
"#;

const DB: &str = r#"
[features]
postgres = ["dep:postgres"]
[dependencies]
postgres = { workspace = true, optional = true }
"#;

#[test]
fn the_link_checker_sees_a_postgres_feature_switched_on_by_a_till_crate() {
    let ws: Table = WS.parse().unwrap();
    let till = "[dependencies]\ntillsync-db.workspace = true\n";
    let clean = members_of(&[("tillsync-till", till), ("tillsync-db", DB)]);
    let none: [&str; 0] = [];
    assert_eq!(till_side_problems(&clean, &ws, &["tillsync-till"]), none);
    let till = r#"tillsync-db = { workspace = true, features = ["postgres"] }"#;
    let members = members_of(&[
        ("tillsync-till", &format!("[dependencies]\n{till}")),
        ("tillsync-db", DB),
    ]);
    assert_eq!(
        till_side_problems(&members, &ws, &["tillsync-till"]),
        [
            "crates/tillsync-db/Cargo.toml: tillsync-db depends on postgres (a PostgreSQL client), an \
          optional dependency switched on by its feature `postgres`, which tillsync-till turns on \
          in crates/tillsync-till/Cargo.toml; the till side reaches tillsync-db through \
          tillsync-till -> tillsync-db"
        ]
    );
}

#[test]
fn the_link_checker_sees_a_server_crate_behind_a_feature_but_not_a_dev_dependency() {
    let ws: Table = WS.parse().unwrap();
    let x = r#"
[features]
server = ["dep:tillsync-server-db"]
[dependencies]
tillsync-server-db = { workspace = true, optional = true }
"#;
    let server = "[dependencies]\ntillsync-db.workspace = true\n";
    let dev = "[dependencies]\ntillsync-x.workspace = true\n[dev-dependencies]\ntillsync-server-db.workspace = true\n";
    let crates = [
        ("tillsync-till", dev),
        ("tillsync-x", x),
        ("tillsync-server-db", server),
        ("tillsync-db", DB),
    ];
    let none: [&str; 0] = [];
    assert_eq!(
        till_side_problems(&members_of(&crates), &ws, &["tillsync-till"]),
        none
    );
    let till = r#"tillsync-x = { workspace = true, features = ["server"] }"#;
    let till = format!("[dependencies]\n{till}\n");
    let crates = [
        ("tillsync-till", till.as_str()),
        ("tillsync-x", x),
        ("tillsync-server-db", server),
        ("tillsync-db", DB),
    ];
    assert_eq!(
        till_side_problems(&members_of(&crates), &ws, &["tillsync-till"]),
        [
            "crates/tillsync-x/Cargo.toml: tillsync-x depends on tillsync-server-db, a server crate; \
          the till side reaches it through tillsync-till -> tillsync-x -> tillsync-server-db"
        ]
    );
}
