//! Suggestions: what to change in which RUN/COPY step, and what it saves.
//!
//! A fix is an edit of the scans ([`super::projection`]): the file entries it drops
//! from the layers, with the re-added copies that no longer happen once they are gone.
//! Every rule names those entries as [`Atom`]s (a visible file's content, or one
//! hidden copy), so its projection is their bytes exactly and a rebuild with the fix
//! shows it (docs/accuracy.md measures it). Rules are documented in docs/rules.md.
//!
//! `bytes` is what a fix alone saves; `incremental_bytes` what it saves once the
//! findings listed before it are applied. Fixes overlap (apt lists that a later layer
//! deletes are both an `apt-lists` and a `deleted-later` finding; a `.dockerignore`
//! that drops `.git` also empties the `chmod -R` layer's copy of it), so each finding
//! claims its edit's atoms and an atom already claimed counts once: the incremental
//! figures add up to the projected saving. One edit is not a drop: `strip` shrinks a
//! file ([`inputs::Amounts`]); of an atom, edits together remove the most any one of
//! them removes (a dropped file saves its size, and its strip nothing more). A
//! multi-stage build is one more edit: the
//! image becomes its runtime stage. Your layers' findings come first (you fix them by
//! editing your Dockerfile); the base image's follow and are summed apart.
//!
//! One job a file: the rules' ids and words (`rule`), what they read and give
//! (`inputs`), the drop rules' atoms in one pass (`candidates`), the rules on files'
//! contents, `duplicate-files` and `unstripped` (`binaries`), the runtime stage of
//! `multi-stage` (`stage`), a finding in words and figures (`words`); here, the order
//! of the findings and the headline projections.

mod binaries;
mod candidates;
mod ecosystems;
mod inputs;
mod recipe;
mod rule;
mod stage;
mod words;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::analyze::projection::Scans;
use candidates::{LayerFacts, candidates};
use inputs::{Amounts, Edits, Key};
pub use inputs::{Finding, Findings, Inputs, Projection, Recipe, Structural};
pub use rule::{DPKG_EXCLUDES, Rule, Scope};
use stage::{Stage, runtime_stage, slim_name};
use words::finding;

/// Order candidates greedily, each next the one that saves most on top of those
/// before: lazily, since a candidate's gain only shrinks as others claim atoms.
/// `claimed` is what the edits taken so far remove of each atom.
fn greedy(
    mut cands: Edits,
    claimed: &mut [u64],
    inp: &Inputs<'_>,
    amounts: &Amounts,
    stage: Option<&Stage>,
) -> Vec<Finding> {
    let gain = |(key, atoms): &(Key, Vec<u32>), claimed: &[u64]| {
        atoms
            .iter()
            .map(|&i| {
                amounts
                    .of(inp, key.0, i)
                    .saturating_sub(claimed[i as usize])
            })
            .sum::<u64>()
    };
    let alone: Vec<u64> = cands
        .iter()
        .map(|(key, a)| a.iter().map(|&i| amounts.of(inp, key.0, i)).sum())
        .collect();
    // (gain, alone, earlier layer first, rule order, index)
    let entry = |c: usize, g: u64, cands: &[(Key, Vec<u32>)]| {
        let (rule, _, layer) = cands[c].0;
        (g, alone[c], Reverse(layer), Reverse(rule), c)
    };
    let mut heap: BinaryHeap<_> = (0..cands.len())
        .map(|c| entry(c, alone[c], &cands))
        .collect();
    let mut rows = Vec::new();
    while let Some(top) = heap.pop() {
        let c = top.4;
        let g = gain(&cands[c], claimed);
        let fresh = entry(c, g, &cands);
        if heap.peek().is_some_and(|next| *next > fresh) {
            heap.push(fresh);
            continue;
        }
        if alone[c] == 0 {
            continue;
        }
        let atoms = std::mem::take(&mut cands[c].1);
        let rule = cands[c].0.0;
        for &i in &atoms {
            let removed = &mut claimed[i as usize];
            *removed = (*removed).max(amounts.of(inp, rule, i));
        }
        rows.push(finding(cands[c].0, &atoms, g, inp, amounts, stage));
    }
    rows
}

/// The fixes a multi-stage build applies in its build stage, so that what the runtime
/// stage copies leaves their files behind.
pub const BUILD_STAGE_FIXES: [Rule; 3] =
    [Rule::Dockerignore, Rule::DevDependencies, Rule::BuildTree];

/// Every candidate edit, closed over the re-adds it takes along, split by scope; the
/// multi-stage edit among yours when it applies (and then no `full-base`).
fn edits(inp: &Inputs<'_>) -> (Edits, Edits, Option<Stage>) {
    let facts = LayerFacts::new(inp);
    let scans = Scans::new(inp.tree, inp.atoms, inp.readds);
    let runtime = runtime_stage(inp, &facts);
    let (mut yours, mut base) = (Vec::new(), Vec::new());
    let mut cands = candidates(inp, &facts, &scans);
    ecosystems::add(inp, &facts, &mut cands);
    for (key, seeds) in cands.0 {
        let atoms = match key.0 {
            // The files still exist: only the re-added copies go. A strip shrinks the
            // visible file; nothing else goes with it.
            Rule::ChmodDuplicate | Rule::Unstripped => seeds,
            Rule::FullBase if runtime.is_some() => continue,
            Rule::JdkRuntime if key.1 == Scope::Base && runtime.is_some() => continue,
            _ => scans.closure(seeds),
        };
        match key.1 {
            Scope::Yours => yours.push((key, atoms)),
            Scope::Base => base.push((key, atoms)),
        }
    }
    let stage = runtime.map(|(drops, slim)| {
        // What the build stage's own fixes remove before the runtime stage copies.
        let gone: Vec<(Rule, u32)> = yours
            .iter()
            .filter(|(key, _)| BUILD_STAGE_FIXES.contains(&key.0))
            .flat_map(|(key, atoms)| atoms.iter().map(|&a| (key.0, a)))
            .collect();
        let recipe = recipe::recipe(inp, &facts, &drops, &gone);
        yours.push(((Rule::MultiStage, Scope::Yours, 0), drops));
        Stage {
            slim,
            name: slim.then(|| slim_name(inp)).flatten(),
            recipe,
        }
    });
    for (_, atoms) in yours.iter_mut().chain(base.iter_mut()) {
        atoms.sort_unstable();
        atoms.dedup();
    }
    (yours, base, stage)
}

/// The two headline projections: every edit of your RUN/COPY lines together, and the
/// structural change (multi-stage, or the base's slim variant) alone.
fn headlines(
    inp: &Inputs<'_>,
    amounts: &Amounts,
    yours: &Edits,
    base: &Edits,
    stage: Option<&Stage>,
) -> (Projection, Option<Structural>) {
    let mut claimed = vec![0u64; inp.atoms.len()];
    let mut saved = 0;
    for (key, atoms) in yours {
        if key.0 == Rule::MultiStage {
            continue;
        }
        for &i in atoms {
            let amount = amounts.of(inp, key.0, i);
            let removed = &mut claimed[i as usize];
            saved += amount.saturating_sub(*removed);
            *removed = (*removed).max(amount);
        }
    }
    let fixes = Projection {
        stored_bytes: inp.stored - saved,
        saved_bytes: saved,
    };
    let structural = yours
        .iter()
        .chain(base)
        .find(|(key, _)| matches!(key.0, Rule::MultiStage | Rule::FullBase))
        .map(|(key, atoms)| {
            let saved: u64 = atoms.iter().map(|&i| inp.atoms.get(i).bytes).sum();
            Structural {
                rule: key.0,
                projection: Projection {
                    stored_bytes: inp.stored - saved,
                    saved_bytes: saved,
                },
                slim_base: key.0 == Rule::FullBase || stage.is_some_and(|s| s.slim),
                runtime_base: stage.and_then(|s| s.name.clone()),
                recipe: None,
            }
        })
        .filter(|s| s.projection.saved_bytes > 0);
    (fixes, structural)
}

/// Find the suggestions: your layers' first, then the base image's.
pub fn find(inp: &Inputs<'_>) -> Findings {
    let (yours, base, stage) = edits(inp);
    let amounts = Amounts::new(inp);
    let (fixes, mut structural) = headlines(inp, &amounts, &yours, &base, stage.as_ref());
    if let (Some(s), Some(st)) = (structural.as_mut(), stage.as_ref())
        && s.rule == Rule::MultiStage
    {
        s.recipe = Some(st.recipe.clone());
    }
    let mut claimed = vec![0u64; inp.atoms.len()];
    let mut rows = greedy(yours, &mut claimed, inp, &amounts, stage.as_ref());
    let saved_bytes = rows.iter().map(|f| f.incremental_bytes).sum();
    let base_rows = greedy(base, &mut claimed, inp, &amounts, stage.as_ref());
    let base_saved_bytes = base_rows.iter().map(|f| f.incremental_bytes).sum();
    rows.extend(base_rows);
    Findings {
        rows,
        saved_bytes,
        stored_after: inp.stored - saved_bytes,
        base_saved_bytes,
        fixes,
        structural,
        stored: inp.stored,
    }
}
