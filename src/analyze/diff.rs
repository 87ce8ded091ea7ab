//! `imgsize diff`: what changed between two reports, each summarised as a
//! [`Snapshot`] (an image just analysed, or a saved JSON report). Totals and
//! categories with signed deltas; layers matched by diff_id (unchanged), then by
//! normalised instruction (changed), the rest added or removed; the paths and packages
//! that grew, shrank, appeared or disappeared; the findings that are new or gone.
//! Pure and deterministic: every table is sorted with a total order before it is cut.
//!
//! A saved report holds only its top rows: a row missing from a side whose table was
//! cut is not known to have gone, so it is left out and counted in a note instead.

use std::collections::{BTreeMap, BTreeSet};

use super::instruction::instruction;
pub use super::snapshot::snapshot;
use crate::model::{
    Snapshot, SnapshotCategory, SnapshotFinding, SnapshotLayer, SnapshotLine, SnapshotPackage,
    SnapshotTotals,
};

/// One figure on both sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    pub old: u64,
    pub new: u64,
    /// `new - old` (saturating at the ends of `i64`).
    pub delta: i64,
}

impl Change {
    pub fn new(old: u64, new: u64) -> Self {
        let delta = i64::try_from(i128::from(new) - i128::from(old)).unwrap_or(if new > old {
            i64::MAX
        } else {
            i64::MIN
        });
        Change { old, new, delta }
    }
}

/// Which report a side is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    pub source: String,
    pub reference: Option<String>,
    /// Every layer was read.
    pub complete: bool,
}

/// The totals, side by side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TotalsDiff {
    pub compressed_bytes: Change,
    pub uncompressed_bytes: Change,
    pub stored_bytes: Change,
    pub content_bytes: Change,
    pub wasted_bytes: Change,
    pub files: Change,
    pub layers: Change,
}

/// A category whose shipped bytes changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryChange {
    /// The category's stable name.
    pub category: String,
    /// Shipped bytes (visible plus wasted).
    pub bytes: Change,
    pub content_bytes: Change,
    pub wasted_bytes: Change,
}

/// How a layer of one side relates to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LayerStatus {
    /// The same diff_id on both sides (or, without one, the same blob digest).
    Unchanged,
    /// Another diff_id, the same normalised instruction.
    Changed,
    /// Only in the new image.
    Added,
    /// Only in the old image.
    Removed,
}

impl LayerStatus {
    pub fn code(self) -> &'static str {
        match self {
            LayerStatus::Unchanged => "unchanged",
            LayerStatus::Changed => "changed",
            LayerStatus::Added => "added",
            LayerStatus::Removed => "removed",
        }
    }
}

/// One layer of either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDiff {
    pub status: LayerStatus,
    pub old_index: Option<usize>,
    pub new_index: Option<usize>,
    /// The new layer's diff_id (the old one's for a removed layer).
    pub diff_id: Option<String>,
    /// The old layer's diff_id, when it differs (a changed layer).
    pub old_diff_id: Option<String>,
    /// In Dockerfile form: the new layer's (the old one's for a removed layer).
    pub instruction: Option<String>,
    /// A side without the layer counts 0.
    pub compressed_bytes: Change,
    pub uncompressed_bytes: Change,
    pub added_bytes: Change,
    /// The Dockerfile line of the layer shown (the new one's, the old one's for a
    /// removed layer), when its side's report has them.
    pub line: Option<SnapshotLine>,
}

/// How a path or package row changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowStatus {
    /// In both, bigger now.
    Grew,
    /// In both, smaller now.
    Shrank,
    /// Only in the new image.
    Appeared,
    /// Only in the old image.
    Disappeared,
    /// A package whose version changed (its bytes may have too).
    Version,
}

impl RowStatus {
    pub fn code(self) -> &'static str {
        match self {
            RowStatus::Grew => "grew",
            RowStatus::Shrank => "shrank",
            RowStatus::Appeared => "appeared",
            RowStatus::Disappeared => "disappeared",
            RowStatus::Version => "version",
        }
    }
}

/// A cell of the path partition whose visible bytes changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathChange {
    pub path: String,
    pub status: RowStatus,
    pub bytes: Change,
}

/// A package that appeared, disappeared, changed version or size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageChange {
    pub manager: String,
    pub name: String,
    pub old_version: Option<String>,
    pub new_version: Option<String>,
    pub status: RowStatus,
    pub bytes: Change,
}

/// Whether a finding is new or gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingStatus {
    New,
    Gone,
}

impl FindingStatus {
    pub fn code(self) -> &'static str {
        match self {
            FindingStatus::New => "new",
            FindingStatus::Gone => "gone",
        }
    }
}

/// A finding of one side that the other does not have (same rule and instruction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingChange {
    pub status: FindingStatus,
    pub rule: String,
    pub scope: String,
    pub instruction: Option<String>,
    /// Stored bytes the fix alone removes, on its side.
    pub bytes: u64,
    /// Its Dockerfile line on its side, when that report has them.
    pub line: Option<SnapshotLine>,
}

/// Rows a diff table left out (`--top`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffRest {
    pub rows: usize,
    /// Their deltas summed.
    pub delta: i64,
}

/// What changed from one report to another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    pub totals: TotalsDiff,
    /// Categories whose shipped, visible or wasted bytes changed, by |Δ shipped|
    /// (biggest first), then name.
    pub categories: Vec<CategoryChange>,
    /// The new image's layers in order (unchanged, changed, added), then the removed
    /// ones in the old image's order.
    pub layers: Vec<LayerDiff>,
    /// The depth of the path partition; 0 when the sides' depths differ (no paths).
    pub paths_depth: usize,
    /// By |Δ| (biggest first), then path; at most `top`.
    pub paths: Vec<PathChange>,
    pub paths_rest: DiffRest,
    /// By |Δ|, then manager and name; at most `top`.
    pub packages: Vec<PackageChange>,
    pub packages_rest: DiffRest,
    /// New findings, then gone ones, each by bytes (biggest first), rule, instruction.
    pub findings: Vec<FindingChange>,
    pub notes: Vec<String>,
}

fn side(s: &Snapshot) -> Side {
    Side {
        source: s.source.clone(),
        reference: s.reference.clone(),
        complete: s.complete,
    }
}

fn totals(o: &SnapshotTotals, n: &SnapshotTotals) -> TotalsDiff {
    TotalsDiff {
        compressed_bytes: Change::new(o.compressed_bytes, n.compressed_bytes),
        uncompressed_bytes: Change::new(o.uncompressed_bytes, n.uncompressed_bytes),
        stored_bytes: Change::new(o.stored_bytes, n.stored_bytes),
        content_bytes: Change::new(o.content_bytes, n.content_bytes),
        wasted_bytes: Change::new(o.wasted_bytes, n.wasted_bytes),
        files: Change::new(o.files, n.files),
        layers: Change::new(o.layers, n.layers),
    }
}

/// Rows of a side keyed for the join, and whether the side's table was cut.
struct Keyed<'a, K, R> {
    rows: BTreeMap<K, &'a R>,
    cut: bool,
    len: usize,
}

impl<'a, K: Ord, R> Keyed<'a, K, R> {
    fn new(rows: &'a [R], cut: bool, key: impl Fn(&R) -> K) -> Self {
        Keyed {
            rows: rows.iter().map(|r| (key(r), r)).collect(),
            cut,
            len: rows.len(),
        }
    }
}

/// Both sides joined on `K`: (old, new), either absent. Rows missing from a cut side
/// are left out and counted: (on the old side, on the new side).
type Joined<'a, K, R> = (Vec<(&'a K, Option<&'a R>, Option<&'a R>)>, usize, usize);

fn join<'a, K: Ord, R>(old: &'a Keyed<'a, K, R>, new: &'a Keyed<'a, K, R>) -> Joined<'a, K, R> {
    let keys: BTreeSet<&K> = old.rows.keys().chain(new.rows.keys()).collect();
    let (mut unknown_old, mut unknown_new) = (0, 0);
    let mut out = Vec::new();
    for k in keys {
        let (o, n) = (old.rows.get(k).copied(), new.rows.get(k).copied());
        match (o, n) {
            (None, Some(_)) if old.cut => unknown_new += 1,
            (Some(_), None) if new.cut => unknown_old += 1,
            _ => out.push((k, o, n)),
        }
    }
    (out, unknown_old, unknown_new)
}

/// The note for rows of one side that the other's cut table does not show.
fn cut_note(what: &str, count: usize, shown_in: &str, cut_side: &str, kept: usize) -> String {
    format!(
        "{count} {what} of {shown_in} are not in the top {kept} rows of {cut_side} (a saved report keeps only its top rows): their change is not known"
    )
}

fn status(delta: i64, old: bool, new: bool) -> RowStatus {
    match (old, new) {
        (false, _) => RowStatus::Appeared,
        (_, false) => RowStatus::Disappeared,
        _ if delta > 0 => RowStatus::Grew,
        _ => RowStatus::Shrank,
    }
}

/// Sort by |Δ| (biggest first), then by key, and keep the first `top`.
fn cut<R>(
    mut rows: Vec<R>,
    top: usize,
    delta: impl Fn(&R) -> i64,
    key: impl Fn(&R, &R) -> std::cmp::Ordering,
) -> (Vec<R>, DiffRest) {
    rows.sort_by(|a, b| {
        delta(b)
            .unsigned_abs()
            .cmp(&delta(a).unsigned_abs())
            .then_with(|| key(a, b))
    });
    let rest: Vec<R> = if rows.len() > top {
        rows.split_off(top)
    } else {
        Vec::new()
    };
    let sum = rest.iter().map(&delta).fold(0i64, i64::saturating_add);
    (
        rows,
        DiffRest {
            rows: rest.len(),
            delta: sum,
        },
    )
}

fn categories(old: &Snapshot, new: &Snapshot, notes: &mut Vec<String>) -> Vec<CategoryChange> {
    let o = Keyed::new(&old.categories, old.categories_cut, |c| c.code.clone());
    let n = Keyed::new(&new.categories, new.categories_cut, |c| c.code.clone());
    let (rows, unknown_old, unknown_new) = join(&o, &n);
    if unknown_new > 0 {
        notes.push(cut_note("categories", unknown_new, "NEW", "OLD", o.len));
    }
    if unknown_old > 0 {
        notes.push(cut_note("categories", unknown_old, "OLD", "NEW", n.len));
    }
    let zero = SnapshotCategory::default();
    let mut out: Vec<CategoryChange> = rows
        .into_iter()
        .map(|(code, a, b)| {
            let (a, b) = (a.unwrap_or(&zero), b.unwrap_or(&zero));
            CategoryChange {
                category: code.clone(),
                bytes: Change::new(a.bytes, b.bytes),
                content_bytes: Change::new(a.content_bytes, b.content_bytes),
                wasted_bytes: Change::new(a.wasted_bytes, b.wasted_bytes),
            }
        })
        .filter(|c| c.bytes.delta != 0 || c.content_bytes.delta != 0)
        .collect();
    out.sort_by(|a, b| {
        b.bytes
            .delta
            .unsigned_abs()
            .cmp(&a.bytes.delta.unsigned_abs())
            .then_with(|| a.category.cmp(&b.category))
    });
    out
}

/// An instruction as layers and findings are matched by. The content hash the classic
/// builder and buildah write for what COPY/ADD copied (`file:<hex>`, `dir:<hex>`,
/// `multi:<hex>`) changes with every edit of those files, so it is left out: the same
/// `COPY . /app` of a new version is the same step, changed.
fn match_key(instruction: &str) -> String {
    if !(instruction.starts_with("COPY ") || instruction.starts_with("ADD ")) {
        return instruction.to_string();
    }
    instruction
        .split(' ')
        .map(|w| match w.split_once(':') {
            Some((kind @ ("file" | "dir" | "multi"), hash))
                if !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                format!("{kind}:*")
            }
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Layers matched by diff_id (by blob digest where a diff_id is missing), then by
/// normalised instruction.
fn layers(old: &[SnapshotLayer], new: &[SnapshotLayer]) -> Vec<LayerDiff> {
    let norm = |l: &SnapshotLayer| l.created_by.as_deref().map(instruction);
    let old_ins: Vec<Option<String>> = old.iter().map(norm).collect();
    let old_keys: Vec<Option<String>> = old_ins
        .iter()
        .map(|i| i.as_deref().map(match_key))
        .collect();
    let mut used = vec![false; old.len()];
    let mut matched: Vec<Option<(usize, LayerStatus)>> = vec![None; new.len()];
    // The same content: the same diff_id or, where either side has none (legacy
    // archives, configs without rootfs), the same blob digest.
    let same = |a: &SnapshotLayer, b: &SnapshotLayer| match (&a.diff_id, &b.diff_id) {
        (Some(x), Some(y)) => x == y,
        _ => a.digest.is_some() && a.digest == b.digest,
    };
    for (j, l) in new.iter().enumerate() {
        if let Some(i) = (0..old.len()).find(|&i| !used[i] && same(&old[i], l)) {
            used[i] = true;
            matched[j] = Some((i, LayerStatus::Unchanged));
        }
    }
    for (j, l) in new.iter().enumerate() {
        if matched[j].is_some() {
            continue;
        }
        let Some(key) = norm(l).as_deref().map(match_key) else {
            continue;
        };
        if let Some(i) = (0..old.len()).find(|&i| !used[i] && old_keys[i].as_ref() == Some(&key)) {
            used[i] = true;
            matched[j] = Some((i, LayerStatus::Changed));
        }
    }
    let mut out = Vec::new();
    for (j, l) in new.iter().enumerate() {
        let (o, status) = match matched[j] {
            Some((i, s)) => (Some(&old[i]), s),
            None => (None, LayerStatus::Added),
        };
        let of = |f: fn(&SnapshotLayer) -> u64| Change::new(o.map_or(0, f), f(l));
        out.push(LayerDiff {
            status,
            old_index: o.map(|o| o.index),
            new_index: Some(l.index),
            diff_id: l.diff_id.clone(),
            old_diff_id: o
                .filter(|_| status == LayerStatus::Changed)
                .and_then(|o| o.diff_id.clone()),
            instruction: norm(l),
            compressed_bytes: of(|l| l.compressed_bytes),
            uncompressed_bytes: of(|l| l.uncompressed_bytes),
            added_bytes: of(|l| l.added_bytes),
            line: l.dockerfile_line.clone(),
        });
    }
    for (i, l) in old.iter().enumerate().filter(|&(i, _)| !used[i]) {
        out.push(LayerDiff {
            status: LayerStatus::Removed,
            old_index: Some(l.index),
            new_index: None,
            diff_id: l.diff_id.clone(),
            old_diff_id: None,
            instruction: old_ins[i].clone(),
            compressed_bytes: Change::new(l.compressed_bytes, 0),
            uncompressed_bytes: Change::new(l.uncompressed_bytes, 0),
            added_bytes: Change::new(l.added_bytes, 0),
            line: l.dockerfile_line.clone(),
        });
    }
    out
}

fn paths(
    old: &Snapshot,
    new: &Snapshot,
    top: usize,
    notes: &mut Vec<String>,
) -> (Vec<PathChange>, DiffRest) {
    let o = Keyed::new(&old.paths, old.paths_cut, |p| p.path.clone());
    let n = Keyed::new(&new.paths, new.paths_cut, |p| p.path.clone());
    let (rows, unknown_old, unknown_new) = join(&o, &n);
    if unknown_new > 0 {
        notes.push(cut_note("paths", unknown_new, "NEW", "OLD", o.len));
    }
    if unknown_old > 0 {
        notes.push(cut_note("paths", unknown_old, "OLD", "NEW", n.len));
    }
    let rows: Vec<PathChange> = rows
        .into_iter()
        .filter_map(|(path, a, b)| {
            let bytes = Change::new(a.map_or(0, |p| p.bytes), b.map_or(0, |p| p.bytes));
            (bytes.delta != 0 || a.is_none() != b.is_none()).then(|| PathChange {
                path: path.clone(),
                status: status(bytes.delta, a.is_some(), b.is_some()),
                bytes,
            })
        })
        .collect();
    cut(rows, top, |p| p.bytes.delta, |a, b| a.path.cmp(&b.path))
}

type PackageKey = (String, String);

fn packages(
    old: &Snapshot,
    new: &Snapshot,
    top: usize,
    notes: &mut Vec<String>,
) -> (Vec<PackageChange>, DiffRest) {
    let key = |p: &SnapshotPackage| -> PackageKey { (p.manager.clone(), p.name.clone()) };
    let o = Keyed::new(&old.packages, old.packages_cut, key);
    let n = Keyed::new(&new.packages, new.packages_cut, key);
    let (rows, unknown_old, unknown_new) = join(&o, &n);
    if unknown_new > 0 {
        notes.push(cut_note("packages", unknown_new, "NEW", "OLD", o.len));
    }
    if unknown_old > 0 {
        notes.push(cut_note("packages", unknown_old, "OLD", "NEW", n.len));
    }
    let rows: Vec<PackageChange> = rows
        .into_iter()
        .filter_map(|((manager, name), a, b)| {
            let bytes = Change::new(a.map_or(0, |p| p.bytes), b.map_or(0, |p| p.bytes));
            let (ov, nv) = (
                a.and_then(|p| p.version.clone()),
                b.and_then(|p| p.version.clone()),
            );
            let status = match (a, b) {
                (Some(_), Some(_)) if ov != nv => RowStatus::Version,
                (Some(_), Some(_)) if bytes.delta == 0 => return None,
                _ => status(bytes.delta, a.is_some(), b.is_some()),
            };
            Some(PackageChange {
                manager: manager.clone(),
                name: name.clone(),
                old_version: ov,
                new_version: nv,
                status,
                bytes,
            })
        })
        .collect();
    cut(
        rows,
        top,
        |p| p.bytes.delta,
        |a, b| (&a.manager, &a.name).cmp(&(&b.manager, &b.name)),
    )
}

/// Findings keyed by rule and instruction (not layer index, which moves), as
/// multisets: the n-th finding of a key on one side pairs with the n-th on the other,
/// and those left over are new (or gone).
fn findings(old: &[SnapshotFinding], new: &[SnapshotFinding]) -> Vec<FindingChange> {
    fn key(f: &SnapshotFinding) -> (&str, Option<String>) {
        (f.rule.as_str(), f.instruction.as_deref().map(match_key))
    }
    fn counts(side: &[SnapshotFinding]) -> BTreeMap<(&str, Option<String>), usize> {
        let mut c = BTreeMap::new();
        for f in side {
            *c.entry(key(f)).or_default() += 1;
        }
        c
    }
    let mut out = Vec::new();
    for (side, other, status) in [
        (new, old, FindingStatus::New),
        (old, new, FindingStatus::Gone),
    ] {
        let paired = counts(other);
        let mut seen: BTreeMap<(&str, Option<String>), usize> = BTreeMap::new();
        for f in side {
            let n = seen.entry(key(f)).or_default();
            if *n >= paired.get(&key(f)).copied().unwrap_or(0) {
                out.push(FindingChange {
                    status,
                    rule: f.rule.clone(),
                    scope: f.scope.clone(),
                    instruction: f.instruction.clone(),
                    bytes: f.bytes,
                    line: f.dockerfile_line.clone(),
                });
            }
            *n += 1;
        }
    }
    out.sort_by(|a, b| {
        a.status
            .cmp(&b.status)
            .then_with(|| b.bytes.cmp(&a.bytes))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.instruction.cmp(&b.instruction))
    });
    out
}

/// What changed from `old` to `new`; the path and package tables keep `top` rows.
pub fn diff(old: &Snapshot, new: &Snapshot, top: usize) -> Diff {
    let mut notes = Vec::new();
    for (name, s) in [("OLD", old), ("NEW", new)] {
        if !s.complete {
            notes.push(format!(
                "{name} ({}) was not read in full: its figures are incomplete",
                s.source
            ));
        }
    }
    let categories = categories(old, new, &mut notes);
    let (paths_depth, (paths, paths_rest)) = if old.paths_depth == new.paths_depth {
        (old.paths_depth, paths(old, new, top, &mut notes))
    } else {
        notes.push(format!(
            "paths are not compared: OLD's are at depth {}, NEW's at depth {} (use the depth of the saved report)",
            old.paths_depth, new.paths_depth
        ));
        (0, (Vec::new(), DiffRest::default()))
    };
    let (packages, packages_rest) = packages(old, new, top, &mut notes);
    Diff {
        old: side(old),
        new: side(new),
        totals: totals(&old.totals, &new.totals),
        categories,
        layers: layers(&old.layers, &new.layers),
        paths_depth,
        paths,
        paths_rest,
        packages,
        packages_rest,
        findings: findings(&old.findings, &new.findings),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SnapshotPath;

    fn layer(index: usize, diff_id: &str, created_by: &str, added: u64) -> SnapshotLayer {
        SnapshotLayer {
            index,
            diff_id: Some(diff_id.to_string()),
            created_by: Some(created_by.to_string()),
            added_bytes: added,
            ..SnapshotLayer::default()
        }
    }

    fn path(p: &str, bytes: u64) -> SnapshotPath {
        SnapshotPath {
            path: p.to_string(),
            bytes,
        }
    }

    fn finding(rule: &str, instruction: &str, bytes: u64) -> SnapshotFinding {
        SnapshotFinding {
            rule: rule.to_string(),
            scope: "yours".to_string(),
            instruction: Some(instruction.to_string()),
            bytes,
            dockerfile_line: None,
        }
    }

    #[test]
    fn layers_match_by_diff_id_then_instruction() {
        let old = [
            layer(0, "a", "base", 10),
            layer(1, "b", "/bin/sh -c make", 20),
            layer(2, "c", "COPY . /", 5),
        ];
        // The base moved up by one: matched by diff_id, not position.
        let new = [
            layer(0, "x", "/bin/sh -c #(nop) ADD f in /", 1),
            layer(1, "a", "base", 10),
            layer(2, "d", "RUN make # buildkit", 25),
        ];
        let got: Vec<_> = layers(&old, &new)
            .iter()
            .map(|l| (l.status, l.old_index, l.new_index, l.added_bytes.delta))
            .collect();
        assert_eq!(
            got,
            vec![
                (LayerStatus::Added, None, Some(0), 1),
                (LayerStatus::Unchanged, Some(0), Some(1), 0),
                (LayerStatus::Changed, Some(1), Some(2), 5),
                (LayerStatus::Removed, Some(2), None, -5),
            ]
        );
    }

    #[test]
    fn rows_missing_from_a_cut_side_are_a_note_not_a_change() {
        let old = Snapshot {
            paths_depth: 3,
            paths: vec![path("/a", 100), path("/b", 50)],
            paths_cut: true,
            complete: true,
            ..Snapshot::default()
        };
        let new = Snapshot {
            paths_depth: 3,
            paths: vec![path("/a", 90), path("/c", 70), path("/d", 1)],
            complete: true,
            ..Snapshot::default()
        };
        let d = diff(&old, &new, 10);
        let got: Vec<_> = d
            .paths
            .iter()
            .map(|p| (p.path.as_str(), p.status, p.bytes.delta))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/b", RowStatus::Disappeared, -50),
                ("/a", RowStatus::Shrank, -10)
            ]
        );
        assert_eq!(d.notes.len(), 1);
        assert!(d.notes[0].starts_with("2 paths of NEW are not in the top 2 rows of OLD"));
        // Cut to one row: the other is counted in the rest.
        let d = diff(&old, &new, 1);
        assert_eq!(d.paths.len(), 1);
        assert_eq!(
            d.paths_rest,
            DiffRest {
                rows: 1,
                delta: -10
            }
        );
    }

    #[test]
    fn a_copy_of_edited_files_is_the_same_step_changed() {
        let h = |c: char| c.to_string().repeat(64);
        let old = [layer(
            0,
            "a",
            &format!("/bin/sh -c #(nop) COPY dir:{} in /app ", h('a')),
            5,
        )];
        let new = [layer(
            0,
            "b",
            &format!("/bin/sh -c #(nop) COPY dir:{} in /app ", h('b')),
            7,
        )];
        let got: Vec<_> = layers(&old, &new).iter().map(|l| l.status).collect();
        assert_eq!(got, [LayerStatus::Changed]);
        // Not a different path, though.
        let other = [layer(
            0,
            "b",
            &format!("/bin/sh -c #(nop) COPY dir:{} in /srv ", h('b')),
            7,
        )];
        let got: Vec<_> = layers(&old, &other).iter().map(|l| l.status).collect();
        assert_eq!(got, [LayerStatus::Added, LayerStatus::Removed]);
        let f = |c| {
            finding(
                "dockerignore",
                &format!("COPY dir:{} in /app", &h(c)[..12]),
                9,
            )
        };
        assert!(findings(&[f('a')], &[f('b')]).is_empty());
        assert_eq!(match_key("COPY file:0f9e in ./ "), "COPY file:* in ./ ");
        assert_eq!(match_key("ADD multi:0f9e in /x"), "ADD multi:* in /x");
        assert_eq!(match_key("ADD dir:x in /x"), "ADD dir:x in /x");
        assert_eq!(match_key("RUN echo dir:cafe"), "RUN echo dir:cafe");
    }

    #[test]
    fn findings_are_multisets_by_rule_and_instruction() {
        let old = [
            finding("pip-cache", "RUN pip install a", 10),
            finding("apt-lists", "RUN apt-get update", 5),
            finding("apt-lists", "RUN apt-get update", 4),
        ];
        let new = [
            finding("apt-lists", "RUN apt-get update", 7),
            finding("pip-cache", "RUN pip install b", 12),
        ];
        let got: Vec<_> = findings(&old, &new)
            .iter()
            .map(|f| (f.status, f.rule.clone(), f.bytes))
            .collect();
        assert_eq!(
            got,
            vec![
                (FindingStatus::New, "pip-cache".to_string(), 12),
                (FindingStatus::Gone, "pip-cache".to_string(), 10),
                (FindingStatus::Gone, "apt-lists".to_string(), 4),
            ]
        );
    }

    #[test]
    fn changes_are_signed() {
        assert_eq!(Change::new(5, 3).delta, -2);
        assert_eq!(Change::new(0, u64::MAX).delta, i64::MAX);
    }
}
