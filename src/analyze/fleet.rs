//! `imgsize fleet`: scan records summed into a [`Fleet`]. Images are known by digest
//! (several names of one image count once, and a retried image adds nothing); layers by
//! blob digest, so a layer shared by many images is stored once in the distinct totals,
//! and a fix on a shared layer is one fix that shrinks every image listing it. An error
//! record is dropped when the same name was read in another record. Pure: the records
//! come from `source::records`, the words from `render`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::fleet::{
    Family, Fleet, FleetChange, FleetError, FleetFix, FleetImage, FleetRule, FleetTotals,
    ImageChange, RuleChange, SharedLayer,
};
use crate::model::record::{ImageRecord, Record};

/// How many shared layers and fixes the fleet document keeps, biggest first.
pub const LISTED: usize = 50;

/// Rules whose fix is the image's structure, not one layer: one fix per image.
const STRUCTURAL: [&str; 2] = ["multi-stage", "full-base"];

/// One image with every name it was read as.
struct Member {
    record: ImageRecord,
    names: BTreeSet<String>,
    family: String,
}

impl Member {
    fn first_name(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }

    /// The key of layer `i`: its digest, or the image and index for an unnamed one.
    fn layer_key(&self, i: usize) -> String {
        match self.record.layers.get(i).and_then(|l| l.digest.as_ref()) {
            Some(d) => d.clone(),
            None => format!("{}#{i}", self.record.key()),
        }
    }
}

/// A distinct layer and the images that list it.
#[derive(Default)]
struct LayerUse {
    digest: Option<String>,
    compressed: u64,
    added: u64,
    images: usize,
    family: Option<String>,
    example: String,
}

/// A distinct fix and the images it shrinks.
#[derive(Default)]
struct FixUse {
    fix: FleetFix,
    images: BTreeSet<String>,
}

/// The family an image belongs to: its base's name, else its base's top layer.
fn family_of(r: &ImageRecord) -> String {
    if r.base.layers == 0 {
        return "(no base)".to_string();
    }
    if let Some(name) = &r.base.name {
        return name.clone();
    }
    match r
        .layers
        .get(r.base.layers - 1)
        .and_then(|l| l.digest.as_deref())
    {
        Some(d) => {
            let hex = d.split_once(':').map_or(d, |(_, h)| h);
            format!("base {}", &hex[..hex.len().min(12)])
        }
        None => "(unnamed base)".to_string(),
    }
}

/// The images by key, each once with all its names, in order of their first name; and
/// the errors of names no record read.
fn members(records: Vec<Record>) -> (Vec<Member>, Vec<FleetError>) {
    let mut by_key: BTreeMap<String, Member> = BTreeMap::new();
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    for record in records {
        match record {
            Record::Image(r) => match by_key.get_mut(r.key()) {
                Some(m) => {
                    m.names.insert(r.name.clone());
                }
                None => {
                    let family = family_of(&r);
                    let names = BTreeSet::from([r.name.clone()]);
                    by_key.insert(
                        r.key().to_string(),
                        Member {
                            record: r,
                            names,
                            family,
                        },
                    );
                }
            },
            Record::Error(e) => {
                errors.insert(e.name, e.error);
            }
        }
    }
    let read: BTreeSet<&String> = by_key.values().flat_map(|m| &m.names).collect();
    let errors = errors
        .into_iter()
        .filter(|(name, _)| !read.contains(name))
        .map(|(name, error)| FleetError { name, error })
        .collect();
    let mut members: Vec<Member> = by_key.into_values().collect();
    members.sort_by(|a, b| a.first_name().cmp(b.first_name()));
    (members, errors)
}

/// Every distinct layer, by key.
fn layer_uses(members: &[Member]) -> BTreeMap<String, LayerUse> {
    let mut uses: BTreeMap<String, LayerUse> = BTreeMap::new();
    for m in members {
        let mut seen = BTreeSet::new();
        for (i, l) in m.record.layers.iter().enumerate() {
            let key = m.layer_key(i);
            if !seen.insert(key.clone()) {
                continue;
            }
            let u = uses.entry(key).or_insert_with(|| LayerUse {
                digest: l.digest.clone(),
                compressed: l.compressed_bytes,
                added: l.added_bytes,
                example: m.first_name().to_string(),
                ..LayerUse::default()
            });
            u.images += 1;
            if i < m.record.base.layers && u.family.is_none() {
                u.family = Some(m.family.clone());
            }
        }
    }
    uses
}

fn totals(members: &[Member], uses: &BTreeMap<String, LayerUse>, errors: usize) -> FleetTotals {
    let mut t = FleetTotals {
        images: members.len(),
        names: members.iter().map(|m| m.names.len()).sum(),
        errors,
        distinct_layers: uses.len(),
        ..FleetTotals::default()
    };
    for m in members {
        let r = &m.record;
        t.incomplete += usize::from(!r.complete);
        t.layers += r.layers.len();
        t.compressed_bytes += r.totals.compressed_bytes;
        t.stored_bytes += r.totals.stored_bytes;
        t.wasted_bytes += r.totals.wasted_bytes;
    }
    for u in uses.values() {
        t.distinct_compressed_bytes += u.compressed;
        t.distinct_stored_bytes += u.added;
    }
    t
}

fn shared_layers(uses: &BTreeMap<String, LayerUse>) -> Vec<SharedLayer> {
    let mut shared: Vec<SharedLayer> = uses
        .values()
        .filter(|u| u.images >= 2)
        .filter_map(|u| {
            Some(SharedLayer {
                digest: u.digest.clone()?,
                images: u.images,
                compressed_bytes: u.compressed,
                added_bytes: u.added,
                pulled_bytes: u.compressed.saturating_mul(u.images as u64),
                family: u.family.clone(),
                example: u.example.clone(),
            })
        })
        .collect();
    shared.sort_by(|a, b| {
        b.pulled_bytes
            .cmp(&a.pulled_bytes)
            .then(a.digest.cmp(&b.digest))
    });
    shared.truncate(LISTED);
    shared
}

/// Every distinct fix: a rule on a layer (on an image, for structural rules).
fn fix_uses(members: &[Member]) -> BTreeMap<(String, String), FixUse> {
    let mut fixes: BTreeMap<(String, String), FixUse> = BTreeMap::new();
    for m in members {
        let r = &m.record;
        for f in &r.findings {
            let target = if STRUCTURAL.contains(&f.rule.as_str()) {
                format!("image {}", r.key())
            } else {
                m.layer_key(f.layer)
            };
            let u = fixes
                .entry((f.rule.clone(), target))
                .or_insert_with(|| FixUse {
                    fix: FleetFix {
                        rule: f.rule.clone(),
                        scope: f.scope.clone(),
                        layer_digest: r.layers.get(f.layer).and_then(|l| l.digest.clone()),
                        family: (f.layer < r.base.layers).then(|| m.family.clone()),
                        example: m.first_name().to_string(),
                        ..FleetFix::default()
                    },
                    images: BTreeSet::new(),
                });
            u.images.insert(r.key().to_string());
            u.fix.images = u.images.len();
            u.fix.bytes = u.fix.bytes.max(f.bytes);
            u.fix.summed_bytes += f.bytes;
            u.fix.summed_compressed_bytes += f.compressed_bytes;
        }
    }
    fixes
}

fn rules(fixes: &BTreeMap<(String, String), FixUse>) -> Vec<FleetRule> {
    let mut by_rule: BTreeMap<&str, (FleetRule, BTreeSet<&String>)> = BTreeMap::new();
    for u in fixes.values() {
        let f = &u.fix;
        let (rule, images) = by_rule.entry(&f.rule).or_insert_with(|| {
            (
                FleetRule {
                    rule: f.rule.clone(),
                    ..FleetRule::default()
                },
                BTreeSet::new(),
            )
        });
        rule.fixes += 1;
        rule.bytes += f.bytes;
        rule.summed_bytes += f.summed_bytes;
        rule.summed_compressed_bytes += f.summed_compressed_bytes;
        if f.scope == "base" {
            rule.base_bytes += f.bytes;
        }
        images.extend(&u.images);
    }
    let mut rules: Vec<FleetRule> = by_rule
        .into_values()
        .map(|(mut r, images)| {
            r.images = images.len();
            r
        })
        .collect();
    rules.sort_by(|a, b| {
        b.summed_bytes
            .cmp(&a.summed_bytes)
            .then(a.rule.cmp(&b.rule))
    });
    rules
}

/// A family's base layers by key: compressed and stored bytes.
type BaseLayers = BTreeMap<String, (u64, u64)>;

fn families(members: &[Member], fixes: &BTreeMap<(String, String), FixUse>) -> Vec<Family> {
    let mut by_name: BTreeMap<&str, (Family, BaseLayers)> = BTreeMap::new();
    for m in members {
        let r = &m.record;
        let (family, base) = by_name.entry(&m.family).or_insert_with(|| {
            (
                Family {
                    name: m.family.clone(),
                    base_layers: r.base.layers,
                    ..Family::default()
                },
                BTreeMap::new(),
            )
        });
        family.images += 1;
        family.compressed_bytes += r.totals.compressed_bytes;
        family.stored_bytes += r.totals.stored_bytes;
        for i in 0..r.base.layers.min(r.layers.len()) {
            let l = &r.layers[i];
            base.insert(m.layer_key(i), (l.compressed_bytes, l.added_bytes));
        }
    }
    for u in fixes.values() {
        if let Some((family, _)) = u
            .fix
            .family
            .as_deref()
            .and_then(|name| by_name.get_mut(name))
            && u.fix.scope == "base"
        {
            family.base_findings_bytes += u.fix.bytes;
        }
    }
    let mut families: Vec<Family> = by_name
        .into_values()
        .map(|(mut f, base)| {
            f.base_compressed_bytes = base.values().map(|b| b.0).sum();
            f.base_stored_bytes = base.values().map(|b| b.1).sum();
            f
        })
        .collect();
    families.sort_by(|a, b| {
        b.stored_bytes
            .cmp(&a.stored_bytes)
            .then(a.name.cmp(&b.name))
    });
    families
}

fn images(members: Vec<Member>) -> Vec<FleetImage> {
    let mut images: Vec<FleetImage> = members
        .into_iter()
        .map(|m| {
            let r = m.record;
            let own = r
                .layers
                .iter()
                .skip(r.base.layers)
                .map(|l| l.added_bytes)
                .sum();
            FleetImage {
                names: m.names.into_iter().collect(),
                digest: r.digest,
                platform: r.platform,
                family: m.family,
                layers: r.layers.len(),
                compressed_bytes: r.totals.compressed_bytes,
                stored_bytes: r.totals.stored_bytes,
                wasted_bytes: r.totals.wasted_bytes,
                own_bytes: own,
                complete: r.complete,
            }
        })
        .collect();
    images.sort_by(|a, b| {
        b.stored_bytes
            .cmp(&a.stored_bytes)
            .then(a.names.cmp(&b.names))
    });
    images
}

/// Each name's stored bytes.
fn by_name(images: &[FleetImage]) -> HashMap<&str, u64> {
    images
        .iter()
        .flat_map(|i| i.names.iter().map(move |n| (n.as_str(), i.stored_bytes)))
        .collect()
}

/// The fleet against the baseline fleet report.
fn change(now: &Fleet, before: &Fleet) -> FleetChange {
    let (old, new) = (by_name(&before.images), by_name(&now.images));
    let mut added: Vec<String> = new
        .keys()
        .filter(|n| !old.contains_key(*n))
        .map(|n| n.to_string())
        .collect();
    let mut removed: Vec<String> = old
        .keys()
        .filter(|n| !new.contains_key(*n))
        .map(|n| n.to_string())
        .collect();
    added.sort();
    removed.sort();
    let mut changed: Vec<ImageChange> = new
        .iter()
        .filter_map(|(n, &after)| {
            let &before = old.get(n)?;
            (before != after).then(|| ImageChange {
                name: n.to_string(),
                before_bytes: before,
                after_bytes: after,
            })
        })
        .collect();
    let growth = |c: &ImageChange| i128::from(c.after_bytes) - i128::from(c.before_bytes);
    changed.sort_by(|a, b| growth(b).cmp(&growth(a)).then(a.name.cmp(&b.name)));
    let summed = |f: &Fleet| -> BTreeMap<String, u64> {
        f.rules
            .iter()
            .map(|r| (r.rule.clone(), r.summed_bytes))
            .collect()
    };
    let (r0, r1) = (summed(before), summed(now));
    let names: BTreeSet<&String> = r0.keys().chain(r1.keys()).collect();
    let mut rules: Vec<RuleChange> = names
        .into_iter()
        .map(|r| RuleChange {
            rule: r.clone(),
            before_bytes: r0.get(r).copied().unwrap_or(0),
            after_bytes: r1.get(r).copied().unwrap_or(0),
        })
        .filter(|c| c.before_bytes != c.after_bytes)
        .collect();
    let delta = |c: &RuleChange| c.after_bytes.abs_diff(c.before_bytes);
    rules.sort_by(|a, b| delta(b).cmp(&delta(a)).then(a.rule.cmp(&b.rule)));
    FleetChange {
        before: before.totals,
        added,
        removed,
        changed,
        rules,
    }
}

/// The fleet of these records, read from `sources`, against an optional baseline.
pub fn fleet(records: Vec<Record>, sources: Vec<String>, baseline: Option<&Fleet>) -> Fleet {
    let (members, errors) = members(records);
    let uses = layer_uses(&members);
    let fixes = fix_uses(&members);
    let mut fleet = Fleet {
        sources,
        totals: totals(&members, &uses, errors.len()),
        shared_layers: shared_layers(&uses),
        families: families(&members, &fixes),
        rules: rules(&fixes),
        fixes: Vec::new(),
        images: Vec::new(),
        errors,
        change: None,
    };
    let mut all: Vec<FleetFix> = fixes.into_values().map(|u| u.fix).collect();
    all.sort_by(|a, b| {
        b.summed_bytes
            .cmp(&a.summed_bytes)
            .then(a.rule.cmp(&b.rule))
            .then(a.example.cmp(&b.example))
    });
    all.truncate(LISTED);
    fleet.fixes = all;
    fleet.images = images(members);
    fleet.change = baseline.map(|b| change(&fleet, b));
    fleet
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::{ErrorRecord, RecordBase, RecordFinding, RecordLayer, RecordTotals};

    fn layer(digest: &str, compressed: u64, added: u64) -> RecordLayer {
        RecordLayer {
            digest: Some(digest.to_string()),
            compressed_bytes: compressed,
            added_bytes: added,
        }
    }

    fn finding(rule: &str, scope: &str, layer: usize, bytes: u64) -> RecordFinding {
        RecordFinding {
            rule: rule.to_string(),
            scope: scope.to_string(),
            layer,
            bytes,
            compressed_bytes: bytes / 2,
        }
    }

    /// An image on the base `sha256:b` (named `debian`) with one layer of its own.
    fn image(name: &str, digest: &str, own: (&str, u64)) -> Record {
        let layers = vec![layer("sha256:b", 100, 300), layer(own.0, own.1 / 2, own.1)];
        Record::Image(ImageRecord {
            schema_version: 1,
            name: name.to_string(),
            digest: Some(digest.to_string()),
            totals: RecordTotals {
                compressed_bytes: layers.iter().map(|l| l.compressed_bytes).sum(),
                stored_bytes: layers.iter().map(|l| l.added_bytes).sum(),
                ..RecordTotals::default()
            },
            base: RecordBase {
                layers: 1,
                name: Some("debian".to_string()),
            },
            layers,
            findings: vec![
                finding("apt-archives", "base", 0, 50),
                finding("pip-cache", "yours", 1, own.1 / 10),
            ],
            complete: true,
            ..ImageRecord::default()
        })
    }

    fn error(name: &str) -> Record {
        Record::Error(ErrorRecord {
            schema_version: 1,
            name: name.to_string(),
            error: format!("{name}: gone"),
        })
    }

    fn sample() -> Vec<Record> {
        vec![
            image("a:1", "sha256:ia", ("sha256:la", 1000)),
            image("b:1", "sha256:ib", ("sha256:lb", 2000)),
            // Another tag of a:1, and a:1 read again.
            image("a:latest", "sha256:ia", ("sha256:la", 1000)),
            image("a:1", "sha256:ia", ("sha256:la", 1000)),
            // Failed once, read later; and failed for good.
            error("b:1"),
            error("c:1"),
        ]
    }

    #[test]
    fn images_count_once_and_shared_layers_once() {
        let f = fleet(sample(), vec!["r.jsonl".into()], None);
        let t = f.totals;
        assert_eq!((t.images, t.names, t.errors), (2, 3, 1));
        assert_eq!((t.layers, t.distinct_layers), (4, 3));
        assert_eq!(t.stored_bytes, 300 + 1000 + 300 + 2000);
        assert_eq!(t.distinct_stored_bytes, 300 + 1000 + 2000);
        assert_eq!(t.compressed_bytes, 100 + 500 + 100 + 1000);
        assert_eq!(t.distinct_compressed_bytes, 100 + 500 + 1000);
        assert_eq!(f.errors.len(), 1);
        assert_eq!(f.errors[0].name, "c:1");
        assert_eq!(f.images[0].names, ["b:1"]);
        assert_eq!(f.images[1].names, ["a:1", "a:latest"]);
        assert_eq!(f.images[1].own_bytes, 1000);
        assert_eq!(f.shared_layers.len(), 1);
        let s = &f.shared_layers[0];
        assert_eq!(
            (s.digest.as_str(), s.images, s.pulled_bytes),
            ("sha256:b", 2, 200)
        );
        assert_eq!(s.family.as_deref(), Some("debian"));
    }

    #[test]
    fn a_fix_of_a_shared_layer_is_one_fix_for_every_image() {
        let f = fleet(sample(), Vec::new(), None);
        let apt = f
            .rules
            .iter()
            .find(|r| r.rule == "apt-archives")
            .expect("apt");
        assert_eq!((apt.images, apt.fixes), (2, 1));
        assert_eq!((apt.bytes, apt.summed_bytes, apt.base_bytes), (50, 100, 50));
        assert_eq!(apt.summed_compressed_bytes, 50);
        let pip = f.rules.iter().find(|r| r.rule == "pip-cache").expect("pip");
        assert_eq!((pip.images, pip.fixes, pip.bytes), (2, 2, 300));
        let fix = f
            .fixes
            .iter()
            .find(|x| x.rule == "apt-archives")
            .expect("fix");
        assert_eq!(fix.images, 2);
        assert_eq!(fix.family.as_deref(), Some("debian"));
        assert_eq!(f.families.len(), 1);
        let fam = &f.families[0];
        assert_eq!(
            (fam.images, fam.base_layers, fam.base_stored_bytes),
            (2, 1, 300)
        );
        assert_eq!(fam.base_findings_bytes, 50);
    }

    #[test]
    fn the_change_names_what_came_went_and_grew() {
        let before = fleet(sample(), Vec::new(), None);
        let now = vec![
            image("a:1", "sha256:ia2", ("sha256:la2", 1500)),
            image("d:1", "sha256:id", ("sha256:ld", 10)),
        ];
        let f = fleet(now, Vec::new(), Some(&before));
        let c = f.change.expect("change");
        assert_eq!(c.before, before.totals);
        assert_eq!(c.added, ["d:1"]);
        assert_eq!(c.removed, ["a:latest", "b:1"]);
        assert_eq!(c.changed.len(), 1);
        assert_eq!(
            (
                c.changed[0].name.as_str(),
                c.changed[0].before_bytes,
                c.changed[0].after_bytes
            ),
            ("a:1", 1300, 1800)
        );
        let pip = c.rules.iter().find(|r| r.rule == "pip-cache").expect("pip");
        assert_eq!((pip.before_bytes, pip.after_bytes), (300, 151));
    }

    #[test]
    fn a_family_without_a_name_is_its_top_base_layer() {
        let Record::Image(mut r) = image("a:1", "sha256:ia", ("sha256:la", 10)) else {
            unreachable!()
        };
        r.base.name = None;
        r.layers[0].digest = Some(format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(family_of(&r), "base abababababab");
        r.base.layers = 0;
        assert_eq!(family_of(&r), "(no base)");
    }
}
