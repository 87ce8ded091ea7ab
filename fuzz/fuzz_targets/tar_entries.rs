//! Structure-aware: one to three layer tars generated entry by entry from `Arbitrary`
//! values, with hand-written 512-byte ustar/GNU/v7 headers (so that wrong checksums,
//! bad number fields, lying sizes and truncated blocks are reachable), PAX extended
//! headers, GNU long names and links, GNU sparse entries, whiteouts and opaque
//! markers, paths from a small alphabet (`..`, `.`, empty, very long and very deep),
//! each layer plain, gzip or zstd. Every layer is walked alone (as `layer_walk` does:
//! stored bytes = the blob's length) and the layers are merged and summarised (as
//! `merge` does: added = visible + wasted per layer, stored = content + wasted).
#![no_main]

use std::io::Write;

use imgsize::bytes::{Algorithm, NoProgress};
use imgsize::model::LayerScan;
use imgsize::walk::{ScanOptions, scan};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

#[path = "merged.rs"]
mod merged;
use merged::check_merged;

/// Content bytes written over all layers of one input.
const CONTENT_BUDGET: usize = 64 * 1024;
/// Entries per layer.
const MAX_ENTRIES: usize = 64;

#[derive(Debug)]
struct Input {
    layers: Vec<Layer>,
    tree_nodes: u8,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(1..=3)?;
        let mut layers = Vec::with_capacity(n);
        for _ in 0..n {
            layers.push(Layer::arbitrary(u)?);
        }
        Ok(Input {
            layers,
            tree_nodes: u.arbitrary()?,
        })
    }
}

#[derive(Debug)]
struct Layer {
    entries: Vec<Entry>,
    ending: Ending,
    wrap: Wrap,
}

impl<'a> Arbitrary<'a> for Layer {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(0..=MAX_ENTRIES)?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            if u.is_empty() {
                break;
            }
            entries.push(Entry::arbitrary(u)?);
        }
        Ok(Layer {
            entries,
            ending: u.arbitrary()?,
            wrap: u.arbitrary()?,
        })
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Ending {
    TwoZeroBlocks,
    OneZeroBlock,
    Nothing,
    /// The stream (entries and two zero blocks) cut this many bytes short.
    Cut(u16),
    /// Non-zero bytes after the end-of-archive blocks.
    Trailing(u8, u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Wrap {
    Plain,
    Plain2,
    Gzip,
    Zstd,
    /// A compressed stream cut short.
    GzipCut(u8),
    ZstdCut(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    File,
    OldFile,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
    Contiguous,
    GnuSparse,
    Other(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Format {
    Ustar,
    Gnu,
    V7,
}

/// How a number field is written.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Num {
    Octal,
    Base256,
    Spaces,
    NoTerminator,
    Garbage(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Comp {
    Alpha(u8),
    Dot,
    DotDot,
    Empty,
    Long(u16),
    /// `d/d/d/...` this many levels (times two: up to 510).
    Deep(u8),
    Byte(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Whiteout {
    None,
    None2,
    None3,
    /// `.wh.` before the last component.
    Whiteout,
    /// `.wh..wh..opq` as a last component of its own.
    Opaque,
    /// `.wh.` alone, or `.wh.` before an already whited-out name.
    Bare,
    Double,
}

#[derive(Arbitrary, Debug, Clone)]
struct PathSpec {
    comps: Vec<Comp>,
    whiteout: Whiteout,
    leading: u8,
    trailing_slash: bool,
    /// Reuse the previous entry's path instead (repeated identical paths).
    previous: bool,
}

#[derive(Arbitrary, Debug, Clone)]
enum Pax {
    Path(PathSpec),
    Linkpath(PathSpec),
    Size(u32),
    SizeText(u8),
    SparseMajor(u8),
    SparseMinor(u8),
    SparseSize(u32),
    SparseName(PathSpec),
    SparseNumBlocks(u16),
    SparseOffsetNumbytes(u32, u32),
    SparseMap(Vec<(u16, u16)>),
    Other(u8, u8),
    /// A record whose length prefix is wrong by this much.
    BadLength(i8),
    /// A record with no `=`, or no trailing newline.
    Malformed(u8),
}

#[derive(Arbitrary, Debug, Clone)]
struct Entry {
    pax: Vec<Pax>,
    global_pax: bool,
    long_name: bool,
    long_link: bool,
    kind: Kind,
    format: Format,
    path: PathSpec,
    link: PathSpec,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: u32,
    dev: (u16, u16),
    num: Num,
    /// Content written (bounded by the budget).
    content_len: u16,
    /// Some(n): the header declares n instead of the content's length.
    size_lie: Option<u32>,
    fill: u8,
    bad_checksum: Option<u8>,
    /// GNU sparse map in the header: (offset, numbytes) and extension blocks.
    sparse: Vec<(u16, u16)>,
    real_size: u32,
}

const ALPHA: &[&str] = &[
    "a",
    "b",
    "etc",
    "usr",
    "bin",
    "lib",
    "x.so",
    "a b",
    "\u{fc}",
    "\\",
    "..a",
    ".wh.",
    "a.wh.b",
    "~",
    "-",
    "*",
    "node_modules",
    "__pycache__",
    ".git",
    "tmp",
];

fn path_bytes(p: &PathSpec, prev: &[u8]) -> Vec<u8> {
    if p.previous && !prev.is_empty() {
        return prev.to_vec();
    }
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for c in p.comps.iter().take(16) {
        match *c {
            Comp::Alpha(i) => parts.push(ALPHA[i as usize % ALPHA.len()].as_bytes().to_vec()),
            Comp::Dot => parts.push(b".".to_vec()),
            Comp::DotDot => parts.push(b"..".to_vec()),
            Comp::Empty => parts.push(Vec::new()),
            Comp::Long(n) => parts.push(vec![b'l'; 1 + n as usize % 1100]),
            Comp::Deep(n) => {
                for _ in 0..(n as usize * 2) {
                    parts.push(b"d".to_vec());
                }
            }
            Comp::Byte(b) => parts.push(vec![b]),
        }
    }
    match p.whiteout {
        Whiteout::None | Whiteout::None2 | Whiteout::None3 => {}
        Whiteout::Whiteout => match parts.last_mut() {
            Some(last) => {
                let mut w = b".wh.".to_vec();
                w.extend_from_slice(last);
                *last = w;
            }
            None => parts.push(b".wh.a".to_vec()),
        },
        Whiteout::Opaque => parts.push(b".wh..wh..opq".to_vec()),
        Whiteout::Bare => parts.push(b".wh.".to_vec()),
        Whiteout::Double => match parts.last_mut() {
            Some(last) => {
                let mut w = b".wh..wh.".to_vec();
                w.extend_from_slice(last);
                *last = w;
            }
            None => parts.push(b".wh..wh.a".to_vec()),
        },
    }
    let mut out = match p.leading % 4 {
        0 => b"/".to_vec(),
        1 => b"./".to_vec(),
        _ => Vec::new(),
    };
    out.extend_from_slice(&parts.join(&b'/'));
    if p.trailing_slash {
        out.push(b'/');
    }
    out
}

/// An octal (or otherwise encoded) number field of `field.len()` bytes.
fn num(field: &mut [u8], v: u64, how: Num) {
    let w = field.len();
    match how {
        Num::Octal | Num::NoTerminator => {
            let digits = if matches!(how, Num::Octal) { w - 1 } else { w };
            let s = format!("{:0width$o}", v, width = digits);
            let s = s.as_bytes();
            // Too large for the field: keep the low digits (a wrong number, on purpose).
            let s = &s[s.len() - digits..];
            field[..digits].copy_from_slice(s);
            if digits < w {
                field[digits] = 0;
            }
        }
        Num::Base256 => {
            field.fill(0);
            field[0] = 0x80;
            let b = v.to_be_bytes();
            let n = b.len().min(w - 1);
            field[w - n..].copy_from_slice(&b[b.len() - n..]);
        }
        Num::Spaces => {
            let s = format!("{:o}", v);
            let s = s.as_bytes();
            field.fill(b' ');
            let n = s.len().min(w - 1);
            field[w - 1 - n..w - 1].copy_from_slice(&s[s.len() - n..]);
            field[w - 1] = 0;
        }
        Num::Garbage(b) => field.fill(b),
    }
}

fn put(field: &mut [u8], s: &[u8]) {
    let n = s.len().min(field.len());
    field[..n].copy_from_slice(&s[..n]);
}

struct Header {
    block: [u8; 512],
}

impl Header {
    fn new(format: Format) -> Header {
        let mut block = [0u8; 512];
        match format {
            Format::Ustar => {
                block[257..263].copy_from_slice(b"ustar\0");
                block[263..265].copy_from_slice(b"00");
            }
            Format::Gnu => block[257..265].copy_from_slice(b"ustar  \0"),
            Format::V7 => {}
        }
        Header { block }
    }

    /// The name, split into ustar's prefix and name when it is longer than 100 bytes
    /// and splits at a `/`; otherwise cut at 100 bytes.
    fn name(&mut self, name: &[u8], format: Format) {
        if name.len() > 100 && matches!(format, Format::Ustar) {
            let lo = name.len().saturating_sub(101);
            if let Some(at) = (lo..name.len().min(156)).find(|&i| name[i] == b'/') {
                put(&mut self.block[345..500], &name[..at]);
                put(&mut self.block[0..100], &name[at + 1..]);
                return;
            }
        }
        put(&mut self.block[0..100], name);
    }

    fn finish(mut self, bad: Option<u8>) -> [u8; 512] {
        self.block[148..156].fill(b' ');
        let sum: u32 = self.block.iter().map(|&b| b as u32).sum();
        let sum = match bad {
            Some(d) => sum.wrapping_add(1 + d as u32),
            None => sum,
        };
        let s = format!("{:06o}\0 ", sum & 0o777777);
        self.block[148..156].copy_from_slice(s.as_bytes());
        self.block
    }
}

/// A whole entry: header plus content padded to 512.
fn simple(out: &mut Vec<u8>, name: &[u8], typeflag: u8, body: &[u8], format: Format) {
    let mut h = Header::new(format);
    put(&mut h.block[0..100], name);
    num(&mut h.block[100..108], 0o644, Num::Octal);
    num(&mut h.block[108..116], 0, Num::Octal);
    num(&mut h.block[116..124], 0, Num::Octal);
    num(&mut h.block[124..136], body.len() as u64, Num::Octal);
    num(&mut h.block[136..148], 0, Num::Octal);
    h.block[156] = typeflag;
    out.extend_from_slice(&h.finish(None));
    out.extend_from_slice(body);
    pad(out);
}

fn pad(out: &mut Vec<u8>) {
    let r = out.len() % 512;
    if r != 0 {
        out.resize(out.len() + 512 - r, 0);
    }
}

fn record(out: &mut Vec<u8>, key: &str, value: &[u8], fudge: i64) {
    // "LEN key=value\n", LEN counting itself.
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let shown = (len as i64 + fudge).max(0);
    out.extend_from_slice(shown.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

fn pax_body(pax: &[Pax], prev: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for p in pax.iter().take(12) {
        match p {
            Pax::Path(s) => record(&mut b, "path", &path_bytes(s, prev), 0),
            Pax::Linkpath(s) => record(&mut b, "linkpath", &path_bytes(s, prev), 0),
            Pax::Size(n) => record(&mut b, "size", n.to_string().as_bytes(), 0),
            Pax::SizeText(c) => record(&mut b, "size", &[b'1', *c], 0),
            Pax::SparseMajor(n) => record(&mut b, "GNU.sparse.major", n.to_string().as_bytes(), 0),
            Pax::SparseMinor(n) => record(&mut b, "GNU.sparse.minor", n.to_string().as_bytes(), 0),
            Pax::SparseSize(n) => {
                record(&mut b, "GNU.sparse.realsize", n.to_string().as_bytes(), 0);
                record(&mut b, "GNU.sparse.size", n.to_string().as_bytes(), 0);
            }
            Pax::SparseName(s) => record(&mut b, "GNU.sparse.name", &path_bytes(s, prev), 0),
            Pax::SparseNumBlocks(n) => {
                record(&mut b, "GNU.sparse.numblocks", n.to_string().as_bytes(), 0)
            }
            Pax::SparseOffsetNumbytes(o, n) => {
                record(&mut b, "GNU.sparse.offset", o.to_string().as_bytes(), 0);
                record(&mut b, "GNU.sparse.numbytes", n.to_string().as_bytes(), 0);
            }
            Pax::SparseMap(m) => {
                let v: Vec<String> = m
                    .iter()
                    .take(32)
                    .flat_map(|(o, n)| [o.to_string(), n.to_string()])
                    .collect();
                record(&mut b, "GNU.sparse.map", v.join(",").as_bytes(), 0);
            }
            Pax::Other(k, v) => {
                const KEYS: &[&str] = &[
                    "uid",
                    "gid",
                    "mtime",
                    "uname",
                    "gname",
                    "atime",
                    "ctime",
                    "comment",
                    "SCHILY.xattr.user.x",
                    "LIBARCHIVE.xattr.a",
                    "hdrcharset",
                    "",
                ];
                let key = KEYS[*k as usize % KEYS.len()];
                record(&mut b, key, &[b'0' + v % 10, *v], 0);
            }
            Pax::BadLength(d) => record(&mut b, "path", b"bad/length", *d as i64),
            Pax::Malformed(x) => match x % 4 {
                0 => b.extend_from_slice(b"10 pathnoeq\n"),
                1 => b.extend_from_slice(b"12 path=abc"),
                2 => b.extend_from_slice(b"99999999999999999999 path=a\n"),
                _ => b.extend_from_slice(b" \n\n"),
            },
        }
    }
    b
}

struct Budget(usize);

impl Budget {
    fn take(&mut self, want: usize) -> usize {
        let n = want.min(self.0);
        self.0 -= n;
        n
    }
}

fn write_entry(out: &mut Vec<u8>, e: &Entry, prev: &mut Vec<u8>, budget: &mut Budget) {
    let name = path_bytes(&e.path, prev);
    let link = path_bytes(&e.link, prev);
    if e.global_pax {
        simple(
            out,
            b"pax_global_header",
            b'g',
            &pax_body(&e.pax, prev),
            e.format,
        );
    }
    if !e.pax.is_empty() {
        simple(
            out,
            b"PaxHeaders/x",
            b'x',
            &pax_body(&e.pax, prev),
            e.format,
        );
    }
    let mut name_bytes = name.clone();
    if e.long_name {
        name_bytes.push(0);
        simple(out, b"././@LongLink", b'L', &name_bytes, Format::Gnu);
    }
    if e.long_link {
        let mut l = link.clone();
        l.push(0);
        simple(out, b"././@LongLink", b'K', &l, Format::Gnu);
    }
    let typeflag = match e.kind {
        Kind::File => b'0',
        Kind::OldFile => 0,
        Kind::Dir => b'5',
        Kind::Symlink => b'2',
        Kind::Hardlink => b'1',
        Kind::Char => b'3',
        Kind::Block => b'4',
        Kind::Fifo => b'6',
        Kind::Contiguous => b'7',
        Kind::GnuSparse => b'S',
        Kind::Other(b) => b,
    };
    let content = budget.take(e.content_len as usize);
    let declared = e.size_lie.map(u64::from).unwrap_or(content as u64);
    let mut h = Header::new(e.format);
    h.name(&name, e.format);
    put(&mut h.block[157..257], &link);
    num(&mut h.block[100..108], e.mode as u64 & 0o7777777, e.num);
    num(&mut h.block[108..116], e.uid as u64, e.num);
    num(&mut h.block[116..124], e.gid as u64, e.num);
    num(&mut h.block[124..136], declared, e.num);
    num(&mut h.block[136..148], e.mtime as u64, Num::Octal);
    h.block[156] = typeflag;
    if !matches!(e.format, Format::V7) {
        put(&mut h.block[265..297], b"root");
        put(&mut h.block[297..329], b"root");
        num(&mut h.block[329..337], e.dev.0 as u64, Num::Octal);
        num(&mut h.block[337..345], e.dev.1 as u64, Num::Octal);
    }
    let mut extensions: Vec<[u8; 512]> = Vec::new();
    if matches!(e.kind, Kind::GnuSparse) {
        // GNU header: 4 (offset, numbytes) pairs at 386, isextended at 482, realsize at 483.
        let mut pairs = e.sparse.iter().take(4 + 21 * 3);
        for i in 0..4 {
            if let Some(&(o, n)) = pairs.next() {
                let at = 386 + i * 24;
                num(&mut h.block[at..at + 12], o as u64 * 512, Num::Octal);
                num(&mut h.block[at + 12..at + 24], n as u64, Num::Octal);
            }
        }
        num(&mut h.block[483..495], e.real_size as u64, Num::Octal);
        let rest: Vec<_> = pairs.collect();
        for chunk in rest.chunks(21) {
            let mut b = [0u8; 512];
            for (i, &&(o, n)) in chunk.iter().enumerate() {
                let at = i * 24;
                num(&mut b[at..at + 12], o as u64 * 512, Num::Octal);
                num(&mut b[at + 12..at + 24], n as u64, Num::Octal);
            }
            extensions.push(b);
        }
        let n = extensions.len();
        if n > 0 {
            h.block[482] = 1;
        }
        for (i, b) in extensions.iter_mut().enumerate() {
            b[504] = (i + 1 < n) as u8;
        }
    }
    out.extend_from_slice(&h.finish(e.bad_checksum));
    for b in &extensions {
        out.extend_from_slice(b);
    }
    let start = out.len();
    out.resize(start + content, e.fill);
    // Some variety in the content, cheaply.
    for (i, b) in out[start..].iter_mut().enumerate().step_by(97) {
        *b = b.wrapping_add(i as u8);
    }
    pad(out);
    *prev = name;
}

fn layer_bytes(l: &Layer, budget: &mut Budget) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = Vec::new();
    for e in &l.entries {
        write_entry(&mut out, e, &mut prev, budget);
    }
    match l.ending {
        Ending::TwoZeroBlocks => out.resize(out.len() + 1024, 0),
        Ending::OneZeroBlock => out.resize(out.len() + 512, 0),
        Ending::Nothing => {}
        Ending::Cut(n) => {
            out.resize(out.len() + 1024, 0);
            let keep = out.len().saturating_sub(1 + n as usize % 1024);
            out.truncate(keep);
        }
        Ending::Trailing(n, b) => {
            out.resize(out.len() + 1024, 0);
            out.resize(out.len() + 1 + n as usize, b | 1);
        }
    }
    match l.wrap {
        Wrap::Plain | Wrap::Plain2 => out,
        Wrap::Gzip | Wrap::GzipCut(_) => {
            let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            g.write_all(&out).unwrap();
            let mut z = g.finish().unwrap();
            if let Wrap::GzipCut(n) = l.wrap {
                z.truncate(z.len().saturating_sub(1 + n as usize));
            }
            z
        }
        Wrap::Zstd | Wrap::ZstdCut(_) => {
            let mut z = zstd::encode_all(&out[..], 1).unwrap();
            if let Wrap::ZstdCut(n) = l.wrap {
                z.truncate(z.len().saturating_sub(1 + n as usize));
            }
            z
        }
    }
}

fuzz_target!(|input: Input| {
    let mut budget = Budget(CONTENT_BUDGET);
    let blobs: Vec<Vec<u8>> = input
        .layers
        .iter()
        .map(|l| layer_bytes(l, &mut budget))
        .collect();

    // Each layer alone, hashed, as `layer_walk` does.
    let hashed = ScanOptions {
        blob_hash: Some(Algorithm::Sha256),
        diff_hash: Some(Algorithm::Sha256),
        hash_plain: true,
        ..ScanOptions::default()
    };
    let mut scans = Vec::new();
    for blob in &blobs {
        let s = scan(Box::new(&blob[..]), &hashed, &NoProgress);
        if let Ok(s) = &s {
            assert_eq!(
                s.figures.compressed_bytes,
                blob.len() as u64,
                "stored bytes"
            );
        }
        scans.push(s);
    }

    // Merged in order and summarised, as `merge` does.
    let merged: Vec<Option<&LayerScan>> = scans.iter().map(|s| s.as_ref().ok()).collect();
    check_merged(&merged, 1 + input.tree_nodes as usize % 40);
});
