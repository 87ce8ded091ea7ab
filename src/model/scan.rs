//! What the walker makes of one layer blob: compact per-entry records (32 bytes each,
//! their paths interned in [`ScanPaths`]) and the layer's figures. The tree merges
//! scans; nothing here reads bytes. A scan also has one binary form
//! ([`LayerScan::encode`], [`LayerScan::decode`]) for the layer cache to keep, in
//! [`super::scan_codec`].
//!
//! A scan grows with the distinct paths of its layer, not with its entries: a later
//! entry of a path replaces the earlier one of the same layer (whose bytes it keeps as
//! [`Entry::hidden`]), unless a hardlink or a watch still needs the earlier one, and a
//! repeated whiteout or opaque marker is kept once. A marker's folder is kept as a
//! folder entry of its own, where the marker stood, so the merge needs no marker twice.

pub use super::scan_paths::{NO_PATH, PathId, ROOT_PATH, ScanLimits, ScanPaths};
use crate::bytes::Compression;
use crate::error::LayerErrorKind;

/// What a tar entry is, after whiteout markers are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    /// `.wh.NAME`: the entry's path is the deleted `NAME`.
    Whiteout,
    /// `.wh..wh..opq`: the entry's path is the opaque directory.
    Opaque,
    /// Devices, FIFOs, sockets.
    Other,
}

impl EntryKind {
    /// A stable one-byte code for [`LayerScan::encode`]; never renumbered.
    pub fn code(self) -> u8 {
        match self {
            EntryKind::File => 0,
            EntryKind::Dir => 1,
            EntryKind::Symlink => 2,
            EntryKind::Hardlink => 3,
            EntryKind::Whiteout => 4,
            EntryKind::Opaque => 5,
            EntryKind::Other => 6,
        }
    }

    /// The kind a [`EntryKind::code`] stands for; `None` for any other byte.
    pub fn from_code(code: u8) -> Option<EntryKind> {
        Some(match code {
            0 => EntryKind::File,
            1 => EntryKind::Dir,
            2 => EntryKind::Symlink,
            3 => EntryKind::Hardlink,
            4 => EntryKind::Whiteout,
            5 => EntryKind::Opaque,
            6 => EntryKind::Other,
            _ => return None,
        })
    }
}

/// One tar entry, compactly: its path, kind, stored size and hardlink target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The normalised path ([`LayerScan::path`]).
    pub path: PathId,
    /// Hardlink target (normalised); [`NO_PATH`] for other kinds.
    pub link: PathId,
    /// Content bytes stored in the tar (0 for everything but regular files).
    pub size: u64,
    /// Bytes of the earlier entries at this path in this layer that this one replaced:
    /// stored in the layer, never visible (the merge counts them overwritten here).
    pub hidden: u64,
    /// Mode and owner ([`Attrs`]).
    pub attrs: Attrs,
    pub kind: EntryKind,
}

/// An entry's mode and owner, as a 32-bit fingerprint of the header fields that hold
/// them: equal attributes give equal fingerprints (a builder writes the same value the
/// same way), and a changed mode or owner almost always changes it. Only equality is
/// ever asked, so nothing is parsed on the hot path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attrs(pub u32);

impl Attrs {
    /// From the raw `mode`, `uid` and `gid` fields of a tar header (bytes 100..124).
    pub fn of_fields(raw: &[u8]) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for chunk in raw.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x0000_0100_0000_01b3);
            h ^= h >> 29;
        }
        Attrs((h ^ (h >> 32)) as u32)
    }

    /// The fingerprint in 16 bits, for the tree's inodes.
    pub fn fold(self) -> u16 {
        (self.0.wrapping_mul(0x9E37_79B1) >> 16) as u16
    }
}

/// How many entries of each kind a layer's tar holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryCounts {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    pub whiteouts: u64,
    pub opaques: u64,
    /// Devices, FIFOs, sockets.
    pub others: u64,
}

impl EntryCounts {
    /// Count one entry of `kind`.
    pub fn add(&mut self, kind: EntryKind) {
        let n = match kind {
            EntryKind::File => &mut self.files,
            EntryKind::Dir => &mut self.dirs,
            EntryKind::Symlink => &mut self.symlinks,
            EntryKind::Hardlink => &mut self.hardlinks,
            EntryKind::Whiteout => &mut self.whiteouts,
            EntryKind::Opaque => &mut self.opaques,
            EntryKind::Other => &mut self.others,
        };
        *n += 1;
    }
}

/// The figures of one layer: what the walk counted, then what merging added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerFigures {
    /// `None` until the blob was read.
    pub compression: Option<Compression>,
    /// Stored (compressed) blob size.
    pub compressed_bytes: u64,
    /// Decompressed tar length.
    pub uncompressed_bytes: u64,
    /// Regular-file content in this layer's tar.
    pub added_bytes: u64,
    /// Of `added_bytes`, what is visible in the final filesystem (set after merging).
    pub content_bytes: u64,
    pub counts: EntryCounts,
    /// Entries recorded (tar members less PAX/GNU metadata and AUFS bookkeeping).
    pub entries: u64,
    /// Entries whose names hold `..` (resolved lexically, never above the root).
    pub clamped_paths: u64,
    /// Hardlinks whose target did not exist (set when merging).
    pub dangling_hardlinks: u64,
    /// Sparse files: apparent size minus stored size.
    pub sparse_extra_bytes: u64,
}

/// An entry's metadata kept for `imgsize explain`: only for the entries at, under or
/// above the path asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watched {
    /// Index into the scan's entries.
    pub entry: u32,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

/// Whose toolchain built an ELF file, as its sections tell (the words of a `strip`
/// fix differ: a linker flag, Go's `-ldflags`, Cargo's profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Toolchain {
    /// C, C++ and anything else a GNU-style linker made.
    Native,
    Go,
    Rust,
}

impl Toolchain {
    /// A stable one-byte code for [`LayerScan::encode`]; never renumbered.
    pub fn code(self) -> u8 {
        match self {
            Toolchain::Native => 0,
            Toolchain::Go => 1,
            Toolchain::Rust => 2,
        }
    }

    /// The toolchain a [`Toolchain::code`] stands for; `None` for any other byte.
    pub fn from_code(code: u8) -> Option<Toolchain> {
        Some(match code {
            0 => Toolchain::Native,
            1 => Toolchain::Go,
            2 => Toolchain::Rust,
            _ => return None,
        })
    }
}

/// An ELF executable or shared library of the layer with a symbol table or debugging
/// sections: what `strip` would save on it, read from its section headers in the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unstripped {
    /// Index into the scan's entries.
    pub entry: u32,
    /// The file's size less its size after `strip` (`--strip-all`).
    pub saving: u64,
    pub toolchain: Toolchain,
}

/// The smallest file checked for a duplicate of its content at another path: below
/// it, a link or a shared copy saves little next to what a tar header and a
/// filesystem block take anyway.
pub const DUPLICATE_MIN_BYTES: u64 = 4096;

/// The result of walking one layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerScan {
    pub figures: LayerFigures,
    /// Digest of the stored blob, when it was hashed.
    pub blob_digest: Option<String>,
    /// Digest of the decompressed stream (the diff_id), when it was hashed.
    pub diff_digest: Option<String>,
    /// The entries the merge applies, in tar order (replaced ones left out).
    pub entries: Vec<Entry>,
    pub(super) paths: ScanPaths,
    /// Contents captured for analyses (entry index, bytes).
    pub captured: Vec<(u32, Vec<u8>)>,
    /// SHA-256 of the contents a hash selector asked for (entry index, digest).
    pub hashed: Vec<(u32, [u8; 32])>,
    /// Metadata of the entries a watch selected.
    pub watched: Vec<Watched>,
    /// ELF files `strip` would shrink, when the walk was asked to read them.
    pub unstripped: Vec<Unstripped>,
    /// A fingerprint of the first bytes of each file of [`DUPLICATE_MIN_BYTES`] or
    /// more (entry index, fingerprint), read with the ELF headers: same-size files
    /// with other first bytes are not duplicates.
    pub heads: Vec<(u32, u64)>,
    /// While walking: which entries replaced ones are, and each path's live entry.
    pub(super) replacing: Replacing,
}

/// No entry.
const NO_ENTRY: u32 = u32::MAX;
/// The live entry of a path may not be left out: a watch recorded it.
const PINNED: u8 = 1;
/// A whiteout of the path was kept.
const WHITEOUT_SEEN: u8 = 2;
/// An opaque marker of the path was kept.
const OPAQUE_SEEN: u8 = 4;
/// Left-out entries are dropped from the list once they are this many and half of it.
const COMPACT_AT: usize = 4096;

/// What the walk knows of one path's entries.
#[derive(Debug, Clone, Copy)]
struct PathState {
    /// The index of its live (not marker) entry, or [`NO_ENTRY`].
    live: u32,
    /// A non-folder entry a folder followed, kept until a non-folder comes, or
    /// [`NO_ENTRY`].
    anchor: u32,
    /// [`PINNED`], [`WHITEOUT_SEEN`], [`OPAQUE_SEEN`].
    flags: u8,
}

const NEW_PATH: PathState = PathState {
    live: NO_ENTRY,
    anchor: NO_ENTRY,
    flags: 0,
};

/// The walk's bookkeeping for replacing entries; empty once the scan is finished.
/// Not part of a scan's value: two scans are equal without it.
#[derive(Debug, Clone, Default)]
pub(super) struct Replacing {
    /// Per path.
    paths: Vec<PathState>,
    /// Per entry, a bit: replaced by a later one.
    gone: Vec<u64>,
    gone_count: usize,
    /// Leave nothing out ([`LayerScan::keeping_every_entry`]).
    keep_all: bool,
    /// One past the last hardlink entry: a hardlink sees the tree as the entries
    /// before it left it, so none of them (nor the hardlink) is left out.
    barrier: usize,
}

impl PartialEq for Replacing {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Replacing {}

impl Replacing {
    /// The state of a path, made when the path is new.
    fn slot(&mut self, path: PathId) -> &mut PathState {
        let i = path as usize;
        if self.paths.len() <= i {
            self.paths.resize(i + 1, NEW_PATH);
        }
        &mut self.paths[i]
    }

    fn is_gone(&self, entry: usize) -> bool {
        self.gone
            .get(entry / 64)
            .is_some_and(|w| w & (1 << (entry % 64)) != 0)
    }

    fn set_gone(&mut self, entry: usize) {
        if self.gone.len() <= entry / 64 {
            self.gone.resize(entry / 64 + 1, 0);
        }
        self.gone[entry / 64] |= 1 << (entry % 64);
        self.gone_count += 1;
    }
}

impl LayerScan {
    /// An empty scan whose paths keep to `limits`.
    pub fn with_limits(limits: ScanLimits) -> Self {
        LayerScan {
            paths: ScanPaths::new(limits),
            ..LayerScan::default()
        }
    }

    /// An empty scan that leaves no entry out, as a reference to check the one that
    /// does against (tests and fuzzing): merged, both give the same filesystem.
    pub fn keeping_every_entry() -> Self {
        let mut scan = LayerScan::default();
        scan.replacing.keep_all = true;
        scan
    }

    /// A path in normal form (no leading `/`; the root is empty).
    pub fn path(&self, id: PathId) -> Vec<u8> {
        self.paths.bytes(id)
    }

    /// The scan's interned paths.
    pub fn paths(&self) -> &ScanPaths {
        &self.paths
    }

    /// The entries the merge applies, in order: those no later entry replaced (all of
    /// them once the scan is [finished](LayerScan::finish)).
    pub fn applied(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.replacing.is_gone(*i))
            .map(|(_, e)| e)
    }

    /// Record an entry: its path (and hardlink target) are interned, its kind is
    /// counted and a regular file's size added.
    pub fn push(
        &mut self,
        kind: EntryKind,
        path: &[u8],
        link: Option<&[u8]>,
        size: u64,
    ) -> Result<(), LayerErrorKind> {
        self.push_with(kind, path, link, size, Attrs::default())
    }

    /// [`LayerScan::push`], with the entry's mode and owner.
    pub fn push_with(
        &mut self,
        kind: EntryKind,
        path: &[u8],
        link: Option<&[u8]>,
        size: u64,
        attrs: Attrs,
    ) -> Result<(), LayerErrorKind> {
        let link = match link {
            Some(l) => self.paths.intern(l)?,
            None => NO_PATH,
        };
        let path = self.paths.intern(path)?;
        // Sizes come from tar headers: a sum past u64 is impossible, not a big layer.
        self.figures.added_bytes = self.figures.added_bytes.checked_add(size).ok_or_else(|| {
            LayerErrorKind::Limit(format!(
                "entry {}: file sizes add up past 2^64 bytes",
                self.figures.entries + 1
            ))
        })?;
        self.figures.counts.add(kind);
        self.figures.entries += 1;
        let entry = Entry {
            path,
            link,
            size,
            hidden: 0,
            attrs,
            kind,
        };
        match kind {
            EntryKind::Whiteout | EntryKind::Opaque => self.push_marker(entry),
            _ => self.push_live(entry),
        }
    }

    /// Whether the watch recorded the entry about to be pushed.
    fn watched_next(&self) -> bool {
        self.watched
            .last()
            .is_some_and(|w| w.entry as usize == self.entries.len())
    }

    /// A whiteout or opaque marker: kept once per path (the merge applies them before
    /// the layer's entries, wherever they stand), and its folder as an entry here.
    fn push_marker(&mut self, marker: Entry) -> Result<(), LayerErrorKind> {
        let seen = if marker.kind == EntryKind::Whiteout {
            WHITEOUT_SEEN
        } else {
            OPAQUE_SEEN
        };
        let again = self.watched_next() || self.replacing.keep_all;
        let state = self.replacing.slot(marker.path);
        if state.flags & seen == 0 || again {
            state.flags |= seen;
            self.entries.push(marker);
        }
        let folder = match marker.kind {
            EntryKind::Whiteout => self.paths.parent(marker.path),
            _ => marker.path,
        };
        if folder == ROOT_PATH || folder == NO_PATH {
            return Ok(());
        }
        self.push_live(Entry {
            path: folder,
            link: NO_PATH,
            size: 0,
            hidden: 0,
            attrs: Attrs::default(),
            kind: EntryKind::Dir,
        })
    }

    /// An entry that puts something at its path. The path's earlier entries of this
    /// layer are left out, their bytes carried as hidden, when this one undoes all
    /// they did: anything but a folder replaces what is there, subtree and all; a
    /// folder only replaces a folder (after a file it must not revive what the file
    /// cleared, so that file stays, as the path's anchor, until a non-folder comes).
    /// A pinned entry always stays.
    fn push_live(&mut self, mut entry: Entry) -> Result<(), LayerErrorKind> {
        let index = self.entries.len();
        // A hardlink sees the tree as every entry before it left it (its target, the
        // folders on the way): none of them is left out, not even at its own path.
        if entry.kind == EntryKind::Hardlink {
            self.replacing.barrier = index + 1;
        }
        let state = *self.replacing.slot(entry.path);
        let barrier = self.replacing.barrier;
        let before = |at: u32| at != NO_ENTRY && (at as usize) < barrier;
        let pinned = state.flags & PINNED != 0 || before(state.live);
        let live = state.live;
        let mut anchor = if before(state.anchor) {
            NO_ENTRY
        } else {
            state.anchor
        };
        if live != NO_ENTRY && !self.replacing.keep_all {
            let folder_after_file =
                entry.kind == EntryKind::Dir && self.entries[live as usize].kind != EntryKind::Dir;
            if pinned {
                // A pinned entry stays, and so does what it would have undone.
                anchor = NO_ENTRY;
            } else if folder_after_file {
                anchor = live;
            } else {
                entry.hidden = self.leave_out(live);
            }
        }
        if anchor != NO_ENTRY && entry.kind != EntryKind::Dir {
            entry.hidden = entry.hidden.saturating_add(self.leave_out(anchor));
            anchor = NO_ENTRY;
        }
        if self.entries.len() as u64 >= self.paths.limits().paths {
            return Err(LayerErrorKind::Limit(format!(
                "more than {} entries kept in one layer (the layer path limit)",
                self.paths.limits().paths
            )));
        }
        let pin = if self.watched_next() { PINNED } else { 0 };
        self.entries.push(entry);
        let state = self.replacing.slot(entry.path);
        state.live = index as u32;
        state.anchor = anchor;
        state.flags = (state.flags & !PINNED) | pin;
        let gone = self.replacing.gone_count;
        if gone >= COMPACT_AT && gone * 2 >= self.entries.len() {
            self.compact();
        }
        Ok(())
    }

    /// Leave entry `index` out: what the merge must still count of it, its stored and
    /// hidden bytes, to be carried by the entry that replaces it.
    fn leave_out(&mut self, index: u32) -> u64 {
        let e = self.entries[index as usize];
        let stored = if e.kind == EntryKind::File { e.size } else { 0 };
        self.replacing.set_gone(index as usize);
        // A kept content can be large: let it go now.
        if let Some(i) = self.captured.iter().rposition(|(at, _)| *at == index) {
            self.captured.swap_remove(i);
        }
        // Within added_bytes, which is checked: no overflow.
        e.hidden.saturating_add(stored)
    }

    /// Drop the replaced entries from the list, and what the walk recorded of them.
    fn compact(&mut self) {
        let mut remap = vec![NO_ENTRY; self.entries.len()];
        let mut kept = 0;
        for (i, at) in remap.iter_mut().enumerate() {
            if !self.replacing.is_gone(i) {
                *at = kept as u32;
                self.entries[kept] = self.entries[i];
                kept += 1;
            }
        }
        self.entries.truncate(kept);
        self.entries.shrink_to(kept * 2);
        if self.replacing.barrier > 0 {
            self.replacing.barrier = remap[self.replacing.barrier - 1] as usize + 1;
        }
        for state in &mut self.replacing.paths {
            for at in [&mut state.live, &mut state.anchor] {
                if *at != NO_ENTRY {
                    *at = remap[*at as usize];
                }
            }
        }
        let at = |e: &mut u32| {
            *e = remap[*e as usize];
            *e != NO_ENTRY
        };
        self.captured.retain_mut(|(e, _)| at(e));
        self.hashed.retain_mut(|(e, _)| at(e));
        self.watched.retain_mut(|w| at(&mut w.entry));
        self.unstripped.retain_mut(|u| at(&mut u.entry));
        self.heads.retain_mut(|(e, _)| at(e));
        self.replacing.gone.clear();
        self.replacing.gone_count = 0;
    }

    /// The walk is over: drop the replaced entries and the walk's bookkeeping.
    pub fn finish(&mut self) {
        if self.replacing.gone_count > 0 {
            self.compact();
        }
        self.replacing = Replacing::default();
        self.paths.finish();
        self.entries.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sizes_past_u64_are_refused() {
        let mut scan = LayerScan::default();
        scan.push(EntryKind::File, b"a", None, u64::MAX)
            .expect("one file of 2^64 - 1 bytes");
        let err = scan
            .push(EntryKind::File, b"b", None, 1)
            .expect_err("a sum past u64");
        assert_eq!(
            err.to_string(),
            "entry 2: file sizes add up past 2^64 bytes"
        );
        assert_eq!(scan.figures.added_bytes, u64::MAX, "not wrapped");
        assert_eq!(scan.entries.len(), 1, "the refused entry is not kept");
    }

    #[test]
    fn a_path_named_again_replaces_its_entry_and_keeps_the_bytes_hidden() {
        let mut scan = LayerScan::default();
        let long = vec![b'd'; 60_000];
        for size in [5, 7, 11] {
            scan.push(EntryKind::File, &long, None, size).expect("push");
        }
        scan.push(EntryKind::File, b"other", None, 1).expect("push");
        scan.push(EntryKind::File, &long, None, 13).expect("push");
        scan.finish();
        assert_eq!(scan.entries.len(), 2, "one entry per path");
        assert_eq!(scan.paths().name_bytes(), 60_000 + 5);
        assert_eq!(scan.path(scan.entries[0].path), b"other");
        let last = scan.entries[1];
        assert_eq!((last.size, last.hidden), (13, 5 + 7 + 11));
        assert_eq!(scan.figures.entries, 5);
        assert_eq!(scan.figures.added_bytes, 5 + 7 + 11 + 1 + 13);
    }

    #[test]
    fn a_hardlinked_or_watched_entry_is_kept() {
        let mut scan = LayerScan::default();
        scan.push(EntryKind::File, b"a", None, 10).expect("push");
        scan.push(EntryKind::Hardlink, b"b", Some(b"a"), 0)
            .expect("push");
        scan.push(EntryKind::File, b"a", None, 20).expect("push");
        scan.push(EntryKind::File, b"a", None, 30).expect("push");
        scan.watched.push(Watched {
            entry: scan.entries.len() as u32,
            mode: 0,
            uid: 0,
            gid: 0,
        });
        scan.push(EntryKind::File, b"c", None, 1).expect("push");
        scan.push(EntryKind::File, b"c", None, 2).expect("push");
        scan.finish();
        let rows: Vec<(Vec<u8>, u64, u64)> = scan
            .entries
            .iter()
            .map(|e| (scan.path(e.path), e.size, e.hidden))
            .collect();
        assert_eq!(
            rows,
            vec![
                (b"a".to_vec(), 10, 0),
                (b"b".to_vec(), 0, 0),
                (b"a".to_vec(), 30, 20),
                (b"c".to_vec(), 1, 0),
                (b"c".to_vec(), 2, 0),
            ]
        );
        assert_eq!(scan.watched[0].entry, 3, "renumbered with the list");
    }

    #[test]
    fn markers_are_kept_once_with_their_folder_in_place() {
        let mut scan = LayerScan::default();
        for _ in 0..3 {
            scan.push(EntryKind::Whiteout, b"etc/x", None, 0)
                .expect("push");
            scan.push(EntryKind::Opaque, b"var/cache", None, 0)
                .expect("push");
        }
        scan.finish();
        let rows: Vec<(EntryKind, Vec<u8>)> = scan
            .entries
            .iter()
            .map(|e| (e.kind, scan.path(e.path)))
            .collect();
        assert_eq!(
            rows,
            vec![
                (EntryKind::Whiteout, b"etc/x".to_vec()),
                (EntryKind::Opaque, b"var/cache".to_vec()),
                (EntryKind::Dir, b"etc".to_vec()),
                (EntryKind::Dir, b"var/cache".to_vec()),
            ]
        );
        assert_eq!(scan.figures.counts.whiteouts, 3);
        assert_eq!(
            scan.figures.counts.dirs, 0,
            "the folders are not tar entries"
        );
    }

    #[test]
    fn ten_thousand_rewrites_keep_one_entry_and_their_records_follow() {
        let mut scan = LayerScan::default();
        for i in 0..10_000u32 {
            scan.heads.push((scan.entries.len() as u32, u64::from(i)));
            scan.captured.push((scan.entries.len() as u32, vec![0; 16]));
            scan.push(EntryKind::File, b"f", None, 1).expect("push");
            scan.push(EntryKind::File, b"keep", None, 0).expect("push");
        }
        assert!(
            scan.entries.len() < 2 * COMPACT_AT + 2,
            "compacted as it went"
        );
        assert_eq!(scan.captured.len(), 1, "replaced contents let go at once");
        scan.finish();
        assert_eq!(scan.entries.len(), 2);
        assert_eq!(scan.heads, vec![(0, 9_999)]);
        assert_eq!(scan.captured[0].0, 0);
        assert_eq!(scan.entries[0].hidden, 9_999);
        assert_eq!(scan.path(scan.entries[0].path), b"f");
    }

    #[test]
    fn entries_stay_small() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn folded_attributes_tell_common_changes_apart() {
        // mode, uid, gid as GNU tar writes them: 7 octal digits and a NUL.
        let fields = |mode: u32, uid: u32, gid: u32| {
            format!("{mode:07o}\0{uid:07o}\0{gid:07o}\0").into_bytes()
        };
        let mut seen = std::collections::HashSet::new();
        for (mode, uid, gid) in [
            (0o644, 0, 0),
            (0o755, 0, 0),
            (0o600, 0, 0),
            (0o777, 0, 0),
            (0o4755, 0, 0),
            (0o644, 1000, 1000),
            (0o755, 1000, 1000),
            (0o644, 0, 1000),
            (0o644, 1000, 0),
            (0o644, 65534, 65534),
        ] {
            let a = Attrs::of_fields(&fields(mode, uid, gid));
            assert!(seen.insert(a.fold()), "{mode:o} {uid} {gid}");
        }
    }

    #[test]
    fn pushed_entries_keep_their_names_and_counts() {
        let mut s = LayerScan::default();
        s.push(EntryKind::Dir, b"etc", None, 0).expect("push");
        s.push(EntryKind::File, b"etc/hosts", None, 12)
            .expect("push");
        s.push(EntryKind::Hardlink, b"etc/h2", Some(b"etc/hosts"), 0)
            .expect("push");
        assert_eq!(s.path(s.entries[1].path), b"etc/hosts");
        assert_eq!(s.path(s.entries[2].link), b"etc/hosts");
        assert_eq!(s.entries[0].link, NO_PATH);
        assert_eq!(s.figures.added_bytes, 12);
        assert_eq!(s.figures.entries, 3);
        assert_eq!(
            (
                s.figures.counts.dirs,
                s.figures.counts.files,
                s.figures.counts.hardlinks
            ),
            (1, 1, 1)
        );
    }
    /// What a merged tree shows of `paths`, and its waste summed by (path, added
    /// layer, removed layer, cause); by (added, removed, cause) only with `by_layer`.
    type Seen = (
        Vec<Option<(u8, u64)>>,
        Vec<u64>,
        Vec<(String, u16, u16, u8, u64)>,
    );

    fn seen(tree: &crate::model::FsTree, paths: &[&str], by_layer: bool) -> Seen {
        use crate::model::NodeKind;
        let shown = paths
            .iter()
            .map(|p| {
                tree.lookup(p.as_bytes()).map(|id| {
                    let size = tree
                        .inode(id)
                        .map_or(0, |ino| tree.inodes()[ino as usize].size);
                    let kind = match tree.kind(id) {
                        NodeKind::Dir => 0,
                        NodeKind::File => 1,
                        NodeKind::Symlink => 2,
                        NodeKind::Other => 3,
                    };
                    (kind, size)
                })
            })
            .collect();
        let mut waste = std::collections::BTreeMap::new();
        for w in tree.waste() {
            let path = if by_layer {
                String::new()
            } else {
                tree.path(w.node)
            };
            let key = (path, w.added_layer, w.removed_layer, w.cause as u8);
            *waste.entry(key).or_insert(0) += w.bytes;
        }
        let waste = waste
            .into_iter()
            .filter(|(_, b)| *b > 0)
            .map(|((p, a, r, c), b)| (p, a, r, c, b))
            .collect();
        (shown, tree.visible_bytes(3), waste)
    }

    /// Leaving entries out changes nothing the merge sees: random layers over a few
    /// paths (files, folders, links, hardlinks, markers, watched entries), merged as
    /// scanned and as scans that keep every entry, show the same paths, the same
    /// visible bytes per layer and the same waste by path. With hardlinks the waste
    /// is the same by layers and cause, not always by path: an inode's bytes go to the
    /// name released last, and a left-out entry can move when a folder of another name
    /// is replaced.
    #[test]
    fn leaving_entries_out_changes_nothing_the_merge_sees() {
        use EntryKind::*;
        let paths = ["a", "b", "a/x", "a/y", "a/x/q", "b/z", "c"];
        let kinds = [
            File, File, File, Dir, Dir, Symlink, Hardlink, Whiteout, Opaque, Other,
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut draw = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for round in 0..20_000 {
            let (mut fast, mut reference) =
                (crate::model::FsTree::new(), crate::model::FsTree::new());
            let mut linked = false;
            for layer in 0..3u16 {
                let mut a = LayerScan::default();
                let mut b = LayerScan::keeping_every_entry();
                for _ in 0..draw(16) {
                    let kind = kinds[draw(kinds.len())];
                    let path = paths[draw(paths.len())].as_bytes();
                    let link = (kind == Hardlink).then_some(paths[draw(paths.len())].as_bytes());
                    linked |= kind == Hardlink;
                    let size = if kind == File {
                        1 + 10 * draw(4) as u64
                    } else {
                        0
                    };
                    let watch = draw(8) == 0;
                    for s in [&mut a, &mut b] {
                        if watch {
                            s.watched.push(Watched {
                                entry: s.entries.len() as u32,
                                mode: 0,
                                uid: 0,
                                gid: 0,
                            });
                        }
                        s.push(kind, path, link, size).expect("push");
                    }
                    // Compacting at any point changes nothing either.
                    if draw(6) == 0 {
                        a.compact();
                    }
                }
                a.finish();
                b.finish();

                fast.apply(layer, &a).expect("merge");
                reference.apply(layer, &b).expect("merge");
                assert_eq!(
                    seen(&fast, &paths, linked),
                    seen(&reference, &paths, linked),
                    "round {round}, layer {layer}"
                );
            }
        }
    }
}
