//! Renderers: one per output format behind [`Renderer`], each writing a computed
//! [`Report`] into any `Write`. They format and print; they never compute figures.

pub mod json;
pub mod table;

use std::io::{self, Write};

use crate::analyze::Report;

/// Prints a report in one format.
pub trait Renderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

pub use json::Json;
pub use table::Text;
