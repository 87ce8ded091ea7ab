//! Installed packages, from the package databases alone (captured during the walk, see
//! [`wants`]): dpkg (`var/lib/dpkg/status`, `status.d/`, `info/*.list`, apt's
//! `extended_states`), apk (`lib/apk/db/installed`), Python distributions
//! (`*.dist-info/RECORD` in every `site-packages` and `dist-packages`) and npm
//! (`node_modules/**/package.json`).
//!
//! Each package gets the visible bytes of its files in the final filesystem (a file is
//! counted for the first package that lists it), the layer that installed it (the first
//! layer whose copy of the database lists it), and for dpkg whether it is only needed to
//! build (compilers, `-dev` packages, ...) and whether purging the build-only packages
//! would take it too (what `apt-get autoremove` removes after them: auto-installed
//! packages no longer reachable from a manually installed one through `Depends`,
//! `Pre-Depends` or `Recommends`). That closure is what a multi-stage build saves.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::base::Base;
use super::top::TopN;
use crate::model::path::{join, normalize, split_parent};
use crate::model::tree::NodeKind;
use crate::model::{Analysis, CapturedFile, FsTree};

/// A package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Manager {
    Dpkg,
    Apk,
    Python,
    Npm,
}

impl Manager {
    pub fn code(self) -> &'static str {
        match self {
            Manager::Dpkg => "dpkg",
            Manager::Apk => "apk",
            Manager::Python => "python",
            Manager::Npm => "npm",
        }
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRow {
    pub manager: Manager,
    pub name: String,
    pub version: Option<String>,
    /// Visible bytes of its files.
    pub bytes: u64,
    pub files: u64,
    /// The first layer whose database lists it.
    pub layer: Option<usize>,
    /// Installed by a base-image layer.
    pub base: bool,
    /// Needed only to build (dpkg): compilers, binutils, make, `-dev` packages.
    pub build_only: bool,
    /// Purging the build-only packages would remove it (build-only packages included).
    pub build_closure: bool,
}

/// The package table and the build-only figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packages {
    pub rows: TopN<PackageRow>,
    /// Visible bytes of the build-only packages.
    pub build_only_bytes: u64,
    /// Visible bytes of everything purging them would remove (autoremove closure).
    pub build_closure_bytes: u64,
    /// Names in that closure, sorted.
    pub build_closure: Vec<String>,
}

/// Which package owns each visible file, as findings need it (by inode).
#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// Owned by a dpkg package.
    pub dpkg: Vec<bool>,
    /// Owned by a package of the build-only closure.
    pub build: Vec<bool>,
    /// Owned by a dpkg package a runtime stage would not install: the build-only
    /// closure without apt's recommends (`--no-install-recommends`), with dpkg's lists
    /// of them and the bytecode compiled for them. Empty without build-only packages.
    pub unneeded: Vec<bool>,
    /// Owned by an npm package only a build needs (`"dev": true` in
    /// `node_modules/.package-lock.json`: a devDependency and what only they pull in).
    pub dev: Vec<bool>,
    /// Layers that installed a build-only package.
    pub build_layers: BTreeSet<usize>,
    /// The build-only packages, biggest first.
    pub build_only: Vec<(String, u64)>,
}

/// Whether the walk should keep a file's content: the package databases only. Called
/// for every regular file, so it rejects on the file name first. (The walk bounds the
/// size of what it captures.)
pub fn wants(path: &[u8], _size: u64) -> bool {
    const ENDINGS: [&[u8]; 7] = [
        b"status",
        b"extended_states",
        b"installed",
        b"RECORD",
        b"package.json",
        b".package-lock.json",
        b".list",
    ];
    if !ENDINGS.iter().any(|e| path.ends_with(e)) && !path.starts_with(b"var/lib/dpkg/status.d/") {
        return false;
    }
    let (dir, name) = split_parent(path);
    let named = |n: &[u8]| name == n;
    if named(b"status") || named(b"extended_states") {
        return dir == b"var/lib/dpkg" || dir == b"var/lib/apt";
    }
    if named(b"installed") {
        return dir == b"lib/apk/db";
    }
    if named(b"RECORD") {
        return dir.ends_with(b".dist-info");
    }
    if named(b".package-lock.json") {
        return split_parent(dir).1 == b"node_modules";
    }
    if named(b"package.json") {
        let (up, _) = split_parent(dir);
        let up = if split_parent(up).1.starts_with(b"@") {
            split_parent(up).0
        } else {
            up
        };
        return split_parent(up).1 == b"node_modules";
    }
    if name.ends_with(b".list") {
        return dir == b"var/lib/dpkg/info";
    }
    dir == b"var/lib/dpkg/status.d"
}

/// A package as a database describes it.
#[derive(Debug, Clone, Default)]
struct Record {
    version: Option<String>,
    /// Normalised paths of its files.
    files: Vec<Vec<u8>>,
    layer: usize,
    /// `Depends` and `Pre-Depends`.
    depends: Vec<Vec<String>>,
    recommends: Vec<Vec<String>>,
    provides: Vec<String>,
    essential: bool,
}

/// `Key: value` paragraphs, continuation lines folded.
fn paragraphs(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut cur: BTreeMap<String, String> = BTreeMap::new();
    let mut last = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some(v) = cur.get_mut(&last) {
                v.push('\n');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            last = k.trim().to_string();
            cur.insert(last.clone(), v.trim().to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `a (>= 1), b | c:any` → [[a], [b, c]].
fn relations(field: Option<&String>) -> Vec<Vec<String>> {
    field
        .map(|f| {
            f.split(',')
                .map(|alt| {
                    alt.split('|')
                        .filter_map(|p| {
                            let name = p.trim().split([' ', '(', ':']).next()?.trim();
                            (!name.is_empty()).then(|| name.to_string())
                        })
                        .collect::<Vec<_>>()
                })
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn norm(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    normalize(raw, &mut out);
    out
}

/// Everything the dpkg databases say, merged over layers.
#[derive(Default)]
struct Dpkg {
    packages: BTreeMap<String, Record>,
    /// Auto-installed per apt's extended_states.
    auto: BTreeSet<String>,
}

impl Dpkg {
    /// A status paragraph: the package is installed as of this layer's copy.
    fn status(&mut self, p: &BTreeMap<String, String>, layer: usize, live: &mut BTreeSet<String>) {
        let (Some(name), Some(status)) = (p.get("Package"), p.get("Status")) else {
            return;
        };
        if !status.ends_with(" installed") {
            return;
        }
        live.insert(name.clone());
        let r = self.packages.entry(name.clone()).or_insert_with(|| Record {
            layer,
            ..Record::default()
        });
        r.version = p.get("Version").cloned();
        r.depends = relations(p.get("Depends"));
        r.depends.extend(relations(p.get("Pre-Depends")));
        r.recommends = relations(p.get("Recommends"));
        r.provides = relations(p.get("Provides")).into_iter().flatten().collect();
        r.essential = p.get("Essential").is_some_and(|e| e == "yes");
    }

    fn read(&mut self, captured: &[CapturedFile]) {
        // The last copy of each database (in layer order) is the final word.
        let mut last_status: Option<BTreeSet<String>> = None;
        let mut lists: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
        for c in captured {
            let text = String::from_utf8_lossy(&c.content);
            let (dir, file) = split_parent(&c.path);
            let file = String::from_utf8_lossy(file);
            if c.path == b"var/lib/dpkg/status" {
                let mut live = BTreeSet::new();
                for p in paragraphs(&text) {
                    self.status(&p, c.layer, &mut live);
                }
                last_status = Some(live);
            } else if dir == b"var/lib/dpkg/status.d" {
                if let Some(pkg) = file.strip_suffix(".md5sums") {
                    let files = text
                        .lines()
                        .filter_map(|l| l.split_once("  ").map(|(_, p)| norm(p.as_bytes())))
                        .collect();
                    lists.insert(pkg.to_string(), files);
                } else {
                    let mut live = BTreeSet::new();
                    for p in paragraphs(&text) {
                        self.status(&p, c.layer, &mut live);
                    }
                }
            } else if c.path == b"var/lib/apt/extended_states" {
                self.auto = paragraphs(&text)
                    .into_iter()
                    .filter(|p| p.get("Auto-Installed").is_some_and(|v| v == "1"))
                    .filter_map(|p| p.get("Package").cloned())
                    .collect();
            } else if let Some(pkg) = file.strip_suffix(".list") {
                let name = pkg.split(':').next().unwrap_or(pkg).to_string();
                let files = text.lines().map(|l| norm(l.as_bytes())).collect();
                lists.insert(name, files);
            }
        }
        if let Some(live) = last_status {
            self.packages.retain(|name, _| live.contains(name));
        }
        for (name, files) in lists {
            if let Some(r) = self.packages.get_mut(&name) {
                r.files = files;
            }
        }
    }

    /// Purge `build` and autoremove: what goes. apt keeps what a kept package
    /// depends on or recommends; with `recommends` false, only what it depends on
    /// (what a runtime stage installing its packages with `--no-install-recommends`
    /// would not get either).
    fn closure(
        &self,
        build: &BTreeSet<String>,
        recommends: bool,
        roots: &BTreeSet<String>,
    ) -> BTreeSet<String> {
        let mut providers: HashMap<&str, Vec<&str>> = HashMap::new();
        for (name, r) in &self.packages {
            providers.entry(name).or_default().push(name);
            for p in &r.provides {
                providers.entry(p).or_default().push(name);
            }
        }
        let mut keep: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = self
            .packages
            .iter()
            .filter(|(n, r)| {
                !build.contains(*n)
                    && (r.essential || !self.auto.contains(*n) || roots.contains(*n))
            })
            .map(|(n, _)| n.as_str())
            .collect();
        while let Some(n) = stack.pop() {
            if build.contains(n) || !keep.insert(n) {
                continue;
            }
            let r = &self.packages[n];
            let rec = if recommends { &r.recommends[..] } else { &[] };
            for alt in r.depends.iter().chain(rec) {
                for dep in alt {
                    for &p in providers.get(dep.as_str()).into_iter().flatten() {
                        stack.push(p);
                    }
                }
            }
        }
        self.packages
            .keys()
            .filter(|n| !keep.contains(n.as_str()))
            .cloned()
            .collect()
    }
}

/// A dpkg package needed only to build software.
pub fn is_build_only(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "make",
        "build-essential",
        "binutils",
        "cmake",
        "autoconf",
        "automake",
        "libtool",
        "pkg-config",
        "pkgconf",
        "bison",
        "flex",
        "m4",
        "dpkg-dev",
        "gfortran",
        "patch",
        "linux-libc-dev",
        // Fetchers and language toolchains a runtime stage does not carry: it gets
        // the built artifacts and installed packages instead.
        "git",
        "git-man",
        "subversion",
        "mercurial",
        "npm",
        "yarnpkg",
        "node-gyp",
        "python3-pip",
        "python3-pip-whl",
        "rustc",
        "cargo",
        "maven",
        "gradle",
        "ant",
        "default-jdk",
        "default-jdk-headless",
    ];
    const PREFIXES: &[&str] = &[
        "gcc-",
        "g++-",
        "cpp-",
        "binutils-",
        "clang",
        "llvm",
        "golang",
        "gccgo",
        "rustc-",
        "cargo-",
    ];
    if EXACT.contains(&name) || name == "gcc" || name == "g++" || name == "cpp" {
        return true;
    }
    // gcc-12-base is the runtime libraries' common files, not the compiler; a JDK
    // compiles, its JRE runs.
    let jdk =
        name.starts_with("openjdk-") && (name.ends_with("-jdk") || name.ends_with("-jdk-headless"));
    jdk || (!name.ends_with("-base")
        && (name.ends_with("-dev") || PREFIXES.iter().any(|p| name.starts_with(p))))
}

/// Top-level directories that merged-/usr systems make symlinks into `usr/`: package
/// lists still name files by the old path (`/lib/x86_64-linux-gnu/libc.so.6`).
const MERGED_USR: [&[u8]; 6] = [b"bin", b"sbin", b"lib", b"lib32", b"lib64", b"libx32"];

/// Look a listed path up, through a merged-/usr top-level symlink when there is one
/// (the tree keeps no symlink targets; a top-level `lib` symlink beside a `usr/lib`
/// directory is taken to point there).
fn lookup_listed(tree: &FsTree, path: &[u8]) -> Option<u32> {
    if let Some(n) = tree.lookup(path) {
        return Some(n);
    }
    let top = path.split(|&b| b == b'/').next()?;
    let top_is_link = tree.lookup(top).map(|n| tree.kind(n)) == Some(NodeKind::Symlink);
    if !MERGED_USR.contains(&top) || !top_is_link {
        return None;
    }
    tree.lookup(&join(b"usr", path))
}

/// Visible bytes and files of a list of paths; each inode counted once overall, and
/// handed to `own`.
fn measure<'a>(
    tree: &FsTree,
    files: impl Iterator<Item = &'a [u8]>,
    seen: &mut [bool],
    mut own: impl FnMut(u32),
) -> (u64, u64) {
    let (mut bytes, mut count) = (0, 0);
    for f in files {
        let Some(node) = lookup_listed(tree, f) else {
            continue;
        };
        if tree.kind(node) != NodeKind::File {
            continue;
        }
        if let Some(ino) = tree.inode(node)
            && !std::mem::replace(&mut seen[ino as usize], true)
        {
            bytes += tree.inodes()[ino as usize].size;
            count += 1;
            own(ino);
        }
    }
    (bytes, count)
}

/// Every visible file under `dir`, except inside nested `node_modules`.
fn files_under(tree: &FsTree, dir: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(root) = tree.lookup(dir) else {
        return out;
    };
    let mut stack = vec![(root, dir.to_vec())];
    while let Some((id, path)) = stack.pop() {
        for c in tree.children(id) {
            let name = tree.name(c);
            let p = join(&path, name);
            match tree.kind(c) {
                NodeKind::Dir if name != b"node_modules" => stack.push((c, p)),
                NodeKind::File => out.push(p),
                _ => {}
            }
        }
    }
    out
}

/// Python and npm packages and apk's, as (manager, name, record).
fn others(a: &Analysis) -> Vec<(Manager, String, Record)> {
    let mut out: BTreeMap<(Manager, String, Vec<u8>), Record> = BTreeMap::new();
    for c in &a.captured {
        let text = String::from_utf8_lossy(&c.content);
        let (dir, file) = split_parent(&c.path);
        if file == b"RECORD" {
            let (site, info) = split_parent(dir);
            let info = String::from_utf8_lossy(info);
            let stem = info.strip_suffix(".dist-info").unwrap_or(&info);
            let (name, version) = stem.split_once('-').unwrap_or((stem, ""));
            let files = text
                .lines()
                .filter_map(|l| l.split(',').next())
                .filter(|f| !f.is_empty())
                .map(|f| norm(&join(site, f.as_bytes())))
                .collect();
            let key = (Manager::Python, name.to_string(), dir.to_vec());
            out.entry(key).or_insert(Record {
                version: (!version.is_empty()).then(|| version.to_string()),
                files,
                layer: c.layer,
                ..Record::default()
            });
        } else if file == b"package.json" {
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&c.content) else {
                continue;
            };
            let Some(name) = doc["name"].as_str() else {
                continue;
            };
            let key = (Manager::Npm, name.to_string(), dir.to_vec());
            out.entry(key).or_insert(Record {
                version: doc["version"].as_str().map(String::from),
                files: files_under(&a.tree, dir),
                layer: c.layer,
                ..Record::default()
            });
        } else if c.path == b"lib/apk/db/installed" {
            for (name, r) in apk(&text, c.layer) {
                out.entry((Manager::Apk, name, Vec::new())).or_insert(r);
            }
        }
    }
    out.into_iter().map(|((m, n, _), r)| (m, n, r)).collect()
}

/// `lib/apk/db/installed`: `P:` name, `V:` version, `F:` folder, `R:` file.
fn apk(text: &str, layer: usize) -> Vec<(String, Record)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let (mut name, mut r, mut folder) = (
            None,
            Record {
                layer,
                ..Record::default()
            },
            Vec::new(),
        );
        for line in block.lines() {
            match line.split_at_checked(2) {
                Some(("P:", v)) => name = Some(v.to_string()),
                Some(("V:", v)) => r.version = Some(v.to_string()),
                Some(("F:", v)) => folder = norm(v.as_bytes()),
                Some(("R:", v)) => r.files.push(join(&folder, v.as_bytes())),
                _ => {}
            }
        }
        if let Some(n) = name {
            out.push((n, r));
        }
    }
    out
}

/// Files owned by npm packages that only a build needs: every package that
/// `node_modules/.package-lock.json` marks `"dev": true` (npm writes it since npm 7), by
/// inode. The last copy of each lock file is the final word.
fn npm_dev(a: &Analysis) -> Vec<bool> {
    let mut dev = vec![false; a.tree.inodes().len()];
    let mut locks: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
    for c in &a.captured {
        if split_parent(&c.path).1 == b".package-lock.json" {
            locks.insert(&c.path, &c.content);
        }
    }
    for (path, content) in locks {
        let project = split_parent(split_parent(path).0).0;
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(content) else {
            continue;
        };
        let Some(packages) = doc["packages"].as_object() else {
            continue;
        };
        for (key, p) in packages {
            if key.is_empty() || p["dev"].as_bool() != Some(true) {
                continue;
            }
            let dir = join(project, &norm(key.as_bytes()));
            for f in files_under(&a.tree, &dir) {
                if let Some(ino) = a.tree.lookup(&f).and_then(|n| a.tree.inode(n)) {
                    dev[ino as usize] = true;
                }
            }
        }
    }
    dev
}

/// dpkg's own files about the packages of the build-only closure
/// (`var/lib/dpkg/info/gcc-12.list`, `.md5sums`, maintainer scripts): gone with them.
fn dpkg_bookkeeping(tree: &FsTree, closure: &BTreeSet<String>, build: &mut [bool]) {
    let Some(info) = tree
        .lookup(b"var/lib/dpkg/info")
        .filter(|_| !closure.is_empty())
    else {
        return;
    };
    for c in tree.children(info) {
        let name = String::from_utf8_lossy(tree.name(c));
        let pkg = name.split('.').next().unwrap_or("");
        let pkg = pkg.split(':').next().unwrap_or(pkg);
        if closure.contains(pkg)
            && let Some(ino) = tree.inode(c)
        {
            build[ino as usize] = true;
        }
    }
}

/// Bytecode that Python wrote for a package's modules (`D/__pycache__/M.cpython-311.pyc`
/// for `D/M.py`): Debian's postinst scripts compile them, so no package lists them, yet
/// they go with the package. Marks each whose source is marked.
fn bytecode_of_owned(tree: &FsTree, owned: &mut [bool]) {
    for (node, ino) in tree.live_files() {
        let name = tree.name(node);
        if !name.ends_with(b".pyc") || owned[ino as usize] {
            continue;
        }
        let Some(cache) = tree
            .parent(node)
            .filter(|&d| tree.name(d) == b"__pycache__")
        else {
            continue;
        };
        let module = name.split(|&b| b == b'.').next().unwrap_or(name);
        let source = [module, b".py"].concat();
        let src_ino = tree
            .parent(cache)
            .and_then(|dir| tree.child(dir, &source))
            .and_then(|n| tree.inode(n));
        if src_ino.is_some_and(|i| owned[i as usize]) {
            owned[ino as usize] = true;
        }
    }
}

/// The interpreters a runtime stage needs whatever apt marked them: Python's when pip
/// installed packages (a `RECORD` outside Debian's own `usr/lib/python3/`), nodejs when
/// npm did (a `node_modules` package). Installed as a dependency of pip or npm, they
/// would otherwise leave with them.
fn interpreters(a: &Analysis, dpkg: &Dpkg) -> BTreeSet<String> {
    let pip = a
        .captured
        .iter()
        .any(|c| split_parent(&c.path).1 == b"RECORD" && !c.path.starts_with(b"usr/lib/python3/"));
    let npm = a
        .captured
        .iter()
        .any(|c| split_parent(&c.path).1 == b"package.json");
    dpkg.packages
        .keys()
        .filter(|n| {
            (pip && (n.as_str() == "python3" || n.starts_with("python3.")))
                || (npm && n.as_str() == "nodejs")
        })
        .cloned()
        .collect()
}

/// The files a runtime stage would not carry of the dpkg packages: those of the
/// build-only packages and of everything only they, or only recommends, pull in.
fn runtime_unneeded(a: &Analysis, dpkg: &Dpkg, build: &BTreeSet<String>) -> Vec<bool> {
    let tree = &a.tree;
    let mut out = vec![false; tree.inodes().len()];
    if build.is_empty() {
        return out;
    }
    let closure = dpkg.closure(build, false, &interpreters(a, dpkg));
    let mut seen = vec![false; out.len()];
    for name in &closure {
        let files = dpkg.packages[name].files.iter().map(Vec::as_slice);
        measure(tree, files, &mut seen, |i| out[i as usize] = true);
    }
    dpkg_bookkeeping(tree, &closure, &mut out);
    bytecode_of_owned(tree, &mut out);
    out
}

/// The package table, biggest first, cut to `top`, and who owns each file.
pub fn table(a: &Analysis, base: &Base, top: usize) -> (Packages, Owners) {
    let mut dpkg = Dpkg::default();
    dpkg.read(&a.captured);
    let build: BTreeSet<String> = dpkg
        .packages
        .keys()
        .filter(|n| is_build_only(n))
        .cloned()
        .collect();
    let closure = if build.is_empty() {
        BTreeSet::new()
    } else {
        dpkg.closure(&build, true, &BTreeSet::new())
    };
    let n = a.tree.inodes().len();
    let mut seen = vec![false; n];
    let mut owners = Owners {
        dpkg: vec![false; n],
        build: vec![false; n],
        dev: npm_dev(a),
        unneeded: runtime_unneeded(a, &dpkg, &build),
        ..Owners::default()
    };
    let mut rows = Vec::new();
    let all = dpkg
        .packages
        .into_iter()
        .map(|(n, r)| (Manager::Dpkg, n, r))
        .chain(others(a));
    for (manager, name, r) in all {
        let dpkg = manager == Manager::Dpkg;
        let build_only = dpkg && build.contains(&name);
        let in_closure = dpkg && closure.contains(&name);
        let (bytes, files) = measure(&a.tree, r.files.iter().map(Vec::as_slice), &mut seen, |i| {
            owners.dpkg[i as usize] = dpkg;
            owners.build[i as usize] = in_closure;
        });
        if build_only {
            owners.build_layers.insert(r.layer);
            owners.build_only.push((name.clone(), bytes));
        }
        rows.push(PackageRow {
            manager,
            build_only,
            build_closure: in_closure,
            base: base.holds(r.layer),
            layer: Some(r.layer),
            version: r.version,
            bytes,
            files,
            name,
        });
    }
    dpkg_bookkeeping(&a.tree, &closure, &mut owners.build);
    if !closure.is_empty() {
        bytecode_of_owned(&a.tree, &mut owners.build);
    }
    let sum = |f: fn(&PackageRow) -> bool| rows.iter().filter(|r| f(r)).map(|r| r.bytes).sum();
    let build_only_bytes = sum(|r| r.build_only);
    let build_closure_bytes = sum(|r| r.build_closure);
    rows.sort_by(|x, y| {
        y.bytes
            .cmp(&x.bytes)
            .then(x.manager.cmp(&y.manager))
            .then_with(|| x.name.cmp(&y.name))
    });
    owners
        .build_only
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let packages = Packages {
        rows: TopN::cut(rows, top, |r| r.bytes),
        build_only_bytes,
        build_closure_bytes,
        build_closure: closure.into_iter().collect(),
    };
    (packages, owners)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_package_databases_are_captured() {
        for yes in [
            "var/lib/dpkg/status",
            "var/lib/dpkg/info/libc6:amd64.list",
            "var/lib/dpkg/status.d/base",
            "var/lib/apt/extended_states",
            "lib/apk/db/installed",
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
            "app/node_modules/lodash/package.json",
            "app/node_modules/@types/node/package.json",
        ] {
            assert!(wants(yes.as_bytes(), 100), "{yes}");
        }
        for no in [
            "etc/status",
            "app/package.json",
            "app/node_modules/lodash/lib/package.json",
            "var/lib/dpkg/info/libc6.md5sums",
            "usr/share/RECORD",
        ] {
            assert!(!wants(no.as_bytes(), 100), "{no}");
        }
    }

    #[test]
    fn build_only_packages_are_told_from_runtime_ones() {
        for b in [
            "gcc",
            "gcc-12",
            "g++-12",
            "cpp-12",
            "make",
            "libc6-dev",
            "libpq-dev",
            "binutils-x86-64-linux-gnu",
            "linux-libc-dev",
            "libgcc-12-dev",
        ] {
            assert!(is_build_only(b), "{b}");
        }
        for r in [
            "gcc-12-base",
            "libgcc-s1",
            "libc6",
            "libpq5",
            "python3",
            "udev",
            "cpio",
            "libstdc++6",
        ] {
            assert!(!is_build_only(r), "{r}");
        }
    }

    #[test]
    fn relations_and_paragraphs_parse() {
        let d = relations(Some(
            &"libc6 (>= 2.34), libgcc-s1 | libgcc1, python3:any".to_string(),
        ));
        assert_eq!(
            d,
            vec![vec!["libc6"], vec!["libgcc-s1", "libgcc1"], vec!["python3"]]
        );
        let p = paragraphs("Package: a\nDescription: x\n more\n\nPackage: b\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0]["Description"], "x\nmore");
    }
}
