//! `imgsize diff` laid out once for every human format: the totals, then the layers,
//! categories, paths, packages and findings that changed, and the notes, as sections
//! of rows of cells. Each cell says where its text comes from, so that the table
//! (`diff_table`) and markdown (`markdown_diff`) each show it safely their own way;
//! they decide nothing else.

use super::format::{at_line, short_digest, signed_size, size};
use crate::analyze::diff::{Change, Diff, DiffRest, LayerStatus, Side};

/// A cell's text and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// imgsize's own words and figures, shown as they are.
    Own(String),
    /// Text from an image or a saved report (a category, a package, a rule's scope).
    Image(String),
    /// The same, cut to this many characters where a table has little room.
    Short(String, usize),
    /// Text from an image shown as code: a path, an instruction.
    Code(String),
    /// A short digest.
    Digest(String),
}

/// One table of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `None` for the totals, which follow the heading.
    pub title: Option<String>,
    /// What to say when there are no rows; `None`: the section is shown anyway.
    pub empty: Option<&'static str>,
    pub columns: &'static [&'static str],
    /// The columns aligned right.
    pub right: &'static [usize],
    pub rows: Vec<Vec<Cell>>,
    /// The rows left out, as one line, in column `rest_at` of the table.
    pub rest: Option<String>,
    pub rest_at: usize,
    /// Rows never wrap (long instructions are cut by the table).
    pub one_line: bool,
}

/// The whole diff, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffView {
    /// The two sides' names (from the images or reports: escape them).
    pub old: String,
    pub new: String,
    pub sections: Vec<Section>,
    /// From the diff (escape them).
    pub notes: Vec<String>,
}

const TOTALS: [&str; 5] = ["figure", "old", "new", "change", "%"];
const LAYERS: [&str; 7] = [
    "status",
    "old",
    "new",
    "diff_id",
    "compressed Δ",
    "stored Δ",
    "instruction",
];
const CATEGORIES: [&str; 4] = ["category", "old", "new", "change"];
const PATHS: [&str; 5] = ["status", "path", "old", "new", "change"];
const PACKAGES: [&str; 6] = ["status", "package", "version", "old", "new", "change"];
const FINDINGS: [&str; 5] = ["status", "rule", "scope", "bytes", "instruction"];

/// Lay a diff out.
pub fn view(d: &Diff) -> DiffView {
    DiffView {
        old: side_name(&d.old).to_string(),
        new: side_name(&d.new).to_string(),
        sections: vec![
            totals(d),
            layers(d),
            categories(d),
            paths(d),
            packages(d),
            findings(d),
        ],
        notes: d.notes.clone(),
    }
}

/// The name a side is shown by: its reference, or its input.
pub fn side_name(s: &Side) -> &str {
    s.reference.as_deref().unwrap_or(&s.source)
}

fn section(
    title: Option<String>,
    columns: &'static [&'static str],
    right: &'static [usize],
) -> Section {
    Section {
        title,
        empty: None,
        columns,
        right,
        rows: Vec::new(),
        rest: None,
        rest_at: 1,
        one_line: false,
    }
}

fn own(text: impl Into<String>) -> Cell {
    Cell::Own(text.into())
}

/// Old, new and the change, as sizes.
fn changes(c: Change) -> [Cell; 3] {
    [
        own(size(c.old)),
        own(size(c.new)),
        own(signed_size(c.delta)),
    ]
}

/// The change in percent of the old figure, or a dash.
fn change_percent(c: Change) -> String {
    if c.old == 0 {
        "-".to_string()
    } else {
        format!("{:+.1}%", c.delta as f64 * 100.0 / c.old as f64)
    }
}

/// An index, or a dash.
fn index(i: Option<usize>) -> String {
    i.map_or_else(|| "-".to_string(), |i| i.to_string())
}

/// The label of the rows a diff table left out.
fn rest_label(what: &str, r: DiffRest) -> Option<String> {
    (r.rows > 0).then(|| {
        format!(
            "… {} more {what} ({} in all; --top shows more)",
            r.rows,
            signed_size(r.delta)
        )
    })
}

/// An instruction with its Dockerfile line, as code.
fn instruction(line: Option<(&str, usize)>, text: Option<&str>) -> Cell {
    Cell::Code(at_line(line, text))
}

fn totals(d: &Diff) -> Section {
    let t = &d.totals;
    let mut s = section(None, &TOTALS, &[1, 2, 3, 4]);
    for (name, c) in [
        ("compressed", t.compressed_bytes),
        ("uncompressed", t.uncompressed_bytes),
        ("stored", t.stored_bytes),
        ("content", t.content_bytes),
        ("wasted", t.wasted_bytes),
    ] {
        let mut row = vec![own(name)];
        row.extend(changes(c));
        row.push(own(change_percent(c)));
        s.rows.push(row);
    }
    for (name, c) in [("files", t.files), ("layers", t.layers)] {
        s.rows.push(vec![
            own(name),
            own(c.old.to_string()),
            own(c.new.to_string()),
            own(format!("{:+}", c.delta)),
            own(change_percent(c)),
        ]);
    }
    s
}

fn layers(d: &Diff) -> Section {
    let mut s = section(Some("Layers".to_string()), &LAYERS, &[1, 2, 4, 5]);
    s.one_line = true;
    for l in &d.layers {
        let changed = l.status != LayerStatus::Unchanged;
        let delta = |c: Change| {
            own(if changed {
                signed_size(c.delta)
            } else {
                String::new()
            })
        };
        s.rows.push(vec![
            own(l.status.code()),
            own(index(l.old_index)),
            own(index(l.new_index)),
            Cell::Digest(short_digest(l.diff_id.as_deref())),
            delta(l.compressed_bytes),
            delta(l.added_bytes),
            instruction(
                l.line.as_ref().map(|x| (x.file.as_str(), x.line)),
                l.instruction.as_deref(),
            ),
        ]);
    }
    s
}

fn categories(d: &Diff) -> Section {
    let title = "Categories (shipped bytes)".to_string();
    let mut s = section(Some(title), &CATEGORIES, &[1, 2, 3]);
    s.empty = Some("No category changed.");
    for c in &d.categories {
        let mut row = vec![Cell::Image(c.category.clone())];
        row.extend(changes(c.bytes));
        s.rows.push(row);
    }
    s
}

fn paths(d: &Diff) -> Section {
    let title = format!("Paths (depth {})", d.paths_depth);
    let mut s = section(Some(title), &PATHS, &[2, 3, 4]);
    s.empty = Some("No path changed.");
    for p in &d.paths {
        let mut row = vec![own(p.status.code()), Cell::Code(p.path.clone())];
        row.extend(changes(p.bytes));
        s.rows.push(row);
    }
    s.rest = rest_label("paths", d.paths_rest);
    s
}

fn packages(d: &Diff) -> Section {
    let mut s = section(Some("Packages".to_string()), &PACKAGES, &[3, 4, 5]);
    s.empty = Some("No package changed.");
    for p in &d.packages {
        let version = match (&p.old_version, &p.new_version) {
            (Some(a), Some(b)) if a != b => format!("{a} → {b}"),
            (a, b) => b.clone().or_else(|| a.clone()).unwrap_or_default(),
        };
        let mut row = vec![
            own(p.status.code()),
            Cell::Image(format!("{} {}", p.manager, p.name)),
            Cell::Short(version, 60),
        ];
        row.extend(changes(p.bytes));
        s.rows.push(row);
    }
    s.rest = rest_label("packages", d.packages_rest);
    s
}

fn findings(d: &Diff) -> Section {
    let mut s = section(Some("Findings".to_string()), &FINDINGS, &[3]);
    s.empty = Some("No finding is new or gone.");
    for f in &d.findings {
        s.rows.push(vec![
            own(f.status.code()),
            Cell::Image(f.rule.clone()),
            Cell::Image(f.scope.clone()),
            own(size(f.bytes)),
            instruction(
                f.line.as_ref().map(|x| (x.file.as_str(), x.line)),
                f.instruction.as_deref(),
            ),
        ]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_index_and_rest_read_as_the_tables_show_them() {
        let c = Change::new;
        assert_eq!(change_percent(c(200, 250)), "+25.0%");
        assert_eq!(change_percent(c(0, 5)), "-");
        assert_eq!(index(None), "-");
        assert_eq!(index(Some(3)), "3");
        assert_eq!(rest_label("paths", DiffRest { rows: 0, delta: 0 }), None);
        assert_eq!(
            rest_label(
                "paths",
                DiffRest {
                    rows: 2,
                    delta: -1500
                }
            )
            .as_deref(),
            Some("… 2 more paths (-1.50 kB in all; --top shows more)")
        );
    }
}
