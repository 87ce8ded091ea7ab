//! The shared layer cache in Redis ([`SharedCache`]), for workers on many machines that
//! scan images with layers in common: the same entries as the directory cache (the
//! header with the key, kind, format, crate version and payload SHA-256, checked on
//! every read; a damaged entry is deleted and read as a miss), under
//! `imgsize:v<SCAN_FORMAT>:layer:<digest>` and `…:hashes:<key>`, each with a time to
//! live and refused above a size cap. A short lock per layer digest (`…:lock`, taken
//! with `SET NX PX`, released by a compare-and-delete script) lets one worker walk a
//! new layer while the others wait for its entry. Redis going away never fails a run:
//! the cache reads as empty from then on and says so once through its notice. It
//! counts the layers it served and the ones it let walk. Like the directory cache it
//! decides nothing about what is cacheable and imports `model`, `bytes` and `error`
//! only.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::error::{Error, Result};
use crate::model::LayerScan;
use crate::model::scan_codec::SCAN_FORMAT;
use crate::model::text::url_shown;

use super::{Claim, FileHashes, HASHES_FORMAT, Miss};

/// How long a connection attempt or one command may take before Redis counts as gone.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// The first and the longest pause between two looks for an entry a lock holder walks.
const POLL_FIRST: Duration = Duration::from_millis(20);
const POLL_MOST: Duration = Duration::from_millis(500);

/// Releases a lock only if it still holds the caller's token.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Told once per process that the shared cache is unavailable, and why.
pub type Notice = fn(&str);

/// Whether the notice was given in this process already.
static NOTED: AtomicBool = AtomicBool::new(false);

/// Makes lock tokens unique within a process; pid and time make them unique across.
static TOKENS: AtomicU64 = AtomicU64::new(0);

/// Where the shared cache is and how it keeps entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSettings {
    /// `redis://host:port/db`.
    pub url: String,
    /// How long an entry lives after it is written.
    pub ttl: Duration,
    /// Entries larger than this (encoded, in bytes) are not stored, nor trusted.
    pub max_entry_bytes: u64,
    /// How long a layer's lock lasts, and so how long another worker waits for its
    /// entry before walking the layer itself.
    pub lock: Duration,
}

impl SharedSettings {
    /// The default time to live: 30 days.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
    /// The default cap per entry: 64 MiB.
    pub const DEFAULT_MAX_ENTRY_BYTES: u64 = 64 << 20;
    /// The default lock: 2 minutes.
    pub const DEFAULT_LOCK: Duration = Duration::from_secs(120);

    /// The defaults for `url`.
    pub fn new(url: &str) -> SharedSettings {
        SharedSettings {
            url: url.to_string(),
            ttl: Self::DEFAULT_TTL,
            max_entry_bytes: Self::DEFAULT_MAX_ENTRY_BYTES,
            lock: Self::DEFAULT_LOCK,
        }
    }
}

/// Layers read from the shared cache and layers walked because it had no entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Layers whose scan came from the cache.
    pub read: u64,
    /// Layers this process was left to walk (its lock, or none came in time).
    pub walked: u64,
}

/// A Redis database holding walked layers, shared by every worker that names it.
pub struct SharedCache {
    settings: SharedSettings,
    client: redis::Client,
    /// The one connection, made on first use; `None` until then or after a failure.
    conn: Mutex<Option<redis::Connection>>,
    /// Set on the first failure: from then on every read misses and nothing is written.
    down: OnceLock<String>,
    notice: Notice,
    read: AtomicU64,
    walked: AtomicU64,
    /// `IMGSIZE_TEST_WALK_COUNTER`: a key incremented on every walk, for the tests that
    /// count walks across processes.
    walk_counter: Option<String>,
}

/// A layer lock this process holds, released (if still its own) when dropped.
#[derive(Debug)]
pub struct Lock<'a> {
    cache: &'a SharedCache,
    key: String,
    token: String,
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        let release = redis::cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(&self.key)
            .arg(&self.token)
            .clone();
        let _: Option<i64> = self.cache.run(&release);
    }
}

impl SharedCache {
    /// The cache at `settings.url`, connected on first use; an error only when the URL
    /// is not a `redis://` URL. `notice` is told (once per process) when Redis cannot
    /// be reached or fails mid-run.
    pub fn new(settings: SharedSettings, notice: Notice) -> Result<SharedCache> {
        let bad = |message: String| Error::Cache {
            path: url_shown(&settings.url),
            message,
        };
        if !settings.url.starts_with("redis://") {
            return Err(bad("the shared cache is a redis://host:port/db URL".into()));
        }
        let client = redis::Client::open(settings.url.as_str()).map_err(|e| bad(e.to_string()))?;
        Ok(SharedCache {
            settings,
            client,
            conn: Mutex::new(None),
            down: OnceLock::new(),
            notice,
            read: AtomicU64::new(0),
            walked: AtomicU64::new(0),
            walk_counter: std::env::var("IMGSIZE_TEST_WALK_COUNTER").ok(),
        })
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &SharedSettings {
        &self.settings
    }

    /// Layers read from the cache and walked so far.
    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            read: self.read.load(Ordering::Relaxed),
            walked: self.walked.load(Ordering::Relaxed),
        }
    }

    /// Why the cache stopped being used, if it did.
    pub fn unavailable(&self) -> Option<&str> {
        self.down.get().map(String::as_str)
    }

    /// The scan stored for `digest` (a miss for anything but a good entry).
    pub fn get(&self, digest: &str) -> Option<LayerScan> {
        let scan = self.load(&key("layer", digest)?, digest, super::read_entry)?;
        self.read.fetch_add(1, Ordering::Relaxed);
        Some(scan)
    }

    /// The file hashes stored under `key`.
    pub fn get_hashes(&self, key_: &str) -> Option<FileHashes> {
        self.load(&key("hashes", key_)?, key_, |bytes, k| {
            super::decode_hashes(super::unframed(bytes, k, HASHES_FORMAT)?).ok_or(Miss::Corrupt)
        })
    }

    /// Store `scan` for `digest`, with the time to live; nothing above the size cap.
    pub fn put(&self, digest: &str, scan: &LayerScan) -> Result<()> {
        self.store(key("layer", digest), super::entry_bytes(digest, scan))
    }

    /// Store file hashes under `key`.
    pub fn put_hashes(&self, key_: &str, hashes: &FileHashes) -> Result<()> {
        let bytes = super::framed(key_, HASHES_FORMAT, &super::encode_hashes(hashes));
        self.store(key("hashes", key_), bytes)
    }

    /// Before walking the layer `digest`: its scan if another worker stored it (now or
    /// while this one waited on that worker's lock), else the right to walk it, with
    /// this worker's lock when it could take one.
    pub fn claim(&self, digest: &str) -> Claim<'_> {
        if let Some(scan) = self.get(digest) {
            return Claim::Found(Box::new(scan));
        }
        let Some(key) = key("layer", digest).map(|k| k + ":lock") else {
            return Claim::Walk(None);
        };
        let token = token();
        let ms = self.settings.lock.as_millis().max(1) as u64;
        let mut take = redis::cmd("SET");
        take.arg(&key).arg(&token).arg("NX").arg("PX").arg(ms);
        match self.run::<Option<String>>(&take) {
            // Ours: but the holder before may have stored it just now.
            Some(Some(_)) => match self.get(digest) {
                Some(scan) => Claim::Found(Box::new(scan)),
                None => Claim::Walk(Some(self.walking(Lock {
                    cache: self,
                    key,
                    token,
                }))),
            },
            // Another worker walks it: wait for its entry, at most as long as its lock.
            Some(None) => match self.wait(digest, &key) {
                Some(scan) => Claim::Found(Box::new(scan)),
                None => Claim::Walk(self.walking_unlocked()),
            },
            None => Claim::Walk(self.walking_unlocked()),
        }
    }

    fn walking<'a>(&'a self, lock: Lock<'a>) -> Lock<'a> {
        self.count_walk();
        lock
    }

    fn walking_unlocked(&self) -> Option<Lock<'_>> {
        self.count_walk();
        None
    }

    fn count_walk(&self) {
        self.walked.fetch_add(1, Ordering::Relaxed);
        if let Some(counter) = &self.walk_counter {
            let _: Option<i64> = self.run(redis::cmd("INCR").arg(counter));
        }
    }

    /// Look for `digest`'s entry until it appears, the lock's time is up, or the lock
    /// is gone without an entry (its holder's walk failed).
    fn wait(&self, digest: &str, lock: &str) -> Option<LayerScan> {
        let until = Instant::now() + self.settings.lock;
        let mut pause = POLL_FIRST;
        while Instant::now() < until && self.down.get().is_none() {
            std::thread::sleep(pause);
            if let Some(scan) = self.get(digest) {
                return Some(scan);
            }
            if self.run::<i64>(redis::cmd("EXISTS").arg(lock)) == Some(0) {
                // Released just now, perhaps after storing the entry.
                return self.get(digest);
            }
            pause = (pause * 2).min(POLL_MOST);
        }
        None
    }

    fn load<T>(
        &self,
        key: &str,
        name: &str,
        read: impl Fn(&[u8], &str) -> std::result::Result<T, Miss>,
    ) -> Option<T> {
        let bytes: Vec<u8> = self.run::<Option<Vec<u8>>>(redis::cmd("GET").arg(key))??;
        let checked = match bytes.len() as u64 > self.settings.max_entry_bytes {
            true => Err(Miss::Corrupt),
            false => read(&bytes, name),
        };
        match checked {
            Ok(value) => Some(value),
            Err(Miss::OtherVersion) => None,
            Err(Miss::Corrupt) => {
                let _: Option<i64> = self.run(redis::cmd("DEL").arg(key));
                None
            }
        }
    }

    fn store(&self, key: Option<String>, bytes: Vec<u8>) -> Result<()> {
        let key = key.ok_or_else(|| Error::Cache {
            path: url_shown(&self.settings.url),
            message: "cannot key an entry by something not a digest".into(),
        })?;
        if bytes.len() as u64 > self.settings.max_entry_bytes {
            return Ok(());
        }
        let ms = self.settings.ttl.as_millis().max(1) as u64;
        let _: Option<()> = self.run(redis::cmd("SET").arg(&key).arg(bytes).arg("PX").arg(ms));
        Ok(())
    }

    /// One command on the connection (made now if there is none); `None` when Redis
    /// is gone, which is then remembered and told once.
    fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        if self.down.get().is_some() {
            return None;
        }
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if conn.is_none() {
            match self.connect() {
                Ok(c) => *conn = Some(c),
                Err(e) => return self.fail(e),
            }
        }
        match cmd.query(conn.as_mut()?) {
            Ok(value) => Some(value),
            Err(e) => {
                *conn = None;
                self.fail(e)
            }
        }
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let conn = self.client.get_connection_with_timeout(IO_TIMEOUT)?;
        conn.set_read_timeout(Some(IO_TIMEOUT))?;
        conn.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(conn)
    }

    fn fail<T>(&self, e: redis::RedisError) -> Option<T> {
        let why = format!("{}: {e}", url_shown(&self.settings.url));
        if self.down.set(why.clone()).is_ok() && !NOTED.swap(true, Ordering::Relaxed) {
            (self.notice)(&format!(
                "shared layer cache unavailable ({why}); going on without it"
            ));
        }
        None
    }
}

/// The Redis key of an entry, `imgsize:v<SCAN_FORMAT>:<kind>:<digest>`; `None` unless
/// `name` is an `algorithm:hex` digest, so keys carry nothing but digests.
fn key(kind: &str, name: &str) -> Option<String> {
    super::file_name(name)?;
    Some(format!("imgsize:v{SCAN_FORMAT}:{kind}:{name}"))
}

/// A lock token no other worker holds: pid, time and a counter.
fn token() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = TOKENS.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{n}", std::process::id())
}

/// Two shared caches are the same when their settings are.
impl PartialEq for SharedCache {
    fn eq(&self, other: &SharedCache) -> bool {
        self.settings == other.settings
    }
}

impl Eq for SharedCache {}

impl std::fmt::Debug for SharedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCache")
            .field("settings", &self.settings)
            .field("down", &self.down.get())
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_no_credentials() {
        assert_eq!(url_shown("redis://h:6379/0"), "redis://h:6379/0");
        assert_eq!(
            url_shown("redis://u:secret@h:6379/2"),
            "redis://***@h:6379/2"
        );
        assert_eq!(url_shown("redis://:p@ss@h"), "redis://***@h");
    }

    #[test]
    fn keys_carry_digests_only() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            key("layer", &d).as_deref(),
            Some(format!("imgsize:v{SCAN_FORMAT}:layer:{d}").as_str())
        );
        assert_eq!(key("layer", "sha256:../x"), None);
        assert_eq!(key("layer", "redis://u:p@h"), None);
    }

    #[test]
    fn only_redis_urls() {
        let settings = SharedSettings::new("http://h:1/0");
        assert!(SharedCache::new(settings, |_| {}).is_err());
        let settings = SharedSettings::new("redis://127.0.0.1:1/0");
        let cache = SharedCache::new(settings, |_| {}).expect("a redis URL");
        assert_eq!(cache.counts(), CacheCounts::default());
    }
}
