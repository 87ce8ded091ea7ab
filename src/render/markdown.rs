//! Markdown for pull-request comments and the GitHub step summary (`--format
//! markdown`): for a check, one summary line, the failing limits with what explains
//! them, the top suggestions and a collapsible layer table; for a report, the same
//! without the limits. Text from the image (instructions, paths) is made
//! [`visible`] (no control or bidi character survives) and HTML-escaped inside
//! `<code>`, so it can neither end a table cell nor inject markup.

use std::io::{self, Write};

use super::format::{clip, headlines, percent, size};
use super::markdown_text::{code, escape, header, prose, row};
use super::verdict::{self, Item};
use super::{Document, Renderer};
use crate::analyze::{Report, Scope, Status, Verdict};

/// Renders documents as GitHub-flavoured markdown.
pub struct Markdown;

/// Suggestions listed in a comment.
const SUGGESTIONS: usize = 5;

fn totals_line(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let t = &r.totals;
    writeln!(
        out,
        "**{}** compressed · {} uncompressed · {} layers · {} wasted ({})",
        size(t.compressed_bytes),
        size(t.uncompressed_bytes),
        t.layers,
        size(t.wasted_bytes),
        percent(t.wasted_bytes, t.stored_bytes)
    )
}

fn place(r: &Report, layer: usize) -> String {
    verdict::layer_place(r, layer)
        .map(|p| match p.line {
            Some(l) => format!("{}:{l}", escape(&p.file)),
            None => escape(&p.file),
        })
        .unwrap_or_default()
}

fn suggestions(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let yours: Vec<_> = r
        .findings
        .rows
        .iter()
        .filter(|f| f.scope == Scope::Yours)
        .collect();
    if yours.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n**Suggestions** (together {} less, {} → {} stored)\n",
        size(r.findings.saved_bytes),
        size(r.totals.stored_bytes),
        size(r.findings.stored_after)
    )?;
    for h in headlines(r) {
        writeln!(
            out,
            "- {}: **{}** stored (−{}), {}",
            h.label,
            size(h.stored),
            percent(h.saved, r.totals.stored_bytes),
            h.how
        )?;
    }
    writeln!(out)?;
    for (n, f) in yours.iter().take(SUGGESTIONS).enumerate() {
        let at = place(r, f.layer);
        let at = if at.is_empty() {
            String::new()
        } else {
            format!(" at {at}")
        };
        writeln!(
            out,
            "{}. **{}** saves {}: layer {}{at} {} — {}",
            n + 1,
            f.rule.code(),
            size(f.incremental_bytes),
            f.layer,
            code(&clip(f.instruction.as_deref().unwrap_or("-"), 80)),
            prose(&f.fix)
        )?;
    }
    if yours.len() > SUGGESTIONS {
        writeln!(
            out,
            "\n{} more in `imgsize report`.",
            yours.len() - SUGGESTIONS
        )?;
    }
    Ok(())
}

fn layers(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "\n<details><summary>Layers ({})</summary>\n",
        r.layers.len()
    )?;
    header(
        out,
        &["#", "compressed", "stored", "wasted", "instruction", "line"],
        &[1, 2, 3],
    )?;
    for l in &r.layers {
        let scope = if l.base { " (base)" } else { "" };
        row(
            out,
            &[
                format!("{}{scope}", l.index),
                size(l.compressed_bytes),
                size(l.added_bytes),
                size(l.wasted_bytes),
                code(&clip(l.instruction.as_deref().unwrap_or("-"), 120)),
                place(r, l.index),
            ],
        )?;
    }
    writeln!(out, "\n</details>")
}

/// One part of a failure's explanation: image text in `<code>`, imgsize's as prose.
fn item_line(item: &Item<'_>, r: &Report) -> String {
    match item {
        Item::Layer { index, bytes, new } => {
            let at = place(r, *index);
            let at = if at.is_empty() {
                at
            } else {
                format!(" at {at}")
            };
            format!(
                "layer {index}{at} {}: {} {}",
                code(&clip(verdict::layer_instruction(r, *index), 80)),
                if *new { "new" } else { "adds" },
                size(*bytes)
            )
        }
        Item::Example { path, bytes } => format!("{}: {}", code(path), size(*bytes)),
        Item::Fix { finding: f, saves } => format!(
            "fix **{}** in layer {} (saves {}): {}",
            f.rule.code(),
            f.layer,
            size(*saves),
            prose(&f.fix)
        ),
        Item::After { bytes, max } => format!(
            "after these fixes: {} ({} the {} budget)",
            size(*bytes),
            verdict::after_word(*bytes, *max),
            size(*max)
        ),
        Item::Hint(h) => format!("fix: {h}"),
        Item::Note(n) => escape(n),
    }
}

fn check(r: &Report, v: &Verdict, out: &mut dyn Write) -> io::Result<()> {
    let name = r.image.reference.as_deref().unwrap_or(&r.image.source);
    let mark = if v.passed() { "✅" } else { "❌" };
    let words = verdict::summary(v);
    writeln!(out, "### {mark} imgsize check: {words} — {}\n", code(name))?;
    totals_line(r, out)?;
    let shown: Vec<_> = v
        .outcomes
        .iter()
        .filter(|o| o.status != Status::Pass)
        .collect();
    if !shown.is_empty() {
        writeln!(out)?;
        header(out, &["", "budget", "limit", "measured", "at"], &[2, 3])?;
        for o in &shown {
            let at = verdict::main_layer(o)
                .map(|l| place(r, l))
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| escape(&verdict::origin(o)));
            let mark = if o.status == Status::Fail {
                "❌"
            } else {
                "⚠️"
            };
            row(
                out,
                &[
                    mark.to_string(),
                    code(&o.limit.metric.key()),
                    verdict::amount(o.limit.max),
                    verdict::measured(o),
                    at,
                ],
            )?;
        }
        match v.outcomes.len() - shown.len() {
            0 => {}
            1 => writeln!(out, "\n1 other budget holds.")?,
            n => writeln!(out, "\n{n} other budgets hold.")?,
        }
        for o in shown.iter().filter(|o| o.status == Status::Fail) {
            writeln!(
                out,
                "\n<details><summary>{}: {}</summary>\n",
                escape(&o.limit.metric.key()),
                escape(&verdict::headline(o))
            )?;
            for item in verdict::items(o, r) {
                writeln!(out, "- {}", item_line(&item, r))?;
            }
            writeln!(out, "\n</details>")?;
        }
    }
    suggestions(r, out)?;
    layers(r, out)
}

fn report(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let name = r.image.reference.as_deref().unwrap_or(&r.image.source);
    writeln!(out, "### imgsize report: {}\n", code(name))?;
    totals_line(r, out)?;
    suggestions(r, out)?;
    layers(r, out)
}

impl Renderer for Markdown {
    fn render(&self, doc: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        match doc {
            Document::Check(r, v) => check(r, v, out),
            Document::Report(r) => report(r, out),
            Document::Diff(d) => super::markdown_diff::diff(&super::diff_view::view(d), out),
            Document::Fleet(f, top) => {
                super::markdown_diff::fleet(&super::fleet_view::view(f, *top), out)
            }
            _ => Err(super::unsupported(
                "--format markdown is for report, check, diff and fleet",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{code, escape, prose};

    #[test]
    fn text_from_an_image_cannot_break_the_table_or_add_markup() {
        assert_eq!(escape("a|b"), "a&#124;b");
        assert_eq!(
            code("RUN echo `x` <img src=y>"),
            "<code>RUN echo &#96;x&#96; &lt;img src=y&gt;</code>"
        );
        assert_eq!(escape("line\nbreak"), "line&#92;nbreak");
        assert_eq!(
            code("a\u{1b}[31m\u{9b}\u{202e}b"),
            "<code>a&#92;x1b&#91;31m&#92;u{9b}&#92;u{202e}b</code>"
        );
        assert_eq!(prose("fix `/x\u{7}y`\n"), "fix `/x\\x07y`\\n");
        assert_eq!(
            escape("**bold** [link](x)"),
            "&#42;&#42;bold&#42;&#42; &#91;link&#93;(x)"
        );
    }
}
