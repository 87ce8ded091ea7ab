//! Where the waste is: the tree's waste records grouped by the path cell they were
//! under (at the path table's depth) and by who added and who hid them.

use std::collections::HashMap;

use super::top::TopN;
use crate::model::FsTree;
use crate::model::tree::{NodeKind, WasteCause};

/// Bytes shipped under a path that no container sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasteRow {
    pub path: String,
    /// What the path was (a directory groups the waste below it).
    pub kind: NodeKind,
    pub bytes: u64,
    pub files: u64,
    pub added_layer: usize,
    pub removed_layer: usize,
    pub cause: WasteCause,
}

/// The waste table at `depth`, biggest first, cut to `top` rows.
pub fn table(tree: &FsTree, depth: usize, top: usize) -> TopN<WasteRow> {
    let mut groups: HashMap<(u32, u16, u16, WasteCause), (u64, u64)> = HashMap::new();
    for w in tree.waste() {
        let cell = tree.ancestor_at(w.node, depth);
        let g = groups
            .entry((cell, w.added_layer, w.removed_layer, w.cause))
            .or_default();
        g.0 += w.bytes;
        g.1 += 1;
    }
    let mut rows: Vec<WasteRow> = groups
        .into_iter()
        .map(|((cell, added, removed, cause), (bytes, files))| WasteRow {
            path: tree.path(cell),
            kind: tree.kind(cell),
            bytes,
            files,
            added_layer: added as usize,
            removed_layer: removed as usize,
            cause,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.added_layer.cmp(&b.added_layer))
            .then_with(|| a.removed_layer.cmp(&b.removed_layer))
            .then_with(|| a.cause.cmp(&b.cause))
    });
    TopN::cut(rows, top, |r| r.bytes)
}
