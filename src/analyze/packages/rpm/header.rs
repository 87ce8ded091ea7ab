//! The rpm header blob, as every rpm database backend stores it (no lead, no magic):
//! a big-endian index count and data length, the index entries (tag, type, offset,
//! count, 16 bytes each), then the data store. Parsed by hand, every offset and count
//! checked against the blob; what a package is made of is read from a handful of tags.

/// The most index entries and data bytes one header may have (rpm's own limits).
const MAX_TAGS: usize = 0xffff;
const MAX_DATA: usize = 256 << 20;

pub(super) const NAME: u32 = 1000;
pub(super) const VERSION: u32 = 1001;
pub(super) const RELEASE: u32 = 1002;
pub(super) const OLDFILENAMES: u32 = 1027;
pub(super) const FILEFLAGS: u32 = 1037;
pub(super) const PROVIDENAME: u32 = 1047;
pub(super) const REQUIRENAME: u32 = 1049;
pub(super) const DIRINDEXES: u32 = 1116;
pub(super) const BASENAMES: u32 = 1117;
pub(super) const DIRNAMES: u32 = 1118;

/// `%doc` in FILEFLAGS (`%license` is 0x80: kept by `nodocs`, so not a doc here).
pub(super) const FILE_DOC: u32 = 0x2;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// One index entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: its index and its data store, read on demand.
#[derive(Debug)]
pub(super) struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// The index of a blob; an error says what is wrong with it.
    pub(super) fn parse(blob: &'a [u8]) -> Result<Header<'a>, String> {
        let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err("a package header is shorter than 8 bytes".into());
        };
        let (il, dl) = (il as usize, dl as usize);
        if il == 0 || il > MAX_TAGS || dl > MAX_DATA {
            return Err(format!(
                "a package header has {il} tags and {dl} data bytes"
            ));
        }
        let start = 8 + il * 16;
        let data = blob
            .get(start..start + dl)
            .ok_or("a package header is longer than its record")?;
        let mut entries = Vec::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * 16;
            let field = |k: usize| be32(blob, at + 4 * k).unwrap_or(0);
            let (offset, count) = (field(2) as usize, field(3) as usize);
            if offset > dl || count > dl {
                return Err(format!("tag {} points outside the header's data", field(0)));
            }
            entries.push(Entry {
                tag: field(0),
                kind: field(1),
                offset,
                count,
            });
        }
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// A string array (or one string) tag; missing is empty, a string running past
    /// the data store an error.
    pub(super) fn strings(&self, tag: u32) -> Result<Vec<&'a [u8]>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        let count = match e.kind {
            TYPE_STRING => 1,
            TYPE_STRING_ARRAY | TYPE_I18NSTRING => e.count,
            k => return Err(format!("tag {tag} has type {k}, not a string")),
        };
        let mut out = Vec::with_capacity(count.min(self.data.len()));
        let mut at = e.offset;
        for _ in 0..count {
            let rest = &self.data[at.min(self.data.len())..];
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| format!("a string of tag {tag} runs past the header"))?;
            out.push(&rest[..end]);
            at += end + 1;
        }
        Ok(out)
    }

    /// A string tag as text (lossy), if present.
    pub(super) fn string(&self, tag: u32) -> Result<Option<String>, String> {
        Ok(self
            .strings(tag)?
            .first()
            .map(|s| String::from_utf8_lossy(s).into_owned()))
    }

    /// A 32-bit integer array tag; missing is empty.
    pub(super) fn u32s(&self, tag: u32) -> Result<Vec<u32>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(Vec::new());
        };
        if e.kind != TYPE_INT32 {
            return Err(format!("tag {tag} has type {}, not int32", e.kind));
        }
        (0..e.count)
            .map(|i| {
                be32(self.data, e.offset + 4 * i)
                    .ok_or_else(|| format!("tag {tag} runs past the header"))
            })
            .collect()
    }
}

/// The files of a package: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]` (or the old
/// `OLDFILENAMES`), without the leading `/`, each with its FILEFLAGS.
pub(super) fn files(h: &Header<'_>) -> Result<Vec<(Vec<u8>, u32)>, String> {
    let flags = h.u32s(FILEFLAGS)?;
    let flag = |i: usize| flags.get(i).copied().unwrap_or(0);
    let old = h.strings(OLDFILENAMES)?;
    if !old.is_empty() {
        return Ok(old
            .iter()
            .enumerate()
            .map(|(i, p)| (p.to_vec(), flag(i)))
            .collect());
    }
    let (base, dirs, index) = (
        h.strings(BASENAMES)?,
        h.strings(DIRNAMES)?,
        h.u32s(DIRINDEXES)?,
    );
    if index.len() != base.len() {
        return Err(format!(
            "{} file names but {} directory indexes",
            base.len(),
            index.len()
        ));
    }
    base.iter()
        .zip(index)
        .enumerate()
        .map(|(i, (b, d))| {
            let dir = dirs
                .get(d as usize)
                .ok_or_else(|| format!("directory index {d} of {} directories", dirs.len()))?;
            Ok(([*dir, *b].concat(), flag(i)))
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A header blob from (tag, type, payload) entries, payloads laid end to end
    /// (int32 payloads aligned to 4).
    pub(crate) fn blob(tags: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, kind, count, payload) in tags {
            if *kind == TYPE_INT32 {
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
            }
            for v in [*tag, *kind, data.len() as u32, *count] {
                index.extend(v.to_be_bytes());
            }
            data.extend(payload);
        }
        let mut out = (tags.len() as u32).to_be_bytes().to_vec();
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    pub(crate) fn strs(s: &[&str]) -> (u32, Vec<u8>) {
        let mut out = Vec::new();
        for x in s {
            out.extend(x.as_bytes());
            out.push(0);
        }
        (s.len() as u32, out)
    }

    /// Reading `file` with a byte flipped every `step` bytes, or cut there, ends in a
    /// value or an error, never a panic.
    pub(crate) fn survives_damage<T>(file: &[u8], step: usize, read: fn(&[u8]) -> T) {
        for at in (0..file.len()).step_by(step) {
            let mut g = file.to_vec();
            g[at] ^= 0xa5;
            let _ = read(&g);
            let _ = read(&file[..at]);
        }
    }

    pub(crate) fn ints(v: &[u32]) -> (u32, Vec<u8>) {
        (
            v.len() as u32,
            v.iter().flat_map(|x| x.to_be_bytes()).collect(),
        )
    }

    #[test]
    fn files_are_dirnames_and_basenames() {
        let (nb, b) = strs(&["a", "b", "README"]);
        let (nd, d) = strs(&["/usr/bin/", "/usr/share/doc/x/"]);
        let (ni, i) = ints(&[0, 0, 1]);
        let (nf, f) = ints(&[0, 0, FILE_DOC]);
        let (_, name) = strs(&["x"]);
        let raw = blob(&[
            (NAME, TYPE_STRING, 1, name),
            (BASENAMES, TYPE_STRING_ARRAY, nb, b),
            (DIRNAMES, TYPE_STRING_ARRAY, nd, d),
            (DIRINDEXES, TYPE_INT32, ni, i),
            (FILEFLAGS, TYPE_INT32, nf, f),
        ]);
        let h = Header::parse(&raw).expect("parses");
        assert_eq!(h.string(NAME).expect("name").as_deref(), Some("x"));
        let fs = files(&h).expect("files");
        assert_eq!(fs[2], (b"/usr/share/doc/x/README".to_vec(), FILE_DOC));
        assert_eq!(fs[0].0, b"/usr/bin/a");
    }

    #[test]
    fn hostile_headers_are_errors() {
        assert!(Header::parse(b"\0\0").is_err());
        assert!(Header::parse(&[0xff; 16]).is_err());
        let (nb, b) = strs(&["a"]);
        let (ni, i) = ints(&[7]);
        let raw = blob(&[
            (BASENAMES, TYPE_STRING_ARRAY, nb, b),
            (DIRINDEXES, TYPE_INT32, ni, i),
        ]);
        assert!(files(&Header::parse(&raw).expect("parses")).is_err());
        // A count far past the data, an unterminated string, a cut blob.
        let mut raw = blob(&[(NAME, TYPE_STRING_ARRAY, 1, b"abc".to_vec())]);
        raw[8 + 12..8 + 16].copy_from_slice(&1000u32.to_be_bytes());
        assert!(Header::parse(&raw).is_err());
        raw[8 + 12..8 + 16].copy_from_slice(&1u32.to_be_bytes());
        let h = Header::parse(&raw).expect("parses");
        assert!(h.strings(NAME).is_err());
        assert!(Header::parse(&raw[..raw.len() - 1]).is_err());
        survives_damage(&raw, 1, |b| {
            Header::parse(b).and_then(|h| h.strings(NAME).map(|v| v.len()))
        });
    }
}
