//! The progress hook: told when reading starts and how many stored bytes went by.
//! Whoever draws a bar (the CLI) implements it; the library only calls it.

/// Progress sink.
pub trait Progress: Sync {
    /// Layer reading starts. `total` is the stored bytes of the image's layers when known
    /// up front (a seekable input); `None` for a one-pass stream, whose layers are read
    /// while the input is being resolved.
    fn start(&self, _total: Option<u64>) {}
    /// `bytes` more stored (compressed) bytes were read.
    fn advance(&self, bytes: u64);
    /// Reading is over.
    fn finish(&self) {}
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _: u64) {}
}
