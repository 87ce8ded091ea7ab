//! What a walk is asked to compute: the [`ScanOptions`] of one layer, and the
//! [`Capture`] selectors that choose which files are kept or hashed. Shared by the
//! layer's reader stack (`layer`) and the entry loop (`entries`).

use super::skip::MAX_READ_RUN;
use crate::bytes::{Algorithm, DecoderLimit};
use crate::model::ScanLimits;

/// Decides which entries' contents are kept (for package databases and the like), or,
/// as a hash selector, which are hashed. Files over [`Capture::limit`] bytes are never
/// offered for keeping; any size may be hashed.
pub trait Capture: Sync {
    /// Whether to keep the content of the regular file at `path` of `size` bytes.
    fn wants(&self, path: &[u8], size: u64) -> bool;

    /// The largest file at `path` to offer for keeping: [`MAX_CAPTURE`] unless the
    /// selector names a larger bound for it, never over [`MAX_CAPTURE_LARGE`].
    fn limit(&self, _path: &[u8]) -> u64 {
        MAX_CAPTURE
    }
}

/// The largest file a [`Capture`] is offered by default.
pub const MAX_CAPTURE: u64 = MAX_READ_RUN / 2;

/// The largest file a [`Capture`] may ask for through [`Capture::limit`] (rpm's
/// database): the bound on one read run less room for the entry's own headers.
pub const MAX_CAPTURE_LARGE: u64 = MAX_READ_RUN - (2 << 20);

/// What to compute while walking.
#[derive(Clone, Copy, Default)]
pub struct ScanOptions<'a> {
    /// Hash the stored blob with this algorithm.
    pub blob_hash: Option<Algorithm>,
    /// Hash the decompressed stream with this algorithm.
    pub diff_hash: Option<Algorithm>,
    /// Hash an uncompressed blob too (compressed ones always are when a hash is asked).
    pub hash_plain: bool,
    pub capture: Option<&'a dyn Capture>,
    /// Hash the content of the regular files it selects (SHA-256, into `hashed`).
    pub hash_files: Option<&'a dyn Capture>,
    /// Record the metadata of every entry at, under or above this normalised path
    /// (into `watched`), for `imgsize explain`.
    pub watch: Option<&'a [u8]>,
    /// Read the headers of ELF files for what `strip` would save on them (into
    /// `unstripped`): bounded windows of their content ([`super::elf`]).
    pub elf: bool,
    /// The memory the decoder may use (zstd window, xz dictionary).
    pub decoder_limit: DecoderLimit,
    /// How many distinct paths, and bytes of their names, the layer may hold.
    pub limits: ScanLimits,
}
