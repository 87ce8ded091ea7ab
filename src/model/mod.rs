//! The vocabulary the stages hand each other: plain data, no I/O, no formatting.
//!
//! - [`image`]: what a source resolved (image metadata, platform, layer descriptors,
//!   history);
//! - [`scan`]: what the walker makes of one layer blob (compact entry records and the
//!   layer's figures), [`scan_paths`] its interned paths, and [`scan_codec`] its binary
//!   form for the layer cache;
//! - [`path`]: the one normal form of a tar member name;
//! - [`tree`]: the merged filesystem, built by applying scans bottom to top;
//! - [`snapshot`]: the diffable summary of one report (`imgsize diff`);
//! - [`Analysis`]: all of it together, which analyses read.
//!
//! It sits just above the ground floor ([`crate::bytes`]) and imports no stage: sources
//! and the walker fill it, analyses read it.

pub mod dockerfile;
pub mod fleet;
pub mod image;
pub mod path;
pub mod record;
pub mod scan;
pub mod scan_codec;
pub mod scan_paths;
pub mod snapshot;
pub mod text;
pub mod tree;

pub use image::{DigestCheck, Format, HistoryStep, ImageInfo, LayerRef, Platform};
pub use scan::{
    Attrs, Entry, EntryCounts, EntryKind, LayerFigures, LayerScan, NO_PATH, PathId, ROOT_PATH,
    ScanLimits, ScanPaths, Toolchain, Unstripped, Watched,
};
pub use snapshot::{
    Snapshot, SnapshotCategory, SnapshotFinding, SnapshotLayer, SnapshotLine, SnapshotPackage,
    SnapshotPath, SnapshotTotals,
};
pub use tree::{FsTree, MergeStats, NodeKind, SameSize, WasteCause, WasteRecord};

/// A file's content kept while walking because an analysis asked for it (package
/// databases, say): the layer it is in, its path (normalised, no leading `/`).
#[derive(Debug, Clone)]
pub struct CapturedFile {
    pub layer: usize,
    pub path: Vec<u8>,
    pub content: Vec<u8>,
}

/// One tar entry at, under or above the path `imgsize explain` asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEntry {
    pub layer: usize,
    /// Normalised (no leading `/`); for whiteouts and opaque markers, what they act on.
    pub path: Vec<u8>,
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

/// A file a later layer re-added with the same content (only its mode or owner can
/// differ): the lower copy is the waste record `waste` of the tree, the upper one the
/// file at `node` (live), or the waste record `upper_waste` when a later layer hid the
/// re-added copy too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReAdd {
    pub waste: u32,
    pub node: u32,
    pub upper_waste: Option<u32>,
    /// Both copies were hashed and are equal; `false` when the input could not be read
    /// twice (a stream) and only path and size agree.
    pub confirmed: bool,
}

/// A visible file's content that `strip` would shrink: its inode in the tree (as the
/// layer that shipped it left it; a later layer may hide it), and the saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StripFile {
    pub inode: u32,
    pub saving: u64,
    pub toolchain: Toolchain,
}

/// Visible files of the same content at different paths (not hard links of one
/// another): their inodes, in the order the tree made them (the lowest layer's first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicates {
    pub inodes: Vec<u32>,
    /// The contents were hashed and are equal; `false` when the input could not be
    /// read twice (a stream) and only the sizes agree.
    pub confirmed: bool,
}

/// An image after walking: metadata, per-layer figures and the merged filesystem.
pub struct Analysis {
    pub image: ImageInfo,
    pub layers: Vec<LayerRef>,
    /// Figures of each layer, by index (zero for a layer that could not be read, but
    /// its stored size).
    pub figures: Vec<LayerFigures>,
    pub history: Vec<HistoryStep>,
    /// Why history steps were not attributed to layers, when they were not.
    pub history_note: Option<String>,
    pub tree: FsTree,
    /// Contents the walk's capture hook asked for, in layer order.
    pub captured: Vec<CapturedFile>,
    /// The entries a watch asked for (`imgsize explain`), in layer order.
    pub watched: Vec<WatchedEntry>,
    /// Files re-added unchanged by a later layer.
    pub readds: Vec<ReAdd>,
    /// ELF files `strip` would shrink, by the inode the walk saw them as.
    pub unstripped: Vec<StripFile>,
    /// (inode, fingerprint of its first bytes) of the files of
    /// [`scan::DUPLICATE_MIN_BYTES`] or more: duplicates' candidates are grouped by size
    /// and this before any content is hashed.
    pub heads: Vec<(u32, u64)>,
    /// Groups of visible files with the same content, at least one in a layer above
    /// the base image's.
    pub duplicates: Vec<Duplicates>,
    /// Layer errors (the walk went on without them), by layer index.
    pub layer_errors: Vec<crate::error::LayerError>,
    /// Things worth telling that are not errors (from the source).
    pub notes: Vec<String>,
    /// Only the manifest and config were read: the figures are the layers' declared
    /// (compressed) sizes, the tree is empty.
    pub manifest_only: bool,
}
