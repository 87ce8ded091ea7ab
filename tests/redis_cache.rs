//! The shared layer cache in Redis (`--cache redis://…`), against a real `redis-server`
//! on a free loopback port (no persistence, in a temporary directory, killed on drop):
//! a second report reads every layer from it, a damaged entry is a miss that is
//! written again, two workers on a cold cache walk each layer once between them, and a
//! Redis that is gone costs one note, never the report. Walks are counted through
//! `IMGSIZE_TEST_WALK_COUNTER`, a key the cache increments on every walk.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::builder::{Image, Layer, oci_layout};
use crate::util::redis::{Server, WALKS};
use crate::util::reports::assert_json_eq;
use crate::util::tmp;

/// Three gzipped layers with files of known sizes.
fn image() -> Image {
    Image::new("shared:1")
        .layer(
            Layer::new("/bin/sh -c #(nop) ADD file:base in / ")
                .fill("usr/bin/bash", 40_000)
                .fill("etc/os-release", 300)
                .gzip(),
        )
        .layer(
            Layer::new("/bin/sh -c apt-get install -y gcc")
                .fill("usr/lib/gcc/cc1", 90_000)
                .fill("var/lib/apt/lists/deb_Packages", 5_000)
                .gzip(),
        )
        .layer(
            Layer::new("/bin/sh -c #(nop) COPY dir:app in /app ")
                .fill("app/main.py", 2_000)
                .gzip(),
        )
}

/// The image as an OCI layout: its layers are named by blob digest, which is what the
/// cache keys (a classic docker archive's diff_ids are not).
fn archive(dir: &Path) -> PathBuf {
    let path = dir.join("layout");
    oci_layout(&image(), &path).expect("write fixture");
    path
}

/// `imgsize report ARCHIVE --format json EXTRA`, isolated from the host's settings,
/// counting walks in [`WALKS`].
fn command(archive: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgsize"));
    cmd.arg("report")
        .arg(archive)
        .args(["--format", "json", "--no-progress"])
        .args(extra)
        .env("IMGSIZE_TEST_WALK_COUNTER", WALKS);
    for var in ["IMGSIZE_CACHE", "IMGSIZE_CACHE_DIR", "IMGSIZE_FORMAT"] {
        cmd.env_remove(var);
    }
    cmd
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "imgsize failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn report(archive: &Path, extra: &[&str]) -> Value {
    json(&command(archive, extra).output().expect("run imgsize"))
}

/// A second report with the same `--cache` reads every layer from Redis (no walk) and
/// is the same report, which is also the uncached one.
fn redis_second_report_reads_every_layer_from_redis() {
    let server = Server::start();
    let dir = tmp();
    let archive = archive(dir.path());
    let url = server.url();
    let first = report(&archive, &["--cache", &url]);
    assert_eq!(server.walks(), 3, "the cold run walks every layer");
    assert_eq!(server.layer_keys().len(), 3, "one entry per layer");
    let second = report(&archive, &["--cache", &url]);
    assert_eq!(server.walks(), 3, "the warm run walks no layer");
    assert_json_eq(&second, &first, "the report read from Redis");
    assert_json_eq(
        &first,
        &report(&archive, &["--no-cache"]),
        "the uncached report",
    );
}

/// An entry overwritten with garbage, and one with a flipped payload byte, are misses:
/// those layers are walked again, the report is exact, and the entries are rewritten.
fn redis_corrupt_entry_is_a_miss_and_rewritten() {
    let server = Server::start();
    let dir = tmp();
    let archive = archive(dir.path());
    let url = server.url();
    let first = report(&archive, &["--cache", &url]);
    let keys = server.layer_keys();
    let good: Vec<Vec<u8>> = keys.iter().map(|k| server.value(k)).collect();
    server.set(&keys[0], b"not an imgsize entry");
    let mut flipped = good[1].clone();
    *flipped.last_mut().expect("a payload") ^= 0x40;
    server.set(&keys[1], &flipped);

    let second = report(&archive, &["--cache", &url]);
    assert_eq!(
        server.walks(),
        3 + 2,
        "the two damaged layers are walked again"
    );
    assert_json_eq(&second, &first, "the report over damaged entries");
    for (key, want) in keys.iter().zip(&good) {
        assert_eq!(&server.value(key), want, "{key} holds a good entry again");
    }
}

/// Two workers started together on a cold cache walk each layer once between them
/// (the second waits on the first's lock, or finds its entry) and agree.
fn redis_two_workers_walk_each_layer_once() {
    let server = Server::start();
    let dir = tmp();
    let archive = archive(dir.path());
    let url = server.url();
    let spawn = || {
        command(&archive, &["--cache", &url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start imgsize")
    };
    let (a, b) = (spawn(), spawn());
    let a = json(&a.wait_with_output().expect("worker a"));
    let b = json(&b.wait_with_output().expect("worker b"));
    assert_eq!(server.walks(), 3, "each layer walked once in all");
    assert_json_eq(&a, &b, "the two workers' reports");
    let locks: Vec<String> = redis::cmd("KEYS")
        .arg("imgsize:*:lock")
        .query(&mut server.conn())
        .expect("KEYS");
    assert!(locks.is_empty(), "locks released: {locks:?}");
}

/// Redis gone before the run: the report is the uncached one, and stderr says so in
/// exactly one note.
fn redis_unavailable_costs_one_note() {
    let server = Server::start();
    let url = server.url();
    drop(server);
    let dir = tmp();
    let archive = archive(dir.path());
    let out = command(&archive, &["--cache", &url])
        .output()
        .expect("run imgsize");
    let got = json(&out);
    assert_json_eq(
        &got,
        &report(&archive, &["--no-cache"]),
        "the report without Redis",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("note:")).collect();
    assert_eq!(notes.len(), 1, "one note:\n{stderr}");
    assert!(
        notes[0].contains("shared layer cache unavailable"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "nothing else on stderr:\n{stderr}"
    );
}

/// Redis gone in the middle of a run: a worker waits on locks another worker holds
/// (set here by hand) when the server is killed. It walks the layers itself, the
/// report is exact, and stderr has one note.
fn redis_lost_mid_run_costs_one_note() {
    let mut server = Server::start();
    let dir = tmp();
    let archive = archive(dir.path());
    let url = server.url();
    report(&archive, &["--cache", &url]);
    let keys = server.layer_keys();
    let () = redis::cmd("FLUSHALL")
        .query(&mut server.conn())
        .expect("FLUSHALL");
    for key in &keys {
        let () = redis::cmd("SET")
            .arg(format!("{key}:lock"))
            .arg("another worker")
            .arg("PX")
            .arg(60_000)
            .query(&mut server.conn())
            .expect("SET lock");
    }
    let worker = command(&archive, &["--cache", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imgsize");
    std::thread::sleep(Duration::from_millis(500));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let started = Instant::now();
    let out = worker.wait_with_output().expect("the worker");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the worker waited out the locks"
    );
    let got = json(&out);
    assert_json_eq(
        &got,
        &report(&archive, &["--no-cache"]),
        "the report after Redis went",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one note:\n{stderr}");
    assert!(
        stderr.contains("note: shared layer cache unavailable"),
        "{stderr}"
    );
}

/// `--cache` with `--cache-dir` or `--no-cache`, or a URL that is not `redis://`, is a
/// usage error (exit 2), before any image is read.
fn redis_cache_flag_conflicts_are_errors() {
    let dir = tmp();
    let archive = archive(dir.path());
    let cache_dir = dir.path().join("cache");
    let cache_dir = cache_dir.to_str().expect("utf-8 path");
    let url = "redis://127.0.0.1:1/0";
    for extra in [
        &["--cache", url, "--cache-dir", cache_dir][..],
        &["--cache", url, "--no-cache"],
        &["--cache", "http://127.0.0.1:1/0"],
    ] {
        let out = command(&archive, extra).output().expect("run imgsize");
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(out.stdout.is_empty(), "{extra:?} printed a report");
    }
}

crate::tests![
    redis_second_report_reads_every_layer_from_redis,
    redis_corrupt_entry_is_a_miss_and_rewritten,
    redis_two_workers_walk_each_layer_once,
    redis_unavailable_costs_one_note,
    redis_lost_mid_run_costs_one_note,
    redis_cache_flag_conflicts_are_errors,
];
