//! The words of a check verdict, shared by every format that shows one (table,
//! markdown, JUnit, SARIF, GitHub workflow commands): how a limit and a measured figure
//! read, the one-line headline of an outcome, and the lines that explain a failure
//! (the layers that put the bytes there, the findings to fix). Text only; the figures
//! all come from the [`Verdict`](crate::analyze::Verdict).

use super::format::size;
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
    format!(
        "layer {index} ({})",
        super::format::clip(layer_instruction(r, index), room)
    )
}

/// A finding as one line: `pip-cache in layer 3 saves 8.00 MB: <fix>`.
pub fn finding_line(f: &Finding) -> String {
    format!(
        "{} in layer {} saves {}: {}",
        f.rule.code(),
        f.layer,
        size(f.bytes),
        f.fix
    )
}

/// What explains a failure, line by line: the layers that put the bytes there, examples,
/// the findings to fix, and where the figure would be after them.
pub fn explanation(o: &Outcome, r: &Report, room: usize) -> Vec<String> {
    let mut lines = Vec::new();
    if o.status != Status::Fail {
        return lines;
    }
    if !o.layers.is_empty() {
        let verb = match o.limit.metric {
            Metric::GrowthBytes | Metric::GrowthPercent => "new",
            _ => "adds",
        };
        for &(i, b) in &o.layers {
            lines.push(format!("{}: {verb} {}", layer_name(r, i, room), size(b)));
        }
    }
    for (p, b) in &o.examples {
        lines.push(format!("{}: {}", super::format::clip(p, room), size(*b)));
    }
    for &i in &o.findings {
        if let Some(f) = r.findings.rows.get(i) {
            lines.push(format!("fix: {}", finding_line(f)));
        }
    }
    if let (Some(after), Amount::Bytes(max)) = (o.after, o.limit.max) {
        let word = if after <= max { "under" } else { "still over" };
        lines.push(format!(
            "after these fixes: {} ({word} the {} budget)",
            size(after),
            size(max)
        ));
    } else if o.findings.is_empty() && matches!(o.limit.metric, Metric::Layers) {
        lines.push(
            "fix: join consecutive RUN steps, or build in a stage and copy the result".into(),
        );
    }
    if let Some(n) = &o.note
        && matches!(o.limit.metric, Metric::GrowthBytes | Metric::GrowthPercent)
    {
        lines.push(n.clone());
    }
    lines
}

/// Where a limit was set, for people.
pub fn origin(o: &Outcome) -> String {
    match &o.limit.origin {
        Origin::File { file, line } => format!("{file}:{line}"),
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
