//! Bytes that only file content tells apart: the same content at several paths
//! (`duplicate-files`, hashed), and what `strip` would save on ELF files
//! (`unstripped`, read from their section headers in the walk), checked against a
//! real `gcc` and `strip` on the same files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use imgsize::analyze::Report;

use crate::util::builder::{Data, Image, Layer, docker_archive};
use crate::util::{harness, report_of as report, tmp};

/// The base image's layer: no instruction, so it is the base's whatever comes after.
const BASE: &str = "";

/// One finding of `rule` on `layer`.
fn finding<'r>(r: &'r Report, rule: &str, layer: usize) -> &'r imgsize::analyze::Finding {
    r.findings
        .rows
        .iter()
        .find(|f| f.rule.code() == rule && f.layer == layer)
        .expect("a finding")
}

/// (layer, bytes alone, incremental bytes) of one rule's findings, in order.
fn rows(r: &Report, rule: &str) -> Vec<(usize, u64, u64)> {
    r.findings
        .rows
        .iter()
        .filter(|f| f.rule.code() == rule)
        .map(|f| (f.layer, f.bytes, f.incremental_bytes))
        .collect()
}

/// `size` bytes of content that only `seed` decides (not the path).
fn content(seed: u64, size: u64) -> Data {
    Data::Fill {
        size,
        seed,
        random: true,
    }
}

fn duplicates_image() -> Image {
    Image::new("dups:1")
        .layer(
            Layer::new(BASE)
                .data("usr/lib/libz.so.1", content(1, 8192))
                .data("usr/share/a.bin", content(2, 6000))
                .data("usr/share/b.bin", content(2, 6000)),
        )
        .layer(
            Layer::new("/bin/sh -c cp -r /usr/lib /opt/vendor && make install")
                // The base's library again: the base's copy stays.
                .data("opt/vendor/libz.so.1", content(1, 8192))
                // Twice here: one copy is extra.
                .data("app/wheels/pkg.whl", content(3, 5000))
                .data("app/site/pkg.whl", content(3, 5000))
                // Same size, other content: not a duplicate.
                .data("app/other.bin", content(4, 5000))
                // A hard link is the same file, not a copy.
                .hardlink("app/site/pkg-link.whl", "app/site/pkg.whl")
                // Below the floor.
                .data("app/small1", content(5, 100))
                .data("app/small2", content(5, 100)),
        )
        .layer(Layer::new("/bin/sh -c npm install").data(
            "app/node_modules/a/node_modules/x/index.js",
            content(3, 5000),
        ))
}

/// Duplicates by content, with the copy in the lowest layer kept: exact bytes, hard
/// links and different contents of the same size left out, the base's own duplicates
/// not yours to fix.
fn duplicate_files_are_the_extra_copies() {
    let r = report(&duplicates_image());
    assert_eq!(
        rows(&r, "duplicate-files"),
        vec![(1, 8192 + 5000, 8192 + 5000), (2, 5000, 5000)]
    );
    let f = finding(&r, "duplicate-files", 1);
    assert_eq!(f.confidence, "high");
    assert!(f.fix.contains("base image already ships"), "{}", f.fix);
    let npm = finding(&r, "duplicate-files", 2);
    assert!(npm.fix.contains("npm dedupe"), "{}", npm.fix);
}

/// The same changelog in two packages apt installed: the saving is one copy, and the
/// fix says how to store it once (a hard link does: tar stores a link, not the bytes),
/// or, under `/usr/share/doc`, that the docs filter leaves both out.
fn duplicates_in_packages_are_hard_linked() {
    let changelog = content(7, 6000);
    let list =
        |p: &str| format!("/.\n/usr/share/doc/{p}\n/usr/share/doc/{p}/changelog.Debian.gz\n");
    let status: String = ["libc6", "liba", "liba-bin"]
        .iter()
        .map(|p| format!("Package: {p}\nStatus: install ok installed\nVersion: 1\n\n"))
        .collect();
    let img = Image::new("pkg:1")
        .layer(Layer::new(BASE).fill("etc/os-release", 20))
        .layer(
            Layer::new("/bin/sh -c apt-get install -y liba-bin")
                .data("usr/share/doc/liba/changelog.Debian.gz", changelog.clone())
                .data("usr/share/doc/liba-bin/changelog.Debian.gz", changelog)
                .file("var/lib/dpkg/status", status.as_bytes())
                .file("var/lib/dpkg/info/liba.list", list("liba").as_bytes())
                .file(
                    "var/lib/dpkg/info/liba-bin.list",
                    list("liba-bin").as_bytes(),
                ),
        );
    let r = report(&img);
    // The docs filter, ranked first, leaves out both copies: the link adds nothing on
    // top of it.
    assert_eq!(rows(&r, "docs-locales"), vec![(1, 12000, 12000)]);
    assert_eq!(rows(&r, "duplicate-files"), vec![(1, 6000, 0)]);
    let f = finding(&r, "duplicate-files", 1);
    assert!(f.fix.contains("`hardlink`"), "{}", f.fix);
    let own = report(&duplicates_image());
    let mine = finding(&own, "duplicate-files", 1);
    assert!(!mine.fix.contains("`hardlink`"), "{}", mine.fix);
}

/// Standard input cannot be read twice: the groups are by size and first bytes only,
/// and say so.
fn duplicates_of_a_stream_are_low_confidence() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&duplicates_image(), &path).expect("write fixture");
    let out = Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args(["report", "-", "--format", "json"])
        .stdin(fs::File::open(&path).expect("open"))
        .stderr(Stdio::null())
        .output()
        .expect("run imgsize");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let dups: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "duplicate-files")
        .collect();
    assert!(!dups.is_empty());
    assert!(dups.iter().all(|f| f["confidence"] == "low"));
    // By size and first bytes: the same-size file of other content is told apart.
    let bytes: u64 = dups
        .iter()
        .map(|f| f["bytes"].as_u64().expect("bytes"))
        .sum();
    assert_eq!(bytes, 8192 + 5000 + 5000);
}

/// A tool on PATH, or the test is skipped.
fn tool(name: &str) {
    let found = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        harness::skip(format!("{name} is not installed"));
    }
}

/// Compile `source` with `flags` into `dir/name`.
fn compile(dir: &Path, name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    fs::write(&src, source).expect("write source");
    let out = dir.join(name);
    let status = Command::new("gcc")
        .args(flags)
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("gcc");
    assert!(status.success(), "gcc {flags:?}");
    out
}

/// What a real `strip` saves on a copy of the file.
fn strip_saving(file: &Path) -> u64 {
    let copy = file.with_extension("stripped");
    fs::copy(file, &copy).expect("copy");
    let status = Command::new("strip").arg(&copy).status().expect("strip");
    assert!(status.success());
    let saved = fs::metadata(file).expect("stat").len() - fs::metadata(&copy).expect("stat").len();
    fs::remove_file(copy).expect("remove");
    saved
}

const HELLO: &str = r#"
#include <stdio.h>
#include <string.h>
struct point { int x, y; };
static int dist(struct point a, struct point b) { return (a.x-b.x)*(a.x-b.x) + (a.y-b.y)*(a.y-b.y); }
int main(int argc, char **argv) {
    struct point p = { argc, (int)strlen(argv[0]) }, q = { 3, 4 };
    printf("%d\n", dist(p, q));
    return 0;
}
"#;

const LIBRARY: &str = r#"
int twice(int x) { return 2 * x; }
static int hidden(int x) { return x + 1; }
int thrice(int x) { return hidden(3 * x) - 1; }
"#;

/// A program with thousands of functions: a big symbol table, as Go programs have.
fn many_functions() -> String {
    let mut s = String::from("#include <stdio.h>\n");
    for i in 0..3000 {
        s.push_str(&format!(
            "int function_number_{i}(int x) {{ return x * {i} + 7; }}\n"
        ));
    }
    s.push_str("int main(int c, char **v) { int t = 0;\n");
    for i in (0..3000).step_by(7) {
        s.push_str(&format!("t += function_number_{i}(c);\n"));
    }
    s.push_str("printf(\"%d\\n\", t); return 0; }\n");
    s
}

/// The programs: (name in the image, file, what a real strip saves).
fn programs(dir: &Path) -> Vec<(String, PathBuf, u64)> {
    let many = many_functions();
    let builds: [(&str, &str, &[&str]); 7] = [
        ("hello-g", HELLO, &["-g"]),
        ("hello-g-O2", HELLO, &["-g", "-O2"]),
        ("hello-plain", HELLO, &[]),
        ("hello-stripped", HELLO, &["-g", "-s"]),
        ("libshared.so", LIBRARY, &["-g", "-shared", "-fPIC"]),
        ("many-functions", &many, &["-g", "-O1"]),
        ("emit-relocs", HELLO, &["-g", "-Wl,--emit-relocs"]),
    ];
    builds
        .iter()
        .map(|(name, src, flags)| {
            let file = compile(dir, name, src, flags);
            let saved = strip_saving(&file);
            (name.to_string(), file, saved)
        })
        .collect()
}

/// Each program in its own RUN layer, plain or gzip-compressed: imgsize's projected
/// strip saving equals what a real `strip` saves, to the byte.
fn strip_savings_equal_a_real_strip() {
    tool("gcc");
    tool("strip");
    let dir = tmp();
    let progs = programs(dir.path());
    assert_eq!(progs[3].2, 0, "a stripped program has nothing to strip");
    assert!(progs.iter().filter(|p| p.2 > 0).count() == 6);
    for gzip in [false, true] {
        let mut img = Image::new("elf:1").layer(Layer::new(BASE).fill("etc/os-release", 20));
        for (name, file, _) in &progs {
            let bytes = fs::read(file).expect("read");
            let mut layer = Layer::new("/bin/sh -c make install")
                .file(&format!("usr/local/bin/{name}"), &bytes)
                // Not ELF, though it starts like one.
                .file(
                    &format!("usr/local/bin/{name}.fake"),
                    b"\x7fELF\x02\x01\x01",
                );
            if gzip {
                layer = layer.gzip();
            }
            img = img.layer(layer);
        }
        let r = report(&img);
        let want: Vec<(usize, u64, u64)> = progs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.2 > 0)
            .map(|(i, p)| (i + 1, p.2, p.2))
            .collect();
        let mut got = rows(&r, "unstripped");
        got.sort();
        assert_eq!(got, want, "gzip: {gzip}; programs: {progs:?}");
        let saved: u64 = want.iter().map(|w| w.1).sum();
        assert_eq!(r.findings.fixes.saved_bytes, saved);
        assert_eq!(r.findings.saved_bytes, saved);
    }
}

/// A strip and a drop of the same file: the dropped file saves its size, its strip
/// nothing more; the incremental figures add up to the projected saving, which is what
/// a rebuild with both fixes ships less.
fn a_dropped_file_is_not_stripped_too() {
    tool("gcc");
    tool("strip");
    let dir = tmp();
    let file = compile(dir.path(), "tool", HELLO, &["-g"]);
    let saving = strip_saving(&file);
    let bytes = fs::read(&file).expect("read");
    let size = bytes.len() as u64;
    let r = report(
        &Image::new("elf:2")
            .layer(Layer::new(BASE).fill("etc/os-release", 20))
            .layer(
                Layer::new("/bin/sh -c make install")
                    .file("usr/local/bin/tool", &bytes)
                    .file("opt/tool/bin/tool", &bytes),
            ),
    );
    assert_eq!(rows(&r, "duplicate-files"), vec![(1, size, size)]);
    assert_eq!(rows(&r, "unstripped"), vec![(1, 2 * saving, saving)]);
    let f = &r.findings;
    assert_eq!(f.fixes.saved_bytes, size + saving, "the rebuild's saving");
    let sum: u64 = f.rows.iter().map(|f| f.incremental_bytes).sum();
    assert_eq!(sum, f.saved_bytes);
    assert_eq!(f.saved_bytes, f.fixes.saved_bytes);
    assert_eq!(f.stored_after, r.totals.stored_bytes - size - saving);
    let fix = &f
        .rows
        .iter()
        .find(|f| f.rule.code() == "unstripped")
        .expect("row")
        .fix;
    assert!(fix.contains("gcc -s"), "{fix}");
}

/// A Rust program as `rustc -O` links it (with LLD, Rust's default linker): LLD writes
/// the section names before the symbol names, megabytes before the section table,
/// where they are found as the content passes. Its own strip figure, that of a stripped
/// copy (Rust's loaded `.debug_gdb_scripts` stays) and of the two a layer apart.
fn a_rust_program_linked_by_lld_is_measured_as_strip_does() {
    tool("rustc");
    tool("strip");
    let dir = tmp();
    let src = dir.path().join("hello.rs");
    fs::write(
        &src,
        "fn main() { println!(\"{}\", std::env::args().count()); }\n",
    )
    .expect("write source");
    let file = dir.path().join("hello");
    let status = Command::new("rustc")
        .args(["-O", "-C", "debuginfo=1", "-o"])
        .arg(&file)
        .arg(&src)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "rustc failed");
    let saving = strip_saving(&file);
    assert!(saving > 100_000, "symbols and line tables: {saving}");
    let bytes = fs::read(&file).expect("read");
    let copy = dir.path().join("hello-stripped");
    fs::copy(&file, &copy).expect("copy");
    assert!(
        Command::new("strip")
            .arg(&copy)
            .status()
            .expect("strip")
            .success()
    );
    let stripped = fs::read(&copy).expect("read stripped");
    let r = report(
        &Image::new("elf:rust")
            .layer(Layer::new(BASE).fill("etc/os-release", 20))
            .layer(
                Layer::new("/bin/sh -c cargo install --path .")
                    .file("usr/local/bin/hello", &bytes)
                    .file("usr/local/bin/hello-stripped", &stripped)
                    .gzip(),
            ),
    );
    assert_eq!(rows(&r, "unstripped"), vec![(1, saving, saving)]);
    let fix = &r.findings.rows[0].fix;
    assert!(fix.contains("strip = true"), "the Rust fix: {fix}");
}

crate::tests![
    a_rust_program_linked_by_lld_is_measured_as_strip_does,
    duplicates_in_packages_are_hard_linked,
    duplicate_files_are_the_extra_copies,
    duplicates_of_a_stream_are_low_confidence,
    strip_savings_equal_a_real_strip,
    a_dropped_file_is_not_stripped_too,
];
