//! dpkg: the status database merged over layers, file lists, the build-only
//! packages and the closure purging them would take.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::record::{Record, measure, norm};
use crate::analyze::instruction::{arguments, instruction};
use crate::model::path::split_parent;
use crate::model::{Analysis, CapturedFile, FsTree};

/// `Key: value` paragraphs, continuation lines folded.
pub(super) fn paragraphs(text: &str) -> Vec<BTreeMap<String, String>> {
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
pub(super) fn relations(field: Option<&String>) -> Vec<Vec<String>> {
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

/// Everything the dpkg databases say, merged over layers.
#[derive(Default)]
pub(super) struct Dpkg {
    pub(super) packages: BTreeMap<String, Record>,
    /// Auto-installed per apt's extended_states.
    pub(super) auto: BTreeSet<String>,
}

impl Dpkg {
    /// A status paragraph: the package is installed as of this layer's copy.
    pub(super) fn status(
        &mut self,
        p: &BTreeMap<String, String>,
        layer: usize,
        live: &mut BTreeSet<String>,
    ) {
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

    pub(super) fn read(&mut self, captured: &[CapturedFile]) {
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
    pub(super) fn closure(
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

impl Dpkg {
    /// The packages [`Dpkg::closure`] keeps from: what was installed by name (not
    /// auto-installed) or is an interpreter the image runs, and is not built-only;
    /// essential ones are left out (every base has them). Installing these with
    /// `--no-install-recommends` gives what a runtime stage keeps. With the layer that
    /// installed each.
    pub(super) fn runtime_roots(
        &self,
        build: &BTreeSet<String>,
        roots: &BTreeSet<String>,
    ) -> Vec<(String, usize)> {
        self.packages
            .iter()
            .filter(|(n, r)| {
                !build.contains(*n)
                    && !r.essential
                    && (!self.auto.contains(*n) || roots.contains(*n))
            })
            .map(|(n, r)| (n.clone(), r.layer))
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

/// Bytecode that Python wrote for a package's modules (`D/__pycache__/M.cpython-311.pyc`
/// for `D/M.py`): Debian's postinst scripts compile them, so no package lists them, yet
/// they go with the package. Marks each whose source is marked.
pub(super) fn bytecode_of_owned(tree: &FsTree, owned: &mut [bool]) {
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

/// What the image runs that a package manager's marks do not tell: Python packages
/// pip installed (a `RECORD` outside Debian's own `usr/lib/python3/`), npm packages (a
/// `node_modules` package), Java (a `.jar` of its own, outside the system's
/// `usr/share/` and `usr/lib/`, or `java` in its last CMD or ENTRYPOINT). Read once
/// per report: the jar test walks every file.
pub(super) struct Runs {
    pip: bool,
    npm: bool,
    pub(super) java: bool,
}

impl Runs {
    pub(super) fn of(a: &Analysis) -> Runs {
        let pip = a.captured.iter().any(|c| {
            split_parent(&c.path).1 == b"RECORD" && !c.path.starts_with(b"usr/lib/python3/")
        });
        let npm = a.captured.iter().any(|c| {
            split_parent(&c.path).1 == b"package.json"
                && c.path.windows(14).any(|w| w == b"node_modules/")
        });
        Runs {
            pip,
            npm,
            java: java_runs(a),
        }
    }
}

/// The interpreters a runtime stage needs whatever apt (or dnf) marked them: Python's
/// when pip installed packages, nodejs when npm did, the JRE when the image runs Java.
/// Installed as a dependency of pip, npm or the JDK, they would otherwise leave with
/// them.
pub(super) fn interpreters<'a>(
    runs: &Runs,
    names: impl Iterator<Item = &'a String>,
) -> BTreeSet<String> {
    names
        .filter(|n| {
            (runs.pip && (n.as_str() == "python3" || n.starts_with("python3.")))
                || (runs.npm && n.as_str() == "nodejs")
                || (runs.java && is_jre(n))
        })
        .cloned()
        .collect()
}

/// `default-KIND*` or `openjdk-N-KIND[-headless]`.
fn java_package(name: &str, kind: &str) -> bool {
    let openjdk = name.strip_prefix("openjdk-").is_some_and(|rest| {
        rest.ends_with(&format!("-{kind}")) || rest.ends_with(&format!("-{kind}-headless"))
    });
    openjdk || name.starts_with(&format!("default-{kind}"))
}

/// A JDK package: what compiles Java (a JRE runs it).
pub(super) fn is_jdk(name: &str) -> bool {
    java_package(name, "jdk")
}

/// A JRE package.
pub(super) fn is_jre(name: &str) -> bool {
    java_package(name, "jre")
}

/// Whether the image runs Java: a `.jar` of its own, or `java` in its last CMD or
/// ENTRYPOINT.
fn java_runs(a: &Analysis) -> bool {
    let command = a.history.iter().rev().find_map(|h| {
        let text = instruction(h.created_by.as_deref()?);
        ["CMD", "ENTRYPOINT"]
            .iter()
            .find_map(|k| arguments(&text, k).map(str::to_string))
    });
    if command.is_some_and(|c| c.contains("java")) {
        return true;
    }
    a.tree.live_files().any(|(node, _)| {
        a.tree.name(node).ends_with(b".jar") && {
            let p = a.tree.path_bytes(node);
            !p.starts_with(b"usr/share/") && !p.starts_with(b"usr/lib/")
        }
    })
}

/// Mark the files of the folder `dir` that `package` names as a package of `closure`
/// (dpkg's lists and scripts in `var/lib/dpkg/info`, apt's downloaded `.deb` files).
fn mark_named(
    tree: &FsTree,
    dir: &[u8],
    closure: &BTreeSet<String>,
    package: impl Fn(&str) -> Option<&str>,
    out: &mut [bool],
) {
    let Some(dir) = tree.lookup(dir).filter(|_| !closure.is_empty()) else {
        return;
    };
    for c in tree.children(dir) {
        let name = String::from_utf8_lossy(tree.name(c));
        if package(&name).is_some_and(|p| closure.contains(p))
            && let Some(ino) = tree.inode(c)
        {
            out[ino as usize] = true;
        }
    }
}

/// dpkg's own files about the packages of a closure
/// (`var/lib/dpkg/info/gcc-12.list`, `.md5sums`, maintainer scripts): gone with them.
pub(super) fn dpkg_bookkeeping(tree: &FsTree, closure: &BTreeSet<String>, out: &mut [bool]) {
    mark_named(
        tree,
        b"var/lib/dpkg/info",
        closure,
        |name| {
            let pkg = name.split('.').next().unwrap_or("");
            pkg.split(':').next()
        },
        out,
    );
}

/// Mark the files of the packages of `closure`, with dpkg's own files about them.
fn mark_closure(tree: &FsTree, dpkg: &Dpkg, closure: &BTreeSet<String>, out: &mut [bool]) {
    let mut seen = vec![false; out.len()];
    for name in closure {
        let files = dpkg.packages[name].files.iter().map(Vec::as_slice);
        measure(tree, files, &mut seen, |i| out[i as usize] = true);
    }
    dpkg_bookkeeping(tree, closure, out);
}

/// What installing a JRE in place of the JDK would not ship, when the image runs
/// Java: the JDK packages and what only they pull in (the JRE and everything else
/// kept), dpkg's lists of them and their `.deb` files in apt's cache
/// (`NAME_VERSION_ARCH.deb`); with the layers that installed a JDK package and the
/// packages' names.
pub(super) fn jdk_only(
    a: &Analysis,
    dpkg: &Dpkg,
    runs: &Runs,
) -> (Vec<bool>, BTreeSet<usize>, Vec<String>) {
    let mut out = vec![false; a.tree.inodes().len()];
    let jdk: BTreeSet<String> = dpkg
        .packages
        .keys()
        .filter(|n| is_jdk(n))
        .cloned()
        .collect();
    if jdk.is_empty() || !runs.java {
        return (out, BTreeSet::new(), Vec::new());
    }
    let mut roots = interpreters(runs, dpkg.packages.keys());
    roots.extend(dpkg.packages.keys().filter(|n| is_jre(n)).cloned());
    let closure = dpkg.closure(&jdk, true, &roots);
    mark_closure(&a.tree, dpkg, &closure, &mut out);
    mark_named(
        &a.tree,
        b"var/cache/apt/archives",
        &closure,
        |name| {
            name.ends_with(".deb")
                .then(|| name.split('_').next())
                .flatten()
        },
        &mut out,
    );
    let layers = jdk.iter().map(|n| dpkg.packages[n].layer).collect();
    (out, layers, closure.into_iter().collect())
}

/// The files a runtime stage would not carry of the dpkg packages: those of the
/// build-only packages and of everything only they, or only recommends, pull in; with
/// the packages a runtime stage installs by name to get the rest (see
/// [`Dpkg::runtime_roots`]).
pub(super) fn runtime_unneeded(
    a: &Analysis,
    dpkg: &Dpkg,
    build: &BTreeSet<String>,
    runs: &Runs,
) -> (Vec<bool>, Vec<(String, usize)>) {
    let tree = &a.tree;
    let mut out = vec![false; tree.inodes().len()];
    if build.is_empty() {
        return (out, Vec::new());
    }
    let roots = interpreters(runs, dpkg.packages.keys());
    let closure = dpkg.closure(build, false, &roots);
    mark_closure(tree, dpkg, &closure, &mut out);
    bytecode_of_owned(tree, &mut out);
    (out, dpkg.runtime_roots(build, &roots))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn build_only_packages_are_told_from_runtime_ones() {
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
    pub(super) fn relations_and_paragraphs_parse() {
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
