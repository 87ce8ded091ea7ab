//! Platforms (`os/arch[/variant]`): parsing, the host's default, and matching index
//! entries the way container runtimes do (arm64 means v8, arm means v7 unless said).

use std::fmt;

use super::json::Platform;
use crate::error::Error;

/// A wanted platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl PlatformSpec {
    /// Parse `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let parts: Vec<&str> = text.split('/').collect();
        let bad = || {
            Error::Usage(format!(
                "invalid platform {text:?}: expected os/arch[/variant], e.g. linux/amd64"
            ))
        };
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

    /// Whether an index entry's platform satisfies this spec.
    pub fn matches_platform(&self, p: &Platform) -> bool {
        self.matches(
            p.os.as_deref(),
            p.architecture.as_deref(),
            p.variant.as_deref(),
        )
    }
}

impl fmt::Display for PlatformSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

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

/// Render a platform for listings.
pub fn describe(p: &Platform) -> String {
    let mut s = format!(
        "{}/{}",
        p.os.as_deref().unwrap_or("?"),
        p.architecture.as_deref().unwrap_or("?")
    );
    if let Some(v) = &p.variant {
        s.push('/');
        s.push_str(v);
    }
    s
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
