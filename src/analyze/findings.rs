//! Suggestions: what to change in which of your RUN/COPY steps, and what it saves.
//!
//! Every rule here is mechanical: the bytes it projects are bytes your layer shipped
//! (visible or hidden later), classified by [`super::categories`], so a rebuild with the
//! fix removes exactly them from that layer (docs/accuracy.md measures it). Rules are
//! documented in docs/rules.md.
//!
//! `bytes` is what a fix alone saves; `incremental_bytes` what it saves once the
//! findings listed before it are applied. Two fixes can remove the same bytes (apt lists
//! a later layer deletes are both an `apt-lists` and a `deleted-later` finding), so each
//! finding claims parts of the (category, layer) cells, and a part already claimed
//! counts only once. The incremental figures add up to the projected saving.

use std::collections::{BTreeMap, BTreeSet};

use super::base::Base;
use super::categories::{Category, Cells};
use super::layers::LayerRow;
use crate::model::FsTree;
use crate::model::tree::WasteCause;

/// A rule's stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A package manager's cache left in the layer (the category names which).
    Cache(Category),
    /// VCS folders copied in by COPY/ADD.
    Dockerignore,
    /// Files created in a layer and deleted by a later one.
    DeletedLater,
}

impl Rule {
    /// Every rule id, for docs and schema checks.
    pub fn all() -> Vec<Rule> {
        let mut out: Vec<Rule> = Category::ALL
            .iter()
            .filter(|c| c.is_cache())
            .map(|&c| Rule::Cache(c))
            .collect();
        out.extend([Rule::Dockerignore, Rule::DeletedLater]);
        out
    }

    pub fn code(self) -> &'static str {
        match self {
            Rule::Cache(c) => c.code(),
            Rule::Dockerignore => "dockerignore",
            Rule::DeletedLater => "deleted-later",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Rule::Cache(Category::PipCache) => "pip cache left in the layer",
            Rule::Cache(Category::AptLists) => "apt package lists left in the layer",
            Rule::Cache(Category::AptArchives) => {
                "apt's downloaded packages and caches left in the layer"
            }
            Rule::Cache(Category::ApkCache) => "apk cache left in the layer",
            Rule::Cache(_) => "package-manager cache left in the layer",
            Rule::Dockerignore => "version-control folders copied into the image",
            Rule::DeletedLater => "files deleted by a later layer still ship in this one",
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Rule::Cache(Category::PipCache) => {
                "set `ENV PIP_NO_CACHE_DIR=1` before this RUN, or end it with `&& rm -rf /root/.cache/pip` (`pip install --no-cache-dir` does not reach build-isolation installs)"
            }
            Rule::Cache(Category::AptLists) => "end this RUN with `&& rm -rf /var/lib/apt/lists/*`",
            Rule::Cache(Category::AptArchives) => "end this RUN with `&& apt-get clean`",
            Rule::Cache(Category::ApkCache) => "use `apk add --no-cache` in this RUN",
            Rule::Cache(Category::NpmCache) => "end this RUN with `&& npm cache clean --force`",
            Rule::Cache(Category::YarnCache) => "end this RUN with `&& yarn cache clean`",
            Rule::Cache(Category::PnpmStore) => {
                "end this RUN with `&& pnpm store prune`, or keep the store in a cache mount"
            }
            Rule::Cache(Category::ComposerCache) => "use `composer install --no-cache` in this RUN",
            Rule::Cache(Category::GemCache) => {
                "remove the gem cache in this RUN (`gem install --no-document`, `rm -rf` the cache folder)"
            }
            Rule::Cache(_) => {
                "build in a separate stage and copy only the artifacts, or keep the cache in `RUN --mount=type=cache`"
            }
            Rule::Dockerignore => "add `.git` (and other VCS folders) to `.dockerignore`",
            Rule::DeletedLater => {
                "delete these files in the RUN that creates them; deleting them in a later layer ships them anyway"
            }
        }
    }
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub title: &'static str,
    /// The layer to change (always one of yours for these rules).
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
    /// Estimated compressed (pull) saving: the layer's own compression ratio, 1:1 for
    /// already compressed packages (`.deb`).
    pub compressed_bytes: u64,
    pub confidence: &'static str,
    pub fix: &'static str,
}

/// All findings, in the order their incremental savings are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub rows: Vec<Finding>,
    /// Σ incremental_bytes: what applying every fix removes from `stored_bytes`.
    pub saved_bytes: u64,
    /// `stored_bytes` once every fix is applied.
    pub stored_after: u64,
}

/// A part of a (category, layer) cell a finding can claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Content,
    /// Hidden, but not by a later deletion (overwritten).
    OtherWaste,
    DeletedLater,
}

type Claim = (Category, usize, Part);

struct Candidate {
    rule: Rule,
    layer: usize,
    claims: Vec<(Claim, u64)>,
    dirs: BTreeMap<String, u64>,
}

fn cell_claims(cells: &Cells, category: Category, layer: usize) -> Vec<(Claim, u64)> {
    let Some(c) = cells.get(&(category, layer)) else {
        return Vec::new();
    };
    vec![
        ((category, layer, Part::Content), c.content),
        (
            (category, layer, Part::OtherWaste),
            c.wasted - c.deleted_later,
        ),
        ((category, layer, Part::DeletedLater), c.deleted_later),
    ]
}

/// Directories (depth 3) of the bytes each layer shipped that later layers deleted.
fn deleted_dirs(tree: &FsTree) -> BTreeMap<usize, BTreeMap<String, u64>> {
    let mut by_node: BTreeMap<(usize, u32), u64> = BTreeMap::new();
    for w in tree.waste() {
        if w.removed_layer > w.added_layer && w.cause != WasteCause::Overwritten {
            let key = (w.added_layer as usize, tree.ancestor_at(w.node, 3));
            *by_node.entry(key).or_default() += w.bytes;
        }
    }
    let mut out: BTreeMap<usize, BTreeMap<String, u64>> = BTreeMap::new();
    for ((layer, node), bytes) in by_node {
        out.entry(layer).or_default().insert(tree.path(node), bytes);
    }
    out
}

fn candidates(tree: &FsTree, cells: &Cells, layers: &[LayerRow], base: &Base) -> Vec<Candidate> {
    let mut out = Vec::new();
    let yours = |l: usize| !base.holds(l) && layers.get(l).is_some_and(|r| r.error.is_none());
    for (&(category, layer), cell) in cells {
        if !yours(layer) {
            continue;
        }
        let rule = match category {
            c if c.is_cache() => Rule::Cache(c),
            Category::Vcs if layers[layer].is_app() => Rule::Dockerignore,
            _ => continue,
        };
        out.push(Candidate {
            rule,
            layer,
            claims: cell_claims(cells, category, layer),
            dirs: cell.dirs.clone(),
        });
    }
    let later: BTreeSet<usize> = cells
        .iter()
        .filter(|(_, c)| c.deleted_later > 0)
        .map(|(&(_, l), _)| l)
        .filter(|&l| yours(l))
        .collect();
    let mut dirs = deleted_dirs(tree);
    for layer in later {
        let claims = cells
            .iter()
            .filter(|(k, c)| k.1 == layer && c.deleted_later > 0)
            .map(|(&(cat, l), c)| ((cat, l, Part::DeletedLater), c.deleted_later))
            .collect();
        out.push(Candidate {
            rule: Rule::DeletedLater,
            layer,
            claims,
            dirs: dirs.remove(&layer).unwrap_or_default(),
        });
    }
    out
}

/// The layer's compressed / uncompressed ratio.
fn ratio(row: &LayerRow) -> f64 {
    if row.uncompressed_bytes == 0 {
        1.0
    } else {
        (row.compressed_bytes as f64 / row.uncompressed_bytes as f64).min(1.0)
    }
}

/// Find the suggestions, greedily: each next one is the finding that saves most on top
/// of those before it, so the list is sorted by `incremental_bytes`, and the
/// incremental figures add up with no byte counted twice.
pub fn find(
    tree: &FsTree,
    cells: &Cells,
    layers: &[LayerRow],
    base: &Base,
    stored: u64,
) -> Findings {
    let mut left: Vec<Candidate> = candidates(tree, cells, layers, base)
        .into_iter()
        .filter(|c| c.claims.iter().any(|(_, b)| *b > 0))
        .collect();
    let alone = |c: &Candidate| c.claims.iter().map(|(_, b)| b).sum::<u64>();
    let mut claimed: BTreeSet<Claim> = BTreeSet::new();
    let mut rows = Vec::new();
    while !left.is_empty() {
        let gain = |c: &Candidate| {
            c.claims
                .iter()
                .filter(|(k, _)| !claimed.contains(k))
                .map(|(_, b)| b)
                .sum::<u64>()
        };
        let best = (0..left.len())
            .max_by(|&x, &y| {
                let (a, b) = (&left[x], &left[y]);
                (gain(a), alone(a))
                    .cmp(&(gain(b), alone(b)))
                    .then(b.layer.cmp(&a.layer))
                    .then(b.rule.cmp(&a.rule))
            })
            .unwrap_or(0);
        let c = left.swap_remove(best);
        let incremental = gain(&c);
        let row = &layers[c.layer];
        let mut compressed = 0.0;
        for &(claim, b) in &c.claims {
            let r = if claim.0 == Category::AptArchives {
                1.0
            } else {
                ratio(row)
            };
            compressed += b as f64 * r;
            claimed.insert(claim);
        }
        let mut paths: Vec<(String, u64)> = c.dirs.into_iter().collect();
        paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let path_count = paths.len();
        paths.truncate(3);
        rows.push(Finding {
            rule: c.rule,
            title: c.rule.title(),
            layer: c.layer,
            instruction: row.instruction.clone(),
            paths,
            path_count,
            bytes: c.claims.iter().map(|(_, b)| b).sum(),
            incremental_bytes: incremental,
            compressed_bytes: compressed.round() as u64,
            confidence: "high",
            fix: c.rule.fix(),
        });
    }
    let saved_bytes = rows.iter().map(|f| f.incremental_bytes).sum();
    Findings {
        saved_bytes,
        stored_after: stored - saved_bytes,
        rows,
    }
}
