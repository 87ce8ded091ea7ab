//! Writes the fleet of `benches/fleet.sh`: 100 images on 3 shared bases, as one OCI
//! image layout whose `index.json` names each image `appNNN`
//! (`skopeo copy oci:DIR:app007 ...` picks one).
//!
//! ```text
//! cargo run --release --example mkfleet -- OUT_DIR [--images N]
//! ```
//!
//! - Three base families, each written once and shared by its images: `slim` (2
//!   layers, about 30 MB of gzip), `python` (3 layers, about 60 MB) and `jvm` (3
//!   layers, about 90 MB), laid out like an OS layer, the packages a runtime needs and
//!   the runtime itself: many small text-like files (docs, headers, sources) and fewer
//!   larger ones, a quarter of them incompressible like shared libraries.
//! - Images 0-39 are on `slim`, 40-74 on `python`, 75-99 on `jvm` (40/35/25). Each
//!   image adds 1 to 3 layers of its own (about 0.3 to 3 MB of tar each, content
//!   unique to the image: sources, bundles, assets).
//!
//! Layers are gzip (level 6, the fixture builder's). Output is byte-for-byte
//! reproducible; `index.json` is written last, so its presence means a whole layout.
//! The layers are built on every core.

#[path = "../tests/util/builder.rs"]
mod builder;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use builder::{Built, Data, Image, Layer, mix};

const MB: u64 = 1 << 20;

/// One part of a layer: files under `dir` up to `bytes` of content, of sizes around
/// `mean` (a few up to 24x it), `random` percent of them incompressible.
struct Part {
    dir: &'static str,
    ext: &'static str,
    bytes: u64,
    mean: u64,
    random: u64,
}

/// A layer of parts; `seed` makes its content its own.
fn layer(created_by: &str, parts: &[Part], seed: u64) -> Layer {
    let mut layer = Layer::new(created_by);
    for (p, part) in parts.iter().enumerate() {
        let mut left = part.bytes;
        let mut i = 0u64;
        while left > 0 {
            let h = mix(seed ^ ((p as u64) << 48) ^ i);
            // 1% of files are 8 to 24x the mean (libraries, bundles), the rest from
            // mean/8 to about 2x the mean.
            let size = if h.is_multiple_of(100) {
                part.mean * (8 + (h >> 8) % 17)
            } else {
                part.mean / 8 + (h >> 8) % (part.mean * 2)
            }
            .min(left);
            if i.is_multiple_of(100) {
                layer = layer.dir(&format!("{}/d{:03}", part.dir, i / 100));
            }
            let path = format!("{}/d{:03}/f{:05}.{}", part.dir, i / 100, i, part.ext);
            let data = Data::Fill {
                size,
                seed: h,
                random: (h >> 32) % 100 < part.random,
            };
            layer = layer.data(&path, data);
            left -= size;
            i += 1;
        }
    }
    layer.gzip()
}

/// The base families: name, share of the fleet's images (cumulative bound), layers.
fn bases() -> Vec<(&'static str, usize, Vec<Layer>)> {
    let part = |dir, ext, mb: u64, mean, random| Part {
        dir,
        ext,
        bytes: mb * MB,
        mean,
        random,
    };
    let os = |seed: u64, scale: u64| {
        layer(
            "/bin/sh -c #(nop) ADD file:4b1d2f in / ",
            &[
                part("usr/lib/x86_64-linux-gnu", "so", 10 * scale, 60_000, 45),
                part("usr/bin", "bin", 4 * scale, 40_000, 45),
                part("usr/share/doc", "gz", 8 * scale, 3_000, 10),
                part("usr/share/locale", "mo", 5 * scale, 8_000, 10),
                part("var/lib/dpkg/info", "list", 3 * scale, 1_500, 0),
            ],
            seed,
        )
    };
    vec![
        (
            "slim",
            40,
            vec![
                os(0x51, 2),
                layer(
                    "/bin/sh -c apt-get update && apt-get install -y ca-certificates tzdata libssl3",
                    &[
                        part("usr/share/zoneinfo", "tz", 4, 1_500, 0),
                        part("usr/lib/ssl", "so", 6, 50_000, 40),
                        part("etc/ssl/certs", "pem", 2, 2_000, 0),
                    ],
                    0x52,
                ),
            ],
        ),
        (
            "python",
            75,
            vec![
                os(0x61, 2),
                layer(
                    "/bin/sh -c apt-get update && apt-get install -y libpq5 libffi8 libsqlite3-0",
                    &[
                        part("usr/lib/x86_64-linux-gnu/deps", "so", 20, 80_000, 40),
                        part("usr/include", "h", 10, 6_000, 0),
                    ],
                    0x62,
                ),
                layer(
                    "/bin/sh -c set -eux; ./configure --enable-optimizations && make install",
                    &[
                        part("usr/local/lib/python3.12", "py", 40, 12_000, 5),
                        part("usr/local/lib/python3.12/lib-dynload", "so", 12, 60_000, 60),
                        part("usr/local/bin", "bin", 4, 100_000, 50),
                    ],
                    0x63,
                ),
            ],
        ),
        (
            "jvm",
            100,
            vec![
                os(0x71, 3),
                layer(
                    "/bin/sh -c apt-get update && apt-get install -y fontconfig libfreetype6 locales",
                    &[
                        part("usr/share/fonts", "ttf", 20, 150_000, 60),
                        part("usr/share/i18n", "txt", 15, 10_000, 0),
                    ],
                    0x72,
                ),
                layer(
                    "/bin/sh -c set -eux; tar -xzf openjdk.tar.gz -C /opt/java",
                    &[
                        part("opt/java/lib", "so", 50, 200_000, 45),
                        part("opt/java/jmods", "jmod", 20, 400_000, 30),
                        part("opt/java/legal", "txt", 5, 4_000, 0),
                    ],
                    0x73,
                ),
            ],
        ),
    ]
}

/// The layers image `i` adds to its base: 1 to 3, each 0.3 to 3 MB of tar.
fn app_layers(i: u64) -> Vec<Layer> {
    let h = mix(0xA99 ^ i);
    let count = 1 + h % 3;
    let steps = [
        "COPY . /app # buildkit",
        "/bin/sh -c npm ci --omit=dev",
        "COPY static /app/static # buildkit",
    ];
    (0..count)
        .map(|k| {
            let seed = mix(i << 8 | k);
            let bytes = 300 * 1024 + seed % (2_700 * 1024);
            let parts = [
                Part {
                    dir: "app/src",
                    ext: "js",
                    bytes: bytes * 3 / 5,
                    mean: 6_000,
                    random: 0,
                },
                Part {
                    dir: "app/assets",
                    ext: "bin",
                    bytes: bytes * 2 / 5,
                    mean: 40_000,
                    random: 80,
                },
            ];
            layer(steps[k as usize], &parts, seed)
        })
        .collect()
}

/// Build `jobs` layers on every core, each into its own scratch file.
fn build(jobs: &[Layer], scratch: &Path) -> std::io::Result<Vec<Built>> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<std::io::Result<Built>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(n) else { break };
                    let built = builder::build_layer(job, scratch, n);
                    if let Ok(mut done) = done.lock() {
                        done[n] = Some(built);
                    }
                }
            });
        }
    });
    let done = done
        .into_inner()
        .map_err(|_| std::io::Error::other("a builder thread panicked"))?;
    done.into_iter()
        .map(|b| b.unwrap_or_else(|| Err(std::io::Error::other("a layer was not built"))))
        .collect()
}

fn write(out: &Path, images: u64) -> std::io::Result<(u64, u64)> {
    let blobs = out.join("blobs/sha256");
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(&blobs)?;
    let scratch = PathBuf::from(format!("{}.scratch", out.display()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch)?;

    // Every layer once: the bases' then each image's own.
    let bases = bases();
    let mut jobs: Vec<Layer> = Vec::new();
    let mut base_at = Vec::new();
    for (_, _, layers) in &bases {
        base_at.push(jobs.len()..jobs.len() + layers.len());
        jobs.extend(layers.iter().cloned());
    }
    let mut app_at = Vec::new();
    for i in 0..images {
        let layers = app_layers(i);
        app_at.push(jobs.len()..jobs.len() + layers.len());
        jobs.extend(layers);
    }
    let built = build(&jobs, &scratch)?;
    let mut distinct = 0;
    for b in &built {
        distinct += b.size;
        fs::rename(&b.blob, blobs.join(&b.digest[7..]))?;
    }

    let mut manifests = Vec::new();
    let mut fleet = 0;
    for i in 0..images {
        // The family whose cumulative share (of 100) the image falls under.
        let slot = (i * 100 / images.max(1)) as usize;
        let family = bases.iter().position(|b| slot < b.1).unwrap_or(0);
        let name = format!("app{i:03}");
        let mut img = Image::new(&format!("fleet/{name}:v1"));
        // Only the history (created_by) is read from the image's layers.
        let mut owned: Vec<Built> = Vec::new();
        for n in base_at[family].clone() {
            img = img.layer(Layer::new(&jobs[n].created_by));
            owned.push(built[n].clone());
        }
        img = img.step("/bin/sh -c #(nop) WORKDIR /app");
        for n in app_at[i as usize].clone() {
            img = img.layer(Layer::new(&jobs[n].created_by));
            owned.push(built[n].clone());
        }
        let img = img.step("/bin/sh -c #(nop) CMD [\"/app/start\"]");
        let blobs_of = builder::image_blobs(&img, &owned);
        fs::write(blobs.join(&blobs_of.config_digest[7..]), &blobs_of.config)?;
        fs::write(
            blobs.join(&blobs_of.manifest_digest[7..]),
            &blobs_of.manifest,
        )?;
        fleet += owned.iter().map(|b| b.size).sum::<u64>();
        manifests.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": blobs_of.manifest_digest,
            "size": blobs_of.manifest.len(),
            "annotations": {
                "org.opencontainers.image.ref.name": name,
                "io.imgsize.fleet.base": bases[family].0,
            },
        }));
    }
    fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    fs::write(
        out.join("index.json"),
        serde_json::to_vec(&index).unwrap_or_default(),
    )?;
    fs::remove_dir_all(&scratch)?;
    Ok((distinct, fleet))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, images) = match args.as_slice() {
        [o] => (o, 100),
        [o, f, n] if f == "--images" => match n.parse::<u64>() {
            Ok(n) if (1..=1000).contains(&n) => (o, n),
            _ => return usage(),
        },
        _ => return usage(),
    };
    let start = Instant::now();
    match write(Path::new(out), images) {
        Ok((distinct, fleet)) => {
            eprintln!(
                "mkfleet: wrote {out} ({images} images, {:.1} MB of distinct blobs, \
                 {:.1} MB summed over images) in {:.1}s",
                distinct as f64 / 1e6,
                fleet as f64 / 1e6,
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mkfleet: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: mkfleet OUT_DIR [--images N]");
    ExitCode::from(2)
}
