//! Image references and the registry's `WWW-Authenticate` challenge.
#![no_main]

use imgsize::source::registry::Reference;
use imgsize::source::registry::client::parse_challenge;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(r) = Reference::parse(&text) {
        let _ = r.api_host();
        let _ = r.manifest_ref();
        let _ = r.to_string();
    }
    let _ = parse_challenge(&text);
});
