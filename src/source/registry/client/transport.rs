//! Requests under the limits: redirects followed by hand (`Authorization` only to the
//! first origin, a redirect's signed query masked), transient failures retried after
//! the backoff or what `Retry-After` asks, every request given what is left of the
//! image's deadline, and failures described by the limit they hit.

use std::io::{self, Read};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use ureq::http::Response;
use ureq::{Body, Timeout};

use super::Client;
use crate::source::registry::limits::human;
use crate::source::registry::secrets::Secrets;

/// Transient failures retried per request (with backoff 0.25 s, 0.5 s, 1 s, 2 s, or
/// what `Retry-After` asks).
const RETRIES: u32 = 4;

/// Redirects followed per request.
const MAX_REDIRECTS: u32 = 8;

/// Error bodies are read up to this much, for the message.
const ERROR_BODY_LIMIT: u64 = 16 << 10;

/// Without a deadline, a `Retry-After` wait is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// `scheme://host[:port]` of a URL.
pub(super) fn origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// A redirect target made absolute.
pub(super) fn join(current: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if location.starts_with("//") {
        let scheme = current.split("://").next().unwrap_or("https");
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{}{location}", origin(current))
    } else {
        let dir = current.rsplit_once('/').map(|(d, _)| d).unwrap_or(current);
        format!("{dir}/{location}")
    }
}

/// One line of an error body: the registry's `errors[].message`, or the start of
/// the text, with control characters dropped and the secrets masked (before the
/// line is cut, so that no part of one is left).
pub(super) fn error_text(secrets: &Secrets, resp: Response<Body>) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let mut body = Vec::new();
    let _ = resp
        .into_body()
        .into_reader()
        .take(ERROR_BODY_LIMIT)
        .read_to_end(&mut body);
    let text = match serde_json::from_slice::<Errors>(&body) {
        Ok(e) => e
            .errors
            .iter()
            .map(|i| format!("{} {}", i.code, i.message).trim().to_string())
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => String::from_utf8_lossy(&body).into_owned(),
    };
    let text = secrets.scrub(&text);
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    clean.trim().to_string()
}

pub(super) fn status_line(status: u16, detail: &str) -> String {
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    match detail {
        "" => format!("{status} {reason}").trim().to_string(),
        d => format!("{status} {reason}: {d}"),
    }
}

fn transient(status: u16) -> bool {
    status == 429 || status == 408 || (500..=599).contains(&status) && status != 501
}

/// A failure worth another try: the connection, not a timeout (a request that timed
/// out has had its time; trying again would multiply it).
fn io_failure(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Io(_) | ureq::Error::ConnectionFailed)
}

/// How long a 429 or 503 asks to wait: `Retry-After` in seconds or as an HTTP date.
fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    let status = resp.status().as_u16();
    if status != 429 && status != 503 {
        return None;
    }
    let value = resp.headers().get("retry-after")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

impl Client {
    /// A redirect's query (a CDN's signed URL) is a secret too: the whole of it, and
    /// each value long enough to be a signature or a credential.
    pub(super) fn note_query(&self, url: &str) {
        let Some((_, query)) = url.split_once('?') else {
            return;
        };
        self.secrets.add(query);
        for pair in query.split('&') {
            if let Some((_, value)) = pair.split_once('=')
                && value.len() >= 8
            {
                self.secrets.add(value);
            }
        }
    }

    /// What is left of the image's time; an error once it is up.
    pub(super) fn remaining(&self) -> Result<Option<Duration>, String> {
        let Some(deadline) = self.deadline else {
            return Ok(None);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.past_deadline());
        }
        Ok(Some(left))
    }

    pub(super) fn past_deadline(&self) -> String {
        let d = self.limits.deadline.unwrap_or_default();
        format!("the image's {} deadline has passed (--deadline)", human(d))
    }

    /// Sleep before a retry, unless that would pass the deadline.
    pub(in crate::source::registry) fn wait(&self, pause: Duration) -> Result<(), String> {
        if let Some(left) = self.remaining()?
            && pause >= left
        {
            return Err(format!(
                "waiting {} more would pass the image's {} deadline (--deadline)",
                human(pause),
                human(self.limits.deadline.unwrap_or_default())
            ));
        }
        std::thread::sleep(pause);
        Ok(())
    }

    /// The backoff before retry number `attempt` (0-based): 0.25 s, doubling.
    pub(in crate::source::registry) fn backoff(attempt: u32) -> Duration {
        Duration::from_millis(250 << attempt.min(4))
    }

    /// A request failure in words that name the limit it hit.
    pub(super) fn describe(&self, e: &ureq::Error) -> String {
        let limits = &self.limits;
        match e {
            ureq::Error::Timeout(Timeout::Global) => self.past_deadline(),
            ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => format!(
                "no connection within {} (--request-timeout)",
                human(limits.request)
            ),
            ureq::Error::Timeout(
                Timeout::SendRequest | Timeout::RecvResponse | Timeout::PerCall,
            ) => format!(
                "no answer within {} (--request-timeout)",
                human(limits.request)
            ),
            ureq::Error::Timeout(_) => format!(
                "nothing received for {} (--stall-timeout)",
                human(limits.stall)
            ),
            e => e.to_string(),
        }
    }

    /// A body read's failure in words, and whether resuming could help (not once the
    /// deadline has passed).
    pub(in crate::source::registry) fn describe_io(&self, e: &io::Error) -> (String, bool) {
        match e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
            Some(u @ ureq::Error::Timeout(Timeout::Global)) => (self.describe(u), false),
            Some(u) => (self.describe(u), true),
            None => (e.to_string(), true),
        }
    }

    /// One request (following redirects by hand, retrying transient failures after
    /// the backoff or what `Retry-After` asks, within the deadline); the response may
    /// have any status.
    pub(super) fn send_retrying(
        &self,
        url: &str,
        headers: Option<&[(&str, String)]>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>, String> {
        let mut attempt = 0;
        loop {
            let pause = match self.send_following(url, headers, authorization) {
                Ok(resp) if transient(resp.status().as_u16()) && attempt < RETRIES => {
                    match retry_after(&resp) {
                        Some(asked) if self.deadline.is_none() => asked.min(MAX_RETRY_AFTER),
                        Some(asked) => asked,
                        None => Client::backoff(attempt),
                    }
                }
                Ok(resp) => return Ok(resp),
                Err((_, true)) if attempt < RETRIES => Client::backoff(attempt),
                Err((e, _)) => return Err(e),
            };
            self.wait(pause).map_err(|why| {
                format!(
                    "{}: the registry asked to try again later, and {why}",
                    strip_query(url)
                )
            })?;
            attempt += 1;
        }
    }

    /// One request and its redirects; `Authorization` only to the first origin.
    pub(super) fn send_following(
        &self,
        url: &str,
        headers: Option<&[(&str, String)]>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>, (String, bool)> {
        let first = origin(url).to_string();
        let mut current = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let left = self
                .remaining()
                .map_err(|e| (format!("{}: {e}", strip_query(&current)), false))?;
            let mut req = self
                .agent
                .get(&current)
                .config()
                .timeout_global(left)
                .build();
            for (k, v) in headers.unwrap_or(&[]) {
                req = req.header(*k, v.as_str());
            }
            if let Some(a) = authorization.filter(|_| origin(&current) == first) {
                req = req.header("Authorization", a);
            }
            let resp = req.call().map_err(|e| {
                let retry = io_failure(&e);
                (
                    format!("{}: {}", strip_query(&current), self.describe(&e)),
                    retry,
                )
            })?;
            let status = resp.status().as_u16();
            if !(300..400).contains(&status) || status == 304 {
                return Ok(resp);
            }
            let Some(location) = resp.headers().get("location").and_then(|v| v.to_str().ok())
            else {
                return Ok(resp);
            };
            let next = join(&current, location);
            if current.starts_with("https://") && next.starts_with("http://") {
                return Err((
                    format!(
                        "{}: redirected from https to plain http",
                        strip_query(&current)
                    ),
                    false,
                ));
            }
            self.note_query(&next);
            current = next;
        }
        Err((
            format!("{}: more than {MAX_REDIRECTS} redirects", strip_query(url)),
            false,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve() {
        let cur = "https://r.example/v2/app/blobs/sha256:ab?x=1";
        assert_eq!(origin(cur), "https://r.example");
        assert_eq!(join(cur, "/other"), "https://r.example/other");
        assert_eq!(join(cur, "https://cdn.example/x"), "https://cdn.example/x");
        assert_eq!(join(cur, "//cdn.example/x"), "https://cdn.example/x");
    }
}
