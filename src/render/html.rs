//! The HTML report (`--format html`): one self-contained page for a report, a diff or a
//! fleet.
//! The page is a fixed shell around the document `--format json` prints, embedded as
//! data, and the script and style sheet built from `html/web/` (committed minified in
//! `html/web/dist/`, rebuilt by `npm run build` there; its README says how). The
//! script draws everything from the embedded data, so this renderer computes nothing.
//!
//! Nothing leaves the page: the Content-Security-Policy allows no fetch, frame, font
//! or image source but inline `data:`, and no script but the page's own, by its hash. Text from the image reaches the page only as
//! JSON data (with every `<` written `\u003c`, so no string can close the `<script>`
//! element) and the script inserts it as text, never as markup.

use std::io::{self, Write};

use super::diff_view::side_name;
use super::junit::xml_escape;
use super::{Document, Renderer, format, json};

/// The page's script: the treemap layout (d3-hierarchy) and the views.
const SCRIPT: &str = include_str!("html/web/dist/imgsize.js");
/// The page's style sheet.
const STYLE: &str = include_str!("html/web/dist/imgsize.css");

/// Renders a report, a diff or a fleet as one HTML page.
pub struct Html;

impl Renderer for Html {
    fn render(&self, d: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        // The data first, so an unsupported document writes nothing.
        let mut data = Vec::new();
        let (kind, title) = match d {
            Document::Report(r) => {
                json::report_compact(r, &mut ScriptSafe(&mut data))?;
                let image = &r.image;
                (
                    "report",
                    image
                        .reference
                        .as_deref()
                        .unwrap_or(&image.source)
                        .to_string(),
                )
            }
            Document::Diff(d) => {
                json::diff_compact(d, &mut ScriptSafe(&mut data))?;
                (
                    "diff",
                    format!("{} → {}", side_name(&d.old), side_name(&d.new)),
                )
            }
            Document::Fleet(f, _) => {
                json::fleet_compact(f, &mut ScriptSafe(&mut data))?;
                ("fleet", format!("fleet of {} images", f.totals.images))
            }
            Document::Explain(..) => {
                return Err(super::unsupported(
                    "--format html shows report, diff and fleet; explain is table or json",
                ));
            }
            Document::Check(..) => {
                return Err(super::unsupported(
                    "--format html shows report, diff and fleet; check is table, json, markdown, junit or sarif",
                ));
            }
        };
        write!(
            out,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
             <meta name=\"generator\" content=\"imgsize {}\">\n\
             <title>imgsize: {}</title>\n<style>{STYLE}</style>\n</head><body>\n\
             <noscript>This report needs JavaScript; the same figures are in \
             <code>imgsize {kind} --format json</code>.</noscript>\n\
             <script type=\"application/json\" id=\"imgsize-data\" data-kind=\"{kind}\">",
            csp(),
            env!("CARGO_PKG_VERSION"),
            escape(&title),
        )?;
        out.write_all(&data)?;
        write!(
            out,
            "</script>\n<script>{SCRIPT}</script>\n</body></html>\n"
        )
    }
}

/// The page's Content-Security-Policy: no network, no plugins, no frames, `data:`
/// images, inline style, and one script, the page's own, allowed by its SHA-256. Even
/// markup that got into the page could run no script of its own: no `<script>`, no
/// `onerror=` handler, no `javascript:` link.
fn csp() -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'; \
         img-src data:; base-uri 'none'; form-action 'none'"
    )
}

/// Text as HTML character data: control and bidi characters made visible
/// ([`format::visible`]), then escaped as for XML, which HTML reads the same.
fn escape(text: &str) -> String {
    xml_escape(&format::visible(text))
}

/// Writes JSON with every `<` as `\u003c`. JSON has `<` only inside strings, where the
/// escape means the same character, so the data is unchanged, and no `</script>` or
/// `<!--` can appear in the element's text.
struct ScriptSafe<'a>(&'a mut Vec<u8>);

impl Write for ScriptSafe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for chunk in buf.split_inclusive(|&b| b == b'<') {
            match chunk.split_last() {
                Some((b'<', head)) => {
                    self.0.extend_from_slice(head);
                    self.0.extend_from_slice(b"\\u003c");
                }
                _ => self.0.extend_from_slice(chunk),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_its_script_element() {
        let mut out = Vec::new();
        let json = serde_json::to_vec(&serde_json::json!({
            "path": "</script><script>alert(1)</script><!--",
        }))
        .expect("json");
        ScriptSafe(&mut out).write_all(&json).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(!text.contains('<'), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back["path"], "</script><script>alert(1)</script><!--");
    }

    #[test]
    fn titles_are_escaped_text() {
        assert_eq!(
            escape("a<b>&\"c'\u{1b}[31m"),
            "a&lt;b&gt;&amp;&quot;c&apos;\\x1b[31m"
        );
    }
}
