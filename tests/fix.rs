//! `imgsize fix`'s plan: the findings of a built image written into the Dockerfile that
//! built it, every other byte of the file kept.

use std::fs;

use std::path::Path;
use std::process::Command;

use imgsize::analyze::findings::Recipe;
use imgsize::analyze::fix::{self, Selection};
use imgsize::analyze::patch::{self, apply, split_lines};
use imgsize::analyze::stage_text::{self, RuntimeStage};

use crate::engine::{busybox_engine, read_layers, total};

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::tmp;

const DOCKERFILE: &str = "FROM debian\n# the tools\nRUN apt-get update && \\\n    apt-get install -y curl\nCOPY . /app\nRUN [\"pip\", \"install\", \"-r\", \"/app/requirements.txt\"]\nRUN npm install\nCMD [\"node\", \"app\"]\n";

fn image() -> Image {
    Image::new("fix:1")
        .layer(Layer::new("").fill("bin/sh", 4000))
        .layer(
            Layer::new("/bin/sh -c apt-get update &&     apt-get install -y curl")
                .fill("usr/bin/curl", 2500)
                .fill("var/lib/apt/lists/deb_Packages", 8000)
                .fill("var/cache/apt/archives/curl.deb", 3000),
        )
        .layer(
            Layer::new("/bin/sh -c #(nop) COPY dir:0a1b2c3d in /app ")
                .fill("app/app.js", 700)
                .fill("app/.git/objects/pack/p.pack", 5000),
        )
        .layer(
            Layer::new("/bin/sh -c pip install -r /app/requirements.txt")
                .fill("root/.cache/pip/wheels/ab/x.whl", 2200)
                .fill("usr/local/lib/python3.11/site-packages/x/__init__.py", 900),
        )
        .layer(
            Layer::new("/bin/sh -c npm install")
                .fill("root/.npm/_cacache/content-v2/x", 2600)
                .fill("app/node_modules/a/index.js", 1000),
        )
        .step("/bin/sh -c #(nop)  CMD [\"node\" \"app\"]")
}

/// Apt's caches end their RUN in one chained command, npm's cache its own; pip's
/// exec-form RUN gets `ENV PIP_NO_CACHE_DIR=1` before it; `.git` goes to
/// `.dockerignore`; nothing else of the file changes.
fn the_plan_writes_each_fix_where_it_belongs() {
    let dir = tmp();
    let tar = dir.path().join("image.tar");
    docker_archive(&image(), &tar).expect("write image");
    let file = dir.path().join("Dockerfile");
    fs::write(&file, DOCKERFILE).expect("write Dockerfile");
    let options = imgsize::Options {
        dockerfile: Some(file.clone()),
        ..Default::default()
    };
    let r =
        imgsize::run(&tar.to_string_lossy(), &options, &imgsize::Hooks::default()).expect("report");
    let df = imgsize::source::dockerfile::parse(DOCKERFILE, "Dockerfile").expect("parse");
    let plan = fix::plan(&r, &df, DOCKERFILE, &Selection::default());
    assert_eq!(
        patch::apply(DOCKERFILE, &plan.hunks()),
        "FROM debian\n# the tools\n# imgsize: apt-archives, apt-lists: apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN apt-get update && \\\n    apt-get install -y curl \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/*\nCOPY . /app\n# imgsize: pip-cache: PIP_NO_CACHE_DIR=1\nENV PIP_NO_CACHE_DIR=1\nRUN [\"pip\", \"install\", \"-r\", \"/app/requirements.txt\"]\n# imgsize: npm-cache: npm cache clean --force\nRUN npm install \\\n    && npm cache clean --force\nCMD [\"node\", \"app\"]\n"
    );
    assert!(
        plan.ignore
            .iter()
            .any(|(p, rule)| *p == "**/.git" && *rule == "dockerignore")
    );
    assert_eq!(
        patch::dockerignore(
            None,
            &plan.ignore.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            "dockerignore"
        )
        .as_deref(),
        Some("# imgsize: dockerignore\n**/.git\n**/.hg\n**/.svn\n**/__pycache__\n**/*.pyc\n")
    );
}

/// The naive Dockerfile of the rebuild test: `.git` copied in, a build tree beside
/// `Cargo.toml`, files a later RUN deletes, a build-only "package" (dpkg's database
/// written by hand: busybox has no dpkg), and the artifact the CMD runs.
const NAIVE: &str = "FROM isz-engine/base:1
COPY app /app
RUN mkdir -p /src/target/release /usr/local/bin /usr/lib/gcc /var/lib/dpkg/info \\
 && echo '[package]' > /src/Cargo.toml \\
 && head -c 300000 /dev/zero > /src/target/release/deps.rlib \\
 && head -c 120000 /dev/zero > /usr/local/bin/tool \\
 && head -c 400000 /dev/zero > /usr/lib/gcc/cc1 \\
 && printf 'Package: gcc-12\\nStatus: install ok installed\\nVersion: 12\\n\\n' > /var/lib/dpkg/status \\
 && echo /usr/lib/gcc/cc1 > /var/lib/dpkg/info/gcc-12.list
RUN mkdir -p /opt/data && head -c 90000 /dev/zero > /opt/data/blob
RUN rm -rf /opt/data
CMD [\"/usr/local/bin/tool\"]
";

/// Write the naive build context into `dir`.
fn naive_context(dir: &Path) {
    let files: &[(&str, usize)] = &[
        ("app/main.py", 3_000),
        ("app/.git/HEAD", 21),
        ("app/.git/objects/pack/p.pack", 150_000),
    ];
    for (path, size) in files {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("context");
        fs::write(&path, vec![b'x'; *size]).expect("context");
    }
    fs::write(dir.join("Dockerfile"), NAIVE).expect("Dockerfile");
}

/// `imgsize fix --write` on a copy of the naive context, with `args`; its JSON.
fn fix_into(naive: &Path, tar: &Path, ctx: &Path, args: &[&str]) -> serde_json::Value {
    let copy = Command::new("cp")
        .args(["-a", &naive.to_string_lossy(), &ctx.to_string_lossy()])
        .status()
        .expect("cp");
    assert!(copy.success());
    let df = ctx.join("Dockerfile");
    let out = Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args([
            "fix",
            &tar.to_string_lossy(),
            "--dockerfile",
            &df.to_string_lossy(),
        ])
        .args(["--write", "--format", "json", "--no-progress"])
        .args(args)
        .output()
        .expect("imgsize fix");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("fix JSON")
}

/// The patches `imgsize fix` writes build with the real engine, the patched image
/// still holds what its CMD runs, and its stored bytes are exactly the projection: in
/// place (`.dockerignore`, the build tree and the deleted files removed in the RUN that
/// makes them, the later `rm` RUN dropped) and as a multi-stage build.
fn patches_rebuild_to_their_projection() {
    let mut engine = busybox_engine();
    let naive = engine.dir().join("ctx-fix-naive");
    naive_context(&naive);
    let naive_tar = engine.build_context(&naive, "fix-naive");
    let naive_bytes = total(&read_layers(&naive_tar));
    for (name, args, multi) in [
        ("fix-in-place", &["--skip-rule", "multi-stage"][..], false),
        ("fix-multi-stage", &[][..], true),
    ] {
        let ctx = engine.dir().join(format!("ctx-{name}"));
        let doc = fix_into(&naive, &naive_tar, &ctx, args);
        assert_eq!(doc["multi_stage"], multi, "{name}: {doc}");
        assert_eq!(doc["stored_bytes"], naive_bytes, "{name}");
        let tar = engine.build_context(&ctx, name);
        let layers = read_layers(&tar);
        let rebuilt = total(&layers);
        assert_eq!(
            doc["projected"]["stored_bytes"],
            rebuilt,
            "{name}: projected vs rebuilt; the patch:\n{}",
            doc["files"][0]["diff"].as_str().unwrap_or("")
        );
        let files: Vec<&String> = layers.iter().flat_map(|l| l.files.keys()).collect();
        assert!(
            files.iter().any(|f| *f == "usr/local/bin/tool"),
            "{name}: {files:?}"
        );
        assert!(
            !files.iter().any(|f| f.contains(".git/")),
            "{name}: {files:?}"
        );
        assert!(
            !files.iter().any(|f| f.starts_with("opt/")),
            "{name}: {files:?}"
        );
        assert!(
            !files.iter().any(|f| f.starts_with("src/target")),
            "{name}: {files:?}"
        );
        if multi {
            assert!(
                !files.iter().any(|f| f.starts_with("usr/lib/gcc")),
                "{files:?}"
            );
        }
    }
}

fn recipe(packages: &[&str], copies: &[&str]) -> Recipe {
    Recipe {
        packages: packages.iter().map(|s| s.to_string()).collect(),
        copies: copies.iter().map(|c| (c.to_string(), 1)).collect(),
        ..Recipe::default()
    }
}

fn written(text: &str, rs: &RuntimeStage<'_>) -> String {
    let df = imgsize::source::dockerfile::parse(text, "Dockerfile").expect("parse");
    let lines = split_lines(text);
    let (hunks, _) = stage_text::write(&df, &lines, rs).expect("write");
    apply(text, &hunks)
}

/// The target stage is named the build stage; the runtime stage repeats the
/// lineage's `ARG`/`ENV` before its install and its `WORKDIR`, `USER`, `CMD` after its
/// copies, with an `ARG`-parameterised `FROM`.
fn the_target_stage_builds_and_a_runtime_stage_follows() {
    let text = "ARG BASE=debian:bookworm\nFROM ${BASE}\nENV A=1\nRUN apt-get install -y nodejs npm\nCOPY . /app\nWORKDIR /app\nRUN npm ci\nUSER node\nCMD [\"node\", \"index.js\"]\n";
    let r = recipe(&["nodejs"], &["/app"]);
    let rs = RuntimeStage {
        target: "debian:bookworm",
        recipe: &r,
        runtime_base: None,
        slim: false,
    };
    assert_eq!(
        written(text, &rs),
        "ARG BASE=debian:bookworm\n# imgsize: multi-stage: this stage builds; the runtime stage below ships\nFROM ${BASE} AS build\nENV A=1\nRUN apt-get install -y nodejs npm\nCOPY . /app\nWORKDIR /app\nRUN npm ci\nUSER node\nCMD [\"node\", \"index.js\"]\n\n# imgsize: multi-stage: the runtime stage: what the app needs at run time, copied from `build`\nFROM ${BASE}\nENV A=1\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends nodejs \\\n    && apt-get clean \\\n    && rm -rf /var/lib/apt/lists/*\nCOPY --from=build /app /app\nWORKDIR /app\nUSER node\nCMD [\"node\", \"index.js\"]\n"
    );
}

/// Only the final stage's lineage counts (a stage `FROM` another continues it; the
/// others are left alone); a named stage keeps its name; paths with a blank take the
/// JSON form.
fn only_the_final_lineage_and_named_stages_keep_their_names() {
    let text = "FROM golang AS tools\nRUN go install x\nFROM debian AS deps\nEXPOSE 80\nFROM deps AS app\nCOPY --from=tools /go/bin/x /x\nCMD [\"/x\"]";
    let r = recipe(&[], &["/x", "/my dir"]);
    let rs = RuntimeStage {
        target: "app",
        recipe: &r,
        runtime_base: Some("debian:slim"),
        slim: true,
    };
    assert_eq!(
        written(text, &rs),
        "FROM golang AS tools\nRUN go install x\nFROM debian AS deps\nEXPOSE 80\nFROM deps AS app\nCOPY --from=tools /go/bin/x /x\nCMD [\"/x\"]\n\n# imgsize: multi-stage: the runtime stage: what the app needs at run time, copied from `app`\nFROM debian:slim\nCOPY --from=app /x /x\nCOPY --from=app [\"/my dir\", \"/my dir\"]\nEXPOSE 80\nCMD [\"/x\"]"
    );
}

/// A slim variant imgsize cannot name is said in the patch and in a note.
fn an_unknown_slim_variant_is_said() {
    let text = "FROM python:3.12\nRUN pip install flask\n";
    let r = recipe(&[], &["/usr/local"]);
    let rs = RuntimeStage {
        target: "python:3.12",
        recipe: &r,
        runtime_base: None,
        slim: true,
    };
    let df = imgsize::source::dockerfile::parse(text, "Dockerfile").expect("parse");
    let (hunks, notes) = stage_text::write(&df, &split_lines(text), &rs).expect("write");
    let out = apply(text, &hunks);
    assert!(out.contains("# imgsize: multi-stage: put the slim variant of `python:3.12` here"));
    assert!(out.contains("FROM python:3.12 AS build\n"));
    assert_eq!(notes.len(), 1);
}

/// Bad input is one clear line and exit code 2: an unknown rule (before the image is
/// read), a Dockerfile that is not there.
fn bad_fix_input_is_a_clear_error() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample.tar");
    let dockerfile = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample.Dockerfile");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_imgsize"))
            .args(["fix", sample, "--no-progress"])
            .args(args)
            .output()
            .expect("imgsize fix");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--dockerfile", dockerfile, "--rule", "pip_cache"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown rule `pip_cache`"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, err) = run(&["--dockerfile", "/nonexistent/Dockerfile"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("/nonexistent/Dockerfile"), "{err}");
    let (code, err) = run(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--dockerfile"), "{err}");
}

/// An image whose RUN installs packages and creates its user: the runtime stage
/// installs the runtime package by name, copies the app, and copies the account files
/// only when the image runs as that user (apt writes them again otherwise).
fn the_runtime_stage_keeps_the_user_the_image_runs_as() {
    use crate::projections::{Op, Step, build, report_of};
    let status = "Package: libc6\nStatus: install ok installed\nVersion: 1\n\nPackage: curl\nStatus: install ok installed\nVersion: 1\n\nPackage: gcc\nStatus: install ok installed\nVersion: 1\n\n";
    let steps = [
        Step::new(
            "",
            vec![
                Op::Fill("bin/sh", 4000),
                Op::Text("etc/passwd", "root:x:0:0::/root:/bin/sh\n".into()),
                Op::Text(
                    "var/lib/dpkg/status",
                    "Package: libc6\nStatus: install ok installed\nVersion: 1\n\n".into(),
                ),
            ],
        ),
        Step::new(
            "/bin/sh -c apt-get update && apt-get install -y curl gcc && useradd app",
            vec![
                Op::Fill("usr/bin/curl", 3000),
                Op::Fill("usr/bin/gcc", 9000),
                Op::Text("var/lib/dpkg/info/curl.list", "/.\n/usr/bin/curl\n".into()),
                Op::Text("var/lib/dpkg/info/gcc.list", "/.\n/usr/bin/gcc\n".into()),
                Op::Text("var/lib/dpkg/status", status.into()),
                Op::Text(
                    "etc/passwd",
                    "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n".into(),
                ),
            ],
        ),
        Step::new(
            "/bin/sh -c #(nop) COPY dir:0a1b2c in /app ",
            vec![Op::Fill("app/main.py", 700)],
        ),
    ];
    for (user, passwd) in [(true, true), (false, false)] {
        let mut img = build(&steps);
        if user {
            img = img.step("/bin/sh -c #(nop)  USER app");
        }
        let r = report_of(&img.step("/bin/sh -c #(nop)  CMD [\"python3\" \"/app/main.py\"]"));
        let recipe = r
            .findings
            .structural
            .as_ref()
            .and_then(|s| s.recipe.clone())
            .expect("a runtime stage");
        assert_eq!(recipe.packages, vec!["curl".to_string()]);
        let copies: Vec<&str> = recipe.copies.iter().map(|(p, _)| p.as_str()).collect();
        assert!(copies.contains(&"/app/main.py"), "{copies:?}");
        assert_eq!(copies.contains(&"/etc/passwd"), passwd, "{copies:?}");
        assert!(
            !copies
                .iter()
                .any(|c| c.starts_with("/usr") || c.starts_with("/var")),
            "{copies:?}"
        );
    }
}

crate::tests![
    the_plan_writes_each_fix_where_it_belongs,
    patches_rebuild_to_their_projection,
    the_target_stage_builds_and_a_runtime_stage_follows,
    only_the_final_lineage_and_named_stages_keep_their_names,
    an_unknown_slim_variant_is_said,
    bad_fix_input_is_a_clear_error,
    the_runtime_stage_keeps_the_user_the_image_runs_as,
];
