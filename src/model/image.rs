//! What a source resolves before any layer is read: the image's metadata and
//! platform, its layer descriptors with what each must verify against, and its history.

use std::fmt;

use serde::Deserialize;

/// The container format an image was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `docker save` output (any vintage), including Docker 25+ hybrid archives.
    DockerArchive,
    /// A pre-Docker-1.10 archive without `manifest.json`.
    DockerLegacy,
    OciLayout,
    OciArchive,
    /// Read from a registry (the OCI distribution API).
    Registry,
    /// Read from a containers-storage store (podman's, buildah's), without a daemon.
    ContainersStorage,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DockerArchive => "docker-archive",
            Format::DockerLegacy => "docker-legacy",
            Format::OciLayout => "oci-layout",
            Format::OciArchive => "oci-archive",
            Format::Registry => "registry",
            Format::ContainersStorage => "containers-storage",
        }
    }
}

/// A platform as an image or index entry states it; any part may be missing.
/// Displayed as `os/arch[/variant]`, with `?` for a missing os or architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// Both os and architecture are known.
    pub fn is_known(&self) -> bool {
        self.os.is_some() && self.architecture.is_some()
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.os.as_deref().unwrap_or("?"),
            self.architecture.as_deref().unwrap_or("?")
        )?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Which image of the input was analysed.
#[derive(Debug, Clone, Default)]
pub struct ImageInfo {
    /// The input as given on the command line.
    pub source: String,
    /// Container format name (see [`Format::as_str`]).
    pub format: String,
    /// Whole-input compression (`docker save | gzip`), if any.
    pub outer_compression: Option<String>,
    /// The tag or name the image was selected by or is known as.
    pub reference: Option<String>,
    /// Every name the input gives this image.
    pub tags: Vec<String>,
    pub platform: Platform,
    pub created: Option<String>,
    pub config_digest: Option<String>,
    pub manifest_digest: Option<String>,
    /// The other images the input holds (by name or digest).
    pub other_images: Vec<String>,
    /// The base image, as the manifest's `org.opencontainers.image.base.name` and
    /// `.digest` annotations name it.
    pub base_name: Option<String>,
    pub base_digest: Option<String>,
    /// The base image's layer count, when the input also holds the manifest that
    /// `base_digest` names and its layers are this image's first ones.
    pub base_layers: Option<usize>,
}

/// What a layer blob must hash to for it to be the one the image names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    /// The stored blob hashes to this digest (OCI blobs).
    Blob(String),
    /// The decompressed tar hashes to this digest (the diff_id; classic docker archives).
    Diff(String),
    /// Nothing to check against.
    Nothing,
}

/// A layer as the image's manifest describes it, before walking.
#[derive(Debug, Clone)]
pub struct LayerRef {
    pub index: usize,
    /// Where the blob lives in the source (a path in the archive or layout).
    pub locator: String,
    /// Descriptor digest (of the stored blob), when the format has one.
    pub digest: Option<String>,
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    /// Size the manifest declares (OCI descriptors).
    pub declared_size: Option<u64>,
    pub check: DigestCheck,
}

impl LayerRef {
    /// Layer `index` at `locator`, with no digest, type or size known and nothing to check.
    pub fn at(index: usize, locator: String) -> LayerRef {
        LayerRef {
            index,
            locator,
            digest: None,
            diff_id: None,
            media_type: None,
            declared_size: None,
            check: DigestCheck::Nothing,
        }
    }

    /// The best name for messages: digest, diff_id or archive path.
    pub fn name(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.diff_id.clone())
            .unwrap_or_else(|| self.locator.clone())
    }
}

/// One step of the image history, as the config records it.
#[derive(Debug, Clone, Default)]
pub struct HistoryStep {
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    /// No layer came of this step (ENV, CMD, LABEL, ...).
    pub empty_layer: bool,
    /// The layer this step made, when history and layers line up.
    pub layer: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_display_one_way() {
        let p = |os: Option<&str>, arch: Option<&str>, v: Option<&str>| Platform {
            os: os.map(String::from),
            architecture: arch.map(String::from),
            variant: v.map(String::from),
        };
        assert_eq!(
            p(Some("linux"), Some("amd64"), None).to_string(),
            "linux/amd64"
        );
        assert_eq!(
            p(Some("linux"), Some("arm"), Some("v7")).to_string(),
            "linux/arm/v7"
        );
        assert_eq!(p(None, Some("arm64"), None).to_string(), "?/arm64");
        assert!(!p(None, Some("arm64"), None).is_known());
    }
}
