//! Every drop rule's atoms, gathered in one pass over the atoms.

use std::collections::{BTreeMap, HashMap};

use super::binaries;
use super::inputs::{Inputs, Key};
use super::rule::{Rule, Scope};
use crate::analyze::categories::Category;
use crate::analyze::layers::LayerRow;
use crate::analyze::projection::{self, Scans};
use crate::model::tree::WasteCause;
use crate::model::{FsTree, ReAdd};

/// The atoms each (rule, scope, layer) would remove.
#[derive(Default)]
pub(super) struct Candidates(pub(super) BTreeMap<Key, Vec<u32>>);

impl Candidates {
    pub(super) fn add(&mut self, key: Key, atom: u32) {
        self.0.entry(key).or_default().push(atom);
    }
}

/// Directories at depth 3 whose files the `docs-locales` filter excludes.
pub(super) const EXCLUDED_DIRS: [&[u8]; 4] = [
    b"usr/share/doc",
    b"usr/share/man",
    b"usr/share/info",
    b"usr/share/locale",
];

/// Whether dpkg's filter of the `docs-locales` fix drops the file at `node`.
pub(super) fn excluded(tree: &FsTree, node: u32, memo: &mut HashMap<u32, bool>) -> bool {
    let top = tree.ancestor_at(node, 3);
    let hit = *memo
        .entry(top)
        .or_insert_with(|| EXCLUDED_DIRS.contains(&tree.path_bytes(top).as_slice()));
    if !hit {
        return false;
    }
    let name = tree.name(node);
    let parent = tree.parent(node).unwrap_or(top);
    let kept = (name == b"copyright" && tree.parent(parent) == Some(top))
        || (name == b"locale.alias" && parent == top);
    !kept
}

/// Whether a file is inside what pip installed: a `site-packages` folder, or Debian's
/// `/usr/local/lib/python3*/dist-packages` (Debian's own packages live in
/// `/usr/lib/python3/dist-packages` and are compiled by their postinst scripts, which
/// no pip flag reaches).
pub(super) fn pip_installed(tree: &FsTree, node: u32, memo: &mut HashMap<u32, bool>) -> bool {
    folder_is(tree, node, memo, |path| {
        let mut parts = path.split(|&b| b == b'/');
        let local_dist = parts.next() == Some(b"usr")
            && parts.next() == Some(b"local")
            && parts.next() == Some(b"lib")
            && parts.next().is_some_and(|p| p.starts_with(b"python3"))
            && parts.next() == Some(b"dist-packages");
        local_dist || path.split(|&b| b == b'/').any(|c| c == b"site-packages")
    })
}

/// Whether the folder holding the file at `node` passes `test` (given its path),
/// asked once per folder: the per-atom loops run for every file of the image.
pub(super) fn folder_is(
    tree: &FsTree,
    node: u32,
    memo: &mut HashMap<u32, bool>,
    test: impl Fn(&[u8]) -> bool,
) -> bool {
    let Some(dir) = tree.parent(node) else {
        return false;
    };
    *memo
        .entry(dir)
        .or_insert_with(|| test(&tree.path_bytes(dir)))
}

/// Facts of each layer the per-atom loops ask, computed once.
pub(super) struct LayerFacts {
    /// Yours (not the base's) and read without error.
    yours: Vec<bool>,
    /// A COPY/ADD of yours.
    app: Vec<bool>,
}

impl LayerFacts {
    pub(super) fn new(inp: &Inputs<'_>) -> Self {
        let n = inp.layers.len();
        LayerFacts {
            yours: (0..n)
                .map(|l| !inp.base.holds(l) && inp.layers[l].error.is_none())
                .collect(),
            app: inp.layers.iter().map(LayerRow::is_app).collect(),
        }
    }

    pub(super) fn yours(&self, l: usize) -> bool {
        self.yours.get(l) == Some(&true)
    }

    pub(super) fn app(&self, l: usize) -> bool {
        self.app.get(l) == Some(&true)
    }
}

/// Whether the path where an atom's content ends (its last re-added copy) was
/// deleted by a layer above the one that shipped it: a whiteout or an opaque
/// directory, not a rewrite.
pub(super) fn deleted_later(inp: &Inputs<'_>, scans: &Scans, i: u32, layer: u16) -> bool {
    let last = inp.atoms.get(scans.last_copy(i));
    matches!(last.hidden, Some((removed, cause)) if cause != WasteCause::Overwritten && removed > layer)
}

/// Gather every edit rule's atoms in one pass: the entries each fix drops, before the
/// re-adds they take along.
pub(super) fn candidates(inp: &Inputs<'_>, facts: &LayerFacts, scans: &Scans) -> Candidates {
    let mut out = Candidates::default();
    let base_has_build = inp.owners.build_layers.iter().any(|&l| inp.base.holds(l));
    let any_dpkg = inp.owners.dpkg.contains(&true);
    let any_rpm_docs = inp.owners.rpm_docs.contains(&true);
    let any_build = inp.owners.build.contains(&true);
    let mut memo = HashMap::new();
    let mut installed_memo = HashMap::new();
    for (i, a) in inp.atoms.iter().enumerate() {
        let (i, l) = (i as u32, a.layer as usize);
        let (yours, app) = (facts.yours(l), facts.app(l));
        let owned = |any: bool, o: &[bool]| any && a.inode != u32::MAX && o[a.inode as usize];
        if a.category.is_cache() {
            let scope = if yours { Scope::Yours } else { Scope::Base };
            out.add((Rule::Cache(a.category), scope, l), i);
        }
        if !yours {
            if base_has_build
                && a.hidden.is_none()
                && (owned(any_build, &inp.owners.build)
                    || matches!(a.category, Category::DevFiles | Category::Toolchain))
            {
                out.add((Rule::FullBase, Scope::Base, 0), i);
            }
            continue;
        }
        if a.hidden.is_some() && deleted_later(inp, scans, i, a.layer) {
            out.add((Rule::DeletedLater, Scope::Yours, l), i)
        }
        match a.category {
            Category::Vcs | Category::Bytecode if app => {
                out.add((Rule::Dockerignore, Scope::Yours, l), i)
            }
            Category::Tests if !app => out.add((Rule::PackageTests, Scope::Yours, l), i),
            Category::Bytecode if pip_installed(inp.tree, a.node, &mut installed_memo) => {
                out.add((Rule::Bytecode, Scope::Yours, l), i)
            }
            _ => {}
        }
        if (owned(any_dpkg, &inp.owners.dpkg) && excluded(inp.tree, a.node, &mut memo))
            || owned(any_rpm_docs, &inp.owners.rpm_docs)
        {
            out.add((Rule::DocsLocales, Scope::Yours, l), i);
        }
    }
    add_readds(inp, facts, &mut out);
    for (key, atom) in binaries::atoms(inp, |l| facts.yours(l)) {
        out.add(key, atom);
    }
    out
}

/// A re-add's lower copy and upper copy, as atoms.
pub(super) fn readd_atoms(inp: &Inputs<'_>, r: &ReAdd) -> Option<(u32, u32)> {
    projection::readd_atoms(inp.tree, inp.atoms, r)
}

/// A layer whose step re-adds files by design: a `chmod`/`chown` RUN, or a COPY/ADD
/// (a package manager that rewrites a file unchanged is not something to fix).
pub(super) fn readds_on_purpose(row: Option<&LayerRow>) -> bool {
    row.is_some_and(|r| {
        r.is_app()
            || r.instruction
                .as_deref()
                .is_some_and(|i| i.contains("chmod") || i.contains("chown"))
    })
}

/// `chmod-duplicate` drops the upper copies, visible or hidden later: setting mode
/// and owner where the files are added writes each file once.
pub(super) fn add_readds(inp: &Inputs<'_>, facts: &LayerFacts, out: &mut Candidates) {
    for r in inp.readds {
        let Some((_, upper)) = readd_atoms(inp, r) else {
            continue;
        };
        let l = inp.atoms.get(upper).layer as usize;
        if facts.yours(l) && readds_on_purpose(inp.layers.get(l)) {
            out.add((Rule::ChmodDuplicate, Scope::Yours, l), upper);
        }
    }
}
