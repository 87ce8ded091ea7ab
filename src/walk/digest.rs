//! Content digests (`sha256:<hex>`, `sha512:<hex>`) and a reader tap that counts and
//! hashes the bytes flowing through it, so a layer is verified in the same single pass
//! that walks it.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256, Sha512};

/// A digest algorithm imgsize can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The algorithm of a digest string such as `sha256:abc…`, if supported.
    pub fn of(digest: &str) -> Option<Algorithm> {
        let (alg, hex) = digest.split_once(':')?;
        let (alg, len) = match alg {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            _ => return None,
        };
        (hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(alg)
    }
}

/// An incremental hasher for one [`Algorithm`].
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(alg: Algorithm) -> Self {
        match alg {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest as `alg:hex`.
    pub fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Hasher::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

/// Hash a byte slice.
pub fn digest_of(alg: Algorithm, bytes: &[u8]) -> String {
    let mut h = Hasher::new(alg);
    h.update(bytes);
    h.finish()
}

/// Check `bytes` against `expected`; returns the actual digest on mismatch.
pub fn check(expected: &str, bytes: &[u8]) -> Result<(), CheckError> {
    let alg = Algorithm::of(expected).ok_or(CheckError::Unsupported)?;
    let actual = digest_of(alg, bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(CheckError::Mismatch(actual))
    }
}

/// Why [`check`] failed.
#[derive(Debug)]
pub enum CheckError {
    Unsupported,
    Mismatch(String),
}

/// Progress sink: told how many stored (compressed) bytes were read.
pub trait Progress: Sync {
    fn advance(&self, bytes: u64);
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _: u64) {}
}

const PROGRESS_STEP: u64 = 1 << 20;

/// A reader that counts, optionally hashes, and reports the bytes read through it.
pub struct Tap<'p, R> {
    inner: R,
    count: u64,
    hasher: Option<Hasher>,
    progress: Option<&'p dyn Progress>,
    unreported: u64,
}

impl<'p, R: Read> Tap<'p, R> {
    pub fn new(inner: R, hasher: Option<Hasher>, progress: Option<&'p dyn Progress>) -> Self {
        Tap {
            inner,
            count: 0,
            hasher,
            progress,
            unreported: 0,
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Read to the end, then return the inner reader, the byte count and the digest
    /// (if hashing).
    pub fn finish(mut self) -> io::Result<(R, u64, Option<String>)> {
        io::copy(&mut self, &mut io::sink())?;
        if let Some(p) = self.progress {
            p.advance(self.unreported);
        }
        Ok((self.inner, self.count, self.hasher.map(Hasher::finish)))
    }
}

impl<R: Read> Read for Tap<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        if let Some(p) = self.progress {
            self.unreported += n as u64;
            if self.unreported >= PROGRESS_STEP {
                p.advance(self.unreported);
                self.unreported = 0;
            }
        }
        Ok(n)
    }
}
