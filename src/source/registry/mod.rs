//! Images straight from a registry (the OCI distribution API), behind the same
//! [`BlobStore`] as files: the registry is seen as an OCI layout whose `index.json`
//! names the manifest the reference points at, and whose `blobs/<alg>/<hex>` are
//! fetched on demand: manifests and indexes from `/manifests/`, configs and layers from
//! `/blobs/`, layers as streams that the walker decompresses, hashes and walks as they
//! arrive. So platform choice, nested indexes, attestation manifests and every check
//! are the OCI layout's, unchanged. Nothing is written to disk.

pub mod auth;
pub mod catalog;
pub mod client;
pub mod download;
pub mod limits;
pub mod reference;
pub mod secrets;
mod served;

use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::json;

use super::documents::{self, REF_NAME};
use super::store::{BlobStore, METADATA_LIMIT, named_digest};
use crate::bytes::{Algorithm, digest};
use crate::error::{Error, Result};
pub use auth::Credential;
use client::{Client, Connect, Failure, MANIFEST_ACCEPT};
pub use limits::Limits;
pub use reference::Reference;
use served::{Kind, Served};

/// How to reach registries and who to say we are.
#[derive(Clone, Default)]
pub struct RegistryOptions {
    /// A user name and password given explicitly (flags, environment); otherwise the
    /// docker and podman credential stores are asked.
    pub credential: Option<Credential>,
    /// A CA certificate (PEM) trusted besides the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Plain http allowed for any registry (always allowed for one on this machine).
    pub insecure: bool,
    /// Timeouts and the image's deadline.
    pub limits: Limits,
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("credential", &self.credential)
            .field("ca_cert", &self.ca_cert)
            .field("insecure", &self.insecure)
            .field("limits", &self.limits)
            .finish()
    }
}

/// A registry repository seen as an OCI layout.
pub struct RegistryStore {
    name: String,
    client: Client,
    index: Vec<u8>,
    /// Manifests and indexes fetched so far, and the digests they name.
    served: Mutex<Served>,
}

/// A document's media type, all the rest of it skipped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Typed {
    #[serde(default)]
    media_type: Option<String>,
}

/// A kept document as a reader, without a copy.
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn registry_error(reference: &Reference, failure: Failure) -> Error {
    match failure {
        Failure::Auth(message) => Error::RegistryAuth {
            registry: reference.registry.clone(),
            message,
        },
        Failure::Unreachable(message) => Error::RegistryUnreachable {
            reference: reference.to_string(),
            message,
        },
        Failure::NotFound(message) | Failure::Other(message) => Error::Registry {
            reference: reference.to_string(),
            message,
        },
    }
}

/// Read a response body of at most `limit` bytes (`declared`: its Content-Length, to
/// allocate once).
fn read_limited(
    body: impl Read,
    declared: Option<u64>,
    limit: u64,
    what: &str,
) -> std::result::Result<Vec<u8>, Failure> {
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(limit + 1) as usize);
    body.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| Failure::Other(format!("GET {what}: {e}")))?;
    download::count(out.len() as u64);
    if out.len() as u64 > limit {
        return Err(Failure::Other(format!(
            "GET {what}: larger than the {limit}-byte limit for a manifest"
        )));
    }
    Ok(out)
}

const SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// The document a reference names, as the registry served it.
struct Tagged {
    bytes: Vec<u8>,
    /// The `Content-Type`, without parameters.
    content_type: Option<String>,
    /// `Docker-Content-Digest`.
    digest: Option<String>,
}

/// The credential for a reference: the one given, or the stored one.
fn credential_for(reference: &Reference, opts: &RegistryOptions) -> Result<Option<auth::Found>> {
    if let Some(c) = &opts.credential {
        return Ok(Some(auth::Found {
            credential: c.clone(),
            origin: "the given user name and password".to_string(),
        }));
    }
    auth::lookup(&reference.registry, &reference.repository).map_err(|m| Error::RegistryAuth {
        registry: reference.registry.clone(),
        message: m,
    })
}

/// GET the manifest or index a reference names (by tag or digest).
fn fetch_tagged(client: &Client, reference: &Reference, what: &str) -> Result<Tagged> {
    let fail = |f| registry_error(reference, f);
    let resp = client
        .get(what, &[("Accept", MANIFEST_ACCEPT.to_string())])
        .map_err(fail)?;
    let header = |k: &str| {
        resp.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    };
    let content_type = header("content-type")
        .map(|c| c.split(';').next().unwrap_or("").trim().to_string())
        .filter(|c| !c.is_empty());
    let digest = header("docker-content-digest");
    let declared = header("content-length").and_then(|l| l.parse().ok());
    let bytes = read_limited(
        resp.into_body().into_reader(),
        declared,
        METADATA_LIMIT,
        what,
    )
    .map_err(fail)?;
    Ok(Tagged {
        bytes,
        content_type,
        digest,
    })
}

/// The digest a reference's document goes by: a pinned digest (the layout's own
/// verification checks it), or what a tag's document hashes to, which the registry
/// must agree with.
fn tagged_digest(reference: &Reference, what: &str, tagged: &Tagged) -> Result<String> {
    if let Some(d) = &reference.digest {
        return Ok(d.clone());
    }
    let computed = digest::digest_of(Algorithm::Sha256, &tagged.bytes);
    if let Some(served) = tagged.digest.as_ref().filter(|s| s.starts_with("sha256:"))
        && *served != computed
    {
        return Err(Error::DigestMismatch {
            what: format!("{reference}: {what}"),
            expected: served.clone(),
            actual: computed,
        });
    }
    Ok(computed)
}

impl RegistryStore {
    /// Connect to the reference's registry and fetch the manifest it points at.
    pub fn open(reference: &Reference, opts: &RegistryOptions) -> Result<RegistryStore> {
        let connect = Connect {
            ca_cert: opts.ca_cert.as_deref(),
            allow_http: opts.insecure || reference.is_local(),
            limits: opts.limits,
        };
        let credential = credential_for(reference, opts)?;
        let client = Client::connect(reference, &connect, credential)
            .map_err(|f| registry_error(reference, f))?;
        let what = format!("manifests/{}", reference.manifest_ref());
        let tagged = fetch_tagged(&client, reference, &what)?;
        let doc: Typed = documents::parse(&tagged.bytes, &format!("{reference}: {what}"))?;
        let media_type = doc.media_type.or(tagged.content_type.clone());
        if let Some(mt) = media_type.as_deref().filter(|m| SCHEMA1.contains(m)) {
            return Err(Error::Registry {
                reference: reference.to_string(),
                message: format!(
                    "the registry serves a Docker schema 1 manifest ({mt}), which has no layer sizes; only OCI and Docker schema 2 images can be read"
                ),
            });
        }
        let digest = tagged_digest(reference, &what, &tagged)?;
        let index = json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": media_type,
                "digest": digest,
                "size": tagged.bytes.len(),
                "annotations": { REF_NAME: reference.to_string() },
            }],
        });
        let store = RegistryStore {
            name: reference.to_string(),
            client,
            index: serde_json::to_vec(&index).unwrap_or_default(),
            served: Mutex::new(Served::default()),
        };
        store.keep(&digest, tagged.bytes);
        Ok(store)
    }

    /// Keep a served manifest or index, and note the digests it names.
    fn keep(&self, digest: &str, bytes: Vec<u8>) -> Arc<Vec<u8>> {
        self.served().keep(digest, bytes)
    }

    fn served(&self) -> std::sync::MutexGuard<'_, Served> {
        self.served.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fetch a manifest or index by digest (its content is checked by the layout).
    fn fetch_manifest(&self, digest: &str) -> io::Result<Arc<Vec<u8>>> {
        let what = format!("manifests/{digest}");
        let resp = self
            .client
            .get(&what, &[("Accept", MANIFEST_ACCEPT.to_string())])
            .map_err(|f| match f {
                // Named but not there: a blob missing from a layout, as the layout
                // reader sees it.
                Failure::NotFound(m) => io::Error::new(io::ErrorKind::NotFound, m),
                f => io::Error::other(f.message().to_string()),
            })?;
        let declared = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok()?.trim().parse().ok());
        let bytes = read_limited(
            resp.into_body().into_reader(),
            declared,
            METADATA_LIMIT,
            &what,
        )
        .map_err(|f| io::Error::other(f.message().to_string()))?;
        self.keep(digest, bytes);
        // An index is let go once read: take it now.
        self.served()
            .take(digest)
            .ok_or_else(|| io::Error::other(format!("GET {what}: not kept")))
    }
}

impl BlobStore for RegistryStore {
    fn describe(&self) -> &str {
        &self.name
    }

    fn size(&self, path: &str) -> Option<u64> {
        if path == "index.json" {
            return Some(self.index.len() as u64);
        }
        let digest = named_digest(path)?;
        let served = self.served();
        if let Some(size) = served.held_size(&digest) {
            return Some(size);
        }
        // Sizes as the documents declare them; the walk checks them.
        let (size, _) = served.kind(&digest)?;
        Some(size.unwrap_or(0))
    }

    fn open(&self, path: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        if path == "index.json" {
            return Ok(Box::new(io::Cursor::new(self.index.clone())));
        }
        let not_found = || {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{path}: not named by the image"),
            )
        };
        let digest = named_digest(path).ok_or_else(not_found)?;
        let (held, kind) = {
            let mut served = self.served();
            (served.take(&digest), served.kind(&digest))
        };
        if let Some(doc) = held {
            return Ok(Box::new(io::Cursor::new(Shared(doc))));
        }
        match kind.ok_or_else(not_found)?.1 {
            Kind::Manifest => Ok(Box::new(io::Cursor::new(Shared(
                self.fetch_manifest(&digest)?,
            )))),
            Kind::Blob => {
                // A config or layer: the image is chosen, its index no longer needed.
                self.served().forget_children();
                Ok(Box::new(self.client.blob(&digest)?))
            }
        }
    }

    fn paths(&self) -> Vec<String> {
        vec!["index.json".to_string()]
    }
}
