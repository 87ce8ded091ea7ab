//! The layer walker: turns one stored layer blob into a [`LayerScan`], a compact list of
//! per-entry records, in a single streaming pass (detect compression by magic bytes,
//! decompress, read tar headers, skip content). While it reads, it counts stored and
//! uncompressed bytes and hashes them when asked, so verification costs no second pass.
//!
//! It never extracts, never writes to disk and never holds a layer in memory. It knows
//! nothing of images: merging layers is `model::tree`'s job, scheduling is [`parallel`].

pub mod digest;
pub mod image;
pub mod parallel;

use std::io::{self, BufRead, BufReader, Chain, Cursor, Read, Seek, SeekFrom};

use tar::EntryType;

use crate::error::LayerErrorKind;
pub use digest::{Algorithm, NoProgress, Progress};
use digest::{Hasher, Tap};

/// How a layer blob is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Uncompressed tar.
    Tar,
    Gzip,
    Zstd,
    Xz,
    /// A zero-byte blob: an empty layer.
    Empty,
}

impl Compression {
    /// Detect from the first bytes of a blob.
    pub fn detect(head: &[u8]) -> Compression {
        match head {
            [] => Compression::Empty,
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            // zstd skippable frames (zstd:chunked may start with one).
            [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => Compression::Zstd,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
            _ => Compression::Tar,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Tar => "tar",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Empty => "empty",
        }
    }
}

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
    pub kind: EntryKind,
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

/// The result of walking one layer.
#[derive(Debug, Clone)]
pub struct LayerScan {
    pub compression: Compression,
    /// Length of the stored blob.
    pub stored_len: u64,
    /// Length of the decompressed tar stream.
    pub uncompressed_bytes: u64,
    /// Digest of the stored blob, when asked for.
    pub blob_digest: Option<String>,
    /// Digest of the decompressed stream (the diff_id), when asked for.
    pub diff_digest: Option<String>,
    pub entries: Vec<Entry>,
    names: Vec<u8>,
    /// Sum of regular-file content sizes.
    pub added_bytes: u64,
    pub counts: EntryCounts,
    /// Entries whose names hold `..` (resolved lexically, never above the root).
    pub clamped_paths: u64,
    /// Sparse files: apparent size minus stored size.
    pub sparse_extra_bytes: u64,
    /// Contents captured for analyses (entry index, bytes).
    pub captured: Vec<(u32, Vec<u8>)>,
}

impl LayerScan {
    fn empty(compression: Compression) -> Self {
        LayerScan {
            compression,
            stored_len: 0,
            uncompressed_bytes: 0,
            blob_digest: None,
            diff_digest: None,
            entries: Vec::new(),
            names: Vec::new(),
            added_bytes: 0,
            counts: EntryCounts::default(),
            clamped_paths: 0,
            sparse_extra_bytes: 0,
            captured: Vec::new(),
        }
    }

    /// The bytes of a span (a normalised path: no leading `/`, root is empty).
    pub fn text(&self, span: Span) -> &[u8] {
        &self.names[span.off as usize..(span.off + span.len) as usize]
    }

    fn push_name(&mut self, bytes: &[u8]) -> Result<Span, LayerErrorKind> {
        let off = u32::try_from(self.names.len())
            .ok()
            .filter(|off| off.checked_add(bytes.len() as u32).is_some())
            .ok_or_else(|| LayerErrorKind::Limit("more than 4 GiB of entry names".into()))?;
        let len = u32::try_from(bytes.len())
            .map_err(|_| LayerErrorKind::Limit("entry name longer than 4 GiB".into()))?;
        self.names.extend_from_slice(bytes);
        Ok(Span { off, len })
    }
}

/// Decides which entries' contents are kept (for package databases and the like).
/// Files over half of [`MAX_READ_RUN`] are never offered.
pub trait Capture: Sync {
    /// Whether to keep the content of the regular file at `path` of `size` bytes.
    fn wants(&self, path: &[u8], size: u64) -> bool;
}

/// What to compute while walking.
#[derive(Clone, Copy, Default)]
pub struct ScanOptions<'a> {
    /// Hash the stored blob with this algorithm.
    pub blob_hash: Option<Algorithm>,
    /// Hash the decompressed stream with this algorithm.
    pub diff_hash: Option<Algorithm>,
    pub capture: Option<&'a dyn Capture>,
}

const READ_BUF: usize = 256 * 1024;

type RawTap<'p, 'r> = Tap<'p, Box<dyn Read + 'r>>;
type Raw<'p, 'r> = BufReader<Chain<Cursor<Vec<u8>>, RawTap<'p, 'r>>>;

enum Decoder<'p, 'r> {
    Plain(Box<Raw<'p, 'r>>),
    Gzip(Box<flate2::bufread::MultiGzDecoder<Raw<'p, 'r>>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Raw<'p, 'r>>>),
    Xz(Box<liblzma::bufread::XzDecoder<Raw<'p, 'r>>>),
}

impl<'p, 'r> Decoder<'p, 'r> {
    fn into_raw(self) -> Raw<'p, 'r> {
        match self {
            Decoder::Plain(r) => *r,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish(),
            Decoder::Xz(d) => d.into_inner(),
        }
    }
}

impl Read for Decoder<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Xz(d) => d.read(buf),
        }
    }
}

/// Records the first error a reader returned, so tar-level errors can be told apart
/// from decompression errors.
struct ErrTap<R> {
    inner: R,
    error: Option<(io::ErrorKind, String)>,
}

impl<R: Read> Read for ErrTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if self.error.is_none() {
                self.error = Some((e.kind(), e.to_string()));
            }
        })
    }
}

/// The top of the reader stack the tar parser sees: buffered, and "seekable" forward
/// only, so the parser skips file content by consuming the buffer in place instead of
/// copying it out (the bytes below were already counted and hashed).
///
/// It also bounds memory against crafted tars: the parser reads (rather than skips)
/// only headers, GNU long names, PAX records and captured files, all of which it holds
/// in memory, so a run of reads with no skip between them longer than
/// [`MAX_READ_RUN`] is refused.
struct Skipper<R> {
    inner: BufReader<R>,
    pos: u64,
    /// Bytes read since the last skip.
    run: u64,
}

/// The most a tar entry's metadata (long name, PAX records) or a captured file may take.
pub const MAX_READ_RUN: u64 = 64 << 20;

impl<R: Read> Read for Skipper<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        self.run += n as u64;
        if self.run > MAX_READ_RUN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a long name or PAX header is larger than 64 MiB",
            ));
        }
        Ok(n)
    }
}

impl<R: Read> Seek for Skipper<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.run = 0;
        let mut left = match to {
            SeekFrom::Current(n) if n >= 0 => n as u64,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "layer streams only skip forward",
                ));
            }
        };
        while left > 0 {
            let available = self.inner.fill_buf()?.len();
            if available == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF during skip",
                ));
            }
            let step = available.min(usize::try_from(left).unwrap_or(usize::MAX));
            self.inner.consume(step);
            left -= step as u64;
            self.pos += step as u64;
        }
        Ok(self.pos)
    }
}

/// Read up to `n` bytes (fewer only at end of stream).
fn read_head<R: Read>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.by_ref().take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Whether a 512-byte block is a tar header (checksum valid) or all zeros.
pub fn looks_like_tar(block: &[u8]) -> bool {
    if block.len() < 512 {
        return false;
    }
    if block.iter().all(|&b| b == 0) {
        return true;
    }
    let field = &block[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Ok(text) = std::str::from_utf8(&digits) else {
        return false;
    };
    let Ok(expected) = u32::from_str_radix(text, 8) else {
        return false;
    };
    let sum: u32 = block[..148]
        .iter()
        .chain(&block[156..512])
        .map(|&b| u32::from(b))
        .sum::<u32>()
        + 8 * u32::from(b' ');
    sum == expected
}

fn decode_error(compression: Compression, e: &(io::ErrorKind, String)) -> LayerErrorKind {
    match (compression, e.0) {
        (_, io::ErrorKind::UnexpectedEof) => {
            LayerErrorKind::Truncated(format!("{} stream ends early", compression.name()))
        }
        (Compression::Tar, _) => LayerErrorKind::Open(e.1.clone()),
        (c, _) => LayerErrorKind::Corrupt {
            compression: c.name(),
            message: if e.1.contains(c.name()) {
                e.1.clone()
            } else {
                format!("corrupt {} stream: {}", c.name(), e.1)
            },
        },
    }
}

/// Normalise a tar member name: drop `./`, leading `/`, empty and `.` components;
/// resolve `..` lexically, clamped at the root. Returns whether the name held `..`.
pub fn normalize(raw: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut clamped = false;
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                clamped = true;
                match out.iter().rposition(|&b| b == b'/') {
                    Some(i) => out.truncate(i),
                    None => out.clear(),
                }
            }
            c => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    clamped
}

/// Split a normalised path into (parent, name).
pub fn split_parent(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

const WHITEOUT: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// Walk one stored layer blob.
pub fn scan<'r>(
    raw: Box<dyn Read + 'r>,
    opts: &ScanOptions<'_>,
    progress: &dyn Progress,
) -> Result<LayerScan, LayerErrorKind> {
    let mut tap = Tap::new(raw, opts.blob_hash.map(Hasher::new), Some(progress));
    let head = read_head(&mut tap, 8).map_err(|e| LayerErrorKind::Open(e.to_string()))?;
    let compression = Compression::detect(&head);
    let raw: Raw<'_, '_> = BufReader::with_capacity(READ_BUF, Cursor::new(head).chain(tap));
    let decoder = match compression {
        Compression::Empty => {
            let (_, tap) = raw.into_inner().into_inner();
            let mut scan = LayerScan::empty(Compression::Empty);
            let (_, stored, blob) = tap
                .finish()
                .map_err(|e| LayerErrorKind::Open(e.to_string()))?;
            scan.stored_len = stored;
            scan.blob_digest = blob;
            scan.diff_digest = opts.diff_hash.map(|a| Hasher::new(a).finish());
            return Ok(scan);
        }
        Compression::Tar => Decoder::Plain(Box::new(raw)),
        Compression::Gzip => Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(raw))),
        Compression::Zstd => {
            let zstd_error =
                |e: io::Error| decode_error(Compression::Zstd, &(e.kind(), e.to_string()));
            let mut d = zstd::stream::read::Decoder::with_buffer(raw).map_err(zstd_error)?;
            d.window_log_max(31).map_err(zstd_error)?;
            Decoder::Zstd(Box::new(d))
        }
        Compression::Xz => Decoder::Xz(Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(
            raw,
        ))),
    };
    // For an uncompressed layer the diff_id is the blob digest: hash once.
    let same_hash = compression == Compression::Tar && opts.diff_hash == opts.blob_hash;
    let diff_hash = if same_hash { None } else { opts.diff_hash };
    let mut plain = ErrTap {
        inner: Tap::new(decoder, diff_hash.map(Hasher::new), None),
        error: None,
    };
    let block = match read_head(&mut plain, 512) {
        Ok(b) => b,
        Err(e) => return Err(decode_error(compression, &(e.kind(), e.to_string()))),
    };
    let mut scan = LayerScan::empty(compression);
    if !block.is_empty() && !looks_like_tar(&block) {
        let what = if block.len() < 512 && compression == Compression::Tar {
            format!("{} bytes of data that is not a tar archive", block.len())
        } else {
            "content is not a tar archive".to_string()
        };
        return Err(LayerErrorKind::NotTar(what));
    }
    let top = Skipper {
        inner: BufReader::with_capacity(READ_BUF, Cursor::new(block).chain(plain)),
        pos: 0,
        run: 0,
    };
    let mut archive = tar::Archive::new(top);
    let walked = walk_entries(&mut archive, opts, &mut scan);
    // Dropping the top buffer loses nothing: what it held was already counted below.
    let (_, mut plain) = archive.into_inner().inner.into_inner().into_inner();
    if let Err(kind) = walked {
        if let Some(e) = plain.error.take() {
            return Err(decode_error(compression, &e));
        }
        return Err(kind);
    }
    // Count (and hash) what follows the end-of-archive marker: padding, estargz TOC.
    let (decoder, uncompressed, diff) = plain
        .inner
        .finish()
        .map_err(|e| decode_error(compression, &(e.kind(), e.to_string())))?;
    scan.uncompressed_bytes = uncompressed;
    scan.diff_digest = diff;
    // Trailing bytes after the compressed stream still belong to the blob.
    let (_, tap) = decoder.into_raw().into_inner().into_inner();
    let (_, stored, blob) = tap
        .finish()
        .map_err(|e| LayerErrorKind::Open(e.to_string()))?;
    scan.stored_len = stored;
    if same_hash {
        scan.diff_digest.clone_from(&blob);
    }
    scan.blob_digest = blob;
    Ok(scan)
}

fn tar_error(e: io::Error, entries: usize) -> LayerErrorKind {
    if e.kind() == io::ErrorKind::UnexpectedEof || e.to_string().contains("unexpected EOF") {
        LayerErrorKind::Truncated(format!("tar stream ends inside entry {}", entries + 1))
    } else {
        LayerErrorKind::BadTar(format!("entry {}: {e}", entries + 1))
    }
}

/// Round a tar data length up to whole 512-byte blocks.
pub fn blocks(len: u64) -> u64 {
    len.div_ceil(512).saturating_mul(512)
}

/// Walk the entries into `scan`. A tar cut exactly at an entry boundary (no
/// end-of-archive marker) is accepted, as Docker and Go's archive/tar accept it: old
/// `docker save` layers have no marker.
fn walk_entries<R: Read + Seek>(
    archive: &mut tar::Archive<R>,
    opts: &ScanOptions<'_>,
    scan: &mut LayerScan,
) -> Result<(), LayerErrorKind> {
    let mut path = Vec::with_capacity(256);
    let mut link = Vec::with_capacity(256);
    let entries = archive.entries_with_seek().map_err(|e| tar_error(e, 0))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| tar_error(e, scan.entries.len()))?;
        let etype = entry.header().entry_type();
        if matches!(
            etype,
            EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName
        ) || etype == EntryType::GNULongLink
        {
            continue;
        }
        if normalize(&entry.path_bytes(), &mut path) {
            scan.clamped_paths += 1;
        }
        // Checked here, before merging, so a layer is merged whole or not at all.
        if path
            .split(|&b| b == b'/')
            .any(|c| c.len() > usize::from(u16::MAX))
        {
            return Err(LayerErrorKind::Limit(format!(
                "entry {}: a path component is longer than 65535 bytes",
                scan.entries.len() + 1
            )));
        }
        let (parent, name) = split_parent(&path);
        let mut size = 0;
        let kind = if name.starts_with(WHITEOUT) {
            if name == OPAQUE {
                let p = parent.to_vec();
                path = p;
                scan.counts.opaques += 1;
                EntryKind::Opaque
            } else if name.starts_with(b".wh..wh.") {
                // AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`): not content.
                continue;
            } else {
                let target = &name[WHITEOUT.len()..];
                if target.is_empty() || target == b"." || target == b".." {
                    continue;
                }
                let mut p = parent.to_vec();
                if !p.is_empty() {
                    p.push(b'/');
                }
                p.extend_from_slice(target);
                path = p;
                scan.counts.whiteouts += 1;
                EntryKind::Whiteout
            }
        } else {
            match etype {
                EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                    size = if etype == EntryType::GNUSparse {
                        let stored = entry.header().entry_size().unwrap_or(0);
                        scan.sparse_extra_bytes += entry.size().saturating_sub(stored);
                        stored
                    } else {
                        entry.size()
                    };
                    scan.counts.files += 1;
                    EntryKind::File
                }
                EntryType::Directory => {
                    scan.counts.dirs += 1;
                    EntryKind::Dir
                }
                EntryType::Symlink => {
                    scan.counts.symlinks += 1;
                    EntryKind::Symlink
                }
                EntryType::Link => {
                    scan.counts.hardlinks += 1;
                    EntryKind::Hardlink
                }
                _ => {
                    scan.counts.others += 1;
                    EntryKind::Other
                }
            }
        };
        let link_span = if kind == EntryKind::Hardlink {
            let target = entry.link_name_bytes().unwrap_or_default();
            normalize(&target, &mut link);
            scan.push_name(&link)?
        } else {
            Span::default()
        };
        if kind == EntryKind::File
            && let Some(capture) = opts.capture
            && size <= MAX_READ_RUN / 2
            && capture.wants(&path, size)
        {
            let mut content = Vec::new();
            entry
                .by_ref()
                .take(size)
                .read_to_end(&mut content)
                .map_err(|e| tar_error(e, scan.entries.len()))?;
            scan.captured.push((scan.entries.len() as u32, content));
        }
        let path_span = scan.push_name(&path)?;
        scan.added_bytes += size;
        scan.entries.push(Entry {
            path: path_span,
            link: link_span,
            size,
            kind,
        });
    }
    Ok(())
}

/// Open a decompressing reader over a stream whose compression is detected from its
/// first bytes (used for whole archives: `docker save | gzip`).
pub fn decompressing_reader<'a>(
    mut r: Box<dyn Read + Send + 'a>,
) -> io::Result<(Compression, Box<dyn BufRead + Send + 'a>)> {
    let head = read_head(&mut r, 8)?;
    let compression = Compression::detect(&head);
    let buf = BufReader::with_capacity(READ_BUF, Cursor::new(head).chain(r));
    let out: Box<dyn BufRead + Send + 'a> = match compression {
        Compression::Gzip => Box::new(BufReader::with_capacity(
            READ_BUF,
            flate2::bufread::MultiGzDecoder::new(buf),
        )),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(buf)?;
            d.window_log_max(31)?;
            Box::new(BufReader::with_capacity(READ_BUF, d))
        }
        Compression::Xz => Box::new(BufReader::with_capacity(
            READ_BUF,
            liblzma::bufread::XzDecoder::new_multi_decoder(buf),
        )),
        _ => Box::new(buf),
    };
    Ok((compression, out))
}
