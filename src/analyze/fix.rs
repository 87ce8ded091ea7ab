//! The findings of a report written into its Dockerfile (the plan of `imgsize fix`).
//!
//! Two shapes of plan:
//! - **in place**: each chosen finding's fix goes into the instruction of its layer
//!   (a command ending the RUN, an `ENV` before it, `.dockerignore` patterns); several
//!   fixes of one RUN end it with one chained command;
//! - **multi-stage**, when the chosen findings include `multi-stage`: the target stage
//!   becomes the build stage (with the fixes that keep junk out of what is copied) and
//!   a runtime stage follows ([`super::stage_text`]).
//!
//! Each change carries the findings it applies, so its projected size is the same
//! counterfactual the report gives ([`Findings::project`]). Findings whose fix is not
//! written (a rule with no text edit yet, an exec-form RUN) are listed with why.

use std::collections::BTreeMap;

use super::Report;
use super::categories::Category;
use super::findings::{Finding, Projection, Rule, Scope};
use super::patch::{self, Hunk, Refusal};
use super::stage_text::{self, RuntimeStage};
use crate::model::dockerfile::{Dockerfile, Instruction};

/// Which findings to write.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Rule ids to write; empty: every high- and medium-confidence finding.
    pub rules: Vec<String>,
    /// Rule ids never to write.
    pub skip: Vec<String>,
    /// The runtime stage's base, in place of the one imgsize names.
    pub runtime_base: Option<String>,
}

impl Selection {
    fn wants(&self, f: &Finding) -> bool {
        let code = f.rule.code();
        let chosen = if self.rules.is_empty() {
            matches!(f.confidence, "high" | "medium")
        } else {
            self.rules.iter().any(|r| r == code)
        };
        f.scope == Scope::Yours && chosen && !self.skip.iter().any(|r| r == code)
    }
}

/// A change of the Dockerfile with the findings (indices into the report's rows) it
/// applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub hunk: Hunk,
    pub rows: Vec<usize>,
}

/// What `imgsize fix` would change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Changes of the Dockerfile, by line.
    pub changes: Vec<Change>,
    /// Patterns for `.dockerignore`, with the rule that asks them.
    pub ignore: Vec<(&'static str, &'static str)>,
    /// The findings the `.dockerignore` patterns apply.
    pub ignore_rows: Vec<usize>,
    /// Findings not written: (rule, layer, why).
    pub left_out: Vec<(&'static str, usize, String)>,
    /// Notes on what was written (what to check by hand).
    pub notes: Vec<String>,
    /// The plan is a multi-stage build.
    pub multi_stage: bool,
    /// The image's projected size once every change is applied.
    pub projected: Projection,
}

impl Plan {
    /// The Dockerfile's hunks.
    pub fn hunks(&self) -> Vec<Hunk> {
        self.changes.iter().map(|c| c.hunk.clone()).collect()
    }
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

/// What a rule's fix is as a change: a command ending the RUN, an `ENV` before it, a
/// RUN before it, or `.dockerignore` patterns.
enum Edit {
    Append(String),
    Env(&'static str, &'static str),
    Before,
    Modes,
    Ignore(&'static [&'static str]),
}

/// A path as one shell word: bare when plain, else single-quoted; `None` with control
/// or bidi characters (a terminal shows the diff).
fn shell_word(path: &str) -> Option<String> {
    if !crate::model::text::plain(path) {
        return None;
    }
    let plain = patch::bare_word(path);
    Some(if plain {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', "'\\''"))
    })
}

/// `rm -rf` of a finding's paths.
fn remove_command(f: &Finding) -> Result<String, String> {
    if f.targets.is_empty() {
        return Err("no short list of paths names what to delete".into());
    }
    let words: Option<Vec<String>> = f.targets.iter().map(|t| shell_word(t)).collect();
    let words = words.ok_or("a path holds control or bidi characters")?;
    Ok(format!("rm -rf {}", words.join(" ")))
}

/// The dpkg filter that leaves docs, man pages and locales out of later installs.
fn nodocs_command() -> String {
    format!(
        "mkdir -p /etc/dpkg/dpkg.cfg.d && printf '{}' > /etc/dpkg/dpkg.cfg.d/01-nodoc",
        super::findings::DPKG_EXCLUDES
    )
}

/// The change that applies `f`, or why there is none.
fn edit(f: &Finding) -> Result<Edit, String> {
    let copied = f
        .instruction
        .as_deref()
        .is_some_and(|i| i.starts_with("COPY") || i.starts_with("ADD"));
    Ok(match f.rule {
        Rule::Cache(Category::PipCache) => Edit::Env("PIP_NO_CACHE_DIR", "1"),
        Rule::Cache(c) => Edit::Append(
            cache_command(c)
                .ok_or("no cleanup command for this cache yet")?
                .to_string(),
        ),
        Rule::DevDependencies => Edit::Append("npm prune --omit=dev".into()),
        Rule::Dockerignore => {
            Edit::Ignore(&["**/.git", "**/.hg", "**/.svn", "**/__pycache__", "**/*.pyc"])
        }
        Rule::BuildTree | Rule::DeletedLater if copied => {
            return Err(
                "the files come from the build context: leave them out with .dockerignore".into(),
            );
        }
        Rule::BuildTree | Rule::DeletedLater => Edit::Append(remove_command(f)?),
        Rule::DocsLocales if f.fix.contains("/etc/dpkg/dpkg.cfg.d") => Edit::Before,
        Rule::ChmodDuplicate => Edit::Modes,
        _ => return Err("no text edit for this rule yet".into()),
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

/// The instruction that starts at `line`.
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

/// Commands to end a RUN with: (command, rule, finding row).
type Appends = BTreeMap<usize, Vec<(String, &'static str, usize)>>;

/// Write the one-instruction fixes of `rows` (indices into the report's findings)
/// into `out`.
fn in_place(report: &Report, df: &Dockerfile, lines: &[&str], rows: &[usize], out: &mut Plan) {
    let Some(located) = &report.dockerfile else {
        return;
    };
    let mut appends = Appends::new();
    let mut nodocs: Option<(usize, Vec<usize>)> = None;
    for &r in rows {
        let f = &report.findings.rows[r];
        let code = f.rule.code();
        let e = match edit(f) {
            Ok(e) => e,
            Err(why) => {
                out.left_out.push((code, f.layer, why));
                continue;
            }
        };
        if let Edit::Ignore(patterns) = e {
            out.ignore.extend(patterns.iter().map(|p| (*p, code)));
            out.ignore_rows.push(r);
            continue;
        }
        let Some(inst) = located.layer(f.layer).and_then(|l| at_line(df, l.line)) else {
            out.left_out
                .push((code, f.layer, "no Dockerfile line matched the layer".into()));
            continue;
        };
        match e {
            Edit::Append(cmd) => appends.entry(inst.line).or_default().push((cmd, code, r)),
            Edit::Env(name, value) => out.changes.push(Change {
                hunk: patch::env_before(lines, inst.line, name, value, code),
                rows: vec![r],
            }),
            // One filter, before the first install it reaches.
            Edit::Before => {
                let n = nodocs.get_or_insert((inst.line, Vec::new()));
                n.0 = n.0.min(inst.line);
                n.1.push(r);
            }
            Edit::Modes => match modes(df, lines, inst) {
                Ok((hunks, buildkit)) => {
                    if buildkit {
                        out.notes
                            .push("COPY --chmod needs BuildKit (docker buildx, or buildah)".into());
                    }
                    // The saving goes with the COPY; the dropped RUN carries none.
                    for (i, hunk) in hunks.into_iter().enumerate() {
                        let rows = if i == 0 { vec![r] } else { Vec::new() };
                        out.changes.push(Change { hunk, rows });
                    }
                }
                Err(why) => out.left_out.push((code, f.layer, why)),
            },
            Edit::Ignore(_) => {}
        }
    }
    if let Some((line, rows)) = nodocs {
        out.changes.push(Change {
            hunk: patch::run_before(
                lines,
                line,
                &nodocs_command(),
                "docs-locales",
                "dpkg leaves docs, man pages and locales out of the installs below",
            ),
            rows,
        });
    }
    for (line, cmds) in appends {
        if let Some(inst) = at_line(df, line) {
            end_run(report, df, lines, inst, cmds, out);
        }
    }
}

/// End the RUN `inst` with the commands of its fixes, chained in one order.
fn end_run(
    report: &Report,
    df: &Dockerfile,
    lines: &[&str],
    inst: &Instruction,
    mut cmds: Vec<(String, &'static str, usize)>,
    out: &mut Plan,
) {
    // What removes packages first, then the caches, apt's lists last: a cleanup
    // before a step that writes its cache again would leave the cache behind.
    cmds.sort_by_key(|(cmd, _, _)| order(cmd));
    // An `rm -rf` whose files the RUN's other fixes remove anyway (apt's lists that a
    // later layer deleted) adds nothing to the command.
    let findings = &report.findings;
    let all: Vec<&Finding> = cmds.iter().map(|(_, _, r)| &findings.rows[*r]).collect();
    let saved = findings.project(all.iter().copied()).saved_bytes;
    let needed = |r: usize| {
        let f = &findings.rows[r];
        !matches!(f.rule, Rule::DeletedLater | Rule::BuildTree)
            || findings
                .project(all.iter().copied().filter(|g| !std::ptr::eq(*g, f)))
                .saved_bytes
                < saved
    };
    let mut command: Vec<&str> = Vec::new();
    let mut rules: Vec<&str> = Vec::new();
    for (c, rule, r) in &cmds {
        if !command.contains(&c.as_str()) && needed(*r) {
            command.push(c);
        }
        if !rules.contains(rule) {
            rules.push(rule);
        }
    }
    match patch::append_to_run(
        lines,
        inst,
        &command.join(" && "),
        df.escape,
        &rules.join(", "),
    ) {
        Ok(hunk) => out.changes.push(Change {
            hunk,
            rows: cmds.iter().map(|(_, _, r)| *r).collect(),
        }),
        Err(e) => {
            for (_, code, r) in cmds {
                let layer = report.findings.rows[r].layer;
                out.left_out.push((code, layer, refusal_text(e)));
            }
        }
    }
}

/// The plan for `report`'s findings chosen by `select` on `text`, the Dockerfile `df`
/// was parsed from.
pub fn plan(report: &Report, df: &Dockerfile, text: &str, select: &Selection) -> Plan {
    let mut out = Plan::default();
    let lines = patch::split_lines(text);
    let chosen: Vec<usize> = (0..report.findings.rows.len())
        .filter(|&r| select.wants(&report.findings.rows[r]))
        .collect();
    let multi = chosen
        .iter()
        .copied()
        .find(|&r| report.findings.rows[r].rule == Rule::MultiStage);
    if let Some(m) = multi {
        // The build stage's fixes that keep files out of what the runtime copies.
        let needed = report
            .findings
            .structural
            .as_ref()
            .and_then(|s| s.recipe.as_ref())
            .map_or(&[][..], |r| &r.build_fixes[..]);
        let build_fixes: Vec<usize> = chosen
            .iter()
            .copied()
            .filter(|&r| needed.contains(&report.findings.rows[r].rule))
            .collect();
        match multi_stage(report, df, &lines, m, select, &mut out) {
            Ok(()) => {
                in_place(report, df, &lines, &build_fixes, &mut out);
                out.multi_stage = true;
                out.projected = report
                    .findings
                    .structural
                    .as_ref()
                    .map_or_else(Projection::default, |s| s.projection);
                finish(&mut out);
                return out;
            }
            Err(why) => out
                .left_out
                .push(("multi-stage", report.findings.rows[m].layer, why)),
        }
    }
    let rows: Vec<usize> = chosen.into_iter().filter(|&r| Some(r) != multi).collect();
    in_place(report, df, &lines, &rows, &mut out);
    let written = |out: &Plan| -> Vec<usize> {
        out.changes
            .iter()
            .flat_map(|c| &c.rows)
            .chain(&out.ignore_rows)
            .copied()
            .collect()
    };
    let done = written(&out);
    let findings = &report.findings;
    let project = |idx: &[usize]| findings.project(idx.iter().map(|&r| &findings.rows[r]));
    let saved = project(&done).saved_bytes;
    // A finding whose bytes the written changes remove already is not left out.
    out.left_out.retain(|(code, layer, _)| {
        let row = findings
            .rows
            .iter()
            .position(|f| f.rule.code() == *code && f.layer == *layer && f.scope == Scope::Yours);
        row.is_none_or(|r| project(&[done.as_slice(), &[r]].concat()).saved_bytes > saved)
    });
    drop_later_deletes(report, df, &lines, &done, &mut out);
    out.projected = project(&written(&out));
    finish(&mut out);
    out
}

/// `RUN rm -rf PATHS` alone, the paths as written.
fn rm_only(inst: &Instruction) -> Option<Vec<String>> {
    if inst.keyword != "RUN" || inst.json.is_some() || !inst.heredocs.is_empty() {
        return None;
    }
    let mut words = inst.args.split_whitespace();
    if words.next()? != "rm" {
        return None;
    }
    let mut paths = Vec::new();
    for w in words {
        match w {
            "-rf" | "-fr" | "-r" | "-f" | "-R" | "-Rf" | "-fR" => {}
            _ if w.starts_with('-') => return None,
            // `DIR/*`: what the folder holds.
            _ => {
                let path = w.strip_suffix("/*").unwrap_or(w);
                if path.contains(['&', ';', '|', '$', '*', '?', '[', '`', '\'', '"']) {
                    return None;
                }
                paths.push(path.trim_end_matches('/').to_string());
            }
        }
    }
    (!paths.is_empty()).then_some(paths)
}

/// Once every `deleted-later` finding is written or covered, a later `RUN rm -rf`
/// that deletes only their paths has nothing left to delete: it goes.
fn drop_later_deletes(
    report: &Report,
    df: &Dockerfile,
    lines: &[&str],
    done: &[usize],
    out: &mut Plan,
) {
    let rows = &report.findings.rows;
    let deleted: Vec<usize> = (0..rows.len())
        .filter(|&r| rows[r].rule == Rule::DeletedLater && rows[r].scope == Scope::Yours)
        .collect();
    let open = out
        .left_out
        .iter()
        .any(|(code, _, _)| *code == "deleted-later");
    let targets: Vec<&String> = deleted
        .iter()
        .filter(|r| done.contains(r))
        .flat_map(|&r| &rows[r].targets)
        .collect();
    if deleted.is_empty() || open || targets.is_empty() {
        return;
    }
    let Some(stage) = report
        .dockerfile
        .as_ref()
        .and_then(|l| super::dockerfile::stage_index(df, &l.stage))
        .map(|i| &df.stages[i])
    else {
        return;
    };
    let touched = |line: usize| {
        out.changes
            .iter()
            .any(|c| c.hunk.start <= line && line <= c.hunk.end)
    };
    let mut drops = Vec::new();
    for inst in &stage.instructions {
        let Some(paths) = rm_only(inst) else {
            continue;
        };
        let inside = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/"));
        let all = paths
            .iter()
            .all(|p| targets.iter().any(|t| inside(p, t) || inside(t, p)));
        if all && !touched(inst.line) {
            drops.push(inst);
        }
    }
    for inst in drops {
        let why = format!(
            "`RUN {}` dropped: the files are deleted where they are made",
            inst.args
        );
        out.changes.push(Change {
            hunk: patch::drop_instruction(lines, inst, &why, "deleted-later"),
            rows: Vec::new(),
        });
    }
}

/// `chmod -R MODE PATH` and `chown -R OWNER PATH` (alone or chained with `&&`): the
/// flags `--chmod=MODE` and `--chown=OWNER` they amount to on a COPY/ADD to PATH, and
/// PATH.
fn mode_flags(args: &str) -> Result<(Vec<String>, String), String> {
    let mut flags = Vec::new();
    let mut target: Option<String> = None;
    for part in args.split("&&") {
        let words: Vec<&str> = part
            .split_whitespace()
            .filter(|w| !matches!(*w, "-R" | "--recursive"))
            .collect();
        let [tool, value, path] = words[..] else {
            return Err("the RUN does more than one chmod or chown of one path".into());
        };
        let flag = match tool {
            "chmod"
                if value.len() >= 3
                    && value.len() <= 4
                    && value.bytes().all(|b| (b'0'..=b'7').contains(&b)) =>
            {
                format!("--chmod={value}")
            }
            "chmod" => {
                return Err(format!(
                    "`--chmod` takes an octal mode, not `{value}` (which keeps each file's own bits): set the modes in the build context"
                ));
            }
            "chown"
                if value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c)) =>
            {
                format!("--chown={value}")
            }
            _ => return Err("the RUN does more than one chmod or chown of one path".into()),
        };
        let path = path.trim_end_matches('/').to_string();
        if target.as_ref().is_some_and(|t| *t != path) {
            return Err("the RUN changes several paths".into());
        }
        target = Some(path);
        flags.push(flag);
    }
    Ok((flags, target.unwrap_or_default()))
}

/// The `chmod-duplicate` fix: the modes and owner set by the COPY/ADD that adds the
/// files (`--chmod`, `--chown`), the RUN that re-adds them dropped. With whether the
/// change needs BuildKit (`--chmod`).
fn modes(df: &Dockerfile, lines: &[&str], run: &Instruction) -> Result<(Vec<Hunk>, bool), String> {
    if run.keyword != "RUN" || run.json.is_some() || !run.heredocs.is_empty() {
        return Err("the layer is not a shell-form RUN".into());
    }
    let (flags, path) = mode_flags(&run.args)?;
    let stage = df
        .stages
        .iter()
        .find(|s| s.instructions.iter().any(|i| i.line == run.line))
        .ok_or("the RUN is in no stage")?;
    let dest = |i: &Instruction| -> Option<String> {
        let last = match &i.json {
            Some(args) => args.last()?.clone(),
            None => i.args.split_whitespace().last()?.to_string(),
        };
        Some(last.trim_end_matches('/').to_string())
    };
    let copy = stage
        .instructions
        .iter()
        .filter(|i| i.line < run.line && matches!(i.keyword.as_str(), "COPY" | "ADD"))
        .rfind(|i| dest(i).as_deref() == Some(path.as_str()))
        .ok_or_else(|| format!("no COPY or ADD to `{path}` before the RUN"))?;
    let kinds = |f: &str| f.split('=').next().unwrap_or("").to_string();
    if copy
        .flags
        .iter()
        .any(|f| flags.iter().any(|g| kinds(f) == kinds(g)))
    {
        return Err("the COPY sets modes or owner already".into());
    }
    let flag = flags.join(" ");
    let add = patch::add_flag(lines, copy, &flag, "chmod-duplicate")
        .ok_or("the COPY's first line does not start with its keyword")?;
    let why = format!("`RUN {}` dropped: the COPY sets them", run.args);
    let drop = patch::drop_instruction(lines, run, &why, "chmod-duplicate");
    Ok((vec![add, drop], flag.contains("--chmod")))
}

fn finish(out: &mut Plan) {
    out.changes.sort_by_key(|c| (c.hunk.start, c.hunk.end));
    let mut seen = Vec::new();
    out.ignore.retain(|p| {
        let new = !seen.contains(p);
        seen.push(*p);
        new
    });
}

/// The multi-stage plan: the target stage named as the build stage, the runtime stage
/// after it.
fn multi_stage(
    report: &Report,
    df: &Dockerfile,
    lines: &[&str],
    row: usize,
    select: &Selection,
    out: &mut Plan,
) -> Result<(), String> {
    let structural = report
        .findings
        .structural
        .as_ref()
        .filter(|s| s.rule == Rule::MultiStage)
        .ok_or("no runtime stage was projected")?;
    let recipe = structural
        .recipe
        .as_ref()
        .ok_or("no runtime stage was projected")?;
    let located = report
        .dockerfile
        .as_ref()
        .ok_or("no Dockerfile line matched the image")?;
    let stage = RuntimeStage {
        target: &located.stage,
        recipe,
        runtime_base: select
            .runtime_base
            .as_deref()
            .or(structural.runtime_base.as_deref()),
        slim: structural.slim_base,
    };
    let (hunks, notes) = stage_text::write(df, lines, &stage)?;
    out.notes.extend(notes);
    // The saving goes with the runtime stage (the last hunk); the build stage's
    // rename carries none.
    let last = hunks.len().saturating_sub(1);
    for (i, hunk) in hunks.into_iter().enumerate() {
        let rows = if i == last { vec![row] } else { Vec::new() };
        out.changes.push(Change { hunk, rows });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &str) -> Instruction {
        Instruction {
            keyword: "RUN".into(),
            flags: Vec::new(),
            args: args.into(),
            json: None,
            heredocs: Vec::new(),
            line: 1,
            end_line: 1,
        }
    }

    #[test]
    fn chmod_and_chown_become_copy_flags() {
        assert_eq!(
            mode_flags("chmod -R 755 /app/"),
            Ok((vec!["--chmod=755".to_string()], "/app".to_string()))
        );
        assert_eq!(
            mode_flags("chown -R app:app /srv && chmod -R 0750 /srv"),
            Ok((
                vec!["--chown=app:app".to_string(), "--chmod=0750".to_string()],
                "/srv".to_string()
            ))
        );
        assert!(mode_flags("chmod -R g+w /app").is_err_and(|e| e.contains("octal")));
        assert!(mode_flags("chmod 755 /a /b").is_err());
        assert!(mode_flags("chown a /x && chmod 700 /y").is_err());
        assert!(mode_flags("chmod 755 /a; rm -rf /").is_err());
    }

    #[test]
    fn only_plain_rm_runs_are_dropped() {
        assert_eq!(
            rm_only(&run("rm -rf /app/.git /var/lib/apt/lists/*")),
            Some(vec![
                "/app/.git".to_string(),
                "/var/lib/apt/lists".to_string()
            ])
        );
        assert_eq!(rm_only(&run("rm -rf /tmp/* && echo done")), None);
        assert_eq!(rm_only(&run("rm -rf $HOME/.cache")), None);
        assert_eq!(rm_only(&run("rm -rf /a/*.log")), None);
        assert_eq!(rm_only(&run("chmod -R 755 /app")), None);
        assert_eq!(rm_only(&run("rm -rf")), None);
    }

    #[test]
    fn paths_become_shell_words() {
        assert_eq!(shell_word("/src/target").as_deref(), Some("/src/target"));
        assert_eq!(
            shell_word("/my app/it's").as_deref(),
            Some("'/my app/it'\\''s'")
        );
        assert_eq!(shell_word("/a\u{202e}b"), None);
        assert_eq!(shell_word("/a\nb"), None);
    }
}
