//! What `merge` and `tar_entries` check once their layers are walked: the scans merged
//! in order with `FsTree::apply` and summarised with a small node budget, then every
//! shipped byte visible or wasted once. Included by both targets with `#[path]`.

use imgsize::analyze::{SummaryOptions, summarize};
use imgsize::model::{Analysis, FsTree, ImageInfo, LayerRef, LayerScan};

/// Merge `scans` (`None` for a layer that could not be walked) and check the figures;
/// `tree_nodes` is the summary's node budget, so the tree's cut and folding run.
pub fn check_merged(scans: &[Option<&LayerScan>], tree_nodes: usize) {
    let n = scans.len();
    let mut tree = FsTree::new();
    let mut figures = Vec::new();
    let mut all_merged = true;
    for (i, s) in scans.iter().enumerate() {
        let Some(s) = s else {
            figures.push(Default::default());
            continue;
        };
        match tree.apply(i as u16, s) {
            Ok(_) => figures.push(s.figures.clone()),
            Err(_) => {
                all_merged = false;
                figures.push(Default::default());
            }
        }
    }
    let visible = tree.visible_bytes(n);
    let mut wasted = vec![0u64; n];
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
    let layers = (0..n)
        .map(|index| LayerRef::at(index, format!("layer{index}.tar")))
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
    let options = SummaryOptions {
        tree_nodes: Some(tree_nodes),
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
}
