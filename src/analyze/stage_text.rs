//! A multi-stage build written into a Dockerfile: the target stage becomes the build
//! stage (`AS build` added to its `FROM` when it has no name) and a runtime stage is
//! appended: a base of its own, the packages the runtime needs installed with
//! `--no-install-recommends` and apt's caches removed in the same RUN, what the report
//! says the runtime needs copied with `COPY --from`, and the target lineage's
//! metadata (`ARG`, `ENV`, then `WORKDIR`, `USER`, `EXPOSE`, `CMD`, ... in their
//! order). Pure: text in, hunks out.

use super::findings::Recipe;
use super::patch::{self, Hunk, ending};
use crate::model::dockerfile::{Dockerfile, Instruction};
use crate::model::text::plain;

/// What the runtime stage is written from.
pub struct RuntimeStage<'a> {
    /// The stage the image was built from, as the report labels it (its name, or its
    /// base with the global `ARG` defaults expanded).
    pub target: &'a str,
    pub recipe: &'a Recipe,
    /// The runtime stage's base when known (a user's choice, or the slim variant).
    pub runtime_base: Option<&'a str>,
    /// The projection starts the runtime stage from the base's slim variant.
    pub slim: bool,
}

/// Instructions the runtime stage repeats before its RUN, and after its copies.
const EARLY: [&str; 2] = ["ARG", "ENV"];
const LATE: [&str; 10] = [
    "WORKDIR",
    "USER",
    "EXPOSE",
    "LABEL",
    "VOLUME",
    "HEALTHCHECK",
    "STOPSIGNAL",
    "SHELL",
    "ENTRYPOINT",
    "CMD",
];

const RULE: &str = "# imgsize: multi-stage";

/// The stages from the first one of the target's lineage to the target (a stage
/// `FROM` an earlier stage's name continues it).
fn lineage(df: &Dockerfile, target: &str) -> Option<Vec<usize>> {
    let t = super::dockerfile::stage_index(df, target)?;
    let mut out = vec![t];
    let mut cur = t;
    while let Some(p) = df.stages[..cur].iter().rposition(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(&df.stages[cur].base))
    }) {
        out.push(p);
        cur = p;
    }
    out.reverse();
    Some(out)
}

/// A name no stage has.
fn free_name(df: &Dockerfile) -> String {
    let taken = |n: &str| {
        df.stages
            .iter()
            .any(|s| s.name.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(n)))
    };
    (0..)
        .map(|i| {
            if i == 0 {
                "build".to_string()
            } else {
                format!("build{i}")
            }
        })
        .find(|n| !taken(n))
        .unwrap_or_default()
}

/// A path as a COPY argument: bare when it is plain, else the JSON form's string;
/// `None` when it holds control or bidi characters (a terminal shows the diff).
fn copy_line(from: &str, path: &str) -> Option<String> {
    if !plain(path) {
        return None;
    }
    let plain = patch::bare_word(path);
    Some(if plain {
        format!("COPY --from={from} {path} {path}")
    } else {
        let q = serde_json::to_string(path).ok()?;
        format!("COPY --from={from} [{q}, {q}]")
    })
}

/// An instruction's lines as written.
fn verbatim(lines: &[&str], inst: &Instruction) -> String {
    lines
        .get(inst.line.saturating_sub(1)..inst.end_line.min(lines.len()))
        .map(|s| s.concat())
        .unwrap_or_default()
}

/// The build stage's name: its own, or a free one added to its `FROM` line (the
/// hunk that adds it).
fn build_stage(
    df: &Dockerfile,
    lines: &[&str],
    t: usize,
) -> Result<(String, Option<Hunk>), String> {
    let target = &df.stages[t];
    if let Some(n) = &target.name {
        return Ok((n.clone(), None));
    }
    let from_line = lines
        .get(target.line.wrapping_sub(1))
        .ok_or("the stage's FROM line is not in the file")?;
    let eol = ending(from_line);
    let body = from_line.trim_end_matches(['\r', '\n']).trim_end();
    if body.ends_with(df.escape) {
        return Err("the stage's FROM line continues on the next line".into());
    }
    let n = free_name(df);
    let hunk = Hunk {
        start: target.line,
        end: target.line,
        lines: vec![
            format!("{RULE}: this stage builds; the runtime stage below ships{eol}"),
            format!("{body} AS {n}{eol}"),
        ],
        rule: "multi-stage".into(),
    };
    Ok((n, Some(hunk)))
}

/// The runtime stage's `FROM` (with a comment when its base is a guess), and a note.
fn runtime_from(rs: &RuntimeStage<'_>, root_base: &str, eol: &str) -> (String, Option<String>) {
    match rs.runtime_base {
        Some(b) => (format!("FROM {b}{eol}"), None),
        None if rs.slim => (
            format!(
                "{RULE}: put the slim variant of `{root_base}` here (the projection counts it: the base without its compilers, headers and caches){eol}FROM {root_base}{eol}"
            ),
            Some(format!(
                "the runtime stage starts from `{root_base}`: put its slim variant there (--runtime-base IMAGE), as the projection assumes"
            )),
        ),
        None => (format!("FROM {root_base}{eol}"), None),
    }
}

/// The runtime stage's install and copies from the build stage `from`, with notes on
/// what is not written.
fn installs_and_copies(
    rs: &RuntimeStage<'_>,
    from: &str,
    e: char,
    eol: &str,
) -> (String, Vec<String>) {
    let mut text = String::new();
    let mut notes = Vec::new();
    let packages: Vec<&str> = rs
        .recipe
        .packages
        .iter()
        .map(String::as_str)
        .filter(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.:".contains(c))
        })
        .collect();
    if !packages.is_empty() {
        text.push_str(&format!(
            "RUN apt-get update {e}{eol}    && apt-get install -y --no-install-recommends {} {e}{eol}    && apt-get clean {e}{eol}    && rm -rf /var/lib/apt/lists/*{eol}",
            packages.join(" ")
        ));
    }
    for (path, _) in &rs.recipe.copies {
        match copy_line(from, path) {
            Some(l) => {
                text.push_str(&l);
                text.push_str(eol);
            }
            None => notes.push(format!(
                "a path with control or bidi characters is not copied: {path}"
            )),
        }
    }
    if rs.recipe.more > 0 {
        let (n, b) = (rs.recipe.more, rs.recipe.more_bytes);
        text.push_str(&format!(
            "{RULE}: {n} smaller paths of your layers ({b} bytes) are not copied: add them if the app needs them{eol}"
        ));
        notes.push(format!(
            "{n} smaller paths of your layers ({b} bytes) are not copied"
        ));
    }
    (text, notes)
}

/// The hunks of the multi-stage build, with notes on what to check by hand.
pub fn write(
    df: &Dockerfile,
    lines: &[&str],
    rs: &RuntimeStage<'_>,
) -> Result<(Vec<Hunk>, Vec<String>), String> {
    let stages = lineage(df, rs.target).ok_or("the image's stage is not in the Dockerfile")?;
    let t = *stages.last().unwrap_or(&0);
    let eol = lines
        .get(df.stages[t].line.wrapping_sub(1))
        .map_or("\n", |l| ending(l));
    let (name, rename) = build_stage(df, lines, t)?;
    let mut hunks: Vec<Hunk> = rename.into_iter().collect();
    let carried = |keys: &[&str]| -> String {
        stages
            .iter()
            .flat_map(|&s| &df.stages[s].instructions)
            .filter(|i| keys.contains(&i.keyword.as_str()))
            .map(|i| verbatim(lines, i))
            .collect()
    };
    let mut text = String::new();
    let last = lines.last().copied().unwrap_or("");
    if !last.is_empty() && !last.ends_with('\n') {
        text.push_str(eol);
    }
    text.push_str(&format!(
        "{eol}{RULE}: the runtime stage: what the app needs at run time, copied from `{name}`{eol}"
    ));
    let (from, note) = runtime_from(rs, &df.stages[stages[0]].base, eol);
    text.push_str(&from);
    text.push_str(&carried(&EARLY));
    let (body, mut notes) = installs_and_copies(rs, &name, df.escape, eol);
    text.push_str(&body);
    text.push_str(&carried(&LATE));
    notes.splice(0..0, note);
    let n = lines.len();
    hunks.push(Hunk {
        start: n + 1,
        end: n,
        lines: vec![text],
        rule: "multi-stage".into(),
    });
    Ok((hunks, notes))
}
