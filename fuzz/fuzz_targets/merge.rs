//! Two or three layer tars (the input split on `SEPARATOR`), walked, merged in order
//! with `FsTree::apply`, then summarised: every shipped byte is visible or wasted once.
#![no_main]

use imgsize::bytes::NoProgress;
use imgsize::model::LayerScan;
use imgsize::walk::{ScanOptions, scan};
use libfuzzer_sys::fuzz_target;

#[path = "merged.rs"]
mod merged;
use merged::check_merged;

/// Splits the input into layers; unlikely inside a tar header by chance.
const SEPARATOR: &[u8] = b"\n--LAYER--\n";

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < 2 {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    let blobs = split(data);
    let scans: Vec<Option<LayerScan>> = blobs
        .iter()
        .map(|blob| scan(Box::new(*blob), &ScanOptions::default(), &NoProgress).ok())
        .collect();
    let merged: Vec<Option<&LayerScan>> = scans.iter().map(Option::as_ref).collect();
    // A small node budget, so the tree's cut and folding run on every input.
    check_merged(&merged, 1 + data.len() % 40);
});
