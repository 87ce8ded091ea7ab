//! What the walker makes of one layer blob: compact per-entry records (32 bytes plus
//! the name, in one arena) and the layer's figures. The tree merges scans; nothing here
//! reads bytes.

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

/// A byte range in a scan's name arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    off: u32,
    len: u32,
}

/// One tar entry, compactly: normalised path, kind, stored size and hardlink target.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub path: Span,
    /// Hardlink target (normalised); empty for other kinds.
    pub link: Span,
    /// Content bytes stored in the tar (0 for everything but regular files).
    pub size: u64,
    /// The entry's owner (uid and gid, hashed together: only equality matters).
    pub owner: u32,
    /// Permission bits (`0o7777`).
    pub mode: u16,
    pub kind: EntryKind,
}

/// An entry's mode and owner, as the walk read them from its header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attrs {
    pub mode: u16,
    pub owner: u32,
}

impl Attrs {
    pub fn new(mode: u32, uid: u64, gid: u64) -> Self {
        // Only equality matters: a cheap mix of uid and gid.
        let owner = uid.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
            ^ gid.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        Attrs {
            mode: (mode & 0o7777) as u16,
            owner: (owner ^ (owner >> 32)) as u32,
        }
    }

    /// Mode and owner in 16 bits, for the tree's inodes.
    pub fn fold(self) -> u16 {
        let h = (u32::from(self.mode) ^ self.owner.rotate_left(12)).wrapping_mul(0x9E37_79B1);
        (h >> 16) as u16
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
#[derive(Debug, Clone, Default)]
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

/// The result of walking one layer.
#[derive(Debug, Clone, Default)]
pub struct LayerScan {
    pub figures: LayerFigures,
    /// Digest of the stored blob, when it was hashed.
    pub blob_digest: Option<String>,
    /// Digest of the decompressed stream (the diff_id), when it was hashed.
    pub diff_digest: Option<String>,
    pub entries: Vec<Entry>,
    names: Vec<u8>,
    /// Contents captured for analyses (entry index, bytes).
    pub captured: Vec<(u32, Vec<u8>)>,
    /// SHA-256 of the contents a hash selector asked for (entry index, digest).
    pub hashed: Vec<(u32, [u8; 32])>,
    /// Metadata of the entries a watch selected.
    pub watched: Vec<Watched>,
}

impl LayerScan {
    /// The bytes of a span (a normalised path: no leading `/`, root is empty).
    pub fn text(&self, span: Span) -> &[u8] {
        &self.names[span.off as usize..(span.off + span.len) as usize]
    }

    /// Keep a name in the arena.
    pub fn push_name(&mut self, bytes: &[u8]) -> Result<Span, LayerErrorKind> {
        let off = u32::try_from(self.names.len())
            .ok()
            .filter(|off| off.checked_add(bytes.len() as u32).is_some())
            .ok_or_else(|| LayerErrorKind::Limit("more than 4 GiB of entry names".into()))?;
        let len = u32::try_from(bytes.len())
            .map_err(|_| LayerErrorKind::Limit("entry name longer than 4 GiB".into()))?;
        self.names.extend_from_slice(bytes);
        Ok(Span { off, len })
    }

    /// Record an entry: its path (and hardlink target) go into the arena, its kind is
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
            Some(l) => self.push_name(l)?,
            None => Span::default(),
        };
        let path = self.push_name(path)?;
        self.figures.counts.add(kind);
        self.figures.added_bytes += size;
        self.figures.entries += 1;
        self.entries.push(Entry {
            path,
            link,
            size,
            owner: attrs.owner,
            mode: attrs.mode,
            kind,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_small() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn folded_attributes_tell_common_changes_apart() {
        let root = |mode| Attrs::new(mode, 0, 0);
        let mut seen = std::collections::HashSet::new();
        for a in [
            root(0o644),
            root(0o755),
            root(0o600),
            root(0o777),
            root(0o4755),
            Attrs::new(0o644, 1000, 1000),
            Attrs::new(0o755, 1000, 1000),
            Attrs::new(0o644, 0, 1000),
            Attrs::new(0o644, 1000, 0),
            Attrs::new(0o644, 65534, 65534),
        ] {
            assert!(seen.insert(a.fold()), "{a:?}");
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
        assert_eq!(s.text(s.entries[1].path), b"etc/hosts");
        assert_eq!(s.text(s.entries[2].link), b"etc/hosts");
        assert!(s.text(s.entries[0].link).is_empty());
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
}
