//! What each layer changed, as a tree small enough to browse: the files it added, the
//! lower files it modified (replaced), the lower files its whiteouts and opaque
//! directories deleted, and the bytes it added that a later layer hides. Read off the
//! merged tree's inodes and waste records, so a layer's added, modified and hidden
//! bytes sum to its `added_bytes` in the layer table, and its hidden bytes are its
//! `wasted_bytes`. Folders sum their children. Each layer's tree is cut like the
//! treemap ([`super::treemap`]): the biggest entries keep a node, the rest of a folder
//! is folded into one `pruned` node carrying their bytes and counts, within a node
//! budget per layer and a node and weight budget for all layers together.
//! The HTML report shows it when a layer is selected; `--tree` puts it in the JSON.

use std::collections::{HashMap, HashSet};

use super::treemap::{MAX_DEPTH, widest_cut};
use crate::model::FsTree;
use crate::model::tree::WasteCause;

/// Most nodes one layer's tree keeps.
pub const MAX_LAYER_NODES: usize = 2_000;

/// Most nodes all layers' trees keep together.
pub const MAX_NODES: usize = 6_000;

/// What all layers' trees may weigh as JSON at most, names included; the report gives
/// them less when the treemap's tree leaves less of [`super::treemap::MAX_TREE_BYTES`].
pub const MAX_CHANGES_BYTES: u64 = 400_000;

/// About what a node's fields but its name take in the JSON.
const NODE_BYTES: u64 = 100;

/// What a layer did to a path. The order is the order of the `bytes` and `entries`
/// arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A file new in this layer, still visible.
    Added = 0,
    /// A file that replaced a lower layer's file at the same path (new content, or the
    /// same content with another mode or owner), still visible.
    Modified = 1,
    /// A lower layer's file this layer removed from view: a whiteout, an opaque
    /// directory, or an entry of another kind written over it. Its bytes are the ones
    /// removed.
    Deleted = 2,
    /// A file this layer added (or modified) that a later layer, or a later entry of
    /// this layer, overwrites or deletes: wasted bytes.
    Hidden = 3,
}

impl Change {
    /// Stable machine name (JSON).
    pub fn code(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::Deleted => "deleted",
            Change::Hidden => "hidden",
        }
    }
}

/// What a node of a layer's change tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Dir,
    /// One file's change.
    File(Change),
    /// The entries of a folder folded together below the cut.
    Pruned,
}

/// Bytes or entries by [`Change`].
pub type ByChange = [u64; 4];

/// One node of a layer's change tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNode {
    /// One path component (`/` for the root, empty for a pruned node), non-UTF-8
    /// bytes replaced.
    pub name: String,
    pub kind: ChangeKind,
    /// Bytes of the subtree by change.
    pub bytes: ByChange,
    /// Changed files of the subtree by change.
    pub entries: ByChange,
    /// For a modified file, the layer whose file it replaced; for a deleted one, the
    /// layer that had added it; for a hidden one, the layer that hides it.
    pub layer: Option<usize>,
    /// A folder's children, biggest first, a pruned node last.
    pub children: Vec<ChangeNode>,
}

impl ChangeNode {
    /// All bytes of the subtree, whatever their change.
    pub fn total_bytes(&self) -> u64 {
        self.bytes.iter().sum()
    }
}

/// One layer's changes, cut to its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerChanges {
    pub layer: usize,
    /// Entries with fewer bytes than this have no node of their own.
    pub min_bytes: u64,
    /// Nodes below the root, pruned ones included.
    pub nodes: usize,
    /// Changed files without a node of their own.
    pub pruned_entries: u64,
    pub root: ChangeNode,
}

/// One changed file of a layer before the tree is built.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// The (possibly dead) node of the tree the file is or was at.
    node: u32,
    change: Change,
    bytes: u64,
    layer: Option<u16>,
}

/// Every layer's changed files, from the tree's inodes and waste records.
fn rows(tree: &FsTree, layers: usize) -> Vec<Vec<Row>> {
    let mut out: Vec<Vec<Row>> = vec![Vec::new(); layers];
    let mut push = |layer: u16, row: Row| {
        if let Some(v) = out.get_mut(layer as usize) {
            v.push(row);
        }
    };
    // Lower copies a later entry at the same node replaced: (replacing layer, node)
    // to the layer that had shipped them.
    let mut replaced: HashMap<(u16, u32), u16> = HashMap::new();
    for w in tree.waste() {
        if w.cause == WasteCause::Overwritten && w.added_layer < w.removed_layer {
            replaced
                .entry((w.removed_layer, w.node))
                .or_insert(w.added_layer);
        }
    }
    // Nodes where a layer wrote a file of its own.
    let mut own: HashSet<(u16, u32)> = HashSet::new();
    let inodes = tree.inodes();
    let mut seen = vec![false; inodes.len()];
    for (node, ino) in tree.live_files() {
        // A hardlinked file's bytes count once, at its first name.
        if std::mem::replace(&mut seen[ino as usize], true) {
            continue;
        }
        let i = inodes[ino as usize];
        let from = replaced.get(&(i.layer, node)).copied();
        own.insert((i.layer, node));
        let change = if from.is_some() {
            Change::Modified
        } else {
            Change::Added
        };
        push(i.layer, row(node, change, i.size, from));
    }
    for w in tree.waste() {
        own.insert((w.added_layer, w.node));
        let by = Some(w.removed_layer);
        push(w.added_layer, row(w.node, Change::Hidden, w.bytes, by));
    }
    for w in tree.waste() {
        let modified =
            w.cause == WasteCause::Overwritten && own.contains(&(w.removed_layer, w.node));
        if w.added_layer < w.removed_layer && !modified {
            let from = Some(w.added_layer);
            push(w.removed_layer, row(w.node, Change::Deleted, w.bytes, from));
        }
    }
    out
}

fn row(node: u32, change: Change, bytes: u64, layer: Option<u16>) -> Row {
    Row {
        node,
        change,
        bytes,
        layer,
    }
}

/// A layer's changed files as a tree of paths, each folder summing its subtree.
struct Trie<'t> {
    nodes: Vec<TrieNode<'t>>,
    /// A folder's node by (parent, name).
    dirs: HashMap<(u32, &'t [u8]), u32>,
}

struct TrieNode<'t> {
    name: &'t [u8],
    parent: u32,
    /// `None` for a folder.
    file: Option<(Change, Option<u16>)>,
    bytes: ByChange,
    entries: ByChange,
    children: Vec<u32>,
}

impl<'t> Trie<'t> {
    fn new(tree: &'t FsTree, rows: &[Row]) -> Self {
        let mut t = Trie {
            nodes: vec![TrieNode::new(b"/", u32::MAX, None)],
            dirs: HashMap::new(),
        };
        let mut chain = Vec::new();
        for r in rows {
            chain.clear();
            let mut cur = r.node;
            while let Some(p) = tree.parent(cur) {
                chain.push(cur);
                cur = p;
            }
            // The file's folders, top down, then the file.
            let Some((&file, folders)) = chain.split_first() else {
                // Bytes of a file named like the root: a file "." at the top.
                t.leaf(0, b".", r);
                continue;
            };
            let mut parent = 0;
            for &d in folders.iter().rev() {
                parent = t.dir(parent, tree.name(d));
            }
            t.leaf(parent, tree.name(file), r);
        }
        t
    }

    fn dir(&mut self, parent: u32, name: &'t [u8]) -> u32 {
        if let Some(&id) = self.dirs.get(&(parent, name)) {
            return id;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(TrieNode::new(name, parent, None));
        self.nodes[parent as usize].children.push(id);
        self.dirs.insert((parent, name), id);
        id
    }

    /// A file's row under `parent`, its bytes added to every folder above it.
    fn leaf(&mut self, parent: u32, name: &'t [u8], r: &Row) {
        let id = self.nodes.len() as u32;
        let mut n = TrieNode::new(name, parent, Some((r.change, r.layer)));
        n.bytes[r.change as usize] = r.bytes;
        n.entries[r.change as usize] = 1;
        self.nodes.push(n);
        self.nodes[parent as usize].children.push(id);
        let mut cur = parent;
        while cur != u32::MAX {
            let p = &mut self.nodes[cur as usize];
            p.bytes[r.change as usize] += r.bytes;
            p.entries[r.change as usize] += 1;
            cur = p.parent;
        }
    }

    fn total(&self, id: u32) -> u64 {
        self.nodes[id as usize].bytes.iter().sum()
    }

    /// Nodes drawn with a cut at `min` bytes and their weight as JSON: the kept nodes
    /// and one pruned node per kept folder with a child below the cut.
    fn drawn(&self, min: u64) -> (usize, u64) {
        let (mut nodes, mut weight) = (0, 0);
        let mut folded = vec![false; self.nodes.len()];
        for (id, n) in self.nodes.iter().enumerate().skip(1) {
            if self.total(id as u32) >= min {
                nodes += 1;
                weight += NODE_BYTES + n.name.len() as u64;
            } else if (n.parent == 0 || self.total(n.parent) >= min) && !folded[n.parent as usize] {
                folded[n.parent as usize] = true;
                nodes += 1;
                weight += NODE_BYTES;
            }
        }
        (nodes, weight)
    }

    /// The smallest byte count that keeps a node of its own within `max_nodes` and
    /// `max_weight`: 0 (everything) when all fits.
    fn cut(&self, max_nodes: usize, max_weight: u64) -> u64 {
        let mut sizes: Vec<u64> = (1..self.nodes.len() as u32)
            .map(|id| self.total(id))
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        widest_cut(&sizes, max_nodes, 0, |min| {
            let (nodes, weight) = self.drawn(min);
            nodes <= max_nodes && weight <= max_weight
        })
    }

    /// The node of kept `id`, its kept children and one pruned node for the rest.
    fn emit(&self, id: u32, min: u64, depth: usize, out: &mut LayerChanges) -> ChangeNode {
        let n = &self.nodes[id as usize];
        let mut node = ChangeNode {
            name: String::from_utf8_lossy(n.name).into_owned(),
            kind: n.file.map_or(ChangeKind::Dir, |(c, _)| ChangeKind::File(c)),
            bytes: n.bytes,
            entries: n.entries,
            layer: n.file.and_then(|(_, l)| l).map(usize::from),
            children: Vec::new(),
        };
        let mut pruned = ChangeNode::pruned();
        for &c in &n.children {
            if self.total(c) >= min && depth < MAX_DEPTH {
                out.nodes += 1;
                node.children.push(self.emit(c, min, depth + 1, out));
            } else {
                let cn = &self.nodes[c as usize];
                for k in 0..4 {
                    pruned.bytes[k] += cn.bytes[k];
                    pruned.entries[k] += cn.entries[k];
                }
            }
        }
        node.children.sort_by(|a, b| {
            b.total_bytes()
                .cmp(&a.total_bytes())
                .then_with(|| a.name.cmp(&b.name))
        });
        let folded: u64 = pruned.entries.iter().sum();
        if folded > 0 {
            out.nodes += 1;
            out.pruned_entries += folded;
            node.children.push(pruned);
        }
        node
    }
}

impl<'t> TrieNode<'t> {
    fn new(name: &'t [u8], parent: u32, file: Option<(Change, Option<u16>)>) -> Self {
        TrieNode {
            name,
            parent,
            file,
            bytes: [0; 4],
            entries: [0; 4],
            children: Vec::new(),
        }
    }
}

impl ChangeNode {
    fn pruned() -> Self {
        ChangeNode {
            name: String::new(),
            kind: ChangeKind::Pruned,
            bytes: [0; 4],
            entries: [0; 4],
            layer: None,
            children: Vec::new(),
        }
    }
}

/// Every layer's changes, each cut so that all of them together keep at most
/// [`MAX_NODES`] nodes weighing at most `max_weight` (and one layer at most
/// [`MAX_LAYER_NODES`]). Layers with the fewest changes are cut first; what they
/// leave of an even share goes to the others.
pub fn build(tree: &FsTree, layers: usize, max_weight: u64) -> Vec<LayerChanges> {
    let rows = rows(tree, layers);
    // One layer's tree at a time, smallest first.
    let mut order: Vec<usize> = (0..layers).collect();
    order.sort_by_key(|&i| (rows[i].len(), i));
    let (mut nodes_left, mut weight_left) = (MAX_NODES, max_weight);
    let mut out: Vec<Option<LayerChanges>> = vec![None; layers];
    for (done, &i) in order.iter().enumerate() {
        let share = (layers - done) as u64;
        let max_nodes = (nodes_left / (layers - done)).min(MAX_LAYER_NODES);
        let trie = Trie::new(tree, &rows[i]);
        let min = trie.cut(max_nodes, weight_left / share);
        let mut lc = LayerChanges {
            layer: i,
            min_bytes: min,
            nodes: 0,
            pruned_entries: 0,
            root: ChangeNode::pruned(),
        };
        lc.root = trie.emit(0, min, 0, &mut lc);
        let (used_nodes, used_weight) = trie.drawn(min);
        nodes_left = nodes_left.saturating_sub(used_nodes);
        weight_left = weight_left.saturating_sub(used_weight);
        out[i] = Some(lc);
    }
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests;
