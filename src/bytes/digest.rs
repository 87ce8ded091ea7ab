//! Content digests (`sha256:<hex>`, `sha512:<hex>`), a reader tap that counts and
//! hashes the bytes flowing through it (so a layer is verified in the same single pass
//! that walks it), and the verification policy: which bytes are worth hashing.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256, Sha512};

use super::Progress;

/// Which blobs are checked against the digests that name them.
///
/// No figure imgsize reports depends on file content: sizes come from tar headers
/// (which carry their own checksums) and blob sizes. Hashing is therefore a defence
/// against bytes that were damaged or swapped on the way, and [`VerifyPolicy::Auto`]
/// spends it where bytes crossed a trust boundary or where it costs little.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VerifyPolicy {
    /// Metadata (indexes, manifests, configs) always; layers that arrive in one pass
    /// (stdin, an archive compressed as a whole, later a network) and every compressed
    /// layer (hashing costs little next to decompressing) are hashed. The uncompressed
    /// layers of a local archive or layout get their size and tar structure checked and
    /// their content skipped.
    #[default]
    Auto,
    /// Hash every blob.
    All,
    /// Check nothing: no digests, no declared sizes.
    None,
}

impl VerifyPolicy {
    /// Whether metadata documents and declared sizes are checked.
    pub fn checks_anything(self) -> bool {
        self != VerifyPolicy::None
    }

    /// Whether a layer's content is hashed, given how it is compressed and whether it
    /// arrived in one pass (a stream that cannot be read again).
    pub fn hashes_layer(self, compressed: bool, streamed: bool) -> bool {
        match self {
            VerifyPolicy::All => true,
            VerifyPolicy::None => false,
            VerifyPolicy::Auto => compressed || streamed,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            VerifyPolicy::Auto => "auto",
            VerifyPolicy::All => "all",
            VerifyPolicy::None => "none",
        }
    }
}

/// A digest algorithm imgsize can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The algorithm of a digest string such as `sha256:abc…`, if supported and
    /// well-formed (the right number of lowercase hex digits, as the OCI spec has it).
    pub fn of(digest: &str) -> Option<Algorithm> {
        Algorithm::parse(digest).ok()
    }

    /// The algorithm of a digest string, or what is wrong with it, in words that
    /// quote the digest: `digest sha256:ABC… is not lowercase hex`.
    pub fn parse(digest: &str) -> Result<Algorithm, String> {
        let Some((alg, hex)) = digest.split_once(':') else {
            return Err(format!(
                "digest {digest} has no algorithm (it should read sha256:<hex>)"
            ));
        };
        let (found, len) = match alg {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            _ => {
                return Err(format!(
                    "digest {digest}: algorithm {alg:?} is not supported (sha256, sha512 are)"
                ));
            }
        };
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("digest {digest} is not hex"));
        }
        if hex.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("digest {digest} is not lowercase hex"));
        }
        if hex.len() != len {
            return Err(format!(
                "digest {digest} has {} hex digits, {alg} needs {len}",
                hex.len()
            ));
        }
        Ok(found)
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
    let alg = Algorithm::parse(expected).map_err(CheckError::Malformed)?;
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
    /// The expected digest is not one imgsize can check; the text says why.
    Malformed(String),
    Mismatch(String),
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

    /// Stop hashing (the content turned out not to need it); counting goes on.
    pub fn stop_hashing(&mut self) {
        self.hasher = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_named_by_their_algorithm() {
        let empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(digest_of(Algorithm::Sha256, b""), empty);
        assert_eq!(Algorithm::of(empty), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::of("sha256:abc"), None, "too short");
        assert_eq!(Algorithm::of("md5:d41d8cd98f00b204e9800998ecf8427e"), None);
        assert!(check(empty, b"").is_ok());
        assert!(matches!(check(empty, b"x"), Err(CheckError::Mismatch(_))));
        assert!(matches!(check("crc:1", b""), Err(CheckError::Malformed(_))));
    }

    #[test]
    fn a_malformed_digest_says_what_is_wrong() {
        let upper = format!("sha256:{}", "AB".repeat(32));
        assert_eq!(
            Algorithm::parse(&upper),
            Err(format!("digest {upper} is not lowercase hex"))
        );
        assert_eq!(
            Algorithm::parse("sha256:abcd"),
            Err("digest sha256:abcd has 4 hex digits, sha256 needs 64".to_string())
        );
        assert_eq!(
            Algorithm::parse("md5:d41d8cd98f00b204e9800998ecf8427e"),
            Err("digest md5:d41d8cd98f00b204e9800998ecf8427e: algorithm \"md5\" is not supported (sha256, sha512 are)".to_string())
        );
        assert_eq!(
            Algorithm::parse("sha256:xyz"),
            Err("digest sha256:xyz is not hex".to_string())
        );
        assert!(Algorithm::parse("abc").is_err());
        assert!(matches!(check(&upper, b""), Err(CheckError::Malformed(_))));
    }

    #[test]
    fn the_tap_counts_and_hashes_what_goes_by() {
        let mut tap = Tap::new(&b"hello"[..], Some(Hasher::new(Algorithm::Sha256)), None);
        let mut first = [0u8; 2];
        tap.read_exact(&mut first).expect("read");
        let (_, count, digest) = tap.finish().expect("finish");
        assert_eq!(count, 5);
        assert_eq!(digest, Some(digest_of(Algorithm::Sha256, b"hello")));
        let mut quiet = Tap::new(&b"hello"[..], Some(Hasher::new(Algorithm::Sha256)), None);
        quiet.stop_hashing();
        assert_eq!(quiet.finish().expect("finish").2, None);
    }

    #[test]
    fn auto_verifies_where_bytes_crossed_a_boundary_or_hashing_is_cheap() {
        use VerifyPolicy::{All, Auto, None};
        assert!(Auto.hashes_layer(true, false), "compressed");
        assert!(Auto.hashes_layer(false, true), "streamed");
        assert!(!Auto.hashes_layer(false, false), "local plain tar");
        assert!(All.hashes_layer(false, false));
        assert!(!None.hashes_layer(true, true));
        assert!(Auto.checks_anything() && !None.checks_anything());
    }
}
