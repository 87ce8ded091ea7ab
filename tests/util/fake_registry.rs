//! A fake registry inside the test process, for the faults a real one will not make:
//! one image from an OCI layout (as the builder writes it) served under the
//! distribution API on 127.0.0.1 (`GET`/`HEAD` of `/v2/`, `/v2/app/manifests/<tag or
//! digest>`, `/v2/app/blobs/<digest>` with `Range: bytes=N-`), plain HTTP/1.1 parsed by
//! hand, one thread and one request per connection, every request recorded (method,
//! path, headers, the status answered, when it came). [`Faults`] make it ask for basic
//! or bearer auth, send blobs to another origin, fail (with `Retry-After`), cut,
//! corrupt, stall or drip bodies, stall before the headers, echo the request's
//! headers in an error body, serve an index of its own for the tag, or redirect
//! forever.
//!
//! It owns serving and recording; it must not know what imgsize reports. The server
//! stops when the [`FakeRegistry`] is dropped: its loops are bounded by a stop flag, a
//! connection count, request-size limits and socket timeouts.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

/// The one repository and tag served: images are `127.0.0.1:PORT/app:1`.
pub const NAME: &str = "app";
pub const TAG: &str = "1";
/// The bearer token the token service hands out (any instance: a registry may use
/// another instance as its token service).
pub const TOKEN: &str = "fake-token-0f3c9a";

/// The query a blob redirect carries, as a CDN's signed URL does: a secret that no
/// message may show.
pub const SIGNATURE: &str = "X-Amz-Signature=fake-signature-5e1c";

/// Connections accepted at most; then the server stops by itself.
const MAX_CONNECTIONS: usize = 10_000;
/// A request's head (and a token request's body) is at most this long.
const REQUEST_LIMIT: usize = 64 << 10;
/// A silent client is dropped after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// A stall or a drip ends after this long (or when the server stops).
const STALL_LIMIT: Duration = Duration::from_secs(60);

/// What the server asks of clients before it serves them.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// Anyone may read.
    #[default]
    Anonymous,
    /// `WWW-Authenticate: Basic` unless the request has this user's Basic header.
    Basic { user: String, password: String },
    /// `WWW-Authenticate: Bearer` unless the request has `Bearer TOKEN`; the token
    /// service (`/token`) gives it to anonymous requests when `anonymous_ok`, and to
    /// requests with the user's Basic header.
    Bearer {
        anonymous_ok: bool,
        user: String,
        password: String,
    },
}

/// Which requests a fault applies to.
#[derive(Clone, Debug)]
pub enum Route {
    /// Every request, `/v2/` and the token service included.
    Any,
    /// `/v2/`.
    Ping,
    /// The token service, `/token`.
    Token,
    Manifests,
    Blobs,
    /// One blob, by digest.
    Blob(String),
}

/// How an endless redirect loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loop {
    /// `302` to the very URL asked for.
    ToSelf,
    /// `302` between the URL and the URL with `?loop`.
    Alternate,
}

/// Where a blob's body is cut (the `Content-Length` still promises all of it).
#[derive(Clone, Debug)]
pub struct Truncate {
    pub digest: String,
    /// The connection closes once the body reaches this offset of the blob.
    pub at: usize,
    /// On every request; otherwise only on the first GET, so a `Range` resume works.
    pub always: bool,
}

/// An error answer whose body repeats the request's head, headers and all, as some
/// proxies and registries do.
#[derive(Clone, Debug)]
pub struct Echo {
    pub route: Route,
    pub status: u16,
    /// A distribution-API error (`errors[].message`), or plain text.
    pub json: bool,
}

/// How a body stops coming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// Nothing at all, not even the status line.
    BeforeHeaders,
    /// The headers and `after` bytes of the body, then silence.
    After(usize),
    /// The headers and `after` bytes of the body, then one byte every `every`.
    Drip { after: usize, every: Duration },
}

/// What goes wrong, per test; `Faults::default()` is a well-behaved anonymous registry.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub auth: Auth,
    /// The bearer challenge's realm, when not this server's own `/token`.
    pub token_realm: Option<String>,
    /// Blob GETs answer `307` to the same path at this origin (`http://127.0.0.1:Q`),
    /// with a [`SIGNATURE`] query.
    pub redirect_blobs_to: Option<String>,
    /// The first `count` requests on the route answer `status`.
    pub fail_first: Option<(Route, usize, u16)>,
    pub truncate: Option<Truncate>,
    /// This blob's body is replaced by these bytes.
    pub wrong_blob: Option<(String, Vec<u8>)>,
    /// Requests on the route answer `302` forever.
    pub endless_redirect: Option<(Route, Loop)>,
    /// `fail_first` answers carry this `Retry-After`.
    pub retry_after: Option<String>,
    pub echo: Option<Echo>,
    /// Requests on the route stall; only the first one unless `always`.
    pub stall: Option<(Route, Stall, bool)>,
    /// The tag names this document (an index, say) instead of the layout's manifest.
    pub tag_document: Option<Vec<u8>>,
}

impl Faults {
    pub fn basic(user: &str, password: &str) -> Faults {
        Faults::default().auth(Auth::Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    }

    /// Bearer auth whose token service also serves anonymous requests.
    pub fn bearer_anonymous() -> Faults {
        Faults::default().auth(Auth::Bearer {
            anonymous_ok: true,
            user: String::new(),
            password: String::new(),
        })
    }

    /// Bearer auth whose token service wants this user.
    pub fn bearer(user: &str, password: &str) -> Faults {
        Faults::default().auth(Auth::Bearer {
            anonymous_ok: false,
            user: user.to_string(),
            password: password.to_string(),
        })
    }

    pub fn auth(mut self, auth: Auth) -> Faults {
        self.auth = auth;
        self
    }

    pub fn token_realm(mut self, realm: &str) -> Faults {
        self.token_realm = Some(realm.to_string());
        self
    }

    pub fn redirect_blobs_to(mut self, origin: &str) -> Faults {
        self.redirect_blobs_to = Some(origin.to_string());
        self
    }

    pub fn fail_first(mut self, route: Route, count: usize, status: u16) -> Faults {
        self.fail_first = Some((route, count, status));
        self
    }

    pub fn truncate(mut self, digest: &str, at: usize, always: bool) -> Faults {
        self.truncate = Some(Truncate {
            digest: digest.to_string(),
            at,
            always,
        });
        self
    }

    pub fn wrong_blob(mut self, digest: &str, body: Vec<u8>) -> Faults {
        self.wrong_blob = Some((digest.to_string(), body));
        self
    }

    pub fn endless_redirect(mut self, route: Route, how: Loop) -> Faults {
        self.endless_redirect = Some((route, how));
        self
    }

    pub fn retry_after(mut self, value: &str) -> Faults {
        self.retry_after = Some(value.to_string());
        self
    }

    pub fn echo(mut self, route: Route, status: u16, json: bool) -> Faults {
        self.echo = Some(Echo {
            route,
            status,
            json,
        });
        self
    }

    pub fn stall(mut self, route: Route, how: Stall, always: bool) -> Faults {
        self.stall = Some((route, how, always));
        self
    }

    pub fn tag_document(mut self, document: Vec<u8>) -> Faults {
        self.tag_document = Some(document);
        self
    }
}

/// One request as received, and the status it was answered with.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target, query included.
    pub path: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub status: u16,
    /// When the request's head had been read.
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn authorization(&self) -> Option<&str> {
        self.header("authorization")
    }

    /// The path without its query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or(&self.path)
    }

    pub fn is_blob(&self, digest: &str) -> bool {
        self.route() == format!("/v2/{NAME}/blobs/{digest}")
    }
}

/// The `Authorization` value of a user name and password.
pub fn basic_header(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// A fake registry on `127.0.0.1:PORT`, serving until dropped.
pub struct FakeRegistry {
    port: u16,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    layout: PathBuf,
    manifest_digest: String,
    origin: String,
    faults: Faults,
    requests: Mutex<Vec<Request>>,
    /// Requests counted by `fail_first` so far.
    failed: Mutex<usize>,
    /// Whether a once-only truncation has happened.
    truncated: AtomicBool,
    /// Whether a once-only stall has happened.
    stalled: AtomicBool,
    stop: AtomicBool,
}

impl FakeRegistry {
    /// Serve the image of the OCI layout at `layout` (its index.json's first manifest)
    /// as `app:1`, with these faults.
    pub fn start(layout: &Path, faults: Faults) -> FakeRegistry {
        let index = read_json(&layout.join("index.json"));
        let manifest_digest = index["manifests"][0]["digest"]
            .as_str()
            .expect("index.json names a manifest")
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            layout: layout.to_path_buf(),
            manifest_digest,
            origin: format!("http://127.0.0.1:{port}"),
            faults,
            requests: Mutex::new(Vec::new()),
            failed: Mutex::new(0),
            truncated: AtomicBool::new(false),
            stalled: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let server = shared.clone();
        let accept = std::thread::spawn(move || {
            let mut workers: Vec<JoinHandle<()>> = Vec::new();
            for _ in 0..MAX_CONNECTIONS {
                let Ok((stream, _)) = listener.accept() else {
                    continue;
                };
                if server.stop.load(Ordering::SeqCst) {
                    break;
                }
                let shared = server.clone();
                workers.retain(|w| !w.is_finished());
                workers.push(std::thread::spawn(move || shared.serve(stream)));
            }
            for w in workers {
                let _ = w.join();
            }
        });
        FakeRegistry {
            port,
            shared,
            accept: Some(accept),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The OCI layout served.
    pub fn layout(&self) -> &Path {
        &self.shared.layout
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        self.shared.origin.clone()
    }

    /// `127.0.0.1:PORT/app:1`.
    pub fn reference(&self) -> String {
        format!("{}/{NAME}:{TAG}", self.host())
    }

    /// The manifest's layer digests, in order.
    pub fn layers(&self) -> Vec<String> {
        let manifest = self.manifest();
        manifest["layers"]
            .as_array()
            .expect("manifest layers")
            .iter()
            .map(|l| l["digest"].as_str().expect("layer digest").to_string())
            .collect()
    }

    pub fn config_digest(&self) -> String {
        let manifest = self.manifest();
        manifest["config"]["digest"]
            .as_str()
            .expect("config digest")
            .to_string()
    }

    fn manifest(&self) -> Value {
        serde_json::from_slice(&self.blob(&self.shared.manifest_digest)).expect("manifest JSON")
    }

    /// A blob of the layout, as served without faults.
    pub fn blob(&self, digest: &str) -> Vec<u8> {
        self.shared.blob(digest).expect("blob of the layout")
    }

    /// Every request so far, in the order answered.
    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The GETs of one blob, in order.
    pub fn blob_gets(&self, digest: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.is_blob(digest))
            .collect()
    }

    /// The requests to the token service.
    pub fn token_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.route() == "/token")
            .collect()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop; it sees the flag and joins its workers.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// What a path names.
enum Target<'a> {
    Ping,
    Token,
    Manifest(&'a str, &'a str),
    Blob(&'a str, &'a str),
    Other,
}

fn target(route: &str) -> Target<'_> {
    if route == "/v2/" || route == "/v2" {
        return Target::Ping;
    }
    if route == "/token" {
        return Target::Token;
    }
    let Some(rest) = route.strip_prefix("/v2/") else {
        return Target::Other;
    };
    if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        return Target::Manifest(name, reference);
    }
    if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        return Target::Blob(name, digest);
    }
    Target::Other
}

impl Route {
    fn matches(&self, target: &Target<'_>) -> bool {
        match (self, target) {
            (Route::Any, _) => true,
            (Route::Ping, Target::Ping) => true,
            (Route::Token, Target::Token) => true,
            (Route::Manifests, Target::Manifest(..)) => true,
            (Route::Blobs, Target::Blob(..)) => true,
            (Route::Blob(d), Target::Blob(_, digest)) => d == digest,
            _ => false,
        }
    }
}

/// A response; the body is cut after `cut` bytes (then the connection closes), or
/// stalls.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    cut: Option<usize>,
    stall: Option<Stall>,
}

impl Reply {
    fn new(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
            cut: None,
            stall: None,
        }
    }

    /// A distribution-API error body.
    fn error(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({"errors": [{"code": code, "message": message}]});
        Reply::new(status, body.to_string().into_bytes()).header("Content-Type", "application/json")
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    fn redirect(status: u16, location: String) -> Reply {
        Reply::new(status, Vec::new()).header("Location", location)
    }

    /// An error whose text is the request's head.
    fn echo(req: &Request, echo: &Echo) -> Reply {
        // The Authorization header first, so that a client's cut of a long error
        // body still holds it.
        let mut headers = req.headers.clone();
        headers.sort_by_key(|(k, _)| k != "authorization");
        let mut head = format!("{} {}", req.method, req.path);
        for (k, v) in &headers {
            head.push_str(&format!("\n{k}: {v}"));
        }
        if echo.json {
            return Reply::error(echo.status, "DENIED", &format!("request was {head}"));
        }
        Reply::new(echo.status, format!("request was {head}").into_bytes())
            .header("Content-Type", "text/plain")
    }
}

impl Shared {
    fn serve(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let Some(mut request) = read_request(&mut stream) else {
            return;
        };
        let reply = self.answer(&request);
        request.status = reply.status;
        let method = request.method.clone();
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request);
        if reply.stall == Some(Stall::BeforeHeaders) {
            self.idle(STALL_LIMIT);
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            reply.body.len()
        ));
        let body = match (method.as_str(), reply.cut) {
            ("HEAD", _) => &[][..],
            (_, Some(cut)) => &reply.body[..cut.min(reply.body.len())],
            (_, None) => &reply.body[..],
        };
        let sent = match reply.stall {
            Some(Stall::After(n) | Stall::Drip { after: n, .. }) => n.min(body.len()),
            _ => body.len(),
        };
        let _ = stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(&body[..sent]))
            .and_then(|()| stream.flush());
        match reply.stall {
            Some(Stall::After(_)) => self.idle(STALL_LIMIT),
            Some(Stall::Drip { every, .. }) => self.drip(&mut stream, &body[sent..], every),
            _ => {}
        }
        let _ = stream.shutdown(Shutdown::Both);
    }

    /// Wait this long, or until the server stops.
    fn idle(&self, limit: Duration) {
        let since = Instant::now();
        while since.elapsed() < limit && !self.stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send `rest` one byte at a time, `every` apart, until the client hangs up, the
    /// server stops or the stall limit passes.
    fn drip(&self, stream: &mut TcpStream, rest: &[u8], every: Duration) {
        let since = Instant::now();
        for byte in rest {
            if since.elapsed() > STALL_LIMIT || self.stop.load(Ordering::SeqCst) {
                return;
            }
            self.idle(every);
            if stream
                .write_all(std::slice::from_ref(byte))
                .and_then(|()| stream.flush())
                .is_err()
            {
                return;
            }
        }
    }

    fn answer(&self, req: &Request) -> Reply {
        let route = req.path.split('?').next().unwrap_or(&req.path);
        let target = target(route);
        let faults = &self.faults;
        if let Some((on, count, status)) = &faults.fail_first
            && on.matches(&target)
        {
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            if *failed < *count {
                *failed += 1;
                let reply = Reply::error(*status, "UNAVAILABLE", "injected failure");
                return match &faults.retry_after {
                    Some(after) => reply.header("Retry-After", after.clone()),
                    None => reply,
                };
            }
        }
        if let Some(echo) = &faults.echo
            && echo.route.matches(&target)
        {
            let reply = Reply::echo(req, echo);
            return match self.challenge().filter(|_| echo.status == 401) {
                Some(challenge) => reply.header("WWW-Authenticate", challenge),
                None => reply,
            };
        }
        let reply = self.answer_target(req, target);
        match &faults.stall {
            Some((on, how, always)) if on.matches(&self::target(route)) => {
                if *always || !self.stalled.swap(true, Ordering::SeqCst) {
                    return Reply {
                        stall: Some(*how),
                        ..reply
                    };
                }
                reply
            }
            _ => reply,
        }
    }

    fn answer_target(&self, req: &Request, target: Target<'_>) -> Reply {
        let route = req.path.split('?').next().unwrap_or(&req.path);
        let faults = &self.faults;
        if let Target::Token = target {
            return self.token(req);
        }
        if let Some(challenge) = self.refused(req) {
            return Reply::error(401, "UNAUTHORIZED", "authentication required")
                .header("WWW-Authenticate", challenge);
        }
        if let Some((on, how)) = &faults.endless_redirect
            && on.matches(&target)
        {
            let next = match how {
                Loop::ToSelf => req.path.clone(),
                Loop::Alternate if req.path.ends_with("?loop") => route.to_string(),
                Loop::Alternate => format!("{route}?loop"),
            };
            return Reply::redirect(302, next);
        }
        match target {
            Target::Ping => Reply::new(200, b"{}".to_vec())
                .header("Content-Type", "application/json")
                .header("Docker-Distribution-API-Version", "registry/2.0"),
            Target::Manifest(name, _) | Target::Blob(name, _) if name != NAME => {
                Reply::error(404, "NAME_UNKNOWN", "repository name not known to registry")
            }
            Target::Manifest(_, reference) => self.manifest(reference),
            Target::Blob(_, digest) => match &faults.redirect_blobs_to {
                Some(origin) => Reply::redirect(307, format!("{origin}{route}?{SIGNATURE}")),
                None => self.blob_reply(req, digest),
            },
            Target::Token | Target::Other => Reply::error(404, "NOT_FOUND", "no such route"),
        }
    }

    /// The challenge for a request the auth mode refuses.
    fn refused(&self, req: &Request) -> Option<String> {
        let given = req.header("authorization");
        let accepted = match &self.faults.auth {
            Auth::Anonymous => return None,
            Auth::Basic { user, password } => basic_header(user, password),
            Auth::Bearer { .. } => format!("Bearer {TOKEN}"),
        };
        (given != Some(accepted.as_str()))
            .then(|| self.challenge())
            .flatten()
    }

    /// The `WWW-Authenticate` value of the auth mode.
    fn challenge(&self) -> Option<String> {
        match &self.faults.auth {
            Auth::Anonymous => None,
            Auth::Basic { .. } => Some("Basic realm=\"fake\"".to_string()),
            Auth::Bearer { .. } => {
                let realm = self
                    .faults
                    .token_realm
                    .clone()
                    .unwrap_or_else(|| format!("{}/token", self.origin));
                Some(format!(
                    "Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:{NAME}:pull\""
                ))
            }
        }
    }

    /// The token service: a token for anonymous requests when allowed, and for the
    /// configured user's Basic header.
    fn token(&self, req: &Request) -> Reply {
        let (anonymous_ok, user, password) = match &self.faults.auth {
            Auth::Bearer {
                anonymous_ok,
                user,
                password,
            } => (*anonymous_ok, user.as_str(), password.as_str()),
            _ => return Reply::error(404, "NOT_FOUND", "no token service"),
        };
        let granted = match req.header("authorization") {
            Some(given) => given == basic_header(user, password),
            None => anonymous_ok,
        };
        if !granted {
            return Reply::error(401, "UNAUTHORIZED", "bad credentials")
                .header("WWW-Authenticate", "Basic realm=\"fake token\"");
        }
        let body = serde_json::json!({"token": TOKEN, "expires_in": 300});
        Reply::new(200, body.to_string().into_bytes()).header("Content-Type", "application/json")
    }

    fn manifest(&self, reference: &str) -> Reply {
        if let Some(document) = self
            .faults
            .tag_document
            .as_ref()
            .filter(|_| reference == TAG)
        {
            let media_type = serde_json::from_slice::<Value>(document)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(String::from))
                .unwrap_or_else(|| "application/vnd.oci.image.index.v1+json".to_string());
            return Reply::new(200, document.clone())
                .header("Content-Type", media_type)
                .header("Docker-Content-Digest", sha256(document));
        }
        let digest = if reference == TAG {
            self.manifest_digest.as_str()
        } else {
            reference
        };
        let Some(bytes) = self.blob(digest) else {
            return Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown");
        };
        let media_type = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["mediaType"].as_str().map(String::from));
        let Some(media_type) = media_type.filter(|m| m.contains("manifest") || m.contains("index"))
        else {
            return Reply::error(404, "MANIFEST_UNKNOWN", "not a manifest");
        };
        Reply::new(200, bytes)
            .header("Content-Type", media_type)
            .header("Docker-Content-Digest", digest)
    }

    fn blob_reply(&self, req: &Request, digest: &str) -> Reply {
        let Some(mut body) = self.blob(digest) else {
            return Reply::error(404, "BLOB_UNKNOWN", "blob unknown to registry");
        };
        if let Some((d, replacement)) = &self.faults.wrong_blob
            && d == digest
        {
            body = replacement.clone();
        }
        let len = body.len();
        let start = match req.header("range") {
            None => 0,
            Some(range) => match parse_range(range) {
                Some(n) if n < len => n,
                _ => {
                    return Reply::error(416, "RANGE_INVALID", "range not satisfiable")
                        .header("Content-Range", format!("bytes */{len}"));
                }
            },
        };
        let mut reply = if req.header("range").is_some() {
            Reply::new(206, body[start..].to_vec())
                .header("Content-Range", format!("bytes {start}-{}/{len}", len - 1))
        } else {
            Reply::new(200, body)
        };
        reply = reply
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest)
            .header("Accept-Ranges", "bytes");
        if let Some(t) = &self.faults.truncate
            && t.digest == digest
            && req.method == "GET"
            && t.at < len
            && (t.always || !self.truncated.swap(true, Ordering::SeqCst))
        {
            reply.cut = Some(t.at.saturating_sub(start));
        }
        reply
    }

    /// A blob of the layout by digest; `None` for anything else.
    fn blob(&self, digest: &str) -> Option<Vec<u8>> {
        let hex = digest.strip_prefix("sha256:")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        std::fs::read(self.layout.join("blobs/sha256").join(hex)).ok()
    }
}

/// `bytes=N-` → N.
fn parse_range(value: &str) -> Option<usize> {
    value
        .trim()
        .strip_prefix("bytes=")?
        .strip_suffix('-')?
        .parse()
        .ok()
}

/// Read one request: the head up to the blank line, then a `Content-Length` body
/// (a token request may be a POST). `None` for anything that is not HTTP (a TLS
/// handshake) or too large.
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > REQUEST_LIMIT {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || (buf.is_empty() && !chunk[0].is_ascii_uppercase()) {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body_read = buf.len() - (end + 4);
    if length > REQUEST_LIMIT {
        return None;
    }
    while body_read < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body_read += n;
    }
    Some(Request {
        method,
        path,
        headers,
        status: 0,
        at: Instant::now(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// How many requests each route received, for failure messages.
pub fn summary(requests: &[Request]) -> String {
    let mut counts: HashMap<String, Vec<u16>> = HashMap::new();
    for r in requests {
        counts
            .entry(format!("{} {}", r.method, r.route()))
            .or_default()
            .push(r.status);
    }
    let mut lines: Vec<String> = counts
        .into_iter()
        .map(|(k, v)| format!("{k}: {v:?}"))
        .collect();
    lines.sort();
    lines.join("\n")
}
