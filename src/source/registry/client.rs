//! The registry's HTTP side, synchronous (ureq, rustls with the system roots plus any
//! `--ca-cert`): the `/v2/` ping that learns the scheme and the auth challenge, bearer
//! tokens from the token service (anonymous, with basic credentials, or with an
//! identity token), basic auth, bounded retries of transient failures (connection
//! errors, 429, 5xx), redirects followed by hand so that credentials never go to
//! another host (whose refusals and challenges are its own, not the registry's), and
//! blob bodies ([`BlobReader`]) that resume with a `Range` request when a connection
//! drops or stalls mid-layer. Every request runs under the [`Limits`]: a connect and
//! header timeout, a per-read stall timeout and what is left of the image's deadline.
//! Every message that leaves the client is scrubbed of the credentials
//! ([`Secrets`]). Nothing is written to disk.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use ureq::http::Response;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, Body, ResponseExt, Timeout};

use super::auth::{Credential, Found};
use super::download::{BlobReader, Limits, human};
use super::reference::Reference;
use super::secrets::Secrets;

/// Transient failures retried per request (with backoff 0.25 s, 0.5 s, 1 s, 2 s, or
/// what `Retry-After` asks).
const RETRIES: u32 = 4;
/// Redirects followed per request.
const MAX_REDIRECTS: u32 = 8;
/// Error bodies are read up to this much, for the message.
const ERROR_BODY_LIMIT: u64 = 16 << 10;
/// Without a deadline, a `Retry-After` wait is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

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

fn agent(ca_cert: Option<&Path>, limits: &Limits) -> Result<Agent, String> {
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
/// the text, with control characters dropped and the secrets masked (before the
/// line is cut, so that no part of one is left).
fn error_text(secrets: &Secrets, resp: Response<Body>) -> String {
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
    let text = secrets.scrub(&text);
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

/// A failure worth another try: the connection, not a timeout (a request that timed
/// out has had its time; trying again would multiply it).
fn io_failure(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Io(_) | ureq::Error::ConnectionFailed)
}

/// How long a 429 or 503 asks to wait: `Retry-After` in seconds or as an HTTP date.
fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    let status = resp.status().as_u16();
    if status != 429 && status != 503 {
        return None;
    }
    let value = resp.headers().get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
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
                self.base = format!("http://{host}");
                let http = self.send_retrying(&format!("{}/v2/", self.base), None, None);
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

    /// A redirect's query (a CDN's signed URL) is a secret too: the whole of it, and
    /// each value long enough to be a signature or a credential.
    fn note_query(&self, url: &str) {
        let Some((_, query)) = url.split_once('?') else {
            return;
        };
        self.secrets.add(query);
        for pair in query.split('&') {
            if let Some((_, value)) = pair.split_once('=')
                && value.len() >= 8
            {
                self.secrets.add(value);
            }
        }
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

    /// What is left of the image's time; an error once it is up.
    fn remaining(&self) -> Result<Option<Duration>, String> {
        let Some(deadline) = self.deadline else {
            return Ok(None);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.past_deadline());
        }
        Ok(Some(left))
    }

    fn past_deadline(&self) -> String {
        let d = self.limits.deadline.unwrap_or_default();
        format!("the image's {} deadline has passed (--deadline)", human(d))
    }

    /// Sleep before a retry, unless that would pass the deadline.
    pub(super) fn wait(&self, pause: Duration) -> Result<(), String> {
        if let Some(left) = self.remaining()?
            && pause >= left
        {
            return Err(format!(
                "waiting {} more would pass the image's {} deadline (--deadline)",
                human(pause),
                human(self.limits.deadline.unwrap_or_default())
            ));
        }
        std::thread::sleep(pause);
        Ok(())
    }

    /// The backoff before retry number `attempt` (0-based): 0.25 s, doubling.
    pub(super) fn backoff(attempt: u32) -> Duration {
        Duration::from_millis(250 << attempt.min(4))
    }

    /// A request failure in words that name the limit it hit.
    fn describe(&self, e: &ureq::Error) -> String {
        let limits = &self.limits;
        match e {
            ureq::Error::Timeout(Timeout::Global) => self.past_deadline(),
            ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => format!(
                "no connection within {} (--request-timeout)",
                human(limits.request)
            ),
            ureq::Error::Timeout(
                Timeout::SendRequest | Timeout::RecvResponse | Timeout::PerCall,
            ) => format!(
                "no answer within {} (--request-timeout)",
                human(limits.request)
            ),
            ureq::Error::Timeout(_) => format!(
                "nothing received for {} (--stall-timeout)",
                human(limits.stall)
            ),
            e => e.to_string(),
        }
    }

    /// A body read's failure in words, and whether resuming could help (not once the
    /// deadline has passed).
    pub(super) fn describe_io(&self, e: &io::Error) -> (String, bool) {
        match e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
            Some(u @ ureq::Error::Timeout(Timeout::Global)) => (self.describe(u), false),
            Some(u) => (self.describe(u), true),
            None => (e.to_string(), true),
        }
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
                let token = self.token(realm, service.as_deref(), &scope)?;
                self.secrets.add(&token);
                Some(format!("Bearer {token}"))
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
        let failed = |e: String| Failure::Other(format!("token service: {e}"));
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
                let left = self.remaining().map_err(failed)?;
                self.agent
                    .post(realm)
                    .config()
                    .timeout_global(left)
                    .build()
                    .send_form(form)
                    .map_err(|e| failed(self.describe(&e)))?
            }
            Some(Credential::Basic { username, password }) => self
                .send_retrying(
                    &url,
                    None,
                    Some(&Credential::basic_header(username, password)),
                )
                .map_err(failed)?,
            None => self.send_retrying(&url, None, None).map_err(failed)?,
        };
        self.token_answer(resp)
    }

    /// The token in a token service's answer, or why there is none.
    fn token_answer(&self, resp: Response<Body>) -> Result<String, Failure> {
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let detail = error_text(&self.secrets, resp);
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
                status_line(status, &error_text(&self.secrets, resp))
            )));
        }
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| Failure::Other(format!("token service: {}", self.describe_io(&e).0)))?;
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| Failure::Other("the token service's answer is not a token".to_string()))?;
        answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Other("the token service gave no token".to_string()))
    }

    /// One request (following redirects by hand, retrying transient failures after
    /// the backoff or what `Retry-After` asks, within the deadline); the response may
    /// have any status.
    fn send_retrying(
        &self,
        url: &str,
        headers: Option<&[(&str, String)]>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>, String> {
        let mut attempt = 0;
        loop {
            let pause = match self.send_following(url, headers, authorization) {
                Ok(resp) if transient(resp.status().as_u16()) && attempt < RETRIES => {
                    match retry_after(&resp) {
                        Some(asked) if self.deadline.is_none() => asked.min(MAX_RETRY_AFTER),
                        Some(asked) => asked,
                        None => Client::backoff(attempt),
                    }
                }
                Ok(resp) => return Ok(resp),
                Err((_, true)) if attempt < RETRIES => Client::backoff(attempt),
                Err((e, _)) => return Err(e),
            };
            self.wait(pause).map_err(|why| {
                format!(
                    "{}: the registry asked to try again later, and {why}",
                    strip_query(url)
                )
            })?;
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
            let left = self
                .remaining()
                .map_err(|e| (format!("{}: {e}", strip_query(&current)), false))?;
            let mut req = self
                .agent
                .get(&current)
                .config()
                .timeout_global(left)
                .build();
            for (k, v) in headers.unwrap_or(&[]) {
                req = req.header(*k, v.as_str());
            }
            if let Some(a) = authorization.filter(|_| origin(&current) == first) {
                req = req.header("Authorization", a);
            }
            let resp = req.call().map_err(|e| {
                let retry = io_failure(&e);
                (
                    format!("{}: {}", strip_query(&current), self.describe(&e)),
                    retry,
                )
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
            self.note_query(&next);
            current = next;
        }
        Err((
            format!("{}: more than {MAX_REDIRECTS} redirects", strip_query(url)),
            false,
        ))
    }

    /// GET a registry path (`manifests/…`, `blobs/…`) of the repository, authorised,
    /// refreshing the token once when it is refused (it expired, or wants another
    /// scope). Returns the 2xx response or says why not, with the secrets masked.
    pub fn get(&self, what: &str, headers: &[(&str, String)]) -> Result<Response<Body>, Failure> {
        self.get_once_refreshed(what, headers)
            .map_err(|f| self.scrubbed(f))
    }

    fn get_once_refreshed(
        &self,
        what: &str,
        headers: &[(&str, String)],
    ) -> Result<Response<Body>, Failure> {
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

    /// A blob as a reader that resumes a dropped or stalled download where it stopped.
    pub fn blob(&self, digest: &str) -> io::Result<BlobReader<'_>> {
        let what = format!("blobs/{digest}");
        let resp = self.get(&what, &[]).map_err(|f| match f {
            Failure::NotFound(m) => io::Error::new(io::ErrorKind::NotFound, m),
            f => io::Error::other(f.message().to_string()),
        })?;
        Ok(BlobReader::new(
            self,
            what,
            Box::new(resp.into_body().into_reader()),
        ))
    }
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
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
