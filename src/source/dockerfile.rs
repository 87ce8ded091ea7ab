//! Reading a Dockerfile (`--dockerfile PATH`) into [`crate::model::dockerfile`]: the
//! `# escape=` parser directive, comments, line continuations (with comment and empty
//! lines inside them skipped, as BuildKit does), flags, the JSON (exec) form, heredocs
//! (`<<EOF`, `<<-EOF`, quoted names, several on one line) and stages. A line-oriented
//! lexer feeds a parser of instructions; every instruction keeps its first and last
//! line. Errors name the file and the line.

use std::path::Path;

use crate::error::{Error, Result};
use crate::model::dockerfile::{Dockerfile, Heredoc, Instruction, Stage, arg_defaults};

/// The instructions Dockerfiles know.
const KEYWORDS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Read and parse a Dockerfile; `name` is how messages name it.
pub fn read(path: &Path) -> Result<Dockerfile> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::Dockerfile {
        file: name.clone(),
        line: None,
        message: e.to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Dockerfile {
        file: name.clone(),
        line: None,
        message: format!("not UTF-8 text ({e})"),
    })?;
    parse(&text, &name)
}

/// A comment line: `#` first, after blanks.
fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// The escape character from the parser directives at the top of the file.
fn directives(lines: &[&str], file: &str) -> Result<(char, usize)> {
    let mut escape = '\\';
    let mut used = 0;
    for line in lines {
        let Some(rest) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) {
            break;
        }
        if key == "escape" {
            escape = match value.trim() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(Error::Dockerfile {
                        file: file.to_string(),
                        line: Some(used + 1),
                        message: format!("invalid escape character `{other}` (use \\ or `)"),
                    });
                }
            };
        }
        used += 1;
    }
    Ok((escape, used))
}

/// Heredoc markers in an instruction's arguments: (name, strip leading tabs).
fn heredoc_markers(args: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let b = args.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i + 1 < b.len() {
        match (quote, b[i]) {
            (None, q @ (b'\'' | b'"')) if !(i >= 2 && &b[i - 2..i] == b"<<") => {
                quote = Some(q);
                i += 1;
                continue;
            }
            (Some(q), c) if c == q => {
                quote = None;
                i += 1;
                continue;
            }
            (Some(_), _) => {
                i += 1;
                continue;
            }
            _ => {}
        }
        if b[i] == b'<' && b[i + 1] == b'<' && (i == 0 || !b[i - 1].is_ascii_punctuation()) {
            let mut j = i + 2;
            if b.get(j) == Some(&b'<') {
                // `<<<` is a here-string, not a heredoc.
                i += 3;
                continue;
            }
            let strip = b.get(j) == Some(&b'-');
            if strip {
                j += 1;
            }
            let q = match b.get(j) {
                Some(&c @ (b'\'' | b'"')) => {
                    j += 1;
                    Some(c)
                }
                _ => None,
            };
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && q.is_none_or(|q| b.get(j) == Some(&q)) {
                out.push((args[start..j].to_string(), strip));
                i = j + usize::from(q.is_some());
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Parse Dockerfile text.
pub fn parse(text: &str, file: &str) -> Result<Dockerfile> {
    let lines: Vec<&str> = text.lines().collect();
    let (escape, mut i) = directives(&lines, file)?;
    let mut df = Dockerfile {
        file: file.to_string(),
        escape,
        global_args: Vec::new(),
        stages: Vec::new(),
    };
    while i < lines.len() {
        let first = lines[i];
        if first.trim().is_empty() || is_comment(first) {
            i += 1;
            continue;
        }
        let instruction = instruction(&lines, &mut i, escape, file)?;
        place(&mut df, instruction, file)?;
    }
    if df.stages.is_empty() {
        return Err(Error::Dockerfile {
            file: file.to_string(),
            line: None,
            message: "no FROM instruction".to_string(),
        });
    }
    Ok(df)
}

/// An error at a line (1-based) of the file.
fn error_at(file: &str, line: usize, message: String) -> Error {
    Error::Dockerfile {
        file: file.to_string(),
        line: Some(line),
        message,
    }
}

/// The instruction starting at `lines[*i]`, with its continuations and heredocs;
/// `*i` is left on the line after it.
fn instruction(lines: &[&str], i: &mut usize, escape: char, file: &str) -> Result<Instruction> {
    let start = *i;
    let logical = logical_line(lines, i, escape);
    let logical = logical.trim();
    let (word, rest) = logical
        .split_once(char::is_whitespace)
        .unwrap_or((logical, ""));
    let keyword = word.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(error_at(
            file,
            start + 1,
            format!("unknown instruction `{word}`"),
        ));
    }
    let (flags, args) = flags_and_args(&keyword, rest);
    let json = args
        .starts_with('[')
        .then(|| serde_json::from_str::<Vec<String>>(&args).ok())
        .flatten();
    let heredocs = if json.is_none() && matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
        heredoc_bodies(lines, i, &args, file, start)?
    } else {
        Vec::new()
    };
    Ok(Instruction {
        keyword,
        flags,
        args,
        json,
        heredocs,
        line: start + 1,
        end_line: *i,
    })
}

/// The logical line starting at `lines[*i]`: lines ending in the escape character
/// joined with the next, comment and empty lines inside the continuation skipped;
/// `*i` is left on the line after it.
fn logical_line(lines: &[&str], i: &mut usize, escape: char) -> String {
    let mut logical = String::new();
    loop {
        let line = lines[*i];
        let trimmed = line.trim_end();
        *i += 1;
        match trimmed.strip_suffix(escape) {
            Some(head) => {
                logical.push_str(head);
                // Comment and empty lines inside a continuation are skipped.
                while *i < lines.len() && (lines[*i].trim().is_empty() || is_comment(lines[*i])) {
                    *i += 1;
                }
                if *i >= lines.len() {
                    break;
                }
            }
            None => {
                logical.push_str(line);
                break;
            }
        }
    }
    logical
}

/// The leading `--flag` words of the instructions that take flags, and the arguments
/// after them.
fn flags_and_args(keyword: &str, rest: &str) -> (Vec<String>, String) {
    let mut rest = rest.trim_start();
    let mut flags = Vec::new();
    if matches!(keyword, "RUN" | "COPY" | "ADD" | "FROM" | "HEALTHCHECK") {
        while rest.starts_with("--") {
            let (flag, more) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            flags.push(flag.to_string());
            rest = more.trim_start();
        }
    }
    (flags, rest.trim().to_string())
}

/// The bodies of the heredocs `args` opens, read from `lines[*i]` on, each up to its
/// terminator line; `*i` is left on the line after the last. `start` is the
/// instruction's first line (0-based), which an unterminated heredoc's error names.
fn heredoc_bodies(
    lines: &[&str],
    i: &mut usize,
    args: &str,
    file: &str,
    start: usize,
) -> Result<Vec<Heredoc>> {
    let mut heredocs = Vec::new();
    for (name, strip) in heredoc_markers(args) {
        let mut body = String::new();
        loop {
            let Some(line) = lines.get(*i) else {
                return Err(error_at(
                    file,
                    start + 1,
                    format!("heredoc <<{name} is not terminated"),
                ));
            };
            *i += 1;
            let l = if strip {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if l == name {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        heredocs.push(Heredoc { name, body });
    }
    Ok(heredocs)
}

/// Put an instruction where it belongs: a `FROM` opens a stage, anything else joins the
/// last stage, and an `ARG` before the first `FROM` is a global one.
fn place(df: &mut Dockerfile, instruction: Instruction, file: &str) -> Result<()> {
    let at = instruction.line;
    if instruction.keyword == "FROM" {
        let words: Vec<&str> = instruction.args.split_whitespace().collect();
        let (base, name) = match words.as_slice() {
            [base] => (*base, None),
            [base, as_, name] if as_.eq_ignore_ascii_case("as") => (*base, Some(*name)),
            _ => {
                return Err(error_at(
                    file,
                    at,
                    "FROM takes an image and an optional `AS name`".into(),
                ));
            }
        };
        df.stages.push(Stage {
            name: name.map(str::to_string),
            base: base.to_string(),
            line: at,
            instructions: Vec::new(),
        });
        return Ok(());
    }
    match df.stages.last_mut() {
        Some(stage) => stage.instructions.push(instruction),
        None if instruction.keyword == "ARG" => {
            df.global_args.extend(arg_defaults(&instruction.args))
        }
        None => {
            return Err(error_at(
                file,
                at,
                format!("{} before the first FROM", instruction.keyword),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<Instruction> {
        parse(text, "Dockerfile")
            .expect("parses")
            .stages
            .pop()
            .expect("a stage")
            .instructions
    }

    #[test]
    fn continuations_comments_and_lines() {
        let i = one(
            "# a comment\nFROM debian AS base\n\nRUN apt-get update && \\\n    # inside\n\n    apt-get install -y curl\nENV A=1 \\\n    B=2\n",
        );
        assert_eq!(i.len(), 2);
        assert_eq!(i[0].keyword, "RUN");
        assert_eq!(i[0].args, "apt-get update &&     apt-get install -y curl");
        assert_eq!((i[0].line, i[0].end_line), (4, 7));
        assert_eq!(i[1].args, "A=1     B=2");
        assert_eq!((i[1].line, i[1].end_line), (8, 9));
    }

    #[test]
    fn escape_directive_flags_and_json() {
        let i = one(
            "# escape=`\nFROM mcr/windows\nRUN dir `\n  c:\\\nCOPY --chown=1:1 --chmod=755 a b /dst/\nCMD [\"python\", \"app.py\"]\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
        );
        assert_eq!(i[0].args, "dir   c:\\");
        assert_eq!(i[1].flags, ["--chown=1:1", "--chmod=755"]);
        assert_eq!(i[1].args, "a b /dst/");
        assert_eq!(
            i[2].json,
            Some(vec!["python".to_string(), "app.py".to_string()])
        );
        assert_eq!(i[3].flags, ["--mount=type=cache,target=/root/.cache"]);
        assert_eq!(i[3].args, "pip install x");
    }

    #[test]
    fn heredocs() {
        let i = one(
            "FROM x\nRUN <<EOF\nset -e\necho hi\nEOF\nCOPY <<-\"A\" /a <<B /b\n\tone\n\tA\ntwo\nB\nRUN cat <<<\"here\"\nRUN echo '<<NOT' && echo done\n",
        );
        assert_eq!(i[0].heredocs[0].name, "EOF");
        assert_eq!(i[0].heredocs[0].body, "set -e\necho hi\n");
        assert_eq!((i[0].line, i[0].end_line), (2, 5));
        assert_eq!(i[1].heredocs.len(), 2);
        assert_eq!(i[1].heredocs[0].body, "one\n");
        assert_eq!(i[1].heredocs[1].body, "two\n");
        assert_eq!((i[1].line, i[1].end_line), (6, 10));
        assert!(i[2].heredocs.is_empty());
        assert!(i[3].heredocs.is_empty());
        assert_eq!(i[3].line, 12);
    }

    #[test]
    fn stages_and_global_args() {
        let df = parse(
            "ARG PY=3.12\nARG BASE\nFROM python:${PY} AS build\nRUN make\nfrom debian\nCOPY --from=build /x /x\n",
            "Dockerfile",
        )
        .expect("parses");
        assert_eq!(
            df.global_args,
            [
                ("PY".to_string(), Some("3.12".to_string())),
                ("BASE".to_string(), None)
            ]
        );
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
        assert_eq!(df.stages[1].base, "debian");
        assert_eq!(df.stages[1].line, 5);
    }

    #[test]
    fn errors_name_the_line() {
        let e = |t: &str| parse(t, "Dockerfile").expect_err(t).to_string();
        assert_eq!(
            e("FROM x\nRUNN make\n"),
            "Dockerfile:2: unknown instruction `RUNN`"
        );
        assert_eq!(e("RUN make\n"), "Dockerfile:1: RUN before the first FROM");
        assert_eq!(
            e("FROM x\nRUN <<EOF\necho\n"),
            "Dockerfile:2: heredoc <<EOF is not terminated"
        );
        assert_eq!(
            e("# escape=x\nFROM x\n"),
            "Dockerfile:1: invalid escape character `x` (use \\ or `)"
        );
        assert_eq!(e("\n"), "Dockerfile: no FROM instruction");
        assert_eq!(
            e("FROM a b\n"),
            "Dockerfile:1: FROM takes an image and an optional `AS name`"
        );
    }
}
