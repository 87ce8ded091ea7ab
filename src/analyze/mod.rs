//! Pure functions over the model: totals, the per-layer table with its instructions,
//! the biggest paths of the final filesystem and where the waste is. Everything a
//! renderer prints is computed here, sorted and cut to size, so renderers only format.

use std::collections::{BTreeMap, HashMap};

use crate::model::tree::{NodeKind, ROOT, WasteCause};
use crate::model::{Analysis, HistoryStep, ImageInfo};
use crate::walk::Compression;

/// How much detail to keep.
#[derive(Debug, Clone, Copy)]
pub struct SummaryOptions {
    /// Rows of the path and waste tables.
    pub top: usize,
    /// Directory depth of the path table (1 = `/usr`).
    pub depth: usize,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions { top: 20, depth: 3 }
    }
}

/// Image-wide figures (definitions in docs/json.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub stored_bytes: u64,
    pub content_bytes: u64,
    pub wasted_bytes: u64,
    /// Regular files visible in the final filesystem (hardlinked names each count).
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub layers: usize,
}

/// One layer with its figures and instruction.
#[derive(Debug, Clone, Default)]
pub struct LayerRow {
    pub index: usize,
    pub digest: Option<String>,
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    pub compression: Option<Compression>,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub added_bytes: u64,
    pub content_bytes: u64,
    pub wasted_bytes: u64,
    pub files: u64,
    pub entries: u64,
    pub whiteouts: u64,
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    /// Why this layer could not be read.
    pub error: Option<String>,
}

/// A step of the build in order: a layer, or an instruction that made none.
#[derive(Debug, Clone)]
pub enum Step {
    /// Index into [`Report::layers`].
    Layer(usize),
    /// A metadata-only instruction (ENV, CMD, LABEL, ...).
    Empty(HistoryStep),
}

/// A top-N table with its remainder and total.
#[derive(Debug, Clone, Default)]
pub struct Table<R> {
    pub rows: Vec<R>,
    /// Rows left out by `--top`, and their bytes.
    pub rest_rows: usize,
    pub rest_bytes: u64,
    pub total_bytes: u64,
}

/// A path of the final filesystem with its visible bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRow {
    pub path: String,
    pub kind: NodeKind,
    pub bytes: u64,
    pub files: u64,
    /// Layers that put visible bytes here, with their bytes, by layer index.
    pub layers: Vec<(usize, u64)>,
}

/// Bytes shipped under a path that no container sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasteRow {
    pub path: String,
    /// What the path was (a directory groups the waste below it).
    pub kind: NodeKind,
    pub bytes: u64,
    pub files: u64,
    pub added_layer: usize,
    pub removed_layer: usize,
    pub cause: WasteCause,
}

/// Everything a renderer prints.
#[derive(Debug, Clone)]
pub struct Report {
    pub image: ImageInfo,
    pub totals: Totals,
    pub layers: Vec<LayerRow>,
    pub steps: Vec<Step>,
    pub history: Vec<HistoryStep>,
    pub history_note: Option<String>,
    pub paths: Table<PathRow>,
    pub waste: Table<WasteRow>,
    pub options: SummaryOptions,
    /// Layer errors, one line each.
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// All layers were read: every figure is exact.
    pub complete: bool,
}

fn cut<R>(mut rows: Vec<R>, top: usize, bytes: impl Fn(&R) -> u64) -> Table<R> {
    let total_bytes = rows.iter().map(&bytes).sum();
    let rest: Vec<R> = if rows.len() > top {
        rows.split_off(top)
    } else {
        Vec::new()
    };
    Table {
        rest_rows: rest.len(),
        rest_bytes: rest.iter().map(&bytes).sum(),
        total_bytes,
        rows,
    }
}

/// Summarise an analysis for rendering.
pub fn summarize(a: &Analysis, opts: &SummaryOptions) -> Report {
    let depth = opts.depth.max(1);
    let mut layers: Vec<LayerRow> = a
        .layers
        .iter()
        .zip(&a.figures)
        .map(|(l, f)| LayerRow {
            index: l.index,
            digest: l.digest.clone(),
            diff_id: l.diff_id.clone(),
            media_type: l.media_type.clone(),
            compression: f.compression,
            compressed_bytes: f.compressed_bytes,
            uncompressed_bytes: f.uncompressed_bytes,
            added_bytes: f.added_bytes,
            content_bytes: f.content_bytes,
            wasted_bytes: f.added_bytes - f.content_bytes.min(f.added_bytes),
            files: f.counts.files,
            entries: f.entries,
            whiteouts: f.counts.whiteouts + f.counts.opaques,
            ..LayerRow::default()
        })
        .collect();
    for e in &a.layer_errors {
        if let Some(row) = layers.get_mut(e.index) {
            row.error = Some(e.kind.to_string());
        }
    }
    let mut steps = Vec::new();
    for h in &a.history {
        match h.layer {
            Some(i) if i < layers.len() => {
                let row = &mut layers[i];
                row.created_by.clone_from(&h.created_by);
                row.created.clone_from(&h.created);
                row.comment.clone_from(&h.comment);
                steps.push(Step::Layer(i));
            }
            _ if h.empty_layer && a.history_note.is_none() => steps.push(Step::Empty(h.clone())),
            _ => {}
        }
    }
    if a.history_note.is_some() || a.history.is_empty() {
        steps = (0..layers.len()).map(Step::Layer).collect();
    }

    let tree = &a.tree;
    let mut totals = Totals {
        layers: layers.len(),
        ..Totals::default()
    };
    for f in &a.figures {
        totals.compressed_bytes += f.compressed_bytes;
        totals.uncompressed_bytes += f.uncompressed_bytes;
        totals.stored_bytes += f.added_bytes;
        totals.content_bytes += f.content_bytes;
    }
    totals.wasted_bytes = totals.stored_bytes - totals.content_bytes.min(totals.stored_bytes);

    // The path table partitions the final filesystem at `depth`: every visible byte is
    // in exactly one row, so the rows, the remainder and the total add up.
    let mut seen = vec![false; tree.inodes().len()];
    let mut rows = Vec::new();
    let mut stack: Vec<(u32, usize)> = vec![(ROOT, 0)];
    let mut cell_stack: Vec<u32> = Vec::new();
    while let Some((id, d)) = stack.pop() {
        let kind = tree.kind(id);
        if kind == NodeKind::Dir && d < depth {
            for c in tree.children(id).into_iter().rev() {
                stack.push((c, d + 1));
            }
            if d > 0 {
                totals.dirs += 1;
            }
            continue;
        }
        // A cell: sum its subtree.
        let mut row = PathRow {
            path: tree.path(id),
            kind,
            bytes: 0,
            files: 0,
            layers: Vec::new(),
        };
        let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
        cell_stack.clear();
        cell_stack.push(id);
        while let Some(n) = cell_stack.pop() {
            match tree.kind(n) {
                NodeKind::Dir => {
                    if n != id || d > 0 {
                        totals.dirs += 1;
                    }
                    cell_stack.extend(tree.children(n).into_iter().rev());
                }
                NodeKind::File => {
                    totals.files += 1;
                    row.files += 1;
                    if let Some(ino) = tree.inode(n)
                        && !std::mem::replace(&mut seen[ino as usize], true)
                    {
                        let inode = tree.inodes()[ino as usize];
                        row.bytes += inode.size;
                        if inode.size > 0 {
                            *per_layer.entry(inode.layer as usize).or_default() += inode.size;
                        }
                    }
                }
                NodeKind::Symlink => totals.symlinks += 1,
                NodeKind::Other => {}
            }
        }
        if row.bytes > 0 {
            row.layers = per_layer.into_iter().collect();
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    let paths = cut(rows, opts.top, |r| r.bytes);

    // Waste, grouped by the path cell it was under and by who added and removed it.
    let mut groups: HashMap<(u32, u16, u16, WasteCause), (u64, u64)> = HashMap::new();
    for w in tree.waste() {
        let cell = tree.ancestor_at(w.node, depth);
        let g = groups
            .entry((cell, w.added_layer, w.removed_layer, w.cause))
            .or_default();
        g.0 += w.bytes;
        g.1 += 1;
    }
    let mut waste_rows: Vec<WasteRow> = groups
        .into_iter()
        .map(|((cell, added, removed, cause), (bytes, files))| WasteRow {
            path: tree.path(cell),
            kind: tree.kind(cell),
            bytes,
            files,
            added_layer: added as usize,
            removed_layer: removed as usize,
            cause,
        })
        .collect();
    waste_rows.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.added_layer.cmp(&b.added_layer))
            .then_with(|| a.removed_layer.cmp(&b.removed_layer))
            .then_with(|| a.cause.cmp(&b.cause))
    });
    let waste = cut(waste_rows, opts.top, |r| r.bytes);

    let problems: Vec<String> = a.layer_errors.iter().map(|e| e.to_string()).collect();
    let mut notes = a.notes.clone();
    if !problems.is_empty() {
        notes.push(
            "figures are incomplete: unreadable layers are left out of the merged filesystem, \
             so content and waste may be wrong"
                .to_string(),
        );
    }
    Report {
        image: a.image.clone(),
        totals,
        layers,
        steps,
        history: a.history.clone(),
        history_note: a.history_note.clone(),
        paths,
        waste,
        options: SummaryOptions {
            top: opts.top,
            depth,
        },
        complete: problems.is_empty(),
        problems,
        notes,
    }
}

/// The Dockerfile-style form of a history `created_by`: `/bin/sh -c #(nop) ENV A=b`
/// becomes `ENV A=b`, `/bin/sh -c apt-get …` becomes `RUN apt-get …`, BuildKit's
/// `# buildkit` suffix goes, and whitespace runs (newlines of `\` continuations)
/// collapse to one space.
pub fn instruction(created_by: &str) -> String {
    let mut s = created_by.trim();
    if let Some(rest) = s.strip_suffix("# buildkit") {
        s = rest.trim_end();
    }
    let text = if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop)") {
        rest.trim().to_string()
    } else if let Some(rest) = s
        .strip_prefix("/bin/sh -c ")
        .or_else(|| s.strip_prefix("RUN /bin/sh -c "))
    {
        format!("RUN {}", rest.trim())
    } else if let Some(rest) = s.strip_prefix("|") {
        // BuildKit with build args: `|2 A=1 B=2 /bin/sh -c cmd`.
        match rest.split_once("/bin/sh -c ") {
            Some((_, cmd)) => format!("RUN {}", cmd.trim()),
            None => s.to_string(),
        }
    } else {
        s.to_string()
    };
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        // `ADD file:<64 hex> in /`: the content hash says little; keep 12 digits.
        match word.split_once(':') {
            Some((kind @ ("file" | "dir" | "multi"), hash))
                if hash.len() > 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                out.push_str(kind);
                out.push(':');
                out.push_str(&hash[..12]);
            }
            _ => out.push_str(word),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::instruction;

    #[test]
    fn instructions_read_like_a_dockerfile() {
        assert_eq!(
            instruction("/bin/sh -c #(nop)  CMD [\"sh\"]"),
            "CMD [\"sh\"]"
        );
        assert_eq!(
            instruction("/bin/sh -c apt-get update &&     apt-get install -y \\\n  curl"),
            "RUN apt-get update && apt-get install -y \\ curl"
        );
        assert_eq!(instruction("COPY . /app # buildkit"), "COPY . /app");
        assert_eq!(
            instruction("RUN /bin/sh -c pip install -r req.txt # buildkit"),
            "RUN pip install -r req.txt"
        );
        assert_eq!(instruction("|1 V=2 /bin/sh -c make"), "RUN make");
        assert_eq!(
            instruction(&format!(
                "/bin/sh -c #(nop) ADD file:{} in / ",
                "ab".repeat(32)
            )),
            "ADD file:abababababab in /"
        );
    }
}
