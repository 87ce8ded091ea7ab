//! Image sources: find out what the input is (from its content, never its name), pick
//! the wanted image and platform, and describe its layers as [`crate::model`] data.
//! Every kind of input sits behind [`BlobStore`], which yields readers; a network
//! source fits the same way.
//!
//! Sources read metadata, never layer content: a one-pass stream hands its large
//! members to the [`MemberWalker`] the caller passes in (the pipeline gives it the
//! layer walker), so this room imports no later stage.

pub mod docker;
pub mod dockerfile;
pub mod documents;
pub mod engine;
pub mod oci;
pub mod platform;
pub mod records;
pub mod registry;
pub mod report;
pub mod storage;
pub mod store;

use std::io::{self, Read};
use std::path::Path;

use crate::bytes::{Compression, DecoderLimit, VerifyPolicy, compression, digest, tar};
use crate::error::{Error, Result};
use crate::model::{Format, HistoryStep, ImageInfo, LayerRef, ScanLimits};
pub use platform::PlatformSpec;
pub use registry::{Reference, RegistryOptions};
pub use store::{BlobStore, DirStore, MemberWalker, StreamStore, StreamedMember, TarStore};

/// How to pick the image out of the input, and how far to trust it.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    /// A tag, name or digest of one image of the input.
    pub image: Option<String>,
    /// The wanted platform; `None` prefers the host's.
    pub platform: Option<PlatformSpec>,
    /// What is checked against its digest (metadata is, unless `None`).
    pub verify: VerifyPolicy,
    /// How to reach registries (credentials, CA, plain http).
    pub registry: RegistryOptions,
    /// Read the manifest and config only, no layer (compressed sizes and history).
    pub manifest_only: bool,
    /// The memory one decoder may use, for layers and for an archive compressed as a
    /// whole; layers decoded in parallel each get this much.
    pub decoder_limit: DecoderLimit,
    /// How many distinct paths, and bytes of names, one layer may hold.
    pub scan_limits: ScanLimits,
    /// Where a bare image name is looked for.
    pub names: NameSource,
}

/// Where a bare image name (no path, no transport prefix) is looked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NameSource {
    /// The local engines that answer, then the registry.
    #[default]
    Auto,
    /// The local engines only.
    Engine,
    /// The registry only.
    Registry,
}

/// An input opened and resolved to one image, ready to walk.
pub struct Opened {
    pub store: Box<dyn BlobStore>,
    pub image: ImageInfo,
    pub layers: Vec<LayerRef>,
    pub history: Vec<HistoryStep>,
    pub history_note: Option<String>,
    pub notes: Vec<String>,
    /// The input was read in one pass (its layers were walked while it streamed by).
    pub streamed: bool,
    /// The layers come over a network (fetched on demand; they can be fetched again).
    pub remote: bool,
    /// The memory one layer decoder may use ([`SelectOptions::decoder_limit`]).
    pub decoder_limit: DecoderLimit,
    /// How far one layer's scan may grow ([`SelectOptions::scan_limits`]).
    pub scan_limits: ScanLimits,
    /// A one-pass input that can be streamed again from its start (an engine's save
    /// stream), for a second look at a few of its layers.
    pub reopen: Option<Reopen>,
}

/// Streams a one-pass input again from its start.
pub type Reopen = std::sync::Arc<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// What a format module resolved.
pub(crate) struct Resolved {
    pub info: ImageInfo,
    pub layers: Vec<LayerRef>,
    pub config: documents::Config,
    /// History built by the format itself (legacy archives).
    pub history: Option<Vec<HistoryStep>>,
    pub notes: Vec<String>,
}

impl Resolved {
    /// Image metadata read off a config.
    pub(crate) fn info_from(config: &documents::Config) -> ImageInfo {
        ImageInfo {
            platform: config.platform.clone(),
            created: config.created.clone(),
            ..ImageInfo::default()
        }
    }

    /// The config's diff_ids, with a note when they do not match the layer count.
    pub(crate) fn diff_ids(
        config: &documents::Config,
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

/// Check small content (a config or manifest) against the digest that names it,
/// unless the policy checks nothing.
pub(crate) fn verify_named(
    policy: VerifyPolicy,
    expected: &str,
    bytes: &[u8],
    what: &str,
) -> Result<()> {
    if !policy.checks_anything() {
        return Ok(());
    }
    match digest::check(expected, bytes) {
        Ok(()) => Ok(()),
        Err(digest::CheckError::Mismatch(actual)) => Err(Error::DigestMismatch {
            what: what.to_string(),
            expected: expected.to_string(),
            actual,
        }),
        Err(digest::CheckError::Malformed(reason)) => Err(Error::UnsupportedDigest {
            what: what.to_string(),
            digest: expected.to_string(),
            reason,
        }),
    }
}

/// Read a whole-archive stream to its end after the tar's end-of-archive marker, so the
/// decoder checks its trailer (gzip's CRC and length, zstd's checksum) and sees any
/// bytes after the last member or frame. Only zero padding may follow the tar.
fn after_the_archive(name: &str, c: Compression, reader: &mut dyn io::BufRead) -> Result<()> {
    let mut padding = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let kind = compression::decode_error(c, e.kind(), &e.to_string());
                return Err(Error::invalid(
                    name,
                    format!("after the end of the tar archive: {kind}"),
                ));
            }
        };
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(at) = buf.iter().position(|&b| b != 0) {
            return Err(Error::invalid(
                name,
                format!(
                    "data after the end of the tar archive (a non-zero byte {} bytes \
                     into what follows it)",
                    padding + at as u64
                ),
            ));
        }
        let n = buf.len();
        padding += n as u64;
        reader.consume(n);
    }
}

/// What the input turned out to be, before any image is resolved.
struct Input {
    store: Box<dyn BlobStore>,
    /// Whole-input compression (`docker save | gzip`).
    outer: Option<Compression>,
    is_dir: bool,
    /// Read in one pass.
    streamed: bool,
    /// From a registry.
    remote: bool,
    /// How to stream it again, when it can be.
    reopen: Option<Reopen>,
    /// A containers-storage store.
    storage: bool,
}

/// A one-pass input (standard input, an archive compressed as a whole): read to its
/// end, large members handed to `walker` as they stream by.
fn open_stream(
    name: &str,
    reader: Box<dyn Read + Send>,
    opts: &SelectOptions,
    walker: &dyn MemberWalker,
) -> Result<Input> {
    let (c, mut reader) =
        compression::decompressing(reader, opts.decoder_limit).map_err(|e| Error::io(name, e))?;
    let store = StreamStore::read(name.to_string(), Box::new(&mut reader), walker)?;
    if c.is_compressed() {
        after_the_archive(name, c, &mut reader)?;
    }
    Ok(Input {
        store: Box::new(store),
        outer: c.is_compressed().then_some(c),
        is_dir: false,
        streamed: true,
        remote: false,
        reopen: None,
        storage: false,
    })
}

/// An image reference (`text`, as `input` gave it) read from its registry.
fn open_remote(input: &str, text: &str, opts: &SelectOptions) -> Result<Input> {
    let reference = Reference::parse(text).map_err(|reason| Error::UnknownFormat {
        path: input.to_string(),
        reason: format!("not an image reference: {reason}"),
    })?;
    Ok(Input {
        store: Box::new(registry::RegistryStore::open(&reference, &opts.registry)?),
        outer: None,
        is_dir: false,
        streamed: false,
        remote: true,
        reopen: None,
        storage: false,
    })
}

/// A file or directory that exists: a layout, a tar archive, or a compressed one.
fn open_local(
    input: &str,
    meta: &std::fs::Metadata,
    opts: &SelectOptions,
    walker: &dyn MemberWalker,
) -> Result<Input> {
    let path = Path::new(input);
    let local = |store: Box<dyn BlobStore>, is_dir| Input {
        store,
        outer: None,
        is_dir,
        streamed: false,
        remote: false,
        reopen: None,
        storage: false,
    };
    if meta.is_dir() {
        return Ok(local(Box::new(DirStore::new(path)?), true));
    }
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(input, e))?;
    let head =
        compression::read_head(&mut file, tar::BLOCK as usize).map_err(|e| Error::io(input, e))?;
    let unknown = |reason: &str| Error::UnknownFormat {
        path: input.to_string(),
        reason: reason.to_string(),
    };
    match Compression::detect(&head) {
        Compression::Empty => Err(unknown("the file is empty")),
        c if c.is_compressed() => {
            let file = std::fs::File::open(path).map_err(|e| Error::io(input, e))?;
            open_stream(input, Box::new(file), opts, walker)
        }
        _ if tar::looks_like_tar(&head) => Ok(local(Box::new(TarStore::new(path)?), false)),
        _ => Err(unknown(
            "not a tar archive, a compressed tar archive or an OCI layout directory",
        )),
    }
}

/// An image in a local engine, as a one-pass stream of its `docker save` archive:
/// the first of `endpoints` that has it. `Ok(None)` when none has it; what each said
/// is in `tried`.
fn open_engine(
    input: &str,
    name: &str,
    endpoints: &[engine::Endpoint],
    opts: &SelectOptions,
    walker: &dyn MemberWalker,
    tried: &mut Vec<String>,
) -> Result<Option<Input>> {
    for endpoint in endpoints {
        let found = engine::Engine::new(endpoint).and_then(|e| {
            e.archive(name).map_err(|miss| match miss {
                engine::Miss::Absent(why) | engine::Miss::Refused(why) => why,
                engine::Miss::NoImage => format!("no image {name} in {}", endpoint.describe()),
            })
        });
        match found {
            Ok(reader) => {
                let mut opened = open_stream(input, reader, opts, walker)?;
                let (endpoint, name) = (endpoint.clone(), name.to_string());
                opened.reopen = Some(std::sync::Arc::new(move || {
                    let engine = engine::Engine::new(&endpoint).map_err(io::Error::other)?;
                    engine
                        .archive(&name)
                        .map_err(|miss| io::Error::other(format!("{miss:?}")))
                }));
                return Ok(Some(opened));
            }
            Err(why) => tried.push(why),
        }
    }
    Ok(None)
}

/// An image a skopeo transport name points at, with the image it selects
/// (`oci:DIR:ref`, `docker-archive:FILE:ref`), when the input is one.
pub fn transport(input: &str) -> Option<(&str, &str, Option<&str>)> {
    for prefix in [
        "docker-daemon",
        "containers-storage",
        "oci",
        "oci-archive",
        "docker-archive",
    ] {
        if let Some(rest) = input.strip_prefix(prefix).and_then(|r| r.strip_prefix(':')) {
            let (target, selected) = match prefix {
                // skopeo splits at the first colon: a path has none, a reference may.
                "oci" | "oci-archive" | "docker-archive" => match rest.split_once(':') {
                    Some((path, r)) if !path.is_empty() && !r.is_empty() => (path, Some(r)),
                    _ => (rest, None),
                },
                _ => (rest, None),
            };
            return Some((prefix, target, selected));
        }
    }
    None
}

/// An image in a containers-storage store.
fn stored(store: storage::StorageStore) -> Input {
    Input {
        store: Box::new(store),
        outer: None,
        is_dir: false,
        streamed: false,
        remote: false,
        reopen: None,
        storage: true,
    }
}

/// Every tagged image of a local engine, each once, as the name `imgsize scan` reads it
/// by: `docker-daemon:REPO:TAG` for the Docker Engine, `containers-storage:REPO:TAG`
/// for Podman (its first endpoint that answers), under the image's first tag in sort
/// order; and how many untagged images were left out.
pub fn engine_images(kind: engine::Kind) -> Result<(Vec<String>, usize)> {
    let (endpoints, transport) = match kind {
        engine::Kind::Docker => (vec![engine::docker()], "docker-daemon"),
        engine::Kind::Podman => (engine::podman(), "containers-storage"),
    };
    let mut tried = Vec::new();
    for endpoint in &endpoints {
        let listed = engine::Engine::new(endpoint)
            .map_err(engine::Miss::Refused)
            .and_then(|e| e.images());
        match listed {
            Ok(images) => {
                let untagged = images.iter().filter(|(_, tags)| tags.is_empty()).count();
                let mut names: Vec<String> = images
                    .into_iter()
                    .filter_map(|(_, tags)| tags.into_iter().next())
                    .map(|tag| format!("{transport}:{tag}"))
                    .collect();
                names.sort();
                return Ok((names, untagged));
            }
            Err(engine::Miss::Absent(why) | engine::Miss::Refused(why)) => tried.push(why),
            Err(engine::Miss::NoImage) => tried.push(endpoint.describe()),
        }
    }
    Err(Error::NoImage {
        path: transport.to_string(),
        reason: format!("cannot list the images: {}", tried.join("; ")),
    })
}

/// One of skopeo's transport names.
fn open_transport(
    input: &str,
    transport: &str,
    target: &str,
    opts: &SelectOptions,
    walker: &dyn MemberWalker,
) -> Result<Input> {
    let mut tried = Vec::new();
    let endpoints = match transport {
        "docker-daemon" => vec![engine::docker()],
        "containers-storage" => {
            // The store itself, without a daemon; then Podman's service.
            match storage::StorageStore::open(input, target) {
                Ok(Some(store)) => return Ok(stored(store)),
                Ok(None) => tried.push(format!(
                    "no containers-storage store at {}",
                    storage::default_root().display()
                )),
                Err(Error::NoImage { reason, .. }) => tried.push(reason),
                Err(e) => return Err(e),
            }
            engine::podman()
        }
        // A path, whatever it holds.
        _ => {
            let meta = std::fs::metadata(target).map_err(|e| Error::io(target, e))?;
            return open_local(target, &meta, opts, walker);
        }
    };
    match open_engine(input, target, &endpoints, opts, walker, &mut tried)? {
        Some(opened) => Ok(opened),
        None => Err(Error::NoImage {
            path: input.to_string(),
            reason: tried.join("; "),
        }),
    }
}

/// A name that is no file: an image in a local engine that has it (the Docker Engine,
/// then Podman), else in its registry. When neither has it, the error says what each
/// said.
fn open_name(input: &str, opts: &SelectOptions, walker: &dyn MemberWalker) -> Result<Input> {
    let mut tried = Vec::new();
    if opts.names != NameSource::Registry {
        let mut endpoints = vec![engine::docker()];
        endpoints.extend(engine::podman());
        if let Some(opened) = open_engine(input, input, &endpoints, opts, walker, &mut tried)? {
            return Ok(opened);
        }
        match storage::StorageStore::open(input, input) {
            Ok(Some(store)) => return Ok(stored(store)),
            Ok(None) => {}
            Err(Error::NoImage { reason, .. }) => tried.push(reason),
            Err(e) => return Err(e),
        }
        if opts.names == NameSource::Engine {
            return Err(Error::NoImage {
                path: input.to_string(),
                reason: format!("{} (--source engine)", tried.join("; ")),
            });
        }
    }
    // Engines that answered without the image are worth naming; absent ones are not.
    let answered: Vec<String> = tried
        .into_iter()
        .filter(|t| t.starts_with("no image "))
        .collect();
    let nor = |message: String| match answered.is_empty() {
        true => message,
        false => format!("{message} ({})", answered.join("; ")),
    };
    open_remote(input, input, opts).map_err(|e| match e {
        // It may have been meant as a path: say so when nothing answered.
        Error::RegistryUnreachable { reference, message } => Error::RegistryUnreachable {
            reference,
            message: nor(format!(
                "{message} (and there is no file or directory {input})"
            )),
        },
        Error::Registry { reference, message } => Error::Registry {
            reference,
            message: nor(message),
        },
        Error::RegistryAuth { registry, message } => Error::RegistryAuth {
            registry,
            message: nor(message),
        },
        e => e,
    })
}

/// Open the input: a directory, a tar archive (possibly compressed as a whole), `-`
/// for standard input, one of skopeo's transport names, or an image name (a local
/// engine's, else a registry's). One-pass inputs hand their layers to `walker` as they
/// stream by.
fn open_input(input: &str, opts: &SelectOptions, walker: &dyn MemberWalker) -> Result<Input> {
    if input == "-" {
        return open_stream("standard input", Box::new(io::stdin()), opts, walker);
    }
    if let Some(text) = registry::reference::strip_scheme(input) {
        return open_remote(input, text, opts);
    }
    if let Some((transport, target, _)) = transport(input) {
        return open_transport(input, transport, target, opts, walker);
    }
    match std::fs::metadata(Path::new(input)) {
        Ok(meta) => open_local(input, &meta, opts, walker),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound
                && registry::reference::could_be_reference(input) =>
        {
            open_name(input, opts, walker)
        }
        Err(e) => Err(Error::io(input, e)),
    }
}

/// Map config history steps to layers, or say why not.
fn history_steps(config: &documents::Config, layers: usize) -> (Vec<HistoryStep>, Option<String>) {
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

/// The most history steps a config may have: one per layer and as many metadata-only
/// steps again. Every step is a row of the report; a config of a million steps (a few
/// megabytes of JSON) would make tables of gigabytes.
pub const MAX_HISTORY: usize = 2 * MAX_LAYERS;

/// Tell the format from the files the input holds, and resolve the wanted image.
fn resolve(input: &Input, opts: &SelectOptions) -> Result<(Format, Resolved)> {
    let store = input.store.as_ref();
    let name = store.describe().to_string();
    let has = |p: &str| store.size(p).is_some();
    let oci = || {
        let format = if input.remote {
            Format::Registry
        } else if input.storage {
            Format::ContainersStorage
        } else if input.is_dir {
            Format::OciLayout
        } else {
            Format::OciArchive
        };
        Ok((format, oci::resolve(store, opts)?))
    };
    if has("manifest.json") {
        let bytes = store.read("manifest.json")?;
        let entries = documents::parse_docker_manifest(&bytes, &format!("{name}: manifest.json"))?;
        if entries.is_empty() && has("index.json") {
            return oci();
        }
        if entries.is_empty() {
            return Err(Error::NoImage {
                path: name,
                reason: "manifest.json lists no images".to_string(),
            });
        }
        return match docker::resolve(store, entries, opts) {
            Ok(r) => Ok((Format::DockerArchive, r)),
            // Docker 25+ archives also name images in index.json (`latest`).
            Err(e @ Error::ImageNotFound { .. }) if has("index.json") => oci::resolve(store, opts)
                .map(|r| (Format::DockerArchive, r))
                .map_err(|_| e),
            Err(e) => Err(e),
        };
    }
    if has("index.json") {
        return oci();
    }
    if docker::is_legacy(&store.paths()) {
        return Ok((Format::DockerLegacy, docker::resolve_legacy(store, opts)?));
    }
    Err(Error::UnknownFormat {
        path: name,
        reason: "no manifest.json, index.json or repositories file (a plain tar, perhaps a \
                 single layer, is not an image)"
            .to_string(),
    })
}

/// Open an input and resolve the image to analyse. Large members of a one-pass input
/// are handed to `walker` while they stream by.
pub fn open(input: &str, opts: &SelectOptions, walker: &dyn MemberWalker) -> Result<Opened> {
    let opened = open_input(input, opts, walker)?;
    // `oci:DIR:ref` selects `ref` unless --image says otherwise.
    let selected = transport(input).and_then(|(_, _, r)| r);
    let with_ref;
    let opts = match selected {
        Some(r) if opts.image.is_none() => {
            with_ref = SelectOptions {
                image: Some(r.to_string()),
                ..opts.clone()
            };
            &with_ref
        }
        _ => opts,
    };
    let (format, resolved) = resolve(&opened, opts)?;
    if resolved.layers.len() > MAX_LAYERS {
        return Err(Error::invalid(
            opened.store.describe(),
            format!(
                "{} layers is more than the {MAX_LAYERS} supported",
                resolved.layers.len()
            ),
        ));
    }
    let steps = resolved.config.history.as_ref().map_or(0, Vec::len);
    if steps > MAX_HISTORY {
        return Err(Error::invalid(
            opened.store.describe(),
            format!(
                "the image config has {steps} history steps, more than the {MAX_HISTORY} supported"
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
    image.outer_compression = opened.outer.map(|c| c.name().to_string());
    Ok(Opened {
        store: opened.store,
        image,
        layers: resolved.layers,
        history,
        history_note,
        notes: resolved.notes,
        streamed: opened.streamed,
        remote: opened.remote,
        decoder_limit: opts.decoder_limit,
        scan_limits: opts.scan_limits,
        reopen: opened.reopen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_names_split_as_skopeo_splits_them() {
        assert_eq!(
            transport("docker-daemon:app:1"),
            Some(("docker-daemon", "app:1", None))
        );
        assert_eq!(
            transport("docker-archive:x.tar:app:1"),
            Some(("docker-archive", "x.tar", Some("app:1")))
        );
        assert_eq!(
            transport("oci:/tmp/layout"),
            Some(("oci", "/tmp/layout", None))
        );
        assert_eq!(
            transport("oci-archive:a.tar:latest"),
            Some(("oci-archive", "a.tar", Some("latest")))
        );
        assert_eq!(transport("app:1"), None);
        assert_eq!(transport("./oci"), None);
    }

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
