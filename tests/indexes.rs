//! A registry index is decided from its own entries: imgsize fetches the entry for the
//! wanted platform, the one image of an index that has a single one, or a few entries
//! without a platform, never every child to see what it is. An index with no image
//! for the platform is one line that names a few of its platforms and counts the rest.
//! (What such indexes cost in memory is measured by benches/index.sh.)

use serde_json::{Value, json};

use crate::hostile::{Setup, assert_error_saying, assert_reports_like_the_layout, imgsize};
use crate::util::fake_registry::{FakeRegistry, Faults, summary};

/// This machine's platform as an index names it (tests run on Linux).
fn host() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("linux", "arm64"),
        "x86_64" => ("linux", "amd64"),
        other => panic!("no index fixture for {other}"),
    }
}

/// An entry for an image manifest of `digest` on os/arch.
fn entry(digest: &str, size: u64, os: &str, arch: &str) -> Value {
    json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": size,
        "platform": {"os": os, "architecture": arch},
    })
}

/// `n` entries for made-up platforms (`linux/fake0`, ...), naming manifests that do
/// not exist (so any fetch of one is seen: it answers 404).
fn foreign(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let digest = format!("sha256:{:064x}", i + 1);
            entry(&digest, 500, "linux", &format!("fake{i}"))
        })
        .collect()
}

fn index(entries: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .expect("index JSON")
}

/// The layout's manifest: its digest and size.
fn real_manifest(fake: &FakeRegistry) -> (String, u64) {
    let index = fake.layout().join("index.json");
    let index: Value =
        serde_json::from_slice(&std::fs::read(index).expect("index.json")).expect("JSON");
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let size = fake.blob(&digest).len() as u64;
    (digest, size)
}

/// Child manifests asked for (everything under /manifests/ but the tag).
fn child_fetches(fake: &FakeRegistry) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.route().contains("/manifests/sha256:"))
        .count()
}

/// Serve `entries` as the tag's index, from the layout of `setup`.
fn serving(setup: &Setup, entries: impl FnOnce(&FakeRegistry) -> Vec<Value>) -> FakeRegistry {
    let probe = setup.start(Faults::default());
    let doc = index(entries(&probe));
    drop(probe);
    setup.start(Faults::default().tag_document(doc))
}

fn an_index_without_the_platform_fetches_no_child_and_counts_the_rest() {
    let setup = Setup::new();
    let fake = serving(&setup, |_| foreign(100_002));
    let out = imgsize(&fake, &[]).output();
    let (os, arch) = host();
    let stderr = assert_error_saying(
        &out,
        "100,002 foreign entries",
        &[
            &format!("no image for platform {os}/{arch}"),
            "linux/fake0, linux/fake1, linux/fake10",
            ", and 99982 more)",
            "(pick one with --platform)",
        ],
    );
    assert!(stderr.len() < 600, "one short line: {} bytes", stderr.len());
    assert_eq!(child_fetches(&fake), 0, "{}", summary(&fake.requests()));
}

fn the_platforms_entry_among_many_is_the_only_child_fetched() {
    let setup = Setup::new();
    let fake = serving(&setup, |probe| {
        let (digest, size) = real_manifest(probe);
        let (os, arch) = host();
        let mut entries = foreign(50_000);
        entries.insert(25_000, entry(&digest, size, os, arch));
        entries
    });
    assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "one of 50,001");
    assert_eq!(child_fetches(&fake), 1, "{}", summary(&fake.requests()));
}

fn the_one_image_of_an_index_for_another_platform_is_read() {
    let setup = Setup::new();
    let fake = serving(&setup, |probe| {
        let (digest, size) = real_manifest(probe);
        let attestation = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{:064x}", 7),
            "size": 300,
            "platform": {"os": "unknown", "architecture": "unknown"},
        });
        vec![entry(&digest, size, "linux", "s390x"), attestation]
    });
    assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "the one s390x image");
    assert_eq!(child_fetches(&fake), 1, "{}", summary(&fake.requests()));
}

fn a_missing_entry_for_the_platform_is_named_as_such() {
    let setup = Setup::new();
    let (os, arch) = host();
    let missing = format!("sha256:{:064x}", 99);
    let fake = serving(&setup, |_| {
        let mut entries = foreign(3);
        entries.push(entry(&missing, 500, os, arch));
        entries
    });
    let out = imgsize(&fake, &[]).output();
    assert_error_saying(
        &out,
        "the platform's manifest 404s",
        &[&missing, &format!("(the {os}/{arch} image)")],
    );
    assert_eq!(child_fetches(&fake), 1, "{}", summary(&fake.requests()));
}

fn entries_without_a_platform_are_tried_a_few_at_most() {
    let setup = Setup::new();
    let fake = serving(&setup, |_| {
        (0..1000)
            .map(|i| json!({"digest": format!("sha256:{:064x}", i + 1), "size": 100}))
            .collect()
    });
    let out = imgsize(&fake, &[]).output();
    assert_error_saying(&out, "1,000 unlabelled entries", &["sha256:"]);
    assert_eq!(child_fetches(&fake), 8, "{}", summary(&fake.requests()));
}

fn no_file_or_directory_is_said_only_when_nothing_answered() {
    let setup = Setup::new();
    let fake = setup.start(Faults::default());
    // The registry answers: the name was a reference, and the tag is not there.
    let unknown = format!("{}/app:missing", fake.host());
    let out = crate::util::registry::Imgsize::new(&["report", &unknown, "--no-cache"]).output();
    let stderr = assert_error_saying(&out, "unknown tag", &["404"]);
    assert!(!stderr.contains("no file or directory"), "{stderr}");
    // Nothing listens: it may have been meant as a path.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let nowhere = format!("127.0.0.1:{port}/app:1");
    let out = crate::util::registry::Imgsize::new(&["report", &nowhere, "--no-cache"]).output();
    assert_error_saying(
        &out,
        "nothing listens",
        &[
            "cannot reach the registry",
            "(and there is no file or directory",
        ],
    );
}

crate::tests![
    an_index_without_the_platform_fetches_no_child_and_counts_the_rest,
    the_platforms_entry_among_many_is_the_only_child_fetched,
    the_one_image_of_an_index_for_another_platform_is_read,
    a_missing_entry_for_the_platform_is_named_as_such,
    entries_without_a_platform_are_tried_a_few_at_most,
    no_file_or_directory_is_said_only_when_nothing_answered,
];
