//! One layer blob, one pass: the reader stack from stored bytes to tar entries.
//!
//! ```text
//! stored blob ─ Tap (count, blob digest, progress) ─ sniff ─ Decoder
//!             ─ Tap (count, diff digest) ─ ErrTap ─ Skipper ─ tar parser ─ entries
//! ```

use std::io::{Cursor, Read};

use super::entries::walk_entries;
use super::options::ScanOptions;
use super::skip::{ErrTap, Pass, Skipper};
use crate::bytes::compression::{Decoder, decode_error, read_head, sniff};
use crate::bytes::tar::{BLOCK, Reader, looks_like_tar};
use crate::bytes::{Compression, Hasher, Progress, Tap};
use crate::error::LayerErrorKind;
use crate::model::LayerScan;

fn open_error(e: std::io::Error) -> LayerErrorKind {
    LayerErrorKind::Open(e.to_string())
}

fn decoding(compression: Compression) -> impl Fn(std::io::Error) -> LayerErrorKind {
    move |e| decode_error(compression, e.kind(), &e.to_string())
}

/// Walk one stored layer blob.
pub fn scan<'r>(
    raw: Box<dyn Read + 'r>,
    opts: &ScanOptions<'_>,
    progress: &dyn Progress,
) -> Result<LayerScan, LayerErrorKind> {
    let tap = Tap::new(raw, opts.blob_hash.map(Hasher::new), Some(progress));
    let (compression, mut raw) = sniff(tap).map_err(open_error)?;
    let hashed = compression.is_compressed() || opts.hash_plain;
    if !hashed {
        raw.get_mut().get_mut().1.stop_hashing();
    }
    let blob_hash = opts.blob_hash.filter(|_| hashed);
    let diff_hash = opts.diff_hash.filter(|_| hashed);
    let mut scan = LayerScan::with_limits(opts.limits);
    scan.figures.compression = Some(compression);
    if compression == Compression::Empty {
        let (_, tap) = raw.into_inner().into_inner();
        let (_, stored, blob) = tap.finish().map_err(open_error)?;
        scan.figures.compressed_bytes = stored;
        scan.blob_digest = blob;
        scan.diff_digest = diff_hash.map(|a| Hasher::new(a).finish());
        return Ok(scan);
    }
    let decoder =
        Decoder::new(compression, raw, opts.decoder_limit).map_err(decoding(compression))?;
    // For an uncompressed layer the diff_id is the blob digest: hash once.
    let same_hash = compression == Compression::Tar && diff_hash == blob_hash;
    let mut plain = ErrTap::new(Tap::new(
        decoder,
        diff_hash.filter(|_| !same_hash).map(Hasher::new),
        None,
    ));
    let block = read_head(&mut plain, BLOCK as usize).map_err(decoding(compression))?;
    if !block.is_empty() && !looks_like_tar(&block) {
        let what = if block.len() < BLOCK as usize && compression == Compression::Tar {
            format!("{} bytes of data that is not a tar archive", block.len())
        } else {
            "content is not a tar archive".to_string()
        };
        return Err(LayerErrorKind::NotTar(what));
    }
    let pass = Pass::default();
    let skipper = Skipper::passing(Cursor::new(block).chain(plain), pass.clone());
    let mut reader = Reader::new(skipper);
    let walked = walk_entries(&mut reader, opts, &pass, &mut scan);
    scan.finish();
    let (_, mut plain) = reader.into_inner().into_inner().into_inner();
    if let Err(kind) = walked {
        return Err(match plain.error.take() {
            Some((k, message)) => decode_error(compression, k, &message),
            None => kind,
        });
    }
    // Count (and hash) what follows the end-of-archive marker: padding, estargz TOC.
    let (decoder, uncompressed, diff) = plain.inner.finish().map_err(decoding(compression))?;
    // Trailing bytes after the compressed stream still belong to the blob.
    let (_, tap) = decoder.into_inner().into_inner().into_inner();
    let (_, stored, blob) = tap.finish().map_err(open_error)?;
    scan.figures.uncompressed_bytes = uncompressed;
    scan.figures.compressed_bytes = stored;
    scan.diff_digest = if same_hash { blob.clone() } else { diff };
    scan.blob_digest = blob;
    Ok(scan)
}
