//! Cross-checks against archives written by another tool: skopeo re-encodes one of our
//! images into every format it writes (re-compressing layers with its own gzip and zstd
//! encoders), and imgsize must report the same filesystem figures for all of them.
//! Skipped, with a note, where skopeo is not installed (`.ci/run` installs it).

use std::path::Path;
use std::process::Command;

use imgsize::analyze::Report;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{analyze, tmp};

fn skopeo_available() -> bool {
    let ok = Command::new("skopeo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("note: skopeo is not installed; skopeo cross-checks skipped");
    }
    ok
}

fn skopeo_copy(args: &[&str]) {
    let out = Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .args(args)
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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

fn figures(r: &Report) -> (Vec<(u64, u64, u64)>, u64, u64, u64, u64) {
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

#[test]
fn every_format_skopeo_writes_gives_the_same_figures() {
    if !skopeo_available() {
        return;
    }
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
