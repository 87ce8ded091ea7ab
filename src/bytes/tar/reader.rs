//! A streaming tar reader: each header block read and checked once, the PAX and GNU
//! long-name members folded into the member they describe, a GNU sparse map read, and
//! content skipped by a forward seek of the reader below, never copied.
//!
//! What it accepts and refuses, and how it words its errors, are the `tar` crate's
//! (0.4), whose reader this replaces in the layer walk: the first zero block ends the
//! archive, so does a stream cut at a header's start; PAX `size`, `uid` and `gid`
//! override the header's (uid and gid are written into it); PAX and long-name headers
//! in a v7 header, and global PAX headers, are members of their own.

use std::borrow::Cow;
use std::io::{self, Read, Seek, SeekFrom};

use super::BLOCK;
use super::header::{
    EXT_EXTENDED, EXT_ITEMS, Header, LONG_LINK, LONG_NAME, PAX, SPARSE, other, sparse_item,
    sparse_items,
};
use super::pax::{Check, Pax};

/// A part of a member's content: stored bytes, or a hole of a sparse file (zeros).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment {
    Data(u64),
    Hole(u64),
}

/// Reads the members of a tar stream one by one.
pub struct Reader<R> {
    inner: R,
    /// Bytes read or skipped of `inner`.
    pos: u64,
    /// Where the next header starts.
    next: u64,
    header: Header,
    /// The member's size: its stored bytes, or with its holes for a sparse file.
    size: u64,
    /// The member's content, and the part being read.
    segments: Vec<Segment>,
    current: usize,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Pax,
    has_pax: bool,
    check: Check,
}

/// Read until `buf` is full: false if the stream ended before its first byte.
fn fill<R: Read>(inner: &mut R, pos: &mut u64, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match inner.read(&mut buf[got..])? {
            0 if got == 0 => return Ok(false),
            0 => return Err(other("failed to read entire block")),
            n => {
                got += n;
                *pos += n as u64;
            }
        }
    }
    Ok(true)
}

/// Read up to `size` bytes into `buf` (fewer if the stream ends: the skip to the next
/// header then fails).
fn read_all<R: Read>(inner: &mut R, pos: &mut u64, size: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let n = inner.take(size).read_to_end(buf)?;
    *pos += n as u64;
    Ok(())
}

/// The part of a GNU sparse map read so far.
struct SparseMap<'a> {
    /// The stored bytes the header gives, and what the map has not yet placed.
    stored: u64,
    remaining: u64,
    /// The end of the last item placed.
    end: u64,
    segments: &'a mut Vec<Segment>,
}

impl SparseMap<'_> {
    fn add(&mut self, item: &[u8]) -> io::Result<()> {
        let Some((offset, length)) = sparse_item(item)? else {
            return Ok(());
        };
        if length != 0 && !(self.stored - self.remaining).is_multiple_of(BLOCK) {
            return Err(other(
                "previous block in sparse file was not aligned to 512-byte boundary",
            ));
        } else if offset < self.end {
            return Err(other("out of order or overlapping sparse blocks"));
        } else if self.end < offset {
            self.segments.push(Segment::Hole(offset - self.end));
        }
        self.end = offset
            .checked_add(length)
            .ok_or_else(|| other("more bytes listed in sparse file than u64 can hold"))?;
        self.remaining = self
            .remaining
            .checked_sub(length)
            .ok_or_else(|| other("sparse file consumed more data than the header listed"))?;
        self.segments.push(Segment::Data(length));
        Ok(())
    }
}

impl<R: Read + Seek> Reader<R> {
    /// A reader of `inner` from its start, accepting every PAX record.
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            pos: 0,
            next: 0,
            header: Header::default(),
            size: 0,
            segments: Vec::new(),
            current: 0,
            long_name: None,
            long_link: None,
            pax: Pax::default(),
            has_pax: false,
            check: |_, _| true,
        }
    }

    /// Refuse the PAX headers holding a record `check` refuses (see [`Reader::pax`]).
    pub fn check_pax_records(&mut self, check: Check) {
        self.check = check;
    }

    /// The reader below, where the walk left it.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Move to the next member: false at the end of the archive.
    pub fn next_entry(&mut self) -> io::Result<bool> {
        self.long_name = None;
        self.long_link = None;
        self.has_pax = false;
        let mut described = false;
        loop {
            if !self.read_header()? {
                if described {
                    return Err(other(
                        "members found describing a future member but no future member found",
                    ));
                }
                return Ok(false);
            }
            if !self.read_extension()? {
                break;
            }
            described = true;
        }
        if self.header.typeflag() == SPARSE {
            self.read_sparse_map()?;
        }
        Ok(true)
    }

    /// Skip to the next header and read it: false at the end of the archive.
    fn read_header(&mut self) -> io::Result<bool> {
        let delta = self
            .next
            .checked_sub(self.pos)
            .ok_or_else(|| other("tar reader read past the next header"))?;
        let delta = i64::try_from(delta).map_err(|_| other("seek position out of bounds"))?;
        // Even a skip of nothing: the skipper's bound on a run of reads starts afresh.
        self.inner.seek(SeekFrom::Current(delta))?;
        self.pos = self.next;
        let mut block = [0u8; BLOCK as usize];
        if !fill(&mut self.inner, &mut self.pos, &mut block)? {
            return Ok(false);
        }
        self.header = Header::new(block);
        if self.header.is_zero() {
            return Ok(false);
        }
        self.next += BLOCK;
        self.header.check()?;
        let described = self.has_pax && !self.header.is_extension();
        if described {
            if let Some(uid) = self.pax.uid() {
                self.header.set_uid(uid);
            }
            if let Some(gid) = self.pax.gid() {
                self.header.set_gid(gid);
            }
        }
        let mut size = self.header.size()?;
        if let Some(pax) = self.pax.size().filter(|_| described) {
            size = pax;
        }
        self.size = size;
        self.segments.clear();
        self.segments.push(Segment::Data(size));
        self.current = 0;
        let padded = size
            .checked_add(BLOCK - 1)
            .ok_or_else(|| other("size overflow"))?
            & !(BLOCK - 1);
        self.next = self
            .next
            .checked_add(padded)
            .ok_or_else(|| other("size overflow"))?;
        Ok(true)
    }

    /// Read a long name, long link or PAX header into what the next member is given:
    /// false if the header is a member's own. Only ustar and GNU headers describe.
    fn read_extension(&mut self) -> io::Result<bool> {
        if !self.header.is_ustar() && !self.header.is_gnu() {
            return Ok(false);
        }
        let (inner, pos, size) = (&mut self.inner, &mut self.pos, self.size);
        match self.header.typeflag() {
            LONG_NAME | LONG_LINK => {
                let slot = if self.header.typeflag() == LONG_NAME {
                    &mut self.long_name
                } else {
                    &mut self.long_link
                };
                if slot.is_some() {
                    return Err(other("two long name entries describing the same member"));
                }
                read_all(inner, pos, size, slot.insert(Vec::new()))?;
            }
            PAX => {
                if self.has_pax {
                    return Err(other(
                        "two pax extensions entries describing the same member",
                    ));
                }
                read_all(inner, pos, size, self.pax.buffer())?;
                self.pax.parse(self.check);
                self.has_pax = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Read a GNU sparse file's map: from its header, then from extension blocks.
    fn read_sparse_map(&mut self) -> io::Result<()> {
        if !self.header.is_gnu() {
            return Err(other("sparse entry type listed but not GNU header"));
        }
        self.segments.clear();
        let mut map = SparseMap {
            stored: self.size,
            remaining: self.size,
            end: 0,
            segments: &mut self.segments,
        };
        for item in sparse_items(self.header.gnu_sparse()) {
            map.add(item)?;
        }
        let mut more = self.header.gnu_extended();
        while more {
            let mut block = [0u8; BLOCK as usize];
            if !fill(&mut self.inner, &mut self.pos, &mut block)? {
                return Err(other("failed to read extension"));
            }
            self.next = self
                .next
                .checked_add(BLOCK)
                .ok_or_else(|| other("size overflow"))?;
            for item in sparse_items(&block[EXT_ITEMS]) {
                map.add(item)?;
            }
            more = block[EXT_EXTENDED] == 1;
        }
        let (end, remaining) = (map.end, map.remaining);
        if end != self.header.gnu_real_size()? {
            return Err(other("mismatch in sparse file chunks and size in header"));
        }
        self.size = end;
        if remaining > 0 {
            return Err(other(
                "mismatch in sparse file chunks and entry size in header",
            ));
        }
        Ok(())
    }

    /// The member's header; PAX `uid` and `gid` are written into it.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The member's size: PAX `size` over the header's, and a sparse file's with its
    /// holes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The member's path: a GNU long name (less a trailing NUL), else PAX `path`, else
    /// the header's.
    pub fn path(&self) -> Cow<'_, [u8]> {
        if let Some(name) = &self.long_name {
            return Cow::Borrowed(name.strip_suffix(b"\0").unwrap_or(name));
        }
        match self.pax().and_then(Pax::path) {
            Some(path) => Cow::Borrowed(path),
            None => self.header.path(),
        }
    }

    /// The member's link target: a GNU long link (less a trailing NUL), else PAX
    /// `linkpath`, else the header's if not empty.
    pub fn link_name(&self) -> Option<&[u8]> {
        if let Some(name) = &self.long_link {
            return Some(name.strip_suffix(b"\0").unwrap_or(name));
        }
        self.pax()
            .and_then(Pax::link_path)
            .or_else(|| self.header.link_name())
    }

    /// The PAX extended header describing the member, if one did.
    pub fn pax(&self) -> Option<&Pax> {
        self.has_pax.then_some(&self.pax)
    }

    /// The member's content (holes read as zeros), read from where it was left.
    pub fn content(&mut self) -> Content<'_, R> {
        Content(self)
    }
}

/// A member's content, as a reader.
pub struct Content<'a, R>(&'a mut Reader<R>);

impl<R: Read> Read for Content<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = &mut *self.0;
        if buf.is_empty() {
            return Ok(0);
        }
        while let Some(segment) = r.segments.get_mut(r.current) {
            match segment {
                Segment::Hole(left) | Segment::Data(left) if *left == 0 => {}
                Segment::Hole(left) => {
                    let n = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    buf[..n].fill(0);
                    *left -= n as u64;
                    return Ok(n);
                }
                Segment::Data(left) => {
                    let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    let n = r.inner.read(&mut buf[..want])?;
                    if n > 0 {
                        *left -= n as u64;
                        r.pos += n as u64;
                        return Ok(n);
                    }
                }
            }
            // Used up, or the stream ended inside it: on to the next part.
            r.current += 1;
        }
        Ok(0)
    }
}
