//! Reading images from a registry: a real `docker-registry` on 127.0.0.1 per test,
//! images pushed by skopeo, and `imgsize report HOST:PORT/NAME:TAG` held to the figures
//! of the same image read from disk. Covers plain http, references by digest and with
//! `docker://`, the committed sample, multi-platform indexes, zstd layers, TLS with
//! each source of credentials, `--manifest-only` and the layer cache (counted in the
//! registry's access log). Skipped, with a note, where a tool is missing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::builder::{
    Image, IndexEntry, Layer, docker_archive, oci_index_layout, oci_layout,
};
use crate::util::registry::{Imgsize, Registry, require_tools};
use crate::util::reports::{
    assert_error, assert_json_eq, assert_same_report, remote, report, report_args, report_with,
};

fn base() -> Layer {
    Layer::new("ADD rootfs /")
        .fill("usr/lib/libssl.so.3", 120_000)
        .fill("etc/os-release", 200)
        .symlink("lib", "usr/lib")
        .hardlink("usr/lib/libssl.so", "usr/lib/libssl.so.3")
}

fn packages() -> Layer {
    Layer::new("RUN apt-get update && apt-get install -y curl")
        .fill("usr/bin/curl", 40_000)
        .fill("var/lib/apt/lists/deb.debian.org_dists", 60_000)
        .fill("var/cache/apt/pkgcache.bin", 25_000)
}

fn cleanup() -> Layer {
    Layer::new("RUN rm -rf /var/lib/apt/lists /var/cache/apt")
        .whiteout("var/lib/apt/lists")
        .whiteout("var/cache/apt")
        .fill("app/main.py", 3_000)
}

/// Three layers with a whiteout of two directories, and a metadata-only step.
fn app() -> Image {
    Image::new("app")
        .layer(base())
        .layer(packages())
        .step("/bin/sh -c #(nop)  ENV LANG=C.UTF-8")
        .layer(cleanup())
}

/// The same image with gzip layers, as registries usually hold them.
fn app_gzip() -> Image {
    Image::new("app")
        .layer(base().gzip())
        .layer(packages().gzip())
        .step("/bin/sh -c #(nop)  ENV LANG=C.UTF-8")
        .layer(cleanup().gzip())
}

/// The next version of `app_gzip`: the same two base layers, byte for byte, and a new
/// top layer.
fn next() -> Image {
    Image::new("next")
        .layer(base().gzip())
        .layer(packages().gzip())
        .layer(
            Layer::new("COPY app /app")
                .fill("app/server.py", 7_000)
                .gzip(),
        )
}

/// Known by construction: what `app` ships, and what it removes.
const APP_STORED: u64 = 120_000 + 200 + 40_000 + 60_000 + 25_000 + 3_000;
const APP_WASTED: u64 = 60_000 + 25_000;

/// Write `img` as an OCI layout in `dir/name` with `img`'s tag as its ref name; returns
/// the layout and its skopeo source (`oci:DIR:REF`).
fn layout(img: &Image, dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    oci_layout(img, &path).expect("write OCI layout");
    let src = format!("oci:{}:{}", path.display(), img.tags[0]);
    (path, src)
}

/// The digest of the one manifest an OCI layout's index.json lists.
fn layout_manifest_digest(layout: &Path) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
            .expect("index.json is JSON");
    index["manifests"][0]["digest"]
        .as_str()
        .expect("manifest digest")
        .to_string()
}

/// The report's layers that have a blob (history steps without one left out).
fn blob_layers(report: &Value) -> Vec<&Value> {
    report["layers"]
        .as_array()
        .expect("report.layers")
        .iter()
        .filter(|l| l["empty_layer"] == Value::Bool(false))
        .collect()
}

/// What a layer holds, whatever its compression: diff_id, uncompressed, added, content,
/// wasted bytes, files, entries, instruction.
fn content_figures(report: &Value) -> Vec<Value> {
    blob_layers(report)
        .iter()
        .map(|l| {
            serde_json::json!([
                l["diff_id"],
                l["uncompressed_bytes"],
                l["added_bytes"],
                l["content_bytes"],
                l["wasted_bytes"],
                l["files"],
                l["entries"],
                l["created_by"],
            ])
        })
        .collect()
}

/// Totals without `compressed_bytes`.
fn content_totals(report: &Value) -> Value {
    let mut totals = report["totals"].clone();
    totals
        .as_object_mut()
        .expect("report.totals")
        .remove("compressed_bytes")
        .expect("totals.compressed_bytes");
    totals
}

/// A docker `config.json` directory with `auths` for `host`.
fn docker_config(dir: &Path, host: &str, user: &str, password: &str) -> PathBuf {
    let config = dir.join("docker-config");
    std::fs::create_dir_all(&config).expect("docker config dir");
    let auth = base64(format!("{user}:{password}").as_bytes());
    let json = serde_json::json!({"auths": {host: {"auth": auth}}});
    std::fs::write(config.join("config.json"), json.to_string()).expect("write config.json");
    config
}

/// Standard base64 with padding, as docker writes `auth`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_matches_docker_auth_encoding() {
    assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"a"), "YQ==");
}

fn anonymous_http_registry_reports_like_the_layout() {
    require_tools();
    let registry = Registry::http();
    let (path, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    // skopeo pushes an OCI layout's gzip blobs and manifest unchanged.
    assert_eq!(
        registry.manifest_digest("app:1"),
        layout_manifest_digest(&path)
    );

    let local = report(&[&path.display().to_string()]);
    assert_eq!(local["totals"]["stored_bytes"], APP_STORED);
    assert_eq!(local["totals"]["wasted_bytes"], APP_WASTED);
    let got = remote(&registry.reference("app:1"), &[]);
    assert_same_report(&got, &local, "app:1");
    assert_eq!(got["complete"], true);
    assert_eq!(got["image"]["format"], "registry");
    crate::schema::check(&got, "registry app:1");
}

fn by_digest_and_with_docker_prefix_the_same_figures() {
    require_tools();
    let registry = Registry::http();
    let (path, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let digest = registry.manifest_digest("app:1");
    let local = report(&[&path.display().to_string()]);

    let by_digest = remote(&registry.reference(&format!("app@{digest}")), &[]);
    assert_same_report(&by_digest, &local, "app@digest");
    assert_eq!(by_digest["image"]["manifest_digest"], digest.as_str());
    let prefixed = remote(&format!("docker://{}", registry.reference("app:1")), &[]);
    assert_same_report(&prefixed, &local, "docker://");
}

/// The sample is a docker archive: skopeo pushes it with a docker v2 schema 2 manifest
/// and layers it compressed again, so compressed sizes come from the registry's manifest
/// and everything else from the file.
fn committed_sample_pushed_gives_the_local_figures() {
    require_tools();
    let registry = Registry::http();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar");
    registry.push(&format!("docker-archive:{}", sample.display()), "sample:1");
    let manifest = registry.manifest("sample:1");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );

    let local = report(&[&sample.display().to_string()]);
    let got = remote(&registry.reference("sample:1"), &[]);
    assert_json_eq(&content_totals(&got), &content_totals(&local), "totals");
    assert_json_eq(
        &Value::from(content_figures(&got)),
        &Value::from(content_figures(&local)),
        "layers",
    );
    for key in ["paths", "waste", "categories", "history"] {
        assert_json_eq(&got[key], &local[key], key);
    }
    let sizes: Vec<u64> = manifest["layers"]
        .as_array()
        .expect("manifest layers")
        .iter()
        .map(|l| l["size"].as_u64().expect("layer size"))
        .collect();
    let reported: Vec<u64> = blob_layers(&got)
        .iter()
        .map(|l| l["compressed_bytes"].as_u64().expect("compressed_bytes"))
        .collect();
    assert_eq!(reported, sizes);
    assert_eq!(got["totals"]["compressed_bytes"], sizes.iter().sum::<u64>());
}

fn multi_platform_index_picks_the_platform_asked_for() {
    require_tools();
    let registry = Registry::http();
    let amd64 = app_gzip().platform("linux", "amd64");
    let arm64 = Image::new("app")
        .platform("linux", "arm64")
        .layer(
            Layer::new("ADD rootfs /")
                .fill("usr/lib/aarch64-linux-gnu/libc.so.6", 90_000)
                .gzip(),
        )
        .layer(
            Layer::new("COPY app /app")
                .fill("app/bin/server", 33_000)
                .gzip(),
        );
    let path = registry.dir().join("multi");
    oci_index_layout(
        &[IndexEntry {
            name: Some("multi".into()),
            images: vec![amd64, arm64],
            nested: false,
            missing: Vec::new(),
        }],
        &path,
    )
    .expect("write index layout");
    registry.push_all(&format!("oci:{}:multi", path.display()), "multi:1");
    let index = registry.manifest("multi:1");
    assert_eq!(
        index["manifests"].as_array().map(Vec::len),
        Some(2),
        "{index}"
    );

    let layout = path.display().to_string();
    let reference = registry.reference("multi:1");
    for platform in ["linux/arm64", "linux/amd64"] {
        let local = report(&[&layout, "--platform", platform]);
        let got = remote(&reference, &["--platform", platform]);
        assert_same_report(&got, &local, platform);
    }
    let arm = remote(&reference, &["--platform", "linux/arm64"]);
    assert_eq!(arm["image"]["architecture"], "arm64");
    assert_eq!(arm["totals"]["stored_bytes"], 90_000 + 33_000);

    let out = Imgsize::new(&report_args(&[
        &reference,
        "--no-cache",
        "--platform",
        "linux/s390x",
    ]))
    .output();
    let stderr = assert_error(&out, "a platform the index lacks");
    for listed in ["linux/amd64", "linux/arm64"] {
        assert!(stderr.contains(listed), "names {listed}: {stderr}");
    }
}

/// skopeo compresses the docker archive's plain layers with zstd on the way in; the
/// figures of what the layers hold are those of the gzip original.
fn zstd_layers_give_the_figures_of_the_gzip_original() {
    require_tools();
    let registry = Registry::http();
    let archive = registry.dir().join("app.tar");
    docker_archive(&app(), &archive).expect("write docker archive");
    registry.push_zstd(&format!("docker-archive:{}", archive.display()), "app:zstd");
    let (gzip_layout, _) = layout(&app_gzip(), registry.dir(), "gzip");

    let original = report(&[&gzip_layout.display().to_string()]);
    let got = remote(&registry.reference("app:zstd"), &[]);
    assert_json_eq(
        &Value::from(content_figures(&got)),
        &Value::from(content_figures(&original)),
        "layers",
    );
    assert_json_eq(&content_totals(&got), &content_totals(&original), "totals");
    for key in ["paths", "waste"] {
        assert_json_eq(&got[key], &original[key], key);
    }
    for layer in blob_layers(&got) {
        assert_eq!(layer["compression"], "zstd", "{layer}");
        assert_eq!(
            layer["media_type"],
            "application/vnd.oci.image.layer.v1.tar+zstd"
        );
    }
}

/// A TLS registry with basic auth, and each way to give imgsize the credentials.
fn tls_registry_with_credentials_from_each_source() {
    require_tools();
    let registry = Registry::builder().tls().htpasswd("user", "pass").start();
    let (path, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let local = report(&[&path.display().to_string()]);
    let reference = registry.reference("app:1");
    let ca = registry.ca_path();
    let ca = ca.display().to_string();
    let args = report_args(&[&reference, "--no-cache", "--ca-cert", &ca]);

    let config = docker_config(registry.dir(), &registry.host(), "user", "pass");
    let from_config = report_with(Imgsize::new(&args).env("DOCKER_CONFIG", &config));
    assert_same_report(&from_config, &local, "DOCKER_CONFIG/config.json");

    let from_env = report_with(
        Imgsize::new(&args)
            .env("IMGSIZE_REGISTRY_USERNAME", "user")
            .env("IMGSIZE_REGISTRY_PASSWORD", "pass"),
    );
    assert_same_report(&from_env, &local, "IMGSIZE_REGISTRY_USERNAME/PASSWORD");

    let mut stdin_args = args.clone();
    stdin_args.extend(["--username", "user", "--password-stdin"]);
    let from_stdin = report_with(Imgsize::new(&stdin_args).stdin("pass\n"));
    assert_same_report(&from_stdin, &local, "--password-stdin");
}

fn wrong_password_is_an_error_naming_the_registry() {
    require_tools();
    let registry = Registry::builder().tls().htpasswd("user", "pass").start();
    let (_, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let reference = registry.reference("app:1");
    let ca = registry.ca_path().display().to_string();
    let wrong = "Wr0ng-Secret-42";

    let mut args = report_args(&[&reference, "--no-cache", "--ca-cert", &ca]);
    args.extend(["--username", "user", "--password-stdin"]);
    let out = Imgsize::new(&args).stdin(&format!("{wrong}\n")).output();
    let stderr = assert_error(&out, "wrong password on stdin");
    assert!(
        stderr.contains(&registry.host()),
        "names the registry: {stderr}"
    );
    assert!(!stderr.contains(wrong), "leaks the password: {stderr}");

    let config = docker_config(registry.dir(), &registry.host(), "user", wrong);
    let args = report_args(&[&reference, "--no-cache", "--ca-cert", &ca]);
    let out = Imgsize::new(&args).env("DOCKER_CONFIG", &config).output();
    let stderr = assert_error(&out, "wrong password in config.json");
    assert!(
        stderr.contains(&registry.host()),
        "names the registry: {stderr}"
    );
    assert!(!stderr.contains(wrong), "leaks the password: {stderr}");
    let auth = base64(format!("user:{wrong}").as_bytes());
    assert!(!stderr.contains(&auth), "leaks the auth string: {stderr}");
}

fn tls_registry_without_its_ca_is_a_certificate_error() {
    require_tools();
    let registry = Registry::builder().tls().htpasswd("user", "pass").start();
    let (_, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let out = Imgsize::new(&report_args(&[&registry.reference("app:1"), "--no-cache"]))
        .env("IMGSIZE_REGISTRY_USERNAME", "user")
        .env("IMGSIZE_REGISTRY_PASSWORD", "pass")
        .output();
    let stderr = assert_error(&out, "unknown CA");
    let lower = stderr.to_lowercase();
    assert!(
        lower.contains("certificate") || lower.contains("tls"),
        "says the certificate is the problem: {stderr}"
    );
}

fn unknown_tag_is_an_error_naming_it() {
    require_tools();
    let registry = Registry::http();
    let (_, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let out = Imgsize::new(&report_args(&[
        &registry.reference("app:no-such-tag"),
        "--no-cache",
    ]))
    .output();
    let stderr = assert_error(&out, "unknown tag");
    assert!(stderr.contains("no-such-tag"), "names the tag: {stderr}");
}

/// `--manifest-only` reads sizes and digests off the manifest and fetches no layer.
fn manifest_only_reads_the_manifest_and_no_layer() {
    require_tools();
    let registry = Registry::http();
    let (_, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let manifest = registry.manifest("app:1");
    let layers = manifest["layers"].as_array().expect("manifest layers");

    let got = remote(&registry.reference("app:1"), &["--manifest-only"]);
    assert_eq!(got["manifest_only"], true);
    crate::schema::check(&got, "registry app:1 --manifest-only");
    let reported = blob_layers(&got);
    assert_eq!(reported.len(), layers.len());
    for (i, (r, m)) in reported.iter().zip(layers).enumerate() {
        assert_eq!(r["compressed_bytes"], m["size"], "layer {i} size");
        assert_eq!(r["digest"], m["digest"], "layer {i} digest");
    }
    let sum: u64 = layers.iter().filter_map(|l| l["size"].as_u64()).sum();
    assert_eq!(got["totals"]["compressed_bytes"], sum);
    for m in layers {
        let digest = m["digest"].as_str().expect("layer digest");
        assert_eq!(registry.blob_gets(digest), 0, "fetched layer {digest}");
    }
}

/// A second report with the same `--cache-dir` fetches no layer again, and an image
/// sharing base layers fetches only its own.
fn cache_dir_fetches_each_layer_once() {
    require_tools();
    let registry = Registry::http();
    let (path, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let cache = registry.dir().join("cache");
    let cache = cache.display().to_string();
    let reference = registry.reference("app:1");
    let cached = |reference: &str| report(&[reference, "--cache-dir", &cache]);

    let first = cached(&reference);
    assert_same_report(&first, &report(&[&path.display().to_string()]), "app:1");
    let second = cached(&reference);
    assert_json_eq(&second, &first, "the second, cached report");
    let layers: Vec<String> = registry.manifest("app:1")["layers"]
        .as_array()
        .expect("manifest layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_string())
        .collect();
    for digest in &layers {
        assert_eq!(registry.blob_gets(digest), 1, "GETs of {digest}");
    }

    let (next_path, next_src) = layout(&next(), registry.dir(), "next");
    registry.push(&next_src, "app:2");
    let next_layers: Vec<String> = registry.manifest("app:2")["layers"]
        .as_array()
        .expect("manifest layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_string())
        .collect();
    assert_eq!(next_layers[..2], layers[..2], "the base layers are shared");
    let got = cached(&registry.reference("app:2"));
    assert_same_report(&got, &report(&[&next_path.display().to_string()]), "app:2");
    for digest in &next_layers {
        assert_eq!(registry.blob_gets(digest), 1, "GETs of {digest}");
    }
}

/// `check` and `diff` take registry references like `report` does, with the same
/// figures as the layouts pushed.
fn check_and_diff_read_registry_images() {
    require_tools();
    let registry = Registry::http();
    let (path, src) = layout(&app_gzip(), registry.dir(), "app");
    registry.push(&src, "app:1");
    let (next_path, next_src) = layout(&next(), registry.dir(), "next");
    registry.push(&next_src, "app:2");
    let reference = registry.reference("app:1");

    let limit = |stored: u64| format!("uncompressed={stored}B");
    let local = report(&[&path.display().to_string()]);
    let uncompressed = local["totals"]["uncompressed_bytes"]
        .as_u64()
        .expect("uncompressed");
    let check = |l: &str| {
        Imgsize::new(&["check", &reference, "--no-cache", "--limit", l])
            .output()
            .status
            .code()
    };
    assert_eq!(check(&limit(uncompressed)), Some(0), "at the limit");
    assert_eq!(check(&limit(uncompressed - 1)), Some(1), "a byte over");

    let diff = |old: &str, new: &str| {
        let out = Imgsize::new(&["diff", old, new, "--format", "json", "--no-cache"]).output();
        assert!(
            out.status.success(),
            "diff: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
        // Each side names its input; the changes must be the same.
        for side in ["old", "new"] {
            v[side] = Value::Null;
        }
        v
    };
    let remote_diff = diff(&reference, &registry.reference("app:2"));
    let local_diff = diff(
        &path.display().to_string(),
        &next_path.display().to_string(),
    );
    assert_json_eq(&remote_diff, &local_diff, "diff of the registry images");
}

/// `--cache-dir` serves archives and layouts too: the second report comes from the
/// cache (its entries are there) and equals the first.
fn cache_dir_serves_local_layouts_too() {
    let dir = crate::util::tmp();
    let (path, _) = layout(&app_gzip(), dir.path(), "app");
    let cache = dir.path().join("cache");
    let args = [
        path.to_str().expect("utf-8 path"),
        "--cache-dir",
        cache.to_str().expect("utf-8 path"),
    ];
    let first = report(&args);
    let entries = std::fs::read_dir(cache.join("layers-v1"))
        .expect("the cache directory")
        .count();
    assert_eq!(entries, 3, "one entry per layer");
    let second = report(&args);
    assert_json_eq(&second, &first, "the cached report");
    assert_json_eq(&first, &report(&[args[0]]), "the report without cache");
}

/// The sample's chmod layer re-adds files at the same size: the first report downloads
/// the two layers again to hash just those files (a confirmed chmod-duplicate, as from
/// the local file); a second report with the same cache reads the hashes from the cache
/// and downloads nothing.
fn cached_reports_confirm_readds_without_downloading() {
    require_tools();
    let registry = Registry::http();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar");
    registry.push(&format!("docker-archive:{}", sample.display()), "sample:1");
    let cache = registry.dir().join("cache").display().to_string();
    let reference = registry.reference("sample:1");
    let layers: Vec<String> = registry.manifest("sample:1")["layers"]
        .as_array()
        .expect("manifest layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("digest").to_string())
        .collect();
    let fetched = || -> usize { layers.iter().map(|d| registry.blob_gets(d)).sum() };
    let chmod = |r: &Value| -> Vec<Value> {
        r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "chmod-duplicate")
            .map(|f| {
                // skopeo compressed the layers again: the pull estimate differs.
                let mut f = f.clone();
                f["compressed_bytes"] = Value::Null;
                f
            })
            .collect()
    };

    let first = report(&[&reference, "--cache-dir", &cache]);
    let local = report(&[&sample.display().to_string()]);
    assert_eq!(chmod(&first).len(), 1, "one chmod-duplicate finding");
    assert_json_eq(
        &Value::from(chmod(&first)),
        &Value::from(chmod(&local)),
        "chmod-duplicate",
    );
    // Every layer once, and the two layers holding the re-added files once more.
    assert_eq!(fetched(), layers.len() + 2, "downloads of the first report");
    let second = report(&[&reference, "--cache-dir", &cache]);
    assert_json_eq(&second, &first, "the cached report");
    assert_eq!(
        fetched(),
        layers.len() + 2,
        "the second report downloads nothing"
    );
}

crate::tests![
    base64_matches_docker_auth_encoding,
    anonymous_http_registry_reports_like_the_layout,
    by_digest_and_with_docker_prefix_the_same_figures,
    committed_sample_pushed_gives_the_local_figures,
    multi_platform_index_picks_the_platform_asked_for,
    zstd_layers_give_the_figures_of_the_gzip_original,
    tls_registry_with_credentials_from_each_source,
    wrong_password_is_an_error_naming_the_registry,
    tls_registry_without_its_ca_is_a_certificate_error,
    unknown_tag_is_an_error_naming_it,
    manifest_only_reads_the_manifest_and_no_layer,
    cache_dir_fetches_each_layer_once,
    check_and_diff_read_registry_images,
    cache_dir_serves_local_layouts_too,
    cached_reports_confirm_readds_without_downloading,
];
