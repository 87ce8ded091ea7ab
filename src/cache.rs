//! The on-disk layer cache: a walked layer's [`LayerScan`], kept under the layer's blob
//! digest so that a later report reads (or downloads) only the layers it has not seen;
//! and [`FileHashes`], the SHA-256 of some files of a layer (re-add confirmation),
//! kept under a key made of the layer digest and the paths. It owns the directory
//! layout, the file format (a header naming the key, the entry's kind and format, the
//! crate version and the payload's SHA-256, then [`LayerScan::encode`] or the hashes),
//! atomic writes and the size bound (least recently used out). It must not decide what
//! is cacheable: it stores whatever scan it is given, and the pipeline gives it only the
//! scans that are a pure function of the digest. It walks and opens no layer, and it
//! imports `model`, `bytes` and `error` only. Reading never fails (anything but a good
//! entry is a miss); writing is best effort, and callers may ignore its errors.
//! [`Cache`] puts this directory cache and the shared one in Redis ([`SharedCache`], in
//! `cache/shared.rs`, the same entries) behind the one face the pipeline uses.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::model::LayerScan;
use crate::model::scan_codec::SCAN_FORMAT;

mod shared;

pub use shared::{CacheCounts, Lock, Notice, SharedCache, SharedSettings};

/// Files of one layer by path, with the SHA-256 of their content.
pub type FileHashes = HashMap<Vec<u8>, [u8; 32]>;

/// The payload kind and format of a [`FileHashes`] entry, where a scan entry has
/// [`SCAN_FORMAT`] (the high bit tells them apart).
const HASHES_FORMAT: u16 = 0x8001;

/// First bytes of every cache entry.
const MAGIC: [u8; 8] = *b"imgsz-lc";

/// Version of the entry layout (the header; the payload carries [`SCAN_FORMAT`]). It
/// also names the directory, so a new layout starts from an empty one.
const FORMAT: u16 = 1;

/// The imgsize release that wrote an entry: a release may change what a walk records
/// without changing the encoding, so entries of other releases are never read.
const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");
const _: () = assert!(CRATE_VERSION.len() <= u8::MAX as usize);

/// Longest digest accepted as a key: `sha512:` and 128 hex digits fit, and the file
/// name stays under the usual 255-byte limit.
const MAX_DIGEST: usize = 200;

/// Prefix of the files an entry is written to before it is renamed into place.
const TEMP_PREFIX: &str = ".tmp-";

/// A temp file this old was left by a process that died while writing it.
const STALE_TEMP: Duration = Duration::from_secs(60 * 60);

/// Makes temp names unique within a process; the pid makes them unique across.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Walked layers on disk, one file per blob digest, at most `max_bytes` of them.
#[derive(Debug, Clone)]
pub struct LayerCache {
    /// The versioned directory the entries are in (`<dir>/layers-v1`).
    dir: PathBuf,
    max_bytes: u64,
}

/// The layer cache a run uses: a directory on this machine, or a Redis database that
/// workers on many machines share.
#[derive(Debug, Clone)]
pub enum Cache {
    /// [`LayerCache`].
    Dir(LayerCache),
    /// [`SharedCache`].
    Shared(std::sync::Arc<SharedCache>),
}

/// What [`Cache::claim`] found before a layer is walked.
#[derive(Debug)]
pub enum Claim<'a> {
    /// The layer's stored scan.
    Found(Box<LayerScan>),
    /// No entry: walk the layer, holding this lock (a shared cache's) meanwhile.
    Walk(Option<Lock<'a>>),
}

impl Cache {
    /// The stored scan of `digest`, or the right to walk it: a shared cache first takes
    /// the layer's lock, or waits for the worker that holds it.
    pub fn claim(&self, digest: &str) -> Claim<'_> {
        match self {
            Cache::Dir(c) => c
                .get(digest)
                .map_or(Claim::Walk(None), |s| Claim::Found(Box::new(s))),
            Cache::Shared(c) => c.claim(digest),
        }
    }

    /// Store a walked layer's scan (best effort).
    pub fn put(&self, digest: &str, scan: &LayerScan) -> Result<()> {
        match self {
            Cache::Dir(c) => c.put(digest, scan),
            Cache::Shared(c) => c.put(digest, scan),
        }
    }

    /// The file hashes stored under `key`.
    pub fn get_hashes(&self, key: &str) -> Option<FileHashes> {
        match self {
            Cache::Dir(c) => c.get_hashes(key),
            Cache::Shared(c) => c.get_hashes(key),
        }
    }

    /// Store file hashes under `key` (best effort).
    pub fn put_hashes(&self, key: &str, hashes: &FileHashes) -> Result<()> {
        match self {
            Cache::Dir(c) => c.put_hashes(key, hashes),
            Cache::Shared(c) => c.put_hashes(key, hashes),
        }
    }
}

/// Why an entry was not used.
#[derive(Debug, PartialEq, Eq)]
enum Miss {
    /// Written by another imgsize release or layout: left for LRU or the next `put`.
    OtherVersion,
    /// Damaged, or not what its name says: removed.
    Corrupt,
}

impl LayerCache {
    /// The size bound [`LayerCache::open`] callers use unless told otherwise: 2 GiB.
    pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

    /// `$XDG_CACHE_HOME/imgsize`, else `$HOME/.cache/imgsize`; `None` when neither is
    /// set to an absolute path.
    pub fn default_dir() -> Option<PathBuf> {
        dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
    }

    /// The cache under `dir`, whose versioned subdirectory (`layers-v1`) is created if
    /// missing. Entries beyond `max_bytes` in all are evicted by [`LayerCache::put`].
    pub fn open(dir: &Path, max_bytes: u64) -> Result<LayerCache> {
        let dir = dir.join(format!("layers-v{FORMAT}"));
        fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        Ok(LayerCache { dir, max_bytes })
    }

    /// The directory the entries are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The walked layer stored for `digest`, and the entry becomes the most recently
    /// used. `None` when there is none, it cannot be read, another release wrote it, or
    /// it is corrupt (then it is removed).
    pub fn get(&self, digest: &str) -> Option<LayerScan> {
        self.load(digest, read_entry)
    }

    /// The file hashes stored under `key`, as [`get`](Self::get) reads a scan.
    pub fn get_hashes(&self, key: &str) -> Option<FileHashes> {
        self.load(key, |bytes, key| {
            decode_hashes(unframed(bytes, key, HASHES_FORMAT)?).ok_or(Miss::Corrupt)
        })
    }

    /// Store file hashes under `key`, as [`put`](Self::put) stores a scan.
    pub fn put_hashes(&self, key: &str, hashes: &FileHashes) -> Result<()> {
        self.store(key, framed(key, HASHES_FORMAT, &encode_hashes(hashes)))
    }

    fn load<T>(
        &self,
        digest: &str,
        read: impl Fn(&[u8], &str) -> std::result::Result<T, Miss>,
    ) -> Option<T> {
        let path = self.dir.join(file_name(digest)?);
        let mut file = File::open(&path).ok()?;
        if file.metadata().ok()?.len() > self.max_bytes {
            // More than the bound allows (it was lowered, or a stranger wrote it).
            let _ = fs::remove_file(&path);
            return None;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        match read(&bytes, digest) {
            Ok(value) => {
                touch(&file, &path);
                Some(value)
            }
            Err(Miss::OtherVersion) => None,
            Err(Miss::Corrupt) => {
                // Another process may have just replaced it: then its entry is lost,
                // which costs a walk, never a wrong answer.
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Store `scan` for `digest`, replacing any entry for it, then evict the least
    /// recently used entries until the cache is within its bound. An entry larger than
    /// the bound on its own is not kept. Refuses a digest that is not `algorithm:hex`
    /// (lowercase), which is what keeps names inside the directory.
    pub fn put(&self, digest: &str, scan: &LayerScan) -> Result<()> {
        self.store(digest, entry_bytes(digest, scan))
    }

    fn store(&self, digest: &str, bytes: Vec<u8>) -> Result<()> {
        let name = file_name(digest).ok_or_else(|| Error::Cache {
            path: self.dir.display().to_string(),
            message: format!("cannot key an entry by {digest:?}: not a digest"),
        })?;
        let path = self.dir.join(&name);
        if bytes.len() as u64 > self.max_bytes {
            // Too large to keep: drop what an older release wrote for it too.
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(Error::io(path.display().to_string(), e))
                }
                _ => Ok(()),
            };
        }
        let temp = self.write_temp(&bytes)?;
        if let Err(e) = fs::rename(&temp, &path) {
            let _ = fs::remove_file(&temp);
            return Err(Error::io(path.display().to_string(), e));
        }
        self.evict(&name)
    }

    /// Write `bytes` to a new temp file in the cache directory; its path.
    fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf> {
        let pid = std::process::id();
        let mut attempt = 0;
        loop {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = self.dir.join(format!("{TEMP_PREFIX}{pid}-{n}"));
            let written = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .and_then(|mut f| f.write_all(bytes));
            match written {
                Ok(()) => return Ok(temp),
                // Left by a dead process of the same pid: try the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => {
                    attempt += 1;
                }
                Err(e) => {
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        let _ = fs::remove_file(&temp);
                    }
                    return Err(Error::io(temp.display().to_string(), e));
                }
            }
        }
    }

    /// Remove the least recently used entries but `keep` until the entries total at
    /// most `max_bytes`; also remove stale temp files. One pass over the directory.
    /// Entries that vanish meanwhile (another process evicting) are fine.
    fn evict(&self, keep: &str) -> Result<()> {
        let listing =
            fs::read_dir(&self.dir).map_err(|e| Error::io(self.dir.display().to_string(), e))?;
        let now = SystemTime::now();
        let mut total: u64 = 0;
        let mut others: Vec<(SystemTime, OsString, u64)> = Vec::new();
        for entry in listing.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let name = entry.file_name();
            let Some(text) = name.to_str() else { continue };
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if text.starts_with(TEMP_PREFIX) {
                if now.duration_since(used).is_ok_and(|age| age > STALE_TEMP) {
                    let _ = fs::remove_file(entry.path());
                }
                continue;
            }
            if !is_entry_name(text) {
                continue;
            }
            total = total.saturating_add(meta.len());
            if text != keep {
                others.push((used, name, meta.len()));
            }
        }
        if total <= self.max_bytes {
            return Ok(());
        }
        // Oldest first; the name breaks ties so the order is total.
        others.sort();
        for (_, name, len) in others {
            if total <= self.max_bytes {
                break;
            }
            match fs::remove_file(self.dir.join(&name)) {
                Ok(()) => total -= len,
                Err(e) if e.kind() == io::ErrorKind::NotFound => total -= len,
                // Cannot remove this one (permissions): try the next.
                Err(_) => {}
            }
        }
        Ok(())
    }
}

/// The default directory from the values of `XDG_CACHE_HOME` and `HOME`. Relative
/// values are ignored, as the XDG base directory specification says.
fn dir_from(xdg: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let absolute = |v: Option<OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    let base = absolute(xdg).or_else(|| absolute(home).map(|h| h.join(".cache")))?;
    Some(base.join("imgsize"))
}

/// The entry name of a digest: `sha256:<hex>` → `sha256-<hex>`; `None` unless the
/// digest is strictly `[a-z0-9]+:[a-f0-9]+` (so no separator, dot or other byte can
/// reach the file system) and at most [`MAX_DIGEST`] long.
fn file_name(digest: &str) -> Option<String> {
    let (algorithm, hex) = digest.split_once(':')?;
    (digest.len() <= MAX_DIGEST && is_key(algorithm, hex)).then(|| format!("{algorithm}-{hex}"))
}

/// Whether a file in the directory is an entry (a temp file or a stranger is not).
fn is_entry_name(name: &str) -> bool {
    name.split_once('-')
        .is_some_and(|(algorithm, hex)| name.len() <= MAX_DIGEST && is_key(algorithm, hex))
}

fn is_key(algorithm: &str, hex: &str) -> bool {
    !algorithm.is_empty()
        && !hex.is_empty()
        && algorithm
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Mark an entry as just used. Best effort: a read-only cache still serves hits.
fn touch(file: &File, path: &Path) {
    let now = SystemTime::now();
    if file.set_modified(now).is_err()
        && let Ok(f) = OpenOptions::new().write(true).open(path)
    {
        let _ = f.set_modified(now);
    }
}

/// A scan's entry bytes (see [`framed`]).
fn entry_bytes(digest: &str, scan: &LayerScan) -> Vec<u8> {
    framed(digest, SCAN_FORMAT, &scan.encode())
}

/// The scan in an entry's bytes, if they are a whole, undamaged scan entry for
/// `digest` written by this release.
fn read_entry(bytes: &[u8], digest: &str) -> std::result::Result<LayerScan, Miss> {
    LayerScan::decode(unframed(bytes, digest, SCAN_FORMAT)?).map_err(|_| Miss::Corrupt)
}

/// An entry's bytes. Header, little-endian: magic (8), entry layout version (`u16`),
/// payload kind and format (`u16`: [`SCAN_FORMAT`] or [`HASHES_FORMAT`]), crate
/// version (`u8` length, bytes), key (`u8` length, bytes), payload length (`u64`),
/// SHA-256 of the payload (32); then the payload.
fn framed(digest: &str, kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + CRATE_VERSION.len() + digest.len() + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    // Both fit: checked at compile time and by `file_name`.
    out.push(CRATE_VERSION.len() as u8);
    out.extend_from_slice(CRATE_VERSION.as_bytes());
    out.push(digest.len() as u8);
    out.extend_from_slice(digest.as_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

/// The payload of an entry's bytes, if they are a whole, undamaged entry of `kind`
/// for `digest` written by this release.
fn unframed<'a>(bytes: &'a [u8], digest: &str, kind: u16) -> std::result::Result<&'a [u8], Miss> {
    let mut rest = bytes;
    let mut take = |n: usize| -> std::result::Result<&'a [u8], Miss> {
        let (head, tail) = rest.split_at_checked(n).ok_or(Miss::Corrupt)?;
        rest = tail;
        Ok(head)
    };
    if take(MAGIC.len())? != MAGIC {
        return Err(Miss::Corrupt);
    }
    if take(2)? != FORMAT.to_le_bytes() || take(2)? != kind.to_le_bytes() {
        return Err(Miss::OtherVersion);
    }
    let len = take(1)?[0] as usize;
    if take(len)? != CRATE_VERSION.as_bytes() {
        return Err(Miss::OtherVersion);
    }
    let len = take(1)?[0] as usize;
    if take(len)? != digest.as_bytes() {
        return Err(Miss::Corrupt);
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(take(8)?);
    let sum = take(32)?;
    let payload = rest;
    if u64::from_le_bytes(len) != payload.len() as u64 || Sha256::digest(payload)[..] != sum[..] {
        return Err(Miss::Corrupt);
    }
    Ok(payload)
}

/// File hashes as bytes: their count (`u64`), then for each, sorted by path, the
/// path's length (`u32`), the path and the 32-byte hash.
fn encode_hashes(hashes: &FileHashes) -> Vec<u8> {
    let mut sorted: Vec<(&Vec<u8>, &[u8; 32])> = hashes.iter().collect();
    sorted.sort();
    let mut out = Vec::new();
    out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
    for (path, hash) in sorted {
        out.extend_from_slice(&(path.len() as u32).to_le_bytes());
        out.extend_from_slice(path);
        out.extend_from_slice(hash);
    }
    out
}

/// [`encode_hashes`] read back; `None` for anything else.
fn decode_hashes(mut bytes: &[u8]) -> Option<FileHashes> {
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = bytes.split_at_checked(n)?;
        bytes = tail;
        Some(head)
    };
    let count = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let mut out = FileHashes::new();
    for _ in 0..count {
        let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let path = take(len)?.to_vec();
        let hash: [u8; 32] = take(32)?.try_into().ok()?;
        out.insert(path, hash);
    }
    bytes.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::Compression;
    use crate::model::EntryKind;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    /// A small scan whose figures say which layer it was.
    fn scan(tag: u64) -> LayerScan {
        let mut s = LayerScan::default();
        s.push(EntryKind::Dir, b"etc", None, 0).expect("push");
        s.push(EntryKind::File, b"etc/os-release", None, tag)
            .expect("push");
        s.figures.compression = Some(Compression::Gzip);
        s.figures.compressed_bytes = tag;
        s.blob_digest = Some(digest('a'));
        s.captured.push((1, b"ID=test\n".to_vec()));
        s
    }

    fn cache(dir: &Path, max_bytes: u64) -> LayerCache {
        LayerCache::open(dir, max_bytes).expect("open")
    }

    fn entry(c: &LayerCache, d: &str) -> PathBuf {
        c.dir().join(file_name(d).expect("valid digest"))
    }

    fn set_used(path: &Path, ago: Duration) {
        let file = OpenOptions::new().write(true).open(path).expect("open");
        file.set_modified(SystemTime::now() - ago)
            .expect("set mtime");
    }

    #[test]
    fn a_stored_scan_is_a_hit_and_other_digests_miss() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES);
        assert!(c.dir().starts_with(tmp.path()) && c.dir().is_dir());
        assert_eq!(c.get(&digest('a')), None, "empty cache");
        c.put(&digest('a'), &scan(1)).expect("put");
        assert_eq!(c.get(&digest('a')), Some(scan(1)));
        assert_eq!(c.get(&digest('b')), None);
        c.put(&digest('a'), &scan(2)).expect("replace");
        assert_eq!(c.get(&digest('a')), Some(scan(2)));
        // Reopening finds it: it is on disk, not in the value.
        assert_eq!(
            cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES).get(&digest('a')),
            Some(scan(2))
        );
        let leftovers: Vec<_> = fs::read_dir(c.dir())
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n.to_string_lossy().starts_with(TEMP_PREFIX))
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    }

    #[test]
    fn file_hashes_are_entries_of_their_own_kind() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES);
        let hashes: FileHashes = [
            (b"app/.git/pack".to_vec(), [7u8; 32]),
            (b"app/main.py".to_vec(), [9u8; 32]),
        ]
        .into_iter()
        .collect();
        c.put_hashes(&digest('c'), &hashes).expect("put hashes");
        assert_eq!(c.get_hashes(&digest('c')), Some(hashes.clone()));
        // A hashes entry is never read as a scan, nor a scan as hashes.
        assert_eq!(c.get(&digest('c')), None);
        c.put(&digest('d'), &scan(1)).expect("put");
        assert_eq!(c.get_hashes(&digest('d')), None);
        assert_eq!(c.get(&digest('d')), Some(scan(1)));
        // The encoding reads back exactly, and nothing else reads.
        let bytes = encode_hashes(&hashes);
        assert_eq!(decode_hashes(&bytes), Some(hashes));
        assert_eq!(decode_hashes(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode_hashes(&[bytes.as_slice(), &[0]].concat()), None);
    }

    #[test]
    fn a_corrupt_entry_is_a_miss_and_is_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES);
        let d = digest('a');
        c.put(&d, &scan(1)).expect("put");
        let path = entry(&c, &d);
        let good = fs::read(&path).expect("read");
        // A flipped payload byte, a truncated file, an empty file, garbage.
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        for bad in [
            flipped,
            good[..good.len() - 1].to_vec(),
            good[..10].to_vec(),
            Vec::new(),
            b"not a cache entry".to_vec(),
        ] {
            fs::write(&path, &bad).expect("write");
            assert_eq!(c.get(&d), None);
            assert!(!path.exists(), "a corrupt entry is removed");
        }
    }

    #[test]
    fn an_entry_for_another_digest_is_a_miss() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES);
        // A whole, checksummed entry for b, under a's name.
        fs::write(entry(&c, &digest('a')), entry_bytes(&digest('b'), &scan(1))).expect("write");
        assert_eq!(c.get(&digest('a')), None);
        assert!(!entry(&c, &digest('a')).exists());
        assert_eq!(
            read_entry(&entry_bytes(&digest('b'), &scan(1)), &digest('a')),
            Err(Miss::Corrupt)
        );
    }

    #[test]
    fn an_entry_of_another_release_is_a_miss_and_is_left_alone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES);
        let d = digest('a');
        let mut bytes = entry_bytes(&d, &scan(1));
        // The crate version's first byte, after magic, two versions and its length.
        bytes[MAGIC.len() + 2 + 2 + 1] ^= 0x40;
        fs::write(entry(&c, &d), &bytes).expect("write");
        assert_eq!(read_entry(&bytes, &d), Err(Miss::OtherVersion));
        assert_eq!(c.get(&d), None);
        assert!(entry(&c, &d).exists(), "the next put replaces it");
        let mut layout = entry_bytes(&d, &scan(1));
        layout[MAGIC.len()] ^= 0x01;
        assert_eq!(read_entry(&layout, &d), Err(Miss::OtherVersion));
        c.put(&d, &scan(1)).expect("put");
        assert_eq!(c.get(&d), Some(scan(1)));
    }

    #[test]
    fn eviction_keeps_the_recently_used_entries_within_the_bound() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let one = entry_bytes(&digest('a'), &scan(1)).len() as u64;
        // Room for two entries, not three.
        let c = cache(tmp.path(), 2 * one + one / 2);
        c.put(&digest('a'), &scan(1)).expect("put a");
        c.put(&digest('b'), &scan(1)).expect("put b");
        set_used(&entry(&c, &digest('a')), Duration::from_secs(7200));
        set_used(&entry(&c, &digest('b')), Duration::from_secs(3600));
        // a is the older, until it is read.
        assert!(c.get(&digest('a')).is_some());
        c.put(&digest('c'), &scan(1)).expect("put c");
        assert!(entry(&c, &digest('a')).exists(), "recently read");
        assert!(!entry(&c, &digest('b')).exists(), "least recently used");
        assert!(entry(&c, &digest('c')).exists(), "just written");
        // The next put evicts the older of a and c, never the one it writes.
        set_used(&entry(&c, &digest('c')), Duration::from_secs(60));
        set_used(&entry(&c, &digest('a')), Duration::from_secs(120));
        c.put(&digest('d'), &scan(1)).expect("put d");
        assert!(!entry(&c, &digest('a')).exists());
        assert!(entry(&c, &digest('c')).exists());
        assert!(entry(&c, &digest('d')).exists());
    }

    #[test]
    fn an_entry_larger_than_the_bound_is_not_kept() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let one = entry_bytes(&digest('a'), &scan(1)).len() as u64;
        let c = cache(tmp.path(), one + 10);
        c.put(&digest('a'), &scan(1)).expect("put a");
        let mut big = scan(2);
        big.captured.push((1, vec![0; 4096]));
        c.put(&digest('b'), &big).expect("not kept is not an error");
        assert_eq!(c.get(&digest('b')), None);
        assert_eq!(c.get(&digest('a')), Some(scan(1)), "and it evicted nothing");
    }

    #[test]
    fn concurrent_writers_and_readers_see_whole_entries_only() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let one = entry_bytes(&digest('a'), &scan(1)).len() as u64;
        // Room for about two entries, so eviction races with reads and writes.
        let c = cache(tmp.path(), 2 * one + one / 2);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let c = &c;
                s.spawn(move || {
                    for i in 0..50u64 {
                        let d = digest(['a', 'b', 'c'][((t + i) % 3) as usize]);
                        c.put(&d, &scan(1)).expect("put");
                        if let Some(got) = c.get(&d) {
                            assert_eq!(got, scan(1));
                        }
                    }
                });
            }
        });
        // Puts that overlap may each see the directory before the other's rename; the
        // next put sees it whole.
        c.put(&digest('a'), &scan(1)).expect("put");
        let names: Vec<_> = fs::read_dir(c.dir())
            .expect("list")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| is_entry_name(n)), "{names:?}");
        assert!(names.len() <= 2, "{names:?}");
    }

    #[test]
    fn stale_temp_files_are_swept_and_fresh_ones_left() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES);
        let stale = c.dir().join(format!("{TEMP_PREFIX}1-1"));
        let fresh = c.dir().join(format!("{TEMP_PREFIX}1-2"));
        fs::write(&stale, b"half").expect("write");
        fs::write(&fresh, b"half").expect("write");
        set_used(&stale, STALE_TEMP * 2);
        c.put(&digest('a'), &scan(1)).expect("put");
        assert!(!stale.exists());
        assert!(fresh.exists(), "another process may be writing it");
    }

    #[test]
    fn digests_that_are_not_algorithm_and_hex_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = cache(tmp.path(), LayerCache::DEFAULT_MAX_BYTES);
        let long = format!("sha256:{}", "a".repeat(MAX_DIGEST));
        for bad in [
            "",
            "sha256",
            "sha256:",
            ":abcd",
            "sha256:../../etc/passwd",
            "sha256:ab/cd",
            "../sha256:abcd",
            "sha256:ABCD",
            "SHA256:abcd",
            "sha-256:abcd",
            "sha256:abcd:ef",
            "sha256:abcg",
            "sha256:ab cd",
            "sha256:abcd\n",
            "sha256:abc\0",
            long.as_str(),
        ] {
            assert_eq!(file_name(bad), None, "{bad:?}");
            assert!(
                matches!(c.put(bad, &scan(1)), Err(Error::Cache { .. })),
                "{bad:?}"
            );
            assert_eq!(c.get(bad), None);
        }
        assert_eq!(fs::read_dir(c.dir()).expect("list").count(), 0);
        assert_eq!(file_name("sha512:0f").as_deref(), Some("sha512-0f"));
        let sha512 = format!("sha512:{}", "f".repeat(128));
        assert!(file_name(&sha512).is_some());
    }

    #[test]
    #[cfg(unix)]
    fn the_default_directory_follows_xdg_then_home() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(
            dir_from(os("/xdg"), os("/home/u")),
            Some(PathBuf::from("/xdg/imgsize"))
        );
        assert_eq!(
            dir_from(None, os("/home/u")),
            Some(PathBuf::from("/home/u/.cache/imgsize"))
        );
        assert_eq!(
            dir_from(os("relative"), os("/home/u")),
            Some(PathBuf::from("/home/u/.cache/imgsize")),
            "a relative XDG_CACHE_HOME is ignored"
        );
        assert_eq!(dir_from(os(""), os("")), None);
        assert_eq!(dir_from(None, None), None);
    }
}
