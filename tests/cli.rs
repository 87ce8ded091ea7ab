//! The binary end to end: exit codes (0 fine, 2 error), one clear `imgsize: error:` line
//! naming what failed, output formats, and a closed stdout pipe. Broken inputs are made
//! from the builder's output in temporary directories.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::builder::{Image, Layer, docker_archive, oci_archive, oci_layout, write_tar};
use crate::util::{imgsize, tmp};

fn sample() -> Image {
    Image::new("app:1")
        .layer(
            Layer::new("ADD rootfs.tar /")
                .dir("etc")
                .file("etc/os-release", b"ID=test\n")
                .fill("bin/sh", 5000),
        )
        .step("/bin/sh -c #(nop) ENV A=b")
        .layer(Layer::new("/bin/sh -c pip install app").fill("app/main.py", 700))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn run(args: &[&str]) -> Output {
    imgsize(args)
}

fn report(path: &Path, extra: &[&str]) -> Output {
    let p = path.to_string_lossy().into_owned();
    let mut args = vec!["report", "--no-progress"];
    args.extend_from_slice(extra);
    args.push(&p);
    run(&args)
}

/// Exit 2, nothing but one `imgsize: error: ...` line on stderr, containing every
/// one of `names`.
fn assert_one_error(o: &Output, names: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit code; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "want one stderr line, got: {err}");
    let line = lines[0];
    assert!(line.starts_with("imgsize: error: "), "{line}");
    assert!(!line.contains("panicked"), "{line}");
    assert!(!line.contains("internal error"), "{line}");
    for n in names {
        assert!(line.contains(n), "{line:?} should name {n:?}");
    }
    line.to_string()
}

fn good_archive(dir: &Path) -> PathBuf {
    let path = dir.join("image.tar");
    docker_archive(&sample(), &path).expect("write fixture");
    path
}

/// Copy a tar archive member by member, letting `edit` replace a member's bytes.
pub(crate) fn rewrite_tar(src: &Path, dst: &Path, edit: impl Fn(&str, Vec<u8>) -> Vec<u8>) {
    let mut input = tar::Archive::new(fs::File::open(src).expect("open"));
    let mut out = tar::Builder::new(fs::File::create(dst).expect("create"));
    for entry in input.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read member");
        let bytes = edit(&name, bytes);
        let mut h = entry.header().clone();
        h.set_size(bytes.len() as u64);
        h.set_cksum();
        out.append_data(&mut h, &name, bytes.as_slice())
            .expect("append");
    }
    out.into_inner().expect("finish");
}

fn help_exits_zero() {
    for args in [&["--help"][..], &["report", "--help"], &["--version"]] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stdout(&o).is_empty(), "{args:?}");
    }
    assert!(stdout(&run(&["--help"])).contains("report"));
}

fn usage_errors_exit_two() {
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(&["report"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(&["report", "--format", "yaml", "x.tar"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

fn good_image_prints_a_table() {
    let dir = tmp();
    let path = good_archive(dir.path());
    let o = report(&path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("app:1"), "{out}");
    assert!(out.contains("Layers (2)"), "{out}");
    assert!(out.contains("pip install app"), "{out}");
    // The table starts with the image line and has box rows.
    assert!(out.lines().count() > 10, "{out}");
}

fn json_output_parses() {
    let dir = tmp();
    let path = good_archive(dir.path());
    let o = report(&path, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["complete"], true);
    assert_eq!(v["totals"]["layers"], 2);
    assert_eq!(v["totals"]["stored_bytes"], 8 + 5000 + 700);
    assert_eq!(v["image"]["reference"], "app:1");
    let layers = v["layers"].as_array().cloned().unwrap_or_default();
    // Rows are the build steps: two layers and the ENV step between them.
    let real: Vec<_> = layers
        .iter()
        .filter(|l| l["empty_layer"] == false)
        .collect();
    assert_eq!(real.len(), 2, "{layers:?}");
    assert_eq!(real[1]["added_bytes"], 700);
    // The same for an OCI layout, and through standard input.
    let layout = dir.path().join("layout");
    oci_layout(&sample(), &layout).expect("layout");
    let o = report(&layout, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let w: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(w["totals"]["stored_bytes"], v["totals"]["stored_bytes"]);
    let o = Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args(["report", "--format", "json", "-"])
        .env_remove("IMGSIZE_FORMAT")
        .env_remove("IMGSIZE_PLATFORM")
        .stdin(fs::File::open(&path).expect("open"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(s["totals"], v["totals"]);
}

fn missing_file() {
    let dir = tmp();
    let path = dir.path().join("nope.tar");
    let o = report(&path, &[]);
    assert_one_error(&o, &["nope.tar"]);
    assert!(o.stdout.is_empty());
}

fn a_plain_tar_is_not_an_image() {
    let dir = tmp();
    let path = dir.path().join("layer.tar");
    let mut buf = Vec::new();
    write_tar(&Layer::new("x").file("hello.txt", b"hi\n"), &mut buf).expect("tar");
    fs::write(&path, buf).expect("write");
    let line = assert_one_error(&report(&path, &[]), &["layer.tar"]);
    assert!(line.contains("not a container image"), "{line}");
    // Not a tar at all either.
    let text = dir.path().join("notes.txt");
    fs::write(&text, "just some text\n".repeat(100)).expect("write");
    assert_one_error(&report(&text, &[]), &["notes.txt"]);
    // An empty file.
    let empty = dir.path().join("empty.tar");
    fs::write(&empty, b"").expect("write");
    assert_one_error(&report(&empty, &[]), &["empty.tar"]);
}

fn truncated_archive() {
    let dir = tmp();
    let path = good_archive(dir.path());
    let bytes = fs::read(&path).expect("read");
    // Cut inside the first layer's data, and inside the trailing manifest.json.
    let mut lines = Vec::new();
    for (n, cut) in [(1, 1024), (2, bytes.len() - 1500)] {
        let short = dir.path().join(format!("short{n}.tar"));
        fs::write(&short, &bytes[..cut]).expect("write");
        let o = report(&short, &[]);
        lines.push(assert_one_error(&o, &[&format!("short{n}.tar")]));
    }
    // An OCI archive holds its layers last: cut inside the last layer.
    let oci = dir.path().join("oci.tar");
    oci_archive(&sample(), &oci).expect("write");
    let bytes = fs::read(&oci).expect("read");
    let short = dir.path().join("short-oci.tar");
    fs::write(&short, &bytes[..bytes.len() - 1024 - 300]).expect("write");
    let o = report(&short, &[]);
    lines.push(assert_one_error(&o, &[]));
    // Each must say what is wrong: the archive is truncated (not "not an image", not
    // "malformed JSON").
    let unclear: Vec<&String> = lines.iter().filter(|l| !l.contains("truncated")).collect();
    assert!(unclear.is_empty(), "should say truncated: {unclear:#?}");
}

/// A docker archive whose gzip layer has bytes overwritten in the deflate stream.
fn corrupt_gzip_layer() {
    let dir = tmp();
    let good = dir.path().join("gz.tar");
    let img = Image::new("gz:1").layer(
        Layer::new("ADD x /")
            .data(
                "blob.bin",
                crate::util::builder::Data::Fill {
                    size: 200_000,
                    seed: 3,
                    random: true,
                },
            )
            .gzip(),
    );
    docker_archive(&img, &good).expect("write fixture");
    let bad = dir.path().join("corrupt-gzip.tar");
    rewrite_tar(&good, &bad, |name, mut bytes| {
        if name.ends_with(".tar.gz") {
            let mid = bytes.len() / 2;
            for b in &mut bytes[mid..mid + 64] {
                *b ^= 0x5a;
            }
        }
        bytes
    });
    let mut lines = Vec::new();
    for extra in [&[][..], &["--no-verify"]] {
        let o = report(&bad, extra);
        let line = assert_one_error(&o, &["layer 0", "gzip"]);
        lines.push(line);
    }
    // The line must also say which input it is about (scripts run many).
    for line in lines {
        assert!(
            line.contains("corrupt-gzip.tar"),
            "{line:?} should name the file"
        );
    }
}

/// An OCI layout whose layer blob has one byte flipped (a file's content, so the tar
/// stays valid): only the digest tells, and only `--verify all` hashes a local
/// uncompressed layer.
fn digest_mismatch() {
    let dir = tmp();
    let layout = dir.path().join("flipped");
    oci_layout(&sample(), &layout).expect("layout");
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).expect("index")).expect("json");
    let manifest_digest = index["manifests"][0]["digest"].as_str().expect("digest");
    let manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(layout.join("blobs/sha256").join(&manifest_digest[7..])).expect("manifest"),
    )
    .expect("json");
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .expect("layer digest");
    let blob = layout.join("blobs/sha256").join(&layer[7..]);
    let mut bytes = fs::read(&blob).expect("blob");
    // Entries: etc/ (header only), etc/os-release (header at 512, data at 1024).
    assert_eq!(&bytes[1024..1027], b"ID=");
    bytes[1024] ^= 0x20;
    fs::write(&blob, bytes).expect("write");
    let o = report(&layout, &["--verify", "all"]);
    let line = assert_one_error(&o, &[&layer[7..19], "digest mismatch"]);
    // The line must also say which input it is about (scripts run many).
    assert!(line.contains("flipped"), "{line:?} should name the file");
    // By default a local uncompressed layer gets its size and tar structure checked,
    // not its content; without verification the flipped byte is just content too.
    for extra in [
        &[][..],
        &["--verify", "auto"],
        &["--verify", "none"],
        &["--no-verify"],
    ] {
        let o = report(&layout, extra);
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
    }
}

/// A compressed layer is hashed by default: a blob that decompresses to a valid tar
/// but is not the one the manifest names (recompressed) is a digest mismatch.
fn compressed_layers_are_verified_by_default() {
    let dir = tmp();
    let layout = dir.path().join("recompressed");
    let img = Image::new("app:1").layer(Layer::new("ADD x /").fill("opt/x", 5000).gzip());
    oci_layout(&img, &layout).expect("layout");
    let blobs = layout.join("blobs/sha256");
    let mut swapped = None;
    for entry in fs::read_dir(&blobs).expect("blobs") {
        let path = entry.expect("entry").path();
        let bytes = fs::read(&path).expect("blob");
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut tar = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut tar)
                .expect("gunzip");
            // The same deflate stream with another mtime in the gzip header: the same
            // size (so only the digest can tell) and the same tar inside.
            let mut enc = flate2::GzBuilder::new()
                .mtime(1_234_567)
                .write(Vec::new(), flate2::Compression::new(6));
            enc.write_all(&tar).expect("gzip");
            let other = enc.finish().expect("gzip");
            assert_ne!(other, bytes, "another header");
            assert_eq!(other.len(), bytes.len());
            fs::write(&path, &other).expect("write");
            swapped = Some(path);
        }
    }
    let swapped = swapped.expect("a gzip layer");
    let name = swapped
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_one_error(&report(&layout, &[]), &[&name[..12], "digest mismatch"]);
    let o = report(&layout, &["--verify", "none"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn malformed_manifest_json() {
    let dir = tmp();
    let good = good_archive(dir.path());
    let bad = dir.path().join("badjson.tar");
    rewrite_tar(&good, &bad, |name, bytes| {
        if name == "manifest.json" {
            br#"[{"Config": "x.json", "Layers": ["#.to_vec()
        } else {
            bytes
        }
    });
    let line = assert_one_error(&report(&bad, &[]), &["badjson.tar", "manifest.json"]);
    eprintln!("PROBE {line}");
    assert!(line.contains("JSON"), "{line}");

    // A layout whose index.json is not JSON.
    let layout = dir.path().join("badindex");
    oci_layout(&sample(), &layout).expect("layout");
    fs::write(layout.join("index.json"), b"{\"manifests\": [").expect("write");
    assert_one_error(&report(&layout, &[]), &["badindex", "index.json"]);

    // manifest.json of the right syntax but the wrong shape.
    let shape = dir.path().join("shape.tar");
    rewrite_tar(&good, &shape, |name, bytes| {
        if name == "manifest.json" {
            br#"{"Config": 1}"#.to_vec()
        } else {
            bytes
        }
    });
    assert_one_error(&report(&shape, &[]), &["shape.tar", "manifest.json"]);
}

fn bad_platform_value() {
    let dir = tmp();
    let path = good_archive(dir.path());
    for bad in ["linux", "linux//", "a/b/c/d"] {
        let o = report(&path, &["--platform", bad]);
        assert_one_error(&o, &[bad]);
        assert!(o.stdout.is_empty());
    }
}

fn absent_platform_names_wanted_and_available() {
    let dir = tmp();
    let path = good_archive(dir.path());
    let o = report(&path, &["--platform", "linux/amd64"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = report(&path, &["--platform", "linux/s390x"]);
    assert_one_error(&o, &["image.tar", "linux/s390x", "linux/amd64"]);
    // It was given: no hint to give it.
    assert!(
        !stderr(&o).contains("pick one with --platform"),
        "{}",
        stderr(&o)
    );
}

fn unknown_image_lists_the_available_ones() {
    let dir = tmp();
    let path = good_archive(dir.path());
    let o = report(&path, &["--image", "other:2"]);
    assert_one_error(&o, &["image.tar", "other:2", "app:1"]);
    let o = report(&path, &["--image", "app:1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn closed_stdout_pipe_exits_zero() {
    let dir = tmp();
    let path = dir.path().join("many.tar");
    let mut layer = Layer::new("ADD many /");
    for i in 0..3000 {
        layer = layer.file(&format!("usr/share/doc/pkg{i:04}/README"), b"x");
    }
    docker_archive(&Image::new("many:1").layer(layer), &path).expect("write");
    for format in ["json", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imgsize"))
            .args(["report", "--no-progress", "--top", "100000", "--depth", "8"])
            .args(["--format", format])
            .arg(&path)
            .env_remove("IMGSIZE_FORMAT")
            .env_remove("IMGSIZE_PLATFORM")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // `| head -c 100`: read a little, then close the pipe.
        let mut out = child.stdout.take().expect("stdout");
        let mut head = [0u8; 100];
        out.read_exact(&mut head).expect("some output");
        drop(out);
        let o = child.wait_with_output().expect("wait");
        assert_eq!(o.status.code(), Some(0), "{format}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{format}: {}", stderr(&o));
    }
}

/// Standard input is read once: large layers are walked while they stream by, and are
/// still verified — against the diff_id in a classic archive, against the blob digest
/// in an OCI archive.
fn digest_mismatch_on_standard_input() {
    let dir = tmp();
    let img = Image::new("stream:1")
        .layer(
            Layer::new("a")
                .fill("opt/big.bin", 1_500_000)
                .fill("etc/x", 10),
        )
        .layer(Layer::new("b").fill("opt/other.bin", 1_200_000).gzip());
    let docker = dir.path().join("docker.tar");
    let oci = dir.path().join("oci.tar");
    docker_archive(&img, &docker).expect("docker");
    oci_archive(&img, &oci).expect("oci");
    let flip = |name: &str, mut bytes: Vec<u8>| {
        // The plain layer's first file content starts after its header.
        if bytes.len() > 1_000_000 && (name.ends_with("layer.tar") || bytes[..2] != [0x1f, 0x8b]) {
            bytes[600_000] ^= 0x01;
        }
        bytes
    };
    for (path, name) in [(&docker, "docker"), (&oci, "oci")] {
        let good = Command::new(env!("CARGO_BIN_EXE_imgsize"))
            .args(["report", "-", "--format", "json"])
            .stdin(fs::File::open(path).expect("open"))
            .output()
            .expect("run");
        assert_eq!(good.status.code(), Some(0), "{name}: {}", stderr(&good));
        let bad_path = dir.path().join(format!("{name}-flipped.tar"));
        rewrite_tar(path, &bad_path, flip);
        let bad = Command::new(env!("CARGO_BIN_EXE_imgsize"))
            .args(["report", "-", "--format", "json"])
            .stdin(fs::File::open(&bad_path).expect("open"))
            .output()
            .expect("run");
        assert_eq!(bad.status.code(), Some(2), "{name}: {}", stderr(&bad));
        assert!(
            stderr(&bad).contains("digest mismatch"),
            "{name}: {}",
            stderr(&bad)
        );
        assert!(
            stderr(&bad).contains("standard input"),
            "{name}: {}",
            stderr(&bad)
        );
        // The same file read in place: its plain layer is a local file, not a stream,
        // so by default only its size and tar structure are checked.
        let local = report(&bad_path, &["--format", "json"]);
        assert_eq!(local.status.code(), Some(0), "{name}: {}", stderr(&local));
        let totals = |o: &Output| -> serde_json::Value {
            serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")["totals"].clone()
        };
        assert_eq!(totals(&local), totals(&good), "{name}: same figures");
        assert_one_error(
            &report(&bad_path, &["--verify", "all"]),
            &["digest mismatch"],
        );
    }
}

/// A crafted layer whose GNU long name claims 65 MiB (a few KB once gzipped) is refused
/// with a clear error instead of being read into memory.
fn oversized_long_name_is_refused() {
    let dir = tmp();
    let layout = dir.path().join("layout");
    oci_layout(
        &Image::new("t").layer(Layer::new("a").fill("x", 10).gzip()),
        &layout,
    )
    .expect("layout");
    let mut raw = Vec::new();
    {
        let mut b = tar::Builder::new(&mut raw);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_path("././@LongLink").expect("path");
        h.set_size(65 << 20);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, std::io::repeat(b'a').take(65 << 20))
            .expect("long name");
        let mut f = tar::Header::new_gnu();
        f.set_entry_type(tar::EntryType::Regular);
        f.set_size(0);
        f.set_cksum();
        b.append_data(&mut f, "short", std::io::empty())
            .expect("entry");
        b.finish().expect("finish");
    }
    let blob = crate::util::gzip(&raw);
    // Put the crafted blob in place of the only layer; --no-verify skips the digest.
    let blobs = layout.join("blobs/sha256");
    let layer = fs::read_dir(&blobs)
        .expect("blobs")
        .map(|e| e.expect("entry").path())
        .find(|p| fs::read(p).is_ok_and(|b| b.starts_with(&[0x1f, 0x8b])))
        .expect("the gzip layer");
    fs::write(&layer, blob).expect("write");
    let o = report(&layout, &["--no-verify"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than 64 MiB"), "{}", stderr(&o));
}

fn explain_prints_a_path_history() {
    const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample.tar");
    let out = imgsize(&["explain", SAMPLE, "/root/.cache", "--width", "120"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("/root/.cache in "), "{text}");
    assert!(text.contains("added 1 file (70.00 kB)"), "{text}");
    let out = imgsize(&["explain", SAMPLE, "root/.cache/", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["path"], "/root/.cache");
    assert_eq!(doc["now"]["bytes"], 70000);
    assert_eq!(doc["layers"][0]["added"]["bytes"], 70000);
}

/// Each command's `--help` offers the formats it prints and no other, and only report
/// and check offer `--tree`; a format a command does not print is a usage error.
fn each_command_offers_only_what_it_accepts() {
    let offered = |command: &str| -> (Vec<String>, bool) {
        let help = stdout(&run(&[command, "--help"]));
        let mut formats = Vec::new();
        let mut in_format = false;
        for line in help.lines() {
            let t = line.trim();
            if t.starts_with("--format") {
                in_format = true;
                continue;
            }
            if in_format && t.starts_with("--") {
                break;
            }
            if in_format && let Some(value) = t.strip_prefix("- ") {
                formats.push(value.split(':').next().unwrap_or("").trim().to_string());
            }
            if in_format && let Some(list) = t.strip_prefix("[possible values: ") {
                formats.extend(list.trim_end_matches(']').split(", ").map(str::to_string));
            }
        }
        (formats, help.contains("--tree"))
    };
    for (command, formats, tree) in [
        (
            "report",
            vec!["table", "json", "markdown", "sarif", "html"],
            true,
        ),
        ("explain", vec!["table", "json"], false),
        (
            "check",
            vec!["table", "json", "markdown", "junit", "sarif"],
            true,
        ),
        ("diff", vec!["table", "json", "markdown", "html"], false),
    ] {
        assert_eq!(
            offered(command),
            (formats.iter().map(|f| f.to_string()).collect(), tree),
            "{command}"
        );
    }
    let dir = tmp();
    let path = good_archive(dir.path());
    let path = path.to_str().expect("utf-8");
    for (args, refused) in [
        (
            vec!["explain", path, "/usr", "--format", "markdown"],
            "markdown",
        ),
        (vec!["explain", path, "/usr", "--format", "html"], "html"),
        (vec!["report", path, "--format", "junit"], "junit"),
        (vec!["diff", path, path, "--format", "sarif"], "sarif"),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains(&format!("invalid value '{refused}'")),
            "{}",
            stderr(&o)
        );
    }
}

/// Every `IMGSIZE_*` variable a flag reads, from the CLI's sources.
fn env_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).expect("src/cli") {
        let text = fs::read_to_string(entry.expect("entry").path()).expect("source");
        for part in text.split("env = \"").skip(1) {
            let name = part.split('"').next().expect("a name");
            if name.starts_with("IMGSIZE_") && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// A variable left empty, as CI systems define them, counts as unset: every command
/// gives the same output with all of them empty as with none.
fn empty_environment_variables_count_as_unset() {
    let names = env_names();
    assert!(names.len() >= 15, "{names:?}");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar");
    let sample = sample.to_str().expect("utf-8");
    let commands: [&[&str]; 3] = [
        &["report", sample, "--format", "json", "--no-progress"],
        &[
            "check",
            sample,
            "--limit",
            "compressed=1MB",
            "--no-progress",
        ],
        &["explain", sample, "/app", "--no-progress"],
    ];
    for args in commands {
        let run = |empty: bool| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgsize"));
            cmd.args(args);
            for name in &names {
                if empty {
                    cmd.env(name, "");
                } else {
                    cmd.env_remove(name);
                }
            }
            cmd.output().expect("imgsize runs")
        };
        let (unset, empty) = (run(false), run(true));
        assert_eq!(empty.status.code(), Some(0), "{args:?}: {}", stderr(&empty));
        assert_eq!(stdout(&empty), stdout(&unset), "{args:?}");
    }
}

crate::tests![
    empty_environment_variables_count_as_unset,
    help_exits_zero,
    usage_errors_exit_two,
    good_image_prints_a_table,
    json_output_parses,
    missing_file,
    a_plain_tar_is_not_an_image,
    truncated_archive,
    corrupt_gzip_layer,
    digest_mismatch,
    compressed_layers_are_verified_by_default,
    malformed_manifest_json,
    bad_platform_value,
    absent_platform_names_wanted_and_available,
    unknown_image_lists_the_available_ones,
    closed_stdout_pipe_exits_zero,
    digest_mismatch_on_standard_input,
    oversized_long_name_is_refused,
    explain_prints_a_path_history,
    each_command_offers_only_what_it_accepts,
];
