//! Verification of a walked layer: what to hash under a [`VerifyPolicy`], and whether
//! the scan is the blob the image names (declared size, blob digest or diff_id).

use super::options::Capture;
use super::options::ScanOptions;
use crate::bytes::{Algorithm, VerifyPolicy};
use crate::error::LayerErrorKind;
use crate::model::{DigestCheck, LayerRef, LayerScan};

/// How a layer's bytes reach the walker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// From a local file or layout, readable again.
    Local,
    /// In one pass (stdin, an archive compressed as a whole, a network).
    Streamed,
}

/// What to hash while walking `layer` under `policy`.
pub fn scan_options<'a>(
    layer: &LayerRef,
    policy: VerifyPolicy,
    arrival: Arrival,
    capture: Option<&'a dyn Capture>,
) -> Result<ScanOptions<'a>, LayerErrorKind> {
    let alg_of = |d: &str| Algorithm::parse(d).map_err(LayerErrorKind::UnsupportedDigest);
    let (blob_hash, diff_hash) = match (&layer.check, policy.checks_anything()) {
        (_, false) | (DigestCheck::Nothing, true) => (None, None),
        (DigestCheck::Blob(d), true) => (Some(alg_of(d)?), None),
        // Also hash the stored blob, to report its digest (free for plain tar).
        (DigestCheck::Diff(d), true) => (Some(Algorithm::Sha256), Some(alg_of(d)?)),
    };
    Ok(ScanOptions {
        blob_hash,
        diff_hash,
        hash_plain: policy.hashes_layer(false, arrival == Arrival::Streamed),
        capture,
        hash_files: None,
        watch: None,
        elf: false,
        decoder_limit: Default::default(),
        limits: Default::default(),
    })
}

/// What to hash for a member of a one-pass stream, whose layer is not known yet: the
/// blob against the digest its path names, or else the decompressed stream (a classic
/// `<id>/layer.tar`, checked against the config's diff_id later), whose stored digest
/// is reported too.
pub fn stream_options<'a>(
    named_digest: Option<&str>,
    policy: VerifyPolicy,
    capture: Option<&'a dyn Capture>,
) -> ScanOptions<'a> {
    let hashed = policy.hashes_layer(true, true);
    let blob = named_digest
        .and_then(Algorithm::of)
        .unwrap_or(Algorithm::Sha256);
    ScanOptions {
        blob_hash: hashed.then_some(blob),
        diff_hash: (hashed && named_digest.is_none()).then_some(Algorithm::Sha256),
        hash_plain: hashed,
        capture,
        hash_files: None,
        watch: None,
        elf: false,
        decoder_limit: Default::default(),
        limits: Default::default(),
    }
}

/// Check a scan against the layer's descriptor: its declared size, and its digest when
/// the policy hashed it.
pub fn check(
    layer: &LayerRef,
    scan: &LayerScan,
    policy: VerifyPolicy,
    arrival: Arrival,
) -> Result<(), LayerErrorKind> {
    if !policy.checks_anything() {
        return Ok(());
    }
    let stored = scan.figures.compressed_bytes;
    if let Some(expected) = layer.declared_size
        && expected != stored
    {
        return Err(LayerErrorKind::SizeMismatch {
            expected,
            actual: stored,
        });
    }
    let compressed = scan.figures.compression.is_some_and(|c| c.is_compressed());
    if !policy.hashes_layer(compressed, arrival == Arrival::Streamed) {
        return Ok(());
    }
    let (expected, actual) = match &layer.check {
        DigestCheck::Blob(d) => (d, scan.blob_digest.as_ref()),
        DigestCheck::Diff(d) => (d, scan.diff_digest.as_ref()),
        DigestCheck::Nothing => return Ok(()),
    };
    if actual != Some(expected) {
        return Err(LayerErrorKind::DigestMismatch {
            expected: expected.clone(),
            actual: actual.cloned().unwrap_or_else(|| "nothing".to_string()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::Compression;

    fn layer(check: DigestCheck, size: Option<u64>) -> LayerRef {
        LayerRef {
            declared_size: size,
            check,
            ..LayerRef::at(0, "blobs/sha256/x".into())
        }
    }

    fn scanned(c: Compression, stored: u64, blob: Option<&str>) -> LayerScan {
        let mut s = LayerScan::default();
        s.figures.compression = Some(c);
        s.figures.compressed_bytes = stored;
        s.blob_digest = blob.map(String::from);
        s
    }

    const GOOD: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const BAD: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn auto_hashes_compressed_and_streamed_layers_only() {
        let l = layer(DigestCheck::Blob(GOOD.into()), None);
        let local = scan_options(&l, VerifyPolicy::Auto, Arrival::Local, None).expect("opts");
        assert_eq!(local.blob_hash, Some(Algorithm::Sha256));
        assert!(!local.hash_plain, "a local plain tar is not hashed");
        let streamed = scan_options(&l, VerifyPolicy::Auto, Arrival::Streamed, None).expect("opts");
        assert!(streamed.hash_plain);
        let all = scan_options(&l, VerifyPolicy::All, Arrival::Local, None).expect("opts");
        assert!(all.hash_plain);
        let none = scan_options(&l, VerifyPolicy::None, Arrival::Local, None).expect("opts");
        assert_eq!((none.blob_hash, none.diff_hash), (None, None));
    }

    #[test]
    fn a_mismatch_counts_only_where_the_policy_hashes() {
        let l = layer(DigestCheck::Blob(GOOD.into()), Some(10));
        let plain_unhashed = scanned(Compression::Tar, 10, None);
        assert!(check(&l, &plain_unhashed, VerifyPolicy::Auto, Arrival::Local).is_ok());
        assert!(matches!(
            check(&l, &plain_unhashed, VerifyPolicy::All, Arrival::Local),
            Err(LayerErrorKind::DigestMismatch { .. })
        ));
        let gzip_bad = scanned(Compression::Gzip, 10, Some(BAD));
        assert!(matches!(
            check(&l, &gzip_bad, VerifyPolicy::Auto, Arrival::Local),
            Err(LayerErrorKind::DigestMismatch { .. })
        ));
        assert!(check(&l, &gzip_bad, VerifyPolicy::None, Arrival::Local).is_ok());
        let gzip_good = scanned(Compression::Gzip, 10, Some(GOOD));
        assert!(check(&l, &gzip_good, VerifyPolicy::Auto, Arrival::Local).is_ok());
    }

    #[test]
    fn declared_sizes_are_checked_unless_nothing_is() {
        let l = layer(DigestCheck::Nothing, Some(11));
        let s = scanned(Compression::Tar, 10, None);
        assert_eq!(
            check(&l, &s, VerifyPolicy::Auto, Arrival::Local),
            Err(LayerErrorKind::SizeMismatch {
                expected: 11,
                actual: 10
            })
        );
        assert!(check(&l, &s, VerifyPolicy::None, Arrival::Local).is_ok());
    }

    #[test]
    fn stream_members_hash_what_their_names_promise() {
        let named = stream_options(Some(GOOD), VerifyPolicy::Auto, None);
        assert_eq!(
            (named.blob_hash, named.diff_hash),
            (Some(Algorithm::Sha256), None)
        );
        let classic = stream_options(None, VerifyPolicy::Auto, None);
        assert_eq!(classic.diff_hash, Some(Algorithm::Sha256));
        let none = stream_options(None, VerifyPolicy::None, None);
        assert_eq!((none.blob_hash, none.diff_hash), (None, None));
    }
}
