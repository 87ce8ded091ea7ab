//! imgsize: where the bytes of a container image come from, and what would remove them.
//!
//! The data flows one way: [`source`] opens an input and resolves one image, [`walk`]
//! streams every layer once (in parallel) into compact per-entry records and merges them
//! into the [`model`], [`analyze`] turns the model into figures and tables, and
//! [`report`] prints them.
//!
//! ```no_run
//! use imgsize::{analyze, report::{Json, Renderer}, source, walk};
//! let opened = source::open("image.tar", &source::SelectOptions::default(), &walk::NoProgress)?;
//! let analysis = walk::image::walk_image(opened, None, &walk::NoProgress);
//! let report = analyze::summarize(&analysis, &analyze::SummaryOptions::default());
//! Json.render(&report, &mut std::io::stdout())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod analyze;
pub mod error;
pub mod model;
pub mod report;
pub mod source;
pub mod walk;

pub use error::{Error, LayerError, LayerErrorKind, Result};

/// Open, walk and summarise an image in one call.
pub fn analyze_image(
    input: &str,
    select: &source::SelectOptions,
    summary: &analyze::SummaryOptions,
    progress: &dyn walk::Progress,
) -> Result<analyze::Report> {
    let opened = source::open(input, select, progress)?;
    let analysis = walk::image::walk_image(opened, None, progress);
    Ok(analyze::summarize(&analysis, summary))
}
