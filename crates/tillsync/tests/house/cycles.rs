//! A crate's module graph, read from its source files: one node per module
//! file, an edge where a file imports from another (`use crate::…`,
//! `super::…`, `self::…`, or a path in code), and the cycles in it. Comments,
//! strings and tests are skipped; `mod x;` alone is no edge.

use std::collections::{BTreeMap, BTreeSet};

use super::is_test_attr;

/// A module path inside a crate: `[]` is the crate root, `["a", "b"]` is `a::b`.
type ModPath = Vec<String>;

/// The module of a file under `src/`: `lib.rs`/`main.rs` is the crate root,
/// `a/mod.rs` is `a`, `a/b.rs` is `a::b`.
fn module_of(file: &str) -> ModPath {
    let mut segs: ModPath = file
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    let root = segs.len() == 1 && (segs[0] == "lib" || segs[0] == "main");
    if root || segs.last().is_some_and(|s| s == "mod") {
        segs.pop();
    }
    segs
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` with comments (doc comments too), string and char literals turned
/// to spaces; line breaks are kept, so line numbers stay true.
fn blank_comments_and_strings(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let mut out = c.clone();
    let mut i = 0;
    while i < c.len() {
        let start = i;
        if c[i] == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c[i] == '\'' {
            if at(i + 1) == '\\' {
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1; // a lifetime
                continue;
            }
        } else if is_ident_char(c[i]) {
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let hashes = (i..).take_while(|&k| at(k) == '#').count();
            if !(matches!(word.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"') {
                continue; // a plain word
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            i += hashes + 1;
            while i < c.len() && c[i..].get(..close.len()) != Some(&close[..]) {
                i += 1;
            }
            i += close.len();
        } else {
            i += 1;
            continue;
        }
        for ch in &mut out[start..i.min(c.len())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    }
    out.into_iter().collect()
}

/// The module name of `mod NAME;` (any visibility), else `None`.
fn mod_declaration(line: &str) -> Option<String> {
    let mut rest = line.trim();
    if let Some(r) = rest.strip_prefix("pub") {
        rest = r.trim_start();
        if rest.starts_with('(') {
            rest = rest.split_once(')')?.1;
        }
    }
    let name = rest
        .trim_start()
        .strip_prefix("mod ")?
        .trim()
        .strip_suffix(';')?;
    Some(name.trim().to_string())
}

/// A word or a punctuation mark (`::` is one), with its line (1-based).
struct Tok {
    text: String,
    line: usize,
}

fn tokens(code: &str) -> Vec<Tok> {
    let c: Vec<char> = code.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let start = i;
        if c[i] == '\n' {
            line += 1;
        }
        if c[i].is_whitespace() {
            i += 1;
            continue;
        }
        if is_ident_char(c[i]) {
            while i < c.len() && is_ident_char(c[i]) {
                i += 1;
            }
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            i += 1;
        }
        out.push(Tok {
            text: c[start..i].iter().collect(),
            line,
        });
    }
    out
}

/// A path of one file that may name something of its crate, as written.
struct Ref {
    line: usize,
    /// The module it is written in (inline `mod x { … }` blocks included).
    scope: ModPath,
    path: Vec<String>,
    /// For a `use`: the name it binds (`*` for a glob); `None` for a path in code.
    binds: Option<String>,
}

/// What one source file says about its crate's module graph.
struct Scanned {
    file: String,
    module: ModPath,
    /// Its inline modules (`mod x { … }`), outside `#[cfg(test)]`.
    inline: Vec<ModPath>,
    /// Children it declares under `#[cfg(test)]` (`mod test_support;`).
    test_children: Vec<ModPath>,
    refs: Vec<Ref>,
}

/// Expands one use tree (`a::{b, c::{self, d as e}}`) after `prefix` into
/// its paths, each with the name it binds.
fn use_tree(t: &[&str], i: &mut usize, prefix: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    match t.get(*i).copied() {
        Some("{") => {
            *i += 1;
            while let Some(&tok) = t.get(*i) {
                if tok == "}" {
                    *i += 1;
                    break;
                }
                if tok == "," {
                    *i += 1;
                    continue;
                }
                use_tree(t, i, prefix.clone(), out);
            }
        }
        Some("*") => {
            *i += 1;
            out.push((prefix, "*".to_string()));
        }
        Some(seg) if seg.starts_with(is_ident_char) => {
            *i += 1;
            let mut path = prefix;
            if t.get(*i) == Some(&"::") {
                *i += 1;
                path.push(seg.to_string());
                return use_tree(t, i, path, out);
            }
            if seg != "self" {
                path.push(seg.to_string());
            }
            let mut binds = path.last().cloned().unwrap_or_default();
            if t.get(*i) == Some(&"as") {
                binds = t.get(*i + 1).map_or("_", |s| *s).to_string();
                *i += 2;
            }
            out.push((path, binds));
        }
        _ => *i += 1,
    }
}

/// Reads one file (`file` relative to `src/`): its inline modules, test
/// children, and every `use` and `a::b` path outside comments and tests.
fn scan(file: &str, text: &str) -> Scanned {
    let module = module_of(file);
    let raw: Vec<&str> = text.lines().collect();
    let mut lines: Vec<String> = blank_comments_and_strings(text)
        .lines()
        .map(String::from)
        .collect();
    let mut test_children = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if is_test_attr(raw[i]) {
            // `#[cfg(test)] mod x;` declares a test file; anything else starts
            // the tests, which run to the end of the file.
            let rest = raw[i].trim_start().trim_start_matches("#[cfg(test)]");
            let last = if rest.trim().is_empty() { i + 1 } else { i };
            let decl = if last == i {
                rest
            } else {
                raw.get(last).copied().unwrap_or("")
            };
            let Some(name) = mod_declaration(decl) else {
                lines.truncate(i);
                break;
            };
            test_children.push([module.clone(), vec![name]].concat());
            for l in lines.iter_mut().take(last + 1).skip(i) {
                l.clear();
            }
            i = last;
        }
        i += 1;
    }
    let toks = tokens(&lines.join("\n"));
    let t: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
    // Inline modules: (first token, last token, module path).
    let mut spans: Vec<(usize, usize, ModPath)> = Vec::new();
    let scope_at = |spans: &[(usize, usize, ModPath)], k: usize| {
        let inner = spans.iter().rev().find(|s| s.0 < k && k < s.1);
        inner.map_or(&module, |s| &s.2).clone()
    };
    for k in 0..t.len() {
        if t[k] == "mod" && t.get(k + 2) == Some(&"{") {
            let mut depth = 0;
            let end = (k + 2..t.len())
                .find(|&j| {
                    depth += match t[j] {
                        "{" => 1,
                        "}" => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .unwrap_or(t.len());
            let outer = scope_at(&spans, k);
            spans.push((k, end, [outer, vec![t[k + 1].to_string()]].concat()));
        }
    }
    let at = |k: usize, path, binds| Ref {
        line: toks[k].line,
        scope: scope_at(&spans, k),
        path,
        binds,
    };
    let mut refs = Vec::new();
    let mut k = 0;
    while k < t.len() {
        let after_path = k > 0 && matches!(t[k - 1], "::" | ".");
        if t[k] == "use" && t.get(k + 1) != Some(&"<") {
            let end = (k..t.len()).find(|&j| t[j] == ";").unwrap_or(t.len());
            let mut out = Vec::new();
            use_tree(&t[k + 1..end], &mut 0, Vec::new(), &mut out);
            refs.extend(
                out.into_iter()
                    .map(|(path, binds)| at(k, path, Some(binds))),
            );
            k = end;
        } else if t[k].starts_with(is_ident_char) && !after_path && t.get(k + 1) == Some(&"::") {
            let mut path = vec![t[k].to_string()];
            while t.get(k + 1) == Some(&"::")
                && t.get(k + 2).is_some_and(|s| s.starts_with(is_ident_char))
            {
                path.push(t[k + 2].to_string());
                k += 2;
            }
            refs.push(at(k, path, None));
        }
        k += 1;
    }
    let inline = spans.into_iter().map(|s| s.2).collect();
    Scanned {
        file: file.to_string(),
        module,
        inline,
        test_children,
        refs,
    }
}

/// Where a path written in `scope` points: its absolute module path, or
/// `None` for a path outside the crate (`std::…`, another crate).
fn absolute(
    path: &[String],
    scope: &ModPath,
    modules: &BTreeMap<ModPath, usize>,
    aliases: &BTreeMap<String, ModPath>,
) -> Option<ModPath> {
    let (first, rest) = path.split_first()?;
    let child = [scope.clone(), vec![first.clone()]].concat();
    let mut abs = match first.as_str() {
        "crate" => Vec::new(),
        "self" => scope.clone(),
        "super" => scope.get(..scope.len().checked_sub(1)?)?.to_vec(),
        _ if modules.contains_key(&child) => child,
        _ => aliases.get(first)?.clone(),
    };
    for seg in rest {
        match seg.as_str() {
            "super" => {
                abs.pop()?;
            }
            "self" => {}
            _ => abs.push(seg.clone()),
        }
    }
    Some(abs)
}

/// A crate's module graph: one node per module file; each edge carries the
/// paths that create it, with the first line where each is written.
pub(super) struct Graph {
    files: Vec<String>,
    edges: BTreeMap<(usize, usize), BTreeMap<String, usize>>,
}

/// The module graph of one crate, from its files (`(path under src/, text)`).
pub(super) fn module_graph(sources: &[(String, String)]) -> Graph {
    let is_test_file = |f: &str| f.trim_end_matches(".rs").split('/').any(|s| s == "tests");
    let mut scanned: Vec<Scanned> = sources
        .iter()
        .filter(|(f, _)| !is_test_file(f))
        .map(|(f, text)| scan(f, text))
        .collect();
    let test_mods: Vec<ModPath> = scanned
        .iter()
        .flat_map(|s| s.test_children.clone())
        .collect();
    scanned.retain(|s| !test_mods.iter().any(|m| s.module.starts_with(m)));
    // Every module of the crate, and the file that holds it.
    let mut file_of: BTreeMap<ModPath, usize> = BTreeMap::new();
    for (n, s) in scanned.iter().enumerate() {
        for m in std::iter::once(&s.module).chain(&s.inline) {
            file_of.insert(m.clone(), n);
        }
    }
    let owner = |abs: &ModPath| {
        (0..=abs.len())
            .rev()
            .find_map(|n| file_of.get(&abs[..n]).copied())
    };
    let mut edges: BTreeMap<(usize, usize), BTreeMap<String, usize>> = BTreeMap::new();
    for (from, s) in scanned.iter().enumerate() {
        // A `use` of a module binds a name; its paths in code make the edges.
        let mut aliases: BTreeMap<String, ModPath> = BTreeMap::new();
        for r in &s.refs {
            let Some(abs) = absolute(&r.path, &r.scope, &file_of, &aliases) else {
                continue;
            };
            let written = match r.binds.as_deref() {
                Some("*") => format!("{}::*", r.path.join("::")),
                Some(name) if file_of.contains_key(&abs) => {
                    aliases.insert(name.to_string(), abs);
                    continue;
                }
                _ => r.path.join("::"),
            };
            if let Some(to) = owner(&abs).filter(|&to| to != from) {
                edges
                    .entry((from, to))
                    .or_default()
                    .entry(written)
                    .or_insert(r.line);
            }
        }
    }
    Graph {
        files: scanned.into_iter().map(|s| s.file).collect(),
        edges,
    }
}

/// The files reachable from `start` along `next`, `start` included (a DFS).
fn reachable(next: &[Vec<usize>], start: usize) -> BTreeSet<usize> {
    let (mut seen, mut todo) = (BTreeSet::from([start]), vec![start]);
    while let Some(v) = todo.pop() {
        for &u in &next[v] {
            if seen.insert(u) {
                todo.push(u);
            }
        }
    }
    seen
}

/// The groups of more than one file that all reach each other: the
/// strongly connected components, each sorted.
fn cycles(n: usize, edges: &BTreeMap<(usize, usize), BTreeMap<String, usize>>) -> Vec<Vec<usize>> {
    let mut next = vec![Vec::new(); n];
    for &(a, b) in edges.keys() {
        next[a].push(b);
    }
    let reach: Vec<BTreeSet<usize>> = (0..n).map(|v| reachable(&next, v)).collect();
    let mut found: Vec<Vec<usize>> = Vec::new();
    for v in 0..n {
        let component: Vec<usize> = reach[v]
            .iter()
            .copied()
            .filter(|&u| reach[u].contains(&v))
            .collect();
        if component.len() > 1 && !found.contains(&component) {
            found.push(component);
        }
    }
    found
}

/// Each cycle of `graph`, its files shown under `src`, with the edges inside it.
pub(super) fn describe_cycles(graph: &Graph, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for component in cycles(graph.files.len(), &graph.edges) {
        let name = |n: usize| format!("{src}{}", graph.files[n]);
        let mut text = format!("a cycle of {} files:\n", component.len());
        for &n in &component {
            text += &format!("    {}\n", name(n));
        }
        text += "  where:\n";
        for ((a, b), paths) in graph.edges.range((component[0], 0)..) {
            if component.contains(a) && component.contains(b) {
                let mut named: Vec<(&usize, &String)> = paths.iter().map(|(p, l)| (l, p)).collect();
                named.sort();
                let named: Vec<String> = named
                    .iter()
                    .map(|(l, p)| format!("{p} (line {l})"))
                    .collect();
                text += &format!(
                    "    {} imports from {}: {}\n",
                    name(*a),
                    name(*b),
                    named.join(", ")
                );
            }
        }
        out.push(text);
    }
    out
}

// The checker on tiny examples.

fn graph_of(files: &[(&str, &str)]) -> Graph {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    module_graph(&sources)
}

/// The edges of `graph` as `from -> to: paths`.
fn edge_list(graph: &Graph) -> Vec<String> {
    let show = |((a, b), paths): (&(usize, usize), &BTreeMap<String, usize>)| {
        let paths: Vec<&str> = paths.keys().map(String::as_str).collect();
        let (from, to) = (&graph.files[*a], &graph.files[*b]);
        format!("{from} -> {to}: {}", paths.join(", "))
    };
    graph.edges.iter().map(show).collect()
}

#[test]
fn the_cycle_checker_finds_a_two_module_cycle() {
    let g = graph_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A(B);\n"),
        (
            "b.rs",
            "pub struct B;\npub fn f() -> super::a::A { todo!() }\n",
        ),
    ]);
    assert_eq!(
        edge_list(&g),
        ["a.rs -> b.rs: crate::b::B", "b.rs -> a.rs: super::a::A"]
    );
    let found = describe_cycles(&g, "src/");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("src/a.rs imports from src/b.rs: crate::b::B (line 1)"),
        "{}",
        found[0]
    );
}

#[test]
fn the_cycle_checker_ignores_tests_comments_strings_and_declarations() {
    let g = graph_of(&[
        (
            "lib.rs",
            "//! Uses `crate::a::A`.\nmod a;\npub struct Root;\n#[cfg(test)]\nmod test_support;\npub use a::f;\n",
        ),
        (
            "a.rs",
            "use crate::Root; // use crate::b;\npub fn f() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
        (
            "b.rs",
            "/* crate::a::f() */ pub const S: &str = \"crate::a::f\";\n#[cfg(test)]\nmod tests;\n",
        ),
        ("b/tests.rs", "use crate::a::f;\n"),
        ("test_support.rs", "use crate::a::f;\n"),
    ]);
    assert_eq!(
        edge_list(&g),
        ["lib.rs -> a.rs: a::f", "a.rs -> lib.rs: crate::Root"]
    );
}

#[test]
fn the_cycle_checker_splits_a_grouped_multi_line_use() {
    let g = graph_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\npub use c::C;\n"),
        (
            "a.rs",
            "use crate::{\n    b::{self, B as Bee},\n    C,\n};\nfn f() { b::g(); }\n",
        ),
        ("b.rs", "pub struct B;\npub fn g() {}\n"),
        ("c.rs", "pub struct C;\n"),
    ]);
    assert_eq!(
        edge_list(&g),
        [
            "lib.rs -> c.rs: c::C",
            "a.rs -> lib.rs: crate::C",
            "a.rs -> b.rs: b::g, crate::b::B"
        ]
    );
}

#[test]
fn the_cycle_checker_counts_a_parent_re_export_as_an_edge_to_the_parent() {
    let g = graph_of(&[
        ("lib.rs", "pub mod up;\n"),
        ("up/mod.rs", "mod push;\nmod sell;\npub use sell::Sale;\n"),
        ("up/push.rs", "use super::Sale;\n"),
        (
            "up/sell.rs",
            "pub struct Sale;\npub(crate) mod inner {\n    pub fn f() { super::super::push::g() }\n}\n",
        ),
    ]);
    let found = describe_cycles(&g, "");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .starts_with("a cycle of 3 files:\n    up/mod.rs\n    up/push.rs\n    up/sell.rs\n"),
        "{}",
        found[0]
    );
    assert!(
        found[0].contains("up/sell.rs imports from up/push.rs: super::super::push::g (line 3)"),
        "{}",
        found[0]
    );
}
