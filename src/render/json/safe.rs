//! Every JSON document imgsize writes goes through here: serde_json escapes only the
//! C0 controls, so a path or a history line holding U+202E, another bidirectional
//! control, U+2028/2029, a C1 control or DEL would reach `cat report.json`, `jq .` or a
//! CI log raw, and reverse or inject text there. [`Safe`] writes every character
//! `model::text::hidden` names as a `\uXXXX` escape: the parsed strings are the same,
//! the bytes hold none of them (docs/security.md).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter, Serializer};

use crate::model::text::hidden;

/// A formatter that escapes the characters a terminal must not see, around another
/// (compact or pretty) that decides the layout.
struct Safe<F>(F);

impl<F: Formatter> Formatter for Safe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if hidden(c) {
                w.write_all(&fragment.as_bytes()[start..at])?;
                write!(w, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Write `value` as compact JSON.
pub fn write_compact<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut ser = Serializer::with_formatter(out, Safe(CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Write `value` as indented JSON (two spaces, as serde_json's pretty printer).
pub fn write_pretty<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut ser = Serializer::with_formatter(out, Safe(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// `value` as one line of compact JSON.
pub fn to_line<T: Serialize + ?Sized>(value: &T) -> io::Result<String> {
    let mut out = Vec::new();
    write_compact(&mut out, value)?;
    String::from_utf8(out).map_err(io::Error::other)
}

/// `value` as indented JSON.
pub fn to_pretty<T: Serialize + ?Sized>(value: &T) -> io::Result<String> {
    let mut out = Vec::new();
    write_pretty(&mut out, value)?;
    String::from_utf8(out).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn hidden_characters_are_escapes_and_parse_back() {
        let text = "a\u{202e}b\u{2028}c\u{85}d\u{7f}e\u{61c}f\u{200f}g\u{2066}h\n\u{1b}é中";
        let value = json!({ "path": text, "list": [text] });
        for written in [
            to_line(&value).expect("line"),
            to_pretty(&value).expect("pretty"),
        ] {
            for c in written.chars() {
                assert!(!hidden(c) || c == '\n', "{c:?} raw in {written:?}");
            }
            assert!(
                written.contains("\\u202e") && written.contains("\\u0085"),
                "{written}"
            );
            assert!(written.contains('é') && written.contains('中'), "{written}");
            let back: Value = serde_json::from_str(&written).expect("JSON");
            assert_eq!(back, value);
        }
        assert_eq!(
            to_pretty(&value).expect("pretty"),
            serde_json::to_string_pretty(&json!({ "path": "x", "list": ["x"] }))
                .expect("pretty")
                .replace(
                    "\"x\"",
                    "\"a\\u202eb\\u2028c\\u0085d\\u007fe\\u061cf\\u200fg\\u2066h\\n\\u001bé中\""
                ),
            "the layout is serde_json's"
        );
    }
}
