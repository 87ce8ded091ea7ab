//! The same content at different paths: visible files of equal size (at least
//! [`DUPLICATE_MIN_BYTES`]) and equal first bytes (their fingerprint, read in the walk
//! with the ELF headers) are candidates; only groups with a file above the base
//! image's layers are kept, and only their files are hashed, in the one second read of
//! `hashes`. Hard links share an inode and are one file, never a
//! duplicate of themselves.

use std::collections::{BTreeMap, HashMap};

use super::hashes::{Hashes, Wanted};
use crate::analyze::base::Base;
use crate::model::scan::DUPLICATE_MIN_BYTES;
use crate::model::{Analysis, Duplicates};

/// A group of visible inodes of one size, with their paths (every live name).
pub(super) struct Group {
    inodes: Vec<u32>,
}

/// Every live name of each visible inode, for the groups' inodes only.
pub(super) struct Names(HashMap<u32, Vec<Vec<u8>>>);

/// Visible inodes of equal size, at least [`DUPLICATE_MIN_BYTES`], and equal first
/// bytes, two or more of them, at least one in a layer of yours; each group's inodes in
/// the layers' order (the copy in the lowest layer first).
pub(super) fn candidates(a: &Analysis, base: &Base) -> (Vec<Group>, Names) {
    let inodes = a.tree.inodes();
    let mut heads = a.heads.clone();
    heads.sort_unstable();
    let head = |i: u32| {
        heads
            .binary_search_by_key(&i, |&(ino, _)| ino)
            .map_or(0, |at| heads[at].1)
    };
    let mut keyed: Vec<(u64, u64, u32)> = inodes
        .iter()
        .enumerate()
        .filter(|(_, ino)| ino.links > 0 && ino.size >= DUPLICATE_MIN_BYTES)
        .map(|(i, ino)| (ino.size, head(i as u32), i as u32))
        .collect();
    keyed.sort_unstable();
    let groups: Vec<Group> = keyed
        .chunk_by(|x, y| (x.0, x.1) == (y.0, y.1))
        .map(|g| g.iter().map(|k| k.2).collect::<Vec<u32>>())
        .filter(|g| g.len() > 1)
        .filter(|g| {
            g.iter()
                .any(|&i| !base.holds(inodes[i as usize].layer.into()))
        })
        .map(|mut g| {
            g.sort_by_key(|&i| (inodes[i as usize].layer, i));
            Group { inodes: g }
        })
        .collect();
    let mut names: HashMap<u32, Vec<Vec<u8>>> = groups
        .iter()
        .flat_map(|g| g.inodes.iter().map(|&i| (i, Vec::new())))
        .collect();
    if !names.is_empty() {
        for (node, inode) in a.tree.live_files() {
            if let Some(paths) = names.get_mut(&inode) {
                paths.push(a.tree.path_bytes(node));
            }
        }
    }
    (groups, Names(names))
}

/// Ask for every candidate's content in the layer that shipped it, under each of its
/// names (the tar holds it under one of them; the others are hard links).
pub(super) fn want(a: &Analysis, groups: &[Group], names: &Names, wanted: &mut Wanted) {
    for &i in groups.iter().flat_map(|g| &g.inodes) {
        let layer = a.tree.inodes()[i as usize].layer.into();
        let paths = wanted.entry(layer).or_default();
        for p in names.0.get(&i).into_iter().flatten() {
            paths.insert(p.clone());
        }
    }
}

/// The groups of identical content: by hash when the files were hashed (a file whose
/// hash is missing is left out), else by size alone, unconfirmed.
pub(super) fn confirm(
    a: &Analysis,
    base: &Base,
    groups: Vec<Group>,
    names: &Names,
    hashes: Option<&Hashes>,
) -> Vec<Duplicates> {
    let Some(by_layer) = hashes else {
        return groups
            .into_iter()
            .map(|g| Duplicates {
                inodes: g.inodes,
                confirmed: false,
            })
            .collect();
    };
    let inodes = a.tree.inodes();
    let digest = |i: u32| {
        let hashed = by_layer.get(&usize::from(inodes[i as usize].layer))?;
        names.0.get(&i)?.iter().find_map(|p| hashed.get(p).copied())
    };
    let mut out = Vec::new();
    for g in groups {
        let mut by_digest: BTreeMap<[u8; 32], Vec<u32>> = BTreeMap::new();
        for i in g.inodes {
            if let Some(d) = digest(i) {
                by_digest.entry(d).or_default().push(i);
            }
        }
        out.extend(
            by_digest
                .into_values()
                .filter(|same| same.len() > 1)
                .filter(|same| {
                    same.iter()
                        .any(|&i| !base.holds(inodes[i as usize].layer.into()))
                })
                .map(|same| Duplicates {
                    inodes: same,
                    confirmed: true,
                }),
        );
    }
    out.sort_by_key(|d| d.inodes[0]);
    out
}
