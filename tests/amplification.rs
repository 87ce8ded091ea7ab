//! Small inputs that used to cost far more than their size: a layer blob listed many
//! times in one manifest (read once, merged as often as listed), an index DAG whose
//! levels share their children (resolved per node, not per path), and an index.json
//! naming one manifest under many names (linear, not quadratic). Each finishes quickly
//! and with the exact figures; before the fixes the first decompressed the blob once per
//! listing, the second took 10^8 steps and the third minutes.

use std::path::Path;

use imgsize::bytes::Algorithm;
use imgsize::bytes::digest::digest_of;
use serde_json::{Value, json};

use crate::util::builder::{Image, Layer, oci_layout};
use crate::util::{analyze, imgsize, tmp};

/// Write a blob into a layout; returns its digest and size.
fn put(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = digest_of(Algorithm::Sha256, bytes);
    let hex = digest.trim_start_matches("sha256:");
    std::fs::write(layout.join("blobs/sha256").join(hex), bytes).expect("write blob");
    (digest, bytes.len())
}

fn read_blob(layout: &Path, digest: &str) -> Value {
    let hex = digest.trim_start_matches("sha256:");
    serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(hex)).expect("blob"))
        .expect("JSON blob")
}

fn write_index(layout: &Path, manifests: Vec<Value>) {
    let index = json!({"schemaVersion": 2, "manifests": manifests});
    std::fs::write(layout.join("index.json"), index.to_string()).expect("index.json");
}

fn a_blob_listed_many_times_is_read_once_and_merged_each_time() {
    const LISTINGS: usize = 3_000;
    let dir = tmp();
    let layout = dir.path().join("oci");
    let img =
        Image::new("dup:1").layer(Layer::new("ADD big /").fill("data/big.bin", 4 << 20).gzip());
    oci_layout(&img, &layout).expect("layout");
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("index JSON");
    let mut manifest = read_blob(
        &layout,
        index["manifests"][0]["digest"].as_str().expect("d"),
    );
    let mut config = read_blob(&layout, manifest["config"]["digest"].as_str().expect("d"));
    let layer = manifest["layers"][0].clone();
    let diff_id = config["rootfs"]["diff_ids"][0].clone();
    manifest["layers"] = Value::from(vec![layer; LISTINGS]);
    config["rootfs"]["diff_ids"] = Value::from(vec![diff_id; LISTINGS]);
    config["history"] = Value::Null;
    let (cd, cs) = put(&layout, config.to_string().as_bytes());
    manifest["config"]["digest"] = cd.into();
    manifest["config"]["size"] = cs.into();
    let (md, ms) = put(&layout, manifest.to_string().as_bytes());
    write_index(
        &layout,
        vec![json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md, "size": ms,
        })],
    );

    let r = analyze(&layout).expect("report");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.totals.layers, LISTINGS);
    assert_eq!(r.totals.stored_bytes, LISTINGS as u64 * (4 << 20));
    assert_eq!(r.totals.content_bytes, 4 << 20);
    assert_eq!(r.totals.wasted_bytes, (LISTINGS as u64 - 1) * (4 << 20));
}

fn an_index_dag_is_resolved_per_node_not_per_path() {
    let dir = tmp();
    let layout = dir.path().join("oci");
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("mkdir");
    // A manifest whose config is not an image's: an artifact, not an image.
    let (cd, cs) = put(&layout, b"{}");
    let leaf = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.example.thing", "digest": cd, "size": cs},
        "layers": [],
    });
    let (mut digest, mut size) = put(&layout, leaf.to_string().as_bytes());
    let mut media = "application/vnd.oci.image.manifest.v1+json";
    // Eight levels of fan-out ten, every child the same: 10^8 paths, nine documents.
    for _ in 0..8 {
        let children = vec![json!({"mediaType": media, "digest": digest, "size": size}); 10];
        let idx = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": children,
        });
        (digest, size) = put(&layout, idx.to_string().as_bytes());
        media = "application/vnd.oci.image.index.v1+json";
    }
    write_index(
        &layout,
        vec![json!({"mediaType": media, "digest": digest, "size": size})],
    );
    let out = imgsize(&["report", layout.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no container image"), "{stderr}");
}

fn many_names_for_one_manifest_are_gathered_in_linear_time() {
    const NAMES: usize = 40_000;
    let dir = tmp();
    let layout = dir.path().join("oci");
    let img = Image::new("named:0").layer(Layer::new("ADD a /").fill("a", 10));
    oci_layout(&img, &layout).expect("layout");
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("index JSON");
    let first = index["manifests"][0].clone();
    let entries: Vec<Value> = (0..NAMES)
        .map(|i| {
            let mut e = first.clone();
            e["annotations"] = json!({"org.opencontainers.image.ref.name": format!("t{i}")});
            e
        })
        .collect();
    write_index(&layout, entries);
    let r = analyze(&layout).expect("report");
    assert_eq!(r.image.tags.len(), NAMES);
    assert_eq!(r.image.tags[NAMES - 1], format!("t{}", NAMES - 1));
    assert!(r.image.other_images.is_empty());
    assert_eq!(r.totals.stored_bytes, 10);
}

/// A path deeper than 1,024 components, or longer than 64 KiB, makes its layer
/// unreadable with a message naming the entry and the limit (each component would be a
/// node of the merged tree: a 60 MB name was millions of them); the other layers are
/// still reported.
fn paths_too_deep_or_too_long_are_refused_by_layer() {
    let deep = format!("{}f", "d/".repeat(1_100));
    let long = format!("x/{}", "n".repeat(40_000)) + &format!("/{}", "m".repeat(30_000));
    for (name, path, says) in [
        (
            "deep",
            deep.as_str(),
            "a path of 1101 components is deeper than the 1024-component limit",
        ),
        (
            "long",
            long.as_str(),
            "a path of 70003 bytes is longer than the 65536-byte limit",
        ),
    ] {
        let dir = tmp();
        let layout = dir.path().join(name);
        let img = Image::new("limits:1")
            .layer(Layer::new("ADD ok /").fill("ok.txt", 100))
            .layer(Layer::new("ADD bad /").fill("fine", 7).fill(path, 5));
        oci_layout(&img, &layout).expect("layout");
        let r = analyze(&layout).expect("report");
        assert!(!r.complete, "{name}");
        assert_eq!(r.problems.len(), 1, "{name}: {:?}", r.problems);
        let problem = &r.problems[0];
        assert!(problem.starts_with("layer 1 (sha256:"), "{problem}");
        assert!(problem.contains(&format!("entry 2: {says}")), "{problem}");
        assert_eq!(
            r.totals.content_bytes, 100,
            "{name}: the good layer is still read"
        );
    }
}

/// A config with more history steps than twice the layer limit is refused (each step
/// is a report row: a million would make gigabytes of tables); at the limit it reads.
fn history_beyond_the_limit_is_refused() {
    let max = imgsize::source::MAX_HISTORY;
    let dir = tmp();
    for (steps, ok) in [(max - 1, true), (max, false)] {
        let mut img = Image::new("hist:1");
        for i in 0..steps {
            img = img.step(&format!("/bin/sh -c #(nop)  ENV N={i}"));
        }
        let img = img.layer(Layer::new("ADD a /").fill("a", 1));
        let layout = dir.path().join(format!("h{steps}"));
        oci_layout(&img, &layout).expect("layout");
        match analyze(&layout) {
            Ok(r) => {
                assert!(ok, "{} steps read", steps + 1);
                assert_eq!(r.history.len(), max);
            }
            Err(e) => {
                assert!(!ok, "{e}");
                assert!(
                    e.to_string()
                        .contains(&format!("{} history steps, more than the {max}", max + 1)),
                    "{e}"
                );
            }
        }
    }
}

/// A whole-archive-compressed stream is read once, so its small members are kept in
/// memory until the manifest says which matter: 300 MiB of 1 MiB members of zeros (a
/// few hundred kilobytes of gzip) is refused at the 256 MiB bound, naming the member.
fn a_stream_of_many_small_members_is_refused_at_the_bound() {
    let mut tar = tar::Builder::new(Vec::new());
    let zeros = vec![0u8; 1 << 20];
    for i in 0..300 {
        let mut h = tar::Header::new_ustar();
        h.set_size(zeros.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("m{i}"), zeros.as_slice())
            .expect("append");
    }
    let gz = crate::util::gzip(&tar.into_inner().expect("tar"));
    assert!(gz.len() < 4 << 20, "{} bytes of gzip", gz.len());
    let dir = tmp();
    let file = dir.path().join("many.tar.gz");
    std::fs::write(&file, gz).expect("write");
    let out = imgsize(&["report", file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("more than 268435456 bytes of small members") && stderr.contains("m256"),
        "{stderr}"
    );
}

crate::tests![
    a_blob_listed_many_times_is_read_once_and_merged_each_time,
    an_index_dag_is_resolved_per_node_not_per_path,
    many_names_for_one_manifest_are_gathered_in_linear_time,
    paths_too_deep_or_too_long_are_refused_by_layer,
    history_beyond_the_limit_is_refused,
    a_stream_of_many_small_members_is_refused_at_the_bound,
];
