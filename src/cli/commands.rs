//! The command line as clap sees it: the derived [`Cli`] with each command's
//! `--format` narrowed to what it prints and the shared flags a command has no use for
//! kept out of its `--help`. Parsing, the completions and the man pages all start here.

use clap::ValueEnum;

use super::{Cli, OutputFormat};

/// The formats each command accepts: its `--help` offers these, and no other parses.
const FORMATS: [(&str, &[&str]); 6] = [
    ("report", &["table", "json", "markdown", "sarif", "html"]),
    ("explain", &["table", "json"]),
    ("check", &["table", "json", "markdown", "junit", "sarif"]),
    ("diff", &["table", "json", "markdown", "html"]),
    ("fix", &["table", "json"]),
    ("fleet", &["table", "json", "markdown", "html"]),
];

/// The report's view flags, which commands that print no report do not show.
const VIEW_FLAGS: &[&str] = &[
    "format",
    "width",
    "top",
    "depth",
    "tree",
    "tree_nodes",
    "dockerfile",
    "target",
];

/// The shared flags a command has no use for, kept out of its `--help`.
const HIDDEN: [(&str, &[&str]); 5] = [
    ("explain", &["tree", "tree_nodes"]),
    ("diff", &["tree", "tree_nodes"]),
    ("fix", &["tree", "tree_nodes"]),
    ("init", VIEW_FLAGS),
    ("scan", VIEW_FLAGS),
];

/// The command line, with each command's `--format` narrowed to what it accepts and
/// `--tree` shown only where a report has a tree to put in its JSON.
pub(super) fn command() -> clap::Command {
    use clap::CommandFactory;
    use clap::builder::{PossibleValuesParser, TypedValueParser};
    let mut cmd = Cli::command();
    for (name, formats) in FORMATS {
        let values: Vec<clap::builder::PossibleValue> = OutputFormat::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .filter(|v| formats.contains(&v.get_name()))
            .collect();
        let parser = PossibleValuesParser::new(values)
            .try_map(|text: String| OutputFormat::from_str(&text, true));
        cmd = cmd.mut_subcommand(name, |c| c.mut_arg("format", |a| a.value_parser(parser)));
    }
    for (name, hidden) in HIDDEN {
        cmd = cmd.mut_subcommand(name, |c| {
            hidden
                .iter()
                .fold(c, |c, arg| c.mut_arg(arg, |a| a.hide(true)))
        });
    }
    unset_when_empty(cmd)
}

/// An environment variable left empty (as CI systems define them) counts as unset,
/// in every command: clap would take it for a flag given without its value.
fn unset_when_empty(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let cmd = cmd.mut_args(|a| match a.get_env() {
        Some(var) if std::env::var_os(var).is_some_and(|v| v.is_empty()) => a.env(None),
        _ => a,
    });
    names
        .into_iter()
        .fold(cmd, |cmd, name| cmd.mut_subcommand(name, unset_when_empty))
}
