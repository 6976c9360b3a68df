//! The modules of `src/` import downward only (src/lib.rs, the layer
//! order).
//!
//! `src/lib.rs` declares the top-level modules bottom-up; this test reads
//! that order and every `crate::…` path in `src/` (in `use` lines and
//! inline, test modules included), and fails on any path that names a
//! module declared later than its own, printing `file:line`. With one
//! order and every edge pointing down it, there can be no cycle.
//!
//! Inside each top-level module the same is checked without an order: the
//! files (`http/handlers.rs`, `http/openapi.rs`, …) may not import each
//! other in a cycle, except for the pending ones listed below. There, a
//! file's unit tests (`mod tests` to the end of the file) are left out:
//! a test may build its fixture with a sibling.
//!
//! Run with `-- --nocapture` to see every edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Known cycles between files of one module, each pending a change that
/// removes it (then its entry goes); any other cycle fails.
const PENDING_CYCLES: &[(&str, &str)] = &[
    // A validated request carries its scoped key's `Scope`, and a scope
    // parses its filters with `params`: goes when the scope's checked data
    // (filters, hidden fields, page cap) is a plain type of `request`.
    ("query::request", "query::scope"),
    // The cache keeps facet value bitsets, which facets read through it.
    ("search::cache", "search::facets"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules in the order `src/lib.rs` declares them.
fn layers() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))?;
            Some(rest.strip_suffix(';')?.trim().to_owned())
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under `src/` (`http/mod.rs` → `[http]`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first two segments of every path in `code` that starts with
/// `prefix` (`crate::`, `super::`), including each item of a `prefix{…}`
/// group (a segment is empty when the path has only one).
fn paths_after(code: &str, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before_ok = rest[..i].chars().next_back().is_none_or(|c| !is_ident(c));
        rest = &rest[i + prefix.len()..];
        if !before_ok {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Items at depth one of the group: `a::b`, `c`, `d::{…}`.
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        out.push(split_two(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 {
                    item.push(c);
                }
            }
            out.push(split_two(&item));
        } else {
            let path: String = rest
                .chars()
                .take_while(|&c| is_ident(c) || c == ':')
                .collect();
            out.push(split_two(&path));
        }
    }
    out.retain(|(a, _)| !a.is_empty() && a != "self");
    out
}

fn split_two(path: &str) -> (String, String) {
    let mut it = path
        .split("::")
        .map(|s| s.trim().trim_matches('{'))
        .filter(|s| !s.is_empty());
    let a = it.next().unwrap_or_default().to_owned();
    let b = it
        .next()
        .unwrap_or_default()
        .chars()
        .take_while(|&c| is_ident(c))
        .collect();
    (a, b)
}

struct Edge {
    from: String,
    to: String,
    at: String,
}

#[test]
fn modules_import_only_the_layers_declared_before_them() {
    let order = layers();
    assert!(
        order.len() > 5,
        "no layer order found in src/lib.rs: {order:?}"
    );
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();

    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    // Every module that has a file, to tell `super::sibling` from
    // `super::item` inside a test module.
    let modules: BTreeSet<Vec<String>> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(src()).unwrap()))
        .collect();

    let mut top = Vec::new();
    let mut inner = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(src()).unwrap();
        if rel == Path::new("main.rs") || rel == Path::new("lib.rs") {
            continue;
        }
        let module = module_of(rel);
        let text = std::fs::read_to_string(file).unwrap();
        let mut in_tests = false;
        for (n, line) in text.lines().enumerate() {
            in_tests |= line.starts_with("mod tests");
            let code = line.split("//").next().unwrap();
            let at = format!("src/{}:{}", rel.display(), n + 1);
            for (a, b) in paths_after(code, "crate::") {
                if a != module[0] {
                    top.push(Edge {
                        from: module[0].clone(),
                        to: a,
                        at: at.clone(),
                    });
                } else if !in_tests && module.len() > 1 && !b.is_empty() && b != module[1] {
                    let to = vec![a.clone(), b.clone()];
                    if modules.contains(&to) {
                        inner.push(Edge {
                            from: module[..2].join("::"),
                            to: to.join("::"),
                            at: at.clone(),
                        });
                    }
                }
            }
            if !in_tests && module.len() == 2 && !rel.ends_with("mod.rs") {
                for (sibling, _) in paths_after(code, "super::") {
                    let to = vec![module[0].clone(), sibling];
                    if to != module && modules.contains(&to) {
                        inner.push(Edge {
                            from: module.join("::"),
                            to: to.join("::"),
                            at: at.clone(),
                        });
                    }
                }
            }
        }
    }

    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for e in &top {
        *counts.entry((&e.from, &e.to)).or_default() += 1;
    }
    println!("top-level edges (lower layers first in src/lib.rs: {order:?}):");
    for ((from, to), n) in &counts {
        println!("  {from} -> {to} ({n})");
    }

    let mut wrong = Vec::new();
    for e in &top {
        match (rank.get(e.from.as_str()), rank.get(e.to.as_str())) {
            (Some(f), Some(t)) if t < f => {}
            (Some(_), Some(_)) => wrong.push(format!(
                "{}: `{}` imports `{}`, a layer declared after it in src/lib.rs",
                e.at, e.from, e.to
            )),
            _ => wrong.push(format!(
                "{}: `{}` -> `{}`: not a module declared in src/lib.rs",
                e.at, e.from, e.to
            )),
        }
    }

    // Inside a top-level module: a cycle between two files shows as an
    // edge each way (longer cycles are caught by the closure below).
    let pending = |e: &Edge| {
        PENDING_CYCLES
            .iter()
            .any(|&(a, b)| (a, b) == (&e.from, &e.to) || (b, a) == (&e.from, &e.to))
    };
    let mut all: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &inner {
        all.entry(&e.from).or_default().insert(&e.to);
        if !pending(e) {
            graph.entry(&e.from).or_default().insert(&e.to);
        }
    }
    println!("edges between files of one module:");
    for (from, tos) in &all {
        println!(
            "  {from} -> {}",
            tos.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(m) = stack.pop() {
            for &n in graph.get(m).into_iter().flatten() {
                if n == to {
                    return true;
                }
                if seen.insert(n) {
                    stack.push(n);
                }
            }
        }
        false
    };
    for e in &inner {
        if !pending(e) && reaches(&e.to, &e.from) {
            wrong.push(format!(
                "{}: `{}` imports `{}`, which imports it back",
                e.at, e.from, e.to
            ));
        }
    }

    assert!(
        wrong.is_empty(),
        "imports against the layer order:\n{}",
        wrong.join("\n")
    );
}
