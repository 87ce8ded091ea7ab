//! `imgsize fleet`: the fleet report of scan records, from files of JSON lines (`-` for
//! standard input) and Redis runs (`redis://host:port/db/RUN`, where `imgsize scan
//! --output` pushed them), against an optional saved fleet report (`--baseline`).
//! Also the report `imgsize scan --fleet FILE` writes at the end of a scan.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use imgsize::analyze::fleet::fleet;
use imgsize::model::fleet::Fleet;
use imgsize::model::record::Record;
use imgsize::render::{Document, Html, Json, Markdown, Renderer, Table};
use imgsize::source::records::{Run, is_run, read_fleet, read_lines};

use super::{EXIT_OK, OutputFormat, renderer, table_width};

#[derive(Debug, Args)]
pub(super) struct FleetArgs {
    /// Where the records are: files of `imgsize scan` JSON lines (`-` for standard
    /// input) and Redis runs (`redis://host:port/db/RUN`).
    #[arg(required = true, value_name = "RECORDS")]
    sources: Vec<String>,
    /// A fleet report saved earlier (`imgsize fleet --format json`): say what changed
    /// since.
    #[arg(long, value_name = "FLEET.json")]
    baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table, env = "IMGSIZE_FORMAT")]
    format: OutputFormat,
    /// Rows shown in each list of the table and markdown (the JSON and the HTML page
    /// have them all, but for the 50 biggest shared layers and fixes).
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Table width (default: the terminal's, or COLUMNS, or 120).
    #[arg(long, value_name = "COLUMNS")]
    width: Option<u16>,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Every record of the sources, in the order given.
fn records(sources: &[String]) -> Result<Vec<Record>> {
    let mut all = Vec::new();
    for source in sources {
        if is_run(source) {
            all.extend(Run::open(source)?.records()?);
        } else if source == "-" {
            all.extend(read_lines(io::stdin().lock(), "standard input")?);
        } else {
            let file = File::open(source)
                .with_context(|| format!("cannot read the scan records {source}"))?;
            all.extend(read_lines(file, source)?);
        }
    }
    Ok(all)
}

/// The saved fleet report at `path`.
fn baseline(path: &Path) -> Result<Fleet> {
    let file =
        File::open(path).with_context(|| format!("cannot read the baseline {}", path.display()))?;
    Ok(read_fleet(file, &path.display().to_string())?)
}

/// Shown sources: no password of a Redis URL.
fn shown(sources: &[String]) -> Vec<String> {
    sources
        .iter()
        .map(|s| imgsize::model::text::url_shown(s))
        .collect()
}

/// The fleet of `records` read from `sources`.
pub(super) fn build(
    records: Vec<Record>,
    sources: &[String],
    baseline_path: Option<&Path>,
) -> Result<Fleet> {
    let before = baseline_path.map(baseline).transpose()?;
    Ok(fleet(records, shown(sources), before.as_ref()))
}

/// Write the fleet to `out` in `format`.
pub(super) fn write(
    f: &Fleet,
    format: OutputFormat,
    top: usize,
    width: Option<u16>,
    out: &mut dyn Write,
) -> io::Result<()> {
    renderer(format, width).render(&Document::Fleet(f, top), out)?;
    out.flush()
}

/// The renderer a file's extension asks for (`--fleet FILE` of `imgsize scan`): JSON,
/// markdown, HTML, else the table.
pub(super) fn renderer_for(path: &Path) -> Box<dyn Renderer> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Box::new(Json),
        Some("md" | "markdown") => Box::new(Markdown),
        Some("html" | "htm") => Box::new(Html),
        _ => Box::new(Table {
            width: table_width(None),
        }),
    }
}

/// `imgsize fleet`.
pub(super) fn fleet_command(args: &FleetArgs) -> Result<u8> {
    if args.sources.iter().filter(|s| *s == "-").count() > 1 {
        anyhow::bail!("standard input (-) can be given once");
    }
    let f = build(
        records(&args.sources)?,
        &args.sources,
        args.baseline.as_deref(),
    )?;
    let written = match &args.output {
        Some(path) => {
            let mut file =
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            write(&f, args.format, args.top, args.width, &mut file)
        }
        None => write(
            &f,
            args.format,
            args.top,
            args.width,
            &mut io::BufWriter::new(io::stdout().lock()),
        ),
    };
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && args.output.is_none() => Ok(EXIT_OK),
        Err(e) => Err(e).context("cannot write the fleet report"),
        Ok(()) => Ok(EXIT_OK),
    }
}
