//! Two rules about files' contents rather than their paths: `duplicate-files` (the
//! same content at several paths, hashed by the pipeline) drops every copy but the
//! one in the lowest layer; `unstripped` (ELF files with symbol tables or debug info,
//! read in the walk) shrinks each file by what `strip` removes. Their atoms, and their
//! fixes in words.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::inputs::{Inputs, Key};
use super::rule::{Rule, Scope};
use crate::model::Toolchain;

/// The atoms of both rules, each with its key, for the layers `yours` accepts: the
/// copies of a duplicate but the first (the lowest layer's, the base's when it has
/// one), and the files `strip` would shrink; visible files only.
pub(super) fn atoms(inp: &Inputs<'_>, yours: impl Fn(usize) -> bool) -> Vec<(Key, u32)> {
    let visible = |inode: u32| {
        let atom = *inp.atoms.of_inode.get(inode as usize)?;
        (atom != u32::MAX).then_some(atom)
    };
    let mut out = Vec::new();
    for group in inp.duplicates {
        for &inode in group.inodes.iter().skip(1) {
            if let Some(atom) = visible(inode) {
                let layer = inp.atoms.get(atom).layer as usize;
                if yours(layer) {
                    out.push(((Rule::DuplicateFiles, Scope::Yours, layer), atom));
                }
            }
        }
    }
    for f in inp.unstripped {
        if let Some(atom) = visible(f.inode) {
            let layer = inp.atoms.get(atom).layer as usize;
            if yours(layer) && f.saving > 0 {
                out.push(((Rule::Unstripped, Scope::Yours, layer), atom));
            }
        }
    }
    out
}

/// The fix of a `duplicate-files` finding: links in the same RUN, one install, `npm
/// dedupe` when node_modules holds the copies, a shared base when the base has them.
pub(super) fn duplicate_fix(inp: &Inputs<'_>, atoms: &[u32]) -> String {
    let ours: HashSet<u32> = atoms.iter().copied().collect();
    let mut node_modules = false;
    let mut in_base = false;
    let packaged = atoms.iter().any(|&a| {
        let ino = inp.atoms.get(a).inode;
        inp.owners.dpkg.get(ino as usize) == Some(&true)
    });
    for group in inp.duplicates {
        let extra = group.inodes.iter().skip(1).any(|&i| {
            let atom = inp.atoms.of_inode.get(i as usize).copied();
            atom.is_some_and(|a| ours.contains(&a))
        });
        if !extra {
            continue;
        }
        let first = inp.tree.inodes()[group.inodes[0] as usize].layer;
        in_base |= inp.base.holds(first.into());
        node_modules |= group.inodes.iter().any(|&i| {
            let atom = inp.atoms.of_inode.get(i as usize).copied();
            atom.filter(|&a| a != u32::MAX).is_some_and(|a| {
                let path = inp.tree.path_bytes(inp.atoms.get(a).node);
                path.windows(13).any(|w| w == b"node_modules/")
            })
        });
    }
    let mut words = Vec::new();
    if node_modules {
        words.push("run `npm dedupe` in this RUN (one package installed at several places in `node_modules`)");
    }
    words.push("keep one copy and make the others a symlink or a hard link to it (`ln -s`, `ln`) in the same RUN that writes them, or install each file once (not a cached wheel or archive beside what it installed, not a vendored copy beside the package)");
    if packaged {
        words.push("where the copies are files of installed packages (the same changelog or library in several packages), `hardlink` (util-linux) or `rdfind -makehardlinks true` over their folders at the end of the RUN that installs them stores each content once; under `/usr/share/doc`, the `docs-locales` filter leaves them out");
    }
    if in_base {
        words.push("the base image already ships the first copy: use it from there (a symlink), or build on a shared base that holds it");
    }
    words.join("; ")
}

/// The fix of an `unstripped` finding, worded for the toolchains that made the files
/// (by bytes, the biggest first).
pub(super) fn strip_fix(inp: &Inputs<'_>, atoms: &[u32]) -> String {
    let by_inode: HashMap<u32, (Toolchain, u64)> = inp
        .unstripped
        .iter()
        .map(|f| (f.inode, (f.toolchain, f.saving)))
        .collect();
    let mut saving: BTreeMap<Toolchain, u64> = BTreeMap::new();
    for &i in atoms {
        if let Some((t, s)) = by_inode.get(&inp.atoms.get(i).inode) {
            *saving.entry(*t).or_default() += s;
        }
    }
    let mut tools: Vec<(Toolchain, u64)> = saving.into_iter().collect();
    tools.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let words: Vec<&str> = tools
        .iter()
        .map(|(t, _)| match t {
            Toolchain::Go => "build Go programs with `go build -ldflags=\"-s -w\"`",
            Toolchain::Rust => "set `[profile.release] strip = true` in Cargo.toml",
            Toolchain::Native => "link with `-s` (`gcc -s`, `ld -s`), or run `strip --strip-unneeded` on the libraries and `strip` on the programs",
        })
        .collect();
    format!(
        "{}, in the same RUN that builds or installs them (stripping in a later RUN ships both copies); debuggers then lack symbols: keep them apart with `objcopy --only-keep-debug` if you need them",
        words.join("; ")
    )
}
