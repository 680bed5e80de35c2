//! Architecture rules as ordinary tests that read the source (the idea of
//! rust-analyzer's `tidy` tests):
//!
//! - inside this crate, a file names only modules of its own layer or of
//!   layers below (`base` < `engine` < `session` < features < `app`); a
//!   feature may use another feature, and no files import each other in a
//!   circle;
//! - across the workspace, no crate depends on one above it (read from
//!   `cargo metadata`).
//!
//! What counts as naming a module: a `crate::a::b` path or a `super::` path
//! outside the file's `#[cfg(test)]` part (tests may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's layers, lowest first. A new top-level folder must be given
/// one here, or the test fails.
const LAYERS: &[(&str, u8)] = &[
    ("base", 1),
    ("engine", 2),
    ("session", 3),
    ("dm", 4),
    ("lists", 4),
    ("everyday", 4),
    ("own_data", 4),
    ("media", 4),
    ("notify", 4),
    ("operator", 4),
    ("nip46", 4),
    ("app", 5),
];

/// The workspace's crates, lowest first: a crate may depend (normally or
/// for its tests) only on crates of a lower rank.
const CRATES: &[(&str, u8)] = &[
    ("samizdat-store", 0),
    ("samizdat-outbox", 0),
    ("samizdat-media", 0),
    ("samizdat-http", 0),
    ("samizdat-relay", 1),
    ("samizdat-net", 2),
    ("samizdat-client", 3),
    ("samizdat-demo", 4),
    ("samizdat-fuzzing", 5),
    ("samizdat-cli", 5),
    ("samizdat-desktop", 5),
    ("samizdat-interop", 6),
];

/// Every source file of `src/` by module path (`engine::sync`, `dm`, …).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The `a::b::c` paths after `prefix` in `text`.
fn paths_after(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let path = path.trim_end_matches(':').to_owned();
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

/// Which files each file names (outside its tests), as module paths.
fn imports(mods: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (module, path) in mods {
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        // `super` is the enclosing module, for `a/b.rs` and `a/b/mod.rs` alike.
        let here: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
        let parent = &here[..here.len().saturating_sub(1)];
        let mut named: Vec<Vec<String>> = paths_after(code, "crate::")
            .into_iter()
            .map(|p| p.split("::").map(str::to_owned).collect())
            .collect();
        for p in paths_after(code, "super::") {
            let mut full: Vec<String> = parent.iter().map(|s| (*s).to_owned()).collect();
            full.extend(p.split("::").map(str::to_owned));
            named.push(full);
        }
        let mut targets = BTreeSet::new();
        for segments in named {
            // The longest prefix that is a file.
            let target = (1..=segments.len())
                .rev()
                .map(|k| segments[..k].join("::"))
                .find(|m| mods.contains_key(m));
            if let Some(t) = target.filter(|t| t != module) {
                targets.insert(t);
            }
        }
        out.insert(module.clone(), targets);
    }
    out
}

fn layer_of(module: &str) -> Option<u8> {
    let top = module.split("::").next().unwrap_or("");
    LAYERS.iter().find(|(n, _)| *n == top).map(|(_, l)| *l)
}

/// Files (module paths) that import each other in a circle, one list per circle.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components.
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// Every file that names a module of a higher layer, as "file names target".
fn upward(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (from, targets) in graph {
        if from.is_empty() {
            continue; // lib.rs declares and re-exports every layer
        }
        let Some(l_from) = layer_of(from) else {
            out.push(format!("{from} is in no layer: add its folder to LAYERS"));
            continue;
        };
        for to in targets {
            if to.is_empty() {
                out.push(format!(
                    "{from} names the crate root (use the layered path)"
                ));
                continue;
            }
            match layer_of(to) {
                Some(l_to) if l_to <= l_from => {}
                Some(_) => out.push(format!("{from} names {to}, a higher layer")),
                None => out.push(format!("{to} is in no layer: add its folder to LAYERS")),
            }
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_file_names_a_higher_layer_and_no_files_import_each_other_in_a_circle() {
    let graph = imports(&modules(&src()));
    assert!(
        graph.len() > 40,
        "the source was read: {} files",
        graph.len()
    );
    assert!(
        graph["engine::sync"].contains("engine"),
        "imports are found: {:?}",
        graph["engine::sync"]
    );
    let up = upward(&graph);
    assert!(up.is_empty(), "upward imports:\n{}", up.join("\n"));
    let circles = circles(&graph);
    assert!(
        circles.is_empty(),
        "files importing each other in a circle: {circles:?}"
    );
}

#[test]
fn the_checks_catch_a_forbidden_import_and_a_circle() {
    // The real graph with one line added to the engine: `use crate::dm::…`.
    let mut graph = imports(&modules(&src()));
    graph
        .get_mut("engine::sync")
        .unwrap()
        .insert("dm".to_owned());
    assert_eq!(upward(&graph), ["engine::sync names dm, a higher layer"]);
    // And a circle between two engine files.
    graph.get_mut("engine::sync").unwrap().remove("dm");
    graph
        .get_mut("engine::updates")
        .unwrap()
        .insert("engine::sync".to_owned());
    graph
        .get_mut("engine::sync")
        .unwrap()
        .insert("engine::updates".to_owned());
    assert!(circles(&graph)
        .iter()
        .any(|c| c.contains(&"engine::sync".to_owned())));
    // A path is read the way rustc reads it.
    assert_eq!(
        paths_after(
            "use crate::session::changes::{A, B}; x_crate::no",
            "crate::"
        ),
        ["session::changes"]
    );
}

#[test]
fn no_crate_depends_on_one_above_it() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rank = |name: &str| CRATES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
    let mut problems = Vec::new();
    let packages = meta["packages"].as_array().unwrap();
    for package in packages {
        let name = package["name"].as_str().unwrap();
        let Some(own) = rank(name) else {
            problems.push(format!("{name} has no rank: add it to CRATES"));
            continue;
        };
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            if let Some(r) = rank(dep_name).filter(|r| *r >= own) {
                problems.push(format!(
                    "{name} (rank {own}) depends on {dep_name} (rank {r})"
                ));
            }
        }
    }
    assert!(packages.len() >= 10, "the workspace was read");
    assert!(problems.is_empty(), "{problems:#?}");
}
