//! `imgsize init IMAGE`: read the image as `report` does and write its first budget
//! file: `imgsize.toml` (or `--output FILE`, `-` for stdout), never over an existing
//! file without `--force`, and never for an image some layer of which could not be
//! read. What the limits are is `analyze::budget::propose`; the text is the renderer's.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use imgsize::Hooks;
use imgsize::analyze::Category;
use imgsize::analyze::budget::{Budget, Headroom, propose};
use imgsize::render::budget_file::{budget_file, headroom_text};
use imgsize::render::format::visible;

use super::progress::Bar;
use super::{
    EXIT_OK, ReportArgs, hinted, named, no_tree, note_other_images, print_bytes, say, with_input,
};

#[derive(Debug, Args)]
pub(super) struct InitArgs {
    /// Where to write the budget file; - for standard output.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "imgsize.toml")]
    output: PathBuf,
    /// Replace the file when it exists.
    #[arg(long)]
    force: bool,
    /// How much each total may grow before its budget fails, in percent (`10`,
    /// `2.5`); a growth of the full headroom fails.
    #[arg(long, value_name = "PERCENT", default_value = "10", value_parser = Headroom::parse)]
    headroom: Headroom,
    // Last, so that init's own flags lead its --help.
    #[command(flatten)]
    report: ReportArgs,
}

/// Where the file goes.
enum Target<'a> {
    Stdout,
    File(&'a Path),
}

/// `imgsize init`: exit 0 when the file was written, 2 on any error (nothing written).
pub(super) fn init(args: &InitArgs) -> Result<u8> {
    let r = &args.report;
    no_tree(r, "init")?;
    let target = if args.output.as_os_str() == "-" {
        Target::Stdout
    } else {
        Target::File(&args.output)
    };
    // Refused before the image is read: the answer does not depend on it.
    if let Target::File(path) = target
        && !args.force
        && path.exists()
    {
        return Err(exists_already(path));
    }
    let mut options = r.options(&[&r.image])?;
    // Every category row, so that each one the image is free of is known to be.
    options.summary.top = options.summary.top.max(Category::ALL.len());
    let bar = Bar::new(!r.no_progress);
    let hooks = Hooks {
        progress: &bar,
        ..Hooks::default()
    };
    let report = imgsize::run(&r.image, &options, &hooks)
        .map_err(|e| named(&r.image, &e, r.platform.is_some()))?;
    note_other_images(r, &report);
    if !report.complete {
        for p in &report.problems {
            say("error", &hinted(&with_input(&r.image, p)));
        }
        anyhow::bail!(
            "{}: some layers could not be read, so no budget was written",
            r.image
        );
    }
    let proposal = propose(&report, args.headroom);
    let text = budget_file(&proposal, &report.image);
    // What is written must read back as `check` will read it.
    Budget::parse(&text, "the written budget").context("internal error")?;
    let wrote = match target {
        Target::Stdout => {
            print_bytes(text.as_bytes(), "the budget")?;
            "wrote the budget to standard output".to_string()
        }
        Target::File(path) => write_file(path, &text, args.force)?,
    };
    let name = report.image.reference.as_deref().unwrap_or(&r.image);
    eprintln!(
        "imgsize: {wrote}: {} budgets, {}% headroom over {}",
        proposal.limits.len(),
        headroom_text(args.headroom),
        visible(name)
    );
    Ok(EXIT_OK)
}

/// The refusal to write over `path` without `--force`.
fn exists_already(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} exists already: pass --force to replace it, or --output FILE to write another",
        path.display()
    )
}

/// Write the file; without `force`, only a new one (a file that appeared since the
/// check above is not replaced either).
fn write_file(path: &Path, text: &str, force: bool) -> Result<String> {
    let shown = path.display();
    let mut open = OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let mut file = match open.open(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(exists_already(path)),
        other => other.with_context(|| format!("cannot write {shown}"))?,
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {shown}"))?;
    Ok(format!("wrote {shown}"))
}
