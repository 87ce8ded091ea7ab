//! The final filesystem as a tree small enough to draw: every live node with its
//! visible bytes, cut to a node budget. The biggest nodes keep a node of their own;
//! in each kept directory, the children below the cut are folded into one `pruned`
//! node that carries their bytes, files and entry count, so the tree still adds up to
//! every visible byte. Each node names the layer and the category that put most of
//! its bytes there (read off the same atoms as the category table, so the two agree).
//! The HTML report draws it as a treemap; `--tree` puts it in the JSON.

use super::categories::{Atoms, Category};
use crate::model::FsTree;
use crate::model::tree::{NodeKind, ROOT};

/// The default node budget: on a 1 GB image of 30,000 files, every entry above about
/// 35 kB (0.003%) keeps a box, in a page of about 1 MB.
pub const DEFAULT_NODES: usize = 10_000;

/// What the drawn tree may weigh as JSON, names included: with it a page stays under
/// 2 MB whatever the names are (a tar name may be 64 KiB long). Each node is counted
/// as its name's length plus [`NODE_BYTES`] for the rest of its fields.
pub const MAX_TREE_BYTES: u64 = 1_500_000;

/// About what a node's fields but its name take in the JSON.
const NODE_BYTES: u64 = 100;

/// Directories this deep keep no children of their own: all of them are folded into
/// one pruned node. Real trees are shallower (a deep `node_modules` nests about 30);
/// the bound keeps a saved report readable back (`imgsize diff`, `check --baseline`:
/// a node at depth d nests 2d + 3 JSON levels, 2d + 4 in a check document, and
/// serde_json stops at 128) and the page's recursion shallow.
pub const MAX_DEPTH: usize = 48;

/// What a node of the drawn tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    Dir,
    File,
    Symlink,
    Other,
    /// The children of a directory folded together below the cut.
    Pruned,
}

impl MapKind {
    pub fn code(self) -> &'static str {
        match self {
            MapKind::Dir => "dir",
            MapKind::File => "file",
            MapKind::Symlink => "symlink",
            MapKind::Other => "other",
            MapKind::Pruned => "pruned",
        }
    }
}

/// One node of the drawn tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapNode {
    /// One path component (`/` for the root, empty for a pruned node), non-UTF-8
    /// bytes replaced.
    pub name: String,
    pub kind: MapKind,
    /// Visible content bytes of the subtree (a hardlinked file's at its first name).
    pub bytes: u64,
    /// Regular files in the subtree.
    pub files: u64,
    /// The layer index that put most of the bytes here; `None` without bytes.
    pub layer: Option<usize>,
    /// The category with most of the bytes; `None` without bytes.
    pub category: Option<Category>,
    /// Entries folded into a pruned node (0 for others).
    pub entries: u64,
    /// A directory's children, biggest first, a pruned node last.
    pub children: Vec<MapNode>,
}

impl MapNode {
    /// A node with no bytes yet.
    fn empty(name: String, kind: MapKind) -> Self {
        MapNode {
            name,
            kind,
            bytes: 0,
            files: 0,
            layer: None,
            category: None,
            entries: 0,
            children: Vec::new(),
        }
    }
}

/// The drawn tree and what the cut left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeMap {
    /// The node budget asked for.
    pub max_nodes: usize,
    /// Entries with fewer bytes than this have no node of their own.
    pub min_bytes: u64,
    /// Nodes below the root, pruned ones included (at most `max_nodes`).
    pub nodes: usize,
    /// Bytes only pruned nodes hold.
    pub pruned_bytes: u64,
    /// Live entries below the root without a node of their own.
    pub pruned_entries: u64,
    pub root: MapNode,
}

/// Per-node sums over the live tree.
struct Sums {
    bytes: Vec<u64>,
    files: Vec<u64>,
    /// Entries in the subtree, the node itself included.
    entries: Vec<u64>,
    /// Live nodes below the root, in pre-order.
    order: Vec<u32>,
}

/// Sum every live node's subtree: bytes from the visible atoms (each inode once, at
/// the name its atom is at), files and entries from the tree.
fn sums(tree: &FsTree, atoms: &Atoms<'_>) -> Sums {
    let n = tree.node_count();
    let mut s = Sums {
        bytes: vec![0; n],
        files: vec![0; n],
        entries: vec![0; n],
        order: Vec::new(),
    };
    for a in atoms.iter().take_while(|a| a.hidden.is_none()) {
        s.bytes[a.node as usize] += a.bytes;
    }
    let mut stack = vec![ROOT];
    while let Some(id) = stack.pop() {
        if id != ROOT {
            s.order.push(id);
        }
        if tree.kind(id) == NodeKind::Dir {
            stack.extend(tree.children(id));
        }
        s.entries[id as usize] = 1;
        s.files[id as usize] = u64::from(tree.kind(id) == NodeKind::File);
    }
    // Children come after their parent in pre-order: add each into its parent from
    // the back.
    for &id in s.order.iter().rev() {
        let p = tree
            .parent(id)
            .expect("a live node below the root has a parent") as usize;
        let id = id as usize;
        s.bytes[p] += s.bytes[id];
        s.files[p] += s.files[id];
        s.entries[p] += s.entries[id];
    }
    s
}

/// Bytes by layer and by category, to name the biggest of each.
#[derive(Default, Clone)]
struct Mix {
    layers: Vec<u64>,
    categories: [u64; Category::ALL.len()],
}

impl Mix {
    fn add(&mut self, layer: usize, category: Category, bytes: u64) {
        if layer >= self.layers.len() {
            self.layers.resize(layer + 1, 0);
        }
        self.layers[layer] += bytes;
        self.categories[category as usize] += bytes;
    }

    /// The index with most bytes, the first on a tie; `None` when all are zero.
    fn top(v: &[u64]) -> Option<usize> {
        let (i, &b) = v
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(&a.0)))?;
        (b > 0).then_some(i)
    }

    fn layer(&self) -> Option<usize> {
        Mix::top(&self.layers)
    }

    fn category(&self) -> Option<Category> {
        Mix::top(&self.categories).map(|i| Category::ALL[i])
    }
}

/// The smallest byte count that keeps a node of its own when at most `max_nodes`
/// nodes (kept ones and one pruned node per kept directory with folded bytes),
/// weighing at most [`MAX_TREE_BYTES`], may be drawn. Parents hold at least their
/// children's bytes, so the kept set is closed under ancestors.
fn cut(tree: &FsTree, s: &Sums, max_nodes: usize) -> u64 {
    let mut sizes: Vec<u64> = s
        .order
        .iter()
        .map(|&id| s.bytes[id as usize])
        .filter(|&b| b > 0)
        .collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    widest_cut(&sizes, max_nodes, 1, |min| {
        let (nodes, weight) = drawn(tree, s, min);
        nodes <= max_nodes && weight <= MAX_TREE_BYTES
    })
}

/// The cut (a byte count; what weighs less folds) that keeps the most of `sizes`
/// (biggest first), at most `max`, for which `fits` holds; fewer on a tie at the edge,
/// and `all`, the cut that keeps every one, when they all fit. Drawn nodes and their
/// weight grow with what is kept, up to the pruned nodes a tie can add or save, so a
/// binary search finds the edge.
pub(super) fn widest_cut(sizes: &[u64], max: usize, all: u64, fits: impl Fn(u64) -> bool) -> u64 {
    let min = |keep: usize| sizes.get(keep).map_or(all, |&next| next + 1);
    let (mut lo, mut hi) = (0, max.min(sizes.len()));
    if fits(min(hi)) {
        return min(hi);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(min(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    min(lo)
}

/// Nodes drawn with a cut at `min` bytes, and their weight as JSON.
fn drawn(tree: &FsTree, s: &Sums, min: u64) -> (usize, u64) {
    let mut kept = 0;
    let mut weight = 0;
    let mut folded = vec![false; tree.node_count()];
    for &id in &s.order {
        if s.bytes[id as usize] >= min {
            kept += 1;
            weight += NODE_BYTES + tree.name(id).len() as u64;
        } else if s.bytes[id as usize] > 0 {
            // Folded into its parent's pruned node when the parent has a node.
            let p = tree.parent(id).unwrap_or(ROOT);
            if p == ROOT || s.bytes[p as usize] >= min {
                folded[p as usize] = true;
            }
        }
    }
    let pruned = folded.iter().filter(|&&f| f).count();
    (kept + pruned, weight + NODE_BYTES * pruned as u64)
}

impl TreeMap {
    /// What the drawn tree weighs as JSON by the measure of [`MAX_TREE_BYTES`].
    pub fn weight(&self) -> u64 {
        fn below(n: &MapNode) -> u64 {
            n.children
                .iter()
                .map(|c| NODE_BYTES + c.name.len() as u64 + below(c))
                .sum()
        }
        below(&self.root)
    }
}

/// The tree cut to `max_nodes` nodes.
pub fn build(tree: &FsTree, atoms: &Atoms<'_>, max_nodes: usize) -> TreeMap {
    let s = sums(tree, atoms);
    let min_bytes = cut(tree, &s, max_nodes);
    let kept = |id: u32| id == ROOT || s.bytes[id as usize] >= min_bytes;

    // The mix of each kept node's subtree, and of each kept directory's folded
    // children: every visible atom adds to its kept ancestors, and to the folded mix
    // of the deepest one when its own path has no node.
    let mut slot = vec![u32::MAX; tree.node_count()];
    let mut count = 0u32;
    for id in std::iter::once(ROOT).chain(s.order.iter().copied()) {
        if kept(id) {
            slot[id as usize] = count;
            count += 1;
        }
    }
    let mut mix = vec![Mix::default(); count as usize];
    let mut folded = vec![Mix::default(); count as usize];
    for a in atoms.iter().take_while(|a| a.hidden.is_none()) {
        if a.bytes == 0 {
            continue;
        }
        let mut cur = a.node;
        let mut first = true;
        loop {
            let k = slot[cur as usize];
            if k != u32::MAX {
                mix[k as usize].add(a.layer as usize, a.category, a.bytes);
                if first && cur != a.node {
                    folded[k as usize].add(a.layer as usize, a.category, a.bytes);
                }
                first = false;
            }
            match tree.parent(cur) {
                Some(p) => cur = p,
                None => break,
            }
        }
    }

    let mut map = TreeMap {
        max_nodes,
        min_bytes,
        nodes: 0,
        pruned_bytes: 0,
        pruned_entries: 0,
        root: MapNode::empty("/".to_string(), MapKind::Dir),
    };
    let ctx = Ctx {
        tree,
        s: &s,
        slot: &slot,
        mix: &mix,
        folded: &folded,
        min_bytes,
    };
    map.root = ctx.node(ROOT, 0, &mut map);
    map
}

/// What building the nodes reads.
struct Ctx<'a> {
    tree: &'a FsTree,
    s: &'a Sums,
    slot: &'a [u32],
    mix: &'a [Mix],
    folded: &'a [Mix],
    min_bytes: u64,
}

impl Ctx<'_> {
    /// The node of kept `id`, with its kept children and one pruned node for the rest.
    /// Recursion stops at [`MAX_DEPTH`].
    fn node(&self, id: u32, depth: usize, map: &mut TreeMap) -> MapNode {
        let tree = self.tree;
        let i = id as usize;
        let m = &self.mix[self.slot[i] as usize];
        let mut node = MapNode {
            name: if id == ROOT {
                "/".to_string()
            } else {
                String::from_utf8_lossy(tree.name(id)).into_owned()
            },
            kind: match tree.kind(id) {
                NodeKind::Dir => MapKind::Dir,
                NodeKind::File => MapKind::File,
                NodeKind::Symlink => MapKind::Symlink,
                NodeKind::Other => MapKind::Other,
            },
            bytes: self.s.bytes[i],
            files: self.s.files[i],
            layer: m.layer(),
            category: m.category(),
            entries: 0,
            children: Vec::new(),
        };
        if tree.kind(id) != NodeKind::Dir {
            return node;
        }
        let mut pruned = MapNode::empty(String::new(), MapKind::Pruned);
        for c in tree.children(id) {
            let ci = c as usize;
            if self.s.bytes[ci] >= self.min_bytes && depth < MAX_DEPTH {
                map.nodes += 1;
                node.children.push(self.node(c, depth + 1, map));
            } else {
                pruned.bytes += self.s.bytes[ci];
                pruned.files += self.s.files[ci];
                pruned.entries += self.s.entries[ci];
            }
        }
        node.children
            .sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
        map.pruned_entries += pruned.entries;
        if pruned.bytes > 0 {
            // Below the depth bound the folded mix is the whole subtree's.
            let f = if depth < MAX_DEPTH {
                self.folded
            } else {
                self.mix
            };
            let f = &f[self.slot[i] as usize];
            pruned.layer = f.layer();
            pruned.category = f.category();
            map.nodes += 1;
            map.pruned_bytes += pruned.bytes;
            node.children.push(pruned);
        }
        node
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::categories::classify;
    use crate::model::scan::{EntryKind, LayerScan};

    /// A tree from layers of (path, size) files; directories are implied.
    fn tree(layers: &[&[(&str, u64)]]) -> FsTree {
        let mut t = FsTree::new();
        for (i, rows) in layers.iter().enumerate() {
            let mut s = LayerScan::default();
            for &(path, size) in *rows {
                s.push(EntryKind::File, path.as_bytes(), None, size)
                    .expect("push");
            }
            t.apply(i as u16, &s).expect("apply");
        }
        t
    }

    fn find<'a>(n: &'a MapNode, path: &[&str]) -> &'a MapNode {
        path.iter().fold(n, |n, name| {
            n.children
                .iter()
                .find(|c| c.name == *name)
                .unwrap_or_else(|| panic!("no {name} under {}", n.name))
        })
    }

    /// Every node's bytes are its children's sum, and the counts add up.
    fn check(n: &MapNode) -> usize {
        if n.children.is_empty() {
            return 0;
        }
        assert_eq!(n.bytes, n.children.iter().map(|c| c.bytes).sum::<u64>());
        n.children.iter().map(|c| 1 + check(c)).sum()
    }

    #[test]
    fn keeps_everything_under_the_budget() {
        let t = tree(&[
            &[("usr/lib/a.so", 700), ("usr/lib/b.so", 200), ("etc/x", 100)],
            &[("app/main.py", 50), ("usr/lib/a.so", 900)],
        ]);
        let atoms = classify(&t, vec![false, true]);
        let m = build(&t, &atoms, 100);
        assert_eq!(m.root.bytes, 900 + 200 + 100 + 50);
        assert_eq!((m.min_bytes, m.pruned_bytes, m.pruned_entries), (1, 0, 0));
        assert_eq!(m.nodes, check(&m.root));
        assert_eq!(m.nodes, 8);
        let names: Vec<&str> = m.root.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["usr", "etc", "app"]);
        let a = find(&m.root, &["usr", "lib", "a.so"]);
        assert_eq!((a.bytes, a.layer, a.kind), (900, Some(1), MapKind::File));
        let usr = find(&m.root, &["usr"]);
        assert_eq!((usr.bytes, usr.files, usr.layer), (1100, 2, Some(1)));
        assert_eq!(find(&m.root, &["app"]).category, Some(Category::App));
    }

    #[test]
    fn folds_small_children_into_one_pruned_node() {
        let mut files: Vec<(String, u64)> = (0..50)
            .map(|i| (format!("usr/share/doc/f{i:02}"), 10 + i))
            .collect();
        files.push(("usr/lib/big".into(), 10_000));
        files.push(("opt/tool".into(), 5_000));
        let rows: Vec<(&str, u64)> = files.iter().map(|(p, s)| (p.as_str(), *s)).collect();
        let t = tree(&[&rows]);
        let atoms = classify(&t, vec![true]);
        let m = build(&t, &atoms, 8);
        assert!(m.nodes <= 8, "{} nodes", m.nodes);
        assert_eq!(m.nodes, check(&m.root));
        let total: u64 = 10_000 + 5_000 + (0..50).map(|i| 10 + i).sum::<u64>();
        assert_eq!(m.root.bytes, total);
        // The doc files are the smallest: folded, with their bytes and count.
        let doc = find(&m.root, &["usr", "share", "doc"]);
        let pruned = doc.children.last().expect("a pruned node");
        assert_eq!(pruned.kind, MapKind::Pruned);
        assert_eq!(
            pruned.bytes
                + doc.children[..doc.children.len() - 1]
                    .iter()
                    .map(|c| c.bytes)
                    .sum::<u64>(),
            doc.bytes
        );
        assert_eq!(m.pruned_bytes, pruned.bytes);
        assert_eq!(pruned.category, Some(Category::Docs));
        assert!(m.pruned_entries >= pruned.entries);
        // Every kept node is at least the cut, every folded one below it.
        assert!(
            doc.children[..doc.children.len() - 1]
                .iter()
                .all(|c| c.bytes >= m.min_bytes)
        );
        assert!(find(&m.root, &["usr", "lib", "big"]).bytes >= m.min_bytes);
    }

    #[test]
    fn a_tight_budget_folds_whole_folders() {
        let rows: Vec<(String, u64)> = (0..200)
            .map(|i| (format!("d{}/f{i}", i % 20), 100 + i))
            .collect();
        let rows: Vec<(&str, u64)> = rows.iter().map(|(p, s)| (p.as_str(), *s)).collect();
        let t = tree(&[&rows]);
        let atoms = classify(&t, vec![true]);
        for budget in [1, 5, 20, 60, 500] {
            let m = build(&t, &atoms, budget);
            assert!(
                m.nodes <= budget.max(1),
                "budget {budget}: {} nodes",
                m.nodes
            );
            assert_eq!(m.nodes, check(&m.root));
            assert_eq!(m.root.bytes, (0..200).map(|i| 100 + i).sum::<u64>());
            // Entries without a node of their own are all accounted for: 20 dirs
            // and 200 files.
            let drawn_entries = count_real(&m.root);
            assert_eq!(m.pruned_entries + drawn_entries, 220, "budget {budget}");
        }
    }

    #[test]
    fn folds_below_the_depth_bound() {
        let deep: String = (0..MAX_DEPTH + 20).map(|i| format!("d{i}/")).collect();
        let path = format!("{deep}file");
        let t = tree(&[&[(path.as_str(), 4096), ("top", 10)]]);
        let atoms = classify(&t, vec![true]);
        let m = build(&t, &atoms, 10_000);
        let mut n = &m.root;
        let mut depth = 0;
        while let Some(c) = n.children.first() {
            n = c;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH + 1);
        assert_eq!((n.kind, n.bytes, n.files), (MapKind::Pruned, 4096, 1));
        // d100 to d119 and the file.
        assert_eq!(n.entries, 21);
        assert_eq!(m.pruned_bytes, 4096);
        assert_eq!(m.nodes, check(&m.root));
    }

    /// Names count: a tree of long names is cut to its weight, not only its nodes.
    fn weight(n: &MapNode) -> u64 {
        n.children
            .iter()
            .map(|c| NODE_BYTES + c.name.len() as u64 + weight(c))
            .sum()
    }

    #[test]
    fn long_names_are_cut_to_the_weight_budget() {
        let rows: Vec<(String, u64)> = (0..200u64)
            .map(|i| (format!("d/{i:03}{}", "x".repeat(20_000)), 1_000 + i))
            .collect();
        let rows: Vec<(&str, u64)> = rows.iter().map(|(p, s)| (p.as_str(), *s)).collect();
        let t = tree(&[&rows]);
        let atoms = classify(&t, vec![true]);
        let m = build(&t, &atoms, DEFAULT_NODES);
        assert!(weight(&m.root) <= MAX_TREE_BYTES, "{}", weight(&m.root));
        // 200 names of 20 kB would weigh 4 MB: about 74 of them fit.
        let d = find(&m.root, &["d"]);
        assert!(
            (60..=75).contains(&(d.children.len() - 1)),
            "{}",
            d.children.len()
        );
        assert_eq!(d.children.last().map(|c| c.kind), Some(MapKind::Pruned));
        assert_eq!(m.root.bytes, (0..200).map(|i| 1_000 + i).sum::<u64>());
        assert_eq!(m.nodes, check(&m.root));
    }

    fn count_real(n: &MapNode) -> u64 {
        n.children
            .iter()
            .map(|c| u64::from(c.kind != MapKind::Pruned) + count_real(c))
            .sum()
    }

    #[test]
    fn hardlinked_bytes_count_once() {
        let mut s = LayerScan::default();
        s.push(EntryKind::File, b"a/x", None, 300).expect("push");
        s.push(EntryKind::Hardlink, b"b/y", Some(b"a/x"), 0)
            .expect("push");
        let mut t = FsTree::new();
        t.apply(0, &s).expect("apply");
        let atoms = classify(&t, vec![true]);
        let m = build(&t, &atoms, 100);
        assert_eq!(m.root.bytes, 300);
        assert_eq!(m.root.files, 2);
    }
}
