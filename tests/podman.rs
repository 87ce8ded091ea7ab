//! Images straight from Podman: its own store in a temp folder (vfs), `podman build`
//! of a small busybox image whose RUN steps create, chmod and delete files, its
//! Docker-compatible service on a temp socket, and `imgsize report NAME` (found through
//! `CONTAINER_HOST`), `containers-storage:NAME` through the service, and the store read
//! directly with no daemon (`containers-storage:[vfs@ROOT+RUN]NAME`) equal, figure for
//! figure, `imgsize report` of `podman save`. Skipped without podman or busybox-static (`.ci/run`
//! installs both).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::harness::skip;
use crate::util::reports::{assert_error, assert_same_report};

/// A private Podman: its store, and its service on a socket.
struct Podman {
    dir: tempfile::TempDir,
    service: Option<Child>,
}

impl Podman {
    fn new() -> Podman {
        let ok = Command::new("podman")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            skip("podman is not installed (apt-get install podman)");
        }
        if !Path::new("/bin/busybox").is_file() {
            skip("/bin/busybox is absent (apt-get install busybox-static)");
        }
        let dir = tempfile::Builder::new()
            .prefix("isz-pm-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        Podman { dir, service: None }
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let d = self.dir();
        let mut c = Command::new("podman");
        c.arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("run"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ])
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().expect("run podman");
        assert!(
            out.status.success(),
            "podman {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Build `tag` from a Dockerfile in a fresh context holding busybox.
    fn build(&self, tag: &str, dockerfile: &str) {
        let ctx = self
            .dir()
            .join(format!("ctx-{}", tag.replace([':', '/'], "-")));
        fs::create_dir_all(&ctx).expect("context");
        fs::copy("/bin/busybox", ctx.join("busybox")).expect("busybox");
        fs::write(ctx.join("Dockerfile"), dockerfile).expect("Dockerfile");
        self.run(&[
            "build",
            "--network",
            "none",
            "-t",
            tag,
            &ctx.to_string_lossy(),
        ]);
    }

    /// Start the Docker-compatible service; its `unix://` address.
    fn serve(&mut self) -> String {
        let socket = self.dir().join("sock");
        let url = format!("unix://{}", socket.display());
        let log = fs::File::create(self.dir().join("service.log")).expect("log");
        let child = self
            .command()
            .args(["system", "service", "--time=0", &url])
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start podman system service");
        self.service = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "the podman service did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        url
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        if let Some(mut child) = self.service.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn imgsize(args: &[&str], container_host: &str, no_docker: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args(args)
        .env("CONTAINER_HOST", container_host)
        .env("DOCKER_HOST", format!("unix://{}", no_docker.display()))
        .env_remove("IMGSIZE_FORMAT")
        .env_remove("IMGSIZE_PLATFORM")
        .stdin(Stdio::null())
        .output()
        .expect("run imgsize")
}

fn images_are_read_straight_from_podman() {
    let mut podman = Podman::new();
    podman.build("isz-pm/base:1", "FROM scratch\nCOPY busybox /bin/busybox\n");
    podman.build(
        "isz-pm/app:1",
        "FROM isz-pm/base:1\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox mkdir -p /app && /bin/busybox dd if=/dev/zero of=/app/big bs=1k count=64 2>/dev/null && /bin/busybox chmod -R g+w /app\"]\n\
         RUN [\"/bin/busybox\", \"rm\", \"-rf\", \"/app/big\"]\n",
    );
    let saved: PathBuf = podman.dir().join("app.tar");
    podman.run(&["save", "-o", &saved.to_string_lossy(), "isz-pm/app:1"]);
    let host = podman.serve();
    let no_docker = podman.dir().join("no-docker");
    let json = |input: &str| -> Value {
        let out = imgsize(
            &[
                "report",
                input,
                "--no-progress",
                "--no-cache",
                "--format",
                "json",
            ],
            &host,
            &no_docker,
        );
        assert!(
            out.status.success(),
            "{input}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON report")
    };
    let from_file = json(&saved.to_string_lossy());
    // 64 KiB created (and chmodded) in one RUN, deleted by the next: shipped, unseen.
    assert_eq!(from_file["totals"]["wasted_bytes"], 65536);
    for input in ["isz-pm/app:1", "containers-storage:isz-pm/app:1"] {
        let from_podman = json(input);
        assert_same_report(&from_podman, &from_file, input);
        assert_eq!(from_podman["image"]["source"], input);
    }
    // The store read directly, no daemon: each layer's tar rebuilt from its tar-split
    // and its files hashes to its diff digest (--verify all), and the figures are the
    // saved archive's. Only how it was stored differs: a manifest (the archive has
    // none) and the layers' media type.
    let root = podman.dir().join("root");
    let run = podman.dir().join("run");
    let direct = format!(
        "containers-storage:[vfs@{}+{}]isz-pm/app:1",
        root.display(),
        run.display()
    );
    let out = imgsize(
        &[
            "report",
            &direct,
            "--no-progress",
            "--no-cache",
            "--verify",
            "all",
            "--format",
            "json",
        ],
        "unix:///nothing",
        &no_docker,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut from_store: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(from_store["image"]["format"], "containers-storage");
    assert!(from_store["image"]["manifest_digest"].is_string());
    from_store["image"]["manifest_digest"] = Value::Null;
    for layer in from_store["layers"].as_array_mut().expect("layers") {
        if layer["media_type"].is_string() {
            layer["media_type"] = Value::Null;
        }
    }
    assert_same_report(&from_store, &from_file, &direct);
    let out = imgsize(
        &[
            "report",
            "containers-storage:isz-pm/absent:1",
            "--no-progress",
        ],
        &host,
        &no_docker,
    );
    let err = assert_error(&out, "absent image");
    assert!(
        err.contains(&format!("no image isz-pm/absent:1 in Podman at {host}")),
        "{err}"
    );
}

crate::tests![images_are_read_straight_from_podman];
