//! `imgsize diff` as GitHub-flavoured markdown, for a pull-request comment or a step
//! summary: the totals, then the layers, categories, paths, packages and findings
//! that changed. Text that comes from an image (instructions, paths, names, versions)
//! is escaped so it cannot break a table or inject markup.

use std::io::{self, Write};

use super::diff_table::{LAYER_COLUMNS, LAYER_RIGHT, change_percent, index, rest_label, side_name};
use super::format::{at_line, short_digest, signed_size, size};
use super::markdown::{code, escape, header, row};
use crate::analyze::diff::{Change, Diff, LayerStatus};

fn changes(c: Change) -> [String; 3] {
    [size(c.old), size(c.new), signed_size(c.delta)]
}

/// Write a diff as markdown.
pub(crate) fn diff(d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### imgsize diff: {} → {}\n",
        escape(side_name(&d.old)),
        escape(side_name(&d.new))
    )?;
    let t = &d.totals;
    header(out, &["figure", "old", "new", "change", "%"], &[1, 2, 3, 4])?;
    for (name, c) in [
        ("compressed", t.compressed_bytes),
        ("uncompressed", t.uncompressed_bytes),
        ("stored", t.stored_bytes),
        ("content", t.content_bytes),
        ("wasted", t.wasted_bytes),
    ] {
        let [a, b, delta] = changes(c);
        row(out, &[name.to_string(), a, b, delta, change_percent(c)])?;
    }
    for (name, c) in [("files", t.files), ("layers", t.layers)] {
        row(
            out,
            &[
                name.to_string(),
                c.old.to_string(),
                c.new.to_string(),
                format!("{:+}", c.delta),
                change_percent(c),
            ],
        )?;
    }

    writeln!(out, "\n#### Layers\n")?;
    header(out, &LAYER_COLUMNS, &LAYER_RIGHT)?;
    for l in &d.layers {
        let changed = l.status != LayerStatus::Unchanged;
        let delta = |c: Change| {
            if changed {
                signed_size(c.delta)
            } else {
                String::new()
            }
        };
        row(
            out,
            &[
                l.status.code().to_string(),
                index(l.old_index),
                index(l.new_index),
                format!("`{}`", short_digest(l.diff_id.as_deref())),
                delta(l.compressed_bytes),
                delta(l.added_bytes),
                code(&at_line(
                    l.line.as_ref().map(|x| (x.file.as_str(), x.line)),
                    l.instruction.as_deref(),
                )),
            ],
        )?;
    }

    if !d.categories.is_empty() {
        writeln!(out, "\n#### Categories (shipped bytes)\n")?;
        header(out, &["category", "old", "new", "change"], &[1, 2, 3])?;
        for c in &d.categories {
            let [a, b, delta] = changes(c.bytes);
            row(out, &[escape(&c.category), a, b, delta])?;
        }
    }

    if !d.paths.is_empty() {
        writeln!(out, "\n#### Paths (depth {})\n", d.paths_depth)?;
        header(out, &["status", "path", "old", "new", "change"], &[2, 3, 4])?;
        for p in &d.paths {
            let [a, b, delta] = changes(p.bytes);
            row(
                out,
                &[p.status.code().to_string(), code(&p.path), a, b, delta],
            )?;
        }
        if let Some(label) = rest_label("paths", d.paths_rest) {
            writeln!(out, "\n{}", escape(&label))?;
        }
    }

    if !d.packages.is_empty() {
        writeln!(out, "\n#### Packages\n")?;
        header(
            out,
            &["status", "package", "version", "old", "new", "change"],
            &[3, 4, 5],
        )?;
        for p in &d.packages {
            let version = match (&p.old_version, &p.new_version) {
                (Some(a), Some(b)) if a != b => format!("{} → {}", escape(a), escape(b)),
                (a, b) => escape(b.as_deref().or(a.as_deref()).unwrap_or("")),
            };
            let [a, b, delta] = changes(p.bytes);
            row(
                out,
                &[
                    p.status.code().to_string(),
                    format!("{} {}", escape(&p.manager), escape(&p.name)),
                    version,
                    a,
                    b,
                    delta,
                ],
            )?;
        }
        if let Some(label) = rest_label("packages", d.packages_rest) {
            writeln!(out, "\n{}", escape(&label))?;
        }
    }

    if !d.findings.is_empty() {
        writeln!(out, "\n#### Findings\n")?;
        header(
            out,
            &["status", "rule", "scope", "bytes", "instruction"],
            &[3],
        )?;
        for f in &d.findings {
            row(
                out,
                &[
                    f.status.code().to_string(),
                    escape(&f.rule),
                    escape(&f.scope),
                    size(f.bytes),
                    code(&at_line(
                        f.line.as_ref().map(|x| (x.file.as_str(), x.line)),
                        f.instruction.as_deref(),
                    )),
                ],
            )?;
        }
    }
    if !d.notes.is_empty() {
        writeln!(out)?;
        for n in &d.notes {
            writeln!(out, "> {}", escape(n))?;
        }
    }
    Ok(())
}
