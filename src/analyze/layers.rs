//! The layer table: each layer's descriptor, figures and error, the history step that
//! made it with its instruction in Dockerfile form, and the build's steps in order.

use super::base::Base;
use super::instruction::instruction;
use crate::bytes::Compression;
use crate::model::{Analysis, HistoryStep};

/// One layer with its figures and instruction.
#[derive(Debug, Clone, Default)]
pub struct LayerRow {
    pub index: usize,
    pub digest: Option<String>,
    pub diff_id: Option<String>,
    pub media_type: Option<String>,
    pub compression: Option<Compression>,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub added_bytes: u64,
    pub content_bytes: u64,
    pub wasted_bytes: u64,
    /// Regular files in this layer's tar.
    pub files: u64,
    pub entries: u64,
    pub created_by: Option<String>,
    /// `created_by` in Dockerfile form (see [`instruction()`]).
    pub instruction: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    /// Why this layer could not be read.
    pub error: Option<String>,
    /// The layer is the base image's, not yours.
    pub base: bool,
}

impl LayerRow {
    /// One of your layers made by `COPY` or `ADD` (but not an `ADD` of a root
    /// filesystem to `/`): what it adds is the application, unless a category rule
    /// claims it.
    pub fn is_app(&self) -> bool {
        let Some(i) = self.instruction.as_deref().filter(|_| !self.base) else {
            return false;
        };
        i.starts_with("COPY ") || (i.starts_with("ADD ") && !i.trim_end().ends_with(" /"))
    }
}

/// A step of the build in order: a layer, or an instruction that made none.
#[derive(Debug, Clone)]
pub enum Step {
    /// Index into [`super::Report::layers`].
    Layer(usize),
    /// A metadata-only instruction (ENV, CMD, LABEL, ...), with its Dockerfile form.
    Empty {
        step: HistoryStep,
        instruction: String,
        /// Its position in the history.
        history: usize,
    },
}

/// The layer rows, history attached where it lines up.
pub fn rows(a: &Analysis, base: &Base) -> Vec<LayerRow> {
    let mut rows: Vec<LayerRow> = a
        .layers
        .iter()
        .zip(&a.figures)
        .map(|(l, f)| LayerRow {
            index: l.index,
            digest: l.digest.clone(),
            diff_id: l.diff_id.clone(),
            media_type: l.media_type.clone(),
            compression: f.compression,
            compressed_bytes: f.compressed_bytes,
            uncompressed_bytes: f.uncompressed_bytes,
            added_bytes: f.added_bytes,
            content_bytes: f.content_bytes,
            wasted_bytes: f.added_bytes - f.content_bytes.min(f.added_bytes),
            files: f.counts.files,
            entries: f.entries,
            base: base.holds(l.index),
            ..LayerRow::default()
        })
        .collect();
    for e in &a.layer_errors {
        if let Some(row) = rows.get_mut(e.index) {
            row.error = Some(e.kind.to_string());
        }
    }
    for h in &a.history {
        if let Some(row) = h.layer.and_then(|i| rows.get_mut(i)) {
            row.created_by.clone_from(&h.created_by);
            row.instruction = h.created_by.as_deref().map(instruction);
            row.created.clone_from(&h.created);
            row.comment.clone_from(&h.comment);
        }
    }
    rows
}

/// The build's steps in history order; without a usable history, the layers alone.
pub fn steps(a: &Analysis, layers: usize) -> Vec<Step> {
    if a.history_note.is_some() || a.history.is_empty() {
        return (0..layers).map(Step::Layer).collect();
    }
    a.history
        .iter()
        .enumerate()
        .filter_map(|(k, h)| match h.layer {
            Some(i) if i < layers => Some(Step::Layer(i)),
            _ if h.empty_layer => Some(Step::Empty {
                step: h.clone(),
                instruction: h.created_by.as_deref().map(instruction).unwrap_or_default(),
                history: k,
            }),
            _ => None,
        })
        .collect()
}
