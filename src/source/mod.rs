//! Image sources: find out what the input is (from its content, never its name), pick
//! the wanted image and platform, and describe its layers. Every kind of input sits
//! behind [`BlobStore`], which yields readers; the walker never knows where bytes come
//! from, so a network source fits the same way.

pub mod docker;
pub mod json;
pub mod oci;
pub mod platform;
pub mod store;

use std::io::{self, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::{Format, HistoryStep, ImageInfo, LayerRef};
use crate::walk::{self, Compression, Progress, digest};
pub use platform::PlatformSpec;
pub use store::{BlobStore, DirStore, StreamStore, TarStore};

/// How to pick the image out of the input.
#[derive(Debug, Clone)]
pub struct SelectOptions {
    /// A tag, name or digest of one image of the input.
    pub image: Option<String>,
    /// The wanted platform; `None` prefers the host's.
    pub platform: Option<PlatformSpec>,
    /// Check digests (and declared sizes) of everything read.
    pub verify: bool,
}

impl Default for SelectOptions {
    fn default() -> Self {
        SelectOptions {
            image: None,
            platform: None,
            verify: true,
        }
    }
}

/// An input opened and resolved to one image, ready to walk.
pub struct Opened {
    pub store: Box<dyn BlobStore>,
    pub image: ImageInfo,
    pub layers: Vec<LayerRef>,
    pub history: Vec<HistoryStep>,
    pub history_note: Option<String>,
    pub notes: Vec<String>,
    pub verify: bool,
}

/// What a format module resolved.
pub(crate) struct Resolved {
    pub info: ImageInfo,
    pub layers: Vec<LayerRef>,
    pub config: json::Config,
    /// History built by the format itself (legacy archives).
    pub history: Option<Vec<HistoryStep>>,
    pub notes: Vec<String>,
}

impl Resolved {
    /// Image metadata read off a config.
    pub(crate) fn info_from(config: &json::Config) -> ImageInfo {
        ImageInfo {
            os: config.os.clone(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
            created: config.created.clone(),
            ..ImageInfo::default()
        }
    }

    /// The config's diff_ids, with a note when they do not match the layer count.
    pub(crate) fn diff_ids(
        config: &json::Config,
        layers: usize,
        notes: &mut Vec<String>,
    ) -> Vec<String> {
        let ids = config
            .rootfs
            .as_ref()
            .and_then(|r| r.diff_ids.clone())
            .unwrap_or_default();
        if !ids.is_empty() && ids.len() != layers {
            notes.push(format!(
                "the config lists {} diff_ids for {layers} layers",
                ids.len()
            ));
        }
        ids
    }
}

/// One selectable image of an input (a manifest.json entry, an index.json entry).
pub(crate) struct Candidate {
    pub names: Vec<String>,
    pub digests: Vec<String>,
    pub key: usize,
}

/// `docker.io/library/NAME:latest` style normal form of an image reference.
fn normalize_ref(r: &str) -> String {
    let (name, suffix) = match r.split_once('@') {
        Some((n, d)) => (n, format!("@{d}")),
        None => {
            let last_slash = r.rfind('/').map(|i| i + 1).unwrap_or(0);
            match r[last_slash..].rfind(':') {
                Some(i) => (&r[..last_slash + i], r[last_slash + i..].to_string()),
                None => (r, ":latest".to_string()),
            }
        }
    };
    let first = name.split('/').next().unwrap_or("");
    let has_domain =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let (domain, path) = if has_domain {
        let (d, p) = name.split_once('/').unwrap_or((name, ""));
        (d, p.to_string())
    } else {
        ("docker.io", name.to_string())
    };
    let domain = if domain == "index.docker.io" {
        "docker.io"
    } else {
        domain
    };
    let path = if domain == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    format!("{domain}/{path}{suffix}")
}

fn candidate_matches(c: &Candidate, wanted: &str) -> bool {
    if wanted.contains(':') && wanted.len() >= 12 && c.digests.iter().any(|d| d.starts_with(wanted))
    {
        return true;
    }
    let norm = normalize_ref(wanted);
    c.names
        .iter()
        .any(|n| n == wanted || normalize_ref(n) == norm)
}

/// Pick the wanted image (or the first that resolves) among candidates.
pub(crate) fn choose(
    store: &dyn BlobStore,
    candidates: &[Candidate],
    opts: &SelectOptions,
    mut resolve: impl FnMut(&Candidate) -> Result<Option<Resolved>>,
    is_image: impl Fn(&Candidate) -> bool,
) -> Result<Resolved> {
    let label = |c: &Candidate| c.names.first().cloned().unwrap_or_default();
    let finish = |c: &Candidate, mut r: Resolved, reference: Option<String>| {
        if r.info.tags.is_empty() {
            r.info.tags = c.names.clone();
        }
        r.info.reference = reference.or_else(|| r.info.tags.first().cloned());
        r.info.other_images = candidates
            .iter()
            .filter(|o| o.key != c.key && is_image(o))
            .map(label)
            .collect();
        r
    };
    if let Some(wanted) = &opts.image {
        let matching: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| candidate_matches(c, wanted))
            .collect();
        if matching.is_empty() {
            return Err(Error::ImageNotFound {
                wanted: wanted.clone(),
                path: store.describe().to_string(),
                available: candidates.iter().map(label).collect::<Vec<_>>().join(", "),
            });
        }
        for c in matching {
            if let Some(r) = resolve(c)? {
                let reference = c
                    .names
                    .iter()
                    .find(|n| *n == wanted || normalize_ref(n) == normalize_ref(wanted))
                    .cloned();
                return Ok(finish(c, r, reference));
            }
        }
        return Err(Error::NoImage {
            path: store.describe().to_string(),
            reason: format!("{wanted} is not a container image for this platform"),
        });
    }
    for c in candidates {
        if let Some(r) = resolve(c)? {
            return Ok(finish(c, r, None));
        }
    }
    Err(Error::NoImage {
        path: store.describe().to_string(),
        reason: "no entry is a container image".to_string(),
    })
}

/// Check small content (a config or manifest) against the digest that names it.
pub(crate) fn verify_named(expected: &str, bytes: &[u8], what: &str) -> Result<()> {
    match digest::check(expected, bytes) {
        Ok(()) => Ok(()),
        Err(digest::CheckError::Mismatch(actual)) => Err(Error::DigestMismatch {
            what: what.to_string(),
            expected: expected.to_string(),
            actual,
        }),
        Err(digest::CheckError::Unsupported) => Err(Error::invalid(
            what,
            format!("cannot verify digest {expected}: unsupported algorithm (use --no-verify)"),
        )),
    }
}

/// Open the input: a directory, a tar archive (possibly compressed as a whole), or `-`
/// for standard input.
fn open_store(
    input: &str,
    verify: bool,
    progress: &dyn Progress,
) -> Result<(Box<dyn BlobStore>, Option<Compression>, bool)> {
    if input == "-" {
        let stdin: Box<dyn Read + Send> = Box::new(io::stdin());
        let (compression, reader) =
            walk::decompressing_reader(stdin).map_err(|e| Error::io("standard input", e))?;
        let store = StreamStore::read("standard input".to_string(), reader, verify, progress)?;
        let outer = (compression != Compression::Tar).then_some(compression);
        return Ok((Box::new(store), outer, false));
    }
    let path = Path::new(input);
    let meta = std::fs::metadata(path).map_err(|e| Error::io(input, e))?;
    if meta.is_dir() {
        return Ok((Box::new(DirStore::new(path)?), None, true));
    }
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(input, e))?;
    let mut head = Vec::with_capacity(512);
    (&mut file)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(input, e))?;
    match Compression::detect(&head) {
        Compression::Empty => Err(Error::UnknownFormat {
            path: input.to_string(),
            reason: "the file is empty".to_string(),
        }),
        c @ (Compression::Gzip | Compression::Zstd | Compression::Xz) => {
            let file = std::fs::File::open(path).map_err(|e| Error::io(input, e))?;
            let (_, reader) =
                walk::decompressing_reader(Box::new(file)).map_err(|e| Error::io(input, e))?;
            let store = StreamStore::read(input.to_string(), reader, verify, progress)?;
            Ok((Box::new(store), Some(c), false))
        }
        Compression::Tar if walk::looks_like_tar(&head) => {
            Ok((Box::new(TarStore::new(path)?), None, false))
        }
        Compression::Tar => Err(Error::UnknownFormat {
            path: input.to_string(),
            reason: "not a tar archive, a compressed tar archive or an OCI layout directory"
                .to_string(),
        }),
    }
}

/// Map config history steps to layers, or say why not.
fn history_steps(config: &json::Config, layers: usize) -> (Vec<HistoryStep>, Option<String>) {
    let raw = config.history.clone().unwrap_or_default();
    if raw.is_empty() {
        let note = (layers > 0).then(|| "the image config has no history".to_string());
        return (Vec::new(), note);
    }
    let with_layer = raw
        .iter()
        .filter(|h| !h.empty_layer.unwrap_or(false))
        .count();
    let lined_up = with_layer == layers;
    let mut next = 0;
    let steps = raw
        .into_iter()
        .map(|h| {
            let empty = h.empty_layer.unwrap_or(false);
            let layer = (!empty && lined_up).then(|| {
                next += 1;
                next - 1
            });
            HistoryStep {
                created_by: h.created_by,
                created: h.created,
                comment: h.comment,
                empty_layer: empty,
                layer,
            }
        })
        .collect();
    let note = (!lined_up).then(|| {
        format!(
            "the history has {with_layer} steps that made layers but the image has {layers} \
             layers: instructions are not attributed to layers"
        )
    });
    (steps, note)
}

/// The most layers an image may have (layer indexes are 16-bit in the merged tree).
pub const MAX_LAYERS: usize = 65_535;

/// Open an input and resolve the image to analyse.
pub fn open(input: &str, opts: &SelectOptions, progress: &dyn Progress) -> Result<Opened> {
    let (store, outer, is_dir) = open_store(input, opts.verify, progress)?;
    let name = store.describe().to_string();
    let has = |p: &str| store.size(p).is_some();
    let (format, resolved) = if has("manifest.json") {
        let bytes = store.read("manifest.json")?;
        let entries = json::parse_docker_manifest(&bytes, &format!("{name}: manifest.json"))?;
        if entries.is_empty() && has("index.json") {
            (oci_format(is_dir), oci::resolve(store.as_ref(), opts)?)
        } else if entries.is_empty() {
            return Err(Error::NoImage {
                path: name,
                reason: "manifest.json lists no images".to_string(),
            });
        } else {
            match docker::resolve(store.as_ref(), entries, opts) {
                Ok(r) => (Format::DockerArchive, r),
                // Docker 25+ archives also name images in index.json (`latest`).
                Err(e @ Error::ImageNotFound { .. }) if has("index.json") => {
                    match oci::resolve(store.as_ref(), opts) {
                        Ok(r) => (Format::DockerArchive, r),
                        Err(_) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    } else if has("index.json") {
        (oci_format(is_dir), oci::resolve(store.as_ref(), opts)?)
    } else if docker::is_legacy(&store.paths()) {
        (
            Format::DockerLegacy,
            docker::resolve_legacy(store.as_ref(), opts)?,
        )
    } else {
        return Err(Error::UnknownFormat {
            path: name,
            reason: "no manifest.json, index.json or repositories file (a plain tar, perhaps a \
                     single layer, is not an image)"
                .to_string(),
        });
    };
    if resolved.layers.len() > MAX_LAYERS {
        return Err(Error::invalid(
            name,
            format!(
                "{} layers is more than the {MAX_LAYERS} supported",
                resolved.layers.len()
            ),
        ));
    }
    let (history, history_note) = match resolved.history {
        Some(h) => (h, None),
        None => history_steps(&resolved.config, resolved.layers.len()),
    };
    let mut image = resolved.info;
    image.source = input.to_string();
    image.format = format.as_str().to_string();
    image.outer_compression = outer.map(|c| c.name().to_string());
    Ok(Opened {
        store,
        image,
        layers: resolved.layers,
        history,
        history_note,
        notes: resolved.notes,
        verify: opts.verify,
    })
}

fn oci_format(is_dir: bool) -> Format {
    if is_dir {
        Format::OciLayout
    } else {
        Format::OciArchive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalise() {
        assert_eq!(normalize_ref("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(
            normalize_ref("index.docker.io/library/test_image_1:latest"),
            "docker.io/library/test_image_1:latest"
        );
        assert_eq!(
            normalize_ref("example.com/empty/but:different"),
            "example.com/empty/but:different"
        );
        assert_eq!(normalize_ref("localhost:5000/x"), "localhost:5000/x:latest");
    }
}
