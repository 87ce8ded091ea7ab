//! A layer's scan follows the distinct paths it leaves, not its entries: a path
//! written again and again in one layer is kept once with the bytes it hid, a repeated
//! marker once, and the layer path and name limits refuse a layer by name with the flag
//! that raises them. The figures are exact, since the OCI rules say what each image
//! holds; `benches/layer-memory.py` measures the memory the same layers take.

use std::path::{Path, PathBuf};

use crate::util::builder::{Image, Layer, oci_layout};
use crate::util::reports::{assert_error, assert_read, report_output};
use imgsize::model::WasteCause::{Deleted, OpaqueDir, Overwritten};

use crate::util::{analyze, tmp, waste};

fn layout(dir: &Path, img: &Image) -> PathBuf {
    let out = dir.join("oci");
    oci_layout(img, &out).expect("layout");
    out
}

fn a_path_written_20000_times_in_a_layer_counts_every_copy() {
    const WRITES: u64 = 20_000;
    let mut layer = Layer::new("RUN rewrite");
    for i in 0..WRITES {
        layer = layer.fill("app/state.bin", 10 + i % 3);
    }
    let img = Image::new("rewrite:1")
        .layer(Layer::new("ADD base /").fill("app/state.bin", 100))
        .layer(layer.zstd());
    let dir = tmp();
    let r = analyze(&layout(dir.path(), &img)).expect("report");
    assert!(r.complete, "{:?}", r.problems);
    let written: u64 = (0..WRITES).map(|i| 10 + i % 3).sum();
    let last = 10 + (WRITES - 1) % 3;
    assert_eq!(r.totals.stored_bytes, 100 + written);
    assert_eq!(r.totals.content_bytes, last);
    assert_eq!(r.totals.wasted_bytes, 100 + written - last);
    assert_eq!(r.layers[1].entries, WRITES, "every tar entry is counted");
    assert_eq!(r.layers[1].added_bytes, written);
    assert_eq!(r.layers[1].wasted_bytes, written - last);
    assert_eq!(
        waste(&r),
        vec![
            ("/app/state.bin".into(), 100, 0, 1, Overwritten),
            ("/app/state.bin".into(), written - last, 1, 1, Overwritten),
        ]
    );
}

/// A folder written after a file at the same path must not bring back what the file
/// replaced: the lower folder's contents stay gone.
fn a_folder_after_a_file_keeps_the_lower_folder_cleared() {
    let img = Image::new("flip:1")
        .layer(Layer::new("ADD base /").fill("d/x", 50).fill("d/sub/y", 60))
        .layer(
            Layer::new("RUN flip")
                .fill("d", 7)
                .dir("d")
                .fill("d/z", 3)
                .fill("d", 8)
                .dir("d")
                .fill("d/w", 4),
        );
    let dir = tmp();
    let r = analyze(&layout(dir.path(), &img)).expect("report");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.totals.stored_bytes, 50 + 60 + 7 + 3 + 8 + 4);
    assert_eq!(r.totals.content_bytes, 4, "only d/w is left");
    assert_eq!(r.totals.files, 1);
    assert_eq!(r.layers[0].wasted_bytes, 110);
    assert_eq!(r.layers[1].wasted_bytes, 7 + 3 + 8);
}

/// Hardlinks keep the earlier entry they name; repeated markers delete once.
fn hardlinks_and_markers_keep_their_meaning() {
    let mut rewrite = Layer::new("RUN link")
        .fill("a", 10)
        .hardlink("b", "a")
        .fill("a", 20)
        .fill("a", 30);
    for _ in 0..1_000 {
        rewrite = rewrite.whiteout("etc/gone").opaque("var/cache");
    }
    let img = Image::new("links:1")
        .layer(
            Layer::new("ADD base /")
                .fill("etc/gone", 40)
                .fill("var/cache/c", 5)
                .fill("etc/kept", 1),
        )
        .layer(rewrite);
    let dir = tmp();
    let r = analyze(&layout(dir.path(), &img)).expect("report");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(
        r.totals.content_bytes,
        10 + 30 + 1,
        "b keeps a's first bytes"
    );
    assert_eq!(r.layers[1].wasted_bytes, 20);
    assert_eq!(r.layers[0].wasted_bytes, 45);
    assert_eq!(r.layers[1].entries, 4 + 2_000);
    assert_eq!(
        waste(&r),
        vec![
            ("/a".into(), 20, 1, 1, Overwritten),
            ("/etc/gone".into(), 40, 0, 1, Deleted),
            ("/var/cache/c".into(), 5, 0, 1, OpaqueDir),
        ]
    );
}

/// A 60,000-byte path of 1,000 components, written 300 times: one file, 999 folders.
fn a_long_path_written_again_is_one_file() {
    let long = format!("{}/f", vec!["d".repeat(59); 999].join("/"));
    let mut layer = Layer::new("RUN deep");
    for _ in 0..300 {
        layer = layer.fill(&long, 1);
    }
    let img = Image::new("deep:1").layer(layer.zstd());
    let dir = tmp();
    let r = analyze(&layout(dir.path(), &img)).expect("report");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!((r.totals.files, r.totals.dirs), (1, 999));
    assert_eq!(r.totals.content_bytes, 1);
    assert_eq!(r.totals.wasted_bytes, 299);
}

fn many_files(n: usize) -> Image {
    let mut layer = Layer::new("COPY many /");
    for i in 0..n {
        layer = layer.fill(&format!("data/f{i:05}"), 1);
    }
    Image::new("many:1").layer(layer.zstd())
}

/// 1,500 files: the root, `data` and 1,500 paths. Refused at 1,000 paths, read at 2,000.
fn the_layer_path_limit_names_itself_and_its_flag() {
    let dir = tmp();
    let input = layout(dir.path(), &many_files(1_500));
    let out = report_output(&input, &["--max-layer-paths", "1000"]);
    let err = assert_error(&out, "1,500 files over a limit of 1,000 paths");
    assert!(err.contains("layer 0"), "{err}");
    assert!(
        err.contains(
            "more than 1000 distinct paths in one layer (the layer path limit) \
             (raise it with --max-layer-paths)"
        ),
        "{err}"
    );
    assert_read(&report_output(&input, &["--max-layer-paths", "1502"]));
    let refused = report_output(&input, &["--max-layer-paths", "1501"]);
    assert_eq!(refused.status.code(), Some(2), "1,502 paths with the root");
}

/// Names count once per distinct component: `data` (4) and 1,500 names of 6 bytes.
fn the_layer_name_limit_names_itself_and_its_flag() {
    let dir = tmp();
    let input = layout(dir.path(), &many_files(1_500));
    let out = report_output(&input, &["--max-layer-names", "9000"]);
    let err = assert_error(&out, "9,004 bytes of names over a limit of 9,000");
    assert!(
        err.contains(
            "more than 9000 bytes of distinct path names in one layer (the layer name limit) \
             (raise it with --max-layer-names)"
        ),
        "{err}"
    );
    assert_read(&report_output(&input, &["--max-layer-names", "9004"]));
    let bad = report_output(&input, &["--max-layer-names", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}

crate::tests![
    a_path_written_20000_times_in_a_layer_counts_every_copy,
    a_folder_after_a_file_keeps_the_lower_folder_cleared,
    hardlinks_and_markers_keep_their_meaning,
    a_long_path_written_again_is_one_file,
    the_layer_path_limit_names_itself_and_its_flag,
    the_layer_name_limit_names_itself_and_its_flag,
];
