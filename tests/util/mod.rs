//! Shared test helpers: the fixture builder, a registry to push to, a fake registry
//! with faults, running the library and the binary and comparing reports, and finding
//! the shared corpus.

#![allow(dead_code)]

pub mod builder;
pub mod fake_registry;
pub mod harness;
pub mod redis;
pub mod registry;
pub mod reports;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use imgsize::analyze::{Report, SummaryOptions};
use imgsize::bytes::VerifyPolicy;
use imgsize::source::SelectOptions;

/// Select options that hash every blob (`--verify all`).
pub fn verify_all() -> SelectOptions {
    SelectOptions {
        verify: VerifyPolicy::All,
        ..SelectOptions::default()
    }
}

/// Analyse an input, hashing every blob (`--verify all`), with every row kept.
pub fn analyze(input: &Path) -> imgsize::Result<Report> {
    analyze_with(
        input,
        &verify_all(),
        SummaryOptions {
            top: 1000,
            depth: 8,
            base_layers: None,
            tree_nodes: None,
        },
    )
}

pub fn analyze_with(
    input: &Path,
    select: &SelectOptions,
    summary: SummaryOptions,
) -> imgsize::Result<Report> {
    let options = imgsize::Options {
        select: select.clone(),
        summary,
        ..Default::default()
    };
    imgsize::run(
        &input.to_string_lossy(),
        &options,
        &imgsize::Hooks::default(),
    )
}

/// Run the built `imgsize` binary.
pub fn imgsize(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args(args)
        .env_remove("IMGSIZE_FORMAT")
        .env_remove("IMGSIZE_PLATFORM")
        .output()
        .expect("run imgsize")
}

/// `imgsize ARGS`, asserting exit 0; stdout as JSON.
pub fn imgsize_json(args: &[&str]) -> serde_json::Value {
    let out = imgsize(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "imgsize {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The shared corpus (`../shared/corpus` from the repository root); the test is
/// skipped when it is absent.
pub fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !dir.join("inventory.json").is_file() {
        harness::skip("../shared/corpus is absent (CI has it)");
    }
    dir
}

/// Gzip a buffer (fast level), as `docker save | gzip` or a crafted layer would.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// The report of an image written as a docker archive, which must read whole.
/// The waste table as (path, bytes, added layer, removed layer, cause), sorted.
pub fn waste(r: &Report) -> Vec<(String, u64, usize, usize, imgsize::model::WasteCause)> {
    let mut v: Vec<_> = r
        .waste
        .rows
        .iter()
        .map(|w| {
            (
                w.path.clone(),
                w.bytes,
                w.added_layer,
                w.removed_layer,
                w.cause,
            )
        })
        .collect();
    v.sort();
    v
}

pub fn report_of(img: &builder::Image) -> Report {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    builder::docker_archive(img, &path).expect("write fixture");
    let r = analyze(&path).expect("analyze");
    assert!(r.complete, "problems: {:?}", r.problems);
    r
}

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// The findings of a report as (rule, layer, incremental bytes, bytes alone), in order.
pub fn findings(r: &Report) -> Vec<(&'static str, usize, u64, u64)> {
    r.findings
        .rows
        .iter()
        .map(|f| (f.rule.code(), f.layer, f.incremental_bytes, f.bytes))
        .collect()
}

/// The visible bytes of one path in a report (depth large enough to list files).
pub fn path_bytes(r: &Report, path: &str) -> Option<u64> {
    r.paths
        .rows
        .iter()
        .find(|p| p.path == path)
        .map(|p| p.bytes)
}
