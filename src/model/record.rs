//! The records of `imgsize scan`, one JSON line per image (docs/json.md, "Scan
//! records"): written by `render::json::record` from a report, read back by
//! `source::records` for `imgsize fleet`, which sums them into a fleet. Plain data in
//! both directions; the field names are the JSON contract's.

use serde::{Deserialize, Serialize};

/// One line of `imgsize scan`: an image read, or one that could not be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    Image(ImageRecord),
    Error(ErrorRecord),
}

impl Record {
    /// The name the image was given as.
    pub fn name(&self) -> &str {
        match self {
            Record::Image(r) => &r.name,
            Record::Error(r) => &r.name,
        }
    }
}

/// An image read: its figures, as its report has them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub schema_version: u32,
    pub name: String,
    /// The manifest digest, else the config digest.
    pub digest: Option<String>,
    pub platform: Option<String>,
    pub totals: RecordTotals,
    pub base: RecordBase,
    /// The real layers, in order: a finding's `layer` indexes them.
    pub layers: Vec<RecordLayer>,
    pub categories: Vec<RecordCategory>,
    pub findings: Vec<RecordFinding>,
    pub complete: bool,
}

impl ImageRecord {
    /// The key a fleet knows the image by: its digest, else its name.
    pub fn key(&self) -> &str {
        self.digest.as_deref().unwrap_or(&self.name)
    }
}

/// The report's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordTotals {
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub stored_bytes: u64,
    pub content_bytes: u64,
    pub wasted_bytes: u64,
}

/// The report's base: how many of the first layers are the base image's, and its name
/// when known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordBase {
    pub layers: usize,
    pub name: Option<String>,
}

/// One real layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLayer {
    pub digest: Option<String>,
    pub compressed_bytes: u64,
    pub added_bytes: u64,
}

/// One of the biggest categories: its code and shipped bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCategory {
    pub category: String,
    pub bytes: u64,
}

/// One finding: the rule, who can fix it, the layer it changes, what it saves alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFinding {
    pub rule: String,
    pub scope: String,
    pub layer: usize,
    pub bytes: u64,
    /// The estimated pull saving (compressed bytes). Absent from records written
    /// before it was added: read as 0.
    #[serde(default)]
    pub compressed_bytes: u64,
}

/// An image that could not be read: its name and the one-line error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    pub schema_version: u32,
    pub name: String,
    pub error: String,
}
