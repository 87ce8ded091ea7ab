//! `imgsize scan`: six docker archives that share their two base layers, and a path
//! that does not exist, read in one run. Each record's figures are the report's for
//! that image, the missing one is an error record and exit 1, `--shard I/N` cuts the
//! names by the documented FNV-1a 64 hash, `--shards N` takes its index from
//! `JOB_COMPLETION_INDEX`, and bad usage is one line and exit 2.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::registry::{Imgsize, Registry, require_tools};
use crate::util::tmp;

/// The two base layers every fixture shares (the same content, so the same digest),
/// ended by the base's `CMD`.
pub(crate) fn fleet_image(n: usize) -> Image {
    Image::new(&format!("app{n}:1"))
        .layer(
            Layer::new("ADD rootfs.tar /")
                .fill("bin/sh", 5000)
                .fill("usr/share/doc/base/README", 1200),
        )
        .layer(Layer::new("/bin/sh -c apt-get install -y libx").fill("usr/lib/libx.so", 3000))
        .step("/bin/sh -c #(nop)  CMD [\"sh\"]")
        .layer(
            Layer::new("/bin/sh -c pip install app")
                .fill("app/main.py", 100 * (n as u64 + 1))
                .fill("root/.cache/pip/wheels/app.whl", 50 * (n as u64 + 1)),
        )
}

/// Six archives and one missing path, as the names to scan.
fn fleet(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = (0..6)
        .map(|n| {
            let path = dir.join(format!("app{n}.tar"));
            docker_archive(&fleet_image(n), &path).expect("write fixture");
            path.to_string_lossy().into_owned()
        })
        .collect();
    names.push(dir.join("missing.tar").to_string_lossy().into_owned());
    names
}

/// Run `imgsize` with only the environment a test gives (no shard index, no format).
fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgsize"));
    cmd.args(args)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("IMGSIZE_FORMAT")
        .env_remove("IMGSIZE_PLATFORM")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run imgsize");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("run imgsize")
}

fn scan(names: &[String], extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec!["scan"];
    args.extend_from_slice(extra);
    args.extend(names.iter().map(String::as_str));
    run(&args, env, None)
}

/// Every stdout line, parsed: each must be one JSON object.
fn records(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn record_names(o: &Output) -> Vec<String> {
    records(o)
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect()
}

/// Exit 2 and one `imgsize: error:` line naming every one of `names`.
fn assert_usage_error(o: &Output, names: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(o.stdout.is_empty(), "no records on bad usage");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].starts_with("imgsize: error: "), "{}", lines[0]);
    for n in names {
        assert!(lines[0].contains(n), "{:?} should name {n}", lines[0]);
    }
}

/// The documented shard hash: FNV-1a, 64 bits, of the name's bytes.
fn fnv1a(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn report_json(name: &str) -> Value {
    let o = run(
        &["report", "--no-progress", "--format", "json", name],
        &[],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("report JSON")
}

/// A record's figures, field by field, from the report document of the same image.
fn assert_record_is_the_report(rec: &Value, report: &Value) {
    assert_eq!(rec["schema_version"], report["schema_version"]);
    assert_eq!(rec["kind"], "image");
    assert_eq!(rec["complete"], true);
    for key in [
        "compressed_bytes",
        "uncompressed_bytes",
        "stored_bytes",
        "content_bytes",
        "wasted_bytes",
    ] {
        assert_eq!(rec["totals"][key], report["totals"][key], "totals.{key}");
    }
    let image = &report["image"];
    let digest = if image["manifest_digest"].is_null() {
        &image["config_digest"]
    } else {
        &image["manifest_digest"]
    };
    assert_eq!(&rec["digest"], digest);
    assert_eq!(rec["platform"], "linux/amd64");
    assert_eq!(rec["base"]["layers"], report["base"]["layers"]);
    assert_eq!(rec["base"]["name"], report["base"]["name"]);
    let layers: Vec<Value> = report["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter(|l| l["empty_layer"] == false)
        .map(|l| {
            serde_json::json!({
                "digest": l["digest"],
                "compressed_bytes": l["compressed_bytes"],
                "added_bytes": l["added_bytes"],
            })
        })
        .collect();
    assert_eq!(rec["layers"], Value::Array(layers));
    let categories: Vec<Value> = report["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .take(5)
        .map(|c| serde_json::json!({"category": c["category"], "bytes": c["bytes"]}))
        .collect();
    assert_eq!(rec["categories"], Value::Array(categories));
    let findings: Vec<Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f["rule"], "scope": f["scope"], "layer": f["layer"], "bytes": f["bytes"],
                "compressed_bytes": f["compressed_bytes"],
            })
        })
        .collect();
    assert_eq!(rec["findings"], Value::Array(findings));
}

fn records_carry_the_report_figures_and_a_failure_is_a_record() {
    let dir = tmp();
    let names = fleet(dir.path());
    let o = scan(&names, &[], &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "some image failed: {err}");
    let recs = records(&o);
    assert_eq!(recs.len(), 7, "one line per image");
    for (rec, name) in recs.iter().zip(&names) {
        assert_eq!(rec["name"].as_str(), Some(name.as_str()));
    }
    for (n, rec) in recs.iter().take(6).enumerate() {
        let report = report_json(&names[n]);
        assert_record_is_the_report(rec, &report);
        assert_eq!(rec["base"]["layers"], 2, "the base ends at its CMD");
        let own = rec["layers"][2]["added_bytes"].as_u64().expect("bytes");
        assert_eq!(own, 150 * (n as u64 + 1));
        assert_eq!(rec["totals"]["stored_bytes"], 5000 + 1200 + 3000 + own);
    }
    let digests = |range: std::ops::Range<usize>| -> BTreeSet<String> {
        recs[..6]
            .iter()
            .flat_map(|r| range.clone().map(move |i| r["layers"][i]["digest"].clone()))
            .map(|d| d.as_str().expect("a layer digest").to_string())
            .collect()
    };
    assert_eq!(
        digests(0..2).len(),
        2,
        "the shared base layers: two digests"
    );
    assert_eq!(digests(2..3).len(), 6, "each image's own layer");
    let missing = &recs[6];
    assert_eq!(missing["kind"], "error");
    assert_eq!(missing["schema_version"], 1);
    let error = missing["error"].as_str().expect("error");
    assert!(
        error.contains(&names[6]) && !error.contains('\n'),
        "{error}"
    );
    let keys: BTreeSet<&str> = missing
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["schema_version", "kind", "name", "error"])
    );
    // Progress: one line per image, then the summary.
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 8, "{err}");
    assert!(
        lines[0].starts_with("[1/7] ") && lines[0].contains("3 layers"),
        "{err}"
    );
    assert!(
        lines[6].starts_with("[7/7] ") && lines[6].contains("error"),
        "{err}"
    );
    let summary = lines[7];
    assert!(summary.contains("7 images, 1 errors"), "{summary}");
    assert!(summary.contains("8 distinct layers"), "{summary}");
}

fn a_scan_of_readable_images_exits_0_and_writes_the_output_file() {
    let dir = tmp();
    let names = fleet(dir.path());
    let out = dir.path().join("records.jsonl");
    let out_arg = out.to_string_lossy().into_owned();
    let o = scan(&names[..6], &["--no-progress", "--output", &out_arg], &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "records go to the file"
    );
    let text = std::fs::read_to_string(&out).expect("read records");
    let names_in_file: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("a JSON line")["name"]
                .as_str()
                .expect("name")
                .to_string()
        })
        .collect();
    assert_eq!(names_in_file, names[..6]);
}

fn shards_partition_the_names_by_their_hash() {
    let dir = tmp();
    let names = fleet(dir.path());
    let mut seen = Vec::new();
    for i in 0..3u64 {
        let flag = format!("{i}/3");
        let o = scan(&names, &["--no-progress", "--shard", &flag], &[]);
        let got = record_names(&o);
        let want: Vec<String> = names
            .iter()
            .filter(|n| fnv1a(n) % 3 == i)
            .cloned()
            .collect();
        assert_eq!(got, want, "shard {flag}");
        let failed = want.iter().any(|n| n.ends_with("missing.tar"));
        assert_eq!(
            o.status.code(),
            Some(if failed { 1 } else { 0 }),
            "shard {flag}"
        );
        seen.extend(got);
    }
    seen.sort();
    let mut all = names.clone();
    all.sort();
    assert_eq!(seen, all, "every image in exactly one shard");
}

fn shards_from_the_job_index_are_the_shard_flag() {
    let dir = tmp();
    let names = fleet(dir.path());
    let flag = scan(&names, &["--no-progress", "--shard", "1/3"], &[]);
    let job = scan(
        &names,
        &["--no-progress", "--shards", "3"],
        &[("JOB_COMPLETION_INDEX", "1")],
    );
    assert_eq!(job.status.code(), flag.status.code());
    assert_eq!(record_names(&job), record_names(&flag));
    assert_eq!(job.stdout, flag.stdout);
    let absent = scan(&names, &["--shards", "3"], &[]);
    assert_usage_error(&absent, &["JOB_COMPLETION_INDEX"]);
    for bad in ["3", "x", "-1"] {
        let o = scan(&names, &["--shards", "3"], &[("JOB_COMPLETION_INDEX", bad)]);
        assert_usage_error(&o, &["JOB_COMPLETION_INDEX"]);
    }
}

fn a_bad_shard_is_one_line_and_exit_2() {
    let names = vec!["app.tar".to_string()];
    assert_usage_error(&scan(&names, &["--shard", "3/3"], &[]), &["--shard", "3/3"]);
    assert_usage_error(&scan(&names, &["--shard", "0/0"], &[]), &["--shard"]);
    assert_usage_error(&scan(&names, &["--shard", "1"], &[]), &["--shard"]);
    assert_usage_error(&scan(&names, &["--shards", "0"], &[]), &["--shards"]);
    assert_usage_error(&run(&["scan"], &[], None), &["no images"]);
}

fn an_image_list_skips_comments_and_blank_lines() {
    let dir = tmp();
    let names = fleet(dir.path());
    let list: PathBuf = dir.path().join("images.txt");
    let text = format!(
        "# the fleet\n\n{}\n   # indented comment\n{}\n\n{}\n",
        names[1], names[2], names[0]
    );
    std::fs::write(&list, &text).expect("write list");
    let list_arg = list.to_string_lossy().into_owned();
    let o = scan(&names[3..4], &["--no-progress", "--images", &list_arg], &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let want = [&names[3], &names[1], &names[2], &names[0]].map(String::as_str);
    assert_eq!(record_names(&o), want);
    let o = run(
        &["scan", "--no-progress", "--images", "-"],
        &[],
        Some(&text),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        record_names(&o),
        [&names[1], &names[2], &names[0]].map(String::as_str)
    );
}

fn names_are_visible_on_the_terminal_and_escaped_in_json() {
    let dir = tmp();
    let name = dir
        .path()
        .join("evil\u{1b}[31m\u{202e}.tar")
        .to_string_lossy()
        .into_owned();
    let o = scan(std::slice::from_ref(&name), &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(err.contains("[1/1] ") && err.contains("error"), "{err}");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains('\u{1b}'),
        "JSON escapes control characters: {text:?}"
    );
    let recs = records(&o);
    assert_eq!(recs[0]["kind"], "error");
    assert_eq!(recs[0]["name"].as_str(), Some(name.as_str()));
}

fn a_manifest_only_scan_has_the_manifest_only_report_figures() {
    let dir = tmp();
    let names = fleet(dir.path());
    let o = scan(&names[..2], &["--no-progress", "--manifest-only"], &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (rec, name) in records(&o).iter().zip(&names) {
        let r = run(
            &[
                "report",
                "--no-progress",
                "--manifest-only",
                "--format",
                "json",
                name,
            ],
            &[],
            None,
        );
        let report: Value = serde_json::from_slice(&r.stdout).expect("report JSON");
        assert_eq!(
            rec["totals"]["compressed_bytes"],
            report["totals"]["compressed_bytes"]
        );
        assert_eq!(rec["totals"]["stored_bytes"], 0);
        assert_eq!(rec["layers"].as_array().map(Vec::len), Some(3));
    }
}

/// Every record, an image's and an error's, validates against
/// docs/imgsize-scan.schema.json, and the schema catches a wrong field.
fn records_follow_their_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/imgsize-scan.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("schema JSON");
    jsonschema::draft202012::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let dir = tmp();
    let names = fleet(dir.path());
    let recs = records(&scan(&names, &["--no-progress"], &[]));
    assert_eq!(recs.len(), 7);
    for rec in &recs {
        let errors: Vec<String> = validator.iter_errors(rec).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{rec}: {errors:?}");
    }
    assert!(
        recs.iter()
            .any(|r| r["findings"].as_array().is_some_and(|f| !f.is_empty())),
        "the pip cache is a finding"
    );
    let mut bad = recs[0].clone();
    bad["totals"]["files"] = 1.into();
    assert!(!validator.is_valid(&bad));
    let mut bad = recs[6].clone();
    bad["kind"] = "image".into();
    assert!(!validator.is_valid(&bad));
}

/// The repositories and tags pushed to a registry: five images across three
/// repositories, three tags on `team/a`.
const PUSHED: [&str; 5] = [
    "team/a:v1",
    "team/a:v2",
    "team/a:dev",
    "team/b:v1",
    "other/c:v1",
];

/// A registry holding [`PUSHED`], each a different image, pushed as docker archives.
fn fleet_registry() -> Registry {
    let registry = Registry::http();
    for (n, name_tag) in PUSHED.iter().enumerate() {
        let path = registry.dir().join(format!("app{n}.tar"));
        docker_archive(&fleet_image(n), &path).expect("write fixture");
        registry.push(&format!("docker-archive:{}", path.display()), name_tag);
    }
    registry
}

/// `imgsize scan --registry HOST` with these flags, isolated from the host's
/// credentials.
fn scan_registry(registry: &Registry, extra: &[&str]) -> Output {
    let host = registry.host();
    let mut args = vec!["scan", "--no-progress", "--no-cache", "--registry", &host];
    args.extend_from_slice(extra);
    Imgsize::new(&args).output()
}

fn a_registry_listing_scans_the_picked_tags_with_the_report_figures() {
    require_tools();
    let registry = fleet_registry();
    let o = scan_registry(
        &registry,
        &["--repositories", "team/*", "--tags", "v*|nope"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let got: BTreeSet<String> = record_names(&o).into_iter().collect();
    let want: BTreeSet<String> = ["team/a:v1", "team/a:v2", "team/b:v1"]
        .iter()
        .map(|n| registry.reference(n))
        .collect();
    assert_eq!(got, want);
    for rec in records(&o) {
        let name = rec["name"].as_str().expect("name");
        let out = Imgsize::new(&["report", name, "--format", "json", "--no-cache"]).output();
        assert_eq!(out.status.code(), Some(0), "report {name}");
        let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
        assert_eq!(
            rec["totals"]["stored_bytes"], report["totals"]["stored_bytes"],
            "{name}"
        );
    }
    // `**` crosses segments, `*` does not; no --tags is every tag.
    let all = scan_registry(&registry, &["--repositories", "**"]);
    assert_eq!(record_names(&all).len(), PUSHED.len());
    let none = scan_registry(&registry, &["--repositories", "*"]);
    assert_eq!(none.status.code(), Some(2), "no repository has one segment");
}

fn a_registry_listing_follows_every_page() {
    require_tools();
    let registry = fleet_registry();
    let o = scan_registry(&registry, &["--repositories", "**", "--page-size", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let got: BTreeSet<String> = record_names(&o).into_iter().collect();
    let want: BTreeSet<String> = PUSHED.iter().map(|n| registry.reference(n)).collect();
    assert_eq!(got, want);
    let log = registry.log();
    let gets = |path: &str| {
        log.lines()
            .filter(|l| l.contains(&format!("\"GET /v2/{path}")))
            .count()
    };
    assert!(
        gets("_catalog") >= 3,
        "one catalog page per repository:\n{log}"
    );
    // Debian's registry (distribution 2.8) serves every tag in one page whatever `n`
    // asks (tag lists page from distribution 3 on): the tags of `team/a` are all there
    // all the same, above.
    assert!(
        gets("team/a/tags/list?n=1") >= 1,
        "the page size is asked:\n{log}"
    );
}

fn a_registry_without_a_catalog_is_exit_2_naming_it() {
    require_tools();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let host = format!("127.0.0.1:{port}");
    let o = Imgsize::new(&["scan", "--no-progress", "--registry", &host]).output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&host), "{err}");
}

crate::tests![
    records_carry_the_report_figures_and_a_failure_is_a_record,
    a_scan_of_readable_images_exits_0_and_writes_the_output_file,
    shards_partition_the_names_by_their_hash,
    shards_from_the_job_index_are_the_shard_flag,
    a_bad_shard_is_one_line_and_exit_2,
    an_image_list_skips_comments_and_blank_lines,
    names_are_visible_on_the_terminal_and_escaped_in_json,
    a_manifest_only_scan_has_the_manifest_only_report_figures,
    records_follow_their_schema,
    a_registry_listing_scans_the_picked_tags_with_the_report_figures,
    a_registry_listing_follows_every_page,
    a_registry_without_a_catalog_is_exit_2_naming_it,
];
