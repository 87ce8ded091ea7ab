//! Renderers: one per output format behind [`Renderer`], each writing a [`Document`]
//! into any `Write`. They format and print; they never compute figures: everything
//! they show is in the document. Shared formatting (sizes, digests, clipping, the
//! remainder row's label) lives in [`format`], for every renderer to use.

pub mod budget_file;
pub mod diff_table;
pub mod diff_view;
pub mod fleet_view;
pub mod format;
pub mod github;
pub mod grid;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod markdown_diff;
pub mod markdown_text;
pub mod patch;
pub mod sarif;
pub mod table;
pub mod verdict;

use std::io::{self, Write};

use crate::analyze::{Diff, Explanation, Report, Verdict};
use crate::model::fleet::Fleet;

/// What a command hands a renderer: a report, or a result of its own kind (an
/// explanation, a check verdict, a diff of two reports); a renderer that cannot show a
/// variant says so with an [`io::ErrorKind::Unsupported`] error.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Document<'a> {
    /// `imgsize report`.
    Report(&'a Report),
    /// `imgsize explain`: one path's history, with the report it comes from.
    Explain(&'a Report, &'a Explanation),
    /// `imgsize check`: the verdict against a budget, with the report it judged.
    Check(&'a Report, &'a Verdict),
    /// `imgsize diff`: what changed from one report to another.
    Diff(&'a Diff),
    /// `imgsize fleet`: many images' records summed, the human formats' lists cut to
    /// this many rows.
    Fleet(&'a Fleet, usize),
}

/// The error of a renderer asked for a document it cannot show.
pub(crate) fn unsupported(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, message)
}

/// Prints a document in one format.
pub trait Renderer {
    fn render(&self, doc: &Document<'_>, out: &mut dyn Write) -> io::Result<()>;
}

pub use github::Github;
pub use html::Html;
pub use json::Json;
pub use junit::Junit;
pub use markdown::Markdown;
pub use sarif::Sarif;
pub use table::Table;
