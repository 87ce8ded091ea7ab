//! What the walker makes of one layer blob: compact per-entry records (32 bytes plus
//! the name, in one arena) and the layer's figures. The tree merges scans; nothing here
//! reads bytes. A scan also has one binary form ([`LayerScan::encode`],
//! [`LayerScan::decode`]) for the layer cache to keep, in [`super::scan_codec`].

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

/// A byte range in a scan's name arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub(super) off: u32,
    pub(super) len: u32,
}

/// One tar entry, compactly: normalised path, kind, stored size and hardlink target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub path: Span,
    /// Hardlink target (normalised); empty for other kinds.
    pub link: Span,
    /// Content bytes stored in the tar (0 for everything but regular files).
    pub size: u64,
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
    pub entries: Vec<Entry>,
    pub(super) names: Vec<u8>,
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
        // A path the previous entry named too (a layer that writes one path again and
        // again) shares its bytes: the arena grows with the names, not the entries.
        let path = match self.entries.last() {
            Some(last) if self.text(last.path) == path => last.path,
            _ => self.push_name(path)?,
        };
        // Sizes come from tar headers: a sum past u64 is impossible, not a big layer.
        self.figures.added_bytes = self.figures.added_bytes.checked_add(size).ok_or_else(|| {
            LayerErrorKind::Limit(format!(
                "entry {}: file sizes add up past 2^64 bytes",
                self.figures.entries + 1
            ))
        })?;
        self.figures.counts.add(kind);
        self.figures.entries += 1;
        self.entries.push(Entry {
            path,
            link,
            size,
            attrs,
            kind,
        });
        Ok(())
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
    fn a_path_named_again_shares_its_bytes() {
        let mut scan = LayerScan::default();
        let long = vec![b'd'; 60_000];
        for _ in 0..3 {
            scan.push(EntryKind::File, &long, None, 1).expect("push");
        }
        scan.push(EntryKind::File, b"other", None, 1).expect("push");
        scan.push(EntryKind::File, &long, None, 1).expect("push");
        assert_eq!(
            scan.names.len(),
            2 * 60_000 + 5,
            "runs of one path kept once"
        );
        assert_eq!(scan.entries[0].path, scan.entries[2].path);
        assert!(scan.entries.iter().all(|e| e.path.len > 0));
        assert_eq!(scan.text(scan.entries[4].path), &long[..]);
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
