//! `imgsize fix`: a report's findings written into the Dockerfile that built the image
//! and its `.dockerignore`, as a unified diff (or written with `--write`), with the
//! projected size per change and in all.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use imgsize::analyze::fix::{self, Plan, Selection};
use imgsize::analyze::patch;
use imgsize::analyze::{Report, Rule};
use imgsize::render::patch::unified;

/// The changed files and the plan they come from.
pub struct Patches {
    /// (path, old text or `None` for a new file, new text).
    pub files: Vec<(PathBuf, Option<String>, String)>,
    pub plan: Plan,
    /// The Dockerfile's path.
    pub dockerfile: PathBuf,
    /// The `.dockerignore`'s path.
    pub ignore: PathBuf,
}

/// The changes `report`'s findings chosen by `select` make to `dockerfile` and to the
/// `.dockerignore` of `context` (the Dockerfile's folder when not given).
pub fn patches(
    report: &Report,
    dockerfile: &Path,
    context: Option<&Path>,
    select: &Selection,
) -> Result<Patches> {
    let text = fs::read_to_string(dockerfile)
        .with_context(|| format!("{}: cannot read the Dockerfile", dockerfile.display()))?;
    let name = dockerfile.to_string_lossy();
    let df = imgsize::source::dockerfile::parse(&text, &name)?;
    let plan = fix::plan(report, &df, &text, select);
    let mut files = Vec::new();
    let new = patch::apply(&text, &plan.hunks());
    // The patched file must read as a Dockerfile again, by the same reader.
    imgsize::source::dockerfile::parse(&new, &name).map_err(|e| {
        anyhow::anyhow!(
            "{}: the patch would not parse ({e}); nothing written",
            dockerfile.display()
        )
    })?;
    if new != text {
        files.push((dockerfile.to_path_buf(), Some(text), new));
    }
    let ignore = self::context(dockerfile, context).join(".dockerignore");
    if !plan.ignore.is_empty() {
        let old = fs::read_to_string(&ignore).ok();
        let patterns: Vec<&str> = plan.ignore.iter().map(|(p, _)| *p).collect();
        if let Some(new) = patch::dockerignore(old.as_deref(), &patterns, "dockerignore") {
            files.push((ignore.clone(), old, new));
        }
    }
    Ok(Patches {
        files,
        plan,
        dockerfile: dockerfile.to_path_buf(),
        ignore,
    })
}

/// A changed file's name relative to `base` (the build context) when inside it, as
/// `git apply` reads them.
fn shown(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The unified diff of every changed file.
pub fn diff(p: &Patches, base: &Path) -> String {
    p.files
        .iter()
        .map(|(path, old, new)| unified(&shown(path, base), old.as_deref(), new))
        .collect()
}

/// One change with its figures: the file and line, the rules it applies, what it saves
/// alone (0 for a change that only serves another).
struct ChangeRow {
    file: String,
    line: usize,
    rules: Vec<String>,
    saved_bytes: u64,
}

/// Every change of the plan, the `.dockerignore` last (line 0).
fn change_rows(p: &Patches, report: &Report, base: &Path) -> Vec<ChangeRow> {
    let rows = &report.findings.rows;
    let saved = |idx: &[usize]| {
        report
            .findings
            .project(idx.iter().map(|&r| &rows[r]))
            .saved_bytes
    };
    let rules = |idx: &[usize]| {
        let mut out: Vec<String> = Vec::new();
        for &r in idx {
            let code = rows[r].rule.code();
            if !out.iter().any(|c| c == code) {
                out.push(code.to_string());
            }
        }
        out
    };
    let mut out: Vec<ChangeRow> = p
        .plan
        .changes
        .iter()
        .map(|c| ChangeRow {
            file: shown(&p.dockerfile, base),
            line: c.hunk.start,
            rules: if c.rows.is_empty() {
                c.hunk.rule.split(", ").map(str::to_string).collect()
            } else {
                rules(&c.rows)
            },
            saved_bytes: if c.rows.iter().any(|&r| rows[r].rule == Rule::MultiStage) {
                p.plan.projected.saved_bytes
            } else {
                saved(&c.rows)
            },
        })
        .collect();
    if !p.plan.ignore_rows.is_empty() {
        out.push(ChangeRow {
            file: shown(&p.ignore, base),
            line: 0,
            rules: rules(&p.plan.ignore_rows),
            saved_bytes: saved(&p.plan.ignore_rows),
        });
    }
    out
}

/// The plan as JSON: the files' diffs, each change's rules and projected saving, the
/// projected size, what was not written.
pub fn json(p: &Patches, report: &Report, base: &Path) -> serde_json::Value {
    use serde_json::json;
    let hunks: Vec<serde_json::Value> = change_rows(p, report, base)
        .into_iter()
        .map(|c| {
            json!({
                "file": c.file,
                "line": c.line,
                "rules": c.rules,
                "saved_bytes": c.saved_bytes,
            })
        })
        .collect();
    json!({
        "image": report.image.source,
        "stored_bytes": report.findings.stored,
        "multi_stage": p.plan.multi_stage,
        "projected": {
            "stored_bytes": p.plan.projected.stored_bytes,
            "saved_bytes": p.plan.projected.saved_bytes,
        },
        "files": p.files.iter().map(|(path, old, new)| json!({
            "path": shown(path, base),
            "created": old.is_none(),
            "diff": unified(&shown(path, base), old.as_deref(), new),
        })).collect::<Vec<_>>(),
        "hunks": hunks,
        "left_out": p.plan.left_out.iter().map(|(rule, layer, why)| json!({
            "rule": rule, "layer": layer, "reason": why,
        })).collect::<Vec<_>>(),
        "notes": p.plan.notes,
    })
}

/// The build context: `--context`, else the Dockerfile's folder.
pub fn context(dockerfile: &Path, context: Option<&Path>) -> PathBuf {
    context
        .map(Path::to_path_buf)
        .or_else(|| dockerfile.parent().map(Path::to_path_buf))
        .unwrap_or_default()
}

/// Write every changed file.
pub fn write(p: &Patches) -> Result<()> {
    for (path, _, new) in &p.files {
        fs::write(path, new).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}

/// The plan in lines for a terminal: the projected size, each change's saving, the
/// notes and what was not written.
pub fn summary(p: &Patches, report: &Report, base: &Path) -> Vec<String> {
    use imgsize::render::format::size;
    let mut out = Vec::new();
    let plan = &p.plan;
    let stored = report.findings.stored;
    if p.files.is_empty() {
        out.push("nothing to change".to_string());
    } else {
        out.push(format!(
            "projected: {} stored, from {} ({} less{})",
            size(plan.projected.stored_bytes),
            size(stored),
            size(plan.projected.saved_bytes),
            if plan.multi_stage {
                ", as a multi-stage build"
            } else {
                ""
            }
        ));
    }
    for c in change_rows(p, report, base) {
        if c.saved_bytes == 0 {
            continue;
        }
        let at = match c.line {
            0 => c.file,
            l => format!("{}:{l}", c.file),
        };
        out.push(format!(
            "  {at}  {}  -{}",
            c.rules.join(", "),
            size(c.saved_bytes)
        ));
    }
    out.extend(plan.notes.iter().map(|n| format!("note: {n}")));
    out.extend(
        plan.left_out
            .iter()
            .map(|(rule, layer, why)| format!("note: not written: {rule} (layer {layer}): {why}")),
    );
    out
}
