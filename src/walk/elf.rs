//! What `strip` would save, read from an ELF file's headers while its content streams
//! by: the ELF header (its first 64 bytes), the section header table and the section
//! name table, each from a bounded window; the rest is passed over, never kept, but for
//! the few kilobytes around the name table's own name, found as the content passes
//! (LLD writes the names before a symbol name table that can be megabytes long).
//!
//! GNU strip's default (`--strip-all`) removes the symbol table (`.symtab`, its string
//! table, `.symtab_shndx`) and the debugging sections (`.debug_*`, `.zdebug_*`,
//! `.stab*`, `.line`, `.gnu.linkonce.wi.*`) of an executable or shared library, and
//! writes the file again: the loaded content keeps its offsets, the other sections
//! that stay follow it, each at its alignment, then the section names (only the kept
//! ones, a name that ends another sharing its bytes), then the section header table.
//! [`projected_size`] lays the file out the same way, so the saving is exact where
//! strip does no more than that (tests/binaries.rs checks it against a real `strip`).
//!
//! Only what can be parsed safely counts: 32- and 64-bit, little- and big-endian, an
//! executable or shared library whose tables lie inside the file and end it (no
//! appended payload, which a strip would cut off). Anything else gives no figure.

use std::io::{self, Read};

use super::skip::Pass;
use crate::model::Toolchain;

/// The first bytes of an ELF file kept (the ELF header, and often both tables).
pub const HEAD: u64 = 64 << 10;
/// Bytes kept before the section header table: the section names usually sit there.
pub const TAIL: u64 = 64 << 10;
/// Bytes kept on each side of a section name table's own name seen in passing: LLD
/// (Rust's linker) writes the names before `.strtab`, which can be megabytes long.
const AROUND_NAMES: u64 = 16 << 10;
/// How many of those names seen last are kept (the text may appear in other data).
const NAMES_KEPT: usize = 4;
/// A section name table's own name, as it is stored in it.
const NAMES_NAME: &[u8] = b"\0.shstrtab\0";
/// The largest section header table or section name table read.
pub const MAX_TABLE: u64 = 1 << 20;
/// Bytes after the last section a file may have and still count: a strip drops them,
/// but more is an appended payload (a self-extracting archive) that stripping breaks.
const MAX_TRAILER: u64 = 4096;

/// The bytes last passed over, and the parts kept around [`NAMES_NAME`] in them.
struct Recent {
    /// Where `bytes` starts in the file.
    base: u64,
    bytes: Vec<u8>,
    /// Where the next search for the name starts.
    searched: u64,
    /// Names found whose following bytes are still to come.
    pending: Vec<u64>,
    kept: Vec<(u64, Vec<u8>)>,
}

impl Recent {
    fn new(base: u64) -> Self {
        Recent {
            base,
            bytes: Vec::new(),
            searched: base,
            pending: Vec::new(),
            kept: Vec::new(),
        }
    }

    fn end(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }

    fn read<R: Read>(&mut self, r: &mut R, want: u64) -> io::Result<u64> {
        Ok(r.take(want).read_to_end(&mut self.bytes)? as u64)
    }

    /// Find the names in what was read, keep the parts around those whose following
    /// bytes are all read (all of them at the `last` read), and drop what no part needs.
    fn look(&mut self, last: bool) {
        let from = (self.searched - self.base) as usize;
        let found = memchr::memmem::find_iter(&self.bytes[from..], NAMES_NAME);
        self.pending
            .extend(found.map(|at| self.base + (from + at) as u64));
        let end = self.end();
        self.searched = end
            .saturating_sub(NAMES_NAME.len() as u64 - 1)
            .max(self.searched);
        let (done, wait): (Vec<u64>, Vec<u64>) = self
            .pending
            .iter()
            .partition(|&&at| last || at + AROUND_NAMES <= end);
        self.pending = wait;
        for at in done {
            let lo = at.saturating_sub(AROUND_NAMES).max(self.base);
            let hi = (at + AROUND_NAMES).min(end);
            let part = self.bytes[(lo - self.base) as usize..(hi - self.base) as usize].to_vec();
            self.kept.push((lo, part));
        }
        if self.kept.len() > NAMES_KEPT {
            self.kept.drain(..self.kept.len() - NAMES_KEPT);
        }
        // A name still pending starts at most AROUND_NAMES before the end, and its part
        // as much before that.
        let keep = (2 * AROUND_NAMES) as usize;
        if self.bytes.len() > keep {
            let cut = self.bytes.len() - keep;
            self.bytes.drain(..cut);
            self.base += cut as u64;
        }
    }
}

/// One section header, as far as stripping asks.
#[derive(Debug, Clone, Copy)]
struct Section {
    name: u32,
    kind: u32,
    flags: u64,
    offset: u64,
    size: u64,
    link: u32,
    /// For a relocation section, the section it applies to.
    info: u32,
    align: u64,
}

const SHT_SYMTAB: u32 = 2;
const SHT_RELA: u32 = 4;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHT_SYMTAB_SHNDX: u32 = 18;
const SHF_ALLOC: u64 = 2;

/// The ELF header fields stripping needs.
#[derive(Debug, Clone, Copy)]
struct Header {
    wide: bool,
    big: bool,
    phoff: u64,
    phsize: u64,
    shoff: u64,
    shentsize: u64,
    shnum: u64,
    shstrndx: u64,
}

impl Header {
    /// The header of an executable or shared library; `None` for anything else.
    fn parse(b: &[u8]) -> Option<Header> {
        if b.len() < 52 || &b[..4] != b"\x7fELF" || b[6] != 1 {
            return None;
        }
        let wide = match b[4] {
            1 => false,
            2 => true,
            _ => return None,
        };
        let big = match b[5] {
            1 => false,
            2 => true,
            _ => return None,
        };
        let r = Fields { b, big };
        if !matches!(r.u16(16)?, 2 | 3) {
            return None;
        }
        let (phoff, shoff, tail) = if wide {
            (r.u64(32)?, r.u64(40)?, 54)
        } else {
            (r.u32(28)?.into(), r.u32(32)?.into(), 42)
        };
        let (phentsize, phnum) = (r.u16(tail)?, r.u16(tail + 2)?);
        let (shentsize, shnum, shstrndx) = (r.u16(tail + 4)?, r.u16(tail + 6)?, r.u16(tail + 8)?);
        let entry = if wide { 64 } else { 40 };
        if shentsize != entry || shnum == 0 || shstrndx >= shnum {
            return None;
        }
        Some(Header {
            wide,
            big,
            phoff,
            phsize: phentsize * phnum,
            shoff,
            shentsize,
            shnum,
            shstrndx,
        })
    }

    fn table_len(&self) -> u64 {
        self.shentsize * self.shnum
    }

    fn section(&self, b: &[u8]) -> Option<Section> {
        let r = Fields { b, big: self.big };
        Some(if self.wide {
            Section {
                name: r.u32(0)?,
                kind: r.u32(4)?,
                flags: r.u64(8)?,
                offset: r.u64(24)?,
                size: r.u64(32)?,
                link: r.u32(40)?,
                info: r.u32(44)?,
                align: r.u64(48)?,
            }
        } else {
            Section {
                name: r.u32(0)?,
                kind: r.u32(4)?,
                flags: r.u32(8)?.into(),
                offset: r.u32(16)?.into(),
                size: r.u32(20)?.into(),
                link: r.u32(24)?,
                info: r.u32(28)?,
                align: r.u32(32)?.into(),
            }
        })
    }
}

/// Integers of either byte order at offsets of a slice; `None` past its end.
struct Fields<'a> {
    b: &'a [u8],
    big: bool,
}

impl Fields<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        let mut out: [u8; N] = self.b.get(at..at.checked_add(N)?)?.try_into().ok()?;
        if !self.big {
            out.reverse();
        }
        Some(out)
    }

    fn u16(&self, at: usize) -> Option<u64> {
        self.bytes::<2>(at).map(|v| u16::from_be_bytes(v).into())
    }

    fn u32(&self, at: usize) -> Option<u32> {
        self.bytes::<4>(at).map(u32::from_be_bytes)
    }

    fn u64(&self, at: usize) -> Option<u64> {
        self.bytes::<8>(at).map(u64::from_be_bytes)
    }
}

/// What a strip of one file saves, and whose toolchain made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strip {
    /// The file's size less its size after `strip`.
    pub saving: u64,
    pub toolchain: Toolchain,
}

/// The parts of a file read so far: (offset, bytes), in order, not overlapping.
#[derive(Default)]
pub struct Windows {
    parts: Vec<(u64, Vec<u8>)>,
    /// How far the stream has been read.
    pos: u64,
}

impl Windows {
    /// Bytes `[off, off + len)` when one part holds them all.
    pub fn get(&self, off: u64, len: u64) -> Option<&[u8]> {
        let end = off.checked_add(len)?;
        self.parts.iter().find_map(|(start, bytes)| {
            let lo = usize::try_from(off.checked_sub(*start)?).ok()?;
            let hi = usize::try_from(end - start).ok()?;
            bytes.get(lo..hi)
        })
    }

    /// Pass over the stream up to `to`, keeping [`AROUND_NAMES`] bytes on each side of
    /// each [`NAMES_NAME`] in it (the last [`NAMES_KEPT`]): the section name table holds
    /// its own name, so it is in one of them wherever it lies before the tail window.
    fn pass_keeping_names<R: Read>(&mut self, r: &mut R, to: u64, pass: &Pass) -> io::Result<()> {
        let mut recent = Recent::new(self.pos);
        while self.pos < to {
            let want = (to - self.pos).min(AROUND_NAMES);
            let got = pass.streaming(|| recent.read(r, want))?;
            self.pos += got;
            if got < want {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            recent.look(self.pos == to);
        }
        for (off, bytes) in recent.kept {
            match self.parts.last_mut() {
                Some((s, b)) if *s + b.len() as u64 > off => {
                    let overlap = (*s + b.len() as u64 - off) as usize;
                    b.extend_from_slice(bytes.get(overlap..).unwrap_or_default());
                }
                _ => self.parts.push((off, bytes)),
            }
        }
        Ok(())
    }

    /// Read `[off, off + len)` of the stream when it is still ahead, passing over what
    /// lies before it; the part of it read already is taken from the last window.
    fn fetch<R: Read>(&mut self, r: &mut R, off: u64, len: u64, pass: &Pass) -> io::Result<()> {
        let end = off.saturating_add(len);
        if self.get(off, len).is_some() || end <= self.pos {
            return Ok(());
        }
        if off > self.pos {
            pass.over(r, off - self.pos)?;
            self.pos = off;
            self.parts.push((off, Vec::new()));
        } else if self
            .parts
            .last()
            .is_none_or(|(s, b)| s + b.len() as u64 != self.pos)
        {
            self.parts.push((self.pos, Vec::new()));
        }
        let part = &mut self.parts.last_mut().expect("a part").1;
        let want = end - self.pos;
        let got = r.take(want).read_to_end(part)? as u64;
        self.pos += got;
        if got < want {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// The bytes of a file read first: an ELF header's length.
pub const FIRST: usize = 64;

/// Read what stripping the regular file of `size` bytes in `r` would save, from
/// bounded windows of its content, its `first` bytes read already (nothing for a file
/// that is not an ELF executable or shared library, has nothing to strip, or whose
/// tables cannot be read in one forward pass). What is left of the file is not read.
pub fn read<R: Read>(
    r: &mut R,
    size: u64,
    first: &[u8; FIRST],
    pass: &Pass,
) -> io::Result<Option<Strip>> {
    let Some(h) = Header::parse(first) else {
        return Ok(None);
    };
    let mut w = Windows {
        parts: vec![(0, first.to_vec())],
        pos: FIRST as u64,
    };
    let table = h.table_len();
    let table_end = h.shoff.saturating_add(table);
    if table > MAX_TABLE || table_end > size {
        return Ok(None);
    }
    w.fetch(r, 0, HEAD.min(size), pass)?;
    if w.get(h.shoff, table).is_none() {
        w.pass_keeping_names(r, h.shoff.saturating_sub(TAIL), pass)?;
        w.fetch(
            r,
            h.shoff.saturating_sub(TAIL),
            table_end - h.shoff.saturating_sub(TAIL),
            pass,
        )?;
    }
    let Some(sections) = sections(&h, &w) else {
        return Ok(None);
    };
    let names = sections[h.shstrndx as usize];
    let inside = names
        .offset
        .checked_add(names.size)
        .is_some_and(|end| end <= size);
    if names.size > MAX_TABLE || names.kind == SHT_NOBITS || !inside {
        return Ok(None);
    }
    if w.get(names.offset, names.size).is_none() && names.offset >= w.pos {
        w.fetch(r, names.offset, names.size, pass)?;
    }
    let Some(strtab) = w.get(names.offset, names.size) else {
        return Ok(None);
    };
    Ok(strip(&h, &sections, strtab, size))
}

/// The section headers, when the table is in the windows.
fn sections(h: &Header, w: &Windows) -> Option<Vec<Section>> {
    let table = w.get(h.shoff, h.table_len())?;
    table
        .chunks_exact(h.shentsize as usize)
        .map(|b| h.section(b))
        .collect()
}

/// A section's name from the name table (empty when it does not point into it).
fn name_of<'a>(strtab: &'a [u8], s: &Section) -> &'a [u8] {
    let rest = strtab.get(s.name as usize..).unwrap_or_default();
    rest.split(|&b| b == 0).next().unwrap_or_default()
}

/// Whether `strip` removes a section by its name (the debugging sections), when the
/// section is not loaded.
fn debugging(name: &[u8]) -> bool {
    [
        &b".debug"[..],
        b".zdebug",
        b".gnu.linkonce.wi.",
        b".line",
        b".stab",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// The saving of a strip of the file, and its toolchain: `None` when there is nothing
/// to strip or the file is not laid out as stripping expects.
fn strip(h: &Header, sections: &[Section], strtab: &[u8], size: u64) -> Option<Strip> {
    let mut removed = vec![false; sections.len()];
    for (i, s) in sections.iter().enumerate().skip(1) {
        // A loaded section stays whatever its name (Rust's `.debug_gdb_scripts`).
        let debug = s.flags & SHF_ALLOC == 0 && debugging(name_of(strtab, s));
        if s.kind == SHT_SYMTAB || s.kind == SHT_SYMTAB_SHNDX || debug {
            removed[i] = true;
            if s.kind == SHT_SYMTAB
                && let Some(r) = removed.get_mut(s.link as usize)
                && s.link as u64 != h.shstrndx
                && s.link != 0
            {
                *r = true;
            }
        }
    }
    // Relocations kept for a linker (`--emit-relocs`, not loaded) go with the symbol
    // table they name or the section they apply to.
    for (i, s) in sections.iter().enumerate().skip(1) {
        let reloc = (s.kind == SHT_RELA || s.kind == SHT_REL) && s.flags & SHF_ALLOC == 0;
        let gone = |j: u32| j != 0 && removed.get(j as usize) == Some(&true);
        if reloc && (gone(s.link) || gone(s.info)) {
            removed[i] = true;
        }
    }
    if !removed.contains(&true) {
        return None;
    }
    let mut end = h.shoff.checked_add(h.table_len())?;
    for s in sections.iter().filter(|s| s.kind != SHT_NOBITS) {
        end = end.max(s.offset.checked_add(s.size)?);
    }
    if end > size || size - end > MAX_TRAILER {
        return None;
    }
    let after = projected_size(h, sections, &removed, strtab)?;
    let toolchain = toolchain(sections.iter().map(|s| name_of(strtab, s)));
    (after < size).then(|| Strip {
        saving: size - after,
        toolchain,
    })
}

/// The file's size once stripped: the loaded content where it is, then the kept
/// sections that are not loaded, each at its alignment, the kept names, and the
/// section header table.
fn projected_size(
    h: &Header,
    sections: &[Section],
    removed: &[bool],
    strtab: &[u8],
) -> Option<u64> {
    let header = if h.wide { 64 } else { 52 };
    let mut off = h.phoff.checked_add(h.phsize)?.max(header);
    let kept: Vec<(usize, &Section)> = sections
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, s)| !removed[*i] && s.kind != SHT_NOBITS)
        .collect();
    for (_, s) in kept.iter().filter(|(_, s)| s.flags & SHF_ALLOC != 0) {
        off = off.max(s.offset.checked_add(s.size)?);
    }
    for (_, s) in kept
        .iter()
        .filter(|(i, s)| s.flags & SHF_ALLOC == 0 && *i as u64 != h.shstrndx)
    {
        off = align(off, s.align)?.checked_add(s.size)?;
    }
    let names = sections
        .iter()
        .zip(removed)
        .filter(|(_, r)| !**r)
        .map(|(s, _)| name_of(strtab, s));
    off = off.checked_add(merged_len(names.collect()))?;
    let count = removed.iter().filter(|r| !**r).count() as u64;
    align(off, if h.wide { 8 } else { 4 })?.checked_add(count * h.shentsize)
}

/// The length of a string table holding `names`, a name that ends another stored
/// inside it (as binutils lays the table out), with the leading empty string.
fn merged_len(mut names: Vec<&[u8]>) -> u64 {
    names.sort_unstable();
    names.dedup();
    let mut reversed: Vec<Vec<u8>> = names
        .iter()
        .map(|n| n.iter().rev().copied().collect())
        .collect();
    reversed.sort_unstable();
    let mut len = 1;
    for (i, n) in reversed.iter().enumerate() {
        let ends_next = reversed.get(i + 1).is_some_and(|next| next.starts_with(n));
        if !n.is_empty() && !ends_next {
            len += n.len() as u64 + 1;
        }
    }
    len
}

fn align(off: u64, to: u64) -> Option<u64> {
    if to <= 1 {
        return Some(off);
    }
    if to > MAX_TABLE {
        return None;
    }
    off.checked_add(to - 1).map(|v| v / to * to)
}

/// Whose toolchain built the file, by its sections: Go's build id and tables, or the
/// Rust standard library's debugger scripts and metadata.
fn toolchain<'a>(mut names: impl Iterator<Item = &'a [u8]> + Clone) -> Toolchain {
    let go = [&b".go.buildinfo"[..], b".note.go.buildid", b".gopclntab"];
    if names.clone().any(|n| go.contains(&n)) {
        Toolchain::Go
    } else if names.any(|n| n == b".rustc" || n == b".debug_gdb_scripts") {
        Toolchain::Rust
    } else {
        Toolchain::Native
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Put `v` in `n` bytes at `at`, in the file's byte order.
    fn put(b: &mut Vec<u8>, at: usize, n: usize, v: u64, big: bool) {
        if b.len() < at + n {
            b.resize(at + n, 0);
        }
        let bytes = v.to_le_bytes();
        for i in 0..n {
            b[at + if big { n - 1 - i } else { i }] = bytes[i];
        }
    }

    /// A small executable: `.text` loaded at 0x200, `.comment`, `.debug_info`,
    /// `.symtab` and `.strtab` after it, then the names and the section header table.
    fn fake(wide: bool, big: bool) -> Vec<u8> {
        let names = b"\0.text\0.comment\0.debug_info\0.symtab\0.strtab\0.shstrtab\0";
        let name = |n: &[u8]| names.windows(n.len()).position(|w| w == n).expect("name") as u64;
        // (name, type, flags, offset, size, link, align)
        let sections = [
            (0, 0, 0, 0, 0, 0, 0),
            (name(b".text\0"), 1, 6, 0x200, 0x100, 0, 16),
            (name(b".comment\0"), 1, 0x30, 0x300, 0x21, 0, 1),
            (name(b".debug_info\0"), 1, 0, 0x321, 0x400, 0, 1),
            (name(b".symtab\0"), 2, 0, 0x728, 0x60, 5, 8),
            (name(b".strtab\0"), 3, 0, 0x788, 0x30, 0, 1),
            (name(b".shstrtab\0"), 3, 0, 0x7b8, names.len() as u64, 0, 1),
        ];
        let shoff = (0x7b8 + names.len() as u64).next_multiple_of(8);
        let mut b = b"\x7fELF".to_vec();
        b.extend([if wide { 2 } else { 1 }, if big { 2 } else { 1 }, 1]);
        put(&mut b, 16, 2, 2, big);
        let (entry, tail) = if wide { (64, 54) } else { (40, 42) };
        if wide {
            put(&mut b, 32, 8, 64, big);
            put(&mut b, 40, 8, shoff, big);
        } else {
            put(&mut b, 28, 4, 52, big);
            put(&mut b, 32, 4, shoff, big);
        }
        put(&mut b, tail, 2, if wide { 56 } else { 32 }, big);
        put(&mut b, tail + 2, 2, 1, big);
        put(&mut b, tail + 4, 2, entry, big);
        put(&mut b, tail + 6, 2, sections.len() as u64, big);
        put(&mut b, tail + 8, 2, 6, big);
        b.resize(0x7b8, 0x90);
        b.extend_from_slice(names);
        for (i, &(n, t, f, off, size, link, align)) in sections.iter().enumerate() {
            let at = (shoff + i as u64 * entry) as usize;
            put(&mut b, at, 4, n, big);
            put(&mut b, at + 4, 4, t, big);
            if wide {
                for (o, v) in [(8, f), (24, off), (32, size), (48, align)] {
                    put(&mut b, at + o, 8, v, big);
                }
                put(&mut b, at + 40, 4, link, big);
            } else {
                for (o, v) in [(8, f), (16, off), (20, size), (24, link), (32, align)] {
                    put(&mut b, at + o, 4, v, big);
                }
            }
        }
        b.resize((shoff + sections.len() as u64 * entry) as usize, 0);
        b
    }

    fn saving(b: &[u8]) -> Option<Strip> {
        let first: [u8; FIRST] = b.get(..FIRST)?.try_into().ok()?;
        let mut rest = &b[FIRST..];
        read(&mut rest, b.len() as u64, &first, &Pass::default()).expect("reads")
    }

    #[test]
    fn both_widths_and_byte_orders_lay_out_as_strip_does() {
        // Loaded content ends at 0x300; `.comment` follows (0x321), the kept names
        // (".text", ".comment", ".shstrtab": 26 bytes) to 0x33b, then four headers.
        for big in [false, true] {
            let b = fake(true, big);
            let after = 0x340 + 4 * 64;
            let s = saving(&b).expect("64-bit");
            assert_eq!(s.saving, b.len() as u64 - after, "big-endian: {big}");
            assert_eq!(s.toolchain, Toolchain::Native);
            let b = fake(false, big);
            let s = saving(&b).expect("32-bit");
            assert_eq!(
                s.saving,
                b.len() as u64 - (0x33c + 4 * 40),
                "big-endian: {big}"
            );
        }
    }

    #[test]
    fn a_loaded_debugging_section_is_not_stripped() {
        // `.debug_info` flagged as loaded (as Rust's `.debug_gdb_scripts` is) stays where
        // it is, ending at 0x721: `.comment` follows (0x742), then the names of `.text`,
        // `.comment`, `.debug_info` and `.shstrtab` (38 bytes, to 0x768), then five headers.
        let mut b = fake(true, false);
        let shoff = u64::from_le_bytes(b[40..48].try_into().expect("8 bytes"));
        let flags = (shoff + 3 * 64 + 8) as usize;
        b[flags] = 2;
        let s = saving(&b).expect("the symbol table still goes");
        assert_eq!(s.saving, b.len() as u64 - (0x768 + 5 * 64));
    }

    #[test]
    fn the_names_are_kept_wherever_they_pass() {
        // One name across a read boundary (16 KiB reads), one close to where the pass
        // stops, and text between them that only starts like the name.
        let mut stream = vec![7u8; 200_000];
        for at in [49_150, 120_000, 195_000] {
            stream[at..at + NAMES_NAME.len()].copy_from_slice(NAMES_NAME);
        }
        stream[120_000 + 5] = b'x';
        let mut w = Windows::default();
        w.pass_keeping_names(&mut &stream[..], 199_000, &Pass::default())
            .expect("reads");
        assert_eq!(w.pos, 199_000);
        let around = AROUND_NAMES as usize;
        let part = w
            .get(49_150 - AROUND_NAMES, 2 * AROUND_NAMES)
            .expect("kept");
        assert_eq!(part, &stream[49_150 - around..49_150 + around]);
        assert!(w.get(120_000, 16).is_none(), "not the name");
        let tail = w
            .get(195_000 - AROUND_NAMES, 4_000 + AROUND_NAMES)
            .expect("kept");
        assert_eq!(tail, &stream[195_000 - around..199_000]);
        assert_eq!(w.parts.len(), 2);
    }

    #[test]
    fn names_that_end_others_share_their_bytes() {
        let names: Vec<&[u8]> = vec![b"", b".rela.plt", b".plt", b".text", b".text", b".shstrtab"];
        assert_eq!(merged_len(names), 1 + 10 + 6 + 10);
    }

    #[test]
    fn what_cannot_be_read_safely_gives_no_figure() {
        let b = fake(true, false);
        let mut appended = b.clone();
        appended.extend(vec![0; 8192]);
        assert_eq!(saving(&appended), None, "an appended payload");
        let mut relocatable = b.clone();
        relocatable[16] = 1;
        assert_eq!(saving(&relocatable), None, "an object file");
        let mut class = b.clone();
        class[4] = 3;
        assert_eq!(saving(&class), None, "an unknown class");
        // Every cut and every flipped byte: a figure or none, never a panic.
        for len in 0..b.len() {
            let _ = saving(&b[..len]);
        }
        for at in 0..b.len() {
            let mut flipped = b.clone();
            flipped[at] ^= 0xff;
            let _ = saving(&flipped);
        }
    }
}
