//! The biggest paths of the final filesystem: the tree partitioned at a depth, so every
//! visible byte is in exactly one row and the rows, the remainder and the total add up;
//! and, on the same walk, the counts of what a container sees.

use std::collections::BTreeMap;

use super::top::TopN;
use crate::model::FsTree;
use crate::model::tree::{NodeKind, ROOT};

/// A path of the final filesystem with its visible bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRow {
    pub path: String,
    pub kind: NodeKind,
    pub bytes: u64,
    pub files: u64,
    /// Layers that put visible bytes here, with their bytes, by layer index.
    pub layers: Vec<(usize, u64)>,
}

/// What the final filesystem holds (the root not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Visible {
    /// Regular files (hardlinked names each count).
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
}

/// Walks the tree once: directories above the cut depth are counted and descended,
/// every node at the cut (a "cell") is summed with its subtree.
struct Partition<'t> {
    tree: &'t FsTree,
    /// Inodes already counted (a hardlinked file's bytes count once).
    seen: Vec<bool>,
    visible: Visible,
    /// Scratch stack for summing a cell.
    stack: Vec<u32>,
}

impl Partition<'_> {
    /// Sum a cell at depth `d`; `None` when it holds no bytes.
    fn cell(&mut self, id: u32, d: usize) -> Option<PathRow> {
        let tree = self.tree;
        let mut row = PathRow {
            path: tree.path(id),
            kind: tree.kind(id),
            bytes: 0,
            files: 0,
            layers: Vec::new(),
        };
        let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
        self.stack.clear();
        self.stack.push(id);
        while let Some(n) = self.stack.pop() {
            match tree.kind(n) {
                NodeKind::Dir => {
                    if n != id || d > 0 {
                        self.visible.dirs += 1;
                    }
                    self.stack.extend(tree.children(n).into_iter().rev());
                }
                NodeKind::File => {
                    self.visible.files += 1;
                    row.files += 1;
                    if let Some(ino) = tree.inode(n)
                        && !std::mem::replace(&mut self.seen[ino as usize], true)
                    {
                        let inode = tree.inodes()[ino as usize];
                        row.bytes += inode.size;
                        if inode.size > 0 {
                            *per_layer.entry(inode.layer as usize).or_default() += inode.size;
                        }
                    }
                }
                NodeKind::Symlink => self.visible.symlinks += 1,
                NodeKind::Other => {}
            }
        }
        (row.bytes > 0).then(|| PathRow {
            layers: per_layer.into_iter().collect(),
            ..row
        })
    }
}

/// The path table at `depth` (at least 1), cut to `top` rows, and the visible counts.
pub fn table(tree: &FsTree, depth: usize, top: usize) -> (TopN<PathRow>, Visible) {
    let mut p = Partition {
        tree,
        seen: vec![false; tree.inodes().len()],
        visible: Visible::default(),
        stack: Vec::new(),
    };
    let mut rows = Vec::new();
    let mut stack: Vec<(u32, usize)> = vec![(ROOT, 0)];
    while let Some((id, d)) = stack.pop() {
        if tree.kind(id) == NodeKind::Dir && d < depth {
            for c in tree.children(id).into_iter().rev() {
                stack.push((c, d + 1));
            }
            if d > 0 {
                p.visible.dirs += 1;
            }
            continue;
        }
        rows.extend(p.cell(id, d));
    }
    rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    (TopN::cut(rows, top, |r| r.bytes), p.visible)
}
