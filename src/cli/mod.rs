//! The command line: clap arguments turned into validated options, the progress bar,
//! and the mapping of outcomes to exit codes (0 fine, 1 a budget failed, 2 an error).
//! The only place `anyhow` lives.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use imgsize::analyze::{self, SummaryOptions};
use imgsize::report::{Json, Renderer, Text};
use imgsize::source::{self, PlatformSpec, SelectOptions};
use imgsize::walk::{self, Progress};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// A docker-save archive, an OCI archive or layout directory (gzip/zstd/xz-compressed
    /// archives too), or - for standard input.
    image: String,
    /// Output format.
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
    /// Do not verify blob digests and sizes.
    #[arg(long)]
    no_verify: bool,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Table width (default: the terminal's, or COLUMNS, or 120).
    #[arg(long, value_name = "COLUMNS")]
    width: Option<u16>,
}

/// Progress on stderr, drawn only for a terminal and a large image.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

const PROGRESS_THRESHOLD: u64 = 64 << 20;

fn progress_bar(enabled: bool, input: &str) -> ProgressBar {
    if !enabled || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    // The input's size decides whether a bar is worth drawing; stdin gets a spinner.
    let len = std::fs::metadata(input).ok().map(|m| {
        if m.is_dir() {
            dir_size(&std::path::Path::new(input).join("blobs"))
        } else {
            m.len()
        }
    });
    let bar = match len {
        Some(len) if len < PROGRESS_THRESHOLD => return ProgressBar::hidden(),
        Some(len) => ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let style = ProgressStyle::with_template(
        "{spinner} reading layers {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} {wide_bar} {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Total size of the files in a directory tree (an OCI layout's blobs).
fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
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

/// An error message that names the input, without saying it twice.
fn named(input: &str, e: &dyn std::fmt::Display) -> anyhow::Error {
    let msg = e.to_string();
    let shown = if input == "-" {
        "standard input"
    } else {
        input
    };
    if msg.contains(shown) {
        anyhow::anyhow!(msg)
    } else {
        anyhow::anyhow!("{shown}: {msg}")
    }
}

fn report(args: &ReportArgs) -> Result<u8> {
    let platform = args
        .platform
        .as_deref()
        .map(PlatformSpec::parse)
        .transpose()?;
    let select = SelectOptions {
        image: args.select.clone(),
        platform,
        verify: !args.no_verify,
    };
    let bar = Bar(progress_bar(!args.no_progress, &args.image));
    let opened = source::open(&args.image, &select, &bar).map_err(|e| named(&args.image, &e))?;
    if bar.0.length().is_some() {
        // What the walk will read: the image's layers, not the whole input.
        let total: u64 = opened
            .layers
            .iter()
            .map(|l| opened.store.size(&l.locator).unwrap_or(0))
            .sum();
        bar.0.set_length(total);
    }
    let analysis = walk::image::walk_image(opened, None, &bar);
    bar.0.finish_and_clear();
    let summary = SummaryOptions {
        top: args.top,
        depth: usize::from(args.depth),
    };
    let report = analyze::summarize(&analysis, &summary);
    let renderer: Box<dyn Renderer> = match args.format {
        OutputFormat::Table => Box::new(Text {
            width: table_width(args.width),
        }),
        OutputFormat::Json => Box::new(Json),
    };
    if !report.image.other_images.is_empty() {
        let shown = report
            .image
            .reference
            .clone()
            .unwrap_or_else(|| "the first image".to_string());
        eprintln!(
            "imgsize: note: {} holds {} images; showing {shown} (others: {}); pick one with --image",
            args.image,
            report.image.other_images.len() + 1,
            report.image.other_images.join(", ")
        );
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = renderer
        .render(&report, &mut out)
        .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        // `imgsize report x | head` closing the pipe is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(EXIT_OK),
        Err(e) => return Err(e).context("cannot write the report"),
    }
    for p in &report.problems {
        eprintln!("imgsize: error: {}", named(&args.image, p));
    }
    Ok(if report.complete { EXIT_OK } else { EXIT_ERROR })
}

/// Run the command line; returns the process exit code.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let result = match &cli.command {
        Command::Report(args) => report(args),
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
            eprintln!("imgsize: error: {msg}");
            EXIT_ERROR
        }
    }
}
