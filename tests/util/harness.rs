//! The integration tests' harness (libtest-mimic, `harness = false`): each module lists
//! its tests with [`tests!`], and `tests.rs`'s `main` runs them all. A test that cannot
//! run here (a tool, the shared corpus or the browser is missing) calls [`skip`] with
//! the reason, and is reported as ignored with it: `N passed; 0 failed; M ignored`.
//! Under CI (`CI` set), where `.ci/run` installs everything, a skip is a failure.
//!
//! A test function that is not listed is dead code, which clippy refuses, so none is
//! forgotten.

use std::panic::{self, AssertUnwindSafe};

use libtest_mimic::{Completion, Failed, Trial};

/// Why a test did not run; the payload of the panic that [`skip`] raises.
pub struct Skip(pub String);

/// Stop the test here, reported as ignored with `reason` (a failure under CI).
pub fn skip(reason: impl Into<String>) -> ! {
    panic::panic_any(Skip(reason.into()))
}

/// Whether skips are failures: CI installs every tool.
fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// One test: its name (the module's path under `tests::`, and the function's) and body.
pub fn trial(module: &str, name: &str, body: fn()) -> Trial {
    let module = module.strip_prefix("tests::").unwrap_or(module);
    Trial::ignorable_test(
        format!("{module}::{name}"),
        move || match panic::catch_unwind(AssertUnwindSafe(body)) {
            Ok(()) => Ok(Completion::Completed),
            Err(payload) => match payload.downcast::<Skip>() {
                Ok(skip) if in_ci() => Err(Failed::from(format!(
                    "skipped under CI, where every tool is installed: {}",
                    skip.0
                ))),
                Ok(skip) => Ok(Completion::ignored_with(skip.0)),
                Err(payload) => panic::resume_unwind(payload),
            },
        },
    )
}

/// Print panics as usual, but a skip says nothing (the harness reports it).
pub fn quiet_skips() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<Skip>().is_none() {
            default(info);
        }
    }));
}

/// `tests![a, b, c]` at the end of a module: its tests, as `trials()`.
#[macro_export]
macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        pub fn trials() -> Vec<libtest_mimic::Trial> {
            vec![$($crate::util::harness::trial(module_path!(), stringify!($name), $name)),*]
        }
    };
}
