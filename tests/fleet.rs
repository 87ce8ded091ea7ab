//! Fleet scans end to end, against a real `docker-registry` and real `redis-server`s:
//! 33 images built on 3 shared bases (11 each; the first base ships apt's archives, so
//! one fix of a shared layer shrinks 11 images) are pushed, and three workers
//! (`--shard i/3`) scan them in parallel into one Redis run with one shared layer cache.
//! Every image is recorded once, each distinct layer is walked once across the workers,
//! and the fleet report's figures are the sums of the single-image reports and of the
//! manifests. A worker killed with SIGKILL mid-scan and started again completes the run
//! with no duplicate and no missing image; a shared cache that dies mid-scan costs one
//! note and no image.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::builder::{Image, Layer, oci_layout};
use crate::util::redis::{Server, WALKS};
use crate::util::registry::{Imgsize, Registry, require_tools};

/// Images in the fleet, and how many bases they share.
const IMAGES: usize = 33;
const BASES: usize = 3;

/// The base layers of base `b`: the first ships apt's downloaded packages.
fn base(b: usize, image: Image) -> Image {
    let root = Layer::new(&format!("/bin/sh -c #(nop) ADD file:base{b} in / "))
        .fill(
            &format!("usr/lib/base{b}/libc.so"),
            20_000 + 5_000 * b as u64,
        )
        .fill("etc/os-release", 300 + b as u64)
        .gzip();
    let mut extra = Layer::new("/bin/sh -c apt-get update && apt-get install -y python3").fill(
        &format!("usr/lib/python3/base{b}.py"),
        8_000 * (b as u64 + 1),
    );
    if b == 0 {
        extra = extra.fill("var/cache/apt/archives/python3_3.11_amd64.deb", 12_000);
    }
    image
        .layer(root)
        .layer(extra.gzip())
        .step("/bin/sh -c #(nop)  CMD [\"python3\"]")
}

/// Image `n`: its base, then a layer of its own with an app and pip's cache.
fn fleet_image(n: usize) -> Image {
    base(n % BASES, Image::new(&format!("app{n}:v1"))).layer(
        Layer::new("/bin/sh -c pip install -r requirements.txt")
            .fill(&format!("app/app{n}.py"), 1_000 + 37 * n as u64)
            .fill(
                &format!("root/.cache/pip/wheels/dep{n}.whl"),
                2_000 + 11 * n as u64,
            )
            .gzip(),
    )
}

/// The fleet pushed as `team/appN:v1`; their references.
fn push_fleet(registry: &Registry) -> Vec<String> {
    (0..IMAGES)
        .map(|n| {
            let dir = registry.dir().join(format!("layout{n}"));
            oci_layout(&fleet_image(n), &dir).expect("write the image");
            let name = format!("team/app{n}:v1");
            registry.push(&format!("oci:{}", dir.display()), &name);
            registry.reference(&name)
        })
        .collect()
}

/// A file of names, one a line.
fn name_list(dir: &Path, file: &str, names: &[String]) -> String {
    let path = dir.join(file);
    std::fs::write(&path, names.join("\n") + "\n").expect("write the name list");
    path.to_string_lossy().into_owned()
}

/// `imgsize scan` with these flags, walks counted in the cache's Redis.
fn scan(args: &[&str]) -> Imgsize {
    let mut all = vec!["scan", "--no-progress"];
    all.extend_from_slice(args);
    Imgsize::new(&all).env("IMGSIZE_TEST_WALK_COUNTER", WALKS)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `imgsize fleet SOURCE --format json`.
fn fleet_json(source: &str) -> Value {
    let o = Imgsize::new(&["fleet", source, "--format", "json"]).output();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("fleet JSON")
}

/// Every name of every image of a fleet report, sorted (a name twice stays twice).
fn image_names(f: &Value) -> Vec<String> {
    let mut all: Vec<String> = f["images"]
        .as_array()
        .expect("images")
        .iter()
        .flat_map(|i| i["names"].as_array().expect("names"))
        .map(|n| n.as_str().expect("name").to_string())
        .collect();
    all.sort();
    all
}

fn sorted(names: &[String]) -> Vec<String> {
    let mut all = names.to_vec();
    all.sort();
    all
}

/// How many fields a hash of the run holds.
fn run_len(server: &Server, run: &str, what: &str) -> usize {
    redis::cmd("HLEN")
        .arg(format!("imgsize:run:{run}:{what}"))
        .query(&mut server.conn())
        .expect("HLEN")
}

/// Wait (at most a minute) until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The distinct layers the manifests name, by digest, with their sizes; and the sizes
/// summed over images.
fn manifest_layers(registry: &Registry) -> (BTreeMap<String, u64>, u64) {
    let mut distinct = BTreeMap::new();
    let mut summed = 0;
    for n in 0..IMAGES {
        let m = registry.manifest(&format!("team/app{n}:v1"));
        for l in m["layers"].as_array().expect("layers") {
            let size = l["size"].as_u64().expect("size");
            distinct.insert(l["digest"].as_str().expect("digest").to_string(), size);
            summed += size;
        }
    }
    (distinct, summed)
}

/// The single-image reports' totals, summed.
fn summed_reports(names: &[String]) -> (u64, u64) {
    names.iter().fold((0, 0), |(stored, compressed), name| {
        let o = Imgsize::new(&["report", name, "--format", "json", "--no-cache"]).output();
        assert_eq!(o.status.code(), Some(0), "report {name}");
        let r: Value = serde_json::from_slice(&o.stdout).expect("report JSON");
        let t = &r["totals"];
        (
            stored + t["stored_bytes"].as_u64().expect("stored"),
            compressed + t["compressed_bytes"].as_u64().expect("compressed"),
        )
    })
}

fn fleet_three_workers_walk_each_layer_once_and_sum_to_the_reports() {
    require_tools();
    let server = Server::start();
    let registry = Registry::http();
    let names = push_fleet(&registry);
    let host = registry.host();
    let cache = format!("redis://127.0.0.1:{}/1", server.port);
    let run = format!("redis://127.0.0.1:{}/0/nightly", server.port);
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            scan(&[
                "--registry",
                &host,
                "--repositories",
                "team/*",
                "--shard",
                &shard,
                "--cache",
                &cache,
                "--output",
                &run,
            ])
            .spawn()
        })
        .collect();
    let outs: Vec<Output> = workers.into_iter().map(|w| w.wait()).collect();
    for o in &outs {
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(o.stdout.is_empty(), "records go to the run, not stdout");
    }
    let (distinct, summed) = manifest_layers(&registry);
    assert_eq!(distinct.len(), BASES * 2 + IMAGES);
    // Walks are counted in the cache's database.
    let walks: Option<u64> = redis::cmd("GET")
        .arg(WALKS)
        .query(
            &mut redis::Client::open(cache.as_str())
                .and_then(|c| c.get_connection())
                .expect("connect"),
        )
        .expect("GET");
    assert_eq!(
        walks,
        Some(distinct.len() as u64),
        "each distinct layer walked once in all"
    );
    assert_eq!(run_len(&server, "nightly", "names"), IMAGES);
    assert_eq!(run_len(&server, "nightly", "images"), IMAGES);

    let f = fleet_json(&run);
    let t = &f["totals"];
    assert_eq!(t["images"], IMAGES);
    assert_eq!(t["names"], IMAGES);
    assert_eq!(t["errors"], 0);
    assert_eq!(t["layers"], IMAGES * 3);
    assert_eq!(t["distinct_layers"], distinct.len());
    assert_eq!(
        t["distinct_compressed_bytes"],
        distinct.values().sum::<u64>()
    );
    assert_eq!(t["compressed_bytes"], summed);
    let (stored, compressed) = summed_reports(&names);
    assert_eq!(t["stored_bytes"], stored);
    assert_eq!(t["compressed_bytes"], compressed);
    assert_eq!(image_names(&f), sorted(&names));

    // The base's apt archives: one fix on a shared layer, shrinking its 11 images.
    let fixes = f["fixes"].as_array().expect("fixes");
    let apt: Vec<&Value> = fixes
        .iter()
        .filter(|x| x["rule"] == "apt-archives")
        .collect();
    assert_eq!(apt.len(), 1, "{apt:?}");
    assert_eq!(apt[0]["scope"], "base");
    assert_eq!(apt[0]["images"], IMAGES / BASES);
    let once = apt[0]["bytes"].as_u64().expect("bytes");
    assert!(once >= 12_000, "{once}");
    assert_eq!(apt[0]["summed_bytes"], once * (IMAGES / BASES) as u64);
    let families = f["families"].as_array().expect("families");
    assert_eq!(families.len(), BASES);
    for fam in families {
        assert_eq!(fam["images"], IMAGES / BASES, "{fam}");
    }
    // pip's cache is in every image's own layer: one fix per image.
    let pip = f["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["rule"] == "pip-cache")
        .expect("pip-cache");
    assert_eq!(pip["images"], IMAGES);
    assert_eq!(pip["fixes"], IMAGES);
    assert_eq!(pip["bytes"], pip["summed_bytes"]);
}

/// A loopback port that accepts connections and never answers: a registry that hangs.
fn black_hole() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let name = format!(
        "127.0.0.1:{}/stuck/app:v1",
        l.local_addr().expect("addr").port()
    );
    (l, name)
}

fn fleet_a_killed_worker_restarts_with_no_duplicate_and_no_missing_image() {
    require_tools();
    let server = Server::start();
    let registry = Registry::http();
    let names = push_fleet(&registry);
    let run = format!("redis://127.0.0.1:{}/0/retried", server.port);
    // Ten names, then one whose registry never answers: the worker is there when killed.
    let (_hole, stuck) = black_hole();
    let mut first = names[..10].to_vec();
    first.push(stuck);
    first.extend_from_slice(&names[10..]);
    let list = name_list(registry.dir(), "first.txt", &first);
    let worker = scan(&["--images", &list, "--no-cache", "--output", &run]).spawn();
    wait_until("ten records", || run_len(&server, "retried", "names") >= 10);
    std::thread::sleep(Duration::from_millis(200));
    worker.kill();
    assert_eq!(
        run_len(&server, "retried", "names"),
        10,
        "killed while stuck"
    );
    // Started again (the stuck registry gone from its list, as a fixed job would be).
    let list = name_list(registry.dir(), "again.txt", &names);
    let o = scan(&["--images", &list, "--no-cache", "--output", &run]).output();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "10 of {IMAGES} images were read into {run} already"
        )),
        "{err}"
    );
    let f = fleet_json(&run);
    assert_eq!(f["totals"]["images"], IMAGES);
    assert_eq!(f["totals"]["names"], IMAGES);
    assert_eq!(f["totals"]["errors"], 0);
    assert_eq!(image_names(&f), sorted(&names), "every image once");
    // Retrying the whole run adds nothing: records are kept by digest.
    let o = scan(&[
        "--images",
        &list,
        "--no-cache",
        "--output",
        &run,
        "--rescan",
    ])
    .output();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(run_len(&server, "retried", "images"), IMAGES);
}

fn fleet_a_cache_lost_mid_scan_costs_one_note_and_no_image() {
    require_tools();
    let mut cache = Server::start();
    let registry = Registry::http();
    let names = push_fleet(&registry);
    let (_hole, stuck) = black_hole();
    let mut list = names[..10].to_vec();
    list.push(stuck.clone());
    list.extend_from_slice(&names[10..]);
    let list = name_list(registry.dir(), "names.txt", &list);
    let out = registry.dir().join("records.jsonl");
    let url = cache.url();
    let worker = scan(&[
        "--images",
        &list,
        "--cache",
        &url,
        "--output",
        &out.to_string_lossy(),
        "--request-timeout",
        "2s",
        "--deadline",
        "4s",
    ])
    .spawn();
    let lines = || std::fs::read_to_string(&out).map_or(0, |t| t.lines().count());
    wait_until("ten records", || lines() >= 10);
    // Redis goes away while the worker waits on the stuck registry.
    let _ = cache.child.kill();
    let _ = cache.child.wait();
    let o = worker.wait();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "one image failed: {err}");
    let records: Vec<Value> = std::fs::read_to_string(&out)
        .expect("records")
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    assert_eq!(records.len(), IMAGES + 1);
    let failed: Vec<&Value> = records.iter().filter(|r| r["kind"] == "error").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], stuck.as_str());
    assert_eq!(
        err.matches("shared layer cache unavailable").count(),
        1,
        "{err}"
    );
}

crate::tests![
    fleet_three_workers_walk_each_layer_once_and_sum_to_the_reports,
    fleet_a_killed_worker_restarts_with_no_duplicate_and_no_missing_image,
    fleet_a_cache_lost_mid_scan_costs_one_note_and_no_image,
];
