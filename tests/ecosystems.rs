//! Node, Rust and Java services whose Dockerfiles stack the usual mistakes, replayed by
//! the simulator of `projections.rs`: each fix rebuilt alone saves what imgsize
//! projects for it, and the multi-stage rebuild of a compiled language gets the
//! artifact only. The simulator knows nothing of the rules.

use imgsize::analyze::Report;

use crate::projections::{Fix, Op, Step, alone, build, leak, report_of, stored};

/// The imported root filesystem every service starts from.
fn rootfs() -> Step {
    Step::new(
        "",
        vec![
            Op::Fill("bin/sh", 4000),
            Op::Fill("usr/lib/x86_64-linux-gnu/libc.so.6", 9000),
            Op::Text("var/lib/dpkg/status", dpkg(&[("libc6", "")])),
        ],
    )
}

/// A dpkg status database: (package, its Depends).
fn dpkg(packages: &[(&str, &str)]) -> String {
    packages
        .iter()
        .map(|(p, deps)| {
            let deps = if deps.is_empty() {
                String::new()
            } else {
                format!("Depends: {deps}\n")
            };
            format!("Package: {p}\nStatus: install ok installed\nVersion: 1.0\n{deps}\n")
        })
        .collect()
}

/// apt's record of the packages it installed as dependencies.
fn auto(packages: &[&str]) -> String {
    packages
        .iter()
        .map(|p| format!("Package: {p}\nArchitecture: amd64\nAuto-Installed: 1\n\n"))
        .collect()
}

/// dpkg's list of a package's files.
fn list(p: &str, files: &[&str]) -> Op {
    let mut text = "/.\n".to_string();
    for f in files {
        text.push_str(&format!("/{f}\n"));
    }
    Op::Text(leak(format!("var/lib/dpkg/info/{p}:amd64.list")), text)
}

fn report_with_cmd(steps: &[Step], cmd: &str) -> Report {
    report_of(&build(steps).step(cmd))
}

/// What each fix, rebuilt alone, really saves next to its projection.
fn check_fixes(steps: &[Step], r: &Report, fixes: &[Fix]) {
    let before = stored(steps);
    assert_eq!(r.totals.stored_bytes, before);
    for (rule, layer, apply) in fixes {
        let mut fixed = steps.to_vec();
        apply(&mut fixed);
        let real = before - stored(&fixed);
        assert_eq!(
            alone(r, rule, *layer),
            Some(real),
            "{rule} on layer {layer}"
        );
    }
}

/// A package folder under `app/node_modules`: its `package.json` and a file.
fn npm(dir: &'static str, deps: &str, size: u64) -> [Op; 2] {
    [
        Op::Text(
            leak(format!("app/node_modules/{dir}/package.json")),
            format!("{{\"name\":\"{dir}\",\"version\":\"1.0.0\",\"dependencies\":{{{deps}}}}}"),
        ),
        Op::Fill(leak(format!("app/node_modules/{dir}/index.js")), size),
    ]
}

/// The naive Node service: nodejs and npm from apt, the app with its `.git`, `npm
/// install` with devDependencies (typescript and what only it pulls in, a second copy
/// of a shared package nested under it), npm's cache and a build cache in
/// `node_modules/.cache`, then the build writing `dist/`.
fn node() -> Vec<Step> {
    let project = r#"{"name":"shop","dependencies":{"express":"4"},"devDependencies":{"typescript":"5","jest":"29"}}"#;
    let mut install = vec![
        Op::Fill("root/.npm/_cacache/content-v2/sha512/ab/cd", 2600),
        Op::Fill("app/node_modules/.cache/babel/x.json", 900),
        Op::Text(
            "app/node_modules/.package-lock.json",
            r#"{"packages":{"node_modules/typescript":{"dev":true}}}"#.into(),
        ),
    ];
    install.extend(npm("express", r#""accepts":"1""#, 3000));
    install.extend(npm("accepts", "", 700));
    install.extend(npm("typescript", r#""tslib":"2","accepts":"2""#, 8000));
    install.extend(npm("typescript/node_modules/accepts", "", 650));
    install.extend(npm("tslib", "", 400));
    install.extend(npm("jest", r#""accepts":"1""#, 5000));
    vec![
        rootfs(),
        Step::new(
            "/bin/sh -c apt-get update && apt-get install -y nodejs npm",
            vec![Op::Fill("usr/bin/node", 7000)],
        ),
        Step::new(
            "/bin/sh -c #(nop) COPY dir:0a1b2c in /app ",
            vec![
                Op::Text("app/package.json", project.into()),
                Op::Fill("app/src/index.ts", 500),
                Op::Fill("app/.git/objects/pack/pack-1.pack", 4100),
            ],
        ),
        Step::new("/bin/sh -c npm install", install),
        Step::new(
            "/bin/sh -c npm run build",
            vec![Op::Fill("app/dist/index.js", 450)],
        ),
    ]
}

/// devDependencies by the package graph (typescript, tslib, jest and typescript's own
/// `accepts`; express's `accepts` stays), the build cache, npm's cache and `.git`:
/// each projection is its rebuild; `dist/` is what the app runs, never a build tree.
fn node_fixes_project_their_rebuilds() {
    let steps = node();
    let r = report_with_cmd(
        &steps,
        "/bin/sh -c #(nop)  CMD [\"node\" \"dist/index.js\"]",
    );
    check_fixes(
        &steps,
        &r,
        &[
            ("dev-dependencies", 3, |s| {
                for dev in ["/typescript/", "/tslib/", "/jest/"] {
                    s[3].without(dev);
                }
            }),
            ("build-tree", 3, |s| s[3].without("node_modules/.cache")),
            ("npm-cache", 3, |s| s[3].without(".npm")),
            ("dockerignore", 2, |s| s[2].without(".git")),
        ],
    );
    let dev = alone(&r, "dev-dependencies", 3).unwrap_or_default();
    let json = |d: &str, deps: &str| {
        format!("{{\"name\":\"{d}\",\"version\":\"1.0.0\",\"dependencies\":{{{deps}}}}}").len()
            as u64
    };
    let manifests = json("typescript", r#""tslib":"2","accepts":"2""#)
        + json("typescript/node_modules/accepts", "")
        + json("tslib", "")
        + json("jest", r#""accepts":"1""#);
    assert_eq!(dev, 8000 + 650 + 400 + 5000 + manifests);
    assert!(
        r.findings
            .rows
            .iter()
            .all(|f| f.paths.iter().all(|(p, _)| !p.contains("dist"))),
        "dist/ is kept"
    );
}

/// The naive Rust service: cargo from apt, the sources copied, `cargo build --release`
/// leaving `target/` and the registry, the binary copied to `/usr/local/bin`.
fn rust() -> Vec<Step> {
    vec![
        rootfs(),
        Step::new(
            "/bin/sh -c apt-get update && apt-get install -y cargo",
            vec![
                Op::Fill("usr/bin/cargo", 6000),
                Op::Fill("usr/lib/rustlib/libstd.rlib", 9500),
                Op::Text(
                    "var/lib/dpkg/status",
                    dpkg(&[("libc6", ""), ("cargo", "rustc"), ("rustc", "libc6")]),
                ),
                Op::Text("var/lib/apt/extended_states", auto(&["rustc"])),
                list("cargo", &["usr/bin/cargo"]),
                list("rustc", &["usr/lib/rustlib/libstd.rlib"]),
            ],
        ),
        Step::new(
            "/bin/sh -c #(nop) COPY dir:9f8e7d in /src ",
            vec![
                Op::Fill("src/Cargo.toml", 300),
                Op::Fill("src/Cargo.lock", 1200),
                Op::Fill("src/src/main.rs", 800),
            ],
        ),
        Step::new(
            "/bin/sh -c cd /src && cargo build --release && cp target/release/app /usr/local/bin/app",
            vec![
                Op::Fill("src/target/release/app", 3000),
                Op::Fill("src/target/release/deps/libserde.rlib", 5200),
                Op::Fill("src/target/CACHEDIR.TAG", 177),
                Op::Fill("root/.cargo/registry/cache/index/serde-1.0.crate", 1900),
                Op::Fill("usr/local/bin/app", 3000),
            ],
        ),
    ]
}

/// `target/` and the registry, each rebuilt alone; the multi-stage rebuild's runtime
/// stage is the root filesystem and the binary: imgsize keeps the dpkg database of the
/// build's apt layer (it lists cargo), and nothing else of it.
fn rust_fixes_and_its_runtime_stage_project_their_rebuilds() {
    let steps = rust();
    let r = report_with_cmd(&steps, "/bin/sh -c #(nop)  CMD [\"app\"]");
    check_fixes(
        &steps,
        &r,
        &[
            ("build-tree", 3, |s| s[3].without("src/target")),
            ("cargo-cache", 3, |s| s[3].without(".cargo/registry")),
        ],
    );
    let runtime = vec![
        rootfs(),
        Step::new(
            "COPY --from=build /usr/local/bin/app /usr/local/bin/app",
            vec![Op::Fill("usr/local/bin/app", 3000)],
        ),
    ];
    let kept = (dpkg(&[("libc6", ""), ("cargo", "rustc"), ("rustc", "libc6")]).len()
        + auto(&["rustc"]).len()) as u64;
    let multi = r
        .findings
        .rows
        .iter()
        .find(|f| f.rule.code() == "multi-stage")
        .expect("multi-stage");
    assert_eq!(multi.bytes, stored(&steps) - stored(&runtime) - kept);
}

/// The JDK and the JRE as Debian splits them.
fn jdk_packages() -> String {
    dpkg(&[
        ("libc6", ""),
        (
            "default-jdk-headless",
            "default-jre-headless, openjdk-17-jdk-headless",
        ),
        ("openjdk-17-jdk-headless", "openjdk-17-jre-headless"),
        ("default-jre-headless", "openjdk-17-jre-headless"),
        ("openjdk-17-jre-headless", "libc6"),
    ])
}

const JVM: &str = "usr/lib/jvm/java-17-openjdk-amd64";

/// The naive Java service: the JDK from apt (its `.deb` files left in apt's cache), the
/// sources copied, javac and jar writing classes beside the sources and the jar to
/// `/app`.
fn java() -> Vec<Step> {
    let f = |p: &str| leak(format!("{JVM}/{p}"));
    vec![
        rootfs(),
        Step::new(
            "/bin/sh -c apt-get update && apt-get install -y default-jdk-headless",
            vec![
                Op::Fill(f("bin/javac"), 1200),
                Op::Fill(f("jmods/java.base.jmod"), 21000),
                Op::Fill(f("bin/java"), 900),
                Op::Fill(f("lib/modules"), 30000),
                Op::Text("var/lib/dpkg/status", jdk_packages()),
                Op::Text(
                    "var/lib/apt/extended_states",
                    auto(&[
                        "openjdk-17-jdk-headless",
                        "default-jre-headless",
                        "openjdk-17-jre-headless",
                    ]),
                ),
                list(
                    "openjdk-17-jdk-headless",
                    &[f("bin/javac"), f("jmods/java.base.jmod")],
                ),
                list(
                    "openjdk-17-jre-headless",
                    &[f("bin/java"), f("lib/modules")],
                ),
                Op::Fill(
                    "var/cache/apt/archives/openjdk-17-jdk-headless_17.0.9_amd64.deb",
                    11000,
                ),
                Op::Fill(
                    "var/cache/apt/archives/openjdk-17-jre-headless_17.0.9_amd64.deb",
                    15000,
                ),
            ],
        ),
        Step::new(
            "/bin/sh -c #(nop) COPY dir:5a4b3c in /src ",
            vec![Op::Fill("src/src/shop/Main.java", 900)],
        ),
        Step::new(
            "/bin/sh -c cd /src && javac -d out $(find src -name '*.java') && jar cfe /app/app.jar shop.Main -C out .",
            vec![
                Op::Fill("src/out/shop/Main.class", 1100),
                Op::Fill("app/app.jar", 1300),
            ],
        ),
    ]
}

/// A JRE in place of the JDK saves the JDK's files, its dpkg list and its `.deb`;
/// the multi-stage runtime stage is the root filesystem, the JRE and the jar.
fn java_fixes_and_its_runtime_stage_project_their_rebuilds() {
    let steps = java();
    let r = report_with_cmd(
        &steps,
        "/bin/sh -c #(nop)  CMD [\"java\",\"-jar\",\"/app/app.jar\"]",
    );
    let jdk = alone(&r, "jdk-runtime", 1).expect("jdk-runtime");
    let list_len = |files: &[&str]| {
        let mut n = "/.\n".len();
        for f in files {
            n += f.len() + 2;
        }
        n as u64
    };
    let jdk_list = list_len(&[
        &format!("{JVM}/bin/javac"),
        &format!("{JVM}/jmods/java.base.jmod"),
    ]);
    assert_eq!(jdk, 1200 + 21000 + 11000 + jdk_list);
    let multi = r
        .findings
        .rows
        .iter()
        .find(|f| f.rule.code() == "multi-stage")
        .expect("multi-stage");
    // The runtime stage keeps the JRE, its list, the dpkg database and the jar: the
    // sources, the classes, the JDK and apt's cache go.
    let jre_list = list_len(&[&format!("{JVM}/bin/java"), &format!("{JVM}/lib/modules")]);
    let kept_of_yours = 900 + 30000 + jre_list + 1300 + jdk_packages().len() as u64;
    let extended = auto(&[
        "openjdk-17-jdk-headless",
        "default-jre-headless",
        "openjdk-17-jre-headless",
    ])
    .len() as u64;
    assert_eq!(
        multi.bytes,
        stored(&steps) - stored(&[rootfs()]) - kept_of_yours - extended
    );
}

crate::tests![
    node_fixes_project_their_rebuilds,
    rust_fixes_and_its_runtime_stage_project_their_rebuilds,
    java_fixes_and_its_runtime_stage_project_their_rebuilds,
];
