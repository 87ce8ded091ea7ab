//! SARIF 2.1.0 for code scanning (`--format sarif`): one result per failed limit
//! (level `error`) and one per finding (`warning` for your layers, `note` for the base
//! image's), each pointing at the Dockerfile line of its layer when `--dockerfile`
//! matched it, else at the budget file's line, else at the image file. Rules are the
//! budget keys' kinds and the finding rules, with stable ids; results carry a
//! fingerprint so a code-scanning alert follows its finding across runs. `imgsize
//! report --format sarif` gives the findings alone.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::verdict::{self, Place};
use super::{Document, Renderer};
use crate::analyze::budget::Metric;
use crate::analyze::{Finding, Report, Rule, Scope, Status, Verdict};

/// Renders a verdict or a report's findings as SARIF 2.1.0.
pub struct Sarif;

/// The SARIF version written, and its schema.
pub const SARIF_VERSION: &str = "2.1.0";
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The kind of a budget key, as a rule id: `budget/compressed`, `budget/paths`.
fn budget_rule(metric: &Metric) -> String {
    let key = metric.key();
    let kind = key.split_once('.').map_or(key.as_str(), |(k, _)| k);
    format!("budget/{kind}")
}

fn finding_rule(rule: Rule) -> String {
    format!("finding/{}", rule.code())
}

fn location(place: Option<Place>, r: &Report) -> Value {
    let place = place.unwrap_or_else(|| Place {
        file: r.image.source.clone(),
        line: None,
    });
    let mut physical = json!({ "artifactLocation": { "uri": uri(&place.file) } });
    if let Some(line) = place.line {
        physical["region"] = json!({ "startLine": line });
    }
    json!({ "physicalLocation": physical })
}

/// A relative or absolute path as a URI reference (`%`-escaping what a URI cannot hold).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn finding_result(f: &Finding, r: &Report, rules: &mut Vec<(String, String)>) -> Value {
    let id = finding_rule(f.rule);
    let index = rule_index(rules, &id, f.title);
    let level = if f.scope == Scope::Yours {
        "warning"
    } else {
        "note"
    };
    let instruction = f.instruction.as_deref().unwrap_or("-");
    json!({
        "ruleId": id,
        "ruleIndex": index,
        "level": level,
        "message": { "text": format!("{} (layer {}: {instruction}). {}", f.title, f.layer, verdict::finding_line(f)) },
        "locations": [location(verdict::layer_place(r, f.layer), r)],
        "partialFingerprints": { "imgsizeFinding/v1": format!("{}:{instruction}", f.rule.code()) },
        "properties": {
            "bytes": f.bytes,
            "incremental_bytes": f.incremental_bytes,
            "compressed_bytes": f.compressed_bytes,
            "confidence": f.confidence,
            "scope": f.scope.code(),
            "layer": f.layer,
        },
    })
}

/// The index of a rule in the driver's list, adding it on first use.
fn rule_index(rules: &mut Vec<(String, String)>, id: &str, text: &str) -> usize {
    match rules.iter().position(|(r, _)| r == id) {
        Some(i) => i,
        None => {
            rules.push((id.to_string(), text.to_string()));
            rules.len() - 1
        }
    }
}

fn document(r: &Report, v: Option<&Verdict>) -> Value {
    let mut rules: Vec<(String, String)> = Vec::new();
    let mut results = Vec::new();
    for o in v.iter().flat_map(|v| &v.outcomes) {
        if o.status != Status::Fail {
            continue;
        }
        let id = budget_rule(&o.limit.metric);
        let index = rule_index(
            &mut rules,
            &id,
            &format!("size budget: {}", o.limit.metric.describe()),
        );
        let text = verdict::message(o, r);
        results.push(json!({
            "ruleId": id,
            "ruleIndex": index,
            "level": "error",
            "message": { "text": text },
            "locations": [location(verdict::outcome_place(o, r), r)],
            "partialFingerprints": { "imgsizeBudget/v1": o.limit.metric.key() },
        }));
    }
    for f in &r.findings.rows {
        results.push(finding_result(f, r, &mut rules));
    }
    let rules: Vec<Value> = rules
        .iter()
        .map(|(id, text)| {
            let level = if id.starts_with("budget/") {
                "error"
            } else {
                "warning"
            };
            json!({
                "id": id,
                "name": id.replace(['/', '-', '_'], " "),
                "shortDescription": { "text": text },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": { "driver": {
                "name": "imgsize",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "invocations": [{ "executionSuccessful": r.complete }],
        }],
    })
}

impl Renderer for Sarif {
    fn render(&self, doc: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        let value = match doc {
            Document::Check(r, v) => document(r, Some(v)),
            Document::Report(r) => document(r, None),
            _ => {
                return Err(super::unsupported(
                    "--format sarif is for imgsize check and report",
                ));
            }
        };
        super::json::safe::write_pretty(&mut *out, &value)?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("docker/Dockerfile"), "docker/Dockerfile");
        assert_eq!(uri("my app/Dockerfile#1"), "my%20app/Dockerfile%231");
    }
}
