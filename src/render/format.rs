//! Formatting shared by the renderers: sizes with aligned decimals, percentages, short
//! digests, text cut to a width, layer lists and the remainder row's label. Plain
//! functions from values to strings; no figure is computed here.

use humansize::{DECIMAL, format_size};

use crate::analyze::{BaseRule, TopN};
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

/// A signed change in bytes, as [`size`] with its sign: `+1.20 MB`, `-3 B`, `0 B`.
pub fn signed_size(delta: i64) -> String {
    match delta {
        0 => "0 B".to_string(),
        d if d > 0 => format!("+{}", size(d.unsigned_abs())),
        d => format!("-{}", size(d.unsigned_abs())),
    }
}

/// The first 12 hex digits of a digest, or a dash.
pub fn short_digest(d: Option<&str>) -> String {
    match d {
        Some(d) => {
            let hex = d.split_once(':').map(|(_, h)| h).unwrap_or(d);
            hex.chars().take(12).collect()
        }
        None => "-".to_string(),
    }
}

/// An instruction with the Dockerfile line in front (`Dockerfile:12 RUN ...`), when
/// there is one.
pub fn at_line(file_line: Option<(&str, usize)>, instruction: Option<&str>) -> String {
    let text = instruction.unwrap_or("-");
    match file_line {
        Some((file, line)) => format!("{file}:{line} {text}"),
        None => text.to_string(),
    }
}

/// Cut text to `max` characters, marking the cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
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
        p.to_string()
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
    fn remainder_label_names_the_flag() {
        let t = TopN::cut(vec![3u64, 2, 1], 1, |&b| b);
        assert_eq!(
            rest_label(&t).as_deref(),
            Some("… 2 more (--top 3 shows them)")
        );
        assert_eq!(rest_label(&TopN::cut(vec![1u64], 5, |&b| b)), None);
    }
}
