//! The time limits of one image's registry traffic, and how they are written.

use std::time::Duration;

/// The time limits of one image's registry traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per request: connecting, then waiting for the response headers.
    pub request: Duration,
    /// A body that brings less than `min_rate` bytes a second over this much waiting
    /// has stalled; so has one that brings nothing for this long.
    pub stall: Duration,
    /// Bytes a second, see `stall`.
    pub min_rate: u64,
    /// Everything one image needs (requests, retries, waits and downloads) ends by
    /// then; `None`: no deadline.
    pub deadline: Option<Duration>,
}

impl Limits {
    pub const DEFAULT_REQUEST: Duration = Duration::from_secs(30);
    pub const DEFAULT_STALL: Duration = Duration::from_secs(30);
    pub const DEFAULT_MIN_RATE: u64 = 1000;
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request: Limits::DEFAULT_REQUEST,
            stall: Limits::DEFAULT_STALL,
            min_rate: Limits::DEFAULT_MIN_RATE,
            deadline: Some(Limits::DEFAULT_DEADLINE),
        }
    }
}

/// A duration as the flags take it: `30s`, `10m`, `1m 30s`, `500ms`.
pub fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_flags_take_them() {
        assert_eq!(human(Duration::from_secs(90)), "1m 30s");
        assert_eq!(human(Limits::default().deadline.unwrap_or_default()), "10m");
    }
}
