use super::*;
use crate::model::scan::{EntryKind, LayerScan};

/// A tree from layers of (kind, path, size) entries; folders are implied.
fn tree(layers: &[&[(EntryKind, &str, u64)]]) -> FsTree {
    let mut t = FsTree::new();
    for (i, rows) in layers.iter().enumerate() {
        let mut s = LayerScan::default();
        for &(kind, path, size) in *rows {
            s.push(kind, path.as_bytes(), None, size).expect("push");
        }
        t.apply(i as u16, &s).expect("apply");
    }
    t
}

fn find<'a>(n: &'a ChangeNode, path: &[&str]) -> &'a ChangeNode {
    path.iter().fold(n, |n, name| {
        n.children
            .iter()
            .find(|c| c.name == *name)
            .unwrap_or_else(|| panic!("no {name} under {}", n.name))
    })
}

/// Every folder's bytes and entries are its children's sums; the nodes below `n`.
fn check(n: &ChangeNode) -> usize {
    if n.kind != ChangeKind::Dir {
        return 0;
    }
    for k in 0..4 {
        assert_eq!(
            n.bytes[k],
            n.children.iter().map(|c| c.bytes[k]).sum::<u64>()
        );
        assert_eq!(
            n.entries[k],
            n.children.iter().map(|c| c.entries[k]).sum::<u64>()
        );
    }
    n.children.iter().map(|c| 1 + check(c)).sum()
}

use EntryKind::{File, Whiteout};

/// Three layers: a base, one that modifies, deletes and adds (a temporary file among
/// them), and one that deletes the temporary file and writes one of its files again.
fn three_layers() -> FsTree {
    tree(&[
        &[
            (File, "usr/bin/a", 1_000),
            (File, "usr/bin/b", 200),
            (File, "etc/conf", 50),
            (File, "var/cache/x", 300),
            (File, "var/cache/y", 400),
        ],
        &[
            (File, "usr/bin/a", 1_100),
            (File, "app/new", 70),
            (Whiteout, "var/cache", 0),
            (File, "app/tmp", 500),
            (File, "etc/empty", 0),
        ],
        &[(Whiteout, "app/tmp", 0), (File, "app/new", 70)],
    ])
}

#[test]
fn each_layer_shows_what_it_added_modified_deleted_and_what_is_hidden_later() {
    let t = three_layers();
    let c = build(&t, 3, MAX_CHANGES_BYTES);
    assert_eq!(c.len(), 3);
    // [added, modified, deleted, hidden]
    let base = &c[0].root;
    assert_eq!(base.bytes, [250, 0, 0, 1_700]);
    assert_eq!(base.entries, [2, 0, 0, 3]);
    let a = find(base, &["usr", "bin", "a"]);
    assert_eq!(
        (a.kind, a.bytes, a.layer),
        (ChangeKind::File(Change::Hidden), [0, 0, 0, 1_000], Some(1))
    );
    let cache = find(base, &["var", "cache"]);
    assert_eq!((cache.kind, cache.bytes), (ChangeKind::Dir, [0, 0, 0, 700]));

    let mid = &c[1].root;
    assert_eq!(mid.bytes, [0, 1_100, 700, 570]);
    assert_eq!(mid.entries, [1, 1, 2, 2]);
    let a = find(mid, &["usr", "bin", "a"]);
    assert_eq!(
        (a.kind, a.bytes, a.layer),
        (
            ChangeKind::File(Change::Modified),
            [0, 1_100, 0, 0],
            Some(0)
        )
    );
    let x = find(mid, &["var", "cache", "x"]);
    assert_eq!(
        (x.kind, x.bytes, x.layer),
        (ChangeKind::File(Change::Deleted), [0, 0, 300, 0], Some(0))
    );
    let tmp = find(mid, &["app", "tmp"]);
    assert_eq!(
        (tmp.kind, tmp.bytes, tmp.layer),
        (ChangeKind::File(Change::Hidden), [0, 0, 0, 500], Some(2))
    );
    let empty = find(mid, &["etc", "empty"]);
    assert_eq!(
        (empty.kind, empty.entries),
        (ChangeKind::File(Change::Added), [1, 0, 0, 0])
    );
    // Biggest first: usr (1,100), var (700), app (570), etc (0).
    let names: Vec<&str> = mid.children.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["usr", "var", "app", "etc"]);

    let top = &c[2].root;
    assert_eq!(top.bytes, [0, 70, 500, 0]);
    let new = find(top, &["app", "new"]);
    assert_eq!(
        (new.kind, new.layer),
        (ChangeKind::File(Change::Modified), Some(1))
    );
    for l in &c {
        assert_eq!((l.min_bytes, l.pruned_entries), (0, 0));
        assert_eq!(l.nodes, check(&l.root));
    }
}

#[test]
fn added_modified_and_hidden_are_the_layer_tables_figures() {
    let t = three_layers();
    let c = build(&t, 3, MAX_CHANGES_BYTES);
    let visible = t.visible_bytes(3);
    let shipped = [1_950u64, 1_670, 70];
    for (i, l) in c.iter().enumerate() {
        let b = l.root.bytes;
        assert_eq!(b[0] + b[1] + b[3], shipped[i], "layer {i} added");
        assert_eq!(b[0] + b[1], visible[i], "layer {i} content");
        assert_eq!(b[3], shipped[i] - visible[i], "layer {i} wasted");
    }
}

#[test]
fn a_file_written_twice_in_one_layer_hides_its_first_copy() {
    let t = tree(&[&[(File, "a", 10), (File, "a", 30)]]);
    let c = build(&t, 1, MAX_CHANGES_BYTES);
    assert_eq!(c[0].root.bytes, [30, 0, 0, 10]);
    let hidden = c[0]
        .root
        .children
        .iter()
        .find(|n| n.kind == ChangeKind::File(Change::Hidden))
        .expect("the first copy");
    assert_eq!((hidden.name.as_str(), hidden.layer), ("a", Some(0)));
}

#[test]
fn small_changes_fold_into_one_pruned_node_per_folder() {
    let files: Vec<(String, u64)> = (0..3_000u64)
        .map(|i| (format!("d{}/s{}/f{i}", i % 30, i % 7), 10 + i))
        .collect();
    let rows: Vec<(EntryKind, &str, u64)> =
        files.iter().map(|(p, s)| (File, p.as_str(), *s)).collect();
    let t = tree(&[&rows]);
    let total: u64 = (0..3_000u64).map(|i| 10 + i).sum();
    for (weight, most) in [(MAX_CHANGES_BYTES, MAX_LAYER_NODES), (20_000, 200)] {
        let c = build(&t, 1, weight);
        let l = &c[0];
        assert!(l.nodes <= most, "{} nodes", l.nodes);
        assert!(l.min_bytes > 0);
        assert_eq!(l.nodes, check(&l.root));
        assert_eq!(l.root.bytes, [total, 0, 0, 0]);
        assert_eq!(l.root.entries, [3_000, 0, 0, 0]);
        let kept = count_files(&l.root);
        assert_eq!(kept + l.pruned_entries, 3_000);
    }
}

fn count_files(n: &ChangeNode) -> u64 {
    n.children
        .iter()
        .map(|c| u64::from(matches!(c.kind, ChangeKind::File(_))) + count_files(c))
        .sum()
}

#[test]
fn the_layers_share_the_node_budget() {
    let layers: Vec<Vec<(String, u64)>> = (0..5)
        .map(|l| {
            (0..3_000u64)
                .map(|i| (format!("l{l}/d{}/f{i}", i % 40), 100 + i))
                .collect()
        })
        .collect();
    let rows: Vec<Vec<(EntryKind, &str, u64)>> = layers
        .iter()
        .map(|l| l.iter().map(|(p, s)| (File, p.as_str(), *s)).collect())
        .collect();
    let refs: Vec<&[(EntryKind, &str, u64)]> = rows.iter().map(Vec::as_slice).collect();
    let t = tree(&refs);
    let c = build(&t, 5, u64::MAX);
    let all: usize = c.iter().map(|l| l.nodes).sum();
    assert!(all <= MAX_NODES, "{all}");
    for l in &c {
        assert!(l.nodes <= MAX_LAYER_NODES, "{}", l.nodes);
        assert_eq!(l.nodes, check(&l.root));
    }
}
