//! GitHub Actions workflow commands for `imgsize check` (printed when
//! `GITHUB_ACTIONS=true`): an `::error` per failed limit and a `::warning` per limit
//! that could not be checked, at the Dockerfile line of the layer it is about (or the
//! budget file's line), and a `::notice` per suggestion for your layers. Values are
//! escaped as the runner expects, so text from an image cannot end a command or start
//! another, and then made [`visible`], so that no control or bidi character reaches
//! the log.

use std::io::{self, Write};

use super::format::visible;
use super::verdict::{self, Place};
use super::{Document, Renderer};
use crate::analyze::{Report, Scope, Status, Verdict};

/// Renders a check verdict as workflow commands.
pub struct Github;

/// A command's message: `%`, CR and LF escaped as the runner expects, then every
/// other control or bidi character [`visible`].
fn data(text: &str) -> String {
    let text = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    visible(&text).into_owned()
}

/// A command's property value: also `:` and `,`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(
    out: &mut dyn Write,
    level: &str,
    place: Option<&Place>,
    title: &str,
    message: &str,
) -> io::Result<()> {
    let mut props = Vec::new();
    if let Some(p) = place {
        props.push(format!("file={}", property(&p.file)));
        if let Some(l) = p.line {
            props.push(format!("line={l}"));
        }
    }
    props.push(format!("title={}", property(title)));
    writeln!(out, "::{level} {}::{}", props.join(","), data(message))
}

fn check(r: &Report, v: &Verdict, out: &mut dyn Write) -> io::Result<()> {
    for o in &v.outcomes {
        let level = match o.status {
            Status::Pass => continue,
            Status::Fail => "error",
            Status::Skipped => "warning",
        };
        let title = format!("imgsize budget {}", o.limit.metric.key());
        let message = verdict::message(o, r);
        command(
            out,
            level,
            verdict::outcome_place(o, r).as_ref(),
            &title,
            &message,
        )?;
    }
    for f in r.findings.rows.iter().filter(|f| f.scope == Scope::Yours) {
        let place = verdict::layer_place(r, f.layer);
        let title = format!("imgsize: {}", f.title);
        command(
            out,
            "notice",
            place.as_ref(),
            &title,
            &verdict::finding_line(f),
        )?;
    }
    Ok(())
}

impl Renderer for Github {
    fn render(&self, doc: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        match doc {
            Document::Check(r, v) => check(r, v, out),
            _ => Err(super::unsupported(
                "workflow commands are for imgsize check",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{data, property};

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(data("::error::x"), "::error::x");
        assert_eq!(
            data("a\u{1b}]8;;http://x\u{7}\u{202e}\tb\nc"),
            "a\\x1b]8;;http://x\\x07\\u{202e}\\tb%0Ac"
        );
        assert_eq!(property("x\u{9b}:y"), "x\\u{9b}%3Ay");
    }
}
