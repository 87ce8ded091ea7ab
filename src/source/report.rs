//! Saved JSON reports (`imgsize report --format json`, or the `report` inside
//! `imgsize check --format json`) read back as a [`Snapshot`], for `imgsize diff` and
//! `imgsize check --baseline`. A report is told from an image by its content: a JSON
//! object whose `tool.name` is `"imgsize"` and that has a `schema_version`.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{
    Snapshot, SnapshotCategory, SnapshotFinding, SnapshotLayer, SnapshotLine, SnapshotPackage,
    SnapshotPath, SnapshotTotals,
};

/// The `schema_version`s this version of imgsize reads.
pub const SUPPORTED_SCHEMA_VERSIONS: &[u64] = &[1];

/// Whether `path` looks like a saved JSON report rather than an image: a regular file
/// whose first non-blank byte is `{` (no image format starts so). It says nothing of
/// whether the JSON is valid: [`read_snapshot`] does.
pub fn looks_like_report(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = [0u8; 512];
    let mut n = 0;
    let mut reader = file.take(head.len() as u64);
    while let Ok(k) = reader.read(&mut head[n..]) {
        if k == 0 {
            break;
        }
        n += k;
    }
    head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

fn err(file: &str, key: &str, message: impl Into<String>) -> Error {
    Error::Report {
        file: file.to_string(),
        key: key.to_string(),
        message: message.into(),
    }
}

/// One key of the document, deserialized; absent keys take their default.
fn field<T: DeserializeOwned + Default>(file: &str, doc: &Value, key: &str) -> Result<T> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => T::deserialize(v).map_err(|e| err(file, key, e.to_string())),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ImageDoc {
    source: String,
    reference: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LayerDoc {
    index: Option<usize>,
    empty_layer: bool,
    digest: Option<String>,
    diff_id: Option<String>,
    created_by: Option<String>,
    compressed_bytes: u64,
    uncompressed_bytes: u64,
    added_bytes: u64,
    dockerfile_line: Option<SnapshotLine>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RestDoc {
    rows: usize,
}

/// Read a saved JSON report (`imgsize report --format json`, or an
/// `imgsize check --format json` document, whose report is under `report`) as a
/// [`Snapshot`].
///
/// Its tables hold only the top rows the report was made with: the snapshot's
/// `paths_cut`, `packages_cut` and `categories_cut` say so.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Json`] when it is not JSON;
/// [`Error::Report`], naming the file and the key, when it is another tool's JSON
/// (`tool.name`), another kind of imgsize document (`kind`), a `schema_version` this
/// version does not read, or a key of the wrong shape.
pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| Error::io(&file, e))?;
    let doc: Value = serde_json::from_slice(&text).map_err(|e| Error::json(&file, e))?;
    snapshot_of(&file, &doc)
}

/// The report inside a document: imgsize's own, of a schema version this imgsize reads,
/// and a report or a check (whose report it is).
fn report_in<'a>(file: &str, doc: &'a Value) -> Result<&'a Value> {
    if !doc.is_object() {
        return Err(err(
            file,
            "(top level)",
            "not a JSON object: not an imgsize report",
        ));
    }
    let tool = doc.pointer("/tool/name").and_then(Value::as_str);
    if tool != Some("imgsize") {
        return Err(err(
            file,
            "tool.name",
            match tool {
                Some(t) => format!("written by {t:?}, not imgsize: not an imgsize report"),
                None => "absent: not an imgsize report".to_string(),
            },
        ));
    }
    let version = doc.get("schema_version");
    if !version
        .and_then(Value::as_u64)
        .is_some_and(|v| SUPPORTED_SCHEMA_VERSIONS.contains(&v))
    {
        return Err(err(
            file,
            "schema_version",
            format!(
                "{} is not a version this imgsize reads (it reads {}); use the imgsize that wrote it",
                version.map_or_else(|| "absent".to_string(), Value::to_string),
                SUPPORTED_SCHEMA_VERSIONS
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    match doc.get("kind").and_then(Value::as_str) {
        None | Some("report") => Ok(doc),
        Some("check") => match doc.get("report") {
            Some(r) if r.is_object() => Ok(r),
            _ => Err(err(file, "report", "a check document without its report")),
        },
        Some(other) => Err(err(
            file,
            "kind",
            format!("a {other:?} document, not a report"),
        )),
    }
}

/// [`read_snapshot`] of a document already parsed; `file` names it in errors.
pub fn snapshot_of(file: &str, doc: &Value) -> Result<Snapshot> {
    let doc = report_in(file, doc)?;
    let image: ImageDoc = field(file, doc, "image")?;
    let layers: Vec<LayerDoc> = field(file, doc, "layers")?;
    let layers = layers
        .into_iter()
        .filter(|l| !l.empty_layer)
        .enumerate()
        .map(|(i, l)| SnapshotLayer {
            index: l.index.unwrap_or(i),
            digest: l.digest,
            diff_id: l.diff_id,
            created_by: l.created_by,
            compressed_bytes: l.compressed_bytes,
            uncompressed_bytes: l.uncompressed_bytes,
            added_bytes: l.added_bytes,
            dockerfile_line: l.dockerfile_line,
        })
        .collect();
    let cut = |key: &str| -> Result<bool> { Ok(field::<RestDoc>(file, doc, key)?.rows > 0) };
    Ok(Snapshot {
        source: image.source,
        reference: image.reference,
        complete: doc.get("complete").and_then(Value::as_bool).unwrap_or(true),
        totals: field::<SnapshotTotals>(file, doc, "totals")?,
        layers,
        categories: field::<Vec<SnapshotCategory>>(file, doc, "categories")?,
        categories_cut: cut("categories_rest")?,
        paths_depth: field::<Option<usize>>(file, doc, "paths_depth")?.unwrap_or(0),
        paths: field::<Vec<SnapshotPath>>(file, doc, "paths")?,
        paths_cut: cut("paths_rest")?,
        packages: field::<Vec<SnapshotPackage>>(file, doc, "packages")?,
        packages_cut: cut("packages_rest")?,
        findings: field::<Vec<SnapshotFinding>>(file, doc, "findings")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_other_tools_and_versions() {
        let other = serde_json::json!({"schema_version": 1, "tool": {"name": "dive"}});
        let e = snapshot_of("x.json", &other)
            .expect_err("refused")
            .to_string();
        assert!(e.starts_with("x.json: tool.name:"), "{e}");
        let newer = serde_json::json!({"schema_version": 9, "tool": {"name": "imgsize"}});
        let e = snapshot_of("x.json", &newer)
            .expect_err("refused")
            .to_string();
        assert!(e.starts_with("x.json: schema_version: 9 is not"), "{e}");
        let bad =
            serde_json::json!({"schema_version": 1, "tool": {"name": "imgsize"}, "totals": 3});
        let e = snapshot_of("x.json", &bad)
            .expect_err("refused")
            .to_string();
        assert!(e.starts_with("x.json: totals:"), "{e}");
    }

    #[test]
    fn reads_the_report_of_a_check() {
        let check = serde_json::json!({
            "schema_version": 1, "kind": "check", "tool": {"name": "imgsize"},
            "report": {"schema_version": 1, "tool": {"name": "imgsize"},
                "image": {"source": "a.tar"}, "totals": {"content_bytes": 7},
                "paths_rest": {"rows": 2, "bytes": 5},
                "layers": [{"index": null, "empty_layer": true}, {"index": 0, "diff_id": "sha256:a"}]}
        });
        let s = snapshot_of("c.json", &check).expect("snapshot");
        assert_eq!(s.source, "a.tar");
        assert_eq!(s.totals.content_bytes, 7);
        assert!(s.paths_cut && !s.packages_cut);
        assert_eq!(s.layers.len(), 1);
        assert_eq!(s.layers[0].diff_id.as_deref(), Some("sha256:a"));
    }
}
