//! The merged filesystem: layers applied bottom to top with the OCI rules, in time
//! linear in the number of entries.
//!
//! Nodes live in one arena and are never moved or freed, so a node id names a path for
//! the whole analysis (deleted nodes are marked dead and can still be printed). A single
//! hash table maps (parent, name) to the live child. Regular-file content belongs to an
//! inode, so hardlinked names share one copy of the bytes: content becomes waste only
//! when its last name goes. Every shipped byte ends up either visible (an inode with a
//! live name) or in exactly one [`WasteRecord`], so `stored = content + wasted` holds
//! by construction.
//!
//! No I/O here: input is [`LayerScan`]s.

use std::collections::HashMap;
use std::hash::Hash;

use hashbrown::HashTable;

use super::scan::{Attrs, Entry, EntryKind, LayerScan, NO_PATH, PathId, ROOT_PATH};
use super::scan_paths::{hash, spread};
use crate::error::LayerErrorKind;

/// "No node" / "no inode".
pub const NONE: u32 = u32::MAX;
/// The root directory's node id.
pub const ROOT: u32 = 0;

/// What a live path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum NodeKind {
    Dir,
    File,
    Symlink,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    name_off: u32,
    /// Inode of a regular file, else [`NONE`].
    inode: u32,
    name_len: u16,
    /// Layer that last set this path.
    layer: u16,
    kind: NodeKind,
    alive: bool,
}

/// Content of a regular file, shared by its hardlinked names.
#[derive(Debug, Clone, Copy)]
pub struct Inode {
    pub size: u64,
    /// Live names.
    pub links: u32,
    /// Layer whose tar carries the bytes.
    pub layer: u16,
    /// The entry's mode and owner folded into 16 bits ([`Attrs::fold`]): equal for
    /// equal attributes, so a change is almost always seen (a rare collision only
    /// skips a re-add candidate).
    pub attrs: u16,
}

/// How shipped bytes became invisible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WasteCause {
    /// A later entry at the same path (or at an ancestor path) replaced it.
    Overwritten,
    /// A whiteout (`.wh.NAME`) deleted it or an ancestor directory.
    Deleted,
    /// An opaque marker (`.wh..wh..opq`) hid its directory's lower contents.
    OpaqueDir,
}

impl WasteCause {
    /// Stable machine name (JSON).
    pub fn code(self) -> &'static str {
        match self {
            WasteCause::Overwritten => "overwritten",
            WasteCause::Deleted => "deleted",
            WasteCause::OpaqueDir => "opaque_dir",
        }
    }

    /// Human wording (tables).
    pub fn as_str(self) -> &'static str {
        match self {
            WasteCause::Overwritten => "overwritten",
            WasteCause::Deleted => "deleted",
            WasteCause::OpaqueDir => "opaque dir",
        }
    }
}

/// Bytes shipped in one layer that no container can see.
#[derive(Debug, Clone, Copy)]
pub struct WasteRecord {
    /// The (possibly dead) node the content was last visible at.
    pub node: u32,
    pub bytes: u64,
    pub added_layer: u16,
    pub removed_layer: u16,
    pub cause: WasteCause,
    /// The inode whose bytes these were ([`NONE`] for a file named like the root).
    pub inode: u32,
}

/// A file a later layer wrote again at the same path with the same size and another
/// mode or owner ([`FsTree::same_size_readds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SameSize {
    /// The waste record of the lower copy.
    pub waste: u32,
    /// The node both copies are (or were last) at.
    pub node: u32,
    /// The waste record of the upper copy when a later layer hid it too; `None` while
    /// it is visible.
    pub upper_waste: Option<u32>,
}

/// Per-layer oddities met while merging.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeStats {
    /// Hardlinks whose target did not exist (counted as empty files).
    pub dangling_hardlinks: u64,
}

/// A hash-table slot: the node and 32 bits of its (parent, name) hash, so that growing
/// the table and rejecting non-matches never touch the (randomly placed) names.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: u32,
    hash: u32,
}

/// What applying one layer remembers: the node each of the scan's folders resolved
/// to, and room for a path being climbed.
#[derive(Default)]
struct Resolver {
    /// By scan path id: the tree node it was last resolved to, or [`NONE`].
    nodes: Vec<u32>,
    /// The path ids still to walk down, deepest first.
    chain: Vec<PathId>,
}

impl Resolver {
    /// Climb from `id` to the nearest path whose remembered node is still a live
    /// folder (or the root), leaving the ids below it in `chain`; that node.
    fn climb(&mut self, tree: &FsTree, scan: &LayerScan, id: PathId) -> u32 {
        self.chain.clear();
        let mut cur = id;
        while cur != ROOT_PATH && cur != NO_PATH {
            if let Some(&node) = self.nodes.get(cur as usize)
                && node != NONE
            {
                let n = tree.nodes[node as usize];
                if n.alive && n.kind == NodeKind::Dir {
                    return node;
                }
            }
            self.chain.push(cur);
            cur = scan.paths().parent(cur);
        }
        ROOT
    }

    fn remember(&mut self, id: PathId, node: u32) {
        let i = id as usize;
        if self.nodes.len() <= i {
            self.nodes.resize(i + 1, NONE);
        }
        self.nodes[i] = node;
    }
}

/// The merged filesystem of an image.
pub struct FsTree {
    nodes: Vec<Node>,
    names: Vec<u8>,
    table: HashTable<Slot>,
    inodes: Vec<Inode>,
    waste: Vec<WasteRecord>,
}

impl Default for FsTree {
    fn default() -> Self {
        Self::new()
    }
}

impl FsTree {
    pub fn new() -> Self {
        let root = Node {
            parent: NONE,
            first_child: NONE,
            next_sibling: NONE,
            name_off: 0,
            inode: NONE,
            name_len: 0,
            layer: 0,
            kind: NodeKind::Dir,
            alive: true,
        };
        FsTree {
            nodes: vec![root],
            names: Vec::new(),
            table: HashTable::new(),
            inodes: Vec::new(),
            waste: Vec::new(),
        }
    }

    /// A node's name.
    pub fn name(&self, id: u32) -> &[u8] {
        let n = &self.nodes[id as usize];
        &self.names[n.name_off as usize..n.name_off as usize + n.name_len as usize]
    }

    /// The live child `name` of the directory `parent`.
    pub fn child(&self, parent: u32, name: &[u8]) -> Option<u32> {
        let hash = hash(parent, name);
        self.table
            .find(spread(hash), |slot| {
                slot.hash == hash
                    && self.nodes[slot.id as usize].parent == parent
                    && self.name(slot.id) == name
            })
            .map(|slot| slot.id)
    }

    fn add_child(
        &mut self,
        parent: u32,
        name: &[u8],
        kind: NodeKind,
        layer: u16,
    ) -> Result<u32, LayerErrorKind> {
        let name_len = u16::try_from(name.len()).map_err(|_| {
            LayerErrorKind::Limit("a path component is longer than 65535 bytes".into())
        })?;
        let name_off = u32::try_from(self.names.len())
            .map_err(|_| LayerErrorKind::Limit("more than 4 GiB of distinct names".into()))?;
        let id = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&id| id != NONE)
            .ok_or_else(|| LayerErrorKind::Limit("more than 4 billion paths".into()))?;
        self.names.extend_from_slice(name);
        let p = &mut self.nodes[parent as usize];
        let next_sibling = p.first_child;
        p.first_child = id;
        self.nodes.push(Node {
            parent,
            first_child: NONE,
            next_sibling,
            name_off,
            inode: NONE,
            name_len,
            layer,
            kind,
            alive: true,
        });
        let hash = hash(parent, name);
        self.table
            .insert_unique(spread(hash), Slot { id, hash }, |slot| spread(slot.hash));
        Ok(id)
    }

    fn unlink_from_table(&mut self, id: u32) {
        let parent = self.nodes[id as usize].parent;
        let hash = hash(parent, self.name(id));
        if let Ok(entry) = self.table.find_entry(spread(hash), |slot| slot.id == id) {
            entry.remove();
        }
    }

    /// Drop a name of an inode; its bytes become waste when no name is left.
    fn release(&mut self, node: u32, layer: u16, cause: WasteCause) {
        let inode = self.nodes[node as usize].inode;
        if inode == NONE {
            return;
        }
        self.nodes[node as usize].inode = NONE;
        let ino = &mut self.inodes[inode as usize];
        ino.links = ino.links.saturating_sub(1);
        if ino.links == 0 && ino.size > 0 {
            self.waste.push(WasteRecord {
                node,
                bytes: ino.size,
                added_layer: ino.layer,
                removed_layer: layer,
                cause,
                inode,
            });
        }
    }

    /// Kill every live descendant of `dir` and forget its child list.
    fn clear_children(&mut self, dir: u32, layer: u16, cause: WasteCause) {
        let mut stack = vec![self.nodes[dir as usize].first_child];
        self.nodes[dir as usize].first_child = NONE;
        while let Some(mut id) = stack.pop() {
            while id != NONE {
                let n = self.nodes[id as usize];
                if n.alive {
                    self.nodes[id as usize].alive = false;
                    self.unlink_from_table(id);
                    self.release(id, layer, cause);
                    if n.first_child != NONE {
                        stack.push(n.first_child);
                    }
                }
                id = n.next_sibling;
            }
        }
    }

    /// Kill a node and its subtree.
    fn remove(&mut self, id: u32, layer: u16, cause: WasteCause) {
        self.clear_children(id, layer, cause);
        self.nodes[id as usize].alive = false;
        self.unlink_from_table(id);
        self.release(id, layer, cause);
    }

    /// Turn an existing node into `kind`, dropping what it held.
    fn replace(&mut self, id: u32, kind: NodeKind, layer: u16) {
        let n = self.nodes[id as usize];
        if n.kind == NodeKind::Dir && kind != NodeKind::Dir {
            self.clear_children(id, layer, WasteCause::Overwritten);
        }
        self.release(id, layer, WasteCause::Overwritten);
        let n = &mut self.nodes[id as usize];
        n.kind = kind;
        n.layer = layer;
    }

    /// Look up a live path without creating anything.
    pub fn lookup(&self, path: &[u8]) -> Option<u32> {
        let mut id = ROOT;
        if path.is_empty() {
            return Some(ROOT);
        }
        for comp in path.split(|&b| b == b'/') {
            if self.nodes[id as usize].kind != NodeKind::Dir {
                return None;
            }
            id = self.child(id, comp)?;
        }
        Some(id)
    }

    /// The folder at a scan's path `id`, creating missing folders and replacing
    /// non-folders in the way (a later layer's folder hides a lower file or symlink of
    /// the same name: symlinks are never followed). Resolved folders are remembered by
    /// path id; a remembered node still alive and a folder is still that path's, since
    /// nodes never move and a dead folder takes its subtree with it.
    fn ensure_dir(
        &mut self,
        scan: &LayerScan,
        id: PathId,
        layer: u16,
        at: &mut Resolver,
    ) -> Result<u32, LayerErrorKind> {
        let mut node = at.climb(self, scan, id);
        while let Some(step) = at.chain.pop() {
            let name = scan.paths().name(step);
            node = match self.child(node, name) {
                Some(c) => {
                    if self.nodes[c as usize].kind != NodeKind::Dir {
                        self.replace(c, NodeKind::Dir, layer);
                    }
                    c
                }
                None => self.add_child(node, name, NodeKind::Dir, layer)?,
            };
            at.remember(step, node);
        }
        Ok(node)
    }

    /// The live node at a scan's path `id`, creating nothing.
    fn find(&self, scan: &LayerScan, id: PathId, at: &mut Resolver) -> Option<u32> {
        let mut node = at.climb(self, scan, id);
        while let Some(step) = at.chain.pop() {
            if self.nodes[node as usize].kind != NodeKind::Dir {
                at.chain.clear();
                return None;
            }
            let Some(c) = self.child(node, scan.paths().name(step)) else {
                at.chain.clear();
                return None;
            };
            node = c;
            at.remember(step, node);
        }
        Some(node)
    }

    fn new_inode(&mut self, size: u64, layer: u16, attrs: Attrs) -> Result<u32, LayerErrorKind> {
        let id = u32::try_from(self.inodes.len())
            .ok()
            .filter(|&id| id != NONE)
            .ok_or_else(|| LayerErrorKind::Limit("more than 4 billion files".into()))?;
        self.inodes.push(Inode {
            size,
            links: 1,
            layer,
            attrs: attrs.fold(),
        });
        Ok(id)
    }

    /// Apply one layer on top of what is there.
    pub fn apply(&mut self, layer: u16, scan: &LayerScan) -> Result<MergeStats, LayerErrorKind> {
        let mut stats = MergeStats::default();
        let mut at = Resolver::default();
        self.apply_deletions(layer, scan, &mut at);
        for e in scan.applied() {
            self.apply_entry(layer, scan, e, &mut at, &mut stats)?;
        }
        Ok(stats)
    }

    /// Whiteouts and opaque markers act on the lower layers only, before this layer's
    /// own entries, wherever they sit in the tar.
    fn apply_deletions(&mut self, layer: u16, scan: &LayerScan, at: &mut Resolver) {
        for e in scan.applied() {
            if !matches!(e.kind, EntryKind::Whiteout | EntryKind::Opaque) {
                continue;
            }
            let Some(id) = self.find(scan, e.path, at) else {
                continue;
            };
            if e.kind == EntryKind::Whiteout && id != ROOT {
                self.remove(id, layer, WasteCause::Deleted);
            } else if e.kind == EntryKind::Opaque && self.nodes[id as usize].kind == NodeKind::Dir {
                self.clear_children(id, layer, WasteCause::OpaqueDir);
            }
        }
    }

    /// Put one entry of the layer in place, and count what it hid of the same layer.
    fn apply_entry(
        &mut self,
        layer: u16,
        scan: &LayerScan,
        e: &Entry,
        at: &mut Resolver,
        stats: &mut MergeStats,
    ) -> Result<(), LayerErrorKind> {
        // The markers did their work; their folders are entries of their own.
        if matches!(e.kind, EntryKind::Whiteout | EntryKind::Opaque) {
            return Ok(());
        }
        if e.path == ROOT_PATH {
            return self.apply_root_entry(layer, e);
        }
        let parent = self.ensure_dir(scan, scan.paths().parent(e.path), layer, at)?;
        let name = scan.paths().name(e.path);
        let existing = self.child(parent, name);
        match e.kind {
            EntryKind::Dir => match existing {
                Some(id) if self.nodes[id as usize].kind == NodeKind::Dir => {}
                Some(id) => self.replace(id, NodeKind::Dir, layer),
                None => {
                    self.add_child(parent, name, NodeKind::Dir, layer)?;
                }
            },
            EntryKind::File => {
                let inode = self.new_inode(e.size, layer, e.attrs)?;
                self.set_file(parent, name, existing, inode, layer)?;
            }
            EntryKind::Hardlink => {
                let target = self.find(scan, e.link, at);
                self.apply_hardlink(layer, target, parent, name, existing, stats)?
            }
            EntryKind::Symlink => {
                self.set_other(parent, name, existing, NodeKind::Symlink, layer)?
            }
            EntryKind::Other => self.set_other(parent, name, existing, NodeKind::Other, layer)?,
            EntryKind::Whiteout | EntryKind::Opaque => {}
        }
        if e.hidden > 0
            && let Some(node) = self.child(parent, name)
        {
            self.hidden_in_layer(node, e.hidden, layer);
        }
        Ok(())
    }

    /// Bytes earlier entries of this layer stored at `node` and the entry there
    /// replaced ([`Entry::hidden`]): shipped here, never visible.
    fn hidden_in_layer(&mut self, node: u32, bytes: u64, layer: u16) {
        self.waste.push(WasteRecord {
            node,
            bytes,
            added_layer: layer,
            removed_layer: layer,
            cause: WasteCause::Overwritten,
            inode: NONE,
        });
    }

    /// The root itself (`./`). A regular file by that name cannot exist: its bytes are
    /// shipped but never visible.
    fn apply_root_entry(&mut self, layer: u16, e: &Entry) -> Result<(), LayerErrorKind> {
        if e.hidden > 0 {
            self.hidden_in_layer(ROOT, e.hidden, layer);
        }
        if e.kind == EntryKind::File && e.size > 0 {
            self.waste.push(WasteRecord {
                node: ROOT,
                bytes: e.size,
                added_layer: layer,
                removed_layer: layer,
                cause: WasteCause::Overwritten,
                inode: NONE,
            });
            let inode = self.new_inode(e.size, layer, Attrs::default())?;
            self.inodes[inode as usize].links = 0;
        }
        Ok(())
    }

    /// A hardlink shares its target's inode; a link to a symlink or device is another
    /// one; a link to nothing is an empty file (and counted as dangling).
    fn apply_hardlink(
        &mut self,
        layer: u16,
        target: Option<u32>,
        parent: u32,
        name: &[u8],
        existing: Option<u32>,
        stats: &mut MergeStats,
    ) -> Result<(), LayerErrorKind> {
        let found = target.map(|id| self.nodes[id as usize]);
        match found {
            Some(t) if t.kind == NodeKind::File && t.inode != NONE => {
                if existing.is_some_and(|id| self.nodes[id as usize].inode == t.inode) {
                    return Ok(());
                }
                self.inodes[t.inode as usize].links += 1;
                self.set_file(parent, name, existing, t.inode, layer)
            }
            Some(t) if t.kind == NodeKind::Symlink || t.kind == NodeKind::Other => {
                self.set_other(parent, name, existing, t.kind, layer)
            }
            _ => {
                stats.dangling_hardlinks += 1;
                let inode = self.new_inode(0, layer, Attrs::default())?;
                self.set_file(parent, name, existing, inode, layer)
            }
        }
    }

    fn set_file(
        &mut self,
        parent: u32,
        name: &[u8],
        existing: Option<u32>,
        inode: u32,
        layer: u16,
    ) -> Result<(), LayerErrorKind> {
        let id = match existing {
            Some(id) => {
                self.replace(id, NodeKind::File, layer);
                id
            }
            None => self.add_child(parent, name, NodeKind::File, layer)?,
        };
        self.nodes[id as usize].inode = inode;
        Ok(())
    }

    fn set_other(
        &mut self,
        parent: u32,
        name: &[u8],
        existing: Option<u32>,
        kind: NodeKind,
        layer: u16,
    ) -> Result<(), LayerErrorKind> {
        match existing {
            Some(id) => self.replace(id, kind, layer),
            None => {
                self.add_child(parent, name, kind, layer)?;
            }
        }
        Ok(())
    }

    /// Visible content bytes by the layer that carries them, for `layers` layers.
    pub fn visible_bytes(&self, layers: usize) -> Vec<u64> {
        let mut out = vec![0; layers];
        for ino in &self.inodes {
            if ino.links > 0
                && let Some(v) = out.get_mut(ino.layer as usize)
            {
                *v += ino.size;
            }
        }
        out
    }

    /// Every live regular file as (node, inode), in arena order. A hardlinked inode
    /// appears once per live name.
    pub fn live_files(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.nodes.iter().enumerate().filter_map(|(id, n)| {
            (n.alive && n.kind == NodeKind::File && n.inode != NONE).then_some((id as u32, n.inode))
        })
    }

    /// Nodes in the arena, live or dead (node ids are below this).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Waste records, in the order the bytes were hidden.
    pub fn waste(&self) -> &[WasteRecord] {
        &self.waste
    }

    pub fn inodes(&self) -> &[Inode] {
        &self.inodes
    }

    pub fn kind(&self, id: u32) -> NodeKind {
        self.nodes[id as usize].kind
    }

    /// Inode of a live regular file.
    pub fn inode(&self, id: u32) -> Option<u32> {
        let n = self.nodes[id as usize];
        (n.inode != NONE).then_some(n.inode)
    }

    pub fn parent(&self, id: u32) -> Option<u32> {
        let p = self.nodes[id as usize].parent;
        (p != NONE).then_some(p)
    }

    /// Live children of a directory, sorted by name.
    pub fn children(&self, id: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut c = self.nodes[id as usize].first_child;
        while c != NONE {
            let n = &self.nodes[c as usize];
            if n.alive {
                out.push(c);
            }
            c = n.next_sibling;
        }
        out.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        out
    }

    /// The ancestor of `id` at `depth` (or `id` itself when shallower).
    pub fn ancestor_at(&self, id: u32, depth: usize) -> u32 {
        let mut own_depth = 0;
        let mut cur = id;
        while let Some(p) = self.parent(cur) {
            own_depth += 1;
            cur = p;
        }
        let mut cur = id;
        for _ in depth..own_depth {
            cur = self.nodes[cur as usize].parent;
        }
        cur
    }

    /// A node's path in normal form (no leading `/`; the root is empty), as tar
    /// entries name it.
    pub fn path_bytes(&self, id: u32) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut cur = id;
        while let Some(p) = self.parent(cur) {
            parts.push(cur);
            cur = p;
        }
        let mut out = Vec::new();
        for &n in parts.iter().rev() {
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(self.name(n));
        }
        out
    }

    /// Files a later layer re-added at the same path with the same size and another
    /// mode or owner (a `chmod -R` or `chown -R` layer does that), whether the re-added
    /// copy is still visible or was itself hidden later (a `chmod -R` over a `.git`
    /// that a later RUN deletes). Only their content can tell whether the bytes are the
    /// same; the caller hashes them.
    pub fn same_size_readds(&self) -> Vec<SameSize> {
        let mut out = Vec::new();
        // Lower copies whose re-added copy is hidden too, by (node, layer that wrote
        // the re-added copy): looked up among the waste records only when there are any.
        let mut pending: HashMap<(u32, u16), Vec<u32>> = HashMap::default();
        for (i, w) in self.waste.iter().enumerate() {
            if w.cause != WasteCause::Overwritten || w.bytes == 0 || w.node == ROOT {
                continue;
            }
            if w.removed_layer <= w.added_layer {
                continue;
            }
            let n = self.nodes[w.node as usize];
            let live = (n.alive && n.kind == NodeKind::File && n.inode != NONE)
                .then_some(n.inode)
                .filter(|&ino| self.inodes[ino as usize].layer == w.removed_layer);
            match live {
                Some(ino) => self.push_same_size(i as u32, ino, None, &mut out),
                None => pending
                    .entry((w.node, w.removed_layer))
                    .or_default()
                    .push(i as u32),
            }
        }
        if pending.is_empty() {
            return out;
        }
        // The last hidden copy each (node, layer) wrote, as the merge left it.
        let mut upper: HashMap<(u32, u16), u32> = HashMap::default();
        for (j, w) in self.waste.iter().enumerate() {
            let key = (w.node, w.added_layer);
            if w.node != ROOT && w.bytes > 0 && pending.contains_key(&key) {
                upper.insert(key, j as u32);
            }
        }
        for (key, lowers) in pending {
            if let Some(&j) = upper.get(&key) {
                for i in lowers {
                    self.push_same_size(i, self.waste[j as usize].inode, Some(j), &mut out);
                }
            }
        }
        out.sort_unstable_by_key(|c| c.waste);
        out
    }

    /// Keep the lower copy of waste record `lower` and the upper copy in `upper` (an
    /// inode) when they have the same size and other attributes.
    fn push_same_size(
        &self,
        lower: u32,
        upper: u32,
        upper_waste: Option<u32>,
        out: &mut Vec<SameSize>,
    ) {
        let w = self.waste[lower as usize];
        let (Some(new), Some(old)) = (
            self.inodes.get(upper as usize),
            self.inodes.get(w.inode as usize),
        ) else {
            return;
        };
        if old.attrs != new.attrs && new.size == w.bytes {
            out.push(SameSize {
                waste: lower,
                node: w.node,
                upper_waste,
            });
        }
    }

    /// Absolute path of a node, `/` for the root. Non-UTF-8 bytes are replaced.
    pub fn path(&self, id: u32) -> String {
        format!("/{}", String::from_utf8_lossy(&self.path_bytes(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer from (kind, path, hardlink target, size) rows.
    fn layer(rows: &[(EntryKind, &str, &str, u64)]) -> LayerScan {
        let mut s = LayerScan::default();
        for &(kind, path, link, size) in rows {
            let link = (kind == EntryKind::Hardlink).then_some(link.as_bytes());
            s.push(kind, path.as_bytes(), link, size).expect("push");
        }
        s
    }

    use EntryKind::{Dir, File, Hardlink, Opaque, Whiteout};

    fn visible(t: &FsTree, path: &str) -> bool {
        t.lookup(path.as_bytes()).is_some()
    }

    fn waste(t: &FsTree) -> Vec<(String, u64, u16, u16, WasteCause)> {
        t.waste()
            .iter()
            .map(|w| {
                (
                    t.path(w.node),
                    w.bytes,
                    w.added_layer,
                    w.removed_layer,
                    w.cause,
                )
            })
            .collect()
    }

    #[test]
    fn a_whiteout_deletes_a_lower_subtree_before_the_layer_adds_its_own() {
        let mut t = FsTree::new();
        let base = layer(&[
            (Dir, "opt", "", 0),
            (File, "opt/a", "", 10),
            (File, "opt/sub/b", "", 20),
        ]);
        t.apply(0, &base).expect("base");
        // The marker sits after the new file in the tar; it still acts first, and only
        // on the lower layer.
        let top = layer(&[(File, "opt/new", "", 5), (Whiteout, "opt", "", 0)]);
        t.apply(1, &top).expect("top");
        assert!(visible(&t, "opt/new"));
        assert!(!visible(&t, "opt/a") && !visible(&t, "opt/sub/b"));
        let mut w = waste(&t);
        w.sort();
        assert_eq!(
            w,
            vec![
                ("/opt/a".to_string(), 10, 0, 1, WasteCause::Deleted),
                ("/opt/sub/b".to_string(), 20, 0, 1, WasteCause::Deleted),
            ]
        );
        assert_eq!(t.visible_bytes(2), vec![0, 5]);
    }

    #[test]
    fn an_opaque_directory_hides_lower_contents_only() {
        let mut t = FsTree::new();
        t.apply(0, &layer(&[(File, "etc/x", "", 7)])).expect("base");
        let top = layer(&[(File, "etc/y", "", 3), (Opaque, "etc", "", 0)]);
        t.apply(1, &top).expect("top");
        assert!(visible(&t, "etc/y") && !visible(&t, "etc/x"));
        assert_eq!(
            waste(&t),
            vec![("/etc/x".to_string(), 7, 0, 1, WasteCause::OpaqueDir)]
        );
    }

    #[test]
    fn hardlinked_content_stays_while_a_name_survives() {
        let mut t = FsTree::new();
        let base = layer(&[(File, "bin/a", "", 100), (Hardlink, "bin/b", "bin/a", 0)]);
        t.apply(0, &base).expect("base");
        t.apply(1, &layer(&[(Whiteout, "bin/a", "", 0)]))
            .expect("rm a");
        assert!(waste(&t).is_empty(), "bin/b still holds the bytes");
        assert_eq!(t.visible_bytes(2), vec![100, 0]);
        t.apply(2, &layer(&[(Whiteout, "bin/b", "", 0)]))
            .expect("rm b");
        assert_eq!(
            waste(&t),
            vec![("/bin/b".to_string(), 100, 0, 2, WasteCause::Deleted)]
        );
    }

    #[test]
    fn a_file_replacing_a_directory_overwrites_its_subtree() {
        let mut t = FsTree::new();
        t.apply(0, &layer(&[(File, "srv/data/f", "", 4)]))
            .expect("base");
        t.apply(1, &layer(&[(File, "srv/data", "", 1)]))
            .expect("top");
        assert_eq!(t.kind(t.lookup(b"srv/data").expect("live")), NodeKind::File);
        assert_eq!(
            waste(&t),
            vec![("/srv/data/f".to_string(), 4, 0, 1, WasteCause::Overwritten)]
        );
    }
}
