//! npm's devDependencies: the packages `npm prune --omit=dev` (or `npm ci --omit=dev`)
//! would remove, from the dependency graph the `package.json` files draw.
//!
//! A project is a folder with a `package.json` (captured outside `node_modules`) and a
//! `node_modules` beside it. Its production roots are the project's `dependencies` and
//! `optionalDependencies`; from each installed package the graph follows
//! `dependencies`, `optionalDependencies` and `peerDependencies` (npm 7+ installs peers),
//! each name resolved the way Node does: the nearest `node_modules/NAME` from the
//! depending package's folder up to the project. Every installed package the
//! production roots do not reach goes with a prune: devDependencies, what only they
//! pull in, and extraneous packages. Without the project's `package.json` (a global
//! install, a project file deleted later), npm's hidden lock file
//! (`node_modules/.package-lock.json`, npm 7+) is read instead: its `"dev": true`
//! entries. pnpm's symlinked layout is not followed (its packages count as kept).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::record::files_under;
use crate::model::path::{join, normalize, split_parent};
use crate::model::tree::NodeKind;
use crate::model::{Analysis, FsTree};

/// The dependency names a `package.json` draws edges to.
fn edges(doc: &serde_json::Value, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for k in keys {
        if let Some(m) = doc[*k].as_object() {
            out.extend(m.keys().cloned());
        }
    }
    out
}

/// What the captured `package.json` files say: projects (folder → production roots)
/// and installed packages (folder → the names they depend on). The last visible copy of
/// each file is the final word.
#[derive(Default)]
struct Graph {
    projects: BTreeMap<Vec<u8>, Vec<String>>,
    installed: HashMap<Vec<u8>, Vec<String>>,
}

impl Graph {
    fn read(a: &Analysis) -> Self {
        let mut g = Graph::default();
        for c in &a.captured {
            let (dir, file) = split_parent(&c.path);
            let visible = a
                .tree
                .lookup(&c.path)
                .is_some_and(|n| a.tree.kind(n) == NodeKind::File);
            if file != b"package.json" || !visible {
                continue;
            }
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&c.content) else {
                continue;
            };
            let in_modules = dir.split(|&b| b == b'/').any(|p| p == b"node_modules");
            if in_modules {
                let deps = edges(
                    &doc,
                    &["dependencies", "optionalDependencies", "peerDependencies"],
                );
                g.installed.insert(dir.to_vec(), deps);
            } else if a.tree.lookup(&join(dir, b"node_modules")).is_some() {
                let roots = edges(&doc, &["dependencies", "optionalDependencies"]);
                g.projects.insert(dir.to_vec(), roots);
            }
        }
        g
    }

    /// Where `name` resolves from the package (or project) folder `from`, within
    /// `project`.
    fn resolve(&self, project: &[u8], from: &[u8], name: &str) -> Option<Vec<u8>> {
        let mut dir = from;
        loop {
            let candidate = join(&join(dir, b"node_modules"), name.as_bytes());
            if self.installed.contains_key(&candidate) {
                return Some(candidate);
            }
            if dir.len() <= project.len() {
                return None;
            }
            dir = split_parent(dir).0;
        }
    }

    /// The installed packages of `project` its production roots reach.
    fn production(&self, project: &[u8], roots: &[String]) -> BTreeSet<Vec<u8>> {
        let mut reached = BTreeSet::new();
        let mut stack: Vec<(Vec<u8>, String)> = roots
            .iter()
            .map(|n| (project.to_vec(), n.clone()))
            .collect();
        while let Some((from, name)) = stack.pop() {
            let Some(dir) = self.resolve(project, &from, &name) else {
                continue;
            };
            if reached.insert(dir.clone()) {
                for dep in &self.installed[&dir] {
                    stack.push((dir.clone(), dep.clone()));
                }
            }
        }
        reached
    }
}

/// Whether `dir` is a package folder of `project`'s `node_modules` tree.
fn of_project(project: &[u8], dir: &[u8]) -> bool {
    let modules = join(project, b"node_modules");
    dir.starts_with(&modules) && dir.get(modules.len()) == Some(&b'/')
}

/// Mark every file of the package folder `dir` (nested `node_modules` apart).
fn mark(tree: &FsTree, dir: &[u8], dev: &mut [bool]) {
    for f in files_under(tree, dir) {
        if let Some(ino) = tree.lookup(&f).and_then(|n| tree.inode(n)) {
            dev[ino as usize] = true;
        }
    }
}

/// Packages the hidden lock files mark `"dev": true`, for projects whose
/// `package.json` is not there.
fn from_locks(a: &Analysis, projects: &BTreeMap<Vec<u8>, Vec<String>>, dev: &mut [bool]) {
    let mut locks: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
    for c in &a.captured {
        if split_parent(&c.path).1 == b".package-lock.json" {
            locks.insert(&c.path, &c.content);
        }
    }
    for (path, content) in locks {
        let project = split_parent(split_parent(path).0).0;
        if projects.contains_key(project) {
            continue;
        }
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(content) else {
            continue;
        };
        let Some(packages) = doc["packages"].as_object() else {
            continue;
        };
        for (key, p) in packages {
            if key.is_empty() || p["dev"].as_bool() != Some(true) {
                continue;
            }
            let mut dir = Vec::new();
            normalize(key.as_bytes(), &mut dir);
            mark(&a.tree, &join(project, &dir), dev);
        }
    }
}

/// Files of npm packages a production install would not have, by inode.
pub(super) fn npm_dev(a: &Analysis) -> Vec<bool> {
    let mut dev = vec![false; a.tree.inodes().len()];
    let g = Graph::read(a);
    for (project, roots) in &g.projects {
        let keep = g.production(project, roots);
        for dir in g.installed.keys() {
            if of_project(project, dir) && !keep.contains(dir) {
                mark(&a.tree, dir, &mut dev);
            }
        }
    }
    from_locks(a, &g.projects, &mut dev);
    dev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(entries: &[(&str, &[&str])]) -> Graph {
        let mut g = Graph::default();
        for (dir, deps) in entries {
            let deps = deps.iter().map(|s| s.to_string()).collect();
            g.installed.insert(dir.as_bytes().to_vec(), deps);
        }
        g
    }

    #[test]
    fn names_resolve_to_the_nearest_node_modules() {
        let g = graph(&[
            ("app/node_modules/a", &["b"]),
            ("app/node_modules/b", &[]),
            ("app/node_modules/a/node_modules/b", &["c"]),
            ("app/node_modules/c", &[]),
            ("app/node_modules/@s/d", &["b"]),
            ("app/node_modules/dev", &["c", "e"]),
            ("app/node_modules/e", &[]),
        ]);
        let from_a = g
            .resolve(b"app", b"app/node_modules/a", "b")
            .expect("resolves");
        assert_eq!(from_a, b"app/node_modules/a/node_modules/b");
        let from_scoped = g
            .resolve(b"app", b"app/node_modules/@s/d", "b")
            .expect("resolves");
        assert_eq!(from_scoped, b"app/node_modules/b");
        assert_eq!(g.resolve(b"app", b"app", "missing"), None);
        let roots = vec!["a".to_string(), "@s/d".to_string()];
        let keep: Vec<String> = g
            .production(b"app", &roots)
            .into_iter()
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .collect();
        assert_eq!(
            keep,
            [
                "app/node_modules/@s/d",
                "app/node_modules/a",
                "app/node_modules/a/node_modules/b",
                "app/node_modules/b",
                "app/node_modules/c",
            ]
        );
        assert!(of_project(b"app", b"app/node_modules/e"));
        assert!(!of_project(b"ap", b"app/node_modules/e"));
        assert!(of_project(b"", b"node_modules/e"));
    }
}
