//! Snapshot tests of the renderers (insta): the table output of a few builder
//! fixtures at a fixed width, and the JSON document of one. The builder writes
//! byte-for-byte reproducible images and the binary runs inside the fixture's
//! directory with a relative path, so nothing needs redacting. Fixture layers are
//! plain tar: a compression library update would otherwise change digests and sizes.
//!
//! Update with `INSTA_UPDATE=always cargo test --test tests snapshots`, then review
//! the .snap files under tests/snapshots/.

use std::path::Path;
use std::process::Command;

use crate::util::builder::{Image, Layer, docker_archive, oci_layout};
use crate::util::tmp;

/// Run the binary in `dir` on `input` (relative to `dir`): (exit code, stdout, stderr).
pub(crate) fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args(args)
        .current_dir(dir)
        .env_remove("IMGSIZE_FORMAT")
        .env_remove("IMGSIZE_PLATFORM")
        .env_remove("COLUMNS")
        .output()
        .expect("run imgsize");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn table(dir: &Path, input: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["report", input, "--width", "100"];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

/// A small Debian-style build: base layer, an apt layer, a cleanup layer that whites
/// out and hides what the apt layer shipped, the app, and metadata-only steps.
fn app_image() -> Image {
    Image::new("example.com/app:1")
        .layer(
            Layer::new("/bin/sh -c #(nop) ADD file:4f1d2c3b5a69e0d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0 in / ")
                .dir("etc")
                .file("etc/os-release", b"ID=debian\nVERSION_ID=12\n")
                .fill("bin/busybox", 81_200)
                .hardlink("bin/sh", "bin/busybox")
                .symlink("bin/ls", "busybox")
                .fill("usr/lib/x86_64-linux-gnu/libc.so.6", 192_213)
                .fill("usr/share/doc/libc6/changelog.gz", 4_100),
        )
        .step("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .step("/bin/sh -c #(nop)  ENV PYTHONUNBUFFERED=1")
        .layer(
            Layer::new(
                "/bin/sh -c apt-get update &&     apt-get install -y --no-install-recommends \\\n    python3 python3-pip",
            )
            .fill("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", 879_000)
            .fill("var/cache/apt/archives/python3_3.11.2-1+b1_amd64.deb", 2_650)
            .fill("usr/bin/python3.11", 683_173)
            .symlink("usr/bin/python3", "python3.11")
            .fill("etc/os-release", b"ID=debian\nVERSION_ID=12\nPRETTY_NAME=x\n".len() as u64),
        )
        .layer(
            Layer::new(
                "/bin/sh -c rm -rf /var/lib/apt/lists/* /usr/share/doc && apt-get clean",
            )
            .opaque("var/lib/apt/lists")
            .whiteout("usr/share/doc")
            .whiteout("var/cache/apt/archives/python3_3.11.2-1+b1_amd64.deb"),
        )
        .layer(
            Layer::new("COPY . /app # buildkit")
                .fill("app/main.py", 4_210)
                .fill("app/requirements.txt", 120)
                .fill("root/.cache/pip/http-v2/a/b/c/d/e/0f9e8d7c6b5a49382716", 240_000),
        )
        .step("WORKDIR /app")
        .step("/bin/sh -c #(nop)  CMD [\"python3\" \"/app/main.py\"]")
}

fn table_of_a_docker_archive() {
    let dir = tmp();
    docker_archive(&app_image(), &dir.path().join("app.tar")).expect("write fixture");
    let (code, out, err) = table(dir.path(), "app.tar", &[]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("table_docker_archive", out);
}

/// `--top 3 --depth 2`: remainder rows in both tables.
fn table_with_remainder_rows() {
    let dir = tmp();
    docker_archive(&app_image(), &dir.path().join("app.tar")).expect("write fixture");
    let (code, out, err) = table(dir.path(), "app.tar", &["--top", "2", "--depth", "2"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("table_top_2_depth_2", out);
}

/// No history, one layer blob missing: an incomplete report that still prints.
fn table_of_an_incomplete_image_without_history() {
    let mut img = Image::new("registry.example.com/team/service:2.0")
        .layer(
            Layer::new("base")
                .fill("usr/lib/libssl.so.3", 69_000)
                .fill("etc/ssl/certs/ca-certificates.crt", 21_900),
        )
        .layer(Layer::new("deps").fill("opt/venv/lib/site-packages/numpy.so", 340_000))
        .layer(Layer::new("app").fill("srv/app.bin", 1_200_000));
    img.with_history = false;
    let dir = tmp();
    let layout = dir.path().join("layout");
    oci_layout(&img, &layout).expect("write fixture");
    // Remove the blob of the middle layer.
    let missing = {
        let manifest_index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
                .expect("json");
        let manifest_digest = manifest_index["manifests"][0]["digest"]
            .as_str()
            .expect("digest")
            .to_string();
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(layout.join("blobs/sha256").join(&manifest_digest[7..]))
                .expect("manifest"),
        )
        .expect("json");
        let layer = manifest["layers"][1]["digest"].as_str().expect("digest");
        layout.join("blobs/sha256").join(&layer[7..])
    };
    std::fs::remove_file(missing).expect("remove blob");
    let (code, out, err) = table(dir.path(), "layout", &[]);
    assert_eq!(code, 2, "an incomplete report exits 2");
    assert!(
        err.contains("imgsize: error: ") && err.contains("layer 1 (") && err.contains("missing"),
        "{err}"
    );
    insta::assert_snapshot!("table_incomplete_no_history", out);
}

fn json_of_a_docker_archive() {
    let dir = tmp();
    docker_archive(&app_image(), &dir.path().join("app.tar")).expect("write fixture");
    let (code, out, err) = run_in(
        dir.path(),
        &["report", "app.tar", "--format", "json", "--top", "5"],
    );
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("json_docker_archive", out);
}

crate::tests![
    table_of_a_docker_archive,
    table_with_remainder_rows,
    table_of_an_incomplete_image_without_history,
    json_of_a_docker_archive,
];
