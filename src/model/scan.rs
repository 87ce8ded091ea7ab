//! What the walker makes of one layer blob: compact per-entry records (32 bytes plus
//! the name, in one arena) and the layer's figures. The tree merges scans; nothing here
//! reads bytes. A scan also has one binary form ([`LayerScan::encode`],
//! [`LayerScan::decode`]) for the layer cache to keep: versioned, little-endian and
//! checked field by field when read back; where it is stored is not this module's
//! business.

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
    off: u32,
    len: u32,
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

/// The result of walking one layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// Why [`LayerScan::decode`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not an encoded layer scan")]
    Magic,
    #[error("layer scan encoding version {0}, this build reads version {SCAN_FORMAT}")]
    Version(u16),
    #[error("encoded layer scan ends early")]
    Truncated,
    #[error("encoded layer scan has an invalid {0}")]
    Invalid(&'static str),
}

/// The first bytes of an encoded scan.
const SCAN_MAGIC: [u8; 4] = *b"ILSC";

/// Version of the encoding [`LayerScan::encode`] writes and [`LayerScan::decode`]
/// reads. Bump it whenever a field is added, removed or changes meaning, and when the
/// files the default walk captures change (a kept scan would lack the new ones).
/// Version 2: the same layout as 1; npm's `node_modules/.package-lock.json` is captured.
pub const SCAN_FORMAT: u16 = 2;

/// Encoded size of one [`Entry`]: two spans, size, attrs, kind.
const ENTRY_LEN: usize = 4 * 4 + 8 + 4 + 1;
/// Smallest encoded captured file: entry index and length.
const CAPTURED_MIN: usize = 4 + 8;
/// Encoded size of one hashed file: entry index and SHA-256.
const HASHED_LEN: usize = 4 + 32;
/// Encoded size of one watched entry: entry index, mode, uid, gid.
const WATCHED_LEN: usize = 4 + 4 + 8 + 8;

impl LayerScan {
    /// The scan as bytes, for [`LayerScan::decode`]: every field, little-endian.
    ///
    /// Layout (versions 1 and 2): magic `ILSC`, `u16` version; the figures (compression as
    /// [`Compression::code`] or 0, then fifteen `u64`s in declaration order, the
    /// counts inline); blob and diff digests (`u8` 0/1, then `u64` length and UTF-8);
    /// the name arena (`u64` length, bytes); entries (`u64` count, then per entry path
    /// and link spans as `u32` offset and length, `u64` size, `u32` attrs, `u8`
    /// [`EntryKind::code`]); captured files (`u64` count, then `u32` entry, `u64`
    /// length, bytes); hashed files (`u64` count, then `u32` entry, 32 bytes); watched
    /// entries (`u64` count, then `u32` entry, `u32` mode, `u64` uid, `u64` gid).
    pub fn encode(&self) -> Vec<u8> {
        let captured: usize = self
            .captured
            .iter()
            .map(|(_, c)| CAPTURED_MIN + c.len())
            .sum();
        let digests: usize = [&self.blob_digest, &self.diff_digest]
            .iter()
            .map(|d| 9 + d.as_ref().map_or(0, String::len))
            .sum();
        let mut out = Vec::with_capacity(
            SCAN_MAGIC.len()
                + 2
                + 1
                + 15 * 8
                + digests
                + 8
                + self.names.len()
                + 8
                + self.entries.len() * ENTRY_LEN
                + 8
                + captured
                + 8
                + self.hashed.len() * HASHED_LEN
                + 8
                + self.watched.len() * WATCHED_LEN,
        );
        out.extend_from_slice(&SCAN_MAGIC);
        out.extend_from_slice(&SCAN_FORMAT.to_le_bytes());
        let f = &self.figures;
        out.push(f.compression.map_or(0, Compression::code));
        let c = &f.counts;
        for v in [
            f.compressed_bytes,
            f.uncompressed_bytes,
            f.added_bytes,
            f.content_bytes,
            c.files,
            c.dirs,
            c.symlinks,
            c.hardlinks,
            c.whiteouts,
            c.opaques,
            c.others,
            f.entries,
            f.clamped_paths,
            f.dangling_hardlinks,
            f.sparse_extra_bytes,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for digest in [&self.blob_digest, &self.diff_digest] {
            match digest {
                None => out.push(0),
                Some(d) => {
                    out.push(1);
                    put_bytes(&mut out, d.as_bytes());
                }
            }
        }
        put_bytes(&mut out, &self.names);
        put_len(&mut out, self.entries.len());
        for e in &self.entries {
            for span in [e.path, e.link] {
                out.extend_from_slice(&span.off.to_le_bytes());
                out.extend_from_slice(&span.len.to_le_bytes());
            }
            out.extend_from_slice(&e.size.to_le_bytes());
            out.extend_from_slice(&e.attrs.0.to_le_bytes());
            out.push(e.kind.code());
        }
        put_len(&mut out, self.captured.len());
        for (entry, content) in &self.captured {
            out.extend_from_slice(&entry.to_le_bytes());
            put_bytes(&mut out, content);
        }
        put_len(&mut out, self.hashed.len());
        for (entry, digest) in &self.hashed {
            out.extend_from_slice(&entry.to_le_bytes());
            out.extend_from_slice(digest);
        }
        put_len(&mut out, self.watched.len());
        for w in &self.watched {
            out.extend_from_slice(&w.entry.to_le_bytes());
            out.extend_from_slice(&w.mode.to_le_bytes());
            out.extend_from_slice(&w.uid.to_le_bytes());
            out.extend_from_slice(&w.gid.to_le_bytes());
        }
        out
    }

    /// A scan from [`LayerScan::encode`]'s bytes. Total: a truncated, padded or
    /// otherwise malformed input is an error, never a panic; lengths are checked
    /// against the bytes that remain before anything is allocated, every span must lie
    /// in the name arena and every entry index name an entry.
    pub fn decode(bytes: &[u8]) -> Result<LayerScan, DecodeError> {
        let mut r = Reader(bytes);
        if r.take(SCAN_MAGIC.len())? != SCAN_MAGIC {
            return Err(DecodeError::Magic);
        }
        let version = u16::from_le_bytes(r.array()?);
        if version != SCAN_FORMAT {
            return Err(DecodeError::Version(version));
        }
        let compression = match r.u8()? {
            0 => None,
            code => Some(Compression::from_code(code).ok_or(DecodeError::Invalid("compression"))?),
        };
        let mut v = [0u64; 15];
        for slot in &mut v {
            *slot = r.u64()?;
        }
        let [
            compressed_bytes,
            uncompressed_bytes,
            added_bytes,
            content_bytes,
            files,
            dirs,
            symlinks,
            hardlinks,
            whiteouts,
            opaques,
            others,
            entries,
            clamped_paths,
            dangling_hardlinks,
            sparse_extra_bytes,
        ] = v;
        let figures = LayerFigures {
            compression,
            compressed_bytes,
            uncompressed_bytes,
            added_bytes,
            content_bytes,
            counts: EntryCounts {
                files,
                dirs,
                symlinks,
                hardlinks,
                whiteouts,
                opaques,
                others,
            },
            entries,
            clamped_paths,
            dangling_hardlinks,
            sparse_extra_bytes,
        };
        let blob_digest = r.digest()?;
        let diff_digest = r.digest()?;
        let names = r.bytes()?.to_vec();
        let arena = names.len() as u64;
        let span = |r: &mut Reader<'_>| -> Result<Span, DecodeError> {
            let off = r.u32()?;
            let len = r.u32()?;
            if u64::from(off) + u64::from(len) > arena {
                return Err(DecodeError::Invalid("name span"));
            }
            Ok(Span { off, len })
        };
        let n = r.count(ENTRY_LEN)?;
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            let path = span(&mut r)?;
            let link = span(&mut r)?;
            let size = r.u64()?;
            let attrs = Attrs(r.u32()?);
            let kind = EntryKind::from_code(r.u8()?).ok_or(DecodeError::Invalid("entry kind"))?;
            list.push(Entry {
                path,
                link,
                size,
                attrs,
                kind,
            });
        }
        let index = |r: &mut Reader<'_>| -> Result<u32, DecodeError> {
            let i = r.u32()?;
            if i as usize >= n {
                return Err(DecodeError::Invalid("entry index"));
            }
            Ok(i)
        };
        let count = r.count(CAPTURED_MIN)?;
        let mut captured = Vec::with_capacity(count);
        for _ in 0..count {
            let entry = index(&mut r)?;
            captured.push((entry, r.bytes()?.to_vec()));
        }
        let count = r.count(HASHED_LEN)?;
        let mut hashed = Vec::with_capacity(count);
        for _ in 0..count {
            let entry = index(&mut r)?;
            hashed.push((entry, r.array()?));
        }
        let count = r.count(WATCHED_LEN)?;
        let mut watched = Vec::with_capacity(count);
        for _ in 0..count {
            watched.push(Watched {
                entry: index(&mut r)?,
                mode: r.u32()?,
                uid: r.u64()?,
                gid: r.u64()?,
            });
        }
        if !r.0.is_empty() {
            return Err(DecodeError::Invalid("trailing bytes"));
        }
        Ok(LayerScan {
            figures,
            blob_digest,
            diff_digest,
            entries: list,
            names,
            captured,
            hashed,
            watched,
        })
    }
}

/// A length or count, as a `u64` (a `usize` always fits).
fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u64).to_le_bytes());
}

/// A length, then the bytes.
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// The unread rest of an encoded scan.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.0.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count of records of at least `min_len` bytes each: more than the rest can
    /// hold is a truncated input, refused before anything is allocated for it.
    fn count(&mut self, min_len: usize) -> Result<usize, DecodeError> {
        let n = self.u64()?;
        if n > (self.0.len() / min_len) as u64 {
            return Err(DecodeError::Truncated);
        }
        Ok(n as usize)
    }

    /// A length, then that many bytes.
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.count(1)?;
        self.take(n)
    }

    fn digest(&mut self) -> Result<Option<String>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => {
                let text = std::str::from_utf8(self.bytes()?)
                    .map_err(|_| DecodeError::Invalid("digest"))?;
                Ok(Some(text.to_string()))
            }
            _ => Err(DecodeError::Invalid("digest tag")),
        }
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

    /// A scan with every field set to something other than its default.
    fn full_scan() -> LayerScan {
        let mut s = LayerScan::default();
        let attrs = Attrs(0xdead_beef);
        s.push_with(EntryKind::Dir, b"etc", None, 0, attrs)
            .expect("push");
        s.push(EntryKind::File, b"etc/hosts", None, 12)
            .expect("push");
        s.push(EntryKind::Hardlink, b"etc/h2", Some(b"etc/hosts"), 0)
            .expect("push");
        s.push(EntryKind::Symlink, b"bin", None, 0).expect("push");
        s.push(EntryKind::Whiteout, b"tmp/gone", None, 0)
            .expect("push");
        s.push(EntryKind::Opaque, b"var/cache", None, 0)
            .expect("push");
        s.push(EntryKind::Other, b"dev/null", None, 0)
            .expect("push");
        s.push(EntryKind::Dir, b"", None, 0).expect("push root");
        s.figures.compression = Some(Compression::Zstd);
        s.figures.compressed_bytes = 1 << 33;
        s.figures.uncompressed_bytes = u64::MAX;
        s.figures.content_bytes = 7;
        s.figures.clamped_paths = 2;
        s.figures.dangling_hardlinks = 3;
        s.figures.sparse_extra_bytes = 4096;
        s.blob_digest = Some(format!("sha256:{}", "a".repeat(64)));
        s.diff_digest = Some(format!("sha512:{}", "b".repeat(128)));
        s.captured.push((1, b"127.0.0.1 localhost\n".to_vec()));
        s.captured.push((0, Vec::new()));
        s.hashed.push((1, [0x5a; 32]));
        s.watched.push(Watched {
            entry: 2,
            mode: 0o100644,
            uid: 1000,
            gid: u64::MAX,
        });
        s
    }

    #[test]
    fn an_encoded_scan_decodes_to_every_field() {
        let s = full_scan();
        let back = LayerScan::decode(&s.encode()).expect("decodes");
        assert_eq!(back.figures, s.figures);
        assert_eq!(back.blob_digest, s.blob_digest);
        assert_eq!(back.diff_digest, s.diff_digest);
        assert_eq!(back.entries, s.entries);
        assert_eq!(back.names, s.names);
        for (a, b) in back.entries.iter().zip(&s.entries) {
            assert_eq!(back.text(a.path), s.text(b.path));
            assert_eq!(back.text(a.link), s.text(b.link));
        }
        assert_eq!(back.captured, s.captured);
        assert_eq!(back.hashed, s.hashed);
        assert_eq!(back.watched, s.watched);
        assert_eq!(back, s, "and no field was forgotten above");
        let empty = LayerScan::default();
        assert_eq!(LayerScan::decode(&empty.encode()), Ok(empty));
    }

    #[test]
    fn every_truncation_of_an_encoded_scan_is_refused() {
        let bytes = full_scan().encode();
        for len in 0..bytes.len() {
            assert!(
                LayerScan::decode(&bytes[..len]).is_err(),
                "a prefix of {len} of {} bytes decoded",
                bytes.len()
            );
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(
            LayerScan::decode(&padded),
            Err(DecodeError::Invalid("trailing bytes"))
        );
    }

    #[test]
    fn an_entry_kind_out_of_range_is_refused() {
        use EntryKind::*;
        let all = [File, Dir, Symlink, Hardlink, Whiteout, Opaque, Other];
        let codes: Vec<u8> = all.iter().map(|k| k.code()).collect();
        assert_eq!(
            codes,
            [0, 1, 2, 3, 4, 5, 6],
            "codes are on disk: never renumber"
        );
        for k in all {
            assert_eq!(EntryKind::from_code(k.code()), Some(k));
        }
        // Two scans that differ in one entry's kind differ in its kind byte only.
        let a = full_scan();
        let mut b = a.clone();
        b.entries[0].kind = EntryKind::Other;
        let (ea, eb) = (a.encode(), b.encode());
        let at: Vec<usize> = (0..ea.len()).filter(|&i| ea[i] != eb[i]).collect();
        assert_eq!(at.len(), 1);
        for bad in [7, 0x80, u8::MAX] {
            let mut bytes = ea.clone();
            bytes[at[0]] = bad;
            assert_eq!(
                LayerScan::decode(&bytes),
                Err(DecodeError::Invalid("entry kind"))
            );
        }
    }

    #[test]
    fn spans_and_entry_indexes_must_point_inside_the_scan() {
        let mut s = full_scan();
        s.entries[1].link = Span {
            off: u32::MAX,
            len: u32::MAX,
        };
        assert_eq!(
            LayerScan::decode(&s.encode()),
            Err(DecodeError::Invalid("name span"))
        );
        let entries = full_scan().entries.len() as u32;
        let mut s = full_scan();
        s.captured.push((entries, Vec::new()));
        assert_eq!(
            LayerScan::decode(&s.encode()),
            Err(DecodeError::Invalid("entry index"))
        );
        let mut s = full_scan();
        s.hashed.push((u32::MAX, [0; 32]));
        assert!(LayerScan::decode(&s.encode()).is_err());
        let mut s = full_scan();
        s.watched[0].entry = entries;
        assert!(LayerScan::decode(&s.encode()).is_err());
    }

    #[test]
    fn headers_and_lengths_are_checked_before_use() {
        let bytes = full_scan().encode();
        let mut magic = bytes.clone();
        magic[0] ^= 0xff;
        assert_eq!(LayerScan::decode(&magic), Err(DecodeError::Magic));
        let mut version = bytes.clone();
        version[4] = version[4].wrapping_add(1);
        assert!(matches!(
            LayerScan::decode(&version),
            Err(DecodeError::Version(_))
        ));
        let mut compression = bytes.clone();
        compression[6] = 0x77;
        assert_eq!(
            LayerScan::decode(&compression),
            Err(DecodeError::Invalid("compression"))
        );
        // A huge count right after the figures and digests of an empty scan: refused as
        // truncated, without allocating for it.
        let mut empty = LayerScan::default().encode();
        let names_at = 4 + 2 + 1 + 15 * 8 + 1 + 1;
        empty[names_at..names_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(LayerScan::decode(&empty), Err(DecodeError::Truncated));
    }

    #[test]
    fn decoding_flipped_bytes_never_panics() {
        let bytes = full_scan().encode();
        for i in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= flip;
                if let Ok(scan) = LayerScan::decode(&b) {
                    // Whatever decodes is usable: every span reads.
                    for e in &scan.entries {
                        let _ = (scan.text(e.path), scan.text(e.link));
                    }
                }
            }
        }
    }
}
