//! The registry's HTTP side, synchronous (ureq, rustls with the system roots plus any
//! `--ca-cert`): the `/v2/` ping that learns the scheme and the auth challenge, bearer
//! tokens from the token service (anonymous, with basic credentials, or with an
//! identity token), basic auth, bounded retries of transient failures (connection
//! errors, 429, 5xx), redirects followed by hand so that credentials never go to
//! another host (whose refusals and challenges are its own, not the registry's), and
//! blob bodies that resume with a `Range` request when a connection drops mid-layer.
//! Nothing is written to disk.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use ureq::http::Response;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, Body, ResponseExt};

use super::auth::{Credential, Found};
use super::reference::Reference;

/// Transient failures retried per request (with backoff 0.25 s, 0.5 s, 1 s, 2 s).
const RETRIES: u32 = 4;
/// Redirects followed per request.
const MAX_REDIRECTS: u32 = 8;
/// A dropped layer download is resumed this many times.
const RESUMES: u32 = 4;
/// Error bodies are read up to this much, for the message.
const ERROR_BODY_LIMIT: u64 = 16 << 10;

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
    /// Anything else, with what was asked and what happened.
    Other(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Auth(m) | Failure::NotFound(m) | Failure::Other(m) => m,
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
}

fn agent(ca_cert: Option<&Path>) -> Result<Agent, String> {
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
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        .timeout_per_read(Some(Duration::from_secs(120)))
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build();
    Ok(config.into())
}

/// Parse a `WWW-Authenticate` challenge: the scheme (lowercased) and its parameters
/// (keys lowercased, quoted values unescaped), in order.
///
/// Public so that the fuzz targets (`fuzz/`) can reach it; the client is its only
/// caller in the crate.
pub fn parse_challenge(value: &str) -> (String, Vec<(String, String)>) {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => val.extend(chars.next()),
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != ',') {
                val.push(c);
                chars.next();
            }
        }
        params.push((key.trim().to_ascii_lowercase(), val));
    }
    (scheme.to_ascii_lowercase(), params)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// A redirect target made absolute.
fn join(current: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if location.starts_with("//") {
        let scheme = current.split("://").next().unwrap_or("https");
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{}{location}", origin(current))
    } else {
        let dir = current.rsplit_once('/').map(|(d, _)| d).unwrap_or(current);
        format!("{dir}/{location}")
    }
}

/// Percent-encode a query value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One line of an error body: the registry's `errors[].message`, or the start of
/// the text, with control characters dropped.
fn error_text(resp: Response<Body>) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let mut body = Vec::new();
    let _ = resp
        .into_body()
        .into_reader()
        .take(ERROR_BODY_LIMIT)
        .read_to_end(&mut body);
    let text = match serde_json::from_slice::<Errors>(&body) {
        Ok(e) => e
            .errors
            .iter()
            .map(|i| format!("{} {}", i.code, i.message).trim().to_string())
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => String::from_utf8_lossy(&body).into_owned(),
    };
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean.trim().to_string()
}

fn status_line(status: u16, detail: &str) -> String {
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    match detail {
        "" => format!("{status} {reason}").trim().to_string(),
        d => format!("{status} {reason}: {d}"),
    }
}

fn transient(status: u16) -> bool {
    status == 429 || status == 408 || (500..=599).contains(&status) && status != 501
}

fn io_failure(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed
    )
}

fn backoff(attempt: u32) {
    std::thread::sleep(Duration::from_millis(250 << attempt.min(4)));
}

/// A token service's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl Client {
    /// Connect: ping `/v2/` over https (then plain http where allowed), and learn
    /// how requests are authorised.
    pub fn connect(
        reference: &Reference,
        connect: &Connect<'_>,
        credential: Option<Found>,
    ) -> Result<Client, Failure> {
        let agent = agent(connect.ca_cert).map_err(Failure::Other)?;
        let host = reference.api_host();
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
        };
        let ping_url = format!("{}/v2/", client.base);
        // Where plain http is allowed, a failed https attempt is not retried: the
        // registry most likely speaks http.
        let https = if connect.allow_http {
            client
                .send_following(&ping_url, None, None)
                .map_err(|(e, _)| e)
        } else {
            client.send_retrying(&ping_url, None, None)
        };
        let ping = match https {
            Ok(r) => r,
            Err(https) if connect.allow_http => {
                client.base = format!("http://{host}");
                let http = client.send_retrying(&format!("{}/v2/", client.base), None, None);
                match http {
                    Ok(r) if [200, 401, 404].contains(&r.status().as_u16()) => r,
                    // An https registry answers plain http with 400: the https error
                    // (an unknown CA, say) is the one to tell.
                    Ok(r) => {
                        return Err(Failure::Other(format!(
                            "cannot reach the registry over https ({https}); over plain http it answered {}",
                            status_line(r.status().as_u16(), "")
                        )));
                    }
                    Err(http) => {
                        return Err(Failure::Other(format!(
                            "cannot reach the registry over https ({https}) or http ({http})"
                        )));
                    }
                }
            }
            Err(e) => return Err(Failure::Other(format!("cannot reach the registry: {e}"))),
        };
        let status = ping.status().as_u16();
        if status == 401 {
            let challenge = ping
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            client.learn(&challenge)?;
        } else if !(200..300).contains(&status) && status != 404 {
            return Err(Failure::Other(format!(
                "GET /v2/: {}",
                status_line(status, &error_text(ping))
            )));
        }
        Ok(client)
    }

    /// Take a challenge: remember the scheme and get the credential it needs.
    fn learn(&self, challenge: &str) -> Result<(), Failure> {
        let (scheme, params) = parse_challenge(challenge);
        let param = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let scheme = match scheme.as_str() {
            "bearer" => Scheme::Bearer {
                realm: param("realm").ok_or_else(|| {
                    Failure::Other("the registry's bearer challenge names no realm".to_string())
                })?,
                service: param("service"),
            },
            "basic" => Scheme::Basic,
            _ => {
                return Err(Failure::Other(format!(
                    "the registry asks for authentication of an unknown kind ({})",
                    scheme
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(40)
                        .collect::<String>()
                )));
            }
        };
        let header = match &scheme {
            Scheme::Anonymous => None,
            Scheme::Basic => match &self.credential {
                Some(Found {
                    credential: Credential::Basic { username, password },
                    ..
                }) => Some(Credential::basic_header(username, password)),
                Some(found) => {
                    return Err(Failure::Auth(format!(
                        "the registry wants a user name and password; {} holds a token",
                        found.origin
                    )));
                }
                None => return Err(self.no_credentials()),
            },
            Scheme::Bearer { realm, service } => {
                let scope = param("scope")
                    .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                Some(format!(
                    "Bearer {}",
                    self.token(realm, service.as_deref(), &scope)?
                ))
            }
        };
        let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        state.scheme = scheme;
        state.header = header;
        Ok(())
    }

    fn no_credentials(&self) -> Failure {
        Failure::Auth(format!(
            "authentication required, and no credentials for {} were found",
            self.registry
        ))
    }

    /// Where the credentials came from, for messages.
    fn origin_note(&self) -> String {
        match &self.credential {
            Some(f) => format!(" with the credentials from {}", f.origin),
            None => " anonymously".to_string(),
        }
    }

    /// A token for `scope` from the token service.
    fn token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String, Failure> {
        if !realm.starts_with("https://") && !realm.starts_with("http://") {
            return Err(Failure::Other(format!(
                "the registry's token service {:?} is not an http(s) URL",
                realm.chars().take(80).collect::<String>()
            )));
        }
        // Credentials go to the token service over https, or to this registry's own host.
        let may_send = realm.starts_with("https://") || origin(realm) == self.base;
        let mut query = vec![format!("scope={}", encode(scope))];
        if let Some(s) = service {
            query.insert(0, format!("service={}", encode(s)));
        }
        let credential = self.credential.as_ref().filter(|_| may_send);
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", query.join("&"));
        let resp = match credential.map(|f| &f.credential) {
            Some(Credential::IdentityToken(t)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", t.as_str()),
                    ("client_id", "imgsize"),
                    ("scope", scope),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                self.agent
                    .post(realm)
                    .send_form(form)
                    .map_err(|e| Failure::Other(format!("token service: {e}")))?
            }
            Some(Credential::Basic { username, password }) => self
                .send_retrying(
                    &url,
                    None,
                    Some(&Credential::basic_header(username, password)),
                )
                .map_err(|e| Failure::Other(format!("token service: {e}")))?,
            None => self
                .send_retrying(&url, None, None)
                .map_err(|e| Failure::Other(format!("token service: {e}")))?,
        };
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let detail = error_text(resp);
            return Err(match &self.credential {
                Some(_) => Failure::Auth(format!(
                    "authentication failed{}: the token service answered {}",
                    self.origin_note(),
                    status_line(status, &detail)
                )),
                None => self.no_credentials(),
            });
        }
        if !(200..300).contains(&status) {
            return Err(Failure::Other(format!(
                "token service: {}",
                status_line(status, &error_text(resp))
            )));
        }
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| Failure::Other(format!("token service: {e}")))?;
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| Failure::Other("the token service's answer is not a token".to_string()))?;
        answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Other("the token service gave no token".to_string()))
    }

    /// One request (following redirects by hand, retrying transient failures); the
    /// response may have any status.
    fn send_retrying(
        &self,
        url: &str,
        headers: Option<&[(&str, String)]>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>, String> {
        let mut attempt = 0;
        loop {
            match self.send_following(url, headers, authorization) {
                Ok(resp) if transient(resp.status().as_u16()) && attempt < RETRIES => {}
                Ok(resp) => return Ok(resp),
                Err((_, true)) if attempt < RETRIES => {}
                Err((e, _)) => return Err(e),
            }
            backoff(attempt);
            attempt += 1;
        }
    }

    /// One request and its redirects; `Authorization` only to the first origin.
    fn send_following(
        &self,
        url: &str,
        headers: Option<&[(&str, String)]>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>, (String, bool)> {
        let first = origin(url).to_string();
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.agent.get(&current);
            for (k, v) in headers.unwrap_or(&[]) {
                req = req.header(*k, v.as_str());
            }
            if let Some(a) = authorization.filter(|_| origin(&current) == first) {
                req = req.header("Authorization", a);
            }
            let resp = req.call().map_err(|e| {
                let retry = io_failure(&e);
                (format!("{}: {e}", strip_query(&current)), retry)
            })?;
            let status = resp.status().as_u16();
            if !(300..400).contains(&status) || status == 304 {
                return Ok(resp);
            }
            let Some(location) = resp.headers().get("location").and_then(|v| v.to_str().ok())
            else {
                return Ok(resp);
            };
            let next = join(&current, location);
            if current.starts_with("https://") && next.starts_with("http://") {
                return Err((
                    format!(
                        "{}: redirected from https to plain http",
                        strip_query(&current)
                    ),
                    false,
                ));
            }
            current = next;
        }
        Err((
            format!("{}: more than {MAX_REDIRECTS} redirects", strip_query(url)),
            false,
        ))
    }

    /// GET a registry path (`manifests/…`, `blobs/…`) of the repository, authorised,
    /// refreshing the token once when it is refused (it expired, or wants another
    /// scope). Returns the 2xx response or says why not.
    pub fn get(&self, what: &str, headers: &[(&str, String)]) -> Result<Response<Body>, Failure> {
        let url = format!("{}/v2/{}/{what}", self.base, self.repository);
        let mut refreshed = false;
        loop {
            let header = self
                .auth
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .header
                .clone();
            let resp = self
                .send_retrying(&url, Some(headers), header.as_deref())
                .map_err(Failure::Other)?;
            let status = resp.status().as_u16();
            let answered_by = origin(&resp.get_uri().to_string()).to_string();
            if answered_by != self.base && !(200..300).contains(&status) {
                // A redirect target (a CDN) answered: its refusal is not the
                // credentials' fault (they are not sent there) and its challenge is
                // not this registry's to learn.
                let detail = format!(
                    "GET {what}: redirected to {answered_by}, which answered {}",
                    status_line(status, &error_text(resp))
                );
                return Err(match status {
                    404 => Failure::NotFound(detail),
                    _ => Failure::Other(detail),
                });
            }
            match status {
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
                401 | 403 => {
                    let detail = status_line(status, &error_text(resp));
                    return Err(match &self.credential {
                        Some(_) => Failure::Auth(format!(
                            "authentication failed{}: GET {what}: {detail}",
                            self.origin_note()
                        )),
                        None if status == 401 => self.no_credentials(),
                        None => Failure::Auth(format!("GET {what}: {detail} (anonymously)")),
                    });
                }
                404 => {
                    return Err(Failure::NotFound(format!(
                        "GET {what}: {}",
                        status_line(status, &error_text(resp))
                    )));
                }
                _ => {
                    return Err(Failure::Other(format!(
                        "GET {what}: {}",
                        status_line(status, &error_text(resp))
                    )));
                }
            }
        }
    }

    /// A blob as a reader that resumes a dropped download where it stopped.
    pub fn blob(&self, digest: &str) -> io::Result<BlobReader<'_>> {
        let what = format!("blobs/{digest}");
        let resp = self.get(&what, &[]).map_err(|f| match f {
            Failure::NotFound(m) => io::Error::new(io::ErrorKind::NotFound, m),
            f => io::Error::other(f.message().to_string()),
        })?;
        Ok(BlobReader {
            client: self,
            what,
            body: Some(Box::new(resp.into_body().into_reader())),
            pos: 0,
            resumes: 0,
        })
    }
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// A blob body being downloaded; a connection that drops is resumed with `Range`.
pub struct BlobReader<'a> {
    client: &'a Client,
    what: String,
    body: Option<Box<dyn Read + Send>>,
    pos: u64,
    resumes: u32,
}

impl BlobReader<'_> {
    fn resume(&mut self, cause: &io::Error) -> io::Result<()> {
        self.body = None;
        if self.resumes >= RESUMES {
            // Not the decoder's "stream ends early": the network, not the blob, failed.
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!(
                    "GET {}: the download broke off {} times, last at byte {}: {cause}",
                    self.what,
                    self.resumes + 1,
                    self.pos
                ),
            ));
        }
        self.resumes += 1;
        backoff(self.resumes - 1);
        let range = [("Range", format!("bytes={}-", self.pos))];
        let resp = self.client.get(&self.what, &range).map_err(|f| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!(
                    "the download broke off at byte {} ({cause}), and resuming it failed: {}",
                    self.pos,
                    f.message()
                ),
            )
        })?;
        if resp.status().as_u16() != 206 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!(
                    "GET {}: the download broke off at byte {} ({cause}) and the registry cannot resume it",
                    self.what, self.pos
                ),
            ));
        }
        self.body = Some(Box::new(resp.into_body().into_reader()));
        Ok(())
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(body) = self.body.as_mut() else {
                return Err(io::Error::other(format!("GET {}: no body", self.what)));
            };
            match body.read(buf) {
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.resume(&e)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(
            p,
            [
                (
                    "realm".to_string(),
                    "https://auth.docker.io/token".to_string()
                ),
                ("service".to_string(), "registry.docker.io".to_string()),
                (
                    "scope".to_string(),
                    "repository:library/ubuntu:pull,push".to_string()
                ),
            ]
        );
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((s.as_str(), p.len()), ("basic", 1));
        let (s, p) = parse_challenge("Basic");
        assert_eq!((s.as_str(), p.len()), ("basic", 0));
    }

    #[test]
    fn redirects_resolve() {
        let cur = "https://r.example/v2/app/blobs/sha256:ab?x=1";
        assert_eq!(origin(cur), "https://r.example");
        assert_eq!(join(cur, "/other"), "https://r.example/other");
        assert_eq!(join(cur, "https://cdn.example/x"), "https://cdn.example/x");
        assert_eq!(join(cur, "//cdn.example/x"), "https://cdn.example/x");
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
    }
}
