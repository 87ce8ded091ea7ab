//! What the documents a registry served name, kept compact: each digest a manifest or
//! index names, with its declared size and whether it is fetched from `/manifests/`
//! or `/blobs/`. An index may name a million entries: they are read one at a time,
//! annotations and platforms skipped, and a sha256 digest is kept as its 32 bytes.
//! Manifests are kept to be served again; an index is served once and let go, and
//! the entries it named are forgotten once a blob is fetched (the image has been
//! chosen by then), so that nothing of an index is held while layers are read.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

/// What a digest named by a served document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A manifest or index: fetched from `/manifests/`.
    Manifest,
    /// A config or layer: fetched from `/blobs/`.
    Blob,
}

/// A digest as a map key: sha256 as its bytes, anything else as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Sha256([u8; 32]),
    Other(Box<str>),
}

impl Key {
    fn of(digest: &str) -> Key {
        let mut bytes = [0u8; 32];
        match digest.strip_prefix("sha256:") {
            Some(hex) if hex.len() == 64 && hex::decode_to_slice(hex, &mut bytes).is_ok() => {
                // Uppercase hex is not a valid digest: keep it apart, as written.
                if hex.bytes().all(|b| !b.is_ascii_uppercase()) {
                    return Key::Sha256(bytes);
                }
                Key::Other(digest.into())
            }
            _ => Key::Other(digest.into()),
        }
    }
}

/// One descriptor's digest and size, as JSON has them.
#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    size: Option<i64>,
}

impl Named {
    fn entry(self) -> Option<(Key, Option<u64>)> {
        let digest = self.digest?;
        Some((
            Key::of(&digest),
            self.size.and_then(|s| u64::try_from(s).ok()),
        ))
    }
}

/// The digests of a descriptor list, read one at a time.
#[derive(Default)]
struct Entries(Vec<(Key, Option<u64>)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of descriptors")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(named) = seq.next_element::<Named>()? {
                    out.extend(named.entry());
                }
                Ok(Entries(out))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Entries, E> {
                Ok(Entries::default())
            }
        }
        deserializer.deserialize_any(List)
    }
}

/// The parts of a manifest or index that name other documents.
#[derive(Deserialize)]
struct Naming {
    #[serde(default)]
    config: Option<Named>,
    #[serde(default)]
    layers: Option<Entries>,
    #[serde(default)]
    manifests: Option<Entries>,
}

/// Documents served so far and the digests they name.
#[derive(Default)]
pub struct Served {
    /// What manifests name, and the documents served.
    known: HashMap<Key, (Option<u64>, Kind)>,
    /// What indexes name: manifests, with their declared sizes.
    children: HashMap<Key, Option<u64>>,
    /// Manifests (not indexes) by digest, to serve again.
    manifests: HashMap<Key, Arc<Vec<u8>>>,
    /// An index, until it has been read once.
    indexes: HashMap<Key, Arc<Vec<u8>>>,
}

impl Served {
    /// Keep a served document, and note the digests it names (a document that is not
    /// JSON names none; the layout's reader says what is wrong with it).
    pub fn keep(&mut self, digest: &str, bytes: Vec<u8>) -> Arc<Vec<u8>> {
        let key = Key::of(digest);
        self.known
            .insert(key.clone(), (Some(bytes.len() as u64), Kind::Manifest));
        let naming = serde_json::from_slice::<Naming>(&bytes).ok();
        let is_index = naming.as_ref().is_some_and(|n| n.manifests.is_some());
        if let Some(naming) = naming {
            let blobs = naming.config.and_then(Named::entry).into_iter();
            let blobs = blobs.chain(naming.layers.unwrap_or_default().0);
            for (k, size) in blobs {
                self.known.entry(k).or_insert((size, Kind::Blob));
            }
            for (k, size) in naming.manifests.unwrap_or_default().0 {
                self.children.entry(k).or_insert(size);
            }
        }
        let bytes = Arc::new(bytes);
        match is_index {
            true => self.indexes.insert(key, bytes.clone()),
            false => self.manifests.insert(key, bytes.clone()),
        };
        bytes
    }

    /// A served document's bytes; an index's only the first time.
    pub fn take(&mut self, digest: &str) -> Option<Arc<Vec<u8>>> {
        let key = Key::of(digest);
        if let Some(doc) = self.manifests.get(&key) {
            return Some(doc.clone());
        }
        self.indexes.remove(&key)
    }

    /// The size of a document still held.
    pub fn held_size(&self, digest: &str) -> Option<u64> {
        let key = Key::of(digest);
        let doc = self.manifests.get(&key).or(self.indexes.get(&key))?;
        Some(doc.len() as u64)
    }

    /// What a digest is and its declared size, when a served document names it.
    pub fn kind(&self, digest: &str) -> Option<(Option<u64>, Kind)> {
        let key = Key::of(digest);
        if let Some(known) = self.known.get(&key) {
            return Some(*known);
        }
        Some((*self.children.get(&key)?, Kind::Manifest))
    }

    /// Forget what indexes named: the image is chosen.
    pub fn forget_children(&mut self) {
        if !self.children.is_empty() {
            self.children = HashMap::new();
            self.indexes = HashMap::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_names_its_children_and_is_served_once() {
        let child = format!("sha256:{}", "ab".repeat(32));
        let index = format!(
            r#"{{"manifests":[{{"digest":"{child}","size":7,"annotations":{{"a":"b"}},"platform":{{"os":"linux"}}}}]}}"#
        );
        let mut served = Served::default();
        served.keep("sha256:00", index.clone().into_bytes());
        assert_eq!(served.kind(&child), Some((Some(7), Kind::Manifest)));
        assert_eq!(served.held_size("sha256:00"), Some(index.len() as u64));
        assert!(served.take("sha256:00").is_some());
        assert!(
            served.take("sha256:00").is_none(),
            "an index is served once"
        );
        assert_eq!(served.kind(&child.to_uppercase()), None);
        served.forget_children();
        assert_eq!(served.kind(&child), None);
    }

    #[test]
    fn a_manifest_names_its_blobs_and_is_kept() {
        let config = format!("sha256:{}", "01".repeat(32));
        let layer = format!("sha256:{}", "02".repeat(32));
        let manifest = format!(
            r#"{{"config":{{"digest":"{config}","size":2}},"layers":[{{"digest":"{layer}","size":-1}}]}}"#
        );
        let mut served = Served::default();
        served.keep("sha256:11", manifest.into_bytes());
        assert_eq!(served.kind(&config), Some((Some(2), Kind::Blob)));
        assert_eq!(served.kind(&layer), Some((None, Kind::Blob)));
        assert!(served.take("sha256:11").is_some());
        assert!(served.take("sha256:11").is_some());
    }
}
