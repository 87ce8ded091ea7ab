//! OCI image layouts (directory or tar): `index.json` entries named by
//! `org.opencontainers.image.ref.name`, nested indexes and Docker manifest lists,
//! platform choice, artifacts told apart from images, blobs of other platforms allowed
//! to be missing.

use std::collections::BTreeSet;

use super::json::{self, Config, Descriptor, DocKind, Index, Manifest, REF_NAME};
use super::platform::{self, PlatformSpec};
use super::store::BlobStore;
use super::{Candidate, Resolved, SelectOptions, choose, verify_named};
use crate::error::{Error, Result};
use crate::model::{ImageInfo, LayerRef, Verify};

const MAX_DEPTH: usize = 8;

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

/// Why a descriptor did not give an image.
enum Miss {
    /// Not an image (artifact, signature, attestation, unknown document).
    NotImage,
    /// The blob is absent.
    Missing(String),
    /// No child of an index fits the platform; these platforms were seen.
    Platforms(Vec<String>),
}

struct Ctx<'a> {
    store: &'a dyn BlobStore,
    opts: &'a SelectOptions,
}

impl Ctx<'_> {
    fn read_blob(&self, desc: &Descriptor) -> Result<Result<Vec<u8>, Miss>> {
        let digest = desc.digest.clone().unwrap_or_default();
        let Some(path) = blob_path(&digest) else {
            return Err(Error::invalid(
                self.store.describe(),
                format!("descriptor with a malformed digest {digest:?}"),
            ));
        };
        if self.store.size(&path).is_none() {
            return Ok(Err(Miss::Missing(digest)));
        }
        let bytes = self.store.read(&path)?;
        if self.opts.verify {
            verify_named(&digest, &bytes, &format!("blob {digest}"))?;
            if let Some(size) = desc.size
                && size != bytes.len() as i64
            {
                return Err(Error::invalid(
                    format!("{}: {path}", self.store.describe()),
                    format!("descriptor says {size} bytes, blob has {}", bytes.len()),
                ));
            }
        }
        Ok(Ok(bytes))
    }

    /// Resolve a descriptor to an image manifest, choosing among index children.
    fn resolve(
        &self,
        desc: &Descriptor,
        depth: usize,
    ) -> Result<Result<(Descriptor, Manifest), Miss>> {
        if depth > MAX_DEPTH {
            return Err(Error::invalid(
                self.store.describe(),
                "indexes nest too deeply",
            ));
        }
        let declared = json::doc_kind(desc.media_type.as_deref());
        if declared == Some(DocKind::Other) {
            return Ok(Err(Miss::NotImage));
        }
        let bytes = match self.read_blob(desc)? {
            Ok(b) => b,
            Err(miss) => return Ok(Err(miss)),
        };
        let file = format!(
            "{}: blob {}",
            self.store.describe(),
            desc.digest.as_deref().unwrap_or("?")
        );
        let doc: Manifest = json::parse(&bytes, &file)?;
        let kind = json::doc_kind(doc.media_type.as_deref())
            .filter(|k| *k != DocKind::Other)
            .or(declared)
            .unwrap_or(if doc.manifests.is_some() {
                DocKind::Index
            } else {
                DocKind::Manifest
            });
        match kind {
            DocKind::Index => self.pick_child(&doc.manifests.unwrap_or_default(), depth),
            DocKind::Manifest => {
                if !json::is_image_manifest(&doc) {
                    return Ok(Err(Miss::NotImage));
                }
                Ok(Ok((desc.clone(), doc)))
            }
            DocKind::Other => Ok(Err(Miss::NotImage)),
        }
    }

    /// Choose the child of an index for the wanted (or host) platform.
    fn pick_child(
        &self,
        children: &[Descriptor],
        depth: usize,
    ) -> Result<Result<(Descriptor, Manifest), Miss>> {
        let explicit = self.opts.platform.as_ref();
        let host = PlatformSpec::host();
        let want = explicit.unwrap_or(&host);
        let mut seen = Vec::new();
        let mut fallback = Vec::new();
        let mut missing = None;
        for child in children {
            if let Some(p) = &child.platform {
                if p.os.as_deref() == Some("unknown") {
                    continue; // attestation manifests
                }
                seen.push(platform::describe(p));
                if !want.matches_platform(p) {
                    fallback.push(child);
                    continue;
                }
            }
            match self.resolve(child, depth + 1)? {
                Ok(found) => return Ok(Ok(found)),
                Err(Miss::Platforms(more)) => seen.extend(more),
                // The wanted platform is listed but its blobs were not pulled.
                Err(Miss::Missing(digest)) => {
                    missing.get_or_insert(digest);
                }
                Err(_) => {}
            }
        }
        if let Some(digest) = missing {
            return Ok(Err(Miss::Missing(format!("{digest} (the {want} image)"))));
        }
        // No child for the host: without an explicit platform, a single image is it.
        if explicit.is_none() {
            let mut images = Vec::new();
            for child in fallback {
                if let Ok(found) = self.resolve(child, depth + 1)? {
                    images.push(found);
                }
            }
            if images.len() == 1 {
                return Ok(Ok(images.remove(0)));
            }
        }
        seen.dedup();
        Ok(Err(Miss::Platforms(seen)))
    }
}

/// Resolve the image of an OCI layout.
pub(crate) fn resolve(store: &dyn BlobStore, opts: &SelectOptions) -> Result<Resolved> {
    let file = format!("{}: index.json", store.describe());
    let index: Index = json::parse(&store.read("index.json")?, &file)?;
    let manifests = index.manifests.unwrap_or_default();
    if manifests.is_empty() {
        return Err(Error::NoImage {
            path: store.describe().to_string(),
            reason: "index.json lists no manifests".to_string(),
        });
    }
    // Entries naming the same manifest are one image with several names.
    let mut candidates: Vec<Candidate> = Vec::new();
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
        if let Some(c) = candidates
            .iter_mut()
            .find(|c| c.digests.first() == Some(&digest))
        {
            for n in names {
                if !c.names.contains(&n) {
                    c.names.push(n);
                }
            }
            continue;
        }
        candidates.push(Candidate {
            names: if names.is_empty() {
                vec![digest.clone()]
            } else {
                names
            },
            digests: vec![digest],
            key: i,
        });
    }
    let ctx = Ctx { store, opts };
    let mut missing = BTreeSet::new();
    let mut platforms = BTreeSet::new();
    let result = choose(
        store,
        &candidates,
        opts,
        |c| match ctx.resolve(&manifests[c.key], 0)? {
            Ok((desc, manifest)) => match resolve_manifest(&ctx, &desc, &manifest) {
                Ok(r) => Ok(Some(r)),
                Err(Error::PlatformNotFound { available, .. }) => {
                    platforms.insert(available);
                    Ok(None)
                }
                Err(e) => Err(e),
            },
            Err(Miss::Missing(d)) => {
                missing.insert(d);
                Ok(None)
            }
            Err(Miss::Platforms(p)) => {
                platforms.extend(p);
                Ok(None)
            }
            Err(Miss::NotImage) => Ok(None),
        },
        |c| matches!(ctx.resolve(&manifests[c.key], 0), Ok(Ok(_))),
    );
    match result {
        Err(Error::NoImage { path, .. }) if !platforms.is_empty() => Err(Error::PlatformNotFound {
            wanted: opts
                .platform
                .clone()
                .unwrap_or_else(PlatformSpec::host)
                .to_string(),
            path,
            available: platforms.into_iter().collect::<Vec<_>>().join(", "),
        }),
        Err(Error::NoImage { path, .. }) if !missing.is_empty() => Err(Error::MissingBlob {
            digest: missing.into_iter().next().unwrap_or_default(),
            path,
        }),
        Err(Error::NoImage { path, .. }) => {
            let mut types: Vec<&str> = manifests
                .iter()
                .map(|m| m.media_type.as_deref().unwrap_or("no media type"))
                .collect();
            types.sort_unstable();
            types.dedup();
            Err(Error::NoImage {
                path,
                reason: format!(
                    "index.json lists only artifacts or other documents, no container image: {}",
                    types.join(", ")
                ),
            })
        }
        other => other,
    }
}

fn resolve_manifest(ctx: &Ctx<'_>, desc: &Descriptor, manifest: &Manifest) -> Result<Resolved> {
    let store = ctx.store;
    let config_desc = manifest.config.clone().unwrap_or_default();
    let config_digest = config_desc.digest.clone().unwrap_or_default();
    let bytes = match ctx.read_blob(&config_desc)? {
        Ok(b) => b,
        Err(_) => {
            return Err(Error::MissingBlob {
                digest: config_digest,
                path: store.describe().to_string(),
            });
        }
    };
    let config: Config = json::parse(
        &bytes,
        &format!("{}: config {config_digest}", store.describe()),
    )?;
    if let Some(want) = &ctx.opts.platform
        && (config.os.is_some() || config.architecture.is_some())
        && !want.matches(
            config.os.as_deref(),
            config.architecture.as_deref(),
            config.variant.as_deref(),
        )
    {
        return Err(Error::PlatformNotFound {
            wanted: want.to_string(),
            path: store.describe().to_string(),
            available: format!(
                "{}/{}",
                config.os.as_deref().unwrap_or("?"),
                config.architecture.as_deref().unwrap_or("?")
            ),
        });
    }
    let descs = manifest.layers.clone().unwrap_or_default();
    let mut notes = Vec::new();
    let diff_ids = Resolved::diff_ids(&config, descs.len(), &mut notes);
    let mut layers = Vec::with_capacity(descs.len());
    for (index, d) in descs.iter().enumerate() {
        let digest = d.digest.clone().unwrap_or_default();
        let locator = blob_path(&digest).ok_or_else(|| {
            Error::invalid(
                store.describe(),
                format!("layer {index} has a malformed digest {digest:?}"),
            )
        })?;
        let declared_size = d.size.and_then(|s| u64::try_from(s).ok());
        layers.push(LayerRef {
            index,
            locator,
            digest: Some(digest.clone()),
            diff_id: diff_ids.get(index).cloned(),
            media_type: d.media_type.clone(),
            declared_size,
            verify: Verify::Blob(digest),
        });
    }
    let info = ImageInfo {
        config_digest: Some(config_digest),
        manifest_digest: desc.digest.clone(),
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
