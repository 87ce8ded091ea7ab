//! `imgsize explain IMAGE PATH`: the history of one path or folder across the layers:
//! which layer added it, overwrote it, re-added it with another mode or owner (a
//! `chmod -R`), or deleted it, with the bytes each step shipped or hid.
//!
//! Input: the entries the walk kept for the path (at, under and above it, with their
//! tar metadata; [`crate::model::WatchedEntry`]), replayed in layer order with the merge
//! rules, and the final tree for what is visible now.

use std::collections::{BTreeMap, HashMap};

use super::layers::LayerRow;
use crate::model::path::{normalize, within};
use crate::model::tree::NodeKind;
use crate::model::{Analysis, EntryKind, FsTree, WatchedEntry};

/// Files and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

/// What one layer did at or under the path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerChange {
    pub layer: usize,
    pub instruction: Option<String>,
    pub base: bool,
    /// Files new at their path.
    pub added: Tally,
    /// Files put where a file of the same size was (a `chmod -R` or `chown -R`, or an
    /// unchanged copy).
    pub readded: Tally,
    /// Files put where a file of another size was: the bytes are the new copies'.
    pub replaced: Tally,
    /// Lower copies this layer hid (overwritten, deleted, hidden by an opaque
    /// directory or by a file replacing a directory).
    pub hidden: Tally,
    /// Directories new at their path.
    pub dirs_added: u64,
    /// Entries whose mode or owner differ from the copy below, by change
    /// (`0644 0:0 -> 0755 0:0`), most frequent first.
    pub attrs: Vec<(String, u64)>,
}

/// What is at the path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Now {
    Missing,
    File { bytes: u64, layer: usize },
    Dir { files: u64, bytes: u64 },
    Other,
}

/// The history of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The path as asked, normalised, with a leading `/`.
    pub path: String,
    pub now: Now,
    /// Layers that did something at or under the path, in order.
    pub layers: Vec<LayerChange>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    kind: EntryKind,
    size: u64,
    mode: u32,
    uid: u64,
    gid: u64,
}

fn attrs(s: &State) -> String {
    format!("{:04o} {}:{}", s.mode & 0o7777, s.uid, s.gid)
}

/// The replay of the watched entries.
struct Replay<'a> {
    watched: &'a [u8],
    state: HashMap<Vec<u8>, State>,
}

impl Replay<'_> {
    /// Hide everything under `root`, and `root` itself unless `keep_root` (an opaque
    /// directory keeps itself), counting what was within the watched path.
    fn hide(&mut self, root: &[u8], keep_root: bool, change: &mut LayerChange) {
        let watched = self.watched;
        self.state.retain(|k, s| {
            let gone = within(k, root) && !(keep_root && k == root);
            if gone && within(k, watched) && s.kind == EntryKind::File {
                change.hidden.add(s.size);
            }
            !gone
        });
    }

    fn layer(&mut self, entries: &[&WatchedEntry], change: &mut LayerChange) {
        let mut attr_changes: BTreeMap<String, u64> = BTreeMap::new();
        for e in entries {
            match e.kind {
                EntryKind::Whiteout => self.hide(&e.path, false, change),
                EntryKind::Opaque => self.hide(&e.path, true, change),
                _ => {}
            }
        }
        for e in entries {
            if matches!(e.kind, EntryKind::Whiteout | EntryKind::Opaque) {
                continue;
            }
            let new = State {
                kind: e.kind,
                size: e.size,
                mode: e.mode,
                uid: e.uid,
                gid: e.gid,
            };
            let old = self.state.get(&e.path).copied();
            let mine = within(&e.path, self.watched);
            if let Some(old) = old
                && (old.kind == EntryKind::Dir) != (e.kind == EntryKind::Dir)
            {
                self.hide(&e.path, false, change);
            } else if let Some(old) = old
                && mine
                && old.kind == EntryKind::File
                && e.kind == EntryKind::File
            {
                change.hidden.add(old.size);
            }
            if mine {
                let old = old.filter(|o| (o.kind == EntryKind::Dir) == (e.kind == EntryKind::Dir));
                match (e.kind, old) {
                    (EntryKind::Dir, None) => change.dirs_added += 1,
                    (EntryKind::Dir, Some(_)) => {}
                    (_, None) => change.added.add(e.size),
                    (_, Some(o)) if o.size == e.size => change.readded.add(e.size),
                    (_, Some(_)) => change.replaced.add(e.size),
                }
                if let Some(o) = old
                    && (o.mode & 0o7777, o.uid, o.gid) != (e.mode & 0o7777, e.uid, e.gid)
                {
                    *attr_changes
                        .entry(format!("{} -> {}", attrs(&o), attrs(&new)))
                        .or_default() += 1;
                }
            }
            self.state.insert(e.path.clone(), new);
        }
        let mut list: Vec<(String, u64)> = attr_changes.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        change.attrs = list;
    }
}

/// What the final tree holds at a normalised path.
fn now(tree: &FsTree, path: &[u8]) -> Now {
    let Some(node) = tree.lookup(path) else {
        return Now::Missing;
    };
    match tree.kind(node) {
        NodeKind::File => {
            let ino = tree.inode(node).map(|i| tree.inodes()[i as usize]);
            Now::File {
                bytes: ino.map_or(0, |i| i.size),
                layer: ino.map_or(0, |i| usize::from(i.layer)),
            }
        }
        NodeKind::Dir => {
            let mut seen = std::collections::HashSet::new();
            let (mut files, mut bytes) = (0, 0);
            let mut stack = vec![node];
            while let Some(n) = stack.pop() {
                for c in tree.children(n) {
                    match tree.kind(c) {
                        NodeKind::Dir => stack.push(c),
                        NodeKind::File => {
                            files += 1;
                            if let Some(i) = tree.inode(c)
                                && seen.insert(i)
                            {
                                bytes += tree.inodes()[i as usize].size;
                            }
                        }
                        _ => {}
                    }
                }
            }
            Now::Dir { files, bytes }
        }
        _ => Now::Other,
    }
}

/// The path as the walk's watch wants it: normalised, no leading `/`.
pub fn watch_path(path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    normalize(path.as_bytes(), &mut out);
    out
}

/// Explain `path` from the entries the walk kept for it.
pub fn explain(a: &Analysis, layers: &[LayerRow], path: &str) -> Explanation {
    let watched = watch_path(path);
    let mut by_layer: BTreeMap<usize, Vec<&WatchedEntry>> = BTreeMap::new();
    for e in &a.watched {
        by_layer.entry(e.layer).or_default().push(e);
    }
    let mut replay = Replay {
        watched: &watched,
        state: HashMap::new(),
    };
    let mut out = Vec::new();
    for (layer, entries) in by_layer {
        let row = layers.get(layer);
        let mut change = LayerChange {
            layer,
            instruction: row.and_then(|r| r.instruction.clone()),
            base: row.is_some_and(|r| r.base),
            ..LayerChange::default()
        };
        replay.layer(&entries, &mut change);
        let did = change.added.files
            + change.readded.files
            + change.replaced.files
            + change.hidden.files
            + change.dirs_added
            + change.attrs.len() as u64;
        if did > 0 {
            out.push(change);
        }
    }
    Explanation {
        path: format!("/{}", String::from_utf8_lossy(&watched)),
        now: now(&a.tree, &watched),
        layers: out,
    }
}
