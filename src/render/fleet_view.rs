//! `imgsize fleet` laid out once for the table and markdown: a headline, the totals
//! over images and over distinct layers, the change against a baseline, then the rules,
//! the biggest fixes, the shared layers, the base families, the largest images and the
//! errors, each cut to `top` rows. Sections of the diff's [`Cell`]s, so that each
//! format shows text from images (names, families) safely its own way.

use super::diff_view::{Cell, Section};
use super::format::{percent, short_digest, signed_size, size};
use crate::model::fleet::{Fleet, FleetChange, FleetTotals};

/// The fleet, ready to print.
pub struct FleetView {
    /// imgsize's own words.
    pub headline: String,
    pub sections: Vec<Section>,
}

const TOTALS: [&str; 4] = [
    "figure",
    "over images",
    "over distinct layers",
    "saved by sharing",
];
const CHANGE: [&str; 4] = ["figure", "before", "now", "change"];
const GROWN: [&str; 4] = ["image", "before", "now", "change"];
const RULES: [&str; 7] = [
    "rule",
    "images",
    "fixes",
    "saves, layers once",
    "saves over images",
    "pull saving",
    "of which base",
];
const FIXES: [&str; 7] = [
    "rule",
    "scope",
    "layer",
    "images",
    "saves once",
    "saves over images",
    "family or image",
];
const SHARED: [&str; 6] = [
    "layer",
    "images",
    "compressed",
    "stored",
    "pulled",
    "family",
];
const FAMILIES: [&str; 6] = [
    "family",
    "images",
    "base layers",
    "base stored",
    "images stored",
    "base findings",
];
const LARGEST: [&str; 6] = [
    "image",
    "family",
    "layers",
    "compressed",
    "stored",
    "wasted",
];
const ERRORS: [&str; 2] = ["image", "error"];

fn own(text: impl Into<String>) -> Cell {
    Cell::Own(text.into())
}

fn section(
    title: &str,
    empty: Option<&'static str>,
    columns: &'static [&'static str],
    right: &'static [usize],
) -> Section {
    Section {
        title: Some(title.to_string()),
        empty,
        columns,
        right,
        rows: Vec::new(),
        rest: None,
        rest_at: 0,
        one_line: true,
    }
}

/// The rows left out, as one line.
fn rest(total: usize, top: usize, what: &str) -> Option<String> {
    (total > top).then(|| format!("… {} more {what} (--top shows more)", total - top))
}

/// The headline: images, names, errors and families.
fn headline(f: &Fleet) -> String {
    let t = &f.totals;
    let mut line = format!("Fleet of {} images", t.images);
    if t.names != t.images {
        line.push_str(&format!(" ({} names)", t.names));
    }
    line.push_str(&format!(
        ", {} base families; {} errors, {} incomplete",
        f.families.len(),
        t.errors,
        t.incomplete
    ));
    line
}

fn totals(t: &FleetTotals) -> Section {
    let mut s = section("Totals", None, &TOTALS, &[1, 2, 3]);
    s.title = None;
    let row = |name: &str, over: u64, distinct: u64, shown: &dyn Fn(u64) -> String| {
        vec![
            own(name),
            own(shown(over)),
            own(shown(distinct)),
            own(percent(over.saturating_sub(distinct), over)),
        ]
    };
    let count = |n: u64| n.to_string();
    s.rows = vec![
        row("layers", t.layers as u64, t.distinct_layers as u64, &count),
        row(
            "compressed (pulled, stored by a registry)",
            t.compressed_bytes,
            t.distinct_compressed_bytes,
            &size,
        ),
        row(
            "stored (on a node's disk)",
            t.stored_bytes,
            t.distinct_stored_bytes,
            &size,
        ),
    ];
    s
}

fn delta(before: u64, after: u64) -> String {
    signed_size(after as i64 - before as i64)
}

fn change(c: &FleetChange, now: &FleetTotals, top: usize) -> Vec<Section> {
    let mut s = section("Change since the baseline", None, &CHANGE, &[1, 2, 3]);
    let b = &c.before;
    s.rows = vec![
        vec![
            own("images"),
            own(b.images.to_string()),
            own(now.images.to_string()),
            own(format!("{:+}", now.images as i64 - b.images as i64)),
        ],
        vec![
            own("stored over distinct layers"),
            own(size(b.distinct_stored_bytes)),
            own(size(now.distinct_stored_bytes)),
            own(delta(b.distinct_stored_bytes, now.distinct_stored_bytes)),
        ],
        vec![
            own("stored over images"),
            own(size(b.stored_bytes)),
            own(size(now.stored_bytes)),
            own(delta(b.stored_bytes, now.stored_bytes)),
        ],
        vec![
            own("compressed over distinct layers"),
            own(size(b.distinct_compressed_bytes)),
            own(size(now.distinct_compressed_bytes)),
            own(delta(
                b.distinct_compressed_bytes,
                now.distinct_compressed_bytes,
            )),
        ],
    ];
    let names = |list: &[String]| {
        let mut text: Vec<&str> = list.iter().take(top).map(String::as_str).collect();
        if list.len() > top {
            text.push("…");
        }
        text.join(", ")
    };
    if !c.added.is_empty() {
        s.rows.push(vec![
            own("names added"),
            own(""),
            own(c.added.len().to_string()),
            Cell::Short(names(&c.added), 60),
        ]);
    }
    if !c.removed.is_empty() {
        s.rows.push(vec![
            own("names removed"),
            own(c.removed.len().to_string()),
            own(""),
            Cell::Short(names(&c.removed), 60),
        ]);
    }
    let mut grown = section("Images that changed", None, &GROWN, &[1, 2, 3]);
    for i in c.changed.iter().take(top) {
        grown.rows.push(vec![
            Cell::Short(i.name.clone(), 60),
            own(size(i.before_bytes)),
            own(size(i.after_bytes)),
            own(delta(i.before_bytes, i.after_bytes)),
        ]);
    }
    grown.rest = rest(c.changed.len(), top, "images");
    grown.empty = Some("No image present in both changed size.");
    vec![s, grown]
}

fn rules(f: &Fleet, top: usize) -> Section {
    let mut s = section(
        "Findings by rule (a shared layer's fix counted once)",
        Some("No findings."),
        &RULES,
        &[1, 2, 3, 4, 5, 6],
    );
    for r in f.rules.iter().take(top) {
        s.rows.push(vec![
            Cell::Image(r.rule.clone()),
            own(r.images.to_string()),
            own(r.fixes.to_string()),
            own(size(r.bytes)),
            own(size(r.summed_bytes)),
            own(size(r.summed_compressed_bytes)),
            own(size(r.base_bytes)),
        ]);
    }
    s.rest = rest(f.rules.len(), top, "rules");
    s
}

fn fixes(f: &Fleet, top: usize) -> Section {
    let mut s = section(
        "Biggest fixes (each shrinks every image listed)",
        Some("No fixes."),
        &FIXES,
        &[3, 4, 5],
    );
    for x in f.fixes.iter().take(top) {
        let at = x.family.clone().unwrap_or_else(|| x.example.clone());
        s.rows.push(vec![
            Cell::Image(x.rule.clone()),
            Cell::Image(x.scope.clone()),
            Cell::Digest(short_digest(x.layer_digest.as_deref())),
            own(x.images.to_string()),
            own(size(x.bytes)),
            own(size(x.summed_bytes)),
            Cell::Short(at, 50),
        ]);
    }
    s.rest = rest(f.fixes.len(), top, "fixes");
    s
}

fn shared(f: &Fleet, top: usize) -> Section {
    let mut s = section(
        "Shared layers (size × images)",
        Some("No layer is shared by two images."),
        &SHARED,
        &[1, 2, 3, 4],
    );
    for l in f.shared_layers.iter().take(top) {
        s.rows.push(vec![
            Cell::Digest(short_digest(Some(&l.digest))),
            own(l.images.to_string()),
            own(size(l.compressed_bytes)),
            own(size(l.added_bytes)),
            own(size(l.pulled_bytes)),
            Cell::Short(l.family.clone().unwrap_or_default(), 50),
        ]);
    }
    s.rest = rest(f.shared_layers.len(), top, "shared layers");
    s
}

fn families(f: &Fleet, top: usize) -> Section {
    let mut s = section(
        "Base families",
        Some("No images."),
        &FAMILIES,
        &[1, 2, 3, 4, 5],
    );
    for x in f.families.iter().take(top) {
        s.rows.push(vec![
            Cell::Short(x.name.clone(), 50),
            own(x.images.to_string()),
            own(x.base_layers.to_string()),
            own(size(x.base_stored_bytes)),
            own(size(x.stored_bytes)),
            own(size(x.base_findings_bytes)),
        ]);
    }
    s.rest = rest(f.families.len(), top, "families");
    s
}

fn largest(f: &Fleet, top: usize) -> Section {
    let mut s = section(
        "Largest images",
        Some("No images."),
        &LARGEST,
        &[2, 3, 4, 5],
    );
    for i in f.images.iter().take(top) {
        s.rows.push(vec![
            Cell::Short(i.names.join(", "), 60),
            Cell::Short(i.family.clone(), 40),
            own(i.layers.to_string()),
            own(size(i.compressed_bytes)),
            own(size(i.stored_bytes)),
            own(size(i.wasted_bytes)),
        ]);
    }
    s.rest = rest(f.images.len(), top, "images");
    s
}

fn errors(f: &Fleet, top: usize) -> Section {
    let mut s = section("Errors", Some("No errors."), &ERRORS, &[]);
    for e in f.errors.iter().take(top) {
        s.rows.push(vec![
            Cell::Short(e.name.clone(), 60),
            Cell::Short(e.error.clone(), 120),
        ]);
    }
    s.rest = rest(f.errors.len(), top, "errors");
    s
}

/// Lay a fleet out, each list cut to `top` rows.
pub fn view(f: &Fleet, top: usize) -> FleetView {
    let mut sections = vec![totals(&f.totals)];
    if let Some(c) = &f.change {
        sections.extend(change(c, &f.totals, top));
    }
    sections.extend([
        rules(f, top),
        fixes(f, top),
        shared(f, top),
        families(f, top),
        largest(f, top),
        errors(f, top),
    ]);
    FleetView {
        headline: headline(f),
        sections,
    }
}
