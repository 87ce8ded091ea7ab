//! One tar header block: its fields, its numbers (octal text or base-256), its
//! checksum, its path (the ustar prefix joined to the name) and, in a GNU header, the
//! sparse map. Errors read as the `tar` crate words them, so a layer refused today is
//! refused with the same message.

use std::borrow::Cow;
use std::io;

use super::BLOCK;

/// Type flags the reader acts on.
pub const PAX: u8 = b'x';
pub const PAX_GLOBAL: u8 = b'g';
pub const LONG_NAME: u8 = b'L';
pub const LONG_LINK: u8 = b'K';
pub const SPARSE: u8 = b'S';

/// Bytes of one sparse map item: an offset and a length, 12 bytes each.
const SPARSE_ITEM: usize = 24;
/// Where the four sparse map items of a GNU header lie, and the "more follow" flag.
const GNU_SPARSE: std::ops::Range<usize> = 386..482;
const GNU_EXTENDED: usize = 482;
/// In an extension block of the sparse map: 21 items, then the "more follow" flag.
pub const EXT_ITEMS: std::ops::Range<usize> = 0..504;
pub const EXT_EXTENDED: usize = 504;

pub(super) fn other(message: impl Into<String>) -> io::Error {
    io::Error::other(message.into())
}

/// The checksum a header block should store: the sum of its bytes, the checksum field
/// (148..156) counted as spaces.
pub fn checksum(block: &[u8; BLOCK as usize]) -> u32 {
    block[..148]
        .iter()
        .chain(&block[156..])
        .map(|&b| u32::from(b))
        .sum::<u32>()
        + 8 * u32::from(b' ')
}

/// A field up to its first NUL.
pub fn until_nul(field: &[u8]) -> &[u8] {
    match field.iter().position(|&b| b == 0) {
        Some(end) => &field[..end],
        None => field,
    }
}

/// An octal text field: up to its first NUL, spaces trimmed.
pub fn octal(field: &[u8]) -> io::Result<u64> {
    let text = until_nul(field);
    let Ok(text) = std::str::from_utf8(text) else {
        return Err(other(format!(
            "numeric field did not have utf-8 text: {}",
            String::from_utf8_lossy(text)
        )));
    };
    u64::from_str_radix(text.trim(), 8)
        .map_err(|_| other(format!("numeric field was not a number: {text}")))
}

/// A numeric field: octal text, or base-256 when its first byte has the high bit set
/// (an 8-byte field is read whole but that bit; a longer one by its last 8 bytes).
pub fn number(field: &[u8]) -> io::Result<u64> {
    if field[0] & 0x80 == 0 {
        return octal(field);
    }
    let tail = &field[field.len().saturating_sub(8)..];
    let mut value = 0u64;
    for (i, &b) in tail.iter().enumerate() {
        let b = if i == 0 && field.len() == 8 {
            b & 0x7f
        } else {
            b
        };
        value = (value << 8) | u64::from(b);
    }
    Ok(value)
}

/// Write `value` into an 8-byte numeric field: 7 octal digits and a NUL, or base-256
/// from 2^21 up.
fn put_number(field: &mut [u8], value: u64) {
    if value >= 1 << 21 {
        field.copy_from_slice(&value.to_be_bytes());
        field[0] |= 0x80;
    } else {
        field.copy_from_slice(format!("{value:07o}\0").as_bytes());
    }
}

/// One item of a sparse map, `None` when empty: (offset, length).
pub fn sparse_item(item: &[u8]) -> io::Result<Option<(u64, u64)>> {
    if item[0] == 0 || item[12] == 0 {
        return Ok(None);
    }
    let offset = number(&item[..12])
        .map_err(|e| other(format!("{e} when getting offset from sparse header")))?;
    let length = number(&item[12..SPARSE_ITEM])
        .map_err(|e| other(format!("{e} when getting length from sparse header")))?;
    Ok(Some((offset, length)))
}

/// The sparse map items of a block's area.
pub fn sparse_items(area: &[u8]) -> impl Iterator<Item = &[u8]> {
    area.chunks_exact(SPARSE_ITEM)
}

/// A 512-byte tar header.
#[derive(Clone)]
pub struct Header {
    bytes: [u8; BLOCK as usize],
}

impl Default for Header {
    fn default() -> Self {
        Header {
            bytes: [0; BLOCK as usize],
        }
    }
}

impl Header {
    pub fn new(bytes: [u8; BLOCK as usize]) -> Self {
        Header { bytes }
    }

    pub fn as_bytes(&self) -> &[u8; BLOCK as usize] {
        &self.bytes
    }

    /// Whether every byte is zero: the end-of-archive marker.
    pub fn is_zero(&self) -> bool {
        self.bytes.iter().all(|&b| b == 0)
    }

    pub fn typeflag(&self) -> u8 {
        self.bytes[156]
    }

    /// Whether the type flag names a header describing the next member.
    pub fn is_extension(&self) -> bool {
        matches!(self.typeflag(), PAX | PAX_GLOBAL | LONG_NAME | LONG_LINK)
    }

    fn magic(&self) -> (&[u8], &[u8]) {
        (&self.bytes[257..263], &self.bytes[263..265])
    }

    /// POSIX ustar (`ustar\0` `00`).
    pub fn is_ustar(&self) -> bool {
        self.magic() == (b"ustar\0", b"00")
    }

    /// GNU tar's format (`ustar ` ` \0`).
    pub fn is_gnu(&self) -> bool {
        self.magic() == (b"ustar ", b" \0")
    }

    /// The path: the name, behind the prefix field and a `/` in a ustar header.
    pub fn path(&self) -> Cow<'_, [u8]> {
        let name = until_nul(&self.bytes[..100]);
        if !self.is_ustar() || self.bytes[345] == 0 {
            return Cow::Borrowed(name);
        }
        let prefix = until_nul(&self.bytes[345..500]);
        let mut joined = Vec::with_capacity(prefix.len() + 1 + name.len());
        joined.extend_from_slice(prefix);
        joined.push(b'/');
        joined.extend_from_slice(name);
        Cow::Owned(joined)
    }

    /// The link target, if the field is not empty.
    pub fn link_name(&self) -> Option<&[u8]> {
        (self.bytes[157] != 0).then(|| until_nul(&self.bytes[157..257]))
    }

    /// A field's error, saying which field of which member.
    fn context(&self, e: io::Error, field: &str) -> io::Error {
        let path = String::from_utf8_lossy(&self.path()).into_owned();
        io::Error::new(e.kind(), format!("{e} when getting {field} for {path}"))
    }

    /// The size field: the bytes of content that follow in the archive.
    pub fn size(&self) -> io::Result<u64> {
        number(&self.bytes[124..136]).map_err(|e| self.context(e, "size"))
    }

    pub fn mode(&self) -> io::Result<u32> {
        octal(&self.bytes[100..108])
            .map(|m| m as u32)
            .map_err(|e| self.context(e, "mode"))
    }

    pub fn uid(&self) -> io::Result<u64> {
        number(&self.bytes[108..116]).map_err(|e| self.context(e, "uid"))
    }

    pub fn gid(&self) -> io::Result<u64> {
        number(&self.bytes[116..124]).map_err(|e| self.context(e, "gid"))
    }

    pub fn set_uid(&mut self, uid: u64) {
        put_number(&mut self.bytes[108..116], uid);
    }

    pub fn set_gid(&mut self, gid: u64) {
        put_number(&mut self.bytes[116..124], gid);
    }

    /// Check the checksum: the sum of the bytes, the checksum field counted as spaces.
    pub fn check(&self) -> io::Result<()> {
        let sum = checksum(&self.bytes);
        let stored = octal(&self.bytes[148..156]).map_err(|e| self.context(e, "cksum"))?;
        if sum != stored as u32 {
            return Err(other("archive header checksum mismatch"));
        }
        Ok(())
    }

    /// A GNU sparse file's size with its holes.
    pub fn gnu_real_size(&self) -> io::Result<u64> {
        number(&self.bytes[483..495]).map_err(|e| {
            let name = |r: std::ops::Range<usize>| {
                String::from_utf8_lossy(until_nul(&self.bytes[r])).into_owned()
            };
            other(format!(
                "{e} when getting real_size for {}:{}",
                name(297..329),
                name(265..297)
            ))
        })
    }

    /// The sparse map items held in a GNU header.
    pub fn gnu_sparse(&self) -> &[u8] {
        &self.bytes[GNU_SPARSE]
    }

    /// Whether extension blocks of the sparse map follow a GNU header.
    pub fn gnu_extended(&self) -> bool {
        self.bytes[GNU_EXTENDED] == 1
    }
}
