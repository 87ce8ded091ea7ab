//! The first budget of an image, for `imgsize init`: each total at today's figure plus
//! a headroom, rounded down to three significant digits but never under today's figure,
//! so that `check` passes on the image today and fails once the figure grows by the
//! headroom; and a zero for each avoidable kind of bytes the image is free of today (a
//! package-manager cache, a `.git` copied in, a file deleted by a later layer, ...), so
//! that the first one to creep in fails. Every figure is measured as `check` measures
//! it. Pure: a report in, a [`Proposal`] out; the file's text is the renderer's.

use super::file::Metric;
use super::measure::Facts;
use super::units::Amount;
use super::verdict::measured;
use crate::analyze::Report;
use crate::analyze::categories::Category;
use crate::analyze::findings::Rule;

/// How much a figure may grow before its budget fails, in hundredths of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headroom {
    hundredths: u32,
}

impl Default for Headroom {
    /// 10%.
    fn default() -> Self {
        Headroom { hundredths: 1000 }
    }
}

/// The largest headroom, in percent.
const MAX_PERCENT: u32 = 1000;

impl Headroom {
    /// `10`, `2.5`, `0` or `10%`: a percentage from 0 to 1000, at most two decimals.
    pub fn parse(text: &str) -> std::result::Result<Headroom, String> {
        let t = text.trim().trim_end_matches('%').trim();
        let bad = || {
            format!(
                "`{text}`: a headroom is a percentage from 0 to {MAX_PERCENT}, such as 10 or 2.5"
            )
        };
        let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
            return Err(bad());
        }
        if t.contains('.') && fraction.is_empty() {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
        if whole > MAX_PERCENT || (whole == MAX_PERCENT && fraction > 0) {
            return Err(bad());
        }
        Ok(Headroom {
            hundredths: whole * 100 + fraction,
        })
    }

    /// In hundredths of a percent (10% is 1000).
    pub fn hundredths(self) -> u32 {
        self.hundredths
    }

    /// The limit for a figure of `today`: the largest number of three significant
    /// digits (more when three would fall under `today`) that is at least `today` and
    /// under `today` grown by the headroom, so that a growth of the full headroom
    /// fails. A headroom of 0, or a figure of 0, gives `today` itself.
    pub fn limit(self, today: u64) -> u64 {
        if today == 0 || self.hundredths == 0 {
            return today;
        }
        let scaled = u128::from(today) * (10_000 + u128::from(self.hundredths));
        // The grown figure rounded up is over `today`: one less is the most allowed.
        let most = u64::try_from(scaled.div_ceil(10_000) - 1).unwrap_or(u64::MAX);
        let digits = most.checked_ilog10().unwrap_or(0) + 1;
        let mut kept = 3;
        loop {
            let step = 10u64.pow(digits.saturating_sub(kept));
            let limit = most / step * step;
            if limit >= today || step == 1 {
                return limit;
            }
            kept += 1;
        }
    }
}

/// One limit of the proposal, with the figure it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposed {
    pub metric: Metric,
    /// The figure measured today.
    pub today: Amount,
    pub limit: Amount,
}

/// The proposed budget: its limits in the budget's order (the totals, then the
/// categories, then the rules), and the headroom they were made with.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub headroom: Headroom,
    pub limits: Vec<Proposed>,
    /// Only the manifest was read: only `compressed` and `layers` are bounded.
    pub manifest_only: bool,
}

/// Categories a team rarely means to ship: bounded at zero when none ships today.
/// (The caches are bounded through their rules, whose failures name the fix.)
const CLEAN_CATEGORIES: [Category; 8] = [
    Category::Docs,
    Category::Locales,
    Category::Tests,
    Category::Bytecode,
    Category::DevFiles,
    Category::Toolchain,
    Category::Vcs,
    Category::LogsTemp,
];

/// Whether a rule's findings are always a mistake to fix (a cache, a copied `.git`, a
/// deleted file still shipped), rather than a trade-off (a multi-stage build, a slim
/// base, stripping): those are bounded at zero when they find nothing today.
fn always_a_mistake(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::Cache(_)
            | Rule::Dockerignore
            | Rule::DeletedLater
            | Rule::ChmodDuplicate
            | Rule::BuildTree
            | Rule::DevDependencies
    )
}

/// The totals a proposal bounds with headroom: with `--manifest-only`, only those a
/// manifest tells; `your_layers` only when the base image was recognised.
fn totals(r: &Report) -> Vec<Metric> {
    if r.manifest_only {
        return vec![Metric::Compressed, Metric::Layers];
    }
    let mut out = vec![
        Metric::Compressed,
        Metric::Uncompressed,
        Metric::Content,
        Metric::Wasted,
        Metric::Layers,
        Metric::LargestLayer,
    ];
    if r.base.layers > 0 {
        out.push(Metric::YourLayers);
    }
    out
}

/// The budget `imgsize init` writes for a report: see the module's words.
pub fn propose(r: &Report, headroom: Headroom) -> Proposal {
    let facts = Facts {
        paths: &[],
        packages: None,
        baseline: None,
    };
    let mut limits = Vec::new();
    for metric in totals(r) {
        let Some(today) = measured(&metric, r, &facts) else {
            continue;
        };
        let limit = match today {
            Amount::Bytes(b) => Amount::Bytes(headroom.limit(b)),
            Amount::Count(n) => Amount::Count(headroom.limit(n)),
            _ => continue,
        };
        limits.push(Proposed {
            metric,
            today,
            limit,
        });
    }
    if !r.manifest_only {
        let clean = CLEAN_CATEGORIES.iter().map(|&c| Metric::Category(c)).chain(
            Rule::all()
                .into_iter()
                .filter(|&r| always_a_mistake(r))
                .map(Metric::Rule),
        );
        for metric in clean {
            if measured(&metric, r, &facts) == Some(Amount::Bytes(0)) {
                limits.push(Proposed {
                    metric,
                    today: Amount::Bytes(0),
                    limit: Amount::Bytes(0),
                });
            }
        }
    }
    limits.sort_by(|a, b| a.metric.cmp(&b.metric));
    Proposal {
        headroom,
        limits,
        manifest_only: r.manifest_only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(text: &str) -> Headroom {
        Headroom::parse(text).expect(text)
    }

    #[test]
    fn limits_pass_today_and_fail_at_the_headroom() {
        let ten = Headroom::default();
        // The sample's totals.
        for (today, limit) in [
            (208_474, 229_000),
            (943_104, 1_030_000),
            (796_085, 875_000),
            (124_000, 136_000),
            (337_408, 371_000),
            (7, 7),
            (0, 0),
            (100, 109),
            (1000, 1090),
        ] {
            assert_eq!(ten.limit(today), limit, "{today}");
        }
        // Past three digits only when three would fall under today.
        assert_eq!(pct("0.1").limit(1_000_999), 1_001_000);
        assert_eq!(pct("0").limit(123_456), 123_456);
        for h in ["0.01", "0.5", "1", "2.5", "10", "33.33", "100", "1000"] {
            let h = pct(h);
            for today in (1..5000u64).chain((0..400).map(|i| 3_000_000_007 * i + 999_999)) {
                let limit = h.limit(today);
                let grown =
                    (u128::from(today) * (10_000 + u128::from(h.hundredths()))).div_ceil(10_000);
                assert!(limit >= today, "{today} {h:?}");
                assert!(u128::from(limit) < grown, "{today} {h:?}: {limit} {grown}");
            }
        }
    }

    #[test]
    fn headrooms_parse_exactly() {
        assert_eq!(pct("10").hundredths(), 1000);
        assert_eq!(pct("2.5").hundredths(), 250);
        assert_eq!(pct("2.55%").hundredths(), 255);
        assert_eq!(pct(" 0 ").hundredths(), 0);
        assert_eq!(pct("1000").hundredths(), 100_000);
        for bad in [
            "", "-1", "1.", ".5", "2.555", "1000.5", "1001", "ten", "1e2", "5 5",
        ] {
            assert!(Headroom::parse(bad).is_err(), "{bad}");
        }
    }
}
