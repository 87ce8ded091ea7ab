//! [`Fleet`]: many images' scan records summed into the figures a platform team asks
//! of them, with every layer counted once where layers are shared (docs/fleet.md).
//! Made by `analyze::fleet`, written by `render` (table, JSON, markdown, HTML) and
//! read back from a saved fleet report (`source::records`) as the baseline of the next.
//! The field names are the JSON contract's (docs/json.md, "Fleet report").

use serde::{Deserialize, Serialize};

/// A fleet: its totals, its shared layers, base families, findings and images.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fleet {
    /// The record files or Redis runs read, as given.
    pub sources: Vec<String>,
    pub totals: FleetTotals,
    /// Layers two or more images share, by bytes times sharing, biggest first.
    pub shared_layers: Vec<SharedLayer>,
    /// Images grouped by their base image, most stored bytes first.
    pub families: Vec<Family>,
    /// Each rule's findings across the fleet, most summed bytes first.
    pub rules: Vec<FleetRule>,
    /// The biggest single fixes: a rule on one layer (shared layers once), with every
    /// image it would shrink.
    pub fixes: Vec<FleetFix>,
    /// Every image, most stored bytes first.
    pub images: Vec<FleetImage>,
    /// The images that could not be read.
    pub errors: Vec<FleetError>,
    /// What changed since the baseline fleet report, when one was given.
    pub change: Option<FleetChange>,
}

/// Fleet-wide figures: summed over images (each image as if pulled alone) and over
/// distinct layers (what a registry stores and a node holding every image pulls).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetTotals {
    /// Distinct images (by digest).
    pub images: usize,
    /// Names read (several tags of one image count once in `images`).
    pub names: usize,
    /// Images that could not be read.
    pub errors: usize,
    /// Images read with some layer missing.
    pub incomplete: usize,
    /// Layers summed over images.
    pub layers: usize,
    /// Distinct layers (by blob digest).
    pub distinct_layers: usize,
    pub compressed_bytes: u64,
    pub distinct_compressed_bytes: u64,
    pub stored_bytes: u64,
    pub distinct_stored_bytes: u64,
    /// Wasted bytes summed over images.
    pub wasted_bytes: u64,
}

/// A layer several images share.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SharedLayer {
    pub digest: String,
    /// How many images list it.
    pub images: usize,
    pub compressed_bytes: u64,
    pub added_bytes: u64,
    /// `images × compressed_bytes`: what pulling each image alone downloads of it.
    pub pulled_bytes: u64,
    /// The family whose base it belongs to, when it is a base layer.
    pub family: Option<String>,
    /// One image that lists it (the first by name).
    pub example: String,
}

/// The images built on one base image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Family {
    /// The base's name when the image tells it, else `base <short digest>` of its top
    /// layer, else `(no base)`.
    pub name: String,
    pub images: usize,
    /// The base's layers.
    pub base_layers: usize,
    /// The base's own layers, once.
    pub base_compressed_bytes: u64,
    pub base_stored_bytes: u64,
    /// The family's images, summed.
    pub compressed_bytes: u64,
    pub stored_bytes: u64,
    /// The base-scope findings on the base's layers, each layer once.
    pub base_findings_bytes: u64,
}

/// One rule across the fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetRule {
    pub rule: String,
    /// Images with at least one finding of this rule.
    pub images: usize,
    /// Distinct fixes (a layer shared by several images is one fix).
    pub fixes: usize,
    /// What the fixes save, each shared layer once (what the registry stores).
    pub bytes: u64,
    /// What they save summed over images (what nodes store, image by image).
    pub summed_bytes: u64,
    /// The estimated pull saving summed over images.
    pub summed_compressed_bytes: u64,
    /// Of `bytes`, what the base images' fixes save.
    pub base_bytes: u64,
}

/// One fix: a rule on one layer, with every image it shrinks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetFix {
    pub rule: String,
    pub scope: String,
    /// The layer the fix changes (`null` for an unnamed layer).
    pub layer_digest: Option<String>,
    /// The family when the layer is a base layer.
    pub family: Option<String>,
    pub images: usize,
    /// The saving of the fix, once (the largest any image reports).
    pub bytes: u64,
    pub summed_bytes: u64,
    pub summed_compressed_bytes: u64,
    /// One image it shrinks (the first by name).
    pub example: String,
}

/// One image of the fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetImage {
    /// Every name it was read as, sorted.
    pub names: Vec<String>,
    pub digest: Option<String>,
    pub platform: Option<String>,
    pub family: String,
    pub layers: usize,
    pub compressed_bytes: u64,
    pub stored_bytes: u64,
    pub wasted_bytes: u64,
    /// Stored bytes of its own layers (above the base).
    pub own_bytes: u64,
    pub complete: bool,
}

/// An image that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetError {
    pub name: String,
    pub error: String,
}

/// The fleet against a baseline fleet report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetChange {
    /// The baseline's totals.
    pub before: FleetTotals,
    /// Names in this fleet and not in the baseline, sorted.
    pub added: Vec<String>,
    /// Names in the baseline and not in this fleet, sorted.
    pub removed: Vec<String>,
    /// Names in both whose stored bytes changed, most grown first.
    pub changed: Vec<ImageChange>,
    /// Rules whose summed bytes changed, by the size of the change.
    pub rules: Vec<RuleChange>,
}

/// One name's stored bytes before and now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageChange {
    pub name: String,
    pub before_bytes: u64,
    pub after_bytes: u64,
}

/// One rule's summed bytes before and now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleChange {
    pub rule: String,
    pub before_bytes: u64,
    pub after_bytes: u64,
}
