//! A package as a database describes it, and its files measured on the tree.

use crate::model::FsTree;
use crate::model::path::{join, normalize};
use crate::model::tree::NodeKind;

/// A package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Manager {
    Dpkg,
    Apk,
    Python,
    Npm,
    Rpm,
}

impl Manager {
    pub fn code(self) -> &'static str {
        match self {
            Manager::Dpkg => "dpkg",
            Manager::Apk => "apk",
            Manager::Python => "python",
            Manager::Npm => "npm",
            Manager::Rpm => "rpm",
        }
    }
}

/// A package as a database describes it.
#[derive(Debug, Clone, Default)]
pub(super) struct Record {
    pub(super) version: Option<String>,
    /// Normalised paths of its files.
    pub(super) files: Vec<Vec<u8>>,
    pub(super) layer: usize,
    /// `Depends` and `Pre-Depends`.
    pub(super) depends: Vec<Vec<String>>,
    pub(super) recommends: Vec<Vec<String>>,
    pub(super) provides: Vec<String>,
    pub(super) essential: bool,
}

pub(super) fn norm(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    normalize(raw, &mut out);
    out
}

/// Top-level directories that merged-/usr systems make symlinks into `usr/`: package
/// lists still name files by the old path (`/lib/x86_64-linux-gnu/libc.so.6`).
pub(super) const MERGED_USR: [&[u8]; 6] = [b"bin", b"sbin", b"lib", b"lib32", b"lib64", b"libx32"];

/// Look a listed path up, through a merged-/usr top-level symlink when there is one
/// (the tree keeps no symlink targets; a top-level `lib` symlink beside a `usr/lib`
/// directory is taken to point there).
pub(super) fn lookup_listed(tree: &FsTree, path: &[u8]) -> Option<u32> {
    if let Some(n) = tree.lookup(path) {
        return Some(n);
    }
    let top = path.split(|&b| b == b'/').next()?;
    let top_is_link = tree.lookup(top).map(|n| tree.kind(n)) == Some(NodeKind::Symlink);
    if !MERGED_USR.contains(&top) || !top_is_link {
        return None;
    }
    tree.lookup(&join(b"usr", path))
}

/// Visible bytes and files of a list of paths; each inode counted once overall, and
/// handed to `own`.
pub(super) fn measure<'a>(
    tree: &FsTree,
    files: impl Iterator<Item = &'a [u8]>,
    seen: &mut [bool],
    mut own: impl FnMut(u32),
) -> (u64, u64) {
    let (mut bytes, mut count) = (0, 0);
    for f in files {
        let Some(node) = lookup_listed(tree, f) else {
            continue;
        };
        if tree.kind(node) != NodeKind::File {
            continue;
        }
        if let Some(ino) = tree.inode(node)
            && !std::mem::replace(&mut seen[ino as usize], true)
        {
            bytes += tree.inodes()[ino as usize].size;
            count += 1;
            own(ino);
        }
    }
    (bytes, count)
}

/// Every visible file under `dir`, except inside nested `node_modules`.
pub(super) fn files_under(tree: &FsTree, dir: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(root) = tree.lookup(dir) else {
        return out;
    };
    let mut stack = vec![(root, dir.to_vec())];
    while let Some((id, path)) = stack.pop() {
        for c in tree.children(id) {
            let name = tree.name(c);
            let p = join(&path, name);
            match tree.kind(c) {
                NodeKind::Dir if name != b"node_modules" => stack.push((c, p)),
                NodeKind::File => out.push(p),
                _ => {}
            }
        }
    }
    out
}
