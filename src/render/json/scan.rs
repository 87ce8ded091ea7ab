//! The records of `imgsize scan`: one compact JSON object per image, a line each, with
//! the figures a fleet dashboard sums and sorts (totals, the base, the layers by
//! digest, the top categories and the findings), taken from the same [`Report`] the
//! report document is made of and spelled with its field names. An image that could
//! not be read is an error record. Field by field in docs/json.md ("Scan records").

use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::analyze::Report;

/// How many categories a record keeps, biggest first.
pub const RECORD_CATEGORIES: usize = 5;

#[derive(Serialize)]
struct Record<'a> {
    schema_version: u32,
    kind: &'static str,
    name: &'a str,
    digest: Option<&'a str>,
    platform: Option<String>,
    totals: Totals,
    base: Base<'a>,
    layers: Vec<Layer<'a>>,
    categories: Vec<Category>,
    findings: Vec<Finding>,
    complete: bool,
}

#[derive(Serialize)]
struct Totals {
    compressed_bytes: u64,
    uncompressed_bytes: u64,
    stored_bytes: u64,
    content_bytes: u64,
    wasted_bytes: u64,
}

#[derive(Serialize)]
struct Base<'a> {
    layers: usize,
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct Layer<'a> {
    digest: Option<&'a str>,
    compressed_bytes: u64,
    added_bytes: u64,
}

#[derive(Serialize)]
struct Category {
    category: &'static str,
    bytes: u64,
}

#[derive(Serialize)]
struct Finding {
    rule: &'static str,
    scope: &'static str,
    layer: usize,
    bytes: u64,
}

#[derive(Serialize)]
struct ErrorRecord<'a> {
    schema_version: u32,
    kind: &'static str,
    name: &'a str,
    error: &'a str,
}

/// The record of one image read by `imgsize scan`, under the name it was given.
pub fn record<'a>(r: &'a Report, name: &'a str) -> impl Serialize + 'a {
    let image = &r.image;
    let t = &r.totals;
    Record {
        schema_version: SCHEMA_VERSION,
        kind: "image",
        name,
        digest: image
            .manifest_digest
            .as_deref()
            .or(image.config_digest.as_deref()),
        platform: image
            .platform
            .is_known()
            .then(|| image.platform.to_string()),
        totals: Totals {
            compressed_bytes: t.compressed_bytes,
            uncompressed_bytes: t.uncompressed_bytes,
            stored_bytes: t.stored_bytes,
            content_bytes: t.content_bytes,
            wasted_bytes: t.wasted_bytes,
        },
        base: Base {
            layers: r.base.layers,
            name: r.base.name.as_deref(),
        },
        layers: r
            .layers
            .iter()
            .map(|l| Layer {
                digest: l.digest.as_deref(),
                compressed_bytes: l.compressed_bytes,
                added_bytes: l.added_bytes,
            })
            .collect(),
        categories: r
            .categories
            .rows
            .iter()
            .take(RECORD_CATEGORIES)
            .map(|c| Category {
                category: c.category.code(),
                bytes: c.bytes(),
            })
            .collect(),
        findings: r
            .findings
            .rows
            .iter()
            .map(|f| Finding {
                rule: f.rule.code(),
                scope: f.scope.code(),
                layer: f.layer,
                bytes: f.bytes,
            })
            .collect(),
        complete: r.complete,
    }
}

/// The record of an image `imgsize scan` could not read: its name and the one-line
/// error.
pub fn error_record<'a>(name: &'a str, error: &'a str) -> impl Serialize + 'a {
    ErrorRecord {
        schema_version: SCHEMA_VERSION,
        kind: "error",
        name,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_error_record_names_the_image_and_the_error() {
        let text = serde_json::to_string(&error_record("app.tar", "app.tar: no such file"))
            .expect("serialise");
        assert_eq!(
            text,
            format!(
                "{{\"schema_version\":{SCHEMA_VERSION},\"kind\":\"error\",\
                 \"name\":\"app.tar\",\"error\":\"app.tar: no such file\"}}"
            )
        );
        assert_eq!(
            serde_json::to_value(error_record("app.tar", "app.tar: no such file"))
                .expect("serialise"),
            json!({
                "schema_version": SCHEMA_VERSION,
                "kind": "error",
                "name": "app.tar",
                "error": "app.tar: no such file",
            })
        );
    }
}
