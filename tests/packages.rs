//! Packages from their databases, with the build-only closure, on a fixture whose truth
//! is known by construction.

use imgsize::analyze::{Manager, Report};

use crate::util::builder::{Image, Layer, docker_archive};
use crate::util::{analyze, tmp};

/// A dpkg status paragraph.
fn pkg(name: &str, depends: &str) -> String {
    let mut p = format!("Package: {name}\nStatus: install ok installed\nVersion: 1.0\n");
    if !depends.is_empty() {
        p.push_str(&format!("Depends: {depends}\n"));
    }
    p + "\n"
}

const LODASH_JSON: &[u8] = br#"{"name": "lodash", "version": "4.17.21"}"#;

pub(crate) fn image() -> Image {
    let base_status = pkg("libc6", "");
    let status = [
        pkg("libc6", ""),
        pkg("gcc", "gcc-12 (>= 12)"),
        pkg("gcc-12", "cpp-12, libgcc-12-dev, libc6"),
        pkg("cpp-12", "libmpc3, libc6"),
        pkg("libgcc-12-dev", "libc6"),
        pkg("libc6-dev", "libc6"),
        pkg("libmpc3", "libc6"),
        pkg("python3", "libpython3 | libpython3-alt, libc6"),
        pkg("libpython3", "libc6"),
        pkg("manpages", ""),
    ]
    .concat();
    let auto = [
        "cpp-12",
        "libgcc-12-dev",
        "libc6-dev",
        "libmpc3",
        "libpython3",
    ]
    .iter()
    .map(|p| format!("Package: {p}\nArchitecture: amd64\nAuto-Installed: 1\n\n"))
    .collect::<String>();
    let files: &[(&str, &str, u64)] = &[
        ("gcc-12", "/usr/bin/x86_64-linux-gnu-gcc-12", 500),
        ("gcc", "/usr/share/doc/gcc/copyright", 10),
        ("cpp-12", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", 3000),
        (
            "libgcc-12-dev",
            "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a",
            200,
        ),
        ("libc6-dev", "/usr/include/stdio.h", 40),
        ("libmpc3", "/usr/lib/x86_64-linux-gnu/libmpc.so.3", 100),
        ("python3", "/usr/bin/python3.11", 700),
        (
            "libpython3",
            "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1",
            800,
        ),
        ("manpages", "/usr/share/man/man1/python3.1.gz", 60),
    ];
    let mut apt = Layer::new("/bin/sh -c apt-get install -y gcc python3")
        .file("var/lib/dpkg/status", status.as_bytes())
        .file("var/lib/apt/extended_states", auto.as_bytes())
        .fill("var/lib/apt/lists/deb_Packages", 2000);
    for (p, path, size) in files {
        apt = apt
            .file(
                &format!("var/lib/dpkg/info/{p}:amd64.list"),
                format!("/.\n/usr\n{path}\n").as_bytes(),
            )
            .fill(&path[1..], *size);
    }
    let site = "usr/local/lib/python3.11/site-packages";
    Image::new("pkgs:1")
        .layer(
            Layer::new("/bin/sh -c #(nop) ADD file:aaaa in / ")
                .file("var/lib/dpkg/status", base_status.as_bytes())
                .file(
                    "var/lib/dpkg/info/libc6:amd64.list",
                    b"/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n",
                )
                .fill("usr/lib/x86_64-linux-gnu/libc.so.6", 1000)
                .fill("var/cache/apt/archives/old.deb", 123),
        )
        .step("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .layer(apt)
        .layer(
            Layer::new("/bin/sh -c pip install requests")
                .file(
                    &format!("{site}/requests-2.32.3.dist-info/RECORD"),
                    b"requests/__init__.py,sha256=abc,90\n../../../bin/requests-cli,,\n",
                )
                .fill(&format!("{site}/requests/__init__.py"), 90)
                .fill("usr/local/bin/requests-cli", 15),
        )
        .layer(
            Layer::new("COPY . /app # buildkit")
                .file("app/node_modules/lodash/package.json", LODASH_JSON)
                .fill("app/node_modules/lodash/lodash.js", 300)
                .fill("app/node_modules/lodash/node_modules/dep/index.js", 5),
        )
}

fn report() -> Report {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&image(), &path).expect("write fixture");
    analyze(&path).expect("analyze")
}

fn packages_get_their_files_layer_and_build_role() {
    let r = report();
    let p = &r.packages;
    let row = |name: &str| {
        p.rows
            .rows
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name} missing: {:?}", p.rows.rows))
    };
    let libc = row("libc6");
    assert_eq!(
        (libc.manager, libc.bytes, libc.layer, libc.base),
        (Manager::Dpkg, 1000, Some(0), true)
    );
    let cpp = row("cpp-12");
    assert_eq!(
        (cpp.bytes, cpp.layer, cpp.base, cpp.build_only),
        (3000, Some(1), false, true)
    );
    let mpc = row("libmpc3");
    assert!(
        !mpc.build_only && mpc.build_closure,
        "only cpp-12 needed it"
    );
    let libpython = row("libpython3");
    assert!(
        !libpython.build_closure,
        "python3 keeps it (first alternative)"
    );
    assert_eq!(p.build_only_bytes, 500 + 10 + 3000 + 200 + 40);
    assert_eq!(p.build_closure_bytes, 3750 + 100);
    assert_eq!(
        p.build_closure,
        [
            "cpp-12",
            "gcc",
            "gcc-12",
            "libc6-dev",
            "libgcc-12-dev",
            "libmpc3"
        ]
    );
    // RECORD paths are relative to site-packages, `..` included.
    let requests = row("requests");
    assert_eq!(
        (
            requests.manager,
            requests.version.as_deref(),
            requests.bytes,
            requests.files
        ),
        (Manager::Python, Some("2.32.3"), 90 + 15, 2)
    );
    // npm: the package's own files, not its nested node_modules.
    let lodash = row("lodash");
    assert_eq!(
        (
            lodash.manager,
            lodash.version.as_deref(),
            lodash.bytes,
            lodash.layer
        ),
        (
            Manager::Npm,
            Some("4.17.21"),
            LODASH_JSON.len() as u64 + 300,
            Some(3)
        )
    );
    assert_eq!(p.rows.rows.len(), 12, "10 dpkg, 1 python, 1 npm");
    // Biggest first.
    assert!(p.rows.rows.windows(2).all(|w| w[0].bytes >= w[1].bytes));
}

fn an_image_without_databases_lists_no_packages() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(
        &Image::new("x:1").layer(Layer::new("ADD x /").fill("x", 5)),
        &path,
    )
    .expect("write");
    let r = analyze(&path).expect("analyze");
    assert_eq!(r.packages.rows.all_rows(), 0);
    assert_eq!(
        (r.packages.build_only_bytes, r.packages.build_closure_bytes),
        (0, 0)
    );
}

/// Merged /usr: `lib` is a symlink to `usr/lib`, and dpkg's lists still say `/lib/…`.
fn package_files_are_found_through_a_merged_usr_symlink() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    let img = Image::new("usrmerge:1").layer(
        Layer::new("ADD rootfs /")
            .symlink("lib", "usr/lib")
            .file("var/lib/dpkg/status", pkg("libc6", "").as_bytes())
            .file(
                "var/lib/dpkg/info/libc6:amd64.list",
                b"/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/libc6/copyright\n",
            )
            .fill("usr/lib/x86_64-linux-gnu/libc.so.6", 2000)
            .fill("usr/share/doc/libc6/copyright", 30),
    );
    docker_archive(&img, &path).expect("write");
    let r = analyze(&path).expect("analyze");
    let libc = &r.packages.rows.rows[0];
    assert_eq!(
        (libc.name.as_str(), libc.bytes, libc.files),
        ("libc6", 2030, 2)
    );
}

/// The multi-stage projection is what a runtime stage leaves out: the build-only
/// closure's files and dpkg's lists of them (5 × `var/lib/dpkg/info/*.list`, 248
/// bytes), plus the build layer's caches; dpkg's docs filter saves the man page but
/// keeps copyright files; the base image's cache is a base-scope finding, summed apart.
fn multi_stage_docs_and_base_findings_come_from_the_packages() {
    let r = report();
    let got: Vec<(&str, &str, usize, u64, u64)> = r
        .findings
        .rows
        .iter()
        .map(|f| {
            (
                f.rule.code(),
                f.scope.code(),
                f.layer,
                f.incremental_bytes,
                f.bytes,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "multi-stage",
                "yours",
                1,
                3850 + 2000 + 248,
                3850 + 2000 + 248
            ),
            ("docs-locales", "yours", 1, 60, 60),
            ("apt-lists", "yours", 1, 0, 2000),
            ("apt-archives", "base", 0, 123, 123),
        ]
    );
    assert_eq!(r.findings.saved_bytes, 6158);
    assert_eq!(r.findings.base_saved_bytes, 123);
    let multi = &r.findings.rows[0];
    assert_eq!(multi.confidence, "medium");
    assert!(
        multi
            .fix
            .contains("(cpp-12, gcc-12, libgcc-12-dev, libc6-dev)"),
        "{}",
        multi.fix
    );
    let docs = &r.findings.rows[1];
    assert_eq!(docs.paths, vec![("/usr/share/man".to_string(), 60)]);
    assert!(docs.fix.contains("path-include=/usr/share/doc/*/copyright"));
}

/// With the compiler inside the base image and a RUN of yours building on it, the
/// multi-stage build is yours: a build stage on this base, a runtime stage on its slim
/// variant. The runtime stage leaves out the base's build-only closure (3,850 bytes)
/// and dpkg's lists of it (248), its caches (2,000 + 123) and its hidden bytes (the
/// first `var/lib/dpkg/status`, 58); of your layers it keeps everything (all visible
/// and needed). No `full-base` beside it: one structural change leads.
fn a_base_with_compilers_and_your_build_is_a_multi_stage_finding() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    // The official image's history names its version: the slim variant has a name.
    let img = image().step("/bin/sh -c #(nop)  ENV PYTHON_VERSION=3.11.9");
    docker_archive(&img, &path).expect("write fixture");
    let r = analyze_base_layers(&path, 2);
    assert_eq!(
        codes(&r),
        vec![
            ("multi-stage", "yours", 6279, "medium"),
            ("apt-lists", "base", 0, "medium"),
            ("apt-archives", "base", 0, "medium"),
        ]
    );
    assert_eq!(r.findings.saved_bytes, 6279);
    let multi = &r.findings.rows[0];
    assert_eq!(multi.layer, 2, "the layer to change is yours");
    assert!(multi.fix.contains("`python:3.11-slim`"), "{}", multi.fix);
    let s = r.findings.structural.as_ref().expect("a structural change");
    assert!(s.slim_base);
    assert_eq!(s.runtime_base.as_deref(), Some("python:3.11-slim"));
    assert_eq!(s.projection.saved_bytes, 6279);
    assert_eq!(
        r.findings.fixes.saved_bytes, 0,
        "no edit of yours saves anything"
    );
}

/// With the compiler inside the base image and nothing of yours that runs, only
/// another base removes it: a base-scope, low-confidence `full-base` finding estimates
/// what a slim variant drops (the closure's files and dpkg's lists of them).
fn a_base_with_compilers_under_copies_only_is_a_full_base_finding() {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    let mut img = image();
    img.layers.remove(2); // the pip install RUN
    docker_archive(&img, &path).expect("write fixture");
    let r = analyze_base_layers(&path, 2);
    assert_eq!(
        codes(&r),
        vec![
            ("full-base", "base", 3850 + 248, "low"),
            ("apt-lists", "base", 2000, "medium"),
            ("apt-archives", "base", 123, "medium"),
        ]
    );
    assert_eq!(r.findings.saved_bytes, 0);
    assert_eq!(r.findings.base_saved_bytes, 6221);
    assert!(r.findings.rows[0].fix.contains("slim"));
    let s = r.findings.structural.as_ref().expect("a structural change");
    assert_eq!(
        (s.rule.code(), s.projection.saved_bytes),
        ("full-base", 4098)
    );
}

fn analyze_base_layers(path: &std::path::Path, base_layers: usize) -> Report {
    let summary = imgsize::analyze::SummaryOptions {
        base_layers: Some(base_layers),
        ..Default::default()
    };
    crate::util::analyze_with(path, &crate::util::verify_all(), summary).expect("analyze")
}

fn codes(r: &Report) -> Vec<(&str, &str, u64, &str)> {
    r.findings
        .rows
        .iter()
        .map(|f| {
            (
                f.rule.code(),
                f.scope.code(),
                f.incremental_bytes,
                f.confidence,
            )
        })
        .collect()
}

/// A Node service built naively: nodejs and npm from apt in your RUN, `npm install`
/// with devDependencies. The runtime stage starts from the base, installs nodejs alone
/// and copies the app with its production dependencies: it leaves out npm and what
/// only npm pulled in (`node-semver`), what nodejs only recommends (`nodejs-doc`: the
/// runtime stage installs with `--no-install-recommends`), dpkg's lists of them, the
/// devDependency `typescript` (`"dev": true` in `node_modules/.package-lock.json`),
/// npm's cache and apt's lists.
fn a_node_runtime_stage_leaves_npm_and_dev_dependencies_behind() {
    let status = [
        pkg("libc6", ""),
        pkg("nodejs", "libc6").replace("\n\n", "\nRecommends: nodejs-doc\n\n"),
        pkg("nodejs-doc", ""),
        pkg("npm", "nodejs, node-semver"),
        pkg("node-semver", "nodejs"),
    ]
    .concat();
    let lock = br#"{"name": "app", "lockfileVersion": 3, "packages": {
        "node_modules/express": {"version": "4.21.2"},
        "node_modules/typescript": {"version": "5.7.2", "dev": true}}}"#;
    let apt = Layer::new("/bin/sh -c apt-get update && apt-get install -y nodejs npm")
        .file("var/lib/dpkg/status", status.as_bytes())
        .file(
            "var/lib/apt/extended_states",
            b"Package: node-semver\nArchitecture: all\nAuto-Installed: 1\n\nPackage: nodejs-doc\nArchitecture: all\nAuto-Installed: 1\n\n",
        )
        .fill("var/lib/apt/lists/deb_Packages", 5000);
    let apt = installed(
        apt,
        &[
            ("nodejs", "usr/bin/node", 9000),
            ("npm", "usr/share/nodejs/npm/index.js", 4000),
            ("node-semver", "usr/share/nodejs/semver/index.js", 700),
            ("nodejs-doc", "usr/share/doc/nodejs/api/index.html", 1200),
        ],
    );
    let img = Image::new("node:1")
        .layer(
            Layer::new("")
                .file("var/lib/dpkg/status", pkg("libc6", "").as_bytes())
                .fill("usr/lib/x86_64-linux-gnu/libc.so.6", 1000),
        )
        .layer(apt)
        .layer(Layer::new("COPY . /app # buildkit").fill("app/server.js", 300))
        .layer(
            Layer::new("/bin/sh -c npm install")
                .file("app/node_modules/.package-lock.json", lock)
                .file(
                    "app/node_modules/express/package.json",
                    br#"{"name": "express", "version": "4.21.2"}"#,
                )
                .fill("app/node_modules/express/index.js", 600)
                .file(
                    "app/node_modules/typescript/package.json",
                    br#"{"name": "typescript", "version": "5.7.2"}"#,
                )
                .fill("app/node_modules/typescript/lib/tsc.js", 3000)
                .fill("root/.npm/_cacache/content-v2/sha512/ab/cd", 800)
                .fill("root/.npm/_logs/2026-12-06T10_00_00Z-debug-0.log", 90),
        );
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(&img, &path).expect("write fixture");
    let r = analyze(&path).expect("analyze");
    assert_eq!(r.base.layers, 1, "the imported root filesystem is the base");
    let multi = r
        .findings
        .rows
        .iter()
        .find(|f| f.rule.code() == "multi-stage")
        .expect("a multi-stage finding");
    // dpkg's lists of npm, node-semver and nodejs-doc.
    let lists = ("/usr/share/nodejs/npm/index.js\n".len()
        + "/usr/share/nodejs/semver/index.js\n".len()
        + "/usr/share/doc/nodejs/api/index.html\n".len()) as u64;
    let ts_json = br#"{"name": "typescript", "version": "5.7.2"}"#.len() as u64;
    assert_eq!(
        multi.bytes,
        4000 + 700 + 1200 + lists + 3000 + ts_json + 800 + 90 + 5000,
        "npm, node-semver and nodejs-doc (only recommended) with their lists, typescript, \
         npm's cache and logs, apt's lists"
    );
    // apt's own autoremove keeps what a kept package recommends: nodejs-doc is not in
    // the build-only closure, only out of a runtime stage.
    assert_eq!(r.packages.build_closure, vec!["node-semver", "npm"]);
    // `npm cache clean --force` keeps npm's logs: they are not the cache's.
    let cache: Vec<u64> = r
        .findings
        .rows
        .iter()
        .filter(|f| f.rule.code() == "npm-cache")
        .map(|f| f.bytes)
        .collect();
    assert_eq!(cache, vec![800]);
    assert!(
        !r.findings
            .structural
            .as_ref()
            .expect("structural")
            .slim_base
    );
    assert!(multi.fix.contains("npm"), "{}", multi.fix);
}

/// Bytecode that Debian's postinst scripts compiled goes with its package, though no
/// package lists it: pip's goes with the build-only `python3-pip`, the standard
/// library's stays with `python3`.
fn compiled_bytecode_goes_with_the_package_of_its_source() {
    let status = [pkg("python3", ""), pkg("python3-pip", "python3")].concat();
    let dist = "usr/lib/python3/dist-packages/pip";
    let img = Image::new("pip:1")
        .layer(Layer::new("").fill("bin/sh", 100))
        .layer(
            Layer::new("/bin/sh -c apt-get install -y python3 python3-pip")
                .file("var/lib/dpkg/status", status.as_bytes())
                .file(
                    "var/lib/dpkg/info/python3.list",
                    b"/usr/lib/python3.11/os.py\n",
                )
                .file(
                    "var/lib/dpkg/info/python3-pip.list",
                    format!("/{dist}/__init__.py\n").as_bytes(),
                )
                .fill("usr/lib/python3.11/os.py", 400)
                .fill("usr/lib/python3.11/__pycache__/os.cpython-311.pyc", 300)
                .fill(&format!("{dist}/__init__.py"), 200)
                .fill(&format!("{dist}/__pycache__/__init__.cpython-311.pyc"), 150),
        );
    let multi = multi_stage_bytes(&img);
    let pip_list = format!("/{dist}/__init__.py\n").len() as u64;
    assert_eq!(multi, Some(200 + 150 + pip_list));
}

/// pip installed from apt brings python3 as a dependency (apt marks it automatic): the
/// runtime stage of a Python app still needs the interpreter, so only pip and what
/// only it pulled in leave with the build tools.
fn the_interpreter_of_pip_installed_packages_stays_in_the_runtime_stage() {
    let status = [
        pkg("python3", ""),
        pkg("python3-pip", "python3, python3-setuptools"),
        pkg("python3-setuptools", "python3"),
        pkg("gcc", ""),
    ]
    .concat();
    let auto =
        "Package: python3\nAuto-Installed: 1\n\nPackage: python3-setuptools\nAuto-Installed: 1\n\n";
    let apt = Layer::new("/bin/sh -c apt-get install -y python3-pip gcc")
        .file("var/lib/dpkg/status", status.as_bytes())
        .file("var/lib/apt/extended_states", auto.as_bytes());
    let apt = installed(
        apt,
        &[
            ("python3", "usr/bin/python3.11", 700),
            (
                "python3-pip",
                "usr/lib/python3/dist-packages/pip/__init__.py",
                200,
            ),
            (
                "python3-setuptools",
                "usr/lib/python3/dist-packages/setuptools/__init__.py",
                90,
            ),
            ("gcc", "usr/bin/gcc-12", 500),
        ],
    );
    let site = "usr/local/lib/python3.11/dist-packages";
    let img = Image::new("py:1")
        .layer(Layer::new("").fill("bin/sh", 100))
        .layer(apt)
        .layer(
            Layer::new("/bin/sh -c pip install requests")
                .file(
                    &format!("{site}/requests-2.32.3.dist-info/RECORD"),
                    b"requests/__init__.py,,\n",
                )
                .fill(&format!("{site}/requests/__init__.py"), 300),
        );
    let multi = multi_stage_bytes(&img);
    let lists: u64 = [
        "/usr/lib/python3/dist-packages/pip/__init__.py\n",
        "/usr/lib/python3/dist-packages/setuptools/__init__.py\n",
        "/usr/bin/gcc-12\n",
    ]
    .iter()
    .map(|l| l.len() as u64)
    .sum();
    assert_eq!(multi, Some(200 + 90 + 500 + lists));
}

/// The `bytes` of an image's `multi-stage` finding, if it has one.
fn multi_stage_bytes(img: &Image) -> Option<u64> {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(img, &path).expect("write fixture");
    let r = analyze(&path).expect("analyze");
    r.findings
        .rows
        .iter()
        .find(|f| f.rule.code() == "multi-stage")
        .map(|f| f.bytes)
}

/// `layer` with each package's file written and dpkg's list naming it
/// (`var/lib/dpkg/info/PACKAGE.list`): (package, path, size).
fn installed(mut layer: Layer, files: &[(&str, &str, u64)]) -> Layer {
    for (p, path, size) in files {
        layer = layer
            .file(
                &format!("var/lib/dpkg/info/{p}.list"),
                format!("/{path}\n").as_bytes(),
            )
            .fill(path, *size);
    }
    layer
}

crate::tests![
    packages_get_their_files_layer_and_build_role,
    an_image_without_databases_lists_no_packages,
    package_files_are_found_through_a_merged_usr_symlink,
    multi_stage_docs_and_base_findings_come_from_the_packages,
    a_base_with_compilers_and_your_build_is_a_multi_stage_finding,
    a_base_with_compilers_under_copies_only_is_a_full_base_finding,
    a_node_runtime_stage_leaves_npm_and_dev_dependencies_behind,
    compiled_bytecode_goes_with_the_package_of_its_source,
    the_interpreter_of_pip_installed_packages_stays_in_the_runtime_stage,
];
