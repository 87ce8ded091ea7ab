//! The sample image shipped in testdata/ (the one the README runs imgsize on): a small
//! Python service built the wasteful way. It is written by the fixture builder; this
//! test proves the committed file is exactly what the builder makes, and checks its
//! figures. Regenerate with `IMGSIZE_REGENERATE=1 cargo test --test tests sample`.

use std::path::Path;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{analyze, tmp};

const KB: u64 = 1000;

/// The sample: a Debian-like base, a compiler and apt lists, pip packages with their
/// tests and the pip cache, apt lists deleted one layer too late, the app with its
/// `.git`, and a `chmod` that ships the app twice.
pub fn sample_image() -> Image {
    Image::new("sample/python-app:1.0")
        .layer(
            Layer::new("/bin/sh -c #(nop) ADD file:5d6a7c0e1f2b3a4c in / ")
                .dir("bin")
                .fill("bin/bash", 120 * KB)
                .fill("usr/lib/x86_64-linux-gnu/libc.so.6", 190 * KB)
                .fill("usr/share/doc/libc6/changelog.gz", 12 * KB)
                .fill("usr/share/locale/de/LC_MESSAGES/libc.mo", 9 * KB)
                .file("etc/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n")
                .symlink("lib", "usr/lib")
                .gzip(),
        )
        .step("/bin/sh -c #(nop)  ENV PYTHON_VERSION=3.12.7")
        .layer(
            Layer::new("/bin/sh -c apt-get update && apt-get install -y gcc libpq-dev")
                .fill("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", 88 * KB)
                .fill("usr/bin/x86_64-linux-gnu-gcc-12", 95 * KB)
                .fill("usr/include/postgresql/libpq-fe.h", 7 * KB)
                .fill("var/cache/apt/archives/gcc-12_12.2.0-14_amd64.deb", 41 * KB)
                .gzip(),
        )
        .step("/bin/sh -c #(nop) WORKDIR /app")
        .layer(Layer::new("/bin/sh -c #(nop) COPY file:1a2b3c4d in . ").file("app/requirements.txt", b"requests==2.32.3\nnumpy==2.1.2\n").gzip())
        .layer(
            Layer::new("/bin/sh -c pip install -r requirements.txt")
                .fill("usr/local/lib/python3.12/site-packages/numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so", 160 * KB)
                .fill("usr/local/lib/python3.12/site-packages/numpy/_core/tests/test_multiarray.py", 21 * KB)
                .fill("usr/local/lib/python3.12/site-packages/requests/models.py", 35 * KB)
                .fill("root/.cache/pip/http-v2/a/b/numpy-2.1.2-cp312-manylinux.whl", 70 * KB)
                .gzip(),
        )
        .layer(Layer::new("/bin/sh -c rm -rf /var/lib/apt/lists/*").whiteout("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").gzip())
        .layer(
            Layer::new("/bin/sh -c #(nop) COPY dir:9f8e7d6c in /app ")
                .fill("app/main.py", 6 * KB)
                .fill("app/.git/objects/pack/pack-1234.pack", 30 * KB)
                .gzip(),
        )
        .layer(
            Layer::new("/bin/sh -c chmod -R 755 /app")
                .file_mode(0o755)
                .fill("app/main.py", 6 * KB)
                .fill("app/.git/objects/pack/pack-1234.pack", 30 * KB)
                .gzip(),
        )
        .step("/bin/sh -c #(nop)  CMD [\"python\" \"main.py\"]")
}

fn committed() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar")
}

fn committed_sample_is_what_the_builder_writes() {
    let dir = tmp();
    let fresh = dir.path().join("sample.tar");
    docker_archive(&sample_image(), &fresh).expect("write sample");
    if std::env::var_os("IMGSIZE_REGENERATE").is_some() {
        std::fs::copy(&fresh, committed()).expect("regenerate testdata/sample.tar");
    }
    let want = std::fs::read(committed()).expect("testdata/sample.tar is committed");
    let got = std::fs::read(&fresh).expect("read");
    assert!(
        want == got,
        "testdata/sample.tar is stale: run IMGSIZE_REGENERATE=1 cargo test --test tests sample"
    );
}

fn sample_figures() {
    let r = analyze(&committed()).expect("analyze sample");
    assert!(r.complete);
    let t = &r.totals;
    let stored: u64 = sample_image().layers.iter().map(|l| l.added_bytes()).sum();
    assert_eq!(t.stored_bytes, stored);
    // Waste: the apt lists (deleted a layer later) and the first copies of main.py
    // and of the .git pack, which the chmod layer re-added.
    assert_eq!(t.wasted_bytes, 88 * KB + 6 * KB + 30 * KB);
    assert_eq!(t.content_bytes, stored - 124 * KB);
    let f = crate::util::findings(&r);
    assert_eq!(
        f,
        vec![
            ("apt-lists", 1, 88 * KB, 88 * KB),
            ("pip-cache", 3, 70 * KB, 70 * KB),
            // Both copies of the pack: the COPY's and the chmod layer's.
            ("dockerignore", 5, 60 * KB, 60 * KB),
            ("apt-archives", 1, 41 * KB, 41 * KB),
            ("package-tests", 3, 21 * KB, 21 * KB),
            ("chmod-duplicate", 6, 6 * KB, 36 * KB),
            ("deleted-later", 1, 0, 88 * KB),
        ]
    );
    assert_eq!(r.layers.len(), 7);
    assert_eq!(r.steps.len(), 10);
    assert_eq!(r.image.reference.as_deref(), Some("sample/python-app:1.0"));
}

crate::tests![committed_sample_is_what_the_builder_writes, sample_figures,];
