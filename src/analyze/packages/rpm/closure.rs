//! rpm's build-only packages, and what removing them takes along.
//!
//! rpm keeps no "installed as a dependency" mark (dnf keeps one in its history
//! database, which is not read), so the closure is an approximation of `dnf remove`
//! with `clean_requirements_on_remove`: the build-only packages, and every package
//! their Requires reach that nothing kept requires. A package is kept when something
//! outside that reach requires it (transitively), when it is a root the caller names
//! (an interpreter pip or npm needs), or when it was installed by a layer below every
//! build-only package (it was there before them, for another reason).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::Package;

/// An rpm package needed only to build software: compilers, binutils, make, the
/// autotools, `-devel`, `-static` and header packages, fetchers and toolchains.
pub fn is_build_only(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "gcc",
        "gcc-c++",
        "gcc-gfortran",
        "cpp",
        "make",
        "binutils",
        "binutils-gold",
        "cmake",
        "cmake-data",
        "cmake-filesystem",
        "cmake-rpm-macros",
        "autoconf",
        "automake",
        "libtool",
        "pkgconf",
        "pkgconf-pkg-config",
        "pkgconfig",
        "bison",
        "flex",
        "m4",
        "patch",
        "rpm-build",
        "redhat-rpm-config",
        "git",
        "git-core",
        "subversion",
        "mercurial",
        "npm",
        "nodejs-npm",
        "python3-pip",
        "rust",
        "cargo",
        "maven",
        "gradle",
        "ant",
    ];
    const PREFIXES: &[&str] = &["gcc-", "clang", "llvm", "golang", "rust-std-"];
    const SUFFIXES: &[&str] = &["-devel", "-static", "-headers"];
    // Runtime libraries of the toolchains (clang-libs, llvm-libs, libgcc) stay.
    EXACT.contains(&name)
        || SUFFIXES.iter().any(|s| name.ends_with(s))
        || (!name.ends_with("-libs") && PREFIXES.iter().any(|p| name.starts_with(p)))
}

/// The packages satisfying each package's Requires: by name, by Provides, and for a
/// path (`/bin/sh`) by the package that lists the file.
fn requirements(packages: &BTreeMap<String, Package>) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut providers: HashMap<&[u8], Vec<&str>> = HashMap::new();
    for (name, p) in packages {
        providers.entry(name.as_bytes()).or_default().push(name);
        for v in &p.record.provides {
            providers.entry(v.as_bytes()).or_default().push(name);
        }
    }
    let paths: BTreeSet<&[u8]> = packages
        .values()
        .flat_map(|p| p.record.depends.iter().flatten())
        .filter_map(|r| r.strip_prefix('/'))
        .map(str::as_bytes)
        .collect();
    let mut owners: HashMap<&[u8], Vec<&str>> = HashMap::new();
    for (name, p) in packages {
        for f in p
            .record
            .files
            .iter()
            .filter(|f| paths.contains(f.as_slice()))
        {
            owners.entry(f).or_default().push(name);
        }
    }
    let mut out = BTreeMap::new();
    for (name, p) in packages {
        let needs: BTreeSet<&str> = p
            .record
            .depends
            .iter()
            .flatten()
            .flat_map(|r| match r.strip_prefix('/') {
                Some(path) => owners.get(path.as_bytes()),
                None => providers.get(r.as_bytes()),
            })
            .flatten()
            .copied()
            .filter(|n| n != name)
            .collect();
        out.insert(name.as_str(), needs);
    }
    out
}

/// Everything reachable from `start` through `needs`, not entering `stop`.
fn reach<'a>(
    needs: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    start: impl Iterator<Item = &'a str>,
    stop: &BTreeSet<String>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = start.collect();
    while let Some(n) = stack.pop() {
        if stop.contains(n) || !seen.insert(n) {
            continue;
        }
        stack.extend(needs.get(n).into_iter().flatten().copied());
    }
    seen
}

/// Remove `build` and what only they required (see the module's words).
pub(super) fn closure(
    packages: &BTreeMap<String, Package>,
    build: &BTreeSet<String>,
    roots: &BTreeSet<String>,
) -> BTreeSet<String> {
    if build.is_empty() {
        return BTreeSet::new();
    }
    let needs = requirements(packages);
    let first_build = build
        .iter()
        .filter_map(|n| packages.get(n))
        .map(|p| p.record.layer)
        .min()
        .unwrap_or(0);
    let none = BTreeSet::new();
    let pulled = reach(&needs, build.iter().map(String::as_str), &none);
    let kept = reach(
        &needs,
        packages
            .iter()
            .filter(|(n, p)| {
                !build.contains(*n)
                    && (!pulled.contains(n.as_str())
                        || roots.contains(*n)
                        || p.record.layer < first_build)
            })
            .map(|(n, _)| n.as_str()),
        build,
    );
    pulled
        .into_iter()
        .filter(|n| !kept.contains(n))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::packages::record::Record;

    fn pkg(layer: usize, requires: &[&str], provides: &[&str], files: &[&str]) -> Package {
        Package {
            record: Record {
                layer,
                depends: requires.iter().map(|r| vec![r.to_string()]).collect(),
                provides: provides.iter().map(|p| p.to_string()).collect(),
                files: files.iter().map(|f| f.as_bytes().to_vec()).collect(),
                ..Record::default()
            },
            docs: Vec::new(),
        }
    }

    #[test]
    fn build_only_rpm_packages() {
        for b in [
            "gcc",
            "gcc-c++",
            "cpp",
            "make",
            "glibc-devel",
            "kernel-headers",
            "libstdc++-static",
            "cmake",
            "git-core",
        ] {
            assert!(is_build_only(b), "{b}");
        }
        for r in [
            "glibc",
            "libgcc",
            "libstdc++",
            "llvm-libs",
            "python3",
            "bash",
            "cpio",
        ] {
            assert!(!is_build_only(r), "{r}");
        }
    }

    #[test]
    fn closure_takes_what_only_the_build_needs() {
        let packages: BTreeMap<String, Package> = [
            ("glibc", pkg(0, &[], &["libc.so.6"], &[])),
            ("bash", pkg(0, &["libc.so.6"], &[], &["usr/bin/sh"])),
            ("app", pkg(1, &["libz"], &[], &[])),
            ("zlib", pkg(1, &[], &["libz"], &[])),
            (
                "gcc",
                pkg(2, &["cpp", "libmpc", "/usr/bin/sh", "libz"], &[], &[]),
            ),
            ("cpp", pkg(2, &["libmpc"], &[], &[])),
            ("libmpc", pkg(2, &["libc.so.6", "cpp"], &[], &[])),
            ("glibc-devel", pkg(2, &["glibc"], &[], &[])),
            ("sed", pkg(0, &[], &[], &[])),
        ]
        .into_iter()
        .map(|(n, p)| (n.to_string(), p))
        .collect();
        let build: BTreeSet<String> = ["gcc".to_string(), "glibc-devel".to_string()].into();
        let got = closure(&packages, &build, &BTreeSet::new());
        let want: BTreeSet<String> = ["gcc", "glibc-devel", "cpp", "libmpc"]
            .map(String::from)
            .into();
        assert_eq!(got, want);
        // A root keeps what it requires.
        let roots = ["libmpc".to_string()].into();
        let got = closure(&packages, &build, &roots);
        assert_eq!(got.len(), 2, "{got:?}");
    }
}
