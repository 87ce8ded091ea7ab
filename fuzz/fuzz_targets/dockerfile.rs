//! The Dockerfile reader: escape directive, continuations, heredocs, stages.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = imgsize::source::dockerfile::parse(&text, "Dockerfile");
});
