//! Content hashes of chosen files, the one second read of an image: the files a
//! check by content asks about (same-size re-adds, `readds`; same-size files at other
//! paths, `duplicates`) are gathered per layer, and only the layers holding them are
//! read again, only those files hashed, the hashes kept in the layer cache.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::bytes::compression;
use crate::bytes::{NoProgress, parallel};
use crate::cache::{Cache, FileHashes};
use crate::model::{Analysis, DigestCheck, LayerRef, LayerScan};
use crate::source::{Opened, Reopen, store};
use crate::walk::{self, Capture};

/// The paths to hash, by layer.
pub(super) type Wanted = BTreeMap<usize, HashSet<Vec<u8>>>;

/// The hashes read, by layer, then path.
pub(super) type Hashes = HashMap<usize, FileHashes>;

/// Paths of one layer whose content is hashed.
struct PathSet(HashSet<Vec<u8>>);

impl Capture for PathSet {
    fn wants(&self, path: &[u8], _size: u64) -> bool {
        self.0.contains(path)
    }
}

/// Whether the input can be read a second time (a one-pass input only when its stream
/// can be had again, as an engine's save stream can; standard input cannot).
pub(super) fn readable(opened: &Opened) -> bool {
    !opened.streamed || opened.reopen.is_some()
}

/// Hash the wanted files, reading again only the layers that hold them: `None` when
/// the input cannot be read twice. A layer that fails to read gives no hashes.
pub(super) fn hash(
    opened: &Opened,
    a: &Analysis,
    wanted: Wanted,
    cache: Option<&Cache>,
) -> Option<Hashes> {
    if !readable(opened) {
        return None;
    }
    let wanted: Vec<(usize, PathSet)> = wanted.into_iter().map(|(l, p)| (l, PathSet(p))).collect();
    let mut by_layer: Hashes = HashMap::new();
    if wanted.is_empty() {
        return Some(by_layer);
    }
    let jobs: Vec<(usize, u64)> = (0..wanted.len())
        .map(|i| (i, a.figures[wanted[i].0].uncompressed_bytes))
        .collect();
    match &opened.reopen {
        Some(reopen) if opened.streamed => {
            by_layer = hash_streamed(opened, reopen, &a.layers, &wanted);
        }
        _ => parallel::ordered(
            &jobs,
            |i| hash_files(opened, &a.layers[wanted[i].0], &wanted[i].1, cache),
            |i, hashes| {
                if let Some(h) = hashes {
                    by_layer.insert(wanted[i].0, h);
                }
            },
        ),
    }
    Some(by_layer)
}

/// SHA-256 of the selected files of one layer (the last entry of a path wins, as in
/// the merge); `None` when the layer cannot be read again. With a cache, the hashes are
/// kept under a key made of the layer's digest and the paths asked, so a second report
/// does not read (or download) the layer again to confirm the same re-adds.
fn hash_files(
    opened: &Opened,
    layer: &LayerRef,
    paths: &PathSet,
    cache: Option<&Cache>,
) -> Option<FileHashes> {
    let key = match (&layer.check, cache) {
        (DigestCheck::Blob(d), Some(cache)) => Some((hashes_key(d, paths), cache)),
        _ => None,
    };
    if let Some((key, cache)) = &key
        && let Some(kept) = cache.get_hashes(key)
    {
        return Some(kept);
    }
    let reader = opened.store.open(&layer.locator).ok()?;
    let opts = walk::ScanOptions {
        hash_files: Some(paths),
        decoder_limit: opened.decoder_limit,
        limits: opened.scan_limits,
        ..walk::ScanOptions::default()
    };
    let scan = walk::scan(reader, &opts, &NoProgress).ok()?;
    let hashes = hashed_files(&scan);
    if let Some((key, cache)) = key {
        let _ = cache.put_hashes(&key, &hashes);
    }
    Some(hashes)
}

/// The hashed files of a scan, by path.
fn hashed_files(scan: &LayerScan) -> FileHashes {
    scan.hashed
        .iter()
        .filter_map(|&(entry, digest)| {
            let e = scan.entries.get(entry as usize)?;
            Some((scan.path(e.path), digest))
        })
        .collect()
}

/// The cache key of some files' hashes in one layer: a SHA-256 over the layer digest and
/// the sorted paths (distinct from every layer digest, which hashes a tar).
fn hashes_key(layer_digest: &str, paths: &PathSet) -> String {
    let mut sorted: Vec<&Vec<u8>> = paths.0.iter().collect();
    sorted.sort();
    let mut h = crate::bytes::Hasher::new(crate::bytes::Algorithm::Sha256);
    h.update(b"imgsize file hashes\0");
    h.update(layer_digest.as_bytes());
    for p in sorted {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finish()
}

/// The wanted files' hashes of a one-pass input streamed again: each member that is a
/// wanted layer is walked, hashing only those files; the others are skipped. Nothing
/// when the stream cannot be had again.
fn hash_streamed(
    opened: &Opened,
    reopen: &Reopen,
    layers: &[LayerRef],
    wanted: &[(usize, PathSet)],
) -> HashMap<usize, FileHashes> {
    let mut out = HashMap::new();
    let Ok(stream) = reopen() else {
        return out;
    };
    let Ok((_, reader)) = compression::decompressing(stream, opened.decoder_limit) else {
        return out;
    };
    let mut archive = tar::Archive::new(reader);
    let Ok(entries) = archive.entries() else {
        return out;
    };
    for entry in entries {
        let Ok(entry) = entry else { break };
        let Some(member) = store::clean(&String::from_utf8_lossy(&entry.path_bytes())) else {
            continue;
        };
        if let Some((layer, paths)) = wanted.iter().find(|(l, _)| layers[*l].locator == member) {
            let opts = walk::ScanOptions {
                hash_files: Some(paths),
                decoder_limit: opened.decoder_limit,
                limits: opened.scan_limits,
                ..walk::ScanOptions::default()
            };
            if let Ok(scan) = walk::scan(Box::new(entry), &opts, &NoProgress) {
                out.insert(*layer, hashed_files(&scan));
            }
        }
        if out.len() == wanted.len() {
            break;
        }
    }
    out
}
