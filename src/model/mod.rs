//! Plain data describing an image: what the source resolved (image metadata, layer
//! descriptors, history) and what the walk found (per-layer figures, the merged tree).
//! No I/O and no formatting: sources fill it, analyses read it, renderers print it.

pub mod tree;

pub use tree::{FsTree, NodeKind, WasteCause, WasteRecord};

use crate::walk::{Compression, EntryCounts};

/// The container format an image was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `docker save` output (any vintage), including Docker 25+ hybrid archives.
    DockerArchive,
    /// A pre-Docker-1.10 archive without `manifest.json`.
    DockerLegacy,
    OciLayout,
    OciArchive,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DockerArchive => "docker-archive",
            Format::DockerLegacy => "docker-legacy",
            Format::OciLayout => "oci-layout",
            Format::OciArchive => "oci-archive",
        }
    }
}

/// Which image of the input was analysed.
#[derive(Debug, Clone, Default)]
pub struct ImageInfo {
    /// The input as given on the command line.
    pub source: String,
    /// Container format name (see [`Format::as_str`]).
    pub format: String,
    /// Whole-input compression (`docker save | gzip`), if any.
    pub outer_compression: Option<String>,
    /// The tag or name the image was selected by or is known as.
    pub reference: Option<String>,
    /// Every name the input gives this image.
    pub tags: Vec<String>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub created: Option<String>,
    pub config_digest: Option<String>,
    pub manifest_digest: Option<String>,
    /// The other images the input holds (by name or digest).
    pub other_images: Vec<String>,
}

/// What must hold for a layer blob to be the one the image names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    /// The stored blob hashes to this digest (OCI blobs).
    Blob(String),
    /// The decompressed tar hashes to this digest (the diff_id; classic docker archives).
    Diff(String),
    /// Nothing to check against.
    Nothing,
}

/// A layer as the image's manifest describes it, before walking.
#[derive(Debug, Clone)]
pub struct LayerRef {
    pub index: usize,
    /// Where the blob lives in the source (a path in the archive or layout).
    pub locator: String,
    /// Descriptor digest (of the stored blob), when the format has one.
    pub digest: Option<String>,
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    /// Size the manifest declares (OCI descriptors).
    pub declared_size: Option<u64>,
    pub verify: Verify,
}

impl LayerRef {
    /// The best name for messages: digest, diff_id or archive path.
    pub fn name(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.diff_id.clone())
            .unwrap_or_else(|| self.locator.clone())
    }
}

/// One step of the image history, as the config records it.
#[derive(Debug, Clone, Default)]
pub struct HistoryStep {
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    /// No layer came of this step (ENV, CMD, LABEL, ...).
    pub empty_layer: bool,
    /// The layer this step made, when history and layers line up.
    pub layer: Option<usize>,
}

/// Figures of one walked layer.
#[derive(Debug, Clone, Default)]
pub struct LayerFigures {
    pub compression: Option<Compression>,
    /// Stored (compressed) blob size.
    pub compressed_bytes: u64,
    /// Decompressed tar length.
    pub uncompressed_bytes: u64,
    /// Regular-file content in this layer's tar.
    pub added_bytes: u64,
    /// Of `added_bytes`, what is visible in the final filesystem.
    pub content_bytes: u64,
    pub counts: EntryCounts,
    pub entries: u64,
    pub clamped_paths: u64,
    pub dangling_hardlinks: u64,
    pub sparse_extra_bytes: u64,
    /// The layer was read to the end and merged.
    pub read: bool,
}

/// A file's content kept while walking because an analysis asked for it (package
/// databases, say): the layer it is in, its path (normalised, no leading `/`).
#[derive(Debug, Clone)]
pub struct CapturedFile {
    pub layer: usize,
    pub path: Vec<u8>,
    pub content: Vec<u8>,
}

/// An image after walking: metadata, per-layer figures and the merged filesystem.
pub struct Analysis {
    pub image: ImageInfo,
    pub layers: Vec<LayerRef>,
    pub figures: Vec<LayerFigures>,
    pub history: Vec<HistoryStep>,
    /// Why history steps were not attributed to layers, when they were not.
    pub history_note: Option<String>,
    pub tree: FsTree,
    /// Contents the walk's [`crate::walk::Capture`] asked for, in layer order.
    pub captured: Vec<CapturedFile>,
    /// Layer errors (the walk went on without them).
    pub layer_errors: Vec<crate::error::LayerError>,
    /// Things worth telling that are not errors.
    pub notes: Vec<String>,
}
