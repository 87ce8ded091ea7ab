//! Fixture builder: writes deterministic container images (docker-save archives, OCI
//! layouts and OCI archives; plain, gzip or zstd layers) from a small spec, so every
//! rule of the walker can be tested against figures known by construction.
//!
//! Layers are streamed through a scratch directory, so the same code writes the
//! kilobyte fixtures of the tests and the gigabyte images of the benchmarks. Output is
//! byte-for-byte reproducible: fixed mtimes, owners, modes and compression levels.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// File content without holding it in memory.
#[derive(Clone, Debug)]
pub enum Data {
    Bytes(Vec<u8>),
    /// `size` bytes of deterministic filler; `seed` varies the bytes, `random` makes
    /// them incompressible (otherwise they compress about 4.7:1 with gzip, like text).
    Fill {
        size: u64,
        seed: u64,
        random: bool,
    },
}

impl Data {
    pub fn len(&self) -> u64 {
        match self {
            Data::Bytes(b) => b.len() as u64,
            Data::Fill { size, .. } => *size,
        }
    }

    fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Data::Bytes(b) => w.write_all(b),
            Data::Fill { size, seed, random } => {
                let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut buf = [0u8; 64 * 1024];
                let mut left = *size;
                const WORDS: &[u8] =
                    b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do \
                    eiusmod tempor incididunt ut labore et dolore magna aliqua ";
                while left > 0 {
                    let n = left.min(buf.len() as u64) as usize;
                    for (i, chunk) in buf[..n].chunks_mut(8).enumerate() {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        if *random {
                            let bytes = state.to_le_bytes();
                            chunk.copy_from_slice(&bytes[..chunk.len()]);
                        } else {
                            let at = ((state >> 40) as usize + i) % (WORDS.len() - 8);
                            chunk.copy_from_slice(&WORDS[at..at + chunk.len()]);
                        }
                    }
                    w.write_all(&buf[..n])?;
                    left -= n as u64;
                }
                Ok(())
            }
        }
    }
}

/// One tar entry of a layer.
#[derive(Clone, Debug)]
pub enum Item {
    File(String, Data),
    Dir(String),
    Symlink(String, String),
    Hardlink(String, String),
    /// A raw entry name written as an empty regular file (whiteouts, odd names).
    Marker(String),
    /// A PAX extended header (`x`) with these records, for the next entry.
    Pax(Vec<(String, Vec<u8>)>),
}

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comp {
    None,
    Gzip,
    Zstd,
    /// Gzip in two members (as pigz and estargz write).
    GzipMulti,
    /// eStargz-like: gzip members, and a `stargz.index.json` tar entry after the tar's
    /// end-of-archive marker (counted in the diff_id, not in the filesystem).
    Estargz,
    /// zstd whose frame header declares a window of 2^log bytes (the content is
    /// small; only the header's Window_Descriptor is rewritten).
    ZstdWindow(u8),
    /// xz (preset 1) whose block header declares this LZMA2 dictionary property byte
    /// (40 is 4 GiB; the header's CRC32 is rewritten to match).
    XzDict(u8),
}

/// One layer and the instruction that made it.
#[derive(Clone, Debug)]
pub struct Layer {
    pub items: Vec<Item>,
    pub created_by: String,
    pub comp: Comp,
    /// Mode of the regular files it writes.
    pub file_mode: u32,
}

impl Layer {
    pub fn new(created_by: &str) -> Self {
        Layer {
            items: Vec::new(),
            created_by: created_by.to_string(),
            comp: Comp::None,
            file_mode: 0o644,
        }
    }
    pub fn file_mode(mut self, mode: u32) -> Self {
        self.file_mode = mode;
        self
    }
    pub fn file(mut self, path: &str, content: &[u8]) -> Self {
        self.items
            .push(Item::File(path.to_string(), Data::Bytes(content.to_vec())));
        self
    }
    /// A file of `size` compressible filler bytes.
    pub fn fill(mut self, path: &str, size: u64) -> Self {
        let seed = path
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31) ^ u64::from(b));
        self.items.push(Item::File(
            path.to_string(),
            Data::Fill {
                size,
                seed,
                random: false,
            },
        ));
        self
    }
    pub fn data(mut self, path: &str, data: Data) -> Self {
        self.items.push(Item::File(path.to_string(), data));
        self
    }
    pub fn dir(mut self, path: &str) -> Self {
        self.items.push(Item::Dir(path.to_string()));
        self
    }
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items
            .push(Item::Symlink(path.to_string(), target.to_string()));
        self
    }
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.items
            .push(Item::Hardlink(path.to_string(), target.to_string()));
        self
    }
    /// `.wh.NAME` next to `path`: deletes `path` from lower layers.
    pub fn whiteout(mut self, path: &str) -> Self {
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n),
            None => (String::new(), path),
        };
        self.items.push(Item::Marker(format!("{dir}.wh.{name}")));
        self
    }
    /// `.wh..wh..opq` in `dir`: hides what lower layers put in it.
    pub fn opaque(mut self, dir: &str) -> Self {
        self.items.push(Item::Marker(format!(
            "{}/.wh..wh..opq",
            dir.trim_end_matches('/')
        )));
        self
    }
    /// A PAX extended header with these records, applying to the next entry.
    pub fn pax(mut self, records: &[(&str, &[u8])]) -> Self {
        self.items.push(Item::Pax(
            records
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
        ));
        self
    }
    pub fn gzip(mut self) -> Self {
        self.comp = Comp::Gzip;
        self
    }
    pub fn zstd(mut self) -> Self {
        self.comp = Comp::Zstd;
        self
    }
    pub fn comp(mut self, comp: Comp) -> Self {
        self.comp = comp;
        self
    }
    /// Sum of regular-file content (what imgsize calls added_bytes).
    pub fn added_bytes(&self) -> u64 {
        self.items
            .iter()
            .map(|i| match i {
                Item::File(_, d) => d.len(),
                _ => 0,
            })
            .sum()
    }
}

/// A history step that made no layer (ENV, CMD, ...), placed before layer `before`.
#[derive(Clone, Debug)]
pub struct EmptyStep {
    pub before: usize,
    pub created_by: String,
}

/// A whole image.
#[derive(Clone, Debug)]
pub struct Image {
    pub layers: Vec<Layer>,
    pub empty_steps: Vec<EmptyStep>,
    pub tags: Vec<String>,
    pub os: String,
    pub arch: String,
    /// Write `history` into the config.
    pub with_history: bool,
    /// The manifest's annotations.
    pub annotations: Vec<(String, String)>,
}

impl Image {
    pub fn new(tag: &str) -> Self {
        Image {
            layers: Vec::new(),
            empty_steps: Vec::new(),
            tags: vec![tag.to_string()],
            os: "linux".to_string(),
            arch: "amd64".to_string(),
            with_history: true,
            annotations: Vec::new(),
        }
    }
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.push((key.to_string(), value.to_string()));
        self
    }
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }
    /// A metadata-only step after the layers added so far.
    pub fn step(mut self, created_by: &str) -> Self {
        self.empty_steps.push(EmptyStep {
            before: self.layers.len(),
            created_by: created_by.to_string(),
        });
        self
    }
    pub fn platform(mut self, os: &str, arch: &str) -> Self {
        self.os = os.to_string();
        self.arch = arch.to_string();
        self
    }
}

struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Write a layer's uncompressed tar.
pub fn write_tar(layer: &Layer, w: &mut dyn Write) -> io::Result<()> {
    let mut b = tar::Builder::new(w);
    for item in &layer.items {
        match item {
            Item::File(path, data) => {
                let mut h = header(tar::EntryType::Regular, data.len(), layer.file_mode);
                let mut buf = Vec::new();
                if let Data::Bytes(bytes) = data {
                    b.append_data(&mut h, path, bytes.as_slice())?;
                } else {
                    data.write_to(&mut buf)?;
                    b.append_data(&mut h, path, buf.as_slice())?;
                }
            }
            Item::Dir(path) => {
                let mut h = header(tar::EntryType::Directory, 0, 0o755);
                b.append_data(&mut h, path, io::empty())?;
            }
            Item::Symlink(path, target) => {
                let mut h = header(tar::EntryType::Symlink, 0, 0o777);
                b.append_link(&mut h, path, target)?;
            }
            Item::Hardlink(path, target) => {
                let mut h = header(tar::EntryType::Link, 0, 0o644);
                b.append_link(&mut h, path, target)?;
            }
            Item::Marker(name) => {
                let mut h = header(tar::EntryType::Regular, 0, 0o644);
                b.append_data(&mut h, name, io::empty())?;
            }
            Item::Pax(records) => {
                b.append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
            }
        }
    }
    b.finish()
}

/// A layer written to the scratch dir: blob file, digests and sizes.
#[derive(Clone, Debug)]
pub struct Built {
    pub blob: PathBuf,
    pub digest: String,
    pub diff_id: String,
    pub size: u64,
    pub uncompressed: u64,
    pub comp: Comp,
}

fn hex_of(h: Sha256) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Write one layer blob into `dir`, returning its digests.
pub fn build_layer(layer: &Layer, dir: &Path, n: usize) -> io::Result<Built> {
    let tar_path = dir.join(format!("layer{n}.tar"));
    let mut w = HashWriter {
        inner: BufWriter::new(File::create(&tar_path)?),
        hasher: Sha256::new(),
        len: 0,
    };
    write_tar(layer, &mut w)?;
    if layer.comp == Comp::Estargz {
        let toc = Layer::new("toc").file("stargz.index.json", br#"{"version":1,"entries":[]}"#);
        write_tar(&toc, &mut w)?;
    }
    w.flush()?;
    let diff_id = format!("sha256:{}", hex_of(w.hasher));
    let uncompressed = w.len;
    drop(w.inner);
    if layer.comp == Comp::None {
        return Ok(Built {
            blob: tar_path,
            digest: diff_id.clone(),
            diff_id,
            size: uncompressed,
            uncompressed,
            comp: Comp::None,
        });
    }
    let blob = dir.join(format!("layer{n}.blob"));
    let mut out = HashWriter {
        inner: BufWriter::new(File::create(&blob)?),
        hasher: Sha256::new(),
        len: 0,
    };
    let mut input = File::open(&tar_path)?;
    match layer.comp {
        Comp::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(6));
            io::copy(&mut input, &mut enc)?;
            enc.finish()?;
        }
        Comp::GzipMulti | Comp::Estargz => {
            // Members split where the first tar ends (estargz) or half way.
            let split = if layer.comp == Comp::Estargz {
                let mut first = Vec::new();
                write_tar(layer, &mut first)?;
                first.len() as u64
            } else {
                uncompressed / 2
            };
            for part in [split, uncompressed - split] {
                let mut enc = flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(6));
                io::copy(&mut (&mut input).take(part), &mut enc)?;
                enc.finish()?;
            }
        }
        Comp::Zstd => {
            let mut enc = zstd::stream::write::Encoder::new(&mut out, 3)?;
            io::copy(&mut input, &mut enc)?;
            enc.finish()?;
        }
        Comp::ZstdWindow(log) => {
            // A streaming encoder does not know the size: its frame has a
            // Window_Descriptor (byte 5), not a single segment.
            let mut frame = Vec::new();
            let mut enc = zstd::stream::write::Encoder::new(&mut frame, 3)?;
            io::copy(&mut input, &mut enc)?;
            enc.finish()?;
            assert_eq!(frame[4] & 0x20, 0, "not a single-segment frame");
            frame[5] = (log - 10) << 3;
            out.write_all(&frame)?;
        }
        Comp::XzDict(props) => {
            let mut stream = Vec::new();
            let mut tar = Vec::new();
            input.read_to_end(&mut tar)?;
            liblzma::read::XzEncoder::new(&tar[..], 1).read_to_end(&mut stream)?;
            // Stream header (12 bytes), then the block header: its size byte, flags,
            // LZMA2's filter flags (id 0x21, one property byte), padding, CRC32.
            let len = (usize::from(stream[12]) + 1) * 4;
            let header = 12..12 + len - 4;
            let at = stream[header.clone()]
                .windows(2)
                .position(|w| w == [0x21, 0x01])
                .expect("LZMA2 filter flags")
                + 12
                + 2;
            stream[at] = props;
            let mut crc = flate2::Crc::new();
            crc.update(&stream[header.clone()]);
            stream[header.end..header.end + 4].copy_from_slice(&crc.sum().to_le_bytes());
            out.write_all(&stream)?;
        }
        Comp::None => unreachable!(),
    }
    out.flush()?;
    fs::remove_file(&tar_path)?;
    Ok(Built {
        blob,
        digest: format!("sha256:{}", hex_of(out.hasher)),
        diff_id,
        size: out.len,
        uncompressed,
        comp: layer.comp,
    })
}

fn sha(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    format!("sha256:{}", hex_of(h))
}

fn config_json(img: &Image, built: &[Built]) -> Vec<u8> {
    let diff_ids: Vec<String> = built.iter().map(|b| b.diff_id.clone()).collect();
    let mut history = Vec::new();
    for (i, layer) in img.layers.iter().enumerate() {
        for s in img.empty_steps.iter().filter(|s| s.before == i) {
            history.push(serde_json::json!({"created": "2024-01-01T00:00:00Z", "created_by": s.created_by, "empty_layer": true}));
        }
        history.push(
            serde_json::json!({"created": "2024-01-01T00:00:00Z", "created_by": layer.created_by}),
        );
    }
    for s in img
        .empty_steps
        .iter()
        .filter(|s| s.before >= img.layers.len())
    {
        history.push(serde_json::json!({"created": "2024-01-01T00:00:00Z", "created_by": s.created_by, "empty_layer": true}));
    }
    let mut config = serde_json::json!({
        "architecture": img.arch,
        "os": img.os,
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    if img.with_history {
        config["history"] = serde_json::Value::Array(history);
    }
    serde_json::to_vec(&config).unwrap_or_default()
}

fn append_file(b: &mut tar::Builder<impl Write>, name: &str, path: &Path) -> io::Result<()> {
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut h = header(tar::EntryType::Regular, len, 0o644);
    b.append_data(&mut h, name, f)
}

fn append_bytes(b: &mut tar::Builder<impl Write>, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut h = header(tar::EntryType::Regular, bytes.len() as u64, 0o644);
    b.append_data(&mut h, name, bytes)
}

fn scratch(out: &Path) -> io::Result<PathBuf> {
    let dir = PathBuf::from(format!("{}.scratch", out.display()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn build_all(img: &Image, dir: &Path) -> io::Result<Vec<Built>> {
    img.layers
        .iter()
        .enumerate()
        .map(|(n, l)| build_layer(l, dir, n))
        .collect()
}

/// Write a classic `docker save` archive: `<n>/layer.tar` per layer (compressed layers
/// as kaniko does: `<digest>.tar.gz`/`.tar.zst`), `<hex>.json` config and `manifest.json`.
pub fn docker_archive(img: &Image, out: &Path) -> io::Result<()> {
    let dir = scratch(out)?;
    let built = build_all(img, &dir)?;
    let config = config_json(img, &built);
    let config_hex = sha(&config)[7..].to_string();
    let mut b = tar::Builder::new(BufWriter::new(File::create(out)?));
    let mut layer_names = Vec::new();
    for (n, l) in built.iter().enumerate() {
        let name = match l.comp {
            Comp::None => format!("{:064x}/layer.tar", n + 1),
            Comp::Gzip | Comp::GzipMulti | Comp::Estargz => format!("{}.tar.gz", &l.digest[7..]),
            Comp::Zstd | Comp::ZstdWindow(_) => format!("{}.tar.zst", &l.digest[7..]),
            Comp::XzDict(_) => format!("{}.tar.xz", &l.digest[7..]),
        };
        append_file(&mut b, &name, &l.blob)?;
        layer_names.push(name);
    }
    append_bytes(&mut b, &format!("{config_hex}.json"), &config)?;
    let manifest = serde_json::json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": img.tags,
        "Layers": layer_names,
    }]);
    append_bytes(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap_or_default(),
    )?;
    b.into_inner()?.flush()?;
    fs::remove_dir_all(&dir)
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

fn layer_media_type(c: Comp) -> &'static str {
    match c {
        Comp::None => "application/vnd.oci.image.layer.v1.tar",
        Comp::Gzip | Comp::GzipMulti | Comp::Estargz => {
            "application/vnd.oci.image.layer.v1.tar+gzip"
        }
        Comp::Zstd | Comp::ZstdWindow(_) => "application/vnd.oci.image.layer.v1.tar+zstd",
        // No OCI media type names xz: compression is read off the magic bytes.
        Comp::XzDict(_) => "application/vnd.oci.image.layer.v1.tar",
    }
}

/// The files of an OCI layout: (path in layout, source file or bytes).
fn oci_files(img: &Image, built: &[Built]) -> Vec<(String, Result<PathBuf, Vec<u8>>)> {
    let ImageBlobs {
        config,
        config_digest,
        manifest,
        manifest_digest,
    } = image_blobs(img, built);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": img.tags.first().cloned().unwrap_or_default()},
        }],
    });
    let mut files: Vec<(String, Result<PathBuf, Vec<u8>>)> = vec![
        (
            "oci-layout".into(),
            Err(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        ),
        (
            "index.json".into(),
            Err(serde_json::to_vec(&index).unwrap_or_default()),
        ),
        (
            format!("blobs/sha256/{}", &manifest_digest[7..]),
            Err(manifest),
        ),
        (format!("blobs/sha256/{}", &config_digest[7..]), Err(config)),
    ];
    for l in built {
        let name = format!("blobs/sha256/{}", &l.digest[7..]);
        if !files.iter().any(|(n, _)| *n == name) {
            files.push((name, Ok(l.blob.clone())));
        }
    }
    files
}

/// Write an OCI image layout directory.
pub fn oci_layout(img: &Image, out: &Path) -> io::Result<()> {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out.join("blobs/sha256"))?;
    let dir = scratch(out)?;
    let built = build_all(img, &dir)?;
    for (name, src) in oci_files(img, &built) {
        match src {
            Ok(path) => fs::rename(&path, out.join(&name))
                .or_else(|_| fs::copy(&path, out.join(&name)).map(|_| ()))?,
            Err(bytes) => fs::write(out.join(&name), bytes)?,
        }
    }
    fs::remove_dir_all(&dir)
}

/// Write an OCI archive (a tar of a layout).
pub fn oci_archive(img: &Image, out: &Path) -> io::Result<()> {
    let dir = scratch(out)?;
    let built = build_all(img, &dir)?;
    let mut b = tar::Builder::new(BufWriter::new(File::create(out)?));
    for (name, src) in oci_files(img, &built) {
        match src {
            Ok(path) => append_file(&mut b, &name, &path)?,
            Err(bytes) => append_bytes(&mut b, &name, &bytes)?,
        }
    }
    b.into_inner()?.flush()?;
    fs::remove_dir_all(&dir)
}

/// How to write a docker-save archive.
#[derive(Clone, Copy, Debug, Default)]
pub struct DockerStyle {
    /// jib's lowercase `config`/`repoTags`/`layers` keys.
    pub lowercase_keys: bool,
    /// Docker 25+: an OCI layout (`blobs/sha256/…`, `index.json`) plus `manifest.json`.
    pub docker25: bool,
    /// A layer already written for an earlier image becomes a symlink to it.
    pub share_by_symlink: bool,
}

/// The manifest and config of one image, as OCI blobs.
pub struct ImageBlobs {
    pub config: Vec<u8>,
    pub config_digest: String,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
}

/// The config and OCI manifest of `img` whose layers were built as `built` (only each
/// layer's `created_by` is read from `img.layers`).
pub fn image_blobs(img: &Image, built: &[Built]) -> ImageBlobs {
    let config = config_json(img, built);
    let config_digest = sha(&config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
        "layers": built.iter().map(|l| serde_json::json!({
            "mediaType": layer_media_type(l.comp), "digest": l.digest, "size": l.size,
        })).collect::<Vec<_>>(),
    });
    let mut manifest = manifest;
    if !img.annotations.is_empty() {
        manifest["annotations"] = img
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    let manifest = serde_json::to_vec(&manifest).unwrap_or_default();
    let manifest_digest = sha(&manifest);
    ImageBlobs {
        config,
        config_digest,
        manifest,
        manifest_digest,
    }
}

fn append_symlink(b: &mut tar::Builder<impl Write>, name: &str, target: &str) -> io::Result<()> {
    let mut h = header(tar::EntryType::Symlink, 0, 0o777);
    b.append_link(&mut h, name, target)
}

/// Write a docker-save archive holding several images in the given style.
pub fn docker_archive_multi(imgs: &[Image], out: &Path, style: DockerStyle) -> io::Result<()> {
    let dir = scratch(out)?;
    let mut b = tar::Builder::new(BufWriter::new(File::create(out)?));
    let mut written: Vec<(String, String)> = Vec::new(); // (diff_id, member name)
    let mut entries = Vec::new();
    let mut index = Vec::new();
    let mut n = 0;
    for img in imgs {
        let mut built = Vec::new();
        for l in &img.layers {
            built.push(build_layer(l, &dir, n)?);
            n += 1;
        }
        let blobs = image_blobs(img, &built);
        let mut names = Vec::new();
        for l in &built {
            let own = if style.docker25 {
                format!("blobs/sha256/{}", &l.digest[7..])
            } else {
                format!("{:064x}/layer.tar", entries.len() * 1000 + names.len() + 1)
            };
            match written.iter().find(|(d, _)| *d == l.diff_id) {
                Some((_, first)) if style.docker25 => names.push(first.clone()),
                Some((_, first)) if style.share_by_symlink => {
                    let depth = own.matches('/').count();
                    append_symlink(&mut b, &own, &format!("{}{first}", "../".repeat(depth)))?;
                    names.push(own);
                }
                _ => {
                    append_file(&mut b, &own, &l.blob)?;
                    written.push((l.diff_id.clone(), own.clone()));
                    names.push(own);
                }
            }
        }
        let config_name = if style.docker25 {
            let name = format!("blobs/sha256/{}", &blobs.config_digest[7..]);
            append_bytes(&mut b, &name, &blobs.config)?;
            append_bytes(
                &mut b,
                &format!("blobs/sha256/{}", &blobs.manifest_digest[7..]),
                &blobs.manifest,
            )?;
            index.push(serde_json::json!({
                "mediaType": OCI_MANIFEST, "digest": blobs.manifest_digest, "size": blobs.manifest.len(),
                "annotations": {"io.containerd.image.name": img.tags.first().cloned().unwrap_or_default()},
            }));
            name
        } else {
            let name = format!("{}.json", &blobs.config_digest[7..]);
            append_bytes(&mut b, &name, &blobs.config)?;
            name
        };
        entries.push(if style.lowercase_keys {
            serde_json::json!({"config": config_name, "repoTags": img.tags, "layers": names})
        } else {
            serde_json::json!({"Config": config_name, "RepoTags": img.tags, "Layers": names})
        });
    }
    if style.docker25 {
        append_bytes(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        let idx = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index});
        append_bytes(
            &mut b,
            "index.json",
            &serde_json::to_vec(&idx).unwrap_or_default(),
        )?;
    }
    append_bytes(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&serde_json::Value::Array(entries)).unwrap_or_default(),
    )?;
    b.into_inner()?.flush()?;
    fs::remove_dir_all(&dir)
}

/// One entry of an OCI layout's `index.json`: a single image, or a multi-platform index
/// (nested one level deeper when `nested`), with the blobs of `missing` platforms left
/// out as a partial pull leaves them.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    pub name: Option<String>,
    pub images: Vec<Image>,
    pub nested: bool,
    pub missing: Vec<String>,
}

/// Write an OCI layout directory from index entries.
pub fn oci_index_layout(entries: &[IndexEntry], out: &Path) -> io::Result<()> {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out.join("blobs/sha256"))?;
    let dir = scratch(out)?;
    let blob = |name: &str| out.join("blobs/sha256").join(&name[7..]);
    fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut top = Vec::new();
    let mut n = 0;
    for e in entries {
        let mut descs = Vec::new();
        for img in &e.images {
            let mut built = Vec::new();
            for l in &img.layers {
                built.push(build_layer(l, &dir, n)?);
                n += 1;
            }
            let blobs = image_blobs(img, &built);
            let platform = format!("{}/{}", img.os, img.arch);
            if !e.missing.contains(&platform) {
                for l in &built {
                    fs::copy(&l.blob, blob(&l.digest))?;
                }
                fs::write(blob(&blobs.config_digest), &blobs.config)?;
                fs::write(blob(&blobs.manifest_digest), &blobs.manifest)?;
            }
            descs.push(serde_json::json!({
                "mediaType": OCI_MANIFEST, "digest": blobs.manifest_digest, "size": blobs.manifest.len(),
                "platform": {"os": img.os, "architecture": img.arch},
            }));
        }
        let mut desc = if descs.len() == 1 && !e.nested {
            descs.remove(0)
        } else {
            let mut index =
                serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs});
            if e.nested {
                let inner = serde_json::to_vec(&index).unwrap_or_default();
                let d = sha(&inner);
                fs::write(blob(&d), &inner)?;
                index = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
                    {"mediaType": OCI_INDEX, "digest": d, "size": inner.len()}
                ]});
            }
            let bytes = serde_json::to_vec(&index).unwrap_or_default();
            let d = sha(&bytes);
            fs::write(blob(&d), &bytes)?;
            serde_json::json!({"mediaType": OCI_INDEX, "digest": d, "size": bytes.len()})
        };
        if let Some(name) = &e.name {
            desc["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": name});
        }
        top.push(desc);
    }
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": top});
    fs::write(
        out.join("index.json"),
        serde_json::to_vec(&index).unwrap_or_default(),
    )?;
    fs::remove_dir_all(&dir)
}

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// splitmix64: a deterministic, well-mixed hash of a counter.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
