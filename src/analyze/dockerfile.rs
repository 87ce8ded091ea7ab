//! Dockerfile lines for layers (`--dockerfile`): the history steps of the image are
//! aligned with the instructions of the target stage (the last, unless named), by
//! content, never by position. Each side is reduced to a signature that every builder
//! writes the same way (classic `#(nop)` forms, BuildKit's `# buildkit` and `|N ARG=x`
//! forms, buildah's), the Dockerfile side with its `ARG`/`ENV` values expanded where the
//! builder expands them; then a longest common subsequence, anchored at the end (the
//! base image's steps come first), pairs equal signatures. A step whose signature has
//! no partner stays unmatched: a layer is never given a wrong line.

use std::collections::HashMap;

use super::instruction::instruction;
use crate::model::HistoryStep;
use crate::model::dockerfile::{Dockerfile, Instruction, Stage};

/// Where a layer's instruction is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: String,
    pub line: usize,
    pub end_line: usize,
}

/// The Dockerfile lines of an image's layers and steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileLines {
    pub file: String,
    /// The stage matched (its name, or its `FROM` base when it has none).
    pub stage: String,
    /// By layer index.
    pub layers: Vec<Option<Located>>,
    /// By history step.
    pub steps: Vec<Option<Located>>,
    /// Stage instructions that no history step matched, by line.
    pub unmatched_lines: Vec<usize>,
    pub notes: Vec<String>,
}

impl DockerfileLines {
    pub fn layer(&self, index: usize) -> Option<&Located> {
        self.layers.get(index).and_then(Option::as_ref)
    }

    pub fn matched_layers(&self) -> usize {
        self.layers.iter().filter(|l| l.is_some()).count()
    }
}

/// Whitespace runs collapsed to one space.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `$A`, `${A}`, `${A:-x}`, `${A-x}`, `${A:+x}`, `${A+x}` expanded from `vars`; an
/// unknown variable is empty, as builders do.
pub fn expand(text: &str, vars: &HashMap<String, String>, escape: char) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.push(c);
                i += 1;
                continue;
            };
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            i += close + 3;
            out.push_str(&expand_braced(&inner, vars, escape));
            continue;
        }
        let end = chars[i + 1..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(chars.len(), |p| i + 1 + p);
        if end == i + 1 {
            out.push('$');
            i += 1;
            continue;
        }
        let name: String = chars[i + 1..end].iter().collect();
        out.push_str(vars.get(&name).map(String::as_str).unwrap_or(""));
        i = end;
    }
    out
}

/// What one `${...}` form stands for, from what is inside the braces: a name, then
/// an optional `:-`, `-`, `:+` or `+` operator and its word (itself expanded).
fn expand_braced(inner: &str, vars: &HashMap<String, String>, escape: char) -> String {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_end);
    let value = vars.get(name);
    let set = value.is_some();
    let nonempty = value.is_some_and(|v| !v.is_empty());
    let word = |o: &str| expand(o, vars, escape);
    match op {
        "" => value.cloned().unwrap_or_default(),
        o if o.starts_with(":-") => {
            if nonempty {
                value.cloned().unwrap_or_default()
            } else {
                word(&o[2..])
            }
        }
        o if o.starts_with('-') => {
            if set {
                value.cloned().unwrap_or_default()
            } else {
                word(&o[1..])
            }
        }
        o if o.starts_with(":+") => {
            if nonempty {
                word(&o[2..])
            } else {
                String::new()
            }
        }
        o if o.starts_with('+') => {
            if set {
                word(&o[1..])
            } else {
                String::new()
            }
        }
        _ => value.cloned().unwrap_or_default(),
    }
}

/// `KEY=VALUE` pairs of ENV or LABEL, quotes removed, in order; the legacy `ENV KEY value`
/// form too.
fn pairs(args: &str) -> Vec<(String, String)> {
    let words = shell_words(args);
    if words.first().is_some_and(|w| !w.contains('=')) {
        let (k, rest) = args
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((args, ""));
        return vec![(k.to_string(), collapse(rest))];
    }
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (w.clone(), String::new()),
        })
        .collect()
}

/// Words split at unquoted blanks, quotes removed.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (_, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// A JSON-ish array as history writes it: `["a", "b"]` or `["a" "b"]`.
fn array(s: &str) -> Option<Vec<String>> {
    let t = s.trim();
    if !t.starts_with('[') || !t.ends_with(']') {
        return None;
    }
    if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
        return Some(v);
    }
    Some(shell_words(&t[1..t.len() - 1]))
}

/// The signature of a step in history: keyword and what every builder keeps of it.
fn history_signature(created_by: &str) -> Option<String> {
    let text = instruction(created_by);
    let (kw, rest) = text.split_once(' ').unwrap_or((&text, ""));
    let kw = kw.to_ascii_uppercase();
    sig(&kw, rest, true)
}

/// A signature from a keyword and its arguments (history side when `history`).
fn sig(kw: &str, rest: &str, history: bool) -> Option<String> {
    let rest = rest.trim();
    Some(match kw {
        "RUN" => match array(rest) {
            Some(a) if !history || rest.starts_with("[\"") => format!("RUN {}", a.join(" ")),
            _ => format!("RUN {}", collapse(rest)),
        },
        "COPY" | "ADD" => {
            // Classic and buildah: `COPY file:<hash> in <dest>`; BuildKit: the line.
            let dest = match rest.rsplit_once(" in ") {
                Some((src, dest))
                    if history
                        && src
                            .split_whitespace()
                            .next_back()
                            .is_some_and(|w| w.contains(':')) =>
                {
                    dest.trim().to_string()
                }
                _ => match array(rest) {
                    Some(a) => a.last()?.clone(),
                    None => rest.split_whitespace().last()?.to_string(),
                },
            };
            format!("{kw} -> {}", dest.trim_end_matches('/'))
        }
        "ENV" | "LABEL" => {
            let p: Vec<String> = pairs(rest)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{kw} {}", p.join(" "))
        }
        "ARG" => {
            let names: Vec<String> = rest
                .split_whitespace()
                .map(|w| w.split_once('=').map_or(w, |(k, _)| k).to_string())
                .collect();
            format!("ARG {}", names.join(" "))
        }
        "CMD" | "ENTRYPOINT" | "SHELL" | "VOLUME" => match array(rest) {
            Some(a) => format!("{kw} [{}]", a.join("\u{1f}")),
            None => format!("{kw} {}", collapse(rest)),
        },
        "" => return None,
        _ => format!("{kw} {}", collapse(rest)),
    })
}

/// Whether the builder expands variables in this instruction's arguments.
fn expands(kw: &str) -> bool {
    matches!(
        kw,
        "ADD" | "COPY" | "ENV" | "EXPOSE" | "LABEL" | "STOPSIGNAL" | "USER" | "VOLUME" | "WORKDIR"
    )
}

/// The signatures an instruction may show in history (as written, and expanded), and
/// whether a history command may extend it (a heredoc's body follows its first line).
fn dockerfile_signatures(i: &Instruction, vars: &HashMap<String, String>) -> (Vec<String>, bool) {
    let raw = match &i.json {
        Some(a) if i.keyword == "RUN" => a.join(" "),
        _ => i.args.clone(),
    };
    let mut out = Vec::new();
    let json_form = i
        .json
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_default());
    for text in [Some(raw.clone()), json_form].into_iter().flatten() {
        out.extend(sig(&i.keyword, &text, false));
        if expands(&i.keyword) {
            out.extend(sig(&i.keyword, &expand(&text, vars, '\\'), false));
        }
    }
    if i.keyword == "RUN" && !i.heredocs.is_empty() {
        let mut full = raw;
        for h in &i.heredocs {
            full.push(' ');
            full.push_str(&h.body);
            full.push_str(&h.name);
        }
        out.extend(sig("RUN", &full, false));
    }
    out.dedup();
    (out, i.keyword == "RUN" && !i.heredocs.is_empty())
}

/// Build arguments history shows on a RUN step: `|2 A=1 B=2 /bin/sh -c ...`.
fn build_args(created_by: &str) -> Vec<(String, String)> {
    let t = created_by.trim();
    let Some(rest) = t.strip_prefix('|').or_else(|| t.strip_prefix("RUN |")) else {
        return Vec::new();
    };
    let mut words = rest.split_whitespace();
    let n: usize = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    words
        .take(n)
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Align an image's history with a stage of a Dockerfile.
pub fn lines(
    df: &Dockerfile,
    target: Option<&str>,
    history: &[HistoryStep],
    layer_count: usize,
) -> std::result::Result<DockerfileLines, String> {
    let stage = target_stage(df, target)?;
    let wanted = stage_signatures(df, stage, &given_build_args(history));
    let have: Vec<Option<String>> = history
        .iter()
        .map(|h| h.created_by.as_deref().and_then(history_signature))
        .collect();
    let pairs = align(&have, &wanted);
    let mut steps: Vec<Option<Located>> = vec![None; history.len()];
    let mut matched = vec![false; stage.instructions.len()];
    for (h, d) in pairs.iter().enumerate() {
        if let Some(d) = *d {
            let i = &stage.instructions[d];
            steps[h] = Some(Located {
                file: df.file.clone(),
                line: i.line,
                end_line: i.end_line,
            });
            matched[d] = true;
        }
    }
    let layers = layer_lines(history, &steps, layer_count);
    let unmatched_lines: Vec<usize> = stage
        .instructions
        .iter()
        .zip(&matched)
        .filter(|(_, m)| !**m)
        .map(|(i, _)| i.line)
        .collect();
    let notes = alignment_notes(&df.file, history, &steps, &unmatched_lines);
    Ok(DockerfileLines {
        file: df.file.clone(),
        stage: stage_label(df, stage),
        layers,
        steps,
        unmatched_lines,
        notes,
    })
}

/// The stage named `target`, or the last one; a missing name lists the names there are.
fn target_stage<'a>(df: &'a Dockerfile, target: Option<&str>) -> Result<&'a Stage, String> {
    match target {
        Some(t) => df
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(t))
            .ok_or_else(|| {
                let names: Vec<&str> = df.stages.iter().filter_map(|s| s.name.as_deref()).collect();
                format!(
                    "no stage named `{t}` (stages: {})",
                    if names.is_empty() {
                        "none named".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            }),
        None => df.stages.last().ok_or_else(|| "no stage".to_string()),
    }
}

/// The build arguments the history's RUN steps show, the last value of each name.
fn given_build_args(history: &[HistoryStep]) -> HashMap<String, String> {
    let mut given: HashMap<String, String> = HashMap::new();
    for h in history {
        for (k, v) in h.created_by.as_deref().map(build_args).unwrap_or_default() {
            given.insert(k, v);
        }
    }
    given
}

/// The signatures of each instruction of `stage` ([`dockerfile_signatures`]), with the
/// variables as the builder sees them at that instruction: `ARG` values from `given`,
/// the stage's default, or a global default the stage declares again; `ENV` values
/// expanded.
fn stage_signatures(
    df: &Dockerfile,
    stage: &Stage,
    given: &HashMap<String, String>,
) -> Vec<(Vec<String>, bool)> {
    // Variables: global ARG defaults reach a stage only when it declares them again.
    let global: HashMap<&str, Option<&String>> = df
        .global_args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_ref()))
        .collect();
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut wanted: Vec<(Vec<String>, bool)> = Vec::new();
    for i in &stage.instructions {
        wanted.push(dockerfile_signatures(i, &vars));
        match i.keyword.as_str() {
            "ARG" => {
                for (k, v) in crate::model::dockerfile::arg_defaults(&i.args) {
                    let value = given
                        .get(&k)
                        .cloned()
                        .or(v)
                        .or_else(|| global.get(k.as_str()).copied().flatten().cloned());
                    if let Some(value) = value {
                        vars.insert(k, value);
                    }
                }
            }
            "ENV" => {
                for (k, v) in pairs(&i.args) {
                    let v = expand(&v, &vars, '\\');
                    vars.insert(k, v);
                }
            }
            _ => {}
        }
    }
    wanted
}

/// Whether a history step's signature fits an instruction's: one of them, or one it
/// extends when a history command may extend it (a heredoc's body).
fn fits(have: &Option<String>, wanted: &(Vec<String>, bool)) -> bool {
    let Some(sig) = have else { return false };
    let (sigs, prefix) = wanted;
    sigs.iter().any(|s| s == sig)
        || (*prefix && sigs.first().is_some_and(|s| sig.starts_with(s.as_str())))
}

/// Pair history steps with instructions: the longest common subsequence of fitting
/// signatures, whose walk back from the end prefers late matches. By history step, the
/// index of its instruction.
fn align(have: &[Option<String>], wanted: &[(Vec<String>, bool)]) -> Vec<Option<usize>> {
    let fit = |h: usize, d: usize| fits(&have[h], &wanted[d]);
    let (n, m) = (have.len(), wanted.len());
    let mut table = vec![vec![0u32; m + 1]; n + 1];
    for h in 1..=n {
        for d in 1..=m {
            table[h][d] = if fit(h - 1, d - 1) {
                table[h - 1][d - 1] + 1
            } else {
                table[h - 1][d].max(table[h][d - 1])
            };
        }
    }
    let mut pairs = vec![None; n];
    let (mut h, mut d) = (n, m);
    while h > 0 && d > 0 {
        if fit(h - 1, d - 1) && table[h][d] == table[h - 1][d - 1] + 1 {
            pairs[h - 1] = Some(d - 1);
            h -= 1;
            d -= 1;
        } else if table[h - 1][d] >= table[h][d - 1] {
            h -= 1;
        } else {
            d -= 1;
        }
    }
    pairs
}

/// By layer index, the lines of the step that made the layer.
fn layer_lines(
    history: &[HistoryStep],
    steps: &[Option<Located>],
    layer_count: usize,
) -> Vec<Option<Located>> {
    let mut layers: Vec<Option<Located>> = vec![None; layer_count];
    for (step, at) in history.iter().zip(steps) {
        if let (Some(l), Some(at)) = (step.layer, at)
            && l < layer_count
        {
            layers[l] = Some(at.clone());
        }
    }
    layers
}

/// What a reader should know about the alignment: layers after the first match with no
/// line, no match at all, instructions no step matched.
fn alignment_notes(
    file: &str,
    history: &[HistoryStep],
    steps: &[Option<Located>],
    unmatched_lines: &[usize],
) -> Vec<String> {
    let mut notes = Vec::new();
    let first_matched = steps.iter().position(Option::is_some);
    let unmatched_yours = history
        .iter()
        .enumerate()
        .filter(|(k, s)| {
            s.layer.is_some() && steps[*k].is_none() && first_matched.is_some_and(|f| *k > f)
        })
        .count();
    if unmatched_yours > 0 {
        notes.push(format!(
            "{unmatched_yours} layers after the first matched one have no line in {file}: built from another Dockerfile or stage, or the history was rewritten"
        ));
    }
    if first_matched.is_none() {
        notes.push(format!(
            "no history step matches an instruction of {file}: is it the Dockerfile this image was built from?"
        ));
    }
    if !unmatched_lines.is_empty() && first_matched.is_some() {
        let shown: Vec<String> = unmatched_lines
            .iter()
            .take(8)
            .map(|l| l.to_string())
            .collect();
        notes.push(format!(
            "instructions at lines {} of {file} match no history step (a squashed build keeps one layer for the whole stage)",
            shown.join(", "),
        ));
    }
    notes
}

/// The stage a report names by its [`DockerfileLines::stage`] label (the last that
/// bears it).
pub fn stage_index(df: &Dockerfile, label: &str) -> Option<usize> {
    df.stages.iter().rposition(|s| stage_label(df, s) == label)
}

/// How the report names the stage: its name, else its `FROM` base with the global
/// `ARG` defaults expanded.
fn stage_label(df: &Dockerfile, stage: &Stage) -> String {
    stage.name.clone().unwrap_or_else(|| {
        let defaults: HashMap<String, String> = df
            .global_args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect();
        expand(&stage.base, &defaults, '\\')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(p: &[(&str, &str)]) -> HashMap<String, String> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn expansion_follows_the_builders() {
        let v = vars(&[("A", "x"), ("E", "")]);
        assert_eq!(expand("$A/${A}/$B/\\$A", &v, '\\'), "x/x//$A");
        assert_eq!(
            expand("${B:-d} ${E:-d} ${E-d} ${A:+y} ${E:+y} ${E+y}", &v, '\\'),
            "d d  y  y"
        );
        assert_eq!(expand("cost $5 ${A", &v, '\\'), "cost  ${A");
    }

    #[test]
    fn every_builder_writes_the_same_signature() {
        let forms = [
            ("/bin/sh -c #(nop)  ENV A=1 B=2", "ENV A=1 B=2"),
            ("ENV A=1 B=2", "ENV A=1 B=2"),
            ("/bin/sh -c #(nop) ENV A=1     B=2", "ENV A=1 B=2"),
            (
                "/bin/sh -c #(nop)  CMD [\"python\" \"app.py\"]",
                "CMD [python\u{1f}app.py]",
            ),
            (
                "/bin/sh -c #(nop) CMD [\"python\", \"app.py\"]",
                "CMD [python\u{1f}app.py]",
            ),
            ("CMD [\"python\" \"app.py\"]", "CMD [python\u{1f}app.py]"),
            ("/bin/sh -c #(nop) COPY file:ab12 in /app/ ", "COPY -> /app"),
            ("COPY . /app # buildkit", "COPY -> /app"),
            ("COPY --chown=1:1 src /app/ # buildkit", "COPY -> /app"),
            ("|2 A=1 B=2 /bin/sh -c make   all", "RUN make all"),
            ("RUN /bin/sh -c make all # buildkit", "RUN make all"),
            ("/bin/sh -c #(nop) ARG V", "ARG V"),
            ("ARG V=1", "ARG V"),
        ];
        for (created_by, want) in forms {
            assert_eq!(
                history_signature(created_by).as_deref(),
                Some(want),
                "{created_by}"
            );
        }
    }
}
