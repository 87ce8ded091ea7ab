//! The progress bar on stderr: drawn only for a terminal and an image large enough to
//! take a while.

use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use imgsize::bytes::Progress;

/// Progress on stderr, drawn only for a terminal and a large image.
pub(super) struct Bar {
    bar: ProgressBar,
    enabled: bool,
}

/// Below this many stored bytes an image is read too fast for a bar to help.
const PROGRESS_THRESHOLD: u64 = 64 << 20;

impl Bar {
    pub(super) fn new(enabled: bool) -> Self {
        Bar {
            bar: ProgressBar::hidden(),
            enabled: enabled && io::stderr().is_terminal(),
        }
    }
}

impl Progress for Bar {
    fn start(&self, total: Option<u64>) {
        if !self.enabled || total.is_some_and(|t| t < PROGRESS_THRESHOLD) {
            return;
        }
        // A one-pass stream has no known total: a spinner.
        self.bar.set_draw_target(ProgressDrawTarget::stderr());
        // `imgsize diff` reads two images with one bar.
        self.bar.reset();
        if let Some(total) = total {
            self.bar.set_length(total);
        }
        let style = ProgressStyle::with_template(
            "{spinner} reading layers {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} {wide_bar} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        self.bar.set_style(style);
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
