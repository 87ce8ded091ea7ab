//! Formatting shared by the renderers: sizes with aligned decimals, percentages, short
//! digests, text cut to a width, layer lists and the remainder row's label, and
//! [`visible`], which makes text from an image or a registry safe to print to a
//! terminal. Plain functions from values to strings; no figure is computed here.

use std::borrow::Cow;
use std::fmt::Write as _;

use humansize::{DECIMAL, format_size};

use crate::analyze::{BaseRule, Report, Rule, Scope, TopN};
use crate::model::Platform;

/// Human size with fixed decimals, so a column lines up (`879.00 kB`, `1.20 MB`).
pub fn size(bytes: u64) -> String {
    if bytes < 1000 {
        format!("{bytes} B")
    } else {
        format_size(bytes, DECIMAL.decimal_zeroes(2))
    }
}

/// Like [`size`], but a dash for nothing.
pub fn size_or_dash(bytes: u64) -> String {
    if bytes == 0 {
        "-".to_string()
    } else {
        size(bytes)
    }
}

/// `part` of `whole` with one decimal, or a dash when there is no whole.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// One of the two headline projections, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    /// `after your fixes`, `with a multi-stage build`, `with a slim base`.
    pub label: &'static str,
    /// Stored bytes after the change.
    pub stored: u64,
    pub saved: u64,
    /// The change that gets there.
    pub how: String,
}

/// The report's headline projections: every edit of your RUN/COPY lines, and the
/// structural change (multi-stage or slim base) when there is one. Empty without
/// suggestions.
pub fn headlines(r: &Report) -> Vec<Headline> {
    let f = &r.findings;
    let mut out = Vec::new();
    let edits = f
        .rows
        .iter()
        .filter(|x| x.scope == Scope::Yours && x.rule != Rule::MultiStage && x.bytes > 0)
        .count();
    if edits > 0 {
        out.push(Headline {
            label: "after your fixes",
            stored: f.fixes.stored_bytes,
            saved: f.fixes.saved_bytes,
            how: format!(
                "{edits} {} of your RUN/COPY lines",
                if edits == 1 { "edit" } else { "edits" }
            ),
        });
    }
    if let Some(s) = &f.structural {
        let (label, how) = match (s.rule, &s.runtime_base) {
            (Rule::MultiStage, Some(name)) => (
                "with a multi-stage build",
                format!("a runtime stage on {}", visible(name)),
            ),
            (Rule::MultiStage, None) if s.slim_base => (
                "with a multi-stage build",
                "a runtime stage on the base's slim variant".to_string(),
            ),
            (Rule::MultiStage, None) => (
                "with a multi-stage build",
                "a runtime stage on the same base, without the build tools".to_string(),
            ),
            _ => ("with a slim base", "the base's slim variant".to_string()),
        };
        out.push(Headline {
            label,
            stored: s.projection.stored_bytes,
            saved: s.projection.saved_bytes,
            how,
        });
    }
    out
}

/// A signed change in bytes, as [`size`] with its sign: `+1.20 MB`, `-3 B`, `0 B`.
pub fn signed_size(delta: i64) -> String {
    match delta {
        0 => "0 B".to_string(),
        d if d > 0 => format!("+{}", size(d.unsigned_abs())),
        d => format!("-{}", size(d.unsigned_abs())),
    }
}

/// The first 12 hex digits of a digest, or a dash ([`visible`]: a saved report's
/// digest is anything).
pub fn short_digest(d: Option<&str>) -> String {
    match d {
        Some(d) => {
            let hex = d.split_once(':').map(|(_, h)| h).unwrap_or(d);
            let short: String = hex.chars().take(12).collect();
            visible(&short).into_owned()
        }
        None => "-".to_string(),
    }
}

/// An instruction with the Dockerfile line in front (`Dockerfile:12 RUN ...`), when
/// there is one; both made [`visible`].
pub fn at_line(file_line: Option<(&str, usize)>, instruction: Option<&str>) -> String {
    let text = visible(instruction.unwrap_or("-"));
    match file_line {
        Some((file, line)) => format!("{}:{line} {text}", visible(file)),
        None => text.into_owned(),
    }
}

/// Text from an image, a registry or a saved report made safe to print for people:
/// every character that a terminal would act on or that reorders what is shown
/// becomes visible text, as Rust writes it: `\n`, `\t`, `\r`, other C0 controls and
/// DEL as `\x1b`, C1 and Unicode controls as `\u{9b}`, `\u{202e}`. Everything else,
/// the backslash included, is kept, so paths stay readable and escaping twice changes
/// nothing (an escaped text can be told from a name holding a literal `\x1b` only in
/// the JSON output). Plain text comes back borrowed.
pub fn visible(text: &str) -> Cow<'_, str> {
    use crate::model::text::hidden;
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c < '\u{80}' && hidden(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Cut text to `max` characters, marking the cut; the text is made [`visible`] first,
/// so a cut never splits an escape from the character it stands for.
pub fn clip(text: &str, max: usize) -> String {
    let text = visible(text);
    if text.chars().count() <= max {
        return text.into_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Layer indexes, the first six and a count of the others: `0, 3, +2`.
pub fn layer_list(layers: &[(usize, u64)]) -> String {
    let mut s = String::new();
    for (i, (index, _)) in layers.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if i == 6 {
            s.push_str(&format!("+{}", layers.len() - 6));
            break;
        }
        s.push_str(&index.to_string());
    }
    s
}

/// A platform for people: `linux/arm64/v8`, or `unknown platform`.
pub fn platform(p: &Platform) -> String {
    if p.is_known() {
        visible(&p.to_string()).into_owned()
    } else {
        "unknown platform".to_string()
    }
}

/// How the base image's boundary was found, in words.
pub fn base_rule(rule: BaseRule) -> &'static str {
    match rule {
        BaseRule::Flag => "as --base-layers says",
        BaseRule::Annotation => "as the base-digest annotation's manifest, which the input holds",
        BaseRule::BuildKit => "ends where the steps BuildKit built begin",
        BaseRule::History => "ends at its last CMD/ENTRYPOINT in the history",
        BaseRule::CreatedGap => "ends at the gap in the history's creation times",
        BaseRule::NoInstruction => {
            "its first layers have no instruction (an imported root filesystem)"
        }
        BaseRule::Unknown => "not recognised",
    }
}

/// Layers `from..to` in words: `layer 3`, `layers 0-2`.
pub fn layer_span(from: usize, to: usize) -> String {
    match to.saturating_sub(from) {
        0 | 1 => format!("layer {from}"),
        _ => format!("layers {from}-{}", to - 1),
    }
}

/// The label of a top-N table's remainder row, naming the flag that shows the rest;
/// `None` when nothing was left out.
pub fn rest_label<R>(t: &TopN<R>) -> Option<String> {
    (t.rest.rows > 0).then(|| format!("… {} more (--top {} shows them)", t.rest.rows, t.all_rows()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_line_up() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1000), "1.00 kB");
        assert_eq!(size(879_000), "879.00 kB");
        assert_eq!(size(1_200_000), "1.20 MB");
        assert_eq!(size_or_dash(0), "-");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 0), "-");
    }

    #[test]
    fn digests_text_and_lists_are_cut() {
        assert_eq!(
            short_digest(Some("sha256:0123456789abcdef")),
            "0123456789ab"
        );
        assert_eq!(short_digest(None), "-");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 3), "abc");
        let many: Vec<(usize, u64)> = (0..9).map(|i| (i, 1)).collect();
        assert_eq!(layer_list(&many), "0, 1, 2, 3, 4, 5, +3");
    }

    #[test]
    fn plain_text_is_kept_and_borrowed() {
        for text in [
            "",
            "usr/lib/x86_64-linux-gnu",
            "C:\\dir\\x1b",
            "päth ✓ 日本",
            "\u{a0}x",
        ] {
            assert!(
                matches!(visible(text), Cow::Borrowed(t) if t == text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn every_control_class_is_escaped() {
        assert_eq!(visible("a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(visible("\u{1b}[31mred"), "\\x1b[31mred");
        assert_eq!(
            visible("\u{1b}]8;;http://x\u{7}link"),
            "\\x1b]8;;http://x\\x07link"
        );
        assert_eq!(visible("\u{0}\u{8}\u{1f}\u{7f}"), "\\x00\\x08\\x1f\\x7f");
        assert_eq!(visible("\u{80}\u{9b}\u{9f}"), "\\u{80}\\u{9b}\\u{9f}");
        for c in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}'] {
            assert_eq!(
                visible(&format!("a{c}b")),
                format!("a\\u{{{:x}}}b", c as u32)
            );
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert_eq!(visible(&format!("{c}")), format!("\\u{{{:x}}}", c as u32));
        }
        assert_eq!(
            visible("\u{200e}\u{200f}\u{61c}\u{2028}\u{2029}"),
            "\\u{200e}\\u{200f}\\u{61c}\\u{2028}\\u{2029}"
        );
        // Neighbours of the ranges stay as they are.
        let near = " ~\u{a0}\u{200d}\u{2027}\u{202f}\u{2065}\u{206a}\u{61b}";
        assert!(matches!(visible(near), Cow::Borrowed(_)));
    }

    #[test]
    fn escaping_twice_changes_nothing_and_clip_never_splits_an_escape() {
        let once = visible("x\u{1b}\u{202e}y").into_owned();
        assert_eq!(visible(&once), once);
        assert_eq!(clip("\u{1b}[31m", 3), "\\x…");
        assert!(!clip("\u{1b}\u{1b}\u{1b}", 2).contains('\u{1b}'));
        assert_eq!(
            at_line(Some(("Docker\u{7}file", 3)), Some("RUN \u{9b}")),
            "Docker\\x07file:3 RUN \\u{9b}"
        );
    }

    #[test]
    fn remainder_label_names_the_flag() {
        let t = TopN::cut(vec![3u64, 2, 1], 1, |&b| b);
        assert_eq!(
            rest_label(&t).as_deref(),
            Some("… 2 more (--top 3 shows them)")
        );
        assert_eq!(rest_label(&TopN::cut(vec![1u64], 5, |&b| b)), None);
    }
}
