//! A whole input archive (docker-archive, OCI archive, compressed or not) through
//! `imgsize::run`, plus the docker `manifest.json` parser on the same bytes.
//!
//! `run` takes a path, so each input is written to one file in a tmpfs directory
//! (`/dev/shm` when it exists) and analysed with the layer cache off.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use imgsize::source::documents::parse_docker_manifest;
use imgsize::{CachePolicy, Hooks, Options};
use libfuzzer_sys::fuzz_target;

fn input_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let dir = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("imgsize-fuzz-documents-{}.tar", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_docker_manifest(data, "manifest.json");
    let path = input_path();
    std::fs::write(path, data).expect("write the fuzz input to tmpfs");
    let options = Options {
        cache: CachePolicy::Off,
        ..Options::default()
    };
    let _ = imgsize::run(&path.to_string_lossy(), &options, &Hooks::default());
});
