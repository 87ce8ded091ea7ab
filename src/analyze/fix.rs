//! The findings of a report written into its Dockerfile (the plan of `imgsize fix`):
//! for each finding of yours whose layer `--dockerfile` matched to an instruction, the
//! change of [`super::patch`] that applies its fix. Several fixes of one RUN end it
//! with one chained command. Rules whose change is not a text edit of one line yet
//! (`multi-stage`, `deleted-later`, `chmod-duplicate`, ...) are listed as left out,
//! with the reason.

use std::collections::BTreeMap;

use super::Report;
use super::categories::Category;
use super::findings::{Rule, Scope};
use super::patch::{self, Hunk, Refusal};
use crate::model::dockerfile::{Dockerfile, Instruction};

/// What `imgsize fix` would change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Changes of the Dockerfile, by line.
    pub hunks: Vec<Hunk>,
    /// Patterns for `.dockerignore`, with the rule that asks them.
    pub ignore: Vec<(&'static str, &'static str)>,
    /// Findings not written: (rule, layer, why).
    pub left_out: Vec<(&'static str, usize, String)>,
}

/// The command that ends the RUN for a cache rule, when one does.
fn cache_command(c: Category) -> Option<&'static str> {
    Some(match c {
        Category::AptArchives => "apt-get clean",
        Category::AptLists => "rm -rf /var/lib/apt/lists/*",
        Category::ApkCache => "rm -rf /var/cache/apk/*",
        Category::NpmCache => "npm cache clean --force",
        Category::YarnCache => "yarn cache clean",
        Category::PnpmStore => "pnpm store prune",
        Category::GoCache => "go clean -cache",
        Category::CargoCache => {
            "rm -rf \"${CARGO_HOME:-$HOME/.cargo}/registry\" \"${CARGO_HOME:-$HOME/.cargo}/git\""
        }
        Category::DnfCache => "dnf clean all",
        Category::YumCache => "yum clean all && rm -rf /var/cache/yum",
        Category::ZyppCache => "zypper clean --all",
        Category::MicrodnfCache => "microdnf clean all",
        _ => return None,
    })
}

/// What a rule's fix is as a change: a command ending the RUN, an `ENV` before it, or
/// `.dockerignore` patterns.
enum Change {
    Append(&'static str),
    Env(&'static str, &'static str),
    Ignore(&'static [&'static str]),
}

fn change(rule: Rule) -> Option<Change> {
    Some(match rule {
        Rule::Cache(Category::PipCache) => Change::Env("PIP_NO_CACHE_DIR", "1"),
        Rule::Cache(c) => Change::Append(cache_command(c)?),
        Rule::DevDependencies => Change::Append("npm prune --omit=dev"),
        Rule::Dockerignore => {
            Change::Ignore(&[".git", ".hg", ".svn", "**/__pycache__", "**/*.pyc"])
        }
        _ => return None,
    })
}

/// Where a command goes in a chain of fixes: pruning first, apt's lists last.
fn order(cmd: &str) -> u8 {
    match cmd {
        "npm prune --omit=dev" => 0,
        "apt-get clean" => 2,
        "rm -rf /var/lib/apt/lists/*" => 3,
        _ => 1,
    }
}

/// The instruction of the target stage that starts at `line`.
fn at_line(df: &Dockerfile, line: usize) -> Option<&Instruction> {
    df.stages
        .iter()
        .flat_map(|s| &s.instructions)
        .find(|i| i.line == line)
}

/// Why a refusal leaves a finding out.
fn refusal_text(r: Refusal) -> String {
    match r {
        Refusal::ExecForm => "the RUN is in exec form: no shell chains a command".into(),
        Refusal::TrailingComment => "the RUN ends in a shell comment".into(),
        Refusal::Lines => "the instruction's lines are not in the file".into(),
    }
}

/// The plan for `report`'s findings on `text`, the Dockerfile `df` was parsed from.
pub fn plan(report: &Report, df: &Dockerfile, text: &str) -> Plan {
    let mut out = Plan::default();
    let Some(located) = &report.dockerfile else {
        return out;
    };
    let lines = patch::split_lines(text);
    // Commands to end each RUN with, by its first line, in the findings' order.
    let mut appends: BTreeMap<usize, Vec<(&'static str, &'static str, usize)>> = BTreeMap::new();
    for f in report
        .findings
        .rows
        .iter()
        .filter(|f| f.scope == Scope::Yours)
    {
        let code = f.rule.code();
        let Some(c) = change(f.rule) else {
            out.left_out
                .push((code, f.layer, "not a one-line change yet".into()));
            continue;
        };
        if let Change::Ignore(patterns) = c {
            out.ignore.extend(patterns.iter().map(|p| (*p, code)));
            continue;
        }
        let Some(inst) = located.layer(f.layer).and_then(|l| at_line(df, l.line)) else {
            out.left_out
                .push((code, f.layer, "no Dockerfile line matched the layer".into()));
            continue;
        };
        match c {
            Change::Append(cmd) => {
                let cmds = appends.entry(inst.line).or_default();
                if !cmds.iter().any(|(c, _, _)| *c == cmd) {
                    cmds.push((cmd, code, f.layer));
                }
            }
            Change::Env(name, value) => out
                .hunks
                .push(patch::env_before(&lines, inst.line, name, value, code)),
            Change::Ignore(_) => {}
        }
    }
    for (line, mut cmds) in appends {
        let Some(inst) = at_line(df, line) else {
            continue;
        };
        // What removes packages first, then the caches, apt's lists last: a cleanup
        // before a step that writes its cache again would leave the cache behind.
        cmds.sort_by_key(|(cmd, _, _)| order(cmd));
        let command: Vec<&str> = cmds.iter().map(|(c, _, _)| *c).collect();
        let rules: Vec<&str> = cmds.iter().map(|(_, r, _)| *r).collect();
        match patch::append_to_run(
            &lines,
            inst,
            &command.join(" && "),
            df.escape,
            &rules.join(", "),
        ) {
            Ok(h) => out.hunks.push(h),
            Err(r) => {
                for (_, code, layer) in cmds {
                    out.left_out.push((code, layer, refusal_text(r)));
                }
            }
        }
    }
    out.hunks.sort_by_key(|h| (h.start, h.end));
    out.ignore.dedup();
    out
}
