//! `imgsize fix`: a report's findings written into the Dockerfile that built the image
//! and its `.dockerignore`, as a unified diff (or written with `--write`), with the
//! projected size per change and in all.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use imgsize::analyze::Report;
use imgsize::analyze::fix::{self, Plan, Selection};
use imgsize::analyze::patch;
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

/// The plan as JSON: the files' diffs, each change's rules and projected saving, the
/// projected size, what was not written.
pub fn json(p: &Patches, report: &Report, base: &Path) -> serde_json::Value {
    use serde_json::json;
    let rows = &report.findings.rows;
    let saved = |idx: &[usize]| {
        report
            .findings
            .project(idx.iter().map(|&r| &rows[r]))
            .saved_bytes
    };
    let rules = |idx: &[usize]| {
        let mut out: Vec<&str> = Vec::new();
        for &r in idx {
            let code = rows[r].rule.code();
            if !out.contains(&code) {
                out.push(code);
            }
        }
        out
    };
    let mut hunks: Vec<serde_json::Value> = p
        .plan
        .changes
        .iter()
        .map(|c| {
            json!({
                "file": shown(&p.dockerfile, base),
                "line": c.hunk.start,
                "rules": if c.rows.is_empty() {
                    c.hunk.rule.split(", ").collect()
                } else {
                    rules(&c.rows)
                },
                "saved_bytes": if c.rows.iter().any(|&r| rows[r].rule == imgsize::analyze::Rule::MultiStage) {
                    p.plan.projected.saved_bytes
                } else {
                    saved(&c.rows)
                },
            })
        })
        .collect();
    if !p.plan.ignore_rows.is_empty() {
        hunks.push(json!({
            "file": shown(&p.ignore, base),
            "line": 0,
            "rules": rules(&p.plan.ignore_rows),
            "saved_bytes": saved(&p.plan.ignore_rows),
        }));
    }
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
    let doc = json(p, report, base);
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
    for h in doc["hunks"].as_array().into_iter().flatten() {
        if h["saved_bytes"].as_u64() == Some(0) {
            continue;
        }
        let file = h["file"].as_str().unwrap_or("");
        let at = match h["line"].as_u64() {
            Some(0) | None => file.to_string(),
            Some(l) => format!("{file}:{l}"),
        };
        let rules: Vec<&str> = h["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
            .collect();
        out.push(format!(
            "  {at}  {}  -{}",
            rules.join(", "),
            size(h["saved_bytes"].as_u64().unwrap_or(0))
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
