//! The verdict of one report against a budget: each limit's figure, measured from the
//! report and the [`Facts`], its status, and for a failure what explains it: the layers
//! that put the bytes there, the findings whose fixes bring it back under the limit
//! (each with what it saves of the figure's own kind: compressed bytes for a compressed
//! figure, stored bytes otherwise) and the figure after them. Pure: a budget and a
//! report in, a [`Verdict`] out; the words are the renderers'.

use super::file::{Budget, GrowthMeasure, Limit, Metric};
use super::measure::{Baseline, Facts, literal_prefix, overlaps};
use super::units::Amount;
use crate::analyze::categories::Category;
use crate::analyze::findings::{Finding, Rule, Scope};
use crate::analyze::packages::PackageRow;
use crate::analyze::{LayerRow, Report, Totals};

/// The outcome of one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Could not be measured (growth without a baseline); says why in `note`.
    Skipped,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
        }
    }
}

/// One limit against the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub limit: Limit,
    pub measured: Option<Amount>,
    pub status: Status,
    /// The layer the figure is about (the largest layer), if one.
    pub layer: Option<usize>,
    /// The layers that contribute most, biggest first: (index, bytes).
    pub layers: Vec<(usize, u64)>,
    /// Examples of what is measured (the biggest files under a glob).
    pub examples: Vec<(String, u64)>,
    /// Indexes into the report's findings whose fixes lower this figure, in the order
    /// to apply them; for a failure, only as many as bring it under the limit (or all).
    pub findings: Vec<usize>,
    /// What each of `findings` saves alone, in the figure's own kind: the estimated
    /// compressed bytes when the figure is compressed (a `compressed` limit, or growth
    /// measured on compressed sizes), stored bytes otherwise. One per finding, in order.
    pub savings: Vec<u64>,
    /// The figure once those findings are fixed (bytes limits only).
    pub after: Option<u64>,
    pub note: Option<String>,
}

/// Every limit's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub outcomes: Vec<Outcome>,
    pub growth_measure: GrowthMeasure,
    /// The baseline's source, when one was given.
    pub baseline: Option<String>,
}

impl Verdict {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.status == Status::Fail)
            .count()
    }

    pub fn passed(&self) -> bool {
        self.failed() == 0
    }
}

/// Findings listed for one failure at most.
const EXPLAIN: usize = 5;

/// Judge a report against a budget.
pub fn check(budget: &Budget, r: &Report, facts: &Facts<'_>) -> Verdict {
    let outcomes = budget
        .limits
        .iter()
        .map(|l| judge(l, budget.growth_measure, r, facts))
        .collect();
    Verdict {
        outcomes,
        growth_measure: budget.growth_measure,
        baseline: facts.baseline.map(|b| b.source.clone()),
    }
}

/// One limit: measure its figure, compare it with the limit, explain a failure.
fn judge(limit: &Limit, measure: GrowthMeasure, r: &Report, facts: &Facts<'_>) -> Outcome {
    let figure = figure(&limit.metric, measure, r, facts);
    let mut out = Outcome {
        limit: limit.clone(),
        measured: figure.measured,
        status: Status::Skipped,
        layer: figure.layer,
        layers: top_layers(figure.layers),
        examples: figure.examples,
        findings: Vec::new(),
        savings: Vec::new(),
        after: None,
        note: figure.note,
    };
    let Some(m) = figure.measured else {
        out.note.get_or_insert_with(|| "not measured".to_string());
        return out;
    };
    out.status = if m.within(limit.max) {
        Status::Pass
    } else {
        Status::Fail
    };
    if out.status == Status::Fail {
        explain(&mut out, r, measure);
    }
    out
}

/// A metric's figure as `check` measures it, `None` when it cannot be (for the
/// budget `imgsize init` proposes).
pub(super) fn measured(metric: &Metric, r: &Report, facts: &Facts<'_>) -> Option<Amount> {
    figure(metric, GrowthMeasure::default(), r, facts).measured
}

/// A limit's figure as measured, with what the outcome shows beside it.
#[derive(Debug, Default)]
struct Figure {
    /// `None` when it cannot be measured (the limit is skipped).
    measured: Option<Amount>,
    /// Every contributing layer: (index, bytes).
    layers: Vec<(usize, u64)>,
    /// The layer the figure is about.
    layer: Option<usize>,
    examples: Vec<(String, u64)>,
    note: Option<String>,
}

impl Figure {
    fn bytes(bytes: u64, layers: Vec<(usize, u64)>) -> Figure {
        Figure {
            measured: Some(Amount::Bytes(bytes)),
            layers,
            ..Figure::default()
        }
    }
}

/// The figure a metric bounds, from the report and the facts.
fn figure(metric: &Metric, measure: GrowthMeasure, r: &Report, facts: &Facts<'_>) -> Figure {
    let t = &r.totals;
    let by = |f: fn(&LayerRow) -> u64| r.layers.iter().map(|l| (l.index, f(l))).collect();
    match metric {
        Metric::Compressed => Figure::bytes(t.compressed_bytes, by(|l| l.compressed_bytes)),
        Metric::Uncompressed => Figure::bytes(t.uncompressed_bytes, by(|l| l.uncompressed_bytes)),
        Metric::Content => Figure::bytes(t.content_bytes, by(|l| l.content_bytes)),
        Metric::Wasted => Figure::bytes(t.wasted_bytes, by(|l| l.wasted_bytes)),
        Metric::WastedPercent => Figure {
            measured: Some(Amount::Percent(wasted_percent(t))),
            layers: by(|l| l.wasted_bytes),
            ..Figure::default()
        },
        Metric::Layers => Figure {
            measured: Some(Amount::Count(t.layers as u64)),
            ..Figure::default()
        },
        Metric::LargestLayer => largest_layer(&r.layers),
        Metric::YourLayers => Figure::bytes(
            t.your_stored_bytes(),
            r.layers
                .iter()
                .filter(|l| !l.base)
                .map(|l| (l.index, l.added_bytes))
                .collect(),
        ),
        Metric::Path(g) => path_figure(g, facts),
        Metric::Category(c) => category_figure(*c, r),
        Metric::Rule(rule) => rule_figure(*rule, &r.findings.rows),
        Metric::Package(name) => package_figure(
            name,
            facts.packages.unwrap_or(r.packages.rows.rows.as_slice()),
        ),
        Metric::GrowthPercent | Metric::GrowthBytes => match facts.baseline {
            None => Figure {
                note: Some("no --baseline given".to_string()),
                ..Figure::default()
            },
            Some(b) => growth_figure(*metric == Metric::GrowthBytes, measure, r, b),
        },
    }
}

/// The wasted share of the stored bytes, in percent.
fn wasted_percent(t: &Totals) -> f64 {
    if t.stored_bytes == 0 {
        0.0
    } else {
        t.wasted_bytes as f64 * 100.0 / t.stored_bytes as f64
    }
}

/// The largest layer's tar size, the layer it is about (the first of equals).
fn largest_layer(rows: &[LayerRow]) -> Figure {
    let largest = rows
        .iter()
        .max_by(|a, b| {
            a.uncompressed_bytes
                .cmp(&b.uncompressed_bytes)
                .then(b.index.cmp(&a.index))
        })
        .map(|l| (l.index, l.uncompressed_bytes));
    Figure {
        layer: largest.map(|(i, _)| i),
        ..Figure::bytes(largest.map_or(0, |(_, b)| b), largest.into_iter().collect())
    }
}

/// A path glob's bytes, as [`measure_paths`](super::measure_paths) found them.
fn path_figure(glob: &str, facts: &Facts<'_>) -> Figure {
    match facts.paths.iter().find(|p| p.glob == glob) {
        Some(p) => Figure {
            examples: p.top.clone(),
            ..Figure::bytes(p.bytes, p.layers.clone())
        },
        None => Figure::default(),
    }
}

fn category_figure(category: Category, r: &Report) -> Figure {
    match r
        .categories
        .rows
        .iter()
        .find(|row| row.category == category)
    {
        Some(row) => Figure::bytes(
            row.bytes(),
            row.layers
                .iter()
                .map(|l| (l.index, l.content_bytes + l.wasted_bytes))
                .collect(),
        ),
        // Categories the report cut are below every row it kept.
        None if r.categories.rest.rows == 0 => Figure::bytes(0, Vec::new()),
        None => Figure::default(),
    }
}

/// What the findings of one rule save, each alone.
fn rule_figure(rule: Rule, rows: &[Finding]) -> Figure {
    let mine: Vec<&Finding> = rows.iter().filter(|f| f.rule == rule).collect();
    Figure::bytes(
        mine.iter().map(|f| f.bytes).sum(),
        mine.iter().map(|f| (f.layer, f.bytes)).collect(),
    )
}

/// The bytes of every package of that name.
fn package_figure(name: &str, packages: &[PackageRow]) -> Figure {
    let mut bytes = 0;
    let mut layers = Vec::new();
    for p in packages.iter().filter(|p| p.name == name) {
        bytes += p.bytes;
        if let Some(l) = p.layer {
            layers.push((l, p.bytes));
        }
    }
    Figure::bytes(bytes, layers)
}

/// Growth against the baseline on the measured totals, in bytes or percent; the
/// layers listed are those the baseline lacks.
fn growth_figure(in_bytes: bool, measure: GrowthMeasure, r: &Report, b: &Baseline) -> Figure {
    let t = &r.totals;
    let (now, then) = match measure {
        GrowthMeasure::Compressed => (t.compressed_bytes, b.compressed_bytes),
        GrowthMeasure::Uncompressed => (t.uncompressed_bytes, b.uncompressed_bytes),
        GrowthMeasure::Content => (t.content_bytes, b.content_bytes),
    };
    let delta = now as i128 - then as i128;
    let amount = if in_bytes {
        Amount::SignedBytes(i64::try_from(delta).unwrap_or(i64::MAX))
    } else if then == 0 {
        Amount::Percent(if now == 0 { 0.0 } else { f64::INFINITY })
    } else {
        Amount::Percent(delta as f64 * 100.0 / then as f64)
    };
    let new_layers = r
        .layers
        .iter()
        .filter(|l| l.diff_id.as_ref().is_none_or(|d| !b.diff_ids.contains(d)))
        .map(|l| {
            let bytes = match measure {
                GrowthMeasure::Compressed => l.compressed_bytes,
                GrowthMeasure::Uncompressed => l.uncompressed_bytes,
                GrowthMeasure::Content => l.content_bytes,
            };
            (l.index, bytes)
        })
        .collect();
    Figure {
        measured: Some(amount),
        layers: new_layers,
        layer: None,
        examples: Vec::new(),
        note: Some(format!(
            "{} {then} → {now} bytes; layers listed are new since the baseline",
            measure.code()
        )),
    }
}

fn top_layers(mut layers: Vec<(usize, u64)>) -> Vec<(usize, u64)> {
    layers.retain(|&(_, b)| b > 0);
    layers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    layers.truncate(EXPLAIN);
    layers
}

/// Whether a limit's figure is in compressed bytes: a `compressed` limit, or growth
/// measured on compressed sizes. Its fixes are then weighed by their compressed savings.
fn counts_compressed(metric: &Metric, measure: GrowthMeasure) -> bool {
    match metric {
        Metric::Compressed => true,
        Metric::GrowthPercent | Metric::GrowthBytes => measure == GrowthMeasure::Compressed,
        _ => false,
    }
}

/// The findings to fix to get back under the limit, in the report's order, what each
/// saves of the figure's kind, and the figure after them.
fn explain(out: &mut Outcome, r: &Report, measure: GrowthMeasure) {
    let related = related(r, &out.limit.metric, out.layer);
    let rows = &r.findings.rows;
    let compressed = counts_compressed(&out.limit.metric, measure);
    // Over the whole list, in order, the incremental savings add up; over a subset
    // an earlier finding may be left out, so each counts what it saves alone.
    let whole = related.len() == rows.len();
    let saving = |f: &Finding| match (compressed, whole) {
        (true, true) => {
            (u128::from(f.compressed_bytes) * u128::from(f.incremental_bytes)
                / u128::from(f.bytes.max(1))) as u64
        }
        (true, false) => f.compressed_bytes,
        (false, true) => f.incremental_bytes,
        (false, false) => f.bytes,
    };
    match (out.measured, out.limit.max) {
        (Some(Amount::Bytes(now)), Amount::Bytes(max)) => {
            let mut after = now;
            for i in related {
                if after <= max || out.findings.len() == EXPLAIN {
                    break;
                }
                let s = saving(&rows[i]);
                if s == 0 {
                    continue;
                }
                after = after.saturating_sub(s);
                out.findings.push(i);
            }
            if !out.findings.is_empty() {
                out.after = Some(after);
            }
        }
        _ => out.findings = related.into_iter().take(EXPLAIN).collect(),
    }
    out.savings = out
        .findings
        .iter()
        .map(|&i| {
            if compressed {
                rows[i].compressed_bytes
            } else {
                rows[i].bytes
            }
        })
        .collect();
}

/// The findings (indexes) that lower a metric, in the report's order.
fn related(r: &Report, metric: &Metric, largest: Option<usize>) -> Vec<usize> {
    let rows = &r.findings.rows;
    let keep = |f: &Finding| -> bool {
        match metric {
            Metric::Compressed
            | Metric::Uncompressed
            | Metric::Content
            | Metric::GrowthPercent
            | Metric::GrowthBytes => true,
            Metric::YourLayers => f.scope == Scope::Yours,
            Metric::LargestLayer => Some(f.layer) == largest,
            Metric::Wasted | Metric::WastedPercent => {
                matches!(f.rule, Rule::DeletedLater | Rule::ChmodDuplicate)
            }
            Metric::Layers => false,
            Metric::Path(g) => {
                let prefix = literal_prefix(g);
                f.paths.iter().any(|(p, _)| overlaps(p, &prefix))
            }
            Metric::Category(c) => rule_reaches(f.rule, *c),
            Metric::Rule(rule) => f.rule == *rule,
            Metric::Package(_) => matches!(
                f.rule,
                Rule::MultiStage | Rule::JdkRuntime | Rule::DevDependencies
            ),
        }
    };
    (0..rows.len()).filter(|&i| keep(&rows[i])).collect()
}

/// The categories whose bytes a rule's fix removes.
fn rule_reaches(rule: Rule, category: Category) -> bool {
    match rule {
        Rule::Cache(c) => c == category,
        Rule::Dockerignore => matches!(category, Category::Vcs | Category::Bytecode),
        Rule::DocsLocales => matches!(category, Category::Docs | Category::Locales),
        Rule::PackageTests => category == Category::Tests,
        Rule::Bytecode => category == Category::Bytecode,
        Rule::MultiStage | Rule::FullBase | Rule::JdkRuntime => {
            matches!(category, Category::Toolchain | Category::DevFiles)
        }
        Rule::DevDependencies | Rule::BuildTree => false,
        Rule::DeletedLater | Rule::ChmodDuplicate => false,
        // Any category's files can be copied twice or carry symbols.
        Rule::DuplicateFiles | Rule::Unstripped => false,
    }
}
