//! The README's samples are the real output of the commands it shows, so they cannot
//! drift: the report's table lines (between the `...` that elide sections) appear in
//! the output of `imgsize report testdata/sample.tar`, in order and exactly, and the
//! JSON sample is what its `jq` selection gives of `--format json`.

use std::path::Path;

use serde_json::{Value, json};

use crate::util::imgsize;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// The code blocks of a markdown text, with the line that opens each.
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match open.take() {
            None if line.starts_with("```") => open = Some((line.to_string(), String::new())),
            None => {}
            Some(block) if line.starts_with("```") => out.push(block),
            Some((fence, mut body)) => {
                body.push_str(line);
                body.push('\n');
                open = Some((fence, body));
            }
        }
    }
    out
}

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/sample.tar")
        .display()
        .to_string()
}

fn run(args: &[&str]) -> String {
    let out = imgsize(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn the_report_sample_is_the_real_output() {
    let readme = readme();
    let (_, shown) = blocks(&readme)
        .into_iter()
        .find(|(_, body)| body.starts_with("Image sample/python-app:1.0"))
        .expect("the README shows the sample's report");
    let real = run(&["report", &sample(), "--no-progress", "--width", "120"]);
    let real: Vec<&str> = real.lines().collect();
    let mut at = 0;
    let shown: Vec<&str> = shown.lines().filter(|l| *l != "...").collect();
    assert!(shown.len() > 40, "the sample is shown at length");
    for line in &shown {
        let found = real[at..].iter().position(|r| r == line);
        let Some(found) = found else {
            panic!(
                "README line not in the report (in order):\n{line}\nreport from line {at}:\n{}",
                real[at..].join("\n")
            );
        };
        at += found + 1;
    }
}

/// `jq`'s selection of the README, done on the real JSON.
fn selection(doc: &Value) -> Value {
    let pick = |v: &Value, keys: &[&str]| -> Value {
        Value::Object(
            keys.iter()
                .map(|k| (k.to_string(), v[*k].clone()))
                .collect(),
        )
    };
    let categories: Vec<Value> = doc["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .take(4)
        .map(|c| pick(c, &["category", "bytes", "wasted_bytes"]))
        .collect();
    json!({
        "schema_version": doc["schema_version"],
        "image": pick(&doc["image"], &["reference", "os", "architecture", "config_digest"]),
        "totals": doc["totals"],
        "layers": [pick(
            &doc["layers"][0],
            &["index", "digest", "compressed_bytes", "added_bytes", "created_by"]
        )],
        "categories": categories,
    })
}

fn the_json_sample_is_the_real_output() {
    let readme = readme();
    let (_, shown) = blocks(&readme)
        .into_iter()
        .find(|(fence, _)| fence == "```json")
        .expect("the README shows a JSON sample");
    let shown: Value = serde_json::from_str(&shown).expect("the sample is JSON");
    let real: Value = serde_json::from_str(&run(&[
        "report",
        &sample(),
        "--no-progress",
        "--format",
        "json",
    ]))
    .expect("JSON report");
    assert_eq!(shown, selection(&real));
    // The selection the README names is the one checked here.
    assert!(readme.contains("categories: [.categories[:4][] | {category, bytes, wasted_bytes}]"));
}

fn the_commands_shown_run() {
    let readme = readme();
    assert!(readme.contains("cargo install --path . --locked"));
    assert!(readme.contains("cargo run --release -- report testdata/sample.tar"));
    assert!(readme.contains("\ncargo test\n"));
    run(&["explain", &sample(), "/app", "--no-progress"]);
    let html = run(&["report", &sample(), "--format", "html", "--no-progress"]);
    assert!(
        html.to_ascii_lowercase().starts_with("<!doctype html>"),
        "{}",
        &html[..40.min(html.len())]
    );
}

/// The `imgsize fix` sample is its real diff of the sample's Dockerfile.
fn the_fix_sample_is_the_real_diff() {
    let readme = readme();
    let (_, shown) = blocks(&readme)
        .into_iter()
        .find(|(fence, _)| fence == "```diff")
        .expect("the README shows the sample's fix");
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.Dockerfile");
    let real = run(&[
        "fix",
        &sample(),
        "--dockerfile",
        &dockerfile.to_string_lossy(),
        "--no-progress",
    ]);
    assert_eq!(shown, real);
}

crate::tests![
    the_report_sample_is_the_real_output,
    the_json_sample_is_the_real_output,
    the_commands_shown_run,
    the_fix_sample_is_the_real_diff,
];
