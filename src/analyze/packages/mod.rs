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

mod dpkg;
mod npm;
mod others;
mod record;
mod rpm;

pub use dpkg::is_build_only;
use dpkg::{
    Dpkg, Runs, bytecode_of_owned, dpkg_bookkeeping, interpreters, jdk_only, runtime_unneeded,
};
use npm::npm_dev;
use others::others;
pub use record::Manager;
use record::measure;
use rpm::Rpm;
pub use rpm::{MAX_DATABASE as MAX_RPM_DATABASE, is_build_only as is_build_only_rpm};

use std::collections::BTreeSet;

use super::base::Base;
use super::top::TopN;
use crate::model::Analysis;
use crate::model::path::split_parent;

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
    /// Package databases that could not be read, one line each naming the file.
    pub notes: Vec<String>,
}

/// Which package owns each visible file, as findings need it (by inode).
#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// Owned by a dpkg package.
    pub dpkg: Vec<bool>,
    /// Flagged `%doc` by an rpm package (what `tsflags=nodocs` leaves out).
    pub rpm_docs: Vec<bool>,
    /// Owned by a package of the build-only closure.
    pub build: Vec<bool>,
    /// Owned by a dpkg package a runtime stage would not install: the build-only
    /// closure without apt's recommends (`--no-install-recommends`), with dpkg's lists
    /// of them and the bytecode compiled for them. Empty without build-only packages.
    pub unneeded: Vec<bool>,
    /// Owned by an npm package only a build needs (`"dev": true` in
    /// `node_modules/.package-lock.json`: a devDependency and what only they pull in).
    pub dev: Vec<bool>,
    /// Owned by a JDK package or what only the JDKs pull in, when the image runs Java
    /// (a JRE would do): with dpkg's lists of them and their cached `.deb` files.
    pub jdk: Vec<bool>,
    /// Layers that installed a JDK package.
    pub jdk_layers: BTreeSet<usize>,
    /// The packages a JRE in place of the JDK would not install.
    pub jdk_packages: Vec<String>,
    /// Layers that installed a build-only package.
    pub build_layers: BTreeSet<usize>,
    /// The build-only packages, biggest first.
    pub build_only: Vec<(String, u64)>,
    /// The dpkg packages a runtime stage installs by name, with the layer that
    /// installed each (empty without build-only packages).
    pub runtime_roots: Vec<(String, usize)>,
}

/// Whether the walk should keep a file's content: the package databases only. Called
/// for every regular file, so it rejects on the file name first. (The walk bounds the
/// size of what it captures; rpm's databases are offered up to [`capture_limit`].)
pub fn wants(path: &[u8], size: u64) -> bool {
    if rpm::is_database(path) {
        return size <= MAX_RPM_DATABASE;
    }
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
        // A project's own (npm's production roots), outside any `node_modules`.
        if !path.split(|&b| b == b'/').any(|c| c == b"node_modules") {
            return !path.starts_with(b"usr/share/") && !path.starts_with(b"usr/lib/");
        }
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

/// The build-only packages of dpkg and rpm, and what removing them would take.
#[derive(Default)]
struct Build {
    dpkg: BTreeSet<String>,
    dpkg_closure: BTreeSet<String>,
    rpm: BTreeSet<String>,
    rpm_closure: BTreeSet<String>,
}

impl Build {
    fn of(dpkg: &Dpkg, rpm: &Rpm) -> Build {
        let dpkg_build: BTreeSet<String> = dpkg
            .packages
            .keys()
            .filter(|n| is_build_only(n))
            .cloned()
            .collect();
        let rpm_build: BTreeSet<String> = rpm
            .packages
            .keys()
            .filter(|n| rpm::is_build_only(n))
            .cloned()
            .collect();
        Build {
            dpkg_closure: if dpkg_build.is_empty() {
                BTreeSet::new()
            } else {
                dpkg.closure(&dpkg_build, true, &BTreeSet::new())
            },
            rpm_closure: rpm.closure(&rpm_build, &BTreeSet::new()),
            dpkg: dpkg_build,
            rpm: rpm_build,
        }
    }

    /// (build-only, in the closure) for a package.
    fn marks(&self, manager: Manager, name: &str) -> (bool, bool) {
        match manager {
            Manager::Dpkg => (self.dpkg.contains(name), self.dpkg_closure.contains(name)),
            Manager::Rpm => (self.rpm.contains(name), self.rpm_closure.contains(name)),
            _ => (false, false),
        }
    }
}

/// The files a runtime stage would not carry of the rpm packages: those of the
/// build-only closure, keeping the interpreters pip or npm need.
fn rpm_unneeded(a: &Analysis, rpm: &Rpm, build: &BTreeSet<String>, runs: &Runs, out: &mut [bool]) {
    let closure = rpm.closure(build, &interpreters(runs, rpm.packages.keys()));
    let mut seen = vec![false; out.len()];
    for name in &closure {
        let files = rpm.packages[name].record.files.iter().map(Vec::as_slice);
        measure(&a.tree, files, &mut seen, |i| out[i as usize] = true);
    }
}

/// The files rpm packages flag `%doc` (what `tsflags=nodocs` leaves out).
fn rpm_docs(a: &Analysis, rpm: &Rpm) -> Vec<bool> {
    let mut out = vec![false; a.tree.inodes().len()];
    let mut seen = out.clone();
    for p in rpm.packages.values() {
        measure(&a.tree, p.docs.iter().map(Vec::as_slice), &mut seen, |i| {
            out[i as usize] = true
        });
    }
    out
}

/// Every package's row, its files marked in `owners`.
fn rows(
    a: &Analysis,
    base: &Base,
    dpkg: Dpkg,
    rpm: Rpm,
    build: &Build,
    owners: &mut Owners,
) -> Vec<PackageRow> {
    let mut seen = vec![false; a.tree.inodes().len()];
    let mut rows = Vec::new();
    let all = dpkg
        .packages
        .into_iter()
        .map(|(n, r)| (Manager::Dpkg, n, r))
        .chain(
            rpm.packages
                .into_iter()
                .map(|(n, p)| (Manager::Rpm, n, p.record)),
        )
        .chain(others(a));
    for (manager, name, r) in all {
        let dpkg = manager == Manager::Dpkg;
        let (build_only, in_closure) = build.marks(manager, &name);
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
    rows
}

/// The largest file of `path` that [`wants`] should be offered: [`MAX_RPM_DATABASE`]
/// for rpm's databases (a real Berkeley DB `Packages` is often 10 to 60 MiB), else
/// `None`, the walk's own bound.
pub fn capture_limit(path: &[u8]) -> Option<u64> {
    rpm::is_database(path).then_some(MAX_RPM_DATABASE)
}

/// The package table, biggest first, cut to `top`, and who owns each file.
pub fn table(a: &Analysis, base: &Base, top: usize) -> (Packages, Owners) {
    let mut dpkg = Dpkg::default();
    dpkg.read(&a.captured);
    let mut rpm = Rpm::default();
    rpm.read(&a.captured, |p| a.tree.lookup(p).is_some());
    let build = Build::of(&dpkg, &rpm);
    let n = a.tree.inodes().len();
    let runs = Runs::of(a);
    let (jdk, jdk_layers, jdk_packages) = jdk_only(a, &dpkg, &runs);
    let (unneeded, runtime_roots) = runtime_unneeded(a, &dpkg, &build.dpkg, &runs);
    let mut owners = Owners {
        runtime_roots,
        jdk,
        jdk_layers,
        jdk_packages,
        dpkg: vec![false; n],
        build: vec![false; n],
        dev: npm_dev(a),
        unneeded,
        rpm_docs: rpm_docs(a, &rpm),
        ..Owners::default()
    };
    if !build.rpm.is_empty() {
        rpm_unneeded(a, &rpm, &build.rpm, &runs, &mut owners.unneeded);
    }
    let notes = std::mem::take(&mut rpm.problems);
    let mut rows = rows(a, base, dpkg, rpm, &build, &mut owners);
    dpkg_bookkeeping(&a.tree, &build.dpkg_closure, &mut owners.build);
    if !build.dpkg_closure.is_empty() || !build.rpm_closure.is_empty() {
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
    let mut closure: Vec<String> = build.dpkg_closure.into_iter().collect();
    closure.extend(build.rpm_closure);
    closure.sort();
    closure.dedup();
    let packages = Packages {
        rows: TopN::cut(rows, top, |r| r.bytes),
        build_only_bytes,
        build_closure_bytes,
        build_closure: closure,
        notes,
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
            "app/package.json",
            "package.json",
        ] {
            assert!(wants(yes.as_bytes(), 100), "{yes}");
        }
        for no in [
            "etc/status",
            "usr/share/nodejs/npm/package.json",
            "app/node_modules/lodash/lib/package.json",
            "var/lib/dpkg/info/libc6.md5sums",
            "usr/share/RECORD",
        ] {
            assert!(!wants(no.as_bytes(), 100), "{no}");
        }
    }
}
