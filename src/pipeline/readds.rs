//! Re-adds confirmed by content: a file a later layer re-added at the same path and
//! size (a `chmod -R`, a second COPY) is wasted twice only when both copies hold the
//! same bytes. Both copies are hashed in the one second read of `hashes`.

use super::hashes::{Hashes, Wanted};
use crate::model::{Analysis, ReAdd, SameSize};

/// Ask for both copies of every candidate.
pub(super) fn want(a: &Analysis, candidates: &[SameSize], wanted: &mut Wanted) {
    for c in candidates {
        let path = a.tree.path_bytes(c.node);
        let w = a.tree.waste()[c.waste as usize];
        for layer in [w.added_layer, w.removed_layer] {
            wanted.entry(layer.into()).or_default().insert(path.clone());
        }
    }
}

/// Keep the re-adds whose two copies hashed the same. Without hashes (an input that
/// cannot be read twice, like standard input) every candidate is kept, unconfirmed.
pub(super) fn confirm(
    a: &Analysis,
    candidates: Vec<SameSize>,
    hashes: Option<&Hashes>,
) -> Vec<ReAdd> {
    let readd = |c: SameSize, confirmed| ReAdd {
        waste: c.waste,
        node: c.node,
        upper_waste: c.upper_waste,
        confirmed,
    };
    let Some(by_layer) = hashes else {
        return candidates.into_iter().map(|c| readd(c, false)).collect();
    };
    candidates
        .into_iter()
        .filter_map(|c| {
            let path = a.tree.path_bytes(c.node);
            let digest = |layer: u16| by_layer.get(&usize::from(layer))?.get(&path).copied();
            let w = a.tree.waste()[c.waste as usize];
            let lower = digest(w.added_layer)?;
            (digest(w.removed_layer)? == lower).then(|| readd(c, true))
        })
        .collect()
}
