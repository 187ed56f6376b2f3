//! The house rules of issue 9, pinned so they hold: no source file over 600
//! lines before its tests, no module import cycle inside a crate, and the
//! till crates link neither the PostgreSQL client nor a server crate. Reads
//! the workspace's own files only: no network, no outside tools.
//!
//! The three rules are the three tests here; `cycles` reads a crate's module
//! graph and `links` what the till crates link, each tested on tiny examples.

mod cycles;
mod links;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use toml::Table;

use cycles::{describe_cycles, module_graph};

/// The most lines a source file may hold before its first `#[cfg(test)]` line.
const MAX_LINES: usize = 600;

/// The workspace root: two folders above this crate's manifest.
fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .expect("crates/tillsync has a workspace root")
        .to_path_buf()
}

/// The folders `crates/*` that hold a `Cargo.toml`, sorted.
fn crate_dirs() -> Vec<PathBuf> {
    let crates = workspace_root().join("crates");
    let entries =
        fs::read_dir(&crates).unwrap_or_else(|e| panic!("read {}: {e}", crates.display()));
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.expect("read an entry of crates/").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Every `.rs` file under `dir`, sorted.
fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let path = entry.expect("read a folder entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `path` relative to `base`, with `/` between folders.
fn relative(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

fn is_test_attr(line: &str) -> bool {
    line.trim_start().starts_with("#[cfg(test)]")
}

/// The lines of `text` before its first `#[cfg(test)]` line (all if none).
fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .position(is_test_attr)
        .unwrap_or_else(|| text.lines().count())
}

#[test]
fn no_source_file_over_600_lines_before_its_tests() {
    let root = workspace_root();
    let mut over: Vec<(usize, String)> = Vec::new();
    for dir in crate_dirs() {
        for file in rs_files(&dir.join("src")) {
            let n = lines_before_tests(&read(&file));
            if n > MAX_LINES {
                over.push((n, relative(&file, &root)));
            }
        }
    }
    over.sort_by(|a, b| b.cmp(a));
    let list: Vec<String> = over.iter().map(|(n, f)| format!("  {n:>5} {f}")).collect();
    assert!(
        over.is_empty(),
        "{} source files hold more than {MAX_LINES} lines before their first `#[cfg(test)]` \
         line (the whole file when it has none). House rule 1 of issue 9: split each one by \
         role into smaller modules (tests under crates/*/tests/ are exempt).\n\
         lines before tests, file (biggest first):\n{}",
        over.len(),
        list.join("\n")
    );
}

#[test]
fn no_module_import_cycle_inside_a_crate() {
    let root = workspace_root();
    let mut found = Vec::new();
    for dir in crate_dirs() {
        let src = dir.join("src");
        let sources: Vec<(String, String)> = rs_files(&src)
            .iter()
            .map(|f| (relative(f, &src), read(f)))
            .collect();
        found.extend(describe_cycles(
            &module_graph(&sources),
            &format!("{}/", relative(&src, &root)),
        ));
    }
    assert!(
        found.is_empty(),
        "{} module import cycles inside crates. House rule 2 of issue 9: if module A imports \
         anything from module B (`use crate::…`, `super::…`, or a path in code), B must not \
         import from A, directly or through other modules. Put what both need in a leaf module \
         that imports from none of its users, and import an item from the module that defines \
         it, not through a re-export in a parent (`mod.rs` or `lib.rs`): that counts as \
         importing the parent. `mod x;` alone is not an import; tests are not counted.\n\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn the_till_crates_link_no_postgresql_and_no_server_crate() {
    let root = workspace_root();
    let workspace: Table = read(&root.join("Cargo.toml"))
        .parse()
        .expect("the workspace Cargo.toml is TOML");
    let ws_deps = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies")?.as_table())
        .cloned()
        .unwrap_or_default();
    let mut members = BTreeMap::new();
    for dir in crate_dirs() {
        let path = dir.join("Cargo.toml");
        let file = relative(&path, &root);
        let toml: Table = read(&path)
            .parse()
            .unwrap_or_else(|e| panic!("{file} is not TOML: {e}"));
        let name = toml
            .get("package")
            .and_then(|p| p.get("name")?.as_str())
            .unwrap_or_else(|| panic!("{file} has no package name"));
        members.insert(name.to_string(), links::Manifest { file, toml });
    }
    let problems = links::till_side_problems(&members, &ws_deps, &links::TILL_CRATES);
    assert!(
        problems.is_empty(),
        "the till crates ({}) must link no PostgreSQL client and no server crate (issue 9: \
         `cargo tree -p tillsync-till -e normal` shows no PostgreSQL client; the till crates \
         depend on no server crate). Remove the dependency, or the feature that switches it on, \
         from the Cargo.toml named:\n  {}",
        links::TILL_CRATES.join(", "),
        problems.join("\n  ")
    );
}
