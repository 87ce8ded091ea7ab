//! Which characters of a text from an image may reach a terminal raw, and a URL as a
//! message may show it.

/// Whether a character must not reach a terminal raw: C0 controls (line breaks and
/// tabs too: a field is one line), DEL, C1 controls, the bidirectional controls (the
/// embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, the marks
/// U+200E, U+200F and U+061C) and the line and paragraph separators U+2028, U+2029.
pub fn hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200e}' | '\u{200f}' | '\u{061c}'
        | '\u{2028}' | '\u{2029}')
}

/// Whether a text holds no [`hidden`] character: it may be written into a file a
/// terminal shows (a Dockerfile diff) as it is.
pub fn plain(text: &str) -> bool {
    !text.chars().any(hidden)
}

/// A URL as messages show it: any user and password replaced by `***`.
pub fn url_shown(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split('/').next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[authority.len()..]),
        None => url.to_string(),
    }
}
