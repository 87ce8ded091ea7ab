//! [`Snapshot`]: the diffable summary of one report, from an image just analysed
//! (`analyze::snapshot::snapshot`) or from a saved JSON report (`source::report`). Plain
//! data; a saved report holds only its top rows, so each table says whether it was cut.

use serde::Deserialize;

/// The diffable summary of one report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    /// The input as given (a path, `-`), or the saved report's `image.source`.
    pub source: String,
    /// The image's name, when it has one.
    pub reference: Option<String>,
    /// Every layer was read.
    pub complete: bool,
    pub totals: SnapshotTotals,
    /// The real layers, in index order.
    pub layers: Vec<SnapshotLayer>,
    /// Every shipped byte by category.
    pub categories: Vec<SnapshotCategory>,
    /// Some categories were left out (a saved report's top rows).
    pub categories_cut: bool,
    /// The depth the `paths` partition is taken at.
    pub paths_depth: usize,
    /// The visible bytes of each cell of the final filesystem at `paths_depth`.
    pub paths: Vec<SnapshotPath>,
    /// Some paths were left out.
    pub paths_cut: bool,
    pub packages: Vec<SnapshotPackage>,
    /// Some packages were left out.
    pub packages_cut: bool,
    pub findings: Vec<SnapshotFinding>,
}

/// Image-wide figures, as in the report's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SnapshotTotals {
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub stored_bytes: u64,
    pub content_bytes: u64,
    pub wasted_bytes: u64,
    pub files: u64,
    pub layers: u64,
}

/// One real layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SnapshotLayer {
    pub index: usize,
    pub digest: Option<String>,
    pub diff_id: Option<String>,
    /// The history's `created_by`, verbatim.
    pub created_by: Option<String>,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub added_bytes: u64,
    /// Its Dockerfile line, when the report was made with `--dockerfile`.
    pub dockerfile_line: Option<SnapshotLine>,
}

/// A Dockerfile line a report gave a layer or finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct SnapshotLine {
    pub file: String,
    pub line: usize,
    pub end_line: usize,
}

/// One category's shipped bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SnapshotCategory {
    /// The category's stable name (`pip-cache`, `app`, ...).
    #[serde(rename = "category")]
    pub code: String,
    /// Shipped: visible plus wasted.
    pub bytes: u64,
    pub content_bytes: u64,
    pub wasted_bytes: u64,
}

/// One cell of the path partition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SnapshotPath {
    pub path: String,
    pub bytes: u64,
}

/// One installed package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SnapshotPackage {
    /// `dpkg`, `apk`, `python`, `npm`.
    pub manager: String,
    pub name: String,
    pub version: Option<String>,
    /// Visible bytes of its files.
    pub bytes: u64,
}

/// One suggestion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SnapshotFinding {
    /// The rule's stable name (`pip-cache`, ...).
    pub rule: String,
    /// `yours` or `base`.
    pub scope: String,
    /// The layer's instruction, in Dockerfile form.
    pub instruction: Option<String>,
    /// Stored bytes the fix alone removes.
    pub bytes: u64,
    pub dockerfile_line: Option<SnapshotLine>,
}
