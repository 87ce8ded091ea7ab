//! `imgsize check`: budgets from a file and flags against images whose figures are known
//! (the committed sample, whose totals tests/sample.rs pins, and the dpkg fixture of
//! tests/packages.rs); exit codes 0, 1 and 2; every output format parsed back.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::builder::docker_archive;
use crate::util::{imgsize, tmp};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar")
}

fn check(image: &Path, extra: &[&str]) -> Output {
    let image = image.to_string_lossy().into_owned();
    let mut args = vec!["check", "--no-progress"];
    args.extend_from_slice(extra);
    args.push(&image);
    imgsize(&args)
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stderr).into_owned()
        )
    })
}

/// Every kind of limit, against the sample's known figures.
const EVERY_KIND: &str = r#"
[budget]
compressed = "1 MB"
uncompressed = "50 MB"
wasted = "1 kB"
wasted_percent = 5
layers = 3
largest_layer = "10 MiB"
your_layers = "100 kB"
[budget.paths]
"/root/.cache/**" = 0
"**/*.pyc" = "1 MB"
[budget.categories]
docs = "20 MB"
vcs = 0
[budget.rules]
pip-cache = 0
[budget.growth]
percent = 5
"#;

/// (key, status, limit, measured) of every result.
fn results(doc: &Value) -> Vec<(String, String, Value, Value)> {
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().expect("key").to_string(),
                r["status"].as_str().expect("status").to_string(),
                r["limit"].clone(),
                r["measured"].clone(),
            )
        })
        .collect()
}

fn row(key: &str, status: &str, limit: Value, measured: Value) -> (String, String, Value, Value) {
    (key.to_string(), status.to_string(), limit, measured)
}

fn every_kind_of_limit_against_the_sample() {
    let dir = tmp();
    let budget = dir.path().join("imgsize.toml");
    fs::write(&budget, EVERY_KIND).expect("write budget");
    let o = check(
        &sample(),
        &[
            "--budget",
            budget.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = json(&o);
    assert_eq!(doc["kind"], "check");
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["failed"], 7);
    let pct = 124_000.0 * 100.0 / 920_085.0;
    assert_eq!(
        results(&doc),
        vec![
            row("compressed", "pass", 1_000_000.into(), 208_474.into()),
            row("uncompressed", "pass", 50_000_000.into(), 943_104.into()),
            row("wasted", "fail", 1_000.into(), 124_000.into()),
            row("wasted_percent", "fail", 5.0.into(), pct.into()),
            row("layers", "fail", 3.into(), 7.into()),
            row(
                "largest_layer",
                "pass",
                (10u64 << 20).into(),
                337_408.into()
            ),
            row("your_layers", "fail", 100_000.into(), 920_085.into()),
            row("paths.**/*.pyc", "pass", 1_000_000.into(), 0.into()),
            row("paths./root/.cache/**", "fail", 0.into(), 70_000.into()),
            row("categories.docs", "pass", 20_000_000.into(), 12_000.into()),
            row("categories.vcs", "fail", 0.into(), 60_000.into()),
            row("rules.pip-cache", "fail", 0.into(), 70_000.into()),
            row("growth.percent", "skipped", 5.0.into(), Value::Null),
        ]
    );
    let by_key = |k: &str| {
        doc["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["key"] == k)
            .expect(k)
            .clone()
    };
    // The pip cache: its layer, the file, the finding that removes it, and zero after.
    let cache = by_key("paths./root/.cache/**");
    assert_eq!(
        cache["layers"],
        serde_json::json!([{"index": 3, "bytes": 70000}])
    );
    assert_eq!(
        cache["examples"][0]["path"],
        "/root/.cache/pip/http-v2/a/b/numpy-2.1.2-cp312-manylinux.whl"
    );
    let findings = doc["report"]["findings"].as_array().expect("findings");
    let named: Vec<&str> = cache["findings"]
        .as_array()
        .expect("indexes")
        .iter()
        .map(|i| {
            findings[i.as_u64().expect("index") as usize]["rule"]
                .as_str()
                .expect("rule")
        })
        .collect();
    assert_eq!(named, ["pip-cache"]);
    assert_eq!(cache["after_bytes"], 0);
    assert_eq!(
        cache["origin"],
        serde_json::json!({"file": budget.to_str(), "line": 11})
    );
    // Waste: the chmod duplicate and the deleted apt lists remove it all.
    let wasted = by_key("wasted");
    assert_eq!(wasted["after_bytes"], 0);
    assert_eq!(wasted["findings"].as_array().expect("indexes").len(), 2);
}

fn exit_codes_pass_fail_and_error() {
    let pass = check(&sample(), &["--limit", "compressed=1MB"]);
    assert_eq!(pass.status.code(), Some(0));
    let out = String::from_utf8_lossy(&pass.stdout);
    assert!(out.contains("— 1 budget holds"), "{out}");

    let fail = check(&sample(), &["--limit", "compressed=200kB"]);
    assert_eq!(fail.status.code(), Some(1));
    let out = String::from_utf8_lossy(&fail.stdout);
    assert!(out.contains("FAIL compressed"), "{out}");
    assert!(
        out.contains("over the 200.00 kB budget by 8.47 kB"),
        "{out}"
    );

    // Exactly at the limit holds.
    assert_eq!(
        check(&sample(), &["--limit", "compressed=208474"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        check(&sample(), &["--limit", "compressed=208473"])
            .status
            .code(),
        Some(1)
    );

    let dir = tmp();
    let missing = dir.path().join("nope.tar");
    let err = check(&missing, &["--limit", "compressed=1MB"]);
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("nope.tar"));

    // No budget at all is an error, not a silent pass.
    let none = imgsize(&["check", "--no-progress", sample().to_str().expect("utf-8")]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no budgets to check"));
}

/// A failing `compressed` budget weighs each fix by what it saves of the pull, not of
/// the stored bytes: the apt lists are 88 kB stored but compress to 19.62 kB, and the
/// line shows 19.62 kB, which is also what the `after` figure subtracts.
fn a_compressed_budget_suggests_fixes_by_their_compressed_saving() {
    let doc = json(&check(
        &sample(),
        &["--limit", "compressed=200kB", "--format", "json"],
    ));
    let apt = &doc["report"]["findings"][0];
    assert_eq!(apt["rule"], "apt-lists");
    assert_eq!(apt["bytes"], 88_000);
    assert_eq!(apt["compressed_bytes"], 19_620);
    let result = &doc["results"][0];
    assert_eq!(result["findings"], serde_json::json!([0]));
    assert_eq!(result["savings"], serde_json::json!([19_620]));
    assert_eq!(result["after_bytes"], 208_474 - 19_620);
    // A stored budget lists the same fix by its stored saving.
    let doc = json(&check(
        &sample(),
        &["--limit", "uncompressed=800kB", "--format", "json"],
    ));
    let result = &doc["results"][0];
    let first = result["findings"][0].as_u64().expect("a fix") as usize;
    assert_eq!(
        result["savings"][0], doc["report"]["findings"][first]["bytes"],
        "{result}"
    );

    for format in ["table", "markdown"] {
        let o = check(
            &sample(),
            &["--limit", "compressed=200kB", "--format", format],
        );
        assert_eq!(o.status.code(), Some(1), "{format}");
        let out = String::from_utf8_lossy(&o.stdout);
        let want = match format {
            "table" => "fix: apt-lists in layer 1 saves 19.62 kB: ",
            _ => "fix **apt-lists** in layer 1 (saves 19.62 kB): ",
        };
        assert!(out.contains(want), "{format}: {out}");
        assert!(
            !out.contains("in layer 1 saves 88.00 kB:") && !out.contains("(saves 88.00 kB)"),
            "{format} shows the stored saving: {out}"
        );
    }
    // A stored budget keeps the stored figure.
    let o = check(&sample(), &["--limit", "uncompressed=800kB"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("fix: apt-lists in layer 1 saves 88.00 kB: "),
        "{out}"
    );
}

fn budget_file_errors_name_file_line_and_key() {
    let dir = tmp();
    let cases: &[(&str, &str)] = &[
        (
            "[budget]\ncompressed = \"1 MB\"\nsize = 3\n",
            ":3: unknown field `size`",
        ),
        (
            "[budget]\nwasted = \"20 Mb\"\n",
            ":2: `wasted`: `20 Mb`: unknown unit `Mb`",
        ),
        (
            "[budget]\nwasted = -1\n",
            ":2: `wasted`: a size cannot be negative",
        ),
        (
            "[budget]\nwasted = 1.5\n",
            ":2: `wasted`: write a fractional size as a string",
        ),
        (
            "[budget.categories]\ndocz = 0\n",
            ":2: unknown category `docz`",
        ),
        ("[budget.rules]\npip = 0\n", ":2: unknown rule `pip`"),
        (
            "[budget.paths]\n\"/a/[b\" = 0\n",
            ":2: bad path glob `/a/[b`",
        ),
        (
            "[budget.growth]\nmeasure = \"pull\"\n",
            ":2: growth.measure `pull`",
        ),
        ("[budget\n", ":1: "),
        ("[budgets]\nx = 1\n", ":1: unknown field `budgets`"),
    ];
    for (text, want) in cases {
        let f = dir.path().join("imgsize.toml");
        fs::write(&f, text).expect("write");
        let o = check(&sample(), &["--budget", f.to_str().expect("utf-8")]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{text}: {err}");
        assert!(
            err.contains(&format!("imgsize.toml{want}")),
            "{text}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A unit error lists the accepted forms.
    let o = check(&sample(), &["--limit", "compressed=20 KB"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for form in ["`kB`", "`MB`", "`MiB`", "`GiB`"] {
        assert!(err.contains(form), "{err}");
    }
    // A budget file named but missing.
    let o = check(&sample(), &["--budget", "/nonexistent/imgsize.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/imgsize.toml"));
}

fn the_default_budget_file_is_read_from_the_working_directory() {
    let dir = tmp();
    fs::write(dir.path().join("imgsize.toml"), "[budget]\nlayers = 3\n").expect("write");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .current_dir(dir.path())
        .args(["check", "--no-progress", "--format", "json"])
        .arg(sample())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(doc["results"][0]["origin"]["file"], "imgsize.toml");
    assert_eq!(doc["results"][0]["origin"]["line"], 2);
}

fn package_limits_see_every_package_not_only_the_top_rows() {
    let dir = tmp();
    let path = dir.path().join("pkgs.tar");
    docker_archive(&crate::packages::image(), &path).expect("fixture");
    let o = check(
        &path,
        &[
            "--top",
            "1",
            "--limit",
            "packages.gcc-12=499",
            "--limit",
            "packages.absent=0",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(
        results(&doc),
        vec![
            row("packages.absent", "pass", 0.into(), 0.into()),
            row("packages.gcc-12", "fail", 499.into(), 500.into()),
        ]
    );
    // gcc-12 is build-only: the multi-stage finding explains it.
    let findings = doc["report"]["findings"].as_array().expect("findings");
    let i = doc["results"][1]["findings"][0]
        .as_u64()
        .expect("a finding") as usize;
    assert_eq!(findings[i]["rule"], "multi-stage");
}

fn junit_is_xml_with_one_testcase_per_limit() {
    let dir = tmp();
    let budget = dir.path().join("imgsize.toml");
    fs::write(&budget, EVERY_KIND).expect("write budget");
    let junit = dir.path().join("out.xml");
    let o = check(
        &sample(),
        &[
            "--budget",
            budget.to_str().expect("utf-8"),
            "--format",
            "junit",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    let xml = roxmltree::Document::parse(&text).expect("JUnit parses as XML");
    let suite = xml
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    assert_eq!(suite.attribute("tests"), Some("13"));
    assert_eq!(suite.attribute("failures"), Some("7"));
    assert_eq!(suite.attribute("skipped"), Some("1"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 13);
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").expect("name"))
        .collect();
    assert_eq!(
        failed,
        [
            "wasted",
            "wasted_percent",
            "layers",
            "your_layers",
            "paths./root/.cache/**",
            "categories.vcs",
            "rules.pip-cache"
        ]
    );
    // The same document as a file beside the table.
    let o = check(
        &sample(),
        &[
            "--budget",
            budget.to_str().expect("utf-8"),
            "--junit",
            junit.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&junit).expect("junit file"), text);
}

/// Each `--FORMAT FILE` flag writes exactly what `--format FORMAT` prints, so none can
/// be parsed and then forgotten.
fn each_file_flag_writes_what_its_format_prints() {
    let dir = tmp();
    let budget = dir.path().join("imgsize.toml");
    fs::write(&budget, EVERY_KIND).expect("write budget");
    let budget = budget.to_str().expect("utf-8");
    for format in ["sarif", "junit", "json", "markdown"] {
        let printed = check(&sample(), &["--budget", budget, "--format", format]);
        assert_eq!(printed.status.code(), Some(1), "{format}");
        let file = dir.path().join(format!("out.{format}"));
        let flag = format!("--{format}");
        let written = check(
            &sample(),
            &["--budget", budget, &flag, file.to_str().expect("utf-8")],
        );
        assert_eq!(written.status.code(), Some(1), "{format}");
        let text = fs::read(&file).unwrap_or_else(|e| panic!("{flag} wrote nothing: {e}"));
        assert!(!text.is_empty(), "{flag}");
        assert_eq!(
            text, printed.stdout,
            "{flag} FILE differs from --format {format}"
        );
    }
}

fn fix_patterns(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                    *x = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
                } else {
                    fix_patterns(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(fix_patterns),
        _ => {}
    }
}

/// The SARIF 2.1.0 schema, which .ci/run fetches (npm package @microsoft/jest-sarif).
fn sarif_schema() -> Value {
    let path = std::env::var_os("IMGSIZE_SARIF_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sarif-schema-2.1.0.json")
        });
    match fs::read(&path) {
        Ok(b) => {
            let mut schema: Value = serde_json::from_slice(&b).expect("schema is JSON");
            // The published schema's `language` patterns have a stray `]` that no regex
            // engine accepts; they constrain a field imgsize never writes.
            fix_patterns(&mut schema);
            schema
        }
        Err(_) => crate::util::harness::skip(format!(
            "{} is absent (.ci/run fetches it with npm)",
            path.display()
        )),
    }
}

fn sarif_validates_and_has_a_result_per_failure_and_finding() {
    let dir = tmp();
    let budget = dir.path().join("imgsize.toml");
    fs::write(&budget, EVERY_KIND).expect("write budget");
    let o = check(
        &sample(),
        &[
            "--budget",
            budget.to_str().expect("utf-8"),
            "--format",
            "sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "budget/wasted",
            "budget/wasted_percent",
            "budget/layers",
            "budget/your_layers",
            "budget/paths",
            "budget/categories",
            "budget/rules",
            "finding/apt-lists",
            "finding/pip-cache",
            "finding/dockerignore",
            "finding/apt-archives",
            "finding/package-tests",
            "finding/chmod-duplicate",
            "finding/deleted-later",
        ]
    );
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for r in results {
        let i = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(!r["locations"].as_array().expect("locations").is_empty());
    }
    // Without --dockerfile a failed limit points at its line of the budget file.
    let loc = &results[4]["locations"][0]["physicalLocation"];
    assert_eq!(loc["region"]["startLine"], 11);
    {
        // Last: without the schema the test is skipped, its other checks done.
        let schema = sarif_schema();
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // The report's findings alone, too.
        let o = imgsize(&[
            "report",
            "--no-progress",
            "--format",
            "sarif",
            sample().to_str().expect("utf-8"),
        ]);
        assert_eq!(o.status.code(), Some(0));
        let doc = json(&o);
        assert!(validator.is_valid(&doc));
    }
}

fn github_actions_get_workflow_commands_on_stderr() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .env("GITHUB_ACTIONS", "true")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args([
            "check",
            "--no-progress",
            "--format",
            "json",
            "--limit",
            "layers=3",
            "--limit",
            "growth.bytes=0",
        ])
        .arg(sample())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    // stdout stays the document.
    json(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    let commands: Vec<&str> = err.lines().filter(|l| l.starts_with("::")).collect();
    assert!(
        commands[0].starts_with(
            "::error title=imgsize budget layers::layer count: 7, over the limit of 3 by 4%0A"
        ),
        "{err}"
    );
    assert!(
        commands[1].starts_with("::warning title=imgsize budget growth.bytes::"),
        "{err}"
    );
    let notices = commands
        .iter()
        .filter(|c| c.starts_with("::notice "))
        .count();
    assert_eq!(notices, 7, "{err}");
}

fn text_from_the_image_cannot_break_out_of_xml() {
    // Junit escapes text; an instruction with markup in it stays one attribute.
    let xml = imgsize::render::junit::xml_escape("RUN echo '</failure><x>' && \u{7}");
    assert!(!xml.contains('<') && !xml.contains('\u{7}'), "{xml}");
}

fn markdown_comment_snapshot() {
    let dir = tmp();
    let df = dir.path().join("Dockerfile");
    fs::write(
        &df,
        "FROM debian\nRUN apt-get update && apt-get install -y gcc libpq-dev\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nRUN rm -rf /var/lib/apt/lists/*\nCOPY . /app\nRUN chmod -R 755 /app\n",
    )
    .expect("write");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .current_dir(dir.path())
        .args([
            "check",
            "--no-progress",
            "--format",
            "markdown",
            "--dockerfile",
            "Dockerfile",
            "--limit",
            "compressed=200kB",
            "--limit",
            "rules.pip-cache=0",
            "--limit",
            "layers=10",
        ])
        .arg(sample())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).expect("utf-8");
    insta::assert_snapshot!("markdown_check", out);
}

fn the_step_summary_gets_the_markdown() {
    let dir = tmp();
    let summary = dir.path().join("summary.md");
    fs::write(&summary, "earlier step\n").expect("write");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--no-progress", "--limit", "layers=10"])
        .arg(sample())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0));
    let text = fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("earlier step\n### ✅ imgsize check: 1 budget holds"),
        "{text}"
    );
}

fn the_sample_budget_in_the_docs_parses_and_sets_every_key() {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md"))
        .expect("docs/ci.md");
    let start = doc.find("```toml\n").expect("a toml block") + 8;
    let text = &doc[start..start + doc[start..].find("```").expect("end")];
    let b = imgsize::analyze::Budget::parse(text, "docs/ci.md").expect("the sample parses");
    let keys: Vec<String> = b.limits.iter().map(|l| l.metric.key()).collect();
    for k in [
        "compressed",
        "uncompressed",
        "content",
        "wasted",
        "wasted_percent",
        "layers",
        "largest_layer",
        "your_layers",
        "paths./root/.cache/**",
        "categories.docs",
        "rules.pip-cache",
        "packages.gcc-12",
        "growth.percent",
        "growth.bytes",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
    }
    assert_eq!(b.growth_measure.code(), "compressed");
}

/// On every corpus image: `paths./**` measures exactly the visible content (each
/// hardlinked file once), every category budget its category's bytes, and a limit
/// holds at the measured figure and fails one byte below it.
fn corpus_budgets_measure_what_the_report_says() {
    use imgsize::analyze::budget::{Amount, Budget, Facts, check, measure_paths};
    let root = crate::util::corpus();
    let inv: Value =
        serde_json::from_str(&fs::read_to_string(root.join("inventory.json")).expect("inventory"))
            .expect("inventory parses");
    let mut checked = 0;
    let mut fails = Vec::new();
    for name in inv["fixtures"].as_object().expect("fixtures").keys() {
        let path = root.join(name);
        let select = imgsize::source::SelectOptions {
            verify: imgsize::bytes::VerifyPolicy::None,
            ..Default::default()
        };
        let options = imgsize::Options {
            select,
            ..Default::default()
        };
        let Ok(a) = imgsize::pipeline::analysis(
            &path.to_string_lossy(),
            &options,
            &imgsize::Hooks::default(),
        ) else {
            continue;
        };
        let r = imgsize::analyze::summarize(&a, &Default::default());
        let all = measure_paths(&a.tree, &["/**"]);
        if all[0].bytes != r.totals.content_bytes {
            fails.push(format!(
                "{name}: /** measures {} but content is {}",
                all[0].bytes, r.totals.content_bytes
            ));
        }
        for (at, want_pass) in [
            (r.totals.compressed_bytes, true),
            (r.totals.compressed_bytes.wrapping_sub(1), false),
        ] {
            if at == u64::MAX {
                continue;
            }
            let mut b = Budget::default();
            b.apply_flag(&format!("compressed={at}")).expect("flag");
            for c in &r.categories.rows {
                b.apply_flag(&format!("categories.{}={}", c.category.code(), c.bytes()))
                    .expect("flag");
            }
            let v = check(&b, &r, &Facts::default());
            if (v.outcomes[0].status == imgsize::analyze::Status::Pass) != want_pass {
                fails.push(format!(
                    "{name}: compressed={at} gave {:?}",
                    v.outcomes[0].status
                ));
            }
            for o in &v.outcomes[1..] {
                if o.status != imgsize::analyze::Status::Pass
                    || !matches!(o.measured, Some(Amount::Bytes(_)))
                {
                    fails.push(format!("{name}: {} {:?}", o.limit.metric.key(), o.status));
                }
            }
        }
        checked += 1;
    }
    assert!(checked > 0, "no corpus image was checked");
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

fn an_incomplete_image_is_an_error_not_a_verdict() {
    use crate::util::builder::{Data, Image, Layer};
    let dir = tmp();
    let good = dir.path().join("gz.tar");
    let img = Image::new("gz:1")
        .layer(Layer::new("ADD x /").fill("a", 100))
        .layer(
            Layer::new("RUN make")
                .data(
                    "blob.bin",
                    Data::Fill {
                        size: 200_000,
                        seed: 3,
                        random: true,
                    },
                )
                .gzip(),
        );
    docker_archive(&img, &good).expect("write fixture");
    let bad = dir.path().join("corrupt.tar");
    crate::cli::rewrite_tar(&good, &bad, |name, mut bytes| {
        if name.ends_with(".tar.gz") {
            let mid = bytes.len() / 2;
            for b in &mut bytes[mid..mid + 64] {
                *b ^= 0x5a;
            }
        }
        bytes
    });
    // Holding and failing budgets alike: the figures are not exact, so exit 2.
    for limit in ["layers=10", "layers=1"] {
        let o = check(&bad, &["--limit", limit, "--format", "json"]);
        assert_eq!(o.status.code(), Some(2), "{limit}");
        let doc = json(&o);
        assert_eq!(doc["report"]["complete"], false);
        assert!(String::from_utf8_lossy(&o.stderr).contains("layer 1"));
    }
}

crate::tests![
    every_kind_of_limit_against_the_sample,
    exit_codes_pass_fail_and_error,
    a_compressed_budget_suggests_fixes_by_their_compressed_saving,
    budget_file_errors_name_file_line_and_key,
    the_default_budget_file_is_read_from_the_working_directory,
    package_limits_see_every_package_not_only_the_top_rows,
    junit_is_xml_with_one_testcase_per_limit,
    each_file_flag_writes_what_its_format_prints,
    sarif_validates_and_has_a_result_per_failure_and_finding,
    github_actions_get_workflow_commands_on_stderr,
    text_from_the_image_cannot_break_out_of_xml,
    markdown_comment_snapshot,
    the_step_summary_gets_the_markdown,
    the_sample_budget_in_the_docs_parses_and_sets_every_key,
    corpus_budgets_measure_what_the_report_says,
    an_incomplete_image_is_an_error_not_a_verdict,
];
