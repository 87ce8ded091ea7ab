//! The layer cache's flags: a directory (`--cache-dir`), none (`--no-cache`), or a
//! shared Redis database (`--cache redis://…`, its time to live and entry cap), turned
//! into the library's `CachePolicy`. The three exclude each other.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use imgsize::CachePolicy;
use imgsize::pipeline::{Notice, SharedCache, SharedSettings};

/// Which layer cache to use.
#[derive(Debug, Args)]
#[command(next_help_heading = "Layer cache")]
pub(super) struct CacheArgs {
    /// Keep walked layers in this directory, by digest, and read them from there next
    /// time (default for registry images: $XDG_CACHE_HOME/imgsize; archives use a
    /// cache only when this is given).
    #[arg(
        long,
        value_name = "DIR",
        env = "IMGSIZE_CACHE_DIR",
        conflicts_with = "no_cache"
    )]
    cache_dir: Option<PathBuf>,
    /// Use no layer cache.
    #[arg(long)]
    no_cache: bool,
    /// Keep walked layers in this Redis database (`redis://host:port/db`), shared by
    /// every worker that names it, in place of the cache directory.
    #[arg(
        long,
        value_name = "URL",
        env = "IMGSIZE_CACHE",
        conflicts_with_all = ["cache_dir", "no_cache"]
    )]
    cache: Option<String>,
    /// How long an entry of the shared cache lives after it is written (`30d`, `12h`).
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = ttl, env = "IMGSIZE_CACHE_TTL")]
    cache_ttl: Duration,
    /// The largest entry the shared cache stores (one layer's encoded scan).
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = imgsize::analyze::budget::parse_size, env = "IMGSIZE_CACHE_MAX_ENTRY")]
    cache_max_entry: u64,
}

/// A time to live: a duration of at least a second.
fn ttl(text: &str) -> std::result::Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}`: {e}; a duration is like 30d, 12h or 90m"))?;
    if d < Duration::from_secs(1) {
        return Err(format!("`{text}`: the time to live must be at least 1s"));
    }
    Ok(d)
}

impl CacheArgs {
    /// The cache the flags ask for; `notice` is told when a shared cache fails.
    pub(super) fn policy(&self, notice: Notice) -> Result<CachePolicy> {
        Ok(match (&self.cache, &self.cache_dir, self.no_cache) {
            (Some(url), _, _) => CachePolicy::Shared(self.shared(url, notice)?),
            (None, _, true) => CachePolicy::Off,
            (None, Some(dir), false) => CachePolicy::Dir(dir.clone()),
            (None, None, false) => CachePolicy::RegistryOnly,
        })
    }

    fn shared(&self, url: &str, notice: Notice) -> Result<Arc<SharedCache>> {
        let settings = SharedSettings {
            ttl: self.cache_ttl,
            max_entry_bytes: self.cache_max_entry,
            ..SharedSettings::new(url)
        };
        Ok(Arc::new(SharedCache::new(settings, notice)?))
    }
}
