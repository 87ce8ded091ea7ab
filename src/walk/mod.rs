//! The layer walker: turns one stored layer blob into a [`LayerScan`] in a single
//! streaming pass (detect compression, decompress, read tar headers, skip content),
//! counting and, when asked, hashing the bytes as they go by, so verification costs no
//! second pass; then checks the scan against what the image says the layer is.
//!
//! - [`layer`]: the reader stack and [`scan`];
//! - [`entries`]: the tar entry loop (normal forms, whiteout markers, captures);
//! - [`elf`]: an ELF file's section headers, read in bounded windows as its content
//!   streams by, and what `strip` would save on it;
//! - [`skip`]: the forward-only skipper that bounds what a crafted tar can make it hold;
//! - [`verify`]: what to hash under a [`VerifyPolicy`](crate::bytes::VerifyPolicy), and
//!   the size and digest checks;
//!
//! It never extracts, never writes to disk and never holds a layer in memory. It reads
//! blobs through plain readers and knows nothing of where they come from (no source
//! types) nor of merging (the model's tree does that).

pub mod elf;
pub mod entries;
pub mod layer;
pub mod options;
pub mod skip;
pub mod verify;

pub use layer::scan;
pub use options::{Capture, MAX_CAPTURE, MAX_CAPTURE_LARGE, ScanOptions};
pub use skip::MAX_READ_RUN;
