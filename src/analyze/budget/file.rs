//! The budget file and the `--limit` flags: the keys a budget sets ([`Metric`], a
//! contract documented in docs/ci.md), where each limit was set, and [`Budget::parse`]
//! and [`Budget::apply_flag`], whose errors name the file, the line and the key. Pure:
//! the text comes in, a [`Budget`] goes out; measuring and judging are elsewhere.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::measure::compile_glob;
use super::units::{Amount, SIZE_FORMS, Unit, parse_size};
use crate::analyze::categories::Category;
use crate::analyze::findings::Rule;
use crate::error::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
