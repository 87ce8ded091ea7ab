//! The registry's HTTP side, synchronous (ureq, rustls with the system roots plus any
//! `--ca-cert`): the `/v2/` ping that learns the scheme and the auth challenge, bearer
//! tokens from the token service (anonymous, with basic credentials, or with an
//! identity token), basic auth, bounded retries of transient failures (connection
//! errors, 429, 5xx), redirects followed by hand so that credentials never go to
//! another host (whose refusals and challenges are its own, not the registry's), and
//! blob bodies (`download::BlobReader`) that resume with a `Range` request when a connection
//! drops or stalls mid-layer. Every request runs under the [`Limits`]: a connect and
//! header timeout, a per-read stall timeout and what is left of the image's deadline.
//! Every message that leaves the client is scrubbed of the credentials
//! ([`Secrets`]). Nothing is written to disk.
//!
//! Here: connecting, GETs of the repository and what a refusal means. `token`: the
//! challenge and the credential it asks for. `transport`: one request with its
//! redirects, retries and limits.

mod token;
mod transport;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use ureq::http::Response;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, Body, ResponseExt};

use super::auth::Found;
use super::limits::Limits;
use super::reference::Reference;
use super::secrets::Secrets;
pub use token::parse_challenge;
use transport::{error_text, origin, status_line};

/// The manifest and index types asked for, OCI and Docker schema 2.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Why a request failed.
#[derive(Debug)]
pub enum Failure {
    /// The registry refused the credentials, or wants some and has none.
    Auth(String),
    /// The thing asked for is not there (404).
    NotFound(String),
    /// Nothing answered: the registry could not be reached at all.
    Unreachable(String),
    /// Anything else, with what was asked and what happened.
    Other(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Auth(m)
            | Failure::NotFound(m)
            | Failure::Unreachable(m)
            | Failure::Other(m) => m,
        }
    }
}

/// How requests are authorised, as learned from the challenge.
#[derive(Debug, Clone)]
enum Scheme {
    /// No challenge seen.
    Anonymous,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

#[derive(Debug)]
struct AuthState {
    scheme: Scheme,
    /// The `Authorization` value to send to the registry.
    header: Option<String>,
}

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct Connect<'a> {
    pub ca_cert: Option<&'a Path>,
    /// Plain http allowed (always for a registry on this machine).
    pub allow_http: bool,
    pub limits: Limits,
}

/// A connection to one repository of one registry.
pub struct Client {
    agent: Agent,
    /// `https://host:port`, or `http://…` where allowed and needed.
    base: String,
    /// The registry as the reference names it, for messages.
    pub registry: String,
    repository: String,
    credential: Option<Found>,
    auth: Mutex<AuthState>,
    /// The credential's secrets and every token received, masked in messages.
    secrets: Secrets,
    limits: Limits,
    /// When the image's time is up.
    deadline: Option<Instant>,
}

/// The agents made so far, by CA file and limits: one scan of many images loads the
/// system's root certificates once and keeps its connections.
static AGENTS: Mutex<Vec<(AgentKey, Agent)>> = Mutex::new(Vec::new());

/// What an agent is made of: the CA file and the limits.
type AgentKey = (Option<PathBuf>, Limits);

/// Hosts that answered over plain http where https failed: asked over http first next
/// time (in this process).
static PLAIN_HTTP: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The agent for these settings, made once per process.
fn agent(ca_cert: Option<&Path>, limits: &Limits) -> Result<Agent, String> {
    let key = (ca_cert.map(Path::to_path_buf), *limits);
    let mut agents = AGENTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, a)) = agents.iter().find(|(k, _)| *k == key) {
        return Ok(a.clone());
    }
    let made = new_agent(ca_cert, limits)?;
    agents.push((key, made.clone()));
    Ok(made)
}

fn new_agent(ca_cert: Option<&Path>, limits: &Limits) -> Result<Agent, String> {
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    let native = rustls_native_certs::load_native_certs();
    for c in native.certs {
        certs.push(Certificate::from_der(c.as_ref()).to_owned());
    }
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let before = certs.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                certs.push(c);
            }
        }
        if certs.len() == before {
            return Err(format!(
                "{}: no PEM certificate in the file",
                path.display()
            ));
        }
    }
    let roots = if certs.is_empty() {
        RootCerts::WebPki
    } else {
        RootCerts::new_with_certs(&certs)
    };
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(format!("imgsize/{}", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(limits.request))
        .timeout_recv_response(Some(limits.request))
        .timeout_per_read(Some(limits.stall))
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build();
    Ok(config.into())
}

/// Whether an answer to `/v2/` is a registry's: 200, 401 (credentials wanted) or 404
/// (no API root, but a server that speaks the protocol's paths).
fn registry_answer(r: &Response<Body>) -> bool {
    [200, 401, 404].contains(&r.status().as_u16())
}

impl Client {
    /// Connect: ping `/v2/` over https (then plain http where allowed), and learn
    /// how requests are authorised. The image's deadline starts now.
    pub fn connect(
        reference: &Reference,
        connect: &Connect<'_>,
        credential: Option<Found>,
    ) -> Result<Client, Failure> {
        let limits = connect.limits;
        let agent = agent(connect.ca_cert, &limits).map_err(Failure::Other)?;
        let host = reference.api_host();
        let secrets = Secrets::of(credential.as_ref().map(|f| &f.credential));
        let mut client = Client {
            agent,
            base: format!("https://{host}"),
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            credential,
            auth: Mutex::new(AuthState {
                scheme: Scheme::Anonymous,
                header: None,
            }),
            secrets,
            limits,
            deadline: limits.deadline.map(|d| Instant::now() + d),
        };
        match client.ping(connect.allow_http) {
            Ok(()) => Ok(client),
            Err(f) => Err(client.scrubbed(f)),
        }
    }

    fn ping(&mut self, allow_http: bool) -> Result<(), Failure> {
        let host = self.base["https://".len()..].to_string();
        let plain = || PLAIN_HTTP.lock().unwrap_or_else(|p| p.into_inner());
        if allow_http && plain().contains(&host) {
            if let Ok(r) = self.ping_http(&host)
                && registry_answer(&r)
            {
                return self.answered(r);
            }
            plain().retain(|h| *h != host);
            self.base = format!("https://{host}");
        }
        let ping_url = format!("{}/v2/", self.base);
        // Where plain http is allowed, a failed https attempt is not retried: the
        // registry most likely speaks http.
        let https = if allow_http {
            self.send_following(&ping_url, None, None)
                .map_err(|(e, _)| e)
        } else {
            self.send_retrying(&ping_url, None, None)
        };
        let ping = match https {
            Ok(r) => r,
            Err(https) if allow_http => {
                match self.ping_http(&host) {
                    Ok(r) if registry_answer(&r) => {
                        plain().push(host);
                        r
                    }
                    // An https registry answers plain http with 400: the https error
                    // (an unknown CA, say) is the one to tell.
                    Ok(r) => {
                        return Err(Failure::Other(format!(
                            "cannot reach the registry over https ({https}); over plain http it answered {}",
                            status_line(r.status().as_u16(), "")
                        )));
                    }
                    Err(http) => {
                        return Err(Failure::Unreachable(format!(
                            "cannot reach the registry over https ({https}) or http ({http})"
                        )));
                    }
                }
            }
            Err(e) => {
                return Err(Failure::Unreachable(format!(
                    "cannot reach the registry: {e}"
                )));
            }
        };
        self.answered(ping)
    }

    /// Ask `/v2/` over plain http, the client speaking http from now on.
    fn ping_http(&mut self, host: &str) -> Result<Response<Body>, String> {
        self.base = format!("http://{host}");
        self.send_retrying(&format!("{}/v2/", self.base), None, None)
    }

    /// Learn from the answer to `/v2/` how requests are authorised.
    fn answered(&mut self, ping: Response<Body>) -> Result<(), Failure> {
        let status = ping.status().as_u16();
        if status == 401 {
            let challenge = ping
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            self.learn(&challenge)?;
        } else if !(200..300).contains(&status) && status != 404 {
            return Err(Failure::Other(format!(
                "GET /v2/: {}",
                status_line(status, &error_text(&self.secrets, ping))
            )));
        }
        Ok(())
    }

    /// A message with every secret masked.
    pub fn scrub(&self, text: &str) -> String {
        self.secrets.scrub(text)
    }

    fn scrubbed(&self, failure: Failure) -> Failure {
        match failure {
            Failure::Auth(m) => Failure::Auth(self.scrub(&m)),
            Failure::NotFound(m) => Failure::NotFound(self.scrub(&m)),
            Failure::Unreachable(m) => Failure::Unreachable(self.scrub(&m)),
            Failure::Other(m) => Failure::Other(self.scrub(&m)),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// GET a registry path (`manifests/…`, `blobs/…`) of the repository, authorised,
    /// refreshing the token once when it is refused (it expired, or wants another
    /// scope). Returns the 2xx response or says why not, with the secrets masked.
    pub fn get(&self, what: &str, headers: &[(&str, String)]) -> Result<Response<Body>, Failure> {
        let url = format!("{}/v2/{}/{what}", self.base, self.repository);
        self.get_once_refreshed(&url, what, headers)
            .map_err(|f| self.scrubbed(f))
    }

    /// GET a path of the registry's API outside the repository (`_catalog?n=…`,
    /// `<name>/tags/list`), given after `/v2/`, authorised as [`Client::get`] is: a
    /// refusal's challenge names the scope the token must have.
    pub fn get_api(&self, path: &str) -> Result<Response<Body>, Failure> {
        let url = format!("{}/v2/{path}", self.base);
        let what = path.split('?').next().unwrap_or(path);
        self.get_once_refreshed(&url, what, &[])
            .map_err(|f| self.scrubbed(f))
    }

    fn get_once_refreshed(
        &self,
        url: &str,
        what: &str,
        headers: &[(&str, String)],
    ) -> Result<Response<Body>, Failure> {
        let mut refreshed = false;
        loop {
            let header = self
                .auth
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .header
                .clone();
            let resp = self
                .send_retrying(url, Some(headers), header.as_deref())
                .map_err(Failure::Other)?;
            let resp = self.answered_here(what, resp)?;
            match resp.status().as_u16() {
                200..=299 => return Ok(resp),
                401 if !refreshed => {
                    refreshed = true;
                    let challenge = resp
                        .headers()
                        .get("www-authenticate")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    self.learn(&challenge)?;
                }
                _ => return Err(self.refusal(what, resp)),
            }
        }
    }

    /// The response, unless a redirect target (a CDN) answered it with an error: its
    /// refusal is not the credentials' fault (they are not sent there) and its
    /// challenge is not this registry's to learn.
    fn answered_here(&self, what: &str, resp: Response<Body>) -> Result<Response<Body>, Failure> {
        let status = resp.status().as_u16();
        let answered_by = origin(&resp.get_uri().to_string()).to_string();
        if answered_by == self.base || (200..300).contains(&status) {
            return Ok(resp);
        }
        let detail = format!(
            "GET {what}: redirected to {answered_by}, which answered {}",
            status_line(status, &error_text(&self.secrets, resp))
        );
        Err(match status {
            404 => Failure::NotFound(detail),
            _ => Failure::Other(detail),
        })
    }

    /// Why the registry refused a GET, from its status and error body.
    fn refusal(&self, what: &str, resp: Response<Body>) -> Failure {
        let status = resp.status().as_u16();
        let detail = status_line(status, &error_text(&self.secrets, resp));
        match status {
            401 | 403 => match &self.credential {
                Some(_) => Failure::Auth(format!(
                    "authentication failed{}: GET {what}: {detail}",
                    self.origin_note()
                )),
                None if status == 401 => self.no_credentials(),
                None => Failure::Auth(format!("GET {what}: {detail} (anonymously)")),
            },
            404 => Failure::NotFound(format!("GET {what}: {detail}")),
            _ => Failure::Other(format!("GET {what}: {detail}")),
        }
    }
}
