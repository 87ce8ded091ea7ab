//! A layer scan's paths, interned: one node per distinct path, holding its parent's
//! node and its last component. A folder that many entries name costs its bytes once,
//! and a path named again is found, not stored again, so a scan grows with the distinct
//! paths of its layer, not with its entries or their lengths.
//!
//! While a layer is walked a hash table finds a (parent, name) node, and the ids of the
//! last parent folder's components are kept: the next entry usually lives in the same
//! folder, or shares most of it, and its shared prefix costs one comparison. Both go
//! when the walk [finishes](ScanPaths::finish).

use std::hash::{BuildHasher, Hash, Hasher as _};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::path::{components, split_parent};
use crate::error::LayerErrorKind;

/// A path of a scan: an index into its [`ScanPaths`].
pub type PathId = u32;
/// The root (the empty path).
pub const ROOT_PATH: PathId = 0;
/// No path (an entry without a hardlink target).
pub const NO_PATH: PathId = u32::MAX;

/// How far one layer's scan may grow ([`ScanPaths`]): past either bound the layer is
/// refused, with the limit and the flag that raises it named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    /// Distinct paths (files, folders and hardlink targets) in one layer.
    pub paths: u64,
    /// Bytes of distinct path components in one layer.
    pub name_bytes: u64,
}

impl ScanLimits {
    /// 4,000,000 paths: eight times the largest layers seen (half a million files of a
    /// monorepo's `node_modules`), about 240 MB of scan at the limit.
    pub const DEFAULT_PATHS: u64 = 4_000_000;
    /// 256 MiB of components: 64 bytes for each of the default paths.
    pub const DEFAULT_NAME_BYTES: u64 = 256 << 20;
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            paths: Self::DEFAULT_PATHS,
            name_bytes: Self::DEFAULT_NAME_BYTES,
        }
    }
}

/// One interned path: its parent and the span of its last component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    parent: PathId,
    off: u32,
    len: u16,
}

/// A hash-table slot: the node and 32 bits of its (parent, name) hash.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: PathId,
    hash: u32,
}

/// The interned paths of one layer scan.
#[derive(Clone)]
pub struct ScanPaths {
    nodes: Vec<Node>,
    names: Vec<u8>,
    limits: ScanLimits,
    /// (parent, name) to node, while walking.
    table: HashTable<Slot>,
    /// The last parent folder interned, and the node ending at each of its components
    /// (byte offset of the component's end, node), while walking.
    last: Vec<u8>,
    last_ids: Vec<(usize, PathId)>,
}

impl Default for ScanPaths {
    fn default() -> Self {
        Self::new(ScanLimits::default())
    }
}

impl PartialEq for ScanPaths {
    /// Equal when they hold the same paths under the same ids.
    fn eq(&self, other: &Self) -> bool {
        self.nodes.len() == other.nodes.len()
            && (0..self.nodes.len() as PathId)
                .all(|id| self.parent(id) == other.parent(id) && self.name(id) == other.name(id))
    }
}

impl Eq for ScanPaths {}

impl std::fmt::Debug for ScanPaths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanPaths")
            .field("paths", &self.nodes.len())
            .field("name_bytes", &self.names.len())
            .finish()
    }
}

/// Refuse a new path past the limits (never past what a `u32` id and offset hold):
/// `paths` paths are there, and the names would take `name_bytes`.
fn check_room(limits: ScanLimits, paths: usize, name_bytes: usize) -> Result<(), LayerErrorKind> {
    if paths as u64 >= limits.paths.min(u64::from(u32::MAX - 1)) {
        return Err(LayerErrorKind::Limit(format!(
            "more than {} distinct paths in one layer (the layer path limit)",
            limits.paths
        )));
    }
    if name_bytes as u64 > limits.name_bytes.min(u64::from(u32::MAX)) {
        return Err(LayerErrorKind::Limit(format!(
            "more than {} of distinct path names in one layer (the layer name limit)",
            mib(limits.name_bytes)
        )));
    }
    Ok(())
}

/// A limit in bytes as people write it: whole MiB when it is, else bytes.
fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Widen a 32-bit hash so that hashbrown's control bits (the top 7) are well mixed.
pub(super) fn spread(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// 32 bits of the hash of a (parent, name) pair: the key of the scan's and the tree's
/// tables.
pub(super) fn hash(parent: u32, name: &[u8]) -> u32 {
    let mut h = FxBuildHasher.build_hasher();
    parent.hash(&mut h);
    name.hash(&mut h);
    let h = h.finish();
    (h ^ (h >> 32)) as u32
}

impl ScanPaths {
    /// Only the root, with these limits.
    pub fn new(limits: ScanLimits) -> Self {
        ScanPaths {
            nodes: vec![Node {
                parent: NO_PATH,
                off: 0,
                len: 0,
            }],
            names: Vec::new(),
            limits,
            table: HashTable::new(),
            last: Vec::new(),
            last_ids: Vec::new(),
        }
    }

    /// How many paths, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Only the root.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// The limits the paths keep to.
    pub fn limits(&self) -> ScanLimits {
        self.limits
    }

    /// Bytes of the distinct components.
    pub fn name_bytes(&self) -> usize {
        self.names.len()
    }

    /// A path's last component (empty for the root).
    pub fn name(&self, id: PathId) -> &[u8] {
        let n = self.nodes[id as usize];
        &self.names[n.off as usize..n.off as usize + usize::from(n.len)]
    }

    /// A path's parent; [`NO_PATH`] for the root.
    pub fn parent(&self, id: PathId) -> PathId {
        self.nodes[id as usize].parent
    }

    /// A path in normal form (no leading `/`; the root is empty), into `out`.
    pub fn write(&self, id: PathId, out: &mut Vec<u8>) {
        out.clear();
        let mut len = 0;
        let mut cur = id;
        while cur != ROOT_PATH && cur != NO_PATH {
            len += self.name(cur).len() + 1;
            cur = self.parent(cur);
        }
        if len == 0 {
            return;
        }
        out.resize(len - 1, 0);
        // Fill from the end: the last component first.
        let mut end = out.len();
        let mut cur = id;
        loop {
            let name = self.name(cur);
            let start = end - name.len();
            out[start..end].copy_from_slice(name);
            cur = self.parent(cur);
            if cur == ROOT_PATH || cur == NO_PATH {
                return;
            }
            out[start - 1] = b'/';
            end = start - 1;
        }
    }

    /// A path in normal form.
    pub fn bytes(&self, id: PathId) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(id, &mut out);
        out
    }

    /// The id of a normalised path, interning it and its folders when new.
    pub fn intern(&mut self, path: &[u8]) -> Result<PathId, LayerErrorKind> {
        if path.is_empty() {
            return Ok(ROOT_PATH);
        }
        let (parent, name) = split_parent(path);
        let dir = self.folder(parent)?;
        self.child(dir, name)
    }

    /// The id of a folder path, reusing the ids of what it shares with the last one.
    fn folder(&mut self, path: &[u8]) -> Result<PathId, LayerErrorKind> {
        if path == self.last.as_slice() {
            return Ok(self.last_ids.last().map_or(ROOT_PATH, |&(_, id)| id));
        }
        let common = path
            .iter()
            .zip(&self.last)
            .position(|(a, b)| a != b)
            .unwrap_or(path.len().min(self.last.len()));
        // Keep the components that end inside the shared prefix, at a boundary of both.
        let boundary = |end: usize| end == path.len() || path.get(end) == Some(&b'/');
        while let Some(&(end, _)) = self.last_ids.last() {
            if end <= common && boundary(end) {
                break;
            }
            self.last_ids.pop();
        }
        let (start, mut id) = match self.last_ids.last() {
            Some(&(end, id)) => (end + 1, id),
            None => (0, ROOT_PATH),
        };
        if start <= path.len() && !path.is_empty() {
            for (end, name) in components(&path[start..]) {
                id = self.child(id, name)?;
                self.last_ids.push((start + end, id));
            }
        }
        self.last.clear();
        self.last.extend_from_slice(path);
        Ok(id)
    }

    /// The node `name` under `parent`, added when new.
    fn child(&mut self, parent: PathId, name: &[u8]) -> Result<PathId, LayerErrorKind> {
        let h = hash(parent, name);
        let (nodes, names) = (&self.nodes, &self.names);
        let entry = self.table.entry(
            spread(h),
            |slot| {
                let n = nodes[slot.id as usize];
                slot.hash == h
                    && n.parent == parent
                    && &names[n.off as usize..n.off as usize + usize::from(n.len)] == name
            },
            |slot| spread(slot.hash),
        );
        let vacant = match entry {
            hashbrown::hash_table::Entry::Occupied(found) => return Ok(found.get().id),
            hashbrown::hash_table::Entry::Vacant(vacant) => vacant,
        };
        check_room(self.limits, self.nodes.len(), self.names.len() + name.len())?;
        let len = u16::try_from(name.len()).map_err(|_| {
            LayerErrorKind::Limit("a path component is longer than 65535 bytes".into())
        })?;
        let id = self.nodes.len() as PathId;
        vacant.insert(Slot { id, hash: h });
        self.nodes.push(Node {
            parent,
            off: self.names.len() as u32,
            len,
        });
        self.names.extend_from_slice(name);
        Ok(id)
    }

    /// Drop what only the walk needs (the hash table, the last folder).
    pub fn finish(&mut self) {
        self.table = HashTable::new();
        self.last = Vec::new();
        self.last_ids = Vec::new();
        self.nodes.shrink_to_fit();
        self.names.shrink_to_fit();
    }

    /// Every path as (parent, name), in id order: the encoded form.
    pub fn parts(&self) -> impl Iterator<Item = (PathId, &[u8])> + '_ {
        (1..self.nodes.len() as PathId).map(|id| (self.parent(id), self.name(id)))
    }

    /// Paths from [`ScanPaths::parts`]: each parent must come before its child. `None`
    /// for anything else (a decoder's damaged input).
    pub fn from_parts<'a>(parts: impl IntoIterator<Item = (PathId, &'a [u8])>) -> Option<Self> {
        let mut paths = ScanPaths::new(ScanLimits {
            paths: u64::MAX,
            name_bytes: u64::MAX,
        });
        for (parent, name) in parts {
            if parent as usize >= paths.nodes.len() || name.is_empty() {
                return None;
            }
            let off = u32::try_from(paths.names.len()).ok()?;
            let len = u16::try_from(name.len()).ok()?;
            if paths.nodes.len() >= u32::MAX as usize - 1 {
                return None;
            }
            paths.nodes.push(Node { parent, off, len });
            paths.names.extend_from_slice(name);
        }
        paths.finish();
        Some(paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_interned_once_with_their_folders() {
        let mut p = ScanPaths::default();
        let a = p.intern(b"usr/lib/x").expect("intern");
        let b = p.intern(b"usr/lib/y").expect("intern");
        let c = p.intern(b"usr/lib/x").expect("intern");
        let d = p.intern(b"usr/share/doc/z").expect("intern");
        let e = p.intern(b"usr/lib").expect("intern");
        assert_eq!(a, c, "named again: found");
        assert_ne!(a, b);
        assert_eq!(p.parent(a), p.parent(b));
        assert_eq!(p.parent(a), e, "the folder is the path usr/lib");
        // root, usr, lib, x, y, share, doc, z
        assert_eq!(p.len(), 8);
        assert_eq!(p.name_bytes(), "usrlibxysharedocz".len());
        assert_eq!(p.bytes(d), b"usr/share/doc/z");
        assert_eq!(p.bytes(ROOT_PATH), b"");
        assert_eq!(p.intern(b"").expect("root"), ROOT_PATH);
    }

    #[test]
    fn shared_prefixes_stop_at_component_boundaries() {
        let mut p = ScanPaths::default();
        let x = p.intern(b"ab/cd/f").expect("intern");
        // "ab/c" shares the bytes "ab/c" with "ab/cd" but not the folder.
        let y = p.intern(b"ab/c/f").expect("intern");
        let z = p.intern(b"abc/f").expect("intern");
        let w = p.intern(b"ab/cd/g").expect("intern");
        assert_eq!(p.bytes(x), b"ab/cd/f");
        assert_eq!(p.bytes(y), b"ab/c/f");
        assert_eq!(p.bytes(z), b"abc/f");
        assert_eq!(p.bytes(w), b"ab/cd/g");
        assert_eq!(p.parent(w), p.parent(x));
        assert_ne!(p.parent(y), p.parent(x));
    }

    #[test]
    fn a_long_path_named_again_costs_nothing_more() {
        let mut p = ScanPaths::default();
        let long: Vec<u8> = vec![b"d".repeat(59); 999].join(&b'/');
        for i in 0..100 {
            let mut path = long.clone();
            path.extend_from_slice(format!("/f{i}").as_bytes());
            p.intern(&path).expect("intern");
        }
        assert_eq!(p.len(), 1 + 999 + 100);
        assert!(p.name_bytes() < 999 * 59 + 100 * 3, "{}", p.name_bytes());
    }

    #[test]
    fn limits_name_what_they_refuse() {
        let mut p = ScanPaths::new(ScanLimits {
            paths: 3,
            name_bytes: 1 << 20,
        });
        p.intern(b"a/b").expect("root, a, b");
        let err = p.intern(b"a/c").expect_err("a fourth path");
        assert_eq!(
            err.to_string(),
            "more than 3 distinct paths in one layer (the layer path limit)"
        );
        let mut p = ScanPaths::new(ScanLimits {
            paths: 100,
            name_bytes: 4,
        });
        p.intern(b"ab/cd").expect("four bytes");
        let err = p.intern(b"ab/e").expect_err("a fifth byte");
        assert!(
            err.to_string()
                .contains("more than 4 bytes of distinct path names"),
            "{err}"
        );
    }

    #[test]
    fn parts_round_trip_and_damage_is_refused() {
        let mut p = ScanPaths::default();
        for path in [&b"a/b/c"[..], b"a/d", b"e"] {
            p.intern(path).expect("intern");
        }
        let back = ScanPaths::from_parts(p.parts()).expect("valid");
        assert_eq!(back, p);
        assert!(
            ScanPaths::from_parts([(5, &b"x"[..])]).is_none(),
            "parent after child"
        );
        assert!(
            ScanPaths::from_parts([(0, &b""[..])]).is_none(),
            "empty name"
        );
    }
}
