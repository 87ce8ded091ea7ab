//! imgsize: where the bytes of a container image come from, and what would remove them.
//!
//! The data flows one way, and so do the imports (docs/architecture.md):
//!
//! ```text
//! bytes (ground floor) ← model ← source ← walk ← analyze ← render
//!                                  └──── pipeline ────┘
//! ```
//!
//! [`source`] opens an input and resolves one image, [`walk`] streams every layer
//! once (in parallel) into compact per-entry records, the [`model`]'s tree merges them,
//! [`analyze`] turns the model into figures and tables, and [`render`] prints them.
//! [`pipeline::run`] is the one function that sequences the stages; [`pipeline::check`],
//! [`pipeline::explain`] and [`pipeline::diff`] (two images or saved reports) build on it.
//! [`cache`] keeps walked layers on disk, by blob digest, for a later run to reuse.
//!
//! ```no_run
//! use imgsize::render::{Document, Json, Renderer};
//! let report = imgsize::run("image.tar", &imgsize::Options::default(), &imgsize::Hooks::default())?;
//! Json.render(&Document::Report(&report), &mut std::io::stdout())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod analyze;
pub mod bytes;
pub mod cache;
pub mod error;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod source;
pub mod walk;

pub use error::{Error, LayerError, LayerErrorKind, Result};
pub use pipeline::{CachePolicy, Hooks, Options, check, diff, explain, run};
