//! Where the base image ends and your layers begin. Only your layers can be fixed by
//! editing your Dockerfile, so totals, categories and findings keep the two apart.
//!
//! Rules, first that decides wins: `--base-layers N`; the manifest's
//! `org.opencontainers.image.base.digest` annotation, when the input also holds that
//! manifest and its layers are this image's first (the source counts them); the history
//! (the base ends at its last `CMD`/`ENTRYPOINT`/`SHELL` step that is followed by a step
//! making a layer: a base image's Dockerfile ends with them, yours starts after);
//! BuildKit's `buildkit.dockerfile.v0` comments (when only the last steps carry it, a
//! base built otherwise ends where they start); the `created` times of the history (the
//! largest gap of an hour or more between steps making layers). Without any, every
//! layer counts as yours.

use super::instruction::instruction;
use crate::model::{Analysis, HistoryStep};

/// How the boundary was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseRule {
    /// `--base-layers N`.
    Flag,
    /// The base-digest annotation names a manifest the input holds.
    Annotation,
    /// The last CMD/ENTRYPOINT/SHELL step of the history before your first layer.
    History,
    /// Only the last steps carry BuildKit's comment.
    BuildKit,
    /// The largest gap in the history's `created` times.
    CreatedGap,
    /// The first layers have no instruction (an imported or `ADD`-ed root
    /// filesystem): no Dockerfile edit changes them, so they are the base's, and the
    /// history tells nothing later.
    NoInstruction,
    /// Nothing tells: every layer is counted as yours.
    Unknown,
}

impl BaseRule {
    pub fn code(self) -> &'static str {
        match self {
            BaseRule::Flag => "flag",
            BaseRule::Annotation => "annotation",
            BaseRule::BuildKit => "buildkit-comment",
            BaseRule::History => "history",
            BaseRule::CreatedGap => "created-gap",
            BaseRule::NoInstruction => "no-instruction",
            BaseRule::Unknown => "unknown",
        }
    }
}

/// The base image's share of the layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// Layers `0..layers` are the base image's.
    pub layers: usize,
    pub rule: BaseRule,
    /// The base image as the manifest's annotations name it, when they do.
    pub name: Option<String>,
    pub digest: Option<String>,
}

impl Base {
    /// Whether layer `index` belongs to the base image.
    pub fn holds(&self, index: usize) -> bool {
        index < self.layers
    }
}

/// A metadata step a Dockerfile ends with: `CMD`, `ENTRYPOINT`, `SHELL`.
fn is_closing_step(h: &HistoryStep) -> bool {
    h.empty_layer
        && h.created_by.as_deref().map(instruction).is_some_and(|i| {
            ["CMD", "ENTRYPOINT", "SHELL"]
                .iter()
                .any(|k| i.strip_prefix(k).is_some_and(|r| r.starts_with([' ', '['])))
        })
}

/// Layers before the last closing step that a layer-making step follows.
fn by_history(history: &[HistoryStep]) -> Option<usize> {
    let mut layers_before = 0;
    let mut pending = None;
    let mut candidate = None;
    for h in history {
        if h.layer.is_some() {
            if let Some(at) = pending.take() {
                candidate = Some(at);
            }
            layers_before += 1;
        } else if is_closing_step(h) {
            pending = Some(layers_before);
        }
    }
    candidate.filter(|&n| n > 0)
}

/// The comment BuildKit writes on every step it builds.
const BUILDKIT: &str = "buildkit.dockerfile.v0";

/// Layers before the final run of BuildKit-commented steps, when no earlier step
/// carries the comment (a base built otherwise, then your BuildKit build).
fn by_buildkit(history: &[HistoryStep]) -> Option<usize> {
    let ours = |h: &HistoryStep| h.comment.as_deref() == Some(BUILDKIT);
    let start = history.iter().rposition(|h| !ours(h))? + 1;
    if start == history.len() || history[..start].iter().any(ours) {
        return None;
    }
    let layers = history[..start]
        .iter()
        .filter(|h| h.layer.is_some())
        .count();
    let yours = history[start..].iter().any(|h| h.layer.is_some());
    (layers > 0 && yours).then_some(layers)
}

/// Seconds since the epoch of an RFC 3339 time (`2024-05-01T12:00:00.123Z`,
/// `…+02:00`); `None` when it does not parse.
pub fn epoch_seconds(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        std::str::from_utf8(b.get(r)?).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b.get(4) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = days * 86_400 + h * 3600 + mi * 60 + s;
    let rest = &t[19..];
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if let Some(off) = rest.strip_prefix('+').or_else(|| rest.strip_prefix('-')) {
        let sign = if rest.starts_with('+') { 1 } else { -1 };
        let (oh, om) = off.split_once(':')?;
        secs -= sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60);
    }
    Some(secs)
}

/// Layers before the largest gap (an hour or more) between layer-making steps.
fn by_created_gap(history: &[HistoryStep]) -> Option<usize> {
    let times: Vec<i64> = history
        .iter()
        .filter(|h| h.layer.is_some())
        .map(|h| h.created.as_deref().and_then(epoch_seconds))
        .collect::<Option<Vec<_>>>()?;
    let (at, gap) = times
        .windows(2)
        .enumerate()
        .map(|(i, w)| (i + 1, w[1] - w[0]))
        .max_by_key(|&(i, gap)| (gap, std::cmp::Reverse(i)))?;
    (gap >= 3600).then_some(at)
}

/// Layers at the start made by steps with no instruction (`created_by` empty or
/// missing: an imported root filesystem), when a later layer has one; else 0.
fn leading_without_instruction(history: &[HistoryStep]) -> usize {
    let made: Vec<bool> = history
        .iter()
        .filter(|h| h.layer.is_some())
        .map(|h| {
            h.created_by
                .as_deref()
                .is_some_and(|c| !c.trim().is_empty())
        })
        .collect();
    let lead = made.iter().take_while(|&&has| !has).count();
    if lead < made.len() { lead } else { 0 }
}

/// Decide the boundary. Whatever the history rules say, a leading layer with no
/// instruction is the base's (only `--base-layers` overrides that).
pub fn boundary(a: &Analysis, flag: Option<usize>) -> Base {
    let n = a.layers.len();
    let lined_up = a.history_note.is_none() && !a.history.is_empty();
    let (layers, rule) = if let Some(f) = flag {
        (f.min(n), BaseRule::Flag)
    } else if let Some(b) = a.image.base_layers.filter(|&b| b <= n) {
        (b, BaseRule::Annotation)
    } else if let Some(b) = by_history(&a.history).filter(|_| lined_up) {
        (b, BaseRule::History)
    } else if let Some(b) = by_buildkit(&a.history).filter(|_| lined_up) {
        (b, BaseRule::BuildKit)
    } else if let Some(b) = by_created_gap(&a.history).filter(|_| lined_up) {
        (b, BaseRule::CreatedGap)
    } else {
        (0, BaseRule::Unknown)
    };
    let lead = if lined_up {
        leading_without_instruction(&a.history)
    } else {
        0
    };
    let (layers, rule) = if rule != BaseRule::Flag && lead > layers {
        (lead, BaseRule::NoInstruction)
    } else {
        (layers, rule)
    };
    Base {
        layers,
        rule,
        name: a.image.base_name.clone(),
        digest: a.image.base_digest.clone(),
    }
}

/// Official images with a `-slim` variant: repository, the version variable their
/// Dockerfiles set, and how many parts of that version their tags keep.
const SLIM_FAMILIES: [(&str, &str, usize); 4] = [
    ("python", "PYTHON_VERSION=", 2),
    ("node", "NODE_VERSION=", 1),
    ("ruby", "RUBY_VERSION=", 2),
    ("php", "PHP_VERSION=", 2),
];

/// The slim variant of an image name: `python:3.12` → `python:3.12-slim`,
/// `docker.io/library/python:3.12-bookworm` → `python:3.12-slim-bookworm`; `None` for
/// other repositories, or a slim or alpine tag already.
fn slim_of_name(name: &str) -> Option<String> {
    let short = name.rsplit('/').next()?.split('@').next()?;
    let (repo, tag) = short.split_once(':')?;
    if !SLIM_FAMILIES.iter().any(|f| f.0 == repo) || tag.contains("slim") || tag.contains("alpine")
    {
        return None;
    }
    Some(match tag.split_once('-') {
        Some((v, distro)) => format!("{repo}:{v}-slim-{distro}"),
        None => format!("{repo}:{tag}-slim"),
    })
}

/// The slim variant an official image's history names by its version variable:
/// `ENV PYTHON_VERSION=3.12.7` → `python:3.12-slim`.
fn slim_of_step(created_by: &str) -> Option<String> {
    SLIM_FAMILIES.iter().find_map(|&(repo, var, parts)| {
        let at = created_by.find(var)? + var.len();
        let version: Vec<&str> = created_by[at..]
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .next()?
            .split('.')
            .take(parts)
            .collect();
        (!version[0].is_empty()).then(|| format!("{repo}:{}-slim", version.join(".")))
    })
}

/// The slim variant of the base, when its name (`python:3.12`) or history (`ENV
/// PYTHON_VERSION=3.12.7`) tells it.
pub fn slim_variant(base: &Base, history: &[HistoryStep]) -> Option<String> {
    base.name.as_deref().and_then(slim_of_name).or_else(|| {
        history
            .iter()
            .find_map(|h| h.created_by.as_deref().and_then(slim_of_step))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(created_by: &str, layer: Option<usize>, created: &str) -> HistoryStep {
        HistoryStep {
            created_by: Some(created_by.to_string()),
            created: Some(created.to_string()),
            comment: None,
            empty_layer: layer.is_none(),
            layer,
        }
    }

    #[test]
    fn the_base_ends_at_its_last_cmd_before_your_layers() {
        let t = "2024-01-01T00:00:00Z";
        let h = vec![
            step("/bin/sh -c #(nop) ADD file:abc in /", Some(0), t),
            step("/bin/sh -c #(nop)  CMD [\"bash\"]", None, t),
            step(
                "RUN /bin/sh -c apt-get install python3 # buildkit",
                Some(1),
                t,
            ),
            step("CMD [\"python3\"]", None, t),
            step("WORKDIR /app", None, t),
            step("COPY . /app # buildkit", Some(2), t),
            step(
                "RUN /bin/sh -c pip install -r req.txt # buildkit",
                Some(3),
                t,
            ),
            step("CMD [\"python\", \"main.py\"]", None, t),
        ];
        assert_eq!(by_history(&h), Some(2));
        // A CMD at the very end (yours) is followed by no layer: not a boundary.
        assert_eq!(by_history(&h[..2]), None);
    }

    #[test]
    fn only_the_last_steps_built_by_buildkit_are_yours() {
        let t = "2024-01-01T00:00:00Z";
        let kit = |by: &str, layer| HistoryStep {
            comment: Some(BUILDKIT.to_string()),
            ..step(by, layer, t)
        };
        let h = vec![
            step("/bin/sh -c #(nop) ADD file:abc in /", Some(0), t),
            step("/bin/sh -c apt-get install -y python3", Some(1), t),
            kit("WORKDIR /app", None),
            kit("COPY . /app # buildkit", Some(2)),
            kit("RUN /bin/sh -c pip install . # buildkit", Some(3)),
        ];
        assert_eq!(by_buildkit(&h), Some(2));
        // A base built by BuildKit too: the comment tells nothing.
        let mut all = h.clone();
        all[0] = kit("ADD file:abc in /", Some(0));
        all[1] = kit("RUN /bin/sh -c apt-get install -y python3", Some(1));
        assert_eq!(by_buildkit(&all), None);
        // Nothing of yours after the base.
        assert_eq!(by_buildkit(&h[..3]), None);
    }

    #[test]
    fn a_gap_in_created_times_splits_base_and_yours() {
        let h = vec![
            step("ADD rootfs /", Some(0), "2023-06-01T10:00:00Z"),
            step("RUN a", Some(1), "2023-06-01T10:05:00.5+00:00"),
            step("COPY . /app", Some(2), "2024-02-03T08:00:00+01:00"),
            step("RUN b", Some(3), "2024-02-03T08:01:00+01:00"),
        ];
        assert_eq!(by_created_gap(&h), Some(2));
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_seconds("1970-01-02T01:00:00+01:00"), Some(86_400));
        assert_eq!(epoch_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(epoch_seconds("yesterday"), None);
    }

    #[test]
    fn leading_layers_without_an_instruction_are_the_base() {
        let t = "2024-01-01T00:00:00Z";
        let imported = |layer| HistoryStep {
            created_by: Some(String::new()),
            ..step("", Some(layer), t)
        };
        let h = vec![
            imported(0),
            step("/bin/sh -c apt-get install -y gcc", Some(1), t),
            step("COPY . /app", Some(2), t),
        ];
        assert_eq!(leading_without_instruction(&h), 1);
        // A missing created_by is no instruction either.
        let mut none = h.clone();
        none[0].created_by = None;
        assert_eq!(leading_without_instruction(&none), 1);
        // Nothing has an instruction: nothing tells base from yours.
        assert_eq!(leading_without_instruction(&[imported(0), imported(1)]), 0);
        assert_eq!(leading_without_instruction(&h[1..]), 0);
    }

    #[test]
    fn the_slim_variant_is_named_from_the_base_name_or_history() {
        assert_eq!(
            slim_of_name("python:3.12").as_deref(),
            Some("python:3.12-slim")
        );
        assert_eq!(
            slim_of_name("docker.io/library/python:3.12-bookworm").as_deref(),
            Some("python:3.12-slim-bookworm")
        );
        assert_eq!(
            slim_of_name("node:20@sha256:abc").as_deref(),
            Some("node:20-slim")
        );
        assert_eq!(slim_of_name("python:3.12-slim"), None);
        assert_eq!(slim_of_name("python:3.12-alpine"), None);
        assert_eq!(slim_of_name("debian:bookworm"), None);
        assert_eq!(slim_of_name("python"), None);
        assert_eq!(
            slim_of_step("/bin/sh -c #(nop)  ENV PYTHON_VERSION=3.12.7").as_deref(),
            Some("python:3.12-slim")
        );
        assert_eq!(
            slim_of_step("ENV NODE_VERSION=20.11.1").as_deref(),
            Some("node:20-slim")
        );
        assert_eq!(slim_of_step("ENV PYTHON_VERSION="), None);
        assert_eq!(slim_of_step("RUN apt-get install -y python3"), None);
    }
}
