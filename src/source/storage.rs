//! containers-storage, podman's and buildah's image store, read without a daemon and
//! seen as an OCI layout: the image's config from the store, a manifest made of its
//! layer chain, and each layer's tar rebuilt as `podman save` emits it, from the
//! layer's `tar-split` (the tar headers and padding, byte for byte) and the files of
//! its directory (`vfs/dir/<id>` or `overlay/<id>/diff`). Nothing is written.
//!
//! Where the store is: `containers-storage:[DRIVER@GRAPHROOT+RUNROOT]NAME` as skopeo
//! writes it, else `/var/lib/containers/storage` for root and
//! `~/.local/share/containers/storage` for others, with the driver found on disk.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::documents::REF_NAME;
use super::store::{BlobStore, named_digest};
use crate::bytes::{Algorithm, digest};
use crate::error::{Error, Result};

/// An image in a store, as the layout view serves it.
pub struct StorageStore {
    name: String,
    index: Vec<u8>,
    /// Manifest and config, by digest.
    documents: HashMap<String, Vec<u8>>,
    /// Layers by diff digest: their directory, tar-split file and size.
    layers: HashMap<String, Layer>,
}

#[derive(Clone)]
struct Layer {
    dir: PathBuf,
    split: PathBuf,
    size: u64,
}

/// `images.json` entries.
#[derive(Deserialize)]
struct ImageEntry {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    layer: Option<String>,
}

/// `layers.json` entries.
#[derive(Clone, Deserialize)]
struct LayerEntry {
    id: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(rename = "diff-digest", default)]
    diff_digest: Option<String>,
    #[serde(rename = "diff-size", default)]
    diff_size: Option<u64>,
}

/// `[DRIVER@GRAPHROOT+RUNROOT]NAME` → (store, name); the default store otherwise.
fn store_and_name(target: &str) -> (Option<(String, PathBuf)>, &str) {
    if let Some(rest) = target.strip_prefix('[')
        && let Some((spec, name)) = rest.split_once(']')
    {
        let (driver, roots) = spec.split_once('@').unwrap_or(("", spec));
        let graphroot = roots.split('+').next().unwrap_or(roots);
        return (Some((driver.to_string(), PathBuf::from(graphroot))), name);
    }
    (None, target)
}

/// The default store: root's, or the user's.
pub fn default_root() -> PathBuf {
    let root = PathBuf::from("/var/lib/containers/storage");
    if root.is_dir() {
        return root;
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".local/share/containers/storage"))
        .unwrap_or(root)
}

/// The names an image may be stored under for `name` (`app:1` is
/// `localhost/app:1` when built here, `docker.io/library/app:1` when pulled).
fn candidates(name: &str) -> Vec<String> {
    let last = name.rsplit('/').next().unwrap_or(name);
    let tagged = if last.contains(':') || name.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    };
    vec![
        tagged.clone(),
        format!("localhost/{tagged}"),
        format!("docker.io/library/{tagged}"),
        format!("docker.io/{tagged}"),
    ]
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::json(path.display().to_string(), e))
}

/// A big-data item of an image: `=<base64 of the key>`, or the key itself.
fn big_data(dir: &Path, key: &str) -> Option<Vec<u8>> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(key);
    std::fs::read(dir.join(format!("={encoded}")))
        .or_else(|_| std::fs::read(dir.join(key)))
        .ok()
}

impl StorageStore {
    /// The image `target` names in its store, or `Ok(None)` when there is no store
    /// there (then another way in may be tried).
    pub fn open(input: &str, target: &str) -> Result<Option<StorageStore>> {
        let (spec, name) = store_and_name(target);
        let Some(store) = Store::at(spec) else {
            return Ok(None);
        };
        let image = store.image(input, name)?;
        let image_dir = store.dir("images").join(&image.id);
        let config_key = format!("sha256:{}", image.id);
        let config = big_data(&image_dir, &config_key).ok_or_else(|| {
            Error::invalid(
                image_dir.display().to_string(),
                "the image's config is missing",
            )
        })?;
        let mut layers = HashMap::new();
        let mut descriptors = Vec::new();
        for layer in store.chain(image.layer.as_deref())? {
            let (Some(digest), Some(size)) = (&layer.diff_digest, layer.diff_size) else {
                return Err(store.invalid(format!("layer {} has no diff digest or size", layer.id)));
            };
            layers.insert(digest.clone(), store.layer(&layer.id, size));
            descriptors.push(json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest,
                "size": size,
            }));
        }
        let ref_name = image
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| name.to_string());
        let (index, documents) = layout(&ref_name, config_key, config, descriptors);
        Ok(Some(StorageStore {
            name: input.to_string(),
            index,
            documents,
            layers,
        }))
    }
}

/// The OCI layout view of an image: `index.json` naming a manifest made of its config
/// and layer descriptors, and the manifest and config by digest.
fn layout(
    ref_name: &str,
    config_key: String,
    config: Vec<u8>,
    descriptors: Vec<serde_json::Value>,
) -> (Vec<u8>, HashMap<String, Vec<u8>>) {
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_key,
            "size": config.len(),
        },
        "layers": descriptors,
    }))
    .unwrap_or_default();
    let manifest_digest = digest::digest_of(Algorithm::Sha256, &manifest);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
            "annotations": { REF_NAME: ref_name },
        }],
    }))
    .unwrap_or_default();
    let documents = HashMap::from([(manifest_digest, manifest), (config_key, config)]);
    (index, documents)
}

/// A store on disk: its graph root and driver.
struct Store {
    root: PathBuf,
    driver: String,
}

impl Store {
    /// The store a spec names, or the default one; `None` when there is none there.
    fn at(spec: Option<(String, PathBuf)>) -> Option<Store> {
        let (driver, root) = spec.unwrap_or_else(|| (String::new(), default_root()));
        let driver = match driver.as_str() {
            "" if root.join("overlay-images").is_dir() => "overlay".to_string(),
            "" if root.join("vfs-images").is_dir() => "vfs".to_string(),
            "" => return None,
            d => d.to_string(),
        };
        Some(Store { root, driver })
    }

    /// `<driver>-images`, `<driver>-layers`.
    fn dir(&self, kind: &str) -> PathBuf {
        self.root.join(format!("{}-{kind}", self.driver))
    }

    fn invalid(&self, message: String) -> Error {
        Error::invalid(self.root.display().to_string(), message)
    }

    /// The image stored under one of the names `name` may have, or its id.
    fn image(&self, input: &str, name: &str) -> Result<ImageEntry> {
        let images: Vec<ImageEntry> = read_json(&self.dir("images").join("images.json"))?;
        let wanted = candidates(name);
        images
            .into_iter()
            .find(|i| i.names.iter().any(|n| wanted.contains(n)) || i.id.starts_with(name))
            .ok_or_else(|| Error::NoImage {
                path: input.to_string(),
                reason: format!(
                    "no image {name} in the containers-storage at {}",
                    self.root.display()
                ),
            })
    }

    /// The layers from the base up to `top`, following their parents.
    fn chain(&self, top: Option<&str>) -> Result<Vec<LayerEntry>> {
        let layers: Vec<LayerEntry> = read_json(&self.dir("layers").join("layers.json"))?;
        let by_id: HashMap<&str, &LayerEntry> = layers.iter().map(|l| (l.id.as_str(), l)).collect();
        let mut chain = Vec::new();
        let mut next = top;
        while let Some(id) = next {
            let layer = by_id
                .get(id)
                .ok_or_else(|| self.invalid(format!("layer {id} is not in layers.json")))?;
            chain.push((*layer).clone());
            next = layer.parent.as_deref();
            if chain.len() > 65_535 {
                return Err(self.invalid("the layer chain loops".to_string()));
            }
        }
        chain.reverse();
        Ok(chain)
    }

    /// Where a layer's files and tar-split are.
    fn layer(&self, id: &str, size: u64) -> Layer {
        let dir = match self.driver.as_str() {
            "overlay" => self.root.join("overlay").join(id).join("diff"),
            _ => self.root.join(&self.driver).join("dir").join(id),
        };
        let split = self.dir("layers").join(format!("{id}.tar-split.gz"));
        Layer { dir, split, size }
    }
}

impl BlobStore for StorageStore {
    fn describe(&self) -> &str {
        &self.name
    }

    fn size(&self, path: &str) -> Option<u64> {
        if path == "index.json" {
            return Some(self.index.len() as u64);
        }
        let digest = named_digest(path)?;
        if let Some(doc) = self.documents.get(&digest) {
            return Some(doc.len() as u64);
        }
        self.layers.get(&digest).map(|l| l.size)
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        if path == "index.json" {
            return Ok(Box::new(io::Cursor::new(self.index.clone())));
        }
        let missing =
            || io::Error::new(io::ErrorKind::NotFound, format!("{path}: not in the store"));
        let digest = named_digest(path).ok_or_else(missing)?;
        if let Some(doc) = self.documents.get(&digest) {
            return Ok(Box::new(io::Cursor::new(doc.clone())));
        }
        let layer = self.layers.get(&digest).ok_or_else(missing)?;
        let split = File::open(&layer.split)?;
        Ok(Box::new(Rebuilt {
            lines: BufReader::new(flate2::read::GzDecoder::new(split)),
            dir: layer.dir.clone(),
            current: Box::new(io::empty()),
        }))
    }

    fn paths(&self) -> Vec<String> {
        vec!["index.json".to_string()]
    }
}

/// One `tar-split` record.
#[derive(Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    payload: Option<String>,
}

/// A layer's tar, rebuilt record by record: raw segments (headers, padding) as they
/// were, and each file's bytes from the layer's directory.
struct Rebuilt<R: BufRead> {
    lines: R,
    dir: PathBuf,
    current: Box<dyn Read + Send>,
}

impl<R: BufRead> Rebuilt<R> {
    /// A file of the layer's directory that a record names: inside the directory
    /// (no `..`), and a regular file, never a symlink that could lead out of it.
    fn file(&self, name: &str) -> io::Result<File> {
        let relative = Path::new(name.trim_start_matches('/'));
        let inside = relative.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("tar-split: {name:?} {why}"),
            )
        };
        if !inside {
            return Err(bad("leads out of the layer's directory"));
        }
        let path = self.dir.join(relative);
        if !std::fs::symlink_metadata(&path)?.file_type().is_file() {
            return Err(bad("is not a regular file in the layer's directory"));
        }
        File::open(path)
    }

    /// The next record's bytes; `false` at the end.
    fn advance(&mut self) -> io::Result<bool> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.lines.read_line(&mut line)? == 0 {
                return Ok(false);
            }
            if !line.trim().is_empty() {
                break;
            }
        }
        let record: Record = serde_json::from_str(&line)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("tar-split: {e}")))?;
        self.current = match record.kind {
            2 => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(record.payload.unwrap_or_default())
                    .map_err(|e| {
                        io::Error::new(io::ErrorKind::InvalidData, format!("tar-split: {e}"))
                    })?;
                Box::new(io::Cursor::new(raw))
            }
            _ => match (record.size.unwrap_or(0), record.name) {
                (0, _) | (_, None) => Box::new(io::empty()),
                (size, Some(name)) => Box::new(self.file(&name)?.take(size)),
            },
        };
        Ok(true)
    }
}

impl<R: BufRead + Send> Read for Rebuilt<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.current.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            if !self.advance()? {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_and_names_read_as_skopeo_writes_them() {
        let (spec, name) = store_and_name("[vfs@/tmp/s/root+/tmp/s/run]app:1");
        assert_eq!(
            spec,
            Some(("vfs".to_string(), PathBuf::from("/tmp/s/root")))
        );
        assert_eq!(name, "app:1");
        assert_eq!(store_and_name("app:1"), (None, "app:1"));
        assert_eq!(
            candidates("app"),
            [
                "app:latest",
                "localhost/app:latest",
                "docker.io/library/app:latest",
                "docker.io/app:latest"
            ]
        );
    }

    #[test]
    fn a_layer_is_rebuilt_from_segments_and_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("x"), b"hi\n").expect("file");
        let seg = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let split = format!(
            "{{\"type\":2,\"payload\":\"{}\",\"position\":0}}\n{{\"type\":1,\"name\":\"x\",\"size\":3,\"payload\":null,\"position\":1}}\n{{\"type\":2,\"payload\":\"{}\",\"position\":2}}\n",
            seg(b"HEAD"),
            seg(b"PAD")
        );
        let mut rebuilt = Rebuilt {
            lines: io::Cursor::new(split.into_bytes()),
            dir: dir.path().to_path_buf(),
            current: Box::new(io::empty()),
        };
        let mut out = Vec::new();
        rebuilt.read_to_end(&mut out).expect("read");
        assert_eq!(out, b"HEADhi\nPAD");
        // A record naming a file outside the directory, or a symlink, is refused.
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).expect("symlink");
        for name in ["../x", "/../../etc/hostname", "link"] {
            let split = format!("{{\"type\":1,\"name\":\"{name}\",\"size\":3}}\n");
            let mut rebuilt = Rebuilt {
                lines: io::Cursor::new(split.into_bytes()),
                dir: dir.path().to_path_buf(),
                current: Box::new(io::empty()),
            };
            let err = rebuilt.read_to_end(&mut Vec::new()).expect_err(name);
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{name}: {err}");
        }
    }
}
