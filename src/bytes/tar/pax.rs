//! A PAX extended header's records (`LEN KEY=VALUE\n`), read in one pass over the
//! block: newlines found with `memchr`, what the reader needs kept as spans, and the
//! first record the walker refuses noted.
//!
//! The reading is the `tar` crate's, so a layer reads as it always has: records are
//! split at every newline (a value holding one breaks its record), an empty line ends
//! them, a record is malformed unless its length counts the line and its newline and
//! it holds a `=`. Numbers (`size`, `uid`, `gid`) come from the first record of their
//! key before any malformed one; `path` and `linkpath` from the first well-formed one.

use memchr::memchr;

/// A test of one well-formed record (key, value): false refuses it.
pub type Check = fn(&[u8], &[u8]) -> bool;

type Span = (usize, usize);

/// The keys whose first record, before any malformed one, gives a number.
const NUMBERS: [&[u8]; 3] = [b"size", b"uid", b"gid"];

/// Why a PAX header is refused: the first record, in order, that is malformed or that
/// the walker's [`Check`] refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem<'a> {
    Malformed,
    Refused { key: &'a [u8], value: &'a [u8] },
}

#[derive(Clone, Copy)]
enum Refusal {
    Malformed,
    Refused(Span, Span),
}

/// One PAX extended header's records.
#[derive(Default)]
pub struct Pax {
    data: Vec<u8>,
    path: Option<Span>,
    link_path: Option<Span>,
    numbers: [Option<Span>; 3],
    refusal: Option<Refusal>,
}

/// A record's key and value, relative to its line, if it is well formed.
fn record(line: &[u8]) -> Option<(Span, Span)> {
    let space = memchr(b' ', line)?;
    let length: usize = std::str::from_utf8(&line[..space]).ok()?.parse().ok()?;
    if line.len() + 1 != length {
        return None;
    }
    let equals = space + 1 + memchr(b'=', &line[space + 1..])?;
    Some(((space + 1, equals), (equals + 1, line.len())))
}

impl Pax {
    /// The buffer the records are read into, emptied.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        self.data.clear();
        &mut self.data
    }

    /// Read the records of the buffer, once, refusing those `check` refuses.
    pub fn parse(&mut self, check: Check) {
        self.path = None;
        self.link_path = None;
        self.numbers = [None; 3];
        self.refusal = None;
        let mut clean = true;
        let mut at = 0;
        while at < self.data.len() {
            let end = memchr(b'\n', &self.data[at..]).map_or(self.data.len(), |n| at + n);
            if end == at {
                break;
            }
            match record(&self.data[at..end]) {
                Some((key, value)) => {
                    let key = (at + key.0, at + key.1);
                    self.found(key, (at + value.0, at + value.1), clean, check);
                }
                None => {
                    clean = false;
                    self.refusal.get_or_insert(Refusal::Malformed);
                }
            }
            at = end + 1;
        }
    }

    /// A well-formed record; `clean` while no malformed one came before it.
    fn found(&mut self, key: Span, value: Span, clean: bool, check: Check) {
        let name = &self.data[key.0..key.1];
        match name {
            b"path" => {
                self.path.get_or_insert(value);
            }
            b"linkpath" => {
                self.link_path.get_or_insert(value);
            }
            _ => {}
        }
        if clean && let Some(i) = NUMBERS.iter().position(|k| *k == name) {
            self.numbers[i].get_or_insert(value);
        }
        if self.refusal.is_none() && !check(name, &self.data[value.0..value.1]) {
            self.refusal = Some(Refusal::Refused(key, value));
        }
    }

    fn span(&self, span: Option<Span>) -> Option<&[u8]> {
        span.map(|(start, end)| &self.data[start..end])
    }

    /// The first well-formed `path` record's value.
    pub fn path(&self) -> Option<&[u8]> {
        self.span(self.path)
    }

    /// The first well-formed `linkpath` record's value.
    pub fn link_path(&self) -> Option<&[u8]> {
        self.span(self.link_path)
    }

    /// A number key's first value before any malformed record, if it is a number.
    fn number(&self, key: usize) -> Option<u64> {
        let value = self.span(self.numbers[key])?;
        std::str::from_utf8(value).ok()?.parse().ok()
    }

    pub fn size(&self) -> Option<u64> {
        self.number(0)
    }

    pub fn uid(&self) -> Option<u64> {
        self.number(1)
    }

    pub fn gid(&self) -> Option<u64> {
        self.number(2)
    }

    /// The first record that is malformed or refused, if any.
    pub fn problem(&self) -> Option<Problem<'_>> {
        Some(match self.refusal? {
            Refusal::Malformed => Problem::Malformed,
            Refusal::Refused(key, value) => Problem::Refused {
                key: &self.data[key.0..key.1],
                value: &self.data[value.0..value.1],
            },
        })
    }
}
