//! Cross-checks against images written by other tools. skopeo re-encodes one of our
//! images into every format it writes (re-compressing layers with its own gzip and zstd
//! encoders), and imgsize must report the same filesystem figures for all of them.
//! umoci builds layers from real filesystem changes, whiteouts included. Skipped (reported as
//! ignored) where a tool is not installed (`.ci/run` installs both).

use std::path::Path;
use std::process::Command;

use imgsize::analyze::Report;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{analyze, tmp};

/// Skip the test unless `tool` is installed.
fn require(tool: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::util::harness::skip(format!("{tool} is not installed (apt-get install {tool})"));
    }
}

fn run(tool: &str, args: &[&str]) {
    let out = Command::new(tool).args(args).output().expect("run tool");
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn skopeo_copy(args: &[&str]) {
    let mut all = vec!["--insecure-policy", "copy", "--quiet"];
    all.extend_from_slice(args);
    run("skopeo", &all);
}

fn image() -> Image {
    Image::new("cross/check:1")
        .layer(
            Layer::new("ADD rootfs /")
                .fill("usr/lib/libpython3.12.so", 300_000)
                .fill("usr/share/doc/python3/changelog", 40_000)
                .fill("etc/hosts", 120)
                .hardlink("usr/lib/libpython.so", "usr/lib/libpython3.12.so")
                .symlink("lib", "usr/lib"),
        )
        .step("/bin/sh -c #(nop)  ENV LANG=C.UTF-8")
        .layer(
            Layer::new("RUN pip install app")
                .fill("root/.cache/pip/wheels/a.whl", 90_000)
                .fill("app/main.py", 5_000)
                .fill("etc/hosts", 130),
        )
        .layer(
            Layer::new("RUN cleanup")
                .whiteout("root/.cache")
                .opaque("usr/share/doc")
                .fill("usr/share/doc/README", 10),
        )
}

/// Per layer (uncompressed, added, content), then stored, content, wasted, files.
type Figures = (Vec<(u64, u64, u64)>, u64, u64, u64, u64);

fn figures(r: &Report) -> Figures {
    let layers = r
        .layers
        .iter()
        .map(|l| (l.uncompressed_bytes, l.added_bytes, l.content_bytes))
        .collect();
    let t = &r.totals;
    (
        layers,
        t.stored_bytes,
        t.content_bytes,
        t.wasted_bytes,
        t.files,
    )
}

fn every_format_skopeo_writes_gives_the_same_figures() {
    require("skopeo");
    let dir = tmp();
    let d = dir.path();
    let src = d.join("src.tar");
    docker_archive(&image(), &src).expect("fixture");
    let source = format!("docker-archive:{}", src.display());
    let at = |name: &str| d.join(name).display().to_string();
    skopeo_copy(&[&source, &format!("oci:{}:latest", at("oci-gzip"))]);
    skopeo_copy(&[
        "--dest-compress-format",
        "zstd",
        &source,
        &format!("oci:{}:latest", at("oci-zstd")),
    ]);
    skopeo_copy(&[
        "--dest-oci-accept-uncompressed-layers",
        &source,
        &format!("oci:{}:latest", at("oci-plain")),
    ]);
    skopeo_copy(&[&source, &format!("oci-archive:{}:latest", at("oci.tar"))]);
    skopeo_copy(&[
        "--additional-tag",
        "cross/check:alias",
        &source,
        &format!("docker-archive:{}:cross/check:1", at("docker.tar")),
    ]);

    let want = analyze(&src).expect("source image");
    assert!(want.complete);
    // Known by construction: 300000 + 40000 + 120 + 90000 + 5000 + 130 + 10 shipped;
    // the first hosts, the pip cache and the opaque-hidden changelog are waste.
    assert_eq!(want.totals.stored_bytes, 435_260);
    assert_eq!(want.totals.wasted_bytes, 120 + 90_000 + 40_000);
    for name in ["oci-gzip", "oci-zstd", "oci-plain", "oci.tar", "docker.tar"] {
        let path = Path::new(&at(name)).to_path_buf();
        let r = analyze(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(r.complete, "{name}: {:?}", r.problems);
        assert_eq!(figures(&r), figures(&want), "{name}");
        assert_eq!(r.layers.len(), 3, "{name}");
        let steps: Vec<Option<&str>> = r.layers.iter().map(|l| l.created_by.as_deref()).collect();
        assert_eq!(
            steps,
            vec![
                Some("ADD rootfs /"),
                Some("RUN pip install app"),
                Some("RUN cleanup")
            ],
            "{name}"
        );
    }
    let docker = analyze(&d.join("docker.tar")).expect("docker");
    assert_eq!(
        docker.image.tags,
        vec!["docker.io/cross/check:1", "docker.io/cross/check:alias"]
    );
    // Short names select fully qualified tags, as docker does.
    let select = imgsize::source::SelectOptions {
        image: Some("cross/check:alias".into()),
        ..Default::default()
    };
    let alias = crate::util::analyze_with(&d.join("docker.tar"), &select, Default::default())
        .expect("select by short name");
    assert_eq!(
        alias.image.reference.as_deref(),
        Some("docker.io/cross/check:alias")
    );
    let zstd = analyze(&d.join("oci-zstd")).expect("zstd");
    assert!(
        zstd.layers
            .iter()
            .all(|l| l.compression.map(|c| c.name()) == Some("zstd"))
    );
}

/// umoci turns real filesystem changes into layers: a directory removed in the second
/// layer becomes one `.wh.` marker, and everything below it is waste.
fn umoci_whiteout_of_a_directory_wastes_its_files() {
    require("umoci");
    let dir = tmp();
    let layout = dir.path().join("layout");
    let bundle = dir.path().join("bundle");
    let (l, b) = (layout.display().to_string(), bundle.display().to_string());
    let image = format!("{l}:app");
    run("umoci", &["init", "--layout", &l]);
    run("umoci", &["new", "--image", &image]);
    run("umoci", &["unpack", "--rootless", "--image", &image, &b]);
    let rootfs = bundle.join("rootfs");
    std::fs::create_dir_all(rootfs.join("root/.cache/pip/wheels")).expect("mkdir");
    std::fs::write(rootfs.join("root/.cache/pip/wheels/a.whl"), vec![7u8; 7000]).expect("write");
    std::fs::write(
        rootfs.join("root/.cache/pip/selfcheck.json"),
        vec![1u8; 300],
    )
    .expect("write");
    std::fs::write(rootfs.join("app.py"), vec![2u8; 1234]).expect("write");
    run("umoci", &["repack", "--image", &image, &b]);
    std::fs::remove_dir_all(&bundle).expect("clean bundle");
    run("umoci", &["unpack", "--rootless", "--image", &image, &b]);
    std::fs::remove_dir_all(bundle.join("rootfs/root/.cache")).expect("rm cache");
    run("umoci", &["repack", "--image", &image, &b]);

    let select = imgsize::source::SelectOptions {
        image: Some("app".into()),
        ..Default::default()
    };
    let r = crate::util::analyze_with(&layout, &select, Default::default()).expect("analyze");
    assert!(r.complete, "{:?}", r.problems);
    assert_eq!(r.layers.len(), 2);
    assert_eq!(r.totals.stored_bytes, 7000 + 300 + 1234);
    assert_eq!(r.totals.content_bytes, 1234);
    assert_eq!(r.totals.wasted_bytes, 7300);
    assert!(
        r.waste
            .rows
            .iter()
            .all(|w| w.added_layer == 0 && w.removed_layer == 1)
    );
}

crate::tests![
    every_format_skopeo_writes_gives_the_same_figures,
    umoci_whiteout_of_a_directory_wastes_its_files,
];
