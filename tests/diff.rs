//! `imgsize diff`: two versions of an app built by the fixture builder, with every
//! delta known by construction; saved reports on either side; the markdown form; the
//! errors that exit 2.

use std::path::Path;

use serde_json::Value;

use crate::snapshots::run_in;
use crate::util::builder::{Image, Layer, docker_archive, oci_layout};
use crate::util::{imgsize, tmp};

const BASE: &str = "/bin/sh -c #(nop) ADD file:aaaa in / ";
const APT: &str = "/bin/sh -c apt-get install -y curl libfoo";
const COPY: &str = "COPY app /app # buildkit";
const MOTD: &str = "/bin/sh -c echo hi > /etc/motd";
const PIP: &str = "/bin/sh -c pip install requests";

/// A dpkg status paragraph.
fn pkg(name: &str, version: &str) -> String {
    format!("Package: {name}\nStatus: install ok installed\nVersion: {version}\n\n")
}

fn base() -> Layer {
    Layer::new(BASE)
        .file("var/lib/dpkg/status", pkg("libc6", "2.36").as_bytes())
        .file(
            "var/lib/dpkg/info/libc6:amd64.list",
            b"/.\n/usr/lib/libc.so.6\n",
        )
        .fill("usr/lib/libc.so.6", 10_000)
}

/// v1: base, apt (curl 7.88 of 400 bytes, libfoo of 250), the app (main.py 100,
/// data.bin 500), a motd layer.
pub(crate) fn v1() -> Image {
    let status = [
        pkg("libc6", "2.36"),
        pkg("curl", "7.88"),
        pkg("libfoo", "1.0"),
    ]
    .concat();
    Image::new("app:1")
        .layer(base())
        .step("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .layer(
            Layer::new(APT)
                .file("var/lib/dpkg/status", status.as_bytes())
                .file("var/lib/dpkg/info/curl:amd64.list", b"/.\n/usr/bin/curl\n")
                .file(
                    "var/lib/dpkg/info/libfoo:amd64.list",
                    b"/.\n/usr/lib/libfoo.so\n",
                )
                .fill("usr/bin/curl", 400)
                .fill("usr/lib/libfoo.so", 250),
        )
        .layer(
            Layer::new(COPY)
                .fill("app/main.py", 100)
                .fill("app/data.bin", 500),
        )
        .layer(Layer::new(MOTD).fill("etc/motd", 20))
}

/// v2: the same base; apt again with curl 8.5 of 450 bytes and no libfoo; the app with
/// data.bin grown to 800; no motd; a pip layer that leaves its cache.
pub(crate) fn v2() -> Image {
    let status = [pkg("libc6", "2.36"), pkg("curl", "8.5")].concat();
    Image::new("app:2")
        .layer(base())
        .step("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .layer(
            Layer::new(APT)
                .file("var/lib/dpkg/status", status.as_bytes())
                .file("var/lib/dpkg/info/curl:amd64.list", b"/.\n/usr/bin/curl\n")
                .fill("usr/bin/curl", 450),
        )
        .layer(
            Layer::new(COPY)
                .fill("app/main.py", 100)
                .fill("app/data.bin", 800),
        )
        .layer(Layer::new(PIP).fill("root/.cache/pip/wheels/requests.whl", 3_000))
}

/// Both versions written into `dir` as `v1.tar` and `v2.tar`.
fn write_both(dir: &Path) {
    docker_archive(&v1(), &dir.join("v1.tar")).expect("write v1");
    docker_archive(&v2(), &dir.join("v2.tar")).expect("write v2");
}

fn diff_json(dir: &Path, old: &str, new: &str, extra: &[&str]) -> Value {
    let mut args = vec!["diff", old, new, "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run_in(dir, &args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("diff JSON")
}

fn change(v: &Value) -> (u64, u64, i64) {
    (
        v["old"].as_u64().expect("old"),
        v["new"].as_u64().expect("new"),
        v["delta"].as_i64().expect("delta"),
    )
}

/// (status, old index, new index, instruction, added bytes delta) of a layer row.
type LayerLine = (String, Option<u64>, Option<u64>, String, i64);

fn layers(d: &Value) -> Vec<LayerLine> {
    d["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| {
            (
                l["status"].as_str().expect("status").to_string(),
                l["old_index"].as_u64(),
                l["new_index"].as_u64(),
                l["instruction"].as_str().unwrap_or("-").to_string(),
                l["added_bytes"]["delta"].as_i64().expect("delta"),
            )
        })
        .collect()
}

fn rows(d: &Value, table: &str, key: &str) -> Vec<(String, String, i64)> {
    d[table]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["status"].as_str().expect("status").to_string(),
                r[key].as_str().expect("key").to_string(),
                r["bytes"]["delta"].as_i64().expect("delta"),
            )
        })
        .collect()
}

fn two_images_give_the_deltas_known_by_construction() {
    let dir = tmp();
    write_both(dir.path());
    let d = diff_json(dir.path(), "v1.tar", "v2.tar", &[]);
    assert_eq!(d["kind"], "diff");
    assert_eq!(d["schema_version"], 1);
    assert_eq!(d["old"]["reference"], "app:1");
    assert_eq!(d["new"]["reference"], "app:2");
    let s1 = v1().layers.iter().map(Layer::added_bytes).sum::<u64>();
    let s2 = v2().layers.iter().map(Layer::added_bytes).sum::<u64>();
    let t = &d["totals"];
    assert_eq!(change(&t["stored_bytes"]), (s1, s2, s2 as i64 - s1 as i64));
    // Content: curl +50, libfoo -250, data.bin +300, motd -20, the pip cache +3000,
    // and the dpkg status shorter by libfoo's paragraph and list file.
    let status_delta = pkg("curl", "8.5").len() as i64
        - (pkg("curl", "7.88").len() + pkg("libfoo", "1.0").len()) as i64
        - "/.\n/usr/lib/libfoo.so\n".len() as i64;
    let content = change(&t["content_bytes"]);
    assert_eq!(content.2, 50 - 250 + 300 - 20 + 3_000 + status_delta);
    assert_eq!(change(&t["layers"]), (4, 4, 0));
    // Visible files: v1 base 3, apt 5 of which its status replaces the base's, app 2,
    // motd 1; v2 base 3, apt 3 (status replacing), app 2, the wheel 1.
    let files = change(&t["files"]);
    assert_eq!((files.0, files.1), (10, 8));
    // On both sides, the only waste is the base's status, which apt's overwrote.
    let hidden = pkg("libc6", "2.36").len() as u64;
    assert_eq!(change(&t["wasted_bytes"]), (hidden, hidden, 0));

    assert_eq!(
        layers(&d),
        vec![
            (
                "unchanged".into(),
                Some(0),
                Some(0),
                "ADD file:aaaa in /".into(),
                0
            ),
            (
                "changed".into(),
                Some(1),
                Some(1),
                "RUN apt-get install -y curl libfoo".into(),
                50 - 250 + status_delta,
            ),
            (
                "changed".into(),
                Some(2),
                Some(2),
                "COPY app /app".into(),
                300
            ),
            (
                "added".into(),
                None,
                Some(3),
                "RUN pip install requests".into(),
                3_000
            ),
            (
                "removed".into(),
                Some(3),
                None,
                "RUN echo hi > /etc/motd".into(),
                -20
            ),
        ]
    );
    assert!(d["layers"][1]["old_diff_id"].is_string());
    assert_ne!(d["layers"][1]["old_diff_id"], d["layers"][1]["diff_id"]);

    let paths = rows(&d, "paths", "path");
    assert_eq!(d["paths_depth"], 3);
    assert_eq!(status_delta, -82);
    assert_eq!(
        paths,
        vec![
            ("appeared".into(), "/root/.cache/pip".into(), 3_000),
            ("grew".into(), "/app/data.bin".into(), 300),
            ("disappeared".into(), "/usr/lib/libfoo.so".into(), -250),
            // The status file lost libfoo's paragraph (and its list file): 82 bytes.
            ("shrank".into(), "/var/lib/dpkg".into(), status_delta),
            ("grew".into(), "/usr/bin/curl".into(), 50),
            ("disappeared".into(), "/etc/motd".into(), -20),
        ]
    );

    let packages: Vec<(String, String, Value, Value, i64)> = d["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["status"].as_str().expect("status").to_string(),
                p["name"].as_str().expect("name").to_string(),
                p["old_version"].clone(),
                p["new_version"].clone(),
                p["bytes"]["delta"].as_i64().expect("delta"),
            )
        })
        .collect();
    assert_eq!(
        packages,
        vec![
            (
                "disappeared".into(),
                "libfoo".into(),
                "1.0".into(),
                Value::Null,
                -250
            ),
            (
                "version".into(),
                "curl".into(),
                "7.88".into(),
                "8.5".into(),
                50
            ),
        ]
    );

    let categories: Vec<(String, i64)> = d["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| {
            (
                c["category"].as_str().expect("category").to_string(),
                c["bytes"]["delta"].as_i64().expect("delta"),
            )
        })
        .collect();
    // The cache is pip-cache, the COPY layer's files app, and the rest (curl, libfoo,
    // the dpkg database, motd) other.
    assert_eq!(
        categories,
        vec![
            ("pip-cache".to_string(), 3_000),
            ("other".to_string(), 50 - 250 - 20 + status_delta),
            ("app".to_string(), 300),
        ]
    );
    let findings: Vec<(String, String, String)> = d["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["status"].as_str().expect("status").to_string(),
                f["rule"].as_str().expect("rule").to_string(),
                f["instruction"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert!(
        findings.contains(&(
            "new".into(),
            "pip-cache".into(),
            "RUN pip install requests".into()
        )),
        "{findings:?}"
    );
    assert!(findings.iter().all(|f| f.0 != "gone"), "{findings:?}");
    assert_eq!(d["notes"], serde_json::json!([]));
}

fn an_image_against_itself_changes_nothing() {
    let dir = tmp();
    write_both(dir.path());
    oci_layout(&v2(), &dir.path().join("v2-layout")).expect("write layout");
    let d = diff_json(dir.path(), "v2.tar", "v2-layout", &[]);
    for t in d["totals"].as_object().expect("totals").values() {
        assert_eq!(t["delta"], 0, "{t}");
    }
    assert!(layers(&d).iter().all(|l| l.0 == "unchanged"));
    for table in ["categories", "paths", "packages", "findings"] {
        assert_eq!(d[table], serde_json::json!([]), "{table}");
    }
}

/// A saved report as OLD gives the rows image-vs-image gives, where they are in its top
/// rows; rows it cut are a note, never "disappeared".
fn a_saved_report_on_either_side() {
    let dir = tmp();
    write_both(dir.path());
    let images = diff_json(dir.path(), "v1.tar", "v2.tar", &[]);
    let (code, saved, err) = run_in(
        dir.path(),
        &["report", "v1.tar", "--format", "json", "--top", "1000"],
    );
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.path().join("v1.json"), saved).expect("write");
    let from_report = diff_json(dir.path(), "v1.json", "v2.tar", &[]);
    for key in [
        "totals",
        "layers",
        "categories",
        "paths",
        "packages",
        "findings",
        "notes",
    ] {
        assert_eq!(from_report[key], images[key], "{key}");
    }
    // A check document holds the report too.
    let (_, check, _) = run_in(
        dir.path(),
        &[
            "check",
            "v2.tar",
            "--format",
            "json",
            "--top",
            "1000",
            "--limit",
            "compressed=1GB",
        ],
    );
    std::fs::write(dir.path().join("v2-check.json"), check).expect("write");
    let reversed = diff_json(dir.path(), "v2-check.json", "v1.tar", &[]);
    assert_eq!(
        reversed["totals"]["content_bytes"]["delta"].as_i64(),
        images["totals"]["content_bytes"]["delta"]
            .as_i64()
            .map(|d| -d)
    );

    // Cut to its top 2 paths: /var/lib/dpkg, /usr/lib/libc.so.6 are kept...
    let (_, cut, _) = run_in(
        dir.path(),
        &["report", "v1.tar", "--format", "json", "--top", "2"],
    );
    std::fs::write(dir.path().join("v1-top2.json"), cut).expect("write");
    let d = diff_json(dir.path(), "v1-top2.json", "v2.tar", &[]);
    let paths = rows(&d, "paths", "path");
    let kept: Vec<&str> = paths.iter().map(|p| p.1.as_str()).collect();
    // v1's top 2 paths: /usr/lib/libc.so.6 (10000) and /app/data.bin (500). /usr/bin/curl,
    // /var/lib/dpkg and /root/.cache/pip are not in them: not known, so not listed.
    assert_eq!(kept, vec!["/app/data.bin"]);
    assert!(
        paths
            .iter()
            .all(|p| p.0 != "disappeared" && p.0 != "appeared"),
        "{paths:?}"
    );
    let notes = d["notes"].as_array().expect("notes");
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("paths of NEW are not in the top 2 rows of OLD"))),
        "{notes:?}"
    );
}

fn markdown_diff() {
    let dir = tmp();
    write_both(dir.path());
    let (code, out, err) = run_in(
        dir.path(),
        &["diff", "v1.tar", "v2.tar", "--format", "markdown"],
    );
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("markdown_diff", out);
}

fn table_diff_names_both_images() {
    let dir = tmp();
    write_both(dir.path());
    let (code, out, err) = run_in(dir.path(), &["diff", "v1.tar", "v2.tar", "--width", "120"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Diff app:1 → app:2\n"), "{out}");
    assert!(out.contains("RUN pip install requests"), "{out}");
    assert!(out.contains("+3.00 kB"), "{out}");
    insta::assert_snapshot!("table_diff", out);
}

fn bad_inputs_exit_2_naming_the_file() {
    let dir = tmp();
    write_both(dir.path());
    let missing = dir.path().join("nope.tar");
    let out = imgsize(&[
        "diff",
        &missing.to_string_lossy(),
        &dir.path().join("v2.tar").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.tar"), "{err}");

    let other = dir.path().join("other.json");
    std::fs::write(&other, r#"{"schema_version": 1, "tool": {"name": "dive"}}"#).expect("write");
    let out = imgsize(&[
        "diff",
        &other.to_string_lossy(),
        &dir.path().join("v2.tar").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("other.json: tool.name"), "{err}");

    let newer = dir.path().join("newer.json");
    std::fs::write(
        &newer,
        r#"{"schema_version": 7, "tool": {"name": "imgsize"}}"#,
    )
    .expect("write");
    let out = imgsize(&[
        "diff",
        &dir.path().join("v1.tar").to_string_lossy(),
        &newer.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer.json: schema_version: 7"), "{err}");

    // A diff document is not a report.
    let (_, d, _) = run_in(
        dir.path(),
        &["diff", "v1.tar", "v2.tar", "--format", "json"],
    );
    std::fs::write(dir.path().join("d.json"), d).expect("write");
    let (code, _, err) = run_in(dir.path(), &["diff", "d.json", "v2.tar"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("d.json: kind: a \"diff\" document, not a report"),
        "{err}"
    );
}

/// A saved report at another depth: paths are not compared, and a note says why.
fn paths_at_different_depths_are_not_compared() {
    let dir = tmp();
    write_both(dir.path());
    let (_, saved, _) = run_in(dir.path(), &["report", "v1.tar", "--format", "json"]);
    std::fs::write(dir.path().join("v1.json"), saved).expect("write");
    let d = diff_json(dir.path(), "v1.json", "v2.tar", &["--depth", "2"]);
    assert_eq!(d["paths_depth"], 0);
    assert_eq!(d["paths"], serde_json::json!([]));
    assert_eq!(
        d["notes"],
        serde_json::json!([
            "paths are not compared: OLD's are at depth 3, NEW's at depth 2 (use the depth of the saved report)"
        ])
    );
    // Everything else is still there.
    let images = diff_json(dir.path(), "v1.tar", "v2.tar", &[]);
    for key in ["totals", "layers", "categories", "packages", "findings"] {
        assert_eq!(d[key], images[key], "{key}");
    }
}

/// `check --baseline`: growth against a saved report of v1, on v2.
fn check_measures_growth_against_a_saved_report() {
    let dir = tmp();
    write_both(dir.path());
    let (_, saved, _) = run_in(dir.path(), &["report", "v1.tar", "--format", "json"]);
    std::fs::write(dir.path().join("v1.json"), &saved).expect("write");
    let v: Value = serde_json::from_str(&saved).expect("json");
    let (_, now, _) = run_in(dir.path(), &["report", "v2.tar", "--format", "json"]);
    let now: Value = serde_json::from_str(&now).expect("json");
    let then = v["totals"]["compressed_bytes"].as_u64().expect("bytes");
    let grew = now["totals"]["compressed_bytes"].as_u64().expect("bytes") - then;
    assert!(grew > 0);
    let check = |limit: &str| {
        run_in(
            dir.path(),
            &[
                "check",
                "v2.tar",
                "--baseline",
                "v1.json",
                "--limit",
                limit,
                "--format",
                "json",
            ],
        )
    };
    let (code, _, err) = check("growth.bytes=0");
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = check("growth.bytes=1MB");
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["results"][0]["measured"], grew);
    // Named by its file, and the image it is a report of.
    assert_eq!(doc["baseline"], "v1.json (a report of v1.tar)");
    let (code, out, err) = check("growth.percent=1000");
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("json");
    let percent = doc["results"][0]["measured"].as_f64().expect("percent");
    assert_eq!(percent, grew as f64 * 100.0 / then as f64);
    // The baseline's errors name it.
    let (code, _, err) = run_in(
        dir.path(),
        &[
            "check",
            "v2.tar",
            "--baseline",
            "missing.json",
            "--limit",
            "growth.bytes=0",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("missing.json"), "{err}");
}

/// Every corpus image diffed against itself, and against its own JSON report read
/// back, changes nothing.
fn every_corpus_image_against_itself_and_its_report() {
    use imgsize::analyze::SummaryOptions;
    use imgsize::analyze::diff::{LayerStatus, diff, snapshot};
    use imgsize::render::{Document, Json, Renderer};
    use imgsize::source::SelectOptions;
    use imgsize::source::report::snapshot_of;

    let root = crate::util::corpus();
    let inv: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("inventory.json")).expect("inventory"),
    )
    .expect("inventory parses");
    let mut checked = 0;
    let mut fails = Vec::new();
    for name in inv["fixtures"].as_object().expect("fixtures").keys() {
        let summary = SummaryOptions {
            top: u32::MAX as usize,
            depth: 3,
            base_layers: None,
            tree_nodes: None,
        };
        let select = SelectOptions {
            verify: imgsize::bytes::VerifyPolicy::None,
            ..SelectOptions::default()
        };
        let Ok(r) = crate::util::analyze_with(&root.join(name), &select, summary) else {
            continue;
        };
        let image = snapshot(&r);
        let mut json = Vec::new();
        Json.render(&Document::Report(&r), &mut json)
            .expect("render");
        let doc: Value = serde_json::from_slice(&json).expect("report JSON");
        let saved = match snapshot_of(name, &doc) {
            Ok(s) => s,
            Err(e) => {
                fails.push(format!("{name}: {e}"));
                continue;
            }
        };
        for (what, other) in [("itself", &image), ("its report", &saved)] {
            let d = diff(&image, other, 20);
            let t = d.totals;
            let zero = [
                t.compressed_bytes,
                t.uncompressed_bytes,
                t.stored_bytes,
                t.content_bytes,
                t.wasted_bytes,
                t.files,
                t.layers,
            ]
            .iter()
            .all(|c| c.delta == 0);
            let same =
                zero && d.layers.iter().all(|l| {
                    // Layers without a diff_id (legacy archives) match by digest or
                    // instruction; read with --verify none and without history, a
                    // legacy layer has neither and cannot be matched.
                    l.status == LayerStatus::Unchanged
                        || (l.status == LayerStatus::Changed
                            && l.diff_id.is_none()
                            && l.added_bytes.delta == 0
                            && l.compressed_bytes.delta == 0)
                        || (l.diff_id.is_none() && l.instruction.is_none())
                }) && d.categories.is_empty()
                    && d.paths.is_empty()
                    && d.packages.is_empty()
                    && d.findings.is_empty();
            if !same {
                fails.push(format!("{name} against {what}: {:?}", d.layers));
            }
        }
        checked += 1;
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    assert!(checked > 0, "no corpus image was analysed");
}

/// The diff document validates against docs/imgsize-diff.schema.json, whole and cut,
/// and the schema catches a wrong field.
fn the_diff_document_follows_its_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/imgsize-diff.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("schema JSON");
    jsonschema::draft202012::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let dir = tmp();
    write_both(dir.path());
    let (_, cut, _) = run_in(
        dir.path(),
        &["report", "v1.tar", "--format", "json", "--top", "2"],
    );
    std::fs::write(dir.path().join("v1-top2.json"), cut).expect("write");
    for (old, new, extra) in [
        ("v1.tar", "v2.tar", "20"),
        ("v2.tar", "v1.tar", "1"),
        ("v1-top2.json", "v2.tar", "20"),
    ] {
        let d = diff_json(dir.path(), old, new, &["--top", extra]);
        let errors: Vec<String> = validator.iter_errors(&d).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{old} → {new}: {errors:?}");
    }
    let mut bad = diff_json(dir.path(), "v1.tar", "v2.tar", &[]);
    bad["layers"][0]["status"] = "moved".into();
    assert!(!validator.is_valid(&bad));
}

crate::tests![
    two_images_give_the_deltas_known_by_construction,
    an_image_against_itself_changes_nothing,
    a_saved_report_on_either_side,
    markdown_diff,
    table_diff_names_both_images,
    bad_inputs_exit_2_naming_the_file,
    paths_at_different_depths_are_not_compared,
    check_measures_growth_against_a_saved_report,
    every_corpus_image_against_itself_and_its_report,
    the_diff_document_follows_its_schema,
];
