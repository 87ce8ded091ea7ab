//! The pieces several JSON documents are made of: who wrote the document (`tool`), a
//! Dockerfile line, a layer's bytes, a path's bytes. Defined once here so that the
//! report, the check verdict and the diff spell them the same way; a document's own
//! rows live in its own file.

use serde::Serialize;

use crate::analyze::dockerfile::Located;

/// The `tool` object of a document.
#[derive(Serialize)]
pub(super) struct Tool {
    name: &'static str,
    version: &'static str,
}

/// Who wrote a document.
pub(super) const TOOL: Tool = Tool {
    name: "imgsize",
    version: env!("CARGO_PKG_VERSION"),
};

/// Where an instruction is in the Dockerfile (`--dockerfile`).
#[derive(Serialize)]
pub(super) struct LineDoc<'a> {
    file: &'a str,
    line: usize,
    end_line: usize,
}

impl<'a> From<&'a Located> for LineDoc<'a> {
    fn from(l: &'a Located) -> Self {
        LineDoc {
            file: &l.file,
            line: l.line,
            end_line: l.end_line,
        }
    }
}

/// The bytes one layer puts somewhere (a path row, a budget result).
#[derive(Serialize)]
pub(super) struct PathLayer {
    index: usize,
    bytes: u64,
}

impl PathLayer {
    /// The `(layer index, bytes)` pairs the analysis keeps, as JSON rows.
    pub(super) fn rows(pairs: &[(usize, u64)]) -> Vec<PathLayer> {
        pairs
            .iter()
            .map(|&(index, bytes)| PathLayer { index, bytes })
            .collect()
    }
}

/// A path and its bytes (a finding's paths, a budget result's examples).
#[derive(Serialize)]
pub(super) struct PathBytes<'a> {
    path: &'a str,
    bytes: u64,
}

impl PathBytes<'_> {
    /// The `(path, bytes)` pairs the analysis keeps, as JSON rows.
    pub(super) fn rows(pairs: &[(String, u64)]) -> Vec<PathBytes<'_>> {
        pairs
            .iter()
            .map(|(path, bytes)| PathBytes {
                path,
                bytes: *bytes,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_names_the_crate_and_its_version() {
        let v = serde_json::to_value(TOOL).expect("serialise");
        assert_eq!(
            v,
            json!({ "name": "imgsize", "version": env!("CARGO_PKG_VERSION") })
        );
    }

    #[test]
    fn a_dockerfile_line_keeps_file_line_and_end_line() {
        let at = Located {
            file: "app/Dockerfile".to_string(),
            line: 4,
            end_line: 6,
        };
        let v = serde_json::to_value(LineDoc::from(&at)).expect("serialise");
        assert_eq!(
            v,
            json!({ "file": "app/Dockerfile", "line": 4, "end_line": 6 })
        );
    }

    #[test]
    fn pairs_become_rows_in_order() {
        let layers = serde_json::to_value(PathLayer::rows(&[(3, 10), (1, 20)])).expect("layers");
        assert_eq!(
            layers,
            json!([{ "index": 3, "bytes": 10 }, { "index": 1, "bytes": 20 }])
        );
        let paths = [("/b".to_string(), 7), ("/a".to_string(), 9)];
        let paths = serde_json::to_value(PathBytes::rows(&paths)).expect("paths");
        assert_eq!(
            paths,
            json!([{ "path": "/b", "bytes": 7 }, { "path": "/a", "bytes": 9 }])
        );
    }
}
