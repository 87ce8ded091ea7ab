//! Markdown's text forms: text from an image made visible and escaped for HTML and a
//! table cell, inline code, imgsize's own prose, and table rows and headers. Shared by
//! the report and check (`markdown`) and the diff (`markdown_diff`).

use std::io::{self, Write};

use super::format::visible;

/// Text made [`visible`] (line breaks and other controls become `\n`, `\x1b`, …),
/// then escaped for HTML and for a table cell (`|` too).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '\\' => out.push_str("&#92;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            c => out.push(c),
        }
    }
    out
}

/// imgsize's own text (a fix, with its `code` spans kept) on one line, the paths it
/// quotes made [`visible`]. (Entities would show literally inside code spans; the
/// text holds no markup to escape.)
pub fn prose(text: &str) -> String {
    visible(text).into_owned()
}

/// Text from an image as inline code.
pub fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

/// One table row of cells (already escaped).
pub fn row(out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    writeln!(out, "| {} |", cells.join(" | "))
}

/// A table header and its alignment row; `right` marks right-aligned columns.
pub fn header(out: &mut dyn Write, names: &[&str], right: &[usize]) -> io::Result<()> {
    writeln!(out, "| {} |", names.join(" | "))?;
    let align: Vec<&str> = (0..names.len())
        .map(|i| if right.contains(&i) { "---:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", align.join("|"))
}
