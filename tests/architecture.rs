//! The import rule of docs/architecture.md, checked on the source tree: every room
//! imports only the rooms below it, so the pipeline stays one-way; and inside a folder
//! no files import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each room and the rooms it may import (besides itself). Read bottom up: the ground
/// floor (`error`, `bytes`), the vocabulary (`model`), the stages (`source`, `walk`,
/// `analyze`, `render`) and the layer cache beside them, the pipeline that sequences
/// them, and the command line.
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("bytes", &["error"]),
    ("model", &["error", "bytes"]),
    ("source", &["error", "bytes", "model"]),
    ("walk", &["error", "bytes", "model"]),
    ("cache", &["error", "bytes", "model"]),
    ("analyze", &["error", "bytes", "model"]),
    ("render", &["error", "bytes", "model", "analyze"]),
    (
        "pipeline",
        &[
            "error", "bytes", "model", "source", "walk", "cache", "analyze",
        ],
    ),
    (
        "cli",
        &[
            "error", "bytes", "model", "source", "analyze", "render", "pipeline", "lib",
        ],
    ),
];

/// The room a file under `src/` belongs to (`None` for the crate root files).
fn room_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    match first.as_ref() {
        "lib.rs" | "main.rs" => None,
        f => Some(f.trim_end_matches(".rs").to_string()),
    }
}

/// The rooms a piece of Rust source names through `crate::` (or `imgsize::`, from the
/// binary), including `use crate::{a, b::c}` groups. Comment lines are prose, not
/// imports. Items re-exported at the crate root name their room through `lib`.
fn rooms_named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for prefix in ["crate::", "imgsize::"] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                // `imgsize::` must be a path, not part of another identifier.
                let before = rest[..at].chars().last();
                rest = &rest[at + prefix.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                if let Some(group) = rest.strip_prefix('{') {
                    let inner = group.split('}').next().unwrap_or("");
                    for item in inner.split(',') {
                        out.insert(first_ident(item.trim()));
                    }
                } else {
                    out.insert(first_ident(rest));
                }
            }
        }
    }
    out.retain(|r| !r.is_empty());
    // Items at the crate root: the library's own re-exports.
    let roots = ["Error", "Result", "LayerError", "LayerErrorKind"];
    let named: Vec<String> = out.iter().cloned().collect();
    for r in named {
        if roots.contains(&r.as_str()) {
            out.remove(&r);
            out.insert("error".to_string());
        } else if [
            "run",
            "explain",
            "check",
            "diff",
            "Options",
            "Hooks",
            "CachePolicy",
        ]
        .contains(&r.as_str())
        {
            out.remove(&r);
            out.insert("pipeline".to_string());
        }
    }
    out
}

fn first_ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Violations in one file: (room, imported room).
fn violations(room: &str, text: &str) -> Vec<(String, String)> {
    let allowed = ALLOWED
        .iter()
        .find(|(r, _)| *r == room)
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("room {room} is not in the import table"));
    let mut out = Vec::new();
    for named in rooms_named(text) {
        if named != room && !allowed.contains(&named.as_str()) {
            out.push((room.to_string(), named));
        }
    }
    // `super::super` would reach around the rule.
    if text.contains("super::super") {
        out.push((room.to_string(), "super::super".to_string()));
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn imports_run_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut rooms = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let Some(room) = room_of(rel) else { continue };
        rooms.insert(room.clone());
        let text = std::fs::read_to_string(file).expect("read");
        for (from, to) in violations(&room, &text) {
            bad.push(format!("{}: {from} imports {to}", rel.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "imports against docs/architecture.md:\n{}",
        bad.join("\n")
    );
    // Every room of the table exists, so the table cannot silently go stale.
    for (room, _) in ALLOWED {
        assert!(
            rooms.contains(*room),
            "room {room} is in the table but not in src/"
        );
    }
}

fn the_check_sees_every_spelling_of_an_import() {
    assert_eq!(
        violations("source", "use crate::walk::scan;\n"),
        vec![("source".to_string(), "walk".to_string())]
    );
    assert_eq!(
        violations("model", "use crate::{bytes::Compression, walk::Capture};"),
        vec![("model".to_string(), "walk".to_string())]
    );
    let inline = "    let x = crate::analyze::summarize(a, o);";
    assert_eq!(violations("walk", inline).len(), 1);
    assert_eq!(violations("walk", "use super::super::source;").len(), 1);
    assert!(violations("walk", "use crate::model::LayerScan;").is_empty());
    assert!(
        violations("walk", "/// See [`crate::source`].").is_empty(),
        "prose"
    );
    assert!(violations("cli", "use imgsize::render::Table;").is_empty());
    assert_eq!(violations("render", "use imgsize::pipeline::run;").len(), 1);
    assert!(violations("analyze", "fn f() -> crate::Result<()> {}").is_empty());
    // The layer cache keeps scans: it may name the vocabulary, never a stage.
    assert!(violations("cache", "use crate::model::LayerScan;").is_empty());
    assert_eq!(
        violations("cache", "use crate::{model::LayerScan, walk::scan};"),
        vec![("cache".to_string(), "walk".to_string())]
    );
    assert_eq!(
        violations("cache", "use crate::pipeline::Options;").len(),
        1
    );
    assert_eq!(violations("walk", "use crate::cache::LayerCache;").len(), 1);
    assert!(violations("pipeline", "use crate::cache::LayerCache;").is_empty());
}

/// The sibling modules a file of `folder` (a `crate::` path like `analyze`, or
/// `source::registry`) names: `super::NAME` and `crate::FOLDER::NAME`, code lines only.
fn siblings_named(folder: &str, text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let full = format!("crate::{folder}::");
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for prefix in ["super::", full.as_str()] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                let name = first_ident(rest);
                if !name.is_empty() && name != "super" {
                    out.insert(name);
                }
            }
            // `use super::{a::X, b}`: each name of the group.
            if let Some(group) = code.strip_prefix(&format!("use {prefix}{{")) {
                for part in group.split(',') {
                    let name = first_ident(part.trim());
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
            }
        }
    }
    out
}

/// A circle in a graph of modules, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(found) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(found);
        }
    }
    None
}

/// The files of each folder under `src/` and the siblings each imports, by folder.
fn folder_graphs(
    src: &Path,
    files: &[std::path::PathBuf],
) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut graphs: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src");
        let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) else {
            continue;
        };
        let stem = rel
            .file_stem()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        if stem == "mod" {
            continue;
        }
        let folder = parent.to_string_lossy().replace('/', "::");
        let text = std::fs::read_to_string(file).expect("read");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        graphs
            .entry(folder.clone())
            .or_default()
            .insert(stem, siblings_named(&folder, code));
    }
    // Only edges to files of the same folder count.
    for graph in graphs.values_mut() {
        let names: BTreeSet<String> = graph.keys().cloned().collect();
        for deps in graph.values_mut() {
            deps.retain(|d| names.contains(d));
        }
    }
    graphs
}

fn no_circle_inside_a_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut circles = Vec::new();
    for (folder, graph) in folder_graphs(&src, &files) {
        if let Some(found) = circle(&graph) {
            circles.push(format!("src/{folder}: {}", found.join(" → ")));
        }
    }
    assert!(
        circles.is_empty(),
        "files importing each other:\n{}",
        circles.join("\n")
    );
}

fn the_circle_check_can_fail() {
    assert_eq!(
        siblings_named(
            "analyze",
            "use super::layers::LayerRow;\nuse crate::analyze::base::Base;"
        ),
        BTreeSet::from(["base".to_string(), "layers".to_string()])
    );
    assert_eq!(
        siblings_named(
            "render",
            "use super::{format, markdown::code};\n// super::table"
        ),
        BTreeSet::from(["format".to_string(), "markdown".to_string()])
    );
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(
        circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
}

crate::tests![
    imports_run_one_way,
    the_check_sees_every_spelling_of_an_import,
    no_circle_inside_a_folder,
    the_circle_check_can_fail,
];
