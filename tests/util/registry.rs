//! A real registry on 127.0.0.1 for the registry tests: Debian's `docker-registry`
//! (CNCF distribution v2) on a free port, optionally behind TLS (a throwaway CA and a
//! server certificate made with the `openssl` CLI) and htpasswd basic auth, with images
//! pushed and read back by `skopeo`. Everything lives in one temporary directory; the
//! registry is killed when the [`Registry`] is dropped.
//!
//! It owns starting and inspecting registries, and running `imgsize` isolated from the
//! host (its own `DOCKER_CONFIG`, no registry credentials from the environment, a
//! timeout). It must not know what imgsize reports: the tests compare figures.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The tools the registry tests need; each is `(binary, argument that makes it exit 0)`.
const TOOLS: &[(&str, &[&str])] = &[
    ("docker-registry", &["--version"]),
    ("skopeo", &["--version"]),
    ("htpasswd", &["-nbB", "probe", "probe"]),
    ("openssl", &["version"]),
];

/// How long a registry may take to answer, and `imgsize` to finish.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Skip the test unless every tool the registry tests need is installed (`.ci/run`
/// installs them).
pub fn require_tools() {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, args)| {
            !Command::new(tool)
                .args(*args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|(tool, _)| *tool)
        .collect();
    if !missing.is_empty() {
        super::harness::skip(format!(
            "{} not installed (apt-get install skopeo docker-registry apache2-utils openssl)",
            missing.join(", ")
        ));
    }
}

/// What a registry to start looks like.
#[derive(Clone, Debug, Default)]
pub struct RegistryBuilder {
    tls: bool,
    auth: Option<(String, String)>,
}

impl RegistryBuilder {
    /// Serve https with a certificate for 127.0.0.1 and localhost, signed by a fresh CA.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Require basic auth with this one user (an htpasswd file, bcrypt as the
    /// registry requires).
    pub fn htpasswd(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// Start the registry and wait until it answers; panics with its log if it does not.
    pub fn start(self) -> Registry {
        let mut dir = tempfile::tempdir().expect("registry temp dir");
        let root = dir.path().to_path_buf();
        let mut config = format!(
            "version: 0.1\n\
             log:\n  level: info\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{{PORT}}\n  secret: imgsize-registry-tests\n",
            root.join("storage").display()
        );
        let mut cert_dir = None;
        if self.tls {
            let certs = make_certificates(&root);
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                root.join("tls/server.crt").display(),
                root.join("tls/server.key").display()
            ));
            cert_dir = Some(certs);
        }
        if let Some((user, password)) = &self.auth {
            let htpasswd = root.join("htpasswd");
            let out = run_tool("htpasswd", &["-Bbn", user, password]);
            fs::write(&htpasswd, out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: imgsize-tests\n    path: {}\n",
                htpasswd.display()
            ));
        }
        // The port is free when we look and taken by the registry a moment later; another
        // process may win that race, so a registry that cannot bind is started again.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config_path = root.join("config.yml");
            fs::write(&config_path, config.replace("{PORT}", &port.to_string()))
                .expect("write registry config");
            let log_path = root.join("registry.log");
            let log = File::create(&log_path).expect("registry log");
            // The access log goes to stdout, everything else to stderr: one file for both.
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let mut registry = Registry {
                child,
                port,
                tls: self.tls,
                auth: self.auth.clone(),
                cert_dir: cert_dir.clone(),
                log_path,
                dir,
            };
            match registry.wait_ready() {
                Ok(()) => return registry,
                Err(log) if log.contains("address already in use") => {
                    last_log = log;
                    dir = registry.into_dir();
                }
                Err(log) => panic!("docker-registry did not start:\n{log}"),
            }
        }
        panic!("docker-registry found no free port:\n{last_log}");
    }
}

/// A running registry on 127.0.0.1.
pub struct Registry {
    child: Child,
    port: u16,
    tls: bool,
    auth: Option<(String, String)>,
    /// A directory holding only `ca.crt`, as skopeo's `--*-cert-dir` wants it.
    cert_dir: Option<PathBuf>,
    log_path: PathBuf,
    dir: TempDir,
}

impl Registry {
    /// An anonymous plain-http registry.
    pub fn http() -> Registry {
        Registry::builder().start()
    }

    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT/NAME_REF` (a `name:tag` or `name@sha256:...`).
    pub fn reference(&self, name_ref: &str) -> String {
        format!("{}/{name_ref}", self.host())
    }

    /// The CA that signed the server certificate (TLS registries only).
    pub fn ca_path(&self) -> PathBuf {
        self.cert_dir
            .as_ref()
            .expect("ca_path() of a registry started without .tls()")
            .join("ca.crt")
    }

    /// The registry's temporary directory (scratch space for a test, too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Push a skopeo source (`oci:DIR:TAG`, `docker-archive:FILE`, ...) as `NAME:TAG`.
    pub fn push(&self, src: &str, name_tag: &str) {
        self.push_with(src, name_tag, Push::default());
    }

    /// Push every image of a multi-platform index (`skopeo copy --all`).
    pub fn push_all(&self, src: &str, name_tag: &str) {
        self.push_with(
            src,
            name_tag,
            Push {
                all: true,
                ..Push::default()
            },
        );
    }

    /// Push with layers compressed by zstd (and an OCI manifest), and check they were.
    /// skopeo 1.9 recompresses with `--dest-compress-format zstd` alone (it has no
    /// `--force-compress-format`), but where its blob-info cache knows a blob of the
    /// same content in this registry it reuses that one, gzip and all: push content
    /// this registry has not seen yet.
    pub fn push_zstd(&self, src: &str, name_tag: &str) {
        self.push_with(
            src,
            name_tag,
            Push {
                zstd: true,
                ..Push::default()
            },
        );
        let manifest = self.manifest(name_tag);
        for layer in manifest["layers"].as_array().expect("manifest layers") {
            let media_type = layer["mediaType"].as_str().unwrap_or_default();
            assert!(
                media_type.ends_with("+zstd"),
                "skopeo pushed {src} to {name_tag} without recompressing to zstd: {manifest}"
            );
        }
    }

    pub fn push_with(&self, src: &str, name_tag: &str, push: Push) {
        let mut args = vec!["--insecure-policy", "copy", "--quiet"];
        if push.all {
            args.push("--all");
        }
        if push.zstd {
            args.extend(["--dest-compress-format", "zstd"]);
        }
        let dest = format!("docker://{}", self.reference(bare(name_tag)));
        let tls = self.tls_args("--dest-");
        args.extend(tls.iter().map(String::as_str));
        args.extend([src, &dest]);
        run_tool("skopeo", &args);
    }

    /// Copy an image back out of the registry into an OCI layout `dir:tag`.
    pub fn pull_oci(&self, name_ref: &str, dir: &Path, tag: &str) {
        let src = format!("docker://{}", self.reference(name_ref));
        let dest = format!("oci:{}:{tag}", dir.display());
        let mut args = vec!["--insecure-policy", "copy", "--quiet"];
        let tls = self.tls_args("--src-");
        args.extend(tls.iter().map(String::as_str));
        args.extend([src.as_str(), dest.as_str()]);
        run_tool("skopeo", &args);
    }

    /// The manifest (or index) `NAME:TAG` or `NAME@sha256:...` resolves to, as stored.
    pub fn manifest(&self, name_ref: &str) -> serde_json::Value {
        serde_json::from_slice(&self.manifest_bytes(name_ref)).expect("manifest is JSON")
    }

    /// The digest of the manifest (or index) `name_ref` resolves to.
    pub fn manifest_digest(&self, name_ref: &str) -> String {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(self.manifest_bytes(name_ref));
        format!("sha256:{}", hex::encode(hash))
    }

    fn manifest_bytes(&self, name_ref: &str) -> Vec<u8> {
        let src = format!("docker://{}", self.reference(name_ref));
        let mut args = vec!["inspect", "--raw"];
        let tls = self.tls_args("--");
        args.extend(tls.iter().map(String::as_str));
        args.push(&src);
        run_tool("skopeo", &args).stdout
    }

    /// skopeo's flags for this registry's transport security and credentials, with the
    /// given prefix (`--dest-`, `--src-` or `--` for inspect).
    fn tls_args(&self, prefix: &str) -> Vec<String> {
        let mut args = Vec::new();
        match &self.cert_dir {
            Some(dir) => args.push(format!("{prefix}cert-dir={}", dir.display())),
            None => args.push(format!("{prefix}tls-verify=false")),
        }
        if let Some((user, password)) = &self.auth {
            args.push(format!("{prefix}creds={user}:{password}"));
        }
        args
    }

    /// The registry's log so far (access log and messages), once it has been quiet
    /// for a moment: the access log line of a request is written just after its
    /// response, so a client may exit before the line of its last request is out.
    pub fn log(&self) -> String {
        let mut last = None;
        let started = Instant::now();
        loop {
            let len = fs::metadata(&self.log_path).map(|m| m.len()).unwrap_or(0);
            if last == Some(len) || started.elapsed() > Duration::from_secs(3) {
                break;
            }
            last = Some(len);
            std::thread::sleep(Duration::from_millis(250));
        }
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The access-log lines of requests for this blob (any repository), with method.
    pub fn blob_requests(&self, method: &str, digest: &str) -> usize {
        let log = self.log();
        log.lines()
            .filter(|l| is_blob_request(l, method, digest))
            .count()
    }

    /// How many times this blob was fetched (`GET /v2/<name>/blobs/<digest>`).
    pub fn blob_gets(&self, digest: &str) -> usize {
        self.blob_requests("GET", digest)
    }

    /// Wait until the registry answers `GET /v2/` (200 or 401); https registries are
    /// ready when the port accepts. On failure, the log.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = fs::read_to_string(&self.log_path).unwrap_or_default();
                return Err(format!("exited with {status}:\n{log}"));
            }
            if self.answers() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = fs::read_to_string(&self.log_path).unwrap_or_default();
        Err(format!("no answer within {START_TIMEOUT:?}:\n{log}"))
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.tls {
            return true;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!(
            "GET /v2/ HTTP/1.0\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.host()
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        if stream.read_exact(&mut head).is_err() {
            return false;
        }
        // "HTTP/1.0 200" or "HTTP/1.1 401"
        matches!(&head[9..12], b"200" | b"401")
    }

    /// Stop the registry and hand its directory back (to start again on another port).
    fn into_dir(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Options of a push.
#[derive(Clone, Copy, Debug, Default)]
pub struct Push {
    /// Every image of an index (`--all`).
    pub all: bool,
    /// Recompress layers with zstd (`--dest-compress-format zstd`).
    pub zstd: bool,
}

/// A combined-log-format line for `METHOD /v2/<name>/blobs/<digest>`.
fn is_blob_request(line: &str, method: &str, digest: &str) -> bool {
    let Some(rest) = line.split_once(&format!("\"{method} /v2/")).map(|(_, r)| r) else {
        return false;
    };
    let path = rest.split(' ').next().unwrap_or_default();
    path.ends_with(&format!("/blobs/{digest}"))
}

/// `NAME:TAG` as given, refusing a full reference (a test passing one by mistake would
/// push to `127.0.0.1:P/127.0.0.1:P/...`).
fn bare(name_tag: &str) -> &str {
    assert!(
        !name_tag.contains("://") && !name_tag.starts_with("127.0.0.1"),
        "push takes NAME:TAG, not a full reference: {name_tag}"
    );
    name_tag
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// Make a CA and a server certificate for 127.0.0.1 and localhost in `root/tls`, and
/// a directory holding only the CA (`root/certs.d/ca.crt`); returns the latter.
fn make_certificates(root: &Path) -> PathBuf {
    let tls = root.join("tls");
    let certs = root.join("certs.d");
    fs::create_dir_all(&tls).expect("tls dir");
    fs::create_dir_all(&certs).expect("certs dir");
    let at = |name: &str| tls.join(name).display().to_string();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
    ca.extend(ec);
    let (ca_key, ca_crt) = (at("ca.key"), at("ca.crt"));
    ca.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca_crt,
        "-subj",
        "/CN=imgsize test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run_tool("openssl", &ca);
    let (key, csr, crt, ext) = (
        at("server.key"),
        at("server.csr"),
        at("server.crt"),
        at("server.ext"),
    );
    let mut req = vec!["req", "-new", "-nodes"];
    req.extend(ec);
    req.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=127.0.0.1"]);
    run_tool("openssl", &req);
    fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    run_tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &crt,
        ],
    );
    fs::copy(&ca_crt, certs.join("ca.crt")).expect("copy ca.crt");
    certs
}

/// Run a tool, panicking with its stderr when it fails.
pub fn run_tool(tool: &str, args: &[&str]) -> Output {
    let out = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `imgsize` binary, isolated from the host: an empty `DOCKER_CONFIG` and a missing
/// `REGISTRY_AUTH_FILE` (replace them with [`Imgsize::env`]), no registry credentials
/// or output settings from the environment.
pub struct Imgsize {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    /// Holds the empty `DOCKER_CONFIG` directory for the command's lifetime.
    _docker_config: TempDir,
}

/// An `imgsize` started by [`Imgsize::spawn`].
pub struct Running {
    pub child: Child,
    _docker_config: TempDir,
}

impl Running {
    /// Wait for it to end; its status and output.
    pub fn wait(self) -> Output {
        self.child.wait_with_output().expect("wait for imgsize")
    }

    /// Kill it with SIGKILL and reap it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Imgsize {
    pub fn new(args: &[&str]) -> Imgsize {
        let docker_config = tempfile::tempdir().expect("docker config dir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgsize"));
        // podman's auth file: one that does not exist, so that neither the host's
        // `$XDG_RUNTIME_DIR` nor its `~/.config/containers/auth.json` is read.
        cmd.args(args)
            .env("DOCKER_CONFIG", docker_config.path())
            .env(
                "REGISTRY_AUTH_FILE",
                docker_config.path().join("no-podman-auth.json"),
            );
        for var in [
            "IMGSIZE_FORMAT",
            "IMGSIZE_PLATFORM",
            "IMGSIZE_VERIFY",
            "IMGSIZE_REGISTRY_USERNAME",
            "IMGSIZE_REGISTRY_PASSWORD",
        ] {
            cmd.env_remove(var);
        }
        Imgsize {
            cmd,
            stdin: None,
            _docker_config: docker_config,
        }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn stdin(mut self, input: &str) -> Self {
        self.stdin = Some(input.as_bytes().to_vec());
        self
    }

    /// Start it with its output piped, for a test that runs several at once or kills
    /// one.
    pub fn spawn(mut self) -> Running {
        let child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run imgsize");
        Running {
            child,
            _docker_config: self._docker_config,
        }
    }

    /// Run to completion, killing it after a generous timeout (a client that hangs
    /// on a registry must fail the test, not stall it).
    pub fn output(mut self) -> Output {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("run imgsize");
        if let (Some(input), Some(mut pipe)) = (self.stdin.take(), child.stdin.take()) {
            // imgsize may exit without reading; a broken pipe is its answer, not ours.
            let _ = pipe.write_all(&input);
        }
        let mut stdout = child.stdout.take().expect("stdout pipe");
        let mut stderr = child.stderr.take().expect("stderr pipe");
        let out_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.read_to_end(&mut buf);
            buf
        });
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for imgsize") {
                break status;
            }
            if started.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("imgsize {:?} ran longer than {RUN_TIMEOUT:?}", self.cmd);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            status,
            stdout: out_reader.join().unwrap_or_default(),
            stderr: err_reader.join().unwrap_or_default(),
        }
    }
}
