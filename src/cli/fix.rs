//! `imgsize fix`: a report's findings written into the Dockerfile that built the image
//! and its `.dockerignore`, as a unified diff (or written with `--write`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use imgsize::analyze::Report;
use imgsize::analyze::{fix, patch};
use imgsize::render::format::visible;
use imgsize::render::patch::unified;

/// The changed files: (path, old text or `None` for a new file, new text).
pub struct Patches {
    pub files: Vec<(PathBuf, Option<String>, String)>,
    /// Findings not written, one line each.
    pub left_out: Vec<String>,
}

/// The changes `report`'s findings make to `dockerfile` and to the `.dockerignore` of
/// `context` (the Dockerfile's folder when not given).
pub fn patches(report: &Report, dockerfile: &Path, context: Option<&Path>) -> Result<Patches> {
    let text = fs::read_to_string(dockerfile)
        .with_context(|| format!("{}: cannot read the Dockerfile", dockerfile.display()))?;
    let name = dockerfile.to_string_lossy();
    let df = imgsize::source::dockerfile::parse(&text, &name)?;
    let plan = fix::plan(report, &df, &text);
    let mut files = Vec::new();
    let new = patch::apply(&text, &plan.hunks);
    if new != text {
        files.push((dockerfile.to_path_buf(), Some(text), new));
    }
    if !plan.ignore.is_empty() {
        let path = self::context(dockerfile, context).join(".dockerignore");
        let old = fs::read_to_string(&path).ok();
        let patterns: Vec<&str> = plan.ignore.iter().map(|(p, _)| *p).collect();
        if let Some(new) = patch::dockerignore(old.as_deref(), &patterns, "dockerignore") {
            files.push((path, old, new));
        }
    }
    let left_out = plan
        .left_out
        .iter()
        .map(|(rule, layer, why)| format!("{rule} (layer {layer}): {}", visible(why)))
        .collect();
    Ok(Patches { files, left_out })
}

/// The unified diff of every changed file, named relative to `base` (the build
/// context) when inside it, as `git apply` reads them.
pub fn diff(p: &Patches, base: &Path) -> String {
    p.files
        .iter()
        .map(|(path, old, new)| {
            let shown = path.strip_prefix(base).unwrap_or(path);
            unified(&shown.to_string_lossy(), old.as_deref(), new)
        })
        .collect()
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
