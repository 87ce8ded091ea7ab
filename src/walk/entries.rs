//! The tar entry loop: each member's name in normal form, whiteout and opaque markers
//! recognised, kinds counted, regular-file sizes added, hardlink targets kept, the
//! contents an analysis asked for captured or hashed, and ELF files' headers read for
//! what `strip` would save ([`super::elf`]). Content is skipped, never copied.

use std::io::{self, Read, Seek};

use tar::EntryType;

use super::elf;
use super::options::{MAX_CAPTURE_LARGE, ScanOptions};
use super::skip::Pass;
use crate::bytes::tar::{Problem, Reader, is_truncation};
use crate::error::LayerErrorKind;
use crate::model::path::{components, join, normalize, split_parent, within};
use crate::model::scan::DUPLICATE_MIN_BYTES;
use crate::model::{Attrs, EntryKind, LayerFigures, LayerScan, Unstripped, Watched};

const WHITEOUT: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// What a member's name says about it, before its tar type is looked at.
#[derive(Debug, PartialEq, Eq)]
pub enum Marker {
    /// An ordinary name.
    Plain,
    /// `.wh..wh..opq`: the directory (given) hides its lower contents.
    Opaque(Vec<u8>),
    /// `.wh.NAME`: the path (given) is deleted from lower layers.
    Whiteout(Vec<u8>),
    /// AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) or a marker naming nothing:
    /// not content, not counted.
    Ignored,
}

/// Read the whiteout markers of a normalised path.
pub fn marker(path: &[u8]) -> Marker {
    let (parent, name) = split_parent(path);
    if !name.starts_with(WHITEOUT) {
        return Marker::Plain;
    }
    if name == OPAQUE {
        return Marker::Opaque(parent.to_vec());
    }
    if name.starts_with(b".wh..wh.") {
        return Marker::Ignored;
    }
    match &name[WHITEOUT.len()..] {
        b"" | b"." | b".." => Marker::Ignored,
        target => Marker::Whiteout(join(parent, target)),
    }
}

/// The kind of a member that is not a marker.
fn kind_of(etype: EntryType) -> EntryKind {
    match etype {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => EntryKind::File,
        EntryType::Directory => EntryKind::Dir,
        EntryType::Symlink => EntryKind::Symlink,
        EntryType::Link => EntryKind::Hardlink,
        _ => EntryKind::Other,
    }
}

/// Members that only carry metadata for the next one, left as members of their own by
/// the reader: global PAX headers, and PAX or long-name headers in a v7 header.
fn is_metadata(etype: EntryType) -> bool {
    matches!(
        etype,
        EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName
    ) || etype == EntryType::GNULongLink
}

fn tar_error(e: io::Error, entries: usize) -> LayerErrorKind {
    if is_truncation(&e) {
        LayerErrorKind::Truncated(format!("tar stream ends inside entry {}", entries + 1))
    } else {
        LayerErrorKind::BadTar(format!("entry {}: {e}", entries + 1))
    }
}

/// The longest path an entry may have, in bytes. No Linux filesystem can hold a path
/// longer than 4,096 bytes in one piece; this leaves room for any real layer while a
/// crafted 60 MB name is refused instead of becoming millions of tree nodes.
pub const MAX_PATH_BYTES: usize = 64 << 10;
/// The most components an entry's path may have (each is a node of the merged tree).
pub const MAX_PATH_DEPTH: usize = 1024;

/// Checked before merging, so a layer is merged whole or not at all.
fn check_components(path: &[u8], entry: usize) -> Result<(), LayerErrorKind> {
    let limit = |what: String| {
        Err(LayerErrorKind::Limit(format!(
            "entry {}: {what}",
            entry + 1
        )))
    };
    if path.len() > MAX_PATH_BYTES {
        return limit(format!(
            "a path of {} bytes is longer than the {MAX_PATH_BYTES}-byte limit",
            path.len()
        ));
    }
    let mut depth = 0;
    for (_, component) in components(path) {
        depth += 1;
        if component.len() > usize::from(u16::MAX) {
            return limit("a path component is longer than 65535 bytes".to_string());
        }
    }
    if depth > MAX_PATH_DEPTH {
        return limit(format!(
            "a path of {depth} components is deeper than the {MAX_PATH_DEPTH}-component limit"
        ));
    }
    Ok(())
}

/// The bytes a regular file stores in the tar; a sparse file's holes are counted apart.
/// Holes that add up past `u64` are impossible and refused.
fn stored_size<R: Read + Seek>(
    reader: &Reader<R>,
    etype: EntryType,
    figures: &mut LayerFigures,
    index: usize,
) -> Result<u64, LayerErrorKind> {
    if etype == EntryType::GNUSparse {
        let stored = reader.header().size().unwrap_or(0);
        let holes = reader.size().saturating_sub(stored);
        figures.sparse_extra_bytes =
            figures
                .sparse_extra_bytes
                .checked_add(holes)
                .ok_or_else(|| {
                    LayerErrorKind::Limit(format!(
                        "entry {}: sparse files' real sizes add up past 2^64 bytes",
                        index + 1
                    ))
                })?;
        Ok(stored)
    } else {
        Ok(reader.size())
    }
}

/// PAX keys whose values are byte counts: the `tar` crate dropped a value it could not
/// parse and fell back on the header's, so two readers could see two files.
const PAX_NUMBERS: [&[u8]; 3] = [b"size", b"GNU.sparse.size", b"GNU.sparse.realsize"];

/// Whether a PAX record may stand: a byte count must be a decimal number under 2^64.
fn pax_record_ok(key: &[u8], value: &[u8]) -> bool {
    !PAX_NUMBERS.contains(&key) || decimal(value).is_some()
}

fn decimal(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value)
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
}

/// Refuse an entry whose PAX extended header is malformed or gives a size that is not
/// a decimal number (the reader noted the first such record as it read the header).
fn check_pax<R: Read + Seek>(reader: &Reader<R>, index: usize) -> Result<(), LayerErrorKind> {
    let Some(problem) = reader.pax().and_then(|pax| pax.problem()) else {
        return Ok(());
    };
    let name = String::from_utf8_lossy(&reader.path()).into_owned();
    let what = match problem {
        Problem::Malformed => "malformed PAX extended header: malformed pax extension".to_string(),
        Problem::Refused { key, value } => format!(
            "PAX key {} is {:?}, not a decimal number of bytes under 2^64",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(value)
        ),
    };
    Err(LayerErrorKind::BadTar(format!(
        "entry {} ({name}): {what}",
        index + 1
    )))
}

/// Whether `path` is `watched`, under it or above it (a whiteout or a file there
/// changes what is under it).
fn related(path: &[u8], watched: &[u8]) -> bool {
    within(path, watched) || within(watched, path)
}

/// Stream a regular file's content through SHA-256.
fn hash_content<R: Read>(entry: &mut R, size: u64) -> io::Result<[u8; 32]> {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = entry.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(h.finalize().into())
}

/// What the walk reads of a regular file's content, when asked: all of it for a
/// capture, a hash of it, or an ELF file's headers for what `strip` would save. The
/// rest is skipped by the parser. `index` is the entry's, in the scan.
fn read_content<R: Read>(
    entry: &mut R,
    path: &[u8],
    size: u64,
    etype: EntryType,
    opts: &ScanOptions<'_>,
    pass: &Pass,
    scan: &mut LayerScan,
) -> io::Result<()> {
    let index = scan.entries.len() as u32;
    if let Some(capture) = opts.capture
        && capture.wants(path, size)
        && size <= capture.limit(path).min(MAX_CAPTURE_LARGE)
    {
        let mut content = Vec::new();
        entry.take(size).read_to_end(&mut content)?;
        scan.captured.push((index, content));
    } else if let Some(hash) = opts.hash_files
        && hash.wants(path, size)
    {
        let digest = pass.streaming(|| hash_content(entry, size))?;
        scan.hashed.push((index, digest));
    } else if opts.elf && etype != EntryType::GNUSparse && size >= DUPLICATE_MIN_BYTES {
        // Smaller files are neither duplicates worth a finding nor binaries whose
        // symbols weigh anything: their first bytes are not read.
        let mut first = [0u8; elf::FIRST];
        entry.read_exact(&mut first)?;
        scan.heads.push((index, head_print(&first)));
        if let Some(strip) = elf::read(entry, size, &first, pass)? {
            scan.unstripped.push(Unstripped {
                entry: index,
                saving: strip.saving,
                toolchain: strip.toolchain,
            });
        }
    }
    Ok(())
}

/// A 64-bit fingerprint of a file's first bytes (FNV-1a): same-size files whose first
/// bytes differ are not the same content, and need no hashing to tell.
fn head_print(first: &[u8]) -> u64 {
    first.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Walk the entries into `scan`. A tar cut exactly at an entry boundary (no
/// end-of-archive marker) is accepted, as Docker and Go's archive/tar accept it: old
/// `docker save` layers have no marker.
pub fn walk_entries<R: Read + Seek>(
    reader: &mut Reader<R>,
    opts: &ScanOptions<'_>,
    pass: &Pass,
    scan: &mut LayerScan,
) -> Result<(), LayerErrorKind> {
    let mut path = Vec::with_capacity(256);
    let mut link = Vec::with_capacity(256);
    reader.check_pax_records(pax_record_ok);
    loop {
        let index = scan.entries.len();
        if !reader.next_entry().map_err(|e| tar_error(e, index))? {
            return Ok(());
        }
        let etype = EntryType::new(reader.header().typeflag());
        if is_metadata(etype) {
            continue;
        }
        check_pax(reader, index)?;
        if normalize(&reader.path(), &mut path) {
            scan.figures.clamped_paths += 1;
        }
        check_components(&path, index)?;
        let kind = match marker(&path) {
            Marker::Plain => kind_of(etype),
            Marker::Ignored => continue,
            Marker::Opaque(dir) => {
                path = dir;
                EntryKind::Opaque
            }
            Marker::Whiteout(target) => {
                path = target;
                EntryKind::Whiteout
            }
        };
        let size = match kind {
            EntryKind::File => stored_size(reader, etype, &mut scan.figures, index)?,
            _ => 0,
        };
        if kind == EntryKind::Hardlink {
            normalize(reader.link_name().unwrap_or_default(), &mut link);
            check_components(&link, index)?;
        }
        if kind == EntryKind::File {
            read_content(&mut reader.content(), &path, size, etype, opts, pass, scan)
                .map_err(|e| tar_error(e, index))?;
        }
        if let Some(w) = opts.watch
            && related(&path, w)
        {
            let h = reader.header();
            scan.watched.push(Watched {
                entry: index as u32,
                mode: h.mode().unwrap_or(0),
                uid: h.uid().unwrap_or(0),
                gid: h.gid().unwrap_or(0),
            });
        }
        let target = (kind == EntryKind::Hardlink).then_some(link.as_slice());
        let attrs = Attrs::of_fields(&reader.header().as_bytes()[100..124]);
        scan.push_with(kind, &path, target, size, attrs)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteout_markers_name_what_they_delete() {
        assert_eq!(marker(b"etc/passwd"), Marker::Plain);
        assert_eq!(
            marker(b"etc/.wh.passwd"),
            Marker::Whiteout(b"etc/passwd".to_vec())
        );
        assert_eq!(marker(b".wh.tmp"), Marker::Whiteout(b"tmp".to_vec()));
        assert_eq!(
            marker(b"var/cache/.wh..wh..opq"),
            Marker::Opaque(b"var/cache".to_vec())
        );
        assert_eq!(
            marker(b".wh..wh..opq"),
            Marker::Opaque(Vec::new()),
            "the root"
        );
        assert_eq!(marker(b".wh..wh.plnk"), Marker::Ignored, "AUFS bookkeeping");
        assert_eq!(marker(b"a/.wh..wh.aufs"), Marker::Ignored);
        assert_eq!(marker(b"a/.wh."), Marker::Ignored, "names nothing");
        assert_eq!(marker(b"a/.wh.."), Marker::Ignored, "would climb");
        // Only the last component is a marker.
        assert_eq!(marker(b".wh.dir/file"), Marker::Plain);
    }

    #[test]
    fn tar_errors_say_which_entry() {
        let cut = tar_error(io::Error::from(io::ErrorKind::UnexpectedEof), 4);
        assert_eq!(cut.to_string(), "truncated: tar stream ends inside entry 5");
        let bad = tar_error(io::Error::other("bad checksum"), 0);
        assert_eq!(bad.to_string(), "bad tar data: entry 1: bad checksum");
    }
}
