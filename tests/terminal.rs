//! No terminal injection: text from an image (its tag, paths, `created_by`) that holds
//! escape sequences, an OSC 8 hyperlink, BEL, BS, CR, a C1 control and a bidi override
//! reaches neither stdout nor stderr raw in any format people read (table, markdown,
//! workflow commands, error and note lines); it shows escaped (`\x1b`, `\u{202e}`).
//! The JSON output keeps the original characters.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{imgsize, tmp};

/// Every class at once: CSI colour, an OSC 8 link ended by BEL, BS, CR, C1 CSI, RLO.
const BAD: &str =
    "\u{1b}[31mred\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7}\u{8}\r\u{9b}2J\u{202e}txt";

/// The tag of the hostile image.
const TAG: &str = "evil\u{1b}[31m\u{202e}:1";

fn bad_path() -> String {
    format!("opt/{BAD}/data.bin")
}

fn created_by() -> String {
    format!("RUN echo {BAD} > /x")
}

/// Two layers: the first writes the bad path, the second overwrites it (waste that
/// names the path) and adds a file of its own.
fn hostile(dir: &Path) -> PathBuf {
    let img = Image::new(TAG)
        .layer(Layer::new(&created_by()).fill(&bad_path(), 40_000))
        .layer(
            Layer::new(&format!("COPY {BAD} /opt/"))
                .fill(&bad_path(), 30_000)
                .fill("app/ok", 1_000),
        );
    let path = dir.join("hostile.tar");
    docker_archive(&img, &path).expect("write archive");
    path
}

fn plain(dir: &Path) -> PathBuf {
    let img = Image::new("plain:1").layer(Layer::new("ADD rootfs /").fill("app/ok", 1_000));
    let path = dir.join("plain.tar");
    docker_archive(&img, &path).expect("write archive");
    path
}

fn fixtures() -> (TempDir, String, String) {
    let dir = tmp();
    let bad = hostile(dir.path()).to_str().expect("utf-8").to_string();
    let ok = plain(dir.path()).to_str().expect("utf-8").to_string();
    (dir, bad, ok)
}

/// Where a forbidden byte sequence starts in `bytes`, and what it is.
fn forbidden(bytes: &[u8]) -> Option<(usize, &'static str)> {
    (0..bytes.len()).find_map(|i| {
        let hit = match &bytes[i..] {
            [0x1b, ..] => "ESC",
            [0x07, ..] => "BEL",
            [0x08, ..] => "BS",
            [0x0d, ..] => "CR",
            [0xc2, 0x80..=0x9f, ..] => "a C1 control",
            [0xe2, 0x80, 0xaa..=0xae, ..] => "a bidi embedding or override",
            [0xe2, 0x81, 0xa6..=0xa9, ..] => "a bidi isolate",
            [0xe2, 0x80, 0x8e | 0x8f, ..] => "a bidi mark",
            [0xd8, 0x9c, ..] => "the Arabic letter mark",
            [0xe2, 0x80, 0xa8 | 0xa9, ..] => "a line or paragraph separator",
            [0x7f, ..] => "DEL",
            _ => return None,
        };
        Some((i, hit))
    })
}

fn assert_clean(what: &str, bytes: &[u8]) {
    if let Some((at, hit)) = forbidden(bytes) {
        let from = at.saturating_sub(60);
        panic!(
            "{what}: {hit} at byte {at}: {:?}",
            String::from_utf8_lossy(&bytes[from..(at + 20).min(bytes.len())])
        );
    }
}

/// stdout and stderr both clean.
fn assert_output_clean(what: &str, o: &Output) {
    assert_clean(&format!("{what} (stdout)"), &o.stdout);
    assert_clean(&format!("{what} (stderr)"), &o.stderr);
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

fn the_checker_finds_every_class() {
    for bad in [
        "\u{1b}", "\u{7}", "\u{8}", "\r", "\u{80}", "\u{9b}", "\u{9f}", "\u{202a}", "\u{202e}",
        "\u{2066}", "\u{2069}", "\u{200f}", "\u{61c}", "\u{2028}", "\u{2029}", "\u{7f}",
    ] {
        for text in [format!("ab{bad}cd"), bad.to_string(), format!("x{bad}")] {
            assert!(forbidden(text.as_bytes()).is_some(), "{text:?}");
        }
    }
    assert!(forbidden("plain ✓ → … \\x1b \\u{202e}\n\t".as_bytes()).is_none());
}

fn table_and_markdown_reports_show_image_text_escaped() {
    let (_dir, bad, _) = fixtures();
    let o = imgsize(&[
        "report",
        "--no-progress",
        "--format",
        "table",
        "--depth",
        "8",
        &bad,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_output_clean("report --format table", &o);
    let out = text(&o.stdout);
    // The tag, the instructions and the paths (biggest paths, waste), escaped.
    assert!(out.contains("evil\\x1b[31m\\u{202e}:1"), "{out}");
    assert!(out.contains("RUN echo \\x1b[31mred"), "{out}");
    assert!(out.contains("\\x1b]8;;http://x\\x07link"), "{out}");
    assert!(out.contains("\\x08\\r\\u{9b}2J\\u{202e}txt"), "{out}");
    assert!(out.contains("/opt/\\x1b[31mred"), "{out}");

    let o = imgsize(&["report", "--no-progress", "--format", "markdown", &bad]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_output_clean("report --format markdown", &o);
    let out = text(&o.stdout);
    assert!(out.contains("evil&#92;x1b&#91;31m&#92;u{202e}:1"), "{out}");
    assert!(out.contains("&#92;x07link"), "{out}");
}

fn json_keeps_the_original_characters() {
    let (_dir, bad, _) = fixtures();
    let o = imgsize(&[
        "report",
        "--no-progress",
        "--format",
        "json",
        "--depth",
        "8",
        &bad,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Kept as escapes: no raw byte a terminal would act on, the C1 CSI and the RLO
    // written `\u009b` and `\u202e`.
    assert_clean("report --format json", &o.stdout);
    assert!(text(&o.stdout).contains("\\u009b2J\\u202etxt"));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    // The tree's normal form folds the link's `//` into one `/`; nothing else changes.
    let want = format!("/{}", bad_path().replace("//", "/"));
    let paths: Vec<&str> = v["paths"]
        .as_array()
        .expect("path rows")
        .iter()
        .filter_map(|p| p["path"].as_str())
        .collect();
    assert!(paths.contains(&want.as_str()), "{paths:?}");
    let instructions: Vec<&str> = v["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| l["created_by"].as_str())
        .collect();
    assert!(
        instructions.contains(&created_by().as_str()),
        "{instructions:?}"
    );
    assert_eq!(v["image"]["reference"].as_str(), Some(TAG));
}

/// Every JSON document (the report above, explain, check, diff, SARIF, scan records, the
/// fleet report) writes the hostile characters as `\uXXXX` escapes: the bytes hold none of
/// them raw (`cat`, `jq .` or a CI log would show them), the parsed strings are the
/// originals.
fn json_documents_escape_what_a_terminal_must_not_see() {
    let (dir, bad, ok) = fixtures();
    let path = format!("/{}", bad_path().replace("//", "/"));
    let parsed = |what: &str, o: &Output| -> Vec<Value> {
        assert!(
            o.status.code().is_some_and(|c| c < 2),
            "{what}: {}",
            text(&o.stderr)
        );
        assert_clean(what, &o.stdout);
        let out = text(&o.stdout);
        serde_json::Deserializer::from_str(&out)
            .into_iter::<Value>()
            .map(|v| v.expect("JSON"))
            .collect()
    };
    parsed(
        "explain --format json",
        &imgsize(&["explain", "--no-progress", "--format", "json", &bad, &path]),
    );
    parsed("check --format json", &check(&bad, "json", false));
    parsed("check --format sarif", &check(&bad, "sarif", false));
    parsed(
        "diff --format json",
        &imgsize(&["diff", "--no-progress", "--format", "json", &ok, &bad]),
    );
    let scan = imgsize(&["scan", "--no-progress", &bad]);
    let records = parsed("scan", &scan);
    assert_eq!(records.len(), 1);
    let lines = dir.path().join("records.jsonl");
    std::fs::write(&lines, &scan.stdout).expect("write the records");
    let fleet = &parsed(
        "fleet --format json",
        &imgsize(&["fleet", "--format", "json", &lines.to_string_lossy()]),
    )[0];
    assert_eq!(fleet["images"][0]["names"][0].as_str(), Some(bad.as_str()));
}

fn error_lines_show_the_tag_and_path_escaped() {
    let (_dir, bad, _) = fixtures();
    let missing = "nope\u{1b}]8;;http://x\u{7}\u{202e}:1";
    let o = imgsize(&["report", "--no-progress", "--image", missing, &bad]);
    assert_eq!(o.status.code(), Some(2));
    assert_output_clean("report --image with a missing tag", &o);
    let err = text(&o.stderr);
    assert!(err.starts_with("imgsize: error: "), "{err}");
    assert!(
        err.contains("nope\\x1b]8;;http://x\\x07\\u{202e}:1"),
        "{err}"
    );

    // An input path that does not exist: the error quotes it.
    let o = imgsize(&["report", "--no-progress", &format!("/no/such/{BAD}.tar")]);
    assert_eq!(o.status.code(), Some(2));
    assert_output_clean("report of a missing input", &o);
    assert!(
        text(&o.stderr).contains("\\x1b[31mred"),
        "{}",
        text(&o.stderr)
    );
}

fn explain_shows_the_path_and_its_layers_escaped() {
    let (_dir, bad, _) = fixtures();
    let path = format!("/{}", bad_path());
    let o = imgsize(&["explain", "--no-progress", &bad, &path]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_output_clean("explain", &o);
    let out = text(&o.stdout);
    assert!(out.contains("/opt/\\x1b[31mred"), "{out}");
    assert!(out.contains("in evil\\x1b[31m\\u{202e}:1"), "{out}");

    let o = imgsize(&[
        "explain",
        "--no-progress",
        &bad,
        "/bad\u{1b}[2Jpath\u{202e}",
    ]);
    assert_output_clean("explain of a missing path", &o);
    assert!(
        text(&o.stdout).contains("/bad\\x1b[2Jpath\\u{202e}"),
        "{}",
        text(&o.stdout)
    );
}

fn check(bad: &str, format: &str, github: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgsize"));
    cmd.env_remove("IMGSIZE_FORMAT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS");
    if github {
        cmd.env("GITHUB_ACTIONS", "true");
    }
    cmd.args([
        "check",
        "--no-progress",
        "--format",
        format,
        "--limit",
        "wasted=0",
        "--limit",
        "largest_layer=1",
        bad,
    ])
    .output()
    .expect("run")
}

fn a_failed_check_shows_image_text_escaped() {
    let (_dir, bad, _) = fixtures();
    let o = check(&bad, "table", true);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_output_clean("check --format table on GitHub Actions", &o);
    let out = text(&o.stdout);
    assert!(out.contains("FAIL wasted"), "{out}");
    assert!(out.contains("\\x1b[31mred"), "{out}");
    let err = text(&o.stderr);
    assert!(err.contains("::error "), "{err}");
    assert!(err.contains("\\x1b[31mred"), "{err}");

    let o = check(&bad, "markdown", false);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_output_clean("check --format markdown", &o);
    assert!(text(&o.stdout).contains("&#92;x1b"), "{}", text(&o.stdout));

    // JUnit is a file, but it must stay XML 1.0: no character it forbids.
    let o = check(&bad, "junit", false);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let xml = text(&o.stdout);
    let illegal: Vec<char> = xml
        .chars()
        .filter(|&c| {
            (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{fffe}' || c == '\u{ffff}'
        })
        .collect();
    assert!(illegal.is_empty(), "{illegal:?} in {xml}");
    assert_output_clean("check --format junit", &o);
}

fn diff_shows_image_text_escaped() {
    let (_dir, bad, ok) = fixtures();
    for format in ["table", "markdown"] {
        let o = imgsize(&["diff", "--no-progress", "--format", format, &ok, &bad]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_output_clean(&format!("diff --format {format}"), &o);
        let out = text(&o.stdout);
        assert!(out.contains("x1b") && out.contains("u{202e}"), "{out}");
    }
}

crate::tests![
    the_checker_finds_every_class,
    table_and_markdown_reports_show_image_text_escaped,
    json_keeps_the_original_characters,
    json_documents_escape_what_a_terminal_must_not_see,
    error_lines_show_the_tag_and_path_escaped,
    explain_shows_the_path_and_its_layers_escaped,
    a_failed_check_shows_image_text_escaped,
    diff_shows_image_text_escaped,
];
