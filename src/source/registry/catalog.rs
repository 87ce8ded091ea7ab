//! A registry's images listed: `/v2/_catalog` for the repositories and
//! `/v2/<name>/tags/list` for each one's tags, every page of both (`?n=` asks for a
//! page size, and a `Link: <…>; rel="next"` header names the next page), through the
//! same client, credentials and plain-http rule as the images themselves. The
//! repositories are picked by a path glob (`*` within one segment, `**` across
//! segments) and the tags by a glob with `|` alternatives (`latest|v*`).

use std::io::Read;

use serde::Deserialize;

use super::client::{Client, Connect, Failure};
use super::{Reference, RegistryOptions, credential_for, registry_error};
use crate::error::{Error, Result};

/// The page size asked for when none is given.
pub const PAGE_SIZE: usize = 100;

/// The most a catalog or tag list page may hold, in bytes.
const PAGE_LIMIT: u64 = 16 << 20;

/// What to list: which registry, which repositories and tags.
#[derive(Debug, Clone)]
pub struct Listing<'a> {
    /// `host[:port]`.
    pub host: &'a str,
    /// A path glob: `*` matches within one segment, `**` across segments.
    pub repositories: &'a str,
    /// A glob with `|` alternatives (`*` matches any run of characters); `None`: every tag.
    pub tags: Option<&'a str>,
    /// The `?n=` page size asked for.
    pub page_size: usize,
}

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// Whether `name` matches the path glob `pattern`: `*` matches any run of characters
/// but `/`, `**` any run at all, other characters themselves.
pub fn path_glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p {
            [] => n.is_empty(),
            [b'*', b'*', rest @ ..] => {
                // `**/` also matches no segment at all.
                if let [b'/', after @ ..] = rest
                    && go(after, n)
                {
                    return true;
                }
                (0..=n.len()).any(|i| go(rest, &n[i..]))
            }
            [b'*', rest @ ..] => (0..=n.len())
                .take_while(|&i| i == 0 || n[i - 1] != b'/')
                .any(|i| go(rest, &n[i..])),
            [c, rest @ ..] => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// Whether `tag` matches one of the `|`-separated globs of `pattern` (`*`: any run of
/// characters), each over the whole tag.
pub fn tag_glob(pattern: &str, tag: &str) -> bool {
    pattern
        .split('|')
        .any(|alt| path_glob(&alt.trim().replace('*', "**"), tag))
}

/// The next page's path after `/v2/`, from a `Link: <…>; rel="next"` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        // An absolute link keeps only its path: the client's base is the registry's.
        let path = match target.find("://") {
            Some(i) => &target[i + 3..][target[i + 3..].find('/')?..],
            None => target,
        };
        is_next.then(|| path.strip_prefix("/v2/").unwrap_or(path).to_string())
    })
}

/// GET one page: its body and the next page's path, if any.
fn page(client: &Client, path: &str) -> std::result::Result<(Vec<u8>, Option<String>), Failure> {
    let resp = client.get_api(path)?;
    let next = resp
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .and_then(next_link);
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .take(PAGE_LIMIT)
        .read_to_end(&mut body)
        .map_err(|e| Failure::Other(format!("GET {path}: {e}")))?;
    Ok((body, next))
}

/// Every page from `first` on, each parsed by `items`.
fn all_pages(
    client: &Client,
    first: String,
    items: impl Fn(&[u8]) -> Option<Vec<String>>,
) -> std::result::Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    let mut next = Some(first);
    let mut seen = std::collections::HashSet::new();
    while let Some(path) = next.take() {
        if !seen.insert(path.clone()) {
            break;
        }
        let (body, link) = page(client, &path)?;
        let what = path.split('?').next().unwrap_or(&path).to_string();
        let got = items(&body)
            .ok_or_else(|| Failure::Other(format!("GET {what}: the answer is not a list")))?;
        out.extend(got);
        next = link;
    }
    Ok(out)
}

/// Connect to the registry at `host` as the images are connected to.
fn connect(host: &str, opts: &RegistryOptions) -> Result<(Reference, Client)> {
    let reference = Reference::parse(&format!("{host}/catalog"))
        .ok()
        .filter(|r| r.registry == host)
        .ok_or_else(|| Error::Registry {
            reference: host.to_string(),
            message: "not a registry host (HOST or HOST:PORT)".to_string(),
        })?;
    let connect = Connect {
        ca_cert: opts.ca_cert.as_deref(),
        allow_http: opts.insecure || reference.is_local(),
        limits: opts.limits,
    };
    let credential = credential_for(&reference, opts)?;
    let client = Client::connect(&reference, &connect, credential).map_err(|f| {
        let mut e = registry_error(&reference, f);
        if let Error::Registry { reference, .. } | Error::RegistryUnreachable { reference, .. } =
            &mut e
        {
            *reference = host.to_string();
        }
        e
    })?;
    Ok((reference, client))
}

/// Whether a listed name is a valid reference to an image of `host` (a registry's
/// answer must not make a name that reads as something else, such as a path).
fn is_reference_of(name: &str, host: &str) -> bool {
    Reference::parse(name).is_ok_and(|r| r.registry == host && r.digest.is_none())
}

/// Every `HOST/repository:tag` the listing picks, repositories in the catalog's
/// order, tags in each list's; a listed name that is not a valid reference is left out.
pub fn list(listing: &Listing<'_>, opts: &RegistryOptions) -> Result<Vec<String>> {
    let host = listing.host;
    let (_, client) = connect(host, opts)?;
    let fail = |what: &str, f: Failure| Error::Registry {
        reference: host.to_string(),
        message: format!("cannot list {what}: {}", f.message()),
    };
    let n = listing.page_size.max(1);
    let repositories = all_pages(&client, format!("_catalog?n={n}"), |b| {
        serde_json::from_slice::<CatalogPage>(b)
            .ok()
            .map(|p| p.repositories.unwrap_or_default())
    })
    .map_err(|f| fail("the repositories", f))?;
    let mut names = Vec::new();
    for repository in repositories
        .iter()
        .filter(|r| path_glob(listing.repositories, r))
    {
        let tags = all_pages(&client, format!("{repository}/tags/list?n={n}"), |b| {
            serde_json::from_slice::<TagsPage>(b)
                .ok()
                .map(|p| p.tags.unwrap_or_default())
        })
        .map_err(|f| fail(&format!("the tags of {repository}"), f))?;
        names.extend(
            tags.iter()
                .filter(|t| listing.tags.is_none_or(|p| tag_glob(p, t)))
                .map(|t| format!("{host}/{repository}:{t}"))
                .filter(|name| is_reference_of(name, host)),
        );
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_stays_in_its_segment_and_two_cross_them() {
        assert!(path_glob("team/*", "team/a"));
        assert!(!path_glob("team/*", "team/a/b"));
        assert!(!path_glob("team/*", "other/c"));
        assert!(path_glob("*", "app"));
        assert!(!path_glob("*", "team/a"));
        assert!(path_glob("**", "team/a/b"));
        assert!(path_glob("team/**", "team/a/b"));
        assert!(path_glob("**/c", "c"));
        assert!(path_glob("**/c", "other/x/c"));
        assert!(path_glob("t*m/a", "team/a"));
    }

    #[test]
    fn tag_globs_take_alternatives() {
        assert!(tag_glob("latest|v*", "latest"));
        assert!(tag_glob("latest|v*", "v1.2"));
        assert!(!tag_glob("latest|v*", "dev"));
        assert!(!tag_glob("v1", "v10"));
        assert!(tag_glob("*", "anything.at-all"));
    }

    #[test]
    fn the_next_link_is_a_path_under_v2() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://r.example/v2/a/tags/list?n=1&last=x>; rel=next"#).as_deref(),
            Some("a/tags/list?n=1&last=x")
        );
        assert_eq!(next_link(r#"</v2/_catalog?n=2>; rel="prev""#), None);
    }
}
