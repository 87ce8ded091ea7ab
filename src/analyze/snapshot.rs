//! A report made a [`Snapshot`], the diffable summary that a saved JSON report also
//! reads back as (`source::report`): one side of `imgsize diff`, and, as a
//! [`Baseline`], what `check --baseline` measures growth against. (The snapshot type is
//! vocabulary, in `model`; making one from a report is analysis, so it is here.)

use super::Report;
use super::budget::Baseline;
use super::dockerfile::Located;
use crate::model::{
    Snapshot, SnapshotCategory, SnapshotFinding, SnapshotLayer, SnapshotLine, SnapshotPackage,
    SnapshotPath, SnapshotTotals,
};

/// The diffable summary of a report. Its tables are as complete as the report's: run
/// the pipeline with a large `top` to diff every path and package.
pub fn snapshot(r: &Report) -> Snapshot {
    let t = &r.totals;
    Snapshot {
        source: r.image.source.clone(),
        reference: r.image.reference.clone(),
        complete: r.complete,
        totals: SnapshotTotals {
            compressed_bytes: t.compressed_bytes,
            uncompressed_bytes: t.uncompressed_bytes,
            stored_bytes: t.stored_bytes,
            content_bytes: t.content_bytes,
            wasted_bytes: t.wasted_bytes,
            files: t.files,
            layers: t.layers as u64,
        },
        layers: r
            .layers
            .iter()
            .map(|l| SnapshotLayer {
                index: l.index,
                digest: l.digest.clone(),
                diff_id: l.diff_id.clone(),
                created_by: l.created_by.clone(),
                compressed_bytes: l.compressed_bytes,
                uncompressed_bytes: l.uncompressed_bytes,
                added_bytes: l.added_bytes,
                dockerfile_line: r.line(l.index).map(line),
            })
            .collect(),
        categories: r
            .categories
            .rows
            .iter()
            .map(|c| SnapshotCategory {
                code: c.category.code().to_string(),
                bytes: c.bytes(),
                content_bytes: c.content_bytes,
                wasted_bytes: c.wasted_bytes,
            })
            .collect(),
        categories_cut: r.categories.rest.rows > 0,
        paths_depth: r.options.depth,
        paths: r
            .paths
            .rows
            .iter()
            .map(|p| SnapshotPath {
                path: p.path.clone(),
                bytes: p.bytes,
            })
            .collect(),
        paths_cut: r.paths.rest.rows > 0,
        packages: r
            .packages
            .rows
            .rows
            .iter()
            .map(|p| SnapshotPackage {
                manager: p.manager.code().to_string(),
                name: p.name.clone(),
                version: p.version.clone(),
                bytes: p.bytes,
            })
            .collect(),
        packages_cut: r.packages.rows.rest.rows > 0,
        findings: r
            .findings
            .rows
            .iter()
            .map(|f| SnapshotFinding {
                rule: f.rule.code().to_string(),
                scope: f.scope.code().to_string(),
                instruction: f.instruction.clone(),
                bytes: f.bytes,
                dockerfile_line: r.line(f.layer).map(line),
            })
            .collect(),
    }
}

fn line(l: &Located) -> SnapshotLine {
    SnapshotLine {
        file: l.file.clone(),
        line: l.line,
        end_line: l.end_line,
    }
}

/// A saved report as the baseline of `imgsize check --baseline`.
impl From<&Snapshot> for Baseline {
    fn from(s: &Snapshot) -> Self {
        Baseline {
            source: s.source.clone(),
            compressed_bytes: s.totals.compressed_bytes,
            uncompressed_bytes: s.totals.uncompressed_bytes,
            content_bytes: s.totals.content_bytes,
            diff_ids: s.layers.iter().filter_map(|l| l.diff_id.clone()).collect(),
        }
    }
}
