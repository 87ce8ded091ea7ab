//! The layer cache's binary form of a [`LayerScan`]: [`LayerScan::encode`] writes every
//! field, little-endian, after a magic and a version; [`LayerScan::decode`] reads it back,
//! checking field by field so that a damaged input is an error, never a panic or a huge
//! allocation. Where the bytes are stored is the cache's business, not this module's.

use super::scan::{
    Attrs, Entry, EntryCounts, EntryKind, LayerFigures, LayerScan, NO_PATH, PathId, ScanPaths,
    Toolchain, Unstripped, Watched,
};
use crate::bytes::Compression;

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
/// Version 3: rpm's databases are captured. Version 4: unstripped ELF files and the
/// first bytes' fingerprints follow the watched entries. Version 5: paths are interned
/// (a table of parent and component) and an entry keeps the bytes it hid; replaced
/// entries and repeated markers are gone, a marker's folder is an entry. Version 6: the
/// same layout; a loaded section named like a debugging one is no longer counted as
/// what `strip` removes, and programs linked by LLD (section names far before the
/// section table) are measured.
pub const SCAN_FORMAT: u16 = 6;

/// Smallest encoded path: parent and component length (the component is not empty).
const PATH_MIN: usize = 4 + 2 + 1;
/// Encoded size of one [`Entry`]: path and link ids, size, hidden bytes, attrs, kind.
const ENTRY_LEN: usize = 4 + 4 + 8 + 8 + 4 + 1;
/// Smallest encoded captured file: entry index and length.
const CAPTURED_MIN: usize = 4 + 8;
/// Encoded size of one hashed file: entry index and SHA-256.
const HASHED_LEN: usize = 4 + 32;
/// Encoded size of one watched entry: entry index, mode, uid, gid.
const WATCHED_LEN: usize = 4 + 4 + 8 + 8;
/// Encoded size of one unstripped ELF file: entry index, saving, toolchain.
const UNSTRIPPED_LEN: usize = 4 + 8 + 1;
/// Encoded size of one fingerprint of first bytes: entry index, fingerprint.
const HEAD_LEN: usize = 4 + 8;

impl LayerScan {
    /// The scan as bytes, for [`LayerScan::decode`]: every field, little-endian.
    ///
    /// Layout (version 5): magic `ILSC`, `u16` version; the figures (compression as
    /// [`Compression::code`] or 0, then fifteen `u64`s in declaration order, the
    /// counts inline); blob and diff digests (`u8` 0/1, then `u64` length and UTF-8);
    /// the paths but the root (`u64` count, then per path its parent's id as `u32`,
    /// an earlier path's, and its component as `u16` length and bytes); entries
    /// (`u64` count, then per entry path and link ids as `u32` (`u32::MAX`: none),
    /// `u64` size, `u64` hidden bytes, `u32` attrs, `u8` [`EntryKind::code`]); captured files (`u64` count, then `u32` entry, `u64`
    /// length, bytes); hashed files (`u64` count, then `u32` entry, 32 bytes); watched
    /// entries (`u64` count, then `u32` entry, `u32` mode, `u64` uid, `u64` gid);
    /// unstripped ELF files (`u64` count, then `u32` entry, `u64` saving, `u8`
    /// [`Toolchain::code`]); first bytes' fingerprints (`u64` count, then `u32`
    /// entry, `u64`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(encoded_len(self));
        out.extend_from_slice(&SCAN_MAGIC);
        out.extend_from_slice(&SCAN_FORMAT.to_le_bytes());
        put_figures(&mut out, &self.figures);
        for digest in [&self.blob_digest, &self.diff_digest] {
            put_digest(&mut out, digest.as_deref());
        }
        put_paths(&mut out, &self.paths);
        put_entries(&mut out, &self.entries);
        put_records(&mut out, self);
        out
    }

    /// A scan from [`LayerScan::encode`]'s bytes. Total: a truncated, padded or
    /// otherwise malformed input is an error, never a panic; lengths are checked
    /// against the bytes that remain before anything is allocated, every path's parent
    /// must come before it, every entry name a path and every entry index an entry.
    pub fn decode(bytes: &[u8]) -> Result<LayerScan, DecodeError> {
        let mut r = Reader(bytes);
        r.header()?;
        let figures = r.figures()?;
        let blob_digest = r.digest()?;
        let diff_digest = r.digest()?;
        let paths = r.paths()?;
        let entries = r.entries(paths.len())?;
        let n = entries.len();
        let captured = r.captured(n)?;
        let hashed = r.hashed(n)?;
        let watched = r.watched(n)?;
        let unstripped = r.unstripped(n)?;
        let heads = r.heads(n)?;
        if !r.0.is_empty() {
            return Err(DecodeError::Invalid("trailing bytes"));
        }
        Ok(LayerScan {
            figures,
            blob_digest,
            diff_digest,
            entries,
            paths,
            captured,
            hashed,
            watched,
            unstripped,
            heads,
            ..LayerScan::default()
        })
    }
}

/// What [`LayerScan::encode`] will write, in bytes, so that it allocates once.
fn encoded_len(scan: &LayerScan) -> usize {
    let captured: usize = scan
        .captured
        .iter()
        .map(|(_, c)| CAPTURED_MIN + c.len())
        .sum();
    let digests: usize = [&scan.blob_digest, &scan.diff_digest]
        .iter()
        .map(|d| 9 + d.as_ref().map_or(0, String::len))
        .sum();
    SCAN_MAGIC.len()
        + 2
        + 1
        + 15 * 8
        + digests
        + 8
        + (scan.paths.len() - 1) * (PATH_MIN - 1)
        + scan.paths.name_bytes()
        + 8
        + scan.entries.len() * ENTRY_LEN
        + 8
        + captured
        + 8
        + scan.hashed.len() * HASHED_LEN
        + 8
        + scan.watched.len() * WATCHED_LEN
        + 8
        + scan.unstripped.len() * UNSTRIPPED_LEN
        + 8
        + scan.heads.len() * HEAD_LEN
}

/// The figures: the compression's code (0 for none), then fifteen `u64`s in
/// declaration order, the counts inline.
fn put_figures(out: &mut Vec<u8>, f: &LayerFigures) {
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
}

/// A digest when there is one: a tag byte (0 none, 1 some), then its text.
fn put_digest(out: &mut Vec<u8>, digest: Option<&str>) {
    match digest {
        None => out.push(0),
        Some(d) => {
            out.push(1);
            put_bytes(out, d.as_bytes());
        }
    }
}

/// The paths but the root: a count, then each one's parent and component.
fn put_paths(out: &mut Vec<u8>, paths: &ScanPaths) {
    put_len(out, paths.len() - 1);
    for (parent, name) in paths.parts() {
        out.extend_from_slice(&parent.to_le_bytes());
        // Components are at most 65,535 bytes (`ScanPaths` holds them in a u16).
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name);
    }
}

/// The entries: a count, then each one's path ids, size, hidden bytes, attrs and kind.
fn put_entries(out: &mut Vec<u8>, entries: &[Entry]) {
    put_len(out, entries.len());
    for e in entries {
        out.extend_from_slice(&e.path.to_le_bytes());
        out.extend_from_slice(&e.link.to_le_bytes());
        out.extend_from_slice(&e.size.to_le_bytes());
        out.extend_from_slice(&e.hidden.to_le_bytes());
        out.extend_from_slice(&e.attrs.0.to_le_bytes());
        out.push(e.kind.code());
    }
}

/// What the walk kept beside the entries, each list counted: captured contents,
/// content hashes and watched metadata.
fn put_records(out: &mut Vec<u8>, scan: &LayerScan) {
    put_len(out, scan.captured.len());
    for (entry, content) in &scan.captured {
        out.extend_from_slice(&entry.to_le_bytes());
        put_bytes(out, content);
    }
    put_len(out, scan.hashed.len());
    for (entry, digest) in &scan.hashed {
        out.extend_from_slice(&entry.to_le_bytes());
        out.extend_from_slice(digest);
    }
    put_len(out, scan.watched.len());
    for w in &scan.watched {
        out.extend_from_slice(&w.entry.to_le_bytes());
        out.extend_from_slice(&w.mode.to_le_bytes());
        out.extend_from_slice(&w.uid.to_le_bytes());
        out.extend_from_slice(&w.gid.to_le_bytes());
    }
    put_len(out, scan.unstripped.len());
    for u in &scan.unstripped {
        out.extend_from_slice(&u.entry.to_le_bytes());
        out.extend_from_slice(&u.saving.to_le_bytes());
        out.push(u.toolchain.code());
    }
    put_len(out, scan.heads.len());
    for (entry, print) in &scan.heads {
        out.extend_from_slice(&entry.to_le_bytes());
        out.extend_from_slice(&print.to_le_bytes());
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

/// The scalars and lengths everything else is read with.
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

/// The parts of a scan, in the order [`LayerScan::encode`] writes them.
impl Reader<'_> {
    /// The magic and the version this build reads.
    fn header(&mut self) -> Result<(), DecodeError> {
        if self.take(SCAN_MAGIC.len())? != SCAN_MAGIC {
            return Err(DecodeError::Magic);
        }
        let version = u16::from_le_bytes(self.array()?);
        if version != SCAN_FORMAT {
            return Err(DecodeError::Version(version));
        }
        Ok(())
    }

    /// The figures, as [`put_figures`] wrote them.
    fn figures(&mut self) -> Result<LayerFigures, DecodeError> {
        let compression = match self.u8()? {
            0 => None,
            code => Some(Compression::from_code(code).ok_or(DecodeError::Invalid("compression"))?),
        };
        let mut v = [0u64; 15];
        for slot in &mut v {
            *slot = self.u64()?;
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
        Ok(LayerFigures {
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
        })
    }

    /// The paths: each parent an earlier path, each component not empty.
    fn paths(&mut self) -> Result<ScanPaths, DecodeError> {
        let n = self.count(PATH_MIN)?;
        let mut parts = Vec::with_capacity(n);
        for _ in 0..n {
            let parent = self.u32()?;
            let len = u16::from_le_bytes(self.array()?);
            parts.push((parent, self.take(usize::from(len))?));
        }
        ScanPaths::from_parts(parts).ok_or(DecodeError::Invalid("path"))
    }

    /// A path id, which must name one of `paths` paths (or none, when `none_ok`).
    fn path_id(&mut self, paths: usize, none_ok: bool) -> Result<PathId, DecodeError> {
        let id = self.u32()?;
        if (id as usize) < paths || (none_ok && id == NO_PATH) {
            Ok(id)
        } else {
            Err(DecodeError::Invalid("path id"))
        }
    }

    /// The entries, each naming one of `paths` paths.
    fn entries(&mut self, paths: usize) -> Result<Vec<Entry>, DecodeError> {
        let n = self.count(ENTRY_LEN)?;
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            let path = self.path_id(paths, false)?;
            let link = self.path_id(paths, true)?;
            let size = self.u64()?;
            let hidden = self.u64()?;
            let attrs = Attrs(self.u32()?);
            let kind =
                EntryKind::from_code(self.u8()?).ok_or(DecodeError::Invalid("entry kind"))?;
            list.push(Entry {
                path,
                link,
                size,
                hidden,
                attrs,
                kind,
            });
        }
        Ok(list)
    }

    /// An entry index, which must name one of the scan's `entries`.
    fn index(&mut self, entries: usize) -> Result<u32, DecodeError> {
        let i = self.u32()?;
        if i as usize >= entries {
            return Err(DecodeError::Invalid("entry index"));
        }
        Ok(i)
    }

    /// The captured contents, each of one of the scan's `entries`.
    fn captured(&mut self, entries: usize) -> Result<Vec<(u32, Vec<u8>)>, DecodeError> {
        let count = self.count(CAPTURED_MIN)?;
        let mut captured = Vec::with_capacity(count);
        for _ in 0..count {
            let entry = self.index(entries)?;
            captured.push((entry, self.bytes()?.to_vec()));
        }
        Ok(captured)
    }

    /// The content hashes, each of one of the scan's `entries`.
    fn hashed(&mut self, entries: usize) -> Result<Vec<(u32, [u8; 32])>, DecodeError> {
        let count = self.count(HASHED_LEN)?;
        let mut hashed = Vec::with_capacity(count);
        for _ in 0..count {
            let entry = self.index(entries)?;
            hashed.push((entry, self.array()?));
        }
        Ok(hashed)
    }

    /// The watched metadata, each of one of the scan's `entries`.
    fn watched(&mut self, entries: usize) -> Result<Vec<Watched>, DecodeError> {
        let count = self.count(WATCHED_LEN)?;
        let mut watched = Vec::with_capacity(count);
        for _ in 0..count {
            watched.push(Watched {
                entry: self.index(entries)?,
                mode: self.u32()?,
                uid: self.u64()?,
                gid: self.u64()?,
            });
        }
        Ok(watched)
    }

    /// The unstripped ELF files, each one of the scan's `entries`.
    fn unstripped(&mut self, entries: usize) -> Result<Vec<Unstripped>, DecodeError> {
        let count = self.count(UNSTRIPPED_LEN)?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(Unstripped {
                entry: self.index(entries)?,
                saving: self.u64()?,
                toolchain: Toolchain::from_code(self.u8()?)
                    .ok_or(DecodeError::Invalid("toolchain code"))?,
            });
        }
        Ok(out)
    }

    /// The first bytes' fingerprints, each of one of the scan's `entries`.
    fn heads(&mut self, entries: usize) -> Result<Vec<(u32, u64)>, DecodeError> {
        let count = self.count(HEAD_LEN)?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push((self.index(entries)?, self.u64()?));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        s.unstripped.push(Unstripped {
            entry: 1,
            saving: 4242,
            toolchain: Toolchain::Go,
        });
        s.heads.push((1, 0x0123_4567_89ab_cdef));
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
        assert_eq!(back.paths, s.paths);
        for (a, b) in back.entries.iter().zip(&s.entries) {
            assert_eq!(back.path(a.path), s.path(b.path));
        }
        assert_eq!(back.captured, s.captured);
        assert_eq!(back.hashed, s.hashed);
        assert_eq!(back.watched, s.watched);
        assert_eq!(back.unstripped, s.unstripped);
        assert_eq!(back.heads, s.heads);
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
        s.entries[1].link = u32::MAX - 1;
        assert_eq!(
            LayerScan::decode(&s.encode()),
            Err(DecodeError::Invalid("path id"))
        );
        let mut s = full_scan();
        s.entries[0].path = NO_PATH;
        assert_eq!(
            LayerScan::decode(&s.encode()),
            Err(DecodeError::Invalid("path id"))
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
                        let _ = scan.path(e.path);
                        if e.link != NO_PATH {
                            let _ = scan.path(e.link);
                        }
                    }
                }
            }
        }
    }
}
