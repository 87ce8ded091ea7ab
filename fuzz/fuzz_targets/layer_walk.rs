//! One layer blob, as stored: `walk::scan` sniffs the compression by magic bytes, so
//! the same input reaches gzip, zstd, xz and plain tar, with blob and diff hashing on.
#![no_main]

use imgsize::bytes::{Algorithm, NoProgress};
use imgsize::walk::{ScanOptions, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ScanOptions {
        blob_hash: Some(Algorithm::Sha256),
        diff_hash: Some(Algorithm::Sha256),
        hash_plain: true,
        ..ScanOptions::default()
    };
    if let Ok(s) = scan(Box::new(data), &opts, &NoProgress) {
        assert_eq!(s.figures.compressed_bytes, data.len() as u64);
    }
});
