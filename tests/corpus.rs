//! Every fixture of the shared corpus (`../shared/corpus`, see its SOURCES.md), checked
//! against the facts of its `inventory.json` (computed independently of imgsize) and
//! the figures upstream projects assert. Skipped when the corpus is absent.
//!
//! The table test collects every mismatch before failing, so one run lists them all.

use std::collections::BTreeSet;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use imgsize::analyze::{Report, Scope, SummaryOptions};
use imgsize::bytes::VerifyPolicy;
use imgsize::source::{PlatformSpec, SelectOptions};
use serde_json::Value;

use crate::util::{analyze, analyze_with, corpus};

/// Fixtures whose image cannot be read with verification on, and the words one of
/// which the error must use.
const VERIFY_FAILS: &[(&str, &[&str])] = &[
    // Upstream on purpose: blob digests and sizes do not match their content (the
    // manifest descriptor says 525 bytes, the blob has 536).
    (
        "sylabs-oci-tools/aufs-docker-v2-manifest",
        &["mismatch", "bytes"],
    ),
];

/// The variants of dive/test-docker-image (SOURCES.md, converted/).
const DIVE_VARIANTS: &[&str] = &[
    "dive/test-docker-image.tar",
    "converted/dive-test-docker-image/docker-archive-multitag.tar",
    "converted/dive-test-docker-image/oci-archive-gzip.tar",
    "converted/dive-test-docker-image/oci-archive-zstd.tar",
    "converted/dive-test-docker-image/oci-layout-gzip",
    "converted/dive-test-docker-image/oci-layout-uncompressed",
    "converted/dive-test-docker-image/oci-layout-zstd",
    "converted/dive-test-docker-image/oci-layout-zstd-chunked",
];

fn summary() -> SummaryOptions {
    SummaryOptions {
        top: 1000,
        depth: 8,
        base_layers: None,
        tree_nodes: None,
    }
}

fn inventory(root: &Path) -> Value {
    let text = fs::read_to_string(root.join("inventory.json")).expect("read inventory.json");
    serde_json::from_str(&text).expect("inventory.json parses")
}

fn fixtures(inv: &Value) -> Vec<(String, Value)> {
    inv["fixtures"]
        .as_object()
        .expect("inventory.json has fixtures")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn images(fixture: &Value) -> Vec<Value> {
    fixture["images"].as_array().cloned().unwrap_or_default()
}

fn layers(image: &Value) -> Vec<Value> {
    image["layers"].as_array().cloned().unwrap_or_default()
}

fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A layer imgsize cannot read as a filesystem tar: absent, or not a tar.
fn bad_layer(layer: &Value) -> bool {
    layer.get("missing_blob").and_then(Value::as_bool) == Some(true)
        || layer.get("not_tar").is_some_and(|t| t != "empty")
}

/// A layer whose stored bytes do not match its descriptor digest.
fn mismatched_layer(layer: &Value) -> bool {
    layer.get("digest_matches").and_then(Value::as_bool) == Some(false)
}

/// One way to select an image of an input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Pick {
    image: Option<String>,
    platform: Option<String>,
}

impl Pick {
    fn select(&self, verify: bool) -> SelectOptions {
        SelectOptions {
            image: self.image.clone(),
            platform: self
                .platform
                .as_deref()
                .map(|p| PlatformSpec::parse(p).expect("inventory platform parses")),
            verify: if verify {
                VerifyPolicy::All
            } else {
                VerifyPolicy::None
            },
            ..SelectOptions::default()
        }
    }
}

fn is_index_type(media_type: Option<&str>) -> bool {
    media_type.is_some_and(|m| m.contains("image.index") || m.contains("manifest.list"))
}

fn read_blob(dir: &Path, digest: &str) -> Option<Value> {
    let (alg, hex) = digest.split_once(':')?;
    let bytes = fs::read(dir.join("blobs").join(alg).join(hex)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The platforms reachable below an index (nested indexes followed), attestation
/// entries (`unknown/unknown`) left out.
fn leaf_platforms(dir: &Path, index: &Value, depth: usize, out: &mut BTreeSet<String>) {
    for child in index["manifests"].as_array().into_iter().flatten() {
        let mt = str_of(child, "mediaType");
        let nested = is_index_type(mt)
            || (mt.is_none()
                && str_of(child, "digest")
                    .and_then(|d| read_blob(dir, d))
                    .is_some_and(|b| b.get("manifests").is_some()));
        if nested && depth < 4 {
            if let Some(sub) = str_of(child, "digest").and_then(|d| read_blob(dir, d)) {
                leaf_platforms(dir, &sub, depth + 1, out);
            }
            continue;
        }
        if let Some(p) = child.get("platform") {
            let os = str_of(p, "os").unwrap_or("?");
            if os == "unknown" {
                continue;
            }
            let mut s = format!("{os}/{}", str_of(p, "architecture").unwrap_or("?"));
            if let Some(v) = str_of(p, "variant") {
                s.push('/');
                s.push_str(v);
            }
            out.insert(s);
        }
    }
}

/// Every selection that reaches a distinct image of the fixture: each tag of a
/// docker archive, each index.json entry of an OCI layout directory (and each
/// platform under a nested index), or just the default.
fn picks(path: &Path, fixture: &Value) -> Vec<Pick> {
    let default = Pick {
        image: None,
        platform: None,
    };
    let imgs = images(fixture);
    let docker: Vec<&Value> = imgs
        .iter()
        .filter(|i| str_of(i, "via") == Some("manifest.json"))
        .collect();
    let mut out = vec![default];
    if docker.len() > 1 {
        for i in docker {
            if let Some(tag) = i["RepoTags"].as_array().and_then(|t| t.first()) {
                out.push(Pick {
                    image: tag.as_str().map(str::to_string),
                    platform: None,
                });
            }
        }
    } else if docker.is_empty() && path.is_dir() {
        let Ok(text) = fs::read_to_string(path.join("index.json")) else {
            return out;
        };
        let Ok(index) = serde_json::from_str::<Value>(&text) else {
            return out;
        };
        for entry in index["manifests"].as_array().into_iter().flatten() {
            let Some(digest) = str_of(entry, "digest") else {
                continue;
            };
            let mut nested = BTreeSet::new();
            let mt = str_of(entry, "mediaType");
            let blob = read_blob(path, digest);
            let is_index =
                is_index_type(mt) || blob.as_ref().is_some_and(|b| b.get("manifests").is_some());
            if is_index && let Some(b) = &blob {
                leaf_platforms(path, b, 0, &mut nested);
            }
            if nested.is_empty() {
                out.push(Pick {
                    image: Some(digest.to_string()),
                    platform: None,
                });
            }
            for p in nested {
                out.push(Pick {
                    image: Some(digest.to_string()),
                    platform: Some(p),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The inventory image a report describes.
fn inventory_image(fixture: &Value, r: &Report) -> Option<Value> {
    let imgs = images(fixture);
    if let Some(m) = &r.image.manifest_digest {
        return imgs
            .into_iter()
            .find(|i| str_of(i, "manifest_digest") == Some(m.as_str()));
    }
    let docker: Vec<Value> = imgs
        .iter()
        .filter(|i| str_of(i, "via") == Some("manifest.json"))
        .cloned()
        .collect();
    if docker.len() == 1 {
        return docker.into_iter().next();
    }
    if !docker.is_empty() {
        let tags: Vec<String> = r.image.tags.clone();
        return docker.into_iter().find(|i| {
            i["RepoTags"]
                .as_array()
                .is_some_and(|t| t.iter().filter_map(Value::as_str).eq(tags.iter()))
        });
    }
    imgs.into_iter()
        .find(|i| str_of(i, "via") == Some("legacy v1 dirs"))
}

/// What tells images of one input apart: the manifest digest, else the config.
fn image_key(image: &Value) -> String {
    str_of(image, "manifest_digest")
        .or(str_of(image, "Config"))
        .unwrap_or("legacy")
        .to_string()
}

fn one_line(e: &imgsize::Error) -> String {
    e.to_string()
}

/// Run the library without letting a panic end the table.
fn run(path: &Path, select: &SelectOptions) -> Result<imgsize::Result<Report>, String> {
    catch_unwind(AssertUnwindSafe(|| analyze_with(path, select, summary()))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// The findings of any image: each fix saves at most what it alone would, the
/// incremental savings add up to the projections, and all of them stay within the
/// shipped bytes.
fn check_findings(ctx: &str, r: &Report, fails: &mut Vec<String>) {
    let f = &r.findings;
    let sum = |scope: Scope| -> u64 {
        f.rows
            .iter()
            .filter(|x| x.scope == scope)
            .map(|x| x.incremental_bytes)
            .sum()
    };
    if f.rows.iter().any(|x| x.incremental_bytes > x.bytes) {
        fails.push(format!("{ctx}: a finding saves more on top than alone"));
    }
    if sum(Scope::Yours) != f.saved_bytes || sum(Scope::Base) != f.base_saved_bytes {
        fails.push(format!("{ctx}: incremental savings do not add up"));
    }
    if f.saved_bytes + f.base_saved_bytes > r.totals.stored_bytes {
        fails.push(format!("{ctx}: findings save more than the image ships"));
    }
    if f.fixes.saved_bytes > f.saved_bytes
        || f.fixes.stored_bytes + f.fixes.saved_bytes != r.totals.stored_bytes
    {
        fails.push(format!("{ctx}: the fixes' headline does not add up"));
    }
    if let Some(s) = &f.structural {
        let alone: Vec<u64> = f
            .rows
            .iter()
            .filter(|x| x.rule == s.rule)
            .map(|x| x.bytes)
            .collect();
        if alone != [s.projection.saved_bytes] {
            fails.push(format!("{ctx}: the structural headline is not its finding"));
        }
    }
}

/// Compare a report with the inventory facts of its image; push mismatches.
fn check_image(name: &str, pick: &Pick, image: &Value, r: &Report, fails: &mut Vec<String>) {
    let ctx = format!("{name} {pick:?}");
    let mut inv_layers = layers(image);
    if str_of(image, "via") == Some("legacy v1 dirs") {
        // inventory.json lists legacy layer directories by name, not in parent-chain
        // order (moby/emptyLayer.tar): match each row by its figures instead; the
        // order is checked in `legacy_layers_follow_the_parent_chain`.
        let key = |l: &Value| {
            (
                u64_of(l, "uncompressed_size"),
                u64_of(l, "regular_bytes").unwrap_or(0),
            )
        };
        let mut ordered = Vec::new();
        for row in &r.layers {
            if let Some(at) = inv_layers
                .iter()
                .position(|l| key(l) == (Some(row.uncompressed_bytes), row.added_bytes))
            {
                ordered.push(inv_layers.remove(at));
            }
        }
        ordered.append(&mut inv_layers);
        inv_layers = ordered;
    }
    let count = u64_of(image, "layer_count").unwrap_or(inv_layers.len() as u64) as usize;
    if r.layers.len() != count || r.totals.layers != count {
        fails.push(format!(
            "{ctx}: layer count: expected {count}, got {} (totals.layers {})",
            r.layers.len(),
            r.totals.layers
        ));
        return;
    }
    let any_bad = inv_layers.iter().any(bad_layer);
    for (i, (l, row)) in inv_layers.iter().zip(&r.layers).enumerate() {
        if bad_layer(l) {
            if row.error.is_none() {
                fails.push(format!(
                    "{ctx}: layer {i} is not a readable tar layer ({:?}) but has no error",
                    l.get("not_tar").or(l.get("missing_blob"))
                ));
            }
            let named = l
                .get("digest")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("layer {i}"));
            if !r.problems.iter().any(|p| p.contains(&named)) {
                fails.push(format!(
                    "{ctx}: no problem names layer {i} ({named}): {:?}",
                    r.problems
                ));
            }
            continue;
        }
        if let Some(e) = &row.error {
            fails.push(format!("{ctx}: layer {i}: unexpected error {e}"));
            continue;
        }
        let want_u = u64_of(l, "uncompressed_size");
        if want_u != Some(row.uncompressed_bytes) {
            fails.push(format!(
                "{ctx}: layer {i} uncompressed_bytes: expected {want_u:?}, got {}",
                row.uncompressed_bytes
            ));
        }
        // An empty (0-byte) layer file has no regular_bytes: it adds nothing.
        let want_a = u64_of(l, "regular_bytes").unwrap_or(0);
        if want_a != row.added_bytes {
            fails.push(format!(
                "{ctx}: layer {i} added_bytes: expected {want_a}, got {}",
                row.added_bytes
            ));
        }
        if let Some(c) = u64_of(l, "compressed_size")
            && c != row.compressed_bytes
        {
            fails.push(format!(
                "{ctx}: layer {i} compressed_bytes: expected {c}, got {}",
                row.compressed_bytes
            ));
        }
        if l.get("diff_id_matches_config").and_then(Value::as_bool) == Some(true)
            && row.diff_id.as_deref() != str_of(l, "diff_id")
        {
            fails.push(format!(
                "{ctx}: layer {i} diff_id: expected {:?}, got {:?}",
                str_of(l, "diff_id"),
                row.diff_id
            ));
        }
    }
    if any_bad {
        if r.complete {
            fails.push(format!("{ctx}: complete although a layer is unreadable"));
        }
    } else if !r.complete || !r.problems.is_empty() {
        fails.push(format!(
            "{ctx}: expected a complete report, got problems {:?}",
            r.problems
        ));
    } else {
        let stored: u64 = inv_layers
            .iter()
            .map(|l| u64_of(l, "regular_bytes").unwrap_or(0))
            .sum();
        if r.totals.stored_bytes != stored {
            fails.push(format!(
                "{ctx}: totals.stored_bytes: expected {stored}, got {}",
                r.totals.stored_bytes
            ));
        }
        if let Some(u) = u64_of(image, "layers_total_uncompressed")
            && u != r.totals.uncompressed_bytes
        {
            fails.push(format!(
                "{ctx}: totals.uncompressed_bytes: expected {u}, got {}",
                r.totals.uncompressed_bytes
            ));
        }
    }
}

fn verify_fails(name: &str) -> Option<&'static [&'static str]> {
    VERIFY_FAILS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

fn every_fixture_matches_the_inventory() {
    let root = corpus();
    let inv = inventory(&root);
    let mut fails = Vec::new();
    let mut checked = 0usize;
    for (name, fixture) in fixtures(&inv) {
        let path = root.join(&name);
        let imgs = images(&fixture);
        if imgs.is_empty() {
            match run(&path, &SelectOptions::default()) {
                Err(p) => fails.push(format!("{name}: panicked: {p}")),
                Ok(Ok(r)) => fails.push(format!(
                    "{name}: holds no image but analysed as {:?} ({} layers)",
                    r.image.format,
                    r.layers.len()
                )),
                Ok(Err(e)) => {
                    let msg = one_line(&e);
                    if msg.trim().is_empty() || msg.contains('\n') {
                        fails.push(format!("{name}: unclear error {msg:?}"));
                    }
                    checked += 1;
                }
            }
            continue;
        }
        let mut reached = BTreeSet::new();
        for pick in picks(&path, &fixture) {
            let verify_problem = verify_fails(&name);
            let mut verify = true;
            if let Some(why) = verify_problem {
                match run(&path, &pick.select(true)) {
                    Err(p) => fails.push(format!("{name} {pick:?}: panicked: {p}")),
                    Ok(Ok(r)) if r.complete => fails.push(format!(
                        "{name} {pick:?}: blobs do not match their digests, yet the \
                         verified report is complete"
                    )),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        let msg = one_line(&e);
                        if !why.iter().any(|w| msg.contains(w)) {
                            fails.push(format!("{name}: expected an error about {why:?}, got {e}"));
                        }
                    }
                }
                verify = false;
            }
            let r = match run(&path, &pick.select(verify)) {
                Err(p) => {
                    fails.push(format!("{name} {pick:?}: panicked: {p}"));
                    continue;
                }
                Ok(Err(e)) => {
                    // Acceptable when the selection reaches no readable image:
                    // artifacts, signatures, manifests whose blobs are absent.
                    let msg = one_line(&e);
                    if msg.trim().is_empty() || msg.contains('\n') {
                        fails.push(format!("{name} {pick:?}: unclear error {msg:?}"));
                    }
                    continue;
                }
                Ok(Ok(r)) => r,
            };
            let Some(image) = inventory_image(&fixture, &r) else {
                fails.push(format!(
                    "{name} {pick:?}: analysed an image inventory.json does not list \
                     (manifest {:?}, tags {:?})",
                    r.image.manifest_digest, r.image.tags
                ));
                continue;
            };
            // With verification on, a blob that does not match its digest must be
            // reported, never silently measured.
            if verify && layers(&image).iter().any(mismatched_layer) && r.complete {
                fails.push(format!("{name} {pick:?}: digest mismatch not reported"));
            }
            reached.insert(image_key(&image));
            check_image(&name, &pick, &image, &r, &mut fails);
            check_findings(&format!("{name} {pick:?}"), &r, &mut fails);
            checked += 1;
        }
        // Every readable image of the input must be reachable by some selection.
        for image in &imgs {
            let readable = !layers(image)
                .iter()
                .any(|l| bad_layer(l) || mismatched_layer(l));
            if readable
                && !reached.contains(&image_key(image))
                && !(str_of(image, "via") == Some("oci index")
                    && imgs
                        .iter()
                        .any(|i| str_of(i, "via") == Some("manifest.json")))
            {
                fails.push(format!(
                    "{name}: image {} ({}) was not reached by any selection",
                    str_of(image, "manifest_digest")
                        .or(str_of(image, "Config"))
                        .unwrap_or("?"),
                    str_of(image, "platform").unwrap_or("?")
                ));
            }
        }
    }
    eprintln!("corpus: {checked} selections checked");
    assert!(
        fails.is_empty(),
        "{} mismatch(es):\n{}",
        fails.len(),
        fails.join("\n")
    );
}

fn load(root: &Path, name: &str) -> Report {
    analyze(&root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn select(root: &Path, name: &str, image: Option<&str>, platform: Option<&str>) -> Report {
    let opts = SelectOptions {
        image: image.map(str::to_string),
        platform: platform.map(|p| PlatformSpec::parse(p).expect("platform")),
        verify: VerifyPolicy::All,
        ..SelectOptions::default()
    };
    analyze_with(&root.join(name), &opts, summary())
        .unwrap_or_else(|e| panic!("{name} {image:?} {platform:?}: {e}"))
}

/// The error text of selecting an image that should not resolve.
fn select_error(root: &Path, name: &str, image: Option<&str>, platform: Option<&str>) -> String {
    let opts = SelectOptions {
        image: image.map(str::to_string),
        platform: platform.map(|p| PlatformSpec::parse(p).expect("platform")),
        verify: VerifyPolicy::All,
        ..SelectOptions::default()
    };
    match analyze_with(&root.join(name), &opts, summary()) {
        Ok(_) => panic!("{name} {image:?} {platform:?}: expected an error"),
        Err(e) => e.to_string(),
    }
}

fn dive_test_image_is_the_same_in_every_format() {
    let root = corpus();
    let base = load(&root, DIVE_VARIANTS[0]);
    assert!(base.complete, "{:?}", base.problems);
    assert_eq!(base.layers.len(), 14);
    // dive's sizeBytes is the sum of regular-file sizes (upstream
    // image_archive_analysis_test.go:17): 1220598.
    assert_eq!(base.totals.stored_bytes, 1_220_598);
    assert_eq!(base.totals.uncompressed_bytes, 1_470_464);
    let sizes = |r: &Report| -> Vec<(u64, u64, u64, u64)> {
        r.layers
            .iter()
            .map(|l| {
                (
                    l.uncompressed_bytes,
                    l.added_bytes,
                    l.content_bytes,
                    l.files,
                )
            })
            .collect()
    };
    let diff_ids = |r: &Report| -> Vec<Option<String>> {
        r.layers.iter().map(|l| l.diff_id.clone()).collect()
    };
    for name in &DIVE_VARIANTS[1..] {
        let r = load(&root, name);
        assert!(r.complete, "{name}: {:?}", r.problems);
        assert_eq!(sizes(&r), sizes(&base), "{name}: per-layer figures");
        assert_eq!(diff_ids(&r), diff_ids(&base), "{name}: diff_ids");
        let (t, b) = (&r.totals, &base.totals);
        assert_eq!(t.uncompressed_bytes, b.uncompressed_bytes, "{name}");
        assert_eq!(t.stored_bytes, b.stored_bytes, "{name}: stored");
        assert_eq!(t.content_bytes, b.content_bytes, "{name}: content");
        assert_eq!(t.wasted_bytes, b.wasted_bytes, "{name}: wasted");
        assert_eq!(t.files, b.files, "{name}: files");
        assert_eq!(t.dirs, b.dirs, "{name}: dirs");
        assert_eq!(t.symlinks, b.symlinks, "{name}: symlinks");
        let waste = |r: &Report| -> Vec<(String, u64)> {
            let mut w: Vec<_> = r
                .waste
                .rows
                .iter()
                .map(|w| (w.path.clone(), w.bytes))
                .collect();
            w.sort();
            w
        };
        assert_eq!(waste(&r), waste(&base), "{name}: waste rows");
    }
}

fn dive_multitag_archive_names_all_three_tags() {
    let root = corpus();
    let name = "converted/dive-test-docker-image/docker-archive-multitag.tar";
    let r = load(&root, name);
    assert!(
        r.image.other_images.is_empty(),
        "{:?}",
        r.image.other_images
    );
    for tag in [
        "dive-test:latest",
        "dive-test:alias1",
        "example.com/dive/test:v2",
    ] {
        let r = select(&root, name, Some(tag), None);
        let reference = r.image.reference.clone().unwrap_or_default();
        assert!(reference.ends_with(tag), "{tag}: {reference}");
        assert_eq!(r.image.tags.len(), 3, "{:?}", r.image.tags);
        assert_eq!(r.layers.len(), 14);
    }
}

fn trivy_alpine_311_upstream_facts() {
    let root = corpus();
    let r = load(&root, "trivy/alpine-311.tar.gz");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.image.tags, vec!["alpine:3.11".to_string()]);
    assert_eq!(r.image.outer_compression.as_deref(), Some("gzip"));
    assert_eq!(
        r.image.config_digest.as_deref(),
        Some("sha256:a187dde48cd289ac374ad8539930628314bc581a481cdb41409c9289419ddb72")
    );
    assert_eq!(
        r.image.created.as_deref(),
        Some("2020-03-23T21:19:34.196162891Z")
    );
    assert_eq!(r.image.platform.architecture.as_deref(), Some("amd64"));
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.layers[0].uncompressed_bytes, 5_861_888);
    assert_eq!(
        r.layers[0].diff_id.as_deref(),
        Some("sha256:beee9f30bc1f711043e78d4a2be0668955d4b761d587d6f60c2c8dc081efb203")
    );
    // The same image converted to an OCI layout.
    let oci = load(&root, "converted/trivy-alpine-311/oci-layout-gzip");
    assert_eq!(oci.layers[0].uncompressed_bytes, 5_861_888);
    assert_eq!(oci.layers[0].diff_id, r.layers[0].diff_id);
    assert_eq!(oci.totals.stored_bytes, r.totals.stored_bytes);
    assert_eq!(oci.totals.symlinks, r.totals.symlinks);
    assert_eq!(oci.totals.files, r.totals.files);
}

fn go_containerregistry_bundle_selects_each_image_by_name() {
    let root = corpus();
    let name = "go-containerregistry/tarball/test_bundle.tar";
    let one = "sha256:6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e";
    let two = "sha256:930705ce23e3b6ed4c08746b6fe880089c864fbaf62482702ae3fdd66b8c7fe9";
    for (wanted, config) in [
        ("test_image_1", one),
        ("test_image_1:latest", one),
        ("index.docker.io/library/test_image_1:latest", one),
        ("docker.io/library/test_image_1", one),
        ("test_image_2", two),
        ("test_image_2:latest", two),
    ] {
        let r = select(&root, name, Some(wanted), None);
        assert_eq!(r.image.config_digest.as_deref(), Some(config), "{wanted}");
        assert!(r.complete, "{wanted}: {:?}", r.problems);
        assert_eq!(r.layers.len(), 1);
        assert_eq!(r.totals.stored_bytes, 8);
    }
    // Without a name the archive is ambiguous (upstream fails); imgsize shows the
    // first image and names the other.
    let r = load(&root, name);
    assert_eq!(r.image.other_images.len(), 1, "{:?}", r.image.other_images);
    let err = select_error(&root, name, Some("test_image_3"), None);
    assert!(
        err.contains("test_image_1") && err.contains("test_image_2"),
        "unknown tag must list the available ones: {err:?}"
    );
}

fn go_containerregistry_link_follows_the_shared_layer() {
    let root = corpus();
    let name = "go-containerregistry/tarball/test_link.tar";
    let r = select(&root, name, Some("bazel/v1/tarball:test_image_3"), None);
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.layers.len(), 2);
    let shared = &r.layers[0];
    assert_eq!(
        shared.diff_id.as_deref(),
        Some("sha256:8897395fd26dc44ad0e2a834335b33198cb41ac4d98dfddf58eced3853fa7b17")
    );
    assert_eq!(shared.uncompressed_bytes, 10240);
    assert_eq!(shared.added_bytes, 8);
}

fn go_containerregistry_layout_index() {
    let root = corpus();
    let name = "go-containerregistry/layout/test_index";
    // Ref name "1" is the plain OCI manifest of upstream TestImage.
    let r = select(&root, name, Some("1"), None);
    assert_eq!(
        r.image.manifest_digest.as_deref(),
        Some("sha256:eebff607b1628d67459b0596643fc07de70d702eccf030f0bc7bb6fc2b278650")
    );
    assert_eq!(
        r.image.config_digest.as_deref(),
        Some("sha256:6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e")
    );
    assert_eq!(
        r.layers[0].media_type.as_deref(),
        Some("application/vnd.docker.image.rootfs.diff.tar.gzip")
    );
    assert!(r.complete, "{:?}", r.problems);
    // Ref 3 is a nested OCI index and ref 4 a nested Docker manifest list: both reach
    // an image.
    for wanted in ["3", "4"] {
        let r = select(&root, name, Some(wanted), None);
        assert!(r.complete, "{wanted}: {:?}", r.problems);
        assert_eq!(r.layers.len(), 1, "{wanted}");
    }
    // The garbage blob of test_gc_index changes nothing.
    let gc = load(&root, "go-containerregistry/layout/test_gc_index");
    assert!(gc.complete, "{:?}", gc.problems);
    // The single image of test_index_one_image is found without a name.
    let one = load(&root, "go-containerregistry/layout/test_index_one_image");
    assert!(one.complete, "{:?}", one.problems);
    assert_eq!(one.layers[0].uncompressed_bytes, 2048);
}

fn go_containerregistry_docker25_falls_back_to_manifest_json() {
    let root = corpus();
    let r = load(&root, "go-containerregistry/tarball/hello-world-v25.tar");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.layers[0].uncompressed_bytes, 10752);
    assert_eq!(r.totals.stored_bytes, 9136);
}

fn stereoscope_platform_selection() {
    let root = corpus();
    let multi = "stereoscope/multiplatform_oci_dir";
    for (platform, manifest) in [
        (
            "linux/amd64",
            "sha256:e7c26a4b4d156fd9947ee82295b7b78acf7aa54b93b8f3e4b9f608179ffb20e8",
        ),
        (
            "linux/arm64",
            "sha256:5ed07065bcbc6c52e3ad28526557d7b6833613fc79257b1a786de85e37c03b05",
        ),
    ] {
        let r = select(&root, multi, None, Some(platform));
        assert_eq!(
            r.image.manifest_digest.as_deref(),
            Some(manifest),
            "{platform}"
        );
        assert!(r.complete, "{platform}: {:?}", r.problems);
    }
    let err = select_error(&root, multi, None, Some("linux/ppc64le"));
    assert!(
        err.contains("linux/ppc64le") && err.contains("linux/amd64") && err.contains("linux/arm64"),
        "a missing platform must be named with the available ones: {err:?}"
    );

    // The same manifest listed twice is one image, counted once.
    let dir = "stereoscope/valid_oci_dir";
    let c1 = "sha256:c1ed04a3da941a5dd09b58b16c37f065557863d382ef97995ddac885a8452ebb";
    let r = load(&root, dir);
    assert_eq!(r.image.manifest_digest.as_deref(), Some(c1));
    assert!(
        r.image.other_images.is_empty(),
        "{:?}",
        r.image.other_images
    );
    assert_eq!(r.layers.len(), 1);
    for wanted in ["latest", "1.0"] {
        let r = select(&root, dir, Some(wanted), None);
        assert_eq!(r.image.manifest_digest.as_deref(), Some(c1), "{wanted}");
    }
    let r = select(&root, dir, None, Some("linux/amd64"));
    assert_eq!(r.image.manifest_digest.as_deref(), Some(c1));
}

fn oras_hello_world_resolution() {
    let root = corpus();
    for name in [
        "oras-go/hello-world.tar",
        "oras-go/hello-world-prefixed-path.tar",
    ] {
        let r = load(&root, name);
        assert!(r.complete, "{name}: {:?}", r.problems);
        assert_eq!(
            r.image.config_digest.as_deref(),
            Some("sha256:feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412"),
            "{name}"
        );
        assert_eq!(r.layers.len(), 1);
        let l = &r.layers[0];
        assert_eq!(l.compressed_bytes, 2479, "{name}");
        assert_eq!(l.uncompressed_bytes, 14848, "{name}");
        assert_eq!(l.added_bytes, 13256, "{name}");
        assert_eq!(
            l.digest.as_deref(),
            Some("sha256:2db29710123e3e53a794f2694094b9b4338aa9ee5c40b930cb8063a1be392c54"),
            "{name}"
        );
        for wanted in ["hello-world:latest", "hello-world"] {
            let r = select(&root, name, Some(wanted), None);
            assert_eq!(
                r.image.config_digest.as_deref(),
                Some("sha256:feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412"),
                "{name} {wanted}"
            );
        }
        // linux/arm64 is listed in the manifest list but its manifest is absent: a
        // clear error, not another platform's image.
        let err = select_error(&root, name, None, Some("linux/arm64"));
        assert!(
            err.contains("linux/arm64") || err.contains("missing"),
            "{name}: {err:?}"
        );
    }
}

fn oras_index_tag_latest_selects_the_image() {
    let root = corpus();
    // Upstream (readonlyoci_test.go:448-500) resolves tag `latest`, the index.json
    // ref name of these hybrid archives, to the manifest list and so to the only
    // present manifest, linux/amd64.
    for name in [
        "oras-go/hello-world.tar",
        "oras-go/hello-world-prefixed-path.tar",
    ] {
        let r = select(&root, name, Some("latest"), None);
        assert_eq!(
            r.image.config_digest.as_deref(),
            Some("sha256:feb5d9fea6a5e9606aa995e879d862b825965ba48de054caab5ef356dc6b3412"),
            "{name}"
        );
    }
}

fn docker_archive_of_another_platform_names_the_platform() {
    let root = corpus();
    let err = select_error(
        &root,
        "osv-scalibr/layerscanning/basic.tar",
        None,
        Some("linux/s390x"),
    );
    assert!(
        err.contains("linux/s390x") && err.contains("linux/amd64"),
        "wanted and available platforms must be named: {err:?}"
    );
}

fn trivy_oci_tags() {
    let root = corpus();
    let name = "trivy/test_image_tag.oci";
    let r = select(&root, name, Some("0.0.1"), None);
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.image.reference.as_deref(), Some("0.0.1"));
    let r = load(&root, name);
    assert_eq!(r.layers[0].uncompressed_bytes, 15360);
    let err = select_error(&root, name, Some("0.0.0"), None);
    assert!(err.contains("0.0.0") && err.contains("0.0.1"), "{err:?}");
    // test.oci has no ref name: no tags.
    let r = load(&root, "trivy/test.oci");
    assert!(
        r.image.tags.iter().all(|t| t.starts_with("sha256:")),
        "{:?}",
        r.image.tags
    );
}

fn skopeo_two_images_list_both_names() {
    let root = corpus();
    for name in [
        "skopeo/docker-two-images.tar",
        "skopeo/docker-two-images.tar.xz",
    ] {
        let r = load(&root, name);
        let mut all = vec![r.image.reference.clone().unwrap_or_default()];
        all.extend(r.image.other_images.clone());
        all.sort();
        assert_eq!(
            all,
            vec![
                "example.com/empty/but:different".to_string(),
                "example.com/empty:latest".to_string()
            ],
            "{name}"
        );
        let r = select(&root, name, Some("example.com/empty/but:different"), None);
        assert!(r.complete, "{name}: {:?}", r.problems);
        assert_eq!(r.layers.len(), 1);
    }
}

fn jib_diff_ids_and_blob_digests() {
    let root = corpus();
    let diff_ids = [
        "sha256:5e701122d3347fae0758cd5b7f0692c686fcd07b0e7fd9c4a125fbdbbedc04dd",
        "sha256:f1ac3015bcbf0ada4750d728626eb10f0f585199e2b667dcd79e49f0e926178e",
    ];
    let save = load(&root, "jib/docker-save.tar");
    let jib = load(&root, "jib/jib-image.tar");
    for r in [&save, &jib] {
        assert!(r.complete, "{:?}", r.problems);
        let got: Vec<_> = r.layers.iter().map(|l| l.diff_id.as_deref()).collect();
        assert_eq!(got, diff_ids.map(Some).to_vec());
    }
    let blobs: Vec<_> = jib
        .layers
        .iter()
        .map(|l| l.compressed_bytes)
        .zip(&save.layers)
        .map(|(c, s)| (c, s.uncompressed_bytes))
        .collect();
    assert_eq!(blobs.len(), 2);
    assert_eq!(jib.totals.stored_bytes, save.totals.stored_bytes);
    assert_eq!(jib.totals.stored_bytes, 4071);
}

fn estargz_layer_stops_at_the_end_of_archive_marker() {
    let root = corpus();
    let r = load(&root, "dive/test-oci-estargz-image.tar");
    assert!(r.complete, "{:?}", r.problems);
    // The whole decompressed stream is the layer; the TOC after the end-of-archive
    // marker is not a file of the image.
    assert_eq!(r.layers[0].uncompressed_bytes, 14848);
    assert_eq!(r.layers[0].added_bytes, 11189);
    assert_eq!(r.totals.files, 1);
}

fn broken_inputs_give_clear_errors() {
    let root = corpus();
    let expect_err = |name: &str, what: &[&str]| {
        let e = match analyze(&root.join(name)) {
            Ok(r) => panic!(
                "{name}: expected an error, got a report of {:?}",
                r.image.format
            ),
            Err(e) => e.to_string(),
        };
        assert!(!e.contains('\n'), "{name}: {e}");
        assert!(
            what.iter().any(|w| e.contains(w)),
            "{name}: error {e:?} should mention one of {what:?}"
        );
    };
    expect_err("go-containerregistry/tarball/null_manifest.tar", &["null"]);
    expect_err(
        "go-containerregistry/tarball/content.tar",
        &["not a container image"],
    );
    expect_err("dive/test-gzip-image.tar", &["not a container image"]);
    expect_err(
        "osv-scalibr/layerscanning/empty.tar",
        &["not a container image"],
    );
    expect_err("regclient/layer.tar", &["not a container image"]);
    expect_err(
        "trivy/test_no_valid_manifests.oci",
        &["no image", "no manifests"],
    );
    expect_err("trivy/test_invalid_oci_image.oci", &["no image", "missing"]);
    expect_err(
        "go-containerregistry/layout/test_gc_image_unknown_mediatype",
        &["sha256:32589985702551b6c56033bb3334432a0a513bf9d6aceda0f67c42b003850720"],
    );
    expect_err("imgutil/busybox-multi-platform", &["missing"]);
    expect_err("regclient/external", &["no image"]);
    expect_err(
        "sylabs-oci-tools/aufs-docker-v2-manifest",
        &["mismatch", "bytes"],
    );

    // A layer absent from a sparse layout: the report is incomplete and names it.
    let sparse = load(&root, "imgutil/busybox-sparse");
    assert!(!sparse.complete);
    let missing = "sha256:405fecb6a2fa4f29683f977e7e3b852bf6f8975a2aba647d234d2371894943da";
    assert!(
        sparse.problems.iter().any(|p| p.contains(missing)),
        "{:?}",
        sparse.problems
    );
    // Fake layer data (33-byte text declared tar+gzip) in every image.
    let fake = load(&root, "containers-image/delete_image_multiple_images");
    assert!(!fake.complete);
    assert_eq!(fake.problems.len(), 1, "{:?}", fake.problems);
    // A squashfs layer is not a tar layer: refused as an artifact, or reported as an
    // unreadable layer.
    match analyze(&root.join("sylabs-oci-tools/overlayfs-docker-v2-manifest")) {
        Ok(sq) => {
            assert!(!sq.complete);
            assert!(
                sq.problems
                    .iter()
                    .any(|p| p.contains("not a filesystem layer")),
                "{:?}",
                sq.problems
            );
        }
        Err(e) => assert!(e.to_string().contains("no image"), "{e}"),
    }

    // Legacy archives without manifest.json are read (imgsize supports them).
    let legacy = load(&root, "moby/emptyLayer.tar");
    assert!(legacy.complete, "{:?}", legacy.problems);
    assert_eq!(legacy.layers.len(), 3);
}

fn legacy_layers_follow_the_parent_chain() {
    let root = corpus();
    // moby/emptyLayer.tar: 17d1… (root dir only, 512 B) <- 9c7c… (0-byte layer.tar)
    // <- 2544… (one 4-byte file, tagged matthughes/library-centos:6-2015.03.20).
    let r = load(&root, "moby/emptyLayer.tar");
    assert!(r.complete, "{:?}", r.problems);
    let got: Vec<_> = r
        .layers
        .iter()
        .map(|l| (l.uncompressed_bytes, l.added_bytes))
        .collect();
    assert_eq!(got, vec![(512, 0), (0, 0), (10240, 4)]);
    assert_eq!(
        r.image.reference.as_deref(),
        Some("matthughes/library-centos:6-2015.03.20")
    );
    let r = load(&root, "go-containerregistry/tarball/no_manifest.tar");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.layers.len(), 1);
    assert_eq!(r.totals.stored_bytes, 8);
}

fn docker_config_digest_is_the_content_digest() {
    let root = corpus();
    // The config member is named after test_image_1's config (6e0b0504…) but was
    // edited upstream afterwards: the image's config digest is what it hashes to.
    let r = load(
        &root,
        "go-containerregistry/mutate/source_image_with_empty_layer_history.tar",
    );
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(
        r.image.config_digest.as_deref(),
        Some("sha256:05b5ec1290589606ce19fabb1fb331f004acd9f618b9b4e813721be1a03a0712")
    );
}

/// Paths in the corpus the inventory does not know about (sanity check of the table).
fn inventory_lists_fixtures_that_exist() {
    let root = corpus();
    let inv = inventory(&root);
    let missing: Vec<PathBuf> = fixtures(&inv)
        .into_iter()
        .map(|(n, _)| root.join(n))
        .filter(|p| !p.exists())
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
}

crate::tests![
    every_fixture_matches_the_inventory,
    dive_test_image_is_the_same_in_every_format,
    dive_multitag_archive_names_all_three_tags,
    trivy_alpine_311_upstream_facts,
    go_containerregistry_bundle_selects_each_image_by_name,
    go_containerregistry_link_follows_the_shared_layer,
    go_containerregistry_layout_index,
    go_containerregistry_docker25_falls_back_to_manifest_json,
    stereoscope_platform_selection,
    oras_hello_world_resolution,
    oras_index_tag_latest_selects_the_image,
    docker_archive_of_another_platform_names_the_platform,
    trivy_oci_tags,
    skopeo_two_images_list_both_names,
    jib_diff_ids_and_blob_digests,
    estargz_layer_stops_at_the_end_of_archive_marker,
    broken_inputs_give_clear_errors,
    legacy_layers_follow_the_parent_chain,
    docker_config_digest_is_the_content_digest,
    inventory_lists_fixtures_that_exist,
];
