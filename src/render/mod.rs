//! Renderers: one per output format behind [`Renderer`], each writing a [`Document`]
//! into any `Write`. They format and print; they never compute figures: everything
//! they show is in the document. Shared formatting (sizes, digests, clipping, the
//! remainder row's label) lives in [`format`], for every renderer to use.

pub mod format;
pub mod json;
pub mod table;

use std::io::{self, Write};

use crate::analyze::{Explanation, Report};

/// What a command hands a renderer. A check verdict and a diff of two reports will be
/// variants of their own; a renderer that cannot show a variant says so with an
/// [`io::ErrorKind::Unsupported`] error.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Document<'a> {
    /// `imgsize report`.
    Report(&'a Report),
    /// `imgsize explain`: one path's history, with the report it comes from.
    Explain(&'a Report, &'a Explanation),
}

/// Prints a document in one format.
pub trait Renderer {
    fn render(&self, doc: &Document<'_>, out: &mut dyn Write) -> io::Result<()>;
}

pub use json::Json;
pub use table::Table;
