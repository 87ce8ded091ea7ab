//! Projections against REAL rebuilds by the Docker engine. `tests/projections.rs`
//! replays Dockerfiles in a simulator; this test checks the simulator's assumptions on
//! the engine itself: a private `dockerd` (vfs storage, no network) builds a tiny image
//! that stacks overlapping mistakes (`.git` and host bytecode copied, pip's cache left,
//! a `chmod -R` that re-adds them, a later `rm -rf` that hides both copies) and one
//! rebuild per single fix, each changing only that one thing, as a user would. A fix's
//! truth is the drop in stored bytes between the saved archives (read here with a tar
//! reader of its own, and checked against imgsize's totals); imgsize's projection of it
//! must equal it exactly. Figures derived by hand from the build context (what the
//! `chmod -R` layer re-adds, the whiteouts `rm -rf` writes) catch a change of the
//! engine's behaviour too.
//!
//! Needs `dockerd` (Debian's `docker.io`), the `docker` CLI and `/bin/busybox`
//! (`busybox-static`), and root to start the daemon; without them it prints a skip note,
//! except under CI (`CI` set), where `.ci/run` installs them and a missing one fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use imgsize::analyze::Report;

use crate::util::analyze;
use crate::util::harness::skip;
use crate::util::reports::{assert_error, assert_same_report};

pub(crate) const BASE: &str = "isz-engine/base:1";
const SITE: &str = "usr/local/lib/python3.11/site-packages";
/// The wheel pip leaves in its cache, and the installed package's files.
const WHEEL: u64 = 150_000;
const INIT: u64 = 40_000;
const TESTS: u64 = 9_000;
/// The busybox applets the Dockerfiles run, as symlinks in the base image.
const APPLETS: &[&str] = &["sh", "mkdir", "chmod", "rm", "dd", "head", "cp", "ls"];

/// The naive build and one rebuild per single fix.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Build {
    Naive,
    /// `.dockerignore` with `app/.git` and `**/__pycache__`.
    Dockerignore,
    /// `.git` left out of the context (`.dockerignore` with `app/.git` alone).
    GitLeftOut,
    /// No `chmod` RUN: the modes set in the context, and `chmod -R g+w /root` at the end
    /// of the RUN that writes the cache.
    ChmodAtSource,
    /// pip's cache deleted in the RUN that writes it.
    CacheDeleted,
    /// The package's tests not written.
    NoTests,
}

impl Build {
    fn name(self) -> &'static str {
        match self {
            Build::Naive => "naive",
            Build::Dockerignore => "dockerignore",
            Build::GitLeftOut => "git-left-out",
            Build::ChmodAtSource => "chmod-at-source",
            Build::CacheDeleted => "cache-deleted",
            Build::NoTests => "no-tests",
        }
    }

    fn dockerignore(self) -> Option<&'static str> {
        match self {
            Build::Dockerignore => Some("app/.git\n**/__pycache__\n"),
            Build::GitLeftOut => Some("app/.git\n"),
            _ => None,
        }
    }

    fn dockerfile(self) -> String {
        let mut run = vec![
            "mkdir -p /root/.cache/pip/wheels".to_string(),
            format!("head -c {WHEEL} /dev/zero > /root/.cache/pip/wheels/w.whl"),
        ];
        if self == Build::NoTests {
            run.push(format!("mkdir -p /{SITE}/req"));
        } else {
            run.push(format!("mkdir -p /{SITE}/req/tests"));
        }
        run.push(format!(
            "head -c {INIT} /dev/zero > /{SITE}/req/__init__.py"
        ));
        if self != Build::NoTests {
            run.push(format!(
                "head -c {TESTS} /dev/zero > /{SITE}/req/tests/test_x.py"
            ));
        }
        match self {
            Build::ChmodAtSource => run.push("chmod -R g+w /root".into()),
            Build::CacheDeleted => run.push("rm -rf /root/.cache/pip".into()),
            _ => {}
        }
        let mut lines = vec![
            format!("FROM {BASE}"),
            "COPY app /app".into(),
            format!("RUN {}", run.join(" && ")),
        ];
        if self != Build::ChmodAtSource {
            lines.push("RUN chmod -R g+w /app /root".into());
        }
        lines.push("RUN rm -rf /app/.git /root/.cache".into());
        lines.join("\n") + "\n"
    }
}

/// Each fix by the rule and layer of the naive image's finding that suggests it, and
/// the rebuild that applies it.
const FIXES: &[(&str, usize, Build)] = &[
    ("dockerignore", 1, Build::Dockerignore),
    ("deleted-later", 1, Build::GitLeftOut),
    ("pip-cache", 2, Build::CacheDeleted),
    ("deleted-later", 2, Build::CacheDeleted),
    ("package-tests", 2, Build::NoTests),
    ("chmod-duplicate", 3, Build::ChmodAtSource),
];

/// Deterministic bytes (xorshift64, fixed seed per file).
fn filler(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

/// The app of the build context, by path under the context (the path in the image
/// too): its source, its `.git` (about 200 kB) and host bytecode.
fn app_files() -> Vec<(String, Vec<u8>)> {
    let mut main = String::from("import json\n\n");
    let mut i = 0;
    while main.len() < 3000 {
        main += &format!(
            "def handler_{i}(event):\n    return json.dumps({{\"n\": {i}, \"event\": event}})\n\n"
        );
        i += 1;
    }
    let pack = "pack-5e1f0c4a9b3d27e8f6a1c0d9e8b7a6f5e4d3c2b1";
    let mut pyc = vec![0xa7, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    pyc.extend(filler(7, 2392));
    vec![
        ("app/main.py".into(), main.into_bytes()),
        ("app/.git/HEAD".into(), b"ref: refs/heads/main\n".to_vec()),
        (
            "app/.git/config".into(),
            b"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n".to_vec(),
        ),
        (
            "app/.git/refs/heads/main".into(),
            b"9c1f3e5a7b2d4f6a8c0e1b3d5f7a9c2e4b6d8f01\n".to_vec(),
        ),
        ("app/.git/index".into(), filler(1, 1800)),
        (format!("app/.git/objects/pack/{pack}.idx"), filler(2, 5000)),
        (
            format!("app/.git/objects/pack/{pack}.pack"),
            filler(3, 190_000),
        ),
        ("app/__pycache__/main.cpython-311.pyc".into(), pyc),
    ]
}

fn bytes_under(files: &[(String, Vec<u8>)], part: &str) -> u64 {
    files
        .iter()
        .filter(|(p, _)| p.contains(part))
        .map(|(_, b)| b.len() as u64)
        .sum()
}

/// Write the build context of one build: the app (its modes as a checkout leaves them,
/// or group-writable for the chmod fix), the Dockerfile and the `.dockerignore`.
fn write_context(dir: &Path, build: Build) {
    let (file_mode, dir_mode) = if build == Build::ChmodAtSource {
        (0o664, 0o775)
    } else {
        (0o644, 0o755)
    };
    fs::create_dir_all(dir.join("app")).expect("context dir");
    for (path, bytes) in app_files() {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("context dir");
        fs::write(&path, bytes).expect("context file");
        fs::set_permissions(&path, fs::Permissions::from_mode(file_mode)).expect("chmod");
    }
    // Every folder of the app, with the mode a user's `chmod -R` leaves on it.
    let mut dirs = vec![dir.join("app")];
    while let Some(d) = dirs.pop() {
        fs::set_permissions(&d, fs::Permissions::from_mode(dir_mode)).expect("chmod");
        for e in fs::read_dir(&d).expect("read context") {
            let e = e.expect("read context");
            if e.file_type().expect("file type").is_dir() {
                dirs.push(e.path());
            }
        }
    }
    fs::write(dir.join("Dockerfile"), build.dockerfile()).expect("Dockerfile");
    if let Some(ignore) = build.dockerignore() {
        fs::write(dir.join(".dockerignore"), ignore).expect(".dockerignore");
    }
}

/// The base image's root filesystem: busybox and its applets, no instruction.
pub(crate) fn write_base(path: &Path, busybox: &Path) {
    let bin = fs::read(busybox).expect("read busybox");
    let mut tar = tar::Builder::new(fs::File::create(path).expect("base tar"));
    let header = |kind: tar::EntryType, mode: u32, size: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h
    };
    tar.append_data(
        &mut header(tar::EntryType::Directory, 0o755, 0),
        "bin/",
        std::io::empty(),
    )
    .expect("base tar");
    tar.append_data(
        &mut header(tar::EntryType::Regular, 0o755, bin.len() as u64),
        "bin/busybox",
        &bin[..],
    )
    .expect("base tar");
    for applet in APPLETS {
        tar.append_link(
            &mut header(tar::EntryType::Symlink, 0o777, 0),
            format!("bin/{applet}"),
            "busybox",
        )
        .expect("base tar");
    }
    tar.into_inner().expect("base tar");
}

/// What one layer of a saved archive holds, read independently of imgsize: its
/// regular files with their sizes (hardlinks count once) and modes, and its whiteouts.
#[derive(Debug, Default)]
pub(crate) struct LayerFiles {
    pub(crate) files: BTreeMap<String, u64>,
    modes: BTreeMap<String, u32>,
    whiteouts: Vec<String>,
}

impl LayerFiles {
    fn stored(&self) -> u64 {
        self.files.values().sum()
    }
}

fn clean(path: &str) -> String {
    path.trim_start_matches("./").trim_end_matches('/').into()
}

/// The layers of a `docker save` archive, in order.
pub(crate) fn read_layers(archive: &Path) -> Vec<LayerFiles> {
    let mut blobs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut outer = tar::Archive::new(fs::File::open(archive).expect("open archive"));
    for entry in outer.entries().expect("read archive") {
        let mut entry = entry.expect("read archive");
        if entry.header().entry_type().is_file() {
            let name = clean(&entry.path().expect("path").to_string_lossy());
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read archive");
            blobs.insert(name, bytes);
        }
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&blobs["manifest.json"]).expect("manifest.json");
    let layers = manifest[0]["Layers"].as_array().expect("Layers");
    layers
        .iter()
        .map(|l| {
            let blob = &blobs[&clean(l.as_str().expect("layer path"))];
            let mut data = Vec::new();
            if blob.starts_with(&[0x1f, 0x8b]) {
                flate2::read::GzDecoder::new(&blob[..])
                    .read_to_end(&mut data)
                    .expect("gunzip layer");
            } else {
                data.clone_from(blob);
            }
            let mut layer = LayerFiles::default();
            let mut inner = tar::Archive::new(&data[..]);
            for entry in inner.entries().expect("read layer") {
                let entry = entry.expect("read layer");
                let path = clean(&entry.path().expect("path").to_string_lossy());
                let name = path.rsplit('/').next().unwrap_or_default();
                if name.starts_with(".wh.") {
                    layer.whiteouts.push(path);
                } else if entry.header().entry_type().is_file() {
                    let mode = entry.header().mode().expect("mode") & 0o7777;
                    layer.modes.insert(path.clone(), mode);
                    layer.files.insert(path, entry.size());
                }
            }
            layer
        })
        .collect()
}

/// A program on PATH (or in the usual sbin folders, where root's tools live).
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A private Docker daemon in a temporary folder. Dropping it removes the images it
/// built, stops it (SIGTERM, then SIGKILL after 20 s) and deletes the folder, also
/// when an assertion failed.
pub(crate) struct Engine {
    dockerd: Child,
    docker: PathBuf,
    dir: Option<tempfile::TempDir>,
    images: Vec<String>,
    /// The TLS port, when started with one.
    tls_port: Option<u16>,
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, by openssl.
fn make_certs(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let at = |f: &str| dir.join(f).display().to_string();
    let openssl = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .map_err(|e| format!("openssl: {e}"))?;
        out.status
            .success()
            .then_some(())
            .ok_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned())
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=isz-ca",
        "-keyout",
        &at("ca-key.pem"),
        "-out",
        &at("ca.pem"),
    ])?;
    for (name, cn, usage) in [
        (
            "server",
            "127.0.0.1",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        ),
        ("client", "isz-client", "extendedKeyUsage=clientAuth\n"),
    ] {
        let (key, cert) = match name {
            "server" => (at("server-key.pem"), at("server-cert.pem")),
            _ => (at("key.pem"), at("cert.pem")),
        };
        let csr = at(&format!("{name}.csr"));
        let ext = at(&format!("{name}.ext"));
        fs::write(&ext, usage).map_err(|e| e.to_string())?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            &key,
            "-out",
            &csr,
        ])?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &at("ca.pem"),
            "-CAkey",
            &at("ca-key.pem"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ])?;
    }
    Ok(())
}

impl Engine {
    /// Start the daemon and wait until it answers; `Err` says why it could not start.
    pub(crate) fn start(dockerd: &Path, docker: PathBuf) -> Result<Engine, String> {
        Engine::start_with(dockerd, docker, false)
    }

    /// Start the daemon; with `tls`, it also listens on `tcp://127.0.0.1:PORT` with TLS
    /// and client certificates (`tls/` holds the CA, its certificate and the client's,
    /// as `DOCKER_CERT_PATH` wants them).
    fn start_with(dockerd: &Path, docker: PathBuf, tls: bool) -> Result<Engine, String> {
        // Short paths: the daemon's unix sockets live under this folder.
        let dir = tempfile::Builder::new()
            .prefix("isz-")
            .tempdir_in("/tmp")
            .map_err(|e| format!("temp dir: {e}"))?;
        let root = dir.path();
        fs::write(root.join("daemon.json"), "{}").map_err(|e| e.to_string())?;
        let log = fs::File::create(root.join("dockerd.log")).map_err(|e| e.to_string())?;
        let mut tls_args = Vec::new();
        let mut tls_port = None;
        if tls {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            make_certs(&root.join("tls"))?;
            let t = root.join("tls");
            tls_args = vec![
                "--host".to_string(),
                format!("tcp://127.0.0.1:{port}"),
                "--tlsverify".to_string(),
                "--tlscacert".to_string(),
                t.join("ca.pem").display().to_string(),
                "--tlscert".to_string(),
                t.join("server-cert.pem").display().to_string(),
                "--tlskey".to_string(),
                t.join("server-key.pem").display().to_string(),
            ];
            tls_port = Some(port);
        }
        let child = Command::new(dockerd)
            .args(&tls_args)
            .arg("--storage-driver=vfs")
            .arg("--iptables=false")
            .arg("--bridge=none")
            .arg("--config-file")
            .arg(root.join("daemon.json"))
            .arg("--data-root")
            .arg(root.join("d"))
            .arg("--exec-root")
            .arg(root.join("e"))
            .arg("--pidfile")
            .arg(root.join("p"))
            .arg("--host")
            .arg(format!("unix://{}", root.join("s").display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", dockerd.display()))?;
        let mut engine = Engine {
            dockerd: child,
            docker,
            dir: Some(dir),
            images: Vec::new(),
            tls_port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = engine.dockerd.try_wait() {
                return Err(format!("dockerd exited ({status}): {}", engine.log_tail()));
            }
            if engine.cli(&["version"]).status.success() {
                return Ok(engine);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "dockerd did not answer in 30 s: {}",
                    engine.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.as_ref().expect("engine dir").path()
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir().join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(3)..].join("\n")
    }

    /// Run the docker CLI against this daemon, with the classic builder.
    fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run docker")
    }

    fn command(&self, args: &[&str]) -> Command {
        let dir = self.dir();
        let mut command = Command::new(&self.docker);
        command
            .arg("-H")
            .arg(format!("unix://{}", dir.join("s").display()))
            .args(args)
            .env("DOCKER_BUILDKIT", "0")
            .env("DOCKER_CONFIG", dir.join("cli"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .stdin(Stdio::null());
        command
    }

    fn docker(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "docker {}: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Import the base image from a root filesystem tar.
    pub(crate) fn import(&mut self, tar: &Path) {
        self.docker(&["import", &tar.to_string_lossy(), BASE]);
        self.images.push(BASE.into());
    }

    /// Build one variant with the classic builder and no network, and save it.
    fn build(&mut self, build: Build) -> PathBuf {
        let ctx = self.dir().join(format!("ctx-{}", build.name()));
        write_context(&ctx, build);
        self.build_context(&ctx, build.name())
    }

    /// Build the context `ctx` as `isz-engine/NAME:1` with the classic builder and no
    /// network, and save it to `NAME.tar` in the engine's folder.
    pub(crate) fn build_context(&mut self, ctx: &Path, name: &str) -> PathBuf {
        let tag = format!("isz-engine/{name}:1");
        let ctx = ctx.to_string_lossy().into_owned();
        self.docker(&["build", "-q", "--network", "none", "-t", &tag, &ctx]);
        self.images.push(tag.clone());
        let archive = self.dir().join(format!("{name}.tar"));
        self.docker(&["save", &tag, "-o", &archive.to_string_lossy()]);
        archive
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if !self.images.is_empty() {
            let mut args = vec!["rmi", "-f"];
            args.extend(self.images.iter().map(String::as_str));
            let _ = self.command(&args).output();
        }
        if let Ok(None) = self.dockerd.try_wait() {
            // SIGTERM, so that the daemon stops its containerd and unmounts its folders.
            let pid = self.dockerd.id().to_string();
            let _ = Command::new("kill")
                .args(["-TERM", &pid])
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.dockerd.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(None) => {
                    let _ = self.dockerd.kill();
                    let _ = self.dockerd.wait();
                    break;
                }
                _ => break,
            }
        }
        let Some(dir) = self.dir.take() else { return };
        // A mount the daemon left under its folder would keep the folder.
        let root = dir.path().to_string_lossy().into_owned();
        let mut mounts: Vec<String> = fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(String::from))
            .filter(|m| m.starts_with(&root))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = Command::new("umount").args(["-l", &m]).status();
        }
        if let Err(e) = dir.close() {
            eprintln!("note: could not remove the engine test's folder {root}: {e}");
        }
    }
}

/// imgsize's projection for one rule on one layer, in your scope.
fn projected(r: &Report, rule: &str, layer: usize) -> Option<u64> {
    r.findings
        .rows
        .iter()
        .find(|f| f.rule.code() == rule && f.layer == layer && f.scope.code() == "yours")
        .map(|f| f.bytes)
}

pub(crate) fn total(layers: &[LayerFiles]) -> u64 {
    layers.iter().map(LayerFiles::stored).sum()
}

/// A private engine with the busybox base imported as [`BASE`]; the test is skipped
/// when dockerd, docker or busybox is missing or the daemon cannot start.
pub(crate) fn busybox_engine() -> Engine {
    let (Some(dockerd), Some(docker)) = (find_program("dockerd"), find_program("docker")) else {
        skip("dockerd or docker is not installed (apt-get install docker.io)");
    };
    let busybox = Path::new("/bin/busybox");
    if !busybox.is_file() {
        skip("/bin/busybox is absent (apt-get install busybox-static)");
    }
    let mut engine = match Engine::start(&dockerd, docker) {
        Ok(engine) => engine,
        Err(reason) => skip(format!("cannot start a private dockerd: {reason}")),
    };
    let base = engine.dir().join("base.tar");
    write_base(&base, busybox);
    engine.import(&base);
    engine
}

/// Every single fix, rebuilt alone by the real engine, saves exactly what imgsize
/// projects for it.
fn every_fix_alone_projects_its_real_rebuild() {
    let mut engine = busybox_engine();

    let mut archives = BTreeMap::new();
    for build in [
        Build::Naive,
        Build::Dockerignore,
        Build::GitLeftOut,
        Build::ChmodAtSource,
        Build::CacheDeleted,
        Build::NoTests,
    ] {
        let archive = engine.build(build);
        let layers = read_layers(&archive);
        let report = analyze(&archive).expect("analyze");
        assert_eq!(
            report.totals.stored_bytes,
            total(&layers),
            "{}: imgsize's stored bytes against the archive's",
            build.name()
        );
        archives.insert(build.name(), (layers, report));
    }
    let (naive, r) = &archives["naive"];
    let before = total(naive);

    // The projections against the rebuilds.
    let mut rows = Vec::new();
    for &(rule, layer, build) in FIXES {
        let real = before - total(&archives[build.name()].0);
        rows.push((rule, layer, build, projected(r, rule, layer), real));
    }
    let mut table = format!(
        "naive image: {before} bytes stored\n{:<16} {:>5} {:<16} {:>10} {:>10}  equal\n",
        "rule", "layer", "rebuild", "projected", "real"
    );
    for (rule, layer, build, got, real) in &rows {
        let got_text = got.map_or("none".into(), |g| g.to_string());
        let _ = writeln!(
            table,
            "{rule:<16} {layer:>5} {:<16} {got_text:>10} {real:>10}  {}",
            build.name(),
            *got == Some(*real)
        );
    }
    eprintln!("{table}");
    assert!(
        rows.iter().all(|(_, _, _, got, real)| *got == Some(*real)),
        "a projection does not equal its real rebuild:\n{table}"
    );

    // The engine's behaviour, by hand from the build context.
    let app = app_files();
    let git = bytes_under(&app, "/.git/");
    let pyc = bytes_under(&app, "/__pycache__/");
    let all_app: u64 = app.iter().map(|(_, b)| b.len() as u64).sum();
    let app_map: BTreeMap<String, u64> = app
        .iter()
        .map(|(p, b)| (p.clone(), b.len() as u64))
        .collect();
    let wheel = "root/.cache/pip/wheels/w.whl".to_string();
    assert_eq!(r.base.layers, 1, "the imported layer is the base's");
    assert_eq!(r.base.rule.code(), "no-instruction");
    assert_eq!(naive.len(), 5, "base, COPY, RUN, chmod, rm");
    assert_eq!(
        naive[1].files, app_map,
        "the COPY layer is the context's app"
    );
    assert_eq!(
        naive[2].files,
        BTreeMap::from([
            (wheel.clone(), WHEEL),
            (format!("{SITE}/req/__init__.py"), INIT),
            (format!("{SITE}/req/tests/test_x.py"), TESTS),
        ])
    );
    // `chmod -R g+w /app /root` re-adds exactly the files whose mode it changes: the
    // app and pip's cache, nothing of site-packages or the base.
    let mut readded = app_map.clone();
    readded.insert(wheel.clone(), WHEEL);
    assert_eq!(naive[3].files, readded, "what the chmod layer re-adds");
    assert_eq!(naive[3].stored(), all_app + WHEEL, "{table}");
    // `rm -rf` writes one whiteout per deleted folder and ships no bytes.
    assert!(naive[4].files.is_empty());
    let mut whiteouts = naive[4].whiteouts.clone();
    whiteouts.sort();
    assert_eq!(whiteouts, ["app/.wh..git", "root/.wh..cache"]);
    // The rebuild with the modes set at the source has no chmod layer, and its RUN ships
    // the cache once although it changes the cache's mode.
    let chmod = &archives["chmod-at-source"].0;
    assert_eq!(chmod.len(), 4, "base, COPY, RUN, rm");
    assert_eq!(chmod[2].files.get(&wheel), Some(&WHEEL));
    assert_eq!(chmod[2].stored(), WHEEL + INIT + TESTS);
    // ... and leaves the modes the chmod layer left: the COPY keeps the context's modes.
    let modes = |files: &BTreeMap<String, u32>, mode: u32| files.values().all(|m| *m == mode);
    assert!(modes(&naive[1].modes, 0o644) && modes(&naive[3].modes, 0o664));
    assert!(modes(&chmod[1].modes, 0o664), "{:?}", chmod[1].modes);
    assert_eq!(chmod[2].modes.get(&wheel), Some(&0o664));
    // Each rebuild changes only what its fix removes from what a container sees.
    let seen = |build: Build| archives[build.name()].1.totals.content_bytes;
    let naive_seen = r.totals.content_bytes;
    assert_eq!(
        seen(Build::Dockerignore) + pyc,
        naive_seen,
        "host bytecode was seen"
    );
    assert_eq!(seen(Build::NoTests) + TESTS, naive_seen);
    for build in [Build::GitLeftOut, Build::CacheDeleted, Build::ChmodAtSource] {
        assert_eq!(seen(build), naive_seen, "{}", build.name());
    }

    // The savings, by hand: each hidden byte ships twice (added, then re-added by the
    // chmod), and the chmod layer ships the app and the cache once more.
    let real: BTreeMap<(&str, usize), u64> = rows
        .iter()
        .map(|(rule, layer, _, _, real)| ((*rule, *layer), *real))
        .collect();
    assert_eq!(real[&("dockerignore", 1)], 2 * (git + pyc), "{table}");
    assert_eq!(real[&("deleted-later", 1)], 2 * git, "{table}");
    assert_eq!(real[&("pip-cache", 2)], 2 * WHEEL, "{table}");
    assert_eq!(real[&("deleted-later", 2)], 2 * WHEEL, "{table}");
    assert_eq!(real[&("package-tests", 2)], TESTS, "{table}");
    assert_eq!(real[&("chmod-duplicate", 3)], all_app + WHEEL, "{table}");
    assert_eq!(
        before,
        fs::metadata("/bin/busybox").expect("busybox").len() + 2 * (all_app + WHEEL) + INIT + TESTS,
        "{table}"
    );
}

/// `imgsize report NAME` reads the image straight from the engine (its API over the
/// socket in `DOCKER_HOST`, the save stream walked as it arrives): figure for figure
/// what `docker save` then `imgsize report` gives, by `docker-daemon:` and by a bare
/// name; an image the engine lacks, or an engine that does not answer, is one line.
fn images_are_read_straight_from_the_engine() {
    let (Some(dockerd), Some(docker)) = (find_program("dockerd"), find_program("docker")) else {
        skip("dockerd or docker is not installed (apt-get install docker.io)");
    };
    let busybox = Path::new("/bin/busybox");
    if !busybox.is_file() {
        skip("/bin/busybox is absent (apt-get install busybox-static)");
    }
    let mut engine = match Engine::start_with(&dockerd, docker, true) {
        Ok(engine) => engine,
        Err(reason) => skip(format!("cannot start a private dockerd: {reason}")),
    };
    let base = engine.dir().join("base.tar");
    write_base(&base, busybox);
    engine.import(&base);
    let saved = engine.build(Build::Naive);
    let tag = format!("isz-engine/{}:1", Build::Naive.name());
    let host = format!("unix://{}", engine.dir().join("s").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_imgsize"))
            .args(args)
            .env("DOCKER_HOST", &host)
            .env("DOCKER_CONFIG", engine.dir().join("cli"))
            .env("XDG_RUNTIME_DIR", engine.dir().join("no-podman"))
            .env_remove("CONTAINER_HOST")
            .env_remove("IMGSIZE_FORMAT")
            .env_remove("IMGSIZE_PLATFORM")
            .stdin(Stdio::null())
            .output()
            .expect("run imgsize")
    };
    let json = |input: &str| -> serde_json::Value {
        let out = run(&[
            "report",
            input,
            "--no-progress",
            "--no-cache",
            "--format",
            "json",
        ]);
        assert!(
            out.status.success(),
            "{input}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON report")
    };
    let from_file = json(&saved.to_string_lossy());
    for input in [format!("docker-daemon:{tag}"), tag.clone()] {
        let from_engine = json(&input);
        assert_same_report(&from_engine, &from_file, &input);
        assert_eq!(from_engine["image"]["source"], input.as_str());
        assert_eq!(from_engine["image"]["reference"], tag.as_str());
    }
    // `scan --engine docker`: every tagged image of the engine, each once, by the name
    // `report` reads it by, with the report's figures.
    let out = run(&["scan", "--engine", "docker", "--no-progress", "--no-cache"]);
    assert!(
        out.status.success(),
        "scan --engine: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, names, "sorted, each once");
    assert!(
        names.iter().all(|n| n.starts_with("docker-daemon:")),
        "{names:?}"
    );
    let naive = records
        .iter()
        .find(|r| r["name"] == format!("docker-daemon:{tag}").as_str())
        .expect("the built image is listed");
    assert_eq!(naive["kind"], "image");
    assert_eq!(
        naive["totals"]["stored_bytes"],
        from_file["totals"]["stored_bytes"]
    );
    assert_eq!(
        naive["layers"].as_array().map(|l| l.len() as u64),
        from_file["totals"]["layers"].as_u64()
    );
    // Over TCP with TLS and a client certificate (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
    let port = engine.tls_port.expect("the TLS port");
    let out = Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args([
            "report",
            &format!("docker-daemon:{tag}"),
            "--no-progress",
            "--no-cache",
            "--format",
            "json",
        ])
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", engine.dir().join("tls"))
        .output()
        .expect("run imgsize");
    assert!(
        out.status.success(),
        "TLS: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let over_tls: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_same_report(&over_tls, &from_file, "docker-daemon over TLS");
    // --source decides where a bare name is looked for.
    let out = run(&["report", &tag, "--source", "engine", "--no-progress"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "report",
        &tag,
        "--source",
        "registry",
        "--no-progress",
        "--deadline",
        "10s",
    ]);
    let err = assert_error(&out, "--source registry");
    assert!(err.contains("docker.io/isz-engine/naive:1"), "{err}");
    let out = run(&[
        "report",
        "docker-daemon:isz-engine/absent:1",
        "--no-progress",
    ]);
    let err = assert_error(&out, "absent image");
    assert!(
        err.contains(&format!(
            "no image isz-engine/absent:1 in the Docker Engine at {host}"
        )),
        "{err}"
    );
    let gone = format!("unix://{}", engine.dir().join("nothing-here").display());
    let out = Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args(["report", &format!("docker-daemon:{tag}"), "--no-progress"])
        .env("DOCKER_HOST", &gone)
        .output()
        .expect("run imgsize");
    let err = assert_error(&out, "no engine");
    assert!(
        err.contains(&format!("the Docker Engine at {gone} does not answer")),
        "{err}"
    );
}

crate::tests![
    every_fix_alone_projects_its_real_rebuild,
    images_are_read_straight_from_the_engine,
];
