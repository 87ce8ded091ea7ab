//! A registry that misbehaves, and what imgsize does about it: the in-test
//! [`FakeRegistry`] serves one image from an OCI layout with one fault at a time, and
//! `imgsize report 127.0.0.1:P/app:1` must either give the report of the layout on
//! disk or fail with exit code 2 and one line naming what broke. Credential hygiene is
//! checked in the fake's request record: who received an `Authorization` header, and
//! which. Needs no external tool; most of its ten seconds (on two cores) are the
//! client's backoff (0.25 s doubling) in the two tests that exhaust its retries.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::util::builder::{Data, Image, Layer, oci_layout, write_tar};
use crate::util::fake_registry::{
    FakeRegistry, Faults, Loop, Request, Route, SIGNATURE, TOKEN, basic_header, summary,
};
use crate::util::registry::Imgsize;
use crate::util::reports::{assert_error, assert_same_report, report, report_args, report_with};

/// The client's retries of a transient failure, and resumes of a dropped download.
const RETRIES: usize = 4;
const RESUMES: usize = 4;
const MAX_REDIRECTS: usize = 8;

/// Where the large layer's body is cut.
const CUT_AT: usize = 100_000;

/// Three layers: a compressible base (about 30 kB of gzip), a large incompressible one
/// (about 400 kB) to cut mid-body, and a small top layer.
fn image() -> Image {
    Image::new("app")
        .layer(
            Layer::new("ADD rootfs /")
                .fill("usr/lib/libc.so.6", 150_000)
                .fill("etc/os-release", 200)
                .symlink("lib", "usr/lib")
                .gzip(),
        )
        .layer(
            Layer::new("COPY assets /srv")
                .data(
                    "srv/assets.bin",
                    Data::Fill {
                        size: 400_000,
                        seed: 11,
                        random: true,
                    },
                )
                .gzip(),
        )
        .step("/bin/sh -c #(nop)  ENV LANG=C.UTF-8")
        .layer(
            Layer::new("COPY app /app")
                .fill("app/main.py", 3_000)
                .gzip(),
        )
}

/// The image written as an OCI layout in a fresh temporary directory.
pub(crate) struct Setup {
    dir: TempDir,
    layout: PathBuf,
}

impl Setup {
    pub(crate) fn new() -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let layout = dir.path().join("layout");
        oci_layout(&image(), &layout).expect("write OCI layout");
        Setup { dir, layout }
    }

    pub(crate) fn start(&self, faults: Faults) -> FakeRegistry {
        FakeRegistry::start(&self.layout, faults)
    }

    /// The digest of layer `i` of the manifest.
    pub(crate) fn layer(&self, i: usize) -> String {
        let read = |path: PathBuf| -> Value {
            serde_json::from_slice(&std::fs::read(path).expect("read layout")).expect("JSON")
        };
        let index = read(self.layout.join("index.json"));
        let manifest = self.blob_path(index["manifests"][0]["digest"].as_str().expect("digest"));
        read(manifest)["layers"][i]["digest"]
            .as_str()
            .expect("layer digest")
            .to_string()
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        self.layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }

    /// The length of a blob of the layout.
    pub(crate) fn blob_len(&self, digest: &str) -> usize {
        let len = std::fs::metadata(self.blob_path(digest))
            .expect("blob")
            .len();
        usize::try_from(len).expect("blob size")
    }
}

/// The report of the layout on disk (the fixture is deterministic: computed once).
pub(crate) fn local() -> &'static Value {
    static LOCAL: OnceLock<Value> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let setup = Setup::new();
        report(&[&setup.layout.display().to_string()])
    })
}

/// `imgsize report 127.0.0.1:P/app:1 --no-cache ARGS --format json`, isolated.
pub(crate) fn imgsize(fake: &FakeRegistry, extra: &[&str]) -> Imgsize {
    let reference = fake.reference();
    let mut args = vec![reference.as_str(), "--no-cache"];
    args.extend_from_slice(extra);
    Imgsize::new(&report_args(&args))
}

pub(crate) fn with_user(cmd: Imgsize, user: &str, password: &str) -> Imgsize {
    cmd.env("IMGSIZE_REGISTRY_USERNAME", user)
        .env("IMGSIZE_REGISTRY_PASSWORD", password)
}

/// The report must equal the layout's; on failure, what the fake saw.
pub(crate) fn assert_reports_like_the_layout(
    fake: &FakeRegistry,
    cmd: Imgsize,
    what: &str,
) -> Value {
    let out = cmd.output();
    assert!(
        out.status.success(),
        "{what}: imgsize failed ({}):\n{}\nrequests:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        summary(&fake.requests())
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_same_report(&got, local(), what);
    assert_eq!(got["complete"], true, "{what}");
    got
}

/// An error (exit 2, one line, no panic) whose line has every one of `words`.
pub(crate) fn assert_error_saying(out: &Output, what: &str, words: &[&str]) -> String {
    let stderr = assert_error(out, what);
    assert!(
        stderr.starts_with("imgsize: error: "),
        "{what}: the line starts with `imgsize: error: `: {stderr}"
    );
    for word in words {
        assert!(stderr.contains(word), "{what}: says {word:?}: {stderr}");
    }
    stderr
}

pub(crate) fn statuses(requests: &[Request]) -> Vec<u16> {
    requests.iter().map(|r| r.status).collect()
}

/// `len` bytes of no known format (every byte has its high bit set, so no gzip, zstd
/// or xz magic).
fn garbage(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8 | 0x80
        })
        .collect()
}

/// A valid gzip of a valid layer tar of other content, exactly `len` bytes long
/// (padded with the gzip header's extra field).
fn other_gzip(len: usize) -> Vec<u8> {
    let layer = Layer::new("ADD rootfs /").file("usr/lib/libc.so.6", &[0u8; 4096]);
    let mut tar = Vec::new();
    write_tar(&layer, &mut tar).expect("tar");
    let gzip = |extra: Vec<u8>| {
        let mut enc = flate2::GzBuilder::new()
            .extra(extra)
            .write(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &tar).expect("gzip");
        enc.finish().expect("gzip")
    };
    // An extra field costs its two length bytes and its content.
    let pad = len - gzip(vec![0]).len() + 1;
    assert!(pad < 1 << 16, "the layer to replace is too large to pad to");
    let out = gzip(vec![b'x'; pad]);
    assert_eq!(out.len(), len);
    out
}

pub(crate) fn assert_quick(since: Instant, what: &str) {
    let took = since.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "{what}: took {took:?}, not a few seconds"
    );
}

/// One raw request to the fake: the response head and body.
fn raw(fake: &FakeRegistry, request: &[u8]) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(fake.host()).expect("connect");
    stream.write_all(request).expect("send");
    let mut out = Vec::new();
    // A connection the fake drops may end in a reset: what came before it counts.
    let _ = stream.read_to_end(&mut out);
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |i| i + 4);
    let body = out.split_off(end);
    (String::from_utf8_lossy(&out).into_owned(), body)
}

/// The fake itself: HEAD, ranges, manifests by tag, unknown names, and a TLS
/// handshake dropped unanswered and unrecorded.
fn the_fake_registry_speaks_the_distribution_api() {
    let setup = Setup::new();
    let fake = setup.start(Faults::default());
    let layer = setup.layer(0);
    let blob = std::fs::read(setup.blob_path(&layer)).expect("blob");
    let len = blob.len();
    let path = format!("/v2/app/blobs/{layer}");

    let (head, body) = raw(&fake, format!("HEAD {path} HTTP/1.1\r\n\r\n").as_bytes());
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {len}\r\n")),
        "{head}"
    );
    assert!(body.is_empty());

    let get = format!("GET {path} HTTP/1.1\r\nRange: bytes=10-\r\n\r\n");
    let (head, body) = raw(&fake, get.as_bytes());
    assert!(head.starts_with("HTTP/1.1 206 "), "{head}");
    let range = format!("Content-Range: bytes 10-{}/{len}\r\n", len - 1);
    assert!(head.contains(&range), "{head}");
    assert_eq!(body, blob[10..]);

    let (head, body) = raw(&fake, b"GET /v2/app/manifests/1 HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(head.contains("Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"));
    let digest = crate::util::fake_registry::sha256(&body);
    assert!(head.contains(&format!("Docker-Content-Digest: {digest}\r\n")));

    let (head, _) = raw(&fake, b"GET /v2/other/manifests/1 HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    let (head, body) = raw(&fake, &[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
    assert_eq!(
        (head.as_str(), body.len()),
        ("", 0),
        "a TLS hello is dropped"
    );

    let seen: Vec<(String, u16)> = fake
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.status))
        .collect();
    let want = [("HEAD", 200), ("GET", 206), ("GET", 200), ("GET", 404)];
    assert_eq!(seen, want.map(|(m, s)| (m.to_string(), s)));
}

fn bearer_anonymous_token_is_sent_with_every_request_after_it() {
    let setup = Setup::new();
    let fake = setup.start(Faults::bearer_anonymous());
    assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "bearer, anonymous");

    let requests = fake.requests();
    let at = requests
        .iter()
        .position(|r| r.route() == "/token")
        .expect("a token request");
    let token = &requests[at];
    assert_eq!(token.authorization(), None, "anonymous token request");
    assert_eq!(token.status, 200);
    assert!(
        token.path.contains("service=fake") && token.path.contains("scope=repository%3Aapp%3Apull"),
        "asks for the challenge's service and scope: {}",
        token.path
    );
    assert_eq!(
        fake.token_requests().len(),
        1,
        "one token for the whole run"
    );
    for r in &requests[..at] {
        assert_eq!((r.route(), r.status), ("/v2/", 401), "before the token");
        assert_eq!(r.authorization(), None);
    }
    assert!(requests.len() > at + 1 + fake.layers().len());
    for r in &requests[at + 1..] {
        assert_eq!(
            r.authorization(),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(r.status, 200, "{} {}", r.method, r.path);
    }
}

fn bearer_with_credentials_sends_them_to_the_token_service_only() {
    let setup = Setup::new();
    let fake = setup.start(Faults::bearer("user", "s3cret-pass"));
    let cmd = with_user(imgsize(&fake, &[]), "user", "s3cret-pass");
    assert_reports_like_the_layout(&fake, cmd, "bearer with credentials");

    let tokens = fake.token_requests();
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        tokens[0].authorization(),
        Some(basic_header("user", "s3cret-pass").as_str())
    );
    for r in fake.requests().iter().filter(|r| r.route() != "/token") {
        let auth = r.authorization().unwrap_or("");
        assert!(
            auth.is_empty() || auth == format!("Bearer {TOKEN}"),
            "the registry itself gets the token, never the password: {} {auth}",
            r.path
        );
    }
}

fn bearer_with_a_wrong_password_is_one_line_without_the_password() {
    let setup = Setup::new();
    let fake = setup.start(Faults::bearer("user", "s3cret-pass"));
    let wrong = "Wr0ng-Secret-42";
    let out = with_user(imgsize(&fake, &[]), "user", wrong).output();
    let stderr = assert_error_saying(
        &out,
        "wrong password",
        &[&fake.host(), "authentication failed"],
    );
    assert!(!stderr.contains(wrong), "leaks the password: {stderr}");
    let header = basic_header("user", wrong);
    let encoded = header.trim_start_matches("Basic ");
    assert!(!stderr.contains(encoded), "leaks the auth string: {stderr}");
    assert_eq!(statuses(&fake.token_requests()), [401], "asked once");
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.route().contains("/manifests/")),
        "no manifest asked for without a token"
    );
}

/// Where the test's `docker-credential-fake` comes from.
enum HelperConfig {
    CredHelpers,
    CredsStore,
}

/// `docker-credential-fake` in `dir`: answers `get` with user/pass and appends its
/// arguments and stdin to `dir/calls`.
fn credential_helper(dir: &Path, host: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let calls = dir.join("calls");
    let script = format!(
        "#!/bin/sh\n\
         printf '%s\\n' \"$*\" >> '{calls}'\n\
         cat >> '{calls}'\n\
         printf '\\n' >> '{calls}'\n\
         printf '%s\\n' '{{\"ServerURL\":\"{host}\",\"Username\":\"user\",\"Secret\":\"pass\"}}'\n",
        calls = calls.display()
    );
    let path = bin.join("docker-credential-fake");
    std::fs::write(&path, script).expect("write helper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

fn credentials_from_a_helper(config: HelperConfig) {
    let setup = Setup::new();
    let fake = setup.start(Faults::basic("user", "pass"));
    let host = fake.host();
    let bin = credential_helper(setup.dir.path(), &host);
    let docker_config = setup.dir.path().join("docker");
    std::fs::create_dir_all(&docker_config).expect("docker config dir");
    let json = match config {
        HelperConfig::CredHelpers => serde_json::json!({"credHelpers": {&host: "fake"}}),
        HelperConfig::CredsStore => serde_json::json!({"credsStore": "fake"}),
    };
    std::fs::write(docker_config.join("config.json"), json.to_string()).expect("config.json");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cmd = imgsize(&fake, &[])
        .env("PATH", path)
        .env("DOCKER_CONFIG", &docker_config);
    assert_reports_like_the_layout(&fake, cmd, "credentials from docker-credential-fake");

    let calls = std::fs::read_to_string(setup.dir.path().join("calls")).expect("helper ran");
    assert_eq!(calls, format!("get\n{host}\n"), "asked once, for {host}");
    let basic = basic_header("user", "pass");
    for r in fake.requests().iter().skip(1) {
        assert_eq!(r.authorization(), Some(basic.as_str()), "{}", r.path);
    }
}

fn credentials_from_a_cred_helpers_entry() {
    credentials_from_a_helper(HelperConfig::CredHelpers);
}

fn credentials_from_the_creds_store() {
    credentials_from_a_helper(HelperConfig::CredsStore);
}

fn credentials_from_the_podman_auth_file() {
    use base64::Engine;
    let setup = Setup::new();
    let fake = setup.start(Faults::basic("user", "pass"));
    let auth_file = setup.dir.path().join("auth.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("user:pass");
    let json = serde_json::json!({"auths": {fake.host(): {"auth": auth}}});
    std::fs::write(&auth_file, json.to_string()).expect("auth.json");
    let cmd = imgsize(&fake, &[]).env("REGISTRY_AUTH_FILE", &auth_file);
    assert_reports_like_the_layout(&fake, cmd, "credentials from REGISTRY_AUTH_FILE");
    let basic = basic_header("user", "pass");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.authorization() == Some(basic.as_str()))
    );
}

/// Blobs redirected to another origin (a CDN) are fetched there without the
/// credentials the registry got.
fn cdn_gets_no_credentials(faults: Faults) {
    let setup = Setup::new();
    let cdn = setup.start(Faults::default());
    let fake = setup.start(faults.redirect_blobs_to(&cdn.origin()));
    let cmd = with_user(imgsize(&fake, &[]), "user", "pass");
    assert_reports_like_the_layout(&fake, cmd, "blobs from a CDN");

    let at_cdn = cdn.requests();
    for digest in fake.layers().iter().chain([&fake.config_digest()]) {
        assert_eq!(
            statuses(&cdn.blob_gets(digest)),
            [200],
            "{digest} at the CDN"
        );
        let redirected = fake.blob_gets(digest);
        assert_eq!(statuses(&redirected), [307], "{digest} at the registry");
        assert!(
            redirected[0].authorization().is_some(),
            "the registry got credentials for {digest}"
        );
    }
    for r in &at_cdn {
        assert_eq!(
            r.authorization(),
            None,
            "the CDN got an Authorization header: {} {}",
            r.method,
            r.path
        );
    }
}

fn cdn_redirect_strips_basic_credentials() {
    cdn_gets_no_credentials(Faults::basic("user", "pass"));
}

fn cdn_redirect_strips_the_bearer_token() {
    cdn_gets_no_credentials(Faults::bearer("user", "pass"));
}

/// A CDN that refuses a layer (an expired signed URL, say) is named with its answer;
/// the registry's credentials, which were not sent there, are not blamed.
fn cdn_refusal_is_not_blamed_on_the_credentials() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let cdn =
        setup.start(Faults::default().fail_first(Route::Blob(layer.clone()), usize::MAX, 403));
    let fake = setup.start(Faults::basic("user", "pass").redirect_blobs_to(&cdn.origin()));
    let out = with_user(imgsize(&fake, &[]), "user", "pass").output();
    let stderr = assert_error_saying(&out, "CDN answers 403", &[&layer, "403", &cdn.host()]);
    assert!(!stderr.contains("authentication failed"), "{stderr}");
    assert!(
        !stderr.contains(SIGNATURE),
        "shows the signed URL: {stderr}"
    );
    let gets = cdn.blob_gets(&layer);
    assert_eq!(statuses(&gets), [403], "not retried");
    assert!(gets[0].path.ends_with(SIGNATURE), "{}", gets[0].path);
}

/// A CDN's own auth challenge does not replace the registry's: no token is fetched
/// from a realm the CDN names, and the registry keeps getting its credentials.
fn cdn_challenge_does_not_replace_the_registry_auth() {
    let setup = Setup::new();
    let cdn = setup.start(Faults::bearer_anonymous());
    let fake = setup.start(Faults::basic("user", "pass").redirect_blobs_to(&cdn.origin()));
    let out = with_user(imgsize(&fake, &[]), "user", "pass").output();
    let stderr = assert_error_saying(&out, "CDN asks for a token", &["401", &cdn.host()]);
    assert!(!stderr.contains("authentication failed"), "{stderr}");
    assert!(
        cdn.token_requests().is_empty(),
        "asked the CDN's token service"
    );
    let basic = basic_header("user", "pass");
    for r in fake.requests().iter().skip(1) {
        assert_eq!(r.authorization(), Some(basic.as_str()), "{}", r.path);
    }
}

/// A download cut at the CDN resumes there, with `Range` and still without credentials.
fn cut_at_the_cdn_resumes_there_without_credentials() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let cdn = setup.start(Faults::default().truncate(&layer, CUT_AT, false));
    let fake = setup.start(Faults::basic("user", "pass").redirect_blobs_to(&cdn.origin()));
    let cmd = with_user(imgsize(&fake, &[]), "user", "pass");
    assert_reports_like_the_layout(&fake, cmd, "cut at the CDN");
    let at_cdn = cdn.blob_gets(&layer);
    assert_eq!(statuses(&at_cdn), [200, 206]);
    assert_eq!(
        at_cdn[1].header("range"),
        Some(format!("bytes={CUT_AT}-").as_str())
    );
    assert!(cdn.requests().iter().all(|r| r.authorization().is_none()));
    assert_eq!(statuses(&fake.blob_gets(&layer)), [307, 307]);
}

/// A token service on another origin over plain http gets no password; the token it
/// gives anonymously is used.
fn token_service_on_another_http_origin_gets_no_password() {
    let setup = Setup::new();
    let tokens = setup.start(Faults::bearer_anonymous());
    let realm = format!("{}/token", tokens.origin());
    let fake = setup.start(Faults::bearer("user", "pass").token_realm(&realm));
    let cmd = with_user(imgsize(&fake, &[]), "user", "pass");
    assert_reports_like_the_layout(&fake, cmd, "token from another origin");
    let asked = tokens.token_requests();
    assert_eq!(statuses(&asked), [200]);
    assert_eq!(
        asked[0].authorization(),
        None,
        "the password went over http"
    );
    assert!(fake.token_requests().is_empty());
}

fn server_errors_on_a_layer_are_retried() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let fake = setup.start(Faults::default().fail_first(Route::Blob(layer.clone()), 2, 500));
    assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "500 twice");
    assert_eq!(statuses(&fake.blob_gets(&layer)), [500, 500, 200]);
}

fn too_many_requests_on_blobs_are_retried() {
    let setup = Setup::new();
    let fake = setup.start(Faults::default().fail_first(Route::Blobs, 2, 429));
    assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "429 twice");
    let blobs: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.route().contains("/blobs/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(blobs.iter().filter(|s| **s == 429).count(), 2);
    // The config and every layer, each once with 200.
    assert_eq!(blobs.iter().filter(|s| **s == 200).count(), 4);
}

fn unavailable_ping_is_retried() {
    let setup = Setup::new();
    let fake = setup.start(Faults::default().fail_first(Route::Any, 2, 503));
    assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "503 twice");
    let pings: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.route() == "/v2/")
        .map(|r| r.status)
        .collect();
    assert_eq!(pings, [503, 503, 200]);
}

fn permanent_server_error_on_a_layer_names_it_and_the_status() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let fake =
        setup.start(Faults::default().fail_first(Route::Blob(layer.clone()), usize::MAX, 500));
    let out = imgsize(&fake, &[]).output();
    assert_error_saying(&out, "permanent 500", &[&layer, "500"]);
    assert_eq!(fake.blob_gets(&layer).len(), 1 + RETRIES);
    // The other layers are still reported.
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["complete"], false);
}

fn body_cut_once_resumes_with_a_range_request() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let fake = setup.start(Faults::default().truncate(&layer, CUT_AT, false));
    assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "cut once");
    let gets = fake.blob_gets(&layer);
    assert_eq!(statuses(&gets), [200, 206]);
    assert_eq!(gets[0].header("range"), None);
    assert_eq!(
        gets[1].header("range"),
        Some(format!("bytes={CUT_AT}-").as_str())
    );
}

fn body_cut_every_time_is_an_error_naming_the_layer() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let fake = setup.start(Faults::default().truncate(&layer, CUT_AT, true));
    let out = imgsize(&fake, &[]).output();
    let stderr = assert_error_saying(&out, "cut every time", &[&layer]);
    assert!(
        stderr.contains("cannot read: GET blobs/")
            && stderr.contains(&format!(
                "the download broke off 5 times, last at byte {CUT_AT}"
            )),
        "says the download broke: {stderr}"
    );
    let gets = fake.blob_gets(&layer);
    assert_eq!(gets.len(), 1 + RESUMES, "{}", summary(&gets));
    for r in &gets[1..] {
        assert_eq!(r.header("range"), Some(format!("bytes={CUT_AT}-").as_str()));
    }
}

fn other_gzip_of_the_same_length_is_a_digest_mismatch() {
    let setup = Setup::new();
    let layer = setup.layer(0);
    let body = other_gzip(setup.blob_len(&layer));
    let fake = setup.start(Faults::default().wrong_blob(&layer, body));
    let out = imgsize(&fake, &[]).output();
    assert_error_saying(&out, "other gzip", &[&layer, "digest mismatch"]);
}

/// Bytes that are no layer fail as soon as the walker looks at them, before the digest
/// is known: the error names the layer and what its content is not.
fn garbage_of_the_same_length_is_not_a_layer() {
    let setup = Setup::new();
    let layer = setup.layer(2);
    let body = garbage(setup.blob_len(&layer));
    let fake = setup.start(Faults::default().wrong_blob(&layer, body));
    let out = imgsize(&fake, &[]).output();
    assert_error_saying(
        &out,
        "garbage",
        &[
            &layer,
            "not a filesystem layer: content is not a tar archive",
        ],
    );
}

fn endless_redirect_of_a_blob_stops_quickly() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let fake =
        setup.start(Faults::default().endless_redirect(Route::Blob(layer.clone()), Loop::ToSelf));
    let since = Instant::now();
    let out = imgsize(&fake, &[]).output();
    assert_quick(since, "blob redirected to itself");
    assert_error_saying(&out, "blob redirected to itself", &[&layer, "redirects"]);
    assert_eq!(fake.blob_gets(&layer).len(), 1 + MAX_REDIRECTS);
}

fn endless_redirect_of_the_manifest_stops_quickly() {
    let setup = Setup::new();
    let fake = setup.start(Faults::default().endless_redirect(Route::Manifests, Loop::Alternate));
    let since = Instant::now();
    let out = imgsize(&fake, &[]).output();
    assert_quick(since, "manifest redirected in a loop");
    assert_error_saying(
        &out,
        "manifest redirected in a loop",
        &[&fake.reference(), "redirects"],
    );
    let manifests = fake
        .requests()
        .iter()
        .filter(|r| r.route().contains("/manifests/"))
        .count();
    assert_eq!(manifests, 1 + MAX_REDIRECTS);
}

fn manifest_only_fetches_no_layer() {
    let setup = Setup::new();
    let fake = setup.start(Faults::default());
    let got = report_with(imgsize(&fake, &["--manifest-only"]));
    assert_eq!(got["manifest_only"], true);
    for layer in fake.layers() {
        assert!(
            fake.blob_gets(&layer).is_empty(),
            "fetched {layer}:\n{}",
            summary(&fake.requests())
        );
    }
}

crate::tests![
    the_fake_registry_speaks_the_distribution_api,
    bearer_anonymous_token_is_sent_with_every_request_after_it,
    bearer_with_credentials_sends_them_to_the_token_service_only,
    bearer_with_a_wrong_password_is_one_line_without_the_password,
    credentials_from_a_cred_helpers_entry,
    credentials_from_the_creds_store,
    credentials_from_the_podman_auth_file,
    cdn_redirect_strips_basic_credentials,
    cdn_redirect_strips_the_bearer_token,
    cdn_refusal_is_not_blamed_on_the_credentials,
    cdn_challenge_does_not_replace_the_registry_auth,
    cut_at_the_cdn_resumes_there_without_credentials,
    token_service_on_another_http_origin_gets_no_password,
    server_errors_on_a_layer_are_retried,
    too_many_requests_on_blobs_are_retried,
    unavailable_ping_is_retried,
    permanent_server_error_on_a_layer_names_it_and_the_status,
    body_cut_once_resumes_with_a_range_request,
    body_cut_every_time_is_an_error_naming_the_layer,
    other_gzip_of_the_same_length_is_a_digest_mismatch,
    garbage_of_the_same_length_is_not_a_layer,
    endless_redirect_of_a_blob_stops_quickly,
    endless_redirect_of_the_manifest_stops_quickly,
    manifest_only_fetches_no_layer,
];
