//! RPM-based images: packages built with `rpmbuild` and installed with `rpm --root`
//! into a SQLite database (the backend Debian's rpm writes), packed as layers; the
//! same headers laid into a Berkeley DB hash `Packages` (checked by rpm's own `bdb_ro`
//! reader) and an ndb `Packages.db`, which this rpm cannot write. Every package's
//! bytes are checked against `rpm -ql` and a stat of each listed file on the unpacked
//! root, computed here without imgsize.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use imgsize::analyze::{Manager, Report};

use crate::util::builder::{Data, Image, Item, Layer, docker_archive};
use crate::util::harness::skip;
use crate::util::{analyze, tmp};

/// (name, requires, provides, files as (path, size, %doc)).
type Spec = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [(&'static str, usize, bool)],
);

const BASE: &[Spec] = &[(
    "zlib",
    &[],
    &["libz.so.1()(64bit)"],
    &[("/usr/lib64/libz.so.1", 4000, false)],
)];

const BUILD: &[Spec] = &[
    (
        "app",
        &["libz.so.1()(64bit)"],
        &[],
        &[
            ("/usr/bin/app", 3000, false),
            ("/usr/share/doc/app/README", 500, true),
            ("/usr/share/man/man1/app.1.gz", 120, true),
        ],
    ),
    (
        "gcc",
        &["libmpc.so.3()(64bit)", "/usr/lib64/libz.so.1"],
        &[],
        &[("/usr/bin/gcc", 6000, false)],
    ),
    (
        "libmpc",
        &[],
        &["libmpc.so.3()(64bit)"],
        &[("/usr/lib64/libmpc.so.3", 2500, false)],
    ),
    (
        "zlib-devel",
        &["libz.so.1()(64bit)"],
        &[],
        &[("/usr/include/zlib.h", 700, false)],
    ),
];

/// Bytes of the dnf cache the install layer leaves.
const DNF_CACHE: [(&str, usize); 2] = [
    ("var/cache/dnf/fedora-1/packages/gcc.rpm", 5000),
    ("var/cache/dnf/expired_repos.json", 100),
];

fn tools() {
    for tool in ["rpm", "rpmbuild"] {
        if Command::new(tool).arg("--version").output().is_err() {
            skip(format!("{tool} is not installed (apt-get install rpm)"));
        }
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run rpm");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `rpm --root ROOT` with the database where Fedora keeps it, in SQLite.
fn rpm(root: &Path) -> Command {
    let mut c = Command::new("rpm");
    c.arg("--root")
        .arg(root)
        .args(["--define", "_dbpath /var/lib/rpm"])
        .args(["--define", "_db_backend sqlite"]);
    c
}

/// Build one noarch package from its spec; its path.
fn build(top: &Path, (name, requires, provides, files): &Spec) -> PathBuf {
    let mut spec = format!(
        "Name: {name}\nVersion: 1.0\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\n"
    );
    for r in *requires {
        spec += &format!("Requires: {r}\n");
    }
    for p in *provides {
        spec += &format!("Provides: {p}\n");
    }
    spec += "AutoReqProv: no\n%description\nd\n%install\n";
    for (path, size, _) in *files {
        let dir = Path::new(path).parent().expect("dir").display().to_string();
        spec += &format!(
            "mkdir -p %{{buildroot}}{dir}\nhead -c {size} /dev/zero > %{{buildroot}}{path}\n"
        );
    }
    spec += "%files\n";
    for (path, _, doc) in *files {
        spec += &format!("{}{path}\n", if *doc { "%doc " } else { "" });
    }
    let file = top.join(format!("{name}.spec"));
    std::fs::write(&file, spec).expect("write spec");
    run(Command::new("rpmbuild")
        .args(["--define", &format!("_topdir {}", top.display())])
        .args(["--define", "__os_install_post %{nil}"])
        .arg("-bb")
        .arg(&file));
    top.join(format!("RPMS/noarch/{name}-1.0-1.noarch.rpm"))
}

/// Every regular file under `root`, relative, with its content.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir") {
            let p = e.expect("entry").path();
            let m = std::fs::symlink_metadata(&p).expect("stat");
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                let rel = p.strip_prefix(root).expect("under root");
                out.insert(rel.display().to_string(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// A layer of what changed in `root` since `before`.
fn layer(created_by: &str, root: &Path, before: &BTreeMap<String, Vec<u8>>) -> Layer {
    let mut l = Layer::new(created_by);
    for (path, content) in files(root) {
        if before.get(&path) != Some(&content) && !path.ends_with(".rpm.lock") {
            l = l.file(&path, &content);
        }
    }
    l
}

/// The unpacked root after both installs, and the image made of its two layers.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    image: Image,
}

fn fixture() -> Fixture {
    tools();
    let dir = tmp();
    let (top, root) = (dir.path().join("top"), dir.path().join("root"));
    std::fs::create_dir_all(&root).expect("root");
    std::fs::create_dir_all(&top).expect("top");
    run(rpm(&root).arg("--initdb"));
    let install = |specs: &[Spec]| {
        let rpms: Vec<PathBuf> = specs.iter().map(|s| build(&top, s)).collect();
        run(rpm(&root)
            .args(["-i", "--nodeps", "--noscripts"])
            .args(&rpms));
    };
    install(BASE);
    let base = layer(
        "/bin/sh -c #(nop) ADD file:aaaa in / ",
        &root,
        &BTreeMap::new(),
    );
    let before = files(&root);
    install(BUILD);
    for (path, size) in DNF_CACHE {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().expect("dir")).expect("mkdir");
        std::fs::write(p, vec![b'c'; size]).expect("cache file");
    }
    let image = Image::new("rpm:1")
        .layer(base)
        .step("/bin/sh -c #(nop)  CMD [\"bash\"]")
        .layer(layer(
            "/bin/sh -c dnf install -y app gcc zlib-devel",
            &root,
            &before,
        ));
    Fixture {
        _dir: dir,
        root,
        image,
    }
}

fn report(image: &Image) -> Report {
    let dir = tmp();
    let path = dir.path().join("image.tar");
    docker_archive(image, &path).expect("write image");
    analyze(&path).expect("analyze")
}

/// `rpm -ql` of every package, each listed regular file stat'ed on the root.
fn expected(root: &Path) -> BTreeMap<String, u64> {
    let out = rpm(root)
        .args(["-qa", "--qf", "%{NAME}\\n"])
        .output()
        .expect("rpm -qa");
    let mut sizes = BTreeMap::new();
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        let list = rpm(root).args(["-ql", name]).output().expect("rpm -ql");
        let bytes = String::from_utf8_lossy(&list.stdout)
            .lines()
            .filter_map(|f| std::fs::symlink_metadata(root.join(&f[1..])).ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum();
        sizes.insert(name.to_string(), bytes);
    }
    sizes
}

/// The rpm rows: name → (bytes, layer, build-only, in the closure).
fn rows(r: &Report) -> BTreeMap<String, (u64, Option<usize>, bool, bool)> {
    r.packages
        .rows
        .rows
        .iter()
        .filter(|p| p.manager == Manager::Rpm)
        .map(|p| {
            (
                p.name.clone(),
                (p.bytes, p.layer, p.build_only, p.build_closure),
            )
        })
        .collect()
}

/// What every backend's image must give.
fn check(r: &Report, root: &Path) {
    let got = rows(r);
    let want = expected(root);
    assert_eq!(want.len(), 5, "{want:?}");
    for (name, bytes) in &want {
        assert_eq!(got.get(name).map(|g| g.0), Some(*bytes), "{name}: {got:?}");
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(got["zlib"], (4000, Some(0), false, false));
    assert_eq!(
        got["app"],
        (3620, Some(1), false, false),
        "%doc files count"
    );
    assert_eq!(got["gcc"], (6000, Some(1), true, true));
    assert_eq!(got["zlib-devel"], (700, Some(1), true, true));
    assert_eq!(
        got["libmpc"],
        (2500, Some(1), false, true),
        "only gcc needs it"
    );
    let p = &r.packages;
    assert_eq!((p.build_only_bytes, p.build_closure_bytes), (6700, 9200));
    assert_eq!(p.build_closure, ["gcc", "libmpc", "zlib-devel"]);
    assert!(r.notes.iter().all(|n| !n.contains("rpm")), "{:?}", r.notes);
}

fn sqlite_database_gives_rpm_ql_sizes_layers_and_closure() {
    let f = fixture();
    let r = report(&f.image);
    check(&r, &f.root);
    let find = |code: &str| r.findings.rows.iter().find(|x| x.rule.code() == code);
    let cache = find("dnf-cache").expect("dnf-cache fires");
    assert_eq!((cache.layer, cache.bytes), (1, 5100));
    assert!(cache.fix.contains("dnf clean all"), "{}", cache.fix);
    let docs = find("docs-locales").expect("docs-locales fires for %doc");
    assert_eq!((docs.layer, docs.bytes), (1, 620));
    assert!(docs.fix.contains("--setopt=tsflags=nodocs") && docs.fix.contains("`dnf install`"));
}

/// The header blobs of the SQLite database `layer` writes, by header number.
fn blobs(image: &Image, layer: usize) -> Vec<Vec<u8>> {
    let mut db = image.layers[layer]
        .items
        .iter()
        .find_map(|i| match i {
            Item::File(p, Data::Bytes(b)) if p == "var/lib/rpm/rpmdb.sqlite" => Some(b.clone()),
            _ => None,
        })
        .expect("the layer writes the database");
    // WAL mode cannot be opened from memory; the pages read the same.
    db[18] = 1;
    db[19] = 1;
    let mut c = rusqlite::Connection::open_in_memory().expect("memory");
    c.deserialize_read_exact("main", db.as_slice(), db.len(), true)
        .expect("load");
    let mut q = c
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .expect("query");
    q.query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("blobs")
}

/// The image with each layer's database replaced by `make` of its headers at `path`.
fn with_database(image: &Image, path: &str, make: fn(&[Vec<u8>]) -> Vec<u8>) -> Image {
    let mut image = image.clone();
    let files: Vec<Vec<u8>> = (0..2).map(|n| make(&blobs(&image, n))).collect();
    for (l, file) in image.layers.iter_mut().zip(files) {
        l.items
            .retain(|i| !matches!(i, Item::File(p, _) if p.starts_with("var/lib/rpm/")));
        *l = l.clone().file(path, &file);
    }
    image
}

const PAGE: usize = 4096;

/// A Berkeley DB hash file as rpm's `Packages` is one (little-endian, version 9, one
/// bucket): the metadata page, one hash page of (header number, overflow item) pairs,
/// then each header on its own chain of overflow pages. From the format's layout in
/// Berkeley DB's `dbinc/db_page.h` and rpm's `bdb_ro` reader, which checks it.
fn bdb(blobs: &[Vec<u8>]) -> Vec<u8> {
    let chunk = PAGE - 26;
    let mut pages: Vec<Vec<u8>> = vec![vec![0; PAGE], vec![0; PAGE]];
    let put = |page: &mut Vec<u8>, at: usize, v: &[u8]| page[at..at + v.len()].copy_from_slice(v);
    let (mut top, mut index) = (PAGE, Vec::new());
    for (n, blob) in blobs.iter().enumerate() {
        let first = pages.len() as u32;
        let parts: Vec<&[u8]> = blob.chunks(chunk).collect();
        for (k, part) in parts.iter().enumerate() {
            let mut p = vec![0; PAGE];
            let no = pages.len() as u32;
            put(&mut p, 8, &no.to_le_bytes());
            let next = if k + 1 < parts.len() { no + 1 } else { 0 };
            put(&mut p, 16, &next.to_le_bytes());
            put(&mut p, 22, &(part.len() as u16).to_le_bytes());
            p[25] = 7;
            put(&mut p, 26, part);
            pages.push(p);
        }
        let key = [&[1u8][..], &(n as u32 + 1).to_le_bytes()].concat();
        let value = [
            &[3u8, 0, 0, 0][..],
            &first.to_le_bytes(),
            &(blob.len() as u32).to_le_bytes(),
        ]
        .concat();
        for item in [key, value] {
            top -= item.len();
            put(&mut pages[1], top, &item);
            index.push(top as u16);
        }
    }
    put(&mut pages[1], 8, &1u32.to_le_bytes());
    put(&mut pages[1], 20, &(index.len() as u16).to_le_bytes());
    put(&mut pages[1], 22, &(top as u16).to_le_bytes());
    pages[1][25] = 13;
    for (i, o) in index.iter().enumerate() {
        put(&mut pages[1], 26 + 2 * i, &o.to_le_bytes());
    }
    let last = pages.len() as u32 - 1;
    let meta = &mut pages[0];
    for (at, v) in [
        (12, 0x61561),
        (16, 9),
        (20, PAGE as u32),
        (32, last),
        (76, 1),
        (96, 1),
    ] {
        put(meta, at, &u32::to_le_bytes(v));
    }
    meta[25] = 8;
    pages.concat()
}

/// rpm's ndb `Packages.db`: the header and slots on one page, then each blob with its
/// head and Adler-32 tail, in 16-byte blocks. From rpm's `lib/backend/ndb/rpmpkg.c`.
fn ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut data = vec![0u8; PAGE];
    data[..4].copy_from_slice(b"RpmP");
    data[12..16].copy_from_slice(&1u32.to_le_bytes());
    data[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
    for at in (32..PAGE).step_by(16) {
        data[at..at + 4].copy_from_slice(b"Slot");
    }
    for (i, blob) in blobs.iter().enumerate() {
        let blocks = (16 + blob.len() + 12).div_ceil(16);
        let mut b = b"BlbS".to_vec();
        for v in [i as u32 + 1, 0, blob.len() as u32] {
            b.extend(v.to_le_bytes());
        }
        b.extend(blob);
        b.resize(blocks * 16 - 12, 0);
        let (mut s1, mut s2) = (1u32, 0u32);
        for &x in &b {
            s1 = (s1 + u32::from(x)) % 65521;
            s2 = (s2 + s1) % 65521;
        }
        b.extend(((s2 << 16) | s1).to_le_bytes());
        b.extend((blob.len() as u32).to_le_bytes());
        b.extend(b"BlbE");
        let slot = 32 + 16 * i;
        for (k, v) in [i as u32 + 1, (data.len() / 16) as u32, blocks as u32]
            .iter()
            .enumerate()
        {
            data[slot + 4 + 4 * k..slot + 8 + 4 * k].copy_from_slice(&v.to_le_bytes());
        }
        data.extend(b);
    }
    data
}

fn berkeley_db_packages_reads_the_same_as_rpm_bdb_ro() {
    let f = fixture();
    let image = with_database(&f.image, "var/lib/rpm/Packages", bdb);
    // rpm's own read-only Berkeley DB reader lists the hand-built file.
    let check_root = tmp();
    let db = check_root.path().join("var/lib/rpm");
    std::fs::create_dir_all(&db).expect("dbpath");
    std::fs::write(db.join("Packages"), bdb(&blobs(&f.image, 1))).expect("write");
    let out = Command::new("rpm")
        .arg("--root")
        .arg(check_root.path())
        .args([
            "--define",
            "_dbpath /var/lib/rpm",
            "--define",
            "_db_backend bdb_ro",
        ])
        .args(["-qa", "--qf", "%{NAME}\\n"])
        .output()
        .expect("rpm -qa");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["app", "gcc", "libmpc", "zlib", "zlib-devel"],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(&report(&image), &f.root);
}

fn ndb_packages_db_reads_the_same() {
    let f = fixture();
    let image = with_database(&f.image, "usr/lib/sysimage/rpm/Packages.db", ndb);
    check(&report(&image), &f.root);
}

fn a_damaged_database_is_a_note_naming_it() {
    let f = fixture();
    let image = with_database(&f.image, "var/lib/rpm/Packages", |b| {
        let mut file = bdb(b);
        let at = file.len() - PAGE + 30;
        file.truncate(at);
        file
    });
    let r = report(&image);
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("/var/lib/rpm/Packages: ")),
        "{:?}",
        r.notes
    );
    assert!(rows(&r).is_empty());
}

crate::tests![
    sqlite_database_gives_rpm_ql_sizes_layers_and_closure,
    berkeley_db_packages_reads_the_same_as_rpm_bdb_ro,
    ndb_packages_db_reads_the_same,
    a_damaged_database_is_a_note_naming_it,
];
