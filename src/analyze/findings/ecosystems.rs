//! The rules of one language's tooling: npm's devDependencies, build trees left beside
//! the sources, a JDK where a JRE runs; and the paths the image's command names, which
//! no fix may drop.

use super::candidates::{Candidates, LayerFacts};
use super::inputs::Inputs;
use super::rule::{Rule, Scope};
use crate::analyze::instruction::{arguments, instruction};
use crate::model::path::{join, normalize};
use crate::model::{FsTree, HistoryStep};

/// Whether the folder `dir` is a build tree: Cargo's or Maven's `target/` beside its
/// `Cargo.toml` or `pom.xml`, Gradle's `build/` beside `build.gradle(.kts)`, or
/// `node_modules/.cache`. (A `dist/` beside `src/` is what the image runs, not one.)
pub(super) fn build_root(tree: &FsTree, dir: u32) -> bool {
    let Some(parent) = tree.parent(dir) else {
        return false;
    };
    let beside = |f: &[u8]| tree.child(parent, f).is_some();
    match tree.name(dir) {
        b"target" => beside(b"Cargo.toml") || beside(b"pom.xml"),
        b"build" => beside(b"build.gradle") || beside(b"build.gradle.kts"),
        b".cache" => tree.name(parent) == b"node_modules",
        _ => false,
    }
}

/// What is known of each folder for one question: unknown, no, yes (by node id).
/// Asked for every file of an image, so a flat table rather than a map.
pub(super) struct FolderMemo(Vec<u8>);

impl FolderMemo {
    pub(super) fn new(tree: &FsTree) -> Self {
        FolderMemo(vec![0; tree.node_count()])
    }

    fn get(&self, dir: u32) -> Option<bool> {
        match self.0.get(dir as usize) {
            Some(1) => Some(false),
            Some(2) => Some(true),
            _ => None,
        }
    }

    fn set(&mut self, dir: u32, yes: bool) {
        if let Some(slot) = self.0.get_mut(dir as usize) {
            *slot = if yes { 2 } else { 1 };
        }
    }
}

/// Whether the node is inside a build tree, asked once per folder.
pub(super) fn in_build_tree(tree: &FsTree, node: u32, memo: &mut FolderMemo) -> bool {
    folder_is_any(tree, node, memo, |d| build_root(tree, d))
}

/// Whether any folder holding `node` (up to the root) passes `test`, memoised per
/// folder.
pub(super) fn folder_is_any(
    tree: &FsTree,
    node: u32,
    memo: &mut FolderMemo,
    test: impl Fn(u32) -> bool,
) -> bool {
    let mut chain = Vec::new();
    let mut at = tree.parent(node);
    let mut found = false;
    while let Some(dir) = at {
        if let Some(known) = memo.get(dir) {
            found = known;
            break;
        }
        if test(dir) {
            found = true;
            memo.set(dir, true);
            break;
        }
        chain.push(dir);
        at = tree.parent(dir);
    }
    for dir in chain {
        memo.set(dir, found);
    }
    found
}

/// Each history step in Dockerfile form, with the WORKDIR in force after it
/// (normalised, relative to the root).
fn steps(history: &[HistoryStep]) -> Vec<(&HistoryStep, String, Vec<u8>)> {
    let mut workdir = Vec::new();
    history
        .iter()
        .filter_map(|step| {
            let text = instruction(step.created_by.as_deref()?);
            if let Some(w) = arguments(&text, "WORKDIR") {
                workdir = resolve(&workdir, w);
            }
            Some((step, text, workdir.clone()))
        })
        .collect()
}

/// The paths the image's last CMD and ENTRYPOINT name (words with a `/`, relative
/// ones taken from the WORKDIR then), normalised: what the image runs stays.
pub(super) fn entry_paths(history: &[HistoryStep]) -> Vec<Vec<u8>> {
    let (mut cmd, mut entry) = (Vec::new(), Vec::new());
    for (_, text, workdir) in steps(history) {
        for (keyword, out) in [("CMD", &mut cmd), ("ENTRYPOINT", &mut entry)] {
            if let Some(args) = arguments(&text, keyword) {
                *out = words(args)
                    .filter(|w| w.contains('/'))
                    .map(|w| resolve(&workdir, w))
                    .collect();
            }
        }
    }
    cmd.extend(entry);
    cmd
}

/// The folders your COPY/ADD steps copied into (their destination, taken from the
/// WORKDIR then when relative; not the root): where a compiled language's sources are.
pub(super) fn copy_roots(history: &[HistoryStep], app: impl Fn(usize) -> bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (step, text, workdir) in steps(history) {
        let dest = ["COPY", "ADD"]
            .iter()
            .find_map(|k| arguments(&text, k))
            .and_then(|args| args.split_whitespace().last());
        if let (Some(dest), Some(l)) = (dest, step.layer)
            && app(l)
        {
            let dir = resolve(&workdir, dest);
            if !dir.is_empty() {
                out.push(dir);
            }
        }
    }
    out
}

/// `path` taken from the folder `dir`, normalised.
fn resolve(dir: &[u8], path: &str) -> Vec<u8> {
    let from: &[u8] = if path.starts_with('/') { b"" } else { dir };
    let mut out = Vec::new();
    normalize(&join(from, path.as_bytes()), &mut out);
    out
}

/// The words of a CMD or ENTRYPOINT in exec (`["a","b"]`) or shell form.
fn words(args: &str) -> impl Iterator<Item = &str> {
    args.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | '"'))
        .filter(|w| !w.is_empty())
}

/// Add the atoms of `dev-dependencies`, `build-tree` and `jdk-runtime`.
pub(super) fn add(inp: &Inputs<'_>, facts: &LayerFacts, out: &mut Candidates) {
    let kept = entry_paths(inp.history);
    let named = |node: u32| !kept.is_empty() && kept.contains(&inp.tree.path_bytes(node));
    let owned = |o: &[bool], ino: u32| ino != u32::MAX && o.get(ino as usize) == Some(&true);
    let mut memo = FolderMemo::new(inp.tree);
    for (i, a) in inp.atoms.iter().enumerate() {
        let (i, l) = (i as u32, a.layer as usize);
        if !facts.yours(l) {
            if owned(&inp.owners.jdk, a.inode) {
                out.add((Rule::JdkRuntime, Scope::Base, 0), i);
            }
            continue;
        }
        if owned(&inp.owners.dev, a.inode) {
            out.add((Rule::DevDependencies, Scope::Yours, l), i);
        }
        if owned(&inp.owners.jdk, a.inode) {
            out.add((Rule::JdkRuntime, Scope::Yours, l), i);
        }
        if in_build_tree(inp.tree, a.node, &mut memo) && !named(a.node) {
            out.add((Rule::BuildTree, Scope::Yours, l), i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(created_by: &str) -> HistoryStep {
        HistoryStep {
            created_by: Some(created_by.into()),
            created: None,
            comment: None,
            empty_layer: true,
            layer: None,
        }
    }

    #[test]
    fn the_command_names_its_paths_from_the_workdir() {
        let h = [
            step("/bin/sh -c #(nop) WORKDIR /src"),
            step("/bin/sh -c #(nop)  CMD [\"./target/release/app\" \"--port\" \"80\"]"),
            step("WORKDIR app"),
            step("ENTRYPOINT [\"java\",\"-jar\",\"/opt/app.jar\"]"),
            step("/bin/sh -c #(nop) WORKDIR /"),
        ];
        let paths: Vec<String> = entry_paths(&h)
            .into_iter()
            .map(|p| String::from_utf8_lossy(&p).into_owned())
            .collect();
        assert_eq!(paths, ["src/target/release/app", "opt/app.jar"]);
        assert_eq!(arguments(&instruction("/bin/sh -c cmd /x"), "CMD"), None);
        let mut copy = [
            step("/bin/sh -c #(nop) WORKDIR /srv"),
            step("/bin/sh -c #(nop) COPY dir:0a1b2c in . "),
            step("COPY --chown=1:1 src /src # buildkit"),
            step("COPY app.tar.gz / # buildkit"),
        ];
        for (i, s) in copy.iter_mut().enumerate() {
            s.layer = Some(i);
        }
        let roots: Vec<String> = copy_roots(&copy, |l| l > 0)
            .into_iter()
            .map(|p| String::from_utf8_lossy(&p).into_owned())
            .collect();
        assert_eq!(roots, ["srv", "src"]);
        assert_eq!(arguments("CMDX a", "CMD"), None);
    }
}
