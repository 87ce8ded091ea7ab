//! Size budgets for `imgsize check`: the limits (from `imgsize.toml` and `--limit`
//! flags), their units, and the verdict of one report against them, with the findings
//! and layers that explain each failure. Pure: the text of the budget file comes in,
//! a [`Verdict`] goes out. The keys are a contract, documented in docs/ci.md.
//!
//! Sizes are exact: `MB` is 10^6 bytes, `MiB` 2^20; an unknown unit is an error that
//! lists the accepted forms, never a guess.

use std::collections::BTreeMap;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use super::Report;
use super::categories::Category;
use super::findings::{Finding, Rule, Scope};
use super::packages::PackageRow;
use crate::error::{Error, Result};
use crate::model::FsTree;
use crate::model::tree::{NodeKind, ROOT};

/// The units a size may carry, with their factors.
const UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("kB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// The accepted size forms, for error messages.
pub const SIZE_FORMS: &str = "a number of bytes (`1500000`), or a number with a unit: \
    `B`, `kB`, `MB`, `GB`, `TB` (powers of 1000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024), \
    as in `200 MB`, `1.5GiB`";

/// A size in bytes from `1500000`, `200 MB`, `1.5GiB`, `512 KiB`. Exact: a fraction
/// must come out to whole bytes.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (number, unit) = (t[..split].replace('_', ""), t[split..].trim());
    let bad = |why: &str| format!("`{text}`: {why}; a size is {SIZE_FORMS}");
    if number.is_empty() {
        return Err(bad("no number"));
    }
    let factor = if unit.is_empty() {
        1
    } else {
        match UNITS.iter().find(|(u, _)| *u == unit) {
            Some(&(_, f)) => f,
            None => return Err(bad(&format!("unknown unit `{unit}`"))),
        }
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((&number, ""));
    if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
        return Err(bad("malformed number"));
    }
    let overflow = || bad("too large");
    let whole: u64 = whole.parse().map_err(|_| overflow())?;
    let mut bytes = whole.checked_mul(factor).ok_or_else(overflow)?;
    if !fraction.is_empty() {
        let digits = u32::try_from(fraction.len()).map_err(|_| bad("malformed number"))?;
        let scale = 10u128
            .checked_pow(digits)
            .ok_or_else(|| bad("too many decimals"))?;
        let f: u128 = fraction.parse().map_err(|_| bad("malformed number"))?;
        let part = f * u128::from(factor);
        if !part.is_multiple_of(scale) {
            return Err(bad("not a whole number of bytes"));
        }
        let part = u64::try_from(part / scale).map_err(|_| overflow())?;
        bytes = bytes.checked_add(part).ok_or_else(overflow)?;
    }
    Ok(bytes)
}

/// What a limit bounds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Σ layer blob sizes: what a pull transfers.
    Compressed,
    /// Σ layer tar sizes.
    Uncompressed,
    /// Visible file bytes.
    Content,
    Wasted,
    WastedPercent,
    Layers,
    /// The largest layer's tar (uncompressed) size.
    LargestLayer,
    /// Stored bytes of your layers, above the base image.
    YourLayers,
    /// Visible bytes of the files a glob matches.
    Path(String),
    /// Shipped bytes (visible and wasted) of a category.
    Category(Category),
    /// What the findings of one rule could save, alone.
    Rule(Rule),
    /// Visible bytes of the packages of that name.
    Package(String),
    /// Growth of [`Budget::growth_measure`] against the baseline, in percent.
    GrowthPercent,
    /// Growth against the baseline, in bytes.
    GrowthBytes,
}

/// The unit of a limit and a measured figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Count,
    Percent,
}

impl Metric {
    /// The key in the budget file (`compressed`, `paths./root/.cache/**`).
    pub fn key(&self) -> String {
        match self {
            Metric::Compressed => "compressed".into(),
            Metric::Uncompressed => "uncompressed".into(),
            Metric::Content => "content".into(),
            Metric::Wasted => "wasted".into(),
            Metric::WastedPercent => "wasted_percent".into(),
            Metric::Layers => "layers".into(),
            Metric::LargestLayer => "largest_layer".into(),
            Metric::YourLayers => "your_layers".into(),
            Metric::Path(g) => format!("paths.{g}"),
            Metric::Category(c) => format!("categories.{}", c.code()),
            Metric::Rule(r) => format!("rules.{}", r.code()),
            Metric::Package(p) => format!("packages.{p}"),
            Metric::GrowthPercent => "growth.percent".into(),
            Metric::GrowthBytes => "growth.bytes".into(),
        }
    }

    pub fn unit(&self) -> Unit {
        match self {
            Metric::WastedPercent | Metric::GrowthPercent => Unit::Percent,
            Metric::Layers => Unit::Count,
            _ => Unit::Bytes,
        }
    }

    /// What the figure is, in words.
    pub fn describe(&self) -> String {
        match self {
            Metric::Compressed => "compressed size (what a pull transfers)".into(),
            Metric::Uncompressed => "uncompressed size (the layer tars)".into(),
            Metric::Content => "visible file bytes".into(),
            Metric::Wasted => "wasted bytes (shipped but hidden)".into(),
            Metric::WastedPercent => "wasted share of the stored bytes".into(),
            Metric::Layers => "layer count".into(),
            Metric::LargestLayer => "largest layer (uncompressed)".into(),
            Metric::YourLayers => "bytes your layers add above the base image".into(),
            Metric::Path(g) => format!("visible bytes under {g}"),
            Metric::Category(c) => format!("{} bytes", c.code()),
            Metric::Rule(r) => format!("what the {} findings could save", r.code()),
            Metric::Package(p) => format!("visible bytes of package {p}"),
            Metric::GrowthPercent => "growth against the baseline".into(),
            Metric::GrowthBytes => "growth against the baseline".into(),
        }
    }
}

/// A limit or a measured figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    Bytes(u64),
    Count(u64),
    Percent(f64),
    /// Growth can be negative.
    SignedBytes(i64),
}

impl Amount {
    fn as_f64(self) -> f64 {
        match self {
            Amount::Bytes(b) | Amount::Count(b) => b as f64,
            Amount::Percent(p) => p,
            Amount::SignedBytes(b) => b as f64,
        }
    }

    /// `self` is at most `limit` (exact for integers).
    fn within(self, limit: Amount) -> bool {
        match (self, limit) {
            (Amount::Bytes(a) | Amount::Count(a), Amount::Bytes(l) | Amount::Count(l)) => a <= l,
            (Amount::SignedBytes(a), Amount::Bytes(l)) => a <= i64::try_from(l).unwrap_or(i64::MAX),
            (a, l) => a.as_f64() <= l.as_f64(),
        }
    }
}

/// Where a limit was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A budget file, at a line (1-based).
    File { file: String, line: usize },
    /// A `--limit KEY=VALUE` flag.
    Flag,
}

/// One limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub metric: Metric,
    pub max: Amount,
    pub origin: Origin,
}

/// Which total growth is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrowthMeasure {
    Compressed,
    #[default]
    Uncompressed,
    Content,
}

impl GrowthMeasure {
    pub fn code(self) -> &'static str {
        match self {
            GrowthMeasure::Compressed => "compressed",
            GrowthMeasure::Uncompressed => "uncompressed",
            GrowthMeasure::Content => "content",
        }
    }
}

/// Every limit, in a fixed order: the totals, then the tables' keys sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    pub limits: Vec<Limit>,
    pub growth_measure: GrowthMeasure,
}

/// A TOML value as written: a number or a string with a unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Value {
    Integer(i64),
    Float(f64),
    Text(String),
}

type Spanned = toml::Spanned<Value>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    budget: Option<BudgetDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetDoc {
    compressed: Option<Spanned>,
    uncompressed: Option<Spanned>,
    content: Option<Spanned>,
    wasted: Option<Spanned>,
    wasted_percent: Option<Spanned>,
    layers: Option<Spanned>,
    largest_layer: Option<Spanned>,
    your_layers: Option<Spanned>,
    #[serde(default)]
    paths: BTreeMap<toml::Spanned<String>, Spanned>,
    #[serde(default)]
    categories: BTreeMap<toml::Spanned<String>, Spanned>,
    #[serde(default)]
    rules: BTreeMap<toml::Spanned<String>, Spanned>,
    #[serde(default)]
    packages: BTreeMap<toml::Spanned<String>, Spanned>,
    growth: Option<GrowthDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrowthDoc {
    percent: Option<Spanned>,
    bytes: Option<Spanned>,
    measure: Option<toml::Spanned<String>>,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A category or rule key, or the error listing what is accepted.
fn category_key(key: &str) -> std::result::Result<Category, String> {
    Category::ALL
        .iter()
        .copied()
        .find(|c| c.code() == key)
        .ok_or_else(|| {
            let all: Vec<&str> = Category::ALL.iter().map(|c| c.code()).collect();
            format!("unknown category `{key}` (known: {})", all.join(", "))
        })
}

fn rule_key(key: &str) -> std::result::Result<Rule, String> {
    Rule::all()
        .into_iter()
        .find(|r| r.code() == key)
        .ok_or_else(|| {
            let all: Vec<&str> = Rule::all().iter().map(|r| r.code()).collect();
            format!("unknown rule `{key}` (known: {})", all.join(", "))
        })
}

/// A path glob as written (`/root/.cache/**`, `**/*.pyc`), checked.
fn path_key(key: &str) -> std::result::Result<String, String> {
    compile_glob(key).map(|_| key.to_string())
}

/// The glob anchored at the image root.
fn compile_glob(key: &str) -> std::result::Result<Glob, String> {
    let anchored = if key.starts_with('/') || key.starts_with("**") {
        key.to_string()
    } else {
        format!("/{key}")
    };
    GlobBuilder::new(&anchored)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("bad path glob `{key}`: {}", e.kind()))
}

/// The limit a value sets on a metric.
fn amount(metric: &Metric, value: &Value) -> std::result::Result<Amount, String> {
    let key = metric.key();
    match (metric.unit(), value) {
        (Unit::Bytes, Value::Integer(n)) => u64::try_from(*n)
            .map(Amount::Bytes)
            .map_err(|_| format!("`{key}`: a size cannot be negative")),
        (Unit::Bytes, Value::Text(t)) => parse_size(t)
            .map(Amount::Bytes)
            .map_err(|e| format!("`{key}`: {e}")),
        (Unit::Bytes, Value::Float(_)) => Err(format!(
            "`{key}`: write a fractional size as a string with a unit (`\"1.5 MB\"`); a size is {SIZE_FORMS}"
        )),
        (Unit::Count, Value::Integer(n)) => u64::try_from(*n)
            .map(Amount::Count)
            .map_err(|_| format!("`{key}`: a count cannot be negative")),
        (Unit::Count, _) => Err(format!("`{key}`: expected a whole number")),
        (Unit::Percent, v) => {
            let p = match v {
                Value::Integer(n) => *n as f64,
                Value::Float(f) => *f,
                Value::Text(t) => t
                    .trim()
                    .trim_end_matches('%')
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("`{key}`: expected a percentage such as 5 or 2.5"))?,
            };
            if p.is_finite() && p >= 0.0 {
                Ok(Amount::Percent(p))
            } else {
                Err(format!("`{key}`: a percentage must be 0 or more"))
            }
        }
    }
}

impl Budget {
    /// Parse a budget file. Errors name the file, the line and the key.
    pub fn parse(text: &str, file: &str) -> Result<Budget> {
        let err = |offset: Option<usize>, message: String| Error::Budget {
            file: file.to_string(),
            line: offset.map(|o| line_of(text, o)),
            message,
        };
        let doc: FileDoc = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            err(e.span().map(|s| s.start), message)
        })?;
        let mut budget = Budget::default();
        let Some(b) = doc.budget else {
            return Ok(budget);
        };
        let mut add = |metric: Metric, v: &Spanned| -> Result<()> {
            let max = amount(&metric, v.get_ref()).map_err(|m| err(Some(v.span().start), m))?;
            let origin = Origin::File {
                file: file.to_string(),
                line: line_of(text, v.span().start),
            };
            budget.set(Limit {
                metric,
                max,
                origin,
            });
            Ok(())
        };
        let scalars = [
            (Metric::Compressed, &b.compressed),
            (Metric::Uncompressed, &b.uncompressed),
            (Metric::Content, &b.content),
            (Metric::Wasted, &b.wasted),
            (Metric::WastedPercent, &b.wasted_percent),
            (Metric::Layers, &b.layers),
            (Metric::LargestLayer, &b.largest_layer),
            (Metric::YourLayers, &b.your_layers),
        ];
        for (metric, v) in scalars {
            if let Some(v) = v {
                add(metric, v)?;
            }
        }
        type Keyed = fn(&str) -> std::result::Result<Metric, String>;
        let tables: [(&BTreeMap<toml::Spanned<String>, Spanned>, Keyed); 4] = [
            (&b.paths, |k| path_key(k).map(Metric::Path)),
            (&b.categories, |k| category_key(k).map(Metric::Category)),
            (&b.rules, |k| rule_key(k).map(Metric::Rule)),
            (&b.packages, |k| Ok(Metric::Package(k.to_string()))),
        ];
        for (table, keyed) in tables {
            for (k, v) in table {
                let metric = keyed(k.get_ref()).map_err(|m| err(Some(k.span().start), m))?;
                add(metric, v)?;
            }
        }
        if let Some(g) = &b.growth {
            if let Some(v) = &g.percent {
                add(Metric::GrowthPercent, v)?;
            }
            if let Some(v) = &g.bytes {
                add(Metric::GrowthBytes, v)?;
            }
            if let Some(m) = &g.measure {
                budget.growth_measure =
                    growth_measure(m.get_ref()).map_err(|e| err(Some(m.span().start), e))?;
            }
        }
        Ok(budget)
    }

    /// Apply one `--limit KEY=VALUE` flag (the file's keys: `compressed=200MB`,
    /// `paths./root/.cache/**=0`, `growth.percent=5`, `growth.measure=compressed`).
    /// It replaces the file's limit of the same key.
    pub fn apply_flag(&mut self, flag: &str) -> std::result::Result<(), String> {
        let (key, value) = flag
            .split_once('=')
            .ok_or_else(|| format!("--limit `{flag}`: expected KEY=VALUE"))?;
        let (key, value) = (key.trim(), value.trim());
        if key == "growth.measure" {
            self.growth_measure = growth_measure(value)?;
            return Ok(());
        }
        let metric = match key.split_once('.') {
            Some(("paths", g)) => Metric::Path(path_key(g)?),
            Some(("categories", c)) => Metric::Category(category_key(c)?),
            Some(("rules", r)) => Metric::Rule(rule_key(r)?),
            Some(("packages", p)) if !p.is_empty() => Metric::Package(p.to_string()),
            Some(("growth", "percent")) => Metric::GrowthPercent,
            Some(("growth", "bytes")) => Metric::GrowthBytes,
            _ => match key {
                "compressed" => Metric::Compressed,
                "uncompressed" => Metric::Uncompressed,
                "content" => Metric::Content,
                "wasted" => Metric::Wasted,
                "wasted_percent" => Metric::WastedPercent,
                "layers" => Metric::Layers,
                "largest_layer" => Metric::LargestLayer,
                "your_layers" => Metric::YourLayers,
                _ => return Err(format!("--limit: unknown key `{key}` (see docs/ci.md)")),
            },
        };
        // A flag's value is text; a plain number is the same as in the file.
        let v = match (metric.unit(), value.parse::<i64>()) {
            (Unit::Count | Unit::Bytes, Ok(n)) => Value::Integer(n),
            _ => Value::Text(value.to_string()),
        };
        let max = amount(&metric, &v).map_err(|e| format!("--limit {e}"))?;
        self.set(Limit {
            metric,
            max,
            origin: Origin::Flag,
        });
        Ok(())
    }

    /// Add a limit, replacing one on the same metric; keeps the order by metric.
    pub fn set(&mut self, limit: Limit) {
        match self
            .limits
            .binary_search_by(|l| l.metric.cmp(&limit.metric))
        {
            Ok(i) => self.limits[i] = limit,
            Err(i) => self.limits.insert(i, limit),
        }
    }

    /// The path globs the budget measures, for [`measure_paths`].
    pub fn path_globs(&self) -> Vec<&str> {
        self.limits
            .iter()
            .filter_map(|l| match &l.metric {
                Metric::Path(g) => Some(g.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether a limit needs every package, not only the report's top rows.
    pub fn wants_packages(&self) -> bool {
        self.limits
            .iter()
            .any(|l| matches!(l.metric, Metric::Package(_)))
    }

    pub fn wants_baseline(&self) -> bool {
        self.limits
            .iter()
            .any(|l| matches!(l.metric, Metric::GrowthPercent | Metric::GrowthBytes))
    }
}

fn growth_measure(text: &str) -> std::result::Result<GrowthMeasure, String> {
    match text {
        "compressed" => Ok(GrowthMeasure::Compressed),
        "uncompressed" => Ok(GrowthMeasure::Uncompressed),
        "content" => Ok(GrowthMeasure::Content),
        _ => Err(format!(
            "growth.measure `{text}`: expected compressed, uncompressed or content"
        )),
    }
}

/// Visible bytes under one glob, and which layers put them there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathFigure {
    pub glob: String,
    pub bytes: u64,
    pub files: u64,
    /// By layer index, biggest first.
    pub layers: Vec<(usize, u64)>,
    /// The biggest matched files.
    pub top: Vec<(String, u64)>,
}

/// How many files of a glob are kept as examples.
const EXAMPLES: usize = 5;

/// Visible bytes of the files each glob matches, in one walk of the tree (a
/// hardlinked file counts once per glob).
pub fn measure_paths(tree: &FsTree, globs: &[&str]) -> Vec<PathFigure> {
    let mut set = GlobSetBuilder::new();
    for g in globs {
        // Checked when the budget was read.
        if let Ok(glob) = compile_glob(g) {
            set.add(glob);
        }
    }
    let set: GlobSet = set.build().unwrap_or_else(|_| GlobSet::empty());
    let mut figures: Vec<PathFigure> = globs
        .iter()
        .map(|g| PathFigure {
            glob: g.to_string(),
            ..PathFigure::default()
        })
        .collect();
    if globs.is_empty() {
        return figures;
    }
    let mut per_layer: Vec<BTreeMap<usize, u64>> = vec![BTreeMap::new(); globs.len()];
    let mut seen: Vec<Vec<bool>> = vec![vec![false; tree.inodes().len()]; globs.len()];
    let mut hits = Vec::new();
    let mut stack: Vec<(u32, usize)> = vec![(ROOT, 0)];
    let mut path: Vec<u8> = Vec::new();
    while let Some((id, len)) = stack.pop() {
        path.truncate(len);
        if id != ROOT {
            path.push(b'/');
            path.extend_from_slice(tree.name(id));
        }
        match tree.kind(id) {
            NodeKind::Dir => {
                let here = path.len();
                stack.extend(tree.children(id).into_iter().rev().map(|c| (c, here)));
            }
            NodeKind::File => {
                let Some(ino) = tree.inode(id) else { continue };
                let text = String::from_utf8_lossy(&path);
                set.matches_into(text.as_ref(), &mut hits);
                for &g in &hits {
                    if std::mem::replace(&mut seen[g][ino as usize], true) {
                        continue;
                    }
                    let inode = tree.inodes()[ino as usize];
                    let f = &mut figures[g];
                    f.bytes += inode.size;
                    f.files += 1;
                    *per_layer[g].entry(usize::from(inode.layer)).or_default() += inode.size;
                    f.top.push((text.to_string(), inode.size));
                    if f.top.len() > 4 * EXAMPLES {
                        keep_top(&mut f.top);
                    }
                }
            }
            _ => {}
        }
    }
    for (f, layers) in figures.iter_mut().zip(per_layer) {
        keep_top(&mut f.top);
        f.layers = layers.into_iter().filter(|&(_, b)| b > 0).collect();
        f.layers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    figures
}

fn keep_top(top: &mut Vec<(String, u64)>) {
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(EXAMPLES);
}

/// The earlier report growth is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// Where it was read from.
    pub source: String,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub content_bytes: u64,
    /// Its layers' diff_ids (a layer of the new image not among them is new).
    pub diff_ids: Vec<String>,
}

/// What the verdict reads besides the report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// From [`measure_paths`], one per path glob of the budget.
    pub paths: &'a [PathFigure],
    /// Every package (the report keeps only the top rows), when a package limit asks.
    pub packages: Option<&'a [PackageRow]>,
    pub baseline: Option<&'a Baseline>,
}

/// The outcome of one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Could not be measured (growth without a baseline); says why in `note`.
    Skipped,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
        }
    }
}

/// One limit against the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub limit: Limit,
    pub measured: Option<Amount>,
    pub status: Status,
    /// The layer the figure is about (the largest layer), if one.
    pub layer: Option<usize>,
    /// The layers that contribute most, biggest first: (index, bytes).
    pub layers: Vec<(usize, u64)>,
    /// Examples of what is measured (the biggest files under a glob).
    pub examples: Vec<(String, u64)>,
    /// Indexes into the report's findings whose fixes lower this figure, in the order
    /// to apply them; for a failure, only as many as bring it under the limit (or all).
    pub findings: Vec<usize>,
    /// The figure once those findings are fixed (bytes limits only).
    pub after: Option<u64>,
    pub note: Option<String>,
}

/// Every limit's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub outcomes: Vec<Outcome>,
    pub growth_measure: GrowthMeasure,
    /// The baseline's source, when one was given.
    pub baseline: Option<String>,
}

impl Verdict {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.status == Status::Fail)
            .count()
    }

    pub fn passed(&self) -> bool {
        self.failed() == 0
    }
}

/// Findings listed for one failure at most.
const EXPLAIN: usize = 5;

/// The categories whose bytes a rule's fix removes.
fn rule_reaches(rule: Rule, category: Category) -> bool {
    match rule {
        Rule::Cache(c) => c == category,
        Rule::Dockerignore => matches!(category, Category::Vcs | Category::Bytecode),
        Rule::DocsLocales => matches!(category, Category::Docs | Category::Locales),
        Rule::PackageTests => category == Category::Tests,
        Rule::Bytecode => category == Category::Bytecode,
        Rule::MultiStage | Rule::FullBase => {
            matches!(category, Category::Toolchain | Category::DevFiles)
        }
        Rule::DeletedLater | Rule::ChmodDuplicate => false,
    }
}

/// The literal directory a glob starts with (`/root/.cache` of `/root/.cache/**`).
fn literal_prefix(glob: &str) -> String {
    let anchored = if glob.starts_with('/') {
        glob.to_string()
    } else {
        format!("/{glob}")
    };
    let mut out = String::new();
    for c in anchored.split('/').skip(1) {
        if c.contains(['*', '?', '[', '{', '\\']) {
            break;
        }
        out.push('/');
        out.push_str(c);
    }
    out
}

fn overlaps(a: &str, b: &str) -> bool {
    let under = |x: &str, y: &str| {
        y.is_empty() || x == y || (x.starts_with(y) && x.as_bytes().get(y.len()) == Some(&b'/'))
    };
    under(a, b) || under(b, a)
}

/// The findings (indexes) that lower a metric, in the report's order.
fn related(r: &Report, metric: &Metric, largest: Option<usize>) -> Vec<usize> {
    let rows = &r.findings.rows;
    let keep = |f: &Finding| -> bool {
        match metric {
            Metric::Compressed
            | Metric::Uncompressed
            | Metric::Content
            | Metric::GrowthPercent
            | Metric::GrowthBytes => true,
            Metric::YourLayers => f.scope == Scope::Yours,
            Metric::LargestLayer => Some(f.layer) == largest,
            Metric::Wasted | Metric::WastedPercent => {
                matches!(f.rule, Rule::DeletedLater | Rule::ChmodDuplicate)
            }
            Metric::Layers => false,
            Metric::Path(g) => {
                let prefix = literal_prefix(g);
                f.paths.iter().any(|(p, _)| overlaps(p, &prefix))
            }
            Metric::Category(c) => rule_reaches(f.rule, *c),
            Metric::Rule(rule) => f.rule == *rule,
            Metric::Package(_) => f.rule == Rule::MultiStage,
        }
    };
    (0..rows.len()).filter(|&i| keep(&rows[i])).collect()
}

fn top_layers(mut layers: Vec<(usize, u64)>) -> Vec<(usize, u64)> {
    layers.retain(|&(_, b)| b > 0);
    layers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    layers.truncate(EXPLAIN);
    layers
}

/// Judge a report against a budget.
pub fn check(budget: &Budget, r: &Report, facts: &Facts<'_>) -> Verdict {
    let outcomes = budget
        .limits
        .iter()
        .map(|l| judge(l, budget.growth_measure, r, facts))
        .collect();
    Verdict {
        outcomes,
        growth_measure: budget.growth_measure,
        baseline: facts.baseline.map(|b| b.source.clone()),
    }
}

fn judge(limit: &Limit, measure: GrowthMeasure, r: &Report, facts: &Facts<'_>) -> Outcome {
    let t = &r.totals;
    let rows = &r.layers;
    let by = |f: fn(&super::LayerRow) -> u64| rows.iter().map(|l| (l.index, f(l))).collect();
    let mut out = Outcome {
        limit: limit.clone(),
        measured: None,
        status: Status::Pass,
        layer: None,
        layers: Vec::new(),
        examples: Vec::new(),
        findings: Vec::new(),
        after: None,
        note: None,
    };
    let (measured, layers): (Option<Amount>, Vec<(usize, u64)>) = match &limit.metric {
        Metric::Compressed => (
            Some(Amount::Bytes(t.compressed_bytes)),
            by(|l| l.compressed_bytes),
        ),
        Metric::Uncompressed => (
            Some(Amount::Bytes(t.uncompressed_bytes)),
            by(|l| l.uncompressed_bytes),
        ),
        Metric::Content => (
            Some(Amount::Bytes(t.content_bytes)),
            by(|l| l.content_bytes),
        ),
        Metric::Wasted => (Some(Amount::Bytes(t.wasted_bytes)), by(|l| l.wasted_bytes)),
        Metric::WastedPercent => {
            let p = if t.stored_bytes == 0 {
                0.0
            } else {
                t.wasted_bytes as f64 * 100.0 / t.stored_bytes as f64
            };
            (Some(Amount::Percent(p)), by(|l| l.wasted_bytes))
        }
        Metric::Layers => (Some(Amount::Count(t.layers as u64)), Vec::new()),
        Metric::LargestLayer => {
            let largest = rows
                .iter()
                .max_by(|a, b| {
                    a.uncompressed_bytes
                        .cmp(&b.uncompressed_bytes)
                        .then(b.index.cmp(&a.index))
                })
                .map(|l| (l.index, l.uncompressed_bytes));
            out.layer = largest.map(|(i, _)| i);
            (
                Some(Amount::Bytes(largest.map_or(0, |(_, b)| b))),
                largest.into_iter().collect(),
            )
        }
        Metric::YourLayers => (
            Some(Amount::Bytes(t.your_stored_bytes())),
            rows.iter()
                .filter(|l| !l.base)
                .map(|l| (l.index, l.added_bytes))
                .collect(),
        ),
        Metric::Path(g) => match facts.paths.iter().find(|p| &p.glob == g) {
            Some(p) => {
                out.examples = p.top.clone();
                (Some(Amount::Bytes(p.bytes)), p.layers.clone())
            }
            None => (None, Vec::new()),
        },
        Metric::Category(c) => match r.categories.rows.iter().find(|row| row.category == *c) {
            Some(row) => (
                Some(Amount::Bytes(row.bytes())),
                row.layers
                    .iter()
                    .map(|l| (l.index, l.content_bytes + l.wasted_bytes))
                    .collect(),
            ),
            // Categories the report cut are below every row it kept.
            None if r.categories.rest.rows == 0 => (Some(Amount::Bytes(0)), Vec::new()),
            None => (None, Vec::new()),
        },
        Metric::Rule(rule) => {
            let mine: Vec<&Finding> = r.findings.rows.iter().filter(|f| f.rule == *rule).collect();
            (
                Some(Amount::Bytes(mine.iter().map(|f| f.bytes).sum())),
                mine.iter().map(|f| (f.layer, f.bytes)).collect(),
            )
        }
        Metric::Package(name) => {
            let all = facts
                .packages
                .unwrap_or(r.packages.rows.rows.as_slice())
                .iter()
                .filter(|p| &p.name == name);
            let mut bytes = 0;
            let mut layers = Vec::new();
            for p in all {
                bytes += p.bytes;
                if let Some(l) = p.layer {
                    layers.push((l, p.bytes));
                }
            }
            (Some(Amount::Bytes(bytes)), layers)
        }
        Metric::GrowthPercent | Metric::GrowthBytes => match facts.baseline {
            None => {
                out.status = Status::Skipped;
                out.note = Some("no --baseline given".to_string());
                (None, Vec::new())
            }
            Some(b) => {
                let (now, then) = match measure {
                    GrowthMeasure::Compressed => (t.compressed_bytes, b.compressed_bytes),
                    GrowthMeasure::Uncompressed => (t.uncompressed_bytes, b.uncompressed_bytes),
                    GrowthMeasure::Content => (t.content_bytes, b.content_bytes),
                };
                let delta = now as i128 - then as i128;
                let amount = if limit.metric == Metric::GrowthBytes {
                    Amount::SignedBytes(i64::try_from(delta).unwrap_or(i64::MAX))
                } else if then == 0 {
                    Amount::Percent(if now == 0 { 0.0 } else { f64::INFINITY })
                } else {
                    Amount::Percent(delta as f64 * 100.0 / then as f64)
                };
                let new_layers = rows
                    .iter()
                    .filter(|l| l.diff_id.as_ref().is_none_or(|d| !b.diff_ids.contains(d)))
                    .map(|l| {
                        let bytes = match measure {
                            GrowthMeasure::Compressed => l.compressed_bytes,
                            GrowthMeasure::Uncompressed => l.uncompressed_bytes,
                            GrowthMeasure::Content => l.content_bytes,
                        };
                        (l.index, bytes)
                    })
                    .collect();
                out.note = Some(format!(
                    "{} {then} → {now} bytes; layers listed are new since the baseline",
                    measure.code()
                ));
                (Some(amount), new_layers)
            }
        },
    };
    out.layers = top_layers(layers);
    let Some(m) = measured else {
        if out.status != Status::Skipped {
            out.status = Status::Skipped;
            out.note = Some("not measured".to_string());
        }
        return out;
    };
    out.measured = Some(m);
    out.status = if m.within(limit.max) {
        Status::Pass
    } else {
        Status::Fail
    };
    if out.status == Status::Fail {
        explain(&mut out, r);
    }
    out
}

/// The findings to fix to get back under the limit, in the report's order, and the
/// figure after them.
fn explain(out: &mut Outcome, r: &Report) {
    let related = related(r, &out.limit.metric, out.layer);
    let rows = &r.findings.rows;
    // Over the whole list, in order, the incremental savings add up; over a subset
    // an earlier finding may be left out, so each counts what it saves alone.
    let whole = related.len() == rows.len();
    let saving = |f: &Finding| match (&out.limit.metric, whole) {
        (Metric::Compressed, true) => {
            (u128::from(f.compressed_bytes) * u128::from(f.incremental_bytes)
                / u128::from(f.bytes.max(1))) as u64
        }
        (Metric::Compressed, false) => f.compressed_bytes,
        (_, true) => f.incremental_bytes,
        (_, false) => f.bytes,
    };
    let (Some(Amount::Bytes(now)), Amount::Bytes(max)) = (out.measured, out.limit.max) else {
        out.findings = related.into_iter().take(EXPLAIN).collect();
        return;
    };
    let mut after = now;
    for i in related {
        if after <= max || out.findings.len() == EXPLAIN {
            break;
        }
        let s = saving(&rows[i]);
        if s == 0 {
            continue;
        }
        after = after.saturating_sub(s);
        out.findings.push(i);
    }
    if !out.findings.is_empty() {
        out.after = Some(after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_exact() {
        let ok = [
            ("0", 0),
            ("1500000", 1_500_000),
            ("1_500_000", 1_500_000),
            ("20MB", 20_000_000),
            ("20 MB", 20_000_000),
            ("20 MiB", 20 << 20),
            ("1.5 kB", 1_500),
            ("1.5KiB", 1_536),
            ("2 GB", 2_000_000_000),
            ("2GiB", 2 << 30),
            ("1 TB", 1_000_000_000_000),
            ("1 TiB", 1 << 40),
            ("7 B", 7),
            ("0.5 MiB", 1 << 19),
        ];
        for (text, bytes) in ok {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for bad in [
            "", "MB", "20 mb", "20 KB", "20 Mb", "1.5 B", "1..5 MB", "1. MB", "-3", "20 MBs",
        ] {
            let e = parse_size(bad).expect_err(bad);
            assert!(e.contains("MiB"), "{bad}: {e}");
        }
        assert!(parse_size("99999999999 TB").is_err());
    }

    #[test]
    fn errors_name_key_and_line() {
        let e = Budget::parse("[budget]\ncompressed = \"1 MB\"\nbogus = 1\n", "b.toml")
            .expect_err("unknown key");
        let s = e.to_string();
        assert!(s.starts_with("b.toml:3: "), "{s}");
        assert!(s.contains("bogus"), "{s}");
        let e = Budget::parse("[budget]\n\nwasted = \"3 Mb\"\n", "b.toml").expect_err("unit");
        assert!(
            e.to_string()
                .starts_with("b.toml:3: `wasted`: `3 Mb`: unknown unit")
        );
        let e = Budget::parse("[budget.categories]\ncats = 0\n", "b.toml").expect_err("cat");
        assert!(e.to_string().contains("b.toml:2: unknown category `cats`"));
        let e = Budget::parse("[budget.rules]\n\"pip\" = 0\n", "b.toml").expect_err("rule");
        assert!(e.to_string().contains("unknown rule `pip`"));
        let e = Budget::parse("[budget]\nlayers = \"3\"\n", "b.toml").expect_err("count");
        assert!(
            e.to_string()
                .contains("b.toml:2: `layers`: expected a whole number")
        );
    }

    #[test]
    fn flags_replace_file_limits() {
        let mut b =
            Budget::parse("[budget]\ncompressed = \"200 MB\"\n", "imgsize.toml").expect("parses");
        b.apply_flag("compressed=1MiB").expect("flag");
        b.apply_flag("paths./root/.cache/**=0").expect("flag");
        assert_eq!(b.limits.len(), 2);
        assert_eq!(b.limits[0].max, Amount::Bytes(1 << 20));
        assert_eq!(b.limits[0].origin, Origin::Flag);
        assert_eq!(b.limits[1].metric, Metric::Path("/root/.cache/**".into()));
        assert!(b.apply_flag("nothing").is_err());
        assert!(b.apply_flag("size=1").is_err());
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(literal_prefix("/root/.cache/**"), "/root/.cache");
        assert_eq!(literal_prefix("**/*.pyc"), "");
        assert_eq!(literal_prefix("usr/lib/python3*/test/**"), "/usr/lib");
        assert!(overlaps("/root/.cache/pip", "/root/.cache"));
        assert!(overlaps("/root", "/root/.cache"));
        assert!(!overlaps("/rootx", "/root"));
    }
}
