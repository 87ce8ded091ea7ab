//! The records of `imgsize scan`: one compact JSON object per image, a line each, with
//! the figures a fleet dashboard sums and sorts (totals, the base, the layers by
//! digest, the top categories and the findings), taken from the same [`Report`] the
//! report document is made of and spelled with its field names. An image that could
//! not be read is an error record. Field by field in docs/json.md ("Scan records").

use super::SCHEMA_VERSION;
use crate::analyze::Report;
use crate::model::record::{
    ErrorRecord, ImageRecord, Record, RecordBase, RecordCategory, RecordFinding, RecordLayer,
    RecordTotals,
};

/// How many categories a record keeps, biggest first.
pub const RECORD_CATEGORIES: usize = 5;

/// The record of one image read by `imgsize scan`, under the name it was given.
pub fn record(r: &Report, name: &str) -> Record {
    let image = &r.image;
    let t = &r.totals;
    Record::Image(ImageRecord {
        schema_version: SCHEMA_VERSION,
        name: name.to_string(),
        digest: image
            .manifest_digest
            .clone()
            .or_else(|| image.config_digest.clone()),
        platform: image
            .platform
            .is_known()
            .then(|| image.platform.to_string()),
        totals: RecordTotals {
            compressed_bytes: t.compressed_bytes,
            uncompressed_bytes: t.uncompressed_bytes,
            stored_bytes: t.stored_bytes,
            content_bytes: t.content_bytes,
            wasted_bytes: t.wasted_bytes,
        },
        base: RecordBase {
            layers: r.base.layers,
            name: r.base.name.clone(),
        },
        layers: r
            .layers
            .iter()
            .map(|l| RecordLayer {
                digest: l.digest.clone(),
                compressed_bytes: l.compressed_bytes,
                added_bytes: l.added_bytes,
            })
            .collect(),
        categories: r
            .categories
            .rows
            .iter()
            .take(RECORD_CATEGORIES)
            .map(|c| RecordCategory {
                category: c.category.code().to_string(),
                bytes: c.bytes(),
            })
            .collect(),
        findings: r
            .findings
            .rows
            .iter()
            .map(|f| RecordFinding {
                rule: f.rule.code().to_string(),
                scope: f.scope.code().to_string(),
                layer: f.layer,
                bytes: f.bytes,
                compressed_bytes: f.compressed_bytes,
            })
            .collect(),
        complete: r.complete,
    })
}

/// The record of an image `imgsize scan` could not read: its name and the one-line
/// error.
pub fn error_record(name: &str, error: &str) -> Record {
    Record::Error(ErrorRecord {
        schema_version: SCHEMA_VERSION,
        name: name.to_string(),
        error: error.to_string(),
    })
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
                "{{\"kind\":\"error\",\"schema_version\":{SCHEMA_VERSION},\
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
