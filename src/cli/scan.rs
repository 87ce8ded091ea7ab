//! `imgsize scan`: many images in one run, for fleet dashboards. The names come from
//! the command line and `--images FILE`; `--shard I/N` (or `--shards N` with the index
//! from `JOB_COMPLETION_INDEX`) keeps the names whose FNV-1a 64 hash falls in this
//! shard. Each image is read with `imgsize::run`, as `report` reads it, and written as
//! one JSON line (`render::json::record`) to stdout, a file or a Redis run (which also
//! tells the names it has read, skipped on a restart); an image that fails is an error
//! line and the scan goes on. Progress (with the layers walked and reused and the bytes
//! downloaded) and the summary go to stderr, made visible; `--fleet FILE` writes the
//! fleet report at the end.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{Context, Result};
use clap::Args;

use imgsize::Hooks;
use imgsize::analyze::fleet::fleet;
use imgsize::model::record::Record;
use imgsize::pipeline::ReadCounts;
use imgsize::render::Document;
use imgsize::render::format::{size, visible};
use imgsize::render::json::{RECORD_CATEGORIES, error_record, record, safe};
use imgsize::source::engine::Kind;
use imgsize::source::engine_images;
use imgsize::source::records::{Run, is_run};
use imgsize::source::registry::catalog;
use imgsize::source::registry::download::downloaded_bytes;

use super::progress::Bar;
use super::{CommonArgs, EXIT_FAILED, EXIT_OK, named, no_tree, note};

/// The variable a Kubernetes Indexed Job sets to the pod's index.
const INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";

#[derive(Debug, Args)]
pub(super) struct ScanArgs {
    /// Images to read: any input `report` takes (archives, OCI layouts, registry names).
    names: Vec<String>,
    /// A file of image names, one a line (blank lines and `#` comments are skipped);
    /// `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    images: Option<PathBuf>,
    /// Read only shard I of N: the names whose FNV-1a 64 hash modulo N is I.
    #[arg(long, value_name = "I/N", conflicts_with = "shards")]
    shard: Option<String>,
    /// N shards, this one's index read from JOB_COMPLETION_INDEX (a Kubernetes Indexed
    /// Job).
    #[arg(long, value_name = "N")]
    shards: Option<String>,
    /// Add every image of this registry (HOST or HOST:PORT) that --repositories and
    /// --tags pick, as HOST/repository:tag, listed from /v2/_catalog and each
    /// repository's /v2/<name>/tags/list.
    #[arg(long, value_name = "HOST[:PORT]")]
    registry: Option<String>,
    /// With --registry: the repositories to list, a path glob (`*` within one path
    /// segment, `**` across segments).
    #[arg(long, value_name = "GLOB", default_value = "*", requires = "registry")]
    repositories: String,
    /// With --registry: the tags to list, globs with `|` alternatives (`latest|v*`),
    /// each over the whole tag; every tag when not given.
    #[arg(long, value_name = "GLOB", requires = "registry")]
    tags: Option<String>,
    /// Add every tagged image of a local engine (`docker`: as docker-daemon:REPO:TAG;
    /// `podman`: as containers-storage:REPO:TAG), each once.
    #[arg(long, value_enum, value_name = "ENGINE")]
    engine: Option<EngineKind>,
    /// With --registry: the page size asked of the catalog and tag lists (for tests).
    #[arg(long, value_name = "N", hide = true, default_value_t = catalog::PAGE_SIZE)]
    page_size: usize,
    /// Write the records to this file instead of standard output, or push them to a
    /// Redis run (`redis://host:port/db/RUN`) that `imgsize fleet` reads: kept by
    /// image digest, and the names the run has read already are skipped.
    #[arg(long, value_name = "FILE|URL")]
    output: Option<String>,
    /// Images read at a time (each also reads its layers in parallel): a second one
    /// downloads while the first is walked.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// With a Redis --output: read the names the run has read already again.
    #[arg(long)]
    rescan: bool,
    /// At the end, write the fleet report of the records (of the whole run, with a
    /// Redis --output) to this file: JSON, markdown or HTML by its extension (`.json`,
    /// `.md`, `.html`), else a table.
    #[arg(long, value_name = "FILE")]
    fleet: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `--engine`: which local engine's images to add.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum EngineKind {
    Docker,
    Podman,
}

/// FNV-1a, 64 bits, of a name's bytes: the stable hash shards are cut by.
pub(super) fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `--shard I/N` or `--shards N` with the index from the environment, as `(I, N)`.
fn shard(args: &ScanArgs) -> Result<Option<(u64, u64)>> {
    let count = |text: &str, flag: &str| -> Result<u64> {
        match text.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => anyhow::bail!("{flag}: `{text}` is not a shard count (a whole number, 1 or more)"),
        }
    };
    let (index, total) = if let Some(spec) = &args.shard {
        let Some((i, n)) = spec.split_once('/') else {
            anyhow::bail!("--shard: `{spec}` is not I/N (like 0/4)");
        };
        let total = count(n, "--shard")?;
        let Ok(index) = i.trim().parse::<u64>() else {
            anyhow::bail!("--shard: `{spec}`: the index `{i}` is not a whole number");
        };
        if index >= total {
            anyhow::bail!(
                "--shard: `{spec}`: the index must be below {total} (0 to {})",
                total - 1
            );
        }
        (index, total)
    } else if let Some(n) = &args.shards {
        let total = count(n, "--shards")?;
        let Ok(value) = std::env::var(INDEX_VARIABLE) else {
            anyhow::bail!("--shards needs {INDEX_VARIABLE}, the shard's index, and it is not set");
        };
        match value.trim().parse::<u64>() {
            Ok(index) if index < total => (index, total),
            _ => anyhow::bail!(
                "{INDEX_VARIABLE}=`{value}` is not a shard index below {total}, as --shards {total} needs"
            ),
        }
    } else {
        return Ok(None);
    };
    Ok(Some((index, total)))
}

/// The names of a file of names: one a line, trimmed; blank lines and `#` comments
/// skipped.
fn read_names(reader: impl BufRead, from: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for line in reader.lines() {
        let line = line.with_context(|| format!("cannot read {from}"))?;
        let name = line.trim();
        if !name.is_empty() && !name.starts_with('#') {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Every name to scan, the command line's first, then the list's, then the registry's,
/// each once, in the order first given.
fn names(
    args: &ScanArgs,
    registry: &imgsize::source::registry::RegistryOptions,
) -> Result<Vec<String>> {
    let mut all = args.names.clone();
    match &args.images {
        Some(path) if path.as_os_str() == "-" => {
            if args.names.iter().any(|n| n == "-") {
                anyhow::bail!("--images - and the image - both need standard input");
            }
            all.extend(read_names(io::stdin().lock(), "standard input")?);
        }
        Some(path) => {
            let file = File::open(path)
                .with_context(|| format!("cannot read the image list {}", path.display()))?;
            all.extend(read_names(
                BufReader::new(file),
                &path.display().to_string(),
            )?);
        }
        None => {}
    }
    if let Some(host) = &args.registry {
        let listing = catalog::Listing {
            host,
            repositories: &args.repositories,
            tags: args.tags.as_deref(),
            page_size: args.page_size,
        };
        all.extend(catalog::list(&listing, registry)?);
    }
    if let Some(kind) = args.engine {
        let (listed, untagged) = engine_images(match kind {
            EngineKind::Docker => Kind::Docker,
            EngineKind::Podman => Kind::Podman,
        })?;
        if untagged > 0 {
            note(&format!(
                "{untagged} untagged images of the engine are left out (name one by its id to read it)"
            ));
        }
        all.extend(listed);
    }
    let mut seen = HashSet::new();
    all.retain(|n| seen.insert(n.clone()));
    if all.is_empty() {
        anyhow::bail!(
            "no images to scan: give their names, --images FILE, --registry HOST or --engine ENGINE"
        );
    }
    Ok(all)
}

/// Where the records go: standard output, `--output FILE`, or a Redis run.
enum Sink {
    Stream(Box<dyn Write>),
    Run(Run),
}

impl Sink {
    fn open(args: &ScanArgs) -> Result<Sink> {
        Ok(match args.output.as_deref() {
            Some(url) if is_run(url) => Sink::Run(Run::open(url)?),
            Some(path) => Sink::Stream(Box::new(
                File::create(path).with_context(|| format!("cannot write {path}"))?,
            )),
            None => Sink::Stream(Box::new(io::stdout().lock())),
        })
    }

    /// Write one record; `false` when standard output was closed (`| head`).
    fn put(&mut self, record: &Record, json: &str, to_stdout: bool) -> Result<bool> {
        match self {
            Sink::Run(run) => run.put(record, json)?,
            Sink::Stream(out) => match writeln!(out, "{json}").and_then(|()| out.flush()) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe && to_stdout => {
                    return Ok(false);
                }
                Err(e) => return Err(e).context("cannot write the scan records"),
                Ok(()) => {}
            },
        }
        Ok(true)
    }
}

/// The layers walked and reused and the bytes downloaded.
#[derive(Clone, Copy, Default)]
struct Moved {
    walked: u64,
    reused: u64,
    downloaded: u64,
}

impl Moved {
    fn add(&mut self, counts: &ReadCounts) {
        self.walked += counts.walked();
        self.reused += counts.reused();
    }

    fn said(self) -> String {
        format!(
            "{}; downloaded {}",
            layers_said(self.walked, self.reused),
            size(self.downloaded)
        )
    }
}

/// The layers walked and the layers a cache gave, in words.
fn layers_said(walked: u64, reused: u64) -> String {
    format!("layers walked {walked}, reused {reused}")
}

/// The summary line of a scan's records.
fn summary(records: &[Record], moved: Moved) -> String {
    let t = fleet(records.to_vec(), Vec::new(), None).totals;
    format!(
        "imgsize: scanned {} images, {} errors, {} incomplete; {} distinct layers; \
         stored {} summed over images, {} over distinct layers; {}",
        records.len(),
        t.errors,
        t.incomplete,
        t.distinct_layers,
        size(t.stored_bytes),
        size(t.distinct_stored_bytes),
        moved.said(),
    )
}

/// One image read: its record and its progress line.
fn scan_one(
    args: &ScanArgs,
    name: &str,
    options: &imgsize::Options,
    counts: &ReadCounts,
) -> (Record, String) {
    // One bar at a time: none when images are read side by side.
    let bar = Bar::new(!args.common.no_progress && args.jobs == 1);
    let hooks = Hooks {
        progress: &bar,
        counts: Some(counts),
        ..Hooks::default()
    };
    match imgsize::run(name, options, &hooks) {
        Ok(report) => {
            let mut said = if report.manifest_only {
                format!("compressed {}", size(report.totals.compressed_bytes))
            } else {
                format!("stored {}", size(report.totals.stored_bytes))
            };
            said.push_str(&format!(", {} layers", report.layers.len()));
            if !report.complete {
                said.push_str(&format!(", incomplete: {}", report.problems.join("; ")));
            }
            (record(&report, name), said)
        }
        Err(e) => {
            let message = named(name, &e, args.common.platform.is_some()).to_string();
            let message = message.replace(['\n', '\r'], " ");
            // The line starts with the name already.
            let prefix = format!("{name}: ");
            let said = format!(
                "error: {}",
                message.strip_prefix(&prefix).unwrap_or(&message)
            );
            (error_record(name, &message), said)
        }
    }
}

/// Leave out the names a Redis run has read already (unless `--rescan`), saying so.
fn resume(args: &ScanArgs, sink: &mut Sink, names: &mut Vec<String>) -> Result<()> {
    let Sink::Run(run) = sink else {
        return Ok(());
    };
    if args.rescan {
        return Ok(());
    }
    let done = run.done()?;
    let before = names.len();
    names.retain(|n| !done.contains(n));
    if names.len() < before {
        note(&format!(
            "{} of {before} images were read into {} already; skipping them (--rescan reads them again)",
            before - names.len(),
            run.shown()
        ));
    }
    Ok(())
}

/// `--fleet FILE`: the fleet report of the whole run (a Redis output) or of this
/// scan's records.
fn write_fleet(args: &ScanArgs, sink: &mut Sink, records: Vec<Record>) -> Result<()> {
    let Some(path) = &args.fleet else {
        return Ok(());
    };
    let (records, sources) = match sink {
        Sink::Run(run) => (run.records()?, vec![run.shown().to_string()]),
        Sink::Stream(_) => (records, vec!["imgsize scan".to_string()]),
    };
    let f = super::fleet::build(records, &sources, None)?;
    let mut buf = Vec::new();
    super::fleet::renderer_for(path)
        .render(&Document::Fleet(&f, FLEET_TOP), &mut buf)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    std::fs::write(path, buf).with_context(|| format!("cannot write {}", path.display()))
}

/// Rows of each list in `--fleet`'s report.
const FLEET_TOP: usize = 10;

/// `imgsize scan`: exit 0 when every image was read whole, 1 when some failed or was
/// read incompletely, 2 for bad usage.
pub(super) fn scan(args: &ScanArgs) -> Result<u8> {
    no_tree(&args.common, "scan")?;
    if args.common.dockerfile.is_some() {
        anyhow::bail!("--dockerfile describes one image; scan reads many and takes none");
    }
    let shard = shard(args)?;
    let stdin = args.images.as_ref().is_some_and(|p| p.as_os_str() == "-");
    let mut inputs: Vec<&str> = args.names.iter().map(String::as_str).collect();
    if stdin {
        inputs.push("-");
    }
    let mut options = args.common.options(&inputs)?;
    options.summary.top = options.summary.top.max(RECORD_CATEGORIES);
    let mut names = names(args, &options.select.registry)?;
    if let Some((index, total)) = shard {
        names.retain(|n| fnv1a(n) % total == index);
    }
    let mut sink = Sink::open(args)?;
    resume(args, &mut sink, &mut names)?;
    let downloaded = downloaded_bytes();
    let (records, mut moved) = match read_all(args, &names, &options, &mut sink)? {
        Some(done) => done,
        None => return Ok(EXIT_OK),
    };
    moved.downloaded = downloaded_bytes() - downloaded;
    if !args.common.no_progress {
        eprintln!("{}", summary(&records, moved));
    }
    let failed = records.iter().any(|r| match r {
        Record::Image(i) => !i.complete,
        Record::Error(_) => true,
    });
    write_fleet(args, &mut sink, records)?;
    Ok(if failed { EXIT_FAILED } else { EXIT_OK })
}

/// One image done: its index in the names, record, progress words and counts.
type Done = (usize, Record, String, ReadCounts);

/// Read every name, `--jobs` at a time, writing the records in the names' order;
/// `None` when standard output was closed.
fn read_all(
    args: &ScanArgs,
    names: &[String],
    options: &imgsize::Options,
    sink: &mut Sink,
) -> Result<Option<(Vec<Record>, Moved)>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Done>();
    std::thread::scope(|s| {
        for _ in 0..args.jobs.min(names.len().max(1) as u16) {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let counts = ReadCounts::default();
                    let (rec, said) = scan_one(args, name, options, &counts);
                    if tx.send((i, rec, said, counts)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let written = write_in_order(args, names, rx, sink);
        stop.store(true, Ordering::Relaxed);
        written
    })
}

/// Write the records as they come, in the names' order, with a progress line each.
fn write_in_order(
    args: &ScanArgs,
    names: &[String],
    rx: mpsc::Receiver<Done>,
    sink: &mut Sink,
) -> Result<Option<(Vec<Record>, Moved)>> {
    let mut pending: BTreeMap<usize, (Record, String, ReadCounts)> = BTreeMap::new();
    let mut records = Vec::with_capacity(names.len());
    let mut moved = Moved::default();
    let n = names.len();
    for (i, rec, said, counts) in rx {
        pending.insert(i, (rec, said, counts));
        while let Some((rec, said, counts)) = pending.remove(&records.len()) {
            let k = records.len();
            let json = safe::to_line(&rec).context("cannot write a scan record")?;
            if !sink.put(&rec, &json, args.output.is_none())? {
                return Ok(None);
            }
            moved.add(&counts);
            if !args.common.no_progress {
                eprintln!(
                    "[{}/{n}] {}; {}",
                    k + 1,
                    visible(&format!("{}: {said}", names[k])),
                    layers_said(counts.walked(), counts.reused()),
                );
            }
            records.push(rec);
        }
    }
    Ok(Some((records, moved)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_the_published_function() {
        // The FNV reference vectors for 64-bit FNV-1a.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_name_list_skips_blank_lines_and_comments() {
        let text = "# fleet\napp.tar\n\n  python:3.12  \n# done\n";
        let names = read_names(text.as_bytes(), "list").expect("read");
        assert_eq!(names, ["app.tar", "python:3.12"]);
    }
}
