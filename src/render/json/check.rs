//! The check verdict document: what `imgsize check --format json` prints, each budget
//! result with what explains it, and the whole report it judged (the report document,
//! under `report`). Field by field in docs/json.md.

use serde::Serialize;

use super::SCHEMA_VERSION;
use super::report::{self, Doc};
use super::shared::{LineDoc, PathBytes, PathLayer, TOOL, Tool};
use crate::analyze::budget::{Amount, Origin, Outcome, Unit};
use crate::analyze::{Report, Verdict};
use crate::render::verdict;

/// The check verdict document.
#[derive(Serialize)]
pub(super) struct CheckDoc<'a> {
    schema_version: u32,
    kind: &'static str,
    tool: Tool,
    passed: bool,
    failed: usize,
    growth_measure: &'static str,
    baseline: Option<&'a str>,
    results: Vec<OutcomeDoc<'a>>,
    report: Doc<'a>,
}

#[derive(Serialize)]
struct OutcomeDoc<'a> {
    key: String,
    description: String,
    unit: &'static str,
    limit: serde_json::Value,
    measured: Option<serde_json::Value>,
    status: &'static str,
    /// `{"file", "line"}` of the budget file, or `"--limit"`.
    origin: serde_json::Value,
    message: String,
    layer: Option<usize>,
    layers: Vec<PathLayer>,
    examples: Vec<PathBytes<'a>>,
    /// Indexes into `report.findings`.
    findings: &'a [usize],
    /// What each of `findings` saves alone, in the figure's own kind (compressed bytes
    /// for a compressed figure).
    savings: &'a [u64],
    after_bytes: Option<u64>,
    note: Option<&'a str>,
    /// The Dockerfile line of the layer the result is about, with `--dockerfile`.
    dockerfile_line: Option<LineDoc<'a>>,
}

/// Bytes and counts as integers, percentages as numbers.
fn amount_value(a: Amount) -> serde_json::Value {
    match a {
        Amount::Bytes(b) | Amount::Count(b) => b.into(),
        Amount::SignedBytes(b) => b.into(),
        Amount::Percent(p) => serde_json::Number::from_f64(p)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
    }
}

fn outcome<'a>(o: &'a Outcome, r: &'a Report) -> OutcomeDoc<'a> {
    OutcomeDoc {
        key: o.limit.metric.key(),
        description: o.limit.metric.describe(),
        unit: match o.limit.metric.unit() {
            Unit::Bytes => "bytes",
            Unit::Count => "count",
            Unit::Percent => "percent",
        },
        limit: amount_value(o.limit.max),
        measured: o.measured.map(amount_value),
        status: o.status.code(),
        origin: match &o.limit.origin {
            Origin::File { file, line } => serde_json::json!({ "file": file, "line": line }),
            Origin::Flag => serde_json::Value::from("--limit"),
        },
        message: verdict::headline(o),
        layer: o.layer,
        layers: PathLayer::rows(&o.layers),
        examples: PathBytes::rows(&o.examples),
        findings: &o.findings,
        savings: &o.savings,
        after_bytes: o.after,
        note: o.note.as_deref(),
        dockerfile_line: verdict::main_layer(o)
            .and_then(|l| r.line(l))
            .map(LineDoc::from),
    }
}

/// The verdict document of a check, with the report it judged.
pub(super) fn check_doc<'a>(r: &'a Report, v: &'a Verdict) -> CheckDoc<'a> {
    CheckDoc {
        schema_version: SCHEMA_VERSION,
        kind: "check",
        tool: TOOL,
        passed: v.passed(),
        failed: v.failed(),
        growth_measure: v.growth_measure.code(),
        baseline: v.baseline.as_deref(),
        results: v.outcomes.iter().map(|o| outcome(o, r)).collect(),
        report: report::doc(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_integers_and_percentages_numbers() {
        assert_eq!(amount_value(Amount::Bytes(1_500_000)), json!(1_500_000));
        assert_eq!(amount_value(Amount::Count(30)), json!(30));
        assert_eq!(amount_value(Amount::SignedBytes(-2048)), json!(-2048));
        assert_eq!(amount_value(Amount::Percent(2.5)), json!(2.5));
        // JSON has no NaN: a percentage of nothing is null, not an invalid document.
        assert_eq!(amount_value(Amount::Percent(f64::NAN)), json!(null));
    }
}
