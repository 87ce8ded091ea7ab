//! Walk every layer of an opened image (in parallel, see [`super::parallel`]), verify
//! each against the digest that names it, and merge the results in layer order into
//! the model. A layer that fails is recorded and skipped; the others are still read.

use crate::error::{LayerError, LayerErrorKind};
use crate::model::{Analysis, CapturedFile, FsTree, LayerFigures, LayerRef, Verify};
use crate::source::{Opened, json};

use super::{Algorithm, Capture, LayerScan, Progress, ScanOptions, parallel, scan};

/// Walk one layer of an opened image.
fn scan_layer(
    opened: &Opened,
    layer: &LayerRef,
    capture: Option<&dyn Capture>,
    progress: &dyn Progress,
) -> Result<LayerScan, LayerErrorKind> {
    if !json::is_tar_layer(layer.media_type.as_deref()) {
        return Err(LayerErrorKind::NotTar(format!(
            "media type {}",
            layer.media_type.as_deref().unwrap_or("?")
        )));
    }
    let verify = opened.verify;
    let alg_of =
        |d: &str| Algorithm::of(d).ok_or_else(|| LayerErrorKind::UnsupportedDigest(d.to_string()));
    let (blob_hash, diff_hash) = match (&layer.verify, verify) {
        (_, false) => (None, None),
        (Verify::Blob(d), true) => (Some(alg_of(d)?), None),
        // Also hash the stored blob, to report its digest (free for plain tar).
        (Verify::Diff(d), true) => (Some(Algorithm::Sha256), Some(alg_of(d)?)),
        (Verify::Nothing, true) => (None, None),
    };
    let scan = match opened.store.prescanned(&layer.locator) {
        Some(result) => result?,
        None => {
            if opened.store.size(&layer.locator).is_none() {
                return Err(LayerErrorKind::Missing);
            }
            let reader = opened
                .store
                .open(&layer.locator)
                .map_err(|e| LayerErrorKind::Open(e.to_string()))?;
            let opts = ScanOptions {
                blob_hash,
                diff_hash,
                capture,
            };
            scan(reader, &opts, progress)?
        }
    };
    if verify {
        if let Some(expected) = layer.declared_size
            && expected != scan.stored_len
        {
            return Err(LayerErrorKind::SizeMismatch {
                expected,
                actual: scan.stored_len,
            });
        }
        let (expected, actual) = match &layer.verify {
            Verify::Blob(d) => (Some(d), scan.blob_digest.as_ref()),
            Verify::Diff(d) => (Some(d), scan.diff_digest.as_ref()),
            Verify::Nothing => (None, None),
        };
        if let Some(expected) = expected
            && actual != Some(expected)
        {
            return Err(LayerErrorKind::DigestMismatch {
                expected: expected.clone(),
                actual: actual.cloned().unwrap_or_else(|| "nothing".to_string()),
            });
        }
    }
    Ok(scan)
}

/// Walk and merge every layer of `opened`.
pub fn walk_image(
    opened: Opened,
    capture: Option<&dyn Capture>,
    progress: &dyn Progress,
) -> Analysis {
    let n = opened.layers.len();
    let jobs: Vec<(usize, u64)> = opened
        .layers
        .iter()
        .map(|l| (l.index, opened.store.size(&l.locator).unwrap_or(0)))
        .collect();
    let mut tree = FsTree::new();
    let mut figures = vec![LayerFigures::default(); n];
    let mut errors = Vec::new();
    let mut layers = opened.layers.clone();
    let mut captured = Vec::new();
    let mut notes = opened.notes.clone();
    parallel::ordered(
        &jobs,
        |i| scan_layer(&opened, &opened.layers[i], capture, progress),
        |i, result| {
            let layer = &mut layers[i];
            let fig = &mut figures[i];
            fig.compressed_bytes = layer
                .declared_size
                .or_else(|| opened.store.size(&layer.locator))
                .unwrap_or(0);
            // Index fits: sources refuse more than u16::MAX layers.
            let merged = result.and_then(|scan| tree.apply(i as u16, &scan).map(|s| (scan, s)));
            let (mut scan, stats) = match merged {
                Ok(done) => done,
                Err(kind) => {
                    errors.push(LayerError {
                        index: i,
                        name: layer.name(),
                        kind,
                    });
                    return;
                }
            };
            for (entry, content) in std::mem::take(&mut scan.captured) {
                let path = scan.text(scan.entries[entry as usize].path).to_vec();
                captured.push(CapturedFile {
                    layer: i,
                    path,
                    content,
                });
            }
            if layer.digest.is_none() {
                layer.digest = scan.blob_digest.clone().or_else(|| {
                    (scan.compression == super::Compression::Tar)
                        .then(|| layer.diff_id.clone())
                        .flatten()
                });
            }
            *fig = LayerFigures {
                compression: Some(scan.compression),
                compressed_bytes: scan.stored_len,
                uncompressed_bytes: scan.uncompressed_bytes,
                added_bytes: scan.added_bytes,
                content_bytes: 0,
                counts: scan.counts,
                entries: scan.entries.len() as u64,
                clamped_paths: scan.clamped_paths,
                dangling_hardlinks: stats.dangling_hardlinks,
                sparse_extra_bytes: scan.sparse_extra_bytes,
                read: true,
            };
        },
    );
    for ino in tree.inodes() {
        if ino.links > 0 {
            figures[ino.layer as usize].content_bytes += ino.size;
        }
    }
    let clamped: u64 = figures.iter().map(|f| f.clamped_paths).sum();
    if clamped > 0 {
        notes.push(format!(
            "{clamped} entries have `..` in their names; they were resolved inside the image root"
        ));
    }
    let dangling: u64 = figures.iter().map(|f| f.dangling_hardlinks).sum();
    if dangling > 0 {
        notes.push(format!(
            "{dangling} hardlinks point at paths that do not exist; counted as empty files"
        ));
    }
    let holes: u64 = figures.iter().map(|f| f.sparse_extra_bytes).sum();
    if holes > 0 {
        notes.push(format!(
            "sparse files: sizes count the bytes the tar stores; their apparent sizes add {holes} bytes of holes"
        ));
    }
    errors.sort_by_key(|e| e.index);
    Analysis {
        image: opened.image,
        layers,
        figures,
        history: opened.history,
        history_note: opened.history_note,
        tree,
        captured,
        layer_errors: errors,
        notes,
    }
}
