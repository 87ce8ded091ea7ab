//! A changed file as a unified diff (what `imgsize fix` prints), with `a/` and `b/`
//! paths as `git apply` and `patch -p1` read them.

use similar::TextDiff;

/// The unified diff of `old` into `new` for the file at `path` (relative to the
/// build context), three lines of context; empty when they are equal. A file that did
/// not exist diffs from `/dev/null`.
pub fn unified(path: &str, old: Option<&str>, new: &str) -> String {
    let before = old.unwrap_or("");
    if before == new {
        return String::new();
    }
    let from = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".into()
    };
    TextDiff::from_lines(before, new)
        .unified_diff()
        .context_radius(3)
        .header(&from, &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_read_as_git_writes_them() {
        let old = "FROM x\nRUN make\nCMD [\"a\"]\n";
        let new = "FROM x\n# imgsize: r: strip\nRUN make \\\n    && strip a\nCMD [\"a\"]\n";
        assert_eq!(
            unified("Dockerfile", Some(old), new),
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,3 +1,5 @@\n FROM x\n-RUN make\n+# imgsize: r: strip\n+RUN make \\\n+    && strip a\n CMD [\"a\"]\n"
        );
        assert_eq!(unified("Dockerfile", Some(old), old), "");
        assert!(
            unified(".dockerignore", None, ".git\n")
                .starts_with("--- /dev/null\n+++ b/.dockerignore\n@@ -0,0 +1 @@\n+.git\n")
        );
    }
}
