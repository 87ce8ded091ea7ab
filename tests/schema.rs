//! The JSON contract: `imgsize report --format json` output validated against
//! docs/imgsize-report.schema.json, and the invariants docs/json.md promises (the
//! figures add up) checked on the deserialised document, for builder fixtures of
//! every input kind and, when present, a few corpus fixtures.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use crate::util::builder::{Image, Layer, docker_archive, oci_archive, oci_layout};
use crate::util::{corpus, imgsize, tmp};

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/imgsize-report.schema.json");
        let text = std::fs::read_to_string(&path).expect("read the schema");
        serde_json::from_str(&text).expect("the schema is JSON")
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| jsonschema::draft202012::new(schema()).expect("the schema compiles"))
}

/// Run `imgsize report INPUT --format json EXTRA..`; returns the document and exit code.
fn report_json(input: &Path, extra: &[&str]) -> (Value, i32) {
    let input = input.to_string_lossy();
    let mut args = vec!["report", input.as_ref(), "--format", "json"];
    args.extend_from_slice(extra);
    let out = imgsize(&args);
    let code = out.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{input}: stdout is not JSON ({e}); exit {code}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, code)
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a non-negative integer: {v}"))
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

fn sum(rows: &Value, field: &str) -> u64 {
    arr(rows).iter().map(|r| u(&r[field])).sum()
}

/// The tree's invariants (docs/json.md, `tree`): it holds every visible byte, each
/// directory is the sum of its children, the counts add up and the cut holds.
fn check_tree(tree: &Value, content: u64, layers: u64, what: &str) {
    struct Seen {
        nodes: u64,
        pruned_bytes: u64,
        pruned_entries: u64,
    }
    fn walk(n: &Value, min: u64, layers: u64, depth: usize, seen: &mut Seen, what: &str) {
        let bytes = u(&n["bytes"]);
        if bytes > 0 {
            assert!(u(&n["layer"]) < layers, "{what}: layer of {n}");
            assert!(n["category"].is_string(), "{what}: category of {n}");
        }
        match n["kind"].as_str() {
            Some("pruned") => {
                seen.pruned_bytes += bytes;
                seen.pruned_entries += u(&n["entries"]);
                assert!(bytes > 0, "{what}: an empty pruned node");
            }
            kind => assert!(
                depth == 0 || bytes >= min,
                "{what}: {kind:?} node of {bytes} bytes under the cut of {min}"
            ),
        }
        let Some(children) = n.get("children") else {
            return;
        };
        let children = arr(children);
        assert_eq!(
            sum(&Value::Array(children.clone()), "bytes"),
            bytes,
            "{what}: children add up"
        );
        // Files without bytes are counted, but have no node when they are pruned.
        assert!(
            sum(&Value::Array(children.clone()), "files") <= u(&n["files"]),
            "{what}: files"
        );
        let pruned = children.iter().filter(|c| c["kind"] == "pruned").count();
        assert!(pruned <= 1, "{what}: one pruned node per folder");
        if pruned == 1 {
            assert_eq!(
                children.last().map(|c| &c["kind"]),
                Some(&Value::from("pruned"))
            );
        }
        for c in children {
            seen.nodes += 1;
            walk(c, min, layers, depth + 1, seen, what);
        }
    }
    let mut seen = Seen {
        nodes: 0,
        pruned_bytes: 0,
        pruned_entries: 0,
    };
    let root = &tree["root"];
    assert_eq!(root["name"], "/", "{what}");
    assert_eq!(
        u(&root["bytes"]),
        content,
        "{what}: the tree holds every visible byte"
    );
    walk(root, u(&tree["min_bytes"]), layers, 0, &mut seen, what);
    assert_eq!(seen.nodes, u(&tree["nodes"]), "{what}: tree.nodes");
    assert!(
        seen.nodes <= u(&tree["max_nodes"]),
        "{what}: within the budget"
    );
    assert_eq!(
        seen.pruned_bytes,
        u(&tree["pruned_bytes"]),
        "{what}: pruned_bytes"
    );
    assert!(
        seen.pruned_entries <= u(&tree["pruned_entries"]),
        "{what}: pruned_entries"
    );
}

/// The layer changes' invariants (docs/json.md, invariant 14): one per real layer, in
/// order, their figures the layer table's, every directory its children's sums.
fn check_layer_changes(doc: &Value, what: &str) {
    fn sums(n: &Value, what: &str) {
        let Some(children) = n["children"].as_array() else {
            return;
        };
        for key in ["bytes", "entries"] {
            for k in 0..4 {
                let below: u64 = children.iter().map(|c| u(&c[key][k])).sum();
                assert_eq!(below, u(&n[key][k]), "{what}: {key}[{k}] of {}", n["name"]);
            }
        }
        children.iter().for_each(|c| sums(c, what));
    }
    let changes = arr(&doc["layer_changes"]);
    let real: Vec<&Value> = arr(&doc["layers"])
        .iter()
        .filter(|l| l["empty_layer"] == false)
        .collect();
    assert_eq!(
        changes.len(),
        real.len(),
        "{what}: one change tree per layer"
    );
    for (i, (c, l)) in changes.iter().zip(real).enumerate() {
        assert_eq!(u(&c["layer"]), i as u64, "{what}: layer_changes order");
        if !l["error"].is_null() {
            // An unreadable layer is left out of the merge.
            continue;
        }
        let b: Vec<u64> = arr(&c["root"]["bytes"]).iter().map(u).collect();
        let what = format!("{what}: layer {i}");
        assert_eq!(b[0] + b[1] + b[3], u(&l["added_bytes"]), "{what}: added");
        assert_eq!(b[0] + b[1], u(&l["content_bytes"]), "{what}: content");
        assert_eq!(b[3], u(&l["wasted_bytes"]), "{what}: wasted");
        sums(&c["root"], &what);
    }
}

/// Validate against the schema and check every documented invariant.
pub(crate) fn check(doc: &Value, what: &str) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: schema violations:\n{}",
        errors.join("\n")
    );

    let t = &doc["totals"];
    let (stored, content, wasted) = (
        u(&t["stored_bytes"]),
        u(&t["content_bytes"]),
        u(&t["wasted_bytes"]),
    );
    assert_eq!(
        stored,
        content + wasted,
        "{what}: stored = content + wasted"
    );
    assert_eq!(
        sum(&doc["paths"], "bytes") + u(&doc["paths_rest"]["bytes"]),
        content,
        "{what}: paths + paths_rest = content_bytes"
    );
    assert_eq!(
        sum(&doc["waste"], "bytes") + u(&doc["waste_rest"]["bytes"]),
        wasted,
        "{what}: waste + waste_rest = wasted_bytes"
    );

    if !doc["tree"].is_null() {
        check_tree(&doc["tree"], content, u(&t["layers"]), what);
    }
    if !doc["layer_changes"].is_null() {
        check_layer_changes(doc, what);
    }

    // Real layers: each once, in index order, and they add up to the totals.
    let real: Vec<&Value> = arr(&doc["layers"])
        .iter()
        .filter(|l| l["empty_layer"] == false)
        .collect();
    let n = u(&t["layers"]);
    assert_eq!(real.len() as u64, n, "{what}: real layers = totals.layers");
    for (i, l) in real.iter().enumerate() {
        assert_eq!(u(&l["index"]), i as u64, "{what}: layers in index order");
        assert_eq!(
            u(&l["added_bytes"]),
            u(&l["content_bytes"]) + u(&l["wasted_bytes"]),
            "{what}: layer {i}: added = content + wasted"
        );
    }
    let total = |field: &str| real.iter().map(|l| u(&l[field])).sum::<u64>();
    assert_eq!(
        total("compressed_bytes"),
        u(&t["compressed_bytes"]),
        "{what}"
    );
    assert_eq!(
        total("uncompressed_bytes"),
        u(&t["uncompressed_bytes"]),
        "{what}"
    );
    assert_eq!(
        total("added_bytes"),
        stored,
        "{what}: stored = sum of added"
    );
    assert_eq!(total("content_bytes"), content, "{what}");
    assert_eq!(total("wasted_bytes"), wasted, "{what}");

    // Categories: every shipped byte in exactly one, per layer too; base and yours add up.
    let cats = arr(&doc["categories"]);
    assert_eq!(
        sum(&doc["categories"], "bytes") + u(&doc["categories_rest"]["bytes"]),
        stored,
        "{what}: categories + categories_rest = stored_bytes"
    );
    for c in cats {
        let name = &c["category"];
        assert_eq!(
            u(&c["bytes"]),
            u(&c["content_bytes"]) + u(&c["wasted_bytes"]),
            "{what}: {name}"
        );
        for (part, base, yours) in [
            ("content_bytes", "base_content_bytes", "your_content_bytes"),
            ("wasted_bytes", "base_wasted_bytes", "your_wasted_bytes"),
        ] {
            assert_eq!(
                u(&c[part]),
                u(&c[base]) + u(&c[yours]),
                "{what}: {name} {part}"
            );
            assert_eq!(
                sum(&c["layers"], part),
                u(&c[part]),
                "{what}: {name} layers"
            );
        }
    }
    if u(&doc["categories_rest"]["rows"]) == 0 {
        assert_eq!(sum(&doc["categories"], "content_bytes"), content, "{what}");
        assert_eq!(sum(&doc["categories"], "wasted_bytes"), wasted, "{what}");
        for l in &real {
            let i = &l["index"];
            let of_layer = |field: &str| -> u64 {
                cats.iter()
                    .flat_map(|c| arr(&c["layers"]))
                    .filter(|cl| &cl["index"] == i)
                    .map(|cl| u(&cl[field]))
                    .sum()
            };
            assert_eq!(
                of_layer("content_bytes"),
                u(&l["content_bytes"]),
                "{what}: layer {i}"
            );
            assert_eq!(
                of_layer("wasted_bytes"),
                u(&l["wasted_bytes"]),
                "{what}: layer {i}"
            );
        }
    }
    assert!(
        sum(&doc["packages"], "bytes") + u(&doc["packages_rest"]["bytes"]) <= content,
        "{what}: packages within content"
    );
    assert!(
        u(&doc["build_only"]["bytes"]) <= u(&doc["build_only"]["closure_bytes"]),
        "{what}: build-only within its closure"
    );
    // Findings: incremental savings add up to the projection, within what ships; your
    // findings first, then the base image's.
    let scoped = |scope: &str| -> u64 {
        arr(&doc["findings"])
            .iter()
            .filter(|f| f["scope"] == scope)
            .map(|f| u(&f["incremental_bytes"]))
            .sum()
    };
    let saved = scoped("yours");
    assert_eq!(
        scoped("base"),
        u(&doc["projected"]["base_saved_bytes"]),
        "{what}: base projection"
    );
    let scopes: Vec<&serde_json::Value> =
        arr(&doc["findings"]).iter().map(|f| &f["scope"]).collect();
    assert!(
        scopes
            .windows(2)
            .all(|w| !(w[0] == "base" && w[1] == "yours")),
        "{what}: yours before base"
    );
    assert!(
        saved + scoped("base") <= stored,
        "{what}: all savings within stored bytes"
    );
    assert_eq!(
        saved,
        u(&doc["projected"]["saved_bytes"]),
        "{what}: projected"
    );
    assert_eq!(
        stored - saved,
        u(&doc["projected"]["stored_bytes"]),
        "{what}"
    );
    assert!(saved <= stored, "{what}: savings within stored bytes");
    for f in arr(&doc["findings"]) {
        assert!(
            u(&f["incremental_bytes"]) <= u(&f["bytes"]),
            "{what}: {}",
            f["rule"]
        );
    }
    headline_invariants(doc, stored, saved, what);
    let base = &doc["base"];
    assert_eq!(
        u(&base["base_stored_bytes"]) + u(&base["your_stored_bytes"]),
        stored,
        "{what}: base + yours = stored"
    );
    for l in &real {
        let in_base = u(&l["index"]) < u(&base["layers"]);
        assert_eq!(
            l["scope"],
            if in_base { "base" } else { "yours" },
            "{what}: scope"
        );
    }

    // Completeness: one problem per unreadable layer.
    let problems = arr(&doc["problems"]).len();
    let unreadable = real.iter().filter(|l| !l["error"].is_null()).count();
    assert_eq!(doc["complete"], problems == 0, "{what}: complete");
    assert_eq!(unreadable, problems, "{what}: one problem per layer error");

    // History: attributed steps name the layers in order; a note means none is.
    let attributed: Vec<u64> = arr(&doc["history"])
        .iter()
        .filter_map(|h| h["layer"].as_u64())
        .collect();
    if doc["history_note"].is_null() && !attributed.is_empty() {
        assert_eq!(attributed, (0..n).collect::<Vec<_>>(), "{what}: history");
    }
    if !doc["history_note"].is_null() {
        assert!(attributed.is_empty(), "{what}: a note and attributions");
        assert!(
            real.len() == arr(&doc["layers"]).len(),
            "{what}: no empty steps listed without attribution"
        );
    }

    // Path rows: their per-layer bytes add up; sorted biggest first.
    let depth = u(&doc["paths_depth"]) as usize;
    let mut last = u64::MAX;
    for p in arr(&doc["paths"]) {
        let bytes = u(&p["bytes"]);
        assert_eq!(sum(&p["layers"], "bytes"), bytes, "{what}: {p}");
        assert!(bytes <= last, "{what}: paths sorted by bytes");
        last = bytes;
        let layer_ids: Vec<u64> = arr(&p["layers"]).iter().map(|l| u(&l["index"])).collect();
        assert!(layer_ids.windows(2).all(|w| w[0] < w[1]), "{what}: {p}");
        assert!(layer_ids.iter().all(|&i| i < n), "{what}: {p}");
        let components = p["path"].as_str().unwrap_or("").matches('/').count();
        assert!(components <= depth, "{what}: {p} deeper than paths_depth");
        if p["kind"] == "dir" {
            assert_eq!(components, depth, "{what}: {p}");
        }
    }
    let mut last = u64::MAX;
    for w in arr(&doc["waste"]) {
        let bytes = u(&w["bytes"]);
        assert!(bytes <= last, "{what}: waste sorted by bytes");
        last = bytes;
        let (added, removed) = (u(&w["added_in_layer"]), u(&w["removed_by_layer"]));
        assert!(added <= removed && removed < n, "{what}: {w}");
        let components = w["path"].as_str().unwrap_or("").matches('/').count();
        assert!(components <= depth, "{what}: {w} deeper than paths_depth");
    }
}

/// An image exercising every field: plain, gzip and zstd layers, overwrites, a file
/// whiteout, a directory whiteout, an opaque directory, hardlinks, a symlink and
/// metadata-only history steps.
fn rich_image() -> Image {
    Image::new("example.com/app:1")
        .layer(
            Layer::new("/bin/sh -c #(nop) ADD file:0123abcd in / ")
                .dir("etc")
                .file("etc/os-release", b"ID=test\n")
                .fill("bin/busybox", 4000)
                .hardlink("bin/sh", "bin/busybox")
                .symlink("bin/ls", "busybox")
                .fill("usr/lib/libc.so.6", 2500)
                .fill("usr/share/doc/README", 700),
        )
        .step("/bin/sh -c #(nop)  ENV LANG=C.UTF-8")
        .layer(
            Layer::new("RUN /bin/sh -c apt-get update # buildkit")
                .fill("var/lib/apt/lists/main_Packages", 3000)
                .fill("var/cache/apt/pkgcache.bin", 1200)
                .fill("etc/os-release", 20)
                .gzip(),
        )
        .layer(
            Layer::new("RUN /bin/sh -c rm -rf /var/lib/apt/lists/* /usr/share/doc # buildkit")
                .whiteout("usr/share/doc")
                .opaque("var/lib/apt/lists")
                .whiteout("var/cache/apt/pkgcache.bin")
                .zstd(),
        )
        .layer(Layer::new("COPY app /app # buildkit").fill("app/main.py", 333))
        .step("/bin/sh -c #(nop)  CMD [\"python3\", \"/app/main.py\"]")
}

fn the_schema_is_a_valid_2020_12_schema() {
    if let Err(e) = jsonschema::draft202012::meta::validate(schema()) {
        panic!(
            "docs/imgsize-report.schema.json: {e} at {}",
            e.instance_path()
        );
    }
    assert_eq!(
        schema()["properties"]["schema_version"]["const"],
        imgsize::render::json::SCHEMA_VERSION,
        "the schema documents the current schema_version"
    );
}

fn docker_archive_report_matches_the_schema_and_adds_up() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&rich_image(), &path).expect("write fixture");
    let (doc, code) = report_json(&path, &[]);
    assert_eq!(code, 0);
    check(&doc, "docker archive");

    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["tool"]["name"], "imgsize");
    assert_eq!(doc["image"]["format"], "docker-archive");
    assert_eq!(doc["image"]["source"], path.to_string_lossy().as_ref());
    assert_eq!(doc["image"]["reference"], "example.com/app:1");
    assert!(doc["image"]["manifest_digest"].is_null());
    assert!(doc["image"]["config_digest"].is_string());
    assert_eq!(doc["complete"], true);
    let t = &doc["totals"];
    assert_eq!(t["layers"], 4);
    assert_eq!(
        t["stored_bytes"],
        8 + 4000 + 2500 + 700 + 3000 + 1200 + 20 + 333
    );
    assert_eq!(t["content_bytes"], 20 + 4000 + 2500 + 333);
    assert_eq!(t["wasted_bytes"], 8 + 700 + 3000 + 1200);
    // bin/busybox and bin/sh (one content, two names), etc/os-release, libc, main.py.
    assert_eq!(t["files"], 5);
    assert_eq!(t["symlinks"], 1);

    // Build steps in order: layer, ENV, three layers, CMD.
    let layers = arr(&doc["layers"]);
    let shape: Vec<(bool, Value)> = layers
        .iter()
        .map(|l| (l["empty_layer"] == true, l["index"].clone()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (false, 0.into()),
            (true, Value::Null),
            (false, 1.into()),
            (false, 2.into()),
            (false, 3.into()),
            (true, Value::Null),
        ]
    );
    assert_eq!(
        layers[1]["created_by"],
        "/bin/sh -c #(nop)  ENV LANG=C.UTF-8"
    );
    assert_eq!(layers[0]["compression"], "tar");
    assert_eq!(layers[0]["digest"], layers[0]["diff_id"]);
    assert_eq!(layers[2]["compression"], "gzip");
    assert_eq!(layers[3]["compression"], "zstd");
    assert_eq!(layers[3]["added_bytes"], 0);
    // Layer 0 shipped 8 + 700 bytes that later layers hid.
    assert_eq!(layers[0]["wasted_bytes"], 708);
    assert_eq!(arr(&doc["history"]).len(), 6);
    assert!(doc["history_note"].is_null());

    let causes: Vec<&str> = arr(&doc["waste"])
        .iter()
        .filter_map(|w| w["cause"].as_str())
        .collect();
    for cause in ["overwritten", "deleted", "opaque_dir"] {
        assert!(causes.contains(&cause), "{cause} in {causes:?}");
    }
}

fn oci_layout_and_archive_reports_match_the_schema() {
    let dir = tmp();
    let layout = dir.path().join("layout");
    let archive = dir.path().join("oci.tar");
    oci_layout(&rich_image(), &layout).expect("layout");
    oci_archive(&rich_image(), &archive).expect("archive");
    for (path, format) in [(&layout, "oci-layout"), (&archive, "oci-archive")] {
        let (doc, code) = report_json(path, &[]);
        assert_eq!(code, 0);
        check(&doc, format);
        assert_eq!(doc["image"]["format"], format);
        assert!(doc["image"]["manifest_digest"].is_string());
        let real: Vec<&Value> = arr(&doc["layers"])
            .iter()
            .filter(|l| l["empty_layer"] == false)
            .collect();
        assert!(real.iter().all(|l| l["media_type"].is_string()));
        assert_eq!(
            real[1]["media_type"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
    }
}

fn compressed_archive_reports_its_outer_compression() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&rich_image(), &path).expect("write fixture");
    let raw = std::fs::read(&path).expect("read");
    let gz = dir.path().join("image.tar.gz");
    std::fs::write(&gz, crate::util::gzip(&raw)).expect("write");
    let (doc, code) = report_json(&gz, &[]);
    assert_eq!(code, 0);
    check(&doc, "gzipped docker archive");
    assert_eq!(doc["image"]["outer_compression"], "gzip");
}

fn top_and_depth_cut_the_tables_without_losing_bytes() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&rich_image(), &path).expect("write fixture");
    for (top, depth) in [("0", "1"), ("1", "1"), ("2", "2"), ("1000", "8")] {
        let (doc, code) = report_json(&path, &["--top", top, "--depth", depth]);
        assert_eq!(code, 0);
        let what = format!("--top {top} --depth {depth}");
        check(&doc, &what);
        assert_eq!(doc["paths_depth"].to_string(), depth, "{what}");
        let top: usize = top.parse().expect("number");
        assert!(arr(&doc["paths"]).len() <= top, "{what}");
        assert!(arr(&doc["waste"]).len() <= top, "{what}");
        if top == 0 {
            assert!(u(&doc["paths_rest"]["rows"]) > 0, "{what}");
            assert_eq!(doc["paths_rest"]["bytes"], doc["totals"]["content_bytes"]);
        }
    }
    // At depth 1 /usr is one directory cell holding libc.
    let (doc, _) = report_json(&path, &["--depth", "1"]);
    let usr = arr(&doc["paths"])
        .iter()
        .find(|p| p["path"] == "/usr")
        .expect("/usr row");
    assert_eq!(usr["kind"], "dir");
    assert_eq!(usr["bytes"], 2500);
}

fn missing_history_is_said_not_guessed() {
    let mut img = rich_image();
    img.with_history = false;
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&img, &path).expect("write fixture");
    let (doc, code) = report_json(&path, &[]);
    assert_eq!(code, 0);
    check(&doc, "no history");
    assert!(doc["history_note"].is_string());
    assert!(arr(&doc["history"]).is_empty());
    let layers = arr(&doc["layers"]);
    assert_eq!(layers.len(), 4);
    assert!(
        layers
            .iter()
            .all(|l| l["empty_layer"] == false && l["created_by"].is_null())
    );
}

fn an_unreadable_layer_makes_the_report_incomplete_but_valid() {
    let dir = tmp();
    let layout = dir.path().join("layout");
    oci_layout(&rich_image(), &layout).expect("layout");
    let (doc, _) = report_json(&layout, &[]);
    let gone = arr(&doc["layers"])
        .iter()
        .find(|l| l["index"] == 2)
        .and_then(|l| l["digest"].as_str())
        .expect("digest of layer 2")
        .to_string();
    let blob = layout.join("blobs/sha256").join(&gone["sha256:".len()..]);
    let declared = std::fs::metadata(&blob).expect("blob").len();
    std::fs::remove_file(&blob).expect("remove blob");

    let (doc, code) = report_json(&layout, &[]);
    assert_eq!(code, 2, "an incomplete report exits 2");
    check(&doc, "missing blob");
    assert_eq!(doc["complete"], false);
    assert_eq!(arr(&doc["problems"]).len(), 1);
    let broken = arr(&doc["layers"])
        .iter()
        .find(|l| l["index"] == 2)
        .expect("layer 2");
    assert!(broken["error"].is_string());
    assert!(broken["compression"].is_null());
    assert_eq!(broken["compressed_bytes"], declared, "the manifest's size");
    assert_eq!(broken["added_bytes"], 0);
    assert!(
        arr(&doc["notes"])
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains("incomplete")))
    );
}

fn corpus_reports_match_the_schema() {
    let dir = corpus();
    let fixtures = [
        "dive/test-docker-image.tar",
        "dive/test-oci-zstd-image.tar",
        "dive/test-oci-estargz-image.tar",
        "skopeo/docker-two-images.tar.xz",
        "moby/emptyLayer.tar",
        "go-containerregistry/mutate/whiteout_dir.tar",
        "go-containerregistry/layout/test_index_media_type",
        "stereoscope/multiplatform_oci_dir",
        "sylabs-oci-tools/hard-link-delete-3",
        "sylabs-oci-tools/whiteout-opaque",
        "jib/jib-image.tar",
        "imgutil/busybox-sparse",
    ];
    let mut checked = 0;
    for name in fixtures {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("note: corpus fixture {name} is absent");
            continue;
        }
        for (depth, tree) in [
            ("1", &["--tree", "--tree-nodes", "6"][..]),
            ("3", &[][..]),
            ("16", &["--tree"][..]),
        ] {
            let mut args = vec!["--depth", depth, "--top", "5"];
            args.extend_from_slice(tree);
            let (doc, code) = report_json(&path, &args);
            assert_eq!(doc["tree"].is_null(), tree.is_empty(), "{name}");
            check(&doc, &format!("{name} --depth {depth}"));
            assert_eq!(code, if doc["complete"] == true { 0 } else { 2 }, "{name}");
        }
        checked += 1;
    }
    assert!(checked > 0, "no corpus fixture found");
}

fn the_schema_rejects_drift() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&rich_image(), &path).expect("write fixture");
    let (doc, _) = report_json(&path, &[]);
    assert!(validator().is_valid(&doc));
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 6] = [
        ("unknown field", |d| d["totals"]["extra"] = 1.into()),
        ("missing field", |d| {
            d["image"].as_object_mut().map(|o| o.remove("variant"));
        }),
        ("negative bytes", |d| {
            d["totals"]["stored_bytes"] = (-1).into()
        }),
        ("bytes as text", |d| {
            d["layers"][0]["added_bytes"] = "1 kB".into()
        }),
        ("index on an empty step", |d| {
            d["layers"][1]["index"] = 3.into()
        }),
        ("unknown cause", |d| d["waste"][0]["cause"] = "gone".into()),
    ];
    for (what, mutate) in mutations {
        let mut bad = doc.clone();
        mutate(&mut bad);
        assert!(!validator().is_valid(&bad), "{what} passed the schema");
    }
}

/// A regular-file entry named `.` or `./` counts in `added_bytes` (so in stored and
/// wasted bytes) but is never merged, so no waste row holds its bytes.
fn a_file_entry_naming_the_root_keeps_the_figures_adding_up() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    let img = Image::new("t").layer(Layer::new("a").file(".", b"hello").fill("x", 3));
    docker_archive(&img, &path).expect("write fixture");
    let (doc, _) = report_json(&path, &[]);
    check(&doc, "file named .");
}

/// A layer that fails while merging (a limit error) leaves the entries merged before the
/// failure in the tree: their bytes count as content while the layer adds nothing.
fn a_layer_failing_mid_merge_keeps_the_figures_adding_up() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    let long = format!("a/{}", "x".repeat(70_000));
    let img = Image::new("t")
        .layer(Layer::new("a").fill("early", 100).fill(&long, 10))
        .layer(Layer::new("b").fill("late", 7));
    docker_archive(&img, &path).expect("write fixture");
    let (doc, code) = report_json(&path, &[]);
    assert_eq!(code, 2);
    check(&doc, "limit error");
}

/// The two headline projections (invariant 12): every edit of yours together, and the
/// structural change alone, which is its one finding's `bytes`.
fn headline_invariants(doc: &serde_json::Value, stored: u64, saved: u64, what: &str) {
    let fixes = &doc["projected"]["fixes"];
    assert!(
        u(&fixes["saved_bytes"]) <= saved,
        "{what}: fixes within all yours"
    );
    assert_eq!(
        u(&fixes["stored_bytes"]),
        stored - u(&fixes["saved_bytes"]),
        "{what}: fixes"
    );
    let s = &doc["projected"]["structural"];
    if s.is_null() {
        return;
    }
    let rule = &s["rule"];
    let of_rule: Vec<&serde_json::Value> = arr(&doc["findings"])
        .iter()
        .filter(|f| &f["rule"] == rule)
        .collect();
    assert_eq!(of_rule.len(), 1, "{what}: one {rule} finding");
    assert_eq!(
        u(&s["saved_bytes"]),
        u(&of_rule[0]["bytes"]),
        "{what}: structural"
    );
    assert_eq!(
        u(&s["stored_bytes"]),
        stored - u(&s["saved_bytes"]),
        "{what}"
    );
    let other = if rule == "multi-stage" {
        "full-base"
    } else {
        "multi-stage"
    };
    assert!(
        arr(&doc["findings"]).iter().all(|f| f["rule"] != other),
        "{what}: one structural change leads"
    );
}

crate::tests![
    the_schema_is_a_valid_2020_12_schema,
    docker_archive_report_matches_the_schema_and_adds_up,
    oci_layout_and_archive_reports_match_the_schema,
    compressed_archive_reports_its_outer_compression,
    top_and_depth_cut_the_tables_without_losing_bytes,
    missing_history_is_said_not_guessed,
    an_unreadable_layer_makes_the_report_incomplete_but_valid,
    corpus_reports_match_the_schema,
    the_schema_rejects_drift,
    a_file_entry_naming_the_root_keeps_the_figures_adding_up,
    a_layer_failing_mid_merge_keeps_the_figures_adding_up,
];
