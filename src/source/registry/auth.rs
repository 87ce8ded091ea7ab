//! Credentials for a registry, found where the docker and podman CLIs keep them: given
//! explicitly (flags or environment, passed in by the caller), `credHelpers`,
//! `auths` and `credsStore` of `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`, helpers run as `docker-credential-NAME get`), then podman's
//! `auth.json` (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
//! `~/.config/containers/auth.json`). Secrets are never printed: `Debug` redacts them
//! and no message quotes them.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde::Deserialize;

use super::reference::DOCKER_HUB;

/// The key Docker Hub credentials are stored under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A credential for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or access token used as one).
    Basic { username: String, password: String },
    /// An identity (refresh) token, exchanged at the token service.
    IdentityToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credential::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

impl Credential {
    /// The `Authorization: Basic …` value of a user name and password.
    pub fn basic_header(username: &str, password: &str) -> String {
        let raw = format!("{username}:{password}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// Where a credential came from, for messages ("the credentials from …").
#[derive(Debug, Clone)]
pub struct Found {
    pub credential: Credential,
    pub origin: String,
}

/// One `auths` entry of config.json or auth.json.
#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The parts of config.json / auth.json that hold credentials.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
}

/// What a credential helper prints.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperOutput {
    username: String,
    secret: String,
}

/// The registry part of an `auths` key: `https://host:5000/v1/` → `host:5000`;
/// podman keys may carry a repository (`host/org`), which is kept.
fn normalize_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let k = k.trim_end_matches('/');
    let k = k.strip_suffix("/v1").or(k.strip_suffix("/v2")).unwrap_or(k);
    match k {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        _ => k.to_string(),
    }
}

/// The keys to look a registry up by, most specific first: `host/org/app`,
/// `host/org`, `host`.
fn lookup_keys(registry: &str, repository: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let parts: Vec<&str> = repository.split('/').collect();
    for n in (1..=parts.len()).rev() {
        keys.push(format!("{registry}/{}", parts[..n].join("/")));
    }
    keys.push(registry.to_string());
    keys
}

impl AuthEntry {
    fn credential(&self, origin: &str) -> Result<Option<Credential>, String> {
        if let Some(token) = self.identitytoken.as_ref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::IdentityToken(token.clone())));
        }
        if let Some(auth) = self.auth.as_ref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    format!("{origin}: an `auth` value is not base64 of user:password")
                })?;
            let (username, password) = decoded.split_once(':').ok_or_else(|| {
                format!("{origin}: an `auth` value is not base64 of user:password")
            })?;
            return Ok(Some(Credential::Basic {
                username: username.to_string(),
                password: password.to_string(),
            }));
        }
        match (&self.username, &self.password) {
            (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credential::Basic {
                username: u.clone(),
                password: p.clone(),
            })),
            _ => Ok(None),
        }
    }
}

/// Read a config file; `None` when it does not exist.
fn read_config(path: &Path) -> Result<Option<ConfigFile>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("{}: malformed JSON: {e}", path.display()))
}

/// Run `docker-credential-NAME get` for a server.
fn run_helper(name: &str, server: &str) -> Result<Option<Credential>, String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!("credential helper name {name:?} is not valid"));
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading gets a broken pipe: its output says why.
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        // "credentials not found in native keychain" is a miss, not an error.
        if text.to_lowercase().contains("not found") {
            return Ok(None);
        }
        return Err(format!("{program} get failed ({})", out.status));
    }
    let parsed: HelperOutput = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("{program} get printed something that is not its JSON answer"))?;
    if parsed.username == "<token>" {
        return Ok(Some(Credential::IdentityToken(parsed.secret)));
    }
    Ok(Some(Credential::Basic {
        username: parsed.username,
        password: parsed.secret,
    }))
}

/// The server name a helper is asked about.
fn helper_server(registry: &str) -> String {
    if registry == DOCKER_HUB {
        DOCKER_HUB_KEY.to_string()
    } else {
        registry.to_string()
    }
}

fn from_config(
    cfg: &ConfigFile,
    path: &Path,
    registry: &str,
    repository: &str,
) -> Result<Option<Found>, String> {
    let origin = path.display().to_string();
    let keys = lookup_keys(registry, repository);
    let helpers: HashMap<String, &String> = cfg
        .cred_helpers
        .iter()
        .map(|(k, v)| (normalize_key(k), v))
        .collect();
    if let Some(helper) = keys.iter().find_map(|k| helpers.get(k)) {
        return Ok(
            run_helper(helper, &helper_server(registry))?.map(|credential| Found {
                credential,
                origin: format!("docker-credential-{helper}"),
            }),
        );
    }
    let auths: HashMap<String, &AuthEntry> = cfg
        .auths
        .iter()
        .map(|(k, v)| (normalize_key(k), v))
        .collect();
    for key in &keys {
        if let Some(entry) = auths.get(key)
            && let Some(credential) = entry.credential(&origin)?
        {
            return Ok(Some(Found { credential, origin }));
        }
    }
    if let Some(store) = &cfg.creds_store {
        return Ok(
            run_helper(store, &helper_server(registry))?.map(|credential| Found {
                credential,
                origin: format!("docker-credential-{store}"),
            }),
        );
    }
    Ok(None)
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => home().map(|h| h.join(".docker/config.json")),
    }
}

/// Podman's auth files, in the order podman reads them.
fn podman_auth_paths() -> Vec<PathBuf> {
    if let Some(f) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|f| !f.is_empty()) {
        return vec![PathBuf::from(f)];
    }
    let mut out = Vec::new();
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(run).join("containers/auth.json"));
    }
    if let Some(h) = home() {
        out.push(h.join(".config/containers/auth.json"));
    }
    out
}

/// Find the stored credential for `registry` (normalised, `docker.io` for Docker Hub)
/// and `repository`. A config file that exists but cannot be read is an error: the
/// user meant it to be used.
pub fn lookup(registry: &str, repository: &str) -> Result<Option<Found>, String> {
    let files = docker_config_path().into_iter().chain(podman_auth_paths());
    for path in files {
        if let Some(cfg) = read_config(&path)?
            && let Some(found) = from_config(&cfg, &path, registry, repository)?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_key("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(normalize_key("ghcr.io/org"), "ghcr.io/org");
        assert_eq!(
            lookup_keys("ghcr.io", "org/app"),
            ["ghcr.io/org/app", "ghcr.io/org", "ghcr.io"]
        );
    }

    #[test]
    fn auths_entries_give_credentials() {
        let cfg: ConfigFile = serde_json::from_str(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNzOndvcmQ="},
                "ghcr.io/org": {"username": "u", "password": "p"},
                "quay.io": {"identitytoken": "tok"}
            }}"#,
        )
        .expect("config");
        let p = Path::new("config.json");
        let get = |r: &str, repo: &str| {
            from_config(&cfg, p, r, repo)
                .expect("lookup")
                .map(|f| f.credential)
        };
        assert_eq!(
            get("docker.io", "library/python"),
            Some(Credential::Basic {
                username: "user".into(),
                password: "pass:word".into()
            })
        );
        assert_eq!(
            get("ghcr.io", "org/app"),
            Some(Credential::Basic {
                username: "u".into(),
                password: "p".into()
            })
        );
        assert_eq!(get("ghcr.io", "other/app"), None);
        assert_eq!(
            get("quay.io", "a/b"),
            Some(Credential::IdentityToken("tok".into()))
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Credential::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credential::IdentityToken("t0k".into())).contains("t0k"));
    }

    #[test]
    fn bad_auth_values_are_errors_without_the_secret() {
        let e = AuthEntry {
            auth: Some("bm9jb2xvbg==".into()), // "nocolon"
            ..AuthEntry::default()
        };
        let msg = e.credential("config.json").expect_err("no colon");
        assert!(msg.contains("config.json") && !msg.contains("nocolon"));
    }
}
