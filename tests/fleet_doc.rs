//! The fleet report's JSON contract: `imgsize fleet --format json` of real scan
//! records, with and without `--baseline`, validates against
//! docs/imgsize-fleet.schema.json, its figures keep the relations docs/json.md ("Fleet
//! report") states, and the schema refuses a broken document.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::scan::fleet_image;
use crate::util::builder::docker_archive;
use crate::util::{imgsize, imgsize_json, tmp};

/// `fleet_image(n)` written as `dir/NAME`; its path.
pub(crate) fn archive(dir: &Path, name: &str, n: usize) -> String {
    let path = dir.join(name);
    docker_archive(&fleet_image(n), &path).expect("write fixture");
    path.to_string_lossy().into_owned()
}

/// `imgsize scan` of `names` written to `dir/FILE`; its path. A missing name is an
/// error record (and exit 1), not a failure.
pub(crate) fn scan_records(dir: &Path, file: &str, names: &[String]) -> PathBuf {
    let mut args = vec!["scan", "--no-progress"];
    args.extend(names.iter().map(String::as_str));
    let out = imgsize(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "scan: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join(file);
    std::fs::write(&path, &out.stdout).expect("write the records");
    path
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/imgsize-fleet.schema.json");
        let text = std::fs::read_to_string(path).expect("read the schema");
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::draft202012::meta::validate(&schema).expect("a valid draft 2020-12 schema");
        jsonschema::draft202012::new(&schema).expect("the schema compiles")
    })
}

/// The document validates against the schema.
pub(crate) fn check(doc: &Value, what: &str) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{doc:#}");
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn rows(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

/// The relations docs/json.md states between the figures.
fn check_figures(doc: &Value, what: &str) {
    let t = &doc["totals"];
    assert!(u(&t["names"]) >= u(&t["images"]), "{what}: names");
    assert_eq!(u(&t["images"]), rows(&doc["images"]).len() as u64, "{what}");
    assert_eq!(u(&t["errors"]), rows(&doc["errors"]).len() as u64, "{what}");
    for (over, distinct) in [
        ("layers", "distinct_layers"),
        ("compressed_bytes", "distinct_compressed_bytes"),
        ("stored_bytes", "distinct_stored_bytes"),
    ] {
        assert!(u(&t[distinct]) <= u(&t[over]), "{what}: {distinct}");
    }
    let images = rows(&doc["images"]);
    let summed = |k: &str| images.iter().map(|i| u(&i[k])).sum::<u64>();
    for k in ["layers", "compressed_bytes", "stored_bytes", "wasted_bytes"] {
        assert_eq!(summed(k), u(&t[k]), "{what}: {k} over images");
    }
    for l in rows(&doc["shared_layers"]) {
        assert_eq!(
            u(&l["pulled_bytes"]),
            u(&l["images"]) * u(&l["compressed_bytes"]),
            "{what}: {l}"
        );
    }
    for f in rows(&doc["fixes"]) {
        assert!(u(&f["bytes"]) <= u(&f["summed_bytes"]), "{what}: {f}");
    }
    for r in rows(&doc["rules"]) {
        assert!(u(&r["bytes"]) <= u(&r["summed_bytes"]), "{what}: {r}");
        assert!(u(&r["base_bytes"]) <= u(&r["bytes"]), "{what}: {r}");
    }
}

/// Every way the schema must refuse a document made from `good`.
fn assert_broken_fail(good: &Value) {
    let mut broken: Vec<(&str, Value)> = Vec::new();
    let mut edit = |what, f: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        f(&mut doc);
        broken.push((what, doc));
    };
    edit("a missing field", &|d| {
        d.as_object_mut().map(|o| o.remove("change"));
    });
    edit("an unknown field", &|d| d["fleet_size"] = 1.into());
    edit("another kind", &|d| d["kind"] = "report".into());
    edit("a negative figure", &|d| {
        d["totals"]["stored_bytes"] = (-1).into();
    });
    edit("a string for a number", &|d| {
        d["images"][0]["own_bytes"] = "12".into();
    });
    edit("an image without names", &|d| {
        d["images"][0]["names"] = serde_json::json!([]);
    });
    edit("an unknown scope", &|d| {
        d["fixes"][0]["scope"] = "mine".into()
    });
    edit("a shared layer of one image", &|d| {
        d["shared_layers"][0]["images"] = 1.into();
    });
    edit("a baseline without its layers", &|d| {
        d["change"]["before"]
            .as_object_mut()
            .map(|o| o.remove("layers"));
    });
    edit("a changed image without its bytes", &|d| {
        d["change"]["changed"][0]
            .as_object_mut()
            .map(|o| o.remove("after_bytes"));
    });
    for (what, doc) in broken {
        assert_ne!(&doc, good, "{what}: the edit changed nothing");
        assert!(!validator().is_valid(&doc), "{what} passed the schema");
    }
}

fn the_fleet_document_follows_its_schema() {
    let dir = tmp();
    let d = dir.path();
    // The baseline: app1 bigger than it will be, and an image that will be gone.
    let before = [
        archive(d, "app0.tar", 0),
        archive(d, "app1.tar", 5),
        archive(d, "old.tar", 4),
        d.join("missing.tar").to_string_lossy().into_owned(),
    ];
    let records = scan_records(d, "before.jsonl", &before);
    let base = imgsize_json(&["fleet", &records.to_string_lossy(), "--format", "json"]);
    check(&base, "without --baseline");
    check_figures(&base, "without --baseline");
    assert!(base["change"].is_null());
    assert_eq!(base["totals"]["images"], 3);
    assert_eq!(base["totals"]["errors"], 1);
    assert!(
        !rows(&base["shared_layers"]).is_empty(),
        "the base is shared"
    );
    assert!(!rows(&base["fixes"]).is_empty(), "the pip cache is a fix");
    let saved = d.join("base.json");
    std::fs::write(&saved, serde_json::to_vec(&base).expect("JSON")).expect("save");

    // Now: app1 rebuilt smaller, a second name for app0, a new image; old.tar gone.
    let copy = d.join("app0-copy.tar");
    std::fs::copy(&before[0], &copy).expect("copy");
    let now_names = [
        before[0].clone(),
        copy.to_string_lossy().into_owned(),
        archive(d, "app1.tar", 1),
        archive(d, "app2.tar", 2),
        before[3].clone(),
    ];
    let records = scan_records(d, "now.jsonl", &now_names);
    let now = imgsize_json(&[
        "fleet",
        &records.to_string_lossy(),
        "--baseline",
        &saved.to_string_lossy(),
        "--format",
        "json",
    ]);
    check(&now, "with --baseline");
    check_figures(&now, "with --baseline");
    assert_eq!(now["totals"]["images"], 3);
    assert_eq!(now["totals"]["names"], 4);
    let change = &now["change"];
    assert_eq!(change["before"], base["totals"]);
    assert_eq!(
        change["added"],
        serde_json::json!([now_names[1], now_names[3]])
    );
    assert_eq!(change["removed"], serde_json::json!([before[2]]));
    let changed = rows(&change["changed"]);
    assert_eq!(changed.len(), 1, "{change:#}");
    assert_eq!(changed[0]["name"], before[1]);
    assert!(u(&changed[0]["before_bytes"]) > u(&changed[0]["after_bytes"]));
    assert_broken_fail(&now);
}

crate::tests![the_fleet_document_follows_its_schema];
