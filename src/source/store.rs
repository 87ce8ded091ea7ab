//! Blob stores: path-addressed access to the files an image is made of, whatever holds
//! them. A directory (OCI layout, unpacked `docker save`), a seekable tar archive
//! (indexed once, then every member opened independently so layers can be read in
//! parallel), or a one-pass stream (stdin, `docker save | gzip`) where metadata is kept
//! in memory and large members are handed to a [`MemberWalker`] while they stream by.
//!
//! Paths are relative and normalised (`blobs/sha256/…`, `<id>/layer.tar`). Symlinks and
//! hardlinks inside an archive are resolved within the archive; nothing outside the
//! input is ever read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::bytes::tar::{blocks, is_truncation};
use crate::error::{Error, LayerErrorKind, Result};
use crate::model::LayerScan;

/// Metadata files larger than this are not believed.
pub const METADATA_LIMIT: u64 = 64 << 20;

/// Path-addressed, read-only access to the files of an image.
pub trait BlobStore: Sync {
    /// The input, for messages.
    fn describe(&self) -> &str;
    /// Size of a file, or `None` when it is absent.
    fn size(&self, path: &str) -> Option<u64>;
    /// Open a file for streaming.
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>>;
    /// Every file path (for telling formats apart).
    fn paths(&self) -> Vec<String>;
    /// A layer the [`MemberWalker`] already walked while the input streamed by.
    fn prescanned(&self, _path: &str) -> Option<Result<LayerScan, LayerErrorKind>> {
        None
    }

    /// Read a whole (small) file.
    fn read(&self, path: &str) -> Result<Vec<u8>> {
        let size = self.size(path).ok_or_else(|| Error::MissingMember {
            path: self.describe().to_string(),
            member: path.to_string(),
            referrer: "the image".to_string(),
        })?;
        if size > METADATA_LIMIT {
            return Err(Error::invalid(
                format!("{}: {path}", self.describe()),
                format!(
                    "metadata file of {size} bytes is larger than the {METADATA_LIMIT}-byte limit"
                ),
            ));
        }
        let mut out = Vec::with_capacity(size as usize);
        self.open(path)
            .and_then(|r| r.take(METADATA_LIMIT).read_to_end(&mut out))
            .map_err(|e| Error::io(format!("{}: {path}", self.describe()), e))?;
        Ok(out)
    }
}

/// Normalise an archive member name or a path named by a manifest. Returns `None` for
/// names that climb out of the root.
pub fn clean(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Join a relative link target to the directory of `member`.
fn resolve_link(member: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return clean(target);
    }
    let dir = member.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    clean(&format!("{dir}/{target}"))
}

/// An OCI layout or unpacked archive on disk.
pub struct DirStore {
    root: PathBuf,
    canonical_root: PathBuf,
    name: String,
}

impl DirStore {
    pub fn new(root: &Path) -> Result<Self> {
        let name = root.display().to_string();
        let canonical_root = root.canonicalize().map_err(|e| Error::io(&name, e))?;
        Ok(DirStore {
            root: root.to_path_buf(),
            canonical_root,
            name,
        })
    }

    /// The real path of a member, refusing anything that leaves the root or is not a
    /// regular file.
    fn locate(&self, path: &str) -> Option<PathBuf> {
        let rel = clean(path)?;
        let full = self.root.join(&rel).canonicalize().ok()?;
        if !full.starts_with(&self.canonical_root) || !full.is_file() {
            return None;
        }
        Some(full)
    }
}

impl BlobStore for DirStore {
    fn describe(&self) -> &str {
        &self.name
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.locate(path)
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let full = self.locate(path).ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{path}: no such file"))
        })?;
        Ok(Box::new(File::open(full)?))
    }

    fn paths(&self) -> Vec<String> {
        // Only the top two levels matter for telling formats apart.
        let mut out = Vec::new();
        let Ok(top) = std::fs::read_dir(&self.root) else {
            return out;
        };
        for entry in top.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                if let Ok(sub) = std::fs::read_dir(entry.path()) {
                    for s in sub.flatten().take(16) {
                        out.push(format!("{name}/{}", s.file_name().to_string_lossy()));
                    }
                }
            } else {
                out.push(name);
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
enum Member {
    File { offset: u64, size: u64 },
    Link(String),
}

const MAX_LINK_HOPS: usize = 16;

/// An archive member that may be a link to another.
trait Linked {
    fn link(&self) -> Option<&str>;
}

impl Linked for Member {
    fn link(&self) -> Option<&str> {
        match self {
            Member::Link(t) => Some(t),
            Member::File { .. } => None,
        }
    }
}

/// Resolve links (symlinks relative to their directory, hardlinks from the root)
/// within the archive, with a bounded number of hops.
fn follow<'m, M: Linked>(members: &'m HashMap<String, M>, path: &str) -> Option<&'m M> {
    let mut cur = clean(path)?;
    for _ in 0..MAX_LINK_HOPS {
        let m = members.get(&cur)?;
        match m.link() {
            Some(target) => cur = target.to_string(),
            None => return Some(m),
        }
    }
    None
}

fn member_link(path: &str, entry_type: tar::EntryType, link: Option<&[u8]>) -> Option<String> {
    let target = String::from_utf8_lossy(link?).into_owned();
    if entry_type == tar::EntryType::Symlink {
        resolve_link(path, &target)
    } else {
        clean(&target)
    }
}

/// A tar archive on disk (docker-archive, OCI archive), indexed once.
pub struct TarStore {
    file: PathBuf,
    name: String,
    members: HashMap<String, Member>,
}

impl TarStore {
    pub fn new(file: &Path) -> Result<Self> {
        let name = file.display().to_string();
        let f = File::open(file).map_err(|e| Error::io(&name, e))?;
        let file_len = f.metadata().map_err(|e| Error::io(&name, e))?.len();
        let mut archive = tar::Archive::new(io::BufReader::new(f));
        let mut members = HashMap::new();
        let entries = archive
            .entries_with_seek()
            .map_err(|e| Error::io(&name, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| archive_error(&name, e))?;
            // Seeking past the end of a cut file does not fail: check the data is there.
            let end = entry
                .raw_file_position()
                .saturating_add(blocks(entry.size()));
            if end > file_len {
                return Err(Error::invalid(
                    &name,
                    format!(
                        "archive is truncated: member {} ends at byte {end} of a {file_len}-byte file",
                        String::from_utf8_lossy(&entry.path_bytes())
                    ),
                ));
            }
            let raw = entry.path_bytes();
            let Some(path) = clean(&String::from_utf8_lossy(&raw)) else {
                continue;
            };
            let etype = entry.header().entry_type();
            let member = match etype {
                tar::EntryType::Regular | tar::EntryType::Continuous => Member::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    match member_link(&path, etype, entry.link_name_bytes().as_deref()) {
                        Some(t) => Member::Link(t),
                        None => continue,
                    }
                }
                _ => continue,
            };
            members.insert(path, member);
        }
        Ok(TarStore {
            file: file.to_path_buf(),
            name,
            members,
        })
    }
}

fn archive_error(name: &str, e: io::Error) -> Error {
    if is_truncation(&e) {
        Error::invalid(name, "archive is truncated")
    } else {
        Error::invalid(name, format!("bad tar archive: {e}"))
    }
}

impl BlobStore for TarStore {
    fn describe(&self) -> &str {
        &self.name
    }

    fn size(&self, path: &str) -> Option<u64> {
        match follow(&self.members, path)? {
            Member::File { size, .. } => Some(*size),
            Member::Link(_) => None,
        }
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let Some(Member::File { offset, size }) = follow(&self.members, path) else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{path}: not in the archive"),
            ));
        };
        let mut f = File::open(&self.file)?;
        f.seek(SeekFrom::Start(*offset))?;
        Ok(Box::new(f.take(*size)))
    }

    fn paths(&self) -> Vec<String> {
        self.members.keys().cloned().collect()
    }
}

/// Members kept in memory by a [`StreamStore`] at most this big (or JSON up to
/// [`METADATA_LIMIT`]); larger ones are handed to the [`MemberWalker`].
const SMALL_MEMBER: u64 = 1 << 20;

/// All the members a [`StreamStore`] keeps in memory, together, at most: a compressed
/// stream of a few megabytes can unpack to gigabytes of small or JSON-looking members,
/// while a real image's metadata and small layers are far below this.
pub const STREAM_KEPT_LIMIT: u64 = 256 << 20;

/// A large member of a one-pass stream, most likely a layer, as it streams by.
#[derive(Debug, Clone)]
pub struct StreamedMember<'a> {
    /// Its path in the archive.
    pub path: &'a str,
    pub size: u64,
    /// The digest its path names, for content-addressed blobs (`blobs/<alg>/<hex>`).
    pub named_digest: Option<String>,
}

/// Walks the large members of a one-pass stream while they stream by: nothing can be
/// read twice, and which member is a layer is known only once the manifest (often the
/// last member) has been read. The pipeline passes the layer walker.
pub trait MemberWalker: Sync {
    fn walk(
        &self,
        member: &StreamedMember<'_>,
        content: Box<dyn Read + '_>,
    ) -> std::result::Result<LayerScan, LayerErrorKind>;
}

enum StreamMember {
    Bytes(Vec<u8>),
    Scanned(u64, Box<std::result::Result<LayerScan, LayerErrorKind>>),
    Link(String),
}

/// A tar stream read once: stdin, or an archive inside gzip/zstd/xz.
pub struct StreamStore {
    name: String,
    members: HashMap<String, StreamMember>,
}

impl Linked for StreamMember {
    fn link(&self) -> Option<&str> {
        match self {
            StreamMember::Link(t) => Some(t),
            _ => None,
        }
    }
}

/// The digest a content-addressed path names (`blobs/sha256/<hex>`).
pub fn named_digest(path: &str) -> Option<String> {
    let (alg, hex) = path.strip_prefix("blobs/")?.split_once('/')?;
    let digest = format!("{alg}:{hex}");
    crate::bytes::Algorithm::of(&digest).map(|_| digest)
}

impl StreamStore {
    /// Read a tar stream to the end, keeping small members and handing large ones to
    /// `walker`.
    pub fn read(
        name: String,
        reader: Box<dyn io::BufRead + Send + '_>,
        walker: &dyn MemberWalker,
    ) -> Result<Self> {
        let mut archive = tar::Archive::new(reader);
        let mut members = HashMap::new();
        let mut kept: u64 = 0;
        let entries = archive.entries().map_err(|e| Error::io(&name, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| archive_error(&name, e))?;
            let raw = entry.path_bytes();
            let Some(path) = clean(&String::from_utf8_lossy(&raw)) else {
                continue;
            };
            let etype = entry.header().entry_type();
            match etype {
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Some(t) = member_link(&path, etype, entry.link_name_bytes().as_deref()) {
                        members.insert(path, StreamMember::Link(t));
                    }
                    continue;
                }
                _ => continue,
            }
            let size = entry.size();
            let mut head = Vec::new();
            (&mut entry)
                .take(SMALL_MEMBER.min(size))
                .read_to_end(&mut head)
                .map_err(|e| archive_error(&name, e))?;
            let json_like = head
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|&b| b == b'{' || b == b'[');
            let member = if size <= SMALL_MEMBER || (json_like && size <= METADATA_LIMIT) {
                kept = kept.saturating_add(size);
                if kept > STREAM_KEPT_LIMIT {
                    return Err(Error::invalid(
                        &name,
                        format!(
                            "the stream holds more than {STREAM_KEPT_LIMIT} bytes of small members \
                             (metadata and small layers, kept in memory until the manifest is read); \
                             {path} is past the limit"
                        ),
                    ));
                }
                entry
                    .read_to_end(&mut head)
                    .map_err(|e| archive_error(&name, e))?;
                StreamMember::Bytes(head)
            } else {
                let member = StreamedMember {
                    path: &path,
                    size,
                    named_digest: named_digest(&path),
                };
                let content: Box<dyn Read + '_> = Box::new(io::Cursor::new(head).chain(&mut entry));
                let result = walker.walk(&member, content);
                // A layer that failed midway leaves the entry partly read; the archive
                // reader skips the rest itself.
                StreamMember::Scanned(size, Box::new(result))
            };
            members.insert(path, member);
        }
        Ok(StreamStore { name, members })
    }
}

impl BlobStore for StreamStore {
    fn describe(&self) -> &str {
        &self.name
    }

    fn size(&self, path: &str) -> Option<u64> {
        match follow(&self.members, path)? {
            StreamMember::Bytes(b) => Some(b.len() as u64),
            StreamMember::Scanned(size, _) => Some(*size),
            StreamMember::Link(_) => None,
        }
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        match follow(&self.members, path) {
            Some(StreamMember::Bytes(b)) => Ok(Box::new(io::Cursor::new(b.as_slice()))),
            Some(StreamMember::Scanned(..)) => Err(io::Error::other(format!(
                "{path}: large member of a one-pass stream cannot be reopened"
            ))),
            _ => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{path}: not in the archive"),
            )),
        }
    }

    fn paths(&self) -> Vec<String> {
        self.members.keys().cloned().collect()
    }

    fn prescanned(&self, path: &str) -> Option<Result<LayerScan, LayerErrorKind>> {
        match follow(&self.members, path)? {
            StreamMember::Scanned(_, result) => Some((**result).clone()),
            _ => None,
        }
    }
}
