//! `imgsize diff` as GitHub-flavoured markdown ([`super::diff_view`] laid out as
//! tables), for a pull-request comment or a step summary: the totals, then the
//! sections that changed, and the notes; and `imgsize fleet` ([`super::fleet_view`]). Text that comes from an image (instructions,
//! paths, names, versions) is escaped so it cannot break a table or inject markup.

use std::io::{self, Write};

use super::diff_view::{Cell, DiffView, Section};
use super::fleet_view::FleetView;
use super::markdown_text::{code, escape, header, row};

/// A cell's text as markdown shows it.
fn text(cell: &Cell) -> String {
    match cell {
        Cell::Own(t) => t.clone(),
        Cell::Image(t) | Cell::Short(t, _) => escape(t),
        Cell::Code(t) => code(t),
        Cell::Digest(t) => format!("`{t}`"),
    }
}

fn section(s: &Section, out: &mut dyn Write) -> io::Result<()> {
    if s.empty.is_some() && s.rows.is_empty() {
        return Ok(());
    }
    if let Some(title) = &s.title {
        writeln!(out, "\n#### {title}\n")?;
    }
    header(out, s.columns, s.right)?;
    for cells in &s.rows {
        row(out, &cells.iter().map(text).collect::<Vec<_>>())?;
    }
    if let Some(rest) = &s.rest {
        writeln!(out, "\n{}", escape(rest))?;
    }
    Ok(())
}

/// Write a fleet as markdown.
pub(crate) fn fleet(f: &FleetView, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "### imgsize fleet\n\n{}\n", escape(&f.headline))?;
    for s in &f.sections {
        section(s, out)?;
    }
    Ok(())
}

/// Write a diff as markdown.
pub(crate) fn diff(d: &DiffView, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "### imgsize diff: {} → {}\n",
        escape(&d.old),
        escape(&d.new)
    )?;
    for s in &d.sections {
        section(s, out)?;
    }
    if !d.notes.is_empty() {
        writeln!(out)?;
        for n in &d.notes {
            writeln!(out, "> {}", escape(n))?;
        }
    }
    Ok(())
}
