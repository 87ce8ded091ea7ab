//! `imgsize fix`'s plan: the findings of a built image written into the Dockerfile that
//! built it, every other byte of the file kept.

use std::fs;

use imgsize::analyze::fix;
use imgsize::analyze::patch;

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
    let plan = fix::plan(&r, &df, DOCKERFILE);
    assert_eq!(
        patch::apply(DOCKERFILE, &plan.hunks),
        "FROM debian\n# the tools\n# imgsize: apt-archives, apt-lists: apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN apt-get update && \\\n    apt-get install -y curl \\\n    && apt-get clean && rm -rf /var/lib/apt/lists/*\nCOPY . /app\n# imgsize: pip-cache: PIP_NO_CACHE_DIR=1\nENV PIP_NO_CACHE_DIR=1\nRUN [\"pip\", \"install\", \"-r\", \"/app/requirements.txt\"]\n# imgsize: npm-cache: npm cache clean --force\nRUN npm install \\\n    && npm cache clean --force\nCMD [\"node\", \"app\"]\n"
    );
    assert!(
        plan.ignore
            .iter()
            .any(|(p, rule)| *p == ".git" && *rule == "dockerignore")
    );
    assert_eq!(
        patch::dockerignore(
            None,
            &plan.ignore.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            "dockerignore"
        )
        .as_deref(),
        Some("# imgsize: dockerignore\n.git\n.hg\n.svn\n**/__pycache__\n**/*.pyc\n")
    );
}

crate::tests![the_plan_writes_each_fix_where_it_belongs];
