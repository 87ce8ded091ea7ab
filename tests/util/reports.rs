//! Running `imgsize report ... --format json` isolated from the host and holding
//! reports to each other: a report read from a registry equals the one of the same
//! image on disk on every key but the few that name where it was read from. Also the
//! shape every error must have: exit code 2 and one line, never a panic.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use super::registry::Imgsize;

/// The `image` keys that name where an image was read from, not what it is: a registry
/// reference and an OCI layout on disk differ here and only here.
pub const SOURCE_KEYS: &[&str] = &["source", "format", "reference", "tags"];

/// `imgsize report ARGS --format json`, which must succeed.
pub fn report(args: &[&str]) -> Value {
    report_with(Imgsize::new(&report_args(args)))
}

pub fn report_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    all
}

pub fn report_with(cmd: Imgsize) -> Value {
    let out = cmd.output();
    assert!(
        out.status.success(),
        "imgsize failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "imgsize printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A report read from a registry, with no layer cache.
pub fn remote(reference: &str, extra: &[&str]) -> Value {
    let mut args = vec![reference, "--no-cache"];
    args.extend_from_slice(extra);
    report(&args)
}

/// A report without the `image` keys in [`SOURCE_KEYS`].
pub fn comparable(report: &Value) -> Value {
    let mut v = report.clone();
    let image = v["image"].as_object_mut().expect("report.image");
    for key in SOURCE_KEYS {
        assert!(
            image.remove(*key).is_some(),
            "report.image.{key} is missing"
        );
    }
    v
}

/// Where two JSON values differ, as `path: left != right` lines (at most 20).
pub fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    if out.len() >= 20 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differences(v, w, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k}: only on the left")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}.{k}: only on the right"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                out.push(format!("{at}: {} items != {} items", x.len(), y.len()));
            }
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, &format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a} != {b}")),
        _ => {}
    }
}

/// Two JSON values are equal; on failure, the paths where they differ.
pub fn assert_json_eq(got: &Value, want: &Value, what: &str) {
    let mut diffs = Vec::new();
    differences(got, want, "", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{what} differs (left: what was read, right: what was expected):\n{}",
        diffs.join("\n")
    );
}

/// The registry's report equals the local one on every key but [`SOURCE_KEYS`].
pub fn assert_same_report(remote: &Value, local: &Value, what: &str) {
    assert_json_eq(&comparable(remote), &comparable(local), what);
}

/// `imgsize report --format json --no-cache EXTRA INPUT`, whatever its outcome.
pub fn report_output(input: &Path, extra: &[&str]) -> Output {
    let input = input.to_string_lossy();
    let mut args = vec!["report", "--format", "json", "--no-cache"];
    args.extend_from_slice(extra);
    args.push(&input);
    super::imgsize(&args)
}

/// Exit code 0: the image was read, every layer of it.
pub fn assert_read(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// Exit code 2 and one line of error, never a panic; returns stderr.
pub fn assert_error(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit code; stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{what}: {stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{what}: one line of error, got:\n{stderr}"
    );
    stderr
}
