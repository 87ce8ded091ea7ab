//! Base image and categories on a fixture whose truth is known by construction.

use imgsize::analyze::{BaseRule, Category, Report};

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{analyze, gzip, tmp};

fn report(img: &Image) -> Report {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(img, &path).expect("write fixture");
    analyze(&path).expect("analyze")
}

/// A base (rootfs + CMD), then your apt install, COPY with a `.git`, pip install with
/// its cache and tests, apt lists deleted one layer late, and a chmod of the app.
fn python_app() -> Image {
    Image::new("cat:1")
        .layer(
            Layer::new("/bin/sh -c #(nop) ADD file:aaaa in / ")
                .fill("usr/bin/bash", 1000)
                .fill("usr/share/doc/libc6/copyright", 200)
                .fill("usr/share/locale/de/LC_MESSAGES/libc.mo", 50),
        )
        .step("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .layer(
            Layer::new("/bin/sh -c apt-get update && apt-get install -y gcc")
                .fill("var/lib/apt/lists/deb_Packages", 3000)
                .fill("var/cache/apt/archives/gcc.deb", 700)
                .fill("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 5000)
                .fill("usr/include/x.h", 40)
                .fill("usr/lib/x86_64-linux-gnu/libfoo.a", 60),
        )
        .layer(
            Layer::new("COPY . /app # buildkit")
                .fill("app/main.py", 100)
                .fill("app/.git/objects/pack/p.pack", 400)
                .fill("app/__pycache__/main.cpython-312.pyc", 30),
        )
        .layer(
            Layer::new("RUN /bin/sh -c pip install -r requirements.txt # buildkit")
                .fill("root/.cache/pip/wheels/ab/req.whl", 800)
                .fill("usr/local/lib/python3.12/site-packages/req/__init__.py", 90)
                .fill("usr/local/lib/python3.12/site-packages/req/tests/t.py", 25)
                .whiteout("var/lib/apt/lists"),
        )
        .layer(
            Layer::new("RUN /bin/sh -c chmod -R 755 /app # buildkit")
                .file_mode(0o755)
                .fill("app/main.py", 100)
                .fill("app/.git/objects/pack/p.pack", 400)
                .fill("app/__pycache__/main.cpython-312.pyc", 30),
        )
}

fn the_base_ends_at_its_cmd_and_every_byte_has_one_category() {
    let r = report(&python_app());
    assert_eq!(r.base.layers, 1);
    assert_eq!(r.base.rule, BaseRule::History);
    assert_eq!(r.totals.base_stored_bytes, 1250);
    assert!(r.layers[0].base && !r.layers[1].base);

    let got: Vec<(Category, u64, u64, u64)> = r
        .categories
        .rows
        .iter()
        .map(|c| {
            (
                c.category,
                c.content_bytes,
                c.wasted_bytes,
                c.base_content_bytes,
            )
        })
        .collect();
    use Category as C;
    let want = vec![
        (C::Toolchain, 5000, 0, 0),
        (C::AptLists, 0, 3000, 0),
        (C::Other, 1190, 0, 1000),
        (C::PipCache, 800, 0, 0),
        // The chmod layer re-added .git: one copy visible, the COPY's hidden.
        (C::Vcs, 400, 400, 0),
        (C::AptArchives, 700, 0, 0),
        (C::Docs, 200, 0, 200),
        (C::DevFiles, 100, 0, 0),
        (C::App, 0, 100, 0),
        (C::Bytecode, 30, 30, 0),
        (C::Locales, 50, 0, 50),
        (C::Tests, 25, 0, 0),
    ];
    assert_eq!(got, want);
    let shipped: u64 = r.categories.rows.iter().map(|c| c.bytes()).sum();
    assert_eq!(shipped, r.totals.stored_bytes);
    // The apt lists were shipped by your layer 1 and hidden by layer 3.
    let lists = &r.categories.rows[1];
    assert_eq!(lists.layers.len(), 1);
    assert_eq!(
        (lists.layers[0].index, lists.layers[0].wasted_bytes),
        (1, 3000)
    );
}

fn base_layers_can_be_set_and_without_any_sign_every_layer_is_yours() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&python_app(), &path).expect("write");
    let o = crate::util::imgsize(&[
        "report",
        "--format",
        "json",
        "--base-layers",
        "2",
        &path.to_string_lossy(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(doc["base"]["layers"], 2);
    assert_eq!(doc["base"]["rule"], "flag");
    assert_eq!(doc["base"]["base_stored_bytes"], 1250 + 8800);

    // No CMD step and no history times: nothing tells, every layer is yours.
    let flat = report(&Image::new("flat:1").layer(Layer::new("ADD rootfs /").fill("a", 1)));
    assert_eq!((flat.base.layers, flat.base.rule), (0, BaseRule::Unknown));
}

/// docs/categories.md and the JSON Schema name every rule and every category.
fn the_docs_list_every_rule_and_category() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/categories.md")).expect("categories.md");
    for (glob, category) in imgsize::analyze::categories::RULES {
        assert!(
            doc.contains(&format!("`{glob}`")),
            "{glob} is not in docs/categories.md"
        );
        assert!(
            doc.contains(&format!("| `{}` |", category.code())),
            "{category:?}"
        );
    }
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("docs/imgsize-report.schema.json")).expect("schema"),
    )
    .expect("json");
    let names = &schema["$defs"]["category"]["properties"]["category"]["enum"];
    for c in Category::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", c.code())),
            "{c:?} in categories.md"
        );
        assert!(
            names
                .as_array()
                .is_some_and(|a| a.iter().any(|n| n == c.code())),
            "{c:?} in the schema"
        );
    }
}

/// The suggestions on the same image: exact savings, alone and incremental.
fn suggestions_project_what_each_fix_removes() {
    let r = report(&python_app());
    let got = crate::util::findings(&r);
    assert_eq!(
        got,
        vec![
            ("apt-lists", 1, 3000, 3000),
            // Both copies of `.git` and the host's bytecode: the COPY's, hidden by the
            // chmod layer, and the chmod layer's own.
            ("dockerignore", 2, 860, 860),
            ("pip-cache", 3, 800, 800),
            ("apt-archives", 1, 700, 700),
            // Alone, dropping the chmod layer saves its 530 bytes; after .dockerignore
            // only main.py's copy is left.
            ("chmod-duplicate", 4, 100, 530),
            ("package-tests", 3, 25, 25),
            // The apt lists layer 3 deletes are already gone with the apt-lists fix.
            ("deleted-later", 1, 0, 3000),
        ]
    );
    assert_eq!(r.findings.saved_bytes, 5485);
    assert_eq!(r.findings.stored_after, r.totals.stored_bytes - 5485);
    let chmod = &r.findings.rows[4];
    assert_eq!(chmod.confidence, "high", "hashed and equal");
    assert!(
        chmod
            .fix
            .starts_with("drop the `chmod`/`chown` from this RUN")
    );
    assert!(chmod.fix.contains("layer 2"), "{}", chmod.fix);
    let lists = &r.findings.rows[0];
    assert_eq!(lists.paths, vec![("/var/lib/apt".to_string(), 3000)]);
    // Plain layers: the pull estimate is the bytes themselves.
    assert_eq!(lists.compressed_bytes, 3000);
}

/// docs/rules.md documents every rule.
fn the_rules_are_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/rules.md")).expect("rules.md");
    for rule in imgsize::analyze::Rule::all() {
        assert!(doc.contains(&format!("`{}`", rule.code())), "{rule:?}");
    }
}

/// A re-add is a duplicate only when both copies hash the same; a stream, which cannot
/// be read twice, can only match path and size, and says so.
fn only_identical_readds_are_chmod_duplicates() {
    let img = Image::new("t:1")
        .layer(
            Layer::new("COPY . /app # buildkit")
                .fill("app/a", 100)
                .fill("app/b", 50)
                .fill("app/c", 70),
        )
        .layer(
            Layer::new("RUN /bin/sh -c chmod -R 755 /app # buildkit")
                .file_mode(0o755)
                .fill("app/a", 100)
                .file("app/b", &[b'x'; 50]),
        )
        // The same file again with the same mode: not a mode/owner re-add.
        .layer(Layer::new("RUN /bin/sh -c touch /app/c").fill("app/c", 70));
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&img, &path).expect("write fixture");
    let chmod = |r: &Report| {
        r.findings
            .rows
            .iter()
            .filter(|f| f.rule.code() == "chmod-duplicate")
            .map(|f| (f.layer, f.bytes, f.confidence))
            .collect::<Vec<_>>()
    };
    let local = analyze(&path).expect("analyze");
    assert_eq!(chmod(&local), vec![(1, 100, "high")], "app/b changed");
    let gz = dir.path().join("image.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&path).expect("read"))).expect("write");
    let streamed = analyze(&gz).expect("analyze");
    assert_eq!(chmod(&streamed), vec![(1, 150, "medium")]);
}

/// The base-digest annotation decides when the input holds the base's manifest and its
/// layers are the image's first; a base that is not there tells nothing.
fn the_base_digest_annotation_counts_the_base_layers_when_the_base_is_there() {
    use crate::util::builder::{IndexEntry, oci_index_layout};
    let base = Image::new("base:1")
        .layer(Layer::new("ADD rootfs.tar /").fill("usr/bin/sh", 100))
        .layer(Layer::new("RUN apt-get install -y python3").fill("usr/bin/python3", 200));
    let entry = |name: &str, img: &Image| IndexEntry {
        name: Some(name.to_string()),
        images: vec![img.clone()],
        nested: false,
        missing: Vec::new(),
    };
    let dir = tmp();
    let alone = dir.path().join("base");
    oci_index_layout(&[entry("base", &base)], &alone).expect("layout");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(alone.join("index.json")).expect("index"))
            .expect("json");
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let mut app = base
        .clone()
        .layer(Layer::new("RUN pip install app").fill("app/x", 30))
        .layer(Layer::new("RUN echo done").fill("app/y", 3))
        .annotation("org.opencontainers.image.base.name", "base:1")
        .annotation("org.opencontainers.image.base.digest", &digest);
    app.tags = vec!["app:1".to_string()];
    let both = dir.path().join("both");
    oci_index_layout(&[entry("base", &base), entry("app", &app)], &both).expect("layout");
    let select = imgsize::source::SelectOptions {
        image: Some("app".to_string()),
        ..crate::util::verify_all()
    };
    let r = crate::util::analyze_with(&both, &select, Default::default()).expect("analyze");
    assert_eq!((r.base.rule, r.base.layers), (BaseRule::Annotation, 2));
    assert_eq!(r.base.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(r.totals.base_stored_bytes, 300);
    // Without the base's manifest in the input, the annotation only names it.
    let only = dir.path().join("only");
    oci_index_layout(&[entry("app", &app)], &only).expect("layout");
    let r = crate::util::analyze_with(&only, &select, Default::default()).expect("analyze");
    assert_ne!(r.base.rule, BaseRule::Annotation);
    assert_eq!(r.base.name.as_deref(), Some("base:1"));
}

/// `explain` replays one folder's entries: who added it, who re-added it with another
/// mode, who deleted what under it.
fn explain_tells_who_added_chmod_ed_and_deleted_a_path() {
    use imgsize::analyze::{Now, Tally};
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&python_app(), &path).expect("write fixture");
    let options = imgsize::Options {
        select: crate::util::verify_all(),
        ..Default::default()
    };
    let explain = |p: &str| {
        imgsize::explain(&path.to_string_lossy(), &options, p, &Default::default())
            .expect("explain")
            .1
    };
    let app = explain("/app/");
    assert_eq!(app.path, "/app");
    assert_eq!(
        app.now,
        Now::Dir {
            files: 3,
            bytes: 530
        }
    );
    let by_layer: Vec<(usize, Tally, Tally, Tally)> = app
        .layers
        .iter()
        .map(|c| (c.layer, c.added, c.readded, c.hidden))
        .collect();
    let t = |files, bytes| Tally { files, bytes };
    assert_eq!(
        by_layer,
        vec![
            (2, t(3, 530), t(0, 0), t(0, 0)),
            (4, t(0, 0), t(3, 530), t(3, 530)),
        ]
    );
    assert_eq!(
        app.layers[1].attrs,
        vec![("0644 0:0 -> 0755 0:0".to_string(), 3)]
    );
    assert_eq!(
        app.layers[1].instruction.as_deref(),
        Some("RUN chmod -R 755 /app")
    );
    // The apt lists: added by layer 1, deleted with their folder by layer 3.
    let lists = explain("/var/lib/apt/lists");
    assert_eq!(lists.now, Now::Missing);
    let got: Vec<(usize, Tally, Tally)> = lists
        .layers
        .iter()
        .map(|c| (c.layer, c.added, c.hidden))
        .collect();
    assert_eq!(
        got,
        vec![(1, t(1, 3000), t(0, 0)), (3, t(0, 0), t(1, 3000))]
    );
}

crate::tests![
    the_base_ends_at_its_cmd_and_every_byte_has_one_category,
    base_layers_can_be_set_and_without_any_sign_every_layer_is_yours,
    the_docs_list_every_rule_and_category,
    suggestions_project_what_each_fix_removes,
    the_rules_are_documented,
    only_identical_readds_are_chmod_duplicates,
    the_base_digest_annotation_counts_the_base_layers_when_the_base_is_there,
    explain_tells_who_added_chmod_ed_and_deleted_a_path,
];
