//! The diff document: what `imgsize diff --format json` prints and the HTML diff
//! embeds, what changed from one report to another (totals, categories, layers, paths,
//! packages, findings), each row with its old and new figures and the delta. Field by
//! field in docs/json.md.

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::shared::{TOOL, Tool};
use crate::analyze::diff::{
    CategoryChange, Change, Diff, DiffRest, FindingChange, LayerDiff, PackageChange, PathChange,
    Side, TotalsDiff,
};
use crate::model::SnapshotLine;

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

/// The diff document.
#[derive(Serialize)]
pub(super) struct DiffDoc<'a> {
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

/// The diff document of a diff.
pub(super) fn diff_doc(d: &Diff) -> DiffDoc<'_> {
    DiffDoc {
        schema_version: SCHEMA_VERSION,
        kind: "diff",
        tool: TOOL,
        old: side_doc(&d.old),
        new: side_doc(&d.new),
        totals: totals_diff(&d.totals),
        categories: d.categories.iter().map(category_change).collect(),
        layers: d.layers.iter().map(layer_diff).collect(),
        paths_depth: d.paths_depth,
        paths: d.paths.iter().map(path_change).collect(),
        paths_rest: d.paths_rest.into(),
        packages: d.packages.iter().map(package_change).collect(),
        packages_rest: d.packages_rest.into(),
        findings: d.findings.iter().map(finding_change).collect(),
        notes: &d.notes,
    }
}

fn totals_diff(t: &TotalsDiff) -> TotalsDiffDoc {
    TotalsDiffDoc {
        compressed_bytes: t.compressed_bytes.into(),
        uncompressed_bytes: t.uncompressed_bytes.into(),
        stored_bytes: t.stored_bytes.into(),
        content_bytes: t.content_bytes.into(),
        wasted_bytes: t.wasted_bytes.into(),
        files: t.files.into(),
        layers: t.layers.into(),
    }
}

fn category_change(c: &CategoryChange) -> CategoryChangeDoc<'_> {
    CategoryChangeDoc {
        category: &c.category,
        bytes: c.bytes.into(),
        content_bytes: c.content_bytes.into(),
        wasted_bytes: c.wasted_bytes.into(),
    }
}

fn layer_diff(l: &LayerDiff) -> LayerDiffDoc<'_> {
    LayerDiffDoc {
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
    }
}

fn path_change(p: &PathChange) -> PathChangeDoc<'_> {
    PathChangeDoc {
        path: &p.path,
        status: p.status.code(),
        bytes: p.bytes.into(),
    }
}

fn package_change(p: &PackageChange) -> PackageChangeDoc<'_> {
    PackageChangeDoc {
        manager: &p.manager,
        name: &p.name,
        old_version: p.old_version.as_deref(),
        new_version: p.new_version.as_deref(),
        status: p.status.code(),
        bytes: p.bytes.into(),
    }
}

fn finding_change(f: &FindingChange) -> FindingChangeDoc<'_> {
    FindingChangeDoc {
        status: f.status.code(),
        rule: &f.rule,
        scope: &f.scope,
        instruction: f.instruction.as_deref(),
        bytes: f.bytes,
        dockerfile_line: f.line.as_ref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::diff::diff;
    use crate::model::{
        Snapshot, SnapshotCategory, SnapshotFinding, SnapshotLayer, SnapshotPackage, SnapshotPath,
        SnapshotTotals,
    };
    use serde_json::json;

    fn snapshot() -> Snapshot {
        Snapshot {
            source: "app.tar".to_string(),
            reference: Some("app:1".to_string()),
            complete: true,
            totals: SnapshotTotals {
                compressed_bytes: 100,
                uncompressed_bytes: 300,
                stored_bytes: 250,
                content_bytes: 200,
                wasted_bytes: 50,
                files: 4,
                layers: 2,
            },
            layers: vec![
                SnapshotLayer {
                    index: 0,
                    diff_id: Some("sha256:aa".to_string()),
                    created_by: Some("/bin/sh -c #(nop) ADD file:x in / ".to_string()),
                    compressed_bytes: 60,
                    uncompressed_bytes: 200,
                    added_bytes: 150,
                    ..SnapshotLayer::default()
                },
                SnapshotLayer {
                    index: 1,
                    diff_id: Some("sha256:bb".to_string()),
                    created_by: Some("/bin/sh -c pip install flask".to_string()),
                    compressed_bytes: 40,
                    uncompressed_bytes: 100,
                    added_bytes: 100,
                    dockerfile_line: Some(SnapshotLine {
                        file: "Dockerfile".to_string(),
                        line: 3,
                        end_line: 3,
                    }),
                    ..SnapshotLayer::default()
                },
            ],
            categories: vec![SnapshotCategory {
                code: "pip-cache".to_string(),
                bytes: 50,
                content_bytes: 0,
                wasted_bytes: 50,
            }],
            paths_depth: 2,
            paths: vec![SnapshotPath {
                path: "/usr/lib".to_string(),
                bytes: 200,
            }],
            packages: vec![SnapshotPackage {
                manager: "python".to_string(),
                name: "flask".to_string(),
                version: Some("3.0.0".to_string()),
                bytes: 70,
            }],
            findings: vec![SnapshotFinding {
                rule: "pip-cache".to_string(),
                scope: "yours".to_string(),
                instruction: Some("RUN pip install flask".to_string()),
                bytes: 50,
                dockerfile_line: None,
            }],
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_diff_of_two_equal_snapshots_has_no_changed_rows() {
        let s = snapshot();
        let v = serde_json::to_value(diff_doc(&diff(&s, &s, 10))).expect("serialise");
        let same = |n: u64| json!({ "old": n, "new": n, "delta": 0 });
        assert_eq!(v["kind"], json!("diff"));
        assert_eq!(
            v["totals"],
            json!({
                "compressed_bytes": same(100),
                "uncompressed_bytes": same(300),
                "stored_bytes": same(250),
                "content_bytes": same(200),
                "wasted_bytes": same(50),
                "files": same(4),
                "layers": same(2),
            })
        );
        for table in ["categories", "paths", "packages", "findings", "notes"] {
            assert_eq!(v[table], json!([]), "{table}");
        }
        assert_eq!(v["paths_rest"], json!({ "rows": 0, "delta": 0 }));
        assert_eq!(v["packages_rest"], json!({ "rows": 0, "delta": 0 }));
        assert_eq!(v["paths_depth"], json!(2));
        // Every layer is listed, unchanged, with its figures on both sides.
        let statuses: Vec<_> = v["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .map(|l| (l["status"].clone(), l["added_bytes"].clone()))
            .collect();
        assert_eq!(
            statuses,
            [
                (json!("unchanged"), same(150)),
                (json!("unchanged"), same(100))
            ]
        );
        assert_eq!(
            v["layers"][1]["dockerfile_line"],
            json!({ "file": "Dockerfile", "line": 3, "end_line": 3 })
        );
    }

    #[test]
    fn a_delta_is_signed() {
        let v = serde_json::to_value(DeltaDoc::from(Change::new(10, 4))).expect("serialise");
        assert_eq!(v, json!({ "old": 10, "new": 4, "delta": -6 }));
    }
}
