//! What the rules read, and what they give: findings and projections.

use std::collections::HashMap;

use super::rule::{Rule, Scope};
use crate::analyze::base::Base;
use crate::analyze::categories::Atoms;
use crate::analyze::layers::LayerRow;
use crate::analyze::packages::Owners;
use crate::model::{Duplicates, FsTree, HistoryStep, ReAdd, StripFile};

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub scope: Scope,
    pub title: &'static str,
    /// The layer to change (for `multi-stage` and `full-base`, the one with most of
    /// the bytes).
    pub layer: usize,
    /// That layer's instruction, in Dockerfile form.
    pub instruction: Option<String>,
    /// The biggest directories (at depth 3) it covers, with their bytes.
    pub paths: Vec<(String, u64)>,
    /// How many such directories there are in all.
    pub path_count: usize,
    /// Stored bytes this fix alone removes.
    pub bytes: u64,
    /// Stored bytes it removes once the findings before it are applied.
    pub incremental_bytes: u64,
    /// Estimated compressed (pull) saving: each layer's own compression ratio, 1:1 for
    /// files that are compressed already (`.deb`, `.whl`, `.gz`, ...).
    pub compressed_bytes: u64,
    pub confidence: &'static str,
    pub fix: String,
    /// What a deleting fix removes, as absolute paths (`build-tree`: the build
    /// trees; `deleted-later`: what the later layer deleted); empty otherwise.
    pub targets: Vec<String>,
    /// What the fix removes, by atom (index into the classified atoms, bytes): how
    /// [`Findings::project`] counts several fixes together.
    pub removes: Vec<(u32, u64)>,
}

/// A projected size: what the image would store once a change is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Projection {
    /// `stored_bytes` after the change.
    pub stored_bytes: u64,
    /// What the change removes.
    pub saved_bytes: u64,
}

/// The best structural change: a multi-stage build (yours) or the base's slim variant
/// (base), whichever leads; one of them at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structural {
    pub rule: Rule,
    pub projection: Projection,
    /// The runtime stage starts from the base's slim variant (the build-only closure,
    /// dev files, caches and hidden bytes of the base left out), not the base itself.
    pub slim_base: bool,
    /// The slim variant by name, when the base's name or history tells it
    /// (`python:3.12-slim` for `python:3.12`).
    pub runtime_base: Option<String>,
    /// What the runtime stage of a multi-stage build installs and copies.
    pub recipe: Option<Recipe>,
}

/// A runtime stage's making: the packages it installs by name (with
/// `--no-install-recommends`) and the paths it copies whole from the build stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipe {
    /// dpkg packages your layers installed that the runtime needs, by name.
    pub packages: Vec<String>,
    /// Absolute paths to copy from the build stage, with the kept bytes under each.
    pub copies: Vec<(String, u64)>,
    /// Paths beyond the copies written (the smallest), and their bytes.
    pub more: usize,
    pub more_bytes: u64,
    /// The build stage's fixes (of [`super::BUILD_STAGE_FIXES`]) that keep files out of
    /// the copies.
    pub build_fixes: Vec<Rule>,
}

/// All findings, in the order their incremental savings are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub rows: Vec<Finding>,
    /// Σ incremental_bytes of your findings: what applying them removes.
    pub saved_bytes: u64,
    /// `stored_bytes` once every fix to your layers is applied.
    pub stored_after: u64,
    /// Σ incremental_bytes of the base-scope findings, on top of yours.
    pub base_saved_bytes: u64,
    /// Every edit of your RUN/COPY lines together (no structural change).
    pub fixes: Projection,
    /// The multi-stage build or slim base, alone.
    pub structural: Option<Structural>,
    /// The image's stored bytes, before any fix.
    pub stored: u64,
}

impl Findings {
    /// The projected size once `rows` are applied together: of each atom, the most
    /// any of them removes (so overlapping fixes count their bytes once).
    pub fn project<'a>(&self, rows: impl IntoIterator<Item = &'a Finding>) -> Projection {
        let mut removed: HashMap<u32, u64> = HashMap::new();
        for f in rows {
            for &(atom, bytes) in &f.removes {
                let r = removed.entry(atom).or_default();
                *r = (*r).max(bytes);
            }
        }
        let saved: u64 = removed.values().sum();
        Projection {
            stored_bytes: self.stored.saturating_sub(saved),
            saved_bytes: saved,
        }
    }
}

/// What the rules read besides the atoms.
pub struct Inputs<'a> {
    pub tree: &'a FsTree,
    pub atoms: &'a Atoms<'a>,
    pub layers: &'a [LayerRow],
    pub base: &'a Base,
    pub owners: &'a Owners,
    pub readds: &'a [ReAdd],
    /// Visible files of the same content at different paths.
    pub duplicates: &'a [Duplicates],
    /// ELF files `strip` would shrink.
    pub unstripped: &'a [StripFile],
    /// The image's history, where the base's name may show (`ENV PYTHON_VERSION=…`).
    pub history: &'a [HistoryStep],
    pub stored: u64,
}

pub(super) type Key = (Rule, Scope, usize);

/// Candidate edits: each key with the atoms it drops (or, for `unstripped`, shrinks).
pub(super) type Edits = Vec<(Key, Vec<u32>)>;

/// What an edit removes of each atom: all its bytes for a drop; `strip`'s saving for
/// the shrink of `unstripped`. Applied together, edits remove of each atom the most
/// any of them removes: a dropped file saves its whole size, and its strip nothing more.
pub(super) struct Amounts(HashMap<u32, u64>);

impl Amounts {
    /// The strip savings of the visible files `strip` would shrink, by atom.
    pub(super) fn new(inp: &Inputs<'_>) -> Self {
        let mut shrinks = HashMap::new();
        for f in inp.unstripped {
            let atom = inp.atoms.of_inode.get(f.inode as usize).copied();
            if let Some(atom) = atom.filter(|&a| a != u32::MAX) {
                let bytes = inp.atoms.get(atom).bytes;
                shrinks.insert(atom, f.saving.min(bytes));
            }
        }
        Amounts(shrinks)
    }

    /// What `rule`'s edit removes of `atom`.
    pub(super) fn of(&self, inp: &Inputs<'_>, rule: Rule, atom: u32) -> u64 {
        match rule {
            Rule::Unstripped => self.0.get(&atom).copied().unwrap_or(0),
            _ => inp.atoms.get(atom).bytes,
        }
    }
}
