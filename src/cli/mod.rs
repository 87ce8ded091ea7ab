//! The command line: clap arguments turned into validated options, the progress bar,
//! and the mapping of outcomes to exit codes (0 fine, 1 a budget failed, 2 an error).
//! The only place `anyhow` lives.

mod cache;
mod commands;
mod fix;
mod fleet;
mod generate;
mod init;
mod messages;
mod progress;
mod registry;
mod scan;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use cache::CacheArgs;
use commands::command;
use imgsize::analyze::Budget;
use imgsize::analyze::SummaryOptions;
use imgsize::analyze::fix::Selection;
use imgsize::bytes::{DecoderLimit, VerifyPolicy};
use imgsize::model::ScanLimits;
use imgsize::render::format::visible;
use imgsize::render::{Document, Github, Html, Json, Junit, Markdown, Renderer, Sarif, Table};
use imgsize::source::{NameSource, PlatformSpec, SelectOptions};
use imgsize::{Hooks, Options};
use messages::{hinted, named, note, say, with_input};
use progress::Bar;
use registry::RegistryArgs;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: a budget failed (`imgsize check`).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: an error (bad input, unreadable layer, bad usage).
pub const EXIT_ERROR: u8 = 2;

/// Where the bytes of a container image come from, and what would remove them.
#[derive(Debug, Parser)]
#[command(name = "imgsize", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Report sizes by layer, instruction and path, and the waste.
    Report(ReportArgs),
    /// The history of one path or folder across the layers: who added, overwrote,
    /// re-added with another mode or owner, or deleted it, with sizes.
    Explain(ExplainArgs),
    /// Check the image against size budgets (imgsize.toml, --limit): exit 0 when all
    /// hold, 1 when one fails, 2 when the check cannot be done.
    Check(CheckArgs),
    /// What changed between two images (or a saved JSON report and an image): totals,
    /// categories, layers, paths, packages and findings.
    Diff(DiffArgs),
    /// The suggestions written into the Dockerfile that built the image (given with
    /// --dockerfile) and its .dockerignore: printed as a unified diff, or written with
    /// --write. Fixes that are not a change of one instruction yet are listed apart.
    Fix(FixArgs),
    /// Many images, one JSON line each (names and/or --images FILE, --shard I/N): exit
    /// 0 when all were read, 1 when some failed, 2 for bad usage.
    Scan(scan::ScanArgs),
    /// The fleet report of scan records (files of JSON lines, Redis runs): bytes over
    /// images and over distinct layers, shared layers, base families, findings with a
    /// shared layer's fix counted once, the largest images, the change since a baseline.
    Fleet(fleet::FleetArgs),
    /// Write a first budget file for `check` (imgsize.toml) from the image as it is
    /// today: each total plus a headroom (--headroom, default 10%), and 0 for the
    /// caches and leftovers it is free of.
    Init(init::InitArgs),
    /// Print the completion script for a shell (bash, zsh, fish, powershell, elvish).
    Completions(generate::CompletionsArgs),
    /// Print imgsize's man page (or a command's), or write them all with --out DIR.
    Man(generate::ManArgs),
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The old side: an image (any input `report` reads) or a saved
    /// `imgsize report --format json` (or `check --format json`).
    old: String,
    /// The new side, the same way.
    new: String,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    report: ReportArgs,
    /// The budget file (default: imgsize.toml in the working directory, if there is one).
    #[arg(long, value_name = "FILE", env = "IMGSIZE_BUDGET")]
    budget: Option<PathBuf>,
    /// A limit, as KEY=VALUE with the budget file's keys (`compressed=200MB`,
    /// `paths./root/.cache/**=0`, `rules.pip-cache=0`); replaces the file's. Repeatable.
    #[arg(long = "limit", value_name = "KEY=VALUE")]
    limits: Vec<String>,
    /// An earlier `imgsize report --format json` to measure growth against.
    #[arg(long, value_name = "REPORT.json")]
    baseline: Option<PathBuf>,
    /// Also write the verdict as SARIF 2.1.0 to this file.
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// Also write the verdict as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write the verdict as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write the verdict as markdown to this file (a pull-request comment).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    #[command(flatten)]
    report: ReportArgs,
    /// The path or folder in the image (`/app`, `/root/.cache/pip`).
    path: String,
}

#[derive(Debug, Args)]
struct FixArgs {
    #[command(flatten)]
    report: ReportArgs,
    /// The build context, where `.dockerignore` is (default: the Dockerfile's folder).
    #[arg(long, value_name = "DIR")]
    context: Option<PathBuf>,
    /// Write the changed files instead of printing the diff.
    #[arg(long)]
    write: bool,
    /// Write only this rule's findings (repeat for more; default: every high- and
    /// medium-confidence finding of your layers, a multi-stage build when it applies).
    #[arg(long = "rule", value_name = "RULE")]
    rules: Vec<String>,
    /// Never write this rule's findings (repeat for more): `--skip-rule multi-stage`
    /// writes the fixes in place.
    #[arg(long = "skip-rule", value_name = "RULE")]
    skip_rules: Vec<String>,
    /// The runtime stage's base image (default: the base's slim variant when imgsize
    /// knows its name, else the base).
    #[arg(long, value_name = "IMAGE")]
    runtime_base: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Table,
    Json,
    /// GitHub-flavoured markdown (a pull-request comment).
    Markdown,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
    /// One self-contained HTML page: a treemap, the layers, the suggestions, the
    /// tables.
    Html,
}

/// `--source`: where an image name is looked for.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Source {
    /// The Docker Engine, then Podman, then the registry.
    Auto,
    /// The local engines only.
    Engine,
    /// The registry only.
    Registry,
}

impl From<Source> for NameSource {
    fn from(s: Source) -> Self {
        match s {
            Source::Auto => NameSource::Auto,
            Source::Engine => NameSource::Engine,
            Source::Registry => NameSource::Registry,
        }
    }
}

/// `--verify`: which blobs are hashed against their digests.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Verify {
    /// Metadata, streamed layers (stdin, compressed archives) and compressed layers;
    /// uncompressed local layers get their sizes and tar structure checked.
    Auto,
    /// Every blob, uncompressed local layers too.
    All,
    /// Nothing: no digests, no declared sizes.
    None,
}

impl From<Verify> for VerifyPolicy {
    fn from(v: Verify) -> Self {
        match v {
            Verify::Auto => VerifyPolicy::Auto,
            Verify::All => VerifyPolicy::All,
            Verify::None => VerifyPolicy::None,
        }
    }
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// A docker-save archive, an OCI archive or layout directory (gzip/zstd/xz-compressed
    /// archives too), - for standard input, or an image in a registry
    /// (`ghcr.io/org/app:1.2`, `python:3.12`, `host:5000/app@sha256:…`; `docker://` or
    /// `registry://` in front when it could be mistaken for a path).
    image: String,
    #[command(flatten)]
    common: CommonArgs,
}

impl std::ops::Deref for ReportArgs {
    type Target = CommonArgs;

    fn deref(&self) -> &CommonArgs {
        &self.common
    }
}

/// The flags every command that reads images shares.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Output format (each command offers those it can print).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table, env = "IMGSIZE_FORMAT")]
    format: OutputFormat,
    /// Rows shown in the path and waste tables.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
    /// Directory depth of the path table (1 = /usr, 2 = /usr/lib, ...).
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    depth: u16,
    /// Platform to pick from a multi-arch image, as os/arch[/variant] (default: the host's).
    #[arg(long, value_name = "OS/ARCH", env = "IMGSIZE_PLATFORM")]
    platform: Option<String>,
    /// Which image of an archive that holds several (a tag, name or digest; default: the first).
    #[arg(long = "image", value_name = "TAG")]
    select: Option<String>,
    /// How many layers the base image has (default: read off the history).
    #[arg(long, value_name = "N")]
    base_layers: Option<usize>,
    /// Which blobs to check against their digests.
    #[arg(long, value_enum, default_value_t = Verify::Auto, env = "IMGSIZE_VERIFY")]
    verify: Verify,
    /// The same as --verify none.
    #[arg(long)]
    no_verify: bool,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Table width (default: the terminal's, or COLUMNS, or 120).
    #[arg(long, value_name = "COLUMNS")]
    width: Option<u16>,
    /// The Dockerfile the image was built from: layers, findings and failed budgets
    /// get its `file:line`.
    #[arg(long, value_name = "PATH")]
    dockerfile: Option<PathBuf>,
    /// The stage of the Dockerfile the image is (default: the last).
    #[arg(long, value_name = "STAGE", requires = "dockerfile")]
    target: Option<String>,
    /// Read only the manifest and config, no layer: compressed sizes per layer and the
    /// history, in seconds for any image size (`check` can gate on compressed and layers).
    #[arg(long)]
    manifest_only: bool,
    /// Where an image name (not a path, no `docker-daemon:` or `docker://` prefix) is
    /// looked for: `auto` tries the local engines that answer, then the registry.
    #[arg(long, value_enum, default_value_t = Source::Auto, env = "IMGSIZE_SOURCE")]
    source: Source,
    /// The memory one decoder may use for a zstd window or an xz dictionary, as
    /// `128MiB` or `2GiB` (default 128 MiB; at least 1 MiB). Layers decoded in parallel
    /// each get this much.
    #[arg(long, value_name = "SIZE", value_parser = decoder_memory, env = "IMGSIZE_MAX_DECODER_MEMORY")]
    max_decoder_memory: Option<u64>,
    /// The most distinct paths (files, folders, hardlink targets) one layer may hold,
    /// and entries it may keep (default 4000000); a layer past it is reported
    /// unreadable and the others are still read.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), env = "IMGSIZE_MAX_LAYER_PATHS")]
    max_layer_paths: Option<u64>,
    /// The most bytes of distinct path names one layer may hold, as `256MiB` or `1GiB`
    /// (default 256 MiB; at most 4 GiB).
    #[arg(long, value_name = "SIZE", value_parser = layer_names, env = "IMGSIZE_MAX_LAYER_NAMES")]
    max_layer_names: Option<u64>,
    /// Put the final filesystem in the JSON report as a tree (`tree`), cut to
    /// --tree-nodes nodes; the HTML report always has it.
    #[arg(long)]
    tree: bool,
    /// Most nodes of that tree: entries too small for a node of their own are
    /// folded into one "pruned" node per folder, which says what it holds.
    #[arg(
        long,
        default_value_t = imgsize::analyze::treemap::DEFAULT_NODES,
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    tree_nodes: usize,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    cache: CacheArgs,
}

fn table_width(flag: Option<u16>) -> u16 {
    if let Some(w) = flag {
        return w.max(40);
    }
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return w.max(40);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
        .unwrap_or(120)
        .max(40)
}

/// A `--max-decoder-memory` value: a size of at least 1 MiB.
fn decoder_memory(text: &str) -> std::result::Result<u64, String> {
    let bytes = imgsize::analyze::budget::parse_size(text)?;
    if bytes < 1 << 20 {
        return Err(format!("`{text}`: a decoder needs at least 1 MiB"));
    }
    Ok(bytes)
}

/// A `--max-layer-names` value: a size from 1 byte to 4 GiB (what one layer's name
/// table can address).
fn layer_names(text: &str) -> std::result::Result<u64, String> {
    let bytes = imgsize::analyze::budget::parse_size(text)?;
    if bytes == 0 || bytes > 1 << 32 {
        return Err(format!("`{text}`: give a size from 1 byte to 4 GiB"));
    }
    Ok(bytes)
}

impl CommonArgs {
    /// The flags as validated library options, for these inputs.
    fn options(&self, inputs: &[&str]) -> Result<Options> {
        let platform = self
            .platform
            .as_deref()
            .map(PlatformSpec::parse)
            .transpose()?;
        let verify = if self.no_verify {
            VerifyPolicy::None
        } else {
            self.verify.into()
        };
        Ok(Options {
            select: SelectOptions {
                image: self.select.clone(),
                platform,
                verify,
                registry: self.registry.options(inputs)?,
                manifest_only: self.manifest_only,
                decoder_limit: self
                    .max_decoder_memory
                    .map(|max_memory| DecoderLimit { max_memory })
                    .unwrap_or_default(),
                scan_limits: ScanLimits {
                    paths: self.max_layer_paths.unwrap_or(ScanLimits::DEFAULT_PATHS),
                    name_bytes: self
                        .max_layer_names
                        .unwrap_or(ScanLimits::DEFAULT_NAME_BYTES),
                },
                names: self.source.into(),
            },
            summary: SummaryOptions {
                top: self.top,
                depth: usize::from(self.depth),
                base_layers: self.base_layers,
                tree_nodes: (self.tree || matches!(self.format, OutputFormat::Html))
                    .then_some(self.tree_nodes),
            },
            dockerfile: self.dockerfile.clone(),
            target: self.target.clone(),
            cache: self.cache.policy(note)?,
        })
    }
}

fn report(args: &ReportArgs, explain: Option<&str>) -> Result<u8> {
    if explain.is_some() {
        no_tree(args, "explain")?;
    }
    let options = args.options(&[&args.image])?;
    let bar = Bar::new(!args.no_progress);
    let hooks = Hooks {
        progress: &bar,
        ..Hooks::default()
    };
    let (report, explanation) = match explain {
        None => (imgsize::run(&args.image, &options, &hooks), None),
        Some(path) => match imgsize::explain(&args.image, &options, path, &hooks) {
            Ok((r, e)) => (Ok(r), Some(e)),
            Err(e) => (Err(e), None),
        },
    };
    let report = report.map_err(|e| named(&args.image, &e, args.platform.is_some()))?;
    note_other_images(args, &report);
    let document = match &explanation {
        Some(e) => Document::Explain(&report, e),
        None => Document::Report(&report),
    };
    if !print(args, &document)? {
        return Ok(EXIT_OK);
    }
    for p in &report.problems {
        say("error", &hinted(&with_input(&args.image, p)));
    }
    Ok(if report.complete { EXIT_OK } else { EXIT_ERROR })
}

/// `imgsize fix`: the report of the image, then its findings as changed files.
fn fix_command(args: &FixArgs) -> Result<u8> {
    let Some(dockerfile) = args.report.dockerfile.clone() else {
        anyhow::bail!(
            "imgsize fix needs the Dockerfile the image was built from: --dockerfile PATH"
        );
    };
    let known: Vec<&str> = imgsize::analyze::Rule::all()
        .into_iter()
        .map(|r| r.code())
        .collect();
    if let Some(bad) = args
        .rules
        .iter()
        .chain(&args.skip_rules)
        .find(|r| !known.contains(&r.as_str()))
    {
        anyhow::bail!(
            "unknown rule `{}`: the rules are {}",
            visible(bad),
            known.join(", ")
        );
    }
    let options = args.report.options(&[&args.report.image])?;
    let bar = Bar::new(!args.report.no_progress);
    let hooks = Hooks {
        progress: &bar,
        ..Hooks::default()
    };
    let image = &args.report.image;
    let report = imgsize::run(image, &options, &hooks)
        .map_err(|e| named(image, &e, args.report.platform.is_some()))?;
    let select = Selection {
        rules: args.rules.clone(),
        skip: args.skip_rules.clone(),
        runtime_base: args.runtime_base.clone(),
    };
    let patches = fix::patches(&report, &dockerfile, args.context.as_deref(), &select)?;
    let base = fix::context(&dockerfile, args.context.as_deref());
    if args.write {
        fix::write(&patches)?;
    }
    let text = match args.report.format {
        OutputFormat::Json => {
            let mut t =
                imgsize::render::json::safe::to_pretty(&fix::json(&patches, &report, &base))
                    .context("cannot write the JSON")?;
            t.push('\n');
            t
        }
        _ => {
            for line in fix::summary(&patches, &report, &base) {
                eprintln!("imgsize: {}", visible(&line));
            }
            if args.write {
                String::new()
            } else {
                fix::diff(&patches, &base)
            }
        }
    };
    print_bytes(text.as_bytes(), "the diff")?;
    Ok(EXIT_OK)
}

/// Write `bytes` to stdout; a closed pipe (`imgsize man | head`) is not an error, any
/// other failure names `what` was being written.
fn print_bytes(bytes: &[u8], what: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e).with_context(|| format!("cannot write {what}"))
        }
        _ => Ok(()),
    }
}

fn renderer(format: OutputFormat, width: Option<u16>) -> Box<dyn Renderer> {
    match format {
        OutputFormat::Table => Box::new(Table {
            width: table_width(width),
        }),
        OutputFormat::Json => Box::new(Json),
        OutputFormat::Markdown => Box::new(Markdown),
        OutputFormat::Junit => Box::new(Junit),
        OutputFormat::Sarif => Box::new(Sarif),
        OutputFormat::Html => Box::new(Html),
    }
}

/// Print a document on stdout in the chosen format; `false` when the reader closed the
/// pipe (`imgsize report x | head`), which is not an error.
fn print(args: &CommonArgs, document: &Document<'_>) -> Result<bool> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = renderer(args.format, args.width)
        .render(document, &mut out)
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::Unsupported => Err(anyhow::anyhow!("{e}")),
        Err(e) => Err(e).context("cannot write the report"),
    }
}

/// Write a document to a file in one format.
fn write_file(path: &Path, renderer: &dyn Renderer, document: &Document<'_>) -> Result<()> {
    let mut buf = Vec::new();
    renderer
        .render(document, &mut buf)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    std::fs::write(path, buf).with_context(|| format!("cannot write {}", path.display()))
}

/// The budget: the file (given, or imgsize.toml when there is one), then the flags.
fn budget(args: &CheckArgs) -> Result<Budget> {
    let default = Path::new("imgsize.toml");
    let file = match &args.budget {
        Some(f) => Some(f.as_path()),
        None => default.is_file().then_some(default),
    };
    let mut budget = match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the budget file {}", f.display()))?;
            Budget::parse(&text, &f.display().to_string())?
        }
        None => Budget::default(),
    };
    for l in &args.limits {
        budget.apply_flag(l).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if budget.limits.is_empty() {
        anyhow::bail!(
            "no budgets to check: write an imgsize.toml (or pass --budget FILE) or give --limit KEY=VALUE (docs/ci.md)"
        );
    }
    Ok(budget)
}

fn check(args: &CheckArgs) -> Result<u8> {
    let budget = budget(args)?;
    let baseline = match &args.baseline {
        Some(path) => Some(read_baseline(path)?),
        None => None,
    };
    if budget.wants_baseline() && baseline.is_none() {
        eprintln!("imgsize: warning: growth limits need --baseline REPORT.json; they are skipped");
    }
    let r = &args.report;
    let options = r.options(&[&r.image])?;
    let bar = Bar::new(!r.no_progress);
    let hooks = Hooks {
        progress: &bar,
        ..Hooks::default()
    };
    let (report, verdict) = imgsize::check(&r.image, &options, &budget, baseline.as_ref(), &hooks)
        .map_err(|e| named(&r.image, &e, r.platform.is_some()))?;
    note_other_images(r, &report);
    let document = Document::Check(&report, &verdict);
    let files: [(&Option<PathBuf>, &dyn Renderer); 4] = [
        (&args.sarif, &Sarif),
        (&args.junit, &Junit),
        (&args.json, &Json),
        (&args.markdown, &Markdown),
    ];
    for (path, renderer) in files {
        if let Some(path) = path {
            write_file(path, renderer, &document)?;
        }
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        github(&document)?;
    }
    // A closed pipe still leaves the verdict to the exit code.
    print(r, &document)?;
    for p in &report.problems {
        say("error", &hinted(&with_input(&r.image, p)));
    }
    Ok(if !report.complete {
        EXIT_ERROR
    } else if !verdict.passed() {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

/// On GitHub Actions: workflow commands on stderr (so that stdout stays the document),
/// and the markdown verdict appended to the step summary.
fn github(document: &Document<'_>) -> Result<()> {
    let mut commands = Vec::new();
    Github
        .render(document, &mut commands)
        .context("cannot write workflow commands")?;
    io::stderr()
        .write_all(&commands)
        .context("cannot write workflow commands")?;
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        let summary = PathBuf::from(summary);
        let mut text = Vec::new();
        Markdown
            .render(document, &mut text)
            .context("cannot write the step summary")?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .with_context(|| format!("cannot open {}", summary.display()))?;
        f.write_all(&text)
            .with_context(|| format!("cannot write {}", summary.display()))?;
    }
    Ok(())
}

/// The growth baseline from an earlier JSON report (its errors name the file).
fn read_baseline(path: &Path) -> Result<imgsize::analyze::budget::Baseline> {
    imgsize::pipeline::baseline(path).map_err(|e| named(&path.display().to_string(), &e, false))
}

/// `--tree` only shapes documents that carry a report; elsewhere it is refused
/// rather than ignored.
fn no_tree(args: &CommonArgs, command: &str) -> Result<()> {
    if args.tree {
        anyhow::bail!(
            "--tree puts the report's tree in the JSON of report and check; {command} has none"
        );
    }
    Ok(())
}

fn diff(args: &DiffArgs) -> Result<u8> {
    no_tree(&args.common, "diff")?;
    let options = args.common.options(&[&args.old, &args.new])?;
    let bar = Bar::new(!args.common.no_progress);
    let hooks = Hooks {
        progress: &bar,
        ..Hooks::default()
    };
    let diff = imgsize::pipeline::diff(&args.old, &args.new, &options, &hooks)
        .map_err(|(input, e)| named(input, &e, args.common.platform.is_some()))?;
    if !print(&args.common, &Document::Diff(&diff))? {
        return Ok(EXIT_OK);
    }
    for (input, s) in [(&args.old, &diff.old), (&args.new, &diff.new)] {
        if !s.complete {
            say(
                "error",
                &with_input(
                    input,
                    "some layers could not be read: the diff's figures are incomplete",
                ),
            );
        }
    }
    Ok(if diff.old.complete && diff.new.complete {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

/// The documented note: only when the input holds several images and none was picked.
fn note_other_images(args: &ReportArgs, report: &imgsize::analyze::Report) {
    if args.select.is_none() && !report.image.other_images.is_empty() {
        let shown = report
            .image
            .reference
            .clone()
            .unwrap_or_else(|| "the first image".to_string());
        say(
            "note",
            &format!(
                "{} holds {} images; showing {shown} (others: {}); pick one with --image",
                args.image,
                report.image.other_images.len() + 1,
                report.image.other_images.join(", ")
            ),
        );
    }
}

/// Run the command line; returns the process exit code.
pub fn run() -> u8 {
    use clap::FromArgMatches;
    let parsed = command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let result = match &cli.command {
        Command::Report(args) => report(args, None),
        Command::Explain(args) => report(&args.report, Some(&args.path)),
        Command::Check(args) => check(args),
        Command::Diff(args) => diff(args),
        Command::Fix(args) => fix_command(args),
        Command::Scan(args) => scan::scan(args),
        Command::Fleet(args) => fleet::fleet_command(args),
        Command::Init(args) => init::init(args),
        Command::Completions(args) => generate::completions(args),
        Command::Man(args) => generate::man(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line: the outermost context and the cause.
            let msg = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            say("error", &msg);
            EXIT_ERROR
        }
    }
}
