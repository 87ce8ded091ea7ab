//! A parsed Dockerfile: its stages and their instructions, each with the lines it
//! spans, as [`crate::source::dockerfile`] reads it and [`crate::analyze::dockerfile`]
//! matches it to an image's history. Plain data.

/// One instruction (a logical line, continuations joined, with its heredocs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Upper case: `RUN`, `COPY`, ...
    pub keyword: String,
    /// Leading `--name=value` flags, as written.
    pub flags: Vec<String>,
    /// The arguments after the flags, continuations joined with a space and comment
    /// lines inside them dropped.
    pub args: String,
    /// The arguments as a JSON array (exec form), when they are one.
    pub json: Option<Vec<String>>,
    /// Heredoc bodies, in the order their `<<NAME` markers appear.
    pub heredocs: Vec<Heredoc>,
    /// First and last line (1-based), heredocs included.
    pub line: usize,
    pub end_line: usize,
}

/// A `<<NAME` heredoc's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    pub body: String,
}

/// A build stage: a `FROM` and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The `AS name`, if any.
    pub name: Option<String>,
    /// The image it starts from, as written.
    pub base: String,
    /// The `FROM` line.
    pub line: usize,
    pub instructions: Vec<Instruction>,
}

/// A whole Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The file as named by the user.
    pub file: String,
    /// The escape character (`\\`, or a backtick by the `# escape=` directive).
    pub escape: char,
    /// `ARG`s before the first `FROM`: name and default.
    pub global_args: Vec<(String, Option<String>)>,
    pub stages: Vec<Stage>,
}

/// The names and defaults an `ARG` declares (`ARG A B=2`).
pub fn arg_defaults(args: &str) -> Vec<(String, Option<String>)> {
    args.split_whitespace()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(unquote(v))),
            None => (w.to_string(), None),
        })
        .collect()
}

/// A value with one level of surrounding quotes removed.
pub fn unquote(v: &str) -> String {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}
