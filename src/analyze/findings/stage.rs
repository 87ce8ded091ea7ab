//! The multi-stage edit: the image as its runtime stage.

use std::collections::{HashMap, HashSet};

use super::candidates::{LayerFacts, folder_is};
use super::ecosystems::{FolderMemo, copy_roots, entry_paths, folder_is_any, in_build_tree};
use super::inputs::Inputs;
use crate::analyze::categories::Category;
use crate::model::FsTree;
use crate::model::tree::{NodeKind, ROOT};

/// Whether a file is inside what a language package manager installed
/// (`site-packages`, `dist-packages`, `node_modules`): a runtime stage copies those
/// folders whole.
pub(super) fn in_package_dir(tree: &FsTree, node: u32, memo: &mut HashMap<u32, bool>) -> bool {
    folder_is(tree, node, memo, |path| {
        path.split(|&b| b == b'/')
            .any(|c| c == b"site-packages" || c == b"dist-packages" || c == b"node_modules")
    })
}

/// The multi-stage edit: what a runtime stage would not carry, and whether it starts
/// from the base's slim variant. `None` when no build toolchain is in the image, or it
/// came with the base and none of your steps runs anything.
///
/// The runtime stage starts from the base when the toolchain came in your layers, and
/// from the base's slim variant when it came with the base (its build-only closure,
/// headers, static libraries, compilers, caches and hidden bytes left out); of your
/// layers it keeps only the visible files a runtime needs: not caches, VCS folders,
/// host bytecode a COPY/ADD brought, logs and temporary files, the files of packages
/// only the build needs (the build-only closure, its installs' recommends too: a
/// runtime stage installs with `--no-install-recommends`), compilers, headers outside
/// installed packages, npm's devDependencies, build trees, nor any hidden copy. For a
/// compiled language (see [`Compiled`]) it gets the artifacts only.
pub(super) fn runtime_stage(inp: &Inputs<'_>, facts: &LayerFacts) -> Option<(Vec<u32>, bool)> {
    let in_yours = inp.owners.build_layers.iter().any(|&l| facts.yours(l));
    let in_base = inp.owners.build_layers.iter().any(|&l| inp.base.holds(l));
    let you_run = (0..inp.layers.len()).any(|l| {
        facts.yours(l)
            && inp.layers[l]
                .instruction
                .as_deref()
                .is_some_and(|i| i.starts_with("RUN "))
    });
    if !(in_yours || (in_base && you_run)) {
        return None;
    }
    let slim = in_base;
    let owned = |o: &[bool], ino: u32| ino != u32::MAX && o.get(ino as usize) == Some(&true);
    let (mut memo, mut tree_memo) = (HashMap::new(), FolderMemo::new(inp.tree));
    let mut compiled = Compiled::of(inp, facts);
    let mut drops = Vec::new();
    for (i, a) in inp.atoms.iter().enumerate() {
        let l = a.layer as usize;
        let base = inp.base.holds(l);
        if (base && !slim) || (!base && !facts.yours(l)) {
            continue;
        }
        let c = a.category;
        let build = owned(&inp.owners.unneeded, a.inode)
            || c == Category::Toolchain
            || (c == Category::DevFiles && !in_package_dir(inp.tree, a.node, &mut memo));
        let junk = !base
            && (matches!(c, Category::Vcs | Category::LogsTemp)
                || (facts.app(l) && c == Category::Bytecode)
                || owned(&inp.owners.dev, a.inode)
                || in_build_tree(inp.tree, a.node, &mut tree_memo)
                || compiled
                    .as_mut()
                    .is_some_and(|s| s.leaves(inp, facts, a.node, l)));
        if a.hidden.is_some() || c.is_cache() || build || junk {
            drops.push(i as u32);
        }
    }
    Some((drops, slim))
}

/// A compiled language's runtime stage: a Go, Rust or Java toolchain is among the
/// build-only packages and nothing of yours is an interpreted language's package
/// (`site-packages`, `node_modules`). Its runtime stage gets the artifacts only, so it
/// leaves what your COPY/ADD steps brought and what your RUN steps wrote inside the
/// folders they copied into (objects, class files), but for the paths the command
/// names.
pub(super) struct Compiled {
    /// The folders your COPY/ADD steps copied into (the root apart).
    sources: HashSet<u32>,
    /// What the CMD and ENTRYPOINT name.
    named: Vec<Vec<u8>>,
    memo: FolderMemo,
}

impl Compiled {
    fn of(inp: &Inputs<'_>, facts: &LayerFacts) -> Option<Self> {
        let toolchain = |n: &str| {
            [
                "golang",
                "gccgo",
                "rustc",
                "cargo",
                "default-jdk",
                "openjdk-",
            ]
            .iter()
            .any(|p| n.starts_with(p))
        };
        if !inp.owners.build_only.iter().any(|(n, _)| toolchain(n)) {
            return None;
        }
        let mut memo = HashMap::new();
        // A Python or npm package of yours, not the system's (apt's python3 modules
        // and the bytecode their postinst wrote come with cargo too).
        let dpkg = |ino: u32| inp.owners.dpkg.get(ino as usize) == Some(&true);
        let system = |node: u32| {
            let p = inp.tree.path_bytes(node);
            p.starts_with(b"usr/lib/") || p.starts_with(b"usr/share/")
        };
        for a in inp.atoms.iter() {
            if facts.yours(a.layer as usize)
                && a.hidden.is_none()
                && !dpkg(a.inode)
                && in_package_dir(inp.tree, a.node, &mut memo)
                && !system(a.node)
            {
                return None;
            }
        }
        let sources = copy_roots(inp.history, |l| facts.app(l))
            .iter()
            .filter_map(|p| inp.tree.lookup(p))
            .filter(|&n| n != ROOT && inp.tree.kind(n) == NodeKind::Dir)
            .collect();
        Some(Compiled {
            sources,
            named: entry_paths(inp.history),
            memo: FolderMemo::new(inp.tree),
        })
    }

    /// Whether the runtime stage leaves the file at `node` of your layer `l`.
    fn leaves(&mut self, inp: &Inputs<'_>, facts: &LayerFacts, node: u32, l: usize) -> bool {
        let tree = inp.tree;
        if !self.named.is_empty() && self.named.contains(&tree.path_bytes(node)) {
            return false;
        }
        if facts.app(l) {
            return true;
        }
        let sources = &self.sources;
        folder_is_any(tree, node, &mut self.memo, |d| sources.contains(&d))
    }
}

/// The slim variant of the base, when its name or history tells it.
pub(super) fn slim_name(inp: &Inputs<'_>) -> Option<String> {
    crate::analyze::base::slim_variant(inp.base, inp.history)
}

/// Where the runtime stage of the multi-stage edit starts.
pub(super) struct Stage {
    /// From the base's slim variant, not the base.
    pub(super) slim: bool,
    /// That variant's name, when known.
    pub(super) name: Option<String>,
    /// What it installs and copies.
    pub(super) recipe: super::inputs::Recipe,
}

/// The multi-stage fix in words.
pub(super) fn multi_stage_fix(inp: &Inputs<'_>, stage: Option<&Stage>) -> String {
    let names: Vec<&str> = inp
        .owners
        .build_only
        .iter()
        .take(4)
        .map(|(n, _)| n.as_str())
        .collect();
    match stage {
        Some(Stage {
            slim: true, name, ..
        }) => {
            let runtime = match name {
                Some(n) => format!("`{n}`"),
                None => "the base's slim variant (no compilers, `-dev` packages or caches)".into(),
            };
            format!(
                "the base image brings the build tools ({}): keep it as a build stage (`FROM <this base> AS build`, your RUN lines as they are) and start the runtime stage from {runtime}, with `COPY --from=build` of what runs (the installed packages, the app); the toolchain, caches, `.git` and hidden copies stay behind",
                names.join(", ")
            )
        }
        _ => format!(
            "build in a separate stage (`FROM … AS build`) that installs the build tools ({}), and `COPY --from=build` only what runs (the built artifacts, the installed packages, the app) into a runtime stage that never installs them; caches, `.git` and hidden copies stay behind",
            names.join(", ")
        ),
    }
}
