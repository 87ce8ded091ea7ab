//! The budget file `imgsize init` writes: a header naming the image and the rule the
//! limits follow, then every proposed limit under the TOML table its key belongs to,
//! each with a comment saying what it bounds and the figure measured today, sizes in
//! the budget file's own units (`229 kB`, `1.03 MB`: powers of 1000, exact), and a
//! commented-out growth table to start from. Formats the [`Proposal`]; computes nothing.

use std::fmt::Write as _;

use crate::analyze::budget::{Amount, Headroom, Metric, Proposal, Proposed};
use crate::analyze::{Category, Rule, Scope};
use crate::model::ImageInfo;

use super::format::{size, visible};

/// The units a limit is written in, largest first: the budget file's powers of 1000.
const UNITS: [(&str, u64); 4] = [
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("kB", 1_000),
];

/// A size as the budget file writes it: `0`, `950 B`, `229 kB`, `1.03 MB`, in the
/// largest unit it reaches, with as many decimals as it needs to stay exact.
pub fn limit_text(bytes: u64) -> String {
    if bytes == 0 {
        return "0".to_string();
    }
    let Some(&(unit, factor)) = UNITS.iter().find(|(_, f)| bytes >= *f) else {
        return format!("{bytes} B");
    };
    let (whole, rest) = (bytes / factor, bytes % factor);
    if rest == 0 {
        return format!("{whole} {unit}");
    }
    let width = factor.ilog10() as usize;
    let decimals = format!("{rest:0width$}");
    format!("{whole}.{} {unit}", decimals.trim_end_matches('0'))
}

/// `10`, `2.5`: a headroom in percent.
pub fn headroom_text(h: Headroom) -> String {
    let (whole, rest) = (h.hundredths() / 100, h.hundredths() % 100);
    match rest {
        0 => whole.to_string(),
        r if r % 10 == 0 => format!("{whole}.{}", r / 10),
        r => format!("{whole}.{r:02}"),
    }
}

/// The image as the header names it: its reference (else the input as given) and
/// its digest, made visible.
fn image_line(image: &ImageInfo) -> String {
    let name = image.reference.as_deref().unwrap_or(&image.source);
    let digest = match (&image.manifest_digest, &image.config_digest) {
        (Some(d), _) => format!(" (manifest {d})"),
        (None, Some(d)) => format!(" (config {d})"),
        (None, None) => String::new(),
    };
    visible(&format!("{name}{digest}")).into_owned()
}

/// What a key bounds, for the comment above it.
fn words(metric: &Metric) -> String {
    match metric {
        Metric::Compressed => "sum of the layer blobs: what a pull transfers".into(),
        Metric::Uncompressed => "sum of the layer tars".into(),
        Metric::Content => "bytes of the files a container sees".into(),
        Metric::Wasted => "bytes shipped but hidden (deleted or overwritten later)".into(),
        Metric::Layers => "layer count".into(),
        Metric::LargestLayer => "the biggest layer tar".into(),
        Metric::YourLayers => "stored bytes your layers add above the base image".into(),
        Metric::Category(c) => format!("{}, visible or hidden", category_words(*c)),
        Metric::Rule(Rule::Cache(c)) => format!("{} left in a layer", cache_words(*c)),
        Metric::Rule(r) => r.title(Scope::Yours).to_string(),
        other => other.describe(),
    }
}

/// A category's files, as docs/categories.md describes them.
fn category_words(c: Category) -> &'static str {
    match c {
        Category::Docs => "documentation, man and info pages",
        Category::Locales => "translations and locale data",
        Category::Tests => "test suites inside installed packages",
        Category::Bytecode => "compiled Python bytecode",
        Category::DevFiles => "C headers and static libraries, needed only to build",
        Category::Toolchain => "compilers, linkers and build tools",
        Category::Vcs => "version-control metadata (.git, .hg, .svn)",
        Category::LogsTemp => "logs and temporary files",
        other => other.code(),
    }
}

/// Whose cache a cache rule finds.
fn cache_words(c: Category) -> &'static str {
    match c {
        Category::PipCache => "pip's cache",
        Category::AptLists => "apt's package lists",
        Category::AptArchives => "apt's downloaded packages",
        Category::ApkCache => "apk's cache",
        Category::DnfCache => "dnf's cache",
        Category::YumCache => "yum's cache",
        Category::ZyppCache => "zypper's cache",
        Category::MicrodnfCache => "microdnf's cache",
        Category::NpmCache => "npm's cache",
        Category::YarnCache => "Yarn's cache",
        Category::PnpmStore => "pnpm's store",
        Category::GoCache => "Go's build and module caches",
        Category::CargoCache => "Cargo's registry and git caches",
        Category::MavenCache => "Maven's local repository",
        Category::GradleCache => "Gradle's caches",
        Category::ComposerCache => "Composer's cache",
        Category::GemCache => "RubyGems' cache",
        _ => "a package manager's cache",
    }
}

/// Today's figure, for the comment above its key.
fn today(a: Amount) -> String {
    match a {
        Amount::Bytes(0) | Amount::Count(0) => "none today".to_string(),
        Amount::Bytes(b) if b < 1000 => format!("{b} B today"),
        Amount::Bytes(b) => format!("{} ({b} bytes) today", size(b)),
        Amount::Count(n) => format!("{n} today"),
        Amount::Percent(p) => format!("{p}% today"),
        Amount::SignedBytes(b) => format!("{b} bytes today"),
    }
}

fn value(a: Amount) -> String {
    match a {
        Amount::Bytes(0) => "0".to_string(),
        Amount::Bytes(b) => format!("\"{}\"", limit_text(b)),
        Amount::Count(n) => n.to_string(),
        Amount::Percent(p) => p.to_string(),
        Amount::SignedBytes(b) => b.to_string(),
    }
}

/// The TOML table a key is written under, and its name there.
fn table_and_key(metric: &Metric) -> (&'static str, String) {
    let key = metric.key();
    match metric {
        Metric::Category(c) => ("[budget.categories]", c.code().to_string()),
        Metric::Rule(r) => ("[budget.rules]", r.code().to_string()),
        _ => ("[budget]", key),
    }
}

/// The comment under a table's header.
fn table_words(table: &str) -> &'static str {
    match table {
        "[budget.categories]" => {
            "# categories of bytes (docs/categories.md) the image ships none of today: a limit\n# on what each ships, so the first file of one fails\n"
        }
        "[budget.rules]" => {
            "# finding rules (docs/rules.md) that find nothing today: a limit on what a rule's\n# findings could save, so the first finding fails\n"
        }
        _ => "",
    }
}

fn header(out: &mut String, proposal: &Proposal, image: &ImageInfo) {
    let h = headroom_text(proposal.headroom);
    let _ = write!(
        out,
        "# Size budgets for `imgsize check`, written by `imgsize init` for\n\
         # {}.\n\
         # Each limit is the figure measured today plus {h}%, rounded down to three\n\
         # significant digits but never under today's figure: the image passes today and\n\
         # fails once a figure grows by {h}%. A limit of 0 is something it is free of today.\n\
         # Every key and unit: docs/ci.md.\n",
        image_line(image)
    );
    if proposal.manifest_only {
        out.push_str(
            "# Read with --manifest-only: only what a manifest tells is bounded, and\n\
             # `imgsize check --manifest-only` can judge it.\n",
        );
    }
}

/// The budget file for a proposal, about this image.
pub fn budget_file(proposal: &Proposal, image: &ImageInfo) -> String {
    let mut out = String::new();
    header(&mut out, proposal, image);
    let mut table = "";
    for Proposed {
        metric,
        today: figure,
        limit,
    } in &proposal.limits
    {
        let (t, key) = table_and_key(metric);
        if t != table {
            table = t;
            let _ = write!(out, "\n{t}\n{}", table_words(t));
        }
        let _ = writeln!(out, "# {}; {}", words(metric), today(*figure));
        let _ = writeln!(out, "{key} = {}", value(*limit));
    }
    out.push_str(
        "\n# Growth against an earlier report (`imgsize check --baseline main.json`):\n\
         # [budget.growth]\n\
         # percent = 5\n\
         # bytes = \"20 MB\"\n\
         # measure = \"compressed\"\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::budget::{Budget, Origin, parse_size};

    #[test]
    fn limits_are_written_exactly() {
        for (bytes, text) in [
            (0, "0"),
            (7, "7 B"),
            (950, "950 B"),
            (229_000, "229 kB"),
            (1_030_000, "1.03 MB"),
            (1_001_000, "1.001 MB"),
            (20_500_000_000, "20.5 GB"),
            (208_475, "208.475 kB"),
            (1_000_000_000_000, "1 TB"),
        ] {
            assert_eq!(limit_text(bytes), text);
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for (h, text) in [("10", "10"), ("2.5", "2.5"), ("2.05", "2.05"), ("0", "0")] {
            let h = Headroom::parse(h).expect("headroom");
            assert_eq!(headroom_text(h), text);
        }
    }

    /// The written file is read back by the budget parser `check` uses, limit for limit,
    /// and text from the image cannot break out of its comment.
    #[test]
    fn the_file_parses_back() {
        let proposed = |metric, today, limit| Proposed {
            metric,
            today,
            limit,
        };
        let proposal = Proposal {
            headroom: Headroom::default(),
            limits: vec![
                proposed(
                    Metric::Compressed,
                    Amount::Bytes(208_474),
                    Amount::Bytes(229_000),
                ),
                proposed(Metric::Wasted, Amount::Bytes(0), Amount::Bytes(0)),
                proposed(Metric::Layers, Amount::Count(7), Amount::Count(7)),
                proposed(
                    Metric::LargestLayer,
                    Amount::Bytes(337_408),
                    Amount::Bytes(371_000),
                ),
                proposed(
                    Metric::Category(Category::Vcs),
                    Amount::Bytes(0),
                    Amount::Bytes(0),
                ),
                proposed(
                    Metric::Rule(Rule::Cache(Category::PipCache)),
                    Amount::Bytes(0),
                    Amount::Bytes(0),
                ),
                proposed(
                    Metric::Rule(Rule::DeletedLater),
                    Amount::Bytes(0),
                    Amount::Bytes(0),
                ),
            ],
            manifest_only: false,
        };
        let image = ImageInfo {
            reference: Some("evil:1\n[budget]\ncompressed = 1".to_string()),
            config_digest: Some("sha256:abc".to_string()),
            ..ImageInfo::default()
        };
        let text = budget_file(&proposal, &image);
        assert!(text.contains("# evil:1\\n[budget]\\ncompressed = 1 (config sha256:abc).\n"));
        assert!(text.contains(
            "# sum of the layer blobs: what a pull transfers; 208.47 kB (208474 bytes) today\ncompressed = \"229 kB\"\n"
        ));
        let budget = Budget::parse(&text, "imgsize.toml").expect("parses");
        let read: Vec<(Metric, Amount)> = budget
            .limits
            .iter()
            .map(|l| (l.metric.clone(), l.max))
            .collect();
        let written: Vec<(Metric, Amount)> = proposal
            .limits
            .iter()
            .map(|p| (p.metric.clone(), p.limit))
            .collect();
        assert_eq!(read, written);
        assert!(
            budget
                .limits
                .iter()
                .all(|l| matches!(l.origin, Origin::File { .. }))
        );
        assert!(!budget.wants_baseline());
    }
}
