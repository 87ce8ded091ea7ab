//! The command line's messages: one `imgsize: error:`/`note:` line each, made
//! [`visible`], naming the input once, with a hint at the flag that gets past a
//! refusal where there is one.

use imgsize::render::format::visible;

/// The hint a decoder's refusal gets: the flag that raises its limit.
const DECODER_HINT: &str = " (raise it with --max-decoder-memory)";

/// The flag that raises the limit a problem names, as a hint.
fn limit_hint(problem: &str) -> Option<&'static str> {
    if problem.contains("decoder memory limit") {
        Some(DECODER_HINT)
    } else if problem.contains("(the layer path limit)") {
        Some(" (raise it with --max-layer-paths)")
    } else if problem.contains("(the layer name limit)") {
        Some(" (raise it with --max-layer-names)")
    } else {
        None
    }
}

/// A problem line with the hint at the flag that would get past it, if any.
pub(super) fn hinted(problem: &str) -> String {
    match limit_hint(problem) {
        Some(hint) => format!("{problem}{hint}"),
        None => problem.to_string(),
    }
}

/// An error message that names the input, without saying it twice, with a hint at the
/// flag that would get past it where there is one.
///
/// `platform_given`: `--platform` (or `IMGSIZE_PLATFORM`) was given, so a missing
/// platform is not answered with a hint to give it.
pub(super) fn named(input: &str, e: &imgsize::Error, platform_given: bool) -> anyhow::Error {
    let text = e.to_string();
    let hint = match e {
        imgsize::Error::UnsupportedDigest { .. } => " (--verify none skips digest checks)",
        imgsize::Error::PlatformNotFound { .. } if !platform_given => " (pick one with --platform)",
        imgsize::Error::RegistryAuth { .. } if text.contains("no credentials") => {
            " (log in with docker or podman, set IMGSIZE_REGISTRY_USERNAME and \
             IMGSIZE_REGISTRY_PASSWORD, or give --username with --password-stdin)"
        }
        imgsize::Error::Registry { .. } | imgsize::Error::RegistryUnreachable { .. }
            if text.contains("certificate") || text.contains("UnknownIssuer") =>
        {
            " (a registry with a private CA: --ca-cert FILE)"
        }
        _ => limit_hint(&text).unwrap_or(""),
    };
    // A Dockerfile's error is about that file, not the image; a registry's names the
    // image reference (normalised) or the registry itself.
    if let imgsize::Error::Dockerfile { .. }
    | imgsize::Error::Registry { .. }
    | imgsize::Error::RegistryUnreachable { .. }
    | imgsize::Error::RegistryAuth { .. } = e
    {
        return anyhow::anyhow!("{text}{hint}");
    }
    anyhow::anyhow!("{}{hint}", with_input(input, &e.to_string()))
}

/// One line on stderr, `imgsize: error: …` or `imgsize: note: …`. The message quotes
/// paths, tags and registry answers, so it is made [`visible`]: no control or bidi
/// character from an image reaches the terminal.
pub(super) fn say(kind: &str, message: &str) {
    eprintln!("imgsize: {kind}: {}", visible(message));
}

/// A `note:` line from the library (the shared cache going away).
pub(super) fn note(message: &str) {
    say("note", message);
}

/// A message prefixed with the input unless it names it already.
pub(super) fn with_input(input: &str, problem: &str) -> String {
    let shown = if input == "-" {
        "standard input"
    } else {
        input
    };
    if problem.contains(shown) {
        problem.to_string()
    } else {
        format!("{shown}: {problem}")
    }
}
