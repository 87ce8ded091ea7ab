//! Image references (`ghcr.io/org/app:1.2`, `python:3.12`, `host:5000/app@sha256:…`)
//! parsed with the distribution grammar and normalised as the docker CLI does:
//! no domain means Docker Hub, a one-component Docker Hub name gets `library/`, no tag
//! means `latest`. Also tells a reference from a file path when the input could be
//! either.

use std::fmt;

/// The explicit prefixes that say "this is a registry reference, not a path".
const SCHEMES: [&str; 2] = ["docker://", "registry://"];

/// Docker Hub, as references name it and as its API is reached.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`, normalised (`docker.io` for Docker Hub).
    pub registry: String,
    /// `org/app`, `library/python`.
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// `sha256:…`, when pinned.
    pub digest: Option<String>,
}

impl Reference {
    /// Parse a reference (without a scheme prefix).
    pub fn parse(text: &str) -> Result<Reference, String> {
        if text.is_empty() || text.len() > 4096 {
            return Err("an image reference is 1 to 4096 characters".to_string());
        }
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => (r, Some(check_digest(d)?)),
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let tag = &rest[last_slash + i + 1..];
                check_tag(tag)?;
                (&rest[..last_slash + i], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        let (registry, path) = split_domain(name);
        check_domain(registry)?;
        if path.is_empty() {
            return Err("the repository name is empty".to_string());
        }
        for component in path.split('/') {
            check_component(component)?;
        }
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(Reference {
            registry: registry.to_string(),
            repository,
            tag,
            digest,
        })
    }

    /// The host (and port) the registry API is reached at.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// What the manifest is fetched by: the digest when pinned, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// Whether the registry is on this machine (plain http is allowed, as the docker
    /// CLI allows it).
    pub fn is_local(&self) -> bool {
        let host = host_of(&self.registry);
        host == "localhost"
            || host.starts_with("127.")
            || host == "[::1]"
            || host == "::1"
            || host.ends_with(".localhost")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// The input without its `docker://` or `registry://` prefix, when it has one.
pub fn strip_scheme(input: &str) -> Option<&str> {
    SCHEMES.iter().find_map(|s| input.strip_prefix(s))
}

/// Whether an input that is not a file could be meant as a reference: it parses, and
/// it does not look like a file name (`image.tar`, `./x`, `/tmp/x`, `out.tar.gz`).
pub fn could_be_reference(input: &str) -> bool {
    const FILE_ENDINGS: [&str; 8] = [
        ".tar", ".tgz", ".gz", ".zst", ".xz", ".tar.gz", ".oci", ".json",
    ];
    let pathlike = input.starts_with('.')
        || input.starts_with('/')
        || input.starts_with('~')
        || input.contains('\\')
        || input.contains("//")
        || FILE_ENDINGS.iter().any(|e| input.ends_with(e));
    !pathlike && Reference::parse(input).is_ok()
}

/// The host part of `host[:port]` (an IPv6 literal keeps its brackets).
fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.split_inclusive(']').next().unwrap_or(registry);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// Split off the domain: the first component when it has a `.` or `:`, is
/// `localhost`, or has an uppercase letter (as the distribution grammar decides).
fn split_domain(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    }
}

fn check_domain(domain: &str) -> Result<(), String> {
    let ok = !domain.is_empty()
        && domain.len() <= 255
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    let port_ok = match domain.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') && host.contains(':') => {
            // An IPv6 literal needs brackets.
            port.is_empty()
        }
        Some((_, port)) if !domain.ends_with(']') => {
            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.len() <= 5
        }
        _ => true,
    };
    if ok && port_ok {
        Ok(())
    } else {
        Err(format!("{domain:?} is not a registry host[:port]"))
    }
}

/// A path component: lowercase alphanumerics separated by `.`, `_`, `__` or dashes.
fn check_component(c: &str) -> Result<(), String> {
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut ok = !bytes.is_empty() && alnum(bytes[0]) && alnum(bytes[bytes.len() - 1]);
    let mut i = 0;
    while ok && i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
    }
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{c:?} is not a repository name component (lowercase letters, digits and . _ - separators)"
        ))
    }
}

fn check_tag(tag: &str) -> Result<(), String> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("{tag:?} is not a tag"))
    }
}

fn check_digest(d: &str) -> Result<String, String> {
    let bad = || format!("{d:?} is not a digest (algorithm:hex)");
    let (alg, hex) = d.split_once(':').ok_or_else(bad)?;
    let alg_ok = !alg.is_empty()
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !alg_ok || !hex_ok {
        return Err(bad());
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("{d:?}: digests are written in lowercase hex"));
    }
    Ok(d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> String {
        Reference::parse(s).expect(s).to_string()
    }

    #[test]
    fn docker_hub_names_normalise() {
        assert_eq!(parsed("python"), "docker.io/library/python:latest");
        assert_eq!(parsed("python:3.12"), "docker.io/library/python:3.12");
        assert_eq!(
            parsed("docker.io/library/python:3.12-slim"),
            "docker.io/library/python:3.12-slim"
        );
        assert_eq!(
            parsed("index.docker.io/org/app"),
            "docker.io/org/app:latest"
        );
        assert_eq!(parsed("org/app:1"), "docker.io/org/app:1");
        let r = Reference::parse("python").expect("ref");
        assert_eq!(r.api_host(), "registry-1.docker.io");
    }

    #[test]
    fn other_registries_keep_their_names() {
        let r = Reference::parse("ghcr.io/org/app:1.2").expect("ref");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.manifest_ref()),
            ("ghcr.io", "org/app", "1.2")
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("localhost:5000/app@{d}")).expect("ref");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), d);
        assert!(r.is_local());
        let r = Reference::parse(&format!("127.0.0.1:5000/a/b:t@{d}")).expect("ref");
        assert_eq!(r.tag.as_deref(), Some("t"));
        assert!(r.is_local());
        assert!(!Reference::parse("ghcr.io/a").expect("ref").is_local());
        assert_eq!(parsed("localhost/app"), "localhost/app:latest");
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in [
            "",
            "App",
            "ghcr.io/Org/app",
            "app:",
            "app:-x",
            "app@sha256:abc",
            "app@sha256:ABCDEF0123456789ABCDEF0123456789",
            "host:port/app",
            "a//b",
            "app-",
            "ghcr.io/",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schemes_and_paths_are_told_apart() {
        assert_eq!(strip_scheme("docker://python"), Some("python"));
        assert_eq!(strip_scheme("registry://ghcr.io/a"), Some("ghcr.io/a"));
        assert_eq!(strip_scheme("python"), None);
        assert!(could_be_reference("python:3.12"));
        assert!(could_be_reference("ghcr.io/org/app:1"));
        for path in ["image.tar", "./app", "/tmp/x", "out.tar.gz", "layout.oci"] {
            assert!(!could_be_reference(path), "{path}");
        }
    }
}
