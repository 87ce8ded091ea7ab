//! Every registry download ends in time: a body that stalls (silent, or dripping a
//! byte at a time) is resumed and then given up with a message naming
//! `--stall-timeout`; headers that never come fail the request after
//! `--request-timeout`; `Retry-After` on 429 and 503 is honoured, within the image's
//! `--deadline`; and the deadline ends anything else. Short limits (a second or two)
//! keep each case to seconds; every case also asserts how long it took, generously.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::hostile::{Setup, assert_error_saying, assert_reports_like_the_layout, imgsize};
use crate::util::fake_registry::{Faults, Route, Stall, summary};

/// Where a stalled body stops.
const STALL_AT: usize = 50_000;

fn took_under(since: Instant, limit: Duration, what: &str) {
    let took = since.elapsed();
    assert!(took < limit, "{what}: took {took:?}, over {limit:?}");
}

fn a_layer_that_stalls_once_is_resumed_where_it_stopped() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let fake = setup.start(Faults::default().stall(
        Route::Blob(layer.clone()),
        Stall::After(STALL_AT),
        false,
    ));
    let since = Instant::now();
    assert_reports_like_the_layout(
        &fake,
        imgsize(&fake, &["--stall-timeout", "1s"]),
        "stalled once",
    );
    took_under(since, Duration::from_secs(10), "stalled once");
    let gets = fake.blob_gets(&layer);
    assert_eq!(gets.len(), 2, "{}", summary(&gets));
    assert_eq!(
        gets[1].header("range"),
        Some(format!("bytes={STALL_AT}-").as_str())
    );
}

fn a_layer_that_always_stalls_fails_naming_the_stall_timeout() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let fake = setup.start(Faults::default().stall(
        Route::Blob(layer.clone()),
        Stall::After(STALL_AT),
        true,
    ));
    let since = Instant::now();
    let out = imgsize(&fake, &["--stall-timeout", "1s"]).output();
    // Five tries of a second each, and the backoff between them (3.75 s).
    took_under(since, Duration::from_secs(20), "always stalls");
    assert_error_saying(
        &out,
        "always stalls",
        &[
            &layer,
            // Each try brings another 50,000 bytes before it stalls.
            "broke off 5 times, last at byte 250000",
            "nothing received for 1s (--stall-timeout)",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["complete"], false);
}

fn a_layer_that_drips_fails_naming_the_minimum_rate() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let drip = Stall::Drip {
        after: STALL_AT,
        every: Duration::from_millis(100),
    };
    let fake = setup.start(Faults::default().stall(Route::Blob(layer.clone()), drip, true));
    let since = Instant::now();
    let out = imgsize(&fake, &["--stall-timeout", "1s", "--min-rate", "1kB"]).output();
    took_under(since, Duration::from_secs(25), "drips");
    assert_error_saying(
        &out,
        "drips",
        &[
            &layer,
            "broke off 5 times",
            "under 1000 bytes a second (--stall-timeout, --min-rate)",
        ],
    );
}

fn headers_that_never_come_fail_the_request_after_the_request_timeout() {
    let setup = Setup::new();
    let fake = setup.start(Faults::default().stall(Route::Manifests, Stall::BeforeHeaders, true));
    let since = Instant::now();
    let out = imgsize(&fake, &["--request-timeout", "1s"]).output();
    // Not retried: a request that timed out has had its time.
    took_under(since, Duration::from_secs(5), "no headers");
    assert_error_saying(
        &out,
        "no headers",
        &[
            &fake.reference(),
            "manifests/1",
            "no answer within 1s (--request-timeout)",
        ],
    );
    let manifests = fake
        .requests()
        .iter()
        .filter(|r| r.route().contains("/manifests/"))
        .count();
    // The stalled request is recorded when its head is read, before the stall.
    assert_eq!(manifests, 1, "{}", summary(&fake.requests()));
}

fn retry_after_in_seconds_and_as_a_date_is_honoured() {
    let setup = Setup::new();
    for date in [false, true] {
        // A date has whole seconds: three from now is at least two when the request
        // comes.
        let (after, at_least) = match date {
            false => ("2".to_string(), 2.0),
            true => (
                httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3)),
                1.0,
            ),
        };
        let fake = setup.start(
            Faults::default()
                .fail_first(Route::Manifests, 1, 429)
                .retry_after(&after),
        );
        assert_reports_like_the_layout(&fake, imgsize(&fake, &[]), "429 Retry-After");
        let manifests: Vec<_> = fake
            .requests()
            .into_iter()
            .filter(|r| r.route().contains("/manifests/"))
            .collect();
        assert_eq!(manifests[0].status, 429);
        let waited = manifests[1]
            .at
            .duration_since(manifests[0].at)
            .as_secs_f64();
        assert!(
            waited >= at_least && waited < 6.0,
            "Retry-After {after}: waited {waited} s"
        );
    }
}

fn retry_after_past_the_deadline_fails_at_once() {
    let setup = Setup::new();
    let fake = setup.start(
        Faults::default()
            .fail_first(Route::Manifests, 1, 503)
            .retry_after("120"),
    );
    let since = Instant::now();
    let out = imgsize(&fake, &["--deadline", "5s"]).output();
    took_under(
        since,
        Duration::from_secs(4),
        "Retry-After past the deadline",
    );
    assert_error_saying(
        &out,
        "Retry-After past the deadline",
        &[
            "the registry asked to try again later",
            "waiting 2m more would pass the image's 5s deadline (--deadline)",
        ],
    );
}

fn the_deadline_ends_a_download_that_never_stalls() {
    let setup = Setup::new();
    let layer = setup.layer(1);
    let drip = Stall::Drip {
        after: STALL_AT,
        every: Duration::from_millis(20),
    };
    let fake = setup.start(Faults::default().stall(Route::Blob(layer.clone()), drip, true));
    let since = Instant::now();
    // 50 bytes a second is not a stall at --min-rate 10B.
    let out = imgsize(&fake, &["--min-rate", "10B", "--deadline", "3s"]).output();
    took_under(since, Duration::from_secs(8), "deadline");
    assert_error_saying(
        &out,
        "deadline",
        &[&layer, "the image's 3s deadline has passed (--deadline)"],
    );
    assert_eq!(
        fake.blob_gets(&layer).len(),
        1,
        "not resumed after the deadline"
    );
}

fn limits_are_checked_on_the_command_line() {
    for (flag, value, says) in [
        (
            "--request-timeout",
            "0",
            "a timeout must be longer than zero",
        ),
        ("--stall-timeout", "soon", "a duration is like 30s"),
        ("--min-rate", "fast", "a size is"),
    ] {
        let out = crate::util::registry::Imgsize::new(&["report", "x.tar", flag, value]).output();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
    }
}

crate::tests![
    a_layer_that_stalls_once_is_resumed_where_it_stopped,
    a_layer_that_always_stalls_fails_naming_the_stall_timeout,
    a_layer_that_drips_fails_naming_the_minimum_rate,
    headers_that_never_come_fail_the_request_after_the_request_timeout,
    retry_after_in_seconds_and_as_a_date_is_honoured,
    retry_after_past_the_deadline_fails_at_once,
    the_deadline_ends_a_download_that_never_stalls,
    limits_are_checked_on_the_command_line,
];
