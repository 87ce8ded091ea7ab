//! The auth flow: a `WWW-Authenticate` challenge parsed, and the credential it asks
//! for: basic auth, or a bearer token from the token service (anonymous, with basic
//! credentials over https or to the registry's own host, or with an identity token).
//! Every token received joins the secrets masked in messages.

use std::io::Read;

use serde::Deserialize;
use ureq::Body;
use ureq::http::Response;

use super::transport::{error_text, origin, status_line};
use super::{Client, Failure, Scheme};
use crate::source::registry::auth::{Credential, Found};
use crate::source::registry::secrets::percent;

/// Parse a `WWW-Authenticate` challenge: the scheme (lowercased) and its parameters
/// (keys lowercased, quoted values unescaped), in order.
///
/// Public so that the fuzz targets (`fuzz/`) can reach it; the client is its only
/// caller in the crate.
pub fn parse_challenge(value: &str) -> (String, Vec<(String, String)>) {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => val.extend(chars.next()),
                    '"' => break,
                    c => val.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != ',') {
                val.push(c);
                chars.next();
            }
        }
        params.push((key.trim().to_ascii_lowercase(), val));
    }
    (scheme.to_ascii_lowercase(), params)
}

/// A token service's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl Client {
    /// Take a challenge: remember the scheme and get the credential it needs.
    pub(super) fn learn(&self, challenge: &str) -> Result<(), Failure> {
        let (scheme, params) = parse_challenge(challenge);
        let param = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let scheme = match scheme.as_str() {
            "bearer" => Scheme::Bearer {
                realm: param("realm").ok_or_else(|| {
                    Failure::Other("the registry's bearer challenge names no realm".to_string())
                })?,
                service: param("service"),
            },
            "basic" => Scheme::Basic,
            _ => {
                return Err(Failure::Other(format!(
                    "the registry asks for authentication of an unknown kind ({})",
                    scheme
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(40)
                        .collect::<String>()
                )));
            }
        };
        let header = match &scheme {
            Scheme::Anonymous => None,
            Scheme::Basic => match &self.credential {
                Some(Found {
                    credential: Credential::Basic { username, password },
                    ..
                }) => Some(Credential::basic_header(username, password)),
                Some(found) => {
                    return Err(Failure::Auth(format!(
                        "the registry wants a user name and password; {} holds a token",
                        found.origin
                    )));
                }
                None => return Err(self.no_credentials()),
            },
            Scheme::Bearer { realm, service } => {
                let scope = param("scope")
                    .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
                let token = self.token(realm, service.as_deref(), &scope)?;
                self.secrets.add(&token);
                Some(format!("Bearer {token}"))
            }
        };
        let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        state.scheme = scheme;
        state.header = header;
        Ok(())
    }

    pub(super) fn no_credentials(&self) -> Failure {
        Failure::Auth(format!(
            "authentication required, and no credentials for {} were found",
            self.registry
        ))
    }

    /// Where the credentials came from, for messages.
    pub(super) fn origin_note(&self) -> String {
        match &self.credential {
            Some(f) => format!(" with the credentials from {}", f.origin),
            None => " anonymously".to_string(),
        }
    }

    /// A token for `scope` from the token service.
    pub(super) fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<String, Failure> {
        if !realm.starts_with("https://") && !realm.starts_with("http://") {
            return Err(Failure::Other(format!(
                "the registry's token service {:?} is not an http(s) URL",
                realm.chars().take(80).collect::<String>()
            )));
        }
        // Credentials go to the token service over https, or to this registry's own host.
        let may_send = realm.starts_with("https://") || origin(realm) == self.base;
        let mut query = vec![format!("scope={}", percent(scope, false))];
        if let Some(s) = service {
            query.insert(0, format!("service={}", percent(s, false)));
        }
        let credential = self.credential.as_ref().filter(|_| may_send);
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", query.join("&"));
        let failed = |e: String| Failure::Other(format!("token service: {e}"));
        let resp = match credential.map(|f| &f.credential) {
            Some(Credential::IdentityToken(t)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", t.as_str()),
                    ("client_id", "imgsize"),
                    ("scope", scope),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                let left = self.remaining().map_err(failed)?;
                self.agent
                    .post(realm)
                    .config()
                    .timeout_global(left)
                    .build()
                    .send_form(form)
                    .map_err(|e| failed(self.describe(&e)))?
            }
            Some(Credential::Basic { username, password }) => self
                .send_retrying(
                    &url,
                    None,
                    Some(&Credential::basic_header(username, password)),
                )
                .map_err(failed)?,
            None => self.send_retrying(&url, None, None).map_err(failed)?,
        };
        self.token_answer(resp)
    }

    /// The token in a token service's answer, or why there is none.
    pub(super) fn token_answer(&self, resp: Response<Body>) -> Result<String, Failure> {
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let detail = error_text(&self.secrets, resp);
            return Err(match &self.credential {
                Some(_) => Failure::Auth(format!(
                    "authentication failed{}: the token service answered {}",
                    self.origin_note(),
                    status_line(status, &detail)
                )),
                None => self.no_credentials(),
            });
        }
        if !(200..300).contains(&status) {
            return Err(Failure::Other(format!(
                "token service: {}",
                status_line(status, &error_text(&self.secrets, resp))
            )));
        }
        let mut body = Vec::new();
        resp.into_body()
            .into_reader()
            .take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| Failure::Other(format!("token service: {}", self.describe_io(&e).0)))?;
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| Failure::Other("the token service's answer is not a token".to_string()))?;
        answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Other("the token service gave no token".to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(
            p,
            [
                (
                    "realm".to_string(),
                    "https://auth.docker.io/token".to_string()
                ),
                ("service".to_string(), "registry.docker.io".to_string()),
                (
                    "scope".to_string(),
                    "repository:library/ubuntu:pull,push".to_string()
                ),
            ]
        );
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((s.as_str(), p.len()), ("basic", 1));
        let (s, p) = parse_challenge("Basic");
        assert_eq!((s.as_str(), p.len()), ("basic", 0));
    }
}
