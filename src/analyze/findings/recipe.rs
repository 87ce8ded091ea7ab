//! What a runtime stage is made of, read off the multi-stage edit: the packages it
//! installs by name and the paths it copies from the build stage (what `imgsize fix`
//! writes as the stage).
//!
//! Every visible file of your layers is one of:
//! - **kept**: the runtime stage needs it and only a copy brings it;
//! - **gone**: a fix the build stage gets before the copy removes it (`.dockerignore`
//!   patterns, `npm prune`, a build tree's `rm -rf`): a copy of its folder is fine;
//! - **blocking**: it must not be copied: the base's files (the runtime stage starts
//!   from a base of its own), what the runtime stage leaves out, and what its package
//!   install writes again (the packages' files; dpkg's, apt's and the dynamic linker's
//!   own files in the layer that installed them).
//!
//! The copies are the highest folders holding kept files and nothing blocking, each
//! copied whole; a folder whose only kept files sit in one child, beside empty
//! folders, hands over to that child (`/usr/local/bin`, not `/usr/local`).

use std::collections::HashSet;

use super::candidates::LayerFacts;
use super::inputs::{Inputs, Recipe};
use super::rule::Rule;
use crate::analyze::instruction::{arguments, instruction};
use crate::model::FsTree;
use crate::model::tree::{NodeKind, ROOT};

/// At most this many copies are written; the rest are counted.
const MAX_COPIES: usize = 16;

/// Whether a layer's instruction installs system packages.
fn installs(instruction: &str) -> bool {
    [
        "apt-get install",
        "apt install",
        "dpkg -i",
        "apk add",
        "dnf install",
        "yum install",
        "microdnf install",
        "zypper in",
    ]
    .iter()
    .any(|k| instruction.contains(k))
}

/// A system path, where a package install writes its own bookkeeping (dpkg's status,
/// `ld.so.cache`, alternatives' links): not `/usr/local`, `/opt`, `/app`, `/root`.
fn system_path(path: &[u8]) -> bool {
    let first = path.split(|&b| b == b'/').next().unwrap_or(b"");
    let usr_local = path.starts_with(b"usr/local/") || path == b"usr/local";
    !usr_local
        && matches!(
            first,
            b"etc"
                | b"var"
                | b"run"
                | b"bin"
                | b"sbin"
                | b"lib"
                | b"lib32"
                | b"lib64"
                | b"libx32"
                | b"usr"
        )
}

/// The account files: a user your RUN created (`useradd` beside an install) lives only
/// in them, so when the image runs as a named user the runtime stage copies them.
const ACCOUNTS: [&[u8]; 4] = [b"etc/passwd", b"etc/group", b"etc/shadow", b"etc/gshadow"];

/// Whether the image's last `USER` names a user other than root (by name or uid).
fn runs_as_named_user(inp: &Inputs<'_>) -> bool {
    let user = inp.history.iter().rev().find_map(|h| {
        let text = instruction(h.created_by.as_deref()?);
        arguments(&text, "USER").map(str::to_string)
    });
    user.is_some_and(|u| {
        let name = u.split(':').next().unwrap_or("").trim();
        !name.is_empty() && name != "root" && name != "0"
    })
}

/// Per node: kept bytes below it, and whether anything below blocks a copy or is a
/// file at all.
#[derive(Clone, Copy, Default)]
struct Below {
    kept: u64,
    blocked: bool,
    files: bool,
}

/// The recipe of the runtime stage: `drops` are the multi-stage edit's atoms, `gone_by`
/// the atoms the build stage's fixes remove, with their rule.
pub(super) fn recipe(
    inp: &Inputs<'_>,
    facts: &LayerFacts,
    drops: &[u32],
    gone_by: &[(Rule, u32)],
) -> Recipe {
    let below = classify(inp, facts, drops, gone_by);
    let mut copies = cover(inp.tree, &below);
    copies.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let more = copies.split_off(copies.len().min(MAX_COPIES));
    copies.sort();
    let mut packages: Vec<String> = inp
        .owners
        .runtime_roots
        .iter()
        .filter(|(_, l)| facts.yours(*l))
        .map(|(n, _)| n.clone())
        .collect();
    packages.sort();
    let build_fixes = needed_fixes(inp, &copies, gone_by);
    Recipe {
        packages,
        copies,
        more: more.len(),
        more_bytes: more.iter().map(|(_, b)| b).sum(),
        build_fixes,
    }
}

/// Every node's figures: the kept bytes below it, whether anything below blocks a copy.
fn classify(
    inp: &Inputs<'_>,
    facts: &LayerFacts,
    drops: &[u32],
    gone_by: &[(Rule, u32)],
) -> Vec<Below> {
    let drops: HashSet<u32> = drops.iter().copied().collect();
    let gone: HashSet<u32> = gone_by.iter().map(|(_, a)| *a).collect();
    let tree = inp.tree;
    let named_user = runs_as_named_user(inp);
    let install_layer: Vec<bool> = inp
        .layers
        .iter()
        .map(|r| r.instruction.as_deref().is_some_and(installs))
        .collect();
    let mut below = vec![Below::default(); tree.node_count()];
    for (i, a) in inp.atoms.iter().enumerate() {
        let i = i as u32;
        let l = a.layer as usize;
        if a.hidden.is_some() {
            continue;
        }
        if gone.contains(&i) {
            mark(tree, &mut below, a.node, 0, false);
            continue;
        }
        let owned = inp.owners.dpkg.get(a.inode as usize) == Some(&true);
        // The path is built only for files of a layer that installs.
        let rewritten = install_layer[l] && {
            let path = tree.path_bytes(a.node);
            system_path(&path) && !(named_user && ACCOUNTS.contains(&path.as_slice()))
        };
        let blocks = !facts.yours(l) || drops.contains(&i) || owned || rewritten;
        // An empty file is copied with its folder, but asks no copy of its own (lock
        // files, markers).
        let kept = if blocks { 0 } else { a.bytes };
        mark(tree, &mut below, a.node, kept, blocks);
    }
    below
}

/// The highest folders (or files) holding kept bytes and nothing blocking; a folder
/// whose kept bytes are all in one child, beside empty folders, hands over to it.
fn cover(tree: &FsTree, below: &[Below]) -> Vec<(String, u64)> {
    let mut copies = Vec::new();
    let mut stack = vec![ROOT];
    while let Some(n) = stack.pop() {
        let b = below[n as usize];
        if b.kept == 0 {
            continue;
        }
        let children = tree.children(n);
        let with_kept: Vec<u32> = children
            .iter()
            .copied()
            .filter(|&c| below[c as usize].kept > 0)
            .collect();
        let only_empty_beside = with_kept.len() == 1
            && children
                .iter()
                .all(|&c| with_kept[0] == c || !below[c as usize].files);
        let whole =
            n != ROOT && !b.blocked && !(only_empty_beside && tree.kind(n) == NodeKind::Dir);
        if whole {
            copies.push((tree.path(n), b.kept));
        } else {
            stack.extend(with_kept);
        }
    }
    copies
}

/// The build stage's fixes whose files would be inside a copy.
fn needed_fixes(inp: &Inputs<'_>, copies: &[(String, u64)], gone_by: &[(Rule, u32)]) -> Vec<Rule> {
    let tree = inp.tree;
    let copied: Vec<u32> = copies
        .iter()
        .filter_map(|(p, _)| tree.lookup(p.trim_start_matches('/').as_bytes()))
        .collect();
    let mut out: Vec<Rule> = Vec::new();
    for &(rule, a) in gone_by {
        if out.contains(&rule) {
            continue;
        }
        let mut at = Some(inp.atoms.get(a).node);
        while let Some(n) = at {
            if copied.contains(&n) {
                out.push(rule);
                break;
            }
            at = tree.parent(n);
        }
    }
    out.sort();
    out
}

/// Add a file's figures to it and every folder above it.
fn mark(tree: &FsTree, below: &mut [Below], node: u32, kept: u64, blocked: bool) {
    let mut cur = Some(node);
    while let Some(n) = cur {
        let b = &mut below[n as usize];
        b.kept += kept;
        b.blocked |= blocked;
        b.files = true;
        cur = tree.parent(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_and_system_paths() {
        assert!(installs("RUN apt-get update && apt-get install -y curl"));
        assert!(!installs("RUN pip install flask"));
        assert!(system_path(b"var/lib/dpkg/status"));
        assert!(system_path(b"usr/bin/java"));
        assert!(!system_path(b"usr/local/bin/app"));
        assert!(!system_path(b"app/main.py"));
    }
}
