//! The human form of `imgsize diff` ([`super::diff_view`] laid out as text tables):
//! the totals side by side, then one table per section that changed, and the notes;
//! and of `imgsize fleet` ([`super::fleet_view`]), the same sections.
//! Called from [`super::Table`].

use std::io::{self, Write};

use comfy_table::Cell as TableCell;

use super::diff_view::{Cell, DiffView, Section};
use super::fleet_view::FleetView;
use super::format::{clip, visible};
use super::grid::{new_table, one_line};

/// A cell's text as the table shows it: image text made visible, long text cut.
fn text(cell: &Cell) -> String {
    match cell {
        Cell::Own(t) | Cell::Digest(t) => t.clone(),
        Cell::Image(t) => visible(t).into_owned(),
        Cell::Short(t, max) => clip(t, *max),
        Cell::Code(t) => clip(t, 200),
    }
}

pub(super) fn section(width: u16, s: &Section, out: &mut dyn Write) -> io::Result<()> {
    if let (Some(empty), true) = (s.empty, s.rows.is_empty()) {
        return writeln!(out, "\n{empty}");
    }
    if let Some(title) = &s.title {
        writeln!(out, "\n{title}")?;
    }
    let mut table = new_table(width, s.columns, s.right);
    for row in &s.rows {
        let cells: Vec<TableCell> = row.iter().map(|c| TableCell::new(text(c))).collect();
        if s.one_line {
            table.add_row(one_line(cells));
        } else {
            table.add_row(cells);
        }
    }
    if let Some(rest) = &s.rest {
        let mut cells = vec![TableCell::new(""); s.rest_at];
        cells.push(TableCell::new(rest));
        table.add_row(cells);
    }
    writeln!(out, "{table}")
}

/// Print a fleet as tables `width` columns wide.
pub(super) fn fleet(width: u16, f: &FleetView, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", f.headline)?;
    for s in &f.sections {
        section(width, s, out)?;
    }
    Ok(())
}

/// Print a diff as tables `width` columns wide.
pub(super) fn render(width: u16, d: &DiffView, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Diff {} → {}", visible(&d.old), visible(&d.new))?;
    for s in &d.sections {
        section(width, s, out)?;
    }
    if !d.notes.is_empty() {
        writeln!(out, "\nNotes:")?;
        for n in &d.notes {
            writeln!(out, "  {}", visible(n))?;
        }
    }
    Ok(())
}
