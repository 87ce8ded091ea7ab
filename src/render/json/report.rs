//! The report document: what `imgsize report --format json` prints, what the HTML
//! report embeds, and the `report` inside a check verdict. One output type per part of
//! the [`Report`] (image, totals, layers, history, paths, waste, base, categories,
//! packages, findings and their projection, the Dockerfile match, the tree), each built
//! by a small function from its row; [`doc`] puts them together. Field by field in
//! docs/json.md.

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::shared::{LineDoc, PathBytes, PathLayer, TOOL, Tool};
use crate::analyze::{
    self, CategoryRow, ChangeKind, ChangeNode, Finding, LayerChanges, LayerRow, MapKind, MapNode,
    PackageRow, PathRow, Report, Step, TreeMap, WasteRow,
};
use crate::model::{HistoryStep, ImageInfo, NodeKind};

/// The report document.
#[derive(Serialize)]
pub(super) struct Doc<'a> {
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
    /// With the tree: what each layer changed, pruned.
    layer_changes: Option<Vec<ChangesDoc<'a>>>,
}

#[derive(Serialize)]
struct ChangesDoc<'a> {
    layer: usize,
    min_bytes: u64,
    nodes: usize,
    pruned_entries: u64,
    root: ChangeDoc<'a>,
}

fn changes(c: &LayerChanges) -> ChangesDoc<'_> {
    ChangesDoc {
        layer: c.layer,
        min_bytes: c.min_bytes,
        nodes: c.nodes,
        pruned_entries: c.pruned_entries,
        root: ChangeDoc(&c.root),
    }
}

/// One node of a layer's changes: `change` and `layer` only on files, `children` only
/// on directories; `bytes` and `entries` by change, in the order added, modified,
/// deleted, hidden.
struct ChangeDoc<'a>(&'a ChangeNode);

impl Serialize for ChangeDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let n = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &n.name)?;
        let kind = match n.kind {
            ChangeKind::Dir => "dir",
            ChangeKind::File(_) => "file",
            ChangeKind::Pruned => "pruned",
        };
        m.serialize_entry("kind", kind)?;
        m.serialize_entry("bytes", &n.bytes)?;
        m.serialize_entry("entries", &n.entries)?;
        if let ChangeKind::File(c) = n.kind {
            m.serialize_entry("change", c.code())?;
            m.serialize_entry("layer", &n.layer)?;
        }
        if n.kind == ChangeKind::Dir {
            let children: Vec<ChangeDoc<'_>> = n.children.iter().map(ChangeDoc).collect();
            m.serialize_entry("children", &children)?;
        }
        m.end()
    }
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
        layers: PathLayer::rows(&p.layers),
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
        paths: PathBytes::rows(&f.paths),
        path_count: f.path_count,
        bytes: f.bytes,
        incremental_bytes: f.incremental_bytes,
        compressed_bytes: f.compressed_bytes,
        confidence: f.confidence,
        fix: &f.fix,
        dockerfile_line: r.line(f.layer).map(LineDoc::from),
    }
}

/// The report document of a report.
pub(super) fn doc(r: &Report) -> Doc<'_> {
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
        layer_changes: r
            .layer_changes
            .as_ref()
            .map(|c| c.iter().map(changes).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::Category;
    use serde_json::json;

    #[test]
    fn totals_serialise_with_the_documented_keys_only() {
        let t = analyze::Totals {
            compressed_bytes: 1,
            uncompressed_bytes: 2,
            stored_bytes: 3,
            content_bytes: 4,
            wasted_bytes: 5,
            files: 6,
            dirs: 7,
            symlinks: 8,
            layers: 9,
            layer_files: 10,
            base_stored_bytes: 11,
        };
        let v = serde_json::to_value(totals(&t)).expect("serialise");
        assert_eq!(
            v,
            json!({
                "compressed_bytes": 1,
                "uncompressed_bytes": 2,
                "stored_bytes": 3,
                "content_bytes": 4,
                "wasted_bytes": 5,
                "files": 6,
                "dirs": 7,
                "symlinks": 8,
                "layers": 9,
            })
        );
        // A `Value` compares keys as a set: the text also keeps the contract's order.
        let text = serde_json::to_string(&totals(&t)).expect("serialise");
        assert_eq!(
            text,
            "{\"compressed_bytes\":1,\"uncompressed_bytes\":2,\"stored_bytes\":3,\
             \"content_bytes\":4,\"wasted_bytes\":5,\"files\":6,\"dirs\":7,\
             \"symlinks\":8,\"layers\":9}"
        );
    }

    #[test]
    fn a_metadata_only_step_is_a_layer_with_no_figures() {
        let h = HistoryStep {
            created_by: Some("/bin/sh -c #(nop)  ENV A=1".to_string()),
            created: Some("2024-01-02T03:04:05Z".to_string()),
            comment: None,
            empty_layer: true,
            layer: None,
        };
        let v = serde_json::to_value(empty_step(&h)).expect("serialise");
        assert_eq!(
            v,
            json!({
                "index": null,
                "empty_layer": true,
                "digest": null,
                "diff_id": null,
                "media_type": null,
                "compression": null,
                "compressed_bytes": 0,
                "uncompressed_bytes": 0,
                "added_bytes": 0,
                "content_bytes": 0,
                "wasted_bytes": 0,
                "files": 0,
                "entries": 0,
                "created_by": "/bin/sh -c #(nop)  ENV A=1",
                "created": "2024-01-02T03:04:05Z",
                "comment": null,
                "error": null,
                "scope": null,
                "dockerfile_line": null,
            })
        );
    }

    fn node(name: &str, kind: MapKind, bytes: u64, children: Vec<MapNode>) -> MapNode {
        MapNode {
            name: name.to_string(),
            kind,
            bytes,
            files: u64::from(kind == MapKind::File),
            layer: (bytes > 0).then_some(2),
            category: (bytes > 0).then_some(Category::PipCache),
            entries: if kind == MapKind::Pruned { 4 } else { 0 },
            children,
        }
    }

    #[test]
    fn tree_nodes_carry_entries_when_pruned_and_children_when_directories() {
        let root = node(
            "/",
            MapKind::Dir,
            30,
            vec![
                node("a.whl", MapKind::File, 20, vec![]),
                node("", MapKind::Pruned, 10, vec![]),
            ],
        );
        let v = serde_json::to_value(NodeDoc(&root)).expect("serialise");
        assert_eq!(
            v,
            json!({
                "name": "/", "kind": "dir", "bytes": 30, "files": 0, "layer": 2,
                "category": "pip-cache",
                "children": [
                    { "name": "a.whl", "kind": "file", "bytes": 20, "files": 1, "layer": 2,
                      "category": "pip-cache" },
                    { "name": "", "kind": "pruned", "bytes": 10, "files": 0, "layer": 2,
                      "category": "pip-cache", "entries": 4 },
                ],
            })
        );
    }
}
