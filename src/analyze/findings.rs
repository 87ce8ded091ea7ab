//! Suggestions: what to change in which RUN/COPY step, and what it saves.
//!
//! A fix is an edit of the scans ([`super::projection`]): the file entries it drops
//! from the layers, with the re-added copies that no longer happen once they are gone.
//! Every rule names those entries as [`Atom`]s (a visible file's content, or one
//! hidden copy), so its projection is their bytes exactly and a rebuild with the fix
//! shows it (docs/accuracy.md measures it). Rules are documented in docs/rules.md.
//!
//! `bytes` is what a fix alone saves; `incremental_bytes` what it saves once the
//! findings listed before it are applied. Fixes overlap (apt lists that a later layer
//! deletes are both an `apt-lists` and a `deleted-later` finding; a `.dockerignore`
//! that drops `.git` also empties the `chmod -R` layer's copy of it), so each finding
//! claims its edit's atoms and an atom already claimed counts once: the incremental
//! figures add up to the projected saving. A multi-stage build is one more edit: the
//! image becomes its runtime stage. Your layers' findings come first (you fix them by
//! editing your Dockerfile); the base image's follow and are summed apart.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use super::base::Base;
use super::categories::{Atoms, Category};
use super::layers::LayerRow;
use super::packages::Owners;
use super::projection::{self, Scans};
use crate::model::tree::WasteCause;
use crate::model::{FsTree, HistoryStep, ReAdd};

/// A rule's stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A package manager's cache left in the layer (the category names which).
    Cache(Category),
    /// VCS folders and host bytecode copied in by COPY/ADD.
    Dockerignore,
    /// Files created in a layer and deleted by a later one.
    DeletedLater,
    /// Files re-added unchanged but for mode or owner (`RUN chmod -R`).
    ChmodDuplicate,
    /// Build-only packages, what only they pulled in, and the build layers' caches and
    /// hidden bytes.
    MultiStage,
    /// Docs, man pages and locales dpkg installed in your layers.
    DocsLocales,
    /// Test suites inside installed packages.
    PackageTests,
    /// Python bytecode pip compiled at install time.
    Bytecode,
    /// A base image with compilers and development files (base scope).
    FullBase,
}

/// Who can apply a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Your Dockerfile's RUN/COPY lines.
    Yours,
    /// Only a different base image (or a multi-stage build off it).
    Base,
}

impl Scope {
    pub fn code(self) -> &'static str {
        match self {
            Scope::Yours => "yours",
            Scope::Base => "base",
        }
    }
}

impl Rule {
    /// Every rule id, for docs and schema checks.
    pub fn all() -> Vec<Rule> {
        let mut out: Vec<Rule> = Category::ALL
            .iter()
            .filter(|c| c.is_cache())
            .map(|&c| Rule::Cache(c))
            .collect();
        out.extend([
            Rule::Dockerignore,
            Rule::DeletedLater,
            Rule::ChmodDuplicate,
            Rule::MultiStage,
            Rule::DocsLocales,
            Rule::PackageTests,
            Rule::Bytecode,
            Rule::FullBase,
        ]);
        out
    }

    pub fn code(self) -> &'static str {
        match self {
            Rule::Cache(c) => c.code(),
            Rule::Dockerignore => "dockerignore",
            Rule::DeletedLater => "deleted-later",
            Rule::ChmodDuplicate => "chmod-duplicate",
            Rule::MultiStage => "multi-stage",
            Rule::DocsLocales => "docs-locales",
            Rule::PackageTests => "package-tests",
            Rule::Bytecode => "bytecode",
            Rule::FullBase => "full-base",
        }
    }

    fn title(self, scope: Scope) -> &'static str {
        match (self, scope) {
            (Rule::Cache(_), Scope::Base) => "the base image ships a package-manager cache",
            (Rule::Cache(Category::PipCache), _) => "pip cache left in the layer",
            (Rule::Cache(Category::AptLists), _) => "apt package lists left in the layer",
            (Rule::Cache(Category::AptArchives), _) => {
                "apt's downloaded packages and caches left in the layer"
            }
            (Rule::Cache(Category::ApkCache), _) => "apk cache left in the layer",
            (Rule::Cache(_), _) => "package-manager cache left in the layer",
            (Rule::Dockerignore, _) => "version-control folders and host bytecode copied in",
            (Rule::DeletedLater, _) => "files deleted by a later layer still ship in this one",
            (Rule::ChmodDuplicate, _) => "files re-added unchanged but for mode or owner",
            (Rule::MultiStage, _) => "the build toolchain ships in the final image",
            (Rule::DocsLocales, _) => "docs, man pages and locales installed by apt",
            (Rule::PackageTests, _) => "test suites inside installed packages",
            (Rule::Bytecode, _) => "Python bytecode pip compiled at install time",
            (Rule::FullBase, _) => "a full base image with compilers and development files",
        }
    }

    fn confidence(self, scope: Scope) -> &'static str {
        match (self, scope) {
            (Rule::Cache(_), Scope::Base) => "medium",
            (Rule::Cache(_) | Rule::Dockerignore | Rule::DeletedLater, _) => "high",
            (Rule::ChmodDuplicate, _) => "high",
            (Rule::MultiStage | Rule::DocsLocales | Rule::PackageTests, _) => "medium",
            (Rule::Bytecode | Rule::FullBase, _) => "low",
        }
    }

    fn cache_fix(category: Category) -> &'static str {
        match category {
            Category::PipCache => {
                "set `ENV PIP_NO_CACHE_DIR=1` before this RUN, or end it with `&& rm -rf /root/.cache/pip` (`pip install --no-cache-dir` does not reach build-isolation installs)"
            }
            Category::AptLists => "end this RUN with `&& rm -rf /var/lib/apt/lists/*`",
            Category::AptArchives => "end this RUN with `&& apt-get clean`",
            Category::ApkCache => "use `apk add --no-cache` in this RUN",
            Category::NpmCache => "end this RUN with `&& npm cache clean --force`",
            Category::YarnCache => "end this RUN with `&& yarn cache clean`",
            Category::PnpmStore => {
                "end this RUN with `&& pnpm store prune`, or keep the store in a cache mount"
            }
            Category::ComposerCache => "use `composer install --no-cache` in this RUN",
            Category::GemCache => {
                "remove the gem cache in this RUN (`gem install --no-document`, `rm -rf` the cache folder)"
            }
            _ => {
                "build in a separate stage and copy only the artifacts, or keep the cache in `RUN --mount=type=cache`"
            }
        }
    }
}

/// The dpkg filter the `docs-locales` fix installs, and what it keeps.
pub const DPKG_EXCLUDES: &str = "path-exclude=/usr/share/doc/*\\npath-include=/usr/share/doc/*/copyright\\npath-exclude=/usr/share/man/*\\npath-exclude=/usr/share/info/*\\npath-exclude=/usr/share/locale/*\\npath-include=/usr/share/locale/locale.alias\\n";

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub scope: Scope,
    pub title: &'static str,
    /// The layer to change (for `multi-stage` and `full-base`, the one with most of
    /// the bytes).
    pub layer: usize,
    /// That layer's instruction, in Dockerfile form.
    pub instruction: Option<String>,
    /// The biggest directories (at depth 3) it covers, with their bytes.
    pub paths: Vec<(String, u64)>,
    /// How many such directories there are in all.
    pub path_count: usize,
    /// Stored bytes this fix alone removes.
    pub bytes: u64,
    /// Stored bytes it removes once the findings before it are applied.
    pub incremental_bytes: u64,
    /// Estimated compressed (pull) saving: each layer's own compression ratio, 1:1 for
    /// files that are compressed already (`.deb`, `.whl`, `.gz`, ...).
    pub compressed_bytes: u64,
    pub confidence: &'static str,
    pub fix: String,
}

/// A projected size: what the image would store once a change is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Projection {
    /// `stored_bytes` after the change.
    pub stored_bytes: u64,
    /// What the change removes.
    pub saved_bytes: u64,
}

/// The best structural change: a multi-stage build (yours) or the base's slim variant
/// (base), whichever leads; one of them at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structural {
    pub rule: Rule,
    pub projection: Projection,
    /// The runtime stage starts from the base's slim variant (the build-only closure,
    /// dev files, caches and hidden bytes of the base left out), not the base itself.
    pub slim_base: bool,
    /// The slim variant by name, when the base's name or history tells it
    /// (`python:3.12-slim` for `python:3.12`).
    pub runtime_base: Option<String>,
}

/// All findings, in the order their incremental savings are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub rows: Vec<Finding>,
    /// Σ incremental_bytes of your findings: what applying them removes.
    pub saved_bytes: u64,
    /// `stored_bytes` once every fix to your layers is applied.
    pub stored_after: u64,
    /// Σ incremental_bytes of the base-scope findings, on top of yours.
    pub base_saved_bytes: u64,
    /// Every edit of your RUN/COPY lines together (no structural change).
    pub fixes: Projection,
    /// The multi-stage build or slim base, alone.
    pub structural: Option<Structural>,
}

/// What the rules read besides the atoms.
pub struct Inputs<'a> {
    pub tree: &'a FsTree,
    pub atoms: &'a Atoms<'a>,
    pub layers: &'a [LayerRow],
    pub base: &'a Base,
    pub owners: &'a Owners,
    pub readds: &'a [ReAdd],
    /// The image's history, where the base's name may show (`ENV PYTHON_VERSION=…`).
    pub history: &'a [HistoryStep],
    pub stored: u64,
}

type Key = (Rule, Scope, usize);

/// Candidate edits: each key with the atoms it drops.
type Edits = Vec<(Key, Vec<u32>)>;

/// The atoms each (rule, scope, layer) would remove.
#[derive(Default)]
struct Candidates(BTreeMap<Key, Vec<u32>>);

impl Candidates {
    fn add(&mut self, key: Key, atom: u32) {
        self.0.entry(key).or_default().push(atom);
    }
}

/// Directories at depth 3 whose files the `docs-locales` filter excludes.
const EXCLUDED_DIRS: [&[u8]; 4] = [
    b"usr/share/doc",
    b"usr/share/man",
    b"usr/share/info",
    b"usr/share/locale",
];

/// Whether dpkg's filter of the `docs-locales` fix drops the file at `node`.
fn excluded(tree: &FsTree, node: u32, memo: &mut HashMap<u32, bool>) -> bool {
    let top = tree.ancestor_at(node, 3);
    let hit = *memo
        .entry(top)
        .or_insert_with(|| EXCLUDED_DIRS.contains(&tree.path_bytes(top).as_slice()));
    if !hit {
        return false;
    }
    let name = tree.name(node);
    let parent = tree.parent(node).unwrap_or(top);
    let kept = (name == b"copyright" && tree.parent(parent) == Some(top))
        || (name == b"locale.alias" && parent == top);
    !kept
}

/// Whether a file is inside what pip installed: a `site-packages` folder, or Debian's
/// `/usr/local/lib/python3*/dist-packages` (Debian's own packages live in
/// `/usr/lib/python3/dist-packages` and are compiled by their postinst scripts, which
/// no pip flag reaches).
fn pip_installed(tree: &FsTree, node: u32, memo: &mut HashMap<u32, bool>) -> bool {
    folder_is(tree, node, memo, |path| {
        let mut parts = path.split(|&b| b == b'/');
        let local_dist = parts.next() == Some(b"usr")
            && parts.next() == Some(b"local")
            && parts.next() == Some(b"lib")
            && parts.next().is_some_and(|p| p.starts_with(b"python3"))
            && parts.next() == Some(b"dist-packages");
        local_dist || path.split(|&b| b == b'/').any(|c| c == b"site-packages")
    })
}

/// Whether the folder holding the file at `node` passes `test` (given its path),
/// asked once per folder: the per-atom loops run for every file of the image.
fn folder_is(
    tree: &FsTree,
    node: u32,
    memo: &mut HashMap<u32, bool>,
    test: impl Fn(&[u8]) -> bool,
) -> bool {
    let Some(dir) = tree.parent(node) else {
        return false;
    };
    *memo
        .entry(dir)
        .or_insert_with(|| test(&tree.path_bytes(dir)))
}

/// Facts of each layer the per-atom loops ask, computed once.
struct LayerFacts {
    /// Yours (not the base's) and read without error.
    yours: Vec<bool>,
    /// A COPY/ADD of yours.
    app: Vec<bool>,
}

impl LayerFacts {
    fn new(inp: &Inputs<'_>) -> Self {
        let n = inp.layers.len();
        LayerFacts {
            yours: (0..n)
                .map(|l| !inp.base.holds(l) && inp.layers[l].error.is_none())
                .collect(),
            app: inp.layers.iter().map(LayerRow::is_app).collect(),
        }
    }

    fn yours(&self, l: usize) -> bool {
        self.yours.get(l) == Some(&true)
    }

    fn app(&self, l: usize) -> bool {
        self.app.get(l) == Some(&true)
    }
}

/// Whether the path where an atom's content ends (its last re-added copy) was
/// deleted by a layer above the one that shipped it: a whiteout or an opaque
/// directory, not a rewrite.
fn deleted_later(inp: &Inputs<'_>, scans: &Scans, i: u32, layer: u16) -> bool {
    let last = inp.atoms.get(scans.last_copy(i));
    matches!(last.hidden, Some((removed, cause)) if cause != WasteCause::Overwritten && removed > layer)
}

/// Gather every edit rule's atoms in one pass: the entries each fix drops, before the
/// re-adds they take along.
fn candidates(inp: &Inputs<'_>, facts: &LayerFacts, scans: &Scans) -> Candidates {
    let mut out = Candidates::default();
    let base_has_build = inp.owners.build_layers.iter().any(|&l| inp.base.holds(l));
    let any_dpkg = inp.owners.dpkg.contains(&true);
    let any_build = inp.owners.build.contains(&true);
    let mut memo = HashMap::new();
    let mut installed_memo = HashMap::new();
    for (i, a) in inp.atoms.iter().enumerate() {
        let (i, l) = (i as u32, a.layer as usize);
        let (yours, app) = (facts.yours(l), facts.app(l));
        let owned = |any: bool, o: &[bool]| any && a.inode != u32::MAX && o[a.inode as usize];
        if a.category.is_cache() {
            let scope = if yours { Scope::Yours } else { Scope::Base };
            out.add((Rule::Cache(a.category), scope, l), i);
        }
        if !yours {
            if base_has_build
                && a.hidden.is_none()
                && (owned(any_build, &inp.owners.build)
                    || matches!(a.category, Category::DevFiles | Category::Toolchain))
            {
                out.add((Rule::FullBase, Scope::Base, 0), i);
            }
            continue;
        }
        if a.hidden.is_some() && deleted_later(inp, scans, i, a.layer) {
            out.add((Rule::DeletedLater, Scope::Yours, l), i)
        }
        match a.category {
            Category::Vcs | Category::Bytecode if app => {
                out.add((Rule::Dockerignore, Scope::Yours, l), i)
            }
            Category::Tests if !app => out.add((Rule::PackageTests, Scope::Yours, l), i),
            Category::Bytecode if pip_installed(inp.tree, a.node, &mut installed_memo) => {
                out.add((Rule::Bytecode, Scope::Yours, l), i)
            }
            _ => {}
        }
        if owned(any_dpkg, &inp.owners.dpkg) && excluded(inp.tree, a.node, &mut memo) {
            out.add((Rule::DocsLocales, Scope::Yours, l), i);
        }
    }
    add_readds(inp, facts, &mut out);
    out
}

/// A re-add's lower copy and upper copy, as atoms.
fn readd_atoms(inp: &Inputs<'_>, r: &ReAdd) -> Option<(u32, u32)> {
    projection::readd_atoms(inp.tree, inp.atoms, r)
}

/// A layer whose step re-adds files by design: a `chmod`/`chown` RUN, or a COPY/ADD
/// (a package manager that rewrites a file unchanged is not something to fix).
fn readds_on_purpose(row: Option<&LayerRow>) -> bool {
    row.is_some_and(|r| {
        r.is_app()
            || r.instruction
                .as_deref()
                .is_some_and(|i| i.contains("chmod") || i.contains("chown"))
    })
}

/// `chmod-duplicate` drops the upper copies, visible or hidden later: setting mode
/// and owner where the files are added writes each file once.
fn add_readds(inp: &Inputs<'_>, facts: &LayerFacts, out: &mut Candidates) {
    for r in inp.readds {
        let Some((_, upper)) = readd_atoms(inp, r) else {
            continue;
        };
        let l = inp.atoms.get(upper).layer as usize;
        if facts.yours(l) && readds_on_purpose(inp.layers.get(l)) {
            out.add((Rule::ChmodDuplicate, Scope::Yours, l), upper);
        }
    }
}

/// Whether a file is inside what a language package manager installed
/// (`site-packages`, `dist-packages`, `node_modules`): a runtime stage copies those
/// folders whole.
fn in_package_dir(tree: &FsTree, node: u32, memo: &mut HashMap<u32, bool>) -> bool {
    folder_is(tree, node, memo, |path| {
        path.split(|&b| b == b'/')
            .any(|c| c == b"site-packages" || c == b"dist-packages" || c == b"node_modules")
    })
}

/// The multi-stage edit: what a runtime stage would not carry, and whether it starts
/// from the base's slim variant. `None` when no build toolchain is in the image, or it
/// came with the base and none of your steps runs anything.
///
/// The runtime stage starts from the base when the toolchain came in your layers, and
/// from the base's slim variant when it came with the base (its build-only closure,
/// headers, static libraries, compilers, caches and hidden bytes left out); of your
/// layers it keeps only the visible files a runtime needs: not caches, VCS folders,
/// host bytecode a COPY/ADD brought, logs and temporary files, the files of packages
/// only the build needs (the build-only closure, its installs' recommends too: a
/// runtime stage installs with `--no-install-recommends`), compilers, headers outside
/// installed packages, npm's devDependencies, nor any hidden copy.
fn runtime_stage(inp: &Inputs<'_>, facts: &LayerFacts) -> Option<(Vec<u32>, bool)> {
    let in_yours = inp.owners.build_layers.iter().any(|&l| facts.yours(l));
    let in_base = inp.owners.build_layers.iter().any(|&l| inp.base.holds(l));
    let you_run = (0..inp.layers.len()).any(|l| {
        facts.yours(l)
            && inp.layers[l]
                .instruction
                .as_deref()
                .is_some_and(|i| i.starts_with("RUN "))
    });
    if !(in_yours || (in_base && you_run)) {
        return None;
    }
    let slim = in_base;
    let owned = |o: &[bool], ino: u32| ino != u32::MAX && o.get(ino as usize) == Some(&true);
    let mut memo = HashMap::new();
    let mut drops = Vec::new();
    for (i, a) in inp.atoms.iter().enumerate() {
        let l = a.layer as usize;
        let base = inp.base.holds(l);
        if (base && !slim) || (!base && !facts.yours(l)) {
            continue;
        }
        let c = a.category;
        let build = owned(&inp.owners.unneeded, a.inode)
            || c == Category::Toolchain
            || (c == Category::DevFiles && !in_package_dir(inp.tree, a.node, &mut memo));
        let junk = !base
            && (matches!(c, Category::Vcs | Category::LogsTemp)
                || (facts.app(l) && c == Category::Bytecode)
                || owned(&inp.owners.dev, a.inode));
        if a.hidden.is_some() || c.is_cache() || build || junk {
            drops.push(i as u32);
        }
    }
    Some((drops, slim))
}

/// The slim variant of the base, when its name or history tells it.
fn slim_name(inp: &Inputs<'_>) -> Option<String> {
    super::base::slim_variant(inp.base, inp.history)
}

/// The layer's compressed / uncompressed ratio.
fn ratio(row: &LayerRow) -> f64 {
    if row.uncompressed_bytes == 0 {
        1.0
    } else {
        (row.compressed_bytes as f64 / row.uncompressed_bytes as f64).min(1.0)
    }
}

/// Files whose content is compressed already: they compress ~1:1.
fn precompressed(name: &[u8]) -> bool {
    const ENDINGS: [&[u8]; 14] = [
        b".deb", b".whl", b".gz", b".tgz", b".zip", b".jar", b".xz", b".zst", b".bz2", b".png",
        b".jpg", b".jpeg", b".woff2", b".7z",
    ];
    ENDINGS.iter().any(|e| name.ends_with(e))
}

/// Where the runtime stage of the multi-stage edit starts.
struct Stage {
    /// From the base's slim variant, not the base.
    slim: bool,
    /// That variant's name, when known.
    name: Option<String>,
}

/// The multi-stage fix in words.
fn multi_stage_fix(inp: &Inputs<'_>, stage: Option<&Stage>) -> String {
    let names: Vec<&str> = inp
        .owners
        .build_only
        .iter()
        .take(4)
        .map(|(n, _)| n.as_str())
        .collect();
    match stage {
        Some(Stage { slim: true, name }) => {
            let runtime = match name {
                Some(n) => format!("`{n}`"),
                None => "the base's slim variant (no compilers, `-dev` packages or caches)".into(),
            };
            format!(
                "the base image brings the build tools ({}): keep it as a build stage (`FROM <this base> AS build`, your RUN lines as they are) and start the runtime stage from {runtime}, with `COPY --from=build` of what runs (the installed packages, the app); the toolchain, caches, `.git` and hidden copies stay behind",
                names.join(", ")
            )
        }
        _ => format!(
            "build in a separate stage (`FROM … AS build`) that installs the build tools ({}), and `COPY --from=build` only what runs (the built artifacts, the installed packages, the app) into a runtime stage that never installs them; caches, `.git` and hidden copies stay behind",
            names.join(", ")
        ),
    }
}

/// The fix, worded for the finding's layers (`atoms` sorted).
fn fix(key: Key, inp: &Inputs<'_>, atoms: &[u32], stage: Option<&Stage>) -> String {
    let (rule, scope, layer) = key;
    let instr = inp
        .layers
        .get(layer)
        .and_then(|r| r.instruction.as_deref())
        .unwrap_or("");
    match (rule, scope) {
        (Rule::Cache(_), Scope::Base) => "the base image's layers ship this cache: deleting it in your RUN ships the same bytes; a base image that cleans up, or a multi-stage build whose runtime stage starts from one, removes it".into(),
        (Rule::Cache(c), _) => Rule::cache_fix(c).into(),
        (Rule::Dockerignore, _) => "add `.git` (and `.hg`, `.svn`, `__pycache__`, `*.pyc`) to `.dockerignore`".into(),
        (Rule::DeletedLater, _) if inp.layers.get(layer).is_some_and(LayerRow::is_app) => "leave these files out of the build context (`.dockerignore`) or copy only what the image needs; deleting them in a later layer ships them anyway".into(),
        (Rule::DeletedLater, _) => "delete these files in the RUN that creates them; deleting them in a later layer ships them anyway".into(),
        (Rule::ChmodDuplicate, _) => {
            let mut from: BTreeMap<usize, u64> = BTreeMap::new();
            for r in inp.readds {
                if let Some((lower, upper)) = readd_atoms(inp, r)
                    && atoms.binary_search(&upper).is_ok()
                {
                    let a = inp.atoms.get(lower);
                    *from.entry(a.layer as usize).or_default() += a.bytes;
                }
            }
            let lower = from.iter().max_by_key(|(l, b)| (**b, Reverse(**l))).map_or(0, |(l, _)| *l);
            let at = format!("in the step of layer {lower} that adds them (`COPY --chmod=… --chown=…`, or `chmod`/`chown` in that same RUN)");
            if instr.contains("chmod") || instr.contains("chown") {
                format!("drop the `chmod`/`chown` from this RUN and set mode and owner {at}")
            } else {
                format!("this layer re-adds files of layer {lower} with the same content: set their mode and owner {at} instead")
            }
        }
        (Rule::MultiStage, _) => multi_stage_fix(inp, stage),
        (Rule::DocsLocales, _) => format!("before `apt-get install` in this RUN, add `printf '{DPKG_EXCLUDES}' > /etc/dpkg/dpkg.cfg.d/01-nodoc` (or in an earlier RUN)"),
        (Rule::PackageTests, _) => "delete the packages' test suites in this RUN (e.g. `find / -xdev -depth -type d -path '*-packages/*/tests' -exec rm -rf {} +`), or install in a build stage and copy without them".into(),
        (Rule::Bytecode, _) => "`pip install --no-compile` in this RUN; Python compiles on first import instead, which costs start-up time (and writes nothing when the folder is read-only)".into(),
        (Rule::FullBase, _) => {
            let names: Vec<&str> = inp.owners.build_only.iter().take(4).map(|(n, _)| n.as_str()).collect();
            format!("the base image ships compilers and development files ({}): use its slim variant (e.g. `python:3.12-slim` for `python:3.12`), or a multi-stage build whose runtime stage starts from the slim one", names.join(", "))
        }
    }
}

/// One finding from its key and atoms.
fn finding(
    key: Key,
    atoms: &[u32],
    incremental: u64,
    inp: &Inputs<'_>,
    stage: Option<&Stage>,
) -> Finding {
    let (rule, scope, mut layer) = key;
    let mut dirs: BTreeMap<u32, u64> = BTreeMap::new();
    let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
    let mut compressed = 0.0;
    for &i in atoms {
        let a = inp.atoms.get(i);
        *dirs.entry(inp.tree.ancestor_at(a.node, 3)).or_default() += a.bytes;
        *per_layer.entry(a.layer as usize).or_default() += a.bytes;
        let r = if precompressed(inp.tree.name(a.node)) {
            1.0
        } else {
            inp.layers.get(a.layer as usize).map_or(1.0, ratio)
        };
        compressed += a.bytes as f64 * r;
    }
    if matches!(rule, Rule::MultiStage | Rule::FullBase) {
        // The layer to change: for multi-stage one of yours, though the base's may
        // weigh more when the runtime stage starts from its slim variant.
        layer = per_layer
            .iter()
            .filter(|(l, _)| rule == Rule::FullBase || !inp.base.holds(**l))
            .max_by_key(|(l, b)| (**b, Reverse(**l)))
            .map_or(inp.base.layers, |(l, _)| *l);
    }
    let mut paths: Vec<(String, u64)> = dirs
        .into_iter()
        .map(|(n, b)| (inp.tree.path(n), b))
        .collect();
    paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let path_count = paths.len();
    paths.truncate(3);
    Finding {
        rule,
        scope,
        title: rule.title(scope),
        layer,
        instruction: inp.layers.get(layer).and_then(|r| r.instruction.clone()),
        paths,
        path_count,
        bytes: atoms.iter().map(|&i| inp.atoms.get(i).bytes).sum(),
        incremental_bytes: incremental,
        compressed_bytes: compressed.round() as u64,
        // A stream cannot be read twice to hash both copies: path and size only.
        confidence: if rule == Rule::ChmodDuplicate && inp.readds.iter().any(|r| !r.confirmed) {
            "medium"
        } else {
            rule.confidence(scope)
        },
        fix: fix((rule, scope, layer), inp, atoms, stage),
    }
}

/// Order candidates greedily, each next the one that saves most on top of those
/// before: lazily, since a candidate's gain only shrinks as others claim atoms.
fn greedy(
    mut cands: Edits,
    claimed: &mut [bool],
    inp: &Inputs<'_>,
    stage: Option<&Stage>,
) -> Vec<Finding> {
    let bytes = |i: &u32| inp.atoms.get(*i).bytes;
    let gain = |atoms: &[u32], claimed: &[bool]| {
        atoms
            .iter()
            .filter(|&&i| !claimed[i as usize])
            .map(bytes)
            .sum::<u64>()
    };
    let alone: Vec<u64> = cands
        .iter()
        .map(|(_, a)| a.iter().map(bytes).sum())
        .collect();
    // (gain, alone, earlier layer first, rule order, index)
    let entry = |c: usize, g: u64, cands: &[(Key, Vec<u32>)]| {
        let (rule, _, layer) = cands[c].0;
        (g, alone[c], Reverse(layer), Reverse(rule), c)
    };
    let mut heap: BinaryHeap<_> = (0..cands.len())
        .map(|c| entry(c, alone[c], &cands))
        .collect();
    let mut rows = Vec::new();
    while let Some(top) = heap.pop() {
        let c = top.4;
        let g = gain(&cands[c].1, claimed);
        let fresh = entry(c, g, &cands);
        if heap.peek().is_some_and(|next| *next > fresh) {
            heap.push(fresh);
            continue;
        }
        if alone[c] == 0 {
            continue;
        }
        let atoms = std::mem::take(&mut cands[c].1);
        for &i in &atoms {
            claimed[i as usize] = true;
        }
        rows.push(finding(cands[c].0, &atoms, g, inp, stage));
    }
    rows
}

/// Every candidate edit, closed over the re-adds it takes along, split by scope; the
/// multi-stage edit among yours when it applies (and then no `full-base`).
fn edits(inp: &Inputs<'_>) -> (Edits, Edits, Option<Stage>) {
    let facts = LayerFacts::new(inp);
    let scans = Scans::new(inp.tree, inp.atoms, inp.readds);
    let runtime = runtime_stage(inp, &facts);
    let (mut yours, mut base) = (Vec::new(), Vec::new());
    for (key, seeds) in candidates(inp, &facts, &scans).0 {
        let atoms = match key.0 {
            // The files still exist: only the re-added copies go.
            Rule::ChmodDuplicate => seeds,
            Rule::FullBase if runtime.is_some() => continue,
            _ => scans.closure(seeds),
        };
        match key.1 {
            Scope::Yours => yours.push((key, atoms)),
            Scope::Base => base.push((key, atoms)),
        }
    }
    let stage = runtime.map(|(drops, slim)| {
        yours.push(((Rule::MultiStage, Scope::Yours, 0), drops));
        Stage {
            slim,
            name: slim.then(|| slim_name(inp)).flatten(),
        }
    });
    for (_, atoms) in yours.iter_mut().chain(base.iter_mut()) {
        atoms.sort_unstable();
        atoms.dedup();
    }
    (yours, base, stage)
}

/// The two headline projections: every edit of your RUN/COPY lines together, and the
/// structural change (multi-stage, or the base's slim variant) alone.
fn headlines(
    inp: &Inputs<'_>,
    yours: &Edits,
    base: &Edits,
    stage: Option<&Stage>,
) -> (Projection, Option<Structural>) {
    let mut claimed = vec![false; inp.atoms.len()];
    let mut saved = 0;
    for (key, atoms) in yours {
        if key.0 == Rule::MultiStage {
            continue;
        }
        for &i in atoms {
            if !std::mem::replace(&mut claimed[i as usize], true) {
                saved += inp.atoms.get(i).bytes;
            }
        }
    }
    let fixes = Projection {
        stored_bytes: inp.stored - saved,
        saved_bytes: saved,
    };
    let structural = yours
        .iter()
        .chain(base)
        .find(|(key, _)| matches!(key.0, Rule::MultiStage | Rule::FullBase))
        .map(|(key, atoms)| {
            let saved: u64 = atoms.iter().map(|&i| inp.atoms.get(i).bytes).sum();
            Structural {
                rule: key.0,
                projection: Projection {
                    stored_bytes: inp.stored - saved,
                    saved_bytes: saved,
                },
                slim_base: key.0 == Rule::FullBase || stage.is_some_and(|s| s.slim),
                runtime_base: stage.and_then(|s| s.name.clone()),
            }
        })
        .filter(|s| s.projection.saved_bytes > 0);
    (fixes, structural)
}

/// Find the suggestions: your layers' first, then the base image's.
pub fn find(inp: &Inputs<'_>) -> Findings {
    let (yours, base, stage) = edits(inp);
    let (fixes, structural) = headlines(inp, &yours, &base, stage.as_ref());
    let mut claimed = vec![false; inp.atoms.len()];
    let mut rows = greedy(yours, &mut claimed, inp, stage.as_ref());
    let saved_bytes = rows.iter().map(|f| f.incremental_bytes).sum();
    let base_rows = greedy(base, &mut claimed, inp, stage.as_ref());
    let base_saved_bytes = base_rows.iter().map(|f| f.incremental_bytes).sum();
    rows.extend(base_rows);
    Findings {
        rows,
        saved_bytes,
        stored_after: inp.stored - saved_bytes,
        base_saved_bytes,
        fixes,
        structural,
    }
}
