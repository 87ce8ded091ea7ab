//! Reaching users where they are: the completion scripts for every shell, the man
//! pages for every command (both from the same clap definitions, so each command is
//! in them: the list is read off `imgsize --help`, so a new one cannot be forgotten),
//! and `imgsize init`, whose budget file is exactly the committed one for the sample,
//! passes `check` on the image today and fails once the image grows by the headroom.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::builder::{Image, Layer, docker_archive, oci_layout};
use crate::util::{imgsize, tmp};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.tar")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `imgsize ARGS` run in `dir`, where `imgsize.toml` is read and written.
fn imgsize_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgsize"))
        .args(args)
        .current_dir(dir)
        .env_remove("IMGSIZE_FORMAT")
        .env_remove("IMGSIZE_PLATFORM")
        .env_remove("IMGSIZE_BUDGET")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run imgsize")
}

fn ok(o: &Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", text(&o.stderr));
    text(&o.stdout)
}

/// Exit 2 and one `imgsize: error:` line naming each of `names`.
fn one_error(o: &Output, names: &[&str]) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("imgsize: error: "), "{err}");
    for n in names {
        assert!(lines[0].contains(n), "{err} should name {n}");
    }
}

/// The commands `imgsize --help` lists (its `help` aside).
fn commands() -> Vec<String> {
    let help = ok(&imgsize(&["--help"]), "--help");
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    for known in ["report", "check", "init", "completions", "man"] {
        assert!(listed.iter().any(|c| c == known), "{known} in {listed:?}");
    }
    listed
}

fn completions_cover_every_command() {
    let commands = commands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok(&imgsize(&["completions", shell]), shell);
        assert!(script.len() > 1000, "{shell}: {script}");
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell} lacks {command}");
        }
        // Each command's own flags and values are completed too.
        for flag in ["headroom", "manifest-only", "baseline"] {
            assert!(script.contains(flag), "{shell} lacks --{flag}");
        }
    }
    let o = imgsize(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("[possible values: bash, elvish, fish, powershell, zsh]"));
}

/// The long options `imgsize COMMAND --help` shows.
fn options_of(command: &str) -> Vec<String> {
    let help = ok(&imgsize(&[command, "--help"]), command);
    let mut out: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == '=')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .filter(|w| w[2..].chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn man_pages_for_every_command() {
    let dir = tmp();
    let out = dir.path().join("man/man1");
    let o = imgsize(&["man", "--out", &out.to_string_lossy()]);
    ok(&o, "man --out");
    let commands = commands();
    assert_eq!(
        text(&o.stderr),
        format!(
            "imgsize: wrote {} man pages to {}\n",
            commands.len() + 1,
            out.display()
        )
    );
    let mut want: Vec<String> = commands.iter().map(|c| format!("imgsize-{c}.1")).collect();
    want.push("imgsize.1".to_string());
    want.sort();
    let mut written: Vec<String> = fs::read_dir(&out)
        .expect("the directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, want);
    let top = fs::read_to_string(out.join("imgsize.1")).expect("imgsize.1");
    assert_eq!(ok(&imgsize(&["man"]), "man"), top);
    for command in &commands {
        let name = format!("imgsize-{command}");
        let page = fs::read_to_string(out.join(format!("{name}.1"))).expect("page");
        // After roff's two-line quote preamble, the title line names the page.
        let th = page
            .lines()
            .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
        assert_eq!(
            th.map(|l| l.split_whitespace().take(3).collect::<Vec<_>>()),
            Some(vec![".TH", name.as_str(), "1"]),
            "{name}"
        );
        let plain = page.replace("\\-", "-");
        for option in options_of(command) {
            assert!(plain.contains(&option), "{name} lacks {option}");
        }
        assert!(
            top.contains(&format!("imgsize\\-{command}(1)")),
            "{command}"
        );
        assert_eq!(ok(&imgsize(&["man", command]), command), page);
    }
    one_error(&imgsize(&["man", "nothing"]), &["nothing", "report"]);
}

fn init_writes_the_committed_budget() {
    let dir = tmp();
    let sample = sample();
    let sample = sample.to_str().expect("utf-8");
    let o = imgsize_in(dir.path(), &["init", sample, "--no-progress"]);
    assert_eq!(ok(&o, "init"), "");
    assert_eq!(
        text(&o.stderr),
        "imgsize: wrote imgsize.toml: 24 budgets, 10% headroom over sample/python-app:1.0\n"
    );
    let written = fs::read_to_string(dir.path().join("imgsize.toml")).expect("written");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sample.imgsize.toml");
    let committed = fs::read_to_string(committed).expect("committed");
    assert_eq!(written, committed);
    // The sample's truth, each figure with its limit: 10% over it, rounded down.
    for line in [
        "# sum of the layer blobs: what a pull transfers; 208.47 kB (208474 bytes) today\ncompressed = \"229 kB\"\n",
        "# sum of the layer tars; 943.10 kB (943104 bytes) today\nuncompressed = \"1.03 MB\"\n",
        "# bytes of the files a container sees; 796.09 kB (796085 bytes) today\ncontent = \"875 kB\"\n",
        "; 124.00 kB (124000 bytes) today\nwasted = \"136 kB\"\n",
        "# layer count; 7 today\nlayers = 7\n",
        "# the biggest layer tar; 337.41 kB (337408 bytes) today\nlargest_layer = \"371 kB\"\n",
        "\nlogs-temp = 0\n",
        "\nnpm-cache = 0\n",
    ] {
        assert!(written.contains(line), "{line}");
    }
    // What the sample has is not bounded at zero: its pip cache, its .git.
    for absent in ["pip-cache =", "vcs =", "dockerignore =", "your_layers"] {
        assert!(!written.contains(absent), "{absent}");
    }
    // The check reads ./imgsize.toml and passes on the same image.
    let o = imgsize_in(dir.path(), &["check", sample, "--no-progress"]);
    let out = ok(&o, "check");
    assert!(out.contains("all 24 budgets hold"), "{out}");
    // To standard output, the same text.
    let o = imgsize_in(
        dir.path(),
        &["init", sample, "--no-progress", "--output", "-"],
    );
    assert_eq!(ok(&o, "init -"), committed);
}

/// Two images: the second grown by more than 10% in every total but the largest
/// layer, the layer count and the waste.
fn grown_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let image = |tag: &str, app: u64| {
        Image::new(tag)
            .layer(Layer::new("ADD rootfs.tar /").fill("usr/lib/libbase.so", 200_000))
            .layer(Layer::new("/bin/sh -c #(nop) COPY dir:1 in /app").fill("app/main.py", app))
    };
    let (old, new) = (dir.join("app-1.tar"), dir.join("app-2.tar"));
    docker_archive(&image("app:1", 50_000), &old).expect("write");
    docker_archive(&image("app:2", 80_000), &new).expect("write");
    (old, new)
}

fn init_budget_fails_once_the_image_grows_by_the_headroom() {
    let dir = tmp();
    let (old, new) = grown_pair(dir.path());
    let (old, new) = (old.to_str().expect("utf-8"), new.to_str().expect("utf-8"));
    let o = imgsize_in(
        dir.path(),
        &[
            "init",
            old,
            "--no-progress",
            "-o",
            "budget.toml",
            "--headroom",
            "10",
        ],
    );
    ok(&o, "init");
    let budget = fs::read_to_string(dir.path().join("budget.toml")).expect("written");
    let limits: Vec<&str> = budget
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" = ") && !l.ends_with(" = 0"))
        .collect();
    assert_eq!(
        limits,
        [
            "compressed = \"278 kB\"",
            "uncompressed = \"278 kB\"",
            "content = \"274 kB\"",
            "layers = 2",
            "largest_layer = \"221 kB\"",
        ]
    );
    // Today 253,440 stored and pulled (plain tar layers) and 250,000 of content: the
    // second image's 283,648 and 280,000 are 11.9% and 12% more.
    assert!(budget.contains("; 253.44 kB (253440 bytes) today\ncompressed = "));
    assert!(budget.contains("; 250.00 kB (250000 bytes) today\ncontent = "));
    let verdict = |image: &str| {
        let o = imgsize_in(
            dir.path(),
            &[
                "check",
                image,
                "--no-progress",
                "--budget",
                "budget.toml",
                "--format",
                "json",
            ],
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        let failed: Vec<(String, u64)> = v["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|r| r["status"] == "fail")
            .map(|r| {
                (
                    r["key"].as_str().unwrap_or("").to_string(),
                    r["measured"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        (o.status.code(), failed)
    };
    assert_eq!(verdict(old), (Some(0), vec![]));
    assert_eq!(
        verdict(new),
        (
            Some(1),
            vec![
                ("compressed".to_string(), 283_648),
                ("uncompressed".to_string(), 283_648),
                ("content".to_string(), 280_000),
            ]
        )
    );
    // A headroom wide enough for the growth passes it.
    let o = imgsize_in(
        dir.path(),
        &[
            "init",
            old,
            "--no-progress",
            "-o",
            "wide.toml",
            "--headroom",
            "20",
        ],
    );
    ok(&o, "init --headroom 20");
    let o = imgsize_in(
        dir.path(),
        &["check", new, "--no-progress", "--budget", "wide.toml"],
    );
    ok(&o, "check wide");
}

fn init_refuses_to_overwrite() {
    let dir = tmp();
    let sample = sample();
    let sample = sample.to_str().expect("utf-8");
    let file = dir.path().join("imgsize.toml");
    fs::write(&file, "# ours\n").expect("write");
    let o = imgsize_in(dir.path(), &["init", sample, "--no-progress"]);
    one_error(&o, &["imgsize.toml", "--force"]);
    assert_eq!(fs::read_to_string(&file).expect("kept"), "# ours\n");
    fs::write(dir.path().join("mine.toml"), "").expect("write");
    let o = imgsize_in(
        dir.path(),
        &["init", sample, "--no-progress", "-o", "mine.toml"],
    );
    one_error(&o, &["mine.toml", "--force"]);
    let o = imgsize_in(dir.path(), &["init", sample, "--no-progress", "--force"]);
    ok(&o, "init --force");
    assert!(
        fs::read_to_string(&file)
            .expect("replaced")
            .contains("compressed = \"229 kB\"")
    );
}

fn init_errors_exit_two() {
    let dir = tmp();
    let missing = dir.path().join("nope.tar");
    let o = imgsize_in(
        dir.path(),
        &["init", &missing.to_string_lossy(), "--no-progress"],
    );
    one_error(&o, &["nope.tar"]);
    let junk = dir.path().join("junk.tar");
    fs::write(&junk, "not an image\n".repeat(100)).expect("write");
    let o = imgsize_in(
        dir.path(),
        &["init", &junk.to_string_lossy(), "--no-progress"],
    );
    one_error(&o, &["junk.tar"]);
    assert!(!dir.path().join("imgsize.toml").exists());
    let sample = sample();
    for bad in ["-5", "ten", "2.555", "5000"] {
        let o = imgsize_in(
            dir.path(),
            &[
                "init",
                &sample.to_string_lossy(),
                &format!("--headroom={bad}"),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(text(&o.stderr).contains("headroom"), "{}", text(&o.stderr));
    }
    let o = imgsize_in(
        dir.path(),
        &[
            "init",
            &sample.to_string_lossy(),
            "--no-progress",
            "-o",
            "no/such/dir/b.toml",
        ],
    );
    one_error(&o, &["no/such/dir/b.toml"]);
    assert!(!dir.path().join("imgsize.toml").exists());
}

/// A budget from incomplete figures would be wrong: a layer that cannot be read
/// writes nothing.
fn init_writes_nothing_for_an_incomplete_image() {
    let dir = tmp();
    let layout = dir.path().join("flipped");
    let image = Image::new("app:1")
        .layer(Layer::new("ADD rootfs.tar /").fill("usr/lib/libbase.so", 200_000))
        .layer(Layer::new("/bin/sh -c #(nop) COPY dir:1 in /app").fill("app/main.py", 5_000));
    oci_layout(&image, &layout).expect("layout");
    let blobs = layout.join("blobs/sha256");
    let biggest = fs::read_dir(&blobs)
        .expect("blobs")
        .map(|e| e.expect("entry").path())
        .max_by_key(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("a blob");
    let mut bytes = fs::read(&biggest).expect("blob");
    // Inside the 200 kB file's content: the tar stays well formed.
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&biggest, bytes).expect("write");
    let o = imgsize_in(
        dir.path(),
        &["init", "flipped", "--no-progress", "--verify", "all"],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("digest mismatch"), "{err}");
    assert!(
        err.ends_with(
            "imgsize: error: flipped: some layers could not be read, so no budget was written\n"
        ),
        "{err}"
    );
    assert!(!dir.path().join("imgsize.toml").exists());
}

crate::tests![
    completions_cover_every_command,
    man_pages_for_every_command,
    init_writes_the_committed_budget,
    init_budget_fails_once_the_image_grows_by_the_headroom,
    init_refuses_to_overwrite,
    init_errors_exit_two,
    init_writes_nothing_for_an_incomplete_image,
];
