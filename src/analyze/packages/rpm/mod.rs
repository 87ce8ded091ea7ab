//! rpm: the installed packages from rpm's database in any of its three formats (SQLite
//! `rpmdb.sqlite`, Berkeley DB `Packages`, ndb `Packages.db`, under `var/lib/rpm` or
//! `usr/lib/sysimage/rpm`), each row an rpm header; the build-only packages and the
//! closure removing them would take.
//!
//! The header, Berkeley DB and ndb formats are parsed by hand (small, fixed formats, and
//! no C library to link); SQLite is read by SQLite itself (`rusqlite`, bundled), from
//! memory.

mod bdb;
mod closure;
mod header;
mod ndb;
mod sqlite;

pub use closure::is_build_only;

use std::collections::{BTreeMap, BTreeSet};

use super::record::{Record, norm};
use crate::model::CapturedFile;
use crate::model::path::split_parent;
use header::{FILE_DOC, Header, NAME, PROVIDENAME, RELEASE, REQUIRENAME, VERSION};

/// The folders rpm keeps its database in.
const DIRS: [&[u8]; 2] = [b"var/lib/rpm", b"usr/lib/sysimage/rpm"];

/// The largest rpm database captured (a real `Packages` is often 10 to 60 MiB): under
/// the walk's bound on one read run, with room for the entry's own headers.
pub const MAX_DATABASE: u64 = 62 << 20;

/// The database formats, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Format {
    Bdb,
    Ndb,
    Sqlite,
}

fn format_of(path: &[u8]) -> Option<Format> {
    // Asked of every file of an image: the name's last byte rejects nearly all.
    if !matches!(path.last(), Some(b's' | b'e' | b'b')) {
        return None;
    }
    let (dir, name) = split_parent(path);
    if !DIRS.contains(&dir) {
        return None;
    }
    match name {
        b"rpmdb.sqlite" => Some(Format::Sqlite),
        b"Packages" => Some(Format::Bdb),
        b"Packages.db" => Some(Format::Ndb),
        _ => None,
    }
}

/// Whether `path` is an rpm database file.
pub fn is_database(path: &[u8]) -> bool {
    format_of(path).is_some()
}

/// An rpm package: its record (`depends` holds each Requires as a one-name
/// alternative) and the files it flags `%doc`.
#[derive(Debug, Clone, Default)]
pub(super) struct Package {
    pub(super) record: Record,
    pub(super) docs: Vec<Vec<u8>>,
}

/// Everything the rpm databases say, merged over layers.
#[derive(Debug, Default)]
pub(super) struct Rpm {
    pub(super) packages: BTreeMap<String, Package>,
    /// Databases that could not be read, one line each naming the file.
    pub(super) problems: Vec<String>,
}

/// The name of each header of a database copy, or why it could not be read.
fn headers(c: &CapturedFile, format: Format) -> Result<Vec<Vec<u8>>, String> {
    match format {
        Format::Sqlite => sqlite::blobs(&c.content),
        Format::Bdb => bdb::blobs(&c.content),
        Format::Ndb => ndb::blobs(&c.content),
    }
}

fn name_of(blob: &[u8]) -> Result<String, String> {
    Header::parse(blob)?
        .string(NAME)?
        .ok_or_else(|| "a package header without a name".to_string())
}

/// A package from its header, installed by `layer`.
fn package(blob: &[u8], layer: usize) -> Result<(String, Package), String> {
    let h = Header::parse(blob)?;
    let name = h.string(NAME)?.ok_or("a package header without a name")?;
    let (v, r) = (h.string(VERSION)?, h.string(RELEASE)?);
    let names = |tag| -> Result<Vec<String>, String> {
        Ok(h.strings(tag)?
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect())
    };
    let mut p = Package::default();
    for (path, flags) in header::files(&h)? {
        let path = norm(&path);
        if flags & FILE_DOC != 0 {
            p.docs.push(path.clone());
        }
        p.record.files.push(path);
    }
    p.record.layer = layer;
    p.record.version = v.map(|v| r.map_or(v.clone(), |r| format!("{v}-{r}")));
    p.record.depends = names(REQUIRENAME)?.into_iter().map(|n| vec![n]).collect();
    p.record.provides = names(PROVIDENAME)?;
    Ok((name, p))
}

impl Rpm {
    /// Read every captured copy of the databases. The database is the file the latest
    /// layer wrote (still in the final tree); its last copy is the final word on what
    /// is installed, and each package's layer is the first whose copy (of any of the
    /// databases) lists it.
    pub(super) fn read(&mut self, captured: &[CapturedFile], live: impl Fn(&[u8]) -> bool) {
        let copies: Vec<(&CapturedFile, Format)> = captured
            .iter()
            .filter_map(|c| Some((c, format_of(&c.path)?)))
            .collect();
        let Some(&(last, format)) = copies
            .iter()
            .filter(|(c, _)| live(&c.path))
            .max_by_key(|(c, f)| (c.layer, *f))
        else {
            return;
        };
        let last = copies
            .iter()
            .rev()
            .find(|(c, _)| c.path == last.path)
            .map_or(last, |(c, _)| *c);
        let mut first: BTreeMap<String, usize> = BTreeMap::new();
        for &(c, f) in &copies {
            let Ok(blobs) = headers(c, f) else { continue };
            for name in blobs.iter().filter_map(|b| name_of(b).ok()) {
                first.entry(name).or_insert(c.layer);
            }
        }
        let file = String::from_utf8_lossy(&last.path);
        let blobs = match headers(last, format) {
            Ok(b) => b,
            Err(e) => return self.problems.push(format!("/{file}: {e}")),
        };
        for blob in blobs {
            match package(&blob, last.layer) {
                Ok((name, mut p)) => {
                    p.record.layer = first.get(&name).copied().unwrap_or(last.layer);
                    self.add(name, p);
                }
                Err(e) => self.problems.push(format!("/{file}: {e}")),
            }
        }
        self.problems.dedup();
    }

    /// Two arches of one name (multilib) are one row: their files together.
    fn add(&mut self, name: String, p: Package) {
        match self.packages.get_mut(&name) {
            Some(had) => {
                had.record.files.extend(p.record.files);
                had.docs.extend(p.docs);
                had.record.depends.extend(p.record.depends);
                had.record.provides.extend(p.record.provides);
            }
            None => {
                self.packages.insert(name, p);
            }
        }
    }

    /// Remove `build` and what only they required: see [`closure::closure`].
    pub(super) fn closure(
        &self,
        build: &BTreeSet<String>,
        roots: &BTreeSet<String>,
    ) -> BTreeSet<String> {
        closure::closure(&self.packages, build, roots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_paths_are_known_by_name_and_folder() {
        assert!(is_database(b"var/lib/rpm/rpmdb.sqlite"));
        assert!(is_database(b"usr/lib/sysimage/rpm/rpmdb.sqlite"));
        assert!(is_database(b"var/lib/rpm/Packages"));
        assert!(is_database(b"usr/lib/sysimage/rpm/Packages.db"));
        assert!(!is_database(b"var/lib/rpm/Index.db"));
        assert!(!is_database(b"opt/rpm/Packages"));
    }
}
