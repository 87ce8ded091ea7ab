//! The words of a check verdict, shared by every format that shows one (table,
//! markdown, JUnit, SARIF, GitHub workflow commands): how a limit and a measured figure
//! read, the one-line headline of an outcome, and the lines that explain a failure
//! (the layers that put the bytes there, the findings to fix). Text only; the figures
//! all come from the [`Verdict`](crate::analyze::Verdict). Every line it returns has
//! the text it quotes (instructions, paths, notes, budget keys and files) made
//! [`visible`].

use super::format::{size, visible};
use crate::analyze::budget::{Amount, Metric, Origin, Outcome, Status, Unit};
use crate::analyze::{Finding, Report};

/// A limit or figure for people: `200.00 MB`, `30`, `5.0%`, `+12.00 MB`.
pub fn amount(a: Amount) -> String {
    match a {
        Amount::Bytes(b) => size(b),
        Amount::Count(n) => n.to_string(),
        Amount::Percent(p) if p.is_infinite() => "∞%".to_string(),
        Amount::Percent(p) => format!("{p:.1}%"),
        Amount::SignedBytes(b) if b < 0 => format!("-{}", size(b.unsigned_abs())),
        Amount::SignedBytes(b) => format!("+{}", size(b.unsigned_abs())),
    }
}

/// `all 9 budgets hold`, `1 budget holds`, `2 of 9 budgets failed`.
pub fn summary(v: &crate::analyze::Verdict) -> String {
    let (n, failed) = (v.outcomes.len(), v.failed());
    let noun = if n == 1 { "budget" } else { "budgets" };
    match (failed, n) {
        (0, 1) => "1 budget holds".to_string(),
        (0, n) => format!("all {n} {noun} hold"),
        (f, n) => format!("{f} of {n} {noun} failed"),
    }
}

/// The measured figure, or a dash.
pub fn measured(o: &Outcome) -> String {
    o.measured.map(amount).unwrap_or_else(|| "-".to_string())
}

/// `pass`, `FAIL`, `skipped`.
pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Skipped => "skipped",
    }
}

/// By how much a failure is over, when both sides are bytes.
fn over_by(o: &Outcome) -> Option<u64> {
    let max = match o.limit.max {
        Amount::Bytes(b) | Amount::Count(b) => b,
        _ => return None,
    };
    match o.measured? {
        Amount::Bytes(m) | Amount::Count(m) => m.checked_sub(max),
        Amount::SignedBytes(m) => u64::try_from(m).ok()?.checked_sub(max),
        Amount::Percent(_) => None,
    }
}

/// One line: what was measured against what.
/// `compressed size (what a pull transfers): 212.00 MB, over the 200.00 MB budget by 12.00 MB`.
pub fn headline(o: &Outcome) -> String {
    visible(&headline_raw(o)).into_owned()
}

fn headline_raw(o: &Outcome) -> String {
    let what = o.limit.metric.describe();
    let m = measured(o);
    let max = amount(o.limit.max);
    match o.status {
        Status::Pass => format!("{what}: {m}, within {max}"),
        Status::Skipped => format!(
            "{what}: not checked ({})",
            o.note.as_deref().unwrap_or("not measured")
        ),
        Status::Fail => match (over_by(o), o.limit.metric.unit()) {
            (Some(by), Unit::Bytes) => {
                format!("{what}: {m}, over the {max} budget by {}", size(by))
            }
            (Some(by), Unit::Count) => format!("{what}: {m}, over the limit of {max} by {by}"),
            _ => format!("{what}: {m}, over the limit of {max}"),
        },
    }
}

/// The layer's instruction, short, or a dash.
pub fn layer_instruction(r: &Report, index: usize) -> &str {
    r.layers
        .get(index)
        .and_then(|l| l.instruction.as_deref())
        .unwrap_or("-")
}

/// `layer 3 (RUN pip install …)`, its instruction cut to `room` characters.
pub fn layer_name(r: &Report, index: usize, room: usize) -> String {
    let at = r
        .line(index)
        .map(|l| format!(" at {}:{}", visible(&l.file), l.line))
        .unwrap_or_default();
    format!(
        "layer {index}{at} ({})",
        super::format::clip(layer_instruction(r, index), room)
    )
}

/// A finding as one line: `pip-cache in layer 3 saves 8.00 MB: <fix>`.
pub fn finding_line(f: &Finding) -> String {
    fix_line(f, f.bytes)
}

/// A finding as one line with what it saves of a budget's figure (`saves`, from the
/// outcome: compressed bytes for a compressed budget).
pub fn fix_line(f: &Finding, saves: u64) -> String {
    format!(
        "{} in layer {} saves {}: {}",
        f.rule.code(),
        f.layer,
        size(saves),
        visible(&f.fix)
    )
}

/// One part of what explains a failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// A layer that contributes bytes (`new` when growth: a layer the baseline lacks).
    Layer {
        index: usize,
        bytes: u64,
        new: bool,
    },
    /// A file the figure counts.
    Example {
        path: &'a str,
        bytes: u64,
    },
    /// A finding whose fix lowers the figure, with what it saves of the figure's kind
    /// ([`Outcome::savings`]).
    Fix {
        finding: &'a Finding,
        saves: u64,
    },
    /// The figure after those fixes, against the limit.
    After {
        bytes: u64,
        max: u64,
    },
    /// What to do when no finding applies.
    Hint(&'static str),
    Note(&'a str),
}

/// What explains a failure: the layers that put the bytes there, examples, the
/// findings to fix, and where the figure would be after them.
pub fn items<'a>(o: &'a Outcome, r: &'a Report) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    if o.status != Status::Fail {
        return out;
    }
    let growth = matches!(o.limit.metric, Metric::GrowthBytes | Metric::GrowthPercent);
    for &(index, bytes) in &o.layers {
        out.push(Item::Layer {
            index,
            bytes,
            new: growth,
        });
    }
    for (path, bytes) in &o.examples {
        out.push(Item::Example {
            path,
            bytes: *bytes,
        });
    }
    out.extend(
        o.findings
            .iter()
            .zip(&o.savings)
            .filter_map(|(&i, &saves)| {
                let finding = r.findings.rows.get(i)?;
                Some(Item::Fix { finding, saves })
            }),
    );
    if let (Some(after), Amount::Bytes(max)) = (o.after, o.limit.max) {
        out.push(Item::After { bytes: after, max });
    } else if o.findings.is_empty() && matches!(o.limit.metric, Metric::Layers) {
        out.push(Item::Hint(
            "join consecutive RUN steps, or build in a stage and copy the result",
        ));
    }
    if growth && let Some(n) = &o.note {
        out.push(Item::Note(n));
    }
    out
}

/// `under` or `still over`.
pub fn after_word(bytes: u64, max: u64) -> &'static str {
    if bytes <= max { "under" } else { "still over" }
}

/// The explanation as plain lines (table, JUnit, SARIF, workflow commands).
pub fn explanation(o: &Outcome, r: &Report, room: usize) -> Vec<String> {
    items(o, r)
        .into_iter()
        .map(|item| match item {
            Item::Layer { index, bytes, new } => format!(
                "{}: {} {}",
                layer_name(r, index, room),
                if new { "new" } else { "adds" },
                size(bytes)
            ),
            Item::Example { path, bytes } => {
                format!("{}: {}", super::format::clip(path, room), size(bytes))
            }
            Item::Fix { finding, saves } => format!("fix: {}", fix_line(finding, saves)),
            Item::After { bytes, max } => format!(
                "after these fixes: {} ({} the {} budget)",
                size(bytes),
                after_word(bytes, max),
                size(max)
            ),
            Item::Hint(h) => format!("fix: {h}"),
            Item::Note(n) => visible(n).into_owned(),
        })
        .collect()
}

/// The headline and, below it, the explanation: one message (SARIF, workflow commands).
pub fn message(o: &Outcome, r: &Report) -> String {
    let mut text = headline(o);
    for line in explanation(o, r, 200) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// Where a limit was set, for people.
pub fn origin(o: &Outcome) -> String {
    match &o.limit.origin {
        Origin::File { file, line } => format!("{}:{line}", visible(file)),
        Origin::Flag => "--limit".to_string(),
    }
}

/// The layer an outcome is about: the largest layer, or the biggest contributor.
pub fn main_layer(o: &Outcome) -> Option<usize> {
    o.layer.or_else(|| o.layers.first().map(|&(i, _)| i))
}

/// A place in a file that a result points at (1-based line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: Option<usize>,
}

/// Where a layer's instruction is in the Dockerfile, when `--dockerfile` matched it.
pub fn layer_place(r: &Report, layer: usize) -> Option<Place> {
    r.line(layer).map(|l| Place {
        file: l.file.clone(),
        line: Some(l.line),
    })
}

/// Where to point a failed limit: the Dockerfile line of the layer it is about, else
/// the budget file's line.
pub fn outcome_place(o: &Outcome, r: &Report) -> Option<Place> {
    main_layer(o)
        .and_then(|l| layer_place(r, l))
        .or_else(|| match &o.limit.origin {
            Origin::File { file, line } => Some(Place {
                file: file.clone(),
                line: Some(*line),
            }),
            Origin::Flag => None,
        })
}
