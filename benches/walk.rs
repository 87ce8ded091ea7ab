//! Criterion benchmark of the library: open, walk and summarise a moderate synthetic
//! image (50k files in 4 layers, about 200 MB of tar), as a docker-save archive with
//! plain layers and as an OCI archive with gzip layers, under each verification policy
//! (`auto`, `all`, `none`). The images are written into a temporary directory at start.
//!
//! `cargo bench --bench walk`

#[path = "../tests/util/builder.rs"]
mod builder;

use std::path::Path;
use std::time::Duration;

use builder::{Data, Image, Layer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use imgsize::bytes::VerifyPolicy;
use imgsize::source::SelectOptions;
use imgsize::{Hooks, Options};

const LAYERS: u64 = 4;
const FILES_PER_LAYER: u64 = 12_500;

fn image(gzip: bool) -> Image {
    let mut img = Image::new("bench/walk:latest");
    for l in 0..LAYERS {
        let root = format!("opt/part{l}");
        let mut layer = Layer::new(&format!("/bin/sh -c make install-{l}")).dir(&root);
        for i in 0..FILES_PER_LAYER {
            if i % 100 == 0 {
                layer = layer.dir(&format!("{root}/d{:03}", i / 100));
            }
            // 0 to 8 KB, one file in 500 of 256 KB: about 50 MB per layer.
            let h = (l * FILES_PER_LAYER + i).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
            let size = if i % 500 == 0 { 256 << 10 } else { h % 8192 };
            let data = Data::Fill {
                size,
                seed: h,
                random: false,
            };
            layer = layer.data(&format!("{root}/d{:03}/f{:02}", i / 100, i % 100), data);
        }
        if l > 0 {
            // Overwrite and delete some of the first layer: there is waste to find.
            for i in (0..FILES_PER_LAYER).step_by(50) {
                layer = layer.fill(&format!("opt/part0/d{:03}/f{:02}", i / 100, i % 100), 1024);
            }
            layer = layer.whiteout(&format!("opt/part0/d{:03}", l));
        }
        if gzip {
            layer = layer.gzip();
        }
        img = img.layer(layer);
    }
    img
}

fn analyze(path: &Path, verify: VerifyPolicy) -> imgsize::analyze::Report {
    let options = Options {
        select: SelectOptions {
            verify,
            ..SelectOptions::default()
        },
        ..Options::default()
    };
    let report = imgsize::run(&path.to_string_lossy(), &options, &Hooks::default());
    match report {
        Ok(r) => r,
        Err(e) => panic!("analyze {}: {e}", path.display()),
    }
}

fn walk(c: &mut Criterion) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("temp dir: {e}"),
    };
    let plain = dir.path().join("plain.tar");
    let gzip = dir.path().join("gzip-oci.tar");
    if let Err(e) = builder::docker_archive(&image(false), &plain) {
        panic!("write {}: {e}", plain.display());
    }
    if let Err(e) = builder::oci_archive(&image(true), &gzip) {
        panic!("write {}: {e}", gzip.display());
    }
    let first = analyze(&plain, VerifyPolicy::All);
    assert!(first.complete, "problems: {:?}", first.problems);
    let uncompressed = first.totals.uncompressed_bytes;

    let mut group = c.benchmark_group("walk");
    group.throughput(Throughput::Bytes(uncompressed));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for (name, path) in [("docker-plain", &plain), ("oci-gzip", &gzip)] {
        for policy in [VerifyPolicy::Auto, VerifyPolicy::All, VerifyPolicy::None] {
            group.bench_function(format!("{name}/verify-{}", policy.name()), |b| {
                b.iter(|| analyze(path, policy))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, walk);
criterion_main!(benches);
