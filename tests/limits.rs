//! Hostile numbers in an image: decoders asking for more memory than the limit,
//! impossible sizes, malformed digests and whole-archive compression that does not
//! check out. Each must be exit code 2 and one line naming what broke, never a panic.

use std::path::{Path, PathBuf};

use crate::util::builder::{Comp, Image, Layer, docker_archive};
use crate::util::imgsize;
use crate::util::reports::{assert_error, assert_read, report_output};

/// A one-layer docker archive whose layer is compressed as `comp`.
fn archive(dir: &Path, comp: Comp) -> PathBuf {
    let image = Image::new("app").layer(
        Layer::new("COPY app /app")
            .fill("app/main.py", 3_000)
            .comp(comp),
    );
    let path = dir.join("image.tar");
    docker_archive(&image, &path).expect("docker archive");
    path
}

fn a_zstd_window_of_2_gib_is_refused_by_default() {
    let dir = crate::util::tmp();
    let input = archive(dir.path(), Comp::ZstdWindow(31));
    let out = report_output(&input, &[]);
    let err = assert_error(&out, "2 GiB zstd window");
    assert!(err.contains("layer 0"), "{err}");
    assert!(
        err.contains(
            "zstd stream asks for a window of 2147483648 bytes, over the decoder memory limit of 134217728 bytes"
        ),
        "{err}"
    );
    assert!(err.contains("--max-decoder-memory"), "{err}");
}

fn a_raised_decoder_limit_accepts_a_larger_window() {
    let dir = crate::util::tmp();
    let input = archive(dir.path(), Comp::ZstdWindow(28));
    let refused = report_output(&input, &[]);
    let err = assert_error(&refused, "256 MiB zstd window");
    assert!(err.contains("268435456 bytes"), "{err}");
    let out = report_output(&input, &["--max-decoder-memory", "256MiB"]);
    assert_read(&out);
}

fn an_xz_dictionary_over_the_limit_is_refused() {
    let dir = crate::util::tmp();
    // Property byte 36: a 1 GiB dictionary.
    let input = archive(dir.path(), Comp::XzDict(36));
    let out = report_output(&input, &["--max-decoder-memory", "64MiB"]);
    let err = assert_error(&out, "1 GiB xz dictionary");
    assert!(
        err.contains(
            "xz stream asks for a dictionary of 1073741824 bytes, over the decoder memory limit of 67108864 bytes"
        ),
        "{err}"
    );
    assert!(err.contains("--max-decoder-memory"), "{err}");
    // The same layer with its own dictionary (preset 1: 1 MiB) reads under the limit.
    let plain = archive(dir.path(), Comp::XzDict(16));
    let out = report_output(&plain, &["--max-decoder-memory", "64MiB"]);
    assert_read(&out);
}

fn a_whole_archive_with_a_2_gib_zstd_window_is_refused() {
    let dir = crate::util::tmp();
    let input = archive(dir.path(), Comp::None);
    let tar = std::fs::read(&input).expect("read");
    let mut frame = Vec::new();
    let mut enc = zstd::stream::write::Encoder::new(&mut frame, 3).expect("zstd");
    std::io::Write::write_all(&mut enc, &tar).expect("zstd");
    enc.finish().expect("zstd");
    frame[5] = (31 - 10) << 3;
    let zst = dir.path().join("image.tar.zst");
    std::fs::write(&zst, frame).expect("write");
    let out = report_output(&zst, &[]);
    let err = assert_error(&out, "whole-archive zstd window");
    assert!(err.contains("image.tar.zst"), "{err}");
    assert!(
        err.contains("over the decoder memory limit of 134217728 bytes"),
        "{err}"
    );
    assert!(err.contains("--max-decoder-memory"), "{err}");
}

fn a_decoder_limit_under_1_mib_is_a_usage_error() {
    let out = imgsize(&["report", "--max-decoder-memory", "1KiB", "x.tar"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 1 MiB"), "{err}");
}

/// An OCI layout whose index names its manifest by `digest` (the blob renamed to match).
fn layout_naming_manifest(dir: &Path, digest: impl Fn(&str) -> String) -> PathBuf {
    let image = Image::new("app").layer(Layer::new("COPY app /app").fill("app/main.py", 300));
    let layout = dir.join("layout");
    crate::util::builder::oci_layout(&image, &layout).expect("layout");
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).expect("index")).expect("json");
    let real = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let named = digest(&real);
    index["manifests"][0]["digest"] = named.clone().into();
    std::fs::write(&index_path, serde_json::to_vec(&index).expect("json")).expect("write");
    let blob = |d: &str| layout.join("blobs/sha256").join(&d["sha256:".len()..]);
    std::fs::rename(blob(&real), blob(&named)).expect("rename");
    layout
}

fn an_uppercase_digest_is_not_lowercase_hex_not_a_mismatch() {
    let dir = crate::util::tmp();
    let layout = layout_naming_manifest(dir.path(), |d| {
        format!("sha256:{}", d["sha256:".len()..].to_uppercase())
    });
    let out = report_output(&layout, &[]);
    let err = assert_error(&out, "uppercase digest");
    assert!(err.contains("is not lowercase hex"), "{err}");
    assert!(!err.contains("mismatch"), "{err}");
}

fn a_short_digest_says_how_many_digits_it_has() {
    let dir = crate::util::tmp();
    let layout = layout_naming_manifest(dir.path(), |_| "sha256:abcd".to_string());
    let out = report_output(&layout, &[]);
    let err = assert_error(&out, "short digest");
    assert!(
        err.contains("digest sha256:abcd has 4 hex digits, sha256 needs 64"),
        "{err}"
    );
}

/// An OCI layout whose manifest (re-hashed, renamed, named again by the index) is
/// changed by `edit`.
fn layout_with_manifest(dir: &Path, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let mut image = Image::new("app");
    for n in 0..3 {
        image = image.layer(
            Layer::new(&format!("COPY app{n} /app{n}"))
                .fill(&format!("app{n}/main.py"), 300)
                .gzip(),
        );
    }
    let layout = dir.join("layout");
    crate::util::builder::oci_layout(&image, &layout).expect("layout");
    let index_path = layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).expect("index")).expect("json");
    let old = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let blobs = layout.join("blobs/sha256");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blobs.join(&old[7..])).expect("manifest"))
            .expect("json");
    edit(&mut manifest);
    let bytes = serde_json::to_vec(&manifest).expect("json");
    let digest = imgsize::bytes::digest::digest_of(imgsize::bytes::Algorithm::Sha256, &bytes);
    let hex = digest["sha256:".len()..].to_string();
    std::fs::write(blobs.join(&hex), &bytes).expect("write");
    index["manifests"][0]["digest"] = format!("sha256:{hex}").into();
    index["manifests"][0]["size"] = bytes.len().into();
    std::fs::write(&index_path, serde_json::to_vec(&index).expect("json")).expect("write");
    layout
}

fn a_negative_layer_size_is_refused() {
    let dir = crate::util::tmp();
    let layout = layout_with_manifest(dir.path(), |m| m["layers"][0]["size"] = (-1).into());
    let err = assert_error(&report_output(&layout, &[]), "size -1");
    assert!(err.contains("layer 0 (sha256:"), "{err}");
    assert!(err.contains("has key size -1, not a byte count"), "{err}");
}

fn a_negative_config_size_is_refused() {
    let dir = crate::util::tmp();
    let layout = layout_with_manifest(dir.path(), |m| m["config"]["size"] = (-5).into());
    let err = assert_error(&report_output(&layout, &[]), "config size -5");
    assert!(
        err.contains("the descriptor of blob sha256:") && err.contains("has key size -5"),
        "{err}"
    );
}

fn a_pax_size_that_is_not_a_number_is_refused() {
    for (key, value) in [("size", &b"12x"[..]), ("GNU.sparse.realsize", b"-1")] {
        let dir = crate::util::tmp();
        let image = Image::new("app").layer(
            Layer::new("COPY app /app")
                .fill("app/ok.txt", 10)
                .pax(&[(key, value)])
                .fill("app/main.py", 300),
        );
        let input = dir.path().join("image.tar");
        docker_archive(&image, &input).expect("archive");
        let err = assert_error(&report_output(&input, &[]), key);
        assert!(err.contains("layer 0"), "{err}");
        assert!(
            err.contains(&format!(
                "entry 2 (app/main.py): PAX key {key} is {:?}, not a decimal number",
                String::from_utf8_lossy(value)
            )),
            "{err}"
        );
    }
}

fn a_decimal_pax_size_is_read() {
    let dir = crate::util::tmp();
    let image = Image::new("app").layer(
        Layer::new("COPY app /app")
            .pax(&[("size", b"300"), ("mtime", b"1.5")])
            .fill("app/main.py", 300),
    );
    let input = dir.path().join("image.tar");
    docker_archive(&image, &input).expect("archive");
    let out = report_output(&input, &[]);
    assert_read(&out);
}

/// A docker archive compressed as a whole with gzip, then changed by `edit`.
fn gzipped_archive(dir: &Path, edit: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let tar = std::fs::read(archive(dir, Comp::None)).expect("read");
    let mut gz = crate::util::gzip(&tar);
    edit(&mut gz);
    let path = dir.join("image.tar.gz");
    std::fs::write(&path, gz).expect("write");
    path
}

/// What is done to a stream, how, and what the error must say.
type Case = (&'static str, fn(&mut Vec<u8>), &'static str);

fn a_whole_archive_gzip_trailer_is_checked() {
    let dir = crate::util::tmp();
    let fine = gzipped_archive(dir.path(), |_| {});
    let out = report_output(&fine, &[]);
    assert_read(&out);
    let cases: [Case; 4] = [
        (
            "a flipped CRC byte",
            |gz| {
                let at = gz.len() - 8;
                gz[at] ^= 0xff;
            },
            "corrupt gzip stream",
        ),
        (
            "no trailer",
            |gz| gz.truncate(gz.len() - 8),
            "truncated: gzip stream ends early",
        ),
        (
            "trailing garbage",
            |gz| gz.extend_from_slice(b"garbage after the member"),
            "after the end of the tar archive: invalid gzip header",
        ),
        (
            "a second member that is not zeros",
            |gz| gz.extend(crate::util::gzip(b"not padding")),
            "data after the end of the tar archive",
        ),
    ];
    for (what, edit, want) in cases {
        let input = gzipped_archive(dir.path(), edit);
        let err = assert_error(&report_output(&input, &[]), what);
        assert!(err.contains("image.tar.gz"), "{what}: {err}");
        assert!(err.contains(want), "{what}: {err}");
    }
}

fn a_whole_archive_zstd_checksum_is_checked() {
    let dir = crate::util::tmp();
    let tar = std::fs::read(archive(dir.path(), Comp::None)).expect("read");
    let mut frame = Vec::new();
    let mut enc = zstd::stream::write::Encoder::new(&mut frame, 3).expect("zstd");
    enc.include_checksum(true).expect("checksum");
    std::io::Write::write_all(&mut enc, &tar).expect("zstd");
    enc.finish().expect("zstd");
    let last = frame.len() - 1;
    frame[last] ^= 0xff;
    let zst = dir.path().join("image.tar.zst");
    std::fs::write(&zst, frame).expect("write");
    let err = assert_error(&report_output(&zst, &[]), "zstd checksum");
    assert!(err.contains("image.tar.zst"), "{err}");
    assert!(err.contains("doesn't match checksum"), "{err}");
}

fn declared_sizes_that_add_up_past_u64_are_refused() {
    let dir = crate::util::tmp();
    let layout = layout_with_manifest(dir.path(), |m| {
        for n in 0..3 {
            m["layers"][n]["size"] = i64::MAX.into();
        }
    });
    let err = assert_error(
        &report_output(&layout, &["--manifest-only"]),
        "sizes past u64",
    );
    assert!(err.contains("layout"), "{err}");
    assert!(
        err.contains("layer 2: the layers' compressed sizes add up past 2^64 bytes"),
        "{err}"
    );
}

crate::tests![
    a_zstd_window_of_2_gib_is_refused_by_default,
    a_raised_decoder_limit_accepts_a_larger_window,
    an_xz_dictionary_over_the_limit_is_refused,
    a_whole_archive_with_a_2_gib_zstd_window_is_refused,
    a_decoder_limit_under_1_mib_is_a_usage_error,
    an_uppercase_digest_is_not_lowercase_hex_not_a_mismatch,
    a_short_digest_says_how_many_digits_it_has,
    a_negative_layer_size_is_refused,
    a_negative_config_size_is_refused,
    a_pax_size_that_is_not_a_number_is_refused,
    a_decimal_pax_size_is_read,
    a_whole_archive_gzip_trailer_is_checked,
    a_whole_archive_zstd_checksum_is_checked,
    declared_sizes_that_add_up_past_u64_are_refused,
];
