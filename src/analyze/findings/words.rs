//! A finding from its key and atoms: the fix in words, the paths, the figures.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::binaries::{duplicate_fix, strip_fix};
use super::candidates::readd_atoms;
use super::ecosystems::build_root;
use super::inputs::{Amounts, Finding, Inputs, Key};
use super::rule::{DPKG_EXCLUDES, Rule, Scope, rpm_nodocs_fix};
use super::stage::{Stage, multi_stage_fix};
use crate::analyze::layers::LayerRow;

/// The layer's compressed / uncompressed ratio.
pub(super) fn ratio(row: &LayerRow) -> f64 {
    if row.uncompressed_bytes == 0 {
        1.0
    } else {
        (row.compressed_bytes as f64 / row.uncompressed_bytes as f64).min(1.0)
    }
}

/// Files whose content is compressed already: they compress ~1:1.
pub(super) fn precompressed(name: &[u8]) -> bool {
    const ENDINGS: [&[u8]; 14] = [
        b".deb", b".whl", b".gz", b".tgz", b".zip", b".jar", b".xz", b".zst", b".bz2", b".png",
        b".jpg", b".jpeg", b".woff2", b".7z",
    ];
    ENDINGS.iter().any(|e| name.ends_with(e))
}

/// Whether an atom is a file an rpm package flags `%doc`.
fn rpm_doc(inp: &Inputs<'_>, i: u32) -> bool {
    let ino = inp.atoms.get(i).inode;
    inp.owners.rpm_docs.get(ino as usize) == Some(&true)
}

/// At most this many paths name what a fix deletes.
const MAX_TARGETS: usize = 32;

/// The paths a deleting fix removes, for `imgsize fix` to write: the build trees of
/// `build-tree`; for `deleted-later`, the highest folders (or files) the later layer
/// deleted. Empty for other rules, or past [`MAX_TARGETS`].
pub(super) fn targets(rule: Rule, inp: &Inputs<'_>, atoms: &[u32]) -> Vec<String> {
    let tree = inp.tree;
    let mut out: BTreeSet<u32> = BTreeSet::new();
    let mut gone_memo: HashMap<u32, bool> = HashMap::new();
    for &i in atoms {
        let node = inp.atoms.get(i).node;
        let target = match rule {
            Rule::BuildTree => {
                let mut at = tree.parent(node);
                while let Some(d) = at.filter(|&d| !build_root(tree, d)) {
                    at = tree.parent(d);
                }
                at
            }
            Rule::DeletedLater => {
                // Up while the folder is gone from the final tree too.
                let mut cur = node;
                while let Some(p) = tree.parent(cur).filter(|&p| p != crate::model::tree::ROOT) {
                    let gone = *gone_memo
                        .entry(p)
                        .or_insert_with(|| tree.lookup(&tree.path_bytes(p)) != Some(p));
                    if !gone {
                        break;
                    }
                    cur = p;
                }
                Some(cur)
            }
            _ => None,
        };
        if let Some(t) = target {
            out.insert(t);
            if out.len() > MAX_TARGETS {
                return Vec::new();
            }
        }
    }
    let mut paths: Vec<String> = out.into_iter().map(|n| tree.path(n)).collect();
    paths.sort();
    // A path inside another one goes with it.
    let mut kept: Vec<String> = Vec::new();
    for p in paths {
        if !kept.iter().any(|k| p.starts_with(&format!("{k}/"))) {
            kept.push(p);
        }
    }
    kept
}

/// The fix, worded for the finding's layers (`atoms` sorted).
pub(super) fn fix(key: Key, inp: &Inputs<'_>, atoms: &[u32], stage: Option<&Stage>) -> String {
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
        (Rule::DocsLocales, _) if atoms.iter().any(|&i| rpm_doc(inp, i)) => rpm_nodocs_fix(instr),
        (Rule::DocsLocales, _) => format!("before `apt-get install` in this RUN, add `printf '{DPKG_EXCLUDES}' > /etc/dpkg/dpkg.cfg.d/01-nodoc` (or in an earlier RUN)"),
        (Rule::PackageTests, _) => "delete the packages' test suites in this RUN (e.g. `find / -xdev -depth -type d -path '*-packages/*/tests' -exec rm -rf {} +`), or install in a build stage and copy without them".into(),
        (Rule::Bytecode, _) => "`pip install --no-compile` in this RUN; Python compiles on first import instead, which costs start-up time (and writes nothing when the folder is read-only)".into(),
        (Rule::DevDependencies, _) => "end the RUN that installs with `&& npm prune --omit=dev` once the build is done (or install with `npm ci --omit=dev`; `yarn install --production`), or build in a separate stage and copy the pruned `node_modules`; a later RUN that prunes ships them anyway".into(),
        (Rule::BuildTree, _) if inp.layers.get(layer).is_some_and(LayerRow::is_app) => "leave the build output out of the build context (`target/`, `build/`, `node_modules/.cache` in `.dockerignore`)".into(),
        (Rule::BuildTree, _) => "copy the built artifact out of the build tree and end this RUN with `&& rm -rf` of it (`cargo build --release && cp target/release/APP /usr/local/bin/ && rm -rf target`), or build in a separate stage and copy the artifact only".into(),
        (Rule::JdkRuntime, Scope::Base) => "the base image ships a full JDK: run on a JRE base (e.g. `eclipse-temurin:17-jre` for `eclipse-temurin:17`), building in a stage on the JDK one".into(),
        (Rule::JdkRuntime, _) => {
            let names: Vec<&str> = inp.owners.jdk_packages.iter().take(3).map(String::as_str).collect();
            format!("the application needs a JRE, not the JDK ({}): build the jar in a separate stage and install `default-jre-headless` (or the matching `openjdk-*-jre-headless`) in the runtime stage", names.join(", "))
        }
        (Rule::DuplicateFiles, _) => duplicate_fix(inp, atoms),
        (Rule::Unstripped, _) => strip_fix(inp, atoms),
        (Rule::FullBase, _) => {
            let names: Vec<&str> = inp.owners.build_only.iter().take(4).map(|(n, _)| n.as_str()).collect();
            format!("the base image ships compilers and development files ({}): use its slim variant (e.g. `python:3.12-slim` for `python:3.12`), or a multi-stage build whose runtime stage starts from the slim one", names.join(", "))
        }
    }
}

/// One finding from its key and atoms.
pub(super) fn finding(
    key: Key,
    atoms: &[u32],
    incremental: u64,
    inp: &Inputs<'_>,
    amounts: &Amounts,
    stage: Option<&Stage>,
) -> Finding {
    let (rule, scope, mut layer) = key;
    let mut dirs: BTreeMap<u32, u64> = BTreeMap::new();
    let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
    let mut compressed = 0.0;
    let mut bytes = 0;
    let mut removes = Vec::with_capacity(atoms.len());
    for &i in atoms {
        let a = inp.atoms.get(i);
        let amount = amounts.of(inp, rule, i);
        bytes += amount;
        removes.push((i, amount));
        *dirs.entry(inp.tree.ancestor_at(a.node, 3)).or_default() += amount;
        *per_layer.entry(a.layer as usize).or_default() += amount;
        let r = if precompressed(inp.tree.name(a.node)) {
            1.0
        } else {
            inp.layers.get(a.layer as usize).map_or(1.0, ratio)
        };
        compressed += amount as f64 * r;
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
        bytes,
        incremental_bytes: incremental,
        compressed_bytes: compressed.round() as u64,
        // A stream cannot be read twice to hash both copies: path and size only.
        confidence: if rule == Rule::ChmodDuplicate && inp.readds.iter().any(|r| !r.confirmed) {
            "medium"
        } else if rule == Rule::DuplicateFiles && inp.duplicates.iter().any(|d| !d.confirmed) {
            "low"
        } else {
            rule.confidence(scope)
        },
        fix: fix((rule, scope, layer), inp, atoms, stage),
        targets: targets(rule, inp, atoms),
        removes,
    }
}
