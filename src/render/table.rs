//! The human report: image summary, the layers with their instructions, the biggest
//! paths and the waste, as comfy-table tables sized to the terminal. Every table is
//! top-N, then a remainder row naming the flag that shows more, then a total row.

use std::io::{self, Write};

use comfy_table::{self as ct, Cell, ColumnConstraint};

use super::format::{
    at_line, base_rule, clip, headlines, layer_list, layer_span, percent, platform, rest_label,
    short_digest, size, size_or_dash, visible,
};
use super::grid::{new_table, one_line};
use super::{Document, Renderer, verdict};
use crate::analyze::dockerfile::Located;
use crate::analyze::{
    Explanation, Finding, LayerChange, LayerRow, Now, Report, Scope, Status, Step, Tally, TopN,
    Verdict,
};
use crate::model::NodeKind;

/// Renders documents as text tables (`--format table`).
pub struct Table {
    /// Total width to fit (the terminal's, or a default when not a terminal).
    pub width: u16,
}

/// Cells padded with blanks to `columns`.
fn padded(mut cells: Vec<Cell>, columns: usize) -> Vec<Cell> {
    cells.resize_with(columns, || Cell::new(""));
    cells
}

/// The remainder row (when rows were left out) and the total row of a top-N table:
/// label, bytes, then `total_count` in the total row's third column, blanks elsewhere.
fn add_tail<R>(table: &mut ct::Table, t: &TopN<R>, columns: usize, total_count: Option<u64>) {
    if let Some(label) = rest_label(t) {
        table.add_row(padded(
            vec![Cell::new(label), Cell::new(size(t.rest.bytes))],
            columns,
        ));
    }
    let mut total = vec![Cell::new("total"), Cell::new(size(t.total_bytes))];
    if let Some(n) = total_count {
        total.push(Cell::new(n));
    }
    table.add_row(padded(total, columns));
}

/// A path cell: clipped, with a trailing `/` for directories.
fn path_cell(path: &str, kind: NodeKind, room: usize) -> Cell {
    let mut path = clip(path, room);
    if kind == NodeKind::Dir {
        path.push('/');
    }
    Cell::new(path)
}

fn layer_row(l: &LayerRow, at: Option<&Located>) -> Vec<Cell> {
    let head = vec![
        Cell::new(l.index),
        Cell::new(short_digest(l.digest.as_deref())),
        Cell::new(size(l.compressed_bytes)),
    ];
    let rest = match &l.error {
        Some(e) => vec![
            Cell::new("?"),
            Cell::new("?"),
            Cell::new("?"),
            Cell::new(visible(&format!("UNREADABLE: {e}"))),
        ],
        None => vec![
            Cell::new(size(l.added_bytes)),
            Cell::new(size_or_dash(l.wasted_bytes)),
            Cell::new(l.files),
            Cell::new(clip(
                &located(at, l.instruction.as_deref().unwrap_or("-")),
                400,
            )),
        ],
    };
    head.into_iter().chain(rest).collect()
}

/// A metadata-only history step: blank figure cells up to `figures`, then the
/// instruction.
fn empty_step_row(r: &Report, instruction: &str, history: usize, figures: usize) -> Vec<Cell> {
    let mut cells = padded(vec![Cell::new(""), Cell::new("(no layer)")], figures);
    cells.push(Cell::new(clip(
        &located(r.step_line(history), instruction),
        400,
    )));
    cells
}

/// An instruction with its Dockerfile line in front, when `--dockerfile` matched it.
fn located(at: Option<&Located>, text: &str) -> String {
    at_line(at.map(|a| (a.file.as_str(), a.line)), Some(text))
}

/// `1 file`, `2 files`.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The image's name, format and platform, its config digest, and a warning when the
/// figures are incomplete.
fn image_lines(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let img = &r.image;
    let name = img
        .reference
        .clone()
        .or_else(|| img.config_digest.clone())
        .unwrap_or_else(|| img.source.clone());
    let mut format = img.format.clone();
    if let Some(c) = &img.outer_compression {
        format.push_str(&format!(" in {c}"));
    }
    writeln!(
        out,
        "Image {} ({}, {})",
        visible(&name),
        visible(&format),
        platform(&img.platform)
    )?;
    if let Some(d) = &img.config_digest {
        writeln!(out, "config {}", visible(d))?;
    }
    if !r.complete {
        writeln!(
            out,
            "WARNING: {} layer(s) could not be read: the figures below are incomplete (see the problems at the end)",
            r.problems.len()
        )?;
    }
    Ok(())
}

/// Where the base image ends, and what the base and your layers ship.
fn base_line(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let (t, b) = (&r.totals, &r.base);
    let yours = t.your_stored_bytes();
    match b.layers {
        0 => writeln!(
            out,
            "Base image: {}; every layer is counted as yours ({} shipped)",
            base_rule(b.rule),
            size(yours)
        ),
        n => writeln!(
            out,
            "Base image: {} ({}{}), {} shipped; yours: {}, {} shipped",
            layer_span(0, n),
            base_rule(b.rule),
            b.name
                .as_deref()
                .map(|n| format!(", {}", visible(n)))
                .unwrap_or_default(),
            size(t.base_stored_bytes),
            layer_span(n, r.layers.len()),
            size(yours)
        ),
    }
}

impl Table {
    fn summary(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        image_lines(r, out)?;
        writeln!(out, "{}", self.totals_table(r))?;
        let t = &r.totals;
        writeln!(
            out,
            "{}, {}, {} in the final filesystem",
            counted(t.files, "file", "files"),
            counted(t.dirs, "directory", "directories"),
            counted(t.symlinks, "symlink", "symlinks")
        )?;
        base_line(r, out)
    }

    /// The five totals with what each means.
    fn totals_table(&self, r: &Report) -> ct::Table {
        let t = &r.totals;
        let mut table = new_table(self.width, &["figure", "size", "bytes", "meaning"], &[1, 2]);
        let wasted = format!(
            "{} ({})",
            size(t.wasted_bytes),
            percent(t.wasted_bytes, t.stored_bytes)
        );
        let rows: [(&str, u64, String, &str); 5] = [
            (
                "compressed",
                t.compressed_bytes,
                size(t.compressed_bytes),
                "layer blobs as stored and pulled",
            ),
            (
                "uncompressed",
                t.uncompressed_bytes,
                size(t.uncompressed_bytes),
                "layer tars, decompressed",
            ),
            (
                "stored",
                t.stored_bytes,
                size(t.stored_bytes),
                "file content shipped in all layers",
            ),
            (
                "content",
                t.content_bytes,
                size(t.content_bytes),
                "file content a container sees",
            ),
            (
                "wasted",
                t.wasted_bytes,
                wasted,
                "shipped but hidden: overwritten or deleted later",
            ),
        ];
        for (label, value, human, meaning) in rows {
            table.add_row(vec![
                Cell::new(label),
                Cell::new(human),
                Cell::new(value),
                Cell::new(meaning),
            ]);
        }
        table
    }

    fn layers(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\nLayers ({})", r.layers.len())?;
        let header = [
            "#",
            "digest",
            "compressed",
            "added",
            "wasted",
            "files",
            "instruction",
        ];
        let mut table = new_table(self.width, &header, &[0, 2, 3, 4, 5]);
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
            let row = match step {
                Step::Layer(i) => layer_row(&r.layers[*i], r.line(*i)),
                Step::Empty {
                    instruction,
                    history,
                    ..
                } => empty_step_row(r, instruction, *history, 6),
            };
            table.add_row(one_line(row));
        }
        let t = &r.totals;
        table.add_row(vec![
            Cell::new("total"),
            Cell::new(""),
            Cell::new(size(t.compressed_bytes)),
            Cell::new(size(t.stored_bytes)),
            Cell::new(size_or_dash(t.wasted_bytes)),
            Cell::new(t.layer_files),
            Cell::new(""),
        ]);
        writeln!(out, "{table}")?;
        if let Some(note) = &r.history_note {
            writeln!(out, "note: {}", visible(note))?;
        }
        if let Some(d) = &r.dockerfile {
            writeln!(
                out,
                "{}: stage {}, {} of {} layers matched",
                visible(&d.file),
                visible(&d.stage),
                d.matched_layers(),
                r.layers.len()
            )?;
            for n in &d.notes {
                writeln!(out, "note: {}", visible(n))?;
            }
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
            table.add_row(vec![
                path_cell(&p.path, p.kind, room),
                Cell::new(size(p.bytes)),
                Cell::new(p.files),
                Cell::new(layer_list(&p.layers)),
            ]);
        }
        add_tail(&mut table, &r.paths, 4, Some(r.totals.files));
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
        let header = [
            "path",
            "size",
            "files",
            "added by layer",
            "hidden by layer",
            "how",
        ];
        let mut table = new_table(self.width, &header, &[1, 2, 3, 4]);
        let room = usize::from(self.width).saturating_sub(60).max(24);
        for w in &r.waste.rows {
            table.add_row(vec![
                path_cell(&w.path, w.kind, room),
                Cell::new(size(w.bytes)),
                Cell::new(w.files),
                Cell::new(w.added_layer),
                Cell::new(w.removed_layer),
                Cell::new(w.cause.as_str()),
            ]);
        }
        add_tail(&mut table, &r.waste, 6, None);
        writeln!(out, "{table}")
    }

    fn categories(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\nCategories (shipped bytes: visible + wasted)")?;
        let header = [
            "category", "size", "visible", "wasted", "files", "base", "yours",
        ];
        let mut table = new_table(self.width, &header, &[1, 2, 3, 4, 5, 6]);
        for c in &r.categories.rows {
            table.add_row(vec![
                Cell::new(c.category.code()),
                Cell::new(size(c.bytes())),
                Cell::new(size_or_dash(c.content_bytes)),
                Cell::new(size_or_dash(c.wasted_bytes)),
                Cell::new(c.files),
                Cell::new(size_or_dash(c.base_bytes())),
                Cell::new(size_or_dash(c.your_content_bytes() + c.your_wasted_bytes())),
            ]);
        }
        add_tail(&mut table, &r.categories, 7, None);
        writeln!(out, "{table}")
    }

    fn suggestions(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let f = &r.findings;
        let (yours, base): (Vec<&Finding>, Vec<&Finding>) =
            f.rows.iter().partition(|row| row.scope == Scope::Yours);
        if yours.is_empty() {
            writeln!(out, "\nSuggestions: none.")?;
        } else {
            writeln!(
                out,
                "\nSuggestions ({} stored now; together {} less)",
                size(r.totals.stored_bytes),
                size(f.saved_bytes)
            )?;
            self.headlines(r, out)?;
            self.findings_table(r, &yours, f.saved_bytes, out)?;
        }
        if !base.is_empty() {
            writeln!(
                out,
                "\nBase image (only another base image removes these: {} more)",
                size(f.base_saved_bytes)
            )?;
            self.findings_table(r, &base, f.base_saved_bytes, out)?;
        }
        Ok(())
    }

    /// The two headline projections, a line each, sizes and percentages aligned.
    fn headlines(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let lines = headlines(r);
        let label = lines.iter().map(|h| h.label.len()).max().unwrap_or(0);
        let sizes: Vec<String> = lines.iter().map(|h| size(h.stored)).collect();
        let width = sizes.iter().map(String::len).max().unwrap_or(0);
        for (h, stored) in lines.iter().zip(&sizes) {
            writeln!(
                out,
                "  {:<label$}  {:>width$}  {:>6}  {}",
                h.label,
                stored,
                format!("-{}", percent(h.saved, r.totals.stored_bytes)),
                h.how
            )?;
        }
        Ok(())
    }

    fn findings_table(
        &self,
        r: &Report,
        rows: &[&Finding],
        total: u64,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let header = ["rule", "layer", "saves", "alone", "~pull", "fix"];
        let mut table = new_table(self.width, &header, &[1, 2, 3, 4]);
        for c in [1, 2, 3, 4] {
            if let Some(col) = table.column_mut(c) {
                col.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        for row in rows {
            table.add_row(one_line(vec![
                Cell::new(row.rule.code()),
                Cell::new(match r.line(row.layer) {
                    Some(at) => format!("{} (line {})", row.layer, at.line),
                    None => row.layer.to_string(),
                }),
                Cell::new(size(row.incremental_bytes)),
                Cell::new(size(row.bytes)),
                Cell::new(size(row.compressed_bytes)),
                Cell::new(clip(&row.fix, 400)),
            ]));
        }
        table.add_row(padded(
            vec![Cell::new("total"), Cell::new(""), Cell::new(size(total))],
            6,
        ));
        writeln!(out, "{table}")
    }

    fn packages(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let p = &r.packages;
        if p.rows.all_rows() == 0 {
            return writeln!(out, "\nPackages: no package database found.");
        }
        writeln!(out, "\nPackages (visible bytes of their files)")?;
        let header = [
            "manager", "package", "version", "size", "files", "layer", "build",
        ];
        let mut table = new_table(self.width, &header, &[3, 4, 5]);
        for row in &p.rows.rows {
            let build = match (row.build_only, row.build_closure) {
                (true, _) => "build-only",
                (false, true) => "removed with build",
                _ => "",
            };
            table.add_row(one_line(vec![
                Cell::new(row.manager.code()),
                Cell::new(clip(&row.name, 60)),
                Cell::new(clip(row.version.as_deref().unwrap_or("-"), 30)),
                Cell::new(size(row.bytes)),
                Cell::new(row.files),
                Cell::new(row.layer.map(|l| l.to_string()).unwrap_or_default()),
                Cell::new(build),
            ]));
        }
        if let Some(label) = rest_label(&p.rows) {
            table.add_row(padded(
                vec![
                    Cell::new(label),
                    Cell::new(""),
                    Cell::new(""),
                    Cell::new(size(p.rows.rest.bytes)),
                ],
                7,
            ));
        }
        table.add_row(padded(
            vec![
                Cell::new("total"),
                Cell::new(""),
                Cell::new(""),
                Cell::new(size(p.rows.total_bytes)),
            ],
            7,
        ));
        writeln!(out, "{table}")?;
        if p.build_only_bytes > 0 {
            writeln!(
                out,
                "Build-only packages: {}; with what purging them would autoremove: {} ({} packages)",
                size(p.build_only_bytes),
                size(p.build_closure_bytes),
                p.build_closure.len()
            )?;
        }
        Ok(())
    }

    /// A manifest-only report: the compressed layers and the history.
    fn manifest(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        let img = &r.image;
        let name = img.reference.as_deref().unwrap_or(&img.source);
        writeln!(
            out,
            "Image {} ({}, {}), manifest only: {} to pull in {} layers",
            visible(name),
            visible(&img.format),
            platform(&img.platform),
            size(r.totals.compressed_bytes),
            r.layers.len()
        )?;
        if let Some(d) = &img.manifest_digest {
            writeln!(out, "manifest {}", visible(d))?;
        }
        let header = ["#", "digest", "compressed", "media type", "instruction"];
        let mut table = new_table(self.width, &header, &[0, 2]);
        for c in [0, 2] {
            if let Some(col) = table.column_mut(c) {
                col.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
        for step in &r.steps {
            let row = match step {
                Step::Layer(i) => {
                    let l = &r.layers[*i];
                    vec![
                        Cell::new(l.index),
                        Cell::new(short_digest(l.digest.as_deref())),
                        Cell::new(size(l.compressed_bytes)),
                        Cell::new(clip(l.media_type.as_deref().unwrap_or("-"), 60)),
                        Cell::new(clip(
                            &located(r.line(*i), l.instruction.as_deref().unwrap_or("-")),
                            400,
                        )),
                    ]
                }
                Step::Empty {
                    instruction,
                    history,
                    ..
                } => empty_step_row(r, instruction, *history, 4),
            };
            table.add_row(one_line(row));
        }
        table.add_row(padded(
            vec![
                Cell::new("total"),
                Cell::new(""),
                Cell::new(size(r.totals.compressed_bytes)),
            ],
            5,
        ));
        writeln!(out, "{table}")?;
        if let Some(note) = &r.history_note {
            writeln!(out, "note: {}", visible(note))?;
        }
        for note in &r.notes {
            writeln!(out, "note: {}", visible(note))?;
        }
        Ok(())
    }

    fn report(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        if r.manifest_only {
            return self.manifest(r, out);
        }
        self.summary(r, out)?;
        self.layers(r, out)?;
        self.paths(r, out)?;
        self.waste(r, out)?;
        self.suggestions(r, out)?;
        self.categories(r, out)?;
        self.packages(r, out)?;
        for note in &r.notes {
            writeln!(out, "note: {}", visible(note))?;
        }
        for p in &r.problems {
            writeln!(out, "problem: {}", visible(p))?;
        }
        Ok(())
    }
}

/// One layer's change in words: `added 3 files (1.2 kB); re-added 12 files …`.
fn change_words(c: &LayerChange) -> String {
    let mut parts = Vec::new();
    let files = |t: &Tally| {
        let s = if t.files == 1 { "" } else { "s" };
        format!("{} file{s} ({})", t.files, size(t.bytes))
    };
    if c.added.files > 0 {
        parts.push(format!("added {}", files(&c.added)));
    }
    if c.readded.files > 0 {
        parts.push(format!("re-added {} at the same size", files(&c.readded)));
    }
    if c.replaced.files > 0 {
        parts.push(format!("replaced {}", files(&c.replaced)));
    }
    if c.hidden.files > 0 {
        parts.push(format!("hid {} below", files(&c.hidden)));
    }
    if c.dirs_added > 0 {
        parts.push(format!("{} new folders", c.dirs_added));
    }
    for (change, n) in c.attrs.iter().take(3) {
        parts.push(format!("mode/owner {} ({n})", visible(change)));
    }
    if c.attrs.len() > 3 {
        parts.push(format!("{} more mode/owner changes", c.attrs.len() - 3));
    }
    parts.join("; ")
}

impl Table {
    fn explain(&self, r: &Report, e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
        let now = match e.now {
            Now::Missing => "not in the final filesystem".to_string(),
            Now::File { bytes, layer } => format!("a file of {}, from layer {layer}", size(bytes)),
            Now::Dir { files, bytes } => {
                let s = if files == 1 { "" } else { "s" };
                format!("a folder of {files} file{s}, {}", size(bytes))
            }
            Now::Other => "a symlink or special file".to_string(),
        };
        let shown = r.image.reference.as_deref().unwrap_or("the image");
        writeln!(out, "{} in {}: {now}", clip(&e.path, 200), clip(shown, 120))?;
        if e.layers.is_empty() {
            return writeln!(out, "No layer has entries at or under it.");
        }
        let mut table = new_table(self.width, &["layer", "instruction", "what it did"], &[0]);
        for c in &e.layers {
            let scope = if c.base { " (base)" } else { "" };
            table.add_row(vec![
                Cell::new(format!("{}{scope}", c.layer)),
                Cell::new(clip(c.instruction.as_deref().unwrap_or("-"), 300)),
                Cell::new(change_words(c)),
            ]);
        }
        writeln!(out, "{table}")
    }
}

impl Table {
    /// `imgsize check`: one row per limit, then what explains each failure.
    fn check(&self, r: &Report, v: &Verdict, out: &mut dyn Write) -> io::Result<()> {
        let name = r.image.reference.as_deref().unwrap_or(&r.image.source);
        let verdict = verdict::summary(v);
        writeln!(
            out,
            "imgsize check: {} — {verdict} ({} compressed, {} uncompressed, {} layers)",
            clip(name, 200),
            size(r.totals.compressed_bytes),
            size(r.totals.uncompressed_bytes),
            r.totals.layers
        )?;
        if let Some(b) = &v.baseline {
            writeln!(out, "baseline: {}", clip(b, 200))?;
        }
        if v.outcomes.is_empty() {
            return writeln!(
                out,
                "no budgets: write an imgsize.toml or pass --limit (docs/ci.md)"
            );
        }
        let header = ["status", "budget", "limit", "measured", "set at"];
        let mut table = new_table(self.width, &header, &[2, 3]);
        for o in &v.outcomes {
            table.add_row(one_line(vec![
                Cell::new(verdict::status_word(o.status)),
                Cell::new(clip(&o.limit.metric.key(), 120)),
                Cell::new(verdict::amount(o.limit.max)),
                Cell::new(verdict::measured(o)),
                Cell::new(verdict::origin(o)),
            ]));
        }
        writeln!(out, "{table}")?;
        let room = usize::from(self.width).saturating_sub(30).max(20);
        for o in v.outcomes.iter().filter(|o| o.status == Status::Fail) {
            writeln!(
                out,
                "\nFAIL {}: {}",
                visible(&o.limit.metric.key()),
                verdict::headline(o)
            )?;
            for line in verdict::explanation(o, r, room) {
                writeln!(out, "  {line}")?;
            }
        }
        Ok(())
    }
}

impl Renderer for Table {
    fn render(&self, doc: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        match doc {
            Document::Report(r) => self.report(r, out),
            Document::Explain(r, e) => self.explain(r, e, out),
            Document::Check(r, v) => self.check(r, v, out),
            Document::Diff(d) => {
                super::diff_table::render(self.width, &super::diff_view::view(d), out)
            }
            Document::Fleet(f, top) => {
                super::diff_table::fleet(self.width, &super::fleet_view::view(f, *top), out)
            }
        }
    }
}
