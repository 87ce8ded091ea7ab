//! The human form of `imgsize diff`: the totals side by side, then the layers, the
//! categories, the paths and packages that changed, the findings that are new or gone,
//! and the notes. Called from [`super::Table`].

use std::io::{self, Write};

use comfy_table::{Cell, Row};

use super::format::{at_line, clip, short_digest, signed_size, size, visible};
use super::table::new_table;
use crate::analyze::diff::{Change, Diff, DiffRest, LayerStatus, Side};

/// The layer table's columns, and those aligned right (markdown uses them too).
pub(crate) const LAYER_COLUMNS: [&str; 7] = [
    "status",
    "old",
    "new",
    "diff_id",
    "compressed Δ",
    "stored Δ",
    "instruction",
];
pub(crate) const LAYER_RIGHT: [usize; 4] = [1, 2, 4, 5];

/// The name a side is shown by: its reference, or its input.
pub(super) fn side_name(s: &Side) -> &str {
    s.reference.as_deref().unwrap_or(&s.source)
}

/// An index, or a dash.
pub(super) fn index(i: Option<usize>) -> String {
    i.map_or_else(|| "-".to_string(), |i| i.to_string())
}

/// The change in percent of the old figure, or a dash.
pub(super) fn change_percent(c: Change) -> String {
    if c.old == 0 {
        "-".to_string()
    } else {
        format!("{:+.1}%", c.delta as f64 * 100.0 / c.old as f64)
    }
}

/// The label of the rows a diff table left out.
pub(super) fn rest_label(what: &str, r: DiffRest) -> Option<String> {
    (r.rows > 0).then(|| {
        format!(
            "… {} more {what} ({} in all; --top shows more)",
            r.rows,
            signed_size(r.delta)
        )
    })
}

/// A row that never wraps: long text is cut by the table at the column width.
fn one_line(cells: Vec<Cell>) -> Row {
    let mut row = Row::from(cells);
    row.max_height(1);
    row
}

fn change_cells(c: Change) -> [Cell; 3] {
    [
        Cell::new(size(c.old)),
        Cell::new(size(c.new)),
        Cell::new(signed_size(c.delta)),
    ]
}

/// Print a diff as tables `width` columns wide.
pub(super) fn render(width: u16, d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Diff {} → {}",
        visible(side_name(&d.old)),
        visible(side_name(&d.new))
    )?;
    let t = &d.totals;
    let mut table = new_table(
        width,
        &["figure", "old", "new", "change", "%"],
        &[1, 2, 3, 4],
    );
    let rows: [(&str, Change); 5] = [
        ("compressed", t.compressed_bytes),
        ("uncompressed", t.uncompressed_bytes),
        ("stored", t.stored_bytes),
        ("content", t.content_bytes),
        ("wasted", t.wasted_bytes),
    ];
    for (name, c) in rows {
        let mut cells = vec![Cell::new(name)];
        cells.extend(change_cells(c));
        cells.push(Cell::new(change_percent(c)));
        table.add_row(cells);
    }
    for (name, c) in [("files", t.files), ("layers", t.layers)] {
        table.add_row(vec![
            Cell::new(name),
            Cell::new(c.old),
            Cell::new(c.new),
            Cell::new(format!("{:+}", c.delta)),
            Cell::new(change_percent(c)),
        ]);
    }
    writeln!(out, "{table}")?;

    writeln!(out, "\nLayers")?;
    let mut table = new_table(width, &LAYER_COLUMNS, &LAYER_RIGHT);
    for l in &d.layers {
        let changed = l.status != LayerStatus::Unchanged;
        table.add_row(one_line(vec![
            Cell::new(l.status.code()),
            Cell::new(index(l.old_index)),
            Cell::new(index(l.new_index)),
            Cell::new(short_digest(l.diff_id.as_deref())),
            Cell::new(if changed {
                signed_size(l.compressed_bytes.delta)
            } else {
                String::new()
            }),
            Cell::new(if changed {
                signed_size(l.added_bytes.delta)
            } else {
                String::new()
            }),
            Cell::new(clip(
                &at_line(
                    l.line.as_ref().map(|x| (x.file.as_str(), x.line)),
                    l.instruction.as_deref(),
                ),
                200,
            )),
        ]));
    }
    writeln!(out, "{table}")?;

    if d.categories.is_empty() {
        writeln!(out, "\nNo category changed.")?;
    } else {
        writeln!(out, "\nCategories (shipped bytes)")?;
        let mut table = new_table(width, &["category", "old", "new", "change"], &[1, 2, 3]);
        for c in &d.categories {
            let mut cells = vec![Cell::new(visible(&c.category))];
            cells.extend(change_cells(c.bytes));
            table.add_row(cells);
        }
        writeln!(out, "{table}")?;
    }

    if d.paths.is_empty() {
        writeln!(out, "\nNo path changed.")?;
    } else {
        writeln!(out, "\nPaths (depth {})", d.paths_depth)?;
        let mut table = new_table(
            width,
            &["status", "path", "old", "new", "change"],
            &[2, 3, 4],
        );
        for p in &d.paths {
            let mut cells = vec![Cell::new(p.status.code()), Cell::new(clip(&p.path, 200))];
            cells.extend(change_cells(p.bytes));
            table.add_row(cells);
        }
        if let Some(label) = rest_label("paths", d.paths_rest) {
            table.add_row(vec![Cell::new(""), Cell::new(label)]);
        }
        writeln!(out, "{table}")?;
    }

    if d.packages.is_empty() {
        writeln!(out, "\nNo package changed.")?;
    } else {
        writeln!(out, "\nPackages")?;
        let mut table = new_table(
            width,
            &["status", "package", "version", "old", "new", "change"],
            &[3, 4, 5],
        );
        for p in &d.packages {
            let version = match (&p.old_version, &p.new_version) {
                (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
                (a, b) => b.clone().or_else(|| a.clone()).unwrap_or_default(),
            };
            let mut cells = vec![
                Cell::new(p.status.code()),
                Cell::new(visible(&format!("{} {}", p.manager, p.name))),
                Cell::new(clip(&version, 60)),
            ];
            cells.extend(change_cells(p.bytes));
            table.add_row(cells);
        }
        if let Some(label) = rest_label("packages", d.packages_rest) {
            table.add_row(vec![Cell::new(""), Cell::new(label)]);
        }
        writeln!(out, "{table}")?;
    }

    if d.findings.is_empty() {
        writeln!(out, "\nNo finding is new or gone.")?;
    } else {
        writeln!(out, "\nFindings")?;
        let mut table = new_table(
            width,
            &["status", "rule", "scope", "bytes", "instruction"],
            &[3],
        );
        for f in &d.findings {
            table.add_row(vec![
                Cell::new(f.status.code()),
                Cell::new(visible(&f.rule)),
                Cell::new(visible(&f.scope)),
                Cell::new(size(f.bytes)),
                Cell::new(clip(
                    &at_line(
                        f.line.as_ref().map(|x| (x.file.as_str(), x.line)),
                        f.instruction.as_deref(),
                    ),
                    200,
                )),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    if !d.notes.is_empty() {
        writeln!(out, "\nNotes:")?;
        for n in &d.notes {
            writeln!(out, "  {}", visible(n))?;
        }
    }
    Ok(())
}
