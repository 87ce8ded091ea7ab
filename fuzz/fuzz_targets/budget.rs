//! The budget file (TOML) and `--max` style flags: the first line of the input is a
//! flag applied to whatever the rest parsed into (or to an empty budget).
#![no_main]

use imgsize::analyze::Budget;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (flag, file) = text.split_once('\n').unwrap_or((text, ""));
    let mut budget = Budget::parse(text, "fuzz").unwrap_or_default();
    let _ = budget.apply_flag(flag);
    let mut budget = Budget::parse(file, "fuzz").unwrap_or_default();
    let _ = budget.apply_flag(flag);
    let _ = budget.path_globs();
});
