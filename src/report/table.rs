//! The human report: image summary, the layers with their instructions, the biggest
//! paths and the waste, as comfy-table tables sized to the terminal. Every table is
//! top-N, then a remainder row naming the flag that shows more, then a total row.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment, ColumnConstraint, ContentArrangement, Row, Table, presets};
use humansize::{DECIMAL, format_size};

use super::Renderer;
use crate::analyze::{self, Report, Step};

/// Renders the report as text tables.
pub struct Text {
    /// Total width to fit (the terminal's, or a default when not a terminal).
    pub width: u16,
}

/// Human size with fixed decimals, so a column lines up (`879.00 kB`, `1.20 MB`).
fn size(bytes: u64) -> String {
    if bytes < 1000 {
        format!("{bytes} B")
    } else {
        format_size(bytes, DECIMAL.decimal_zeroes(2))
    }
}

/// Like [`size`], but a dash for nothing.
fn size_or_dash(bytes: u64) -> String {
    if bytes == 0 {
        "-".to_string()
    } else {
        size(bytes)
    }
}

/// A row that never wraps: long text is cut by the table at the column width.
fn one_line(cells: Vec<Cell>) -> Row {
    let mut row = Row::from(cells);
    row.max_height(1);
    row
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn short_digest(d: Option<&str>) -> String {
    match d {
        Some(d) => {
            let hex = d.split_once(':').map(|(_, h)| h).unwrap_or(d);
            hex.chars().take(12).collect()
        }
        None => "-".to_string(),
    }
}

/// Cut text to `max` characters, marking the cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn new_table(width: u16, header: &[&str], right: &[usize]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED.with_rounded_corners())
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.to_vec());
    for &c in right {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

fn layer_list(layers: &[(usize, u64)]) -> String {
    let mut s = String::new();
    for (i, (index, _)) in layers.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if i == 6 {
            s.push_str(&format!("+{}", layers.len() - 6));
            break;
        }
        s.push_str(&index.to_string());
    }
    s
}

impl Text {
    fn summary(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let img = &r.image;
        let name = img
            .reference
            .clone()
            .or_else(|| img.config_digest.clone())
            .unwrap_or_else(|| img.source.clone());
        let platform = match (&img.os, &img.architecture) {
            (Some(os), Some(arch)) => {
                let mut p = format!("{os}/{arch}");
                if let Some(v) = &img.variant {
                    p.push('/');
                    p.push_str(v);
                }
                p
            }
            _ => "unknown platform".to_string(),
        };
        let mut format = img.format.clone();
        if let Some(c) = &img.outer_compression {
            format.push_str(&format!(" in {c}"));
        }
        writeln!(out, "Image {name} ({format}, {platform})")?;
        if let Some(d) = &img.config_digest {
            writeln!(out, "config {d}")?;
        }
        if !r.complete {
            writeln!(
                out,
                "WARNING: {} layer(s) could not be read: the figures below are incomplete (see the problems at the end)",
                r.problems.len()
            )?;
        }
        let t = &r.totals;
        let mut table = new_table(self.width, &["figure", "size", "bytes", "meaning"], &[1, 2]);
        let rows: [(&str, u64, &str); 5] = [
            (
                "compressed",
                t.compressed_bytes,
                "layer blobs as stored and pulled",
            ),
            (
                "uncompressed",
                t.uncompressed_bytes,
                "layer tars, decompressed",
            ),
            (
                "stored",
                t.stored_bytes,
                "file content shipped in all layers",
            ),
            ("content", t.content_bytes, "file content a container sees"),
            (
                "wasted",
                t.wasted_bytes,
                "shipped but hidden: overwritten or deleted later",
            ),
        ];
        for (label, value, meaning) in rows {
            let human = if label == "wasted" {
                format!("{} ({})", size(value), percent(value, t.stored_bytes))
            } else {
                size(value)
            };
            table.add_row(vec![
                Cell::new(label),
                Cell::new(human),
                Cell::new(value),
                Cell::new(meaning),
            ]);
        }
        writeln!(out, "{table}")?;
        writeln!(
            out,
            "{} files, {} directories, {} symlinks in the final filesystem",
            t.files, t.dirs, t.symlinks
        )
    }

    fn layers(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\nLayers ({})", r.layers.len())?;
        let mut table = new_table(
            self.width,
            &[
                "#",
                "digest",
                "compressed",
                "added",
                "wasted",
                "files",
                "instruction",
            ],
            &[0, 2, 3, 4, 5],
        );
        // Figures never wrap; the instruction takes the rest, and on a narrow terminal
        // the digest column goes to leave it room.
        for c in [0, 2, 3, 4, 5] {
            if let Some(col) = table.column_mut(c) {
                col.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        if self.width < 100
            && let Some(col) = table.column_mut(1)
        {
            col.set_constraint(ColumnConstraint::Hidden);
        }
        for step in &r.steps {
            match step {
                Step::Layer(i) => {
                    let l = &r.layers[*i];
                    let row = match &l.error {
                        Some(e) => vec![
                            Cell::new(l.index),
                            Cell::new(short_digest(l.digest.as_deref())),
                            Cell::new(size(l.compressed_bytes)),
                            Cell::new("?"),
                            Cell::new("?"),
                            Cell::new("?"),
                            Cell::new(format!("UNREADABLE: {e}")),
                        ],
                        None => vec![
                            Cell::new(l.index),
                            Cell::new(short_digest(l.digest.as_deref())),
                            Cell::new(size(l.compressed_bytes)),
                            Cell::new(size(l.added_bytes)),
                            Cell::new(size_or_dash(l.wasted_bytes)),
                            Cell::new(l.files),
                            Cell::new(clip(
                                &l.created_by
                                    .as_deref()
                                    .map(analyze::instruction)
                                    .unwrap_or_else(|| "-".into()),
                                400,
                            )),
                        ],
                    };
                    table.add_row(one_line(row));
                }
                Step::Empty(h) => {
                    let what = h
                        .created_by
                        .as_deref()
                        .map(analyze::instruction)
                        .unwrap_or_default();
                    table.add_row(one_line(vec![
                        Cell::new(""),
                        Cell::new("(no layer)"),
                        Cell::new(""),
                        Cell::new(""),
                        Cell::new(""),
                        Cell::new(""),
                        Cell::new(clip(&what, 400)),
                    ]));
                }
            }
        }
        let t = &r.totals;
        table.add_row(vec![
            Cell::new("total"),
            Cell::new(""),
            Cell::new(size(t.compressed_bytes)),
            Cell::new(size(t.stored_bytes)),
            Cell::new(size_or_dash(t.wasted_bytes)),
            Cell::new(r.layers.iter().map(|l| l.files).sum::<u64>()),
            Cell::new(""),
        ]);
        writeln!(out, "{table}")?;
        if let Some(note) = &r.history_note {
            writeln!(out, "note: {note}")?;
        }
        Ok(())
    }

    fn paths(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "\nBiggest paths (depth {}, visible bytes)",
            r.options.depth
        )?;
        let mut table = new_table(self.width, &["path", "size", "files", "layers"], &[1, 2]);
        let room = usize::from(self.width).saturating_sub(40).max(24);
        for p in &r.paths.rows {
            let mut path = clip(&p.path, room);
            if p.kind == crate::model::NodeKind::Dir {
                path.push('/');
            }
            table.add_row(vec![
                Cell::new(path),
                Cell::new(size(p.bytes)),
                Cell::new(p.files),
                Cell::new(layer_list(&p.layers)),
            ]);
        }
        if r.paths.rest_rows > 0 {
            table.add_row(vec![
                Cell::new(format!(
                    "… {} more (--top {} shows them)",
                    r.paths.rest_rows,
                    r.paths.rows.len() + r.paths.rest_rows
                )),
                Cell::new(size(r.paths.rest_bytes)),
                Cell::new(""),
                Cell::new(""),
            ]);
        }
        table.add_row(vec![
            Cell::new("total"),
            Cell::new(size(r.paths.total_bytes)),
            Cell::new(r.totals.files),
            Cell::new(""),
        ]);
        writeln!(out, "{table}")
    }

    fn waste(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        if r.waste.total_bytes == 0 {
            let verdict = if r.complete {
                "none (no file content is overwritten or deleted)"
            } else {
                "none found in the layers that could be read"
            };
            return writeln!(out, "\nWaste: {verdict}.");
        }
        writeln!(out, "\nWaste (shipped, never visible)")?;
        let mut table = new_table(
            self.width,
            &[
                "path",
                "size",
                "files",
                "added by layer",
                "hidden by layer",
                "how",
            ],
            &[1, 2, 3, 4],
        );
        let room = usize::from(self.width).saturating_sub(60).max(24);
        for w in &r.waste.rows {
            let mut path = clip(&w.path, room);
            if w.kind == crate::model::NodeKind::Dir {
                path.push('/');
            }
            table.add_row(vec![
                Cell::new(path),
                Cell::new(size(w.bytes)),
                Cell::new(w.files),
                Cell::new(w.added_layer),
                Cell::new(w.removed_layer),
                Cell::new(w.cause.as_str()),
            ]);
        }
        if r.waste.rest_rows > 0 {
            table.add_row(vec![
                Cell::new(format!(
                    "… {} more (--top {} shows them)",
                    r.waste.rest_rows,
                    r.waste.rows.len() + r.waste.rest_rows
                )),
                Cell::new(size(r.waste.rest_bytes)),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
                Cell::new(""),
            ]);
        }
        table.add_row(vec![
            Cell::new("total"),
            Cell::new(size(r.waste.total_bytes)),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
        ]);
        writeln!(out, "{table}")
    }
}

impl Renderer for Text {
    fn render(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        self.summary(r, out)?;
        self.layers(r, out)?;
        self.paths(r, out)?;
        self.waste(r, out)?;
        if !r.image.other_images.is_empty() {
            writeln!(
                out,
                "\nThe input holds other images too (pick one with --image): {}",
                r.image.other_images.join(", ")
            )?;
        }
        for note in &r.notes {
            writeln!(out, "note: {note}")?;
        }
        for p in &r.problems {
            writeln!(out, "problem: {p}")?;
        }
        Ok(())
    }
}
