//! What must never appear in a message: the password, the identity token, every bearer
//! token a token service handed out, the `Authorization` values made of them, and the
//! user name and password of any `user:password@` in a URL. A registry (or a proxy in
//! front of it) may echo a request's headers in an error body, and imgsize quotes error
//! bodies; every message the client builds from registry text goes through
//! [`Secrets::scrub`] before it leaves the client.

use std::sync::Mutex;

use base64::Engine;

use super::auth::Credential;

/// What a secret is replaced by.
pub const MASK: &str = "***";

/// The secrets of one client, in every form a server could echo them in.
#[derive(Default)]
pub struct Secrets {
    /// Longest first, so that a secret inside a longer form is masked with it.
    forms: Mutex<Vec<String>>,
}

impl Secrets {
    /// The secrets of a credential (none for anonymous access).
    pub fn of(credential: Option<&Credential>) -> Secrets {
        let secrets = Secrets::default();
        match credential {
            Some(Credential::Basic { username, password }) => {
                secrets.add(password);
                let pair = format!("{username}:{password}");
                if !password.is_empty() {
                    secrets.add(&pair);
                }
                for engine in [
                    &base64::engine::general_purpose::STANDARD,
                    &base64::engine::general_purpose::STANDARD_NO_PAD,
                    &base64::engine::general_purpose::URL_SAFE,
                ] {
                    secrets.add(&engine.encode(&pair));
                }
            }
            Some(Credential::IdentityToken(token)) => secrets.add(token),
            None => {}
        }
        secrets
    }

    /// Add a secret (a token just received, say) in the forms a server could echo:
    /// as it is, percent-encoded (a query or a form), and JSON-escaped.
    pub fn add(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let mut forms = self.forms.lock().unwrap_or_else(|p| p.into_inner());
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"').to_string();
        for form in [
            secret.to_string(),
            percent(secret, false),
            percent(secret, true),
            json,
        ] {
            if !form.is_empty() && !forms.contains(&form) {
                forms.push(form);
            }
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// `text` with every secret, and the user information of every URL, replaced by
    /// [`MASK`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        let forms = self.forms.lock().unwrap_or_else(|p| p.into_inner());
        for form in forms.iter() {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), MASK);
            }
        }
        drop(forms);
        without_userinfo(&out)
    }
}

/// Percent-encoding as a query value (`%20`) or a form value (`+`) has it.
pub fn percent(value: &str, form: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else if form && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://user:password@host/…` → `scheme://***@host/…`, for every URL in `text`.
pub fn without_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(MASK);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_basic_credential_is_masked() {
        let s = Secrets::of(Some(&Credential::Basic {
            username: "ci".into(),
            password: "p@ss word\"1".into(),
        }));
        let pair = base64::engine::general_purpose::STANDARD.encode("ci:p@ss word\"1");
        let text = format!(
            "echo: Authorization: Basic {pair}; raw p@ss word\"1; pair ci:p@ss word\"1; \
             query p%40ss%20word%221; form p%40ss+word%221; json p@ss word\\\"1"
        );
        let clean = s.scrub(&text);
        assert_eq!(
            clean,
            "echo: Authorization: Basic ***; raw ***; pair ***; query ***; form ***; json ***"
        );
    }

    #[test]
    fn tokens_added_later_are_masked() {
        let s = Secrets::of(None);
        assert_eq!(s.scrub("Bearer abc.def"), "Bearer abc.def");
        s.add("abc.def");
        assert_eq!(
            s.scrub("Authorization: Bearer abc.def"),
            "Authorization: Bearer ***"
        );
        s.add("");
        assert_eq!(s.scrub("plain"), "plain");
    }

    #[test]
    fn user_information_in_urls_is_masked() {
        assert_eq!(
            without_userinfo("GET https://u:p@cdn.example/x?y=1 and http://h/p and ftp://a@b"),
            "GET https://***@cdn.example/x?y=1 and http://h/p and ftp://***@b"
        );
        assert_eq!(without_userinfo("no url: a@b"), "no url: a@b");
        assert_eq!(
            percent("repository:a/b:pull", false),
            "repository%3Aa%2Fb%3Apull"
        );
    }
}
