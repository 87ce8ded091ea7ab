//! Images straight from a local container engine, through its API: the Docker Engine,
//! or Podman's Docker-compatible service. Where the engine is: `DOCKER_HOST` (or the
//! current docker context), else `/var/run/docker.sock`; Podman's `CONTAINER_HOST`,
//! else its rootless and rootful sockets. An image is looked up (`GET
//! /images/{name}/json`), then its `docker save` archive (`GET /images/{name}/get`) is
//! streamed through the one-pass reader, never to a file. HTTP is ureq's, over a Unix
//! socket ([`unix`]) or TCP.

mod unix;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::Agent;

use unix::UnixConnector;

/// Which engine an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Docker,
    Podman,
}

/// Where an engine's API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub kind: Kind,
    /// `unix:///path` or `tcp://host:port`.
    pub url: String,
}

impl Endpoint {
    /// "the Docker Engine at unix:///var/run/docker.sock", for messages.
    pub fn describe(&self) -> String {
        let name = match self.kind {
            Kind::Docker => "the Docker Engine",
            Kind::Podman => "Podman",
        };
        format!("{name} at {}", self.url)
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// The Docker Engine's endpoint: `DOCKER_HOST`, else the current docker context's
/// (`DOCKER_CONTEXT`, or `currentContext` of the docker config), else the default
/// socket.
pub fn docker() -> Endpoint {
    let url = env("DOCKER_HOST")
        .or_else(context_host)
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
    Endpoint {
        kind: Kind::Docker,
        url,
    }
}

/// The endpoint a docker context names, from `$DOCKER_CONFIG/contexts/meta/<sha256 of
/// the name>/meta.json`.
fn context_host() -> Option<String> {
    let config = env("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".docker")))?;
    let name = env("DOCKER_CONTEXT").or_else(|| {
        let text = std::fs::read(config.join("config.json")).ok()?;
        let doc: serde_json::Value = serde_json::from_slice(&text).ok()?;
        doc["currentContext"].as_str().map(str::to_string)
    })?;
    if name == "default" {
        return None;
    }
    let id = crate::bytes::digest::digest_of(crate::bytes::Algorithm::Sha256, name.as_bytes());
    let hex = id.strip_prefix("sha256:")?;
    let meta = std::fs::read(config.join("contexts/meta").join(hex).join("meta.json")).ok()?;
    let doc: serde_json::Value = serde_json::from_slice(&meta).ok()?;
    doc["Endpoints"]["docker"]["Host"]
        .as_str()
        .map(str::to_string)
}

/// Podman's endpoints, in the order they are tried.
pub fn podman() -> Vec<Endpoint> {
    let mut urls = Vec::new();
    if let Some(host) = env("CONTAINER_HOST") {
        urls.push(host);
    }
    if let Some(run) = env("XDG_RUNTIME_DIR") {
        urls.push(format!("unix://{run}/podman/podman.sock"));
    }
    urls.push("unix:///run/podman/podman.sock".to_string());
    urls.into_iter()
        .map(|url| Endpoint {
            kind: Kind::Podman,
            url,
        })
        .collect()
}

/// The TLS of `DOCKER_TLS_VERIFY`: the engine's CA and this client's certificate and
/// key, `ca.pem`, `cert.pem` and `key.pem` of `DOCKER_CERT_PATH` (default `~/.docker`).
fn tls_config(endpoint: &Endpoint) -> Result<ureq::tls::TlsConfig, String> {
    use ureq::tls::{ClientCert, PemItem, RootCerts, TlsConfig};
    let dir = env("DOCKER_CERT_PATH")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".docker")))
        .unwrap_or_default();
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| {
            format!(
                "{}: DOCKER_TLS_VERIFY needs {}: {e}",
                endpoint.describe(),
                path.display()
            )
        })
    };
    let (ca, cert, key) = (read("ca.pem")?, read("cert.pem")?, read("key.pem")?);
    let mut roots = Vec::new();
    let mut chain = Vec::new();
    let mut private = None;
    for (bytes, is_ca) in [(&ca, true), (&cert, false), (&key, false)] {
        for item in ureq::tls::parse_pem(bytes).flatten() {
            match item {
                PemItem::Certificate(c) if is_ca => roots.push(c.to_owned()),
                PemItem::Certificate(c) => chain.push(c.to_owned()),
                PemItem::PrivateKey(k) => private = Some(k.to_owned()),
                _ => {}
            }
        }
    }
    let key = private.ok_or_else(|| {
        format!(
            "{}: no private key in {}",
            endpoint.describe(),
            dir.join("key.pem").display()
        )
    })?;
    if roots.is_empty() || chain.is_empty() {
        return Err(format!(
            "{}: no certificate in {} or {}",
            endpoint.describe(),
            dir.join("ca.pem").display(),
            dir.join("cert.pem").display()
        ));
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&roots))
        .client_cert(Some(ClientCert::new_with_certs(&chain, key)))
        .build())
}

/// How every request to an engine is made; over TLS when given one.
fn agent_config(tls: Option<ureq::tls::TlsConfig>) -> ureq::config::Config {
    let builder = Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(format!("imgsize/{}", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(Duration::from_secs(10)))
        // Saving a large image may take a while before its first byte.
        .timeout_recv_response(Some(Duration::from_secs(600)))
        .timeout_per_read(Some(Duration::from_secs(300)));
    match tls {
        Some(tls) => builder.tls_config(tls).build(),
        None => builder.build(),
    }
}

/// The largest image list read from an engine (`/images/json`).
const LIST_LIMIT: u64 = 64 << 20;

/// A connection to one engine.
pub struct Engine {
    agent: Agent,
    /// `http://localhost` for a socket, `http://host:port` for TCP.
    base: String,
    pub endpoint: Endpoint,
}

/// Why an engine gave no image.
#[derive(Debug)]
pub enum Miss {
    /// Nothing listens there.
    Absent(String),
    /// It answered: it has no such image.
    NoImage,
    /// It answered with an error.
    Refused(String),
}

/// A name as a path segment of the API (`/` and `:` kept, as the API expects them).
fn path_of(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Engine {
    /// A client for `endpoint`; nothing is sent yet.
    pub fn new(endpoint: &Endpoint) -> Result<Engine, String> {
        let (agent, base) = if let Some(path) = endpoint.url.strip_prefix("unix://") {
            let connector = UnixConnector {
                path: PathBuf::from(path),
            };
            let agent = Agent::with_parts(
                agent_config(None),
                connector,
                ureq::unversioned::resolver::DefaultResolver::default(),
            );
            (agent, "http://localhost".to_string())
        } else if let Some(host) = endpoint.url.strip_prefix("tcp://") {
            if env("DOCKER_TLS_VERIFY").is_some_and(|v| v != "0") {
                let config = agent_config(Some(tls_config(endpoint)?));
                (Agent::new_with_config(config), format!("https://{host}"))
            } else {
                (
                    Agent::new_with_config(agent_config(None)),
                    format!("http://{host}"),
                )
            }
        } else {
            return Err(format!(
                "{}: not a unix:// or tcp:// address",
                endpoint.describe()
            ));
        };
        Ok(Engine {
            agent,
            base,
            endpoint: endpoint.clone(),
        })
    }

    fn get(&self, path: &str) -> Result<ureq::http::Response<ureq::Body>, Miss> {
        let url = format!("{}{path}", self.base);
        self.agent.get(&url).call().map_err(|e| match e {
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::Timeout(_) => {
                Miss::Absent(format!(
                    "{} does not answer ({e})",
                    self.endpoint.describe()
                ))
            }
            e => Miss::Refused(format!("{}: {e}", self.endpoint.describe())),
        })
    }

    /// The engine's message in an error answer.
    fn refusal(&self, what: &str, resp: ureq::http::Response<ureq::Body>) -> Miss {
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        let _ = resp
            .into_body()
            .into_reader()
            .take(4096)
            .read_to_end(&mut body);
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        let message: String = message
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        Miss::Refused(format!(
            "{}: {what}: {status} {}",
            self.endpoint.describe(),
            message.trim()
        ))
    }

    /// Every image the engine holds: its id and its `repository:tag` names (none for an
    /// untagged image), from `/images/json`.
    pub fn images(&self) -> Result<Vec<(String, Vec<String>)>, Miss> {
        let resp = self.get("/images/json")?;
        if resp.status().as_u16() != 200 {
            return Err(self.refusal("listing the images", resp));
        }
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(LIST_LIMIT)
            .read_to_end(&mut body)
            .map_err(|e| {
                Miss::Refused(format!(
                    "{}: listing the images: {e}",
                    self.endpoint.describe()
                ))
            })?;
        let list: Vec<serde_json::Value> = serde_json::from_slice(&body).map_err(|e| {
            Miss::Refused(format!(
                "{}: the image list is not a JSON array: {e}",
                self.endpoint.describe()
            ))
        })?;
        Ok(list
            .iter()
            .filter_map(|image| {
                let id = image["Id"].as_str()?.to_string();
                let mut tags: Vec<String> = image["RepoTags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str())
                    .filter(|t| !t.contains("<none>"))
                    .map(str::to_string)
                    .collect();
                tags.sort();
                Some((id, tags))
            })
            .collect())
    }

    /// The image's `docker save` archive as a stream, when the engine has it.
    pub fn archive(&self, name: &str) -> Result<Box<dyn Read + Send>, Miss> {
        let name = path_of(name);
        let inspect = self.get(&format!("/images/{name}/json"))?;
        match inspect.status().as_u16() {
            200 => {}
            404 => return Err(Miss::NoImage),
            _ => return Err(self.refusal("inspecting the image", inspect)),
        }
        let saved = self.get(&format!("/images/{name}/get"))?;
        if saved.status().as_u16() != 200 {
            return Err(self.refusal("saving the image", saved));
        }
        Ok(Box::new(saved.into_body().into_reader()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_api_paths() {
        assert_eq!(path_of("ghcr.io/org/app:1.2"), "ghcr.io/org/app:1.2");
        assert_eq!(path_of("app@sha256:ab"), "app@sha256:ab");
        assert_eq!(path_of("a b?c"), "a%20b%3Fc");
        let d = Endpoint {
            kind: Kind::Docker,
            url: "unix:///var/run/docker.sock".into(),
        };
        assert_eq!(
            d.describe(),
            "the Docker Engine at unix:///var/run/docker.sock"
        );
    }
}
