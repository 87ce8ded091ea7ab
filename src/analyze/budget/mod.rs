//! Size budgets for `imgsize check`: the limits (from `imgsize.toml` and `--limit`
//! flags), their units, and the verdict of one report against them, with the findings
//! and layers that explain each failure. Pure: the text of the budget file comes in,
//! a [`Verdict`] goes out. The keys are a contract, documented in docs/ci.md.
//!
//! One job a file: sizes and amounts (`units`), the budget file and flags (`file`),
//! what path globs match on the tree and the other facts a verdict reads (`measure`),
//! the verdict (`verdict`), and the first budget `imgsize init` proposes for an image
//! (`propose`). Every public name is re-exported here, so
//! `budget::parse_size` and `budget::{Budget, Facts, check}` are the paths to use.

mod file;
mod measure;
mod propose;
mod units;
mod verdict;

pub use file::{Budget, GrowthMeasure, Limit, Metric, Origin};
pub use measure::{Baseline, Facts, PathFigure, measure_paths};
pub use propose::{Headroom, Proposal, Proposed, propose};
pub use units::{Amount, SIZE_FORMS, Unit, parse_size};
pub use verdict::{Outcome, Status, Verdict, check};
