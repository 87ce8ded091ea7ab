//! A fix is an edit of the scans.
//!
//! Every regular-file entry that shipped bytes in a layer's tar is one atom of
//! [`Atoms`]: its content is visible in the final filesystem, or hidden by a later
//! layer (one waste record). The scans' stored bytes are the atoms' bytes added up, so
//! an image built again with a fix ships `stored − Σ(the entries the fix drops)`: a
//! fix is the set of entries it drops from the layers, and what it saves is exact by
//! construction. The merge adds one thing, causality between layers: a step that
//! rewrites what the layers below left (a `chmod -R`, a `chown -R`) writes a re-added
//! copy only of files that exist, so a file dropped below it takes its re-added copies
//! along. [`Scans::closure`] adds them, transitively, to every edit, so overlapping
//! mistakes are counted for each fix that removes them and, for a list of fixes, once.
//!
//! These are the scans in compact form: the atoms (path node, layer, bytes, how they
//! were hidden) and the re-add links the merge and the content hashes found; the
//! layers are not walked or merged again.

use std::collections::HashSet;

use super::categories::Atoms;
use crate::model::tree::WasteCause;
use crate::model::{FsTree, ReAdd};

/// A re-add's lower copy and upper copy, as atoms (the upper one visible, or hidden
/// by a later layer).
pub fn readd_atoms(tree: &FsTree, atoms: &Atoms<'_>, r: &ReAdd) -> Option<(u32, u32)> {
    let upper = match r.upper_waste {
        Some(j) => atoms.of_waste(j),
        None => atoms.of_inode[tree.inode(r.node)? as usize],
    };
    (upper != u32::MAX).then(|| (atoms.of_waste(r.waste), upper))
}

/// The scans as edits see them: the re-add links between atoms.
#[derive(Debug, Default)]
pub struct Scans {
    /// (lower atom, upper atom): the upper copy exists because the lower one did. Sorted.
    links: Vec<(u32, u32)>,
}

impl Scans {
    /// The links of the confirmed re-adds. A re-add whose lower copy itself replaced an
    /// older file of other content is left out: dropping the lower copy would leave
    /// that older file for the step to rewrite. A copy of a copy (`chmod` then `chown`)
    /// keeps its link.
    pub fn new(tree: &FsTree, atoms: &Atoms<'_>, readds: &[ReAdd]) -> Scans {
        let mut pairs: Vec<(u32, u32)> = readds
            .iter()
            .filter_map(|r| readd_atoms(tree, atoms, r))
            .filter(|(lower, upper)| lower != upper)
            .collect();
        if pairs.is_empty() {
            return Scans::default();
        }
        let uppers: HashSet<u32> = pairs.iter().map(|&(_, u)| u).collect();
        // (node, layer) of every entry that replaced an older copy of its path.
        let replaced: HashSet<(u32, u16)> = tree
            .waste()
            .iter()
            .filter(|w| w.cause == WasteCause::Overwritten && w.removed_layer > w.added_layer)
            .map(|w| (w.node, w.removed_layer))
            .collect();
        pairs.retain(|&(lower, _)| {
            let a = atoms.get(lower);
            uppers.contains(&lower) || !replaced.contains(&(a.node, a.layer))
        });
        pairs.sort_unstable();
        pairs.dedup();
        Scans { links: pairs }
    }

    /// The copies made of `atom` by later layers.
    fn copies(&self, atom: u32) -> impl Iterator<Item = u32> + '_ {
        let start = self.links.partition_point(|&(l, _)| l < atom);
        self.links[start..]
            .iter()
            .take_while(move |&&(l, _)| l == atom)
            .map(|&(_, u)| u)
    }

    /// The last copy of `atom`'s content along its re-adds (`atom` when none): where
    /// the bytes end up, visible or hidden.
    pub fn last_copy(&self, atom: u32) -> u32 {
        let mut cur = atom;
        // Links go strictly up the layers, so this ends.
        while let Some(up) = self.copies(cur).next() {
            cur = up;
        }
        cur
    }

    /// The entries an edit drops, `seeds`, with every re-added copy that no longer
    /// happens once they are gone: sorted, without repeats.
    pub fn closure(&self, mut seeds: Vec<u32>) -> Vec<u32> {
        if !self.links.is_empty() {
            let mut seen: HashSet<u32> = seeds.iter().copied().collect();
            let mut stack = seeds.clone();
            while let Some(a) = stack.pop() {
                for up in self.copies(a) {
                    if seen.insert(up) {
                        seeds.push(up);
                        stack.push(up);
                    }
                }
            }
        }
        seeds.sort_unstable();
        seeds.dedup();
        seeds
    }
}
