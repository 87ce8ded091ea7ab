//! OCI image layouts (directory or tar): `index.json` entries named by
//! `org.opencontainers.image.ref.name`, nested indexes and Docker manifest lists,
//! platform choice, artifacts told apart from images, blobs of other platforms allowed
//! to be missing.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use super::documents::{self, Child, Config, Descriptor, DocKind, Index, Manifest, REF_NAME};
use super::platform::PlatformSpec;
use super::store::BlobStore;
use super::{Candidate, Resolved, SelectOptions, choose, verify_named};
use crate::error::{Error, Result};
use crate::model::{DigestCheck, ImageInfo, LayerRef};

const MAX_DEPTH: usize = 8;
/// Entries of one index without a platform fetched to find an image among them.
const MAX_UNLABELLED: usize = 8;
/// Platforms named in a message; the rest are counted.
const PLATFORMS_SHOWN: usize = 20;

/// The platforms an index offers, for a message: the first few by name, the others
/// counted (each distinct one once), so that a message stays a line.
#[derive(Clone, Default)]
struct Offered {
    names: BTreeSet<String>,
    more: HashSet<u64>,
    hasher: RandomState,
}

impl Offered {
    fn add(&mut self, name: String) {
        if self.names.contains(&name) {
            return;
        }
        if self.names.len() < PLATFORMS_SHOWN {
            self.names.insert(name);
        } else {
            self.more.insert(self.hasher.hash_one(&name));
        }
    }

    fn extend(&mut self, other: Offered) {
        for name in other.names {
            self.add(name);
        }
        // Counted ones of another list are counted again here, by their hashes in it.
        for h in other.more {
            self.more.insert(h);
        }
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl std::fmt::Display for Offered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        write!(f, "{}", names.join(", "))?;
        if !self.more.is_empty() {
            write!(f, ", and {} more", self.more.len())?;
        }
        Ok(())
    }
}

/// The path of a blob in a layout, refusing digests that are not `alg:hex`.
pub fn blob_path(digest: &str) -> Option<String> {
    let (alg, hex) = digest.split_once(':')?;
    let alg_ok = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let hex_ok = !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    (alg_ok && hex_ok).then(|| format!("blobs/{alg}/{hex}"))
}

/// What a descriptor led to.
#[derive(Clone)]
enum Found<T> {
    Image(T),
    /// Not an image (artifact, signature, attestation, unknown document).
    NotImage,
    /// The blob is absent.
    Missing(String),
    /// No child of an index fits the platform; these platforms were seen.
    Platforms(Offered),
}

/// A manifest and the descriptor that named it.
type Named = (Descriptor, Manifest);

struct Ctx<'a> {
    store: &'a dyn BlobStore,
    opts: &'a SelectOptions,
    /// What each (digest, media type, depth) resolved to: indexes may share children,
    /// and a DAG of them must cost its nodes, not its paths.
    memo: RefCell<HashMap<DocKey, Found<Named>>>,
}

/// A document as a descriptor names it, at a depth: digest, declared media type, depth.
type DocKey = (String, Option<String>, usize);

impl Ctx<'_> {
    /// A small blob, checked against its descriptor; `None` when it is absent.
    fn read_blob(&self, desc: &Descriptor) -> Result<Option<Vec<u8>>> {
        let digest = desc.digest.clone().unwrap_or_default();
        if self.opts.verify.checks_anything()
            && let Some(size) = desc.size
            && size < 0
        {
            return Err(Error::invalid(
                self.store.describe(),
                format!("the descriptor of blob {digest} has key size {size}, not a byte count"),
            ));
        }
        let Some(path) = blob_path(&digest) else {
            return Err(Error::invalid(
                self.store.describe(),
                format!("descriptor with a malformed digest {digest:?}"),
            ));
        };
        if self.store.size(&path).is_none() {
            return Ok(None);
        }
        // A registry says a named document is absent only when asked for it.
        let bytes = match self.store.read(&path) {
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None);
            }
            other => other?,
        };
        verify_named(self.opts.verify, &digest, &bytes, &format!("blob {digest}"))?;
        if self.opts.verify.checks_anything()
            && let Some(size) = desc.size
            && size != bytes.len() as i64
        {
            return Err(Error::invalid(
                format!("{}: {path}", self.store.describe()),
                format!("descriptor says {size} bytes, blob has {}", bytes.len()),
            ));
        }
        Ok(Some(bytes))
    }

    /// Resolve a descriptor to an image manifest, choosing among index children; each
    /// document once per depth.
    fn resolve(&self, desc: &Descriptor, depth: usize) -> Result<Found<Named>> {
        let key = (
            desc.digest.clone().unwrap_or_default(),
            desc.media_type.clone(),
            depth,
        );
        if let Some(found) = self.memo.borrow().get(&key) {
            return Ok(found.clone());
        }
        let found = self.resolve_once(desc, depth)?;
        self.memo.borrow_mut().insert(key, found.clone());
        Ok(found)
    }

    fn resolve_once(&self, desc: &Descriptor, depth: usize) -> Result<Found<Named>> {
        if depth > MAX_DEPTH {
            return Err(Error::invalid(
                self.store.describe(),
                "indexes nest too deeply",
            ));
        }
        let declared = documents::doc_kind(desc.media_type.as_deref());
        if declared == Some(DocKind::Other) {
            return Ok(Found::NotImage);
        }
        let Some(bytes) = self.read_blob(desc)? else {
            return Ok(Found::Missing(desc.digest.clone().unwrap_or_default()));
        };
        let file = format!(
            "{}: blob {}",
            self.store.describe(),
            desc.digest.as_deref().unwrap_or("?")
        );
        let doc: Manifest = documents::parse(&bytes, &file)?;
        let kind = documents::doc_kind(doc.media_type.as_deref())
            .filter(|k| *k != DocKind::Other)
            .or(declared)
            .unwrap_or(if doc.manifests.is_some() {
                DocKind::Index
            } else {
                DocKind::Manifest
            });
        match kind {
            DocKind::Index => self.pick_child(&doc.manifests.unwrap_or_default(), depth),
            DocKind::Manifest if documents::is_image_manifest(&doc) => {
                Ok(Found::Image((desc.clone(), doc)))
            }
            DocKind::Manifest | DocKind::Other => Ok(Found::NotImage),
        }
    }

    /// Choose the child of an index for the wanted (or host) platform, deciding from
    /// the entries themselves: only an entry of the wanted platform, an entry without
    /// a platform (at most [`MAX_UNLABELLED`] of them), or the one image entry of an
    /// index that has a single one for another platform, is fetched. An index of a
    /// hundred thousand entries for other platforms costs no request.
    fn pick_child(&self, children: &[Child], depth: usize) -> Result<Found<Named>> {
        let explicit = self.opts.platform.as_ref();
        let host = PlatformSpec::host();
        let want = explicit.unwrap_or(&host);
        let mut seen = Offered::default();
        let mut others: Vec<&Child> = Vec::new();
        let mut unlabelled = 0;
        let mut missing = None;
        for child in children {
            if child.artifact
                || documents::doc_kind(child.media_type.as_deref()) == Some(DocKind::Other)
            {
                continue;
            }
            match child.platform.as_deref() {
                // Attestation manifests.
                Some(p) if p.os.as_deref() == Some("unknown") => continue,
                Some(p) => {
                    seen.add(p.to_string());
                    if !want.matches_platform(p) {
                        others.push(child);
                        continue;
                    }
                }
                None if unlabelled == MAX_UNLABELLED => continue,
                None => unlabelled += 1,
            }
            match self.resolve(&child.descriptor(), depth + 1)? {
                Found::Image(found) => return Ok(Found::Image(found)),
                Found::Platforms(more) => seen.extend(more),
                // The wanted platform is listed but its blobs were not pulled.
                Found::Missing(digest) => {
                    missing.get_or_insert(digest);
                }
                Found::NotImage => {}
            }
        }
        if let Some(digest) = missing {
            return Ok(Found::Missing(format!("{digest} (the {want} image)")));
        }
        // No child for the host: without an explicit platform, a single image is it.
        if explicit.is_none()
            && let [only] = others.as_slice()
            && let Found::Image(found) = self.resolve(&only.descriptor(), depth + 1)?
        {
            return Ok(Found::Image(found));
        }
        Ok(Found::Platforms(seen))
    }
}

/// The selectable images of `index.json`: entries naming the same manifest are one
/// image with several names.
fn candidates(manifests: &[Descriptor]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut by_digest: HashMap<String, usize> = HashMap::new();
    // (candidate, name) pairs already kept: a name is looked up, not searched for.
    let mut named: HashSet<(usize, String)> = HashSet::new();
    for (i, desc) in manifests.iter().enumerate() {
        let digest = desc.digest.clone().unwrap_or_default();
        let names: Vec<String> = desc
            .annotations
            .iter()
            .flat_map(|a| {
                [REF_NAME, "io.containerd.image.name"]
                    .iter()
                    .filter_map(|k| a.get(*k).cloned())
                    .collect::<Vec<_>>()
            })
            .collect();
        if let Some(&at) = by_digest.get(&digest) {
            for n in names {
                if named.insert((at, n.clone())) {
                    out[at].names.push(n);
                }
            }
            continue;
        }
        let at = out.len();
        by_digest.insert(digest.clone(), at);
        named.extend(names.iter().map(|n| (at, n.clone())));
        out.push(Candidate {
            names: if names.is_empty() {
                vec![digest.clone()]
            } else {
                names
            },
            digests: vec![digest],
            key: i,
        });
    }
    out
}

/// Why no entry gave an image, as the most useful error.
fn no_image(
    path: String,
    opts: &SelectOptions,
    manifests: &[Descriptor],
    platforms: Offered,
    missing: BTreeSet<String>,
) -> Error {
    if !platforms.is_empty() {
        return Error::PlatformNotFound {
            wanted: opts
                .platform
                .clone()
                .unwrap_or_else(PlatformSpec::host)
                .to_string(),
            path,
            available: platforms.to_string(),
        };
    }
    if let Some(digest) = missing.into_iter().next() {
        return Error::MissingBlob { digest, path };
    }
    let mut types: Vec<&str> = manifests
        .iter()
        .map(|m| m.media_type.as_deref().unwrap_or("no media type"))
        .collect();
    types.sort_unstable();
    types.dedup();
    Error::NoImage {
        path,
        reason: format!(
            "index.json lists only artifacts or other documents, no container image: {}",
            types.join(", ")
        ),
    }
}

/// Resolve the image of an OCI layout.
pub(crate) fn resolve(store: &dyn BlobStore, opts: &SelectOptions) -> Result<Resolved> {
    let file = format!("{}: index.json", store.describe());
    let index: Index = documents::parse(&store.read("index.json")?, &file)?;
    let manifests = index.manifests.unwrap_or_default();
    if manifests.is_empty() {
        return Err(Error::NoImage {
            path: store.describe().to_string(),
            reason: "index.json lists no manifests".to_string(),
        });
    }
    let candidates = candidates(&manifests);
    let ctx = Ctx {
        store,
        opts,
        memo: RefCell::new(HashMap::new()),
    };
    let mut missing = BTreeSet::new();
    let mut platforms = Offered::default();
    let result = choose(
        store,
        &candidates,
        opts,
        |c| match ctx.resolve(&manifests[c.key], 0)? {
            Found::Image((desc, manifest)) => match resolve_manifest(&ctx, &desc, &manifest) {
                Ok(r) => Ok(Some(r)),
                Err(Error::PlatformNotFound { available, .. }) => {
                    platforms.add(available);
                    Ok(None)
                }
                Err(e) => Err(e),
            },
            Found::Missing(d) => {
                missing.insert(d);
                Ok(None)
            }
            Found::Platforms(p) => {
                platforms.extend(p);
                Ok(None)
            }
            Found::NotImage => Ok(None),
        },
        |c| matches!(ctx.resolve(&manifests[c.key], 0), Ok(Found::Image(_))),
    );
    match result {
        Err(Error::NoImage { path, .. }) => {
            Err(no_image(path, opts, &manifests, platforms, missing))
        }
        other => other,
    }
}

/// How many layers the base image has, when the input holds the manifest the
/// `org.opencontainers.image.base.digest` annotation names and its layers are the first
/// of this image's (a base that is not there, or does not line up, tells nothing).
fn base_layers(ctx: &Ctx<'_>, digest: &str, ours: &[Descriptor]) -> Option<usize> {
    let desc = Descriptor {
        digest: Some(digest.to_string()),
        ..Descriptor::default()
    };
    let bytes = ctx.read_blob(&desc).ok()??;
    let base: Manifest = documents::parse(&bytes, digest).ok()?;
    let theirs = base.layers?;
    let prefix = theirs.len() <= ours.len()
        && theirs
            .iter()
            .zip(ours)
            .all(|(a, b)| a.digest.is_some() && a.digest == b.digest);
    prefix.then_some(theirs.len())
}

/// The image config a manifest names, read, parsed and checked against `--platform`.
fn read_config(ctx: &Ctx<'_>, manifest: &Manifest) -> Result<(String, Config)> {
    let store = ctx.store;
    let config_desc = manifest.config.clone().unwrap_or_default();
    let config_digest = config_desc.digest.clone().unwrap_or_default();
    let Some(bytes) = ctx.read_blob(&config_desc)? else {
        return Err(Error::MissingBlob {
            digest: config_digest,
            path: store.describe().to_string(),
        });
    };
    let config: Config = documents::parse(
        &bytes,
        &format!("{}: config {config_digest}", store.describe()),
    )?;
    let platform = &config.platform;
    if let Some(want) = &ctx.opts.platform
        && (platform.os.is_some() || platform.architecture.is_some())
        && !want.matches_platform(platform)
    {
        return Err(Error::PlatformNotFound {
            wanted: want.to_string(),
            path: store.describe().to_string(),
            available: platform.to_string(),
        });
    }
    Ok((config_digest, config))
}

/// Layer `index` of a manifest as a layer to walk: its blob's path and declared size.
fn layer_ref(
    ctx: &Ctx<'_>,
    manifest_digest: Option<&str>,
    index: usize,
    d: &Descriptor,
    diff_id: Option<String>,
) -> Result<LayerRef> {
    let store = ctx.store;
    let digest = d.digest.clone().unwrap_or_default();
    let locator = blob_path(&digest).ok_or_else(|| {
        Error::invalid(
            store.describe(),
            format!("layer {index} has a malformed digest {digest:?}"),
        )
    })?;
    let declared_size = match d.size.map(u64::try_from) {
        Some(Err(_)) if ctx.opts.verify.checks_anything() => {
            return Err(Error::invalid(
                store.describe(),
                format!(
                    "manifest {}: layer {index} ({digest}) has key size {}, not a byte count",
                    manifest_digest.unwrap_or("?"),
                    d.size.unwrap_or_default()
                ),
            ));
        }
        Some(size) => size.ok(),
        None => None,
    };
    Ok(LayerRef {
        index,
        locator,
        digest: Some(digest.clone()),
        diff_id,
        media_type: d.media_type.clone(),
        declared_size,
        check: DigestCheck::Blob(digest),
    })
}

fn resolve_manifest(ctx: &Ctx<'_>, desc: &Descriptor, manifest: &Manifest) -> Result<Resolved> {
    let (config_digest, config) = read_config(ctx, manifest)?;
    let descs = manifest.layers.clone().unwrap_or_default();
    let mut notes = Vec::new();
    let diff_ids = Resolved::diff_ids(&config, descs.len(), &mut notes);
    let layers = descs
        .iter()
        .enumerate()
        .map(|(i, d)| layer_ref(ctx, desc.digest.as_deref(), i, d, diff_ids.get(i).cloned()))
        .collect::<Result<Vec<_>>>()?;
    let annotation = |key: &str| {
        manifest
            .annotations
            .as_ref()
            .and_then(|a| a.get(key).cloned())
    };
    let base_digest = annotation(documents::BASE_DIGEST);
    let info = ImageInfo {
        config_digest: Some(config_digest),
        manifest_digest: desc.digest.clone(),
        base_name: annotation(documents::BASE_NAME),
        base_layers: base_digest
            .as_deref()
            .and_then(|d| base_layers(ctx, d, &descs)),
        base_digest,
        ..Resolved::info_from(&config)
    };
    Ok(Resolved {
        info,
        layers,
        config,
        history: None,
        notes,
    })
}
