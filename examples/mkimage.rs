//! Writes the synthetic benchmark images with the test fixture builder.
//!
//! ```text
//! cargo run --release --example mkimage -- KIND OUT [--format docker|oci-archive]
//! ```
//!
//! KIND is one of:
//!
//! - `big`: about 2 GB in 10 layers, 200k files (mostly small, some medium, a few
//!   multi-megabyte ones), compressible filler; every layer after the first rewrites
//!   1% of the first layer's files, so there is waste to find.
//! - `many`: 1M small files (0 to 1 KB) in 4 layers.
//! - `whiteouts`: a 20k-file base layer, then a layer with 5,000 whiteouts of base files
//!   (and a few new files).
//! - `sample`: a tiny image with every kind of entry.
//! - `python`: about 1 GB and 30k files laid out like a `FROM python` app: a Debian
//!   base with docs and locales, a compiler toolchain, the interpreter, site-packages
//!   with their tests and bytecode, a pip cache, apt lists deleted a layer too late
//!   and a `.git` folder (the HTML report's bench image).
//!
//! `--format docker` (the default) writes a `docker save` archive with uncompressed
//! layers; `--format oci-archive` writes the same image with gzip layers as an OCI
//! archive. Output is byte-for-byte reproducible.

#[path = "../tests/util/builder.rs"]
mod builder;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use builder::{Data, Image, Layer, mix};

fn fill(size: u64, seed: u64) -> Data {
    Data::Fill {
        size,
        seed,
        random: false,
    }
}

/// Files per directory in the generated trees.
const PER_DIR: u64 = 100;

/// A layer of `files` files under `root`, directories included, sizes from `size`.
fn tree_layer(
    created_by: &str,
    root: &str,
    files: u64,
    seed: u64,
    size: impl Fn(u64) -> u64,
) -> Layer {
    let mut layer = Layer::new(created_by).dir(root);
    for i in 0..files {
        if i % PER_DIR == 0 {
            layer = layer.dir(&format!("{root}/d{:04}", i / PER_DIR));
        }
        let path = format!("{root}/d{:04}/f{:03}.dat", i / PER_DIR, i % PER_DIR);
        layer = layer.data(&path, fill(size(i), mix(seed ^ i)));
    }
    layer
}

/// Mixed sizes averaging about 10 KB: 90% up to 4 KB, 9.9% 4 to 64 KB, 0.1% 2 to 8 MB.
fn mixed_size(seed: u64, i: u64) -> u64 {
    let h = mix(seed.wrapping_mul(1_000_003) ^ i);
    let r = h % 1000;
    let v = h >> 20;
    if r == 0 {
        (2 << 20) + v % (6 << 20)
    } else if r < 100 {
        4096 + v % (60 * 1024)
    } else {
        v % 4096
    }
}

fn big() -> Image {
    const LAYERS: u64 = 10;
    const FILES: u64 = 20_000;
    let mut img = Image::new("bench/big:latest");
    for l in 0..LAYERS {
        let root = format!("opt/layer{l:02}");
        let mut layer = tree_layer(
            &format!("/bin/sh -c make install-{l}"),
            &root,
            FILES,
            l,
            |i| mixed_size(l, i),
        );
        if l > 0 {
            // Rewrite 1% of the base layer: 200 entries, overwrite waste.
            for k in 0..FILES / 100 {
                let i = (k * 97 + l * 13) % FILES;
                let path = format!("opt/layer00/d{:04}/f{:03}.dat", i / PER_DIR, i % PER_DIR);
                layer = layer.data(&path, fill(mixed_size(0, i), mix(l << 32 | i)));
            }
        }
        img = img.layer(layer);
        if l == 0 {
            img = img.step("/bin/sh -c #(nop) ENV PATH=/opt/bin:/usr/bin:/bin");
        }
    }
    img.step("/bin/sh -c #(nop) CMD [\"/opt/bin/app\"]")
}

fn many() -> Image {
    const LAYERS: u64 = 4;
    const FILES: u64 = 250_000;
    let mut img = Image::new("bench/many:latest");
    for l in 0..LAYERS {
        img = img.layer(tree_layer(
            &format!("/bin/sh -c npm install --prefix /srv/part{l}"),
            &format!("srv/part{l}"),
            FILES,
            l,
            |i| mix(l << 40 | i) % 1025,
        ));
    }
    img
}

fn whiteouts() -> Image {
    const FILES: u64 = 20_000;
    let base = tree_layer("ADD rootfs.tar /", "usr/share", FILES, 1, |i| {
        mixed_size(1, i) % 16_384
    });
    let mut top = Layer::new("/bin/sh -c rm -rf docs && touch stamp").fill("etc/stamp", 64);
    // Every fourth base file: 5,000 whiteouts spread over all directories.
    for i in (0..FILES).step_by(4) {
        top = top.whiteout(&format!(
            "usr/share/d{:04}/f{:03}.dat",
            i / PER_DIR,
            i % PER_DIR
        ));
    }
    Image::new("bench/whiteouts:latest").layer(base).layer(top)
}

fn sample() -> Image {
    Image::new("bench/sample:latest")
        .layer(
            Layer::new("ADD rootfs.tar /")
                .dir("etc")
                .file("etc/os-release", b"ID=bench\n")
                .dir("bin")
                .fill("bin/busybox", 200_000)
                .symlink("bin/sh", "busybox")
                .hardlink("bin/ls", "bin/busybox")
                .dir("var/cache/apk")
                .fill("var/cache/apk/index.tar.gz", 30_000),
        )
        .step("/bin/sh -c #(nop) ENV LANG=C.UTF-8")
        .layer(
            Layer::new("/bin/sh -c apk add app && rm -rf /var/cache/apk/*")
                .opaque("var/cache/apk")
                .whiteout("etc/os-release")
                .file("etc/os-release", b"ID=bench\nVERSION=2\n")
                .fill("usr/bin/app", 500_000),
        )
}

/// `count` files of sizes around `mean` bytes under `dir/NAME-i.ext`, spread over
/// `folders` sub-folders.
fn spread(
    mut layer: Layer,
    dir: &str,
    count: u64,
    folders: u64,
    mean: u64,
    ext: &str,
    seed: u64,
) -> Layer {
    for i in 0..count {
        let h = mix(seed << 32 | i);
        // From mean/8 to about 4x the mean, most below it, like real trees.
        let size = mean / 8 + (h % (mean * 2)) * ((h >> 40) % 4 + 1) / 4;
        let path = match folders {
            1 => format!("{dir}/f{i:05}.{ext}"),
            _ => format!("{dir}/m{:03}/f{i:05}.{ext}", i % folders),
        };
        layer = layer.data(&path, fill(size, h));
    }
    layer
}

fn python() -> Image {
    const PKGS: [&str; 12] = [
        "numpy",
        "pandas",
        "scipy",
        "torch",
        "grpc",
        "botocore",
        "sqlalchemy",
        "pyarrow",
        "matplotlib",
        "lxml",
        "cryptography",
        "pydantic",
    ];
    let mut base = Layer::new("/bin/sh -c #(nop) ADD file:0d2c0e5b1f in / ");
    base = spread(base, "usr/lib/x86_64-linux-gnu", 2_500, 40, 40_000, "so", 1);
    base = spread(base, "usr/bin", 600, 1, 40_000, "bin", 2);
    base = spread(base, "usr/share/doc", 3_000, 300, 2_500, "gz", 3);
    base = spread(base, "usr/share/locale", 1_500, 100, 8_000, "mo", 4);
    base = spread(base, "usr/share/zoneinfo", 1_800, 60, 1_500, "tz", 5);
    base = spread(base, "var/lib/dpkg/info", 1_200, 1, 1_200, "list", 6);
    let mut apt = Layer::new(
        "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev",
    );
    apt = spread(
        apt,
        "usr/lib/gcc/x86_64-linux-gnu/12",
        300,
        4,
        600_000,
        "a",
        7,
    );
    apt = spread(apt, "usr/include", 2_500, 120, 6_000, "h", 8);
    apt = spread(apt, "var/lib/apt/lists", 40, 1, 1_000_000, "Packages", 9);
    apt = spread(apt, "var/cache/apt/archives", 60, 1, 900_000, "deb", 10);
    let mut py =
        Layer::new("/bin/sh -c set -eux; ./configure --enable-optimizations && make install");
    py = spread(py, "usr/local/lib/python3.12", 1_800, 60, 20_000, "py", 11);
    py = spread(
        py,
        "usr/local/lib/python3.12/test",
        900,
        30,
        25_000,
        "py",
        12,
    );
    let mut pip = Layer::new("/bin/sh -c pip install -r requirements.txt");
    for (k, name) in PKGS.iter().enumerate() {
        let root = format!("usr/local/lib/python3.12/site-packages/{name}");
        pip = spread(
            pip,
            &root,
            700,
            20,
            75_000 + 5_000 * k as u64,
            "py",
            20 + k as u64,
        );
        pip = spread(
            pip,
            &format!("{root}/tests"),
            250,
            10,
            12_000,
            "py",
            40 + k as u64,
        );
        pip = spread(
            pip,
            &format!("{root}/__pycache__"),
            150,
            1,
            15_000,
            "pyc",
            60 + k as u64,
        );
    }
    pip = spread(pip, "root/.cache/pip/http-v2", 120, 16, 900_000, "body", 80);
    let mut app = Layer::new("COPY . /app # buildkit");
    app = spread(app, "app/src", 400, 20, 6_000, "py", 90);
    app = spread(app, "app/.git/objects", 600, 40, 20_000, "pack", 91);
    Image::new("bench/python-app:latest")
        .layer(base)
        .step("/bin/sh -c #(nop)  ENV LANG=C.UTF-8")
        .layer(apt)
        .layer(py)
        .step("/bin/sh -c #(nop) WORKDIR /app")
        .layer(pip)
        .layer(app)
        .layer(
            // Too late: the lists still ship in the apt layer.
            Layer::new("/bin/sh -c rm -rf /var/lib/apt/lists/*").opaque("var/lib/apt/lists"),
        )
        .step("/bin/sh -c #(nop)  CMD [\"python\" \"main.py\"]")
}

fn usage() -> ExitCode {
    eprintln!("usage: mkimage big|many|whiteouts|sample|python OUT [--format docker|oci-archive]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, out, format) = match args.as_slice() {
        [k, o] => (k, o, "docker"),
        [k, o, f, v] if f == "--format" => (k, o, v.as_str()),
        [k, o, f] if f.starts_with("--format=") => (k, o, &f["--format=".len()..]),
        _ => return usage(),
    };
    let img = match kind.as_str() {
        "big" => big(),
        "many" => many(),
        "whiteouts" => whiteouts(),
        "sample" => sample(),
        "python" => python(),
        _ => return usage(),
    };
    let entries: usize = img.layers.iter().map(|l| l.items.len()).sum();
    let bytes: u64 = img.layers.iter().map(Layer::added_bytes).sum();
    let start = Instant::now();
    let out = Path::new(out);
    let written = match format {
        "docker" => builder::docker_archive(&img, out),
        "oci-archive" => {
            let mut img = img;
            img.layers = img.layers.into_iter().map(Layer::gzip).collect();
            builder::oci_archive(&img, out)
        }
        _ => return usage(),
    };
    if let Err(e) = written {
        eprintln!("mkimage: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "mkimage: wrote {} ({kind}, {format}, {entries} entries, {} MB of content) in {:.1}s",
        out.display(),
        bytes >> 20,
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
