//! Typed errors of the library. Every variant names what failed (a file, a blob, a
//! layer) so the CLI can print one clear line. Nothing here formats sizes, names a
//! command-line flag or decides exit codes: that is the CLI's job. Like the ground
//! floor, every room may use it.

use std::io;

use thiserror::Error;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while opening, resolving or walking an image.
#[derive(Debug, Error)]
pub enum Error {
    /// Reading a file of the input failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    /// The input is neither a docker archive nor an OCI layout or archive.
    #[error("{path}: not a container image ({reason})")]
    UnknownFormat { path: String, reason: String },
    /// A metadata document (manifest, index, config) is not valid JSON of the expected shape.
    #[error("{file}: malformed JSON: {message}")]
    Json { file: String, message: String },
    /// A metadata document parsed but says something impossible.
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    /// A blob named by a manifest or index is not in the input.
    #[error("blob {digest} is missing from {path}")]
    MissingBlob { digest: String, path: String },
    /// A file named by `manifest.json` is not in the archive.
    #[error("{path}: file {member} named by {referrer} is missing")]
    MissingMember {
        path: String,
        member: String,
        referrer: String,
    },
    /// A blob's content does not hash to its digest.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    /// The wanted image is not in the input.
    #[error("no image {wanted} in {path} (it holds: {available})")]
    ImageNotFound {
        wanted: String,
        path: String,
        available: String,
    },
    /// No image of the wanted platform.
    #[error("no image for platform {wanted} in {path} (it holds: {available})")]
    PlatformNotFound {
        wanted: String,
        path: String,
        available: String,
    },
    /// The input holds no image at all.
    #[error("{path}: no image found ({reason})")]
    NoImage { path: String, reason: String },
    /// A metadata document is named by a digest imgsize cannot check: an unknown
    /// algorithm, or malformed (`reason` says how, quoting the digest).
    #[error("{what}: cannot verify: {reason}")]
    UnsupportedDigest {
        what: String,
        digest: String,
        reason: String,
    },
    /// A layer could not be read.
    #[error("{0}")]
    Layer(#[from] LayerError),
    /// A Dockerfile (`--dockerfile`) cannot be parsed; `line` is 1-based.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Dockerfile {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// A saved JSON report cannot be read as one: another tool's JSON, an unknown
    /// `schema_version`, or a key of the wrong shape (`key` names it).
    #[error("{file}: {key}: {message}")]
    Report {
        file: String,
        key: String,
        message: String,
    },
    /// A registry could not give the image (unreachable, refused, not found, bad TLS).
    #[error("{reference}: {message}")]
    Registry { reference: String, message: String },
    /// Nothing answered at the registry's address (refused, no route, no name, a
    /// timeout before any answer).
    #[error("{reference}: {message}")]
    RegistryUnreachable { reference: String, message: String },
    /// A registry refused the credentials, or wants some and none were found.
    #[error("{registry}: {message}")]
    RegistryAuth { registry: String, message: String },
    /// The layer cache refused an entry (a key that is not `algorithm:hex`, say).
    /// Reading or writing its files fails as [`Error::Io`].
    #[error("layer cache {path}: {message}")]
    Cache { path: String, message: String },
    /// A run of scan records in Redis could not be reached, read or written.
    #[error("{run}: {message}")]
    Run { run: String, message: String },
    /// A budget file (`imgsize.toml`) is malformed; `line` is 1-based.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Budget {
        file: String,
        line: Option<usize>,
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn json(file: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Error::Json {
            file: file.into(),
            message: err.to_string(),
        }
    }

    pub(crate) fn invalid(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            file: file.into(),
            message: message.into(),
        }
    }
}

/// Why one layer could not be read. The layer is named by index and digest.
#[derive(Debug, Error, Clone)]
#[error("layer {index} ({name}): {kind}")]
pub struct LayerError {
    pub index: usize,
    /// The layer's digest or, without one, its file in the archive.
    pub name: String,
    pub kind: LayerErrorKind,
}

/// The cause of a [`LayerError`].
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LayerErrorKind {
    #[error("blob is missing")]
    Missing,
    #[error("cannot open: {0}")]
    Open(String),
    /// Reading the blob failed midway for a reason outside it (a network connection
    /// that broke off and could not be resumed); `0` says what happened.
    #[error("cannot read: {0}")]
    Read(String),
    /// `message` already says what is corrupt.
    #[error("{message}")]
    Corrupt {
        compression: &'static str,
        message: String,
    },
    #[error("truncated: {0}")]
    Truncated(String),
    #[error("bad tar data: {0}")]
    BadTar(String),
    #[error("not a filesystem layer: {0}")]
    NotTar(String),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("size mismatch: manifest says {expected} bytes, blob has {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    /// The layer's digest cannot be checked; the text says why, quoting it.
    #[error("cannot verify: {0}")]
    UnsupportedDigest(String),
    #[error("{0}")]
    Limit(String),
}
