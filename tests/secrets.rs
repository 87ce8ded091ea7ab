//! No credential is ever echoed: a registry, its token service or a CDN that repeats
//! the request's headers (and query) in an error body gets its text quoted with every
//! secret masked as `***`, on stderr and in every report format that carries errors.
//! Each case runs the binary against the in-test [`FakeRegistry`] and searches stdout
//! and stderr byte for byte for every form of the secrets: the password, `user:password`,
//! its base64 (the Basic header's), the bearer token and a CDN's signature.

use base64::Engine;

use crate::hostile::{Setup, assert_error_saying, imgsize, with_user};
use crate::util::fake_registry::{Faults, Route, SIGNATURE, TOKEN};
use crate::util::registry::Imgsize;

const USER: &str = "ci-bot";
/// A password with characters that JSON, URLs and base64 each treat specially.
const PASSWORD: &str = "s3cr\"t/p@ss+word";

/// Every form a secret could be echoed in.
fn secret_forms() -> Vec<String> {
    let pair = format!("{USER}:{PASSWORD}");
    vec![
        PASSWORD.to_string(),
        pair.clone(),
        base64::engine::general_purpose::STANDARD.encode(&pair),
        TOKEN.to_string(),
        SIGNATURE.to_string(),
        SIGNATURE.split_once('=').expect("k=v").1.to_string(),
    ]
}

/// How the credentials are given.
#[derive(Clone, Copy, Debug)]
enum Given {
    /// IMGSIZE_REGISTRY_USERNAME and IMGSIZE_REGISTRY_PASSWORD.
    Environment,
    /// `--username` and `--password-stdin`.
    Stdin,
}

fn with_credentials(cmd: Imgsize, given: Given) -> Imgsize {
    match given {
        Given::Environment => with_user(cmd, USER, PASSWORD),
        Given::Stdin => cmd
            .env("IMGSIZE_REGISTRY_USERNAME", USER)
            .stdin(&format!("{PASSWORD}\n")),
    }
}

fn args(given: Given, extra: &[&'static str]) -> Vec<&'static str> {
    let mut out = extra.to_vec();
    if let Given::Stdin = given {
        out.push("--password-stdin");
    }
    out
}

/// Assert that no form of a secret is anywhere in stdout or stderr, and that the echo
/// reached the output masked; the output.
fn assert_no_secret(cmd: Imgsize, what: &str) -> std::process::Output {
    let out = cmd.output();
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        for secret in secret_forms() {
            assert!(
                !contains(bytes, secret.as_bytes()),
                "{what}: {stream} holds {secret:?}:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    assert!(
        contains(&out.stdout, b"***") || contains(&out.stderr, b"***"),
        "{what}: the echo is quoted, masked:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{what}: exit code");
    out
}

/// Run, and assert no secret and one error line naming `words`.
fn assert_masked(cmd: Imgsize, what: &str, words: &[&str]) {
    let out = assert_no_secret(cmd, what);
    assert_error_saying(&out, what, words);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The registry's own answers: manifest and blob errors of each status, in JSON and
/// in plain text, with Basic credentials given both ways.
fn basic_credentials_echoed_by_the_registry_are_masked() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    for given in [Given::Environment, Given::Stdin] {
        for status in [401, 403, 404, 500] {
            for json in [true, false] {
                let what = format!("{given:?}, manifest {status}, json {json}");
                let faults = Faults::basic(USER, PASSWORD).echo(Route::Manifests, status, json);
                let fake = setup.start(faults);
                let cmd = with_credentials(imgsize(&fake, &args(given, &[])), given);
                assert_masked(cmd, &what, &[&status.to_string()]);
            }
        }
        let what = format!("{given:?}, blob 403");
        let fake =
            setup.start(Faults::basic(USER, PASSWORD).echo(Route::Blob(layer.clone()), 403, false));
        let cmd = with_credentials(imgsize(&fake, &args(given, &[])), given);
        assert_masked(cmd, &what, &[&layer, "403"]);
    }
}

/// A bearer token echoed by the registry, and the Basic credentials echoed by the
/// token service.
fn bearer_tokens_and_token_service_echoes_are_masked() {
    let setup = Setup::new();
    let layer = setup.layer(0);
    for given in [Given::Environment, Given::Stdin] {
        let cases = [
            (Route::Manifests, 401, "manifest 401"),
            (Route::Manifests, 500, "manifest 500"),
            (Route::Blob(layer.clone()), 404, "blob 404"),
            (Route::Token, 401, "token service 401"),
            (Route::Token, 500, "token service 500"),
        ];
        for (route, status, case) in cases {
            let what = format!("{given:?}, {case}");
            let fake = setup.start(Faults::bearer(USER, PASSWORD).echo(route, status, true));
            let cmd = with_credentials(imgsize(&fake, &args(given, &[])), given);
            assert_masked(cmd, &what, &[&status.to_string()]);
        }
    }
}

/// A CDN that blobs are redirected to echoes its request, signed query and all; the
/// layer's error is in every format that carries errors.
fn a_cdn_echoing_its_signed_url_is_masked_in_every_format() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let cdn = setup.start(Faults::default().echo(Route::Blob(layer.clone()), 403, false));
    let fake = setup.start(Faults::basic(USER, PASSWORD).redirect_blobs_to(&cdn.origin()));
    for format in ["json", "table", "markdown", "html"] {
        let cmd = Imgsize::new(&[
            "report",
            &fake.reference(),
            "--no-cache",
            "--no-progress",
            "--format",
            format,
        ]);
        let cmd = with_user(cmd, USER, PASSWORD);
        assert_no_secret(cmd, &format!("report --format {format}"));
    }
    for format in ["sarif", "junit", "markdown", "json", "table"] {
        let cmd = Imgsize::new(&[
            "check",
            &fake.reference(),
            "--no-cache",
            "--no-progress",
            "--limit",
            "compressed=1GB",
            "--format",
            format,
        ]);
        let cmd = with_user(cmd, USER, PASSWORD);
        assert_no_secret(cmd, &format!("check --format {format}"));
    }
    assert!(
        cdn.requests().iter().all(|r| r.authorization().is_none()),
        "the CDN got no credentials"
    );
    assert!(
        cdn.requests()
            .iter()
            .any(|r| r.is_blob(&layer) && r.path.contains(SIGNATURE)),
        "the layer went to the CDN with its signature"
    );
}

crate::tests![
    basic_credentials_echoed_by_the_registry_are_masked,
    bearer_tokens_and_token_service_echoes_are_masked,
    a_cdn_echoing_its_signed_url_is_masked_in_every_format,
];
