//! Measuring what the report does not hold: the bytes of the files a path glob matches
//! on the merged tree ([`measure_paths`]), the earlier report growth is measured
//! against, and the [`Facts`] a verdict reads besides the report. Globs are anchored at
//! the image root; a glob's literal directory tells which findings reach under it.

use std::collections::BTreeMap;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::analyze::packages::PackageRow;
use crate::model::FsTree;
use crate::model::tree::{NodeKind, ROOT};

/// The glob anchored at the image root.
pub(super) fn compile_glob(key: &str) -> std::result::Result<Glob, String> {
    let anchored = if key.starts_with('/') || key.starts_with("**") {
        key.to_string()
    } else {
        format!("/{key}")
    };
    GlobBuilder::new(&anchored)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("bad path glob `{key}`: {}", e.kind()))
}

/// Visible bytes under one glob, and which layers put them there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathFigure {
    pub glob: String,
    pub bytes: u64,
    pub files: u64,
    /// By layer index, biggest first.
    pub layers: Vec<(usize, u64)>,
    /// The biggest matched files.
    pub top: Vec<(String, u64)>,
}

/// How many files of a glob are kept as examples.
const EXAMPLES: usize = 5;

/// Visible bytes of the files each glob matches, in one walk of the tree (a
/// hardlinked file counts once per glob).
pub fn measure_paths(tree: &FsTree, globs: &[&str]) -> Vec<PathFigure> {
    let mut set = GlobSetBuilder::new();
    for g in globs {
        // Checked when the budget was read.
        if let Ok(glob) = compile_glob(g) {
            set.add(glob);
        }
    }
    let set: GlobSet = set.build().unwrap_or_else(|_| GlobSet::empty());
    let mut figures: Vec<PathFigure> = globs
        .iter()
        .map(|g| PathFigure {
            glob: g.to_string(),
            ..PathFigure::default()
        })
        .collect();
    if globs.is_empty() {
        return figures;
    }
    let mut per_layer: Vec<BTreeMap<usize, u64>> = vec![BTreeMap::new(); globs.len()];
    let mut seen: Vec<Vec<bool>> = vec![vec![false; tree.inodes().len()]; globs.len()];
    let mut hits = Vec::new();
    let mut stack: Vec<(u32, usize)> = vec![(ROOT, 0)];
    let mut path: Vec<u8> = Vec::new();
    while let Some((id, len)) = stack.pop() {
        path.truncate(len);
        if id != ROOT {
            path.push(b'/');
            path.extend_from_slice(tree.name(id));
        }
        match tree.kind(id) {
            NodeKind::Dir => {
                let here = path.len();
                stack.extend(tree.children(id).into_iter().rev().map(|c| (c, here)));
            }
            NodeKind::File => {
                let Some(ino) = tree.inode(id) else { continue };
                let text = String::from_utf8_lossy(&path);
                set.matches_into(text.as_ref(), &mut hits);
                for &g in &hits {
                    if std::mem::replace(&mut seen[g][ino as usize], true) {
                        continue;
                    }
                    let inode = tree.inodes()[ino as usize];
                    let f = &mut figures[g];
                    f.bytes += inode.size;
                    f.files += 1;
                    *per_layer[g].entry(usize::from(inode.layer)).or_default() += inode.size;
                    f.top.push((text.to_string(), inode.size));
                    if f.top.len() > 4 * EXAMPLES {
                        keep_top(&mut f.top);
                    }
                }
            }
            _ => {}
        }
    }
    for (f, layers) in figures.iter_mut().zip(per_layer) {
        keep_top(&mut f.top);
        f.layers = layers.into_iter().filter(|&(_, b)| b > 0).collect();
        f.layers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    figures
}

fn keep_top(top: &mut Vec<(String, u64)>) {
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(EXAMPLES);
}

/// The earlier report growth is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// Where it was read from.
    pub source: String,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub content_bytes: u64,
    /// Its layers' diff_ids (a layer of the new image not among them is new).
    pub diff_ids: Vec<String>,
}

/// What the verdict reads besides the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// From [`measure_paths`], one per path glob of the budget.
    pub paths: &'a [PathFigure],
    /// Every package (the report keeps only the top rows), when a package limit asks.
    pub packages: Option<&'a [PackageRow]>,
    pub baseline: Option<&'a Baseline>,
}

/// The literal directory a glob starts with (`/root/.cache` of `/root/.cache/**`).
pub(super) fn literal_prefix(glob: &str) -> String {
    let anchored = if glob.starts_with('/') {
        glob.to_string()
    } else {
        format!("/{glob}")
    };
    let mut out = String::new();
    for c in anchored.split('/').skip(1) {
        if c.contains(['*', '?', '[', '{', '\\']) {
            break;
        }
        out.push('/');
        out.push_str(c);
    }
    out
}

pub(super) fn overlaps(a: &str, b: &str) -> bool {
    let under = |x: &str, y: &str| {
        y.is_empty() || x == y || (x.starts_with(y) && x.as_bytes().get(y.len()) == Some(&b'/'))
    };
    under(a, b) || under(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefixes() {
        assert_eq!(literal_prefix("/root/.cache/**"), "/root/.cache");
        assert_eq!(literal_prefix("**/*.pyc"), "");
        assert_eq!(literal_prefix("usr/lib/python3*/test/**"), "/usr/lib");
        assert!(overlaps("/root/.cache/pip", "/root/.cache"));
        assert!(overlaps("/root", "/root/.cache"));
        assert!(!overlaps("/rootx", "/root"));
    }
}
