//! Lenient models of the JSON documents images are made of: OCI indexes and manifests,
//! Docker manifest lists, image configs (OCI and Docker, including legacy v1 `json`
//! files) and docker-save `manifest.json`.
//!
//! Real images leave out fields the specs call required (`os`, `created`, `history`,
//! `manifests`), write `null` for lists, and jib writes lowercase keys; every field is
//! therefore optional here, and callers decide what a missing field means. Media types
//! are classified with `oci-spec`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use oci_spec::image::MediaType;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::{Error, Result};
pub use crate::model::Platform;

/// Media type strings of the Docker distribution formats (OCI ones come from oci-spec).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Ref-name annotation of OCI index entries.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Base-image annotations of OCI manifests.
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// A content descriptor.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// An OCI image index or a Docker manifest list.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
}

/// An OCI image manifest or a Docker schema 2 manifest. An index parses as a manifest
/// with no config (and `manifests`); [`doc_kind`] tells them apart by media type.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub manifests: Option<Children>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An entry of an index, as much of it as choosing among the entries needs: no
/// annotations, and the media type and platform shared with every entry that has the
/// same (an index of a million entries names a handful of each).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Child {
    pub media_type: Option<Arc<str>>,
    pub digest: Option<Box<str>>,
    pub size: Option<i64>,
    pub platform: Option<Arc<Platform>>,
    /// The entry says it is an artifact (`artifactType`), not an image.
    pub artifact: bool,
}

impl Child {
    /// The entry as a descriptor, to resolve it.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.as_deref().map(str::to_string),
            digest: self.digest.as_deref().map(str::to_string),
            size: self.size,
            annotations: None,
            platform: self.platform.as_deref().cloned(),
        }
    }
}

/// The entries of an index, compact (see [`Child`]), read one at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Children(pub Vec<Child>);

impl std::ops::Deref for Children {
    type Target = [Child];
    fn deref(&self) -> &[Child] {
        &self.0
    }
}

/// One entry as JSON has it; dropped as soon as it is made compact.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawChild {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    size: Option<i64>,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    artifact_type: Option<IgnoredAny>,
}

impl<'de> Deserialize<'de> for Children {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Children;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of descriptors")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Children, A::Error> {
                let mut media_types: HashMap<String, Arc<str>> = HashMap::new();
                let mut platforms: HashMap<Platform, Arc<Platform>> = HashMap::new();
                let mut out = Vec::new();
                while let Some(raw) = seq.next_element::<RawChild>()? {
                    let media_type = raw.media_type.map(|m| {
                        media_types
                            .entry(m)
                            .or_insert_with_key(|m| Arc::from(m.as_str()))
                            .clone()
                    });
                    let platform = raw.platform.map(|p| {
                        platforms
                            .entry(p)
                            .or_insert_with_key(|p| Arc::new(p.clone()))
                            .clone()
                    });
                    out.push(Child {
                        media_type,
                        digest: raw.digest.map(String::into_boxed_str),
                        size: raw.size,
                        platform,
                        artifact: raw.artifact_type.is_some(),
                    });
                }
                out.shrink_to_fit();
                Ok(Children(out))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Children, E> {
                Ok(Children::default())
            }
        }
        deserializer.deserialize_any(Entries)
    }
}

/// An image configuration (OCI, Docker, or a legacy v1 layer `json`).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Config {
    /// `os`, `architecture`, `variant`.
    #[serde(flatten)]
    pub platform: Platform,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    #[serde(default)]
    pub history: Option<Vec<History>>,
    /// Legacy v1: the parent layer's id.
    #[serde(default)]
    pub parent: Option<String>,
    /// Legacy v1: the command that made this layer.
    #[serde(default)]
    pub container_config: Option<ContainerConfig>,
}

/// `rootfs` of a config.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Option<Vec<String>>,
}

/// One `history` entry of a config.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
}

/// `container_config` of a legacy v1 layer `json`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ContainerConfig {
    #[serde(default, rename = "Cmd")]
    pub cmd: Option<Vec<String>>,
}

/// One entry of a docker-save `manifest.json`.
#[derive(Debug, Clone, Default)]
pub struct DockerEntry {
    pub config: String,
    pub repo_tags: Vec<String>,
    pub layers: Vec<String>,
}

/// What a manifest-ish document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Index,
    Manifest,
    Other,
}

/// Parse a JSON document (an object), naming `file` in the error. Straight into `T`,
/// with no tree of values in between: a large document costs what `T` keeps of it.
pub fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8], file: &str) -> Result<T> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => serde_json::from_slice(bytes).map_err(|e| Error::json(file, e)),
        Some(b'n') if bytes.trim_ascii() == b"null" => {
            Err(Error::invalid(file, "document is the JSON literal null"))
        }
        // Not JSON at all is a JSON error; JSON that is not an object is said so.
        _ => match serde_json::from_slice::<IgnoredAny>(bytes) {
            Err(e) => Err(Error::json(file, e)),
            Ok(_) => Err(Error::invalid(file, "document is not a JSON object")),
        },
    }
}

/// Parse a docker-save `manifest.json`. Keys are matched case-insensitively, as Docker's
/// own loader (Go's encoding/json) does, so jib's lowercase keys work.
pub fn parse_docker_manifest(bytes: &[u8], file: &str) -> Result<Vec<DockerEntry>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::json(file, e))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Null => {
            return Err(Error::invalid(
                file,
                "manifest.json is the JSON literal null",
            ));
        }
        _ => return Err(Error::invalid(file, "manifest.json is not a JSON array")),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(map) = item else {
            return Err(Error::invalid(file, format!("entry {i} is not an object")));
        };
        let get = |key: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        };
        let config = match get("Config") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(Error::invalid(file, format!("entry {i} has no Config"))),
        };
        let strings = |v: Option<&Value>, what: &str| -> Result<Vec<String>> {
            match v {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|s| {
                        s.as_str().map(str::to_owned).ok_or_else(|| {
                            Error::invalid(file, format!("entry {i}: {what} holds a non-string"))
                        })
                    })
                    .collect(),
                Some(_) => Err(Error::invalid(
                    file,
                    format!("entry {i}: {what} is not a list"),
                )),
            }
        };
        out.push(DockerEntry {
            config,
            repo_tags: strings(get("RepoTags"), "RepoTags")?,
            layers: strings(get("Layers"), "Layers")?,
        });
    }
    Ok(out)
}

/// Classify a media type string.
pub fn doc_kind(media_type: Option<&str>) -> Option<DocKind> {
    let mt = media_type?;
    if mt == DOCKER_MANIFEST_LIST {
        return Some(DocKind::Index);
    }
    if mt == DOCKER_MANIFEST {
        return Some(DocKind::Manifest);
    }
    Some(match MediaType::from(mt) {
        MediaType::ImageIndex => DocKind::Index,
        MediaType::ImageManifest => DocKind::Manifest,
        // go-containerregistry writes this non-standard type for plain manifests.
        _ if mt == "application/vnd.oci.descriptor.v1+json" => DocKind::Manifest,
        _ => DocKind::Other,
    })
}

/// Whether a config media type is an image config (as opposed to an artifact's).
pub fn is_image_config(media_type: Option<&str>) -> bool {
    match media_type {
        None => true,
        Some(DOCKER_CONFIG) => true,
        Some(mt) => matches!(MediaType::from(mt), MediaType::ImageConfig),
    }
}

/// Whether a manifest describes a filesystem: every layer is a tar archive, and the
/// config is an image config or an unknown one (a Helm chart, say). Artifacts
/// (signatures, attestations, SBOMs, the empty config) are not.
pub fn is_image_manifest(m: &Manifest) -> bool {
    let config_type = m.config.as_ref().and_then(|c| c.media_type.as_deref());
    if m.config.is_none() || config_type == Some("application/vnd.oci.empty.v1+json") {
        return false;
    }
    let layers = m.layers.as_deref().unwrap_or_default();
    // Cosign signatures and attestations use the image config type with JSON layers.
    let tar_layers = layers.iter().all(|l| is_tar_layer(l.media_type.as_deref()));
    tar_layers && (is_image_config(config_type) || !layers.is_empty())
}

/// Whether a layer media type can hold a filesystem tar. Unknown or missing types are
/// given the benefit of the doubt: the content decides.
pub fn is_tar_layer(media_type: Option<&str>) -> bool {
    let Some(mt) = media_type else { return true };
    if mt.starts_with("application/vnd.docker.image.rootfs.") {
        return true;
    }
    match MediaType::from(mt) {
        MediaType::ImageLayer
        | MediaType::ImageLayerGzip
        | MediaType::ImageLayerZstd
        | MediaType::ImageLayerNonDistributable
        | MediaType::ImageLayerNonDistributableGzip
        | MediaType::ImageLayerNonDistributableZstd => true,
        _ => mt.to_ascii_lowercase().contains("tar"),
    }
}
