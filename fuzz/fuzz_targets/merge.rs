//! Two or three layer tars (the input split on `SEPARATOR`), walked, merged in order
//! with `FsTree::apply`, then summarised: every shipped byte is visible or wasted once.
#![no_main]

use imgsize::analyze::{SummaryOptions, summarize};
use imgsize::bytes::NoProgress;
use imgsize::model::{Analysis, DigestCheck, FsTree, ImageInfo, LayerRef};
use imgsize::walk::{ScanOptions, scan};
use libfuzzer_sys::fuzz_target;

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
    let mut tree = FsTree::new();
    let mut figures = Vec::new();
    let mut all_merged = true;
    for (i, blob) in blobs.iter().enumerate() {
        let Ok(s) = scan(Box::new(*blob), &ScanOptions::default(), &NoProgress) else {
            figures.push(Default::default());
            continue;
        };
        match tree.apply(i as u16, &s) {
            Ok(_) => figures.push(s.figures),
            Err(_) => {
                all_merged = false;
                figures.push(Default::default());
            }
        }
    }
    let visible = tree.visible_bytes(blobs.len());
    let mut wasted = vec![0u64; blobs.len()];
    for w in tree.waste() {
        wasted[w.added_layer as usize] += w.bytes;
    }
    if all_merged {
        for (i, f) in figures.iter().enumerate() {
            assert_eq!(
                f.added_bytes,
                visible[i] + wasted[i],
                "layer {i}: added = content + wasted"
            );
        }
    }
    for (f, v) in figures.iter_mut().zip(&visible) {
        f.content_bytes = *v;
    }
    let layers = (0..blobs.len())
        .map(|index| LayerRef {
            index,
            locator: format!("layer{index}.tar"),
            digest: None,
            diff_id: None,
            media_type: None,
            declared_size: None,
            check: DigestCheck::Nothing,
        })
        .collect();
    let analysis = Analysis {
        image: ImageInfo::default(),
        layers,
        figures,
        history: Vec::new(),
        history_note: None,
        tree,
        captured: Vec::new(),
        watched: Vec::new(),
        readds: Vec::new(),
        layer_errors: Vec::new(),
        notes: Vec::new(),
        manifest_only: false,
        unstripped: Vec::new(),
        heads: Vec::new(),
        duplicates: Vec::new(),
    };
    // A small node budget, so the tree's cut and folding run on every input.
    let options = SummaryOptions {
        tree_nodes: Some(1 + data.len() % 40),
        ..SummaryOptions::default()
    };
    let report = summarize(&analysis, &options);
    let tree = report.tree.as_ref().expect("a tree was asked for");
    assert!(tree.nodes <= tree.max_nodes, "the tree keeps to its budget");
    if all_merged {
        assert_eq!(
            tree.root.bytes, report.totals.content_bytes,
            "the tree holds every visible byte"
        );
        let t = &report.totals;
        assert_eq!(
            t.stored_bytes,
            t.content_bytes + t.wasted_bytes,
            "stored = content + wasted"
        );
    }
});
