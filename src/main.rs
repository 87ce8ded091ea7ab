//! The `imgsize` binary: parse arguments, run, map the outcome to an exit code.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug, but it must still end with the documented error code.
    std::panic::set_hook(Box::new(|info| {
        // The message may quote text from the image: made visible like every other.
        let text = imgsize::render::format::visible(&info.to_string()).into_owned();
        eprintln!("imgsize: internal error: {text}");
    }));
    match std::panic::catch_unwind(cli::run) {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(cli::EXIT_ERROR),
    }
}
