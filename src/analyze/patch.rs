//! Changes of a Dockerfile as text (the ground work of `imgsize fix`): a command
//! appended to a RUN in the form the RUN is written in, an `ENV` line before an
//! instruction, the patterns a `.dockerignore` lacks. Everything a change does not
//! touch is kept byte for byte (comments, continuation lines, heredocs, line endings);
//! each change carries a comment line naming the rule that asks it. Pure: text in,
//! text out.

use crate::model::dockerfile::Instruction;

/// Lines `start..=end` (1-based) of a file replaced by `lines` (with their line
/// endings); `end == start - 1` inserts before `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub start: usize,
    pub end: usize,
    pub lines: Vec<String>,
    /// The rules that ask the change, comma-separated.
    pub rule: String,
}

/// Why a change cannot be written into the instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `RUN ["…"]`: there is no shell to chain a command in.
    ExecForm,
    /// The RUN's last line ends in a shell comment, which would swallow what follows.
    TrailingComment,
    /// The instruction's lines are not in the text (a stale parse).
    Lines,
}

/// The physical lines of `text`, each with its line ending.
pub fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Whether a path can stand bare as a shell word and a COPY argument: letters, digits
/// and `/._-+@%:,=` only.
pub(crate) fn bare_word(path: &str) -> bool {
    path.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@%:,=".contains(c))
}

/// The line ending `line` uses (`\r\n` or `\n`; `\n` for a last line without one).
pub(crate) fn ending(line: &str) -> &'static str {
    if line.ends_with("\r\n") { "\r\n" } else { "\n" }
}

/// The comment line that names the rule of a change, indented like `like`.
fn note(rule: &str, what: &str, like: &str, eol: &str) -> String {
    let indent: String = like.chars().take_while(|c| c.is_whitespace()).collect();
    format!("{indent}# imgsize: {rule}: {what}{eol}")
}

/// Whether a shell line ends in a comment (an unquoted `#` after a blank).
fn ends_in_comment(line: &str) -> bool {
    let (mut single, mut double, mut prev_blank) = (false, false, true);
    for c in line.chars() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev_blank => return true,
            _ => {}
        }
        prev_blank = c.is_whitespace();
    }
    false
}

/// End the RUN `inst` with `command`: in shell form, the last line continued with the
/// file's escape character and `&& command` on a line of its own, indented like the
/// instruction's second line (or four spaces); in a heredoc RUN, `command` as the last
/// line of the first heredoc's script. The comment line naming `rule` goes above the
/// instruction.
pub fn append_to_run(
    lines: &[&str],
    inst: &Instruction,
    command: &str,
    escape: char,
    rule: &str,
) -> Result<Hunk, Refusal> {
    if inst.json.is_some() {
        return Err(Refusal::ExecForm);
    }
    let span = lines
        .get(inst.line.wrapping_sub(1)..inst.end_line)
        .filter(|s| !s.is_empty() && inst.line >= 1)
        .ok_or(Refusal::Lines)?;
    let first = span[0];
    let eol = ending(first);
    let mut out = vec![note(rule, command, first, eol)];
    if !inst.heredocs.is_empty() {
        // The first heredoc's terminator line: the first line after the RUN line that
        // is its name alone.
        let name = &inst.heredocs[0].name;
        let end = span
            .iter()
            .skip(1)
            .position(|l| l.trim_end_matches(['\r', '\n']).trim() == name)
            .ok_or(Refusal::Lines)?
            + 1;
        out.extend(span[..end].iter().map(|l| l.to_string()));
        out.push(format!("{command}{eol}"));
        out.extend(span[end..].iter().map(|l| l.to_string()));
    } else {
        let last = span[span.len() - 1];
        let body = last.trim_end_matches(['\r', '\n']);
        if ends_in_comment(body) {
            return Err(Refusal::TrailingComment);
        }
        let indent: String = match span.get(1) {
            Some(second) => second.chars().take_while(|c| c.is_whitespace()).collect(),
            None => "    ".into(),
        };
        out.extend(span[..span.len() - 1].iter().map(|l| l.to_string()));
        out.push(format!("{} {escape}{eol}", body.trim_end()));
        out.push(format!("{indent}&& {command}{}", ending(last)));
    }
    Ok(Hunk {
        start: inst.line,
        end: inst.end_line,
        lines: out,
        rule: rule.to_string(),
    })
}

/// An `ENV name=value` line (with its comment) before the instruction at `line`.
pub fn env_before(
    lines: &[&str],
    line: usize,
    name: &str,
    value: &str,
    rule: &'static str,
) -> Hunk {
    let at = lines.get(line.wrapping_sub(1)).copied().unwrap_or("\n");
    let eol = ending(at);
    Hunk {
        start: line,
        end: line - 1,
        lines: vec![
            note(rule, &format!("{name}={value}"), "", eol),
            format!("ENV {name}={value}{eol}"),
        ],
        rule: rule.to_string(),
    }
}

/// A `RUN command` line (with its comment) before the instruction at `line`.
pub fn run_before(lines: &[&str], line: usize, command: &str, rule: &str, what: &str) -> Hunk {
    let at = lines.get(line.wrapping_sub(1)).copied().unwrap_or("\n");
    let eol = ending(at);
    let indent: String = at.chars().take_while(|c| c.is_whitespace()).collect();
    Hunk {
        start: line,
        end: line - 1,
        lines: vec![
            note(rule, what, at, eol),
            format!("{indent}RUN {command}{eol}"),
        ],
        rule: rule.to_string(),
    }
}

/// `flag` (`--chmod=755`) added after the keyword of the COPY/ADD `inst`, with a
/// comment naming `rule` above it; `None` when its first line does not start with
/// the keyword.
pub fn add_flag(lines: &[&str], inst: &Instruction, flag: &str, rule: &str) -> Option<Hunk> {
    let first = *lines.get(inst.line.checked_sub(1)?)?;
    let indent = first.len() - first.trim_start().len();
    let rest = &first[indent..];
    let k = inst.keyword.len();
    if rest.len() < k || !rest[..k].eq_ignore_ascii_case(&inst.keyword) {
        return None;
    }
    let eol = ending(first);
    Some(Hunk {
        start: inst.line,
        end: inst.line,
        lines: vec![
            note(rule, flag, first, eol),
            format!("{}{} {flag}{}", &first[..indent], &rest[..k], &rest[k..]),
        ],
        rule: rule.to_string(),
    })
}

/// The instruction `inst` taken out, a comment saying why in its place.
pub fn drop_instruction(lines: &[&str], inst: &Instruction, why: &str, rule: &str) -> Hunk {
    let first = lines
        .get(inst.line.wrapping_sub(1))
        .copied()
        .unwrap_or("\n");
    Hunk {
        start: inst.line,
        end: inst.end_line,
        lines: vec![note(rule, why, first, ending(first))],
        rule: rule.to_string(),
    }
}

/// A `.dockerignore` with `patterns` it does not name yet added at its end (after a
/// comment naming the rule), every existing line kept; `None` when it names them all.
/// A pattern counts as named when a line equals it or it with a leading `/` or `**/`,
/// and no later `!` line re-includes it.
pub fn dockerignore(existing: Option<&str>, patterns: &[&str], rule: &str) -> Option<String> {
    let text = existing.unwrap_or("");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let named = |p: &str| {
        let forms = [p.to_string(), format!("/{p}"), format!("**/{p}")];
        let at = lines.iter().rposition(|l| forms.iter().any(|f| f == l));
        let undone = lines.iter().rposition(|l| {
            l.strip_prefix('!')
                .is_some_and(|rest| forms.iter().any(|f| f == rest))
        });
        matches!((at, undone), (Some(a), u) if u.is_none_or(|u| u < a))
    };
    let missing: Vec<&str> = patterns.iter().copied().filter(|p| !named(p)).collect();
    if missing.is_empty() {
        return None;
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("# imgsize: {rule}\n"));
    for p in missing {
        out.push_str(p);
        out.push('\n');
    }
    Some(out)
}

/// `text` with the hunks applied (sorted by line, not overlapping).
pub fn apply(text: &str, hunks: &[Hunk]) -> String {
    let lines = split_lines(text);
    let mut sorted: Vec<&Hunk> = hunks.iter().collect();
    sorted.sort_by_key(|h| (h.start, h.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut next = 1;
    for h in sorted {
        for l in lines.iter().take(h.start - 1).skip(next - 1) {
            out.push_str(l);
        }
        for l in &h.lines {
            out.push_str(l);
        }
        next = next.max(h.end + 1);
    }
    for l in lines.iter().skip(next - 1) {
        out.push_str(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dockerfile::Heredoc;

    fn inst(line: usize, end_line: usize, json: bool, heredoc: Option<&str>) -> Instruction {
        Instruction {
            keyword: "RUN".into(),
            flags: Vec::new(),
            args: String::new(),
            json: json.then(Vec::new),
            heredocs: heredoc
                .map(|n| Heredoc {
                    name: n.into(),
                    body: String::new(),
                })
                .into_iter()
                .collect(),
            line,
            end_line,
        }
    }

    const APT: &str = "apt-get clean && rm -rf /var/lib/apt/lists/*";

    #[test]
    fn a_command_ends_a_shell_run_with_its_continuations_kept() {
        let text = "FROM debian\n# tools\nRUN apt-get update \\\n      && apt-get install -y \\\n         curl\nCMD [\"sh\"]\n";
        let lines = split_lines(text);
        let h =
            append_to_run(&lines, &inst(3, 5, false, None), APT, '\\', "apt-lists").expect("hunk");
        assert_eq!(
            apply(text, &[h]),
            "FROM debian\n# tools\n# imgsize: apt-lists: apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN apt-get update \\\n      && apt-get install -y \\\n         curl \\\n      && apt-get clean && rm -rf /var/lib/apt/lists/*\nCMD [\"sh\"]\n"
        );
    }

    #[test]
    fn one_line_runs_crlf_and_the_escape_directive() {
        let text = "# escape=`\r\nFROM x\r\nRUN npm install\r\n";
        let lines = split_lines(text);
        let h = append_to_run(
            &lines,
            &inst(3, 3, false, None),
            "npm cache clean --force",
            '`',
            "npm-cache",
        )
        .expect("hunk");
        assert_eq!(
            apply(text, &[h]),
            "# escape=`\r\nFROM x\r\n# imgsize: npm-cache: npm cache clean --force\r\nRUN npm install `\r\n    && npm cache clean --force\r\n"
        );
    }

    #[test]
    fn heredoc_runs_get_a_last_line_of_script() {
        let text = "FROM x\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\nCOPY . /app\n";
        let lines = split_lines(text);
        let h = append_to_run(
            &lines,
            &inst(2, 5, false, Some("EOF")),
            APT,
            '\\',
            "apt-lists",
        )
        .expect("hunk");
        assert_eq!(
            apply(text, &[h]),
            "FROM x\n# imgsize: apt-lists: apt-get clean && rm -rf /var/lib/apt/lists/*\nRUN <<EOF\napt-get update\napt-get install -y curl\napt-get clean && rm -rf /var/lib/apt/lists/*\nEOF\nCOPY . /app\n"
        );
    }

    #[test]
    fn exec_forms_and_trailing_comments_are_refused() {
        let text = "FROM x\nRUN [\"make\"]\nRUN make # build it\nRUN echo '#no' \"a # b\"\n";
        let lines = split_lines(text);
        let refuse = |i: Instruction| append_to_run(&lines, &i, "true", '\\', "r").err();
        assert_eq!(refuse(inst(2, 2, true, None)), Some(Refusal::ExecForm));
        assert_eq!(
            refuse(inst(3, 3, false, None)),
            Some(Refusal::TrailingComment)
        );
        assert_eq!(refuse(inst(4, 4, false, None)), None);
        assert_eq!(refuse(inst(9, 9, false, None)), Some(Refusal::Lines));
    }

    #[test]
    fn env_lines_go_before_the_instruction() {
        let text = "FROM python:3.12\nRUN pip install -r r.txt\n";
        let lines = split_lines(text);
        let h = env_before(&lines, 2, "PIP_NO_CACHE_DIR", "1", "pip-cache");
        assert_eq!(
            apply(text, &[h]),
            "FROM python:3.12\n# imgsize: pip-cache: PIP_NO_CACHE_DIR=1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r r.txt\n"
        );
    }

    #[test]
    fn dockerignore_keeps_its_lines_and_respects_negations() {
        assert_eq!(
            dockerignore(None, &[".git", "**/__pycache__"], "dockerignore").as_deref(),
            Some("# imgsize: dockerignore\n.git\n**/__pycache__\n")
        );
        let kept = "node_modules\n/.git";
        assert_eq!(dockerignore(Some(kept), &[".git"], "dockerignore"), None);
        let undone = ".git\n!.git\n";
        assert_eq!(
            dockerignore(Some(undone), &[".git"], "dockerignore").as_deref(),
            Some(".git\n!.git\n# imgsize: dockerignore\n.git\n")
        );
        assert_eq!(
            dockerignore(Some(kept), &["target"], "build-tree").as_deref(),
            Some("node_modules\n/.git\n# imgsize: build-tree\ntarget\n")
        );
    }

    #[test]
    fn flags_runs_and_drops_keep_the_lines_around() {
        let text = "FROM x\n  copy . /app\nRUN chmod -R 755 /app\nRUN apt-get install -y curl\n";
        let lines = split_lines(text);
        let mut copy = inst(2, 2, false, None);
        copy.keyword = "COPY".into();
        let add = add_flag(&lines, &copy, "--chmod=755", "chmod-duplicate").expect("hunk");
        let drop = drop_instruction(
            &lines,
            &inst(3, 3, false, None),
            "dropped",
            "chmod-duplicate",
        );
        let nodoc = run_before(&lines, 4, "true", "docs-locales", "filter");
        assert_eq!(
            apply(text, &[add, drop, nodoc]),
            "FROM x\n  # imgsize: chmod-duplicate: --chmod=755\n  copy --chmod=755 . /app\n# imgsize: chmod-duplicate: dropped\n# imgsize: docs-locales: filter\nRUN true\nRUN apt-get install -y curl\n"
        );
    }
}
