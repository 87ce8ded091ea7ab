//! Python distributions, npm packages and apk's database; npm's devDependencies.

use std::collections::BTreeMap;

use super::record::{Manager, Record, files_under, norm};
use crate::model::Analysis;
use crate::model::path::{join, split_parent};

/// Python and npm packages and apk's, as (manager, name, record).
pub(super) fn others(a: &Analysis) -> Vec<(Manager, String, Record)> {
    let mut out: BTreeMap<(Manager, String, Vec<u8>), Record> = BTreeMap::new();
    for c in &a.captured {
        let text = String::from_utf8_lossy(&c.content);
        let (dir, file) = split_parent(&c.path);
        if file == b"RECORD" {
            let (site, info) = split_parent(dir);
            let info = String::from_utf8_lossy(info);
            let stem = info.strip_suffix(".dist-info").unwrap_or(&info);
            let (name, version) = stem.split_once('-').unwrap_or((stem, ""));
            let files = text
                .lines()
                .filter_map(|l| l.split(',').next())
                .filter(|f| !f.is_empty())
                .map(|f| norm(&join(site, f.as_bytes())))
                .collect();
            let key = (Manager::Python, name.to_string(), dir.to_vec());
            out.entry(key).or_insert(Record {
                version: (!version.is_empty()).then(|| version.to_string()),
                files,
                layer: c.layer,
                ..Record::default()
            });
        } else if file == b"package.json" && in_node_modules(dir) {
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&c.content) else {
                continue;
            };
            let Some(name) = doc["name"].as_str() else {
                continue;
            };
            let key = (Manager::Npm, name.to_string(), dir.to_vec());
            out.entry(key).or_insert(Record {
                version: doc["version"].as_str().map(String::from),
                files: files_under(&a.tree, dir),
                layer: c.layer,
                ..Record::default()
            });
        } else if c.path == b"lib/apk/db/installed" {
            for (name, r) in apk(&text, c.layer) {
                out.entry((Manager::Apk, name, Vec::new())).or_insert(r);
            }
        }
    }
    out.into_iter().map(|((m, n, _), r)| (m, n, r)).collect()
}

/// `lib/apk/db/installed`: `P:` name, `V:` version, `F:` folder, `R:` file.
pub(super) fn apk(text: &str, layer: usize) -> Vec<(String, Record)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let (mut name, mut r, mut folder) = (
            None,
            Record {
                layer,
                ..Record::default()
            },
            Vec::new(),
        );
        for line in block.lines() {
            match line.split_at_checked(2) {
                Some(("P:", v)) => name = Some(v.to_string()),
                Some(("V:", v)) => r.version = Some(v.to_string()),
                Some(("F:", v)) => folder = norm(v.as_bytes()),
                Some(("R:", v)) => r.files.push(join(&folder, v.as_bytes())),
                _ => {}
            }
        }
        if let Some(n) = name {
            out.push((n, r));
        }
    }
    out
}

/// Whether a folder is inside a `node_modules` tree (an installed package, not a
/// project).
fn in_node_modules(dir: &[u8]) -> bool {
    dir.split(|&b| b == b'/').any(|c| c == b"node_modules")
}
