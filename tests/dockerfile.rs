//! `--dockerfile`: layers get the line of the instruction that made them, on histories
//! written by real builds (buildah, recorded in testdata/dockerfiles) and in the forms
//! of the classic builder and BuildKit; a layer no instruction matches stays unmatched.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{imgsize, tmp};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/dockerfiles")
        .join(name)
}

/// An image with this history: a small file per layer.
fn image_of(history: &[(&str, bool)]) -> Image {
    let mut img = Image::new("app:1");
    for (n, (created_by, empty)) in history.iter().enumerate() {
        img = if *empty {
            img.step(created_by)
        } else {
            img.layer(Layer::new(created_by).fill(&format!("f{n}"), 10 + n as u64))
        };
    }
    img
}

/// The recorded history of a real build.
fn recorded(name: &str) -> Vec<(String, bool)> {
    let doc: Value = serde_json::from_slice(&fs::read(fixture("app").join(name)).expect("fixture"))
        .expect("json");
    doc["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["created_by"].as_str().expect("created_by").to_string(),
                h["empty_layer"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// `report --dockerfile --format json`: each layer's line (None when unmatched) and the
/// top-level `dockerfile` object.
fn lines(history: &[(&str, bool)], dockerfile: &Path, extra: &[&str]) -> (Vec<Option<u64>>, Value) {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&image_of(history), &path).expect("fixture");
    let mut args = vec![
        "report",
        "--no-progress",
        "--format",
        "json",
        "--dockerfile",
        dockerfile.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let p = path.to_string_lossy().into_owned();
    args.push(&p);
    let o = imgsize(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    let layers = doc["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter(|l| l["empty_layer"] == false)
        .map(|l| l["dockerfile_line"]["line"].as_u64())
        .collect();
    (layers, doc["dockerfile"].clone())
}

fn real_buildah_histories_match_every_layer_of_the_final_stage() {
    let df = fixture("app").join("Dockerfile");
    for name in [
        "history-docker-format.json",
        "history-oci-format-build-arg.json",
    ] {
        let h = recorded(name);
        let h: Vec<(&str, bool)> = h.iter().map(|(c, e)| (c.as_str(), *e)).collect();
        let (layers, doc) = lines(&h, &df, &[]);
        // The base's layer has no line; RUN (a continuation over 3 lines), COPY --chown,
        // COPY --from, RUN with a comment inside its continuation.
        assert_eq!(
            layers,
            [None, Some(12), Some(15), Some(16), Some(17)],
            "{name}"
        );
        assert_eq!(doc["stage"], "localhost/deb-base", "{name}");
        assert_eq!(doc["matched_layers"], 4);
        assert_eq!(doc["unmatched_lines"], serde_json::json!([]), "{name}");
        // The metadata-only steps have their lines too.
        assert_eq!(
            empty_lines(&h, &df),
            [
                Some(7),
                Some(8),
                Some(10),
                Some(20),
                Some(21),
                Some(22),
                Some(23)
            ],
            "{name}"
        );
    }
}

/// The lines of the metadata-only steps.
fn empty_lines(history: &[(&str, bool)], dockerfile: &Path) -> Vec<Option<u64>> {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&image_of(history), &path).expect("fixture");
    let o = imgsize(&[
        "report",
        "--format",
        "json",
        "--dockerfile",
        dockerfile.to_str().expect("utf-8"),
        path.to_str().expect("utf-8"),
    ]);
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    doc["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter(|l| l["empty_layer"] == true)
        .map(|l| l["dockerfile_line"]["line"].as_u64())
        .collect()
}

fn classic_and_buildkit_forms_of_the_same_build_match_the_same_lines() {
    let df = fixture("app").join("Dockerfile");
    let classic = [
        ("/bin/sh -c #(nop) ADD file:0123456789abcdef in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
        ("/bin/sh -c #(nop)  ARG VERSION=1.2", true),
        ("/bin/sh -c #(nop)  ENV APP_HOME=/app MODE=prod", true),
        ("/bin/sh -c #(nop) WORKDIR /app", true),
        (
            "|1 VERSION=1.2 /bin/sh -c apt-get update     && echo \"version ${VERSION}\" > /version.txt     && rm -rf /var/lib/apt/lists/*",
            false,
        ),
        (
            "/bin/sh -c #(nop) COPY multi:0123456789abcdef in ./ ",
            false,
        ),
        (
            "/bin/sh -c #(nop) COPY file:0123456789abcdef in /opt/ ",
            false,
        ),
        (
            "|1 VERSION=1.2 /bin/sh -c mkdir -p /data  && echo ok > /data/ok",
            false,
        ),
        ("/bin/sh -c #(nop)  LABEL org.example.version=1.2", true),
        ("/bin/sh -c #(nop)  EXPOSE 8000", true),
        ("/bin/sh -c #(nop)  USER 1000", true),
        ("/bin/sh -c #(nop)  CMD [\"python3\" \"app.py\"]", true),
    ];
    let buildkit = [
        ("/bin/sh -c #(nop) ADD file:0123456789abcdef in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
        ("ARG VERSION=1.2", true),
        ("ENV APP_HOME=/app MODE=prod", true),
        ("WORKDIR /app", false),
        (
            "RUN |1 VERSION=1.2 /bin/sh -c apt-get update     && echo \"version ${VERSION}\" > /version.txt     && rm -rf /var/lib/apt/lists/* # buildkit",
            false,
        ),
        (
            "COPY --chown=1000:1000 app.py requirements.txt ./ # buildkit",
            false,
        ),
        ("COPY /built.txt /opt/ # buildkit", false),
        (
            "RUN |1 VERSION=1.2 /bin/sh -c mkdir -p /data  && echo ok > /data/ok # buildkit",
            false,
        ),
        ("LABEL org.example.version=1.2", true),
        ("EXPOSE map[8000/tcp:{}]", true),
        ("USER 1000", true),
        ("CMD [\"python3\" \"app.py\"]", true),
    ];
    let (layers, _) = lines(&classic, &df, &[]);
    assert_eq!(layers, [None, Some(12), Some(15), Some(16), Some(17)]);
    let (layers, doc) = lines(&buildkit, &df, &[]);
    // BuildKit's WORKDIR made a layer: it has its line too.
    assert_eq!(
        layers,
        [None, Some(10), Some(12), Some(15), Some(16), Some(17)]
    );
    // BuildKit writes EXPOSE as a Go map: that step is left unmatched, not guessed.
    assert_eq!(doc["unmatched_lines"], serde_json::json!([21]));
}

fn heredocs_stages_and_wrong_dockerfiles() {
    let dir = tmp();
    let df = dir.path().join("Dockerfile");
    fs::write(
        &df,
        "FROM alpine AS build\nRUN make\n\nFROM debian\nRUN <<EOF\nset -e\napt-get update\nEOF\nCOPY --from=build /out /usr/local/bin/\nCMD [\"bash\"]\n",
    )
    .expect("write");
    let history = [
        ("/bin/sh -c #(nop) ADD file:0123456789abcdef in / ", false),
        ("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
        (
            "RUN /bin/sh -c <<EOF\nset -e\napt-get update\nEOF # buildkit",
            false,
        ),
        ("COPY /out /usr/local/bin/ # buildkit", false),
        ("CMD [\"bash\"]", true),
    ];
    let (layers, doc) = lines(&history, &df, &[]);
    assert_eq!(layers, [None, Some(5), Some(9)]);
    assert_eq!(doc["stage"], "debian");
    // The build stage: its RUN make is not in this image's history.
    let (layers, doc) = lines(&history, &df, &["--target", "build"]);
    assert_eq!(layers, [None, None, None]);
    assert!(
        doc["notes"][0]
            .as_str()
            .expect("note")
            .contains("no history step matches")
    );
    // A Dockerfile of another image: nothing is matched.
    fs::write(
        &df,
        "FROM debian\nRUN apt-get install -y gcc\nCOPY . /src\n",
    )
    .expect("write");
    let (layers, _) = lines(&history, &df, &[]);
    assert_eq!(layers, [None, None, None]);
}

fn dockerfile_errors_name_the_file_and_line() {
    let dir = tmp();
    let df = dir.path().join("Dockerfile");
    fs::write(&df, "FROM debian\nRUNN make\n").expect("write");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar");
    let o = imgsize(&[
        "report",
        "--dockerfile",
        df.to_str().expect("utf-8"),
        sample.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Dockerfile:2: unknown instruction `RUNN`"),
        "{err}"
    );
    fs::write(&df, "FROM debian AS build\nRUN make\nFROM debian\n").expect("write");
    let o = imgsize(&[
        "report",
        "--dockerfile",
        df.to_str().expect("utf-8"),
        "--target",
        "nope",
        sample.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Dockerfile: no stage named `nope` (stages: build)"),
        "{err}"
    );
    assert_eq!(err.matches("Dockerfile").count(), 1, "{err}");
    assert!(!err.contains("sample.tar"), "{err}");
    let o = imgsize(&[
        "report",
        "--dockerfile",
        "/nonexistent/Dockerfile",
        sample.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/Dockerfile"));
}

fn check_points_failed_budgets_and_findings_at_dockerfile_lines() {
    let dir = tmp();
    let df = dir.path().join("Dockerfile");
    fs::write(
        &df,
        "FROM debian\nRUN apt-get update && apt-get install -y gcc libpq-dev\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nRUN rm -rf /var/lib/apt/lists/*\nCOPY . /app\nRUN chmod -R 755 /app\n",
    )
    .expect("write");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar");
    let o = imgsize(&[
        "check",
        "--no-progress",
        "--format",
        "sarif",
        "--limit",
        "rules.pip-cache=0",
        "--dockerfile",
        df.to_str().expect("utf-8"),
        sample.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let at = |i: usize| {
        let l = &results[i]["locations"][0]["physicalLocation"];
        (
            l["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
                .rsplit('/')
                .next()
                .expect("name")
                .to_string(),
            l["region"]["startLine"].as_u64(),
        )
    };
    assert_eq!(results[0]["ruleId"], "budget/rules");
    assert_eq!(at(0), ("Dockerfile".to_string(), Some(4)));
    // The findings: apt-lists at the apt RUN, pip-cache at the pip RUN.
    assert_eq!(results[1]["ruleId"], "finding/apt-lists");
    assert_eq!(at(1), ("Dockerfile".to_string(), Some(2)));
    assert_eq!(results[2]["ruleId"], "finding/pip-cache");
    assert_eq!(at(2), ("Dockerfile".to_string(), Some(4)));
}

fn diff_carries_the_lines_of_each_side_saved_reports_too() {
    let df = fixture("app").join("Dockerfile");
    let h = recorded("history-docker-format.json");
    let h: Vec<(&str, bool)> = h.iter().map(|(c, e)| (c.as_str(), *e)).collect();
    let dir = tmp();
    let old = dir.path().join("old.tar");
    let new = dir.path().join("new.tar");
    docker_archive(&image_of(&h), &old).expect("fixture");
    // The new image's pip step grew.
    let mut grown = image_of(&h[..4]);
    grown = grown.layer(Layer::new(h[4].0).fill("f4", 5000));
    for (n, (c, e)) in h.iter().enumerate().skip(5) {
        grown = if *e {
            grown.step(c)
        } else {
            grown.layer(Layer::new(c).fill(&format!("f{n}"), 10 + n as u64))
        };
    }
    docker_archive(&grown, &new).expect("fixture");
    let dfs = df.to_str().expect("utf-8");
    // The old side as a saved report made with --dockerfile.
    let saved = imgsize(&[
        "report",
        "--format",
        "json",
        "--dockerfile",
        dfs,
        old.to_str().expect("utf-8"),
    ]);
    assert_eq!(saved.status.code(), Some(0));
    let saved_path = dir.path().join("old.json");
    fs::write(&saved_path, &saved.stdout).expect("write");
    let o = imgsize(&[
        "diff",
        "--no-progress",
        "--format",
        "json",
        "--dockerfile",
        dfs,
        saved_path.to_str().expect("utf-8"),
        new.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    let rows: Vec<(String, Option<u64>)> = doc["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| {
            (
                l["status"].as_str().expect("status").to_string(),
                l["dockerfile_line"]["line"].as_u64(),
            )
        })
        .collect();
    let want: Vec<(String, Option<u64>)> = [
        ("unchanged", None),
        ("changed", Some(12)),
        ("unchanged", Some(15)),
        ("unchanged", Some(16)),
        ("unchanged", Some(17)),
    ]
    .iter()
    .map(|(s, l)| (s.to_string(), *l))
    .collect();
    let mut got = rows.clone();
    got.sort_by_key(|(_, l)| *l);
    let mut want_sorted = want.clone();
    want_sorted.sort_by_key(|(_, l)| *l);
    assert_eq!(got, want_sorted, "{rows:?}");
}

crate::tests![
    real_buildah_histories_match_every_layer_of_the_final_stage,
    classic_and_buildkit_forms_of_the_same_build_match_the_same_lines,
    heredocs_stages_and_wrong_dockerfiles,
    dockerfile_errors_name_the_file_and_line,
    check_points_failed_budgets_and_findings_at_dockerfile_lines,
    diff_carries_the_lines_of_each_side_saved_reports_too,
];
