//! docker-save archives: `manifest.json` (every vintage: classic `<id>/layer.tar`,
//! kaniko/jib gzip layers and lowercase keys, Docker 25+ `blobs/sha256/…` paths, layers
//! shared through symlinks, several images) and legacy v1 archives that only have
//! `repositories` and `<id>/json` parent chains.

use std::collections::BTreeMap;

use super::documents::{self, Config, DockerEntry};
use super::store::{BlobStore, clean, named_digest};
use super::{Candidate, Resolved, SelectOptions, choose, verify_named};
use crate::bytes::{Algorithm, digest};
use crate::error::{Error, Result};
use crate::model::{DigestCheck, HistoryStep, ImageInfo, LayerRef};

/// The digest a config member name encodes: `blobs/sha256/<hex>`, `<hex>.json`,
/// `sha256:<hex>`.
fn config_name_digest(path: &str) -> Option<String> {
    if let Some(d) = named_digest(path) {
        return Some(d);
    }
    let base = path.rsplit('/').next()?;
    let digest = if base.starts_with("sha256:") {
        base.to_string()
    } else {
        format!("sha256:{}", base.strip_suffix(".json")?)
    };
    Algorithm::of(&digest).map(|_| digest)
}

/// Resolve the image of a docker-save archive.
pub(crate) fn resolve(
    store: &dyn BlobStore,
    entries: Vec<DockerEntry>,
    opts: &SelectOptions,
) -> Result<Resolved> {
    let candidates: Vec<Candidate> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| Candidate {
            names: if e.repo_tags.is_empty() {
                vec![config_name_digest(&e.config).unwrap_or_else(|| format!("image #{}", i + 1))]
            } else {
                e.repo_tags.clone()
            },
            digests: config_name_digest(&e.config).into_iter().collect(),
            key: i,
        })
        .collect();
    let mut seen = Vec::new();
    let platform_ok = |c: &Candidate| -> Result<Option<Resolved>> {
        let r = resolve_entry(store, &entries[c.key], opts)?;
        if let Some(want) = &opts.platform
            && !want.matches_platform(&r.info.platform)
        {
            seen.push(r.info.platform.to_string());
            return Ok(None);
        }
        Ok(Some(r))
    };
    let result = choose(store, &candidates, opts, platform_ok, |_| true);
    match (result, &opts.platform) {
        (Err(Error::NoImage { path, .. }), Some(want)) if !seen.is_empty() => {
            seen.sort();
            seen.dedup();
            Err(Error::PlatformNotFound {
                wanted: want.to_string(),
                path,
                available: seen.join(", "),
            })
        }
        (other, _) => other,
    }
}

fn resolve_entry(
    store: &dyn BlobStore,
    entry: &DockerEntry,
    opts: &SelectOptions,
) -> Result<Resolved> {
    let archive = store.describe().to_string();
    let config_path = clean(&entry.config)
        .ok_or_else(|| Error::invalid(&archive, format!("bad Config path {:?}", entry.config)))?;
    let missing = |member: &str| Error::MissingMember {
        path: archive.clone(),
        member: member.to_string(),
        referrer: "manifest.json".to_string(),
    };
    if store.size(&config_path).is_none() {
        return Err(missing(&config_path));
    }
    let bytes = store.read(&config_path)?;
    // Only Docker 25+ archives address the config by content (`blobs/sha256/…`);
    // classic names are image IDs that `docker load` recomputes and never checks.
    if let Some(d) = named_digest(&config_path) {
        verify_named(opts.verify, &d, &bytes, &format!("config {config_path}"))?;
    }
    let config_digest = Some(digest::digest_of(Algorithm::Sha256, &bytes));
    let config: Config = documents::parse(&bytes, &format!("{archive}: {config_path}"))?;
    let mut notes = Vec::new();
    let diff_ids = Resolved::diff_ids(&config, entry.layers.len(), &mut notes);
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (index, raw) in entry.layers.iter().enumerate() {
        let locator = clean(raw)
            .ok_or_else(|| Error::invalid(&archive, format!("bad layer path {raw:?}")))?;
        let digest = named_digest(&locator);
        let diff_id = diff_ids.get(index).cloned();
        let check = match (&digest, &diff_id) {
            (Some(d), _) => DigestCheck::Blob(d.clone()),
            (None, Some(d)) => DigestCheck::Diff(d.clone()),
            (None, None) => DigestCheck::Nothing,
        };
        layers.push(LayerRef {
            digest,
            diff_id,
            check,
            ..LayerRef::at(index, locator)
        });
    }
    let info = ImageInfo {
        tags: entry.repo_tags.clone(),
        reference: entry.repo_tags.first().cloned(),
        config_digest,
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

/// Whether the archive looks like a legacy v1 `docker save` (no manifest.json).
pub fn is_legacy(paths: &[String]) -> bool {
    paths.iter().any(|p| p == "repositories")
        || paths
            .iter()
            .any(|p| p.ends_with("/json") && p.matches('/').count() == 1)
}

/// Resolve a legacy v1 archive: `repositories` names the top layer id, each
/// `<id>/json` names its parent.
pub(crate) fn resolve_legacy(store: &dyn BlobStore, opts: &SelectOptions) -> Result<Resolved> {
    let archive = store.describe().to_string();
    let mut tops: Vec<(Vec<String>, String)> = Vec::new();
    if store.size("repositories").is_some() {
        let bytes = store.read("repositories")?;
        let repos: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::json(format!("{archive}: repositories"), e))?;
        let mut by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (repo, tags) in repos {
            for (tag, id) in tags {
                by_id.entry(id).or_default().push(format!("{repo}:{tag}"));
            }
        }
        tops = by_id.into_iter().map(|(id, names)| (names, id)).collect();
    }
    if tops.is_empty() {
        // No names: the top layer is the one no other layer names as parent.
        let ids: Vec<String> = store
            .paths()
            .iter()
            .filter_map(|p| p.strip_suffix("/json").map(str::to_string))
            .filter(|id| !id.contains('/'))
            .collect();
        let mut parents = std::collections::BTreeSet::new();
        for id in &ids {
            let cfg: Config = documents::parse(
                &store.read(&format!("{id}/json"))?,
                &format!("{archive}: {id}/json"),
            )?;
            if let Some(p) = cfg.parent {
                parents.insert(p);
            }
        }
        tops = ids
            .into_iter()
            .filter(|id| !parents.contains(id))
            .map(|id| (vec![id.clone()], id))
            .collect();
    }
    if tops.is_empty() {
        return Err(Error::NoImage {
            path: archive,
            reason: "legacy archive without layers".to_string(),
        });
    }
    let candidates: Vec<Candidate> = tops
        .iter()
        .enumerate()
        .map(|(key, (names, _))| Candidate {
            names: names.clone(),
            digests: Vec::new(),
            key,
        })
        .collect();
    choose(
        store,
        &candidates,
        opts,
        |c| {
            let (names, top) = &tops[c.key];
            resolve_chain(store, names, top).map(Some)
        },
        |_| true,
    )
}

const MAX_LEGACY_LAYERS: usize = 1024;

fn resolve_chain(store: &dyn BlobStore, names: &[String], top: &str) -> Result<Resolved> {
    let archive = store.describe().to_string();
    let mut chain: Vec<(String, Config)> = Vec::new();
    let mut id = Some(top.to_string());
    while let Some(cur) = id {
        if chain.len() >= MAX_LEGACY_LAYERS || chain.iter().any(|(i, _)| *i == cur) {
            return Err(Error::invalid(&archive, "legacy layer parents form a loop"));
        }
        let file = format!("{cur}/json");
        if store.size(&file).is_none() {
            return Err(Error::MissingMember {
                path: archive.clone(),
                member: file,
                referrer: "a parent link".to_string(),
            });
        }
        let cfg: Config = documents::parse(&store.read(&file)?, &format!("{archive}: {file}"))?;
        id = cfg.parent.clone();
        chain.push((cur, cfg));
    }
    chain.reverse();
    let history = chain
        .iter()
        .enumerate()
        .map(|(i, (_, cfg))| HistoryStep {
            created_by: cfg
                .container_config
                .as_ref()
                .and_then(|c| c.cmd.as_ref())
                .map(|cmd| cmd.join(" ")),
            created: cfg.created.clone(),
            comment: None,
            empty_layer: false,
            layer: Some(i),
        })
        .collect();
    let layers = chain
        .iter()
        .enumerate()
        .map(|(index, (id, _))| LayerRef::at(index, format!("{id}/layer.tar")))
        .collect();
    let config = chain.last().map(|(_, c)| c.clone()).unwrap_or_default();
    let info = ImageInfo {
        tags: names.to_vec(),
        reference: names.first().cloned(),
        ..Resolved::info_from(&config)
    };
    Ok(Resolved {
        info,
        layers,
        config,
        history: Some(history),
        notes: vec![
            "legacy v1 archive (no manifest.json): layer digests cannot be verified".to_string(),
        ],
    })
}
