//! The HTML report and the tree it draws: exact tree figures on the sample, the page
//! embedding the same JSON `--format json` prints, names from a hostile image staying
//! data, the page size on a 30,000-file image, and the page in a real browser
//! (Debian's chromium, driven by tests/browser/drive.mjs): it renders, a click into a
//! folder moves the breadcrumb, search finds a path, the keyboard works, a layer picked
//! in the timeline by keyboard shows its changes as a tree that sorts, filters and
//! opens and closes by keyboard, and there is no console error and no network request.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::harness::skip;
use crate::util::{imgsize, imgsize_json as json, tmp};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sample.tar");

/// Run imgsize; stdout as text, asserting exit 0.
fn run(args: &[&str]) -> String {
    let out = imgsize(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "imgsize {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The data element's text and its `data-kind`.
fn embedded(page: &str) -> (Value, String) {
    let open = "<script type=\"application/json\" id=\"imgsize-data\" data-kind=\"";
    let at = page.find(open).expect("the data element") + open.len();
    let kind_end = at + page[at..].find('"').expect("kind");
    let kind = page[at..kind_end].to_string();
    let start = kind_end + 2;
    let end = start + page[start..].find("</script>").expect("the data's end");
    let data = &page[start..end];
    assert!(!data.contains('<'), "a raw < in the data");
    (serde_json::from_str(data).expect("the data is JSON"), kind)
}

/// The node at `path` (`/usr/lib`), or panic.
fn node<'a>(tree: &'a Value, path: &str) -> &'a Value {
    path.split('/')
        .filter(|p| !p.is_empty())
        .fold(&tree["root"], |n, name| {
            n["children"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["name"] == name))
                .unwrap_or_else(|| panic!("no {name} in {path}"))
        })
}

fn the_sample_tree_has_exact_figures() {
    let doc = json(&["report", SAMPLE, "--format", "json", "--tree"]);
    let tree = &doc["tree"];
    // 15 files, 39 dirs, 1 symlink; the 4 entries without bytes get no node.
    assert_eq!(tree["nodes"], 51);
    assert_eq!(tree["min_bytes"], 1);
    assert_eq!(tree["pruned_bytes"], 0);
    assert_eq!(tree["pruned_entries"], 4);
    assert_eq!(tree["root"]["bytes"], 796_085);
    assert_eq!(tree["root"]["bytes"], doc["totals"]["content_bytes"]);
    let at = |path: &str| {
        let n = node(tree, path);
        (
            n["kind"].as_str().unwrap_or_default().to_string(),
            n["bytes"].as_u64().unwrap_or_default(),
            n["layer"].as_u64(),
            n["category"].as_str().unwrap_or_default().to_string(),
        )
    };
    let row = |k: &str, b: u64, l: u64, c: &str| (k.to_string(), b, Some(l), c.to_string());
    assert_eq!(at("/usr"), row("dir", 529_000, 3, "other"));
    assert_eq!(at("/root/.cache/pip"), row("dir", 70_000, 3, "pip-cache"));
    assert_eq!(
        at("/usr/local/lib/python3.12/site-packages/numpy/_core/tests"),
        row("dir", 21_000, 3, "tests")
    );
    assert_eq!(
        at("/var/cache/apt/archives/gcc-12_12.2.0-14_amd64.deb"),
        row("file", 41_000, 1, "apt-archives")
    );
    assert_eq!(at("/app/.git"), row("dir", 30_000, 6, "vcs"));
    // Biggest first.
    let names: Vec<&str> = tree["root"]["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["usr", "bin", "root", "var", "app", "etc"]);
}

fn a_node_budget_folds_the_smallest_into_pruned_nodes() {
    let doc = json(&[
        "report",
        SAMPLE,
        "--format",
        "json",
        "--tree-nodes",
        "10",
        "--tree",
    ]);
    let tree = &doc["tree"];
    // /usr (529,000) and its single-child chain down to site-packages (216,000 each)
    // keep their nodes; keeping the 190,000-byte /usr/lib chain too would need 11.
    assert_eq!(tree["min_bytes"], 190_001);
    assert_eq!(tree["nodes"], 8);
    assert_eq!(tree["pruned_bytes"], 796_085);
    assert_eq!(tree["pruned_entries"], 50);
    let root = tree["root"]["children"].as_array().expect("children");
    assert_eq!(root.len(), 2);
    assert_eq!(root[1]["kind"], "pruned");
    assert_eq!(root[1]["bytes"], 796_085 - 529_000);
    assert_eq!(root[1]["files"], 7);
    assert_eq!(root[1]["entries"], 27);
    let sp = node(tree, "/usr/local/lib/python3.12/site-packages");
    assert_eq!(sp["children"][0]["kind"], "pruned");
    assert_eq!(sp["children"][0]["bytes"], 216_000);
    assert_eq!(sp["children"][0]["layer"], 3);
    // Without --tree, the JSON has none.
    let plain = json(&["report", SAMPLE, "--format", "json"]);
    assert!(plain["tree"].is_null());
}

fn the_page_embeds_the_json_report() {
    let page = run(&["report", SAMPLE, "--format", "html"]);
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("<title>imgsize: sample/python-app:1.0</title>"));
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none';"));
    // The one script allowed is the page's own, by its hash: no inline handler or
    // injected element could run.
    let script = page
        .rsplit_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(script, _)| script)
        .expect("the page's script");
    let hash = {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
    };
    assert!(page.contains(&format!("script-src 'sha256-{hash}';")));
    assert!(!page.contains("script-src 'unsafe-inline'"));
    let (data, kind) = embedded(&page);
    assert_eq!(kind, "report");
    let doc = json(&["report", SAMPLE, "--format", "json", "--tree"]);
    assert_eq!(
        data, doc,
        "the page's data is the JSON report with its tree"
    );
    crate::schema::check(&data, "the HTML page's data");
    // Self-contained: nothing is loaded from anywhere.
    for needle in ["src=\"http", "href=\"http", "@import", "url(http", "<link"] {
        assert!(!page.contains(needle), "the page holds {needle}");
    }
}

fn the_diff_page_embeds_the_json_diff() {
    let dir = tmp();
    let (old, new) = (dir.path().join("v1.tar"), dir.path().join("v2.tar"));
    docker_archive(&crate::diff::v1(), &old).expect("v1");
    docker_archive(&crate::diff::v2(), &new).expect("v2");
    let (old, new) = (old.to_string_lossy(), new.to_string_lossy());
    let page = run(&["diff", &old, &new, "--format", "html"]);
    let (data, kind) = embedded(&page);
    assert_eq!(kind, "diff");
    assert_eq!(data, json(&["diff", &old, &new, "--format", "json"]));
}

/// The name of an image that tries to become markup and reorder its text.
const HOSTILE_IMAGE: &str = "<img src=x onerror=window.__pwned=4>\u{202e}gpj.tar";
/// The name of an image that cannot be read, trying the same.
const HOSTILE_MISSING: &str = "<script>window.__pwned=5</script>.tar";

/// Scan records of a fleet in `dir`: two images, one also read under a second name, an
/// image under a hostile name and a missing one under another; the records' path and
/// the names scanned.
fn hostile_fleet(dir: &Path) -> (PathBuf, Vec<String>) {
    use crate::fleet_doc::{archive, scan_records};
    let first = archive(dir, "app0.tar", 0);
    let copy = dir.join("app0-copy.tar");
    std::fs::copy(&first, &copy).expect("copy");
    let names = vec![
        first,
        copy.to_string_lossy().into_owned(),
        archive(dir, "app1.tar", 1),
        archive(dir, HOSTILE_IMAGE, 2),
        dir.join(HOSTILE_MISSING).to_string_lossy().into_owned(),
    ];
    (scan_records(dir, "fleet.jsonl", &names), names)
}

/// Text as the page shows it: the bidi override made visible.
fn shown(name: &str) -> String {
    name.replace('\u{202e}', "\\u{202e}")
}

fn the_fleet_page_embeds_the_json_fleet() {
    let dir = tmp();
    let (records, _) = hostile_fleet(dir.path());
    let records = records.to_string_lossy();
    let page = run(&["fleet", &records, "--format", "html"]);
    assert!(page.contains("<title>imgsize: fleet of 3 images</title>"));
    // The shell's own two script elements close; no name became an element.
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains("<img"));
    let (data, kind) = embedded(&page);
    assert_eq!(kind, "fleet");
    assert_eq!(data, json(&["fleet", &records, "--format", "json"]));
    crate::fleet_doc::check(&data, "the HTML page's data");
}

fn html_is_for_report_and_diff_only() {
    for args in [
        &["explain", SAMPLE, "/usr", "--format", "html"][..],
        &[
            "check",
            SAMPLE,
            "--limit",
            "compressed=1GB",
            "--format",
            "html",
        ][..],
    ] {
        let out = imgsize(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        // A usage error: the command does not offer html.
        assert!(err.contains("invalid value 'html' for '--format"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

fn tree_is_refused_where_no_document_has_one() {
    for args in [
        &["diff", SAMPLE, SAMPLE, "--tree"][..],
        &["explain", SAMPLE, "/usr", "--tree"][..],
    ] {
        let out = imgsize(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--tree puts the report's tree in the JSON"),
            "{err}"
        );
    }
}

/// An image whose names and history try to break out of the page.
fn hostile() -> Image {
    Image::new("evil/<script>window.__pwned=1</script>:1").layer(
        Layer::new("/bin/sh -c echo '</script><script>window.__pwned=2</script>'")
            .fill("app/<img src=x onerror=window.__pwned=3>.bin", 50_000)
            .fill("app/<!--x/y\u{202e}z.txt", 20_000)
            .fill("app/normal.txt", 10_000),
    )
}

fn names_from_the_image_stay_data() {
    let dir = tmp();
    let path = dir.path().join("evil.tar");
    docker_archive(&hostile(), &path).expect("fixture");
    let page = run(&["report", &path.to_string_lossy(), "--format", "html"]);
    // The shell's own two script elements close; nothing else does.
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains("<img"));
    assert!(!page.contains("<!--x"));
    assert!(
        page.contains(
            "<title>imgsize: evil/&lt;script&gt;window.__pwned=1&lt;/script&gt;:1</title>"
        )
    );
    let (data, _) = embedded(&page);
    let app = node(&data["tree"], "/app");
    let names: Vec<&str> = app["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "<img src=x onerror=window.__pwned=3>.bin",
            "<!--x",
            "normal.txt"
        ]
    );
    assert_eq!(
        node(&data["tree"], "/app/<!--x")["children"][0]["name"],
        "y\u{202e}z.txt"
    );
    assert_eq!(
        data["layers"][0]["created_by"],
        "/bin/sh -c echo '</script><script>window.__pwned=2</script>'"
    );
}

/// The size of file `i` of [`wide`]: spread over four orders of magnitude, like a
/// real tree's.
fn wide_size(i: u64) -> u64 {
    match i % 100 {
        0 => 40_000 + i,
        1..=9 => 4_000 + i % 997,
        _ => 100 + (i * 37) % 1_500,
    }
}

/// The path of file `i` of [`wide`].
fn wide_path(i: u64) -> String {
    format!(
        "opt/pkg{:02}/mod{:02}/lib{:03}/file-{i:05}.py",
        i % 20,
        (i / 20) % 15,
        (i / 300) % 5
    )
}

/// 30,000 files in 1,500 folders of three levels, in one uncompressed layer.
fn wide() -> Image {
    let mut layer = Layer::new("/bin/sh -c ./install-everything");
    for i in 0..30_000u64 {
        layer = layer.fill(&wide_path(i), wide_size(i));
    }
    Image::new("wide/app:1").layer(layer)
}

fn the_page_of_a_30k_file_image_stays_small() {
    let dir = tmp();
    let path = dir.path().join("wide.tar");
    docker_archive(&wide(), &path).expect("fixture");
    let page = run(&["report", &path.to_string_lossy(), "--format", "html"]);
    assert!(page.len() < 2_000_000, "{} bytes", page.len());
    let (data, _) = embedded(&page);
    let tree = &data["tree"];
    assert_eq!(tree["max_nodes"], 10_000);
    let nodes = tree["nodes"].as_u64().expect("nodes");
    assert!((9_000..=10_000).contains(&nodes), "{nodes} nodes");
    // 30,000 files and 1,500 + 300 + 20 + 1 folders: all but the drawn ones pruned.
    assert!(
        tree["pruned_entries"].as_u64().expect("entries") > 20_000,
        "{}",
        tree["pruned_entries"]
    );
    assert_eq!(tree["root"]["files"], 30_000);
    assert_eq!(tree["root"]["bytes"], data["totals"]["content_bytes"]);
    // The one layer's changes: every file added, most folded, all bytes counted.
    let changes = &data["layer_changes"][0];
    assert_eq!(
        changes["root"]["entries"],
        serde_json::json!([30_000, 0, 0, 0])
    );
    assert_eq!(changes["root"]["bytes"][0], data["totals"]["content_bytes"]);
    let nodes = changes["nodes"].as_u64().expect("nodes");
    assert!((1_000..=2_000).contains(&nodes), "{nodes} nodes");
    crate::schema::check(&data, "wide");
    // A smaller budget, a smaller page.
    let small = run(&[
        "report",
        &path.to_string_lossy(),
        "--format",
        "html",
        "--tree-nodes",
        "500",
    ]);
    assert!(
        small.len() < page.len() / 3,
        "{} vs {}",
        small.len(),
        page.len()
    );
}

fn long_names_cannot_grow_the_page_past_2_mb() {
    // 400 files of 8,000-byte names: 3.2 MB of names alone.
    let mut layer = Layer::new("/bin/sh -c ./make-long-names");
    for i in 0..400u64 {
        layer = layer.fill(&format!("srv/{i:03}{}", "n".repeat(8_000)), 2_000 + i);
    }
    let dir = tmp();
    let path = dir.path().join("long.tar");
    docker_archive(&Image::new("long/names:1").layer(layer), &path).expect("fixture");
    let page = run(&["report", &path.to_string_lossy(), "--format", "html"]);
    assert!(page.len() < 2_000_000, "{} bytes", page.len());
    let (data, _) = embedded(&page);
    let tree = &data["tree"];
    // The tree was cut by its weight, far below its node budget.
    assert!(
        tree["nodes"].as_u64().expect("nodes") < 200,
        "{}",
        tree["nodes"]
    );
    assert!(tree["pruned_entries"].as_u64().expect("entries") > 200);
    assert_eq!(tree["root"]["bytes"], data["totals"]["content_bytes"]);
}

fn a_saved_report_with_a_deep_tree_reads_back() {
    // A file 200 folders down: the tree folds below 48 levels, so the saved report
    // stays within the nesting serde_json reads back.
    let deep: String = (0..200).map(|i| format!("d{i}/")).collect();
    let dir = tmp();
    let image = dir.path().join("deep.tar");
    docker_archive(
        &Image::new("deep/app:1")
            .layer(Layer::new("/bin/sh -c ./deep").fill(&format!("{deep}f"), 4_096)),
        &image,
    )
    .expect("fixture");
    let image = image.to_string_lossy();
    let saved = dir.path().join("deep.json");
    std::fs::write(
        &saved,
        run(&["report", &image, "--format", "json", "--tree"]),
    )
    .expect("save");
    let saved = saved.to_string_lossy();
    let diff = json(&["diff", &saved, &image, "--format", "json"]);
    assert_eq!(diff["totals"]["content_bytes"]["delta"], 0, "{diff:#}");
    let out = imgsize(&[
        "check",
        &image,
        "--baseline",
        &saved,
        "--limit",
        "growth.bytes=0",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- In a real browser ----

/// The browser driver; the test is skipped without node, chromium and the driver's
/// node modules (a failure under CI, where `.ci/run` installs them).
fn driver() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let chromium = Path::new("/usr/bin/chromium").exists();
    let modules = root.join("node_modules/playwright-core").exists();
    if node && chromium && modules {
        return root.join("drive.mjs");
    }
    let missing = format!(
        "the browser tests need node, /usr/bin/chromium (apt-get install chromium) and \
         tests/browser/node_modules (npm ci --prefix tests/browser); node: {node}, \
         chromium: {chromium}, modules: {modules}"
    );
    skip(missing)
}

/// Drive a page; the driver's observations.
fn drive(driver: &Path, page: &Path, shot: &Path, extra: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(driver)
        .arg(page)
        .arg(shot)
        .args(extra)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "drive.mjs failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "drive.mjs printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Write a report or diff page into `dir`, drive it, and check what every page must
/// do: render, with no error, no warning, no request and nothing injected.
fn browse(dir: &Path, name: &str, args: &[&str], extra: &[&str]) -> Value {
    let driver = driver();
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, run(args)).expect("write the page");
    let shot = dir.join(format!("{name}.png"));
    let seen = drive(&driver, &page, &shot, extra);
    assert_eq!(seen["ready"], "1", "{name}: {seen:#}");
    for key in [
        "console_errors",
        "console_warnings",
        "page_errors",
        "requests",
    ] {
        assert_eq!(seen[key], serde_json::json!([]), "{name}: {key}");
    }
    assert!(seen["error_box"].is_null(), "{name}");
    assert!(seen["pwned"].is_null(), "{name}");
    assert_eq!(
        seen["injected"],
        serde_json::json!({"scripts": 2, "imgs": 0, "iframes": 0}),
        "{name}"
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{name}: screenshot"
    );
    seen
}

fn the_report_works_in_a_browser() {
    let dir = tmp();
    let seen = browse(
        dir.path(),
        "sample",
        &["report", SAMPLE, "--format", "html"],
        &["--search", "libc.so"],
    );
    assert_eq!(
        seen["headings"],
        serde_json::json!([
            "sample/python-app:1.0",
            "Where the bytes are",
            "Layers",
            "Suggestions",
            "Categories",
            "Packages",
            "Wasted bytes"
        ])
    );
    // One tab stop in the treemap, every box labelled.
    assert_eq!(seen["treemap_tab_stops"], 1);
    assert_eq!(
        seen["treemap_label"],
        "Treemap of /: 796.09 kB in 15 files; 6 entries"
    );
    // A click into the biggest folder moves the breadcrumb.
    assert_eq!(seen["breadcrumb_before"], serde_json::json!(["/"]));
    assert_eq!(seen["clicked_folder"], "/usr");
    assert_eq!(
        seen["breadcrumb_after_click"],
        serde_json::json!(["/", "usr"])
    );
    // Search finds the file, opens its folder and marks it.
    let search = &seen["search"];
    assert_eq!(
        search["results"],
        serde_json::json!(["/usr/lib/x86_64-linux-gnu/libc.so.6"])
    );
    assert_eq!(
        search["breadcrumb_after"],
        serde_json::json!(["/", "usr", "lib", "x86_64-linux-gnu"])
    );
    assert_eq!(search["highlighted"], "/usr/lib/x86_64-linux-gnu/libc.so.6");
    // The keyboard: arrows move between boxes, Enter opens, Escape goes back.
    let keys = &seen["keyboard"];
    assert_eq!(
        keys["start"],
        "folder /usr, 529.00 kB, 8 files, layer 3, category other"
    );
    assert_ne!(keys["after_arrow_right"], keys["start"]);
    let entered = keys["enter_on"].as_str().expect("a folder");
    let crumb: Vec<&str> = entered.split('/').filter(|p| !p.is_empty()).collect();
    let mut expected = vec!["/"];
    expected.extend(crumb);
    assert_eq!(keys["breadcrumb_after_enter"], serde_json::json!(expected));
    assert_eq!(keys["breadcrumb_after_escape"], serde_json::json!(["/"]));
    // The colour toggle switches the legend from layers to category groups.
    let colour = &seen["colour"];
    assert_eq!(
        colour["legend_before"],
        serde_json::json!(["0", "1", "2", "3", "6", "smaller entries"])
    );
    assert_eq!(colour["checked_after"], "category");
    assert!(
        colour["legend_after"]
            .as_array()
            .is_some_and(|l| l.iter().any(|g| g == "Package caches"))
    );
    // A column header sorts its table, and says so.
    let sort = &seen["sort"];
    assert_eq!(sort["aria_sort_after"], "ascending");
    let mut sorted: Vec<String> = serde_json::from_value(sort["before"].clone()).expect("rows");
    sorted.sort();
    assert_eq!(sort["after"], serde_json::json!(sorted));
}

fn hostile_names_stay_text_in_a_browser() {
    let dir = tmp();
    let image = dir.path().join("evil.tar");
    docker_archive(&hostile(), &image).expect("fixture");
    let image = image.to_string_lossy();
    let seen = browse(
        dir.path(),
        "evil",
        &["report", &image, "--format", "html"],
        &["--search", "onerror", "--layer", "0"],
    );
    // The name is found as the text it is, and nothing of it ran.
    assert_eq!(
        seen["search"]["results"],
        serde_json::json!(["/app/<img src=x onerror=window.__pwned=3>.bin"])
    );
    // The layer's changes show the names as text too, the bidi override made visible.
    let names: Vec<&str> = seen["changes"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[1].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "app/",
            "<img src=x onerror=window.__pwned=3>.bin",
            "<!--x/",
            "y\\u{202e}z.txt",
            "normal.txt"
        ]
    );
}

/// The node at `path` of layer `layer`'s changes, or panic.
fn change<'a>(doc: &'a Value, layer: usize, path: &str) -> &'a Value {
    node(&doc["layer_changes"][layer], path)
}

fn the_sample_layer_changes_have_exact_figures() {
    let doc = json(&["report", SAMPLE, "--format", "json", "--tree"]);
    crate::schema::check(&doc, "sample --tree");
    let changes = doc["layer_changes"].as_array().expect("layer changes");
    assert_eq!(changes.len(), 7);
    let root = |layer: usize| {
        let r = &changes[layer]["root"];
        (r["bytes"].clone(), r["entries"].clone())
    };
    let figures = |b: [u64; 4], e: [u64; 4]| (serde_json::json!(b), serde_json::json!(e));
    // [added, modified, deleted, hidden]
    assert_eq!(root(0), figures([331_055, 0, 0, 0], [5, 0, 0, 0]));
    // apt-get: 143,000 bytes still visible, the 88,000-byte package list that layer
    // 4's rm -rf deletes.
    assert_eq!(root(1), figures([143_000, 0, 0, 88_000], [3, 0, 0, 1]));
    let lists =
        "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages";
    let list = change(&doc, 1, lists);
    assert_eq!(
        (&list["change"], &list["layer"], &list["bytes"]),
        (
            &serde_json::json!("hidden"),
            &serde_json::json!(4),
            &serde_json::json!([0, 0, 0, 88_000])
        )
    );
    let deleted = change(&doc, 4, lists);
    assert_eq!(
        (&deleted["change"], &deleted["layer"]),
        (&serde_json::json!("deleted"), &serde_json::json!(1))
    );
    assert_eq!(root(4), figures([0, 0, 88_000, 0], [0, 0, 1, 0]));
    // COPY dir in /app: 36,000 bytes that layer 6's chmod -R writes again.
    assert_eq!(root(5), figures([0, 0, 0, 36_000], [0, 0, 0, 2]));
    let pack = change(&doc, 5, "/app/.git/objects/pack/pack-1234.pack");
    assert_eq!(
        (&pack["change"], &pack["layer"]),
        (&serde_json::json!("hidden"), &serde_json::json!(6))
    );
    assert_eq!(
        change(&doc, 5, "/app/.git")["bytes"],
        serde_json::json!([0, 0, 0, 30_000])
    );
    assert_eq!(
        change(&doc, 5, "/app/main.py")["bytes"],
        serde_json::json!([0, 0, 0, 6_000])
    );
    assert_eq!(root(6), figures([0, 36_000, 0, 0], [0, 2, 0, 0]));
    let main = change(&doc, 6, "/app/main.py");
    assert_eq!(
        (&main["change"], &main["layer"]),
        (&serde_json::json!("modified"), &serde_json::json!(5))
    );
    // The layer table says the same.
    let layer = |i: usize| {
        doc["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .find(|l| l["index"] == i)
            .expect("layer")
            .clone()
    };
    assert_eq!(layer(1)["wasted_bytes"], 88_000);
    assert_eq!(layer(5)["wasted_bytes"], 36_000);
    assert_eq!(layer(5)["added_bytes"], 36_000);
}

fn a_layers_changes_browse_by_keyboard_in_a_browser() {
    let dir = tmp();
    let seen = browse(
        dir.path(),
        "changes",
        &["report", SAMPLE, "--format", "html"],
        &["--layer", "1"],
    );
    let c = &seen["changes"];
    // The timeline's row is a tab stop; Enter selected it.
    assert_eq!(
        (&c["focusable"], &c["pressed"]),
        (&serde_json::json!("0"), &serde_json::json!("true"))
    );
    assert_eq!(
        c["title"],
        "Layer 1: RUN apt-get update && apt-get install -y gcc libpq-dev"
    );
    assert_eq!(
        c["summary"],
        "Ships 231.00 kB: 3 added (143.00 kB), 1 hidden later (88.00 kB)."
    );
    assert_eq!(c["tab_stops"], 1);
    let row = |r: &Value| {
        (
            r[0].as_u64().unwrap_or(0),
            r[1].as_str().unwrap_or("").to_string(),
            r[2].as_str().unwrap_or("").to_string(),
            r[3].as_str().unwrap_or("").to_string(),
        )
    };
    let rows: Vec<_> = c["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(row)
        .collect();
    let at = |level: u64, name: &str, mark: &str, bytes: &str| {
        (level, name.to_string(), mark.to_string(), bytes.to_string())
    };
    // Biggest first; the hidden file says which layer hides it.
    assert_eq!(
        rows[0],
        at(1, "var/", "1 added, 1 hidden later", "129.00 kB")
    );
    assert_eq!(
        rows[4],
        at(
            5,
            "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
            "hidden later by layer 4",
            "88.00 kB"
        )
    );
    assert!(
        rows.contains(&at(3, "x86_64-linux-gnu-gcc-12", "added", "95.00 kB")),
        "{rows:?}"
    );
    let top = |rows: &Value| -> Vec<String> {
        rows.as_array()
            .expect("rows")
            .iter()
            .filter(|r| r[0] == 1)
            .map(|r| r[1].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(top(&c["rows"]), ["var/", "usr/"]);
    // The tree pattern: Left closes, Right opens then enters, Down moves.
    let keys: Vec<(String, String, String, u64)> = c["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap_or("").into(),
                k["focused"].as_str().unwrap_or("").into(),
                k["expanded"].as_str().unwrap_or("").into(),
                k["rows"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let key = |k: &str, f: &str, e: &str, n: u64| (k.to_string(), f.to_string(), e.to_string(), n);
    assert_eq!(
        keys,
        [
            key("Home", "var/", "true", 15),
            key("ArrowLeft", "var/", "false", 7),
            key("ArrowRight", "var/", "true", 15),
            key("ArrowRight", "lib/", "true", 15),
            key("ArrowDown", "apt/", "true", 15),
            key("ArrowLeft", "apt/", "false", 13),
            key("ArrowRight", "apt/", "true", 15),
        ]
    );
    // The Path header sorts by name, and says so.
    assert_eq!(top(&c["by_name"]), ["usr/", "var/"]);
    assert_eq!(c["sort_pressed"], "true");
    // Only what a later layer hides.
    let hidden: Vec<_> = c["hidden_only"]
        .as_array()
        .expect("rows")
        .iter()
        .map(row)
        .collect();
    assert_eq!(hidden.len(), 5, "{hidden:?}");
    assert_eq!(hidden[0], at(1, "var/", "1 hidden later", "88.00 kB"));
    assert_eq!(hidden[4].2, "hidden later by layer 4");
    let shot = std::fs::read(c["screenshot"].as_str().expect("a path")).expect("the screenshot");
    assert!(shot.starts_with(b"\x89PNG"));
}

fn the_diff_page_works_in_a_browser() {
    let dir = tmp();
    let (old, new) = (dir.path().join("v1.tar"), dir.path().join("v2.tar"));
    docker_archive(&crate::diff::v1(), &old).expect("v1");
    docker_archive(&crate::diff::v2(), &new).expect("v2");
    let (old, new) = (old.to_string_lossy(), new.to_string_lossy());
    let args = ["diff", &old, &new, "--format", "html"];
    let seen = browse(dir.path(), "diff", &args, &[]);
    let doc = json(&["diff", &old, &new, "--format", "json"]);
    let rows = |key: &str| doc[key].as_array().map_or(0, Vec::len);
    for section in [
        "diff-totals",
        "diff-categories",
        "diff-paths",
        "diff-packages",
        "diff-findings",
        "diff-layers",
    ] {
        assert!(
            seen["sections"]
                .as_array()
                .is_some_and(|s| s.iter().any(|id| id == section)),
            "{section}: {seen:#}"
        );
    }
    assert_eq!(seen["tables"]["diff-paths-table"], rows("paths"));
    assert_eq!(seen["tables"]["diff-packages-table"], rows("packages"));
    assert_eq!(seen["tables"]["diff-layers-table"], rows("layers"));
    assert_eq!(seen["tables"]["diff-findings-table"], rows("findings"));
    assert!(rows("paths") > 0 && rows("packages") > 0 && rows("findings") > 0);
}

fn the_fleet_page_works_in_a_browser() {
    use crate::fleet_doc::{archive, scan_records};
    let dir = tmp();
    // The baseline: app0 and a bigger app1, which the fleet then rebuilds smaller.
    let old = [
        archive(dir.path(), "app0.tar", 0),
        archive(dir.path(), "app1.tar", 5),
    ];
    let old_records = scan_records(dir.path(), "before.jsonl", &old);
    let baseline = json(&["fleet", &old_records.to_string_lossy(), "--format", "json"]);
    let saved = dir.path().join("baseline.json");
    std::fs::write(&saved, baseline.to_string()).expect("save the baseline");
    let saved = saved.to_string_lossy();
    let (records, names) = hostile_fleet(dir.path());
    let records = records.to_string_lossy();
    let args = ["fleet", &records, "--baseline", &saved, "--format", "html"];
    let seen = browse(dir.path(), "fleet", &args, &["--search", "onerror"]);
    let doc = json(&["fleet", &records, "--baseline", &saved, "--format", "json"]);
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);
    assert_eq!(seen["headings"][0], "Fleet of 3 images");
    for section in [
        "fleet-totals",
        "fleet-change",
        "fleet-rules",
        "fleet-fixes",
        "fleet-shared",
        "fleet-families",
        "fleet-images",
        "fleet-errors",
    ] {
        assert!(
            seen["sections"]
                .as_array()
                .is_some_and(|s| s.iter().any(|id| id == section)),
            "{section}: {seen:#}"
        );
    }
    // Every image, every error, every row of each list: one table row each.
    let tables = &seen["tables"];
    assert_eq!(tables["fleet-images-table"], 3);
    assert_eq!(tables["fleet-errors-table"], 1);
    for (table, key) in [
        ("fleet-rules-table", "rules"),
        ("fleet-fixes-table", "fixes"),
        ("fleet-shared-table", "shared_layers"),
        ("fleet-families-table", "families"),
    ] {
        assert_eq!(tables[table], count(&doc[key]), "{table}");
        assert!(count(&doc[key]) > 0, "{key}");
    }
    assert_eq!(
        tables["fleet-changed-table"],
        count(&doc["change"]["changed"])
    );
    assert_eq!(count(&doc["change"]["changed"]), 1);
    // The names as text: the copy beside its first name, the hostile one whole, its
    // bidi override made visible.
    let hostile = shown(&names[3]);
    let images: Vec<String> = serde_json::from_value(seen["images"].clone()).expect("names");
    assert!(
        images.contains(&format!("{}, {}", names[1], names[0])),
        "{images:?}"
    );
    assert!(images.contains(&hostile), "{images:?}");
    let errors = seen["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .as_str()
            .is_some_and(|e| e.starts_with(&format!("{} | ", names[4]))),
        "{errors:?}"
    );
    // Enter on the focused "Own bytes" header sorts the images by it, descending then
    // ascending.
    let sort = &seen["sort"];
    assert_eq!(sort["focused"], true);
    assert_eq!(sort["aria_sort_after"], "ascending");
    let mut by_own: Vec<&Value> = doc["images"].as_array().expect("images").iter().collect();
    by_own.sort_by_key(|i| i["own_bytes"].as_u64());
    let expected: Vec<String> = by_own
        .iter()
        .map(|i| {
            let names: Vec<String> = i["names"]
                .as_array()
                .expect("names")
                .iter()
                .map(|n| shown(n.as_str().unwrap_or_default()))
                .collect();
            names.join(", ")
        })
        .collect();
    assert_eq!(sort["after"], serde_json::json!(expected));
    assert_ne!(sort["after"], sort["before"]);
    // The filter finds the hostile name as the text it is.
    assert_eq!(seen["filter"]["rows"], 1, "{:#}", seen["filter"]);
    assert_eq!(seen["filter"]["images"], serde_json::json!([hostile]));
}

fn a_30k_file_page_works_in_a_browser() {
    let dir = tmp();
    let image = dir.path().join("wide.tar");
    docker_archive(&wide(), &image).expect("fixture");
    let image = image.to_string_lossy();
    // The smallest file: folded into a pruned box.
    let small = (0..30_000)
        .min_by_key(|&i| wide_size(i))
        .map(wide_path)
        .expect("a file");
    let seen = browse(
        dir.path(),
        "wide",
        &["report", &image, "--format", "html"],
        &["--search", &format!("/{small}")],
    );
    assert_eq!(seen["breadcrumb_after_click"][0], "/");
    assert_eq!(seen["breadcrumb_after_click"][1], "opt");
    // A small file has no box of its own: the search offers, and marks, the
    // "smaller entries" box of its deepest folder in the tree.
    let search = &seen["search"];
    let marked = search["highlighted"].as_str().unwrap_or_default();
    let folder = format!("/{}", small.rsplit_once('/').map_or("", |(d, _)| d));
    assert!(
        marked.len() > "/opt".len() && folder.starts_with(marked),
        "{small}: {search:#}"
    );
}

/// The page's colours stay apart for colour-blind readers: tests/browser/palette.mjs
/// simulates protanopia, deuteranopia and tritanopia (Machado et al. 2009) on the
/// colours the page uses. Needs only node.
fn the_colours_survive_colour_blindness() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/palette.mjs");
    let out = match Command::new("node").arg(&script).output() {
        Ok(out) => out,
        Err(e) => skip(format!("no node ({e})")),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for vision in ["normal", "protanopia", "deuteranopia", "tritanopia"] {
        let v = &seen[vision];
        // Category families: clearly different at a glance (CIE76 ΔE above 15;
        // Okabe-Ito's grey "other" beside its reddish purple was 7.1 for deuteranopes).
        let families = v["families_min_de"].as_f64().expect("families");
        assert!(families >= 15.0, "{vision}: {v}");
        // Layers: the ramp never collapses.
        let layers = v["layers_ramp_min_de"].as_f64().expect("layers");
        assert!(layers >= 20.0, "{vision}: {v}");
    }
}

fn manifest_only_and_empty_images_render_without_a_treemap() {
    let dir = tmp();
    let empty = dir.path().join("empty.tar");
    docker_archive(
        &Image::new("empty/app:1").layer(Layer::new("/bin/sh -c mkdir /data").dir("data")),
        &empty,
    )
    .expect("fixture");
    let empty = empty.to_string_lossy();
    for (name, args) in [
        (
            "manifest",
            vec!["report", SAMPLE, "--manifest-only", "--format", "html"],
        ),
        ("empty", vec!["report", &empty, "--format", "html"]),
    ] {
        let seen = browse(dir.path(), name, &args, &[]);
        assert_eq!(seen["treemap_boxes"], 0, "{name}");
        assert!(seen["treemap_label"].is_null(), "{name}");
    }
}

crate::tests![
    the_sample_tree_has_exact_figures,
    a_node_budget_folds_the_smallest_into_pruned_nodes,
    the_page_embeds_the_json_report,
    the_diff_page_embeds_the_json_diff,
    the_fleet_page_embeds_the_json_fleet,
    html_is_for_report_and_diff_only,
    tree_is_refused_where_no_document_has_one,
    names_from_the_image_stay_data,
    the_page_of_a_30k_file_image_stays_small,
    long_names_cannot_grow_the_page_past_2_mb,
    a_saved_report_with_a_deep_tree_reads_back,
    the_report_works_in_a_browser,
    hostile_names_stay_text_in_a_browser,
    the_sample_layer_changes_have_exact_figures,
    a_layers_changes_browse_by_keyboard_in_a_browser,
    the_diff_page_works_in_a_browser,
    the_fleet_page_works_in_a_browser,
    a_30k_file_page_works_in_a_browser,
    the_colours_survive_colour_blindness,
    manifest_only_and_empty_images_render_without_a_treemap,
];
