//! Platforms (`os/arch[/variant]`): parsing, the host's default, and matching index
//! entries the way container runtimes do (arm64 means v8, arm means v7 unless said).

use std::fmt;
use std::str::FromStr;

use crate::model::Platform;

/// A wanted platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl PlatformSpec {
    /// Parse `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Self, BadPlatform> {
        let parts: Vec<&str> = text.split('/').collect();
        let bad = || BadPlatform(text.to_string());
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        match parts.as_slice() {
            [os, arch] => Ok(PlatformSpec {
                os: os.to_string(),
                architecture: normalize_arch(arch).to_string(),
                variant: None,
            }),
            [os, arch, variant] => Ok(PlatformSpec {
                os: os.to_string(),
                architecture: normalize_arch(arch).to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(bad()),
        }
    }

    /// The platform of the machine imgsize runs on (images are Linux images).
    pub fn host() -> Self {
        let (arch, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", None),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            other => (other, None),
        };
        PlatformSpec {
            os: "linux".to_string(),
            architecture: arch.to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// Whether an image of `os`/`arch`/`variant` satisfies this spec.
    pub fn matches(&self, os: Option<&str>, arch: Option<&str>, variant: Option<&str>) -> bool {
        let (Some(os), Some(arch)) = (os, arch) else {
            return false;
        };
        if os != self.os || normalize_arch(arch) != self.architecture {
            return false;
        }
        match &self.variant {
            None => true,
            Some(want) => default_variant(arch, variant) == Some(want.as_str()),
        }
    }

    /// Whether a stated platform (an index entry's, a config's) satisfies this spec.
    pub fn matches_platform(&self, p: &Platform) -> bool {
        self.matches(
            p.os.as_deref(),
            p.architecture.as_deref(),
            p.variant.as_deref(),
        )
    }
}

impl From<&PlatformSpec> for Platform {
    fn from(p: &PlatformSpec) -> Self {
        Platform {
            os: Some(p.os.clone()),
            architecture: Some(p.architecture.clone()),
            variant: p.variant.clone(),
        }
    }
}

impl fmt::Display for PlatformSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Platform::from(self).fmt(f)
    }
}

impl FromStr for PlatformSpec {
    type Err = BadPlatform;

    fn from_str(text: &str) -> Result<Self, BadPlatform> {
        PlatformSpec::parse(text)
    }
}

/// A platform string that is not `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {0:?}: expected os/arch[/variant], e.g. linux/amd64")]
pub struct BadPlatform(pub String);

fn normalize_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "armhf" => "arm",
        "i386" => "386",
        other => other,
    }
}

fn default_variant<'a>(arch: &str, variant: Option<&'a str>) -> Option<&'a str> {
    match (normalize_arch(arch), variant) {
        (_, Some(v)) => Some(v),
        ("arm64", None) => Some("v8"),
        ("arm", None) => Some("v7"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let p = PlatformSpec::parse("linux/arm64").unwrap_or_else(|e| panic!("{e}"));
        assert!(p.matches(Some("linux"), Some("arm64"), Some("v8")));
        assert!(p.matches(Some("linux"), Some("aarch64"), None));
        assert!(!p.matches(Some("linux"), Some("amd64"), None));
        let v7 = PlatformSpec::parse("linux/arm/v7").unwrap_or_else(|e| panic!("{e}"));
        assert!(v7.matches(Some("linux"), Some("arm"), None));
        assert!(!v7.matches(Some("linux"), Some("arm"), Some("v6")));
        assert!(PlatformSpec::parse("linux").is_err());
        assert!(PlatformSpec::parse("linux//").is_err());
        assert_eq!(v7.to_string(), "linux/arm/v7");
    }
}
