//! What is generated from the command line's own definitions, so that neither can
//! drift from the flags: the shell completion scripts (`imgsize completions SHELL`,
//! clap_complete) and the man pages (`imgsize man`, clap_mangen), one for imgsize and
//! one for each command, with the formats each command accepts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use clap_complete::Shell;

use super::{EXIT_OK, command, print_bytes};

#[derive(Debug, Args)]
pub(super) struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Args)]
pub(super) struct ManArgs {
    /// Print this command's page (`report` prints imgsize-report.1; default: the
    /// imgsize.1 page, which lists the commands).
    #[arg(value_name = "COMMAND")]
    command: Option<String>,
    /// Write every page into this directory (created if missing) instead:
    /// imgsize.1 and imgsize-COMMAND.1 for each command, as in
    /// `imgsize man --out ~/.local/share/man/man1`.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    out: Option<PathBuf>,
}

/// `imgsize completions SHELL`: the script on stdout.
pub(super) fn completions(args: &CompletionsArgs) -> Result<u8> {
    let mut cmd = command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "imgsize", &mut script);
    print_bytes(&script, "the completions")?;
    Ok(EXIT_OK)
}

/// The pages: imgsize's own, then one per command in `--help`'s order (the help
/// command has none).
fn pages() -> Vec<clap::Command> {
    let mut cmd = command().disable_help_subcommand(true);
    cmd.build();
    let mut commands: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect();
    commands.sort_by_key(clap::Command::get_display_order);
    let mut out = vec![cmd];
    out.extend(commands);
    out
}

/// One page as roff, with its file name (`imgsize-report.1`).
fn page(cmd: clap::Command) -> Result<(String, Vec<u8>)> {
    let man = clap_mangen::Man::new(cmd)
        .source(format!("imgsize {}", env!("CARGO_PKG_VERSION")))
        .manual("imgsize manual");
    let mut roff = Vec::new();
    man.render(&mut roff).context("cannot write the man page")?;
    Ok((man.get_filename(), roff))
}

/// `imgsize man [COMMAND]` prints a page; `imgsize man --out DIR` writes them all.
pub(super) fn man(args: &ManArgs) -> Result<u8> {
    let mut pages = pages();
    if let Some(dir) = &args.out {
        return write_pages(pages, dir);
    }
    let names: Vec<String> = pages[1..]
        .iter()
        .map(|c| c.get_name().to_string())
        .collect();
    let wanted = match &args.command {
        None => Some(pages.swap_remove(0)),
        Some(name) => pages.into_iter().skip(1).find(|c| c.get_name() == name),
    };
    let Some(cmd) = wanted else {
        anyhow::bail!(
            "no command `{}`: the commands are {}",
            args.command.as_deref().unwrap_or_default(),
            names.join(", ")
        );
    };
    let (_, roff) = page(cmd)?;
    print_bytes(&roff, "the man page")?;
    Ok(EXIT_OK)
}

fn write_pages(pages: Vec<clap::Command>, dir: &Path) -> Result<u8> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let count = pages.len();
    for cmd in pages {
        let (name, roff) = page(cmd)?;
        let path = dir.join(name);
        std::fs::write(&path, roff).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!(
        "imgsize: wrote {count} man pages to {}",
        super::visible(&dir.display().to_string())
    );
    Ok(EXIT_OK)
}
