//! The one pipeline: open the input and resolve the image ([`crate::source`]), walk
//! every layer in parallel and verify it ([`crate::walk`]), merge the scans in layer
//! order into the merged tree ([`crate::model`]), and summarise ([`crate::analyze`]).
//! The CLI, the tests, the benches and the examples all call [`run`]; this is the only
//! place that knows the order of the stages, so a new step (a layer cache, a budget, a
//! manifest-only mode) is added here once.

mod duplicates;
mod hashes;
mod readds;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::analyze::budget::{self, Baseline, Budget};
use crate::analyze::{self, Diff, Report, SummaryOptions, Verdict};
use crate::bytes::parallel;
use crate::bytes::{NoProgress, Progress, VerifyPolicy};
use crate::cache::{Cache, Claim, LayerCache};
/// The shared cache a [`CachePolicy::Shared`] names, built by the caller.
pub use crate::cache::{CacheCounts, Notice, SharedCache, SharedSettings};
use crate::error::{Error, LayerError, LayerErrorKind, Result};
use crate::model::dockerfile::Dockerfile;
use crate::model::{
    Analysis, CapturedFile, DigestCheck, FsTree, LayerFigures, LayerRef, LayerScan, Snapshot,
    StripFile, WatchedEntry,
};
use crate::source::{self, MemberWalker, Opened, SelectOptions, StreamedMember, documents};
use crate::walk::verify::{self, Arrival};
use crate::walk::{self, Capture};

/// What to analyse and how: validated options, as the CLI builds them from flags.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which image, which platform, what to verify.
    pub select: SelectOptions,
    /// How much detail the report keeps.
    pub summary: SummaryOptions,
    /// The Dockerfile the image was built from, for `file:line` on its layers.
    pub dockerfile: Option<PathBuf>,
    /// The stage of that Dockerfile the image is (default: the last).
    pub target: Option<String>,
    /// Where walked layers are kept by digest, to be read from instead of walked again.
    pub cache: CachePolicy,
}

/// Which layer cache an analysis uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CachePolicy {
    /// The default directory (`$XDG_CACHE_HOME/imgsize`) for registry images only:
    /// a local archive is read faster than its cache entries would be written.
    #[default]
    RegistryOnly,
    /// This directory, for every input.
    Dir(PathBuf),
    /// This shared cache (Redis), for every input, in place of any directory.
    Shared(Arc<SharedCache>),
    /// No cache.
    Off,
}

/// The Dockerfile, read before any layer so that a bad one fails fast.
fn read_dockerfile(options: &Options) -> Result<Option<Dockerfile>> {
    options
        .dockerfile
        .as_deref()
        .map(source::dockerfile::read)
        .transpose()
}

/// The report of an analysis, with the Dockerfile's lines on its layers.
fn report(a: &Analysis, options: &Options, df: Option<&Dockerfile>) -> Result<Report> {
    let mut report = analyze::summarize(a, &options.summary);
    if let Some(df) = df {
        let lines = analyze::dockerfile::lines(
            df,
            options.target.as_deref(),
            &report.history,
            report.layers.len(),
        )
        .map_err(|message| Error::Dockerfile {
            file: df.file.clone(),
            line: None,
            message,
        })?;
        report.dockerfile = Some(lines);
    }
    Ok(report)
}

/// Callbacks into the caller while the pipeline runs.
#[derive(Clone, Copy)]
pub struct Hooks<'a> {
    /// Told how many stored bytes were read (a progress bar).
    pub progress: &'a dyn Progress,
    /// Asked which files' contents to keep (package databases for analyses).
    pub capture: Option<&'a dyn Capture>,
    /// A normalised path whose entries' metadata to keep in every layer (at, under and
    /// above it), for `imgsize explain`.
    pub watch: Option<&'a [u8]>,
    /// Told of every layer walked and every layer a cache gave (`imgsize scan`'s
    /// progress).
    pub counts: Option<&'a ReadCounts>,
}

/// Layers walked and layers a cache gave, counted across the runs that share it.
#[derive(Debug, Default)]
pub struct ReadCounts {
    walked: AtomicU64,
    reused: AtomicU64,
}

impl ReadCounts {
    /// Layers walked so far.
    pub fn walked(&self) -> u64 {
        self.walked.load(Ordering::Relaxed)
    }

    /// Layers read from a layer cache so far.
    pub fn reused(&self) -> u64 {
        self.reused.load(Ordering::Relaxed)
    }
}

impl Default for Hooks<'_> {
    fn default() -> Self {
        Hooks {
            progress: &NoProgress,
            capture: None,
            watch: None,
            counts: None,
        }
    }
}

/// Analyse an input (a path, or `-` for standard input) into a report. The package
/// databases are captured for the package table, besides what `hooks.capture` asks.
pub fn run(input: &str, options: &Options, hooks: &Hooks<'_>) -> Result<Report> {
    let df = read_dockerfile(options)?;
    let analysis = analysis(input, options, hooks)?;
    report(&analysis, options, df.as_ref())
}

/// `imgsize explain`: the report, and the history of one path across the layers,
/// from the same single walk (which keeps the metadata of the entries at, under and
/// above the path).
pub fn explain(
    input: &str,
    options: &Options,
    path: &str,
    hooks: &Hooks<'_>,
) -> Result<(Report, analyze::Explanation)> {
    let watch = analyze::explain::watch_path(path);
    let hooks = Hooks {
        watch: Some(&watch),
        ..*hooks
    };
    let df = read_dockerfile(options)?;
    let analysis = analysis(input, options, &hooks)?;
    let report = report(&analysis, options, df.as_ref())?;
    let explanation = analyze::explain::explain(&analysis, &report.layers, path);
    Ok((report, explanation))
}

/// `imgsize check`: the report, and its verdict against a budget. Path limits are
/// measured on the merged tree, package limits on every package (the report keeps
/// only the top rows); growth limits read the baseline.
pub fn check(
    input: &str,
    options: &Options,
    budget: &Budget,
    baseline: Option<&Baseline>,
    hooks: &Hooks<'_>,
) -> Result<(Report, Verdict)> {
    if options.select.manifest_only {
        manifest_limits(budget)?;
    }
    let df = read_dockerfile(options)?;
    let analysis = analysis(input, options, hooks)?;
    let report = report(&analysis, options, df.as_ref())?;
    let paths = budget::measure_paths(&analysis.tree, &budget.path_globs());
    let packages = budget
        .wants_packages()
        .then(|| analyze::packages::table(&analysis, &report.base, usize::MAX).0);
    let facts = budget::Facts {
        paths: &paths,
        packages: packages.as_ref().map(|p| p.rows.rows.as_slice()),
        baseline,
    };
    let verdict = budget::check(budget, &report, &facts);
    Ok((report, verdict))
}

/// A manifest-only read knows the compressed sizes and the layer count, nothing else:
/// a limit on anything else cannot be judged, and a gate must not pass it silently.
fn manifest_limits(budget: &Budget) -> Result<()> {
    let needs_layers: Vec<String> = budget
        .limits
        .iter()
        .filter(|l| {
            !matches!(
                l.metric,
                budget::Metric::Compressed | budget::Metric::Layers
            )
        })
        .map(|l| l.metric.key())
        .collect();
    if needs_layers.is_empty() {
        return Ok(());
    }
    Err(Error::Budget {
        file: "the budget".to_string(),
        line: None,
        message: format!(
            "{} cannot be measured from the manifest alone (only compressed and layers can): the layers must be read",
            needs_layers.join(", ")
        ),
    })
}

/// `imgsize diff`: what changed from `old` to `new`. Each side is an image (any input
/// [`run`] reads, analysed with every path and package row kept, paths at
/// `options.summary.depth`) or a saved JSON report, told apart by content
/// ([`source::report::looks_like_report`]). The diff's own tables keep
/// `options.summary.top` rows. Two images are analysed one after the other.
///
/// An error says which side it is about: `(input, error)`.
pub fn diff<'a>(
    old: &'a str,
    new: &'a str,
    options: &Options,
    hooks: &Hooks<'_>,
) -> std::result::Result<Diff, (&'a str, Error)> {
    let old_side = snapshot(old, options, hooks).map_err(|e| (old, e))?;
    let new_side = snapshot(new, options, hooks).map_err(|e| (new, e))?;
    Ok(analyze::diff::diff(
        &old_side,
        &new_side,
        options.summary.top,
    ))
}

/// The growth baseline of `check --baseline`: an earlier JSON report read back.
/// It is shown as the file, and the image the saved report is of.
pub fn baseline(path: &std::path::Path) -> Result<budget::Baseline> {
    let snapshot = source::report::read_snapshot(path)?;
    let mut baseline = budget::Baseline::from(&snapshot);
    baseline.source = format!("{} (a report of {})", path.display(), snapshot.source);
    Ok(baseline)
}

/// One side of [`diff`]: a saved JSON report read back, or an image analysed with
/// every path and package row kept (paths at `options.summary.depth`).
pub fn snapshot(input: &str, options: &Options, hooks: &Hooks<'_>) -> Result<Snapshot> {
    let path = std::path::Path::new(input);
    if input != "-" && source::report::looks_like_report(path) {
        return source::report::read_snapshot(path);
    }
    let full = Options {
        summary: SummaryOptions {
            top: u32::MAX as usize,
            tree_nodes: None,
            ..options.summary
        },
        ..options.clone()
    };
    Ok(analyze::diff::snapshot(&run(input, &full, hooks)?))
}

/// Keeps the package databases, and what another capture asks for.
struct PackageDatabases<'a>(Option<&'a dyn Capture>);

impl Capture for PackageDatabases<'_> {
    fn wants(&self, path: &[u8], size: u64) -> bool {
        analyze::packages::wants(path, size) || self.0.is_some_and(|c| c.wants(path, size))
    }

    fn limit(&self, path: &[u8]) -> u64 {
        analyze::packages::capture_limit(path).unwrap_or(walk::MAX_CAPTURE)
    }
}

/// The first half of [`run`]: open, walk and merge, giving the model itself (with the
/// captured files: the package databases and what `hooks.capture` asks for) to
/// analyses that need more than the report.
pub fn analysis(input: &str, options: &Options, hooks: &Hooks<'_>) -> Result<Analysis> {
    let select = &options.select;
    // A scan is a pure function of its blob digest only with the default captures.
    let cacheable = hooks.capture.is_none() && hooks.watch.is_none();
    let capture = PackageDatabases(hooks.capture);
    let hooks = Hooks {
        capture: Some(&capture),
        ..*hooks
    };
    let streamer = Streamer {
        policy: select.verify,
        decoder_limit: select.decoder_limit,
        scan_limits: select.scan_limits,
        hooks,
        started: AtomicBool::new(false),
    };
    let opened = source::open(input, select, &streamer)?;
    if select.manifest_only {
        let analysis = manifest_analysis(&opened);
        check_sums(&analysis, opened.store.describe())?;
        return Ok(analysis);
    }
    let cache = match cacheable && !opened.streamed {
        true => layer_cache(&options.cache, opened.remote)?,
        false => None,
    };
    let mut analysis = walk_layers(&opened, select.verify, cache.as_ref(), &hooks);
    check_sums(&analysis, opened.store.describe())?;
    let base = analyze::base::boundary(&analysis, options.summary.base_layers);
    (analysis.readds, analysis.duplicates) = by_content(&opened, &analysis, &base, cache.as_ref());
    Ok(analysis)
}

/// What only file content can tell, hashed in one second read of just the layers
/// that hold the candidates: same-size re-adds (`readds`) and same-size files at
/// other paths (`duplicates`).
fn by_content(
    opened: &Opened,
    a: &Analysis,
    base: &analyze::base::Base,
    cache: Option<&Cache>,
) -> (Vec<crate::model::ReAdd>, Vec<crate::model::Duplicates>) {
    let same = a.tree.same_size_readds();
    let (groups, names) = duplicates::candidates(a, base);
    let mut wanted = hashes::Wanted::new();
    readds::want(a, &same, &mut wanted);
    duplicates::want(a, &groups, &names, &mut wanted);
    let hashes = hashes::hash(opened, a, wanted, cache);
    (
        readds::confirm(a, same, hashes.as_ref()),
        duplicates::confirm(a, base, groups, &names, hashes.as_ref()),
    )
}

/// The layer cache the policy asks for: the default directory for registry images
/// (none when there is no home to put it in), or the one given.
fn layer_cache(policy: &CachePolicy, remote: bool) -> Result<Option<Cache>> {
    let dir = |d: &std::path::Path| LayerCache::open(d, LayerCache::DEFAULT_MAX_BYTES);
    match policy {
        CachePolicy::Off => Ok(None),
        CachePolicy::Dir(d) => dir(d).map(|c| Some(Cache::Dir(c))),
        CachePolicy::Shared(shared) => Ok(Some(Cache::Shared(shared.clone()))),
        CachePolicy::RegistryOnly if remote => Ok(LayerCache::default_dir()
            .and_then(|d| dir(&d).ok())
            .map(Cache::Dir)),
        CachePolicy::RegistryOnly => Ok(None),
    }
}

/// One figure of a layer, by name.
type Figure = (&'static str, fn(&LayerFigures) -> u64);

/// Refuse figures whose sums over the layers pass `u64`: each comes from tar headers
/// or a descriptor's declared size, so such a sum is impossible, not a big image. Every
/// total, base/yours split and table of the report sums some of them (or of the files
/// they add up), so after this check none of those sums can wrap either.
fn check_sums(a: &Analysis, input: &str) -> Result<()> {
    let figures: [Figure; 4] = [
        ("compressed sizes", |f| f.compressed_bytes),
        ("uncompressed sizes", |f| f.uncompressed_bytes),
        ("file sizes", |f| f.added_bytes),
        ("sparse files' holes", |f| f.sparse_extra_bytes),
    ];
    for (name, figure) in figures {
        let mut sum = 0u64;
        for (i, f) in a.figures.iter().enumerate() {
            sum = sum.checked_add(figure(f)).ok_or_else(|| {
                Error::invalid(
                    input,
                    format!("layer {i}: the layers' {name} add up past 2^64 bytes"),
                )
            })?;
        }
    }
    Ok(())
}

/// The analysis of an image whose layers are not read (`--manifest-only`): each
/// layer's compressed size as the manifest declares it (or the blob's size), the
/// history, an empty tree.
fn manifest_analysis(opened: &Opened) -> Analysis {
    let figures = opened
        .layers
        .iter()
        .map(|l| LayerFigures {
            compressed_bytes: l
                .declared_size
                .or_else(|| opened.store.size(&l.locator))
                .unwrap_or(0),
            ..LayerFigures::default()
        })
        .collect();
    let mut notes = opened.notes.clone();
    notes.push(
        "manifest only: no layer was read, so only compressed sizes, digests and the history \
         are known"
            .to_string(),
    );
    Analysis {
        image: opened.image.clone(),
        layers: opened.layers.clone(),
        figures,
        history: opened.history.clone(),
        history_note: opened.history_note.clone(),
        tree: FsTree::new(),
        captured: Vec::new(),
        watched: Vec::new(),
        readds: Vec::new(),
        unstripped: Vec::new(),
        heads: Vec::new(),
        duplicates: Vec::new(),
        layer_errors: Vec::new(),
        notes,
        manifest_only: true,
    }
}

/// Walks the layers of a one-pass input while they stream by, inside the source.
struct Streamer<'a> {
    policy: VerifyPolicy,
    decoder_limit: crate::bytes::DecoderLimit,
    scan_limits: crate::model::ScanLimits,
    hooks: Hooks<'a>,
    started: AtomicBool,
}

impl MemberWalker for Streamer<'_> {
    fn walk(
        &self,
        member: &StreamedMember<'_>,
        content: Box<dyn std::io::Read + '_>,
    ) -> std::result::Result<LayerScan, LayerErrorKind> {
        if !self.started.swap(true, Ordering::Relaxed) {
            self.hooks.progress.start(None);
        }
        let opts = walk::ScanOptions {
            watch: self.hooks.watch,
            elf: true,
            decoder_limit: self.decoder_limit,
            limits: self.scan_limits,
            ..verify::stream_options(
                member.named_digest.as_deref(),
                self.policy,
                self.hooks.capture,
            )
        };
        walk::scan(content, &opts, self.hooks.progress)
    }
}

/// Read one layer (or take what the stream already walked) and verify it.
fn read_layer(
    opened: &Opened,
    layer: &LayerRef,
    stored_size: Option<u64>,
    policy: VerifyPolicy,
    cache: Option<&Cache>,
    hooks: &Hooks<'_>,
) -> std::result::Result<LayerScan, LayerErrorKind> {
    if !documents::is_tar_layer(layer.media_type.as_deref()) {
        return Err(LayerErrorKind::NotTar(format!(
            "media type {}",
            layer.media_type.as_deref().unwrap_or("?")
        )));
    }
    let arrival = if opened.streamed || opened.remote {
        Arrival::Streamed
    } else {
        Arrival::Local
    };
    let opts = walk::ScanOptions {
        watch: hooks.watch,
        elf: true,
        decoder_limit: opened.decoder_limit,
        limits: opened.scan_limits,
        ..verify::scan_options(layer, policy, arrival, hooks.capture)?
    };
    // Only a blob digest names a scan: cached scans were verified against it.
    let key = match (&layer.check, cache) {
        (DigestCheck::Blob(d), Some(cache)) if policy.checks_anything() => Some((d, cache)),
        _ => None,
    };
    // Held while the layer is walked, so that other workers wait for its entry.
    let _lock = match key.map(|(digest, cache)| (digest, cache.claim(digest))) {
        Some((digest, Claim::Found(scan))) if scan.blob_digest.as_deref() == Some(digest) => {
            hooks.progress.advance(stored_size.unwrap_or(0));
            verify::check(layer, &scan, policy, arrival)?;
            if let Some(c) = hooks.counts {
                c.reused.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(*scan);
        }
        Some((_, Claim::Walk(lock))) => lock,
        _ => None,
    };
    let scan = match opened.store.prescanned(&layer.locator) {
        Some(result) => result?,
        None => {
            if stored_size.is_none() {
                return Err(LayerErrorKind::Missing);
            }
            let reader = opened
                .store
                .open(&layer.locator)
                .map_err(|e| LayerErrorKind::Open(e.to_string()))?;
            walk::scan(reader, &opts, hooks.progress)?
        }
    };
    verify::check(layer, &scan, policy, arrival)?;
    if let Some(c) = hooks.counts {
        c.walked.fetch_add(1, Ordering::Relaxed);
    }
    if let Some((digest, cache)) = key
        && scan.blob_digest.as_deref() == Some(digest.as_str())
    {
        // Best effort: a full disk costs the next run a download, nothing else.
        let _ = cache.put(digest, &scan);
    }
    Ok(scan)
}

/// The merge side of the walk: scans arrive in layer order and go into the tree.
struct Merge {
    tree: FsTree,
    figures: Vec<LayerFigures>,
    errors: Vec<LayerError>,
    captured: Vec<CapturedFile>,
    watched: Vec<WatchedEntry>,
    unstripped: Vec<StripFile>,
    heads: Vec<(u32, u64)>,
}

impl Merge {
    fn layer(&mut self, layer: &mut LayerRef, stored_size: Option<u64>, result: LayerResult) {
        let i = layer.index;
        // Index fits: sources refuse more than u16::MAX layers.
        let merged = result.and_then(|scan| self.tree.apply(i as u16, &scan).map(|s| (scan, s)));
        let (mut scan, stats) = match merged {
            Ok(done) => done,
            Err(kind) => {
                self.figures[i].compressed_bytes = layer.declared_size.or(stored_size).unwrap_or(0);
                self.errors.push(LayerError {
                    index: i,
                    name: layer.name(),
                    kind,
                });
                return;
            }
        };
        for w in std::mem::take(&mut scan.watched) {
            let e = scan.entries[w.entry as usize];
            self.watched.push(WatchedEntry {
                layer: i,
                path: scan.path(e.path),
                kind: e.kind,
                size: e.size,
                mode: w.mode,
                uid: w.uid,
                gid: w.gid,
            });
        }
        self.content_facts(i, &scan);
        for (entry, content) in std::mem::take(&mut scan.captured) {
            self.captured.push(CapturedFile {
                layer: i,
                path: scan.path(scan.entries[entry as usize].path),
                content,
            });
        }
        if layer.digest.is_none() {
            // An uncompressed blob's digest is its diff_id.
            let plain = scan.figures.compression == Some(crate::bytes::Compression::Tar);
            layer.digest = scan
                .blob_digest
                .take()
                .or_else(|| plain.then(|| layer.diff_id.clone()).flatten());
        }
        scan.figures.dangling_hardlinks = stats.dangling_hardlinks;
        self.figures[i] = scan.figures;
    }
}

impl Merge {
    /// The inode the merge just gave entry `entry` of layer `i`, when it is still
    /// that entry's (the last entry of a path in the layer is the one that stays).
    /// `path` is room for the entry's path, reused from call to call.
    fn inode_of(&self, i: usize, scan: &LayerScan, entry: u32, path: &mut Vec<u8>) -> Option<u32> {
        let e = scan.entries.get(entry as usize)?;
        scan.paths().write(e.path, path);
        let inode = self.tree.inode(self.tree.lookup(path)?)?;
        let ino = self.tree.inodes().get(inode as usize)?;
        (usize::from(ino.layer) == i && ino.size == e.size).then_some(inode)
    }

    /// The ELF files of layer `i` that `strip` would shrink, and the fingerprints of
    /// its files' first bytes, by inode.
    fn content_facts(&mut self, i: usize, scan: &LayerScan) {
        let mut path = Vec::new();
        for u in &scan.unstripped {
            if let Some(inode) = self.inode_of(i, scan, u.entry, &mut path) {
                self.unstripped.push(StripFile {
                    inode,
                    saving: u.saving,
                    toolchain: u.toolchain,
                });
            }
        }
        for &(entry, print) in &scan.heads {
            if let Some(inode) = self.inode_of(i, scan, entry, &mut path) {
                self.heads.push((inode, print));
            }
        }
    }
}

/// Layers of a registry image fetched (and walked) at once: a download waits on the
/// network as much as it decompresses, so more than one per core keeps both busy.
const REMOTE_WIDTH: usize = 4;

/// What reading one layer gave.
type LayerResult = std::result::Result<LayerScan, LayerErrorKind>;

/// Walk and merge every layer of `opened`.
fn walk_layers(
    opened: &Opened,
    policy: VerifyPolicy,
    cache: Option<&Cache>,
    hooks: &Hooks<'_>,
) -> Analysis {
    let sizes: Vec<Option<u64>> = opened
        .layers
        .iter()
        .map(|l| opened.store.size(&l.locator))
        .collect();
    let jobs: Vec<(usize, u64)> = sizes
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.unwrap_or(0)))
        .collect();
    if !opened.streamed {
        hooks.progress.start(Some(jobs.iter().map(|j| j.1).sum()));
    }
    let mut merge = Merge {
        tree: FsTree::new(),
        figures: vec![LayerFigures::default(); opened.layers.len()],
        errors: Vec::new(),
        captured: Vec::new(),
        watched: Vec::new(),
        unstripped: Vec::new(),
        heads: Vec::new(),
    };
    let mut layers = opened.layers.clone();
    let (slots, uses) = blob_slots(&opened.layers);
    // Only a blob listed more than once is kept after its merge.
    let memo: Vec<OnceLock<Arc<LayerResult>>> = (0..uses.len()).map(|_| OnceLock::new()).collect();
    parallel::ordered_wide(
        &jobs,
        opened.remote.then_some(REMOTE_WIDTH),
        |i| {
            let read_it = || read_layer(opened, &opened.layers[i], sizes[i], policy, cache, hooks);
            if uses[slots[i]] == 1 {
                return Arc::new(read_it());
            }
            let mut read = false;
            let result = memo[slots[i]].get_or_init(|| {
                read = true;
                Arc::new(read_it())
            });
            if !read {
                hooks.progress.advance(sizes[i].unwrap_or(0));
            }
            result.clone()
        },
        // A blob read for one listing moves into the merge; one shared by several
        // listings is copied for each.
        |i, result| merge.layer(&mut layers[i], sizes[i], Arc::unwrap_or_clone(result)),
    );
    hooks.progress.finish();
    merge.finish(opened, layers)
}

/// Each listing's blob slot, and how many listings each slot has: a blob listed
/// several times (the same locator, digest and declared size) is read once, and every
/// listing is merged, as the image says.
fn blob_slots(layers: &[LayerRef]) -> (Vec<usize>, Vec<usize>) {
    let mut slot_of: HashMap<(&str, Option<&str>, Option<u64>), usize> = HashMap::new();
    let slots: Vec<usize> = layers
        .iter()
        .map(|l| {
            let next = slot_of.len();
            *slot_of
                .entry((l.locator.as_str(), l.digest.as_deref(), l.declared_size))
                .or_insert(next)
        })
        .collect();
    let mut uses = vec![0usize; slot_of.len()];
    for &slot in &slots {
        uses[slot] += 1;
    }
    (slots, uses)
}

impl Merge {
    /// The analysis of the merged layers: each layer's visible bytes, errors in order.
    fn finish(mut self, opened: &Opened, layers: Vec<LayerRef>) -> Analysis {
        for (figures, visible) in self
            .figures
            .iter_mut()
            .zip(self.tree.visible_bytes(layers.len()))
        {
            figures.content_bytes = visible;
        }
        self.errors.sort_by_key(|e| e.index);
        Analysis {
            image: opened.image.clone(),
            layers,
            figures: self.figures,
            history: opened.history.clone(),
            history_note: opened.history_note.clone(),
            tree: self.tree,
            captured: self.captured,
            watched: self.watched,
            readds: Vec::new(),
            unstripped: self.unstripped,
            heads: self.heads,
            duplicates: Vec::new(),
            layer_errors: self.errors,
            notes: opened.notes.clone(),
            manifest_only: false,
        }
    }
}
