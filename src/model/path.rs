//! The one normal form of a path inside an image: no leading `/`, no `.` or empty
//! components, `..` resolved lexically and clamped at the root; the root is the empty
//! path. `./etc/x`, `/etc/x` and `etc//x` are all `etc/x`.

/// Normalise a tar member name into `out`. Returns whether the name held `..`.
pub fn normalize(raw: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    if is_normal(raw) {
        out.extend_from_slice(raw);
        return false;
    }
    let mut clamped = false;
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                clamped = true;
                match out.iter().rposition(|&b| b == b'/') {
                    Some(i) => out.truncate(i),
                    None => out.clear(),
                }
            }
            c => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    clamped
}

/// Whether a name is in normal form already (most are): no empty, `.` or `..`
/// component, so no leading, trailing or doubled `/`. Its `/`s are found with `memchr`,
/// so a long name is not walked byte by byte.
fn is_normal(raw: &[u8]) -> bool {
    components(raw).all(|(_, c)| !matches!(c, b"" | b"." | b".."))
}

/// The components of `path` between its `/`s (found with `memchr`), each with the
/// offset where it ends: `a/bc` gives `(1, "a")` and `(4, "bc")`. Every `/` splits,
/// so a leading, trailing or doubled one gives an empty component, and the empty path
/// gives one.
pub fn components(path: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    memchr::memchr_iter(b'/', path)
        .chain(std::iter::once(path.len()))
        .map(move |end| {
            let component = &path[start..end];
            start = end + 1;
            (end, component)
        })
}

/// Split a normalised path into (parent, name); the parent of a top-level name is the
/// root (empty).
pub fn split_parent(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

/// The path `parent/name` (or `name` under the root).
/// Whether the normalised `path` is `dir` or under it (every path is under the root,
/// the empty path).
pub fn within(path: &[u8], dir: &[u8]) -> bool {
    dir.is_empty() || path == dir || (path.starts_with(dir) && path.get(dir.len()) == Some(&b'/'))
}

pub fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(parent.len() + 1 + name.len());
    p.extend_from_slice(parent);
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_end_where_each_slash_splits() {
        let all = |p: &str| -> Vec<(usize, String)> {
            components(p.as_bytes())
                .map(|(end, c)| (end, String::from_utf8_lossy(c).into_owned()))
                .collect()
        };
        assert_eq!(all("a/bc"), [(1, "a".into()), (4, "bc".into())]);
        assert_eq!(all(""), [(0, String::new())]);
        let empty = String::new();
        assert_eq!(
            all("/a//"),
            [
                (0, empty.clone()),
                (2, "a".into()),
                (3, empty.clone()),
                (4, empty)
            ]
        );
    }

    fn norm(raw: &str) -> (String, bool) {
        let mut out = Vec::new();
        let clamped = normalize(raw.as_bytes(), &mut out);
        (String::from_utf8(out).expect("utf-8"), clamped)
    }

    #[test]
    fn every_spelling_of_a_path_is_one_path() {
        for raw in [
            "etc/x",
            "./etc/x",
            "/etc/x",
            "etc//x",
            "./etc/./x/",
            "//etc/x",
        ] {
            assert_eq!(norm(raw), ("etc/x".to_string(), false), "{raw}");
        }
        for root in ["", ".", "./", "/", "//."] {
            assert_eq!(norm(root), (String::new(), false), "{root:?}");
        }
    }

    #[test]
    fn dot_dot_is_resolved_and_never_climbs_out() {
        assert_eq!(norm("usr/lib/../bin/sh"), ("usr/bin/sh".to_string(), true));
        assert_eq!(norm("../../etc/passwd"), ("etc/passwd".to_string(), true));
        assert_eq!(norm("a/.."), (String::new(), true));
        assert_eq!(norm("a/b/../../.."), (String::new(), true));
    }

    #[test]
    fn only_whole_dot_components_are_special() {
        for raw in ["a/..b/.c/...", ".x", "x.", "a/b./..."] {
            assert_eq!(norm(raw), (raw.to_string(), false), "{raw}");
        }
        assert_eq!(norm("a/b/.."), ("a".to_string(), true));
        assert_eq!(norm("a/b/."), ("a/b".to_string(), false));
    }

    #[test]
    fn names_are_bytes_not_text() {
        let mut out = Vec::new();
        normalize(b"./opt/\xff\xfe", &mut out);
        assert_eq!(out, b"opt/\xff\xfe");
    }

    #[test]
    fn parents_and_names() {
        assert_eq!(split_parent(b"usr/bin/sh"), (&b"usr/bin"[..], &b"sh"[..]));
        assert_eq!(split_parent(b"etc"), (&b""[..], &b"etc"[..]));
        assert_eq!(split_parent(b""), (&b""[..], &b""[..]));
        assert_eq!(join(b"", b"etc"), b"etc");
        assert_eq!(join(b"usr/bin", b"sh"), b"usr/bin/sh");
    }
}
