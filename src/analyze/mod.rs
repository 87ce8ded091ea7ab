//! Pure functions over the model, each a small named step: the layer table and build
//! steps ([`layers`]), the totals, the biggest paths ([`paths`]), the waste
//! ([`waste`]) and the notes. [`summarize`] runs them into a [`Report`]: everything a
//! renderer prints is computed here, sorted and cut to size, so renderers only format.
//! A new analysis (categories, findings, budgets) is one more step beside these.

pub mod base;
pub mod budget;
pub mod categories;
pub mod diff;
pub mod dockerfile;
pub mod explain;
pub mod findings;
pub mod fix;
pub mod fleet;
pub mod instruction;
pub mod layer_changes;
pub mod layers;
pub mod packages;
pub mod patch;
pub mod paths;
pub mod projection;
pub mod snapshot;
pub mod stage_text;
pub mod top;
pub mod treemap;
pub mod waste;

pub use base::{Base, BaseRule};
pub use budget::{Budget, Outcome, Status, Verdict};
pub use categories::{Category, CategoryLayer, CategoryRow};
pub use diff::Diff;
pub use explain::{Explanation, LayerChange, Now, Tally};
pub use findings::{Finding, Findings, Projection, Rule, Scope, Structural};
pub use instruction::instruction;
pub use layer_changes::{Change, ChangeKind, ChangeNode, LayerChanges};
pub use layers::{LayerRow, Step};
pub use packages::{Manager, PackageRow, Packages};
pub use paths::{PathRow, Visible};
pub use top::{Rest, TopN};
pub use treemap::{MapKind, MapNode, TreeMap};
pub use waste::WasteRow;

use crate::bytes::parallel;
use crate::model::{Analysis, HistoryStep, ImageInfo, LayerFigures};

/// How much detail to keep.
#[derive(Debug, Clone, Copy)]
pub struct SummaryOptions {
    /// Rows of the path and waste tables.
    pub top: usize,
    /// Directory depth of the path table (1 = `/usr`).
    pub depth: usize,
    /// How many layers the base image has, when the caller knows better than the
    /// history (`--base-layers`).
    pub base_layers: Option<usize>,
    /// Keep the final filesystem as a tree of at most this many nodes
    /// ([`treemap`]): the HTML report's treemap, `--tree` in the JSON.
    pub tree_nodes: Option<usize>,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            top: 20,
            depth: 3,
            base_layers: None,
            tree_nodes: None,
        }
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
    /// Regular files in all layer tars (the layer table's total).
    pub layer_files: u64,
    /// Of `stored_bytes`, what the base image's layers ship.
    pub base_stored_bytes: u64,
}

impl Totals {
    /// Of `stored_bytes`, what your layers ship.
    pub fn your_stored_bytes(&self) -> u64 {
        self.stored_bytes - self.base_stored_bytes
    }
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
    pub paths: TopN<PathRow>,
    pub waste: TopN<WasteRow>,
    /// Where the base image ends.
    pub base: Base,
    /// Every visible and wasted byte by category.
    pub categories: TopN<CategoryRow>,
    /// Installed packages by visible bytes, and what building needs alone.
    pub packages: Packages,
    /// Suggestions with their projected savings.
    pub findings: Findings,
    pub options: SummaryOptions,
    /// Layer errors, one line each.
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// All layers were read: every figure is exact.
    pub complete: bool,
    /// The Dockerfile lines of the layers, with `--dockerfile`.
    pub dockerfile: Option<dockerfile::DockerfileLines>,
    /// Only the manifest was read: compressed sizes, digests and history are known,
    /// every other figure is zero.
    pub manifest_only: bool,
    /// The final filesystem cut to a node budget, when asked for
    /// ([`SummaryOptions::tree_nodes`]).
    pub tree: Option<TreeMap>,
    /// What each layer changed, cut to size; with the tree.
    pub layer_changes: Option<Vec<LayerChanges>>,
}

impl Report {
    /// The Dockerfile line of a layer, when `--dockerfile` matched it.
    pub fn line(&self, layer: usize) -> Option<&dockerfile::Located> {
        self.dockerfile.as_ref()?.layer(layer)
    }

    /// The Dockerfile line of a history step (a metadata-only one too).
    pub fn step_line(&self, history: usize) -> Option<&dockerfile::Located> {
        self.dockerfile.as_ref()?.steps.get(history)?.as_ref()
    }
}

/// Image-wide sums of the layer figures and the visible counts.
fn totals(figures: &[LayerFigures], visible: Visible, base: &Base) -> Totals {
    let mut t = Totals {
        layers: figures.len(),
        files: visible.files,
        dirs: visible.dirs,
        symlinks: visible.symlinks,
        ..Totals::default()
    };
    // The pipeline refuses figures whose sums pass u64 (`pipeline::check_sums`), so
    // these never saturate on its analyses; saturating keeps hand-made ones from
    // wrapping.
    for f in figures {
        t.compressed_bytes = t.compressed_bytes.saturating_add(f.compressed_bytes);
        t.uncompressed_bytes = t.uncompressed_bytes.saturating_add(f.uncompressed_bytes);
        t.stored_bytes = t.stored_bytes.saturating_add(f.added_bytes);
        t.content_bytes = t.content_bytes.saturating_add(f.content_bytes);
        t.layer_files = t.layer_files.saturating_add(f.counts.files);
    }
    t.base_stored_bytes = figures[..base.layers]
        .iter()
        .fold(0u64, |s, f| s.saturating_add(f.added_bytes));
    t.wasted_bytes = t.stored_bytes - t.content_bytes.min(t.stored_bytes);
    t
}

/// The source's notes, then what the walk met that is worth telling, then a warning
/// when figures are incomplete.
fn notes(a: &Analysis) -> Vec<String> {
    let mut notes = a.notes.clone();
    let sum = |f: fn(&LayerFigures) -> u64| a.figures.iter().map(f).sum::<u64>();
    let clamped = sum(|f| f.clamped_paths);
    if clamped > 0 {
        notes.push(format!(
            "{clamped} entries have `..` in their names; they were resolved inside the image root"
        ));
    }
    let dangling = sum(|f| f.dangling_hardlinks);
    if dangling > 0 {
        notes.push(format!(
            "{dangling} hardlinks point at paths that do not exist; counted as empty files"
        ));
    }
    let holes = sum(|f| f.sparse_extra_bytes);
    if holes > 0 {
        notes.push(format!(
            "sparse files: sizes count the bytes the tar stores; their apparent sizes add {holes} bytes of holes"
        ));
    }
    if !a.layer_errors.is_empty() {
        notes.push(
            "figures are incomplete: unreadable layers are left out of the merged filesystem, \
             so content and waste may be wrong"
                .to_string(),
        );
    }
    notes
}

/// What the suggestions branch of [`summarize`] computes.
struct Suggestions {
    categories: TopN<CategoryRow>,
    packages: Packages,
    findings: Findings,
    tree: Option<TreeMap>,
    layer_changes: Option<Vec<LayerChanges>>,
}

/// Categories, packages, findings and the drawn tree: one branch of [`summarize`],
/// all read off the same classified atoms.
fn suggestions(
    a: &Analysis,
    layers: &[LayerRow],
    base: &Base,
    opts: &SummaryOptions,
) -> Suggestions {
    let top = opts.top;
    let app_layers = layers.iter().map(LayerRow::is_app).collect();
    let atoms = categories::classify(&a.tree, app_layers);
    let categories = categories::table(&categories::cells(&atoms), base, top);
    let tree = opts
        .tree_nodes
        .map(|nodes| treemap::build(&a.tree, &atoms, nodes));
    // The layers' changes get what the drawn tree leaves of its weight budget.
    let layer_changes = tree.as_ref().map(|t| {
        let left = treemap::MAX_TREE_BYTES.saturating_sub(t.weight());
        layer_changes::build(
            &a.tree,
            a.figures.len(),
            left.min(layer_changes::MAX_CHANGES_BYTES),
        )
    });
    let (packages, owners) = packages::table(a, base, top);
    let findings = findings::find(&findings::Inputs {
        tree: &a.tree,
        atoms: &atoms,
        layers,
        base,
        owners: &owners,
        readds: &a.readds,
        duplicates: &a.duplicates,
        unstripped: &a.unstripped,
        history: &a.history,
        stored: a
            .figures
            .iter()
            .fold(0u64, |s, f| s.saturating_add(f.added_bytes)),
    });
    Suggestions {
        categories,
        packages,
        findings,
        tree,
        layer_changes,
    }
}

/// Summarise an analysis for rendering. The path and waste tables and the
/// suggestions read the same tree and nothing of each other: they run side by side.
pub fn summarize(a: &Analysis, opts: &SummaryOptions) -> Report {
    let depth = opts.depth.max(1);
    let base = base::boundary(a, opts.base_layers);
    let layers = layers::rows(a, &base);
    let steps = layers::steps(a, layers.len());
    let (s, ((paths, visible), waste)) = parallel::join(
        || suggestions(a, &layers, &base, opts),
        || {
            (
                paths::table(&a.tree, depth, opts.top),
                waste::table(&a.tree, depth, opts.top),
            )
        },
    );
    let totals = totals(&a.figures, visible, &base);
    let problems: Vec<String> = a.layer_errors.iter().map(|e| e.to_string()).collect();
    let notes = [notes(a), s.packages.notes.clone()].concat();
    Report {
        image: a.image.clone(),
        totals,
        layers,
        steps,
        history: a.history.clone(),
        history_note: a.history_note.clone(),
        paths,
        waste,
        packages: s.packages,
        findings: s.findings,
        base,
        categories: s.categories,
        options: SummaryOptions { depth, ..*opts },
        complete: problems.is_empty(),
        problems,
        notes,
        dockerfile: None,
        manifest_only: a.manifest_only,
        tree: s.tree,
        layer_changes: s.layer_changes,
    }
}
