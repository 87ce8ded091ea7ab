//! The JSON contract for dashboards and scripts. Field by field in docs/json.md; the
//! schema is docs/imgsize-report.schema.json. Integers are raw bytes. Any change that
//! removes or retypes a field bumps [`SCHEMA_VERSION`]; adding fields does not.

use std::io::{self, Write};

use serde::Serialize;

use super::{Document, Renderer, verdict};
use crate::analyze::Verdict;
use crate::analyze::budget::{Amount, Origin, Outcome, Unit};
use crate::analyze::diff::{Change, Diff, DiffRest, Side};
use crate::analyze::dockerfile::Located;
use crate::analyze::{
    self, CategoryRow, Explanation, Finding, LayerRow, MapKind, MapNode, Now, PackageRow, PathRow,
    Report, Step, Tally, TreeMap, WasteRow,
};
use crate::model::{HistoryStep, ImageInfo, NodeKind, SnapshotLine};

/// Version of the JSON contract.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    schema_version: u32,
    tool: Tool,
    image: Image<'a>,
    complete: bool,
    manifest_only: bool,
    totals: Totals,
    layers: Vec<Layer<'a>>,
    history: Vec<History<'a>>,
    history_note: Option<&'a str>,
    paths_depth: usize,
    paths: Vec<Path<'a>>,
    paths_rest: Rest,
    waste: Vec<Waste<'a>>,
    waste_rest: Rest,
    base: BaseDoc<'a>,
    categories: Vec<CategoryDoc>,
    categories_rest: Rest,
    packages: Vec<PackageDoc<'a>>,
    packages_rest: Rest,
    build_only: BuildOnlyDoc<'a>,
    findings: Vec<FindingDoc<'a>>,
    projected: Projected,
    problems: &'a [String],
    notes: &'a [String],
    dockerfile: Option<DockerfileDoc<'a>>,
    /// With `--tree` (and always in the HTML report): the final filesystem, pruned.
    tree: Option<TreeDoc<'a>>,
}

#[derive(Serialize)]
struct TreeDoc<'a> {
    max_nodes: usize,
    min_bytes: u64,
    nodes: usize,
    pruned_bytes: u64,
    pruned_entries: u64,
    root: NodeDoc<'a>,
}

/// One node of the tree: `entries` only on pruned nodes, `children` only on
/// directories.
struct NodeDoc<'a>(&'a MapNode);

impl Serialize for NodeDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let n = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &n.name)?;
        m.serialize_entry("kind", n.kind.code())?;
        m.serialize_entry("bytes", &n.bytes)?;
        m.serialize_entry("files", &n.files)?;
        m.serialize_entry("layer", &n.layer)?;
        m.serialize_entry("category", &n.category.map(|c| c.code()))?;
        if n.kind == MapKind::Pruned {
            m.serialize_entry("entries", &n.entries)?;
        }
        if n.kind == MapKind::Dir {
            let children: Vec<NodeDoc<'_>> = n.children.iter().map(NodeDoc).collect();
            m.serialize_entry("children", &children)?;
        }
        m.end()
    }
}

fn tree(t: &TreeMap) -> TreeDoc<'_> {
    TreeDoc {
        max_nodes: t.max_nodes,
        min_bytes: t.min_bytes,
        nodes: t.nodes,
        pruned_bytes: t.pruned_bytes,
        pruned_entries: t.pruned_entries,
        root: NodeDoc(&t.root),
    }
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// Who wrote a document.
const TOOL: Tool = Tool {
    name: "imgsize",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
struct Image<'a> {
    source: &'a str,
    format: &'a str,
    outer_compression: Option<&'a str>,
    reference: Option<&'a str>,
    tags: &'a [String],
    os: Option<&'a str>,
    architecture: Option<&'a str>,
    variant: Option<&'a str>,
    created: Option<&'a str>,
    config_digest: Option<&'a str>,
    manifest_digest: Option<&'a str>,
    other_images: &'a [String],
}

#[derive(Serialize)]
struct Totals {
    compressed_bytes: u64,
    uncompressed_bytes: u64,
    stored_bytes: u64,
    content_bytes: u64,
    wasted_bytes: u64,
    files: u64,
    dirs: u64,
    symlinks: u64,
    layers: usize,
}

#[derive(Serialize)]
struct Layer<'a> {
    index: Option<usize>,
    empty_layer: bool,
    digest: Option<&'a str>,
    diff_id: Option<&'a str>,
    media_type: Option<&'a str>,
    compression: Option<&'static str>,
    compressed_bytes: u64,
    uncompressed_bytes: u64,
    added_bytes: u64,
    content_bytes: u64,
    wasted_bytes: u64,
    files: u64,
    entries: u64,
    created_by: Option<&'a str>,
    created: Option<&'a str>,
    comment: Option<&'a str>,
    error: Option<&'a str>,
    /// `base` or `yours`; null for metadata-only steps.
    scope: Option<&'static str>,
    /// With `--dockerfile`: where the instruction is, or null when it did not match.
    dockerfile_line: Option<LineDoc<'a>>,
}

#[derive(Serialize)]
struct LineDoc<'a> {
    file: &'a str,
    line: usize,
    end_line: usize,
}

impl<'a> From<&'a Located> for LineDoc<'a> {
    fn from(l: &'a Located) -> Self {
        LineDoc {
            file: &l.file,
            line: l.line,
            end_line: l.end_line,
        }
    }
}

#[derive(Serialize)]
struct DockerfileDoc<'a> {
    file: &'a str,
    stage: &'a str,
    matched_layers: usize,
    unmatched_layers: usize,
    unmatched_lines: &'a [usize],
    notes: &'a [String],
}

#[derive(Serialize)]
struct History<'a> {
    created_by: Option<&'a str>,
    created: Option<&'a str>,
    comment: Option<&'a str>,
    empty_layer: bool,
    layer: Option<usize>,
}

#[derive(Serialize)]
struct Path<'a> {
    path: &'a str,
    kind: &'static str,
    bytes: u64,
    files: u64,
    layers: Vec<PathLayer>,
}

#[derive(Serialize)]
struct PathLayer {
    index: usize,
    bytes: u64,
}

#[derive(Serialize)]
struct Waste<'a> {
    path: &'a str,
    kind: &'static str,
    bytes: u64,
    files: u64,
    added_in_layer: usize,
    removed_by_layer: usize,
    cause: &'static str,
}

#[derive(Serialize)]
struct BaseDoc<'a> {
    layers: usize,
    rule: &'static str,
    name: Option<&'a str>,
    digest: Option<&'a str>,
    /// Stored bytes of the base's layers and of yours.
    base_stored_bytes: u64,
    your_stored_bytes: u64,
}

#[derive(Serialize)]
struct CategoryDoc {
    category: &'static str,
    bytes: u64,
    content_bytes: u64,
    wasted_bytes: u64,
    files: u64,
    base_content_bytes: u64,
    base_wasted_bytes: u64,
    your_content_bytes: u64,
    your_wasted_bytes: u64,
    layers: Vec<CategoryLayerDoc>,
}

#[derive(Serialize)]
struct PackageDoc<'a> {
    manager: &'static str,
    name: &'a str,
    version: Option<&'a str>,
    bytes: u64,
    files: u64,
    layer: Option<usize>,
    scope: Option<&'static str>,
    build_only: bool,
    build_closure: bool,
}

#[derive(Serialize)]
struct FindingDoc<'a> {
    rule: &'static str,
    title: &'static str,
    scope: &'static str,
    layer: usize,
    created_by: Option<&'a str>,
    instruction: Option<&'a str>,
    paths: Vec<PathBytes<'a>>,
    path_count: usize,
    bytes: u64,
    incremental_bytes: u64,
    compressed_bytes: u64,
    confidence: &'static str,
    fix: &'a str,
    dockerfile_line: Option<LineDoc<'a>>,
}

#[derive(Serialize)]
struct PathBytes<'a> {
    path: &'a str,
    bytes: u64,
}

#[derive(Serialize)]
struct Projected {
    saved_bytes: u64,
    stored_bytes: u64,
    base_saved_bytes: u64,
    fixes: ProjectionDoc,
    structural: Option<StructuralDoc>,
}

#[derive(Serialize)]
struct ProjectionDoc {
    stored_bytes: u64,
    saved_bytes: u64,
}

#[derive(Serialize)]
struct StructuralDoc {
    rule: &'static str,
    stored_bytes: u64,
    saved_bytes: u64,
    slim_base: bool,
    runtime_base: Option<String>,
}

#[derive(Serialize)]
struct BuildOnlyDoc<'a> {
    bytes: u64,
    closure_bytes: u64,
    closure: &'a [String],
}

#[derive(Serialize)]
struct CategoryLayerDoc {
    index: usize,
    content_bytes: u64,
    wasted_bytes: u64,
}

#[derive(Serialize)]
struct Rest {
    rows: usize,
    bytes: u64,
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Dir => "dir",
        NodeKind::File => "file",
        NodeKind::Symlink => "symlink",
        NodeKind::Other => "other",
    }
}

fn layer(l: &LayerRow) -> Layer<'_> {
    Layer {
        index: Some(l.index),
        empty_layer: false,
        digest: l.digest.as_deref(),
        diff_id: l.diff_id.as_deref(),
        media_type: l.media_type.as_deref(),
        compression: l.compression.map(|c| c.name()),
        compressed_bytes: l.compressed_bytes,
        uncompressed_bytes: l.uncompressed_bytes,
        added_bytes: l.added_bytes,
        content_bytes: l.content_bytes,
        wasted_bytes: l.wasted_bytes,
        files: l.files,
        entries: l.entries,
        created_by: l.created_by.as_deref(),
        created: l.created.as_deref(),
        comment: l.comment.as_deref(),
        error: l.error.as_deref(),
        scope: Some(if l.base { "base" } else { "yours" }),
        dockerfile_line: None,
    }
}

/// A metadata-only step, listed among the layers with no figures.
fn empty_step(h: &HistoryStep) -> Layer<'_> {
    Layer {
        index: None,
        empty_layer: true,
        digest: None,
        diff_id: None,
        media_type: None,
        compression: None,
        compressed_bytes: 0,
        uncompressed_bytes: 0,
        added_bytes: 0,
        content_bytes: 0,
        wasted_bytes: 0,
        files: 0,
        entries: 0,
        created_by: h.created_by.as_deref(),
        created: h.created.as_deref(),
        comment: h.comment.as_deref(),
        error: None,
        scope: None,
        dockerfile_line: None,
    }
}

fn image(img: &ImageInfo) -> Image<'_> {
    Image {
        source: &img.source,
        format: &img.format,
        outer_compression: img.outer_compression.as_deref(),
        reference: img.reference.as_deref(),
        tags: &img.tags,
        os: img.platform.os.as_deref(),
        architecture: img.platform.architecture.as_deref(),
        variant: img.platform.variant.as_deref(),
        created: img.created.as_deref(),
        config_digest: img.config_digest.as_deref(),
        manifest_digest: img.manifest_digest.as_deref(),
        other_images: &img.other_images,
    }
}

fn totals(t: &analyze::Totals) -> Totals {
    Totals {
        compressed_bytes: t.compressed_bytes,
        uncompressed_bytes: t.uncompressed_bytes,
        stored_bytes: t.stored_bytes,
        content_bytes: t.content_bytes,
        wasted_bytes: t.wasted_bytes,
        files: t.files,
        dirs: t.dirs,
        symlinks: t.symlinks,
        layers: t.layers,
    }
}

fn history(h: &HistoryStep) -> History<'_> {
    History {
        created_by: h.created_by.as_deref(),
        created: h.created.as_deref(),
        comment: h.comment.as_deref(),
        empty_layer: h.empty_layer,
        layer: h.layer,
    }
}

fn path(p: &PathRow) -> Path<'_> {
    Path {
        path: &p.path,
        kind: kind_name(p.kind),
        bytes: p.bytes,
        files: p.files,
        layers: p
            .layers
            .iter()
            .map(|&(index, bytes)| PathLayer { index, bytes })
            .collect(),
    }
}

fn waste(w: &WasteRow) -> Waste<'_> {
    Waste {
        path: &w.path,
        kind: kind_name(w.kind),
        bytes: w.bytes,
        files: w.files,
        added_in_layer: w.added_layer,
        removed_by_layer: w.removed_layer,
        cause: w.cause.code(),
    }
}

fn rest(r: analyze::Rest) -> Rest {
    Rest {
        rows: r.rows,
        bytes: r.bytes,
    }
}

fn base(r: &Report) -> BaseDoc<'_> {
    BaseDoc {
        layers: r.base.layers,
        rule: r.base.rule.code(),
        name: r.base.name.as_deref(),
        digest: r.base.digest.as_deref(),
        base_stored_bytes: r.totals.base_stored_bytes,
        your_stored_bytes: r.totals.your_stored_bytes(),
    }
}

fn category(c: &CategoryRow) -> CategoryDoc {
    CategoryDoc {
        category: c.category.code(),
        bytes: c.bytes(),
        content_bytes: c.content_bytes,
        wasted_bytes: c.wasted_bytes,
        files: c.files,
        base_content_bytes: c.base_content_bytes,
        base_wasted_bytes: c.base_wasted_bytes,
        your_content_bytes: c.your_content_bytes(),
        your_wasted_bytes: c.your_wasted_bytes(),
        layers: c
            .layers
            .iter()
            .map(|l| CategoryLayerDoc {
                index: l.index,
                content_bytes: l.content_bytes,
                wasted_bytes: l.wasted_bytes,
            })
            .collect(),
    }
}

fn package(p: &PackageRow) -> PackageDoc<'_> {
    PackageDoc {
        manager: p.manager.code(),
        name: &p.name,
        version: p.version.as_deref(),
        bytes: p.bytes,
        files: p.files,
        layer: p.layer,
        scope: p.layer.map(|_| if p.base { "base" } else { "yours" }),
        build_only: p.build_only,
        build_closure: p.build_closure,
    }
}

fn finding<'a>(f: &'a Finding, r: &'a Report) -> FindingDoc<'a> {
    FindingDoc {
        rule: f.rule.code(),
        title: f.title,
        scope: f.scope.code(),
        layer: f.layer,
        created_by: r.layers.get(f.layer).and_then(|l| l.created_by.as_deref()),
        instruction: f.instruction.as_deref(),
        paths: f
            .paths
            .iter()
            .map(|(path, bytes)| PathBytes {
                path,
                bytes: *bytes,
            })
            .collect(),
        path_count: f.path_count,
        bytes: f.bytes,
        incremental_bytes: f.incremental_bytes,
        compressed_bytes: f.compressed_bytes,
        confidence: f.confidence,
        fix: &f.fix,
        dockerfile_line: r.line(f.layer).map(LineDoc::from),
    }
}

fn doc(r: &Report) -> Doc<'_> {
    let layers = r
        .steps
        .iter()
        .map(|step| match step {
            Step::Layer(i) => Layer {
                dockerfile_line: r.line(*i).map(LineDoc::from),
                ..layer(&r.layers[*i])
            },
            Step::Empty { step, history, .. } => Layer {
                dockerfile_line: r.step_line(*history).map(LineDoc::from),
                ..empty_step(step)
            },
        })
        .collect();
    Doc {
        schema_version: SCHEMA_VERSION,
        tool: TOOL,
        image: image(&r.image),
        complete: r.complete,
        manifest_only: r.manifest_only,
        totals: totals(&r.totals),
        layers,
        history: r.history.iter().map(history).collect(),
        history_note: r.history_note.as_deref(),
        paths_depth: r.options.depth,
        paths: r.paths.rows.iter().map(path).collect(),
        paths_rest: rest(r.paths.rest),
        waste: r.waste.rows.iter().map(waste).collect(),
        waste_rest: rest(r.waste.rest),
        base: base(r),
        categories: r.categories.rows.iter().map(category).collect(),
        categories_rest: rest(r.categories.rest),
        packages: r.packages.rows.rows.iter().map(package).collect(),
        packages_rest: rest(r.packages.rows.rest),
        build_only: BuildOnlyDoc {
            bytes: r.packages.build_only_bytes,
            closure_bytes: r.packages.build_closure_bytes,
            closure: &r.packages.build_closure,
        },
        findings: r.findings.rows.iter().map(|f| finding(f, r)).collect(),
        projected: Projected {
            saved_bytes: r.findings.saved_bytes,
            stored_bytes: r.findings.stored_after,
            base_saved_bytes: r.findings.base_saved_bytes,
            fixes: ProjectionDoc {
                stored_bytes: r.findings.fixes.stored_bytes,
                saved_bytes: r.findings.fixes.saved_bytes,
            },
            structural: r.findings.structural.as_ref().map(|s| StructuralDoc {
                rule: s.rule.code(),
                stored_bytes: s.projection.stored_bytes,
                saved_bytes: s.projection.saved_bytes,
                slim_base: s.slim_base,
                runtime_base: s.runtime_base.clone(),
            }),
        },
        problems: &r.problems,
        notes: &r.notes,
        dockerfile: r.dockerfile.as_ref().map(|d| DockerfileDoc {
            file: &d.file,
            stage: &d.stage,
            matched_layers: d.matched_layers(),
            unmatched_layers: d.layers.len() - d.matched_layers(),
            unmatched_lines: &d.unmatched_lines,
            notes: &d.notes,
        }),
        tree: r.tree.as_ref().map(tree),
    }
}

#[derive(Serialize)]
struct TallyDoc {
    files: u64,
    bytes: u64,
}

impl From<Tally> for TallyDoc {
    fn from(t: Tally) -> Self {
        TallyDoc {
            files: t.files,
            bytes: t.bytes,
        }
    }
}

#[derive(Serialize)]
struct AttrChange<'a> {
    change: &'a str,
    entries: u64,
}

#[derive(Serialize)]
struct ChangeDoc<'a> {
    layer: usize,
    scope: &'static str,
    instruction: Option<&'a str>,
    added: TallyDoc,
    readded: TallyDoc,
    replaced: TallyDoc,
    hidden: TallyDoc,
    dirs_added: u64,
    attrs: Vec<AttrChange<'a>>,
}

#[derive(Serialize)]
struct NowDoc {
    kind: &'static str,
    bytes: u64,
    files: u64,
    layer: Option<usize>,
}

#[derive(Serialize)]
struct ExplainDoc<'a> {
    schema_version: u32,
    path: &'a str,
    now: NowDoc,
    layers: Vec<ChangeDoc<'a>>,
}

fn explain_doc(e: &Explanation) -> ExplainDoc<'_> {
    let now = match e.now {
        Now::Missing => ("missing", 0, 0, None),
        Now::File { bytes, layer } => ("file", bytes, 1, Some(layer)),
        Now::Dir { files, bytes } => ("dir", bytes, files, None),
        Now::Other => ("other", 0, 0, None),
    };
    ExplainDoc {
        schema_version: SCHEMA_VERSION,
        path: &e.path,
        now: NowDoc {
            kind: now.0,
            bytes: now.1,
            files: now.2,
            layer: now.3,
        },
        layers: e
            .layers
            .iter()
            .map(|c| ChangeDoc {
                layer: c.layer,
                scope: if c.base { "base" } else { "yours" },
                instruction: c.instruction.as_deref(),
                added: c.added.into(),
                readded: c.readded.into(),
                replaced: c.replaced.into(),
                hidden: c.hidden.into(),
                dirs_added: c.dirs_added,
                attrs: c
                    .attrs
                    .iter()
                    .map(|(change, entries)| AttrChange {
                        change,
                        entries: *entries,
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct CheckDoc<'a> {
    schema_version: u32,
    kind: &'static str,
    tool: Tool,
    passed: bool,
    failed: usize,
    growth_measure: &'static str,
    baseline: Option<&'a str>,
    results: Vec<OutcomeDoc<'a>>,
    report: Doc<'a>,
}

#[derive(Serialize)]
struct OutcomeDoc<'a> {
    key: String,
    description: String,
    unit: &'static str,
    limit: serde_json::Value,
    measured: Option<serde_json::Value>,
    status: &'static str,
    /// `{"file", "line"}` of the budget file, or `"--limit"`.
    origin: serde_json::Value,
    message: String,
    layer: Option<usize>,
    layers: Vec<PathLayer>,
    examples: Vec<PathBytes<'a>>,
    /// Indexes into `report.findings`.
    findings: &'a [usize],
    after_bytes: Option<u64>,
    note: Option<&'a str>,
    /// The Dockerfile line of the layer the result is about, with `--dockerfile`.
    dockerfile_line: Option<LineDoc<'a>>,
}

/// Bytes and counts as integers, percentages as numbers.
fn amount_value(a: Amount) -> serde_json::Value {
    match a {
        Amount::Bytes(b) | Amount::Count(b) => b.into(),
        Amount::SignedBytes(b) => b.into(),
        Amount::Percent(p) => serde_json::Number::from_f64(p)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
    }
}

fn outcome<'a>(o: &'a Outcome, r: &'a Report) -> OutcomeDoc<'a> {
    OutcomeDoc {
        key: o.limit.metric.key(),
        description: o.limit.metric.describe(),
        unit: match o.limit.metric.unit() {
            Unit::Bytes => "bytes",
            Unit::Count => "count",
            Unit::Percent => "percent",
        },
        limit: amount_value(o.limit.max),
        measured: o.measured.map(amount_value),
        status: o.status.code(),
        origin: match &o.limit.origin {
            Origin::File { file, line } => serde_json::json!({ "file": file, "line": line }),
            Origin::Flag => serde_json::Value::from("--limit"),
        },
        message: verdict::headline(o),
        layer: o.layer,
        layers: o
            .layers
            .iter()
            .map(|&(index, bytes)| PathLayer { index, bytes })
            .collect(),
        examples: o
            .examples
            .iter()
            .map(|(path, bytes)| PathBytes {
                path,
                bytes: *bytes,
            })
            .collect(),
        findings: &o.findings,
        after_bytes: o.after,
        note: o.note.as_deref(),
        dockerfile_line: verdict::main_layer(o)
            .and_then(|l| r.line(l))
            .map(LineDoc::from),
    }
}

fn check_doc<'a>(r: &'a Report, v: &'a Verdict) -> CheckDoc<'a> {
    CheckDoc {
        schema_version: SCHEMA_VERSION,
        kind: "check",
        tool: TOOL,
        passed: v.passed(),
        failed: v.failed(),
        growth_measure: v.growth_measure.code(),
        baseline: v.baseline.as_deref(),
        results: v.outcomes.iter().map(|o| outcome(o, r)).collect(),
        report: doc(r),
    }
}

#[derive(Serialize)]
struct DeltaDoc {
    old: u64,
    new: u64,
    delta: i64,
}

impl From<Change> for DeltaDoc {
    fn from(c: Change) -> Self {
        DeltaDoc {
            old: c.old,
            new: c.new,
            delta: c.delta,
        }
    }
}

#[derive(Serialize)]
struct SideDoc<'a> {
    source: &'a str,
    reference: Option<&'a str>,
    complete: bool,
}

#[derive(Serialize)]
struct TotalsDiffDoc {
    compressed_bytes: DeltaDoc,
    uncompressed_bytes: DeltaDoc,
    stored_bytes: DeltaDoc,
    content_bytes: DeltaDoc,
    wasted_bytes: DeltaDoc,
    files: DeltaDoc,
    layers: DeltaDoc,
}

#[derive(Serialize)]
struct CategoryChangeDoc<'a> {
    category: &'a str,
    bytes: DeltaDoc,
    content_bytes: DeltaDoc,
    wasted_bytes: DeltaDoc,
}

#[derive(Serialize)]
struct LayerDiffDoc<'a> {
    status: &'static str,
    old_index: Option<usize>,
    new_index: Option<usize>,
    diff_id: Option<&'a str>,
    old_diff_id: Option<&'a str>,
    instruction: Option<&'a str>,
    compressed_bytes: DeltaDoc,
    uncompressed_bytes: DeltaDoc,
    added_bytes: DeltaDoc,
    dockerfile_line: Option<&'a SnapshotLine>,
}

#[derive(Serialize)]
struct PathChangeDoc<'a> {
    path: &'a str,
    status: &'static str,
    bytes: DeltaDoc,
}

#[derive(Serialize)]
struct PackageChangeDoc<'a> {
    manager: &'a str,
    name: &'a str,
    old_version: Option<&'a str>,
    new_version: Option<&'a str>,
    status: &'static str,
    bytes: DeltaDoc,
}

#[derive(Serialize)]
struct FindingChangeDoc<'a> {
    status: &'static str,
    rule: &'a str,
    scope: &'a str,
    instruction: Option<&'a str>,
    bytes: u64,
    dockerfile_line: Option<&'a SnapshotLine>,
}

#[derive(Serialize)]
struct DiffRestDoc {
    rows: usize,
    delta: i64,
}

impl From<DiffRest> for DiffRestDoc {
    fn from(r: DiffRest) -> Self {
        DiffRestDoc {
            rows: r.rows,
            delta: r.delta,
        }
    }
}

#[derive(Serialize)]
struct DiffDoc<'a> {
    schema_version: u32,
    kind: &'static str,
    tool: Tool,
    old: SideDoc<'a>,
    new: SideDoc<'a>,
    totals: TotalsDiffDoc,
    categories: Vec<CategoryChangeDoc<'a>>,
    layers: Vec<LayerDiffDoc<'a>>,
    paths_depth: usize,
    paths: Vec<PathChangeDoc<'a>>,
    paths_rest: DiffRestDoc,
    packages: Vec<PackageChangeDoc<'a>>,
    packages_rest: DiffRestDoc,
    findings: Vec<FindingChangeDoc<'a>>,
    notes: &'a [String],
}

fn side_doc(s: &Side) -> SideDoc<'_> {
    SideDoc {
        source: &s.source,
        reference: s.reference.as_deref(),
        complete: s.complete,
    }
}

fn diff_doc(d: &Diff) -> DiffDoc<'_> {
    let t = &d.totals;
    DiffDoc {
        schema_version: SCHEMA_VERSION,
        kind: "diff",
        tool: TOOL,
        old: side_doc(&d.old),
        new: side_doc(&d.new),
        totals: TotalsDiffDoc {
            compressed_bytes: t.compressed_bytes.into(),
            uncompressed_bytes: t.uncompressed_bytes.into(),
            stored_bytes: t.stored_bytes.into(),
            content_bytes: t.content_bytes.into(),
            wasted_bytes: t.wasted_bytes.into(),
            files: t.files.into(),
            layers: t.layers.into(),
        },
        categories: d
            .categories
            .iter()
            .map(|c| CategoryChangeDoc {
                category: &c.category,
                bytes: c.bytes.into(),
                content_bytes: c.content_bytes.into(),
                wasted_bytes: c.wasted_bytes.into(),
            })
            .collect(),
        layers: d
            .layers
            .iter()
            .map(|l| LayerDiffDoc {
                status: l.status.code(),
                old_index: l.old_index,
                new_index: l.new_index,
                diff_id: l.diff_id.as_deref(),
                old_diff_id: l.old_diff_id.as_deref(),
                instruction: l.instruction.as_deref(),
                compressed_bytes: l.compressed_bytes.into(),
                uncompressed_bytes: l.uncompressed_bytes.into(),
                added_bytes: l.added_bytes.into(),
                dockerfile_line: l.line.as_ref(),
            })
            .collect(),
        paths_depth: d.paths_depth,
        paths: d
            .paths
            .iter()
            .map(|p| PathChangeDoc {
                path: &p.path,
                status: p.status.code(),
                bytes: p.bytes.into(),
            })
            .collect(),
        paths_rest: d.paths_rest.into(),
        packages: d
            .packages
            .iter()
            .map(|p| PackageChangeDoc {
                manager: &p.manager,
                name: &p.name,
                old_version: p.old_version.as_deref(),
                new_version: p.new_version.as_deref(),
                status: p.status.code(),
                bytes: p.bytes.into(),
            })
            .collect(),
        packages_rest: d.packages_rest.into(),
        findings: d
            .findings
            .iter()
            .map(|f| FindingChangeDoc {
                status: f.status.code(),
                rule: &f.rule,
                scope: &f.scope,
                instruction: f.instruction.as_deref(),
                bytes: f.bytes,
                dockerfile_line: f.line.as_ref(),
            })
            .collect(),
        notes: &d.notes,
    }
}

/// A report as compact JSON, the document `--format json` prints: what the HTML
/// report embeds.
pub(crate) fn report_compact(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    Ok(serde_json::to_writer(out, &doc(r))?)
}

/// A diff as compact JSON, for the HTML diff.
pub(crate) fn diff_compact(d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    Ok(serde_json::to_writer(out, &diff_doc(d))?)
}

/// Renders documents as one pretty-printed JSON document each (`--format json`).
pub struct Json;

impl Renderer for Json {
    fn render(&self, d: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        match d {
            Document::Report(r) => serde_json::to_writer_pretty(&mut *out, &doc(r))?,
            Document::Explain(_, e) => serde_json::to_writer_pretty(&mut *out, &explain_doc(e))?,
            Document::Check(r, v) => serde_json::to_writer_pretty(&mut *out, &check_doc(r, v))?,
            Document::Diff(d) => serde_json::to_writer_pretty(&mut *out, &diff_doc(d))?,
        }
        out.write_all(b"\n")
    }
}
