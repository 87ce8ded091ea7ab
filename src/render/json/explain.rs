//! The explanation document: what `imgsize explain --format json` prints, one path's
//! history across the layers (what is there now, then what each layer did at or under
//! it). Field by field in docs/json.md.

use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::analyze::{Explanation, LayerChange, Now, Tally};

#[derive(Serialize)]
struct TallyDoc {
    files: u64,
    bytes: u64,
}

impl From<Tally> for TallyDoc {
    fn from(t: Tally) -> Self {
        TallyDoc {
            files: t.files,
            bytes: t.bytes,
        }
    }
}

#[derive(Serialize)]
struct AttrChange<'a> {
    change: &'a str,
    entries: u64,
}

#[derive(Serialize)]
struct ChangeDoc<'a> {
    layer: usize,
    scope: &'static str,
    instruction: Option<&'a str>,
    added: TallyDoc,
    readded: TallyDoc,
    replaced: TallyDoc,
    hidden: TallyDoc,
    dirs_added: u64,
    attrs: Vec<AttrChange<'a>>,
}

#[derive(Serialize)]
struct NowDoc {
    kind: &'static str,
    bytes: u64,
    files: u64,
    layer: Option<usize>,
}

#[derive(Serialize)]
pub(super) struct ExplainDoc<'a> {
    schema_version: u32,
    path: &'a str,
    now: NowDoc,
    layers: Vec<ChangeDoc<'a>>,
}

/// The explanation document of one path.
pub(super) fn explain_doc(e: &Explanation) -> ExplainDoc<'_> {
    ExplainDoc {
        schema_version: SCHEMA_VERSION,
        path: &e.path,
        now: now(&e.now),
        layers: e.layers.iter().map(change).collect(),
    }
}

/// What is at the path now: a file counts 1 and names its layer.
fn now(n: &Now) -> NowDoc {
    let (kind, bytes, files, layer) = match *n {
        Now::Missing => ("missing", 0, 0, None),
        Now::File { bytes, layer } => ("file", bytes, 1, Some(layer)),
        Now::Dir { files, bytes } => ("dir", bytes, files, None),
        Now::Other => ("other", 0, 0, None),
    };
    NowDoc {
        kind,
        bytes,
        files,
        layer,
    }
}

fn change(c: &LayerChange) -> ChangeDoc<'_> {
    ChangeDoc {
        layer: c.layer,
        scope: if c.base { "base" } else { "yours" },
        instruction: c.instruction.as_deref(),
        added: c.added.into(),
        readded: c.readded.into(),
        replaced: c.replaced.into(),
        hidden: c.hidden.into(),
        dirs_added: c.dirs_added,
        attrs: c
            .attrs
            .iter()
            .map(|(change, entries)| AttrChange {
                change,
                entries: *entries,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_is_there_now_counts_a_file_as_one_and_names_its_layer() {
        let cases = [
            (
                Now::Missing,
                json!({ "kind": "missing", "bytes": 0, "files": 0, "layer": null }),
            ),
            (
                Now::File {
                    bytes: 12,
                    layer: 3,
                },
                json!({ "kind": "file", "bytes": 12, "files": 1, "layer": 3 }),
            ),
            (
                Now::Dir {
                    files: 5,
                    bytes: 40,
                },
                json!({ "kind": "dir", "bytes": 40, "files": 5, "layer": null }),
            ),
            (
                Now::Other,
                json!({ "kind": "other", "bytes": 0, "files": 0, "layer": null }),
            ),
        ];
        for (n, want) in cases {
            assert_eq!(
                serde_json::to_value(now(&n)).expect("serialise"),
                want,
                "{n:?}"
            );
        }
    }

    #[test]
    fn an_explanation_lists_each_layer_with_its_tallies_and_attribute_changes() {
        let e = Explanation {
            path: "/app".to_string(),
            now: Now::Dir {
                files: 2,
                bytes: 30,
            },
            layers: vec![LayerChange {
                layer: 4,
                instruction: Some("RUN chmod -R 755 /app".to_string()),
                base: false,
                added: Tally {
                    files: 1,
                    bytes: 10,
                },
                readded: Tally {
                    files: 2,
                    bytes: 30,
                },
                replaced: Tally::default(),
                hidden: Tally {
                    files: 2,
                    bytes: 30,
                },
                dirs_added: 0,
                attrs: vec![("0644 0:0 -> 0755 0:0".to_string(), 2)],
            }],
        };
        let v = serde_json::to_value(explain_doc(&e)).expect("serialise");
        assert_eq!(
            v,
            json!({
                "schema_version": 1,
                "path": "/app",
                "now": { "kind": "dir", "bytes": 30, "files": 2, "layer": null },
                "layers": [{
                    "layer": 4,
                    "scope": "yours",
                    "instruction": "RUN chmod -R 755 /app",
                    "added": { "files": 1, "bytes": 10 },
                    "readded": { "files": 2, "bytes": 30 },
                    "replaced": { "files": 0, "bytes": 0 },
                    "hidden": { "files": 2, "bytes": 30 },
                    "dirs_added": 0,
                    "attrs": [{ "change": "0644 0:0 -> 0755 0:0", "entries": 2 }],
                }],
            })
        );
    }
}
