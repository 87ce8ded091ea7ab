//! Projections against rebuilds, on simulated Dockerfiles that stack mistakes the way
//! real ones do. A small builder replays each Dockerfile's steps on a filesystem state,
//! as an engine does (a `chmod -R` rewrites every file it finds; `rm -rf` writes
//! whiteouts for what exists), then builds the naive image and one image per fix. A
//! fix's truth is the drop in stored bytes; imgsize's projection of it must equal it.
//! The simulator knows nothing of imgsize's rules: it only replays steps.

use std::collections::BTreeMap;

use imgsize::analyze::Report;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{analyze, tmp};

/// What a step does to the filesystem.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// Write a file of `size` filler bytes (a COPY from the context, or a RUN's output).
    Fill(&'static str, u64),
    /// Write a file with this text.
    Text(&'static str, String),
    /// Rewrite every file under a folder with another mode (`chmod -R`).
    Chmod(&'static str),
    /// Delete a path and everything under it (`rm -rf`).
    Remove(&'static str),
}

/// One Dockerfile step that makes a layer.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) created_by: &'static str,
    /// Mode of the files the step writes.
    pub(crate) mode: u32,
    pub(crate) ops: Vec<Op>,
}

impl Step {
    pub(crate) fn new(created_by: &'static str, ops: Vec<Op>) -> Step {
        Step {
            created_by,
            mode: 0o644,
            ops,
        }
    }

    /// Leave out the files whose path contains `part`.
    pub(crate) fn without(&mut self, part: &str) {
        self.ops.retain(|op| match op {
            Op::Fill(p, _) | Op::Text(p, _) => !p.contains(part),
            _ => true,
        });
    }
}

#[derive(Clone, Debug)]
enum Content {
    Fill(u64),
    Text(String),
}

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.starts_with(&format!("{dir}/"))
}

/// Replay the steps into an image, as an engine would.
pub(crate) fn build(steps: &[Step]) -> Image {
    let mut state: BTreeMap<&'static str, Content> = BTreeMap::new();
    let mut img = Image::new("sim/app:1");
    for step in steps {
        let mut layer = Layer::new(step.created_by).file_mode(step.mode);
        for op in &step.ops {
            match op {
                Op::Fill(p, n) => {
                    layer = layer.fill(p, *n);
                    state.insert(p, Content::Fill(*n));
                }
                Op::Text(p, t) => {
                    layer = layer.file(p, t.as_bytes());
                    state.insert(p, Content::Text(t.clone()));
                }
                Op::Chmod(dir) => {
                    for (p, c) in state.iter().filter(|(p, _)| under(p, dir)) {
                        layer = match c {
                            Content::Fill(n) => layer.fill(p, *n),
                            Content::Text(t) => layer.file(p, t.as_bytes()),
                        };
                    }
                }
                Op::Remove(path) => {
                    if state.keys().any(|p| under(p, path)) {
                        layer = layer.whiteout(path);
                        state.retain(|p, _| !under(p, path));
                    }
                }
            }
        }
        img = img.layer(layer);
    }
    img.step("/bin/sh -c #(nop)  CMD [\"python3\" \"main.py\"]")
}

pub(crate) fn stored(steps: &[Step]) -> u64 {
    build(steps).layers.iter().map(Layer::added_bytes).sum()
}

fn report(steps: &[Step]) -> Report {
    report_of(&build(steps))
}

/// The report of a built image.
pub(crate) fn report_of(img: &Image) -> Report {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(img, &path).expect("write image");
    analyze(&path).expect("analyze")
}

/// A dpkg status file listing these packages.
fn status(packages: &[&str]) -> String {
    packages
        .iter()
        .map(|p| format!("Package: {p}\nStatus: install ok installed\nVersion: 1.0\n\n"))
        .collect()
}

const SITE: &str = "usr/local/lib/python3.11/site-packages";

/// The naive Python service: an imported root filesystem, the app copied with its
/// `.git` and host bytecode, pip's cache left, a compiler and curl installed with apt's
/// caches left, a `chmod -R` over `/app` and `/root` that re-adds `.git`, the bytecode
/// and pip's cache, then a RUN that deletes `.git` and the cache: they still ship, twice.
fn naive() -> Vec<Step> {
    let list = |p: &str, path: &str| {
        Op::Text(
            leak(format!("var/lib/dpkg/info/{p}:amd64.list")),
            format!("/.\n{path}\n"),
        )
    };
    vec![
        Step::new(
            "",
            vec![
                Op::Fill("bin/sh", 4000),
                Op::Fill("usr/lib/x86_64-linux-gnu/libc.so.6", 9000),
                Op::Text("var/lib/dpkg/status", status(&["libc6"])),
                Op::Fill("var/lib/apt/lists/base_Packages", 3000),
            ],
        ),
        Step::new(
            "/bin/sh -c #(nop) COPY dir:0a1b2c3d4e5f in /app ",
            vec![
                Op::Fill("app/main.py", 700),
                Op::Fill("app/.git/objects/pack/pack-1.pack", 5000),
                Op::Fill("app/.git/index", 300),
                Op::Fill("app/__pycache__/main.cpython-311.pyc", 200),
            ],
        ),
        Step::new(
            "/bin/sh -c pip install -r requirements.txt",
            vec![
                Op::Fill(leak(format!("{SITE}/req/__init__.py")), 1500),
                Op::Fill(leak(format!("{SITE}/req/tests/test_api.py")), 400),
                Op::Fill(
                    leak(format!("{SITE}/req/__pycache__/__init__.cpython-311.pyc")),
                    600,
                ),
                Op::Fill("root/.cache/pip/wheels/ab/req-1.0-py3-none-any.whl", 2200),
            ],
        ),
        Step::new(
            "/bin/sh -c apt-get update && apt-get install -y curl gcc",
            vec![
                Op::Fill("usr/bin/curl", 2500),
                Op::Fill("usr/share/doc/curl/changelog.gz", 250),
                Op::Fill("usr/share/doc/curl/copyright", 50),
                Op::Fill("usr/bin/x86_64-linux-gnu-gcc-12", 6000),
                Op::Text("var/lib/dpkg/status", status(&["libc6", "curl", "gcc-12"])),
                list(
                    "curl",
                    "/usr/bin/curl\n/usr/share/doc/curl/changelog.gz\n/usr/share/doc/curl/copyright",
                ),
                list("gcc-12", "/usr/bin/x86_64-linux-gnu-gcc-12"),
                Op::Fill("var/lib/apt/lists/deb_Packages", 8000),
                Op::Fill("var/cache/apt/archives/gcc-12.deb", 3500),
            ],
        ),
        Step {
            mode: 0o664,
            ..Step::new(
                "/bin/sh -c chmod -R g+w /app /root",
                vec![Op::Chmod("app"), Op::Chmod("root")],
            )
        },
        Step::new(
            "/bin/sh -c rm -rf /app/.git /root/.cache",
            vec![Op::Remove("app/.git"), Op::Remove("root/.cache")],
        ),
    ]
}

pub(crate) fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The dpkg filter the `docs-locales` fix writes (it ships too).
const NODOC: &str = "path-exclude=/usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\n";

/// Each fix by the rule and layer that suggests it, as a change of the Dockerfile.
/// A fix: the rule and layer of its finding, and the change it makes.
pub(crate) type Fix = (&'static str, usize, fn(&mut Vec<Step>));

fn fixes() -> Vec<Fix> {
    vec![
        ("pip-cache", 2, |s| s[2].without(".cache/pip")),
        ("deleted-later", 2, |s| s[2].without(".cache/pip")),
        ("package-tests", 2, |s| s[2].without("/tests/")),
        ("bytecode", 2, |s| s[2].without("__pycache__")),
        ("apt-lists", 3, |s| s[3].without("apt/lists")),
        ("apt-archives", 3, |s| s[3].without("cache/apt")),
        ("docs-locales", 3, |s| {
            s[3].without("changelog");
            s[3].ops
                .push(Op::Text("etc/dpkg/dpkg.cfg.d/01-nodoc", NODOC.into()));
        }),
        ("dockerignore", 1, |s| {
            s[1].without(".git");
            s[1].without("__pycache__");
        }),
        ("deleted-later", 1, |s| s[1].without(".git")),
        ("chmod-duplicate", 4, |s| {
            s.remove(4);
            s[1].mode = 0o664;
            s[2].mode = 0o664;
        }),
    ]
}

pub(crate) fn alone(r: &Report, rule: &str, layer: usize) -> Option<u64> {
    r.findings
        .rows
        .iter()
        .find(|f| f.rule.code() == rule && f.layer == layer && f.scope.code() == "yours")
        .map(|f| f.bytes)
}

/// Every single fix, rebuilt alone, saves what imgsize projects for it: overlapping
/// mistakes included (the `chmod -R` copy of `.git` goes with the `.dockerignore`, with
/// leaving `.git` out, and with dropping the chmod; pip's cache with `PIP_NO_CACHE_DIR`
/// and with deleting it where it is made).
fn every_fix_alone_projects_its_rebuild() {
    let steps = naive();
    let r = report(&steps);
    let before = stored(&steps);
    assert_eq!(r.totals.stored_bytes, before);
    let mut table = Vec::new();
    for (rule, layer, apply) in fixes() {
        let mut fixed = steps.clone();
        apply(&mut fixed);
        let mut real = before - stored(&fixed);
        if rule == "docs-locales" {
            real += NODOC.len() as u64; // the filter file ships; imgsize counts removals
        }
        table.push((rule, layer, alone(&r, rule, layer), real));
    }
    let wrong: Vec<_> = table
        .iter()
        .filter(|(_, _, got, want)| *got != Some(*want))
        .collect();
    assert!(
        wrong.is_empty(),
        "projection != rebuild: {wrong:?}\nall: {table:?}"
    );
    // The figures, so that a change of the simulator is seen too.
    let got: BTreeMap<(&str, usize), u64> =
        table.iter().map(|(r, l, _, w)| ((*r, *l), *w)).collect();
    assert_eq!(
        got[&("pip-cache", 2)],
        2 * 2200,
        "the cache and its chmod copy"
    );
    assert_eq!(
        got[&("dockerignore", 1)],
        2 * (5300 + 200),
        ".git and bytecode, twice"
    );
    assert_eq!(got[&("deleted-later", 1)], 2 * 5300);
    assert_eq!(got[&("chmod-duplicate", 4)], 700 + 5300 + 200 + 2200);
}

/// Every fix of yours at once, rebuilt, ships what "after your fixes" says; the
/// incremental figures add up to it.
fn all_your_fixes_together_project_their_rebuild() {
    let steps = naive();
    let r = report(&steps);
    let mut fixed = steps.clone();
    // Highest layer first, so that removing the chmod step leaves the indices right.
    let mut all = fixes();
    all.sort_by_key(|(_, layer, _)| std::cmp::Reverse(*layer));
    for (_, _, apply) in all {
        apply(&mut fixed);
    }
    let real_after = stored(&fixed) - NODOC.len() as u64;
    assert_eq!(r.findings.fixes.stored_bytes, real_after);
    assert_eq!(
        r.findings.fixes.saved_bytes,
        r.totals.stored_bytes - real_after
    );
}

/// The multi-stage rebuild: the runtime stage starts from the same root filesystem,
/// copies the app (without `.git`, which the build stage deleted) and the installed
/// packages, and installs curl alone with apt's caches cleaned; the compiler, the
/// caches, the hidden copies and the chmod layer stay in the build stage. imgsize keeps
/// the naive image's dpkg status, which lists gcc-12 too, so it projects exactly that
/// file's difference less.
fn multi_stage_projects_the_runtime_stage() {
    let steps = naive();
    let r = report(&steps);
    let runtime = vec![
        steps[0].clone(),
        Step::new(
            "COPY --from=build /app /app",
            vec![
                Op::Fill("app/main.py", 700),
                Op::Fill("app/__pycache__/main.cpython-311.pyc", 200),
            ],
        ),
        Step::new(
            "COPY --from=build site-packages",
            vec![
                Op::Fill(leak(format!("{SITE}/req/__init__.py")), 1500),
                Op::Fill(leak(format!("{SITE}/req/tests/test_api.py")), 400),
                Op::Fill(leak(format!("{SITE}/req/__pycache__/__init__.cpython-311.pyc")), 600),
            ],
        ),
        Step::new(
            "/bin/sh -c apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*",
            vec![
                Op::Fill("usr/bin/curl", 2500),
                Op::Fill("usr/share/doc/curl/changelog.gz", 250),
                Op::Fill("usr/share/doc/curl/copyright", 50),
                Op::Text("var/lib/dpkg/status", status(&["libc6", "curl"])),
                Op::Text(
                    "var/lib/dpkg/info/curl:amd64.list",
                    "/.\n/usr/bin/curl\n/usr/share/doc/curl/changelog.gz\n/usr/share/doc/curl/copyright\n".into(),
                ),
            ],
        ),
    ];
    let real = stored(&steps) - stored(&runtime);
    let status_extra =
        (status(&["libc6", "curl", "gcc-12"]).len() - status(&["libc6", "curl"]).len()) as u64;
    let multi = &r.findings.rows[0];
    assert_eq!(multi.rule.code(), "multi-stage", "the largest lever leads");
    assert_eq!(multi.bytes, real - status_extra);
    let s = r.findings.structural.as_ref().expect("structural");
    assert_eq!(s.projection.saved_bytes, multi.bytes);
    assert!(
        !s.slim_base,
        "the toolchain came in your layer: the runtime stage starts from the base"
    );
    // The imported root filesystem is the base's: nothing on it is yours to fix.
    assert_eq!(r.base.layers, 1);
    assert!(
        r.findings
            .rows
            .iter()
            .filter(|f| f.scope.code() == "yours")
            .all(|f| f.layer >= 1)
    );
}

crate::tests![
    every_fix_alone_projects_its_rebuild,
    all_your_fixes_together_project_their_rebuild,
    multi_stage_projects_the_runtime_stage,
];
