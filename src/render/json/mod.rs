//! The JSON contract for dashboards and scripts. Field by field in docs/json.md; the
//! schema is docs/imgsize-report.schema.json. Integers are raw bytes. Any change that
//! removes or retypes a field bumps [`SCHEMA_VERSION`]; adding fields does not.
//!
//! One file per document, each with its own output types and the small functions that
//! fill them from the analysis: the report (`report`, also embedded whole in a check
//! verdict), the explanation (`explain`), the check verdict (`check`), the diff
//! (`diff`), the one-line records of `imgsize scan` (`scan`) and the fleet report
//! (`fleet`); what several
//! documents share (`tool`, a Dockerfile line, the bytes of a layer or a path) in
//! `shared`, defined once. This module only picks the document and prints it.

mod check;
mod diff;
mod explain;
mod fleet;
mod report;
pub mod safe;
mod scan;
mod shared;

use std::io::{self, Write};

use super::{Document, Renderer};
use crate::analyze::{Diff, Report};

pub use fleet::fleet_compact;
pub use scan::{RECORD_CATEGORIES, error_record, record};

/// Version of the JSON contract.
pub const SCHEMA_VERSION: u32 = 1;

/// A report as compact JSON, the document `--format json` prints: what the HTML
/// report embeds.
pub(crate) fn report_compact(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    safe::write_compact(out, &report::doc(r))
}

/// A diff as compact JSON, for the HTML diff.
pub(crate) fn diff_compact(d: &Diff, out: &mut dyn Write) -> io::Result<()> {
    safe::write_compact(out, &diff::diff_doc(d))
}

/// Renders documents as one pretty-printed JSON document each (`--format json`).
pub struct Json;

impl Renderer for Json {
    fn render(&self, d: &Document<'_>, out: &mut dyn Write) -> io::Result<()> {
        match d {
            Document::Report(r) => safe::write_pretty(&mut *out, &report::doc(r))?,
            Document::Explain(_, e) => safe::write_pretty(&mut *out, &explain::explain_doc(e))?,
            Document::Check(r, v) => safe::write_pretty(&mut *out, &check::check_doc(r, v))?,
            Document::Diff(d) => safe::write_pretty(&mut *out, &diff::diff_doc(d))?,
            Document::Fleet(f, _) => safe::write_pretty(&mut *out, &fleet::fleet_doc(f))?,
        }
        out.write_all(b"\n")
    }
}
