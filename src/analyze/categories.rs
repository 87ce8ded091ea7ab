//! What kind of bytes an image ships: every visible and every wasted byte falls in
//! exactly one category (package-manager caches, docs, tests, bytecode, toolchains, the
//! application, ...), per layer and in total, base and yours apart.
//!
//! The classifier is data: [`RULES`], path globs in priority order, documented in
//! docs/categories.md. A glob is `/`-separated and relative to the root; `*` matches
//! within one component, `**` any number of components, and `~/` stands for `root/`
//! and `home/*/`. A glob ending in `/**` claims a directory's whole subtree; any other
//! names files. Files no rule claims are the application when your layer that added
//! them is a `COPY`/`ADD`, and `other` otherwise.
//!
//! Rules are evaluated once per directory, not per file, so classifying costs a few
//! comparisons per file.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::base::Base;
use super::top::TopN;
use crate::model::FsTree;
use crate::model::tree::{ROOT, WasteCause};

/// A category of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    PipCache,
    AptLists,
    AptArchives,
    ApkCache,
    DnfCache,
    YumCache,
    ZyppCache,
    MicrodnfCache,
    NpmCache,
    YarnCache,
    PnpmStore,
    GoCache,
    CargoCache,
    MavenCache,
    GradleCache,
    ComposerCache,
    GemCache,
    Docs,
    Locales,
    Tests,
    Bytecode,
    DevFiles,
    Toolchain,
    Vcs,
    LogsTemp,
    App,
    Other,
}

impl Category {
    /// Every category, in table order.
    pub const ALL: [Category; 27] = [
        Category::PipCache,
        Category::AptLists,
        Category::AptArchives,
        Category::ApkCache,
        Category::DnfCache,
        Category::YumCache,
        Category::ZyppCache,
        Category::MicrodnfCache,
        Category::NpmCache,
        Category::YarnCache,
        Category::PnpmStore,
        Category::GoCache,
        Category::CargoCache,
        Category::MavenCache,
        Category::GradleCache,
        Category::ComposerCache,
        Category::GemCache,
        Category::Docs,
        Category::Locales,
        Category::Tests,
        Category::Bytecode,
        Category::DevFiles,
        Category::Toolchain,
        Category::Vcs,
        Category::LogsTemp,
        Category::App,
        Category::Other,
    ];

    /// Stable machine name (JSON, budgets).
    pub fn code(self) -> &'static str {
        match self {
            Category::PipCache => "pip-cache",
            Category::AptLists => "apt-lists",
            Category::AptArchives => "apt-archives",
            Category::ApkCache => "apk-cache",
            Category::DnfCache => "dnf-cache",
            Category::YumCache => "yum-cache",
            Category::ZyppCache => "zypp-cache",
            Category::MicrodnfCache => "microdnf-cache",
            Category::NpmCache => "npm-cache",
            Category::YarnCache => "yarn-cache",
            Category::PnpmStore => "pnpm-store",
            Category::GoCache => "go-cache",
            Category::CargoCache => "cargo-cache",
            Category::MavenCache => "maven-cache",
            Category::GradleCache => "gradle-cache",
            Category::ComposerCache => "composer-cache",
            Category::GemCache => "gem-cache",
            Category::Docs => "docs",
            Category::Locales => "locales",
            Category::Tests => "tests",
            Category::Bytecode => "bytecode",
            Category::DevFiles => "dev-files",
            Category::Toolchain => "toolchain",
            Category::Vcs => "vcs",
            Category::LogsTemp => "logs-temp",
            Category::App => "app",
            Category::Other => "other",
        }
    }

    /// Whether it is a package manager's cache (removable without changing what runs).
    pub fn is_cache(self) -> bool {
        self <= Category::GemCache
    }
}

use Category as C;

/// The classifier: (glob, category), first match wins.
pub const RULES: &[(&str, Category)] = &[
    // Package-manager caches.
    ("~/.cache/pip/**", C::PipCache),
    ("var/lib/apt/lists/**", C::AptLists),
    ("var/cache/apt/**", C::AptArchives),
    ("var/cache/apk/**", C::ApkCache),
    ("etc/apk/cache/**", C::ApkCache),
    ("var/cache/dnf/**", C::DnfCache),
    ("var/cache/yum/**", C::YumCache),
    ("var/cache/zypp/**", C::ZyppCache),
    ("var/cache/microdnf/**", C::MicrodnfCache),
    // `npm cache clean --force` empties the cache but keeps npm's logs.
    ("~/.npm/_logs/**", C::LogsTemp),
    ("~/.npm/**", C::NpmCache),
    ("usr/local/share/.cache/yarn/**", C::YarnCache),
    ("~/.cache/yarn/**", C::YarnCache),
    ("~/.yarn/cache/**", C::YarnCache),
    ("~/.local/share/pnpm/store/**", C::PnpmStore),
    ("**/.pnpm-store/**", C::PnpmStore),
    ("~/.cache/go-build/**", C::GoCache),
    ("go/pkg/mod/**", C::GoCache),
    ("~/go/pkg/mod/**", C::GoCache),
    ("usr/local/cargo/registry/**", C::CargoCache),
    ("usr/local/cargo/git/**", C::CargoCache),
    ("~/.cargo/registry/**", C::CargoCache),
    ("~/.cargo/git/**", C::CargoCache),
    ("~/.m2/**", C::MavenCache),
    ("~/.gradle/**", C::GradleCache),
    ("~/.composer/cache/**", C::ComposerCache),
    ("~/.cache/composer/**", C::ComposerCache),
    ("~/.gem/**", C::GemCache),
    ("usr/local/bundle/cache/**", C::GemCache),
    ("var/lib/gems/*/cache/**", C::GemCache),
    ("usr/local/lib/ruby/gems/*/cache/**", C::GemCache),
    // Version control and build-context junk.
    ("**/.git/**", C::Vcs),
    ("**/.hg/**", C::Vcs),
    ("**/.svn/**", C::Vcs),
    // Documentation and locales.
    ("usr/share/doc/**", C::Docs),
    ("usr/share/man/**", C::Docs),
    ("usr/share/info/**", C::Docs),
    ("usr/share/gtk-doc/**", C::Docs),
    ("usr/local/share/doc/**", C::Docs),
    ("usr/local/share/man/**", C::Docs),
    ("usr/share/locale/**", C::Locales),
    ("usr/share/i18n/**", C::Locales),
    ("usr/lib/locale/**", C::Locales),
    // Tests shipped inside installed packages and the Python standard library.
    ("**/site-packages/**/tests/**", C::Tests),
    ("**/site-packages/**/test/**", C::Tests),
    ("**/dist-packages/**/tests/**", C::Tests),
    ("**/dist-packages/**/test/**", C::Tests),
    ("**/node_modules/*/test/**", C::Tests),
    ("**/node_modules/*/tests/**", C::Tests),
    ("**/node_modules/*/__tests__/**", C::Tests),
    ("usr/lib/python3*/test/**", C::Tests),
    ("usr/local/lib/python3*/test/**", C::Tests),
    // Bytecode.
    ("**/__pycache__/**", C::Bytecode),
    ("**/*.pyc", C::Bytecode),
    ("**/*.pyo", C::Bytecode),
    // Headers and static libraries.
    ("usr/include/**", C::DevFiles),
    ("usr/local/include/**", C::DevFiles),
    ("**/*.a", C::DevFiles),
    ("**/*.h", C::DevFiles),
    ("**/*.hpp", C::DevFiles),
    // Compilers and build tools.
    ("usr/lib/gcc/**", C::Toolchain),
    ("usr/libexec/gcc/**", C::Toolchain),
    ("usr/lib/gcc-cross/**", C::Toolchain),
    ("usr/lib/llvm-*/**", C::Toolchain),
    ("usr/bin/*-linux-gnu-*", C::Toolchain),
    ("usr/bin/gcc*", C::Toolchain),
    ("usr/bin/g++*", C::Toolchain),
    ("usr/bin/cpp*", C::Toolchain),
    ("usr/bin/clang*", C::Toolchain),
    ("usr/bin/ld*", C::Toolchain),
    ("usr/bin/as", C::Toolchain),
    ("usr/bin/make", C::Toolchain),
    ("usr/bin/cmake", C::Toolchain),
    ("usr/share/cmake*/**", C::Toolchain),
    // Logs and temporary files.
    ("var/log/**", C::LogsTemp),
    ("tmp/**", C::LogsTemp),
    ("var/tmp/**", C::LogsTemp),
    ("**/*.log", C::LogsTemp),
];

/// A one-component glob, compiled to the cheapest test that decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NameGlob {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    /// `*INNER*`.
    Contains(Vec<u8>),
    Other(Vec<u8>),
}

impl NameGlob {
    fn new(pat: &[u8]) -> Self {
        let stars = pat.iter().filter(|&&b| b == b'*').count();
        let inner = |p: &[u8]| p.to_vec();
        match (stars, pat.first(), pat.last()) {
            (0, _, _) => NameGlob::Exact(inner(pat)),
            (1, _, Some(b'*')) => NameGlob::Prefix(inner(&pat[..pat.len() - 1])),
            (1, Some(b'*'), _) => NameGlob::Suffix(inner(&pat[1..])),
            (2, Some(b'*'), Some(b'*')) if pat.len() > 2 => {
                NameGlob::Contains(inner(&pat[1..pat.len() - 1]))
            }
            _ => NameGlob::Other(inner(pat)),
        }
    }

    fn matches(&self, name: &[u8]) -> bool {
        match self {
            NameGlob::Exact(p) => name == p.as_slice(),
            NameGlob::Prefix(p) => name.starts_with(p),
            NameGlob::Suffix(p) => name.ends_with(p),
            NameGlob::Contains(p) => name.windows(p.len()).any(|w| w == p.as_slice()),
            NameGlob::Other(p) => component_matches(p, name),
        }
    }
}

/// One rule, compiled: the directory glob's components, and the file-name glob (none
/// for a subtree rule).
struct Rule {
    dir: Vec<Vec<u8>>,
    name: Option<NameGlob>,
    category: Category,
    /// Quick rejections: the directory's first and last components when the glob
    /// spells them out, and its depth when the glob has no `**`.
    first: Option<Vec<u8>>,
    last: Option<Vec<u8>>,
    depth: Option<usize>,
}

impl Rule {
    fn dir_matches(&self, path: &[&[u8]]) -> bool {
        if self.depth.is_some_and(|d| d != path.len())
            || self
                .first
                .as_ref()
                .is_some_and(|f| path.first() != Some(&f.as_slice()))
            || self
                .last
                .as_ref()
                .is_some_and(|l| path.last() != Some(&l.as_slice()))
        {
            return false;
        }
        path_matches(&self.dir, path)
    }
}

fn literal(component: Option<&Vec<u8>>) -> Option<Vec<u8>> {
    component.filter(|c| !c.contains(&b'*')).cloned()
}

fn compile() -> Vec<Rule> {
    let mut out = Vec::new();
    for &(glob, category) in RULES {
        let expanded: Vec<String> = match glob.strip_prefix("~/") {
            Some(rest) => vec![format!("root/{rest}"), format!("home/*/{rest}")],
            None => vec![glob.to_string()],
        };
        for g in expanded {
            let mut parts: Vec<Vec<u8>> = g.split('/').map(|p| p.as_bytes().to_vec()).collect();
            let name = if parts.last().is_some_and(|p| p == b"**") {
                parts.pop();
                None
            } else {
                parts.pop().map(|p| NameGlob::new(&p))
            };
            let depth = (!parts.iter().any(|p| p == b"**")).then_some(parts.len());
            out.push(Rule {
                first: literal(parts.first()),
                last: literal(parts.last()),
                depth,
                dir: parts,
                name,
                category,
            });
        }
    }
    out
}

/// For each subtree rule, whether an earlier subtree rule names a folder below its own
/// (its components, then more): first match wins, so that folder is the earlier rule's.
fn exceptions(rules: &[Rule]) -> Vec<bool> {
    (0..rules.len())
        .map(|k| {
            let r = &rules[k];
            r.name.is_none()
                && rules[..k].iter().any(|e| {
                    e.name.is_none() && e.dir.len() > r.dir.len() && e.dir.starts_with(&r.dir)
                })
        })
        .collect()
}

/// `*` within one component.
fn component_matches(pat: &[u8], s: &[u8]) -> bool {
    match pat.iter().position(|&b| b == b'*') {
        None => pat == s,
        Some(i) => {
            let (head, tail) = (&pat[..i], &pat[i + 1..]);
            if !s.starts_with(head) {
                return false;
            }
            let rest = &s[head.len()..];
            (0..=rest.len()).any(|k| component_matches(tail, &rest[k..]))
        }
    }
}

/// A glob of components (with `**`) against a path's components.
fn path_matches(pat: &[Vec<u8>], path: &[&[u8]]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == b"**" => (0..=path.len()).any(|k| path_matches(rest, &path[k..])),
        Some((p, rest)) => path
            .split_first()
            .is_some_and(|(c, more)| component_matches(p, c) && path_matches(rest, more)),
    }
}

/// What a directory passes to its files: a subtree category, or the name rules that
/// apply to its files.
#[derive(Clone, PartialEq, Eq, Hash)]
enum DirClass {
    /// A whole subtree, by the rule at this index.
    Subtree(Category, u16),
    /// Name rules by index, and when they are all suffixes or exact names, the set of
    /// last bytes a matching name can have (a 256-bit set): most names are rejected by
    /// one lookup.
    Names(Vec<u16>, Option<[u64; 4]>),
}

/// The last bytes that can end a name matched by these rules, if every rule fixes it.
fn last_bytes(rules: &[Rule], indexes: &[u16]) -> Option<[u64; 4]> {
    let mut set = [0u64; 4];
    for &i in indexes {
        let last = match &rules[i as usize].name {
            Some(NameGlob::Suffix(p) | NameGlob::Exact(p)) => *p.last()?,
            _ => return None,
        };
        set[usize::from(last >> 6)] |= 1 << (last & 63);
    }
    Some(set)
}

/// Classifies nodes of one tree, remembering each directory's class.
pub struct Classifier<'t> {
    tree: &'t FsTree,
    rules: Vec<Rule>,
    /// Per node: index into `classes` + 1 (0: not computed).
    memo: Vec<u32>,
    classes: Vec<DirClass>,
    interned: FxHashMap<DirClass, u32>,
    /// Per layer: yours and made by COPY/ADD.
    app_layers: Vec<bool>,
    /// Per subtree rule: an earlier rule names a folder inside its subtree
    /// (`~/.npm/_logs/**` before `~/.npm/**`), so its folders are not simply inherited.
    excepted: Vec<bool>,
}

impl<'t> Classifier<'t> {
    pub fn new(tree: &'t FsTree, app_layers: Vec<bool>) -> Self {
        let rules = compile();
        let excepted = exceptions(&rules);
        Classifier {
            tree,
            rules,
            excepted,
            memo: vec![0; tree.node_count()],
            classes: Vec::new(),
            interned: FxHashMap::default(),
            app_layers,
        }
    }

    fn intern(&mut self, class: DirClass) -> u32 {
        if let Some(&i) = self.interned.get(&class) {
            return i;
        }
        let i = self.classes.len() as u32;
        self.classes.push(class.clone());
        self.interned.insert(class, i);
        i
    }

    /// The class of directory `dir` from its path.
    fn evaluate(&mut self, dir: u32, parent: Option<u32>) -> u32 {
        let inherited = match parent.map(|p| &self.classes[p as usize]) {
            Some(&DirClass::Subtree(c, k)) => Some((c, k)),
            _ => None,
        };
        if let Some((c, k)) = inherited
            && !self.excepted[k as usize]
        {
            return self.intern(DirClass::Subtree(c, k));
        }
        let mut names: Vec<&[u8]> = Vec::new();
        let mut cur = dir;
        while let Some(up) = self.tree.parent(cur) {
            names.push(self.tree.name(cur));
            cur = up;
        }
        names.reverse();
        if let Some((c, k)) = inherited {
            // Inside a subtree with exceptions: an earlier subtree rule naming this
            // folder wins; else the subtree goes on.
            let earlier = self.rules[..k as usize]
                .iter()
                .position(|r| r.name.is_none() && r.dir_matches(&names));
            return match earlier {
                Some(i) => self.intern(DirClass::Subtree(self.rules[i].category, i as u16)),
                None => self.intern(DirClass::Subtree(c, k)),
            };
        }
        let mut file_rules = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if !r.dir_matches(&names) {
                continue;
            }
            match r.name {
                None => {
                    let c = r.category;
                    return self.intern(DirClass::Subtree(c, i as u16));
                }
                Some(_) => file_rules.push(i as u16),
            }
        }
        let quick = last_bytes(&self.rules, &file_rules);
        self.intern(DirClass::Names(file_rules, quick))
    }

    /// The class index of a directory, computing its ancestors' first (iteratively:
    /// paths can be deep).
    fn dir_class(&mut self, dir: u32) -> u32 {
        let mut chain = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if self.memo[d as usize] != 0 {
                break;
            }
            chain.push(d);
            cur = self.tree.parent(d);
        }
        let mut parent_class = cur.map(|d| self.memo[d as usize] - 1);
        for &d in chain.iter().rev() {
            let c = self.evaluate(d, parent_class);
            self.memo[d as usize] = c + 1;
            parent_class = Some(c);
        }
        self.memo[dir as usize] - 1
    }

    /// The category of a file (live or dead) added by `layer`.
    pub fn file(&mut self, node: u32, layer: usize) -> Category {
        let fallback = if self.app_layers.get(layer).copied().unwrap_or(false) {
            Category::App
        } else {
            Category::Other
        };
        let Some(parent) = self.tree.parent(node) else {
            return fallback;
        };
        let class = self.dir_class(parent);
        match &self.classes[class as usize] {
            DirClass::Subtree(c, _) => *c,
            DirClass::Names(rules, quick) => {
                let name = self.tree.name(node);
                if let Some(set) = quick {
                    let last = name.last().copied().unwrap_or(0);
                    if set[usize::from(last >> 6)] & (1 << (last & 63)) == 0 {
                        return fallback;
                    }
                }
                rules
                    .iter()
                    .map(|&i| &self.rules[i as usize])
                    .find(|r| r.name.as_ref().is_some_and(|g| g.matches(name)))
                    .map(|r| r.category)
                    .unwrap_or(fallback)
            }
        }
    }
}

/// One layer's bytes in a category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryLayer {
    pub index: usize,
    pub content_bytes: u64,
    pub wasted_bytes: u64,
}

/// A category's bytes, base and yours apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    pub category: Category,
    /// Visible bytes.
    pub content_bytes: u64,
    pub wasted_bytes: u64,
    /// Visible files (hardlinked content counted at its first name).
    pub files: u64,
    pub base_content_bytes: u64,
    pub base_wasted_bytes: u64,
    /// By the layer that shipped the bytes.
    pub layers: Vec<CategoryLayer>,
}

impl CategoryRow {
    /// Shipped bytes: visible plus wasted.
    pub fn bytes(&self) -> u64 {
        self.content_bytes + self.wasted_bytes
    }

    /// Shipped bytes of the base image's layers.
    pub fn base_bytes(&self) -> u64 {
        self.base_content_bytes + self.base_wasted_bytes
    }

    pub fn your_content_bytes(&self) -> u64 {
        self.content_bytes - self.base_content_bytes
    }

    pub fn your_wasted_bytes(&self) -> u64 {
        self.wasted_bytes - self.base_wasted_bytes
    }
}

/// One run of shipped bytes, classified: a visible file's content (once per inode, at
/// its first live name) or one waste record. Every shipped byte is in exactly one atom,
/// which is what lets findings count a byte once however many rules it matches.
#[derive(Debug, Clone, Copy)]
pub struct Atom {
    /// The node the bytes are (or were last) visible at.
    pub node: u32,
    pub bytes: u64,
    /// The layer that shipped them.
    pub layer: u16,
    pub category: Category,
    /// `None` while visible; for hidden bytes, the layer that hid them and how.
    pub hidden: Option<(u16, WasteCause)>,
    /// The inode of visible bytes (`u32::MAX` for hidden ones).
    pub inode: u32,
}

/// Every shipped byte of an image as atoms: the visible ones first, then one per waste
/// record of the tree, in the tree's order. Kept compact (a category per atom, a node
/// and inode per visible one); the rest is read off the tree.
pub struct Atoms<'t> {
    tree: &'t FsTree,
    categories: Vec<Category>,
    /// (node, inode) of each visible atom.
    visible: Vec<(u32, u32)>,
    /// The atom of each inode's visible content (`u32::MAX` for hidden inodes).
    pub of_inode: Vec<u32>,
}

impl Atoms<'_> {
    pub fn len(&self) -> usize {
        self.categories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }

    /// Atom `i`.
    pub fn get(&self, i: u32) -> Atom {
        let category = self.categories[i as usize];
        match self.visible.get(i as usize) {
            Some(&(node, ino)) => {
                let inode = self.tree.inodes()[ino as usize];
                Atom {
                    node,
                    bytes: inode.size,
                    layer: inode.layer,
                    category,
                    hidden: None,
                    inode: ino,
                }
            }
            None => {
                let w = self.tree.waste()[i as usize - self.visible.len()];
                Atom {
                    node: w.node,
                    bytes: w.bytes,
                    layer: w.added_layer,
                    category,
                    hidden: Some((w.removed_layer, w.cause)),
                    inode: u32::MAX,
                }
            }
        }
    }

    /// Every atom, in order.
    pub fn iter(&self) -> impl Iterator<Item = Atom> + '_ {
        (0..self.len() as u32).map(|i| self.get(i))
    }

    /// The atom of the tree's waste record `index`.
    pub fn of_waste(&self, index: u32) -> u32 {
        self.visible.len() as u32 + index
    }
}

/// The bytes one layer shipped in one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cell {
    /// Visible bytes.
    pub content: u64,
    /// Hidden bytes (every cause).
    pub wasted: u64,
    /// Visible files.
    pub files: u64,
}

impl Cell {
    pub fn bytes(&self) -> u64 {
        self.content + self.wasted
    }
}

/// Every shipped byte by (category, layer that shipped it).
pub type Cells = BTreeMap<(Category, usize), Cell>;

/// Classify every visible and wasted byte of the tree.
pub fn classify(tree: &FsTree, app_layers: Vec<bool>) -> Atoms<'_> {
    let mut c = Classifier::new(tree, app_layers);
    let mut atoms = Atoms {
        tree,
        categories: Vec::with_capacity(tree.inodes().len() + tree.waste().len()),
        visible: Vec::new(),
        of_inode: vec![u32::MAX; tree.inodes().len()],
    };
    for (node, ino) in tree.live_files() {
        if atoms.of_inode[ino as usize] != u32::MAX {
            continue;
        }
        atoms.of_inode[ino as usize] = atoms.visible.len() as u32;
        atoms.visible.push((node, ino));
        let layer = tree.inodes()[ino as usize].layer;
        atoms.categories.push(c.file(node, layer as usize));
    }
    for w in tree.waste() {
        atoms.categories.push(if w.node == ROOT {
            Category::Other
        } else {
            c.file(w.node, w.added_layer as usize)
        });
    }
    atoms
}

/// The atoms summed by (category, layer).
pub fn cells(atoms: &Atoms<'_>) -> Cells {
    // Dense by (layer, category): one add per atom, no hashing.
    let per = Category::ALL.len();
    let mut dense: Vec<Cell> = Vec::new();
    for a in atoms.iter() {
        let at = a.layer as usize * per + a.category as usize;
        if at >= dense.len() {
            dense.resize(at + 1, Cell::default());
        }
        let cell = &mut dense[at];
        if a.hidden.is_some() {
            cell.wasted += a.bytes;
        } else {
            cell.content += a.bytes;
            cell.files += 1;
        }
    }
    dense
        .into_iter()
        .enumerate()
        .filter(|(_, c)| *c != Cell::default())
        .map(|(at, c)| ((Category::ALL[at % per], at / per), c))
        .collect()
}

/// The category table: rows biggest first, cut to `top`.
pub fn table(cells: &Cells, base: &Base, top: usize) -> TopN<CategoryRow> {
    let mut rows: BTreeMap<Category, CategoryRow> = BTreeMap::new();
    for (&(category, layer), cell) in cells {
        let row = rows.entry(category).or_insert_with(|| CategoryRow {
            category,
            content_bytes: 0,
            wasted_bytes: 0,
            files: 0,
            base_content_bytes: 0,
            base_wasted_bytes: 0,
            layers: Vec::new(),
        });
        row.content_bytes += cell.content;
        row.wasted_bytes += cell.wasted;
        row.files += cell.files;
        if base.holds(layer) {
            row.base_content_bytes += cell.content;
            row.base_wasted_bytes += cell.wasted;
        }
        row.layers.push(CategoryLayer {
            index: layer,
            content_bytes: cell.content,
            wasted_bytes: cell.wasted,
        });
    }
    let mut rows: Vec<CategoryRow> = rows.into_values().filter(|r| r.bytes() > 0).collect();
    rows.sort_by(|a, b| b.bytes().cmp(&a.bytes()).then(a.category.cmp(&b.category)));
    TopN::cut(rows, top, CategoryRow::bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of(path: &str) -> Option<Category> {
        let rules = compile();
        let comps: Vec<&[u8]> = path.split('/').map(str::as_bytes).collect();
        let (dir, name) = comps.split_at(comps.len() - 1);
        // The shallowest ancestor directory claimed by a subtree rule decides, unless an
        // earlier rule names a folder further down inside it (first match wins).
        let subtree = |d: usize, before: usize| {
            rules[..before]
                .iter()
                .position(|r| r.name.is_none() && r.dir_matches(&dir[..d]))
        };
        if let Some(top) = (0..=dir.len()).find_map(|d| subtree(d, rules.len()).map(|k| (d, k))) {
            let (d0, mut k) = top;
            for d in d0 + 1..=dir.len() {
                if let Some(j) = subtree(d, k).filter(|&j| rules[j].dir.starts_with(&rules[k].dir))
                {
                    k = j;
                }
            }
            return Some(rules[k].category);
        }
        rules
            .iter()
            .find(|r| r.name.as_ref().is_some_and(|g| g.matches(name[0])) && r.dir_matches(dir))
            .map(|r| r.category)
    }

    #[test]
    fn all_lists_the_categories_in_declaration_order() {
        // `cells` indexes by `category as usize`.
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i, "{c:?}");
        }
    }

    #[test]
    fn name_globs_compile_to_the_same_answers() {
        for (pat, name) in [
            ("*.pyc", "m.cpython-312.pyc"),
            ("*.pyc", "x.py"),
            ("gcc*", "gcc-12"),
            ("gcc*", "g++"),
            ("*-linux-gnu-*", "x86_64-linux-gnu-ld"),
            ("*-linux-gnu-*", "ld"),
            ("as", "as"),
            ("as", "ash"),
            ("a*b*c", "axxbyyc"),
        ] {
            assert_eq!(
                NameGlob::new(pat.as_bytes()).matches(name.as_bytes()),
                component_matches(pat.as_bytes(), name.as_bytes()),
                "{pat} {name}"
            );
        }
    }

    #[test]
    fn globs_match_components() {
        assert!(component_matches(b"gcc*", b"gcc-12"));
        assert!(component_matches(
            b"*-linux-gnu-*",
            b"x86_64-linux-gnu-gcc-12"
        ));
        assert!(!component_matches(b"*.pyc", b"x.py"));
        assert!(component_matches(b"*", b""));
        let pat: Vec<Vec<u8>> = vec![b"**".to_vec(), b".git".to_vec()];
        assert!(path_matches(&pat, &[b"app", b".git"]));
        assert!(path_matches(&pat, &[b".git"]));
        assert!(!path_matches(&pat, &[b"app", b".github"]));
    }

    #[test]
    fn the_table_sorts_paths_into_categories() {
        for (path, want) in [
            ("root/.cache/pip/http/a/b", Some(C::PipCache)),
            ("home/app/.cache/pip/wheels/x.whl", Some(C::PipCache)),
            ("var/lib/apt/lists/deb.debian.org_dists", Some(C::AptLists)),
            ("var/cache/apt/archives/gcc.deb", Some(C::AptArchives)),
            ("var/cache/apt/pkgcache.bin", Some(C::AptArchives)),
            (
                "var/cache/dnf/fedora-x/repodata/primary.xml.zst",
                Some(C::DnfCache),
            ),
            (
                "var/cache/yum/x86_64/7/base/packages/a.rpm",
                Some(C::YumCache),
            ),
            (
                "var/cache/zypp/raw/repo-oss/repodata/x.xml.gz",
                Some(C::ZyppCache),
            ),
            (
                "var/cache/microdnf/ubi-9/packages/a.rpm",
                Some(C::MicrodnfCache),
            ),
            ("app/.git/objects/pack/p.pack", Some(C::Vcs)),
            ("usr/share/doc/libc6/copyright", Some(C::Docs)),
            ("usr/share/locale/de/LC_MESSAGES/x.mo", Some(C::Locales)),
            (
                "usr/local/lib/python3.12/site-packages/numpy/tests/t.py",
                Some(C::Tests),
            ),
            ("usr/local/lib/python3.12/test/test_os.py", Some(C::Tests)),
            ("app/__pycache__/main.cpython-312.pyc", Some(C::Bytecode)),
            ("usr/lib/python3/dist-packages/x.pyc", Some(C::Bytecode)),
            ("usr/include/stdio.h", Some(C::DevFiles)),
            ("usr/lib/x86_64-linux-gnu/libc.a", Some(C::DevFiles)),
            ("usr/lib/gcc/x86_64-linux-gnu/12/cc1", Some(C::Toolchain)),
            ("usr/bin/x86_64-linux-gnu-gcc-12", Some(C::Toolchain)),
            ("var/log/dpkg.log", Some(C::LogsTemp)),
            (
                "root/.npm/_cacache/content-v2/sha512/ab/cd",
                Some(C::NpmCache),
            ),
            (
                "root/.npm/_logs/2026-01-01T00_00_00Z-debug-0.log",
                Some(C::LogsTemp),
            ),
            ("home/app/.npm/_logs/x-debug-0.log", Some(C::LogsTemp)),
            ("usr/bin/python3", None),
            ("app/main.py", None),
        ] {
            assert_eq!(class_of(path), want, "{path}");
        }
    }
}
