//! JUnit XML for `imgsize check` (`--format junit`): one testcase per limit, a failure
//! carrying the headline and the lines that explain it, a skipped limit as skipped.
//! CI systems (GitLab, Jenkins, Azure) show it as a test report. Every text is escaped
//! for XML 1.0, characters it cannot hold included; text from the image or the budget
//! is made [`visible`] first, like in every format people read.

use std::io::{self, Write};

use super::format::visible;
use super::{Document, Renderer, verdict};
use crate::analyze::budget::Origin;
use crate::analyze::{Report, Status, Verdict};

/// Renders a check verdict as JUnit XML.
pub struct Junit;

/// Text escaped for an XML attribute or element; characters XML 1.0 forbids become
/// `\u{..}` text.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn check(r: &Report, v: &Verdict, out: &mut dyn Write) -> io::Result<()> {
    let tests = v.outcomes.len();
    let failures = v.failed();
    let skipped = v
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Skipped)
        .count();
    let name = xml_escape(&format!(
        "imgsize check {}",
        visible(r.image.reference.as_deref().unwrap_or(&r.image.source))
    ));
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="imgsize" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{name}" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#
    )?;
    for o in &v.outcomes {
        let key = xml_escape(&visible(&o.limit.metric.key()));
        let place = match &o.limit.origin {
            Origin::File { file, line } => {
                format!(r#" file="{}" line="{line}""#, xml_escape(&visible(file)))
            }
            Origin::Flag => String::new(),
        };
        write!(
            out,
            r#"    <testcase classname="imgsize.budget" name="{key}"{place}"#
        )?;
        match o.status {
            Status::Pass => writeln!(out, "/>")?,
            Status::Skipped => writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                xml_escape(&visible(o.note.as_deref().unwrap_or("not measured")))
            )?,
            Status::Fail => {
                let body = verdict::explanation(o, r, 200).join("\n");
                writeln!(
                    out,
                    ">\n      <failure type=\"budget\" message=\"{}\">{}</failure>\n    </testcase>",
                    xml_escape(&verdict::headline(o)),
                    xml_escape(&body)
                )?
            }
        }
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

impl Renderer for Junit {
    fn render(&self, doc: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        match doc {
            Document::Check(r, v) => check(r, v, out),
            _ => Err(super::unsupported("--format junit is for imgsize check")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::xml_escape;

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(xml_escape("x\u{1b}[31m"), "x\\u{1b}[31m");
        assert_eq!(xml_escape("tab\tok"), "tab\tok");
    }
}
