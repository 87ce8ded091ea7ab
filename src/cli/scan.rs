//! `imgsize scan`: many images in one run, for fleet dashboards. The names come from
//! the command line and `--images FILE`; `--shard I/N` (or `--shards N` with the index
//! from `JOB_COMPLETION_INDEX`) keeps the names whose FNV-1a 64 hash falls in this
//! shard. Each image is read with `imgsize::run`, as `report` reads it, and written as
//! one JSON line (`render::json::record`); an image that fails is an error line and the
//! scan goes on. Progress and the summary go to stderr, made visible.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use imgsize::Hooks;
use imgsize::analyze::Report;
use imgsize::render::format::{size, visible};
use imgsize::render::json::{RECORD_CATEGORIES, error_record, record};
use imgsize::source::registry::catalog;

use super::progress::Bar;
use super::{CommonArgs, EXIT_FAILED, EXIT_OK, named, no_tree};

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
    /// With --registry: the page size asked of the catalog and tag lists (for tests).
    #[arg(long, value_name = "N", hide = true, default_value_t = catalog::PAGE_SIZE)]
    page_size: usize,
    /// Write the records to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
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
    let mut seen = HashSet::new();
    all.retain(|n| seen.insert(n.clone()));
    if all.is_empty() {
        anyhow::bail!("no images to scan: give their names, --images FILE or --registry HOST");
    }
    Ok(all)
}

/// What the scan saw, for the summary line and the exit code.
#[derive(Default)]
struct Tally {
    images: usize,
    errors: usize,
    incomplete: usize,
    stored_bytes: u64,
    /// Stored bytes by layer digest (diff_id when the blob has none), each once.
    layers: HashMap<String, u64>,
    /// Layers named by no digest: each counted as distinct.
    unnamed: (usize, u64),
}

impl Tally {
    fn add(&mut self, r: &Report) {
        self.images += 1;
        self.incomplete += usize::from(!r.complete);
        self.stored_bytes = self.stored_bytes.saturating_add(r.totals.stored_bytes);
        for l in &r.layers {
            match l.digest.as_ref().or(l.diff_id.as_ref()) {
                Some(d) => {
                    self.layers.insert(d.clone(), l.added_bytes);
                }
                None => {
                    self.unnamed.0 += 1;
                    self.unnamed.1 = self.unnamed.1.saturating_add(l.added_bytes);
                }
            }
        }
    }

    fn summary(&self) -> String {
        let distinct = self
            .layers
            .values()
            .fold(self.unnamed.1, |sum, b| sum.saturating_add(*b));
        format!(
            "imgsize: scanned {} images, {} errors, {} incomplete; {} distinct layers; \
             stored {} summed over images, {} over distinct layers",
            self.images + self.errors,
            self.errors,
            self.incomplete,
            self.layers.len() + self.unnamed.0,
            size(self.stored_bytes),
            size(distinct),
        )
    }
}

/// Where the records go: standard output or `--output FILE`.
fn output(args: &ScanArgs) -> Result<Box<dyn Write>> {
    Ok(match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    })
}

/// One image read: its JSON line and its progress line.
fn scan_one(
    args: &ScanArgs,
    name: &str,
    options: &imgsize::Options,
    tally: &mut Tally,
) -> (String, String) {
    let bar = Bar::new(!args.common.no_progress);
    let hooks = Hooks {
        progress: &bar,
        ..Hooks::default()
    };
    let line = match imgsize::run(name, options, &hooks) {
        Ok(report) => {
            tally.add(&report);
            let mut said = if report.manifest_only {
                format!("compressed {}", size(report.totals.compressed_bytes))
            } else {
                format!("stored {}", size(report.totals.stored_bytes))
            };
            said.push_str(&format!(", {} layers", report.layers.len()));
            if !report.complete {
                said.push_str(&format!(", incomplete: {}", report.problems.join("; ")));
            }
            (serde_json::to_string(&record(&report, name)), said)
        }
        Err(e) => {
            tally.errors += 1;
            let message = named(name, &e, args.common.platform.is_some()).to_string();
            let message = message.replace(['\n', '\r'], " ");
            // The line starts with the name already.
            let prefix = format!("{name}: ");
            let said = format!(
                "error: {}",
                message.strip_prefix(&prefix).unwrap_or(&message)
            );
            (serde_json::to_string(&error_record(name, &message)), said)
        }
    };
    let (json, said) = line;
    (json.unwrap_or_default(), said)
}

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
    let mut out = output(args)?;
    let mut tally = Tally::default();
    let n = names.len();
    for (k, name) in names.iter().enumerate() {
        let (json, said) = scan_one(args, name, &options, &mut tally);
        let written = writeln!(out, "{json}").and_then(|()| out.flush());
        match written {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe && args.output.is_none() => {
                return Ok(EXIT_OK);
            }
            Err(e) => return Err(e).context("cannot write the scan records"),
            Ok(()) => {}
        }
        if !args.common.no_progress {
            eprintln!("[{}/{n}] {}", k + 1, visible(&format!("{name}: {said}")));
        }
    }
    if !args.common.no_progress {
        eprintln!("{}", tally.summary());
    }
    Ok(if tally.errors + tally.incomplete > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
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
