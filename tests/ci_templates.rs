//! The CI integrations run here as their hosts would run them: the GitHub Action
//! (`action.yml`) step by step, with its expressions, conditions and outputs resolved as
//! the runner does; the GitLab template's job scripts with its variables; and
//! `ci/check.sh` in a plain shell. Each runs the real imgsize on the sample, whose
//! figures are known: 208,474 compressed bytes, 70,000 bytes of pip cache.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use yaml_rust2::{Yaml, YamlLoader};

use crate::util::tmp;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Yaml {
    let text = fs::read_to_string(repo().join(path)).expect(path);
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_iter()
        .next()
        .expect("one document")
}

fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::BadValue | Yaml::Null => String::new(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn entries(y: &Yaml) -> Vec<(String, String)> {
    y.as_hash()
        .map(|h| h.iter().map(|(k, v)| (text(k), text(v))).collect())
        .unwrap_or_default()
}

/// The folder of the imgsize the tests built, to put on PATH.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_imgsize"))
        .parent()
        .expect("a folder")
        .to_path_buf()
}

fn sample() -> String {
    repo().join("testdata/sample.tar").display().to_string()
}

/// What one run of the action gave: each step's outcome, the action's outputs, the
/// job's exit status, and what the steps wrote.
struct ActionRun {
    /// (step id or uses, "ran" with its exit status, "skipped", or "uses" with `with`)
    steps: Vec<(String, String)>,
    outputs: BTreeMap<String, String>,
    status: i32,
    stderr: String,
    summary: String,
}

/// A GitHub runner for `action.yml`'s composite steps, enough for this action: inputs
/// with their defaults, `${{ inputs.X }}` and `${{ steps.S.outputs.Y }}`, `if:` made of
/// `always()`, `==`, `!=` and `&&`, `run:` steps in `sh -e` with GITHUB_OUTPUT read
/// back after each, and `uses:` steps recorded with their resolved `with:`.
fn run_action(given: &[(&str, &str)], dir: &Path) -> ActionRun {
    let action = yaml("action.yml");
    assert_eq!(text(&action["runs"]["using"]), "composite");
    let mut inputs = BTreeMap::new();
    for (name, spec) in action["inputs"].as_hash().expect("inputs") {
        inputs.insert(text(name), text(&spec["default"]));
    }
    for (k, v) in given {
        assert!(inputs.contains_key(*k), "action.yml has no input {k}");
        inputs.insert(k.to_string(), v.to_string());
    }
    let mut steps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut run = ActionRun {
        steps: Vec::new(),
        outputs: BTreeMap::new(),
        status: 0,
        stderr: String::new(),
        summary: String::new(),
    };
    let summary = dir.join("summary.md");
    for step in action["runs"]["steps"].as_vec().expect("steps") {
        let id = text(&step["id"]);
        let name = [text(&step["id"]), text(&step["uses"]), "exit".into()]
            .into_iter()
            .find(|n| !n.is_empty())
            .expect("a name");
        let condition = text(&step["if"]);
        let resolve = |s: &str| expand(s, &inputs, &steps);
        if !condition_holds(&condition, run.status == 0, &resolve) {
            run.steps.push((name, "skipped".into()));
            continue;
        }
        if !step["uses"].is_badvalue() {
            let with: Vec<String> = entries(&step["with"])
                .into_iter()
                .map(|(k, v)| format!("{k}={}", resolve(&v)))
                .collect();
            run.steps.push((name, format!("uses {}", with.join(" "))));
            continue;
        }
        assert_eq!(text(&step["shell"]), "sh", "step {name}");
        let output = dir.join(format!("output-{}", run.steps.len()));
        fs::write(&output, "").expect("GITHUB_OUTPUT");
        let mut cmd = Command::new("sh");
        cmd.arg("-e")
            .arg("-c")
            .arg(text(&step["run"]))
            .current_dir(repo())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", repo())
            .env("GITHUB_WORKSPACE", repo())
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("RUNNER_TOOL_CACHE", dir.join("tool-cache"))
            .env_remove("IMGSIZE_BUDGET");
        for (k, v) in entries(&step["env"]) {
            cmd.env(k, resolve(&v));
        }
        let out = cmd.output().expect("sh runs");
        run.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        let code = out.status.code().unwrap_or(-1);
        run.steps.push((name, format!("ran {code}")));
        let written = fs::read_to_string(&output).expect("GITHUB_OUTPUT");
        let values = written
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        steps.insert(id, values);
        if code != 0 && run.status == 0 {
            run.status = code;
        }
    }
    for (name, spec) in action["outputs"].as_hash().expect("outputs") {
        let value = expand(&text(&spec["value"]), &inputs, &steps);
        run.outputs.insert(text(name), value);
    }
    run.summary = fs::read_to_string(&summary).unwrap_or_default();
    run
}

/// `s` with each `${{ expression }}` replaced by its value.
fn expand(
    s: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find("${{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("}}").expect("a closed expression") + at;
        out.push_str(&value(rest[at + 3..end].trim(), inputs, steps));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn value(
    expr: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    if let Some(name) = expr.strip_prefix("inputs.") {
        return inputs
            .get(name)
            .unwrap_or_else(|| panic!("no input {name}"))
            .clone();
    }
    if let Some(rest) = expr.strip_prefix("steps.")
        && let Some((id, name)) = rest.split_once(".outputs.")
    {
        let step = steps.get(id);
        return step.and_then(|s| s.get(name)).cloned().unwrap_or_default();
    }
    if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
        return lit.to_string();
    }
    panic!("an expression this runner does not know: {expr}")
}

/// Whether a step runs: no condition runs while every step succeeded; `always()` runs
/// anyway; `A == B` and `A != B` compare values, `&&` joins them.
fn condition_holds(condition: &str, ok: bool, resolve: &dyn Fn(&str) -> String) -> bool {
    if condition.is_empty() {
        return ok;
    }
    let mut always = false;
    let mut holds = true;
    for part in condition.split("&&").map(str::trim) {
        if part == "always()" {
            always = true;
        } else if let Some((a, b)) = part.split_once("==") {
            holds &= eval(a, resolve) == eval(b, resolve);
        } else if let Some((a, b)) = part.split_once("!=") {
            holds &= eval(a, resolve) != eval(b, resolve);
        } else {
            panic!("a condition this runner does not know: {part}");
        }
    }
    holds && (ok || always)
}

fn eval(side: &str, resolve: &dyn Fn(&str) -> String) -> String {
    resolve(&format!("${{{{ {} }}}}", side.trim()))
}

fn outputs(run: &ActionRun) -> Vec<(&str, &str)> {
    ["exit-code", "passed", "failed"]
        .iter()
        .map(|k| (*k, run.outputs[*k].as_str()))
        .collect()
}

fn the_action_fails_as_check_does_and_leaves_every_report() {
    let dir = tmp();
    let out = dir.path().join("reports");
    let imgsize = env!("CARGO_BIN_EXE_imgsize");
    let run = run_action(
        &[
            ("image", &sample()),
            ("dockerfile", "testdata/sample.Dockerfile"),
            ("limits", "compressed=100kB\n  rules.pip-cache=0\n\n"),
            ("output-dir", out.to_str().expect("utf-8")),
            ("imgsize-bin", imgsize),
            ("upload-sarif", "true"),
        ],
        dir.path(),
    );
    assert_eq!(
        run.status, 1,
        "the job fails with check's status: {}",
        run.stderr
    );
    assert_eq!(
        outputs(&run),
        [("exit-code", "1"), ("passed", "false"), ("failed", "2")]
    );
    let sarif = &run.outputs["sarif"];
    assert_eq!(sarif, &out.join("imgsize.sarif").display().to_string());
    let names: Vec<String> = run.steps.iter().map(|(n, s)| format!("{n}: {s}")).collect();
    assert_eq!(
        names,
        [
            "key: skipped".to_string(),
            "actions/cache@v4: skipped".into(),
            "install: ran 0".into(),
            "check: ran 0".into(),
            format!(
                "github/codeql-action/upload-sarif@v3: uses sarif_file={sarif} category=imgsize"
            ),
            "exit: ran 1".into(),
        ],
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&fs::read(sarif).expect("the SARIF file")).expect("JSON");
    assert_eq!(doc["version"], "2.1.0");
    let errors: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["level"] == "error")
        .map(|r| r["ruleId"].as_str().expect("a rule"))
        .collect();
    assert_eq!(errors.len(), 2, "one error per failed budget: {errors:?}");
    for file in ["imgsize.json", "imgsize.md", "imgsize.xml"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert!(
        run.summary.contains("2 of 2 budgets failed"),
        "the step summary: {}",
        run.summary
    );
    assert!(
        run.stderr.contains(
            "::error file=testdata/sample.Dockerfile,line=7,title=imgsize budget rules.pip-cache::"
        ),
        "an annotation on the pip install line: {}",
        run.stderr
    );
}

fn the_action_passes_within_budget_and_skips_the_upload_by_default() {
    let dir = tmp();
    let out = dir.path().join("reports");
    let run = run_action(
        &[
            ("image", &sample()),
            ("limits", "compressed=208474"),
            ("output-dir", out.to_str().expect("utf-8")),
            ("imgsize-bin", env!("CARGO_BIN_EXE_imgsize")),
            ("format", "json"),
        ],
        dir.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        outputs(&run),
        [("exit-code", "0"), ("passed", "true"), ("failed", "0")]
    );
    let upload = run.steps.iter().find(|(n, _)| n.contains("upload-sarif"));
    assert_eq!(upload.map(|(_, s)| s.as_str()), Some("skipped"));
    assert!(run.summary.contains("1 budget holds"), "{}", run.summary);
    assert!(!run.stderr.contains("::error"), "{}", run.stderr);
}

fn the_action_tells_an_unreadable_image_from_a_failed_budget() {
    let dir = tmp();
    let missing = dir.path().join("no-such-image.tar");
    let run = run_action(
        &[
            ("image", missing.to_str().expect("utf-8")),
            ("limits", "compressed=1MB"),
            (
                "output-dir",
                dir.path().join("reports").to_str().expect("utf-8"),
            ),
            ("imgsize-bin", env!("CARGO_BIN_EXE_imgsize")),
        ],
        dir.path(),
    );
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert_eq!(
        outputs(&run),
        [("exit-code", "2"), ("passed", "false"), ("failed", "")]
    );
    assert_eq!(run.outputs["sarif"], "");
    assert!(run.stderr.contains("no-such-image.tar"), "{}", run.stderr);
    // An empty image input is refused by the script, not passed on.
    let run = run_action(
        &[
            ("image", ""),
            ("imgsize-bin", env!("CARGO_BIN_EXE_imgsize")),
        ],
        dir.path(),
    );
    assert_eq!(run.status, 2);
    assert_eq!(
        outputs(&run),
        [("exit-code", "2"), ("passed", "false"), ("failed", "")]
    );
}

/// Without `imgsize-bin`, the key step hashes the sources the action ships and names
/// where the build is kept; the same sources give the same key.
fn the_action_keys_its_build_by_its_sources() {
    let dir = tmp();
    let key = |n: usize| {
        let output = dir.path().join(format!("key-{n}"));
        let out = Command::new("sh")
            .arg(repo().join("ci/github/install.sh"))
            .arg("key")
            .env("GITHUB_OUTPUT", &output)
            .env("RUNNER_TOOL_CACHE", dir.path())
            .output()
            .expect("sh runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        fs::read_to_string(&output).expect("outputs")
    };
    let first = key(1);
    assert_eq!(first, key(2));
    let lines: Vec<&str> = first.lines().collect();
    assert_eq!(lines.len(), 2, "{first}");
    let hash = lines[0].rsplit('-').next().expect("a hash");
    assert_eq!(hash.len(), 32, "{first}");
    assert!(lines[0].starts_with("key=imgsize-Linux-"), "{first}");
    let root = format!("root={}/imgsize/{hash}", dir.path().display());
    assert_eq!(lines[1], root);
}

/// The GitLab template's `.imgsize` job: its variables (a job's own replacing the
/// template's), then its before_script and script lines in one `sh -e`, as the runner
/// runs them; the artifacts it declares must exist afterwards.
fn run_gitlab_job(given: &[(&str, &str)], dir: &Path, path: &str) -> Output {
    let template = yaml("ci/gitlab/imgsize.gitlab-ci.yml");
    let job = &template[".imgsize"];
    let mut script = String::new();
    for part in ["before_script", "script"] {
        for line in job[part].as_vec().expect(part) {
            script.push_str(&text(line));
            script.push('\n');
        }
    }
    let mut cmd = Command::new("sh");
    cmd.arg("-e")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("CI_PROJECT_DIR", dir)
        .env("PATH", path)
        .env_remove("IMGSIZE_BUDGET");
    for (k, v) in entries(&job["variables"]) {
        cmd.env(&k, v.replace("$CI_PROJECT_DIR", &dir.display().to_string()));
    }
    for (k, v) in given {
        cmd.env(k, v);
    }
    cmd.output().expect("sh runs")
}

fn system_path() -> String {
    std::env::var("PATH").unwrap_or_default()
}

fn with_imgsize() -> String {
    format!("{}:{}", bin_dir().display(), system_path())
}

fn the_gitlab_template_leaves_the_junit_report_it_declares() {
    let template = yaml("ci/gitlab/imgsize.gitlab-ci.yml");
    let artifacts = &template[".imgsize"]["artifacts"];
    let junit = text(&artifacts["reports"]["junit"]);
    assert_eq!(text(&artifacts["when"]), "always");
    let dir = tmp();
    let limits = "compressed=100kB\nrules.pip-cache=0\npaths./root/.cache/**=0";
    let out = run_gitlab_job(
        &[("IMGSIZE_IMAGE", &sample()), ("IMGSIZE_LIMITS", limits)],
        dir.path(),
        &with_imgsize(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed budget fails the job: {stderr}"
    );
    let xml = fs::read_to_string(dir.path().join(&junit)).expect("the JUnit artifact");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    assert_eq!(suite.attribute("tests"), Some("3"));
    assert_eq!(suite.attribute("failures"), Some("3"));
    for path in artifacts["paths"].as_vec().expect("paths") {
        let folder = dir.path().join(text(path));
        let files = fs::read_dir(&folder).expect("the artifact folder").count();
        assert_eq!(
            files,
            4,
            "JSON, markdown, JUnit and SARIF in {}",
            folder.display()
        );
    }
    let out = run_gitlab_job(
        &[
            ("IMGSIZE_IMAGE", &sample()),
            ("IMGSIZE_LIMITS", "compressed=1MB"),
        ],
        dir.path(),
        &with_imgsize(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn the_gitlab_template_says_what_is_missing() {
    let dir = tmp();
    let out = run_gitlab_job(&[("IMGSIZE_IMAGE", &sample())], dir.path(), &system_path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("set IMGSIZE_GIT"), "{stderr}");
    let out = run_gitlab_job(&[], dir.path(), &with_imgsize());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("set IMGSIZE_IMAGE"), "{stderr}");
}

fn check_sh(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg(repo().join("ci/check.sh"))
        .args(args)
        .current_dir(dir)
        .env("IMGSIZE", env!("CARGO_BIN_EXE_imgsize"))
        .env_remove("IMGSIZE_BUDGET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("sh runs")
}

fn check_sh_exits_as_check_does() {
    let dir = tmp();
    fs::write(
        dir.path().join("imgsize.toml"),
        "[budget]\ncompressed = \"200 kB\"\n",
    )
    .expect("budget");
    // The budget file of the working folder, and an empty IMGSIZE_BUDGET as none.
    let out = check_sh(&[&sample()], &[("IMGSIZE_BUDGET", "")], dir.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("208.47 kB"), "{stdout}");
    let mut files: Vec<String> = fs::read_dir(dir.path().join("imgsize-out"))
        .expect("reports")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["imgsize.json", "imgsize.md", "imgsize.sarif", "imgsize.xml"]
    );
    let out = check_sh(
        &[&sample(), "--limit", "compressed=208474"],
        &[("IMGSIZE_FORMAT", "markdown"), ("IMGSIZE_OUT", "elsewhere")],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("### "));
    assert!(dir.path().join("elsewhere/imgsize.md").is_file());
    let out = check_sh(&["missing.tar"], &[], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let out = check_sh(
        &[&sample()],
        &[("IMGSIZE", "/nonexistent/imgsize")],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot find imgsize"));
    assert_eq!(check_sh(&[], &[], dir.path()).status.code(), Some(2));
}

crate::tests![
    the_action_fails_as_check_does_and_leaves_every_report,
    the_action_passes_within_budget_and_skips_the_upload_by_default,
    the_action_tells_an_unreadable_image_from_a_failed_budget,
    the_action_keys_its_build_by_its_sources,
    the_gitlab_template_leaves_the_junit_report_it_declares,
    the_gitlab_template_says_what_is_missing,
    check_sh_exits_as_check_does,
];
